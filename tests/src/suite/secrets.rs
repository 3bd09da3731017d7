//! Secrets on every panel: the panel's admin secret, account and database
//! passwords and login links go through every call that carries them,
//! succeeding and failing, and are then nowhere they must not be. Stamped
//! in the `secrets` test binary, whose TRACE log capture is its own.

use panelgate_proto::Capability;
use panelgate_proto::v1::{
    ApiTokenCredentials, ChangePasswordRequest, CheckServerRequest, CreateAccountRequest,
    CreateDatabaseRequest, CreateLoginLinkRequest, Credentials, GetAccountRequest,
    GetServerRequest, ListServersRequest, PasswordCredentials, UpdateServerRequest, credentials,
};
use tonic::{Code, Status};

use crate::{
    Backend, Gateway, Made, PanelFixture,
    errors::reason,
    gateway::by_name,
    secrets::{Secrets, Seen, assert_nothing_leaked, register_refused, with_secret_gateway},
};

/// A flow on one panel: its gateway, its simulator, its server's name.
struct Flow<F> {
    gateway: Gateway,
    fixture: F,
    server: String,
    supported: Vec<Capability>,
}

/// Drives every call that carries a secret (RegisterServer, CreateAccount,
/// ChangePassword and CreateDatabase where the panel has them,
/// CreateLoginLink, UpdateServer with new credentials) and failing ones
/// (invalid input holding a secret, credentials of the wrong form, a bad URL,
/// duplicates, credentials the panel refuses from the start or after an
/// update), then finds no secret in the TRACE log, in any error, in any reply
/// but the login link's own, or in the database at rest, while the log
/// provably captured these very calls. The gateway runs with this flow's
/// master key, called with a token it knows.
pub async fn secrets_never_leak<F: PanelFixture>(backend: Backend) {
    let mut secrets = Secrets::new(backend);
    let admin = secrets.make("admin secret", "Admin-Secret");
    let fixture = F::with_config(F::config_with_secret(&admin)).await;
    let kind = F::KIND.as_str_name().trim_start_matches("PANEL_KIND_");
    let server = format!("secrets-{kind}-{backend:?}").to_ascii_lowercase();

    let subject = format!("secrets-{}", F::SERVER);
    with_secret_gateway(
        backend,
        secrets,
        subject,
        |gateway, mut secrets, mut seen| async move {
            let registered = gateway
                .inventory()
                .register_server(fixture.register_request(
                    &server,
                    &fixture.base_url(),
                    F::credentials_with(&admin),
                ))
                .await
                .expect("register")
                .into_inner();
            seen.reply("RegisterServer", &registered);
            let supported = registered.server.expect("server").capabilities().collect();
            let flow = Flow {
                gateway,
                fixture,
                server,
                supported,
            };
            flow.succeeding_calls(&mut secrets, &mut seen).await;
            flow.failing_calls(&admin, &mut secrets, &mut seen).await;

            assert!(seen.failures.len() >= 6, "the failing calls were made");
            let mut mentions = vec![
                "InventoryService/RegisterServer",
                "InventoryService/UpdateServer",
                "AccountService/CreateAccount",
                "AccountService/CreateLoginLink",
            ];
            if flow.has(Capability::ChangePassword) {
                mentions.push("AccountService/ChangePassword");
            }
            if flow.has(Capability::CreateDatabase) {
                mentions.push("DatabaseService/CreateDatabase");
            }
            assert_nothing_leaked(&flow.gateway, &flow.server, &mentions, &secrets, &seen);
        },
    )
    .await;
}

impl<F: PanelFixture> Flow<F> {
    /// Whether the server declares `operation`.
    fn has(&self, operation: Capability) -> bool {
        self.supported.contains(&operation)
    }

    /// CreateAccount of `username` with `password` on the flow's server.
    fn account(&self, username: &str, password: &str) -> CreateAccountRequest {
        CreateAccountRequest {
            target: by_name(&self.server),
            username: username.to_owned(),
            primary_domain: format!("{username}.example"),
            email: format!("{username}@mail.example"),
            password: password.to_owned(),
            package: self.fixture.packages().0.to_owned(),
            panel_options: self.fixture.account_options(),
            ..Default::default()
        }
    }

