//! Two `panelgate serve` processes, A and B, on one PostgreSQL database, as
//! the Helm chart runs them: a change made through A is acted on by B at
//! once where it decides safety (server state, existence), and within a
//! second where B caches (credentials, package lists), also when B's
//! listener connection was killed and the change was announced while it
//! was paused; a create whose server is deleted meanwhile is reported, not
//! left unindexed in silence; concurrent creates never overfill a server;
//! the periodic sync runs once per interval, whichever replica starts it.
//! Every check waits far less than the caches' TTLs (30 s for servers,
//! 5 min for package lists), so only the change notifications (or reads of
//! the database) can pass it.

use std::time::{Duration, Instant};

use panelgate_inventory::testing::{DATABASE_URL_ENV, TestDatabase};
use panelgate_proto::v1::{
    CheckServerRequest, CreateAccountRequest, CreatePackageRequest, Credentials,
    DeleteServerRequest, GetAccountRequest, ListOperationsRequest, ListPackagesRequest,
    PackageLimits, PanelKind, PasswordCredentials, Placement, ServerState, Target,
    UpdateServerRequest, account_service_client::AccountServiceClient, credentials,
    inventory_service_client::InventoryServiceClient,
    operation_service_client::OperationServiceClient, package_service_client::PackageServiceClient,
    target,
};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use tonic::{Code, Status, transport::Channel};
use tonic_types::StatusExt;

use crate::{
    gateway::{Gateway, bearer, postgres},
    sims::{SERVER, SimPanel},
};

/// How soon B must act on a change it caches.
const WITHIN: Duration = Duration::from_secs(1);

/// Creates B is asked for right after A's change.
const RACING_CREATES: usize = 20;

/// A and B on a fresh PostgreSQL database, with an admin_api panel
/// registered through A.
struct Replicas {
    a: Gateway,
    b: Gateway,
    a_channel: Channel,
    b_channel: Channel,
    panel: SimPanel,
    database: TestDatabase,
    /// A connection of the test's own to the PostgreSQL server, to look at
    /// and end other sessions.
    sql: DatabaseConnection,
}

impl Replicas {
    /// None (skipped) without PostgreSQL, unless CI requires it.
    async fn start() -> Option<Self> {
        Replicas::start_with(&[]).await
    }

    /// [`Replicas::start`], both processes with more `serve` flags.
    async fn start_with(flags: &[&str]) -> Option<Self> {
        let database = postgres().await?;
        let a = Gateway::start_with(&database.url, "1s", flags);
        let b = Gateway::start_with(&database.url, "1s", flags);
        let (a_channel, b_channel) = (a.channel().await, b.channel().await);
        let panel = SimPanel::start(PanelKind::AdminApi).await;
        panel.register(a_channel.clone()).await;
        let server = std::env::var(DATABASE_URL_ENV).expect("the server's URL");
        let sql = Database::connect(&server)
            .await
            .expect("connect to the PostgreSQL server");
        Some(Replicas {
            a,
            b,
            a_channel,
            b_channel,
            panel,
            database,
            sql,
        })
    }

    /// Stops both processes and drops the database.
    async fn finish(self) {
        drop((self.a, self.b));
        self.sql.close().await.expect("close the test connection");
        self.database
            .drop_database()
            .await
            .expect("drop the test database");
    }

    async fn update(&self, on: &Channel, update: UpdateServerRequest) {
        InventoryServiceClient::new(on.clone())
            .update_server(bearer(UpdateServerRequest {
                target: target(),
                ..update
            }))
            .await
            .expect("update the server");
    }

    async fn set_state(&self, on: &Channel, state: ServerState) {
        let update = UpdateServerRequest {
            state: Some(state.into()),
            ..Default::default()
        };
        self.update(on, update).await;
    }

    async fn create_account(&self, on: &Channel, username: &str) -> Result<(), Status> {
        AccountServiceClient::new(on.clone())
            .create_account(bearer(self.panel.create(username)))
            .await
            .map(drop)
    }

    async fn get_account(&self, on: &Channel, username: &str) -> Result<(), Status> {
        let request = GetAccountRequest {
            target: target(),
            username: username.to_owned(),
        };
        AccountServiceClient::new(on.clone())
            .get_account(bearer(request))
            .await
            .map(drop)
    }

