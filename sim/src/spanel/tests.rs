//! The form decoder on the docs' examples, and router-level tests over real
//! HTTP/1.1: the docs' two examples end to end, the reply conventions,
//! permissions, SSO, accounts, user functions and faults.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{SimCategoryPermissions, SimPermissions, SimSpanelPackage, SpanelConfig, SpanelSim};
use crate::faults::Fault;
use crate::form::{Form, Param};

/// The doc's createadminuser example as PHP's `http_build_query` encodes it
/// (the doc's email address is hidden by the archive; any address will do).
const CREATE_ADMIN: &str = "token=provided_auth_token&action=admin%2Fcreateadminuser\
    &username=newadmin%40example.com&password=KExk80Ml5aG6M\
    &permissions%5Bserver%5D=all\
    &permissions%5Baccounts%5D%5B0%5D=manage&permissions%5Baccounts%5D%5B1%5D=create";

/// The doc's createpackage example as PHP encodes it: `'databases' => false`
/// is sent as `databases=0` (reading 8).
const CREATE_PACKAGE: &str = "token=provided_auth_token&action=accounts%2Fcreatepackage\
    &package=newPackageName&quota=10240&inodes=1000&emails=0&databases=0\
    &permissions%5Bemail%5D=all\
    &permissions%5Bdomain%5D%5B0%5D=domains&permissions%5Bdomain%5D%5B1%5D=redirects";

fn text(value: &str) -> Param {
    Param::Str(value.to_owned())
}

fn array(pairs: &[(&str, Param)]) -> Param {
    Param::Array(
        pairs
            .iter()
            .map(|(key, value)| ((*key).to_owned(), value.clone()))
            .collect(),
    )
}

/// The bracket notation of both doc examples decodes to PHP's nested arrays.
#[test]
fn decodes_the_docs_examples() {
    let admin = Form::decode(CREATE_ADMIN.as_bytes());
    assert_eq!(admin.str("action"), Some("admin/createadminuser"));
    assert_eq!(admin.str("username"), Some("newadmin@example.com"));
    assert_eq!(
        admin.get("permissions"),
        Some(&array(&[
            ("server", text("all")),
            (
                "accounts",
                array(&[("0", text("manage")), ("1", text("create"))])
            ),
        ]))
    );

    let package = Form::decode(CREATE_PACKAGE.as_bytes());
    assert_eq!(package.str("databases"), Some("0"));
    assert_eq!(
        package.get("permissions"),
        Some(&array(&[
            ("email", text("all")),
            (
                "domain",
                array(&[("0", text("domains")), ("1", text("redirects"))])
            ),
        ]))
    );
    let all = Form::decode(b"permissions=all");
    assert_eq!(all.get("permissions"), Some(&text("all")));
}

/// `[]` appends like explicit indexes, `+` and `%20` are spaces, and PHP's
/// quirks on names hold.
#[test]
fn decodes_like_php() {
    let appended = Form::decode(b"username[]=a&username[]=b");
    let indexed = Form::decode(b"username%5B0%5D=a&username%5B1%5D=b");
    assert_eq!(appended, indexed);
    assert_eq!(
        appended.get("username").and_then(Param::as_list),
        Some(vec!["a".to_owned(), "b".to_owned()])
    );
    let spaces = Form::decode(b"reason=late+payment%20again&bad=100%&flag");
    assert_eq!(spaces.str("reason"), Some("late payment again"));
    assert_eq!(spaces.str("bad"), Some("100%"));
    assert_eq!(spaces.str("flag"), Some(""));
    let names = Form::decode(b"a.b=1&c[d=2&e[x]y=3&f=1&f[]=2&g[5]=x&g[]=y");
    assert_eq!(names.str("a_b"), Some("1"));
    assert_eq!(names.str("c_d"), Some("2"));
    assert_eq!(names.get("e"), Some(&array(&[("x", text("3"))])));
    assert_eq!(names.get("f"), Some(&array(&[("0", text("2"))])));
    assert_eq!(
        names.get("g"),
        Some(&array(&[("5", text("x")), ("6", text("y"))]))
    );
}

