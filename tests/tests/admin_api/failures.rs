//! The panel's own failures: its API switched off, and users it saves
//! before failing, which the adapter must not leave half-made.

use panelgate_proto::v1::{CreateAccountRequest, GetAccountRequest};
use panelgate_tests::errors::assert_error;
use tonic::Code;

use crate::Ols;

panelgate_tests::panel_tests!(Ols:
    disabled_api_is_failed_precondition,
    create_account_on_a_taken_domain_leaves_no_half_created_user,
    panel_failure_inside_add_user_leaves_no_half_created_user);

/// The panel's API switch off → FAILED_PRECONDITION PANEL_API_DISABLED, for
/// calls and for CheckServer; switched on, calls work again.
async fn disabled_api_is_failed_precondition(ols: Ols) {
    ols.create("quin", "Basic").await;
    ols.sim.set_api_enabled(false);
    let got = ols.get_account("quin").await;
    let said = "API is currently disabled";
    ols.assert_said(got, Code::FailedPrecondition, "PANEL_API_DISABLED", said);
    let checked = ols.check("ols").await;
    assert!(!checked.healthy);
    assert_eq!(checked.error_reason, "PANEL_API_DISABLED");

    ols.sim.set_api_enabled(true);
    let quin = ols.get_account("quin").await.expect("get quin");
    assert_eq!(quin.username, "quin");
    assert!(ols.check("ols").await.healthy);
}

/// The panel saves a new user before it creates the primary domain: a
/// CreateAccount whose domain belongs to another account is ALREADY_EXISTS
/// DOMAIN_ALREADY_EXISTS, the adapter removes the half-made user (so it is
/// neither on the panel nor indexed), the other account keeps its domain,
/// and a retry with a free domain succeeds.
async fn create_account_on_a_taken_domain_leaves_no_half_created_user(ols: Ols) {
    ols.create("yan", "Basic").await;
    let taken = ols.create_account(CreateAccountRequest {
        primary_domain: "yan.example".into(),
        ..ols.new_account("zed")
    });
    let said = "The domain 'yan.example' already exists.";
    ols.assert_said(
        taken.await,
        Code::AlreadyExists,
        "DOMAIN_ALREADY_EXISTS",
        said,
    );
    assert_eq!(ols.sim.user("zed"), None, "the half-made user is removed");
    assert_eq!(ols.sim.domain("yan.example").expect("domain").owner, "yan");
    assert_eq!(ols.sim.user("yan").expect("yan").domains, ["yan.example"]);
    let indexed = ols
        .gateway
        .accounts()
        .get_account(GetAccountRequest {
            target: None,
            username: "zed".into(),
        })
        .await;
    assert_error(indexed, Code::NotFound, "ACCOUNT_NOT_INDEXED");

    let retried = ols.create("zed", "Basic").await;
    assert_eq!(retried.primary_domain, "zed.example");
    let user = ols.sim.user("zed").expect("zed on the panel");
    assert_eq!(user.domains, ["zed.example"]);
}

/// add_user failing after it saved the user ("Domain creation failed
/// message") → INTERNAL UPSTREAM_OPERATION_FAILED, and the adapter removes the
/// half-made user so that a retry is not refused as a duplicate.
async fn panel_failure_inside_add_user_leaves_no_half_created_user(ols: Ols) {
    let said = "Domain creation failed message";
    ols.sim.fail_next("add_user", said);
    let failed = ols.create_account(ols.new_account("abe")).await;
    ols.assert_said(failed, Code::Internal, "UPSTREAM_OPERATION_FAILED", said);
    assert_eq!(ols.sim.user("abe"), None, "the half-made user is removed");
    ols.create("abe", "Basic").await;
    assert_eq!(ols.sim.user("abe").expect("abe").domains, ["abe.example"]);
}
