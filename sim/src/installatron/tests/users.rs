//! The user routes: the doc's example round trip, the upsert, paging,
//! delete and login.

use serde_json::{Value, json};

use super::{
    FORM, JSON, KEY, assert_refused, call, doc_request, doc_user, get, post_json, send, start,
};

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
