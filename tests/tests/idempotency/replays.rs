//! Replays: 100 concurrent retries make one account, later retries replay
//! the stored reply, a failure is replayed with its status (unless it is
//! retryable), and map fields do not break identity.

use std::{sync::Arc, time::Duration};

use panelgate_proto::v1::{CreateAccountRequest, CreateAccountResponse, DeleteAccountRequest};
use panelgate_sim::Fault;
use panelgate_tests::{Backend, errors::assert_error};
use prost::Message;
use tokio::sync::Barrier;
use tonic::Code;

use crate::{CREATE, Sp, assert_same_status, create_request, journal, only_entry};

panelgate_tests::on_both_backends!(
    workers = 4;
    hundred_concurrent_retries_make_one_account_and_identical_replies,
    later_retry_replays_the_stored_reply_without_calling_the_panel,
    failed_outcome_is_replayed_with_the_same_status,
    retryable_failure_is_not_replayed,
    identical_retries_with_a_map_field_are_replayed,
);

/// The check: 100 concurrent CreateAccount calls with one request_id
/// (all released together, overlapping the first one's panel calls) make
/// exactly one account on the simulator, reach the panel with exactly one
/// create, and get 100 byte-identical replies; the journal holds one entry.
async fn hundred_concurrent_retries_make_one_account_and_identical_replies(backend: Backend) {
    Sp::on(backend, |env| async move {
        const CALLS: usize = 100;
        let request = create_request(&env, "alice", "basic", "create-alice-6f0c2a");
        let (mark, requests) = (env.mark(), env.sim.request_count());
        // Each panel answer is held 200 ms: the first call holds the key for
        // about 600 ms while the 99 others arrive.
        env.sim.faults().set_delay(Duration::from_millis(200));
        let release = Arc::new(Barrier::new(CALLS));
        let calls: Vec<_> = (0..CALLS)
            .map(|_| {
                let mut client = env.gateway.accounts();
                let request = request.clone();
                let release = release.clone();
                tokio::spawn(async move {
                    release.wait().await;
                    client.create_account(request).await
                })
            })
            .collect();
        let mut replies = Vec::with_capacity(CALLS);
        for (n, call) in calls.into_iter().enumerate() {
            let reply = call
                .await
                .expect("call task")
                .unwrap_or_else(|status| panic!("call {n}: {status:?}"));
            replies.push(reply.into_inner().encode_to_vec());
        }
        env.sim.faults().clear();

        for (n, reply) in replies.iter().enumerate() {
            assert_eq!(reply, &replies[0], "reply {n} differs from reply 0");
        }
        let reply = CreateAccountResponse::decode(replies[0].as_slice()).expect("a reply");
        let account = reply.account.expect("account in reply");
        assert_eq!(account.username, "alice");
        assert_eq!(account.server_id, env.id);
        assert_eq!(account.primary_domain, "alice.example");

        assert_eq!(
            env.actions_since(mark),
            [
                "accounts/listpackages",
                "accounts/wwwacct",
                "accounts/changeuseremail"
            ],
            "the panel saw one create"
        );
        assert_eq!(env.sim.request_count(), requests + 3, "HTTP requests");
        let alice = env.sim.account("alice").expect("alice on the panel");
        assert_eq!(alice.email, "alice@mail.example");
        assert_eq!(alice.domain, "alice.example");

        let entry = only_entry(&env.gateway, CREATE).await;
        assert_eq!(entry.request_id, "create-alice-6f0c2a");
        assert_eq!(entry.code, "OK");
        assert_eq!(entry.attempts, 1);
        assert!(entry.done);
    })
    .await;
}

/// A retry long after the first call returns the stored reply byte for byte
/// without any HTTP request to the panel: even after the account was deleted,
/// the replay does not create it again.
async fn later_retry_replays_the_stored_reply_without_calling_the_panel(backend: Backend) {
    Sp::on(backend, |env| async move {
        let request = create_request(&env, "alice", "basic", "create-alice-1b7e");
        let first = env
            .create_account_reply(request.clone())
            .await
            .expect("create alice");
        env.gateway
            .accounts()
            .delete_account(DeleteAccountRequest {
                target: env.target(),
                username: "alice".to_owned(),
                ..Default::default()
            })
            .await
            .expect("delete alice");
        assert!(env.sim.account("alice").is_none(), "alice deleted");

        let requests = env.sim.request_count();
        let again = env
            .create_account_reply(request)
            .await
            .expect("replayed create");
        assert_eq!(again.encode_to_vec(), first.encode_to_vec());
        assert_eq!(
            env.sim.request_count(),
            requests,
            "the replay called the panel"
        );
        assert!(
            env.sim.account("alice").is_none(),
            "the replay re-created alice"
        );
        let entry = only_entry(&env.gateway, CREATE).await;
        assert_eq!((entry.code.as_str(), entry.attempts), ("OK", 1));
    })
    .await;
}

