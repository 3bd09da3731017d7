//! The reply conventions (errors as arrays, lists without `result`, numbers
//! as strings), other paths, faults and `fail_next`.

use serde_json::{Value, json};

use super::{FORM, call, post, send, start};
use crate::faults::Fault;

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
    assert_eq!(get.ok_json()["message"], json!(["Invalid API token"]));
    let json_body = send(
        &sim,
        "POST",
        "/spanel/api.php",
        "application/json",
        r#"{"token": "panelgate-sim-spanel-token", "action": "toolbox/apicheck"}"#,
    )
    .await;
    assert_eq!(json_body.ok_json()["message"], json!(["Invalid API token"]));
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
