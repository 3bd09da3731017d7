//! Router-level tests over real HTTP/1.1: tokens, the two autologin forms
//! (CONNECT over a raw connection), domain wrappers and suspended users.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};
use tokio::net::TcpStream;

use super::{AutologinStyle, OpenAdminConfig, OpenAdminSim};
use crate::faults::Fault;
use crate::testing::{self, Answer, assert_unanswered};

/// Sends one request on a fresh connection (closed after the answer); `headers`
/// are extra header lines, the body is sent as JSON.
async fn send(sim: &OpenAdminSim, method: &str, path: &str, headers: &str, body: &str) -> Answer {
    let head =
        format!("Host: panel.example.com:2087\r\n{headers}Content-Type: application/json\r\n");
    testing::send(sim.addr(), method, path, &head, body).await
}

/// Logs in and returns the `Authorization` header line.
async fn login(sim: &OpenAdminSim) -> String {
    let body = r#"{"username": "admin", "password": "admin-secret"}"#;
    let answer = send(sim, "POST", "/api/", "", body).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    let token = answer.json()["access_token"].as_str().unwrap().to_owned();
    format!("Authorization: Bearer {token}\r\n")
}

async fn start(config: OpenAdminConfig) -> OpenAdminSim {
    OpenAdminSim::start(config).await.unwrap()
}

const ALICE: &str = r#"{"email": "alice@example.com", "username": "alice",
    "password": "s32dsasaq", "plan_name": "default_plan_nginx"}"#;

/// A login gives a signed token whose claims are Flask-JWT-Extended's, with
/// exp - iat = the configured lifetime; bad logins are 400 and 401.
#[tokio::test]
async fn login_issues_tokens() {
    let sim = start(OpenAdminConfig::default()).await;
    let health = send(&sim, "GET", "/api/", "", "").await;
    assert_eq!(health.json(), json!({"message": "API is working!"}));

    let auth = login(&sim).await;
    let token = auth.trim_end().trim_start_matches("Authorization: Bearer ");
    let key = DecodingKey::from_secret(b"panelgate-sim-openadmin-jwt-secret");
    let claims = jsonwebtoken::decode::<Value>(token, &key, &Validation::new(Algorithm::HS256))
        .unwrap()
        .claims;
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        900
    );
    assert_eq!(
        (claims["sub"].as_str(), claims["type"].as_str()),
        (Some("admin"), Some("access"))
    );
    assert_eq!(claims["fresh"], false);
    assert!(claims["jti"].is_string() && claims["csrf"].is_string());
    let whoami = send(&sim, "GET", "/api/whoami", &auth, "").await;
    assert_eq!(whoami.json(), json!({"logged_in_as": "admin"}));

    let wrong = r#"{"username": "admin", "password": "nope"}"#;
    let refused = send(&sim, "POST", "/api/", "", wrong).await;
    assert_eq!(
        (refused.status, refused.json()),
        (401, json!({"error": "Invalid credentials"}))
    );
    let garbled = send(&sim, "POST", "/api/", "", "{").await;
    assert_eq!(
        (garbled.status, garbled.json()),
        (400, json!({"error": "Invalid JSON body"}))
    );
    login(&sim).await;
    assert_eq!(sim.login_count(), 2);
}

/// Missing, forged, revoked and expired tokens are all 401; the API switch
/// comes first (404); the login limit answers 429 without Retry-After.
#[tokio::test]
async fn token_refusals() {
    let config = OpenAdminConfig {
        token_lifetime: Duration::from_secs(1),
        login_burst: Some(3),
        ..OpenAdminConfig::default()
    };
    let sim = start(config).await;
    let refused = json!({"error": "Missing or invalid token"});
    let missing = send(&sim, "GET", "/api/users", "", "").await;
    assert_eq!((missing.status, missing.json()), (401, refused.clone()));
    let forged = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &json!({"sub": "admin", "type": "access", "jti": "x", "exp": u64::MAX / 2}),
        &jsonwebtoken::EncodingKey::from_secret(b"another secret"),
    )
    .unwrap();
    let forged = send(
        &sim,
        "GET",
        "/api/users",
        &format!("Authorization: Bearer {forged}\r\n"),
        "",
    )
    .await;
    assert_eq!(forged.status, 401);

    let revoked = login(&sim).await;
    sim.revoke_tokens();
    assert_eq!(
        send(&sim, "GET", "/api/users", &revoked, "").await.status,
        401
    );

    let expiring = login(&sim).await;
    assert_eq!(
        send(&sim, "GET", "/api/users", &expiring, "").await.status,
        200
    );
    sim.set_api_enabled(false);
    let disabled = send(&sim, "GET", "/api/users", &expiring, "").await;
    assert_eq!(disabled.status, 404);
    assert!(
        disabled.json()["error"]
            .as_str()
            .unwrap()
            .starts_with("API access is disabled!")
    );
    sim.set_api_enabled(true);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let expired = send(&sim, "GET", "/api/users", &expiring, "").await;
    assert_eq!((expired.status, expired.json()), (401, refused));

    // The third attempt of the minute is the last one.
    login(&sim).await;
    let limited = send(&sim, "POST", "/api/", "", "{}").await;
    assert_eq!(limited.status, 429);
    assert!(
        !limited.head.to_lowercase().contains("retry-after"),
        "{}",
        limited.head
    );
    assert_eq!(sim.login_count(), 3);
}

