//! Tokens limited to inventory groups reach only their groups' servers.

use std::collections::BTreeSet;

use panelgate::auth::scopes;
use panelgate_proto::v1::{
    CheckServerRequest, DeleteServerRequest, GetAccountRequest, GetOperationRequest,
    GetServerRequest, LabelSet, ListOperationsRequest, ListServersRequest, OperationEntry,
    PanelKind, RegisterServerRequest, Server, SuspendAccountRequest, UpdateServerRequest,
};
use panelgate_tests::{
    AdminApiFixture, Backend, Gateway, PanelFixture,
    errors::assert_error,
    gateway::{by_id, by_name, with_gateway},
};
use tonic::Code;

use crate::new_account;

panelgate_tests::on_both_backends!(a_group_limited_token_reaches_only_servers_of_its_groups);

/// Every journal entry `gateway`'s caller may see.
async fn all_operations(gateway: &Gateway) -> Vec<OperationEntry> {
    let mut entries = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = gateway
            .operations()
            .list_operations(ListOperationsRequest {
                page_size: 500,
                page_token,
                ..Default::default()
            })
            .await
            .expect("list operations")
            .into_inner();
        entries.extend(page.operations);
        if page.next_page_token.is_empty() {
            return entries;
        }
        page_token = page.next_page_token;
    }
}

/// The names ListServers gives `gateway`'s caller.
async fn server_names(gateway: &Gateway) -> BTreeSet<String> {
    gateway
        .inventory()
        .list_servers(ListServersRequest::default())
        .await
        .expect("list servers")
        .into_inner()
        .servers
        .into_iter()
        .map(|server| server.name)
        .collect()
}

