//! Creates whose first attempt ended unknown (timed out, abandoned,
//! UNAVAILABLE): the retry completes them, never repeats them, and never
//! adopts someone else's account.

use std::time::{Duration, Instant};

use panelgate_proto::v1::CreateAccountRequest;
use panelgate_sim::Fault;
use panelgate_tests::{Backend, errors::assert_error};
use tonic::Code;

use crate::{
    CREATE, Ols, Sp, assert_retry_answers_alice, create_request, create_timing_out, eventually,
    finished_entry, only_entry,
};

panelgate_tests::on_both_backends!(
    workers = 4;
    timed_out_create_is_not_repeated_by_its_retry,
    abandoned_create_is_not_repeated_by_its_retry,
    timed_out_multi_step_create_is_completed_by_its_retry,
    retry_after_unavailable_does_not_adopt_someone_elses_account,
);

/// A create whose panel answer came after the upstream timeout (the panel did
/// create the account) is DEADLINE_EXCEEDED; its retry checks the panel
/// first, finds the account and answers OK with it, sending no second
/// create (one `account_info` request, no `add_user`).
async fn timed_out_create_is_not_repeated_by_its_retry(backend: Backend) {
    Ols::on(backend, |env| async move {
        env.list_packages().await;
        let request = create_request(&env, "alice", "Basic", "create-alice-timeout");
        create_timing_out(&env, request.clone()).await;
        assert!(env.sim.user("alice").is_some(), "the panel created alice");
        let entry = only_entry(&env.gateway, CREATE).await;
        assert_eq!(
            (entry.code.as_str(), entry.attempts),
            ("DEADLINE_EXCEEDED", 1)
        );

        env.sim.faults().clear();
        let requests = env.sim.request_count();
        let reply = env
            .create_account_reply(request.clone())
            .await
            .expect("the retry");
        let account =
            assert_retry_answers_alice(&env, reply, requests + 1, "only the existence check").await;
        assert_eq!(account.primary_domain, "alice.example");

        let requests = env.sim.request_count();
        let replay = env.create_account_reply(request).await.expect("replay");
        assert_eq!(replay.account.expect("account").username, "alice");
        assert_eq!(env.sim.request_count(), requests);
    })
    .await;
}

/// A create whose caller went away while the panel was answering (the panel
/// did create the account) is journalled CANCELLED; the retry with the same
/// request_id checks first and answers OK with the account, one `add_user`
/// in all.
async fn abandoned_create_is_not_repeated_by_its_retry(backend: Backend) {
    Ols::on(backend, |env| async move {
        env.list_packages().await;
        let request = create_request(&env, "alice", "Basic", "create-alice-gone");
        // Under the upstream timeout: only the caller gives up.
        env.sim.faults().set_delay(Duration::from_millis(1500));
        let requests = env.sim.request_count();
        let mut client = env.gateway.accounts();
        let first_request = request.clone();
        let first = tokio::spawn(async move { client.create_account(first_request).await });
        let sim = env.sim.clone();
        eventually!("the panel to create alice", sim.user("alice"));
        first.abort();
        assert!(first.await.is_err_and(|err| err.is_cancelled()));

        let gateway = env.gateway.clone();
        let entry = eventually!(
            "the abandoned call to be journalled",
            finished_entry(&gateway, CREATE).await
        );
        assert_eq!(entry.code, "CANCELLED");
        assert_eq!(env.sim.request_count(), requests + 1);

        env.sim.faults().clear();
        let reply = env.create_account_reply(request).await.expect("the retry");
        assert_retry_answers_alice(
            &env,
            reply,
            requests + 2,
            "one add_user, then only the existence check",
        )
        .await;
    })
    .await;
}

/// A multi-step create (SPanel: `wwwacct`, then `changeuseremail`) whose first
/// step timed out after the panel made the account has not set the email;
/// the retry's existence check must not take that half-made account for a
/// finished create: when it answers OK, the account has the requested email.
async fn timed_out_multi_step_create_is_completed_by_its_retry(backend: Backend) {
    Sp::on(backend, |env| async move {
        env.list_packages().await;
        let request = create_request(&env, "alice", "basic", "create-alice-half");
        create_timing_out(&env, request.clone()).await;
        let alice = env.sim.account("alice").expect("wwwacct made alice");
        assert_eq!(alice.email, "", "premise: changeuseremail never ran");
        env.sim.faults().clear();

        env.create_account_reply(request)
            .await
            .expect("the retry completes the half-made create");
        assert_eq!(
            env.sim.account("alice").expect("alice").email,
            "alice@mail.example",
            "the retry answered OK but alice has no email on the panel"
        );
    })
    .await;
}

/// An uncertain retry must not adopt an account that existed before the
/// first attempt: the first attempt never reached the panel (503 from a
/// proxy), `alice` already existed with another domain, so the create did
/// not happen and the retry must not answer OK as if it had.
async fn retry_after_unavailable_does_not_adopt_someone_elses_account(backend: Backend) {
    Sp::on(backend, |env| async move {
        env.list_packages().await;
        let existing = CreateAccountRequest {
            primary_domain: "someone-else.example".to_owned(),
            ..create_request(&env, "alice", "pro", "")
        };
        env.create_account_reply(existing)
            .await
            .expect("the existing alice");
        let request = create_request(&env, "alice", "basic", "create-alice-adopt");
        env.sim.faults().set(Fault::Status(503));
        let failed = env.create_account_reply(request.clone()).await;
        assert_error(failed, Code::Unavailable, "UPSTREAM_UNAVAILABLE");
        env.sim.faults().clear();

        let retried = env.create_account_reply(request).await;
        assert_error(retried, Code::AlreadyExists, "ACCOUNT_ALREADY_EXISTS");
    })
    .await;
}