    /// CreateDatabase `name` of `keeper` with `password`.
    fn database(&self, name: &str, password: &str) -> CreateDatabaseRequest {
        CreateDatabaseRequest {
            target: by_name(&self.server),
            username: "keeper".to_owned(),
            database_name: name.to_owned(),
            database_user: format!("{name}user"),
            database_password: password.to_owned(),
            ..Default::default()
        }
    }

    /// ChangePassword of `keeper` to `password`.
    async fn change_password(&self, password: String) -> Result<(), Status> {
        let request = ChangePasswordRequest {
            username: "keeper".to_owned(),
            password,
            ..Default::default()
        };
        self.gateway
            .accounts()
            .change_password(request)
            .await
            .map(drop)
    }

    /// A login link for `keeper`; its token is a secret from now on.
    async fn login_link(&self, secrets: &mut Secrets, what: &str) {
        let request = CreateLoginLinkRequest {
            target: by_name(&self.server),
            username: "keeper".to_owned(),
        };
        let link = self.gateway.accounts().create_login_link(request).await;
        let link = link.expect("login link").into_inner();
        // The token is what ends the URL: a query value or a path segment.
        let token = link.url.rsplit(['=', '/']).next().unwrap_or_default();
        assert!(token.len() >= 16, "a real token: {}", link.url);
        assert!(
            !format!("{link:?}").contains(token),
            "the login link reply's Debug redacts the URL"
        );
        secrets.learn(what, token);
    }

    /// UpdateServer of the flow's server with credentials carrying `secret`.
    async fn set_secret(&self, secret: &str, seen: &mut Seen, call: &str) {
        let request = UpdateServerRequest {
            target: by_name(&self.server),
            credentials: Some(F::credentials_with(secret)),
            ..Default::default()
        };
        let updated = self.gateway.inventory().update_server(request).await;
        seen.reply(call, &updated.expect("update credentials").into_inner());
    }

    /// Calls that succeed while carrying secrets; each reply is recorded, and
    /// the panel is checked to have received what was sent.
    async fn succeeding_calls(&self, secrets: &mut Secrets, seen: &mut Seen) {
        let mut inventory = self.gateway.inventory();
        let mut accounts = self.gateway.accounts();
        let target = || by_name(&self.server);
        let checked = inventory.check_server(CheckServerRequest { target: target() });
        let checked = checked.await.expect("check").into_inner();
        assert!(checked.healthy, "the admin secret works: {checked:?}");
        seen.reply("CheckServer", &checked);

        let password = secrets.make("account password", "Account-Pass");
        let created = accounts.create_account(self.account("keeper", &password));
        seen.reply(
            "CreateAccount",
            &created.await.expect("create").into_inner(),
        );
        if F::KEEPS_PASSWORDS {
            assert_eq!(self.fixture.password_of("keeper"), Some(password));
        }
        if self.has(Capability::ChangePassword) {
            let changed = secrets.make("changed password", "Changed-Pass");
            self.change_password(changed.clone())
                .await
                .expect("change password");
            assert_eq!(self.fixture.password_of("keeper"), Some(changed));
        }
        if self.has(Capability::CreateDatabase) {
            let password = secrets.make("database password", "Db-Pass");
            let request = self.database("shop", &password);
            let database = self.gateway.databases().create_database(request).await;
            seen.reply("CreateDatabase", &database.expect("database").into_inner());
            let made = self.fixture.count(Made::Database, "keeper", "shop");
            assert_eq!(made, Some(1), "the database is made");
        }
        // The login link is the point of its reply; its token is a secret elsewhere.
        self.login_link(secrets, "login link token").await;

        let account = accounts.get_account(GetAccountRequest {
            target: None,
            username: "keeper".into(),
        });
        seen.reply(
            "GetAccount",
            &account.await.expect("get account").into_inner(),
        );
        let got = inventory.get_server(GetServerRequest { target: target() });
        seen.reply("GetServer", &got.await.expect("get server").into_inner());
        let listed = inventory.list_servers(ListServersRequest::default());
        seen.reply(
            "ListServers",
            &listed.await.expect("list servers").into_inner(),
        );
    }

