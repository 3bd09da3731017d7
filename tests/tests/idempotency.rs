//! Idempotent mutations (AIP-155) end to end: the real gateway over real gRPC,
//! simulated panels over real HTTP, the journal on a real SQLite file and a real
//! PostgreSQL database (every scenario runs on both).
//!
//! Most scenarios run in front of the SPanel simulator, because it logs every
//! body that reaches `api.php` with its action (`sim.received()`): a create is
//! `accounts/wwwacct` then `accounts/changeuseremail`, an existence check is
//! `accounts/listaccounts`, so "the panel was not called" and "the panel was
//! asked once" are checked action by action. Scenarios where the panel acts but
//! its answer never arrives (timeouts, cancelled callers) run in front of the
//! admin_api simulator, whose create is a single `add_user` request; there the
//! simulator's HTTP request count is exact.
//!
//! The simulators' injected delay holds an answer back *after* the panel has
//! handled the request (`sim/src/faults/mod.rs`, `front_door`): a call that
//! times out or is abandoned has still made its change on the panel.

use std::{
    future::Future,
    sync::Arc,
    time::{Duration, Instant},
};

use panelgate::{
    Config,
    auth::{Auth, scopes},
};
use panelgate_inventory::{Keyring, MasterKey};
use panelgate_proto::v1::{
    CreateAccountRequest, CreateAccountResponse, DeleteAccountRequest, ListOperationsRequest,
    ListPackagesRequest, OperationEntry, SuspendAccountRequest, UnsuspendAccountRequest,
    account_service_client::AccountServiceClient, operation_service_client::OperationServiceClient,
};
use panelgate_sim::{AdminApiSim, Fault, SpanelSim};
use panelgate_tests::{
    AdminApiFixture, Backend, Gateway, PanelFixture, SpanelFixture,
    errors::{assert_error, assert_invalid},
    gateway::{Authed, Bearer, TEST_CALLER, TEST_UPSTREAM_TIMEOUT, by_name, start, test_tokens},
    with_gateway,
};
use prost::Message;
use tokio::sync::Barrier;
use tonic::{Code, Status, service::interceptor::InterceptedService};
use tonic_types::StatusExt;

panelgate_tests::on_both_backends!(
    workers = 4;
    hundred_concurrent_retries_make_one_account_and_identical_replies,
    later_retry_replays_the_stored_reply_without_calling_the_panel,
    request_id_reused_for_another_request_is_refused,
    callers_have_separate_request_id_spaces,
    retry_while_the_first_call_runs_waits_for_its_reply,
    retry_gives_up_waiting_with_aborted_request_in_progress,
    failed_outcome_is_replayed_with_the_same_status,
    retryable_failure_is_not_replayed,
    timed_out_create_is_not_repeated_by_its_retry,
    abandoned_create_is_not_repeated_by_its_retry,
    validate_only_does_not_consume_the_request_id,
    malformed_request_id_is_invalid_argument,
    idempotency_retention_forgets_request_ids,
    timed_out_multi_step_create_is_completed_by_its_retry,
    retry_after_unavailable_does_not_adopt_someone_elses_account,
    identical_retries_with_a_map_field_are_replayed,
);

// === setup ===

/// The name the simulator is registered under.
const SERVER: &str = "panel";
/// The journal's name of CreateAccount.
const CREATE: &str = "AccountService/CreateAccount";
/// The actions of one SPanel create, after the package list is cached.
const SPANEL_CREATE: [&str; 2] = ["accounts/wwwacct", "accounts/changeuseremail"];

/// A gateway with one simulator registered as [`SERVER`].
struct Env<S> {
    gateway: Gateway,
    sim: S,
    /// The server id of [`SERVER`].
    id: String,
}

/// Runs `body` with a fresh SPanel simulator (packages `basic` and `pro`)
/// registered on a fresh gateway on `backend`.
async fn with_spanel<F, Fut>(backend: Backend, configure: impl FnOnce(&mut Config), body: F)
where
    F: FnOnce(Env<SpanelSim>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let fixture = SpanelFixture::start().await;
    with_gateway(backend, configure, move |gateway| async move {
        let id = fixture.register(&gateway, SERVER).await;
        let sim = fixture.sim.clone();
        body(Env { gateway, sim, id }).await;
    })
    .await;
}

