//! Every RPC, on all four panels behind one gateway: each panelgate.v1 RPC
//! of the descriptor set is driven at least once with a valid token (the
//! test fails until a new RPC is added here), those that carry secrets with
//! recognisable ones, mutations with request ids: first calls, replays
//! (which must not reach the panel), reused request ids, stored failures.
//! Then the journal is read back (ListOperations, GetOperation on every
//! entry), and no secret is anywhere: log, errors, replies, the database at
//! rest, where the replies stored for replays must be sealed.
//!
//! - `inventory`, `hosting`: the calls that carry secrets, on every panel;
//! - `readback`: every operation through the dispatcher, the reads, the
//!   journal.

mod hosting;
mod inventory;
mod readback;

use panelgate_proto::v1::{
    ApiTokenCredentials, CreateAccountRequest, Credentials, PanelKind, PasswordCredentials,
    RegisterServerRequest, Server, ServerDefaults, credentials,
};
use panelgate_sim::{
    admin_api::{AdminApiConfig, AdminApiSim},
    installatron::{InstallatronConfig, InstallatronSim},
    openadmin::{OpenAdminConfig, OpenAdminSim},
    spanel::{SpanelConfig, SpanelSim},
};
use panelgate_tests::Backend;

use panelgate_tests::secrets::{Secrets, assert_nothing_leaked, with_secret_gateway};

use super::{Api, create_account_request, descriptor_rpcs, installatron::installatron_website};

use self::{
    hosting::hosting_calls,
    inventory::inventory_calls,
    readback::{dispatcher_sweep, journal, reads},
};

panelgate_tests::on_both_backends!(every_rpc_keeps_its_secrets);

/// The four simulated panels, each with secret credentials.
struct Fleet {
    admin_api: AdminApiSim,
    openadmin: OpenAdminSim,
    spanel: SpanelSim,
    installatron: InstallatronSim,
}

impl Fleet {
    /// HTTP requests the panel of `kind` has received.
    fn requests(&self, kind: PanelKind) -> u64 {
        match kind {
            PanelKind::AdminApi => self.admin_api.request_count(),
            PanelKind::Openadmin => self.openadmin.request_count(),
            PanelKind::Spanel => self.spanel.request_count(),
            _ => self.installatron.request_count(),
        }
    }

    /// The password the panel of `kind` holds for `username` (Installatron
    /// keeps none).
    fn password_of(&self, kind: PanelKind, username: &str) -> Option<String> {
        match kind {
            PanelKind::AdminApi => self.admin_api.user(username).map(|user| user.password),
            PanelKind::Openadmin => self.openadmin.user(username).map(|user| user.password),
            PanelKind::Spanel => self
                .spanel
                .account(username)
                .map(|account| account.password),
            _ => None,
        }
    }
}

/// One server of the fleet, as registered.
#[derive(Clone)]
struct Member {
    server: String,
    kind: PanelKind,
    base_url: String,
    credentials: Credentials,
    /// A package of the panel, for new accounts.
    package: &'static str,
    /// What precedes the one-time token in the panel's login links.
    link_marker: String,
    /// Short name, in secrets' prefixes.
    short: &'static str,
}

impl Member {
    /// Whether the panel does `operation`, for the secret-bearing calls that
    /// not every panel can do (the capability table of the README).
    fn supports(&self, operation: panelgate_proto::Capability) -> bool {
        use panelgate_proto::Capability as Op;
        match operation {
            Op::ChangePassword => self.kind != PanelKind::Installatron,
            Op::CreateDatabase => self.kind != PanelKind::Openadmin,
            Op::CreatePanelAdmin => self.kind == PanelKind::Spanel,
            _ => true,
        }
    }

    fn register(&self, request_id: &str) -> RegisterServerRequest {
        RegisterServerRequest {
            server: Some(Server {
                name: self.server.clone(),
                kind: self.kind.into(),
                base_url: self.base_url.clone(),
                group: "eu".into(),
                defaults: (self.kind == PanelKind::AdminApi).then(|| ServerDefaults {
                    php_version: "8.2".into(),
                }),
                ..Default::default()
            }),
            credentials: Some(self.credentials.clone()),
            request_id: request_id.to_owned(),
        }
    }

    /// CreateAccount of `username` with `password`; on Installatron with
    /// websites carrying secrets (a path with SFTP credentials, a database
    /// password).
    fn account(
        &self,
        username: &str,
        password: &str,
        website_secrets: Option<(&str, &str)>,
        request_id: &str,
    ) -> CreateAccountRequest {
        let mut request = CreateAccountRequest {
            package: self.package.into(),
            request_id: request_id.to_owned(),
            ..create_account_request(&self.server, username, password)
        };
        if let Some((path_password, database_password)) = website_secrets {
            let path = format!("sftp://ftpuser:{path_password}@files.example/home/{username}");
            request.panel_options = Some(
                panelgate_proto::v1::create_account_request::PanelOptions::Installatron(
                    panelgate_proto::v1::InstallatronAccountOptions {
                        websites: vec![installatron_website(
                            &path,
                            &format!("{username}.example"),
                            "localhost",
                            database_password,
                        )],
                        ..Default::default()
                    },
                ),
            );
        }
        request
    }
}

