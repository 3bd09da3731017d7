//! The account calls every panel must answer the same way: the lifecycle,
//! duplicates, unknown accounts, capabilities, validate_only, bad input.

use panelgate_proto::v1::{
    AccountStatus, ChangePackageRequest, ChangePasswordRequest, CreateAccountRequest,
    CreateLoginLinkRequest, DeleteAccountRequest, GetAccountRequest, GetServerRequest, Operation,
    SuspendAccountRequest, UnsuspendAccountRequest,
};
use tonic::Code;

use super::{capabilities, new_account};
use crate::{
    Backend, PanelFixture,
    errors::{assert_error, assert_invalid},
    gateway::{by_id, by_name, with_gateway},
    operations,
    operations::About,
};

/// create → get → suspend → unsuspend → change package → change password →
/// login link → delete, each checked on the simulated panel itself; calls after
/// the create leave the target out and are routed by the account index.
pub async fn account_lifecycle<F: PanelFixture>(backend: Backend) {
    let fixture = F::start().await;
    with_gateway(
        backend,
        |_| {},
        |gateway| async move {
            let server_id = fixture.register(&gateway, "conformance").await;
            let mut accounts = gateway.accounts();
            let (first_package, second_package) = fixture.packages();

            let created = accounts
                .create_account(new_account(&fixture, "conformance", "carol"))
                .await
                .expect("create account")
                .into_inner()
                .account
                .expect("account in reply");
            assert_eq!(created.username, "carol");
            assert_eq!(created.server_id, server_id);
            assert_eq!(created.primary_domain, "carol.example");
            assert_eq!(created.package, first_package);
            assert!(
                fixture.account_exists("carol"),
                "the panel holds the new account"
            );
            assert_eq!(
                fixture.email_of("carol").as_deref(),
                Some("carol@mail.example"),
                "the panel holds the owner's email"
            );

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
                (
                    got.username.as_str(),
                    got.server_id.as_str(),
                    got.primary_domain.as_str()
                ),
                ("carol", server_id.as_str(), "carol.example")
            );
            assert_eq!(got.package, first_package);
            // Where the panel's account reads carry no email, none is invented.
            let expected_email = if F::REPORTS_EMAIL {
                "carol@mail.example"
            } else {
                ""
            };
            assert_eq!(got.email, expected_email);
            assert_ne!(got.status(), AccountStatus::Suspended);

            accounts
                .suspend_account(SuspendAccountRequest {
                    username: "carol".into(),
                    reason: "unpaid".into(),
                    ..Default::default()
                })
                .await
                .expect("suspend");
            assert!(fixture.is_suspended("carol"), "suspended on the panel");
            accounts
                .unsuspend_account(UnsuspendAccountRequest {
                    username: "carol".into(),
                    ..Default::default()
                })
                .await
                .expect("unsuspend");
            assert!(!fixture.is_suspended("carol"), "active again on the panel");

            accounts
                .change_package(ChangePackageRequest {
                    username: "carol".into(),
                    package: second_package.into(),
                    ..Default::default()
                })
                .await
                .expect("change package");
            assert_eq!(fixture.package_of("carol").as_deref(), Some(second_package));

            // Panels that keep no account passwords (Installatron) do not
            // declare this step; unsupported_operations_are_unimplemented covers them.
            if capabilities(&gateway, "conformance")
                .await
                .contains(&Operation::ChangePassword)
            {
                accounts
                    .change_password(ChangePasswordRequest {
                        username: "carol".into(),
                        password: "second-password-2".into(),
                        ..Default::default()
                    })
                    .await
                    .expect("change password");
                assert_eq!(
                    fixture.password_of("carol").as_deref(),
                    Some("second-password-2")
                );
            }

            let link = accounts
                .create_login_link(CreateLoginLinkRequest {
                    target: None,
                    username: "carol".into(),
                })
                .await
                .expect("login link")
                .into_inner();
            assert!(
                link.url.starts_with("http://") || link.url.starts_with("https://"),
                "a URL: {}",
                link.url
            );

            accounts
                .delete_account(DeleteAccountRequest {
                    username: "carol".into(),
                    ..Default::default()
                })
                .await
                .expect("delete");
            assert!(!fixture.account_exists("carol"), "gone from the panel");
            let after = accounts
                .get_account(GetAccountRequest {
                    target: None,
                    username: "carol".into(),
                })
                .await;
            assert_error(after, Code::NotFound, "ACCOUNT_NOT_INDEXED");
        },
    )
    .await;
}

