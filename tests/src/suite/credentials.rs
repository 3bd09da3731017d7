//! Admin credentials the panel refuses: every panel's calls fail the same
//! way and fail fast, and work again once the server has the right ones.

use panelgate_proto::Capability;
use tonic::{Code, Status};

use super::{about, capabilities};
use crate::{
    Backend, Panel, PanelFixture, errors::metadata, gateway::by_name, operations,
    panel::assert_server_error,
};

/// The secret `stale` is registered with, which no panel takes.
const WRONG: &str = "stale-secret-123";

/// A server `stale` registered with an admin secret the panel refuses (the
/// right server beside it is healthy): its first call is FAILED_PRECONDITION
/// PANEL_CREDENTIALS_REJECTED naming the server, with the panel's words and
/// never the secret, after exactly one request to the panel, which grants no
/// login; for a while after that, calls fail the same way without a request
/// to the panel (its firewall may count failed logins) and make nothing;
/// CheckServer reports it. UpdateServer with the right secret ends that at
/// once: CheckServer is healthy and calls work, with one login where the
/// panel has sessions. A wrong secret again makes calls fail again (the
/// adapter built with the old credentials is dropped on update).
pub async fn wrong_credentials_fail_fast_until_updated<F: PanelFixture>(backend: Backend) {
    Panel::<F>::on(backend, |panel| async move {
        assert!(panel.check(F::SERVER).await.healthy, "the right one works");
        let base_url = panel.base_url();
        let id = panel.register_at(&panel.gateway, "stale", &base_url, WRONG);
        let id = id.await;
        let call = |operation| {
            operations::call(
                &panel.gateway,
                by_name("stale"),
                operation,
                about(&panel, "pam"),
            )
        };
        let refused = |result: Result<(), Status>| {
            let reason = "PANEL_CREDENTIALS_REJECTED";
            let status = assert_server_error(
                result,
                Code::FailedPrecondition,
                reason,
                "stale",
                &id,
                F::KIND,
            );
            assert!(
                !format!("{status:?}").contains(WRONG),
                "never quoted: {status:?}"
            );
            status
        };

        let (requests, logins) = (panel.requests(), panel.logins());
        let status = refused(call(Capability::GetAccount).await);
        let said = metadata(&status, "upstream_message");
        assert_eq!(said, F::CREDENTIALS_REFUSAL, "the panel's words");
        assert_eq!(panel.requests() - requests, 1, "one request to the panel");
        assert_eq!(panel.logins(), logins, "no login granted");

        let requests = panel.requests();
        let again = [
            Capability::GetAccount,
            Capability::ListAccounts,
            Capability::CreateAccount,
        ];
        let supported = capabilities(&panel).await;
        for operation in again.into_iter().filter(|op| supported.contains(op)) {
            refused(call(operation).await);
        }
        assert_eq!(panel.requests(), requests, "no request during the backoff");
        assert!(!panel.account_exists("pam"), "nothing made");

        let checked = panel.check("stale").await;
        assert!(!checked.healthy);
        assert_eq!(checked.error_reason, "PANEL_CREDENTIALS_REJECTED");
        let message = &checked.error_message;
        assert!(message.contains("`stale`"), "{message}");

        let logins = panel.logins();
        panel.set_secret("stale", &panel.secret()).await;
        let checked = panel.check("stale").await;
        assert!(checked.healthy, "{checked:?}");
        assert_eq!(checked.error_reason, "");
        call(Capability::CreateAccount)
            .await
            .expect("create with the right secret");
        call(Capability::GetAccount)
            .await
            .expect("get with the right secret");
        assert!(panel.account_exists("pam"));
        assert_eq!(panel.logins(), logins.map(|n| n + 1), "one login");

        panel.set_secret("stale", "stale-again-456").await;
        refused(call(Capability::GetAccount).await);
    })
    .await;
}
