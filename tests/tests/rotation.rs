//! Master-key rotation end to end: gateways, the `panelgate rotate-key`
//! command (run in-process through `panelgate::cli::run`, exactly what the
//! binary runs) and simulated panels on one inventory database, SQLite and
//! PostgreSQL. A gateway holding the new key as primary and the old one as
//! previous keeps serving while rotate-key re-seals; afterwards the new key
//! alone reads every credential and replays every stored reply, the old key
//! alone reads nothing (CREDENTIALS_UNREADABLE), a second run has nothing to
//! do, and a run missing the key the data was sealed with names that key's id
//! without quoting any key. On SQLite the file holds no key and no password.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use base64::{Engine as _, engine::general_purpose::STANDARD};
use clap::Parser;
use panelgate::{
    Config,
    auth::{Auth, scopes},
    cli::{Cli, run},
};
use panelgate_inventory::{Keyring, MasterKey};
use panelgate_proto::v1::{
    ChangePasswordRequest, CheckServerRequest, CreateAccountRequest, CreateAccountResponse,
    GetAccountRequest, ListPackagesRequest, account_service_client::AccountServiceClient,
    inventory_service_client::InventoryServiceClient, package_service_client::PackageServiceClient,
};
use panelgate_sim::{openadmin::OpenAdminConfig, spanel::SpanelConfig};
use panelgate_tests::{
    AdminApiFixture, Backend, Gateway, OpenAdminFixture, PanelFixture, SpanelFixture,
    errors::{assert_error, metadata, reason},
    gateway::{
        Authed, Bearer, Running, TEST_CALLER, TEST_UPSTREAM_TIMEOUT, by_name, issue, start,
        test_tokens, with_gateway,
    },
    logs,
};
use prost::Message;
use tonic::{Code, Status, service::interceptor::InterceptedService};

/// What `rotate-key` reported for runs whose new key is `key`: (servers,
/// operations) re-sealed, per run, in order.
fn rotation_reports(key: &Key) -> Vec<(u64, u64)> {
    logs::lines()
        .iter()
        .filter(|line| {
            line.contains("the previous key can be retired")
                && line.contains(&format!("key_id={}", key.id))
        })
        .map(|line| (field(line, "servers"), field(line, "operations")))
        .collect()
}

/// The number after `name=` in a log line.
fn field(line: &str, name: &str) -> u64 {
    let prefix = format!(" {name}=");
    let start = line
        .find(&prefix)
        .unwrap_or_else(|| panic!("no {name} in: {line}"))
        + prefix.len();
    line[start..]
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|digits| digits.parse().ok())
        .unwrap_or_else(|| panic!("no number after {name}= in: {line}"))
}

// ---------------------------------------------------------------------------
// Keys, gateways, rotate-key
// ---------------------------------------------------------------------------

/// A master key: its 32 bytes (recognisable ASCII, unique per test and
/// label, so log lines of tests running side by side are told apart), base64
/// and key id.
struct Key {
    raw: Vec<u8>,
    base64: String,
    id: String,
}

impl Key {
    fn new(label: &str, test: &str) -> Key {
        let mut raw = format!("KEY-{label}-{test}-").into_bytes();
        raw.resize(32, b'#');
        raw.truncate(32);
        let base64 = STANDARD.encode(&raw);
        let id = MasterKey::from_base64(&base64)
            .expect("a 32-byte key")
            .key_id()
            .to_owned();
        Key { raw, base64, id }
    }

    fn master(&self) -> MasterKey {
        MasterKey::from_base64(&self.base64).expect("a 32-byte key")
    }

    /// A keyring with this key alone.
    fn alone(&self) -> Keyring {
        Keyring::new(self.master())
    }

    /// A keyring with this key as primary and `previous` still readable.
    fn after(&self, previous: &Key) -> Keyring {
        Keyring::new(self.master()).with_previous(previous.master())
    }
}