/// A token limited to group "eu" is a tenant boundary: it must not read,
/// change, check, delete or create anything on servers of other groups, nor
/// move a server out of (or a new one into) a foreign group, nor reach a
/// foreign server through the account index, nor see foreign servers or their
/// journal entries in lists — and a refused call must not reach the foreign
/// panel at all. The unlimited token sees both, so the filtering is not
/// vacuous, and the limited token works on its own group.
async fn a_group_limited_token_reaches_only_servers_of_its_groups(backend: Backend) {
    with_gateway(
        backend,
        |_| {},
        |gateway| async move {
            let eu = AdminApiFixture::start().await;
            let us = AdminApiFixture::start().await;
            let eu_id = eu.register_in(&gateway, "eu-1", "eu").await;
            let us_id = us.register_in(&gateway, "us-1", "us").await;

            // The unlimited caller makes accounts (and journal entries) on both.
            for (server, username) in [("eu-1", "alice"), ("us-1", "bob")] {
                gateway
                    .accounts()
                    .create_account(new_account(by_name(server), username))
                    .await
                    .expect("create an account as the unlimited caller");
                gateway
                    .accounts()
                    .suspend_account(SuspendAccountRequest {
                        username: username.to_owned(),
                        reason: "audit trail".to_owned(),
                        ..Default::default()
                    })
                    .await
                    .expect("suspend as the unlimited caller");
            }
            assert!(eu.account_exists("alice") && us.account_exists("bob"));

            let limited = gateway.as_caller(&gateway.token("eu-ops", scopes::ALL, &["eu"]));
            let us_requests = us.requests();

            // Its own group works.
            limited
                .inventory()
                .get_server(GetServerRequest {
                    target: by_name("eu-1"),
                })
                .await
                .expect("GetServer in its own group");
            limited
                .accounts()
                .get_account(GetAccountRequest {
                    target: None,
                    username: "alice".to_owned(),
                })
                .await
                .expect("a target-less GetAccount the index places in its group");

            // The foreign server, by name and by id.
            for target in [by_name("us-1"), by_id(&us_id)] {
                let get = limited
                    .inventory()
                    .get_server(GetServerRequest {
                        target: target.clone(),
                    })
                    .await;
                assert_error(get, Code::PermissionDenied, "GROUP_NOT_ALLOWED");
                let check = limited
                    .inventory()
                    .check_server(CheckServerRequest {
                        target: target.clone(),
                    })
                    .await;
                assert_error(check, Code::PermissionDenied, "GROUP_NOT_ALLOWED");
            }
            let update = limited
                .inventory()
                .update_server(UpdateServerRequest {
                    target: by_name("us-1"),
                    labels: Some(LabelSet {
                        labels: [("owner".to_owned(), "eu-ops".to_owned())].into(),
                    }),
                    ..Default::default()
                })
                .await;
            assert_error(update, Code::PermissionDenied, "GROUP_NOT_ALLOWED");
            let delete = limited
                .inventory()
                .delete_server(DeleteServerRequest {
                    target: by_name("us-1"),
                    request_id: String::new(),
                })
                .await;
            assert_error(delete, Code::PermissionDenied, "GROUP_NOT_ALLOWED");

            // Into a foreign group: neither a new server nor a moved one.
            let spare = AdminApiFixture::start().await;
            let register = limited
                .inventory()
                .register_server(RegisterServerRequest {
                    server: Some(Server {
                        name: "us-2".to_owned(),
                        kind: PanelKind::AdminApi.into(),
                        base_url: spare.base_url(),
                        group: "us".to_owned(),
                        defaults: spare.defaults(),
                        ..Default::default()
                    }),
                    credentials: Some(spare.credentials()),
                    request_id: String::new(),
                })
                .await;
            assert_error(register, Code::PermissionDenied, "GROUP_NOT_ALLOWED");
            let moved = limited
                .inventory()
                .update_server(UpdateServerRequest {
                    target: by_name("eu-1"),
                    group: Some("us".to_owned()),
                    ..Default::default()
                })
                .await;
            assert_error(moved, Code::PermissionDenied, "GROUP_NOT_ALLOWED");

            // Accounts on the foreign server, by target and through the index.
            let create = limited
                .accounts()
                .create_account(new_account(by_name("us-1"), "carol"))
                .await;
            assert_error(create, Code::PermissionDenied, "GROUP_NOT_ALLOWED");
            let get = limited
                .accounts()
                .get_account(GetAccountRequest {
                    target: by_name("us-1"),
                    username: "bob".to_owned(),
                })
                .await;
            assert_error(get, Code::PermissionDenied, "GROUP_NOT_ALLOWED");
            let indexed = limited
                .accounts()
                .get_account(GetAccountRequest {
                    target: None,
                    username: "bob".to_owned(),
                })
                .await;
            assert_error(indexed, Code::PermissionDenied, "GROUP_NOT_ALLOWED");
            assert_eq!(
                us.requests(),
                us_requests,
                "a refused call reached the foreign panel"
            );
            assert!(!us.account_exists("carol"));

            // Lists are filtered.
            assert_eq!(
                server_names(&limited).await,
                BTreeSet::from(["eu-1".to_owned()])
            );
            let foreign_filter = limited
                .inventory()
                .list_servers(ListServersRequest {
                    group: "us".to_owned(),
                    ..Default::default()
                })
                .await
                .expect("list servers of a foreign group")
                .into_inner();
            assert!(foreign_filter.servers.is_empty(), "{foreign_filter:?}");

            let everything = all_operations(&gateway).await;
            let foreign_entry = everything
                .iter()
                .find(|entry| entry.server_id == us_id)
                .expect("the unlimited caller sees operations on the us server")
                .clone();
            assert!(everything.iter().any(|entry| entry.server_id == eu_id));
            let visible = all_operations(&limited).await;
            assert!(
                visible.iter().any(|entry| entry.server_id == eu_id),
                "the limited caller sees its group's operations: {visible:?}"
            );
            let strays: Vec<_> = visible
                .iter()
                .filter(|entry| entry.server_id != eu_id)
                .collect();
            assert!(strays.is_empty(), "operations outside group eu: {strays:?}");
            let by_target = limited
                .operations()
                .list_operations(ListOperationsRequest {
                    target: by_name("us-1"),
                    ..Default::default()
                })
                .await;
            assert_error(by_target, Code::PermissionDenied, "GROUP_NOT_ALLOWED");
            let foreign_get = limited
                .operations()
                .get_operation(GetOperationRequest {
                    id: foreign_entry.id.clone(),
                })
                .await;
            assert_error(foreign_get, Code::PermissionDenied, "GROUP_NOT_ALLOWED");
            let own = visible.first().expect("an eu operation");
            limited
                .operations()
                .get_operation(GetOperationRequest { id: own.id.clone() })
                .await
                .expect("GetOperation in its own group");

            // Nothing was stored or changed by the refused calls; the
            // unlimited caller still sees both servers as they were.
            assert_eq!(
                server_names(&gateway).await,
                BTreeSet::from(["eu-1".to_owned(), "us-1".to_owned()])
            );
            let us_record = gateway
                .inventory()
                .get_server(GetServerRequest {
                    target: by_name("us-1"),
                })
                .await
                .expect("the us server is still there")
                .into_inner()
                .server
                .expect("server");
            assert!(us_record.labels.is_empty(), "{us_record:?}");
            let eu_record = gateway
                .inventory()
                .get_server(GetServerRequest {
                    target: by_name("eu-1"),
                })
                .await
                .expect("the eu server")
                .into_inner()
                .server
                .expect("server");
            assert_eq!(eu_record.group, "eu");
            assert_eq!(
                spare.requests(),
                0,
                "the refused registration reached its panel"
            );
            gateway
                .operations()
                .get_operation(GetOperationRequest {
                    id: foreign_entry.id,
                })
                .await
                .expect("the unlimited caller reads the us operation");
        },
    )
    .await;
}

