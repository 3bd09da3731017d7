//! Shutdown of the real `panelgate serve` process: SIGTERM in the middle of
//! slow panel calls lets them finish within the grace period (and cuts them
//! off after it), turns health NOT_SERVING, refuses new calls, and exits 0;
//! SIGKILL in the middle of a call leaves a claim that dies with the process,
//! so a retry on a new process completes it.

use std::time::{Duration, Instant};

use panelgate_proto::v1::{
    CreateAccountRequest, PanelKind, account_service_client::AccountServiceClient,
};
use tonic::transport::Channel;

use crate::{
    gateway::{CALLER, Gateway, bearer},
    sims::SimPanel,
};

/// How long the simulated panel takes to answer during the test.
const SLOW_PANEL: Duration = Duration::from_millis(1500);
/// Calls in flight when SIGTERM arrives.
const IN_FLIGHT: usize = 5;

/// A gateway with shutdown grace `grace` and a simulated SPanel registered,
/// with IN_FLIGHT slow CreateAccount calls (`<prefix>0`...) reaching the panel.
async fn slow_calls_in_flight(
    grace: &str,
    prefix: &str,
) -> (
    SimPanel,
    Gateway,
    Vec<tokio::task::JoinHandle<Result<(), tonic::Status>>>,
) {
    let panel = SimPanel::start(PanelKind::Spanel).await;
    let gateway = Gateway::start(grace);
    let channel = gateway.channel().await;
    panel.register(channel.clone()).await;
    let calls = slow_creates(&channel, &panel, prefix).await;
    (panel, gateway, calls)
}