/// A gateway on `database_url` with `keyring`, started like test gateways
/// (auth on with the test token key), caching server records and adapters
/// for 1 ms only, so every call reads the sealed credentials again.
async fn gateway_with(database_url: &str, keyring: Keyring) -> (Running, Clients) {
    let mut config = Config::new(database_url);
    config.keyring = Some(keyring);
    config.upstream_timeouts.request = TEST_UPSTREAM_TIMEOUT;
    config.server_cache_ttl = Duration::from_millis(1);
    config.auth = Some(Arc::new(Auth {
        tokens: test_tokens(),
        reflection_public: false,
    }));
    let running = start(config).await;
    let token = issue(&test_tokens(), TEST_CALLER, scopes::ALL, &[]);
    let clients = Clients(InterceptedService::new(
        running.channel.clone(),
        Bearer::new(&token).expect("a token is ASCII"),
    ));
    (running, clients)
}

/// Clients of a gateway started with [`gateway_with`], sending an all-scope
/// token of the same caller as [`with_gateway`]'s clients (so request_ids are
/// shared with them).
#[derive(Clone)]
struct Clients(Authed);

impl Clients {
    fn inventory(&self) -> InventoryServiceClient<Authed> {
        InventoryServiceClient::new(self.0.clone())
    }
    fn accounts(&self) -> AccountServiceClient<Authed> {
        AccountServiceClient::new(self.0.clone())
    }
    fn packages(&self) -> PackageServiceClient<Authed> {
        PackageServiceClient::new(self.0.clone())
    }
}

/// Runs `panelgate rotate-key` in-process with `new` as the master key and
/// `previous` as the previous one; the error as `{:#}` text.
async fn rotate_key(database_url: &str, new: &Key, previous: Option<&Key>) -> Result<(), String> {
    let mut args = vec![
        "panelgate",
        "rotate-key",
        "--database-url",
        database_url,
        "--master-key",
        &new.base64,
    ];
    if let Some(previous) = previous {
        args.extend(["--previous-master-key", previous.base64.as_str()]);
    }
    let cli = Cli::try_parse_from(args).map_err(|err| err.to_string())?;
    run(cli).await.map_err(|err| format!("{err:#}"))
}

// ---------------------------------------------------------------------------
// The fleet: three panels with recognisable secrets
// ---------------------------------------------------------------------------

/// One server of the fleet and the account created on it.
struct Member {
    server: &'static str,
    account: CreateAccountRequest,
}

/// An admin_api, an OpenAdmin and a SPanel simulator, registered as
/// `rot-admin`, `rot-openadmin` and `rot-spanel`, each with one account.
struct Fleet {
    admin: AdminApiFixture,
    openadmin: OpenAdminFixture,
    spanel: SpanelFixture,
    members: Vec<Member>,
    /// Every secret given to the gateway: panel credentials, account passwords.
    secrets: Vec<String>,
}

impl Fleet {
    async fn start(test: &str) -> Fleet {
        let openadmin_password = format!("S3cret-openadmin-admin-{test}");
        let spanel_token = format!("S3cret-spanel-token-{test}");
        let admin = AdminApiFixture::start().await;
        let openadmin = OpenAdminFixture::with_config(OpenAdminConfig {
            admin_password: openadmin_password.clone(),
            ..OpenAdminConfig::default()
        })
        .await;
        let spanel = SpanelFixture::with_config(SpanelConfig {
            admin_token: spanel_token.clone(),
            ..SpanelConfig::default()
        })
        .await;
        let mut secrets = vec![
            // admin_api's fixture has its simulator's default password
            "admin-secret".to_owned(),
            openadmin_password,
            spanel_token,
        ];
        let mut members = Vec::new();
        for (server, account) in [
            ("rot-admin", new_account(&admin, "rot-admin", "ann", test)),
            (
                "rot-openadmin",
                new_account(&openadmin, "rot-openadmin", "olga", test),
            ),
            (
                "rot-spanel",
                new_account(&spanel, "rot-spanel", "sam", test),
            ),
        ] {
            secrets.push(account.password.clone());
            members.push(Member { server, account });
        }
        Fleet {
            admin,
            openadmin,
            spanel,
            members,
            secrets,
        }
    }

    /// Registers the three servers with `gateway` (credentials sealed under
    /// its key).
    async fn register(&self, gateway: &Gateway) {
        self.admin.register(gateway, "rot-admin").await;
        self.openadmin.register(gateway, "rot-openadmin").await;
        self.spanel.register(gateway, "rot-spanel").await;
    }

