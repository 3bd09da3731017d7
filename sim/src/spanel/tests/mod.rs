//! The form decoder on the docs' examples, and router-level tests over real
//! HTTP/1.1: the docs' two examples end to end, the reply conventions,
//! permissions, SSO, accounts, user functions and faults.
//!
//! This file holds what the topics share: the docs' two examples as PHP sends
//! them, and calls to `api.php`.

mod accounts;
mod docs;
mod form;
mod permissions;
mod replies;

use serde_json::Value;

use super::{SimSpanelPackage, SpanelConfig, SpanelSim};
use crate::testing::{self, Answer};

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

/// Sends one request on a fresh connection (closed after the answer).
async fn send(sim: &SpanelSim, method: &str, path: &str, content_type: &str, body: &str) -> Answer {
    let head = format!("Host: panel.example.com\r\nContent-Type: {content_type}\r\n");
    testing::send(sim.addr(), method, path, &head, body).await
}

const FORM: &str = "application/x-www-form-urlencoded";

/// POSTs a form-encoded body to `api.php` and returns the JSON reply.
async fn post(sim: &SpanelSim, body: &str) -> Value {
    send(sim, "POST", "/spanel/api.php", FORM, body)
        .await
        .ok_json()
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