/// Runs `body` with a fresh admin_api simulator (packages `Basic` and
/// `Premium`) registered on a fresh gateway on `backend`.
async fn with_admin_api<F, Fut>(backend: Backend, configure: impl FnOnce(&mut Config), body: F)
where
    F: FnOnce(Env<AdminApiSim>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let fixture = AdminApiFixture::start().await;
    with_gateway(backend, configure, move |gateway| async move {
        let id = fixture.register(&gateway, SERVER).await;
        let sim = fixture.sim.clone();
        body(Env { gateway, sim, id }).await;
    })
    .await;
}

impl<S> Env<S> {
    /// Lists the server's packages, so that the package list is cached and a
    /// create's panel traffic is the create itself.
    async fn warm_package_cache(&self) {
        self.gateway
            .packages()
            .list_packages(ListPackagesRequest {
                target: by_name(SERVER),
                ..Default::default()
            })
            .await
            .expect("list packages");
    }

    async fn create(&self, request: CreateAccountRequest) -> Result<CreateAccountResponse, Status> {
        self.gateway
            .accounts()
            .create_account(request)
            .await
            .map(tonic::Response::into_inner)
    }

    /// The journal entries of `method`, newest first.
    async fn journal(&self, method: &str) -> Vec<OperationEntry> {
        journal(&self.gateway, method).await
    }

    /// The only journal entry of `method`.
    async fn only_entry(&self, method: &str) -> OperationEntry {
        let mut entries = self.journal(method).await;
        assert_eq!(entries.len(), 1, "{method} entries: {entries:#?}");
        entries.remove(0)
    }
}

impl Env<SpanelSim> {
    /// How many bodies have reached `api.php` so far.
    fn mark(&self) -> usize {
        self.sim.received().len()
    }

    /// The actions that reached `api.php` after `mark`.
    fn actions_since(&self, mark: usize) -> Vec<String> {
        self.sim.received()[mark..]
            .iter()
            .map(|request| request.action.clone())
            .collect()
    }
}

/// The journal entries of `method` on `gateway`, newest first.
async fn journal(gateway: &Gateway, method: &str) -> Vec<OperationEntry> {
    gateway
        .operations()
        .list_operations(ListOperationsRequest {
            method: method.to_owned(),
            ..Default::default()
        })
        .await
        .expect("list operations")
        .into_inner()
        .operations
}

/// The only entry of `method` once it is done.
async fn finished_entry(gateway: &Gateway, method: &str) -> Option<OperationEntry> {
    let mut entries = journal(gateway, method).await;
    assert_eq!(entries.len(), 1, "{method} entries: {entries:#?}");
    let entry = entries.remove(0);
    entry.done.then_some(entry)
}

/// The only CreateAccount entry `operations` lists, once its request_id is
/// forgotten.
async fn forgotten_entry(mut operations: OperationServiceClient<Authed>) -> Option<OperationEntry> {
    let mut entries = operations
        .list_operations(ListOperationsRequest {
            method: CREATE.to_owned(),
            ..Default::default()
        })
        .await
        .expect("list operations on the replica")
        .into_inner()
        .operations;
    assert_eq!(entries.len(), 1, "entries: {entries:#?}");
    let entry = entries.remove(0);
    entry.request_id.is_empty().then_some(entry)
}

/// CreateAccount of `username` (domain `<username>.example`, email
/// `<username>@mail.example`) on [`SERVER`] with `package` and `request_id`.
fn create_request(username: &str, package: &str, request_id: &str) -> CreateAccountRequest {
    CreateAccountRequest {
        target: by_name(SERVER),
        username: username.to_owned(),
        primary_domain: format!("{username}.example"),
        email: format!("{username}@mail.example"),
        password: "first-password-1".to_owned(),
        package: package.to_owned(),
        request_id: request_id.to_owned(),
        ..Default::default()
    }
}

