//! The rotation end to end, a rotation missing the key the data was sealed
//! with, and what the SQLite file holds afterwards.

use std::sync::{Arc, atomic::Ordering};

use clap::Parser;
use panelgate::cli::{Cli, run};
use panelgate_proto::v1::{
    CheckServerRequest, CreateAccountRequest, CreateAccountResponse, ListPackagesRequest,
};
use panelgate_tests::{
    Backend,
    errors::{assert_error, metadata, reason},
    gateway::{by_name, with_gateway},
    logs,
};
use prost::Message;
use tonic::Code;

use crate::{
    Key,
    fleet::{AFTER, Fleet, Probe, ROTATING, assert_fleet_works, duplicate, keep_calling, populate},
    gateway_with, rotate_key, rotation_reports,
};

panelgate_tests::on_both_backends!(
    workers = 4;
    rotation_keeps_serving_and_moves_everything_to_the_new_key,
    rotate_key_names_the_missing_key,
);

/// The whole rotation: G1 (key A) registers three panels and makes idempotent
/// creates (one failing). G2 (B primary, A previous) serves a loop of
/// CheckServer/GetAccount/ChangePassword calls and retries of G1's creates
/// while `rotate-key` re-seals: no call fails, every retry replays. Then G3 (B alone) uses every server and replays each
/// request_id's stored outcome without calling a panel; a second rotate-key
/// reports nothing re-sealed; G4 (A alone) gets FAILED_PRECONDITION
/// CREDENTIALS_UNREADABLE naming B's key id (CheckServer: unhealthy, same
/// reason), and does not run a retried create again.
async fn rotation_keeps_serving_and_moves_everything_to_the_new_key(backend: Backend) {
    logs::capture(tracing::Level::INFO);
    let test = format!("flow-{backend:?}");
    let (a, b) = (Key::new("A", &test), Key::new("B", &test));
    let keyring = a.alone();
    with_gateway(
        backend,
        move |config| config.keyring = Some(keyring),
        |g1| async move {
            let fleet = Fleet::start(&test).await;
            let (created, duplicate_failure) = populate(&fleet, &g1).await;
            let url = g1.database_url.clone();

            // G2 serves with B primary, A previous, while rotate-key runs.
            let (g2, g2_clients) = gateway_with(&url, b.after(&a)).await;
            assert_fleet_works(&fleet, &g2_clients, "G2 before rotation").await;
            let probe = Arc::new(Probe::new());
            let servers: Vec<(&'static str, String)> = fleet
                .members
                .iter()
                .map(|member| (member.server, member.account.username.clone()))
                .collect();
            let replays: Vec<(CreateAccountRequest, CreateAccountResponse)> = fleet
                .members
                .iter()
                .map(|member| member.account.clone())
                .zip(created.iter().cloned())
                .collect();
            let workers: Vec<_> = (0..2)
                .map(|worker| {
                    tokio::spawn(keep_calling(
                        probe.clone(),
                        g2_clients.clone(),
                        servers.clone(),
                        replays.clone(),
                        worker,
                    ))
                })
                .collect();
            probe.rounds_reach(2).await;
            probe.phase.store(ROTATING, Ordering::SeqCst);
            let rotated = rotate_key(&url, &b, Some(&a)).await;
            probe.phase.store(AFTER, Ordering::SeqCst);
            let rounds_at_rotation = probe.rounds.load(Ordering::SeqCst);
            rotated.expect("rotate-key succeeds");
            probe.rounds_reach(rounds_at_rotation + 4).await;
            probe.stop.store(true, Ordering::SeqCst);
            for worker in workers {
                worker.await.expect("the call loop ends");
            }
            let failures = probe
                .failures
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .clone();
            assert!(
                failures.is_empty(),
                "no downtime: {} of {} calls failed: {failures:#?}",
                failures.len(),
                probe.calls.load(Ordering::SeqCst)
            );
            eprintln!(
                "{backend:?}: {} calls, {} in flight during the rotation",
                probe.calls.load(Ordering::SeqCst),
                probe.during_rotation.load(Ordering::SeqCst)
            );
            assert!(
                probe.during_rotation.load(Ordering::SeqCst) > 0,
                "calls were in flight while rotate-key ran"
            );
            // 3 credentials; 3 creates + the failed duplicate (G2's own
            // ChangePasswords are under B already).
            assert_eq!(rotation_reports(&b), [(3, 4)], "the first run's report");
            g2.stop().await;

            // G3: B alone reads every credential and every stored outcome.
            let (g3, g3_clients) = gateway_with(&url, b.alone()).await;
            assert_fleet_works(&fleet, &g3_clients, "G3 (new key alone)").await;
            let panel_requests = fleet.requests();
            for (member, first) in fleet.members.iter().zip(&created) {
                let replayed = g3_clients
                    .accounts()
                    .create_account(member.account.clone())
                    .await
                    .unwrap_or_else(|status| panic!("replay on {}: {status:?}", member.server))
                    .into_inner();
                assert_eq!(
                    replayed.encode_to_vec(),
                    first.encode_to_vec(),
                    "{}: the stored reply",
                    member.server
                );
            }
            let replayed_failure = g3_clients
                .accounts()
                .create_account(duplicate(&fleet))
                .await
                .expect_err("the stored failure is replayed");
            assert_eq!(replayed_failure.code(), duplicate_failure.code());
            assert_eq!(replayed_failure.message(), duplicate_failure.message());
            assert_eq!(reason(&replayed_failure), reason(&duplicate_failure));
            assert_eq!(
                fleet.requests(),
                panel_requests,
                "replays do not call any panel"
            );

            // A second run finds nothing left under another key.
            rotate_key(&url, &b, Some(&a))
                .await
                .expect("a second rotate-key succeeds");
            assert_eq!(
                rotation_reports(&b),
                [(3, 4), (0, 0)],
                "the second run re-seals nothing"
            );
            assert_fleet_works(&fleet, &g3_clients, "G3 after the second run").await;
            g3.stop().await;

            // G4: A alone can read nothing any more, and says why.
            let (g4, g4_clients) = gateway_with(&url, a.alone()).await;
            for member in &fleet.members {
                let refused = g4_clients
                    .packages()
                    .list_packages(ListPackagesRequest {
                        target: by_name(member.server),
                        ..Default::default()
                    })
                    .await;
                let status =
                    assert_error(refused, Code::FailedPrecondition, "CREDENTIALS_UNREADABLE");
                assert!(
                    status.message().contains(&b.id),
                    "the message names the key needed: {status:?}"
                );
                assert_eq!(
                    metadata(&status, "server_name"),
                    member.server,
                    "the error names the server whose record is unreadable: {status:?}"
                );
                for secret in [&a.base64, &b.base64] {
                    assert!(!status.message().contains(secret.as_str()), "{status:?}");
                }
            }
            for member in &fleet.members {
                let checked = g4_clients
                    .inventory()
                    .check_server(CheckServerRequest {
                        target: by_name(member.server),
                    })
                    .await
                    .expect("CheckServer answers")
                    .into_inner();
                assert!(!checked.healthy, "{checked:?}");
                assert_eq!(
                    checked.error_reason, "CREDENTIALS_UNREADABLE",
                    "{checked:?}"
                );
                assert!(checked.error_message.contains(&b.id), "{checked:?}");
            }
            let panel_requests = fleet.requests();
            let not_replayed = g4_clients
                .accounts()
                .create_account(fleet.members[0].account.clone())
                .await;
            assert_error(
                not_replayed,
                Code::FailedPrecondition,
                "CREDENTIALS_UNREADABLE",
            );
            assert_eq!(
                fleet.requests(),
                panel_requests,
                "a request_id it cannot read is not run again"
            );
            g4.stop().await;
        },
    )
    .await;
}

/// rotate-key whose keyring lacks the key the data was sealed with (a wrong
/// previous key, or none) fails, naming that key's id and quoting no key;
/// nothing is damaged: a gateway with the original key still uses the
/// server and replays its request_id. Without a master key it refuses to
/// start.
async fn rotate_key_names_the_missing_key(backend: Backend) {
    let test = format!("missing-{backend:?}");
    let (a, b, c) = (
        Key::new("A", &test),
        Key::new("B", &test),
        Key::new("C", &test),
    );
    let keyring = a.alone();
    with_gateway(
        backend,
        move |config| config.keyring = Some(keyring),
        |g1| async move {
            let fleet = Fleet::start(&test).await;
            let (created, _) = populate(&fleet, &g1).await;
            let url = g1.database_url.clone();

            for previous in [Some(&c), None] {
                let message = rotate_key(&url, &b, previous)
                    .await
                    .expect_err("rotate-key without the data's key fails");
                assert!(
                    message.contains(&a.id),
                    "names the missing key id {}: {message}",
                    a.id
                );
                for key in [&a, &b, &c] {
                    assert!(!message.contains(&key.base64), "{message}");
                    assert!(
                        !message.contains(&*String::from_utf8_lossy(&key.raw)),
                        "{message}"
                    );
                }
            }
            let message = rotate_key_without_key(&url).await;
            assert!(message.contains("master key"), "{message}");

            let (g, clients) = gateway_with(&url, a.alone()).await;
            assert_fleet_works(&fleet, &clients, "the original key after failed runs").await;
            let panel_requests = fleet.requests();
            let replayed = clients
                .accounts()
                .create_account(fleet.members[0].account.clone())
                .await
                .expect("the original key replays")
                .into_inner();
            assert_eq!(replayed, created[0]);
            assert_eq!(fleet.requests(), panel_requests);
            g.stop().await;
        },
    )
    .await;
}

/// `rotate-key` with no key at all; its error text.
async fn rotate_key_without_key(database_url: &str) -> String {
    let cli = Cli::try_parse_from(["panelgate", "rotate-key", "--database-url", database_url])
        .expect("valid command line");
    match run(cli).await {
        Ok(()) => panic!("rotate-key without a key succeeded"),
        Err(err) => format!("{err:#}"),
    }
}

/// After a rotation and use under the new key, the SQLite database (file,
/// WAL and shared memory) holds neither key, raw or base64, nor any panel
/// credential or account password given to the gateway.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_file_holds_no_key_and_no_password_after_rotation() {
    let test = "file-Sqlite";
    let (a, b) = (Key::new("A", test), Key::new("B", test));
    let keyring = a.alone();
    with_gateway(
        Backend::Sqlite,
        move |config| config.keyring = Some(keyring),
        |g1| async move {
            let fleet = Fleet::start(test).await;
            populate(&fleet, &g1).await;
            let url = g1.database_url.clone();
            rotate_key(&url, &b, Some(&a))
                .await
                .expect("rotate-key succeeds");
            let (g, clients) = gateway_with(&url, b.alone()).await;
            assert_fleet_works(&fleet, &clients, "the new key").await;
            g.stop().await;

            let file = g1.sqlite_file.clone().expect("a SQLite file");
            let file_name = file
                .file_name()
                .expect("file name")
                .to_string_lossy()
                .into_owned();
            let mut searched = Vec::new();
            let mut bytes = Vec::new();
            for entry in std::fs::read_dir(file.parent().expect("directory")).expect("list") {
                let path = entry.expect("entry").path();
                if path
                    .file_name()
                    .is_some_and(|name| name.to_string_lossy().starts_with(&file_name))
                {
                    bytes.extend(std::fs::read(&path).expect("read a database file"));
                    searched.push(path);
                }
            }
            assert!(bytes.len() > 4096, "the database was read: {searched:?}");
            let mut needles: Vec<(String, Vec<u8>)> = vec![
                ("key A (raw)".into(), a.raw.clone()),
                ("key A (base64)".into(), a.base64.clone().into_bytes()),
                ("key B (raw)".into(), b.raw.clone()),
                ("key B (base64)".into(), b.base64.clone().into_bytes()),
            ];
            needles.extend(
                fleet
                    .secrets
                    .iter()
                    .map(|secret| (format!("secret {secret}"), secret.clone().into_bytes())),
            );
            let found: Vec<&String> = needles
                .iter()
                .filter(|(_, needle)| bytes.windows(needle.len()).any(|window| window == needle))
                .map(|(what, _)| what)
                .collect();
            assert!(found.is_empty(), "found in {searched:?}: {found:?}");
            // The search works: what the file must hold is found.
            assert!(
                bytes
                    .windows(b"rot-openadmin".len())
                    .any(|window| window == b"rot-openadmin"),
                "server names are stored in clear"
            );
        },
    )
    .await;
}
