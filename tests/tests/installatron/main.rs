//! Installatron Server end to end: the real gateway over real gRPC, in front of
//! the Installatron simulator over real HTTP.
//!
//! Installatron keeps records: users with their websites (paths, vhosts) and
//! the credentials of their databases. Every test checks what a canonical call
//! did to those records on the simulated panel itself (`sim.user(..)`, the
//! stored JSON exactly as `GET /users/{id}` shows it; `sim.user_count()`), and
//! most check what reached the panel (`sim.received()`: method, path with
//! query, headers, raw JSON body).
//!
//! Unless a test says otherwise the simulator runs with its default key and is
//! registered as `installatron`. These tests run on SQLite (the source doc's
//! example on both databases): what every panel shares, the cross-panel suite
//! (`tests/conformance.rs`) runs on both.
//!
//! - `example`: the source doc's example user, as data;
//! - `records`: CreateAccount's records, and users it must never make;
//! - `accounts`: every other user endpoint through its canonical RPC;
//! - `websites`: domains and databases, recorded on the websites list,
//!   which is read, changed and written back whole;
//! - `dry_runs`: validate_only asks `dryrun=all` and changes nothing;
//! - `refusals`: success is `result`, errfield and errcode are read.

mod accounts;
mod dry_runs;
mod example;
mod records;
mod refusals;
mod websites;

use std::collections::BTreeMap;

use async_trait::async_trait;
use panelgate_proto::v1::{
    Account, AddDomainRequest, AddDomainResponse, ChangePackageRequest, ChangePackageResponse,
    CreateAccountRequest, CreateDatabaseRequest, CreateDatabaseResponse, DeleteAccountRequest,
    DeleteAccountResponse, DeleteDomainRequest, DeleteDomainResponse, InstallatronAccountOptions,
    InstallatronDatabase, InstallatronWebsite, ListAccountsRequest, ListAccountsResponse,
    SuspendAccountRequest, SuspendAccountResponse, UnsuspendAccountRequest,
    UnsuspendAccountResponse, UpdateAccountRequest, UpdateAccountResponse, Validation, account,
    create_account_request,
};
use panelgate_sim::InstallatronRequest;
use panelgate_tests::{
    InstallatronFixture, Panel, errors::assert_invalid_because, errors::metadata,
};
use serde_json::Value;
use tonic::Status;

/// A gateway with a fresh Installatron simulator registered as `installatron`.
type Ia = Panel<InstallatronFixture>;

/// The user of the source doc's example.
const DOC_USER: &str = "useraccountname";
/// CreateAccount needs a password; Installatron keeps none.
const PASSWORD: &str = "unused-password-1";
/// The package every test account gets (Installatron packages are free text).
const PACKAGE: &str = "gold";
/// A remote path with credentials, on a host that connects.
const SFTP_PATH: &str = "sftp://ftpuser:ftppass@files.example/home";

/// What the Installatron tests ask of their panel beyond [`Panel`]: the
/// users as stored, and calls whose whole reply (and its
/// validation, for dry runs) matters.
#[async_trait]
trait Installatron {
    /// The user as the panel stores it.
    fn user(&self, username: &str) -> Value;
    /// The stored user as text, to compare byte for byte.
    fn snapshot(&self, username: &str) -> String;
    /// The websites of the stored user.
    fn websites(&self, username: &str) -> Vec<Value>;
    /// Creates the source doc's user with the doc's websites.
    async fn create_doc_user(&self) -> Account;
    /// CreateAccount of `request`, or its check.
    async fn accounts_page(&self, page_size: i32, page_token: &str) -> ListAccountsResponse;
    /// UpdateAccount of `request`.
    async fn update_reply(
        &self,
        request: UpdateAccountRequest,
    ) -> Result<UpdateAccountResponse, Status>;
    /// SuspendAccount of `username`, or its check.
    async fn suspend_reply(
        &self,
        username: &str,
        validate_only: bool,
    ) -> Result<SuspendAccountResponse, Status>;
    /// UnsuspendAccount of `username`, or its check.
    async fn unsuspend_reply(
        &self,
        username: &str,
        validate_only: bool,
    ) -> Result<UnsuspendAccountResponse, Status>;
    /// DeleteAccount of `username`, or its check.
    async fn delete_reply(
        &self,
        username: &str,
        validate_only: bool,
    ) -> Result<DeleteAccountResponse, Status>;
    /// ChangePackage of `username` to `package`, or its check.
    async fn change_package_reply(
        &self,
        username: &str,
        package: &str,
        validate_only: bool,
    ) -> Result<ChangePackageResponse, Status>;
    /// AddDomain of `request`.
    async fn add_domain_reply(
        &self,
        request: AddDomainRequest,
    ) -> Result<AddDomainResponse, Status>;
    /// DeleteDomain, or its check; an empty `username` leaves the owner to the adapter.
    async fn delete_domain_reply(
        &self,
        domain: &str,
        username: &str,
        validate_only: bool,
    ) -> Result<DeleteDomainResponse, Status>;
    /// CreateDatabase of `request`.
    async fn create_database_reply(
        &self,
        request: CreateDatabaseRequest,
    ) -> Result<CreateDatabaseResponse, Status>;
}

