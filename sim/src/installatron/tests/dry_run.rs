//! Dry runs: `complete_dryrun`, nothing changed, connections tested only
//! with `all`.

use serde_json::json;

use super::{JSON, assert_refused, call, doc_request, doc_user, post_json, start};

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
