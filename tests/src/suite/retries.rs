//! Create-like calls retried with their `request_id` after an upstream
//! timeout (the panel did the work, its answer came too late): every retry
//! answers OK, and the panel holds exactly one of the thing.

use std::time::Duration;

use panelgate_proto::v1::{
    AddDomainRequest, CreateDatabaseRequest, CreatePackageRequest, CreatePanelAdminRequest,
    IssueCertificateRequest, Operation, Target,
};
use tonic::{Code, Status};

use super::{capabilities, new_account};
use crate::{
    Backend, Gateway, Made, PanelFixture,
    errors::assert_error,
    gateway::{by_name, with_gateway},
};

/// The gateway's upstream timeout in these tests.
const TIMEOUT: Duration = Duration::from_millis(400);
/// How long the panel holds back its answers: past [`TIMEOUT`].
const SLOW: Duration = Duration::from_millis(1000);

/// The create-like operations, what each makes, and the name it is counted by.
const CREATES: &[(Operation, Made, &str)] = &[
    (Operation::CreateAccount, Made::Account, "nia"),
    (Operation::AddDomain, Made::Domain, "shop.ada.example"),
    (Operation::CreateDatabase, Made::Database, "shop"),
    (Operation::CreatePackage, Made::Package, "retrypkg"),
    (Operation::CreatePanelAdmin, Made::PanelAdmin, "opsadmin"),
    (
        Operation::IssueCertificate,
        Made::Certificate,
        "ada.example",
    ),
];

/// Each create-like operation the panel supports, called with a
/// `request_id` while the panel answers too late: DEADLINE_EXCEEDED
/// UPSTREAM_TIMEOUT (the panel did the work). The same call retried with
/// the same `request_id` answers OK, and the panel holds exactly one.
pub async fn create_retries_after_a_timeout_converge<F: PanelFixture>(backend: Backend) {
    let fixture = F::start().await;
    with_gateway(
        backend,
        |config| config.upstream_timeouts.request = TIMEOUT,
        |gateway| async move {
            fixture.register(&gateway, "slow").await;
            gateway
                .accounts()
                .create_account(new_account(&fixture, "slow", "ada"))
                .await
                .expect("create the account the calls are about");
            let supported = capabilities(&gateway, "slow").await;
            let mut tried = 0;
            for (operation, made, name) in CREATES {
                if !supported.contains(operation) {
                    continue;
                }
                tried += 1;
                let request_id = format!("retry-{}", operation.as_str_name());
                fixture.faults().set_delay(SLOW);
                let first = create(&gateway, &fixture, *operation, &request_id).await;
                let status = assert_error(first, Code::DeadlineExceeded, "UPSTREAM_TIMEOUT");
                fixture.faults().clear();
                let retried = create(&gateway, &fixture, *operation, &request_id).await;
                assert!(
                    retried.is_ok(),
                    "{operation:?} retried after {status:?}: {retried:?}"
                );
                assert_eq!(
                    fixture.count(*made, "ada", name),
                    Some(1),
                    "{operation:?}: exactly one {made:?} `{name}`"
                );
            }
            assert!(
                tried >= 3,
                "every panel has three create-like calls at least"
            );
        },
    )
    .await;
}

/// Calls create-like `operation` with `request_id` on server `slow`, about
/// account `ada` (CreateAccount makes `nia`).
async fn create<F: PanelFixture>(
    gateway: &Gateway,
    fixture: &F,
    operation: Operation,
    request_id: &str,
) -> Result<(), Status> {
    let target = || -> Option<Target> { by_name("slow") };
    let request_id = request_id.to_owned();
    match operation {
        Operation::CreateAccount => {
            let mut request = new_account(fixture, "slow", "nia");
            request.request_id = request_id;
            gateway.accounts().create_account(request).await.map(drop)
        }
        Operation::AddDomain => gateway
            .domains()
            .add_domain(AddDomainRequest {
                target: target(),
                username: "ada".into(),
                domain: "shop.ada.example".into(),
                request_id,
                ..Default::default()
            })
            .await
            .map(drop),
        Operation::CreateDatabase => gateway
            .databases()
            .create_database(CreateDatabaseRequest {
                target: target(),
                username: "ada".into(),
                database_name: "shop".into(),
                database_user: "shopuser".into(),
                database_password: "a-long-password".into(),
                request_id,
                ..Default::default()
            })
            .await
            .map(drop),
        Operation::CreatePackage => gateway
            .packages()
            .create_package(CreatePackageRequest {
                target: target(),
                name: "retrypkg".into(),
                request_id,
                ..Default::default()
            })
            .await
            .map(drop),
        Operation::CreatePanelAdmin => gateway
            .servers()
            .create_panel_admin(CreatePanelAdminRequest {
                target: target(),
                username: "opsadmin".into(),
                password: "a-long-password".into(),
                full_access: true,
                request_id,
                ..Default::default()
            })
            .await
            .map(drop),
        Operation::IssueCertificate => gateway
            .certificates()
            .issue_certificate(IssueCertificateRequest {
                target: target(),
                domain: "ada.example".into(),
                request_id,
                ..Default::default()
            })
            .await
            .map(drop),
        other => panic!("{other:?} is not create-like"),
    }
}
