//! The hosting calls of every panel that carry secrets, first calls and
//! replays of their request ids.

use panelgate_proto::v1::{
    ChangePasswordRequest, CreateAccountRequest, CreateDatabaseRequest, CreateLoginLinkRequest,
    CreatePanelAdminRequest, ListPanelAdminsRequest, PanelKind,
};
use panelgate_tests::gateway::by_name;
use prost::Message;
use tonic::Code;

use panelgate_tests::secrets::{Secrets, Seen, link_token};

use super::super::Api;

use super::{Fleet, Member};

/// The secret-bearing hosting calls on one server, each with a request id:
/// CreateAccount (replayed, its id reused with another password, a
/// duplicate stored and replayed as a failure), ChangePassword,
/// CreateDatabase, CreatePanelAdmin (each replayed, or refused where the
/// panel cannot), CreateLoginLink (never stored).
pub(super) async fn hosting_calls(
    api: &Api,
    fleet: &Fleet,
    member: &Member,
    secrets: &mut Secrets,
    seen: &mut Seen,
    rid: &impl Fn(&str) -> String,
) {
    use panelgate_proto::Capability as Op;
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
