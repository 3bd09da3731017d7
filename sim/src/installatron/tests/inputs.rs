//! Reading the inputs: JSON and form bodies giving the same user, and the
//! errcode and errfield of each refused value.

use serde_json::{Value, json};

use super::{FORM, assert_refused, call, post_json, start};

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
