//! The fleet: three panels with recognisable secrets, and the calls made
//! in a loop while rotate-key runs.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use panelgate_proto::v1::{
    ChangePasswordRequest, CheckServerRequest, CreateAccountRequest, CreateAccountResponse,
    GetAccountRequest, ListPackagesRequest,
};
use panelgate_sim::{openadmin::OpenAdminConfig, spanel::SpanelConfig};
use panelgate_tests::{
    AdminApiFixture, Gateway, OpenAdminFixture, PanelFixture, SpanelFixture, errors::assert_error,
    gateway::by_name,
};
use tonic::{Code, Status};

use crate::Clients;

/// One server of the fleet and the account created on it.
pub(crate) struct Member {
    pub(crate) server: &'static str,
    pub(crate) account: CreateAccountRequest,
}

/// An admin_api, an OpenAdmin and a SPanel simulator, registered as
/// `rot-admin`, `rot-openadmin` and `rot-spanel`, each with one account.
pub(crate) struct Fleet {
    pub(crate) admin: AdminApiFixture,
    pub(crate) openadmin: OpenAdminFixture,
    pub(crate) spanel: SpanelFixture,
    pub(crate) members: Vec<Member>,
    /// Every secret given to the gateway: panel credentials, account passwords.
    pub(crate) secrets: Vec<String>,
}

impl Fleet {
    pub(crate) async fn start(test: &str) -> Fleet {
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
    pub(crate) async fn register(&self, gateway: &Gateway) {
        self.admin.register(gateway, "rot-admin").await;
        self.openadmin.register(gateway, "rot-openadmin").await;
        self.spanel.register(gateway, "rot-spanel").await;
    }

    /// HTTP requests all three simulators have received.
    pub(crate) fn requests(&self) -> u64 {
        self.admin.requests() + self.openadmin.requests() + self.spanel.requests()
    }
}

/// CreateAccount of `username` on `server`, with a request_id and a
/// recognisable password.
pub(crate) fn new_account<F: PanelFixture>(
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
pub(crate) fn duplicate(fleet: &Fleet) -> CreateAccountRequest {
    CreateAccountRequest {
        request_id: "rotation-create-duplicate".to_owned(),
        ..fleet.members[0].account.clone()
    }
}

/// Registers the fleet with `gateway` and creates each member's account
/// (idempotent, with request_ids), plus the duplicate create; returns the
/// replies and the duplicate's failure.
pub(crate) async fn populate(
    fleet: &Fleet,
    gateway: &Gateway,
) -> (Vec<CreateAccountResponse>, Status) {
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
pub(crate) async fn assert_fleet_works(fleet: &Fleet, clients: &Clients, who: &str) {
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

// === calls in a loop while rotate-key runs ===

/// Where the rotation is: before, running, after.
pub(crate) const BEFORE: u64 = 0;
pub(crate) const ROTATING: u64 = 1;
pub(crate) const AFTER: u64 = 2;

pub(crate) struct Probe {
    pub(crate) stop: AtomicBool,
    pub(crate) phase: AtomicU64,
    pub(crate) rounds: AtomicU64,
    pub(crate) calls: AtomicU64,
    /// Calls in flight at some moment of the rotation.
    pub(crate) during_rotation: AtomicU64,
    pub(crate) failures: Mutex<Vec<String>>,
}

impl Probe {
    pub(crate) fn new() -> Probe {
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
    pub(crate) fn record<T>(&self, started: u64, what: String, outcome: Result<T, String>) {
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

    pub(crate) async fn rounds_reach(&self, rounds: u64) {
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
pub(crate) async fn keep_calling(
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