/// Evaluates `$probe` (an `Option`, `.await` allowed) every 20 ms until it is
/// `Some`, for at most 10 s; yields what it found.
macro_rules! eventually {
    ($what:expr, $probe:expr) => {{
        let give_up = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(found) = $probe {
                break found;
            }
            assert!(Instant::now() < give_up, "timed out waiting for {}", $what);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }};
}

/// Asserts two failures are the same status: code, message and details bytes.
#[track_caller]
fn assert_same_status(replayed: &Status, first: &Status) {
    assert_eq!(replayed.code(), first.code(), "code of {replayed:?}");
    assert_eq!(
        replayed.message(),
        first.message(),
        "message of {replayed:?}"
    );
    assert_eq!(
        replayed.details(),
        first.details(),
        "details of {replayed:?}"
    );
    let info = |status: &Status| {
        status
            .get_details_error_info()
            .map(|info| (info.reason, info.domain, info.metadata))
    };
    assert!(info(first).is_some(), "ErrorInfo of {first:?}");
    assert_eq!(info(replayed), info(first), "ErrorInfo of {replayed:?}");
}

// === scenarios ===

/// The check: 100 concurrent CreateAccount calls with one request_id
/// (all released together, overlapping the first one's panel calls) make
/// exactly one account on the simulator, reach the panel with exactly one
/// create, and get 100 byte-identical replies; the journal holds one entry.
async fn hundred_concurrent_retries_make_one_account_and_identical_replies(backend: Backend) {
    with_spanel(
        backend,
        |_| {},
        |env| async move {
            const CALLS: usize = 100;
            let request = create_request("alice", "basic", "create-alice-6f0c2a");
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

            let entry = env.only_entry(CREATE).await;
            assert_eq!(entry.request_id, "create-alice-6f0c2a");
            assert_eq!(entry.code, "OK");
            assert_eq!(entry.attempts, 1);
            assert!(entry.done);
        },
    )
    .await;
}

/// A retry long after the first call returns the stored reply byte for byte
/// without any HTTP request to the panel: even after the account was deleted,
/// the replay does not create it again.
async fn later_retry_replays_the_stored_reply_without_calling_the_panel(backend: Backend) {
    with_spanel(
        backend,
        |_| {},
        |env| async move {
            let request = create_request("alice", "basic", "create-alice-1b7e");
            let first = env.create(request.clone()).await.expect("create alice");
            env.gateway
                .accounts()
                .delete_account(DeleteAccountRequest {
                    target: by_name(SERVER),
                    username: "alice".to_owned(),
                    ..Default::default()
                })
                .await
                .expect("delete alice");
            assert!(env.sim.account("alice").is_none(), "alice deleted");

            let requests = env.sim.request_count();
            let again = env.create(request).await.expect("replayed create");
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
            let entry = env.only_entry(CREATE).await;
            assert_eq!((entry.code.as_str(), entry.attempts), ("OK", 1));
        },
    )
    .await;
}

