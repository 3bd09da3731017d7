//! Router-level tests over real HTTP/1.1: the envelope and the key, the doc's
//! example end to end, the upsert, dry runs, JSON and form bodies giving the
//! same user, validation, paging, delete, login and faults.

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{InstallatronConfig, InstallatronSim};
use crate::faults::Fault;

/// The default key, as the tests send it.
const KEY: &str = "panelgate-sim-installatron-key";
const JSON: &str = "application/json";
const FORM: &str = "application/x-www-form-urlencoded";

/// One HTTP answer with its JSON body.
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
    let mut stream = TcpStream::connect(sim.addr()).await.unwrap();
    let raw = format!(
        "{method} {path} HTTP/1.1\r\nHost: panel.example.com\r\n{headers}\
         Accept: application/json\r\nContent-Type: {content_type}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(raw.as_bytes()).await.unwrap();
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).await.unwrap();
    let raw = String::from_utf8(bytes).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let body = serde_json::from_str(body).unwrap_or_else(|error| panic!("{error}: {raw}"));
    Answer {
        status,
        head: head.to_owned(),
        body,
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
                "databases": [{
                    "type": "mysql", "host": "localhost",
                    "user": "useraccountname_mytestdb1", "name": "useraccountname_mytestdb1",
                    "pass": "exampledbpassword1"
                }],
                "vhosts": {"http://website.com": "public_html"}
            },
            {
                "path": "sftp://exampleftpuser:exampleftppassword@website.com/subdomain",
                "server": "website.com",
                "label": "subdomain.website.com",
                "parent": "root",
                "databases": [{
                    "type": "mysql", "host": "123.123.123.123:3307",
                    "user": "useraccountname_mytestdb2", "name": "useraccountname_mytestdb2",
                    "pass": "exampledbpassword2"
                }],
                "vhosts": {
                    "http://subdomain.website.com": "public_html/subdomain",
                    "https://subdomain.website.com": "public_html/subdomain"
                }
            }
        ]
    })
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
                "databases": [{
                    "type": "mysql", "host": "localhost",
                    "user": "useraccountname_mytestdb1", "name": "useraccountname_mytestdb1",
                    "pass": "exampledbpassword1"
                }]
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

/// The doc's response example round-trips: the create answers it, GET shows
/// it, and the handle returns it.
#[tokio::test]
async fn doc_example_round_trips() {
    let sim = start().await;
    let created = post_json(&sim, "/users", &doc_request()).await;
    assert_eq!(created.status, 200, "{created:?}");
    assert_eq!(created.body["result"], true);
    assert_eq!(created.body["data"], doc_user());
    let viewed = get(&sim, "/users/useraccountname").await;
    assert_eq!(
        viewed.body,
        json!({"result": true, "status": 200, "errcode": null, "errfield": null,
               "message": "The task is complete.\n", "data": doc_user()})
    );
    assert_eq!(sim.user("useraccountname"), Some(doc_user()));
    assert_eq!(sim.user_count(), 1);
    let request = sim.received().pop().unwrap();
    assert_eq!(request.method, "GET");
    assert_eq!(request.path, "/users/useraccountname");
    assert_eq!(request.accept.as_deref(), Some("application/json"));
}

