//! UpdateServer and DeleteServer: only what is set changes, credentials are
//! replaced, and a deleted server is forgotten everywhere.

use panelgate_proto::v1::{
    DeleteServerRequest, LabelSet, ListServersRequest, Server, ServerCapacity, ServerDefaults,
    ServerState, UpdateServerRequest,
};
use panelgate_tests::{
    AdminApiFixture, Backend, PanelFixture,
    errors::assert_error,
    gateway::{by_id, by_name, with_gateway},
};
use tonic::Code;

use crate::{
    admin_api_server, check_server, create_account, get_account, get_server, labels, list_servers,
    password_credentials, register, update_server,
};

panelgate_tests::on_both_backends!(
    update_server_changes_only_what_is_set,
    update_server_replaces_credentials,
    delete_server_forgets_it_everywhere
);

/// UpdateServer changes the fields it is given and keeps the others: a
/// rename retires the old name at once (GetServer and hosting calls, though
/// both were cached), labels are replaced as a set, state, group,
/// max_accounts and defaults change; an unknown server or a taken name is
/// refused.
async fn update_server_changes_only_what_is_set(backend: Backend) {
    let fixture = AdminApiFixture::start().await;
    with_gateway(
        backend,
        |_| {},
        |gateway| async move {
            let original = register(
                &gateway,
                Server {
                    group: "g1".into(),
                    labels: labels(&[("a", "1")]),
                    ..admin_api_server("before", &fixture.base_url())
                },
                Some(fixture.credentials()),
            )
            .await
            .expect("register");
            // Warm the router's caches under the old name.
            create_account(&gateway, by_name("before"), "upd")
                .await
                .expect("create account");
            get_account(&gateway, by_name("before"), "upd")
                .await
                .expect("get account by the old name");

            // Rename.
            let renamed = update_server(
                &gateway,
                UpdateServerRequest {
                    target: by_name("before"),
                    name: Some("after".into()),
                    ..Default::default()
                },
            )
            .await
            .expect("rename");
            assert_eq!(renamed.name, "after");
            assert_eq!(renamed.id, original.id);
            let unchanged = Server {
                name: "after".into(),
                update_time: renamed.update_time,
                // The account made above counts; no cap, so no free slots.
                capacity: Some(ServerCapacity {
                    accounts: 1,
                    reserved: 0,
                    free: None,
                }),
                ..original.clone()
            };
            assert_eq!(renamed, unchanged, "only the name changed");
            let (old_time, new_time) = (
                original.update_time.expect("update_time"),
                renamed.update_time.expect("update_time"),
            );
            assert!(
                (new_time.seconds, new_time.nanos) > (old_time.seconds, old_time.nanos),
                "update_time moves: {old_time:?} → {new_time:?}"
            );
            assert_error(
                get_server(&gateway, by_name("before")).await,
                Code::NotFound,
                "SERVER_NOT_FOUND",
            );
            assert_error(
                get_account(&gateway, by_name("before"), "upd").await,
                Code::NotFound,
                "SERVER_NOT_FOUND",
            );
            let routed = get_account(&gateway, by_name("after"), "upd")
                .await
                .expect("the new name routes");
            assert_eq!(routed.server_id, original.id);
            assert_eq!(
                get_server(&gateway, by_id(&original.id))
                    .await
                    .expect("get by id")
                    .name,
                "after"
            );

            // Labels are replaced as a whole; an empty set removes them all.
            let relabelled = update_server(
                &gateway,
                UpdateServerRequest {
                    target: by_name("after"),
                    labels: Some(LabelSet {
                        labels: labels(&[("b", "2"), ("c", "3")]),
                    }),
                    ..Default::default()
                },
            )
            .await
            .expect("relabel");
            assert_eq!(relabelled.labels, labels(&[("b", "2"), ("c", "3")]));
            let stored = get_server(&gateway, by_name("after")).await.expect("get");
            assert_eq!(stored.labels, labels(&[("b", "2"), ("c", "3")]));
            assert_eq!(stored.group, "g1", "group kept");
            let unlabelled = update_server(
                &gateway,
                UpdateServerRequest {
                    target: by_name("after"),
                    labels: Some(LabelSet::default()),
                    ..Default::default()
                },
            )
            .await
            .expect("remove labels");
            assert!(unlabelled.labels.is_empty());

            // State, group, max_accounts and defaults, all in one update.
            let changed = update_server(
                &gateway,
                UpdateServerRequest {
                    target: by_id(&original.id),
                    group: Some("g2".into()),
                    state: Some(ServerState::Draining.into()),
                    max_accounts: Some(7),
                    defaults: Some(ServerDefaults {
                        php_version: "8.3".into(),
                    }),
                    ..Default::default()
                },
            )
            .await
            .expect("update");
            let stored = get_server(&gateway, by_name("after")).await.expect("get");
            assert_eq!(stored, changed, "GetServer agrees with the reply");
            assert_eq!(stored.group, "g2");
            assert_eq!(stored.state(), ServerState::Draining);
            assert_eq!(stored.max_accounts, 7);
            assert_eq!(
                stored.defaults.as_ref().map(|d| d.php_version.as_str()),
                Some("8.3")
            );
            assert_eq!(stored.base_url, original.base_url, "base_url kept");
            assert_eq!(stored.tls, original.tls, "tls kept");
            assert!(stored.credentials_set, "credentials kept");

            let active = update_server(
                &gateway,
                UpdateServerRequest {
                    target: by_name("after"),
                    state: Some(ServerState::Active.into()),
                    max_accounts: Some(0),
                    ..Default::default()
                },
            )
            .await
            .expect("back to active, no cap");
            assert_eq!(active.state(), ServerState::Active);
            assert_eq!(active.max_accounts, 0);

            // An unknown server, a taken name.
            for target in [
                by_name("nope"),
                by_id("00000000-0000-4000-8000-000000000000"),
            ] {
                let missing = update_server(
                    &gateway,
                    UpdateServerRequest {
                        target,
                        group: Some("g3".into()),
                        ..Default::default()
                    },
                )
                .await;
                assert_error(missing, Code::NotFound, "SERVER_NOT_FOUND");
            }
            register(
                &gateway,
                admin_api_server("other", "http://127.0.0.1:1"),
                None,
            )
            .await
            .expect("register another server");
            let taken = update_server(
                &gateway,
                UpdateServerRequest {
                    target: by_name("after"),
                    name: Some("other".into()),
                    ..Default::default()
                },
            )
            .await;
            assert_error(taken, Code::AlreadyExists, "SERVER_ALREADY_EXISTS");
            assert_eq!(
                get_server(&gateway, by_name("after"))
                    .await
                    .expect("still there")
                    .id,
                original.id
            );
        },
    )
    .await;
}

