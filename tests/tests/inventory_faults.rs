//! The inventory's own faults, seen for what they are: a SQLite database
//! deleted under a running gateway turns health NOT_SERVING and mutations
//! UNAVAILABLE (instead of writing where nothing will be found); a
//! PostgreSQL server going down is known within two seconds, after which
//! calls needing it fail within one, and coming back is seen on its own.

use std::time::{Duration, Instant};

use panelgate_proto::v1::{
    CreateAccountRequest, GetAccountRequest, SuspendAccountRequest,
    account_service_client::AccountServiceClient,
};
use panelgate_tests::{
    AdminApiFixture, Gateway, PanelFixture,
    errors::assert_error,
    gateway::{self, Authed, by_name},
    postgres::OwnPostgres,
};
use tonic::Code;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

/// How long health may take to see the inventory change.
const HEALTH_WITHIN: Duration = Duration::from_secs(2);
/// How long a call needing a database known to be down may take.
const FAIL_WITHIN: Duration = Duration::from_secs(1);

/// Waits for the whole server's health to be `wanted`; how long it took.
async fn health_turns(gateway: &Gateway, wanted: ServingStatus, within: Duration) -> Duration {
    let started = Instant::now();
    let mut health = HealthClient::new(gateway.channel());
    loop {
        let status = health
            .check(HealthCheckRequest {
                service: String::new(),
            })
            .await
            .expect("health answers")
            .into_inner()
            .status();
        if status == wanted {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < within,
            "health still {status:?} after {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Registers a simulated admin_api panel as `ols` with account `keep`.
async fn server_with_an_account(gateway: &Gateway, fixture: &AdminApiFixture) {
    fixture.register(gateway, "ols").await;
    gateway
        .accounts()
        .create_account(CreateAccountRequest {
            target: by_name("ols"),
            username: "keep".into(),
            primary_domain: "keep.example".into(),
            email: "keep@mail.example".into(),
            password: "keep-password-1".into(),
            package: "Basic".into(),
            ..Default::default()
        })
        .await
        .expect("create an account");
}

fn suspend_keep() -> SuspendAccountRequest {
    SuspendAccountRequest {
        target: by_name("ols"),
        username: "keep".into(),
        ..Default::default()
    }
}

/// The SQLite file's directory is deleted under a running gateway: health
/// turns NOT_SERVING within two seconds, and a mutation is UNAVAILABLE
/// INVENTORY_UNAVAILABLE at once, without reaching the panel.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_sqlite_database_is_seen() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let data = dir.path().join("data");
    std::fs::create_dir(&data).expect("the database's directory");
    let url = format!("sqlite://{}", data.join("inventory.db").display());
    let running = gateway::start(gateway::test_config(&url)).await;
    let gateway = running.gateway(&url);
    let fixture = AdminApiFixture::start().await;
    server_with_an_account(&gateway, &fixture).await;
    health_turns(&gateway, ServingStatus::Serving, HEALTH_WITHIN).await;

    std::fs::remove_dir_all(&data).expect("delete the database's directory");
    let took = health_turns(&gateway, ServingStatus::NotServing, HEALTH_WITHIN).await;
    eprintln!("NOT_SERVING {took:?} after the deletion");
    let before = fixture.requests();
    let started = Instant::now();
    let refused = gateway.accounts().suspend_account(suspend_keep()).await;
    assert_error(refused, Code::Unavailable, "INVENTORY_UNAVAILABLE");
    assert!(started.elapsed() < FAIL_WITHIN, "{:?}", started.elapsed());
    assert_eq!(fixture.requests(), before, "the panel heard nothing");
    assert!(!fixture.is_suspended("keep"));
    running.stop().await;
}

/// A PostgreSQL server of the test's own is stopped under a running
/// gateway: health turns NOT_SERVING within two seconds; then a mutation
/// and a call routed by the account index each fail within one second with
/// UNAVAILABLE INVENTORY_UNAVAILABLE. Started again, the server is seen
/// SERVING again and calls work, with no restart of the gateway.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_postgresql_is_known_fast_and_comes_back() {
    let Some(postgres) = OwnPostgres::start() else {
        return;
    };
    let url = postgres.url();
    let running = gateway::start(gateway::test_config(&url)).await;
    let gateway = running.gateway(&url);
    let fixture = AdminApiFixture::start().await;
    server_with_an_account(&gateway, &fixture).await;
    health_turns(&gateway, ServingStatus::Serving, HEALTH_WITHIN).await;

    postgres.stop();
    let took = health_turns(&gateway, ServingStatus::NotServing, HEALTH_WITHIN).await;
    eprintln!("NOT_SERVING {took:?} after PostgreSQL stopped");
    let mut accounts: AccountServiceClient<Authed> = gateway.accounts();
    let started = Instant::now();
    let refused = accounts.suspend_account(suspend_keep()).await;
    assert_error(refused, Code::Unavailable, "INVENTORY_UNAVAILABLE");
    let suspend_took = started.elapsed();
    let started = Instant::now();
    let routed = accounts
        .get_account(GetAccountRequest {
            target: None,
            username: "keep".into(),
        })
        .await;
    assert_error(routed, Code::Unavailable, "INVENTORY_UNAVAILABLE");
    let get_took = started.elapsed();
    eprintln!("calls failed in {suspend_took:?} and {get_took:?}");
    assert!(suspend_took < FAIL_WITHIN && get_took < FAIL_WITHIN);

    postgres.start_again();
    health_turns(&gateway, ServingStatus::Serving, Duration::from_secs(10)).await;
    accounts
        .suspend_account(suspend_keep())
        .await
        .expect("calls work again");
    assert!(fixture.is_suspended("keep"));
    running.stop().await;
}
