//! An account's whole life on every panel, and every operation a server
//! declares called for real (and every one it does not declare refused).

use panelgate_proto::Capability;
use panelgate_proto::v1::{
    AccountStatus, ChangePackageRequest, ChangePasswordRequest, CreateLoginLinkRequest,
    DeleteAccountRequest, GetAccountRequest, SuspendAccountRequest, UnsuspendAccountRequest,
};
use tonic::Code;

use super::{about, capabilities};
use crate::{
    Backend, Made, Panel, PanelFixture,
    errors::{assert_error, metadata},
    operations,
};

/// create → get → suspend → unsuspend → change package → change password →
/// login link → delete, each checked on the simulated panel itself; calls after
/// the create leave the target out and are routed by the account index.
pub async fn account_lifecycle<F: PanelFixture>(backend: Backend) {
    Panel::<F>::on(backend, |panel| async move {
        let mut accounts = panel.gateway.accounts();
        let (first_package, second_package) = panel.packages();

        let created = panel.create_account(panel.new_account("carol")).await;
        let created = created.expect("create account");
        assert_eq!(created.username, "carol");
        assert_eq!(created.server_id, panel.id);
        assert_eq!(created.primary_domain, "carol.example");
        assert_eq!(created.package, first_package);
        assert!(panel.account_exists("carol"), "the panel holds it");
        let email = panel.email_of("carol");
        assert_eq!(email.as_deref(), Some("carol@mail.example"), "its email");

        let got = accounts
            .get_account(GetAccountRequest {
                target: None,
                username: "carol".into(),
            })
            .await
            .expect("get account, routed by the account index")
            .into_inner()
            .account
            .expect("account in reply");
        assert_eq!(
            (got.username.as_str(), got.server_id.as_str()),
            ("carol", panel.id.as_str())
        );
        assert_eq!(got.primary_domain, "carol.example");
        assert_eq!(got.package, first_package);
        // Where the panel's account reads carry no email, none is invented.
        let expected_email = if F::REPORTS_EMAIL {
            "carol@mail.example"
        } else {
            ""
        };
        assert_eq!(got.email, expected_email);
        assert_ne!(got.status(), AccountStatus::Suspended);

        let suspend = SuspendAccountRequest {
            username: "carol".into(),
            reason: "unpaid".into(),
            ..Default::default()
        };
        accounts.suspend_account(suspend).await.expect("suspend");
        assert!(panel.is_suspended("carol"), "suspended on the panel");
        let unsuspend = UnsuspendAccountRequest {
            username: "carol".into(),
            ..Default::default()
        };
        accounts
            .unsuspend_account(unsuspend)
            .await
            .expect("unsuspend");
        assert!(!panel.is_suspended("carol"), "active again on the panel");

        let change = ChangePackageRequest {
            username: "carol".into(),
            package: second_package.into(),
            ..Default::default()
        };
        accounts
            .change_package(change)
            .await
            .expect("change package");
        let package = panel.package_of("carol");
        assert_eq!(package.as_deref(), Some(second_package));

        // Panels that keep no account passwords (Installatron) do not
        // declare this step; unsupported_operations_are_unimplemented covers them.
        if capabilities(&panel)
            .await
            .contains(&Capability::ChangePassword)
        {
            let change = ChangePasswordRequest {
                username: "carol".into(),
                password: "second-password-2".into(),
                ..Default::default()
            };
            accounts
                .change_password(change)
                .await
                .expect("change password");
            let password = panel.password_of("carol");
            assert_eq!(password.as_deref(), Some("second-password-2"));
        }

        let link = CreateLoginLinkRequest {
            target: None,
            username: "carol".into(),
        };
        let url = accounts.create_login_link(link).await.expect("login link");
        let url = url.into_inner().url;
        assert!(
            url.starts_with("http://") || url.starts_with("https://"),
            "a URL: {url}"
        );

        let delete = DeleteAccountRequest {
            username: "carol".into(),
            ..Default::default()
        };
        accounts.delete_account(delete).await.expect("delete");
        assert!(!panel.account_exists("carol"), "gone from the panel");
        let after = accounts.get_account(GetAccountRequest {
            target: None,
            username: "carol".into(),
        });
        assert_error(after.await, Code::NotFound, "ACCOUNT_NOT_INDEXED");
    })
    .await;
}

