//! Every documented error of every panel, answered right: the simulator
//! answers each row of the adapter's error table with the reply the panel
//! documents for it, and the call gets the row's canonical code and reason.

use panelgate::error::{GatewayError, ServerContext};
use panelgate_adapters::documented::{Context, Meaning};
use panelgate_proto::Capability;
use panelgate_sim::Fault;
use tonic::Status;

use super::{about, capabilities};
use crate::{Backend, Panel, PanelFixture, errors::reason, operations};

/// For each row of the panel's error table: the panel answers the row's
/// documented reply to the row's call, and the caller gets the code and
/// reason the row means, on every panel kind.
pub async fn documented_errors_are_answered_right<F: PanelFixture>(backend: Backend) {
    Panel::<F>::on(backend, |panel| async move {
        panel.create("mia", panel.packages().0).await;
        let about = about(&panel, "mia");
        let call = |operation| operations::call(&panel.gateway, panel.target(), operation, about);
        let supported = capabilities(&panel).await;
        for row in F::ERRORS {
            // Sessions and package lists in place, so the row's reply
            // answers the row's own call.
            for warm_up in [Capability::GetAccount, Capability::ListPackages] {
                if supported.contains(&warm_up) {
                    let warmed = call(warm_up).await;
                    warmed
                        .unwrap_or_else(|status| panic!("{warm_up:?} before {row:?}: {status:?}"));
                }
            }
            let fault = Fault::Json(row.example.0, row.example.1);
            // A 401 makes a panel that logs in do it again and retry:
            // its refusal shows when every request of the call gets it.
            if row.example.0 == 401 {
                panel.faults().set(fault);
            } else {
                panel.faults().set_once(fault);
            }
            let result = call(row.during).await;
            panel.faults().clear();
            let status = result.expect_err(&format!("{row:?} answers an error"));
            let expected = meant(row.means);
            assert_eq!(
                (status.code(), reason(&status)),
                (expected.code(), reason(&expected)),
                "{:?} answered {}: {status:?}",
                row.during,
                row.example.1
            );
            if row.means == Meaning::Credentials {
                // A healthy check ends the fail-fast backoff the refusal began.
                let checked = panel.check(F::SERVER).await;
                assert!(checked.healthy, "{checked:?}");
            }
        }
    })
    .await;
}

/// The status a call gets for a panel error that means `means`.
fn meant(means: Meaning) -> Status {
    let error = means.error(Context {
        key: "mia",
        field: "field",
        said: "the panel's words",
    });
    Status::from(GatewayError::Panel {
        server: Box::new(ServerContext {
            id: String::new(),
            name: "docs".into(),
            kind: Default::default(),
        }),
        error,
    })
}