// === over HTTP ===

/// One HTTP answer.
#[derive(Debug)]
struct Answer {
    status: u16,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        assert_eq!(self.status, 200, "{self:?}");
        serde_json::from_str(&self.body).unwrap_or_else(|error| panic!("{error}: {self:?}"))
    }
}

/// Sends one request on a fresh connection (closed after the answer).
async fn send(sim: &SpanelSim, method: &str, path: &str, content_type: &str, body: &str) -> Answer {
    let mut stream = TcpStream::connect(sim.addr()).await.unwrap();
    let raw = format!(
        "{method} {path} HTTP/1.1\r\nHost: panel.example.com\r\nContent-Type: {content_type}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(raw.as_bytes()).await.unwrap();
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).await.unwrap();
    let raw = String::from_utf8(bytes).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    Answer {
        status: head.split(' ').nth(1).unwrap().parse().unwrap(),
        body: body.to_owned(),
    }
}

const FORM: &str = "application/x-www-form-urlencoded";

/// POSTs a form-encoded body to `api.php` and returns the JSON reply.
async fn post(sim: &SpanelSim, body: &str) -> Value {
    send(sim, "POST", "/spanel/api.php", FORM, body)
        .await
        .json()
}

/// Calls `action` with the default admin token and `fields` (already encoded).
async fn call(sim: &SpanelSim, action: &str, fields: &str) -> Value {
    let body = format!("token=panelgate-sim-spanel-token&action={action}&{fields}");
    post(sim, &body).await
}

async fn start() -> SpanelSim {
    SpanelSim::start(SpanelConfig::default()).await.unwrap()
}

fn doc_config() -> SpanelConfig {
    SpanelConfig {
        admin_token: "provided_auth_token".to_owned(),
        packages: vec![SimSpanelPackage {
            quota_mb: Some(0),
            inodes: Some(0),
            ..SimSpanelPackage::unlimited("test")
        }],
        ..SpanelConfig::default()
    }
}

/// The createadminuser example gets the doc's reply, and the admin is stored
/// with the nested permissions.
#[tokio::test]
async fn create_admin_doc_example() {
    let sim = SpanelSim::start(doc_config()).await.unwrap();
    assert_eq!(
        post(&sim, CREATE_ADMIN).await,
        json!({"result": "success", "data": {"msg":
            "The admin account with username newadmin@example.com has been created successfully"}})
    );
    let admin = sim.admin_users().pop().unwrap();
    assert_eq!(admin.user, "newadmin@example.com");
    let expected = BTreeMap::from([
        ("server".to_owned(), SimCategoryPermissions::All),
        (
            "accounts".to_owned(),
            SimCategoryPermissions::Pages(vec!["manage".to_owned(), "create".to_owned()]),
        ),
    ]);
    assert_eq!(admin.permissions, SimPermissions::Categories(expected));

    let listed = post(
        &sim,
        "token=provided_auth_token&action=admin/listadminusers",
    )
    .await;
    assert_eq!(
        listed["data"][1],
        json!({"user": "newadmin@example.com", "currentuser": false, "twofactor": false,
               "permissions": {"server": "all", "accounts": ["manage", "create"]}})
    );
    let again = post(&sim, CREATE_ADMIN).await;
    assert_eq!(again["result"], "error");
}