/// An account held on servers of two groups: the unlimited caller is told it
/// is ambiguous, naming both servers; a caller limited to one group is routed
/// to its own server, and never learns the other server's name.
#[tokio::test]
async fn a_group_limit_settles_an_account_held_in_two_groups() {
    with_gateway(
        Backend::Sqlite,
        |_| {},
        |gateway| async move {
            let eu = AdminApiFixture::start().await;
            let us = AdminApiFixture::start().await;
            eu.register_in(&gateway, "eu-1", "eu").await;
            us.register_in(&gateway, "us-1", "us").await;
            for server in ["eu-1", "us-1"] {
                gateway
                    .accounts()
                    .create_account(new_account(by_name(server), "carol"))
                    .await
                    .expect("create carol");
            }
            let get = |gateway: Gateway| async move {
                gateway
                    .accounts()
                    .get_account(GetAccountRequest {
                        target: None,
                        username: "carol".to_owned(),
                    })
                    .await
            };

            let ambiguous = get(gateway.clone()).await;
            let status = assert_error(ambiguous, Code::FailedPrecondition, "ACCOUNT_AMBIGUOUS");
            assert!(
                status.message().contains("eu-1") && status.message().contains("us-1"),
                "{status:?}"
            );

            let limited = gateway.as_caller(&gateway.token("eu-ops", scopes::ALL, &["eu"]));
            let us_requests = us.requests();
            let eu_requests = eu.requests();
            get(limited.clone())
                .await
                .expect("the eu caller reaches carol on eu-1");
            assert!(eu.requests() > eu_requests, "eu-1 was asked");
            assert_eq!(us.requests(), us_requests, "us-1 was not asked");

            let nowhere = gateway.as_caller(&gateway.token("asia-ops", scopes::ALL, &["asia"]));
            let refused = get(nowhere).await;
            let status = assert_error(refused, Code::PermissionDenied, "GROUP_NOT_ALLOWED");
            assert!(!status.message().contains("-1"), "{status:?}");
        },
    )
    .await;
}
