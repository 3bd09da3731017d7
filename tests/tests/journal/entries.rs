//! What the journal records: every mutation with who, what, where and its
//! outcome, and the server mutations with their server.

use std::time::{Duration, SystemTime};

use panelgate_proto::v1::{
    CreateLoginLinkRequest, DeleteServerRequest, GetAccountRequest, GetServerRequest,
    ListOperationsRequest, ListServersRequest, SuspendAccountRequest, UpdateServerRequest,
};
use panelgate_tests::{
    Backend, PanelFixture,
    gateway::{TEST_CALLER, by_id, by_name},
};

use crate::{
    CREATE, DELETE, LOGIN_LINK, REGISTER, SUSPEND, all_entries, assert_times, assert_uuid,
    create_request, delete_missing, entries, pair, register_request, suspend, what, with_panels,
};

panelgate_tests::on_both_backends!(
    every_mutation_is_journalled_with_who_what_where_and_outcome,
    server_mutations_are_journalled_with_their_server
);

/// Every mutating call (RegisterServer, CreateAccount, SuspendAccount, a
/// failing DeleteAccount, CreateLoginLink twice) is journalled with the
/// caller's `sub`, the RPC, the server, the resource, the outcome (code and
/// message), 1 attempt and consistent times, newest first; the journal's
/// duration is the call's (a suspension the panel holds 300 ms lasts at least
/// that); reads and a validate_only call add no entry; login links, having
/// no request_id, are journalled but never replayed.
async fn every_mutation_is_journalled_with_who_what_where_and_outcome(backend: Backend) {
    with_panels(backend, 1, |gateway, fixtures| async move {
        let sim = &fixtures[0];
        let from = SystemTime::now();
        let id = gateway
            .inventory()
            .register_server(register_request(sim, "scala", "", "register-scala-1"))
            .await
            .expect("register")
            .into_inner()
            .server
            .expect("server")
            .id;
        gateway
            .accounts()
            .create_account(create_request(
                "scala",
                "alice",
                "first-password-1",
                "create-alice-1",
            ))
            .await
            .expect("create alice");
        sim.sim.faults().set_delay(Duration::from_millis(300));
        suspend(&gateway, "scala", "alice").await;
        sim.sim.faults().clear();
        let missing = delete_missing(&gateway, "scala", "ghost").await;
        let mut links = Vec::new();
        for _ in 0..2 {
            let link = gateway
                .accounts()
                .create_login_link(CreateLoginLinkRequest {
                    username: "alice".to_owned(),
                    ..Default::default()
                })
                .await
                .expect("login link")
                .into_inner();
            links.push(link.url);
        }
        assert_ne!(links[0], links[1], "a login link was replayed");

        // Reads, and a check.
        gateway
            .accounts()
            .get_account(GetAccountRequest {
                target: by_name("scala"),
                username: "alice".to_owned(),
            })
            .await
            .expect("get account");
        gateway
            .inventory()
            .list_servers(ListServersRequest::default())
            .await
            .expect("list servers");
        gateway
            .inventory()
            .get_server(GetServerRequest {
                target: by_name("scala"),
            })
            .await
            .expect("get server");
        gateway
            .accounts()
            .suspend_account(SuspendAccountRequest {
                target: by_name("scala"),
                username: "alice".to_owned(),
                validate_only: true,
                request_id: "suspend-alice-check".to_owned(),
                ..Default::default()
            })
            .await
            .expect("validate_only suspend");
        all_entries(&gateway).await;
        let to = SystemTime::now();

        let journal = all_entries(&gateway).await;
        let expected =
            |method: &str, server_id: &str, resource: &str, code: &str, error: &str, key: &str| {
                (
                    key.to_owned(),
                    TEST_CALLER.to_owned(),
                    method.to_owned(),
                    server_id.to_owned(),
                    resource.to_owned(),
                    true,
                    code.to_owned(),
                    error.to_owned(),
                    1,
                )
            };
        let seen: Vec<_> = journal
            .iter()
            .map(|entry| {
                (
                    entry.request_id.clone(),
                    entry.caller.clone(),
                    entry.method.clone(),
                    entry.server_id.clone(),
                    entry.resource.clone(),
                    entry.done,
                    entry.code.clone(),
                    entry.error_message.clone(),
                    entry.attempts,
                )
            })
            .collect();
        // RegisterServer's server_id: see `server_mutations_are_journalled_with_their_server`.
        let register_server_id = journal
            .last()
            .map(|entry| entry.server_id.clone())
            .unwrap_or_default();
        assert_eq!(
            seen,
            [
                expected(LOGIN_LINK, &id, "account/alice", "OK", "", ""),
                expected(LOGIN_LINK, &id, "account/alice", "OK", "", ""),
                expected(
                    DELETE,
                    &id,
                    "account/ghost",
                    "NOT_FOUND",
                    missing.message(),
                    ""
                ),
                expected(SUSPEND, &id, "account/alice", "OK", "", ""),
                expected(CREATE, &id, "account/alice", "OK", "", "create-alice-1"),
                expected(
                    REGISTER,
                    &register_server_id,
                    "server/scala",
                    "OK",
                    "",
                    "register-scala-1"
                ),
            ]
        );
        for entry in &journal {
            assert_uuid(&entry.id);
            assert_times(entry, from, to);
        }
        let ids: std::collections::BTreeSet<_> =
            journal.iter().map(|entry| entry.id.as_str()).collect();
        assert_eq!(ids.len(), journal.len(), "ids are distinct");
        let suspended = &journal[3];
        let took = Duration::try_from(suspended.duration.expect("duration")).expect("duration");
        assert!(
            took >= Duration::from_millis(300),
            "SuspendAccount took {took:?}"
        );
    })
    .await;
}

/// Calls that act on a server record (RegisterServer, UpdateServer,
/// DeleteServer) are journalled with that server's id, so ListOperations by
/// `target` answers "who registered or changed this server?" (the server id is
/// also what shows an entry to a group-limited reader).
async fn server_mutations_are_journalled_with_their_server(backend: Backend) {
    with_panels(backend, 2, |gateway, fixtures| async move {
        let id = fixtures[0].register_in(&gateway, "scala", "").await;
        let other = fixtures[1].register_in(&gateway, "scala-2", "").await;
        gateway
            .inventory()
            .update_server(UpdateServerRequest {
                target: by_name("scala"),
                max_accounts: Some(10),
                ..Default::default()
            })
            .await
            .expect("update server");
        let by_target = entries(
            &gateway,
            ListOperationsRequest {
                target: by_id(&id),
                ..Default::default()
            },
        )
        .await;
        assert_eq!(
            what(&by_target),
            [
                pair("InventoryService/UpdateServer", "server/scala"),
                pair(REGISTER, "server/scala")
            ]
        );
        gateway
            .inventory()
            .delete_server(DeleteServerRequest {
                target: by_name("scala-2"),
                ..Default::default()
            })
            .await
            .expect("delete server");
        let journal = all_entries(&gateway).await;
        let servers: Vec<_> = journal
            .iter()
            .map(|entry| (entry.method.as_str(), entry.server_id.as_str()))
            .collect();
        assert_eq!(
            servers,
            [
                ("InventoryService/DeleteServer", other.as_str()),
                ("InventoryService/UpdateServer", id.as_str()),
                (REGISTER, other.as_str()),
                (REGISTER, id.as_str()),
            ]
        );
    })
    .await;
}