    /// HTTP requests all three simulators have received.
    fn requests(&self) -> u64 {
        self.admin.requests() + self.openadmin.requests() + self.spanel.requests()
    }
}

/// CreateAccount of `username` on `server`, with a request_id and a
/// recognisable password.
fn new_account<F: PanelFixture>(
    fixture: &F,
    server: &str,
    username: &str,
    test: &str,
) -> CreateAccountRequest {
    CreateAccountRequest {
        target: by_name(server),
        username: username.to_owned(),
        primary_domain: format!("{username}.example"),
        email: format!("{username}@mail.example"),
        password: format!("S3cret-account-{username}-{test}"),
        package: fixture.packages().0.to_owned(),
        panel_options: fixture.account_options(),
        request_id: format!("rotation-create-{username}"),
        ..Default::default()
    }
}

/// CreateAccount of an account that exists, with its own request_id: a
/// stored failure (ALREADY_EXISTS), replayed like a reply.
fn duplicate(fleet: &Fleet) -> CreateAccountRequest {
    CreateAccountRequest {
        request_id: "rotation-create-duplicate".to_owned(),
        ..fleet.members[0].account.clone()
    }
}

/// Registers the fleet with `gateway` and creates each member's account
/// (idempotent, with request_ids), plus the duplicate create; returns the
/// replies and the duplicate's failure.
async fn populate(fleet: &Fleet, gateway: &Gateway) -> (Vec<CreateAccountResponse>, Status) {
    fleet.register(gateway).await;
    let mut replies = Vec::new();
    for member in &fleet.members {
        let reply = gateway
            .accounts()
            .create_account(member.account.clone())
            .await
            .unwrap_or_else(|status| panic!("create on {}: {status:?}", member.server))
            .into_inner();
        replies.push(reply);
    }
    let failed = gateway.accounts().create_account(duplicate(fleet)).await;
    let status = assert_error(failed, Code::AlreadyExists, "ACCOUNT_ALREADY_EXISTS");
    (replies, status)
}

/// Every server of the fleet works through `clients`: CheckServer healthy,
/// GetAccount finds the member's account, ListPackages lists packages.
async fn assert_fleet_works(fleet: &Fleet, clients: &Clients, who: &str) {
    for member in &fleet.members {
        let checked = clients
            .inventory()
            .check_server(CheckServerRequest {
                target: by_name(member.server),
            })
            .await
            .unwrap_or_else(|status| panic!("{who}: CheckServer {}: {status:?}", member.server))
            .into_inner();
        assert!(checked.healthy, "{who}: {}: {checked:?}", member.server);
        let account = clients
            .accounts()
            .get_account(GetAccountRequest {
                target: by_name(member.server),
                username: member.account.username.clone(),
            })
            .await
            .unwrap_or_else(|status| panic!("{who}: GetAccount on {}: {status:?}", member.server))
            .into_inner()
            .account
            .expect("account");
        assert_eq!(account.username, member.account.username);
        let packages = clients
            .packages()
            .list_packages(ListPackagesRequest {
                target: by_name(member.server),
                ..Default::default()
            })
            .await
            .unwrap_or_else(|status| panic!("{who}: ListPackages on {}: {status:?}", member.server))
            .into_inner()
            .packages;
        assert!(!packages.is_empty(), "{who}: {}", member.server);
    }
}

// ---------------------------------------------------------------------------
// Calls in a loop while rotate-key runs
// ---------------------------------------------------------------------------

/// Where the rotation is: before, running, after.
const BEFORE: u64 = 0;
const ROTATING: u64 = 1;
const AFTER: u64 = 2;

struct Probe {
    stop: AtomicBool,
    phase: AtomicU64,
    rounds: AtomicU64,
    calls: AtomicU64,
    /// Calls in flight at some moment of the rotation.
    during_rotation: AtomicU64,
    failures: Mutex<Vec<String>>,
}

