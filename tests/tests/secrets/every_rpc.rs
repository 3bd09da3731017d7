//! Every RPC, on all four panels behind one gateway: each panelgate.v1 RPC
//! of the descriptor set is driven at least once with a valid token (the
//! test fails until a new RPC is added here), those that carry secrets with
//! recognisable ones, mutations with request ids: first calls, replays
//! (which must not reach the panel), reused request ids, stored failures.
//! Then the journal is read back (ListOperations, GetOperation on every
//! entry), and no secret is anywhere: log, errors, replies, the database at
//! rest, where the replies stored for replays must be sealed.

use panelgate_proto::v1::{
    ApiTokenCredentials, ChangePasswordRequest, CheckServerRequest, CreateAccountRequest,
    CreateDatabaseRequest, CreateLoginLinkRequest, CreatePanelAdminRequest, Credentials,
    DeleteServerRequest, GetAccountRequest, GetOperationRequest, GetServerRequest,
    ListAccountsRequest, ListOperationsRequest, ListPanelAdminsRequest, ListServersRequest,
    OperationEntry, PanelKind, PasswordCredentials, RegisterServerRequest, Server, ServerDefaults,
    UpdateServerRequest, credentials,
};
use panelgate_sim::{
    admin_api::{AdminApiConfig, AdminApiSim},
    installatron::{InstallatronConfig, InstallatronSim},
    openadmin::{OpenAdminConfig, OpenAdminSim},
    spanel::{SpanelConfig, SpanelSim},
};
use panelgate_tests::{
    Backend,
    gateway::{by_name, with_gateway},
    logs, operations,
};
use prost::Message;
use tonic::Code;

use panelgate_tests::secrets::{
    Secrets, Seen, assert_nothing_leaked, known_caller, link_token, recognisable_master_key,
    with_master_key,
};

