//! Permission lists refused when malformed, and single sign-on.

use serde_json::json;

use super::{call, start};
use crate::spanel::{SpanelConfig, SpanelSim};

/// Malformed permissions are refused, for packages and for admin users.
#[tokio::test]
async fn malformed_permissions_refused() {
    let sim = start().await;
    let cases = [
        ("", "The permissions field is required"),
        (
            "&permissions=some",
            "Invalid permissions: use 'all' or an array of categories",
        ),
        (
            "&permissions[nosuch]=all",
            "Unknown permission category: nosuch",
        ),
        // The doc's prose writes `domains`; the category is `domain` (reading 12).
        (
            "&permissions[domains][]=domains",
            "Unknown permission category: domains",
        ),
        (
            "&permissions[email][]=nosuch",
            "Unknown permission page: email/nosuch",
        ),
        (
            "&permissions[email]=some",
            "Invalid permissions for category email: use 'all' or an array of pages",
        ),
        (
            "&permissions[email][0][x]=accounts",
            "Invalid permissions for category email: use 'all' or an array of pages",
        ),
    ];
    for (permissions, message) in cases {
        let reply = call(
            &sim,
            "accounts/createpackage",
            &format!("package=p1{permissions}"),
        )
        .await;
        assert_eq!(reply["message"], json!([message]), "{permissions}");
    }
    let admin_page_for_user = call(
        &sim,
        "admin/createadminuser",
        "username=ops&password=Secret123&permissions[email]=all",
    )
    .await;
    assert_eq!(
        admin_page_for_user["message"],
        json!(["Unknown permission category: email"])
    );
    assert_eq!(sim.packages().len(), 2);
    assert_eq!(sim.admin_users().len(), 1);
}

/// `base/sso` needs the token's SSO option; with it, a 40-hex token and a URL
/// on the request's host.
#[tokio::test]
async fn sso_needs_the_token_option() {
    let config = SpanelConfig {
        admin_token_sso: false,
        ..SpanelConfig::default()
    };
    let sim = SpanelSim::start(config).await.unwrap();
    call(
        &sim,
        "accounts/wwwacct",
        "username=bob&domain=bob.example.com&password=Secret123",
    )
    .await;
    let fields = "username=bob&role=user&redirect=file/filemanager";
    let refused = call(&sim, "base/sso", fields).await;
    assert_eq!(
        refused,
        json!({"result": "error", "message": ["SSO is not enabled for this API token"]})
    );
    sim.set_sso_enabled(true);
    let reply = call(&sim, "base/sso", fields).await;
    let token = reply["data"]["token"].as_str().unwrap();
    assert_eq!(token.len(), 40);
    assert!(token.bytes().all(|byte| byte.is_ascii_hexdigit()));
    assert_eq!(
        reply["data"]["url"],
        format!("http://panel.example.com/spanel/sso/{token}")
    );
    let bad_page = call(
        &sim,
        "base/sso",
        "username=bob&role=user&redirect=server/status",
    )
    .await;
    assert_eq!(bad_page["message"], json!(["Unknown page or category"]));
    let admin = call(&sim, "base/sso", "username=root&role=admin").await;
    assert_eq!(admin["result"], "success");
}