/// validate_only changes nothing anywhere: a checked CreateAccount, Suspend and
/// Delete leave the panel as it was, and the reply says whether the panel itself
/// checked (a dry run) or only panelgate did.
pub async fn validate_only_changes_nothing<F: PanelFixture>(backend: Backend) {
    let fixture = F::start().await;
    with_gateway(
        backend,
        |_| {},
        |gateway| async move {
            fixture.register(&gateway, "checks").await;
            let mut accounts = gateway.accounts();
            let checked = accounts
                .create_account(CreateAccountRequest {
                    validate_only: true,
                    ..new_account(&fixture, "checks", "hank")
                })
                .await
                .expect("a valid account passes validation")
                .into_inner();
            let validation = checked.validation.expect("validation in the reply");
            assert_eq!(validation.panel_consulted, F::HAS_DRY_RUN);
            assert!(checked.account.is_none(), "nothing was created to return");
            assert!(
                !fixture.account_exists("hank"),
                "the panel holds no new account"
            );
            let indexed = accounts
                .get_account(GetAccountRequest {
                    target: None,
                    username: "hank".into(),
                })
                .await;
            assert_error(indexed, Code::NotFound, "ACCOUNT_NOT_INDEXED");

            accounts
                .create_account(new_account(&fixture, "checks", "hank"))
                .await
                .expect("create for real");
            let suspended = accounts
                .suspend_account(SuspendAccountRequest {
                    username: "hank".into(),
                    validate_only: true,
                    ..Default::default()
                })
                .await
                .expect("suspension passes validation")
                .into_inner();
            assert_eq!(
                suspended.validation.map(|v| v.panel_consulted),
                Some(F::HAS_DRY_RUN)
            );
            assert!(!fixture.is_suspended("hank"), "not suspended by a check");
            accounts
                .delete_account(DeleteAccountRequest {
                    username: "hank".into(),
                    validate_only: true,
                    ..Default::default()
                })
                .await
                .expect("deletion passes validation");
            assert!(fixture.account_exists("hank"), "not deleted by a check");

            // A check still refuses what is invalid.
            let duplicate = accounts
                .create_account(CreateAccountRequest {
                    validate_only: true,
                    ..new_account(&fixture, "checks", "Bad Name")
                })
                .await;
            assert_invalid(duplicate, "username");
        },
    )
    .await;
}

/// Creating an account twice → ALREADY_EXISTS naming the server.
pub async fn duplicate_account_is_already_exists<F: PanelFixture>(backend: Backend) {
    let fixture = F::start().await;
    with_gateway(
        backend,
        |_| {},
        |gateway| async move {
            let server_id = fixture.register(&gateway, "dup").await;
            let mut accounts = gateway.accounts();
            accounts
                .create_account(new_account(&fixture, "dup", "dave"))
                .await
                .expect("first create");
            let again = accounts
                .create_account(new_account(&fixture, "dup", "dave"))
                .await;
            let status = assert_error(again, Code::AlreadyExists, "ACCOUNT_ALREADY_EXISTS");
            assert!(
                status.message().contains("`dup`"),
                "names the server: {}",
                status.message()
            );
            assert_eq!(crate::errors::metadata(&status, "server_id"), server_id);
            assert!(
                fixture.account_exists("dave"),
                "the first account is untouched"
            );
        },
    )
    .await;
}

/// An account the panel does not have → NOT_FOUND, by id as by name.
pub async fn unknown_account_is_not_found<F: PanelFixture>(backend: Backend) {
    let fixture = F::start().await;
    with_gateway(
        backend,
        |_| {},
        |gateway| async move {
            let server_id = fixture.register(&gateway, "empty").await;
            let mut accounts = gateway.accounts();
            for target in [by_name("empty"), by_id(&server_id)] {
                let got = accounts
                    .get_account(GetAccountRequest {
                        target,
                        username: "nobody".into(),
                    })
                    .await;
                assert_error(got, Code::NotFound, "ACCOUNT_NOT_FOUND");
            }
            let suspended = accounts
                .suspend_account(SuspendAccountRequest {
                    target: by_name("empty"),
                    username: "nobody".into(),
                    ..Default::default()
                })
                .await;
            assert_error(suspended, Code::NotFound, "ACCOUNT_NOT_FOUND");
        },
    )
    .await;
}

/// Every operation the server does not list in its capabilities answers
/// UNIMPLEMENTED / OPERATION_NOT_SUPPORTED without calling the panel, and the
/// server lists at least account creation.
pub async fn unsupported_operations_are_unimplemented<F: PanelFixture>(backend: Backend) {
    let fixture = F::start().await;
    with_gateway(
        backend,
        |_| {},
        |gateway| async move {
            fixture.register(&gateway, "caps").await;
            let server = gateway
                .inventory()
                .get_server(GetServerRequest {
                    target: by_name("caps"),
                })
                .await
                .expect("get server")
                .into_inner()
                .server
                .expect("server");
            let capabilities = server.capabilities();
            let capabilities: Vec<Operation> = capabilities.collect();
            assert!(capabilities.contains(&Operation::CreateAccount));
            let unsupported: Vec<Operation> = operations::ALL
                .iter()
                .copied()
                .filter(|op| !capabilities.contains(op))
                .collect();
            let before = fixture.requests();
            for operation in unsupported {
                let result = operations::call(
                    &gateway,
                    by_name("caps"),
                    operation,
                    About {
                        username: "erin",
                        packages: fixture.packages(),
                    },
                )
                .await;
                let status = assert_error(result, Code::Unimplemented, "OPERATION_NOT_SUPPORTED");
                assert_eq!(
                    crate::errors::metadata(&status, "operation"),
                    operation.as_str_name()
                );
            }
            assert_eq!(
                fixture.requests(),
                before,
                "no panel call for an unsupported operation"
            );
        },
    )
    .await;
}