/// New credentials replace the old ones at once, even though the adapter
/// with the old ones was cached: wrong ones make the panel refuse
/// (PANEL_CREDENTIALS_REJECTED), right ones work again; credentials_set
/// stays true throughout.
async fn update_server_replaces_credentials(backend: Backend) {
    let fixture = AdminApiFixture::start().await;
    with_gateway(
        backend,
        |_| {},
        |gateway| async move {
            fixture.register(&gateway, "creds").await;
            create_account(&gateway, by_name("creds"), "cred1")
                .await
                .expect("create with the first credentials");

            let wrong = update_server(
                &gateway,
                UpdateServerRequest {
                    target: by_name("creds"),
                    credentials: Some(password_credentials("admin", "not-the-password")),
                    ..Default::default()
                },
            )
            .await
            .expect("replace credentials");
            assert!(wrong.credentials_set);
            let checked = check_server(&gateway, by_name("creds")).await;
            assert!(!checked.healthy, "wrong credentials: {checked:?}");
            assert_eq!(checked.error_reason, "PANEL_CREDENTIALS_REJECTED");
            assert_error(
                get_account(&gateway, by_name("creds"), "cred1").await,
                Code::FailedPrecondition,
                "PANEL_CREDENTIALS_REJECTED",
            );

            let right = update_server(
                &gateway,
                UpdateServerRequest {
                    target: by_name("creds"),
                    credentials: Some(fixture.credentials()),
                    ..Default::default()
                },
            )
            .await
            .expect("replace credentials again");
            assert!(right.credentials_set);
            assert!(check_server(&gateway, by_name("creds")).await.healthy);
            get_account(&gateway, by_name("creds"), "cred1")
                .await
                .expect("the right credentials work again");
        },
    )
    .await;
}

/// DeleteServer removes the server and its account index entries (the panel
/// keeps its accounts): GetServer, hosting calls by its name (though cached)
/// and index-routed calls no longer find it; deleting again → NOT_FOUND.
async fn delete_server_forgets_it_everywhere(backend: Backend) {
    let fixture = AdminApiFixture::start().await;
    with_gateway(
        backend,
        |_| {},
        |gateway| async move {
            let id = fixture.register(&gateway, "doomed").await;
            create_account(&gateway, by_name("doomed"), "gone")
                .await
                .expect("create");
            get_account(&gateway, None, "gone")
                .await
                .expect("routed by the index");

            gateway
                .inventory()
                .delete_server(DeleteServerRequest {
                    target: by_name("doomed"),
                    request_id: String::new(),
                })
                .await
                .expect("delete");

            for target in [by_name("doomed"), by_id(&id)] {
                assert_error(
                    get_server(&gateway, target.clone()).await,
                    Code::NotFound,
                    "SERVER_NOT_FOUND",
                );
                assert_error(
                    get_account(&gateway, target, "gone").await,
                    Code::NotFound,
                    "SERVER_NOT_FOUND",
                );
            }
            assert_error(
                get_account(&gateway, None, "gone").await,
                Code::NotFound,
                "ACCOUNT_NOT_INDEXED",
            );
            let listed = list_servers(&gateway, ListServersRequest::default())
                .await
                .expect("list");
            assert!(listed.servers.is_empty(), "{listed:?}");
            assert!(fixture.account_exists("gone"), "the panel is not touched");

            let again = gateway
                .inventory()
                .delete_server(DeleteServerRequest {
                    target: by_name("doomed"),
                    request_id: String::new(),
                })
                .await;
            assert_error(again, Code::NotFound, "SERVER_NOT_FOUND");
        },
    )
    .await;
}