/// `POST /users` again changes only what it sends; websites sent replace the
/// list; `POST /users/{id}` edits (path id wins), and creates an unknown user.
#[tokio::test]
async fn upsert_keeps_fields_not_sent() {
    let sim = start().await;
    let mut request = doc_request();
    request["package"] = json!("gold");
    request["language"] = json!("nl");
    post_json(&sim, "/users", &request).await;

    let suspended = post_json(
        &sim,
        "/users",
        &json!({"id": "useraccountname", "suspended": true}),
    )
    .await;
    let mut expected = doc_user();
    expected["suspended"] = json!(true);
    expected["package"] = json!("gold");
    expected["locale"] = json!("nl");
    assert_eq!(suspended.body["data"], expected);
    assert_eq!(sim.user("useraccountname"), Some(expected.clone()));

    let edited = post_json(
        &sim,
        "/users/useraccountname",
        &json!({"id": "someone-else", "email": "new@website.com",
                "websites": [{"path": "ftp://u:p@ftp.example.net", "label": "only"}]}),
    )
    .await;
    expected["email"] = json!("new@website.com");
    expected["websites"] = json!([{"path": "ftp://u:p@ftp.example.net", "label": "only",
        "server": "ftp.example.net", "parent": "root", "databases": [], "vhosts": {}}]);
    assert_eq!(edited.body["data"], expected);
    assert_eq!(sim.user_count(), 1);

    let unknown = post_json(&sim, "/users/ghost", &json!({"email": "a@b.co"})).await;
    assert_eq!(unknown.status, 200, "{unknown:?}");
    assert_eq!(
        sim.user("ghost").map(|user| user["email"].clone()),
        Some(json!("a@b.co")),
        "an edit of an unknown user creates it"
    );
    assert_eq!(sim.user_count(), 2);
    let no_id = post_json(&sim, "/users", &json!({"email": "a@b.co"})).await;
    assert_refused(&no_id, 400, "empty_argument_id", Some("id"));
}

/// Dry runs answer `complete_dryrun` (status 200, result false) and change
/// nothing; `all` tests the connections, `input` does not.
#[tokio::test]
async fn dry_run_changes_nothing() {
    let sim = start().await;
    let body = doc_request().to_string();
    let checked = call(&sim, "POST", "/users?dryrun=all", JSON, &body).await;
    assert_eq!(
        checked.body,
        json!({"result": false, "status": 200, "errcode": "complete_dryrun", "errfield": null,
               "message": "dryrun was enabled and finished without error.\n", "data": null})
    );
    assert_eq!(checked.status, 200);
    assert_eq!(sim.user_count(), 0);
    assert_eq!(sim.received()[0].path, "/users?dryrun=all");

    let mut unreachable = doc_request();
    unreachable["dryrun"] = json!("all");
    unreachable["websites"][1]["path"] = json!("sftp://u:p@unreachable.invalid/sub");
    let failed = post_json(&sim, "/users", &unreachable).await;
    assert_refused(
        &failed,
        500,
        "failed_filesystem_host",
        Some("websites[1][path]"),
    );
    unreachable["dryrun"] = json!("input");
    let inputs_only = post_json(&sim, "/users", &unreachable).await;
    assert_eq!(inputs_only.body["errcode"], "complete_dryrun");

    let mut bad_database = doc_request();
    bad_database["dryrun"] = json!("all");
    bad_database["websites"][0]["databases"][0]["host"] = json!("unreachable.invalid:3306");
    let failed = post_json(&sim, "/users", &bad_database).await;
    assert_refused(
        &failed,
        500,
        "failed_database_host",
        Some("websites[0][databases][0][host]"),
    );
    assert_eq!(sim.user_count(), 0);

    // A dry-run edit and delete leave the stored user alone.
    post_json(&sim, "/users", &doc_request()).await;
    let edit = post_json(
        &sim,
        "/users/useraccountname",
        &json!({"email": "x@y.com", "dryrun": "input"}),
    )
    .await;
    assert_eq!(edit.body["errcode"], "complete_dryrun");
    let delete = call(
        &sim,
        "DELETE",
        "/users/useraccountname?dryrun=all",
        JSON,
        "",
    )
    .await;
    assert_eq!(delete.body["errcode"], "complete_dryrun");
    assert_eq!(sim.user("useraccountname"), Some(doc_user()));
}

