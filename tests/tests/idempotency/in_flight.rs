//! Retries while the first call runs: they wait for its reply, and give up
//! with ABORTED REQUEST_IN_PROGRESS when it takes too long.

use std::time::{Duration, Instant};

use panelgate::Config;
use panelgate_tests::{Backend, errors::assert_error};
use prost::Message;
use tonic::Code;
use tonic_types::StatusExt;

use crate::{
    CREATE, Ols, SPANEL_CREATE, Sp, assert_retry_answers_alice, create_request, eventually,
    finished_entry, only_entry,
};

panelgate_tests::on_both_backends!(
    workers = 4;
    retry_while_the_first_call_runs_waits_for_its_reply,
    retry_gives_up_waiting_with_aborted_request_in_progress,
);

/// A retry arriving while the first call is still at the panel waits for it
/// and answers with the first call's exact reply; the panel sees one create.
async fn retry_while_the_first_call_runs_waits_for_its_reply(backend: Backend) {
    Sp::on(backend, |env| async move {
        env.list_packages().await;
        let request = create_request(&env, "alice", "basic", "create-alice-inflight");
        let mark = env.mark();
        // Two panel requests held 1 s each: the first call takes about 2 s.
        env.sim.faults().set_delay(Duration::from_secs(1));
        let mut client = env.gateway.accounts();
        let first_request = request.clone();
        let first = tokio::spawn(async move { client.create_account(first_request).await });
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut client = env.gateway.accounts();
        let second = tokio::spawn(async move {
            let started = Instant::now();
            let reply = client.create_account(request).await;
            (reply, started.elapsed())
        });
        let first = first.await.expect("first task").expect("first call");
        let (second, waited) = second.await.expect("second task");
        let second = second.expect("second call");
        env.sim.faults().clear();

        assert_eq!(
            second.get_ref().encode_to_vec(),
            first.get_ref().encode_to_vec()
        );
        assert!(
            waited >= Duration::from_millis(1500),
            "the retry answered after {waited:?}, before the first call could end"
        );
        assert_eq!(env.actions_since(mark), SPANEL_CREATE);
        let entry = only_entry(&env.gateway, CREATE).await;
        assert_eq!((entry.code.as_str(), entry.attempts), ("OK", 1));
    })
    .await;
}

/// A retry whose first call is still running after the wait limit (30 s) is
/// answered ABORTED `REQUEST_IN_PROGRESS` with a RetryInfo, without a panel
/// call; once the first caller has gone away, the next retry runs, finds the
/// account the first call made and answers OK without creating it again.
async fn retry_gives_up_waiting_with_aborted_request_in_progress(backend: Backend) {
    let configure = |config: &mut Config| {
        // Long enough for the panel to hold the first call past the wait.
        config.outbound.timeouts.set_each(Duration::from_secs(120));
    };
    Ols::run_on(backend, Default::default(), configure, |env| async move {
        env.list_packages().await;
        let request = create_request(&env, "alice", "Basic", "create-alice-slow");
        let requests = env.sim.request_count();
        env.sim.faults().set_delay(Duration::from_secs(60));
        let mut client = env.gateway.accounts();
        let first_request = request.clone();
        let first = tokio::spawn(async move { client.create_account(first_request).await });
        let sim = env.sim.clone();
        eventually!("the panel to create alice", sim.user("alice"));

        let started = Instant::now();
        let retry = env.create_account_reply(request.clone()).await;
        let status = assert_error(retry, Code::Aborted, "REQUEST_IN_PROGRESS");
        assert!(
            started.elapsed() >= Duration::from_secs(29),
            "gave up after {:?}",
            started.elapsed()
        );
        let retry_info = status.get_details_retry_info().expect("RetryInfo");
        assert!(retry_info.retry_delay.is_some(), "{retry_info:?}");
        assert_eq!(
            env.sim.request_count(),
            requests + 1,
            "only the first add_user"
        );
        let entry = only_entry(&env.gateway, CREATE).await;
        assert!(!entry.done, "the first call still runs: {entry:?}");
        assert_eq!(entry.code, "");

        // The first caller goes away.
        first.abort();
        assert!(first.await.is_err_and(|err| err.is_cancelled()));
        env.sim.faults().clear();
        let gateway = env.gateway.clone();
        let entry = eventually!(
            "the abandoned call to be journalled",
            finished_entry(&gateway, CREATE).await
        );
        assert_eq!(entry.code, "CANCELLED");

        let requests = env.sim.request_count();
        let reply = env
            .create_account_reply(request)
            .await
            .expect("the retry after the abandon");
        assert_retry_answers_alice(&env, reply, requests + 1, "only the existence check").await;
    })
    .await;
}
