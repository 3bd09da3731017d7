//! Each server's guard: its circuit breaker and health record, its slots for
//! calls in flight, its retry budget and its credentials backoff. Guards are
//! kept per server id ([`Guards`]), so they outlive the adapters that are
//! rebuilt when a server's record changes.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use tokio::sync::Semaphore;
use tower::retry::budget::TpsBudget;

use super::{
    Resilience,
    breaker::{Breaker, Circuit, Health, HealthState, Outcome},
};
use crate::{AdapterError, metrics::PanelMetrics};

/// How long calls fail fast after a panel rejected panelgate's credentials
/// (a panel's firewall may block an IP after failed logins). UpdateServer and
/// a healthy CheckServer end it sooner.
pub const CREDENTIALS_BACKOFF: Duration = Duration::from_secs(30);

/// One server's protection.
#[derive(Debug)]
pub struct Guard {
    server_id: String,
    pub(super) settings: Resilience,
    pub(super) breaker: Breaker,
    pub(super) slots: Semaphore,
    pub(super) budget: TpsBudget,
    /// The rejection and until when calls fail with it.
    credentials: Mutex<Option<(Instant, AdapterError)>>,
    pub(super) metrics: PanelMetrics,
}

impl Guard {
    fn new(server_id: &str, settings: Resilience, metrics: PanelMetrics) -> Self {
        let retries = settings.retries;
        Guard {
            server_id: server_id.to_owned(),
            settings,
            breaker: Breaker::new(settings.breaker),
            slots: Semaphore::new(settings.max_in_flight as usize),
            budget: TpsBudget::new(
                Duration::from_secs(10),
                retries.budget_floor_per_second,
                retries.budget_percent as f32 / 100.0,
            ),
            credentials: Mutex::new(None),
            metrics,
        }
    }

    /// The server this guard protects.
    pub fn server_id(&self) -> &str {
        &self.server_id
    }

    /// What the server's health view shows.
    pub fn health(&self) -> Health {
        let mut health = self.breaker.health();
        if self.credentials_rejected().is_some() {
            health.last_error = Some(panelgate_proto::v1::ErrorReason::PanelCredentialsRejected);
        }
        health
    }

    /// Counts a call's outcome, noting a circuit that opened or closed.
    pub(super) fn record(&self, outcome: Outcome) {
        if let Some(circuit) = self.breaker.record(outcome) {
            let open = !matches!(circuit, Circuit::Closed);
            if open {
                tracing::warn!(server_id = %self.server_id, "the panel keeps failing: its circuit is open");
            } else {
                tracing::info!(server_id = %self.server_id, "the panel answers again: its circuit is closed");
            }
            self.metrics.circuit(&self.server_id, open);
        }
    }

    /// The rejection calls fail with now, if any.
    pub(super) fn credentials_rejected(&self) -> Option<AdapterError> {
        let rejected = self.credentials.lock().unwrap_or_else(|p| p.into_inner());
        rejected
            .as_ref()
            .filter(|(until, _)| Instant::now() < *until)
            .map(|(_, error)| error.clone())
    }

    /// Makes calls fail fast with `error` for [`CREDENTIALS_BACKOFF`], unless
    /// they do already.
    pub fn reject_credentials(&self, error: AdapterError) {
        let mut rejected = self.credentials.lock().unwrap_or_else(|p| p.into_inner());
        let armed = rejected
            .as_ref()
            .is_some_and(|(until, _)| Instant::now() < *until);
        if !armed {
            *rejected = Some((Instant::now() + CREDENTIALS_BACKOFF, error));
        }
    }

    /// Ends a credentials backoff (the panel accepted them again).
    pub fn accept_credentials(&self) {
        *self.credentials.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// Whether the circuit is open and its ejection over: a probe is due.
    fn probe_due(&self) -> bool {
        matches!(self.breaker.circuit(), Circuit::Open { until } if Instant::now() >= until)
    }
}

/// Every server's guard, by server id.
#[derive(Debug)]
pub struct Guards {
    settings: Resilience,
    metrics: PanelMetrics,
    by_server: Mutex<HashMap<String, Arc<Guard>>>,
}

impl Guards {
    /// No guard yet; each is made on a server's first call.
    pub fn new(settings: Resilience, metrics: PanelMetrics) -> Self {
        Guards {
            settings,
            metrics,
            by_server: Mutex::new(HashMap::new()),
        }
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Guard>>> {
        self.by_server.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The guard of `server_id`, made on first use.
    pub fn of(&self, server_id: &str) -> Arc<Guard> {
        self.map()
            .entry(server_id.to_owned())
            .or_insert_with(|| Arc::new(Guard::new(server_id, self.settings, self.metrics.clone())))
            .clone()
    }

    /// The guard of `server_id`, if it made a call since this replica started.
    pub fn get(&self, server_id: &str) -> Option<Arc<Guard>> {
        self.map().get(server_id).cloned()
    }

    /// Starts `server_id` afresh (its record changed, or it is gone).
    pub fn forget(&self, server_id: &str) {
        if self.map().remove(server_id).is_some() {
            self.metrics.circuit(server_id, false);
        }
    }

    /// Ends every server's credentials backoff (their records may have
    /// changed unseen).
    pub fn accept_all_credentials(&self) {
        for guard in self.map().values() {
            guard.accept_credentials();
        }
    }

    /// Every guarded server's health state, by id.
    pub fn health_states(&self) -> Vec<(String, HealthState)> {
        self.map()
            .values()
            .map(|guard| (guard.server_id.clone(), guard.health().state))
            .collect()
    }

    /// The servers whose circuit is open with the ejection over.
    pub fn due_for_probe(&self) -> Vec<String> {
        self.map()
            .values()
            .filter(|guard| guard.probe_due())
            .map(|guard| guard.server_id.clone())
            .collect()
    }
}