/// The same user sent as JSON and as a PHP bracket-notation form is stored the same.
#[tokio::test]
async fn json_and_form_give_the_same_user() {
    let by_json = start().await;
    let by_form = start().await;
    let json_body = json!({
        "id": "bob", "email": "bob@example.com", "suspended": false, "type": "reseller",
        "websites": [{
            "path": "/home/bob", "uid": 1001, "gid": 1002, "label": "bob.example",
            "vhost_ip": "192.0.2.7", "suspended": true,
            "vhosts": {"http://bob.example": "public_html", "https://bob.example": "public_html"},
            "databases": [{"type": "mysql", "host": "localhost", "name": "bob_wp",
                           "user": "bob_wp", "pass": "s3cret+&="}]
        }]
    });
    let answer = post_json(&by_json, "/users", &json_body).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    let form_body = "id=bob&email=bob%40example.com&suspended=0&type=reseller\
        &websites%5B0%5D%5Bpath%5D=%2Fhome%2Fbob&websites[0][uid]=1001&websites[0][gid]=1002\
        &websites[0][label]=bob.example&websites[0][vhost_ip]=192.0.2.7&websites[0][suspended]=1\
        &websites[0][vhosts][http://bob.example]=public_html\
        &websites%5B0%5D%5Bvhosts%5D%5Bhttps%3A%2F%2Fbob.example%5D=public_html\
        &websites[0][databases][0][type]=mysql&websites[0][databases][0][host]=localhost\
        &websites[0][databases][0][name]=bob_wp&websites[0][databases][0][user]=bob_wp\
        &websites[0][databases][0][pass]=s3cret%2B%26%3D";
    let answer = call(&by_form, "POST", "/users", FORM, form_body).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    let stored = by_json.user("bob").unwrap();
    assert_eq!(by_form.user("bob"), Some(stored.clone()));
    assert_eq!(stored["websites"][0]["server"], "localhost");
    assert_eq!(stored["websites"][0]["uid"], 1001);
    assert_eq!(stored["websites"][0]["databases"][0]["pass"], "s3cret+&=");
    assert_eq!(stored["type"], "reseller");
}

/// A local path needs uid and gid; the inputs are checked like a real API,
/// the first problem answering with its errcode and errfield.
#[tokio::test]
async fn validation_errcodes() {
    let sim = start().await;
    let website = |extra: Value| {
        let mut website = json!({"path": "/home/u/public_html", "uid": 1000, "gid": 1000});
        for (key, value) in extra.as_object().unwrap() {
            website[key] = value.clone();
        }
        json!({"id": "u", "websites": [website]})
    };
    let mut no_uid = website(json!({}));
    no_uid["websites"][0].as_object_mut().unwrap().remove("uid");
    let answer = post_json(&sim, "/users", &no_uid).await;
    assert_refused(&answer, 400, "empty_argument_uid", Some("websites[0][uid]"));
    let form = "id=u&websites[0][path]=/home/u&websites[0][uid]=1000";
    let answer = call(&sim, "POST", "/users", FORM, form).await;
    assert_refused(&answer, 400, "empty_argument_gid", Some("websites[0][gid]"));

    let cases = [
        (
            json!({"id": "u", "email": "not-an-email"}),
            "invalid_argument_email",
            "email",
        ),
        (
            website(json!({"vhost_ip": "999.1.1.1"})),
            "invalid_argument_vhost_ip",
            "websites[0][vhost_ip]",
        ),
        (
            website(json!({"path": "http://x.com"})),
            "invalid_argument_path",
            "websites[0][path]",
        ),
        (
            website(json!({"path": "/home/u/"})),
            "invalid_argument_path",
            "websites[0][path]",
        ),
        (
            website(json!({"vhosts": {"x.com": "public_html"}})),
            "invalid_argument_vhosts",
            "websites[0][vhosts]",
        ),
        (
            website(
                json!({"databases": [{"type": "pgsql", "host": "h", "name": "n", "user": "u", "pass": "p"}]}),
            ),
            "invalid_argument_type",
            "websites[0][databases][0][type]",
        ),
        (
            website(json!({"databases": [{"host": "h", "name": "n", "user": "u"}]})),
            "empty_argument_pass",
            "websites[0][databases][0][pass]",
        ),
        (
            json!({"id": "u", "websites": [{"path": "ftp://a@h", "label": "x"}, {"path": "ftp://b@h", "label": "x"}]}),
            "invalid_argument_label",
            "websites[1][label]",
        ),
        (
            json!({"id": "u", "type": "admin"}),
            "invalid_argument_type",
            "type",
        ),
        (
            json!({"id": "u", "parent": "nobody"}),
            "invalid_argument_parent",
            "parent",
        ),
        (
            json!({"id": "u", "dryrun": "maybe"}),
            "invalid_argument_dryrun",
            "dryrun",
        ),
    ];
    for (body, errcode, errfield) in cases {
        let answer = post_json(&sim, "/users", &body).await;
        assert_refused(&answer, 400, errcode, Some(errfield));
    }
    let bad_id = post_json(&sim, "/users", &json!({"id": "a b"})).await;
    assert_refused(&bad_id, 403, "invalid_argument_id", Some("id"));
    assert_eq!(sim.user_count(), 0);
}