/// A request_id already used by the caller for a different request is
/// FAILED_PRECONDITION `REQUEST_ID_REUSED` before any panel call: another
/// account, one changed field, another RPC, and even another RPC whose
/// request encodes to the very same bytes (SuspendAccount without a reason
/// and UnsuspendAccount).
async fn request_id_reused_for_another_request_is_refused(backend: Backend) {
    with_spanel(
        backend,
        |_| {},
        |env| async move {
            const KEY: &str = "key-4d2c";
            env.create(create_request("alice", "basic", KEY))
                .await
                .expect("create alice");
            let requests = env.sim.request_count();

            let bob = env.create(create_request("bob", "basic", KEY)).await;
            assert_error(bob, Code::FailedPrecondition, "REQUEST_ID_REUSED");
            let other_password = CreateAccountRequest {
                password: "second-password-2".to_owned(),
                ..create_request("alice", "basic", KEY)
            };
            let changed = env.create(other_password).await;
            assert_error(changed, Code::FailedPrecondition, "REQUEST_ID_REUSED");
            let suspend = env
                .gateway
                .accounts()
                .suspend_account(SuspendAccountRequest {
                    target: by_name(SERVER),
                    username: "alice".to_owned(),
                    reason: "unpaid".to_owned(),
                    request_id: KEY.to_owned(),
                    ..Default::default()
                })
                .await;
            assert_error(suspend, Code::FailedPrecondition, "REQUEST_ID_REUSED");
            assert_eq!(
                env.sim.request_count(),
                requests,
                "a refused call reached the panel"
            );
            assert!(env.sim.account("bob").is_none());
            assert!(!env.sim.account("alice").expect("alice").suspended);

            // Same bytes, other RPC: the method is part of the key's request.
            let suspend = SuspendAccountRequest {
                target: by_name(SERVER),
                username: "alice".to_owned(),
                request_id: "key-9a31".to_owned(),
                ..Default::default()
            };
            let unsuspend = UnsuspendAccountRequest {
                target: by_name(SERVER),
                username: "alice".to_owned(),
                request_id: "key-9a31".to_owned(),
                ..Default::default()
            };
            assert_eq!(
                suspend.encode_to_vec(),
                unsuspend.encode_to_vec(),
                "premise"
            );
            env.gateway
                .accounts()
                .suspend_account(suspend)
                .await
                .expect("suspend alice");
            assert!(env.sim.account("alice").expect("alice").suspended);
            let requests = env.sim.request_count();
            let unsuspended = env.gateway.accounts().unsuspend_account(unsuspend).await;
            assert_error(unsuspended, Code::FailedPrecondition, "REQUEST_ID_REUSED");
            assert_eq!(env.sim.request_count(), requests);
            assert!(
                env.sim.account("alice").expect("alice").suspended,
                "still suspended"
            );
            // Refusals are not journalled as calls of their own.
            assert_eq!(env.journal(CREATE).await.len(), 1);
            assert!(
                env.journal("AccountService/UnsuspendAccount")
                    .await
                    .is_empty()
            );
        },
    )
    .await;
}

/// Request ids are per caller: another caller (token `sub` "billing") sending
/// the same request with the same request_id runs its own call (the panel
/// answers ALREADY_EXISTS), and each caller's retry then replays its own
/// outcome without a panel call.
async fn callers_have_separate_request_id_spaces(backend: Backend) {
    with_spanel(
        backend,
        |_| {},
        |env| async move {
            const KEY: &str = "shared-key-77";
            let request = create_request("alice", "basic", KEY);
            let ours = env.create(request.clone()).await.expect("create alice");
            let billing = env
                .gateway
                .as_caller(&env.gateway.token("billing", scopes::ALL, &[]));
            let mut theirs_client = billing.accounts();

            let mark = env.mark();
            let theirs = theirs_client.create_account(request.clone()).await;
            let theirs = assert_error(theirs, Code::AlreadyExists, "ACCOUNT_ALREADY_EXISTS");
            assert_eq!(
                env.actions_since(mark),
                ["accounts/wwwacct"],
                "billing's call ran"
            );

            let requests = env.sim.request_count();
            let theirs_again = theirs_client
                .create_account(request.clone())
                .await
                .expect_err("billing's replay");
            assert_same_status(&theirs_again, &theirs);
            let ours_again = env.create(request).await.expect("our replay");
            assert_eq!(ours_again.encode_to_vec(), ours.encode_to_vec());
            assert_eq!(
                env.sim.request_count(),
                requests,
                "a replay called the panel"
            );

            let mut callers: Vec<_> = env
                .journal(CREATE)
                .await
                .into_iter()
                .map(|entry| (entry.caller, entry.request_id, entry.code, entry.attempts))
                .collect();
            callers.sort();
            assert_eq!(
                callers,
                [
                    (
                        "billing".to_owned(),
                        KEY.to_owned(),
                        "ALREADY_EXISTS".to_owned(),
                        1
                    ),
                    (TEST_CALLER.to_owned(), KEY.to_owned(), "OK".to_owned(), 1),
                ]
            );
        },
    )
    .await;
}

/// A retry arriving while the first call is still at the panel waits for it
/// and answers with the first call's exact reply; the panel sees one create.
async fn retry_while_the_first_call_runs_waits_for_its_reply(backend: Backend) {
    with_spanel(
        backend,
        |_| {},
        |env| async move {
            env.warm_package_cache().await;
            let request = create_request("alice", "basic", "create-alice-inflight");
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
            let entry = env.only_entry(CREATE).await;
            assert_eq!((entry.code.as_str(), entry.attempts), ("OK", 1));
        },
    )
    .await;
}

