//! Router-level tests over real HTTP/1.1: the envelope and the key, the doc's
//! example end to end, the upsert, dry runs, JSON and form bodies giving the
//! same user, validation, paging, delete, login and faults.
//!
//! This file holds what the topics share: requests with and without the key,
//! the refusal check, and the doc's example user.

mod dry_run;
mod envelope;
mod inputs;
mod users;

use serde_json::{Value, json};

use super::{InstallatronConfig, InstallatronSim};
use crate::testing;

/// The default key, as the tests send it.
const KEY: &str = "panelgate-sim-installatron-key";
const JSON: &str = "application/json";
const FORM: &str = "application/x-www-form-urlencoded";

/// One HTTP answer with its JSON body (every answer of the API is JSON).
#[derive(Debug)]
struct Answer {
    status: u16,
    head: String,
    body: Value,
}

/// Sends one request on a fresh connection; `headers` are extra header lines.
async fn send(
    sim: &InstallatronSim,
    method: &str,
    path: &str,
    headers: &str,
    content_type: &str,
    body: &str,
) -> Answer {
    let head = format!(
        "Host: panel.example.com\r\n{headers}Accept: application/json\r\n\
         Content-Type: {content_type}\r\n"
    );
    let answer = testing::send(sim.addr(), method, path, &head, body).await;
    Answer {
        status: answer.status,
        body: answer.json(),
        head: answer.head,
    }
}

/// A request with the right key.
async fn call(
    sim: &InstallatronSim,
    method: &str,
    path: &str,
    content_type: &str,
    body: &str,
) -> Answer {
    let key = format!("X-API-KEY: {KEY}\r\n");
    send(sim, method, path, &key, content_type, body).await
}

async fn post_json(sim: &InstallatronSim, path: &str, body: &Value) -> Answer {
    call(sim, "POST", path, JSON, &body.to_string()).await
}

async fn get(sim: &InstallatronSim, path: &str) -> Answer {
    call(sim, "GET", path, JSON, "").await
}

async fn start() -> InstallatronSim {
    InstallatronSim::start(InstallatronConfig::default())
        .await
        .unwrap()
}

/// Asserts a refusal: HTTP status = `status`, `result` false, the errcode and errfield.
fn assert_refused(answer: &Answer, status: u16, errcode: &str, errfield: Option<&str>) {
    assert_eq!(answer.status, status, "{answer:?}");
    assert_eq!(answer.body["status"], status, "{answer:?}");
    assert_eq!(answer.body["result"], false, "{answer:?}");
    assert_eq!(answer.body["errcode"], errcode, "{answer:?}");
    assert_eq!(answer.body["errfield"], json!(errfield), "{answer:?}");
    assert_eq!(answer.body["data"], Value::Null, "{answer:?}");
}

/// The doc's RESPONSE example's `data`: two websites, databases on two hosts.
fn doc_user() -> Value {
    json!({
        "id": "useraccountname",
        "parent": "root",
        "type": "user",
        "suspended": false,
        "locale": "en",
        "email": "address@website.com",
        "websites": [
            {
                "path": "sftp://exampleftpuser:exampleftppassword@website.com",
                "label": "website.com",
                "server": "website.com",
                "parent": "root",
                "databases": [doc_database(1, "localhost")],
                "vhosts": {"http://website.com": "public_html"}
            },
            {
                "path": "sftp://exampleftpuser:exampleftppassword@website.com/subdomain",
                "server": "website.com",
                "label": "subdomain.website.com",
                "parent": "root",
                "databases": [doc_database(2, "123.123.123.123:3307")],
                "vhosts": {
                    "http://subdomain.website.com": "public_html/subdomain",
                    "https://subdomain.website.com": "public_html/subdomain"
                }
            }
        ]
    })
}

/// Database `number` of the doc's example, on `host`.
fn doc_database(number: u8, host: &str) -> Value {
    let name = format!("useraccountname_mytestdb{number}");
    json!({"type": "mysql", "host": host, "user": name, "name": name,
           "pass": format!("exampledbpassword{number}")})
}

/// A request that gives [`doc_user`]: the first website names its server and
/// reseller, the second relies on the defaults (host of the path, the user's parent).
fn doc_request() -> Value {
    json!({
        "id": "useraccountname",
        "email": "address@website.com",
        "websites": [
            {
                "path": "sftp://exampleftpuser:exampleftppassword@website.com",
                "label": "website.com",
                "server": "website.com",
                "reseller": "root",
                "vhosts": {"http://website.com": "public_html"},
                "databases": [doc_database(1, "localhost")]
            },
            {
                "path": "sftp://exampleftpuser:exampleftppassword@website.com/subdomain",
                "label": "subdomain.website.com",
                "vhosts": {
                    "http://subdomain.website.com": "public_html/subdomain",
                    "https://subdomain.website.com": "public_html/subdomain"
                },
                "databases": [{
                    "host": "123.123.123.123:3307",
                    "user": "useraccountname_mytestdb2", "name": "useraccountname_mytestdb2",
                    "pass": "exampledbpassword2"
                }]
            }
        ]
    })
}
