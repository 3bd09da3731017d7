//! SPanel (ScalaHosting): one action-based endpoint, `POST <folder>/api.php`.
//!
//! See `shared/panels/source-docs/spanel-*.txt` and REFERENCE §3. The server's
//! `base_url` includes the panel's folder: `https://host/spanel/` (or the
//! white-label `https://host/hostpanel/`). What this adapter does beyond a
//! one-to-one mapping:
//! - Bodies are encoded exactly as PHP's `http_build_query` does
//!   (`permissions[domain][0]=domains`), fields in the doc's order.
//! - CreateAccount is `accounts/wwwacct` with the package (whose limits and
//!   permissions then apply), followed by `accounts/changeuseremail` (wwwacct
//!   takes no email); if that fails, the account is terminated again and the
//!   failure reported.
//! - GetAccount and ListAccounts read `accounts/listaccounts`, which has no
//!   email address: `email` stays empty.
//! - AddDomain adds subdomains (`domain/addsubdomain`): the API has no addon
//!   domains. DeleteDomain needs the owning account (`domain/removedomain` is a
//!   user function): named by the caller, or found as the account whose main
//!   domain the domain is under.
//! - CreateDatabase is `mysql/createmysqluser` then `mysql/createmysqldatabase`;
//!   SPanel's API cannot delete a database user, so when the second step fails
//!   the error says that the user of the first step remains.
//! - The canonical domain limit counts the primary domain; SPanel's counts
//!   additional domains (one less).
//! - Login links use `base/sso` with role `user`; the token needs SPanel's SSO
//!   option, else FAILED_PRECONDITION `PANEL_SSO_DISABLED`.

mod client;
mod error;
mod mapping;
mod php_query;

pub use self::error::ERRORS;

use std::sync::Arc;

use async_trait::async_trait;
use panelgate_proto::v1::{
    Account, AccountStatus, AccountUsage, CreateLoginLinkResponse, Database, Domain, DomainStatus,
    Operation, Package, PanelAdmin, PanelKind, create_package_request, create_panel_admin_request,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use tracing::warn;

use self::{
    client::{Client, data},
    error::Subject,
    php_query::PhpValue,
};
use crate::{
    AccountUpdate, AdapterError, Entity, Listed, NewAccount, NewDatabase, NewDomain, NewPackage,
    NewPanelAdmin, PackageRef, Panel, PanelCheck, PanelDescription, Slice,
    earlier::{Earlier, created_as},
    kind::{Built, Login, Parts},
};

/// A package's whole definition, as createpackage and modifypackage take it:
/// name, limits, then permissions (every page when the caller gave none).
fn package_definition(package: &NewPackage) -> Result<Vec<(String, PhpValue)>, AdapterError> {
    let permissions = match &package.options {
        Some(create_package_request::PanelOptions::Spanel(options)) => options.permissions.as_ref(),
        // Options for other kinds never get here: the gateway refuses them.
        _ => None,
    };
    let permissions = match permissions {
        Some(permissions) => mapping::permissions("panel_options.spanel.permissions", permissions)?,
        None => PhpValue::from("all"),
    };
    let mut fields = vec![field("package", package.name.as_str())];
    fields.extend(mapping::package_fields(&package.limits)?);
    fields.push(field("permissions", permissions));
    Ok(fields)
}

fn package_subject(package: &NewPackage) -> Subject<'_> {
    Subject::new(&package.name).with_fields(&[
        ("permission", "panel_options.spanel.permissions"),
        ("package name", "name"),
        ("disk quota", "limits.disk_mib"),
    ])
}

/// The name in a success message such as "The username alice_db has been
/// created successfully".
fn named_in_message(body: &Value) -> Option<String> {
    let message = body.get("data")?.get("msg")?.as_str()?;
    let (_, rest) = message.split_once("The username ")?;
    let name = rest.split_whitespace().next()?;
    Some(name.to_owned())
}