/// The createpackage example's 1000 inodes are refused (the doc's table
/// says at least 10000); with 10000, it gets the doc's reply when
/// `databases` is left out, and PHP's `false` (sent as 0) disables databases
/// instead.
#[tokio::test]
async fn create_package_doc_example() {
    let sim = SpanelSim::start(doc_config()).await.unwrap();
    assert_eq!(
        post(&sim, CREATE_PACKAGE).await,
        json!({"result": "error", "message": ["The inodes limit must be at least 10000"]})
    );
    let example = CREATE_PACKAGE.replace("inodes=1000&", "inodes=10000&");
    let without_databases = example.replace("&databases=0", "");
    assert_eq!(
        post(&sim, &without_databases).await,
        json!({"result": "success", "data": {
            "msg": "The package newPackageName has been created",
            "packagelist": {
                "newPackageName": {"packagename": "newPackageName", "disklimit": "10240",
                    "inodeslimit": "10000", "domainslimit": "Unlimited", "emailslimit": "0",
                    "databaseslimit": "Unlimited"},
                "test": {"packagename": "test", "disklimit": "0", "inodeslimit": "0",
                    "domainslimit": "Unlimited", "emailslimit": "Unlimited",
                    "databaseslimit": "Unlimited"}
            }
        }})
    );
    let as_php_sends_it = example.replace("newPackageName", "phpFalse");
    let reply = post(&sim, &as_php_sends_it).await;
    assert_eq!(
        reply["data"]["packagelist"]["phpFalse"]["databaseslimit"],
        "0"
    );
    let package = sim.packages().pop().unwrap();
    assert_eq!((package.emails, package.databases), (Some(0), Some(0)));
}

/// Errors are HTTP 200 with `message` an array, one entry per problem.
#[tokio::test]
async fn errors_are_arrays() {
    let sim = start().await;
    let bad_token = post(&sim, "token=nope&action=accounts/listpackages").await;
    assert_eq!(
        bad_token,
        json!({"result": "error", "message": ["Invalid API token"]})
    );
    let unknown = call(&sim, "accounts/nosuch", "").await;
    assert_eq!(
        unknown,
        json!({"result": "error", "message": ["Unknown action accounts/nosuch"]})
    );
    let several = call(&sim, "accounts/wwwacct", "username=bad_name&password=short").await;
    assert_eq!(
        several,
        json!({"result": "error", "message": [
            "The username must be between 1 and 30 alphanumeric characters",
            "The domain field is required",
            "The password must be at least 8 characters long",
        ]})
    );
    let small = call(
        &sim,
        "accounts/createpackage",
        "package=tiny&quota=50&permissions=all",
    )
    .await;
    assert_eq!(
        small["message"],
        json!(["The disk quota must be at least 100 MB"])
    );
}

/// List replies have no `result`; every number is a string, unlimited is
/// `"Unlimited"`, `suspended` is `"0"`/`"1"`.
#[tokio::test]
async fn lists_without_result_numbers_as_strings() {
    let sim = start().await;
    let created = call(
        &sim,
        "accounts/wwwacct",
        "username=bob&domain=Bob.example.com&password=Secret123&package=basic",
    )
    .await;
    assert_eq!(
        created,
        json!({"result": "success", "msg": "The account bob has been created successfully"})
    );
    let listed = call(&sim, "accounts/listaccounts", "accountuser=bob").await;
    let object = listed.as_object().unwrap();
    assert_eq!(object.keys().collect::<Vec<_>>(), ["data"]);
    let row = &listed["data"][0];
    assert_eq!(row["user"], "bob");
    assert_eq!(row["domain"], "bob.example.com");
    assert_eq!(row["disklimit"], "1024");
    assert_eq!(row["inodeslimit"], "100000");
    assert_eq!(row["databaseslimit"], "5");
    assert_eq!(row["suspended"], "0");
    assert_eq!(row["package"], "basic");
    assert_eq!(row["disk"], "3");
    for (key, value) in row.as_object().unwrap() {
        assert!(value.is_string(), "{key} is {value}");
    }
    let packages = call(&sim, "accounts/listpackages", "").await;
    assert!(packages.get("result").is_none());
    assert_eq!(
        packages["data"][1],
        json!({"packagename": "pro", "disklimit": "Unlimited", "inodeslimit": "Unlimited",
               "domainslimit": "Unlimited", "emailslimit": "Unlimited",
               "databaseslimit": "Unlimited"})
    );
    let nobody = call(&sim, "accounts/listaccounts", "accountuser=ghost").await;
    assert_eq!(nobody, json!({"data": []}));
}

