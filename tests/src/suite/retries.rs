//! Create-like calls retried with their `request_id` after an upstream
//! timeout (the panel did the work, its answer came too late): every retry
//! answers OK, and the panel holds exactly one of the thing.

use std::time::Duration;

use panelgate_proto::Capability;
use tonic::Code;

use super::{about, capabilities};
use crate::{
    Backend, Made, Panel, PanelFixture, errors::assert_error, operations, operations::About,
    panel::ConfigOf,
};

/// The gateway's upstream timeout in these tests.
const TIMEOUT: Duration = Duration::from_millis(400);
/// How long the panel holds back its answers: past [`TIMEOUT`].
const SLOW: Duration = Duration::from_millis(1000);

/// The create-like operations, the account each is about, what it makes,
/// and the name that is counted by (see [`operations::call`]).
const CREATES: &[(Capability, &str, Made, &str)] = &[
    (Capability::CreateAccount, "nia", Made::Account, "nia"),
    (
        Capability::AddDomain,
        "ada",
        Made::Domain,
        "shop.ada.example",
    ),
    (Capability::CreateDatabase, "ada", Made::Database, "shop"),
    (Capability::CreatePackage, "ada", Made::Package, "pkgada"),
    (
        Capability::CreatePanelAdmin,
        "ada",
        Made::PanelAdmin,
        "adaadmin",
    ),
    (
        Capability::IssueCertificate,
        "ada",
        Made::Certificate,
        "ada.example",
    ),
];

/// Each create-like operation the panel supports, called with a
/// `request_id` while the panel answers too late: DEADLINE_EXCEEDED
/// UPSTREAM_TIMEOUT (the panel did the work). The same call retried with
/// the same `request_id` answers OK, and the panel holds exactly one.
pub async fn create_retries_after_a_timeout_converge<F: PanelFixture>(backend: Backend) {
    let configure = |config: &mut panelgate::Config| config.outbound.timeouts.set_each(TIMEOUT);
    Panel::<F>::run_on(
        backend,
        ConfigOf::<F>::default(),
        configure,
        |panel| async move {
            panel.create("ada", panel.packages().0).await;
            let supported = capabilities(&panel).await;
            let mut tried = 0;
            for (operation, username, made, name) in CREATES {
                if !supported.contains(operation) {
                    continue;
                }
                tried += 1;
                let request_id = format!("retry-{}", operation.as_str_name());
                let about = About {
                    request_id: &request_id,
                    ..about(&panel, username)
                };
                let create = || operations::call(&panel.gateway, panel.target(), *operation, about);
                panel.faults().set_delay(SLOW);
                let first = create().await;
                let status = assert_error(first, Code::DeadlineExceeded, "UPSTREAM_TIMEOUT");
                panel.faults().clear();
                let retried = create().await;
                assert!(
                    retried.is_ok(),
                    "{operation:?} retried after {status:?}: {retried:?}"
                );
                let held = panel.count(*made, "ada", name);
                assert_eq!(
                    held,
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