/// Every operation the server lists in its capabilities is really
/// implemented: called in turn about a new account (created by the first,
/// deleted by the last), each one succeeds, and what it makes, changes or
/// removes is so on the simulated panel.
pub async fn supported_operations_are_implemented<F: PanelFixture>(backend: Backend) {
    Panel::<F>::on(backend, |panel| async move {
        let supported = capabilities(&panel).await;
        let about = about(&panel, "gina");
        let last = Capability::DeleteAccount;
        let declared = operations::ALL.iter().copied();
        let ordered = declared
            .filter(|operation| *operation != last)
            .chain([last]);
        for operation in ordered.filter(|operation| supported.contains(operation)) {
            let result = operations::call(&panel.gateway, panel.target(), operation, about).await;
            if let Err(status) = result {
                panic!("{operation:?} is declared, and fails: {status:?}");
            }
            assert_done(&panel.fixture, operation, about.packages.1);
        }
    })
    .await;
}

/// Asserts the simulated panel shows that `operation`, just called about
/// account `gina` (see [`operations::call`]), did what it says; reads,
/// login links and service calls are checked by their success alone.
#[track_caller]
fn assert_done<F: PanelFixture>(panel: &F, operation: Capability, other_package: &str) {
    let count = |what: Made, name: &str| panel.count(what, "gina", name);
    let checked = match operation {
        Capability::CreateAccount => panel.account_exists("gina"),
        Capability::DeleteAccount => !panel.account_exists("gina"),
        Capability::UpdateAccount => panel.email_of("gina").as_deref() == Some("new@example.com"),
        Capability::SuspendAccount => panel.is_suspended("gina"),
        Capability::UnsuspendAccount => !panel.is_suspended("gina"),
        Capability::ChangePackage => panel.package_of("gina").as_deref() == Some(other_package),
        Capability::ChangePassword => {
            panel.password_of("gina").as_deref() == Some("another-long-password")
        }
        Capability::CreatePackage => count(Made::Package, "pkggina") == Some(1),
        Capability::DeletePackage => count(Made::Package, "pkggina") == Some(0),
        Capability::AddDomain => count(Made::Domain, "shop.gina.example") == Some(1),
        Capability::DeleteDomain => count(Made::Domain, "shop.gina.example") == Some(0),
        Capability::CreateDatabase => count(Made::Database, "shop") == Some(1),
        Capability::IssueCertificate => count(Made::Certificate, "gina.example") == Some(1),
        Capability::CreatePanelAdmin => count(Made::PanelAdmin, "ginaadmin") == Some(1),
        _ => true,
    };
    assert!(
        checked,
        "{operation:?} did not do on the panel what it says"
    );
}

/// Every operation the server does not list in its capabilities answers
/// UNIMPLEMENTED / OPERATION_NOT_SUPPORTED without calling the panel, and the
/// server lists at least account creation.
pub async fn unsupported_operations_are_unimplemented<F: PanelFixture>(backend: Backend) {
    Panel::<F>::on(backend, |panel| async move {
        let capabilities = capabilities(&panel).await;
        assert!(capabilities.contains(&Capability::CreateAccount));
        let unsupported = operations::ALL
            .iter()
            .copied()
            .filter(|op| !capabilities.contains(op));
        let before = panel.requests();
        let about = about(&panel, "erin");
        for operation in unsupported {
            let result = operations::call(&panel.gateway, panel.target(), operation, about).await;
            let status = assert_error(result, Code::Unimplemented, "OPERATION_NOT_SUPPORTED");
            let named = metadata(&status, "operation");
            assert_eq!(named, operation.as_str_name());
        }
        assert_eq!(panel.requests(), before, "no panel call");
    })
    .await;
}