/// `GET /users` pages with `offset` and `limit` (default 50) and reports
/// `total_count` beside `data`.
#[tokio::test]
async fn list_pages_with_total_count() {
    let sim = start().await;
    for index in 0..55 {
        let body = format!("id=user{index:02}");
        let answer = call(&sim, "POST", "/users", FORM, &body).await;
        assert_eq!(answer.status, 200, "{answer:?}");
    }
    let page = get(&sim, "/users?offset=1&limit=2").await;
    assert_eq!(page.body["total_count"], 55);
    let ids: Vec<&str> = page.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|user| user["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["user01", "user02"]);
    assert_eq!(page.body["data"][0], sim.user("user01").unwrap());
    let first = get(&sim, "/users").await;
    assert_eq!(first.body["data"].as_array().unwrap().len(), 50);
    let last = get(&sim, "/users?offset=50").await;
    assert_eq!(last.body["data"].as_array().unwrap().len(), 5);
    let bad = get(&sim, "/users?limit=-1").await;
    assert_refused(&bad, 400, "invalid_argument_limit", Some("limit"));
}

/// Delete forgets the user; login answers a GUI URL on the Host with its session id.
#[tokio::test]
async fn delete_and_login() {
    let sim = start().await;
    post_json(&sim, "/users", &doc_request()).await;
    let login = call(
        &sim,
        "POST",
        "/users/useraccountname/login",
        JSON,
        "{\"language\": \"nl\"}",
    )
    .await;
    assert_eq!(login.status, 200, "{login:?}");
    let session = login.body["session_id"].as_str().unwrap();
    assert_eq!(session.len(), 22);
    assert_eq!(
        login.body["data"],
        format!("http://panel.example.com/{session}")
    );
    let unknown = call(&sim, "POST", "/users/ghost/login", JSON, "").await;
    assert_refused(&unknown, 404, "user_not_found", None);

    // X-HTTP-Method-Override tunnels DELETE through POST.
    let deleted = send(
        &sim,
        "POST",
        "/users/useraccountname",
        &format!("X-API-KEY: {KEY}\r\nX-HTTP-Method-Override: DELETE\r\n"),
        FORM,
        "background=1",
    )
    .await;
    assert_eq!(deleted.status, 200, "{deleted:?}");
    assert_eq!(deleted.body["data"], Value::Null);
    assert_eq!(sim.user_count(), 0);
    let again = call(&sim, "DELETE", "/users/useraccountname", JSON, "").await;
    assert_refused(&again, 404, "user_not_found", None);
}

/// Faults answer before the API: counted, not received.
#[tokio::test]
async fn faults_answer_before_the_api() {
    let sim = start().await;
    sim.faults().set(Fault::Status(502));
    let mut stream = TcpStream::connect(sim.addr()).await.unwrap();
    stream
        .write_all(b"GET /users HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).await.unwrap();
    assert!(raw.starts_with("HTTP/1.1 502"), "{raw}");
    assert_eq!(sim.request_count(), 1);
    assert!(sim.received().is_empty());
    sim.faults().clear();
    assert_eq!(get(&sim, "/users").await.status, 200);
    assert_eq!(sim.received().len(), 1);
}