/// A failed outcome that a retry cannot change (the panel's ALREADY_EXISTS)
/// is stored: the retry gets the same code, message and details (ErrorInfo
/// included) without a panel call.
async fn failed_outcome_is_replayed_with_the_same_status(backend: Backend) {
    Sp::on(backend, |env| async move {
        env.create_account_reply(create_request(&env, "alice", "basic", ""))
            .await
            .expect("create alice");
        let request = CreateAccountRequest {
            primary_domain: "alice-again.example".to_owned(),
            ..create_request(&env, "alice", "basic", "create-alice-twice")
        };
        let mark = env.mark();
        let first = env.create_account_reply(request.clone()).await;
        let first = assert_error(first, Code::AlreadyExists, "ACCOUNT_ALREADY_EXISTS");
        assert_eq!(env.actions_since(mark), ["accounts/wwwacct"]);

        let requests = env.sim.request_count();
        let again = env
            .create_account_reply(request)
            .await
            .expect_err("replayed failure");
        assert_same_status(&again, &first);
        assert_eq!(
            env.sim.request_count(),
            requests,
            "the replay called the panel"
        );
        let entries = journal(&env.gateway, CREATE).await;
        let entry = entries
            .iter()
            .find(|entry| entry.request_id == "create-alice-twice")
            .expect("entry of the key");
        assert_eq!(entry.code, "ALREADY_EXISTS");
        assert_eq!(entry.error_message, first.message());
        assert_eq!(entry.attempts, 1);
    })
    .await;
}

/// A retryable outcome (the panel answered 503: UNAVAILABLE) is not replayed:
/// the retry with the same request_id runs again, first checking whether the
/// account exists (`listaccounts`), then creates it; the journal entry shows
/// 2 attempts ending OK.
async fn retryable_failure_is_not_replayed(backend: Backend) {
    Sp::on(backend, |env| async move {
        env.list_packages().await;
        let request = create_request(&env, "alice", "basic", "create-alice-503");
        env.sim.faults().set(Fault::Status(503));
        let failed = env.create_account_reply(request.clone()).await;
        assert_error(failed, Code::Unavailable, "UPSTREAM_UNAVAILABLE");
        assert!(env.sim.account("alice").is_none());
        let entry = only_entry(&env.gateway, CREATE).await;
        assert_eq!((entry.code.as_str(), entry.attempts), ("UNAVAILABLE", 1));
        assert!(entry.done);

        env.sim.faults().clear();
        let mark = env.mark();
        let reply = env
            .create_account_reply(request.clone())
            .await
            .expect("the retry");
        assert_eq!(reply.account.expect("account").username, "alice");
        assert_eq!(
            env.actions_since(mark),
            [
                "accounts/listaccounts",
                "accounts/wwwacct",
                "accounts/changeuseremail"
            ]
        );
        assert_eq!(
            env.sim.account("alice").expect("alice").email,
            "alice@mail.example"
        );
        let entry = only_entry(&env.gateway, CREATE).await;
        assert_eq!(entry.code, "OK");
        assert_eq!(entry.attempts, 2);
        assert_eq!(entry.error_message, "", "the failure's message is gone");

        // Now it is final: the next retry is a replay.
        let mark = env.mark();
        env.create_account_reply(request).await.expect("replay");
        assert!(env.actions_since(mark).is_empty());
    })
    .await;
}

/// Requests with map fields (server labels) digest the same on every retry:
/// maps are encoded in key order, so ten identical UpdateServer retries with
/// several labels are all replays of the first, never REQUEST_ID_REUSED.
async fn identical_retries_with_a_map_field_are_replayed(backend: Backend) {
    Sp::on(backend, |env| async move {
        let labels: std::collections::BTreeMap<String, String> = [
            ("tier", "gold"),
            ("region", "eu"),
            ("rack", "r7"),
            ("owner", "ops"),
        ]
        .map(|(key, value)| (key.to_owned(), value.to_owned()))
        .into();
        let update = panelgate_proto::v1::UpdateServerRequest {
            target: env.target(),
            labels: Some(panelgate_proto::v1::LabelSet { labels }),
            request_id: "0c7f3a52-labels-retry".to_owned(),
            ..Default::default()
        };
        let mut replies = Vec::new();
        for _ in 0..10 {
            let reply = env
                .gateway
                .inventory()
                .update_server(update.clone())
                .await
                .expect("an identical retry is replayed")
                .into_inner();
            replies.push(reply.encode_to_vec());
        }
        assert!(replies.windows(2).all(|pair| pair[0] == pair[1]));
        let entry = only_entry(&env.gateway, "InventoryService/UpdateServer").await;
        assert_eq!(entry.attempts, 1, "{entry:?}");
    })
    .await;
}