use super::{Api, create_account_request, descriptor_rpcs, installatron::installatron_website};

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
    fn supports(&self, operation: panelgate_proto::v1::Operation) -> bool {
        use panelgate_proto::v1::Operation as Op;
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
    logs::capture(tracing::Level::TRACE);
    let mut secrets = Secrets::new(backend);
    let keyring = recognisable_master_key(&mut secrets);
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

    with_gateway(backend, with_master_key(keyring), |gateway| async move {
        let subject = format!("secrets-every-rpc-{}", secrets.unique);
        let api = Api::new(known_caller(&gateway, &mut secrets, &subject));
        let mut seen = Seen::default();
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

/// RegisterServer (with a request id, replayed, then reused with another
/// secret), CheckServer, GetServer, ListServers, UpdateServer with the
/// credentials again, and a server registered then deleted, both replayed.
async fn inventory_calls(
    api: &Api,
    members: &[Member],
    secrets: &mut Secrets,
    seen: &mut Seen,
    rid: &impl Fn(&str) -> String,
) {
    let mut inventory = api.inventory();
    for member in members {
        let name = &member.server;
        let request = member.register(&rid(&format!("register-{name}")));
        let registered = inventory
            .register_server(request.clone())
            .await
            .expect("register")
            .into_inner();
        seen.reply(format!("{name}: RegisterServer"), &registered);
        seen.stored_reply(format!("{name}: RegisterServer"), &registered);
        let replayed = inventory
            .register_server(request.clone())
            .await
            .expect("replay the registration")
            .into_inner();
        assert_eq!(replayed, registered, "the stored reply is replayed");

        // The same request id with other credentials: refused, not run.
        let other = secrets.make(
            "credentials sent with a reused request id",
            &format!("All-{}-Reused-Creds", member.short),
        );
        let result = inventory
            .register_server(RegisterServerRequest {
                credentials: Some(match member.kind {
                    PanelKind::AdminApi | PanelKind::Openadmin => password(&other),
                    _ => api_token(&other),
                }),
                ..request
            })
            .await;
        seen.failure(
            format!("{name}: RegisterServer (request_id reused)"),
            result,
            Code::FailedPrecondition,
            "REQUEST_ID_REUSED",
        );

        let checked = inventory
            .check_server(CheckServerRequest {
                target: by_name(name),
            })
            .await
            .expect("check")
            .into_inner();
        assert!(checked.healthy, "{name}: the credentials work: {checked:?}");
        seen.reply(format!("{name}: CheckServer"), &checked);
        let got = inventory
            .get_server(GetServerRequest {
                target: by_name(name),
            })
            .await
            .expect("get server")
            .into_inner();
        seen.reply(format!("{name}: GetServer"), &got);

        // The credentials again, with labels, under a request id: replayed.
        let update = UpdateServerRequest {
            target: by_name(name),
            credentials: Some(member.credentials.clone()),
            labels: Some(panelgate_proto::v1::LabelSet {
                labels: [("tier", "gold"), ("region", "eu"), ("rack", "r7")]
                    .map(|(key, value)| (key.to_owned(), value.to_owned()))
                    .into(),
            }),
            request_id: rid(&format!("update-{name}")),
            ..Default::default()
        };
        let updated = inventory
            .update_server(update.clone())
            .await
            .expect("update")
            .into_inner();
        seen.reply(format!("{name}: UpdateServer"), &updated);
        seen.stored_reply(format!("{name}: UpdateServer"), &updated);
        let replayed = inventory
            .update_server(update)
            .await
            .expect("replay the update")
            .into_inner();
        assert_eq!(replayed, updated, "the stored reply is replayed");
    }
    let listed = inventory
        .list_servers(ListServersRequest::default())
        .await
        .expect("list servers")
        .into_inner();
    assert!(listed.servers.len() >= members.len());
    seen.page("ListServers", &listed, &listed.next_page_token);

    // A server with its own secret, registered and deleted, both replayed.
    let doomed_password = secrets.make("password of a deleted server", "All-Doomed-Pass");
    let doomed = Member {
        server: format!("{}-doomed", members[0].server),
        credentials: password(&doomed_password),
        ..members[0].clone()
    };
    let registered = inventory
        .register_server(doomed.register(&rid("register-doomed")))
        .await
        .expect("register the doomed server")
        .into_inner();
    seen.reply("RegisterServer (doomed)", &registered);
    seen.stored_reply("RegisterServer (doomed)", &registered);
    let delete = DeleteServerRequest {
        target: by_name(&doomed.server),
        request_id: rid("delete-doomed"),
    };
    let deleted = inventory
        .delete_server(delete.clone())
        .await
        .expect("delete the doomed server")
        .into_inner();
    seen.reply("DeleteServer", &deleted);
    let replayed = inventory
        .delete_server(delete)
        .await
        .expect("replay the deletion")
        .into_inner();
    seen.reply("DeleteServer (replayed)", &replayed);
}

/// The secret-bearing hosting calls on one server, each with a request id:
/// CreateAccount (replayed, its id reused with another password, a
/// duplicate stored and replayed as a failure), ChangePassword,
/// CreateDatabase, CreatePanelAdmin (each replayed, or refused where the
/// panel cannot), CreateLoginLink (never stored).
async fn hosting_calls(
    api: &Api,
    fleet: &Fleet,
    member: &Member,
    secrets: &mut Secrets,
    seen: &mut Seen,
    rid: &impl Fn(&str) -> String,
) {
    use panelgate_proto::v1::Operation as Op;
    let name = &member.server;
    let short = member.short;
    let kind = member.kind;
    let records_websites = kind == PanelKind::Installatron;
    let mut accounts = api.accounts();

    // CreateAccount, first time and replayed.
    let password = secrets.make(
        "account password (fleet)",
        &format!("All-{short}-Account-Pass"),
    );
    let websites = records_websites.then(|| {
        (
            secrets.make(
                "website path password (fleet)",
                &format!("All-{short}-Path-Pass"),
            ),
            secrets.make(
                "recorded database password (fleet)",
                &format!("All-{short}-Rec-Db-Pass"),
            ),
        )
    });
    let website_secrets = websites
        .as_ref()
        .map(|(path, database)| (path.as_str(), database.as_str()));
    let request = member.account(
        "keeper",
        &password,
        website_secrets,
        &rid(&format!("create-{name}")),
    );
    let created = accounts
        .create_account(request.clone())
        .await
        .unwrap_or_else(|status| panic!("{name}: create account: {status:?}"))
        .into_inner();
    seen.reply(format!("{name}: CreateAccount"), &created);
    seen.stored_reply(format!("{name}: CreateAccount"), &created);
    if kind != PanelKind::Installatron {
        assert_eq!(
            fleet.password_of(kind, "keeper").as_deref(),
            Some(password.as_str()),
            "{name}: the panel got the password"
        );
    }
    let before = fleet.requests(kind);
    let replayed = accounts
        .create_account(request.clone())
        .await
        .expect("replay the account creation")
        .into_inner();
    assert_eq!(
        replayed.encode_to_vec(),
        created.encode_to_vec(),
        "{name}: the stored reply is replayed"
    );
    seen.reply(format!("{name}: CreateAccount (replayed)"), &replayed);

    // The same request id with another password: refused, not run.
    let reused = secrets.make(
        "password sent with a reused request id",
        &format!("All-{short}-Reused-Pass"),
    );
    let result = accounts
        .create_account(CreateAccountRequest {
            password: reused,
            ..request.clone()
        })
        .await;
    seen.failure(
        format!("{name}: CreateAccount (request_id reused)"),
        result,
        Code::FailedPrecondition,
        "REQUEST_ID_REUSED",
    );
    assert_eq!(
        fleet.requests(kind),
        before,
        "{name}: replays never reach the panel"
    );

    // A duplicate: its failure is stored and replayed.
    let duplicate = secrets.make(
        "duplicate account password (fleet)",
        &format!("All-{short}-Dup-Pass"),
    );
    let duplicate = CreateAccountRequest {
        password: duplicate,
        request_id: rid(&format!("create-duplicate-{name}")),
        ..request
    };
    let result = accounts.create_account(duplicate.clone()).await;
    let first = seen.failure(
        format!("{name}: CreateAccount (duplicate)"),
        result,
        Code::AlreadyExists,
        "ACCOUNT_ALREADY_EXISTS",
    );
    seen.stored_failure(format!("{name}: CreateAccount (duplicate)"), &first);
    let before = fleet.requests(kind);
    let result = accounts.create_account(duplicate).await;
    let again = seen.failure(
        format!("{name}: CreateAccount (duplicate, replayed)"),
        result,
        Code::AlreadyExists,
        "ACCOUNT_ALREADY_EXISTS",
    );
    assert_eq!(
        again.message(),
        first.message(),
        "{name}: the stored failure"
    );
    assert_eq!(
        again.details(),
        first.details(),
        "{name}: the stored details"
    );
    assert_eq!(
        fleet.requests(kind),
        before,
        "{name}: replays never reach the panel"
    );

    // ChangePassword.
    let changed = secrets.make(
        "changed password (fleet)",
        &format!("All-{short}-Changed-Pass"),
    );
    let change = ChangePasswordRequest {
        target: by_name(name),
        username: "keeper".into(),
        password: changed.clone(),
        request_id: rid(&format!("change-password-{name}")),
        ..Default::default()
    };
    mutation_replayed(
        fleet,
        member,
        seen,
        "ChangePassword",
        member.supports(Op::ChangePassword),
        || {
            let (mut accounts, change) = (api.accounts(), change.clone());
            async move { accounts.change_password(change).await }
        },
    )
    .await;
    if member.supports(Op::ChangePassword) {
        assert_eq!(
            fleet.password_of(kind, "keeper").as_deref(),
            Some(changed.as_str()),
            "{name}: the panel got the new password"
        );
    }

    // CreateDatabase.
    let database_password =
        secrets.make("database password (fleet)", &format!("All-{short}-Db-Pass"));
    let database = CreateDatabaseRequest {
        target: by_name(name),
        username: "keeper".into(),
        database_name: "shop".into(),
        database_user: "shopuser".into(),
        database_password,
        request_id: rid(&format!("create-database-{name}")),
        ..Default::default()
    };
    mutation_replayed(
        fleet,
        member,
        seen,
        "CreateDatabase",
        member.supports(Op::CreateDatabase),
        || {
            let (mut databases, database) = (api.databases(), database.clone());
            async move { databases.create_database(database).await }
        },
    )
    .await;

    // CreatePanelAdmin.
    let admin_password = secrets.make(
        "panel admin password",
        &format!("All-{short}-Panel-Admin-Pass"),
    );
    let admin = CreatePanelAdminRequest {
        target: by_name(name),
        username: "opsadmin".into(),
        password: admin_password.clone(),
        full_access: true,
        request_id: rid(&format!("create-panel-admin-{name}")),
        ..Default::default()
    };
    mutation_replayed(
        fleet,
        member,
        seen,
        "CreatePanelAdmin",
        member.supports(Op::CreatePanelAdmin),
        || {
            let (mut servers, admin) = (api.servers(), admin.clone());
            async move { servers.create_panel_admin(admin).await }
        },
    )
    .await;
    if kind == PanelKind::Spanel {
        assert!(
            fleet
                .spanel
                .admin_users()
                .iter()
                .any(|admin| admin.user == "opsadmin" && admin.password == admin_password),
            "{name}: the panel got the admin's password"
        );
        let admins = api
            .servers()
            .list_panel_admins(ListPanelAdminsRequest {
                target: by_name(name),
                ..Default::default()
            })
            .await
            .expect("list panel admins")
            .into_inner();
        assert!(
            admins
                .admins
                .iter()
                .any(|admin| admin.username == "opsadmin")
        );
        seen.reply(format!("{name}: ListPanelAdmins"), &admins);
    }

    // CreateLoginLink: journalled, never stored; its token is a secret
    // everywhere but in its own reply.
    let link = accounts
        .create_login_link(CreateLoginLinkRequest {
            target: by_name(name),
            username: "keeper".into(),
        })
        .await
        .unwrap_or_else(|status| panic!("{name}: login link: {status:?}"))
        .into_inner();
    let token = link_token(&link, &member.link_marker);
    assert!(token.len() >= 16, "{name}: a real token: {token}");
    assert!(
        !format!("{link:?}").contains(&token),
        "{name}: the login link reply's Debug redacts the URL"
    );
    secrets.learn(format!("{name}: login link token"), token);
}

/// Runs a mutation carrying a secret under a request id, then replays it:
/// the same reply (or, where the panel cannot do it, the same stored
/// UNIMPLEMENTED), and the panel not called again.
async fn mutation_replayed<F, Fut, M>(
    fleet: &Fleet,
    member: &Member,
    seen: &mut Seen,
    rpc: &str,
    supported: bool,
    call: F,
) where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<tonic::Response<M>, tonic::Status>>,
    M: Message + std::fmt::Debug + PartialEq,
{
    let name = &member.server;
    let label = format!("{name}: {rpc}");
    let first = call().await;
    let before = fleet.requests(member.kind);
    let again = call().await;
    assert_eq!(
        fleet.requests(member.kind),
        before,
        "{label}: a replay never reaches the panel"
    );
    if supported {
        let first = first
            .unwrap_or_else(|status| panic!("{label}: {status:?}"))
            .into_inner();
        let again = again.expect("the replay").into_inner();
        assert_eq!(again, first, "{label}: the stored reply is replayed");
        seen.reply(label.clone(), &first);
        seen.stored_reply(label.clone(), &first);
        seen.reply(format!("{label} (replayed)"), &again);
    } else {
        let first = seen.failure(
            label.clone(),
            first,
            Code::Unimplemented,
            "OPERATION_NOT_SUPPORTED",
        );
        seen.stored_failure(label.clone(), &first);
        let again = seen.failure(
            format!("{label} (replayed)"),
            again,
            Code::Unimplemented,
            "OPERATION_NOT_SUPPORTED",
        );
        assert_eq!(
            again.message(),
            first.message(),
            "{label}: the stored failure"
        );
    }
}

/// Every canonical operation on `member` through the shared dispatcher
/// (deletions last), about an account created first with a secret password
/// and the panel's own package (the dispatcher's is admin_api's), whatever
/// the panel answers: each failure is kept to be searched.
async fn dispatcher_sweep(api: &Api, member: &Member, secrets: &mut Secrets, seen: &mut Seen) {
    use panelgate_proto::v1::Operation as Op;
    let short = member.short;
    let password = secrets.make(
        "password of the swept account",
        &format!("All-{short}-Sweep-Pass"),
    );
    let websites = (member.kind == PanelKind::Installatron).then(|| {
        (
            secrets.make(
                "path password of the swept account",
                &format!("All-{short}-Sweep-Path-Pass"),
            ),
            secrets.make(
                "database password of the swept account",
                &format!("All-{short}-Sweep-Db-Pass"),
            ),
        )
    });
    let request = member.account(
        "sweeper",
        &password,
        websites
            .as_ref()
            .map(|(path, database)| (path.as_str(), database.as_str())),
        "",
    );
    let result = api.accounts().create_account(request).await;
    let created = seen.outcome(
        format!("{}: CreateAccount (sweeper)", member.server),
        result,
    );
    assert!(
        created.is_some(),
        "{}: the swept account is created",
        member.server
    );
    let deletions = [Op::DeleteDomain, Op::DeleteAccount, Op::DeletePackage];
    let ordered = operations::ALL
        .iter()
        .filter(|operation| !deletions.contains(operation))
        .chain(deletions.iter());
    let mut outcomes = Vec::new();
    for operation in ordered {
        let result = api.dispatch(&member.server, *operation, "sweeper").await;
        let code = result.as_ref().err().map_or(Code::Ok, tonic::Status::code);
        outcomes.push(format!("{operation:?}={code:?}"));
        if let Err(status) = result {
            assert!(
                !matches!(status.code(), Code::Unknown | Code::Unauthenticated),
                "{}: {operation:?}: {status:?}",
                member.server
            );
            seen.failures.push((
                format!("{}: {operation:?} (dispatcher)", member.server),
                status,
            ));
        }
    }
    eprintln!(
        "dispatcher sweep on {}: {}",
        member.server,
        outcomes.join(" ")
    );
}

/// Reads after all the secrets went in: accounts (Installatron's return the
/// caller's records), on every server.
async fn reads(api: &Api, members: &[Member], seen: &mut Seen) {
    for member in members {
        let name = &member.server;
        let result = api
            .accounts()
            .get_account(GetAccountRequest {
                target: by_name(name),
                username: "keeper".into(),
            })
            .await;
        let account = seen.outcome(format!("{name}: GetAccount"), result);
        assert!(account.is_some(), "{name}: keeper is there");
        let result = api
            .accounts()
            .list_accounts(ListAccountsRequest {
                target: by_name(name),
                ..Default::default()
            })
            .await;
        seen.outcome(format!("{name}: ListAccounts"), result);
    }
}

/// The journal of this caller, every page and every entry, and a malformed
/// GetOperation: login links and replays are in it, no secret is.
async fn journal(api: &Api, subject: &str, seen: &mut Seen) {
    let mut operations = api.operations();
    let mut entries: Vec<OperationEntry> = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = operations
            .list_operations(ListOperationsRequest {
                caller: subject.to_owned(),
                page_size: 20,
                page_token,
                ..Default::default()
            })
            .await
            .expect("list operations")
            .into_inner();
        seen.page(
            format!("ListOperations (page {})", entries.len() / 20),
            &page,
            &page.next_page_token,
        );
        entries.extend(page.operations);
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    assert!(
        entries.iter().all(|entry| entry.caller == subject),
        "this caller's"
    );
    let logins = entries
        .iter()
        .filter(|entry| entry.method.ends_with("CreateLoginLink"))
        .count();
    assert!(logins >= 4, "login links are journalled: {entries:?}");
    assert!(
        entries
            .iter()
            .any(|entry| entry.method.ends_with("CreatePanelAdmin") && !entry.request_id.is_empty()),
        "idempotent calls are journalled with their request id"
    );
    for entry in &entries {
        let got = operations
            .get_operation(GetOperationRequest {
                id: entry.id.clone(),
            })
            .await
            .expect("get operation")
            .into_inner();
        seen.reply(format!("GetOperation {}", entry.method), &got);
    }
    let filtered = operations
        .list_operations(ListOperationsRequest {
            method: "AccountService/CreateAccount".into(),
            resource: "account/keeper".into(),
            ..Default::default()
        })
        .await
        .expect("list operations by method and resource")
        .into_inner();
    seen.page(
        "ListOperations (CreateAccount of keeper)",
        &filtered,
        &filtered.next_page_token,
    );
    let result = operations
        .get_operation(GetOperationRequest {
            id: "not-an-id".into(),
        })
        .await;
    seen.failure(
        "GetOperation (malformed id)",
        result,
        Code::InvalidArgument,
        "INVALID_FIELD",
    );
}
