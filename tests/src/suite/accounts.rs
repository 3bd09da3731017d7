//! The account calls every panel must answer the same way: duplicates,
//! unknown accounts, validate_only, bad input.

use panelgate_proto::v1::{
    CreateAccountRequest, DeleteAccountRequest, GetAccountRequest, SuspendAccountRequest,
};
use tonic::Code;

use crate::{
    Backend, Panel, PanelFixture,
    errors::{assert_error, assert_invalid, metadata},
    gateway::by_id,
};

/// validate_only changes nothing anywhere: a checked CreateAccount, Suspend and
/// Delete leave the panel as it was, and the reply says whether the panel itself
/// checked (a dry run) or only panelgate did.
pub async fn validate_only_changes_nothing<F: PanelFixture>(backend: Backend) {
    Panel::<F>::on(backend, |panel| async move {
        let mut accounts = panel.gateway.accounts();
        let checked = accounts
            .create_account(CreateAccountRequest {
                validate_only: true,
                ..panel.new_account("hank")
            })
            .await
            .expect("a valid account passes validation")
            .into_inner();
        let validation = checked.validation.expect("validation in the reply");
        assert_eq!(validation.panel_consulted, F::HAS_DRY_RUN);
        assert!(checked.account.is_none(), "nothing was created to return");
        assert!(!panel.account_exists("hank"), "no new account");
        let indexed = accounts.get_account(GetAccountRequest {
            target: None,
            username: "hank".into(),
        });
        assert_error(indexed.await, Code::NotFound, "ACCOUNT_NOT_INDEXED");

        panel.create("hank", panel.packages().0).await;
        let suspended = accounts
            .suspend_account(SuspendAccountRequest {
                username: "hank".into(),
                validate_only: true,
                ..Default::default()
            })
            .await
            .expect("suspension passes validation")
            .into_inner();
        let consulted = suspended.validation.map(|v| v.panel_consulted);
        assert_eq!(consulted, Some(F::HAS_DRY_RUN));
        assert!(!panel.is_suspended("hank"), "not suspended by a check");
        let delete = DeleteAccountRequest {
            username: "hank".into(),
            validate_only: true,
            ..Default::default()
        };
        let deleted = accounts.delete_account(delete).await;
        deleted.expect("deletion passes validation");
        assert!(panel.account_exists("hank"), "not deleted by a check");

        // A check still refuses what is invalid.
        let invalid = accounts.create_account(CreateAccountRequest {
            validate_only: true,
            ..panel.new_account("Bad Name")
        });
        assert_invalid(invalid.await, "username");
    })
    .await;
}

/// Creating an account twice → ALREADY_EXISTS naming the server.
pub async fn duplicate_account_is_already_exists<F: PanelFixture>(backend: Backend) {
    Panel::<F>::on(backend, |panel| async move {
        panel.create("dave", panel.packages().0).await;
        let again = panel.create_account(panel.new_account("dave")).await;
        let status = assert_error(again, Code::AlreadyExists, "ACCOUNT_ALREADY_EXISTS");
        let named = format!("`{}`", F::SERVER);
        let message = status.message();
        assert!(message.contains(&named), "names the server: {message}");
        assert_eq!(metadata(&status, "server_id"), panel.id);
        assert!(panel.account_exists("dave"), "the first is untouched");
    })
    .await;
}

/// An account the panel does not have → NOT_FOUND, by id as by name.
pub async fn unknown_account_is_not_found<F: PanelFixture>(backend: Backend) {
    Panel::<F>::on(backend, |panel| async move {
        let mut accounts = panel.gateway.accounts();
        for target in [panel.target(), by_id(&panel.id)] {
            let request = GetAccountRequest {
                target,
                username: "nobody".into(),
            };
            let got = accounts.get_account(request).await;
            assert_error(got, Code::NotFound, "ACCOUNT_NOT_FOUND");
        }
        let suspended = panel.suspend("nobody").await;
        assert_error(suspended, Code::NotFound, "ACCOUNT_NOT_FOUND");
    })
    .await;
}

/// Empty or malformed fields → INVALID_ARGUMENT naming the field, and the
/// panel never hears of it.
pub async fn bad_input_is_refused_before_any_panel_call<F: PanelFixture>(backend: Backend) {
    Panel::<F>::on(backend, |panel| async move {
        let good = panel.new_account("frank");
        let before = panel.requests();
        let with = |change: fn(&mut CreateAccountRequest)| {
            let mut request = good.clone();
            change(&mut request);
            request
        };
        let mut cases: Vec<(&str, CreateAccountRequest)> = vec![
            ("username", with(|r| r.username = String::new())),
            ("username", with(|r| r.username = "Frank!".into())),
            ("primary_domain", with(|r| r.primary_domain = String::new())),
            (
                "primary_domain",
                with(|r| r.primary_domain = "not a domain".into()),
            ),
            ("email", with(|r| r.email = String::new())),
            ("email", with(|r| r.email = "frank.example".into())),
            ("password", with(|r| r.password = "short".into())),
            ("package", with(|r| r.package = String::new())),
            ("target", with(|r| r.target = None)),
        ];
        if F::KEEPS_PASSWORDS {
            cases.push(("password", with(|r| r.password = String::new())));
        }
        let mut accounts = panel.gateway.accounts();
        for (field, request) in cases {
            assert_invalid(accounts.create_account(request).await, field);
        }
        let nameless = panel.get_account("").await;
        assert_invalid(nameless, "username");
        let short = panel.change_password("frank", "short").await;
        assert_invalid(short, "password");
        assert_eq!(panel.requests(), before, "no panel call for bad input");
        assert!(!panel.account_exists("frank"));
    })
    .await;
}