/// `received()` returns the bodies byte for byte, with their actions, refused
/// calls included.
#[tokio::test]
async fn received_keeps_exact_bytes() {
    let sim = SpanelSim::start(doc_config()).await.unwrap();
    post(&sim, CREATE_ADMIN).await;
    post(&sim, "token=wrong").await;
    let received = sim.received();
    assert_eq!(received.len(), 2);
    assert_eq!(received[0].action, "admin/createadminuser");
    assert_eq!(received[0].body, CREATE_ADMIN.as_bytes());
    assert_eq!(received[1].action, "");
    assert_eq!(received[1].body, b"token=wrong");
}

/// Malformed permissions are refused, for packages and for admin users.
#[tokio::test]
async fn malformed_permissions_refused() {
    let sim = start().await;
    let cases = [
        ("", "The permissions field is required"),
        (
            "&permissions=some",
            "Invalid permissions: use 'all' or an array of categories",
        ),
        (
            "&permissions[nosuch]=all",
            "Unknown permission category: nosuch",
        ),
        // The doc's prose writes `domains`; the category is `domain` (reading 12).
        (
            "&permissions[domains][]=domains",
            "Unknown permission category: domains",
        ),
        (
            "&permissions[email][]=nosuch",
            "Unknown permission page: email/nosuch",
        ),
        (
            "&permissions[email]=some",
            "Invalid permissions for category email: use 'all' or an array of pages",
        ),
        (
            "&permissions[email][0][x]=accounts",
            "Invalid permissions for category email: use 'all' or an array of pages",
        ),
    ];
    for (permissions, message) in cases {
        let reply = call(
            &sim,
            "accounts/createpackage",
            &format!("package=p1{permissions}"),
        )
        .await;
        assert_eq!(reply["message"], json!([message]), "{permissions}");
    }
    let admin_page_for_user = call(
        &sim,
        "admin/createadminuser",
        "username=ops&password=Secret123&permissions[email]=all",
    )
    .await;
    assert_eq!(
        admin_page_for_user["message"],
        json!(["Unknown permission category: email"])
    );
    assert_eq!(sim.packages().len(), 2);
    assert_eq!(sim.admin_users().len(), 1);
}

/// `base/sso` needs the token's SSO option; with it, a 40-hex token and a URL
/// on the request's host.
#[tokio::test]
async fn sso_needs_the_token_option() {
    let config = SpanelConfig {
        admin_token_sso: false,
        ..SpanelConfig::default()
    };
    let sim = SpanelSim::start(config).await.unwrap();
    call(
        &sim,
        "accounts/wwwacct",
        "username=bob&domain=bob.example.com&password=Secret123",
    )
    .await;
    let fields = "username=bob&role=user&redirect=file/filemanager";
    let refused = call(&sim, "base/sso", fields).await;
    assert_eq!(
        refused,
        json!({"result": "error", "message": ["SSO is not enabled for this API token"]})
    );
    sim.set_sso_enabled(true);
    let reply = call(&sim, "base/sso", fields).await;
    let token = reply["data"]["token"].as_str().unwrap();
    assert_eq!(token.len(), 40);
    assert!(token.bytes().all(|byte| byte.is_ascii_hexdigit()));
    assert_eq!(
        reply["data"]["url"],
        format!("http://panel.example.com/spanel/sso/{token}")
    );
    let bad_page = call(
        &sim,
        "base/sso",
        "username=bob&role=user&redirect=server/status",
    )
    .await;
    assert_eq!(bad_page["message"], json!(["Unknown page or category"]));
    let admin = call(&sim, "base/sso", "username=root&role=admin").await;
    assert_eq!(admin["result"], "success");
}