#[async_trait]
impl Installatron for Ia {
    #[track_caller]
    fn user(&self, username: &str) -> Value {
        self.sim
            .user(username)
            .unwrap_or_else(|| panic!("{username} on the panel"))
    }

    #[track_caller]
    fn snapshot(&self, username: &str) -> String {
        self.user(username).to_string()
    }

    #[track_caller]
    fn websites(&self, username: &str) -> Vec<Value> {
        self.user(username)["websites"]
            .as_array()
            .cloned()
            .unwrap_or_else(|| panic!("{username} has a websites list"))
    }

    async fn create_doc_user(&self) -> Account {
        let created = self.create_account(example::doc_request()).await;
        created.unwrap_or_else(|status| panic!("create the doc's user: {status:?}"))
    }

    async fn accounts_page(&self, page_size: i32, page_token: &str) -> ListAccountsResponse {
        let request = ListAccountsRequest {
            target: self.target(),
            page_size,
            page_token: page_token.to_owned(),
        };
        let reply = self.gateway.accounts().list_accounts(request).await;
        reply.expect("list accounts").into_inner()
    }

    async fn update_reply(
        &self,
        request: UpdateAccountRequest,
    ) -> Result<UpdateAccountResponse, Status> {
        let request = UpdateAccountRequest {
            target: self.target(),
            ..request
        };
        let reply = self.gateway.accounts().update_account(request).await;
        reply.map(tonic::Response::into_inner)
    }

    async fn suspend_reply(
        &self,
        username: &str,
        validate_only: bool,
    ) -> Result<SuspendAccountResponse, Status> {
        let request = SuspendAccountRequest {
            target: self.target(),
            username: username.to_owned(),
            reason: "unpaid".to_owned(),
            validate_only,
            ..Default::default()
        };
        let reply = self.gateway.accounts().suspend_account(request).await;
        reply.map(tonic::Response::into_inner)
    }

    async fn unsuspend_reply(
        &self,
        username: &str,
        validate_only: bool,
    ) -> Result<UnsuspendAccountResponse, Status> {
        let request = UnsuspendAccountRequest {
            target: self.target(),
            username: username.to_owned(),
            validate_only,
            ..Default::default()
        };
        let reply = self.gateway.accounts().unsuspend_account(request).await;
        reply.map(tonic::Response::into_inner)
    }

    async fn delete_reply(
        &self,
        username: &str,
        validate_only: bool,
    ) -> Result<DeleteAccountResponse, Status> {
        let request = DeleteAccountRequest {
            target: self.target(),
            username: username.to_owned(),
            validate_only,
            ..Default::default()
        };
        let reply = self.gateway.accounts().delete_account(request).await;
        reply.map(tonic::Response::into_inner)
    }

    async fn change_package_reply(
        &self,
        username: &str,
        package: &str,
        validate_only: bool,
    ) -> Result<ChangePackageResponse, Status> {
        let request = ChangePackageRequest {
            target: self.target(),
            username: username.to_owned(),
            package: package.to_owned(),
            validate_only,
            ..Default::default()
        };
        let reply = self.gateway.accounts().change_package(request).await;
        reply.map(tonic::Response::into_inner)
    }

    async fn add_domain_reply(
        &self,
        request: AddDomainRequest,
    ) -> Result<AddDomainResponse, Status> {
        let request = AddDomainRequest {
            target: self.target(),
            ..request
        };
        let reply = self.gateway.domains().add_domain(request).await;
        reply.map(tonic::Response::into_inner)
    }

    async fn delete_domain_reply(
        &self,
        domain: &str,
        username: &str,
        validate_only: bool,
    ) -> Result<DeleteDomainResponse, Status> {
        let request = DeleteDomainRequest {
            target: self.target(),
            domain: domain.to_owned(),
            username: username.to_owned(),
            validate_only,
            ..Default::default()
        };
        let reply = self.gateway.domains().delete_domain(request).await;
        reply.map(tonic::Response::into_inner)
    }

    async fn create_database_reply(
        &self,
        request: CreateDatabaseRequest,
    ) -> Result<CreateDatabaseResponse, Status> {
        let request = CreateDatabaseRequest {
            target: self.target(),
            ..request
        };
        let reply = self.gateway.databases().create_database(request).await;
        reply.map(tonic::Response::into_inner)
    }
}

/// CreateAccount of `username` with primary domain `<username>.example` and
/// no panel options (target filled in by [`Ia`]).
fn new_account(username: &str) -> CreateAccountRequest {
    CreateAccountRequest {
        username: username.to_owned(),
        primary_domain: format!("{username}.example"),
        email: format!("{username}@mail.example"),
        password: PASSWORD.to_owned(),
        package: PACKAGE.to_owned(),
        ..Default::default()
    }
}