/// A retry whose first call is still running after the wait limit (30 s) is
/// answered ABORTED `REQUEST_IN_PROGRESS` with a RetryInfo, without a panel
/// call; once the first caller has gone away, the next retry runs, finds the
/// account the first call made and answers OK without creating it again.
async fn retry_gives_up_waiting_with_aborted_request_in_progress(backend: Backend) {
    let configure = |config: &mut Config| {
        // Long enough for the panel to hold the first call past the wait.
        config.upstream_timeouts.request = Duration::from_secs(120);
    };
    with_admin_api(backend, configure, |env| async move {
        env.warm_package_cache().await;
        let request = create_request("alice", "Basic", "create-alice-slow");
        let requests = env.sim.request_count();
        env.sim.faults().set_delay(Duration::from_secs(60));
        let mut client = env.gateway.accounts();
        let first_request = request.clone();
        let first = tokio::spawn(async move { client.create_account(first_request).await });
        let sim = env.sim.clone();
        eventually!("the panel to create alice", sim.user("alice"));

        let started = Instant::now();
        let retry = env.create(request.clone()).await;
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
        let entry = env.only_entry(CREATE).await;
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
            .create(request)
            .await
            .expect("the retry after the abandon");
        let account = reply.account.expect("account in reply");
        assert_eq!(account.username, "alice");
        assert_eq!(account.server_id, env.id);
        assert_eq!(
            env.sim.request_count(),
            requests + 1,
            "only the existence check"
        );
        let entry = env.only_entry(CREATE).await;
        assert_eq!((entry.code.as_str(), entry.attempts), ("OK", 2));
    })
    .await;
}

/// A failed outcome that a retry cannot change (the panel's ALREADY_EXISTS)
/// is stored: the retry gets the same code, message and details (ErrorInfo
/// included) without a panel call.
async fn failed_outcome_is_replayed_with_the_same_status(backend: Backend) {
    with_spanel(
        backend,
        |_| {},
        |env| async move {
            env.create(create_request("alice", "basic", ""))
                .await
                .expect("create alice");
            let request = CreateAccountRequest {
                primary_domain: "alice-again.example".to_owned(),
                ..create_request("alice", "basic", "create-alice-twice")
            };
            let mark = env.mark();
            let first = env.create(request.clone()).await;
            let first = assert_error(first, Code::AlreadyExists, "ACCOUNT_ALREADY_EXISTS");
            assert_eq!(env.actions_since(mark), ["accounts/wwwacct"]);

            let requests = env.sim.request_count();
            let again = env.create(request).await.expect_err("replayed failure");
            assert_same_status(&again, &first);
            assert_eq!(
                env.sim.request_count(),
                requests,
                "the replay called the panel"
            );
            let entries = env.journal(CREATE).await;
            let entry = entries
                .iter()
                .find(|entry| entry.request_id == "create-alice-twice")
                .expect("entry of the key");
            assert_eq!(entry.code, "ALREADY_EXISTS");
            assert_eq!(entry.error_message, first.message());
            assert_eq!(entry.attempts, 1);
        },
    )
    .await;
}

/// A retryable outcome (the panel answered 503: UNAVAILABLE) is not replayed:
/// the retry with the same request_id runs again, first checking whether the
/// account exists (`listaccounts`), then creates it; the journal entry shows
/// 2 attempts ending OK.
async fn retryable_failure_is_not_replayed(backend: Backend) {
    with_spanel(
        backend,
        |_| {},
        |env| async move {
            env.warm_package_cache().await;
            let request = create_request("alice", "basic", "create-alice-503");
            env.sim.faults().set(Fault::Status(503));
            let failed = env.create(request.clone()).await;
            assert_error(failed, Code::Unavailable, "UPSTREAM_UNAVAILABLE");
            assert!(env.sim.account("alice").is_none());
            let entry = env.only_entry(CREATE).await;
            assert_eq!((entry.code.as_str(), entry.attempts), ("UNAVAILABLE", 1));
            assert!(entry.done);

            env.sim.faults().clear();
            let mark = env.mark();
            let reply = env.create(request.clone()).await.expect("the retry");
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
            let entry = env.only_entry(CREATE).await;
            assert_eq!(entry.code, "OK");
            assert_eq!(entry.attempts, 2);
            assert_eq!(entry.error_message, "", "the failure's message is gone");

            // Now it is final: the next retry is a replay.
            let mark = env.mark();
            env.create(request).await.expect("replay");
            assert!(env.actions_since(mark).is_empty());
        },
    )
    .await;
}

