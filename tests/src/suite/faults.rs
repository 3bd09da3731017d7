//! Panels that fail or answer garbage (5xx, 429, HTML, truncated JSON,
//! dropped connections, answers too late): every panel's calls answer the
//! documented error, and the panel is left as it was.

use std::time::Duration;

use panelgate_proto::Capability;
use panelgate_sim::Fault;
use tonic::{Code, Status};

use super::{about, capabilities};
use crate::{
    Backend, Panel, PanelFixture,
    errors::{metadata, reason},
    operations,
    panel::ConfigOf,
};

/// A 5xx whose body reads like every panel's success.
const SUCCESS_LOOKING: &str = r#"{"success": true, "result": "success", "status": 200, "errcode": null, "message": "The task is complete.", "data": {"msg": "done"}, "returncode": 0}"#;
/// A 5xx whose body reads like every panel's own error.
const ERROR_LOOKING: &str = r#"{"success": false, "result": "error", "error": "Service temporarily unavailable", "message": ["Service temporarily unavailable"], "errcode": "service_unavailable", "status": 500}"#;
/// The body [`Fault::BrokenJson`] answers.
const BROKEN_JSON: &str = r#"{"success": true, "message": "User created succ"#;

/// The gateway's upstream timeout in [`transport_faults_give_the_documented_codes`].
const TIMEOUT: Duration = Duration::from_millis(300);

/// A fault, the code and reason it must answer, and what else its status shows.
type Case = (Fault, Code, &'static str, fn(&Status));

/// The faults of a panel's transport, one of each kind.
fn transport_faults() -> [Case; 5] {
    let unavailable = (Code::Unavailable, "UPSTREAM_UNAVAILABLE");
    let unreadable = (Code::Internal, "UPSTREAM_PROTOCOL_ERROR");
    [
        (Fault::Status(502), unavailable.0, unavailable.1, names_502),
        (
            Fault::Status(429),
            Code::Unavailable,
            "UPSTREAM_RATE_LIMITED",
            quotes_nothing,
        ),
        (
            Fault::Html,
            unreadable.0,
            unreadable.1,
            quotes_the_page_cut_short,
        ),
        (
            Fault::BrokenJson,
            unreadable.0,
            unreadable.1,
            quotes_the_body,
        ),
        (
            Fault::DropConnection,
            unavailable.0,
            unavailable.1,
            quotes_nothing,
        ),
    ]
}

fn quotes_nothing(status: &Status) {
    assert_eq!(metadata(status, "body_excerpt"), "", "{status:?}");
}

fn names_502(status: &Status) {
    quotes_nothing(status);
    assert!(status.message().contains("502"), "{}", status.message());
}

fn quotes_the_page_cut_short(status: &Status) {
    let excerpt = metadata(status, "body_excerpt");
    assert!(excerpt.starts_with("<!DOCTYPE html>"), "{excerpt}");
    assert!(!excerpt.contains('\n'), "one line: {excerpt}");
    // The simulators' page is longer than the excerpt.
    assert!(excerpt.chars().count() <= 201, "bounded: {excerpt}");
    assert!(excerpt.ends_with('…'), "marked as cut: {excerpt}");
}

fn quotes_the_body(status: &Status) {
    assert_eq!(metadata(status, "body_excerpt"), BROKEN_JSON);
}

/// GetAccount of an existing account under each fault of the transport: a
/// 502 and a dropped connection → UNAVAILABLE UPSTREAM_UNAVAILABLE, a 429 →
/// UNAVAILABLE UPSTREAM_RATE_LIMITED, an HTML page or truncated JSON →
/// INTERNAL UPSTREAM_PROTOCOL_ERROR quoting the body, bounded, and a panel
/// slower than the upstream timeout → DEADLINE_EXCEEDED UPSTREAM_TIMEOUT
/// naming the timeout. Each names the server and quotes no panel words; none
/// but the slow one reaches the panel's API, and the call works once cleared.
pub async fn transport_faults_give_the_documented_codes<F: PanelFixture>(backend: Backend) {
    let configure = |config: &mut panelgate::Config| config.outbound.timeouts.set_each(TIMEOUT);
    Panel::<F>::run_on(
        backend,
        ConfigOf::<F>::default(),
        configure,
        |panel| async move {
            panel.create("dee", panel.packages().0).await;
            let works_again = || async {
                let dee = panel.get_account("dee").await.expect("works once cleared");
                assert_eq!(dee.primary_domain, "dee.example");
            };
            for (fault, code, reason, check) in transport_faults() {
                panel.faults().set(fault.clone());
                let reached = panel.api_calls();
                let got = panel.get_account("dee").await;
                let status = panel.assert_said(got, code, reason, "");
                check(&status);
                assert_eq!(panel.api_calls(), reached, "{fault:?}: the API not reached");
                panel.faults().clear();
                works_again().await;
            }

            panel.faults().set_delay(Duration::from_secs(1));
            let slow = panel.get_account("dee").await;
            let status = panel.assert_panel_error(slow, Code::DeadlineExceeded, "UPSTREAM_TIMEOUT");
            assert!(status.message().contains("300ms"), "{}", status.message());
            panel.faults().clear();
            works_again().await;
        },
    )
    .await;
}

/// Every mutation the panel supports, under every fault a panel or its
/// proxy produces (5xx with a success-looking or an error JSON body, 5xx
/// without a body or with an HTML page, 429, an HTML page or truncated JSON
/// with HTTP 200, a dropped connection), answers the fault's documented code
/// and reason, and the simulated panel's state is unchanged.
pub async fn mutations_under_faults_change_nothing<F: PanelFixture>(backend: Backend) {
    Panel::<F>::on(backend, |panel| async move {
        panel.create("mia", panel.packages().0).await;
        let supported = capabilities(&panel).await;
        let mutations: Vec<Capability> = supported
            .into_iter()
            .filter(|operation| operations::is_mutation(*operation))
            .collect();
        assert!(mutations.len() >= 5, "{mutations:?}");
        let faults = [
            (
                Fault::Json(503, SUCCESS_LOOKING),
                Code::Unavailable,
                "UPSTREAM_UNAVAILABLE",
            ),
            (
                Fault::Json(500, ERROR_LOOKING),
                Code::Unavailable,
                "UPSTREAM_UNAVAILABLE",
            ),
            (Fault::Empty(502), Code::Unavailable, "UPSTREAM_UNAVAILABLE"),
            (
                Fault::Status(503),
                Code::Unavailable,
                "UPSTREAM_UNAVAILABLE",
            ),
        ];
        let transport = transport_faults().map(|(fault, code, reason, _)| (fault, code, reason));
        for (fault, code, expected) in faults.into_iter().chain(transport) {
            panel.faults().set(fault.clone());
            let before = panel.state();
            for operation in &mutations {
                let about = about(&panel, "mia");
                let result = operations::call(&panel.gateway, panel.target(), *operation, about);
                let status = result
                    .await
                    .expect_err(&format!("{operation:?} under {fault:?}"));
                assert_eq!(
                    (status.code(), reason(&status)),
                    (code, expected.to_owned()),
                    "{operation:?} under {fault:?}: {status:?}"
                );
            }
            panel.faults().clear();
            assert_eq!(
                panel.state(),
                before,
                "under {fault:?} the panel is unchanged"
            );
        }
    })
    .await;
}
