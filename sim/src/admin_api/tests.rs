//! Router-level tests over real HTTP/1.1: the guard, the error conventions, one
//! account's life, and each fault.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{AdminApiConfig, AdminApiSim};
use crate::faults::Fault;
use crate::testing::{self, Answer, assert_unanswered, raw_request};

/// The raw request's head: the sim's address as `Host`, `headers` (extra
/// header lines), a form-encoded body.
fn head(sim: &AdminApiSim, headers: &str) -> String {
    format!(
        "Host: {}\r\n{headers}Content-Type: application/x-www-form-urlencoded\r\n",
        sim.addr()
    )
}

/// Sends one request on a fresh connection (closed after the answer).
async fn send(sim: &AdminApiSim, method: &str, path: &str, headers: &str, form: &str) -> Answer {
    testing::send(sim.addr(), method, path, &head(sim, headers), form).await
}

const ADMIN: &str = "username: admin\r\npassword: admin-secret\r\n";

/// Calls an endpoint as the admin and returns its JSON body.
async fn call(sim: &AdminApiSim, path: &str, form: &str) -> Value {
    send(sim, "POST", path, ADMIN, form).await.ok_json()
}

async fn start() -> AdminApiSim {
    AdminApiSim::start(AdminApiConfig::default()).await.unwrap()
}

const BOB: &str = "username=bob&first_name=Bob&last_name=Doe&email=bob%40example.com\
                   &password=Secret123&pkg_id=1&domain=Bob.example.com&php_version=8.2";

/// The decorator's checks come in its order, each as HTTP 200 with an `error` key.
#[tokio::test]
async fn guard_order() {
    let config = AdminApiConfig {
        api_enabled: false,
        ..AdminApiConfig::default()
    };
    let sim = AdminApiSim::start(config).await.unwrap();
    let path = "/admin_api/packages_list/";
    let disabled = send(&sim, "GET", path, "", "").await.ok_json();
    assert_eq!(disabled, json!({"error": "API is currently disabled"}));

    sim.set_api_enabled(true);
    let not_post = send(&sim, "GET", path, "password: wrong\r\n", "").await;
    assert_eq!(not_post.ok_json(), json!({"error": "POST method required"}));
    let missing = send(&sim, "POST", path, "password: admin-secret\r\n", "").await;
    assert_eq!(
        missing.ok_json(),
        json!({"error": "Username and password required"})
    );
    let wrong = send(
        &sim,
        "POST",
        path,
        "username: admin\r\npassword: nope\r\n",
        "",
    )
    .await;
    assert_eq!(wrong.ok_json(), json!({"error": "Invalid credentials"}));
    assert_eq!(call(&sim, path, "").await["success"], true);
}

/// Endpoint errors are HTTP 200 JSON in the endpoint's shape; unknown paths are
/// Django's 404 page and a missing trailing slash a 301.
#[tokio::test]
async fn error_conventions() {
    let sim = start().await;
    let missing = call(&sim, "/admin_api/add_user/", "username=bob").await;
    assert_eq!(
        missing,
        json!({"success": false, "message": "All fields are required"})
    );
    let short = call(
        &sim,
        "/admin_api/database_add/",
        "username=x&db=d&dbuser=u&dbpass=p&dbpassc=p",
    )
    .await;
    assert_eq!(
        short,
        json!({"success": false, "error": "Username 'x' does not exist."})
    );

    let unknown = send(&sim, "POST", "/admin_api/list_users/", ADMIN, "").await;
    assert_eq!(unknown.status, 404);
    assert!(unknown.body.contains("<h1>Not Found</h1>"));
    let no_slash = send(&sim, "POST", "/admin_api/add_user", ADMIN, BOB).await;
    assert_eq!(no_slash.status, 301);
    assert!(
        no_slash.head.contains("location: /admin_api/add_user/"),
        "{}",
        no_slash.head
    );
    assert!(sim.user("bob").is_none());
}