/// The SPanel panel kind.
pub(crate) const PANEL: PanelDescription = PanelDescription {
    kind: PanelKind::Spanel,
    name: "spanel",
    title: "SPanel",
    capabilities: &[
        Operation::CreateAccount,
        Operation::GetAccount,
        Operation::ListAccounts,
        Operation::UpdateAccount,
        Operation::SuspendAccount,
        Operation::UnsuspendAccount,
        Operation::DeleteAccount,
        Operation::ChangePackage,
        Operation::ChangePassword,
        Operation::CreateLoginLink,
        Operation::GetAccountUsage,
        Operation::ListPackages,
        Operation::GetPackage,
        Operation::CreatePackage,
        Operation::UpdatePackage,
        Operation::DeletePackage,
        Operation::AddDomain,
        Operation::DeleteDomain,
        Operation::CreateDatabase,
        Operation::CreatePanelAdmin,
        Operation::ListPanelAdmins,
    ],
    login: Login::ApiToken(Spanel::build),
};

/// The SPanel adapter for one server.
struct Spanel {
    client: Client,
}

fn field(key: &str, value: impl Into<PhpValue>) -> (String, PhpValue) {
    (key.to_owned(), value.into())
}

impl Spanel {
    /// An adapter calling with the server's admin API token.
    fn build(parts: Parts, token: SecretString) -> Built {
        Ok(Arc::new(Spanel {
            client: Client::new(parts.http, token),
        }))
    }

    /// The `listaccounts` rows, of one account when `username` is given.
    async fn account_rows(&self, username: Option<&str>) -> Result<Vec<Value>, AdapterError> {
        let fields = username
            .map(|user| field("accountuser", user))
            .into_iter()
            .collect();
        let subject = Subject::new(username.unwrap_or("*"));
        let body = self
            .client
            .admin("accounts/listaccounts", fields, subject)
            .await?;
        match data(&body, "accounts/listaccounts")? {
            Value::Array(rows) => Ok(rows.clone()),
            _ => Err(AdapterError::protocol(
                "accounts/listaccounts answered without a list",
                "",
            )),
        }
    }

    /// The one `listaccounts` row of `username`.
    async fn account_row(&self, username: &str) -> Result<Value, AdapterError> {
        self.account_rows(Some(username))
            .await?
            .into_iter()
            .find(|row| {
                row.get("user")
                    .and_then(Value::as_str)
                    .is_some_and(|user| user.eq_ignore_ascii_case(username))
            })
            .ok_or_else(|| AdapterError::NotFound {
                entity: Entity::Account,
                key: username.to_owned(),
                upstream: None,
            })
    }

    /// The second step of a create: wwwacct takes no email.
    async fn set_email(&self, account: &NewAccount) -> Result<(), AdapterError> {
        let email = vec![field("email", account.email.as_str())];
        self.account_call(
            "accounts/changeuseremail",
            &account.username,
            email,
            &[("email", "email")],
        )
        .await
    }

    async fn account_call(
        &self,
        action: &str,
        username: &str,
        mut fields: Vec<(String, PhpValue)>,
        subject_fields: &[(&str, &str)],
    ) -> Result<(), AdapterError> {
        fields.insert(0, field("username", username));
        let subject = Subject::new(username).with_fields(subject_fields);
        self.client.admin(action, fields, subject).await.map(drop)
    }
}

