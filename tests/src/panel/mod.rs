//! A gateway with one simulated panel registered under the fixture's
//! [`PanelFixture::SERVER`] name: what the per-panel tests and the
//! cross-panel suite run their bodies against, with one-line calls to that
//! server (`calls`) and the assertions on a panel's errors.

mod calls;

use std::{future::Future, ops::Deref};

use panelgate::Config;
use tonic::{Code, Status};

use crate::{
    Backend, Gateway, PanelFixture,
    errors::{assert_error, metadata},
    fixtures::Simulator,
    gateway::with_gateway,
};

/// The configuration of a fixture's simulator.
pub type ConfigOf<F> = <<F as PanelFixture>::Sim as Simulator>::Config;

/// A gateway with the simulator of `fixture` registered as `F::SERVER`.
/// Derefs to the fixture, so `panel.sim` is the simulator.
pub struct Panel<F: PanelFixture> {
    /// The gateway.
    pub gateway: Gateway,
    /// The simulated panel.
    pub fixture: F,
    /// The server id of `F::SERVER`.
    pub id: String,
}

impl<F: PanelFixture> Deref for Panel<F> {
    type Target = F;

    fn deref(&self) -> &F {
        &self.fixture
    }
}

// === runners ===

impl<F: PanelFixture> Panel<F> {
    /// Runs `body` on SQLite against a simulator with its default config.
    pub async fn run<B, Fut>(body: B)
    where
        B: FnOnce(Self) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Self::on(Backend::Sqlite, body).await;
    }

    /// Runs `body` on `backend` against a simulator with its default config.
    pub async fn on<B, Fut>(backend: Backend, body: B)
    where
        B: FnOnce(Self) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Self::run_on(backend, ConfigOf::<F>::default(), |_| {}, body).await;
    }

    /// Runs `body` on SQLite against a simulator started from `config`.
    pub async fn run_with<B, Fut>(config: ConfigOf<F>, body: B)
    where
        B: FnOnce(Self) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Self::run_on(Backend::Sqlite, config, |_| {}, body).await;
    }

    /// Runs `body` on `backend` against a simulator started from `config`,
    /// with `configure` applied to the gateway's config.
    pub async fn run_on<B, Fut>(
        backend: Backend,
        config: ConfigOf<F>,
        configure: impl FnOnce(&mut Config),
        body: B,
    ) where
        B: FnOnce(Self) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let fixture = F::with_config(config).await;
        with_gateway(backend, configure, move |gateway| async move {
            let id = fixture.register(&gateway, F::SERVER).await;
            body(Panel {
                gateway,
                fixture,
                id,
            })
            .await;
        })
        .await;
    }
}

// === assertions ===

impl<F: PanelFixture> Panel<F> {
    /// Asserts a call to the server failed with `code` and `reason`, with the
    /// server's id, name and kind in ErrorInfo and its name in the message.
    #[track_caller]
    pub fn assert_panel_error<T: std::fmt::Debug>(
        &self,
        result: Result<T, Status>,
        code: Code,
        reason: &str,
    ) -> Status {
        assert_server_error(result, code, reason, F::SERVER, &self.id, F::KIND)
    }

    /// [`Panel::assert_panel_error`], with what the panel said.
    #[track_caller]
    pub fn assert_said<T: std::fmt::Debug>(
        &self,
        result: Result<T, Status>,
        code: Code,
        reason: &str,
        upstream_message: &str,
    ) -> Status {
        let status = self.assert_panel_error(result, code, reason);
        assert_eq!(
            metadata(&status, "upstream_message"),
            upstream_message,
            "upstream_message of: {status:?}"
        );
        status
    }
}

/// Asserts a call failed with `code` and `reason`, with the server's id,
/// name and panel kind in ErrorInfo and its name in the message.
#[track_caller]
pub fn assert_server_error<T: std::fmt::Debug>(
    result: Result<T, Status>,
    code: Code,
    reason: &str,
    name: &str,
    id: &str,
    kind: panelgate_proto::v1::PanelKind,
) -> Status {
    let status = assert_error(result, code, reason);
    let kind = kind.as_str_name().trim_start_matches("PANEL_KIND_");
    assert_eq!(metadata(&status, "server_id"), id, "{status:?}");
    assert_eq!(metadata(&status, "server_name"), name, "{status:?}");
    assert_eq!(
        metadata(&status, "panel_kind"),
        kind.to_ascii_lowercase(),
        "{status:?}"
    );
    assert!(
        status.message().contains(&format!("`{name}`")),
        "the message names the server: {}",
        status.message()
    );
    status
}