impl Probe {
    fn new() -> Probe {
        Probe {
            stop: AtomicBool::new(false),
            phase: AtomicU64::new(BEFORE),
            rounds: AtomicU64::new(0),
            calls: AtomicU64::new(0),
            during_rotation: AtomicU64::new(0),
            failures: Mutex::new(Vec::new()),
        }
    }

    /// Records one call's outcome; `started` is the phase it started in.
    fn record<T>(&self, started: u64, what: String, outcome: Result<T, String>) {
        let ended = self.phase.load(Ordering::SeqCst);
        self.calls.fetch_add(1, Ordering::SeqCst);
        if started <= ROTATING && ended >= ROTATING {
            self.during_rotation.fetch_add(1, Ordering::SeqCst);
        }
        if let Err(err) = outcome {
            self.failures
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .push(format!("{what}: {err}"));
        }
    }

    async fn rounds_reach(&self, rounds: u64) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while self.rounds.load(Ordering::SeqCst) < rounds {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the call loop is stuck"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// Calls `clients` without pause until told to stop: per round, CheckServer
/// (must be healthy) and GetAccount on every server, a retry of one of
/// `replays`' creates (must replay the first reply: its journal row is being
/// re-sealed meanwhile), and one idempotent ChangePassword (a journal row
/// sealed under the gateway's primary key).
async fn keep_calling(
    probe: Arc<Probe>,
    clients: Clients,
    servers: Vec<(&'static str, String)>,
    replays: Vec<(CreateAccountRequest, CreateAccountResponse)>,
    worker: u32,
) {
    let mut round = 0u64;
    while !probe.stop.load(Ordering::SeqCst) {
        for (server, username) in &servers {
            let started = probe.phase.load(Ordering::SeqCst);
            let checked = clients
                .inventory()
                .check_server(CheckServerRequest {
                    target: by_name(server),
                })
                .await
                .map_err(|status| format!("{status:?}"))
                .and_then(|reply| {
                    let reply = reply.into_inner();
                    if reply.healthy {
                        Ok(())
                    } else {
                        Err(format!("unhealthy: {reply:?}"))
                    }
                });
            probe.record(started, format!("CheckServer {server}"), checked);

            let started = probe.phase.load(Ordering::SeqCst);
            let got = clients
                .accounts()
                .get_account(GetAccountRequest {
                    target: by_name(server),
                    username: username.clone(),
                })
                .await
                .map_err(|status| format!("{status:?}"));
            probe.record(started, format!("GetAccount {server}"), got);
        }
        let (create, first) = &replays[(round as usize) % replays.len()];
        let started = probe.phase.load(Ordering::SeqCst);
        let replayed = clients
            .accounts()
            .create_account(create.clone())
            .await
            .map_err(|status| format!("{status:?}"))
            .and_then(|reply| {
                let reply = reply.into_inner();
                if reply == *first {
                    Ok(())
                } else {
                    Err(format!("replayed {reply:?}, first reply {first:?}"))
                }
            });
        probe.record(
            started,
            format!("CreateAccount replay {}", create.username),
            replayed,
        );

        let (server, username) = &servers[0];
        let started = probe.phase.load(Ordering::SeqCst);
        let changed = clients
            .accounts()
            .change_password(ChangePasswordRequest {
                target: by_name(server),
                username: username.clone(),
                password: format!("Loop-password-{worker}-{round}"),
                request_id: format!("rotation-loop-{worker}-{round}"),
                ..Default::default()
            })
            .await
            .map_err(|status| format!("{status:?}"));
        probe.record(started, format!("ChangePassword {server}"), changed);
        round += 1;
        probe.rounds.fetch_add(1, Ordering::SeqCst);
    }
}

// ---------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------

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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rotation_keeps_serving_and_moves_everything_to_the_new_key_on_sqlite() {
    rotation_keeps_serving_and_moves_everything_to_the_new_key(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rotation_keeps_serving_and_moves_everything_to_the_new_key_on_postgres() {
    rotation_keeps_serving_and_moves_everything_to_the_new_key(Backend::Postgres).await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_key_names_the_missing_key_on_sqlite() {
    rotate_key_names_the_missing_key(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_key_names_the_missing_key_on_postgres() {
    rotate_key_names_the_missing_key(Backend::Postgres).await;
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
