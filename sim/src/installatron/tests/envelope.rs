//! The envelope and the key: every answer in one envelope, the HTTP status
//! mirroring it; the key checked first; faults answering before the API.

use serde_json::json;

use super::{JSON, assert_refused, call, get, send, start};
use crate::faults::Fault;
use crate::installatron::{InstallatronConfig, InstallatronSim};
use crate::testing;

/// Successes and errors share the envelope, the HTTP status mirroring `status`;
/// the JSON is valid (the doc's example lacks a comma).
#[tokio::test]
async fn envelope_mirrors_status() {
    let sim = start().await;
    let listed = get(&sim, "/users").await;
    assert_eq!(listed.status, 200);
    assert!(listed.head.contains("application/json"), "{listed:?}");
    assert_eq!(
        listed.body,
        json!({"result": true, "status": 200, "errcode": null, "errfield": null,
               "message": "The task is complete.\n", "data": [], "total_count": 0})
    );

    let missing = get(&sim, "/users/nobody").await;
    assert_refused(&missing, 404, "user_not_found", None);
    assert!(missing.body["message"].as_str().unwrap().ends_with('\n'));

    let bad_id = get(&sim, "/users/a%20b").await;
    assert_refused(&bad_id, 403, "invalid_argument_id", Some("id"));
    let slashed = get(&sim, "/users/a%2Fb").await;
    assert_refused(&slashed, 403, "invalid_argument_id", Some("id"));
    let no_user = call(&sim, "DELETE", "/users", JSON, "").await;
    assert_refused(&no_user, 400, "empty_argument_user", Some("user"));
    let unknown = get(&sim, "/installs").await;
    assert_refused(&unknown, 404, "command_not_found", None);
    let broken = call(&sim, "POST", "/users", JSON, "{\"id\": ").await;
    assert_refused(&broken, 400, "invalid_json", None);
}

/// A missing or wrong key is 403 `invalid_api_key`; the header name is
/// case-insensitive and `key2` is accepted too.
#[tokio::test]
async fn api_key_is_checked() {
    let config = InstallatronConfig {
        api_key: "first-key".to_owned(),
        api_key2: Some("second-key".to_owned()),
    };
    assert!(!format!("{config:?}").contains("first-key"));
    let sim = InstallatronSim::start(config).await.unwrap();
    let none = send(&sim, "GET", "/users", "", JSON, "").await;
    assert_refused(&none, 403, "invalid_api_key", None);
    let wrong = send(&sim, "GET", "/users", "X-API-KEY: nope\r\n", JSON, "").await;
    assert_refused(&wrong, 403, "invalid_api_key", None);
    // Refused before the path is looked at.
    let unknown = send(&sim, "GET", "/nowhere", "", JSON, "").await;
    assert_refused(&unknown, 403, "invalid_api_key", None);
    let first = send(&sim, "GET", "/users", "x-api-key: first-key\r\n", JSON, "").await;
    assert_eq!(first.status, 200, "{first:?}");
    let second = send(&sim, "GET", "/users", "X-Api-Key: second-key\r\n", JSON, "").await;
    assert_eq!(second.status, 200, "{second:?}");
    assert_eq!(sim.received().len(), 5);
}

/// Faults answer before the API: counted, not received.
#[tokio::test]
async fn faults_answer_before_the_api() {
    let sim = start().await;
    sim.faults().set(Fault::Status(502));
    let raw = testing::send(sim.addr(), "GET", "/users", "Host: x\r\n", "").await;
    assert!(raw.head.starts_with("HTTP/1.1 502"), "{raw:?}");
    assert_eq!(sim.request_count(), 1);
    assert!(sim.received().is_empty());
    sim.faults().clear();
    assert_eq!(get(&sim, "/users").await.status, 200);
    assert_eq!(sim.received().len(), 1);
}
