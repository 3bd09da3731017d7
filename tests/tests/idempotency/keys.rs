//! Request ids: bound to one request of one caller, untouched by
//! validate_only, refused when malformed, forgotten after the retention.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use panelgate::{
    Config,
    auth::{Auth, scopes},
};
use panelgate_inventory::{Keyring, MasterKey};
use panelgate_proto::v1::{
    CreateAccountRequest, ListOperationsRequest, OperationEntry, SuspendAccountRequest,
    UnsuspendAccountRequest, account_service_client::AccountServiceClient,
    operation_service_client::OperationServiceClient,
};
use panelgate_tests::{
    Backend,
    errors::{assert_error, assert_invalid},
    gateway::{Authed, Bearer, TEST_CALLER, TEST_UPSTREAM_TIMEOUT, start, test_tokens},
};
use prost::Message;
use tonic::{Code, service::interceptor::InterceptedService};

use crate::{
    CREATE, SPANEL_CREATE, Sp, assert_same_status, create_request, eventually, journal, only_entry,
};

panelgate_tests::on_both_backends!(
    workers = 4;
    request_id_reused_for_another_request_is_refused,
    callers_have_separate_request_id_spaces,
    validate_only_does_not_consume_the_request_id,
    malformed_request_id_is_invalid_argument,
    idempotency_retention_forgets_request_ids,
);