    /// Calls that fail with secrets aboard, each checked for its code and
    /// reason; then the server is given its right credentials back.
    async fn failing_calls(&self, admin: &str, secrets: &mut Secrets, seen: &mut Seen) {
        let mut inventory = self.gateway.inventory();
        let mut accounts = self.gateway.accounts();
        let invalid = (Code::InvalidArgument, "INVALID_FIELD");

        // Invalid input holding a secret: refused before any panel call.
        let bad = format!("{}\u{7}", secrets.make("invalid password", "Invalid-Pass"));
        let result = accounts.create_account(self.account("leaky", &bad)).await;
        seen.failure("CreateAccount (invalid)", result, invalid.0, invalid.1);
        if self.has(Capability::ChangePassword) {
            let long = secrets.make("over-long password", "Long-Pass");
            let result = self.change_password(format!("{long}-{}", "x".repeat(128)));
            seen.failure(
                "ChangePassword (invalid)",
                result.await,
                invalid.0,
                invalid.1,
            );
        }
        if self.has(Capability::CreateDatabase) {
            let bad = secrets.make("invalid database password", "Invalid-Db-Pass");
            let request = self.database("blog", &format!("{bad}\u{1b}"));
            let result = self.gateway.databases().create_database(request).await;
            seen.failure("CreateDatabase (invalid)", result, invalid.0, invalid.1);
        }
        let other_form = other_form::<F>(&secrets.make("credentials of another form", "Form"));
        let name = format!("{}-form", self.server);
        let request = self
            .fixture
            .register_request(&name, &self.fixture.base_url(), other_form);
        let result = inventory.register_server(request).await;
        seen.failure("RegisterServer (form)", result, invalid.0, invalid.1);
        let unstored = F::credentials_with(&secrets.make("secret with a bad URL", "Unstored"));
        let name = format!("{}-bad-url", self.server);
        let request = self
            .fixture
            .register_request(&name, "ftp://127.0.0.1/", unstored);
        let result = inventory.register_server(request).await;
        seen.failure("RegisterServer (bad URL)", result, invalid.0, invalid.1);

        // The panel refuses: a taken username, a database that exists.
        let duplicate = secrets.make("duplicate account password", "Dup-Pass");
        let result = accounts
            .create_account(self.account("keeper", &duplicate))
            .await;
        let exists = (Code::AlreadyExists, "ACCOUNT_ALREADY_EXISTS");
        seen.failure("CreateAccount (duplicate)", result, exists.0, exists.1);
        if self.has(Capability::CreateDatabase) {
            let duplicate = secrets.make("duplicate database password", "Dup-Db-Pass");
            let request = self.database("shop", &duplicate);
            let result = self.gateway.databases().create_database(request).await;
            let status = result.expect_err("a second `shop` database is refused");
            assert!(!reason(&status).is_empty(), "{status:?}");
            seen.failures
                .push(("CreateDatabase (duplicate)".to_owned(), status));
        }

        // Wrong panel credentials, registered from the start.
        let wrong = F::credentials_with(&secrets.make("wrong admin secret", "Wrong-Secret"));
        let name = format!("{}-wrong", self.server);
        let request = self
            .fixture
            .register_request(&name, &self.fixture.base_url(), wrong);
        register_refused(&self.gateway, request, "credentials", seen).await;

        // UpdateServer with a secret the panel does not take, then back.
        let rotated = secrets.make("rotated admin secret", "Rotated-Secret");
        self.set_secret(&rotated, seen, "UpdateServer").await;
        let refused = secrets.make("password sent with refused credentials", "Refused-Pass");
        let result = if self.has(Capability::ChangePassword) {
            self.change_password(refused).await
        } else {
            accounts
                .create_account(self.account("refused", &refused))
                .await
                .map(drop)
        };
        let rejected = (Code::FailedPrecondition, "PANEL_CREDENTIALS_REJECTED");
        seen.failure(
            "a call with rotated credentials",
            result,
            rejected.0,
            rejected.1,
        );
        self.set_secret(admin, seen, "UpdateServer (restore)").await;
        self.login_link(secrets, "second login link token").await;
    }
}

/// Credentials of the other form than the panel's, carrying `secret`.
fn other_form<F: PanelFixture>(secret: &str) -> Credentials {
    let kind = match F::credentials_with(secret).kind {
        Some(credentials::Kind::Password(_)) => credentials::Kind::ApiToken(ApiTokenCredentials {
            token: secret.to_owned(),
        }),
        _ => credentials::Kind::Password(PasswordCredentials {
            username: "admin".to_owned(),
            password: secret.to_owned(),
        }),
    };
    Credentials { kind: Some(kind) }
}