/// A create whose panel answer came after the upstream timeout (the panel did
/// create the account) is DEADLINE_EXCEEDED; its retry checks the panel
/// first, finds the account and answers OK with it, sending no second
/// create (one `account_info` request, no `add_user`).
async fn timed_out_create_is_not_repeated_by_its_retry(backend: Backend) {
    with_admin_api(
        backend,
        |_| {},
        |env| async move {
            env.warm_package_cache().await;
            let request = create_request("alice", "Basic", "create-alice-timeout");
            env.sim
                .faults()
                .set_delay(TEST_UPSTREAM_TIMEOUT + Duration::from_millis(500));
            let failed = env.create(request.clone()).await;
            assert_error(failed, Code::DeadlineExceeded, "UPSTREAM_TIMEOUT");
            assert!(env.sim.user("alice").is_some(), "the panel created alice");
            let entry = env.only_entry(CREATE).await;
            assert_eq!(
                (entry.code.as_str(), entry.attempts),
                ("DEADLINE_EXCEEDED", 1)
            );

            env.sim.faults().clear();
            let requests = env.sim.request_count();
            let reply = env.create(request.clone()).await.expect("the retry");
            let account = reply.account.expect("account in reply");
            assert_eq!(account.username, "alice");
            assert_eq!(account.server_id, env.id);
            assert_eq!(account.primary_domain, "alice.example");
            assert_eq!(
                env.sim.request_count(),
                requests + 1,
                "only the existence check"
            );
            let entry = env.only_entry(CREATE).await;
            assert_eq!((entry.code.as_str(), entry.attempts), ("OK", 2));

            let requests = env.sim.request_count();
            let replay = env.create(request).await.expect("replay");
            assert_eq!(replay.account.expect("account").username, "alice");
            assert_eq!(env.sim.request_count(), requests);
        },
    )
    .await;
}

/// A create whose caller went away while the panel was answering (the panel
/// did create the account) is journalled CANCELLED; the retry with the same
/// request_id checks first and answers OK with the account, one `add_user`
/// in all.
async fn abandoned_create_is_not_repeated_by_its_retry(backend: Backend) {
    with_admin_api(
        backend,
        |_| {},
        |env| async move {
            env.warm_package_cache().await;
            let request = create_request("alice", "Basic", "create-alice-gone");
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
            let reply = env.create(request).await.expect("the retry");
            let account = reply.account.expect("account in reply");
            assert_eq!(account.username, "alice");
            assert_eq!(account.server_id, env.id);
            assert_eq!(
                env.sim.request_count(),
                requests + 2,
                "one add_user, then only the existence check"
            );
            let entry = env.only_entry(CREATE).await;
            assert_eq!((entry.code.as_str(), entry.attempts), ("OK", 2));
        },
    )
    .await;
}