/// Create, inspect, extend, log in as, suspend and delete one account.
#[tokio::test]
async fn account_lifecycle() {
    let sim = start().await;
    let created = call(&sim, "/admin_api/add_user/", BOB).await;
    assert_eq!(
        created,
        json!({"success": true, "message": "Username bob created successfully", "user_id": 2})
    );
    let again = call(&sim, "/admin_api/add_user/", BOB).await;
    assert_eq!(
        again["message"],
        "A username with the same name already exists"
    );

    let info = call(&sim, "/admin_api/", "username=bob").await;
    assert_eq!(info["package_name"], "Basic");
    assert_eq!(info["disk_limit"], "1GB");
    assert_eq!(info["disk_used"], "1.5 MB");
    assert_eq!(info["domain_limit"], 2);
    assert_eq!(info["email_limit"], "Unlimited");
    assert_eq!(info["main_domain"], "bob.example.com");
    assert_eq!(info["full_name"], "Bob Doe");

    let domain = "username=bob&domain=shop.example.com&php_version=8.3&path=/shop";
    let added = call(&sim, "/admin_api/add_domain/", domain).await;
    assert_eq!(added["domain_id"], 2);
    assert_eq!(
        sim.domain("shop.example.com").unwrap().path,
        "/home/bob/shop"
    );
    let third = "username=bob&domain=third.example.com&php_version=8.3";
    let refused = call(&sim, "/admin_api/add_domain/", third).await;
    assert_eq!(refused["message"], "Domain add limit exceeded.");

    let db = "username=bob&db=shop&dbuser=shop&dbpass=longpassword&dbpassc=longpassword";
    assert_eq!(
        call(&sim, "/admin_api/database_add/", db).await["success"],
        true
    );
    let twice = call(&sim, "/admin_api/database_add/", db).await;
    assert_eq!(
        twice["error"],
        "(1007, \"Can't create database 'bob_shop'; database exists\")"
    );

    let sso = call(&sim, "/admin_api/sso_login/", "username=bob").await;
    let prefix = format!("http://{}/login/?token=", sim.addr());
    assert!(sso["url"].as_str().unwrap().starts_with(&prefix), "{sso}");

    let delete = "username=bob&state=delete";
    let active = call(&sim, "/admin_api/suspend_user/", delete).await;
    assert_eq!(
        active["message"],
        "User 'bob' must be suspended before deletion."
    );
    call(
        &sim,
        "/admin_api/suspend_user/",
        "username=bob&state=Suspend",
    )
    .await;
    assert!(!sim.user("bob").unwrap().active);
    let user = sim.user("bob").unwrap();
    assert_eq!(user.domains, ["bob.example.com", "shop.example.com"]);
    assert_eq!(user.databases, ["bob_shop"]);
    assert_eq!(
        call(&sim, "/admin_api/suspend_user/", delete).await["success"],
        true
    );
    assert!(sim.user("bob").is_none());
    assert!(sim.domain("shop.example.com").is_none());
}

/// A bad pkg_id leaves the user half-created, as the real panel does; fail_next
/// fails the next call once.
#[tokio::test]
async fn quirks_and_injected_failures() {
    let sim = start().await;
    let bad_package = BOB.replace("pkg_id=1", "pkg_id=9");
    let refused = call(&sim, "/admin_api/add_user/", &bad_package).await;
    assert_eq!(refused["message"], "Invalid package ID");
    let half = sim.user("bob").unwrap();
    assert_eq!((half.pkg_id.as_str(), half.domains.len()), ("9", 0));
    assert_eq!(
        call(&sim, "/admin_api/", "username=bob").await,
        json!({"error": "Package not found"})
    );

    call(&sim, "/admin_api/update_user/", "username=bob&pkg_id=2").await;
    let form = "username=bob&domain=a.example.com&php_version=8.2";
    sim.fail_next("add_domain", "Failed to add mapping for 'a.example.com'.");
    let failed = call(&sim, "/admin_api/add_domain/", form).await;
    assert_eq!(
        failed["message"],
        "Failed to add mapping for 'a.example.com'."
    );
    assert_eq!(
        call(&sim, "/admin_api/add_domain/", form).await["success"],
        true
    );
}

/// Status, Html and BrokenJson replace the panel's answer; a delay holds it back;
/// every request counts.
#[tokio::test]
async fn answer_faults() {
    let sim = start().await;
    let path = "/admin_api/packages_list/";
    sim.faults().set(Fault::Status(503));
    let unavailable = send(&sim, "POST", path, ADMIN, "").await;
    assert_eq!(unavailable.status, 503);
    assert!(unavailable.body.contains("503 Service Unavailable"));

    sim.faults().set(Fault::Html);
    let html = send(&sim, "POST", path, ADMIN, "").await;
    assert_eq!(html.status, 200);
    assert!(html.head.contains("text/html") && html.body.contains("<form"));

    sim.faults().set(Fault::BrokenJson);
    let broken = send(&sim, "POST", path, ADMIN, "").await;
    assert_eq!(broken.status, 200);
    assert!(serde_json::from_str::<Value>(&broken.body).is_err());

    sim.faults().clear();
    sim.faults().set_delay(Duration::from_millis(200));
    let started = Instant::now();
    assert_eq!(call(&sim, path, "").await["success"], true);
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(sim.request_count(), 4);
}

/// DropConnection closes new connections and open keep-alive ones without an answer.
#[tokio::test]
async fn dropped_connections() {
    let sim = start().await;
    let path = "/admin_api/packages_list/";
    let raw = raw_request("POST", path, &head(&sim, ADMIN), "");

    // A keep-alive connection answered once before the fault is set.
    let mut kept = TcpStream::connect(sim.addr()).await.unwrap();
    kept.write_all(raw.as_bytes()).await.unwrap();
    let mut first = vec![0; 4096];
    let read = kept.read(&mut first).await.unwrap();
    assert!(String::from_utf8_lossy(&first[..read]).starts_with("HTTP/1.1 200"));

    sim.faults().set(Fault::DropConnection);
    let mut fresh = TcpStream::connect(sim.addr()).await.unwrap();
    for stream in [&mut kept, &mut fresh] {
        assert_unanswered(stream, raw.as_bytes()).await;
    }

    sim.faults().clear();
    assert_eq!(call(&sim, path, "").await["success"], true);
}