/// The Python build answers a raw `CONNECT /api/users/{u}` with the JSON link
/// (hyper would drop the body) and has no POST form; faults apply to CONNECT.
#[tokio::test]
async fn connect_autologin() {
    let config = OpenAdminConfig {
        autologin: AutologinStyle::Connect,
        ..OpenAdminConfig::default()
    };
    let sim = start(config).await;
    let auth = login(&sim).await;
    assert_eq!(
        send(&sim, "POST", "/api/users", &auth, ALICE).await.status,
        201
    );

    let before = sim.request_count();
    let link = send(&sim, "CONNECT", "/api/users/alice", &auth, "").await;
    assert_eq!(link.status, 200, "{link:?}");
    assert!(
        link.head
            .to_lowercase()
            .contains("content-type: application/json")
    );
    let link = link.json()["link"].as_str().unwrap().to_owned();
    let prefix = "http://panel.example.com:2083/login_autologin?username=alice&admin_token=";
    assert!(link.starts_with(prefix), "{link}");
    assert_eq!(link.len() - prefix.len(), 30);
    assert_eq!(sim.request_count(), before + 1);

    let unknown = send(&sim, "CONNECT", "/api/users/bob", &auth, "").await;
    assert_eq!(
        (unknown.status, unknown.json()),
        (404, json!({"error": "User not found"}))
    );
    let post = send(&sim, "POST", "/api/users/alice/autologin", &auth, "{}").await;
    assert_eq!(post.status, 404);

    sim.faults().set(Fault::Status(502));
    assert_eq!(
        send(&sim, "CONNECT", "/api/users/alice", &auth, "")
            .await
            .status,
        502
    );
    sim.faults().set(Fault::BrokenJson);
    let broken = send(&sim, "CONNECT", "/api/users/alice", &auth, "").await;
    assert!(!broken.body.is_empty() && serde_json::from_str::<Value>(&broken.body).is_err());
    sim.faults().set(Fault::DropConnection);
    let mut dropped = TcpStream::connect(sim.addr()).await.unwrap();
    assert_unanswered(&mut dropped, b"CONNECT /api/users/alice HTTP/1.1\r\n\r\n").await;
    sim.faults().clear();
}

/// The Go build has the POST form and answers CONNECT with its mux's 405.
#[tokio::test]
async fn post_autologin() {
    let sim = start(OpenAdminConfig::default()).await;
    let auth = login(&sim).await;
    send(&sim, "POST", "/api/users", &auth, ALICE).await;
    let link = send(&sim, "POST", "/api/users/alice/autologin", &auth, "{}").await;
    assert!(
        link.json()["link"]
            .as_str()
            .unwrap()
            .contains("username=alice&admin_token=")
    );
    let connect = send(&sim, "CONNECT", "/api/users/alice", &auth, "").await;
    assert_eq!(
        (connect.status, connect.body.as_str()),
        (405, "Method Not Allowed\n")
    );
}