/// A validate_only call with a request_id is not journalled and does not
/// claim the id: the real call with the same request_id then runs (if the
/// check had claimed it, the real call, whose bytes differ, would be
/// REQUEST_ID_REUSED), and another check afterwards is still just a check.
async fn validate_only_does_not_consume_the_request_id(backend: Backend) {
    with_spanel(
        backend,
        |_| {},
        |env| async move {
            env.warm_package_cache().await;
            const KEY: &str = "create-alice-checked";
            let check = CreateAccountRequest {
                validate_only: true,
                ..create_request("alice", "basic", KEY)
            };
            let mark = env.mark();
            let checked = env.create(check.clone()).await.expect("validate_only");
            assert!(checked.account.is_none());
            assert!(checked.validation.is_some());
            assert!(
                env.actions_since(mark).is_empty(),
                "a check created something"
            );
            assert!(
                env.journal(CREATE).await.is_empty(),
                "the check was journalled"
            );

            let created = env
                .create(create_request("alice", "basic", KEY))
                .await
                .expect("the real call");
            assert_eq!(created.account.expect("account").username, "alice");
            assert_eq!(env.actions_since(mark), SPANEL_CREATE);

            let checked = env.create(check).await.expect("validate_only again");
            assert!(checked.account.is_none());
            let entry = env.only_entry(CREATE).await;
            assert_eq!(
                (entry.request_id.as_str(), entry.code.as_str()),
                (KEY, "OK")
            );
        },
    )
    .await;
}

/// A malformed request_id (a space, a tab, a non-ASCII letter, 129 or 200
/// characters) is INVALID_ARGUMENT naming `request_id`, on any mutating RPC,
/// before any panel call and without a journal entry; 128 printable
/// characters are accepted.
async fn malformed_request_id_is_invalid_argument(backend: Backend) {
    with_spanel(
        backend,
        |_| {},
        |env| async move {
            let requests = env.sim.request_count();
            for bad in [
                "with space".to_owned(),
                "tab\there".to_owned(),
                "naïve".to_owned(),
                "k".repeat(129),
                "k".repeat(200),
            ] {
                let created = env.create(create_request("alice", "basic", &bad)).await;
                assert_invalid(created, "request_id");
                let suspended = env
                    .gateway
                    .accounts()
                    .suspend_account(SuspendAccountRequest {
                        target: by_name(SERVER),
                        username: "alice".to_owned(),
                        request_id: bad.clone(),
                        ..Default::default()
                    })
                    .await;
                assert_invalid(suspended, "request_id");
            }
            assert_eq!(
                env.sim.request_count(),
                requests,
                "a refused call reached the panel"
            );
            assert!(env.journal(CREATE).await.is_empty());
            assert!(
                env.journal("AccountService/SuspendAccount")
                    .await
                    .is_empty()
            );

            let longest = "k".repeat(128);
            env.create(create_request("alice", "basic", &longest))
                .await
                .expect("128 characters");
            assert_eq!(env.only_entry(CREATE).await.request_id, longest);
        },
    )
    .await;
}

/// `idempotency_retention`: a replica started with a tiny retention on a
/// database holding a finished keyed call forgets the key when it starts
/// (the entry stays, without its request_id); the same request with the
/// same request_id then runs again (the panel is asked and refuses the
/// duplicate) instead of being replayed.
async fn idempotency_retention_forgets_request_ids(backend: Backend) {
    let keyring = Keyring::new(MasterKey::generate().expect("master key"));
    let shared = keyring.clone();
    let configure = move |config: &mut Config| config.keyring = Some(shared);
    with_spanel(backend, configure, |env| async move {
        const KEY: &str = "create-alice-kept";
        let request = create_request("alice", "basic", KEY);
        env.create(request.clone()).await.expect("create alice");
        // The first gateway (24 h retention) replays it.
        let mark = env.mark();
        env.create(request.clone()).await.expect("replay");
        assert!(env.actions_since(mark).is_empty());

        let mut config = Config::new(env.gateway.database_url.clone());
        config.keyring = Some(keyring);
        config.upstream_timeouts.request = TEST_UPSTREAM_TIMEOUT;
        config.auth = Some(Arc::new(Auth {
            tokens: test_tokens(),
            reflection_public: false,
        }));
        config.idempotency_retention = Duration::from_millis(1);
        let replica = start(config).await;
        let bearer = Bearer::new(&env.gateway.token(TEST_CALLER, scopes::ALL, &[]))
            .expect("a token is ASCII");
        let authed = InterceptedService::new(replica.channel.clone(), bearer);
        let operations = OperationServiceClient::new(authed.clone());
        let entry = eventually!(
            "the replica to forget the key",
            forgotten_entry(operations.clone()).await
        );
        assert_eq!(
            (entry.code.as_str(), entry.caller.as_str()),
            ("OK", TEST_CALLER)
        );

        let mark = env.mark();
        let again = AccountServiceClient::new(authed)
            .create_account(request)
            .await;
        assert_error(again, Code::AlreadyExists, "ACCOUNT_ALREADY_EXISTS");
        // The replica's package cache is its own, hence `listpackages`.
        assert_eq!(
            env.actions_since(mark),
            ["accounts/listpackages", "accounts/wwwacct"],
            "it ran again"
        );
        let keys: Vec<_> = env
            .journal(CREATE)
            .await
            .into_iter()
            .map(|entry| (entry.request_id, entry.code))
            .collect();
        assert_eq!(
            keys,
            [
                (KEY.to_owned(), "ALREADY_EXISTS".to_owned()),
                (String::new(), "OK".to_owned())
            ]
        );
        replica.stop().await;
    })
    .await;
}