    async fn package_names(&self, on: &Channel) -> Result<Vec<String>, Status> {
        let request = ListPackagesRequest {
            target: target(),
            ..Default::default()
        };
        let reply = PackageServiceClient::new(on.clone())
            .list_packages(bearer(request))
            .await?;
        Ok(reply
            .into_inner()
            .packages
            .into_iter()
            .map(|package| package.name)
            .collect())
    }

    /// Makes B route to the server, caching its record as it is now: an
    /// account "warm" created and read through B.
    async fn warm_b(&self) {
        let b = &self.b_channel;
        self.create_account(b, "warm").await.expect("create on B");
        self.get_account(b, "warm").await.expect("read on B");
    }

    /// Waits until reads on B are refused with `why`; how long that took.
    async fn b_refuses_reads(&self, why: &str) -> Duration {
        within(
            WITHIN,
            &format!("reads on B refused with {why}"),
            || async {
                self.get_account(&self.b_channel, "warm")
                    .await
                    .is_err_and(|status| reason(&status) == why)
            },
        )
        .await
    }

    async fn delete_on_a(&self) {
        InventoryServiceClient::new(self.a_channel.clone())
            .delete_server(bearer(DeleteServerRequest {
                target: target(),
                request_id: String::new(),
            }))
            .await
            .expect("delete on A");
    }

    /// Creates on B, all started together at once, none of which may reach
    /// the panel: each refused with `code` and `reason`.
    async fn creates_on_b_are_refused(&self, prefix: &str, code: Code, why: &str) {
        let before = self.panel.request_count();
        let creates = (0..RACING_CREATES).map(|n| {
            let username = format!("{prefix}{n}");
            async move { self.create_account(&self.b_channel, &username).await }
        });
        for outcome in futures::future::join_all(creates).await {
            let status = outcome.expect_err("a create on B went through");
            assert_eq!(
                (status.code(), reason(&status).as_str()),
                (code, why),
                "{status:?}"
            );
        }
        assert_eq!(
            self.panel.request_count(),
            before,
            "a create reached the panel"
        );
    }