fn password(password: &str) -> Credentials {
    Credentials {
        kind: Some(credentials::Kind::Password(PasswordCredentials {
            username: "admin".into(),
            password: password.to_owned(),
        })),
    }
}

fn api_token(token: &str) -> Credentials {
    Credentials {
        kind: Some(credentials::Kind::ApiToken(ApiTokenCredentials {
            token: token.to_owned(),
        })),
    }
}

/// Starts the four panels with secret credentials, one gateway with this
/// flow's master key, registers the panels (with request ids), drives every
/// RPC, reads the journal back, and checks nothing leaked.
async fn every_rpc_keeps_its_secrets(backend: Backend) {
    let mut secrets = Secrets::new(backend);
    let db = format!("{backend:?}").to_ascii_lowercase();

    let admin_password = secrets.make("admin_api admin password (fleet)", "All-Ols-Admin-Pass");
    let openadmin_password = secrets.make("OpenAdmin admin password (fleet)", "All-Oa-Admin-Pass");
    let spanel_token = secrets.make("SPanel API token (fleet)", "All-Sp-Api-Token");
    let installatron_key = secrets.make("Installatron API key (fleet)", "All-It-Api-Key");
    let fleet = Fleet {
        admin_api: AdminApiSim::start(AdminApiConfig {
            admin_password: admin_password.clone(),
            ..AdminApiConfig::default()
        })
        .await
        .expect("start the admin_api simulator"),
        openadmin: OpenAdminSim::start(OpenAdminConfig {
            admin_password: openadmin_password.clone(),
            ..OpenAdminConfig::default()
        })
        .await
        .expect("start the OpenAdmin simulator"),
        spanel: SpanelSim::start(SpanelConfig {
            admin_token: spanel_token.clone(),
            ..SpanelConfig::default()
        })
        .await
        .expect("start the SPanel simulator"),
        installatron: InstallatronSim::start(InstallatronConfig {
            api_key: installatron_key.clone(),
            api_key2: None,
        })
        .await
        .expect("start the Installatron simulator"),
    };
    let members = vec![
        Member {
            server: format!("all-ols-{db}"),
            kind: PanelKind::AdminApi,
            base_url: fleet.admin_api.base_url(),
            credentials: password(&admin_password),
            package: "Basic",
            link_marker: "token=".into(),
            short: "Ols",
        },
        Member {
            server: format!("all-oa-{db}"),
            kind: PanelKind::Openadmin,
            base_url: fleet.openadmin.base_url(),
            credentials: password(&openadmin_password),
            package: "default_plan_nginx",
            link_marker: "admin_token=".into(),
            short: "Oa",
        },
        Member {
            server: format!("all-sp-{db}"),
            kind: PanelKind::Spanel,
            base_url: fleet.spanel.base_url(),
            credentials: api_token(&spanel_token),
            package: "basic",
            link_marker: "/sso/".into(),
            short: "Sp",
        },
        Member {
            server: format!("all-it-{db}"),
            kind: PanelKind::Installatron,
            base_url: fleet.installatron.base_url(),
            credentials: api_token(&installatron_key),
            package: "gold",
            link_marker: fleet.installatron.base_url(),
            short: "It",
        },
    ];

    let subject = format!("secrets-every-rpc-{}", secrets.unique);
    with_secret_gateway(backend, secrets, subject.clone(), |gateway, mut secrets, mut seen| async move {
        let api = Api::new(gateway.clone());
        let unique = secrets.unique.clone();
        let rid = |what: &str| format!("{unique}-{what}");

        inventory_calls(&api, &members, &mut secrets, &mut seen, &rid).await;
        for member in &members {
            hosting_calls(&api, &fleet, member, &mut secrets, &mut seen, &rid).await;
        }
        for member in &members {
            dispatcher_sweep(&api, member, &mut secrets, &mut seen).await;
        }
        reads(&api, &members, &mut seen).await;
        journal(&api, &subject, &mut seen).await;

        // Every RPC of the descriptor set was driven, and nothing else.
        let driven = api.driven.rpcs();
        let expected = descriptor_rpcs();
        let missing: Vec<&String> = expected.difference(&driven).collect();
        let unknown: Vec<&String> = driven.difference(&expected).collect();
        assert!(
            missing.is_empty() && unknown.is_empty(),
            "RPCs not driven with secrets: {missing:?}; driven but not in the descriptor set: {unknown:?}"
        );
        let mentions: Vec<String> = expected
            .iter()
            .map(|rpc| rpc.trim_start_matches("/panelgate.v1.").to_owned())
            .chain([
                "request_id seen before: its stored outcome is replayed".to_owned(),
                "logging in to OpenAdmin".to_owned(),
            ])
            .chain(members.iter().map(|member| member.server.clone()))
            .collect();
        let mentions: Vec<&str> = mentions.iter().map(String::as_str).collect();
        let searched = seen
            .stored
            .iter()
            .filter(|(_, stored)| stored.len() >= 16)
            .count();
        eprintln!("stored replies searched for in the database: {searched} of {}", seen.stored.len());
        assert!(searched >= 20, "replies stored for replays are searched for: {searched}");
        assert_nothing_leaked(&gateway, &members[0].server, &mentions, &secrets, &seen);
    })
    .await;
}