// === retries of creates whose first attempt ended unknown ===

/// A multi-step create (SPanel: `wwwacct`, then `changeuseremail`) whose first
/// step timed out after the panel made the account has not set the email;
/// the retry's existence check must not take that half-made account for a
/// finished create: when it answers OK, the account has the requested email.
async fn timed_out_multi_step_create_is_completed_by_its_retry(backend: Backend) {
    with_spanel(
        backend,
        |_| {},
        |env| async move {
            env.warm_package_cache().await;
            let request = create_request("alice", "basic", "create-alice-half");
            env.sim
                .faults()
                .set_delay(TEST_UPSTREAM_TIMEOUT + Duration::from_millis(500));
            let failed = env.create(request.clone()).await;
            assert_error(failed, Code::DeadlineExceeded, "UPSTREAM_TIMEOUT");
            let alice = env.sim.account("alice").expect("wwwacct made alice");
            assert_eq!(alice.email, "", "premise: changeuseremail never ran");
            env.sim.faults().clear();

            env.create(request)
                .await
                .expect("the retry completes the half-made create");
            assert_eq!(
                env.sim.account("alice").expect("alice").email,
                "alice@mail.example",
                "the retry answered OK but alice has no email on the panel"
            );
        },
    )
    .await;
}

/// An uncertain retry must not adopt an account that existed before the
/// first attempt: the first attempt never reached the panel (503 from a
/// proxy), `alice` already existed with another domain, so the create did
/// not happen and the retry must not answer OK as if it had.
async fn retry_after_unavailable_does_not_adopt_someone_elses_account(backend: Backend) {
    with_spanel(
        backend,
        |_| {},
        |env| async move {
            env.warm_package_cache().await;
            let existing = CreateAccountRequest {
                primary_domain: "someone-else.example".to_owned(),
                ..create_request("alice", "pro", "")
            };
            env.create(existing).await.expect("the existing alice");
            let request = create_request("alice", "basic", "create-alice-adopt");
            env.sim.faults().set(Fault::Status(503));
            let failed = env.create(request.clone()).await;
            assert_error(failed, Code::Unavailable, "UPSTREAM_UNAVAILABLE");
            env.sim.faults().clear();

            let retried = env.create(request).await;
            assert_error(retried, Code::AlreadyExists, "ACCOUNT_ALREADY_EXISTS");
        },
    )
    .await;
}

/// Requests with map fields (server labels) digest the same on every retry:
/// maps are encoded in key order, so ten identical UpdateServer retries with
/// several labels are all replays of the first, never REQUEST_ID_REUSED.
async fn identical_retries_with_a_map_field_are_replayed(backend: Backend) {
    with_spanel(
        backend,
        |_| {},
        |env| async move {
            let labels: std::collections::BTreeMap<String, String> = [
                ("tier", "gold"),
                ("region", "eu"),
                ("rack", "r7"),
                ("owner", "ops"),
            ]
            .map(|(key, value)| (key.to_owned(), value.to_owned()))
            .into();
            let update = panelgate_proto::v1::UpdateServerRequest {
                target: by_name(SERVER),
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
            let entry = env.only_entry("InventoryService/UpdateServer").await;
            assert_eq!(entry.attempts, 1, "{entry:?}");
        },
    )
    .await;
}