    /// The pid of B's change listener connection, once it is connected.
    async fn b_listener(&self) -> i32 {
        let name = format!("panelgate-changes/{}", self.b.child.id());
        let query = format!(
            "SELECT pid FROM pg_stat_activity WHERE application_name = '{name}' \
             AND query LIKE 'LISTEN%'"
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let row = self.sql.query_one_raw(statement(&query)).await;
            if let Some(row) = row.expect("read pg_stat_activity") {
                return row.try_get_by_index(0).expect("a pid");
            }
            assert!(Instant::now() < deadline, "B never listened for changes");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn sql(&self, query: &str) {
        self.sql
            .execute_unprepared(query)
            .await
            .unwrap_or_else(|err| panic!("{query}: {err}"));
    }
}

/// The panel, by name.
fn target() -> Option<Target> {
    Some(Target {
        server: Some(target::Server::ServerName(SERVER.to_owned())),
    })
}

fn statement(sql: &str) -> sea_orm::Statement {
    sea_orm::Statement::from_string(sea_orm::DbBackend::Postgres, sql)
}

fn reason(status: &Status) -> String {
    status
        .get_details_error_info()
        .map(|info| info.reason)
        .unwrap_or_default()
}

/// Runs `body` on fresh [`Replicas`] (skipped without PostgreSQL), then
/// stops them.
async fn with_replicas(body: impl AsyncFnOnce(&Replicas)) {
    let Some(replicas) = Replicas::start().await else {
        return;
    };
    body(&replicas).await;
    replicas.finish().await;
}

/// Polls `check` until it holds; how long that took, failing past `within`.
async fn within<F, Fut>(within: Duration, what: &str, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let started = Instant::now();
    loop {
        if check().await {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < within,
            "{what}: not seen within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// DRAINING, then DISABLED, set on A: creates made on B right after A's
/// reply are all refused, and none reaches the panel, although B had just
/// routed a create to the server (its record cached as ACTIVE).
#[tokio::test]
async fn draining_and_disabled_refuse_creates_on_the_other_replica_at_once() {
    with_replicas(async |replicas| {
        let a = &replicas.a_channel;
        replicas.warm_b().await;

        replicas.set_state(a, ServerState::Draining).await;
        replicas
            .creates_on_b_are_refused("drain", Code::FailedPrecondition, "SERVER_DRAINING")
            .await;

        replicas.set_state(a, ServerState::Disabled).await;
        replicas
            .creates_on_b_are_refused("off", Code::FailedPrecondition, "SERVER_DISABLED")
            .await;
        // Reads, which use B's cache, follow within a second.
        replicas.b_refuses_reads("SERVER_DISABLED").await;
    })
    .await;
}

/// DeleteServer on A: creates on B right after are NOT_FOUND and reach no
/// panel; B's reads stop within a second.
#[tokio::test]
async fn a_deleted_server_stops_routing_on_the_other_replica_at_once() {
    with_replicas(async |replicas| {
        replicas.warm_b().await;
        replicas.delete_on_a().await;
        replicas
            .creates_on_b_are_refused("gone", Code::NotFound, "SERVER_NOT_FOUND")
            .await;
        replicas.b_refuses_reads("SERVER_NOT_FOUND").await;
    })
    .await;
}

/// The server is registered with a wrong password: B's calls are rejected
/// and B backs off. The right password, set through A, works on B within a
/// second, and CheckServer on B reports the stored credentials as they are
/// now.
#[tokio::test]
async fn new_credentials_work_on_the_other_replica_within_a_second() {
    with_replicas(async |replicas| {
        let (a, b) = (&replicas.a_channel, &replicas.b_channel);
        let password = |password: &str| UpdateServerRequest {
            credentials: Some(Credentials {
                kind: Some(credentials::Kind::Password(PasswordCredentials {
                    username: "admin".to_owned(),
                    password: password.to_owned(),
                })),
            }),
            ..Default::default()
        };
        replicas.update(a, password("the-old-password")).await;
        let rejected = replicas.package_names(b).await.expect_err("wrong password");
        assert_eq!(
            reason(&rejected),
            "PANEL_CREDENTIALS_REJECTED",
            "{rejected:?}"
        );
        let check = |on: Channel| async move {
            InventoryServiceClient::new(on)
                .check_server(bearer(CheckServerRequest { target: target() }))
                .await
                .expect("check the server")
                .into_inner()
        };
        assert!(!check(b.clone()).await.healthy);

        let SimPanel::AdminApi(_, config) = &replicas.panel else {
            unreachable!("the replicas' panel is admin_api")
        };
        replicas.update(a, password(&config.admin_password)).await;
        let took = within(WITHIN, "new credentials on B", || async {
            replicas.package_names(b).await.is_ok()
        })
        .await;
        let checked = check(b.clone()).await;
        assert!(checked.healthy, "{checked:?}");
        eprintln!("new credentials worked on B after {took:?}");
    })
    .await;
}

/// A package created through A is listed by B within a second, although B
/// cached the list just before (for 5 minutes).
#[tokio::test]
async fn a_package_created_on_one_replica_is_listed_on_the_other_within_a_second() {
    with_replicas(async |replicas| {
        let (a, b) = (&replicas.a_channel, &replicas.b_channel);
        let before = replicas.package_names(b).await.expect("list on B");
        assert!(!before.contains(&"Fresh".to_owned()));

        PackageServiceClient::new(a.clone())
            .create_package(bearer(CreatePackageRequest {
                target: target(),
                name: "Fresh".to_owned(),
                limits: Some(PackageLimits::default()),
                ..Default::default()
            }))
            .await
            .expect("create a package on A");
        let took = within(WITHIN, "the new package on B", || async {
            replicas
                .package_names(b)
                .await
                .is_ok_and(|names| names.contains(&"Fresh".to_owned()))
        })
        .await;
        eprintln!("the package was listed on B after {took:?}");
    })
    .await;
}

/// B is paused (SIGSTOP), its listener connection killed, and A disables
/// the server: the notification goes nowhere, and B cannot listen again
/// before the change. Resumed, B reconnects on a new connection and acts on
/// the change within a second: it flushed what it cached when it listened
/// again (without that, its cache would route for another 30 s).
#[tokio::test]
async fn a_change_made_while_the_listener_was_away_is_seen_after_it_reconnects() {
    with_replicas(async |replicas| {
        let a = &replicas.a_channel;
        replicas.warm_b().await;
        let old = replicas.b_listener().await;
        replicas.b.signal("-STOP");
        replicas
            .sql(&format!("SELECT pg_terminate_backend({old})"))
            .await;
        replicas.set_state(a, ServerState::Disabled).await;
        replicas.b.signal("-CONT");

        let new = replicas.b_listener().await;
        assert_ne!(new, old, "B listens on a new connection");
        let took = replicas.b_refuses_reads("SERVER_DISABLED").await;
        eprintln!("B saw the missed change {took:?} after it listened again");
    })
    .await;
}

/// A server deleted through A while a CreateAccount on it runs on B: the
/// panel made the account, which can no longer be indexed; B answers
/// ABORTED SERVER_REMOVED naming the account, and the journal says so.
#[tokio::test]
async fn a_create_whose_server_is_deleted_meanwhile_is_reported() {
    with_replicas(async |replicas| {
        let (a, b) = (&replicas.a_channel, &replicas.b_channel);
        // B lists the packages first, so the slow panel call is the create.
        replicas.package_names(b).await.expect("list on B");
        replicas
            .panel
            .faults()
            .set_delay(Duration::from_millis(800));
        let create = replicas.create_account(b, "orphan");
        let delete = async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            replicas.delete_on_a().await;
        };
        let (created, ()) = tokio::join!(create, delete);
        let status = created.expect_err("the create cannot be indexed");
        assert_eq!(
            (status.code(), reason(&status).as_str()),
            (Code::Aborted, "SERVER_REMOVED"),
            "{status:?}"
        );
        assert!(
            status.message().contains("account `orphan` was created"),
            "{status:?}"
        );
        assert!(replicas.panel.holds("orphan"));

        let journal = OperationServiceClient::new(a.clone())
            .list_operations(bearer(ListOperationsRequest {
                method: "AccountService/CreateAccount".to_owned(),
                ..Default::default()
            }))
            .await
            .expect("list the journal")
            .into_inner()
            .operations;
        let [entry] = journal.as_slice() else {
            panic!("one CreateAccount in the journal: {journal:?}")
        };
        assert_eq!(entry.code, "ABORTED");
        assert!(
            entry.error_message.contains("`orphan` was created"),
            "{entry:?}"
        );
    })
    .await;
}

/// 200 creates at once, half through A and half through B, on a server of
/// 50 slots: exactly 50 accounts are made, the other 150 are
/// RESOURCE_EXHAUSTED SERVER_FULL, and the index agrees with the panel.
#[tokio::test]
async fn concurrent_creates_on_two_replicas_never_overfill_a_server() {
    with_replicas(async |replicas| {
        let (a, b) = (&replicas.a_channel, &replicas.b_channel);
        let cap = UpdateServerRequest {
            max_accounts: Some(50),
            ..Default::default()
        };
        replicas.update(a, cap).await;
        let creates = (0..200).map(|n| async move {
            let on = if n % 2 == 0 { a } else { b };
            replicas.create_account(on, &format!("fill{n}")).await
        });
        let outcomes = futures::future::join_all(creates).await;
        let mut made = 0;
        for outcome in outcomes {
            match outcome {
                Ok(()) => made += 1,
                Err(status) => assert_eq!(
                    (status.code(), reason(&status).as_str()),
                    (Code::ResourceExhausted, "SERVER_FULL"),
                    "{status:?}"
                ),
            }
        }
        assert_eq!(made, 50);
        let mut on_panel = 0;
        for n in 0..200 {
            let username = format!("fill{n}");
            let held = replicas.panel.holds(&username);
            // Without a target, the call is routed by the index alone.
            let request = GetAccountRequest {
                target: None,
                username: username.clone(),
            };
            let indexed = AccountServiceClient::new(a.clone())
                .get_account(bearer(request))
                .await
                .is_ok();
            assert_eq!(
                held, indexed,
                "{username}: on the panel {held}, indexed {indexed}"
            );
            on_panel += usize::from(held);
        }
        assert_eq!(on_panel, 50, "the panel holds what was answered OK");
    })
    .await;
}

/// 200 placed creates at once, half through A and half through B, into
/// three servers of group `fill` with caps 10, 15 and 25: exactly 50
/// accounts are made, each server holds its cap, the other 150 are
/// RESOURCE_EXHAUSTED NO_SERVER_AVAILABLE, and the index agrees with the
/// panels.
#[tokio::test]
async fn concurrent_placed_creates_on_two_replicas_fill_the_group_exactly() {
    with_replicas(async |replicas| {
        let (a, b) = (&replicas.a_channel, &replicas.b_channel);
        let mut panels = Vec::new();
        for (n, cap) in [10, 15, 25].into_iter().enumerate() {
            let panel = SimPanel::start(PanelKind::AdminApi).await;
            let mut registration = panel.registration();
            if let Some(server) = registration.server.as_mut() {
                server.name = format!("fill-{n}");
                server.group = "fill".to_owned();
                server.max_accounts = cap;
            }
            InventoryServiceClient::new(a.clone())
                .register_server(bearer(registration))
                .await
                .expect("register");
            panels.push((panel, cap));
        }
        let placed = |username: String| CreateAccountRequest {
            target: None,
            placement: Some(Placement {
                group: "fill".to_owned(),
                ..Default::default()
            }),
            ..replicas.panel.create(&username)
        };
        let creates = (0..200).map(|n| async move {
            let on = if n % 2 == 0 { a } else { b };
            AccountServiceClient::new(on.clone())
                .create_account(bearer(placed(format!("placed{n}"))))
                .await
                .map(drop)
        });
        let mut made = 0;
        for outcome in futures::future::join_all(creates).await {
            match outcome {
                Ok(()) => made += 1,
                Err(status) => assert_eq!(
                    (status.code(), reason(&status).as_str()),
                    (Code::ResourceExhausted, "NO_SERVER_AVAILABLE"),
                    "{status:?}"
                ),
            }
        }
        assert_eq!(made, 50);
        for (panel, cap) in &panels {
            let held = (0..200)
                .filter(|n| panel.holds(&format!("placed{n}")))
                .count();
            assert_eq!(held, *cap as usize, "a server holds its cap");
        }
        for n in 0..200 {
            let username = format!("placed{n}");
            let on_a_panel = panels.iter().any(|(panel, _)| panel.holds(&username));
            let request = GetAccountRequest {
                target: None,
                username: username.clone(),
            };
            let indexed = AccountServiceClient::new(b.clone())
                .get_account(bearer(request))
                .await
                .is_ok();
            assert_eq!(on_a_panel, indexed, "{username}: panel and index disagree");
        }
    })
    .await;
}

/// Both replicas run the periodic sync every second: each interval's run is
/// started by one of them only (the other finds it recorded), and the runs
/// confirm the server and its accounts.
#[tokio::test]
async fn the_periodic_sync_runs_once_per_interval_across_replicas() {
    let Some(mut replicas) = Replicas::start_with(&["--sync-interval", "1s"]).await else {
        return;
    };
    let a = replicas.a_channel.clone();
    replicas
        .create_account(&a, "synced1")
        .await
        .expect("created");
    let db = Database::connect(&replicas.database.url)
        .await
        .expect("connect to the test database");
    let count = async |query: &str| -> i64 {
        let row = db.query_one_raw(statement(query)).await.expect(query);
        row.expect("a row").try_get_by_index(0).expect("a count")
    };
    let done = "SELECT count(*) FROM sync_runs WHERE state = 'done'";
    within(Duration::from_secs(15), "three periodic runs", async || {
        count(done).await >= 3
    })
    .await;
    let started = |gateway: &mut Gateway| {
        let lines = gateway.lines();
        lines
            .iter()
            .filter(|line| line.contains("sync run started"))
            .count()
    };
    // The starts logged so far, then the runs recorded (by then, or since).
    let starts = started(&mut replicas.a) + started(&mut replicas.b);
    let runs = count("SELECT count(*) FROM sync_runs WHERE caller = 'scheduler'").await;
    let keys = count("SELECT count(DISTINCT run_key) FROM sync_runs").await;
    assert_eq!(runs, keys, "one run per interval");
    let starts = i64::try_from(starts).expect("a count");
    assert!(
        (3..=runs).contains(&starts),
        "{starts} starts logged for {runs} runs: a run was started twice"
    );
    let synced = "SELECT count(*) FROM servers WHERE last_sync_outcome = 'ok'";
    assert_eq!(count(synced).await, 1, "the server's sync is recorded");
    let missing = "SELECT count(*) FROM accounts WHERE username = 'synced1' AND NOT missing";
    assert_eq!(count(missing).await, 1, "its account confirmed");
    db.close().await.expect("close");
    replicas.finish().await;
}