/// Domain commands answer HTTP 200 even when they fail (returncode 1);
/// validation is 400.
#[tokio::test]
async fn domain_wrappers() {
    let sim = start(OpenAdminConfig::default()).await;
    let auth = login(&sim).await;
    let orphan = r#"{"username": "nobody1", "domain": "example.com"}"#;
    let failed = send(&sim, "POST", "/api/domains/new", &auth, orphan).await;
    assert_eq!(failed.status, 200);
    let failed = failed.json();
    assert_eq!(failed["returncode"], 1);
    assert!(
        failed["stderr"]
            .as_str()
            .unwrap()
            .contains("does not exist")
    );

    send(&sim, "POST", "/api/users", &auth, ALICE).await;
    let outside = r#"{"username": "alice", "domain": "example.com", "docroot": "/home/alice"}"#;
    let outside = send(&sim, "POST", "/api/domains/new", &auth, outside).await;
    assert_eq!(outside.status, 400);
    let added = r#"{"username": "alice", "domain": "Example.com"}"#;
    let added = send(&sim, "POST", "/api/domains/new", &auth, added)
        .await
        .json();
    assert_eq!(added["returncode"], 0);
    let domain = sim.domain("example.com").unwrap();
    assert_eq!(
        (domain.owner.as_str(), domain.docroot.as_str()),
        ("alice", "/var/www/html/example.com")
    );

    let path = "/api/domains/suspend/unknown.example.org";
    assert_eq!(
        send(&sim, "POST", path, &auth, "").await.json()["returncode"],
        1
    );
    assert_eq!(
        send(&sim, "POST", "/api/domains/park/example.com", &auth, "")
            .await
            .status,
        400
    );
    send(&sim, "POST", "/api/domains/suspend/example.com", &auth, "").await;
    assert!(sim.domain("example.com").unwrap().suspended);
}

/// A suspended user reads `SUSPENDED_<id>_<u>`, cannot be deleted until
/// unsuspended; mutations are 201.
#[tokio::test]
async fn suspended_users() {
    let sim = start(OpenAdminConfig::default()).await;
    let auth = login(&sim).await;
    let created = send(&sim, "POST", "/api/users", &auth, ALICE).await;
    assert_eq!(created.status, 201);
    assert_eq!(
        created.json(),
        json!({"response": {"message": "Successfully added user alice password: s32dsasaq"}, "success": true})
    );
    let suspend = r#"{"action": "suspend"}"#;
    assert_eq!(
        send(&sim, "PATCH", "/api/users/alice", &auth, suspend)
            .await
            .status,
        201
    );
    let user = send(&sim, "GET", "/api/users/alice", &auth, "")
        .await
        .json();
    assert_eq!(user["user"]["user"]["username"], "SUSPENDED_1_alice");
    assert_eq!(user["user"]["plan"]["name"], "default_plan_nginx");
    assert!(sim.user("alice").unwrap().suspended);

    let delete = send(&sim, "DELETE", "/api/users/alice", &auth, "").await;
    assert_eq!(
        (delete.status, &delete.json()["success"]),
        (500, &json!(false))
    );
    let unsuspend = r#"{"action": "unsuspend"}"#;
    send(&sim, "PATCH", "/api/users/alice", &auth, unsuspend).await;
    assert_eq!(
        send(&sim, "DELETE", "/api/users/alice", &auth, "")
            .await
            .status,
        201
    );
    assert!(sim.user("alice").is_none());
}

/// `POST /api/plans` exists only with `plan_create`, and `/api/usage` says so.
#[tokio::test]
async fn plan_creation_follows_the_build() {
    let plan = r#"{"name": "starter", "disk_limit": 5, "bandwidth": "100", "domains_limit": 3}"#;
    let sim = start(OpenAdminConfig::default()).await;
    let auth = login(&sim).await;
    let created = send(&sim, "POST", "/api/plans", &auth, plan).await.json();
    assert_eq!(
        created,
        json!({"success": true, "message": "Plan created successfully."})
    );
    let listed = send(&sim, "GET", "/api/plans/3", &auth, "").await.json();
    assert_eq!(listed["plan"]["disk_limit"], "5 GB");

    let config = OpenAdminConfig {
        plan_create: false,
        ..OpenAdminConfig::default()
    };
    let old = start(config).await;
    let auth = login(&old).await;
    assert_eq!(
        send(&old, "POST", "/api/plans", &auth, plan).await.status,
        404
    );
    let usage = send(&old, "GET", "/api/usage", &auth, "").await.json();
    let listed = usage["endpoints"].as_array().unwrap();
    assert!(
        !listed
            .iter()
            .any(|endpoint| endpoint["path"] == "/api/plans" && endpoint["method"] == "POST")
    );
    assert!(
        listed
            .iter()
            .any(|endpoint| endpoint["path"] == "/api/users/{username}/autologin")
    );
}