/// Create, suspend (array form), unsuspend, change package and limits, terminate.
#[tokio::test]
async fn account_lifecycle() {
    let sim = start().await;
    for (user, domain) in [("bob", "bob.example.com"), ("amy", "amy.example.com")] {
        let fields = format!("username={user}&domain={domain}&password=Secret123&quota=500");
        assert_eq!(
            call(&sim, "accounts/wwwacct", &fields).await["result"],
            "success"
        );
    }
    let bob = sim.account("BOB").unwrap();
    assert_eq!((bob.package.as_str(), bob.quota_mb), ("Custom", Some(500)));
    assert_eq!(bob.inodes_limit, None);
    let taken = call(
        &sim,
        "accounts/wwwacct",
        "username=Bob&domain=amy.example.com&password=Secret123",
    )
    .await;
    assert_eq!(
        taken["message"],
        json!([
            "The username Bob is already taken",
            "The domain amy.example.com already exists on this server"
        ])
    );

    let suspended = call(
        &sim,
        "accounts/suspendaccount",
        "username[]=bob&username[]=amy&reason=unpaid+invoice",
    )
    .await;
    assert_eq!(
        suspended,
        json!({"result": "success", "msg": "Suspend successful"})
    );
    let bob = sim.account("bob").unwrap();
    assert!(bob.suspended);
    assert_eq!(bob.suspend_reason.as_deref(), Some("unpaid invoice"));
    let listed = call(&sim, "accounts/listaccounts", "statusOption=suspended").await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 2);
    assert_eq!(listed["data"][0]["suspended"], "1");
    call(&sim, "accounts/unsuspendaccount", "username=amy").await;
    assert!(!sim.account("amy").unwrap().suspended);

    let changed = call(&sim, "accounts/changequota", "username=bob&package=basic").await;
    assert_eq!(
        changed,
        json!({"result": "success", "msg": "Your new limits have been saved successfully"})
    );
    let bob = sim.account("bob").unwrap();
    assert_eq!((bob.package.as_str(), bob.quota_mb), ("basic", Some(1024)));
    call(&sim, "accounts/changequota", "username=bob&emails=0&quota=").await;
    let bob = sim.account("bob").unwrap();
    assert_eq!(bob.package, "Custom");
    assert_eq!(
        (bob.emails_limit, bob.quota_mb, bob.databases_limit),
        (Some(0), None, Some(5))
    );

    call(&sim, "accounts/changequota", "username=amy&package=basic").await;
    let in_use = call(
        &sim,
        "accounts/removepackage",
        "package[0]=basic&package[1]=nosuch",
    )
    .await;
    assert_eq!(
        in_use["message"],
        json!([
            "The package basic is used by 1 account(s) and cannot be removed",
            "The package nosuch does not exist"
        ])
    );
    let removed = call(&sim, "accounts/removepackage", "package=pro").await;
    assert_eq!(
        removed["data"]["msg"],
        "The following packages were successfully removed: pro."
    );
    let terminated = call(&sim, "accounts/terminateaccount", "username=bob").await;
    assert_eq!(
        terminated,
        json!({"result": "success", "msg": "The selected accounts have been terminated"})
    );
    assert!(sim.account("bob").is_none());
    let gone = call(
        &sim,
        "accounts/changeuserpassword",
        "username=bob&password=Secret123",
    )
    .await;
    assert_eq!(gone["message"], json!(["The account bob does not exist"]));
}