/// Every operation the server lists in its capabilities is really implemented:
/// called on an existing account, none answers UNIMPLEMENTED (other failures,
/// such as a service the panel lacks, are fine here).
pub async fn supported_operations_are_implemented<F: PanelFixture>(backend: Backend) {
    let fixture = F::start().await;
    with_gateway(
        backend,
        |_| {},
        |gateway| async move {
            fixture.register(&gateway, "full").await;
            let mut accounts = gateway.accounts();
            accounts
                .create_account(new_account(&fixture, "full", "gina"))
                .await
                .expect("create account");
            let server = gateway
                .inventory()
                .get_server(GetServerRequest {
                    target: by_name("full"),
                })
                .await
                .expect("get server")
                .into_inner()
                .server
                .expect("server");
            for operation in server.capabilities() {
                if operation == Operation::DeleteAccount {
                    continue; // last, below: the other calls need the account
                }
                if let Err(status) = operations::call(
                    &gateway,
                    by_name("full"),
                    operation,
                    About {
                        username: "gina",
                        packages: fixture.packages(),
                    },
                )
                .await
                {
                    assert_ne!(
                        status.code(),
                        Code::Unimplemented,
                        "{operation:?} is declared but not implemented: {status:?}"
                    );
                }
            }
            operations::call(
                &gateway,
                by_name("full"),
                Operation::DeleteAccount,
                About {
                    username: "gina",
                    packages: fixture.packages(),
                },
            )
            .await
            .expect("delete account");
        },
    )
    .await;
}

/// Empty or malformed fields → INVALID_ARGUMENT naming the field, and the
/// panel never hears of it.
pub async fn bad_input_is_refused_before_any_panel_call<F: PanelFixture>(backend: Backend) {
    let fixture = F::start().await;
    with_gateway(
        backend,
        |_| {},
        |gateway| async move {
            fixture.register(&gateway, "strict").await;
            let mut accounts = gateway.accounts();
            let good = new_account(&fixture, "strict", "frank");
            let before = fixture.requests();
            let mut cases: Vec<(&str, CreateAccountRequest)> = vec![
                (
                    "username",
                    CreateAccountRequest {
                        username: String::new(),
                        ..good.clone()
                    },
                ),
                (
                    "username",
                    CreateAccountRequest {
                        username: "Frank!".into(),
                        ..good.clone()
                    },
                ),
                (
                    "primary_domain",
                    CreateAccountRequest {
                        primary_domain: String::new(),
                        ..good.clone()
                    },
                ),
                (
                    "primary_domain",
                    CreateAccountRequest {
                        primary_domain: "not a domain".into(),
                        ..good.clone()
                    },
                ),
                (
                    "email",
                    CreateAccountRequest {
                        email: String::new(),
                        ..good.clone()
                    },
                ),
                (
                    "email",
                    CreateAccountRequest {
                        email: "frank.example".into(),
                        ..good.clone()
                    },
                ),
                (
                    "password",
                    CreateAccountRequest {
                        password: "short".into(),
                        ..good.clone()
                    },
                ),
                (
                    "package",
                    CreateAccountRequest {
                        package: String::new(),
                        ..good.clone()
                    },
                ),
                (
                    "target",
                    CreateAccountRequest {
                        target: None,
                        ..good.clone()
                    },
                ),
            ];
            if F::KEEPS_PASSWORDS {
                cases.push((
                    "password",
                    CreateAccountRequest {
                        password: String::new(),
                        ..good.clone()
                    },
                ));
            }
            for (field, request) in cases {
                assert_invalid(accounts.create_account(request).await, field);
            }
            assert_invalid(
                accounts
                    .get_account(GetAccountRequest {
                        target: by_name("strict"),
                        username: String::new(),
                    })
                    .await,
                "username",
            );
            assert_invalid(
                accounts
                    .change_password(ChangePasswordRequest {
                        target: by_name("strict"),
                        username: "frank".into(),
                        password: "short".into(),
                        ..Default::default()
                    })
                    .await,
                "password",
            );
            assert_eq!(fixture.requests(), before, "no panel call for bad input");
            assert!(!fixture.account_exists("frank"));
        },
    )
    .await;
}