/// Starts IN_FLIGHT slow CreateAccount calls and waits until the panel has
/// them all.
async fn slow_creates(
    channel: &Channel,
    panel: &SimPanel,
    prefix: &str,
) -> Vec<tokio::task::JoinHandle<Result<(), tonic::Status>>> {
    let before = panel.request_count();
    panel.faults().set_delay(SLOW_PANEL);
    let calls = (0..IN_FLIGHT)
        .map(|n| {
            let mut accounts = AccountServiceClient::new(channel.clone());
            let request = bearer(panel.create(&format!("{prefix}{n}")));
            tokio::spawn(async move { accounts.create_account(request).await.map(drop) })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(10);
    while panel.request_count() < before + IN_FLIGHT as u64 {
        assert!(
            Instant::now() < deadline,
            "the calls did not reach the panel"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    calls
}

#[tokio::test]
async fn sigterm_lets_calls_in_flight_finish_and_refuses_new_ones() {
    let (panel, mut gateway, calls) = slow_calls_in_flight("10s", "drain").await;
    let signalled = Instant::now();
    gateway.sigterm();
    gateway.wait_for("health is NOT_SERVING", Duration::from_secs(5));

    // A new connection gets no service once the shutdown began.
    let latecomer = tokio::time::timeout(Duration::from_secs(1), async {
        let Ok(channel) = Channel::from_shared(format!("http://{}", gateway.addr))
            .expect("gateway URL")
            .connect()
            .await
        else {
            return false;
        };
        AccountServiceClient::new(channel)
            .create_account(bearer(panel.create("latecomer")))
            .await
            .is_ok()
    })
    .await;
    assert_ne!(latecomer, Ok(true), "a call made after SIGTERM was served");

    for (n, call) in calls.into_iter().enumerate() {
        call.await
            .expect("call task")
            .unwrap_or_else(|status| panic!("call {n} in flight was not finished: {status:?}"));
        let username = format!("drain{n}");
        assert!(panel.holds(&username), "{username} not created");
    }
    assert!(!panel.holds("latecomer"));
    assert!(
        signalled.elapsed() >= SLOW_PANEL / 2,
        "the calls were still running when SIGTERM came"
    );
    assert!(gateway.exit(Duration::from_secs(10)), "non-zero exit");
    assert_call_lines_carry_the_span(&mut gateway);
}

/// Each finished call logged one JSON line whose span names the request,
/// caller, method, server, panel kind and panel status, with the latency.
fn assert_call_lines_carry_the_span(gateway: &mut Gateway) {
    gateway.seen.extend(gateway.logged.try_iter());
    let done: Vec<serde_json::Value> = gateway
        .seen
        .iter()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|line| {
            line["message"] == "call done"
                && line["span"]["method"] == "AccountService/CreateAccount"
        })
        .collect();
    assert_eq!(done.len(), IN_FLIGHT, "{:#?}", gateway.seen);
    for line in done {
        let span = &line["span"];
        assert_eq!(span["name"], "grpc", "{line}");
        assert_eq!(span["caller"], CALLER, "{line}");
        assert_eq!(span["panel_kind"], "spanel", "{line}");
        assert_eq!(span["upstream_status"], 200, "{line}");
        assert!(
            span["server_id"].as_str().is_some_and(|id| !id.is_empty()),
            "{line}"
        );
        assert!(
            span["request_id"].as_str().is_some_and(|id| !id.is_empty()),
            "{line}"
        );
        assert!(line["latency_ms"].as_u64().is_some(), "{line}");
    }
}

#[tokio::test]
async fn calls_still_running_after_the_grace_period_are_cut_off() {
    let (_panel, mut gateway, calls) = slow_calls_in_flight("200ms", "cut").await;
    let signalled = Instant::now();
    gateway.sigterm();
    gateway.wait_for("grace period over", Duration::from_secs(5));
    assert!(gateway.exit(Duration::from_secs(5)), "non-zero exit");
    assert!(
        signalled.elapsed() < SLOW_PANEL,
        "the gateway waited for the slow panel instead of its grace period"
    );
    for call in calls {
        let outcome = call.await.expect("call task");
        assert!(outcome.is_err(), "a call outlived the grace period");
    }
}

/// SIGKILL while a CreateAccount with a request_id is at a slow panel of
/// `kind`, after the panel made the account and before it answered: the
/// process dies holding the call's claim. A new process on the
/// same database gets the same request (a client retrying, past ABORTED
/// REQUEST_IN_PROGRESS answers, as RetryInfo says): within 60 s of the kill
/// the claim has expired, the retry finds the account the panel made,
/// completes it where the create has a second step (SPanel's email) and
/// answers OK; the panel holds the account once.
async fn a_retry_after_sigkill_completes_within_a_minute(kind: PanelKind) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let panel = SimPanel::start(kind).await;
    let mut first = Gateway::start_in(dir.path(), "1s");
    let channel = first.channel().await;
    panel.register(channel.clone()).await;
    let request = || CreateAccountRequest {
        request_id: "2c9d5f0e-crash-retry".to_owned(),
        ..panel.create("crash")
    };

    panel.faults().set_delay(SLOW_PANEL);
    let mut accounts = AccountServiceClient::new(channel);
    let first_try = request();
    let in_flight = tokio::spawn(async move { accounts.create_account(bearer(first_try)).await });
    let deadline = Instant::now() + Duration::from_secs(20);
    // The panel made the account and holds its answer back: kill now.
    while !panel.holds("crash") {
        assert!(
            Instant::now() < deadline,
            "the create did not reach the panel"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.sigkill();
    let killed = Instant::now();
    assert!(
        in_flight.await.expect("call task").is_err(),
        "the killed call got no reply"
    );
    panel.faults().clear();

    let second = Gateway::start_in(dir.path(), "1s");
    let mut accounts = AccountServiceClient::new(second.channel().await);
    let created = loop {
        match accounts.create_account(bearer(request())).await {
            Ok(reply) => break reply.into_inner(),
            Err(status) if status.code() == tonic::Code::Aborted => {
                assert!(killed.elapsed() < Duration::from_secs(60), "{status:?}");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(status) => panic!("the retry failed: {status:?}"),
        }
    };
    let took = killed.elapsed();
    eprintln!("{kind:?}: the retry completed {took:?} after the kill");
    assert!(took < Duration::from_secs(60), "{took:?}");
    assert_eq!(created.account.expect("account").username, "crash");
    assert!(
        panel.made_once("crash"),
        "the panel holds the account, made once"
    );
}

#[tokio::test]
async fn sigkill_then_retry_on_admin_api() {
    a_retry_after_sigkill_completes_within_a_minute(PanelKind::AdminApi).await;
}

#[tokio::test]
async fn sigkill_then_retry_on_openadmin() {
    a_retry_after_sigkill_completes_within_a_minute(PanelKind::Openadmin).await;
}

#[tokio::test]
async fn sigkill_then_retry_on_spanel() {
    a_retry_after_sigkill_completes_within_a_minute(PanelKind::Spanel).await;
}

#[tokio::test]
async fn sigkill_then_retry_on_installatron() {
    a_retry_after_sigkill_completes_within_a_minute(PanelKind::Installatron).await;
}