/// User functions need `accountuser`; subdomains, domain removal and MySQL
/// names are prefixed and checked.
#[tokio::test]
async fn user_functions() {
    let sim = start().await;
    call(
        &sim,
        "accounts/wwwacct",
        "username=bob&domain=bob.example.com&password=Secret123&package=basic",
    )
    .await;
    let missing = call(
        &sim,
        "domain/addsubdomain",
        "domain=bob.example.com&subdomain=blog",
    )
    .await;
    assert_eq!(
        missing["message"],
        json!(["The accountuser parameter is required for user functions"])
    );
    let added = call(
        &sim,
        "domain/addsubdomain",
        "accountuser=bob&domain=bob.example.com&subdomain=blog&path=public_html%2Fblog",
    )
    .await;
    assert_eq!(
        added,
        json!({"result": "success", "data":
            {"msg": "The subdomain blog.bob.example.com has been created successfully"}})
    );
    let main = call(
        &sim,
        "domain/removedomain",
        "accountuser=bob&domain[0]=bob.example.com",
    )
    .await;
    assert_eq!(
        main["message"],
        json!(["The main domain bob.example.com cannot be removed"])
    );
    assert!(sim.add_addon_domain("bob", "bobshop.com"));
    let removed = call(
        &sim,
        "domain/removedomain",
        "accountuser=bob&domain[]=blog.bob.example.com&domain[]=bobshop.com",
    )
    .await;
    assert_eq!(
        removed,
        json!({"result": "success", "data": {"msg": "The selected domains have been deleted",
            "d": ["blog.bob.example.com", "bobshop.com"]}})
    );

    let no_user = call(
        &sim,
        "mysql/createmysqldatabase",
        "accountuser=bob&database=shop&username=shopuser",
    )
    .await;
    assert_eq!(
        no_user["message"],
        json!(["The database user shopuser does not exist"])
    );
    let user = call(
        &sim,
        "mysql/createmysqluser",
        "accountuser=bob&username=shopuser&password=Secret123",
    )
    .await;
    assert_eq!(
        user["data"]["msg"],
        "The username bob_shopuser has been created successfully"
    );
    let database = call(
        &sim,
        "mysql/createmysqldatabase",
        "accountuser=bob&database=shop&username=shopuser",
    )
    .await;
    assert_eq!(
        database["data"]["msg"],
        "The database bob_shop has been created successfully"
    );
    let bob = sim.account("bob").unwrap();
    assert_eq!(bob.db_users, ["bob_shopuser"]);
    assert_eq!(
        bob.databases,
        [("bob_shop".to_owned(), vec!["bob_shopuser".to_owned()])]
    );
    assert_eq!(bob.subdomains, Vec::<String>::new());
}

/// Other paths are 404 pages, a GET reads as an empty form, faults replace the
/// panel's answer, and `fail_next` fires once.
#[tokio::test]
async fn paths_faults_and_failures() {
    let sim = start().await;
    assert!(sim.base_url().ends_with("/spanel/"));
    let other = send(&sim, "POST", "/hostpanel/api.php", FORM, "").await;
    assert_eq!(other.status, 404);
    assert!(other.body.contains("404 Not Found"));
    let get = send(
        &sim,
        "GET",
        "/spanel/api.php?token=panelgate-sim-spanel-token",
        FORM,
        "",
    )
    .await;
    assert_eq!(get.json()["message"], json!(["Invalid API token"]));
    let json_body = send(
        &sim,
        "POST",
        "/spanel/api.php",
        "application/json",
        r#"{"token": "panelgate-sim-spanel-token", "action": "toolbox/apicheck"}"#,
    )
    .await;
    assert_eq!(json_body.json()["message"], json!(["Invalid API token"]));
    let check = call(&sim, "toolbox/apicheck", "").await;
    assert_eq!(check["result"], "success");

    sim.fail_next("accounts/listpackages", &["Database connection failed"]);
    let failed = call(&sim, "accounts/listpackages", "").await;
    assert_eq!(
        failed,
        json!({"result": "error", "message": ["Database connection failed"]})
    );
    assert!(call(&sim, "accounts/listpackages", "").await["data"].is_array());

    sim.faults().set(Fault::BrokenJson);
    let broken = send(&sim, "POST", "/spanel/api.php", FORM, "token=x").await;
    assert!(serde_json::from_str::<Value>(&broken.body).is_err());
    sim.faults().set(Fault::Status(502));
    assert_eq!(
        send(&sim, "POST", "/spanel/api.php", FORM, "").await.status,
        502
    );
    sim.faults().clear();
    assert_eq!(
        call(&sim, "toolbox/apicheck", "").await["result"],
        "success"
    );
    // Nine requests; the 404 and the two faulted ones never reached api.php.
    assert_eq!(sim.request_count(), 9);
    assert_eq!(sim.received().len(), 6);
}