/// [`new_account`] recording these websites.
fn with_websites(username: &str, websites: Vec<InstallatronWebsite>) -> CreateAccountRequest {
    CreateAccountRequest {
        panel_options: Some(create_account_request::PanelOptions::Installatron(
            InstallatronAccountOptions {
                websites,
                ..Default::default()
            },
        )),
        ..new_account(username)
    }
}

fn vhosts(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|&(url, root)| (url.to_owned(), root.to_owned()))
        .collect()
}

/// A MySQL database whose user is named like it.
fn database(host: &str, name: &str, password: &str) -> InstallatronDatabase {
    InstallatronDatabase {
        r#type: "mysql".to_owned(),
        host: host.to_owned(),
        name: name.to_owned(),
        user: name.to_owned(),
        password: password.to_owned(),
    }
}

/// A remote website labelled `domain`, served at http:// and https:// of it.
fn site(path: &str, domain: &str) -> InstallatronWebsite {
    InstallatronWebsite {
        path: path.to_owned(),
        label: domain.to_owned(),
        vhosts: vhosts(&[
            (&format!("http://{domain}"), "public_html"),
            (&format!("https://{domain}"), "public_html"),
        ]),
        ..Default::default()
    }
}

/// The Installatron websites an account reports.
#[track_caller]
fn websites_of(account: &Account) -> &[InstallatronWebsite] {
    match &account.panel_details {
        Some(account::PanelDetails::Installatron(details)) => &details.websites,
        None => panic!("no Installatron details in {account:?}"),
    }
}

/// Compares websites field by field (the Debug of a website hides its path's
/// credentials and its passwords, so a whole-message diff would not show
/// them), then as whole messages.
#[track_caller]
fn assert_same_websites(got: &[InstallatronWebsite], want: &[InstallatronWebsite]) {
    assert_eq!(got.len(), want.len(), "number of websites");
    for (i, (got, want)) in got.iter().zip(want).enumerate() {
        assert_eq!(got.path, want.path, "websites[{i}].path");
        assert_eq!(got.label, want.label, "websites[{i}].label");
        assert_eq!(got.server, want.server, "websites[{i}].server");
        assert_eq!(got.vhosts, want.vhosts, "websites[{i}].vhosts");
        assert_eq!(got.uid, want.uid, "websites[{i}].uid");
        assert_eq!(got.gid, want.gid, "websites[{i}].gid");
        assert_eq!(got.language, want.language, "websites[{i}].language");
        assert_eq!(got.suspended, want.suspended, "websites[{i}].suspended");
        assert_eq!(got.vhost_ip, want.vhost_ip, "websites[{i}].vhost_ip");
        assert_eq!(got.email, want.email, "websites[{i}].email");
        assert_eq!(got.parent, want.parent, "websites[{i}].parent");
        assert_eq!(got.databases.len(), want.databases.len(), "websites[{i}]");
        for (j, (got, want)) in got.databases.iter().zip(&want.databases).enumerate() {
            let at = format!("websites[{i}].databases[{j}]");
            assert_eq!(got.r#type, want.r#type, "{at}.type");
            assert_eq!(got.host, want.host, "{at}.host");
            assert_eq!(got.name, want.name, "{at}.name");
            assert_eq!(got.user, want.user, "{at}.user");
            assert_eq!(got.password, want.password, "{at}.password");
        }
        assert_eq!(got, want, "websites[{i}] as a whole");
    }
}

/// Asserts the panel refused `field` (its errfield, as a canonical path):
/// INVALID_ARGUMENT naming it in BadRequest, described in the panel's words,
/// which `upstream_message` carries too, with the server in ErrorInfo.
#[track_caller]
fn assert_refused<T: std::fmt::Debug>(
    ia: &Ia,
    result: Result<T, Status>,
    field: &str,
    upstream_message: &str,
) -> Status {
    let status = assert_invalid_because(result, field, upstream_message);
    assert_eq!(metadata(&status, "server_id"), ia.id, "{status:?}");
    assert_eq!(metadata(&status, "panel_kind"), "installatron");
    let said = metadata(&status, "upstream_message");
    assert_eq!(said, upstream_message, "upstream_message of: {status:?}");
    status
}

/// What a consulted validate_only call answers.
fn consulted() -> Option<Validation> {
    Some(Validation {
        panel_consulted: true,
    })
}

/// "METHOD /path?query" of each request.
fn calls(requests: &[InstallatronRequest]) -> Vec<String> {
    requests
        .iter()
        .map(|request| format!("{} {}", request.method, request.path))
        .collect()
}

/// A request's body as JSON.
#[track_caller]
fn body_json(request: &InstallatronRequest) -> Value {
    serde_json::from_slice(&request.body)
        .unwrap_or_else(|err| panic!("{err}: a JSON body: {}", request.body_text()))
}