/// A request_id already used by the caller for a different request is
/// FAILED_PRECONDITION `REQUEST_ID_REUSED` before any panel call: another
/// account, one changed field, another RPC, and even another RPC whose
/// request encodes to the very same bytes (SuspendAccount without a reason
/// and UnsuspendAccount).
async fn request_id_reused_for_another_request_is_refused(backend: Backend) {
    Sp::on(backend, |env| async move {
        const KEY: &str = "key-4d2c";
        env.create_account_reply(create_request(&env, "alice", "basic", KEY))
            .await
            .expect("create alice");
        let requests = env.sim.request_count();

        let bob = env
            .create_account_reply(create_request(&env, "bob", "basic", KEY))
            .await;
        assert_error(bob, Code::FailedPrecondition, "REQUEST_ID_REUSED");
        let other_password = CreateAccountRequest {
            password: "second-password-2".to_owned(),
            ..create_request(&env, "alice", "basic", KEY)
        };
        let changed = env.create_account_reply(other_password).await;
        assert_error(changed, Code::FailedPrecondition, "REQUEST_ID_REUSED");
        let suspend = env
            .gateway
            .accounts()
            .suspend_account(SuspendAccountRequest {
                target: env.target(),
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
            target: env.target(),
            username: "alice".to_owned(),
            request_id: "key-9a31".to_owned(),
            ..Default::default()
        };
        let unsuspend = UnsuspendAccountRequest {
            target: env.target(),
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
        assert_eq!(journal(&env.gateway, CREATE).await.len(), 1);
        assert!(
            journal(&env.gateway, "AccountService/UnsuspendAccount")
                .await
                .is_empty()
        );
    })
    .await;
}

/// Request ids are per caller: another caller (token `sub` "billing") sending
/// the same request with the same request_id runs its own call (the panel
/// answers ALREADY_EXISTS), and each caller's retry then replays its own
/// outcome without a panel call.
async fn callers_have_separate_request_id_spaces(backend: Backend) {
    Sp::on(backend, |env| async move {
        const KEY: &str = "shared-key-77";
        let request = create_request(&env, "alice", "basic", KEY);
        let ours = env
            .create_account_reply(request.clone())
            .await
            .expect("create alice");
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
        let ours_again = env.create_account_reply(request).await.expect("our replay");
        assert_eq!(ours_again.encode_to_vec(), ours.encode_to_vec());
        assert_eq!(
            env.sim.request_count(),
            requests,
            "a replay called the panel"
        );

        let mut callers: Vec<_> = journal(&env.gateway, CREATE)
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
    })
    .await;
}

/// A validate_only call with a request_id is not journalled and does not
/// claim the id: the real call with the same request_id then runs (if the
/// check had claimed it, the real call, whose bytes differ, would be
/// REQUEST_ID_REUSED), and another check afterwards is still just a check.
async fn validate_only_does_not_consume_the_request_id(backend: Backend) {
    Sp::on(backend, |env| async move {
        env.list_packages().await;
        const KEY: &str = "create-alice-checked";
        let check = CreateAccountRequest {
            validate_only: true,
            ..create_request(&env, "alice", "basic", KEY)
        };
        let mark = env.mark();
        let checked = env
            .create_account_reply(check.clone())
            .await
            .expect("validate_only");
        assert!(checked.account.is_none());
        assert!(checked.validation.is_some());
        assert!(
            env.actions_since(mark).is_empty(),
            "a check created something"
        );
        assert!(
            journal(&env.gateway, CREATE).await.is_empty(),
            "the check was journalled"
        );

        let created = env
            .create_account_reply(create_request(&env, "alice", "basic", KEY))
            .await
            .expect("the real call");
        assert_eq!(created.account.expect("account").username, "alice");
        assert_eq!(env.actions_since(mark), SPANEL_CREATE);

        let checked = env
            .create_account_reply(check)
            .await
            .expect("validate_only again");
        assert!(checked.account.is_none());
        let entry = only_entry(&env.gateway, CREATE).await;
        assert_eq!(
            (entry.request_id.as_str(), entry.code.as_str()),
            (KEY, "OK")
        );
    })
    .await;
}

/// A malformed request_id (a space, a tab, a non-ASCII letter, 129 or 200
/// characters) is INVALID_ARGUMENT naming `request_id`, on any mutating RPC,
/// before any panel call and without a journal entry; 128 printable
/// characters are accepted.
async fn malformed_request_id_is_invalid_argument(backend: Backend) {
    Sp::on(backend, |env| async move {
        let requests = env.sim.request_count();
        for bad in [
            "with space".to_owned(),
            "tab\there".to_owned(),
            "naïve".to_owned(),
            "k".repeat(129),
            "k".repeat(200),
        ] {
            let created = env
                .create_account_reply(create_request(&env, "alice", "basic", &bad))
                .await;
            assert_invalid(created, "request_id");
            let suspended = env
                .gateway
                .accounts()
                .suspend_account(SuspendAccountRequest {
                    target: env.target(),
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
        assert!(journal(&env.gateway, CREATE).await.is_empty());
        assert!(
            journal(&env.gateway, "AccountService/SuspendAccount")
                .await
                .is_empty()
        );

        let longest = "k".repeat(128);
        env.create_account_reply(create_request(&env, "alice", "basic", &longest))
            .await
            .expect("128 characters");
        assert_eq!(only_entry(&env.gateway, CREATE).await.request_id, longest);
    })
    .await;
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

/// `idempotency_retention`: a replica started with a tiny retention on a
/// database holding a finished keyed call forgets the key when it starts
/// (the entry stays, without its request_id); the same request with the
/// same request_id then runs again (the panel is asked and refuses the
/// duplicate) instead of being replayed.
async fn idempotency_retention_forgets_request_ids(backend: Backend) {
    let keyring = Keyring::new(MasterKey::generate().expect("master key"));
    let shared = keyring.clone();
    let configure = move |config: &mut Config| config.keyring = Some(shared);
    Sp::run_on(backend, Default::default(), configure, |env| async move {
        const KEY: &str = "create-alice-kept";
        let request = create_request(&env, "alice", "basic", KEY);
        env.create_account_reply(request.clone())
            .await
            .expect("create alice");
        // The first gateway (24 h retention) replays it.
        let mark = env.mark();
        env.create_account_reply(request.clone())
            .await
            .expect("replay");
        assert!(env.actions_since(mark).is_empty());

        let mut config = Config::new(env.gateway.database_url.clone());
        config.keyring = Some(keyring);
        config.outbound.timeouts.set_each(TEST_UPSTREAM_TIMEOUT);
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
        let keys: Vec<_> = journal(&env.gateway, CREATE)
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