#[async_trait]
impl Panel for Spanel {
    fn capabilities(&self) -> &'static [Operation] {
        PANEL.capabilities
    }

    async fn check(&self) -> Result<PanelCheck, AdapterError> {
        self.client
            .admin("toolbox/apicheck", Vec::new(), Subject::new("apicheck"))
            .await?;
        Ok(PanelCheck::default())
    }

    /// An earlier attempt may have done wwwacct but not changeuseremail:
    /// the email is set again (harmless to repeat; listaccounts does not
    /// report it to check).
    async fn earlier_account(
        &self,
        account: &NewAccount,
    ) -> Result<Earlier<Account>, AdapterError> {
        let Earlier::Made(existing) =
            created_as(self.get_account(&account.username).await, account)?
        else {
            return Ok(Earlier::Absent);
        };
        self.set_email(account).await?;
        Ok(Earlier::Made(Account {
            email: account.email.clone(),
            ..existing
        }))
    }

    async fn create_account(&self, account: &NewAccount) -> Result<Account, AdapterError> {
        let fields = vec![
            field("username", account.username.as_str()),
            field("domain", account.primary_domain.as_str()),
            field("password", account.password.expose_secret()),
            field("package", account.package.name.as_str()),
        ];
        let subject = Subject::new(&account.username).with_fields(&[
            ("password", "password"),
            ("package", "package"),
            ("domain", "primary_domain"),
            ("username", "username"),
        ]);
        self.client
            .admin("accounts/wwwacct", fields, subject)
            .await?;
        if let Err(failure) = self.set_email(account).await {
            let removed = self
                .account_call(
                    "accounts/terminateaccount",
                    &account.username,
                    Vec::new(),
                    &[],
                )
                .await;
            return Err(match removed {
                Ok(()) => failure,
                Err(cleanup) => {
                    warn!(username = %account.username, error = %cleanup, "could not remove a half-created account");
                    AdapterError::OperationFailed {
                        upstream: format!(
                            "{failure}; the account `{}` was created without its email and could not be removed ({cleanup})",
                            account.username
                        ),
                    }
                }
            });
        }
        Ok(Account {
            username: account.username.clone(),
            primary_domain: account.primary_domain.clone(),
            email: account.email.clone(),
            package: account.package.name.clone(),
            status: AccountStatus::Active.into(),
            ..Default::default()
        })
    }

    async fn get_account(&self, username: &str) -> Result<Account, AdapterError> {
        Ok(mapping::account(&self.account_row(username).await?))
    }

    async fn list_accounts(&self, page: Slice) -> Result<Listed<Account>, AdapterError> {
        let accounts = self
            .account_rows(None)
            .await?
            .iter()
            .map(mapping::account)
            .collect();
        Ok(Listed::slice(accounts, page))
    }

    async fn update_account(&self, update: &AccountUpdate) -> Result<(), AdapterError> {
        if update.first_name.is_some() || update.last_name.is_some() {
            let field = if update.first_name.is_some() {
                "first_name"
            } else {
                "last_name"
            };
            return Err(AdapterError::invalid(field, "SPanel keeps no owner names"));
        }
        if let Some(email) = &update.email {
            let fields = vec![field("email", email.as_str())];
            self.account_call(
                "accounts/changeuseremail",
                &update.username,
                fields,
                &[("email", "email")],
            )
            .await?;
        }
        if let Some(domain) = &update.primary_domain {
            let fields = vec![field("domain", domain.as_str())];
            let changed = self
                .account_call(
                    "accounts/changedomain",
                    &update.username,
                    fields,
                    &[("domain", "primary_domain")],
                )
                .await;
            if let (Err(failure), Some(_)) = (&changed, &update.email) {
                warn!(username = %update.username, error = %failure, "email changed, main domain not");
            }
            changed?;
        }
        Ok(())
    }

    async fn suspend_account(&self, username: &str, reason: &str) -> Result<(), AdapterError> {
        let fields = if reason.is_empty() {
            Vec::new()
        } else {
            vec![field("reason", reason)]
        };
        self.account_call("accounts/suspendaccount", username, fields, &[])
            .await
    }

    async fn unsuspend_account(&self, username: &str) -> Result<(), AdapterError> {
        self.account_call("accounts/unsuspendaccount", username, Vec::new(), &[])
            .await
    }

    async fn delete_account(&self, username: &str) -> Result<(), AdapterError> {
        self.account_call("accounts/terminateaccount", username, Vec::new(), &[])
            .await
    }

    async fn change_package(
        &self,
        username: &str,
        package: &PackageRef,
    ) -> Result<(), AdapterError> {
        let fields = vec![field("package", package.name.as_str())];
        self.account_call(
            "accounts/changequota",
            username,
            fields,
            &[("package", "package")],
        )
        .await
    }

    async fn change_password(
        &self,
        username: &str,
        password: &SecretString,
    ) -> Result<(), AdapterError> {
        let fields = vec![field("password", password.expose_secret())];
        self.account_call(
            "accounts/changeuserpassword",
            username,
            fields,
            &[("password", "password")],
        )
        .await
    }

    async fn create_login_link(
        &self,
        username: &str,
    ) -> Result<CreateLoginLinkResponse, AdapterError> {
        let fields = vec![field("username", username), field("role", "user")];
        let body = self
            .client
            .admin("base/sso", fields, Subject::new(username))
            .await?;
        // The URL carries a login token: never quote this body in an error.
        let url = body
            .get("data")
            .and_then(|data| data.get("url"))
            .and_then(Value::as_str)
            .filter(|url| !url.is_empty())
            .ok_or_else(|| AdapterError::protocol("base/sso answered without a URL", ""))?;
        Ok(CreateLoginLinkResponse {
            url: url.to_owned(),
            expire_time: None,
        })
    }

    async fn get_account_usage(&self, username: &str) -> Result<AccountUsage, AdapterError> {
        Ok(mapping::usage(&self.account_row(username).await?))
    }

    async fn list_packages(&self) -> Result<Vec<Package>, AdapterError> {
        let body = self
            .client
            .admin("accounts/listpackages", Vec::new(), Subject::new("*"))
            .await?;
        match data(&body, "accounts/listpackages")? {
            Value::Array(rows) => Ok(rows.iter().map(mapping::package).collect()),
            Value::Object(rows) => Ok(rows.values().map(mapping::package).collect()),
            _ => Err(AdapterError::protocol(
                "accounts/listpackages answered without a list",
                "",
            )),
        }
    }

    async fn create_package(&self, package: &NewPackage) -> Result<Package, AdapterError> {
        let body = self
            .client
            .admin(
                "accounts/createpackage",
                package_definition(package)?,
                package_subject(package),
            )
            .await?;
        // The reply lists every package, keyed by name: ours is the one created.
        data(&body, "accounts/createpackage")?
            .get("packagelist")
            .and_then(|list| list.get(&package.name))
            .map(mapping::package)
            .ok_or_else(|| {
                AdapterError::protocol(
                    format!("createpackage's packagelist lacks `{}`", package.name),
                    "",
                )
            })
    }

    async fn update_package(&self, package: &NewPackage) -> Result<Package, AdapterError> {
        self.client
            .admin(
                "accounts/modifypackage",
                package_definition(package)?,
                package_subject(package),
            )
            .await?;
        self.get_package(&package.name).await
    }

    async fn delete_package(&self, package: &PackageRef) -> Result<(), AdapterError> {
        let fields = vec![field("package", package.name.as_str())];
        self.client
            .admin(
                "accounts/removepackage",
                fields,
                Subject::new(&package.name),
            )
            .await
            .map(drop)
    }

    async fn add_domain(&self, domain: &NewDomain) -> Result<Domain, AdapterError> {
        let Some((label, parent)) = domain
            .domain
            .split_once('.')
            .filter(|(_, parent)| parent.contains('.'))
        else {
            return Err(AdapterError::invalid(
                "domain",
                "SPanel's API adds subdomains only: give a name under one of the account's domains",
            ));
        };
        let mut fields = vec![field("domain", parent), field("subdomain", label)];
        if let Some(path) = &domain.document_root {
            fields.push(field("path", path.as_str()));
        }
        let subject = Subject::new(&domain.domain).with_fields(&[
            ("path", "document_root"),
            ("domain", "domain"),
            ("subdomain", "domain"),
        ]);
        self.client
            .user("domain/addsubdomain", &domain.username, fields, subject)
            .await?;
        Ok(Domain {
            name: domain.domain.clone(),
            username: domain.username.clone(),
            document_root: domain.document_root.clone().unwrap_or_default(),
            status: DomainStatus::Active.into(),
            panel_domain_id: String::new(),
        })
    }

    async fn delete_domain(&self, domain: &str, owner: Option<&str>) -> Result<(), AdapterError> {
        let owner = match owner {
            Some(owner) => owner.to_owned(),
            None => self
                .account_rows(None)
                .await?
                .iter()
                .find_map(|row| {
                    let main = row.get("domain")?.as_str()?;
                    let under = domain == main || domain.ends_with(&format!(".{main}"));
                    under.then(|| row.get("user")?.as_str().map(str::to_owned)).flatten()
                })
                .ok_or_else(|| {
                    AdapterError::invalid("username", format!("name the account that owns `{domain}`: no account's main domain holds it"))
                })?,
        };
        let fields = vec![field("domain", domain)];
        self.client
            .user("domain/removedomain", &owner, fields, Subject::new(domain))
            .await
            .map(drop)
    }

    async fn create_database(&self, database: &NewDatabase) -> Result<Database, AdapterError> {
        let user_fields = vec![
            field("username", database.user.as_str()),
            field("password", database.password.expose_secret()),
        ];
        let subject = Subject::new(&database.user).with_fields(&[
            ("password", "database_password"),
            ("username", "database_user"),
        ]);
        let created = self
            .client
            .user(
                "mysql/createmysqluser",
                &database.username,
                user_fields,
                subject,
            )
            .await;
        let panel_user = match created {
            // The panel prefixes the name with the account's; its message says how.
            Ok(created) => {
                Some(named_in_message(&created).unwrap_or_else(|| database.user.clone()))
            }
            // A retry goes on past the user its earlier attempt made.
            Err(AdapterError::AlreadyExists {
                entity: Entity::DatabaseUser,
                ..
            }) if database.resuming => None,
            Err(err) => return Err(err),
        };
        let database_fields = vec![
            field("database", database.name.as_str()),
            field("username", database.user.as_str()),
        ];
        let subject = Subject::new(&database.name).with_fields(&[("database", "database_name")]);
        self.client
            .user("mysql/createmysqldatabase", &database.username, database_fields, subject)
            .await
            .map_err(|failure| match &panel_user {
                Some(panel_user) => failure.with_note(&format!(
                    "the database user `{panel_user}` created just before remains on the panel (SPanel's API cannot delete it)"
                )),
                None => failure,
            })?;
        Ok(Database {
            name: database.name.clone(),
            user: database.user.clone(),
            username: database.username.clone(),
        })
    }

    async fn create_panel_admin(&self, admin: &NewPanelAdmin) -> Result<PanelAdmin, AdapterError> {
        let granted = match &admin.options {
            Some(create_panel_admin_request::PanelOptions::Spanel(options)) => {
                options.permissions.as_ref()
            }
            None => None,
        };
        let permissions = match (admin.full_access, granted) {
            (true, None) => PhpValue::from("all"),
            (false, Some(granted)) => {
                mapping::permissions("panel_options.spanel.permissions", granted)?
            }
            (true, Some(_)) => {
                return Err(AdapterError::invalid(
                    "full_access",
                    "set full_access or panel_options.spanel.permissions, not both",
                ));
            }
            (false, None) => {
                return Err(AdapterError::invalid(
                    "panel_options.spanel.permissions",
                    "required unless full_access is set",
                ));
            }
        };
        let fields = vec![
            field("username", admin.username.as_str()),
            field("password", admin.password.expose_secret()),
            field("permissions", permissions),
        ];
        let subject = Subject::new(&admin.username).with_fields(&[
            ("permission", "panel_options.spanel.permissions"),
            ("password", "password"),
            ("username", "username"),
        ]);
        self.client
            .admin("admin/createadminuser", fields, subject)
            .await?;
        let created = self.list_panel_admins().await?;
        created
            .into_iter()
            .find(|listed| listed.username.eq_ignore_ascii_case(&admin.username))
            .ok_or_else(|| {
                AdapterError::protocol(
                    format!("admin `{}` was created but is not listed", admin.username),
                    "",
                )
            })
    }

    async fn list_panel_admins(&self) -> Result<Vec<PanelAdmin>, AdapterError> {
        let body = self
            .client
            .admin("admin/listadminusers", Vec::new(), Subject::new("*"))
            .await?;
        match data(&body, "admin/listadminusers")? {
            Value::Array(rows) => Ok(rows.iter().map(mapping::panel_admin).collect()),
            _ => Err(AdapterError::protocol(
                "admin/listadminusers answered without a list",
                "",
            )),
        }
    }
}
