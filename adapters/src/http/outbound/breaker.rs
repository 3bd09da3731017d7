//! The circuit breaker (outlier detection, as Envoy does it): after
//! `consecutive_failures` transport failures or 5xx replies in a row, or a
//! failure rate over a window, the server's calls fail at once for an ejection
//! time that grows with each ejection in a row (base × n, capped); when it has
//! passed, one call goes through as a probe (half-open) and its outcome closes
//! or reopens the circuit. It also keeps what the server's health view shows.

use std::{
    sync::Mutex,
    time::{Duration, Instant},
};

use panelgate_proto::v1::ErrorReason;

use crate::AdapterError;

/// When the breaker opens, and for how long.
#[derive(Clone, Copy, Debug)]
pub struct BreakerSettings {
    /// Failures in a row that open the circuit (Envoy's default: 5).
    pub consecutive_failures: u32,
    /// A failure rate, in percent, that opens the circuit over `window`...
    pub failure_rate_percent: u32,
    /// ...once at least this many calls were made in it (so two failures of
    /// three calls do not eject a quiet server).
    pub minimum_calls: u32,
    /// The window the failure rate is measured over.
    pub window: Duration,
    /// The first ejection's length (Envoy: 30 s); the n-th in a row is n times it...
    pub base_ejection: Duration,
    /// ...at most this (Envoy: 300 s).
    pub max_ejection: Duration,
}

impl Default for BreakerSettings {
    fn default() -> Self {
        BreakerSettings {
            consecutive_failures: 5,
            failure_rate_percent: 50,
            minimum_calls: 20,
            window: Duration::from_secs(10),
            base_ejection: Duration::from_secs(30),
            max_ejection: Duration::from_secs(300),
        }
    }
}

/// A circuit's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Circuit {
    /// Calls go through.
    Closed,
    /// Calls fail at once until `until`.
    Open {
        /// When a probe may go.
        until: Instant,
    },
    /// The ejection has passed and one probe is under way.
    HalfOpen,
}

/// How a server's calls have been going, for its health view.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Health {
    /// The state, as the health view names it.
    pub state: HealthState,
    /// When it last changed.
    pub since: Instant,
    /// Why the last failure failed.
    pub last_error: Option<ErrorReason>,
    /// When a call last succeeded.
    pub last_success: Option<Instant>,
}

/// The health states, worst last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HealthState {
    /// No call since this replica started.
    Unknown,
    /// The last call succeeded and failures are rare.
    Healthy,
    /// Calls fail now and then: the last one did, or the window's failure
    /// rate is at least half the breaker's.
    Degraded,
    /// Calls fail in a row: half the breaker's count or more.
    Unhealthy,
    /// The circuit is open (or half-open, a probe under way).
    CircuitOpen,
}

/// A call's outcome, as the breaker counts it.
pub enum Outcome {
    /// The panel answered (any status below 500).
    Answered,
    /// The panel failed: unreachable, too slow, or a 5xx.
    Failed(ErrorReason),
    /// Says nothing of the panel's health (the call was refused before it left).
    Neutral,
}

/// One server's circuit and health record.
#[derive(Debug)]
pub struct Breaker {
    settings: BreakerSettings,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    circuit: Circuit,
    /// Failures in a row.
    failures: u32,
    /// Ejections in a row (reset once a call succeeds).
    ejections: u32,
    /// (calls, failures) per second of the window, oldest first, with the
    /// second each counts.
    buckets: Vec<(u64, u32, u32)>,
    epoch: Instant,
    health: Health,
}

impl Breaker {
    /// A closed breaker.
    pub fn new(settings: BreakerSettings) -> Self {
        let now = Instant::now();
        Breaker {
            settings,
            state: Mutex::new(State {
                circuit: Circuit::Closed,
                failures: 0,
                ejections: 0,
                buckets: Vec::new(),
                epoch: now,
                health: Health {
                    state: HealthState::Unknown,
                    since: now,
                    last_error: None,
                    last_success: None,
                },
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Lets a call through, or refuses it while the circuit is open. A probe
    /// always goes through (half-opening an open circuit); so does the first
    /// call after an ejection, as the probe.
    pub fn admit(&self, probe: bool) -> Result<(), AdapterError> {
        let mut state = self.state();
        let now = Instant::now();
        match state.circuit {
            Circuit::Closed | Circuit::HalfOpen if probe => Ok(()),
            Circuit::Closed => Ok(()),
            Circuit::Open { until } if probe || now >= until => {
                state.circuit = Circuit::HalfOpen;
                Ok(())
            }
            Circuit::Open { until } => Err(AdapterError::CircuitOpen {
                retry_after: until - now,
            }),
            // Others wait for the probe's outcome.
            Circuit::HalfOpen => Err(AdapterError::CircuitOpen {
                retry_after: Duration::from_secs(1),
            }),
        }
    }

    /// Counts a call's outcome; returns the circuit when it changed.
    pub fn record(&self, outcome: Outcome) -> Option<Circuit> {
        let settings = self.settings;
        let mut state = self.state();
        let now = Instant::now();
        let before = state.circuit;
        match outcome {
            Outcome::Neutral => return None,
            Outcome::Answered => {
                state.count(now, settings.window, false);
                state.failures = 0;
                state.health.last_success = Some(now);
                // A call let through before the circuit opened does not close it.
                if !matches!(state.circuit, Circuit::Open { .. }) {
                    state.circuit = Circuit::Closed;
                    state.ejections = 0;
                }
            }
            Outcome::Failed(reason) => {
                state.count(now, settings.window, true);
                state.failures += 1;
                state.health.last_error = Some(reason);
                let (calls, failed) = state.window_totals();
                let rate_exceeded = calls >= settings.minimum_calls
                    && failed * 100 >= calls * settings.failure_rate_percent;
                let opens = match state.circuit {
                    Circuit::HalfOpen => true,
                    // Calls let through before it opened do not lengthen it.
                    Circuit::Open { .. } => false,
                    Circuit::Closed => {
                        state.failures >= settings.consecutive_failures || rate_exceeded
                    }
                };
                if opens {
                    state.ejections += 1;
                    let ejection = settings
                        .base_ejection
                        .saturating_mul(state.ejections)
                        .min(settings.max_ejection);
                    state.circuit = Circuit::Open {
                        until: now + ejection,
                    };
                    state.buckets.clear();
                }
            }
        }
        let health = state.health_state(&settings);
        if health != state.health.state {
            state.health.state = health;
            state.health.since = now;
        }
        (state.circuit != before).then_some(state.circuit)
    }

    /// A call let through ended without an outcome (its caller went away):
    /// were it the probe, the next call probes instead of all waiting on it.
    pub fn abandon(&self) {
        let mut state = self.state();
        if state.circuit == Circuit::HalfOpen {
            state.circuit = Circuit::Open {
                until: Instant::now(),
            };
        }
    }

    /// The circuit now.
    pub fn circuit(&self) -> Circuit {
        self.state().circuit
    }

    /// What the health view shows.
    pub fn health(&self) -> Health {
        self.state().health.clone()
    }
}

impl State {
    /// Counts a call in the current second's bucket, dropping the buckets
    /// that left the window.
    fn count(&mut self, now: Instant, window: Duration, failed: bool) {
        let second = now.duration_since(self.epoch).as_secs();
        let oldest = second.saturating_sub(window.as_secs().max(1) - 1);
        self.buckets.retain(|(at, ..)| *at >= oldest);
        match self.buckets.last_mut() {
            Some((at, calls, failures)) if *at == second => {
                *calls += 1;
                *failures += u32::from(failed);
            }
            _ => self.buckets.push((second, 1, u32::from(failed))),
        }
    }

    fn window_totals(&self) -> (u32, u32) {
        self.buckets
            .iter()
            .fold((0, 0), |(calls, failed), (_, c, f)| (calls + c, failed + f))
    }

    fn health_state(&self, settings: &BreakerSettings) -> HealthState {
        if self.circuit != Circuit::Closed {
            return HealthState::CircuitOpen;
        }
        if self.failures * 2 >= settings.consecutive_failures.max(2) {
            return HealthState::Unhealthy;
        }
        let (calls, failed) = self.window_totals();
        if self.failures > 0 || (calls > 0 && failed * 200 >= calls * settings.failure_rate_percent)
        {
            return HealthState::Degraded;
        }
        HealthState::Healthy
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker() -> Breaker {
        Breaker::new(BreakerSettings {
            base_ejection: Duration::from_millis(40),
            max_ejection: Duration::from_millis(100),
            ..BreakerSettings::default()
        })
    }

    fn fail(breaker: &Breaker) -> Option<Circuit> {
        breaker.record(Outcome::Failed(ErrorReason::UpstreamUnavailable))
    }

    #[test]
    fn five_failures_in_a_row_open_the_circuit() {
        let breaker = breaker();
        assert_eq!(breaker.health().state, HealthState::Unknown);
        for _ in 0..4 {
            assert_eq!(fail(&breaker), None);
            breaker.admit(false).expect("still closed");
        }
        assert_eq!(breaker.health().state, HealthState::Unhealthy);
        assert!(matches!(fail(&breaker), Some(Circuit::Open { .. })));
        assert!(matches!(
            breaker.admit(false),
            Err(AdapterError::CircuitOpen { .. })
        ));
        assert_eq!(breaker.health().state, HealthState::CircuitOpen);
        // A probe goes through an open circuit.
        breaker.admit(true).expect("probe");
    }

    #[test]
    fn a_probe_after_the_ejection_closes_or_reopens_for_longer() {
        let breaker = breaker();
        for _ in 0..5 {
            fail(&breaker);
        }
        std::thread::sleep(Duration::from_millis(45));
        breaker
            .admit(false)
            .expect("the first call after the ejection probes");
        assert!(breaker.admit(false).is_err(), "one probe at a time");
        let Some(Circuit::Open { until }) = fail(&breaker) else {
            panic!("a failed probe reopens");
        };
        // The second ejection in a row is twice the first.
        assert!(until > Instant::now() + Duration::from_millis(60));
        std::thread::sleep(Duration::from_millis(85));
        breaker.admit(false).expect("probe");
        assert_eq!(breaker.record(Outcome::Answered), Some(Circuit::Closed));
        assert_eq!(breaker.health().state, HealthState::Healthy);
        assert_eq!(
            breaker.health().last_error,
            Some(ErrorReason::UpstreamUnavailable)
        );
    }

    #[test]
    fn a_failure_rate_opens_it_without_a_streak() {
        let breaker = breaker();
        // Alternating: never two failures in a row, half of all calls failed.
        let mut opened = false;
        for _ in 0..12 {
            breaker.record(Outcome::Answered);
            opened |= fail(&breaker).is_some();
        }
        assert!(opened);
        assert!(matches!(breaker.circuit(), Circuit::Open { .. }));
    }

    #[test]
    fn calls_let_through_before_it_opened_change_nothing() {
        let breaker = breaker();
        for _ in 0..5 {
            fail(&breaker);
        }
        let Circuit::Open { until } = breaker.circuit() else {
            panic!("open");
        };
        assert_eq!(fail(&breaker), None, "a late failure");
        assert_eq!(breaker.record(Outcome::Answered), None, "a late answer");
        assert_eq!(breaker.circuit(), Circuit::Open { until });
    }

    #[test]
    fn an_abandoned_probe_lets_the_next_call_probe() {
        let breaker = breaker();
        for _ in 0..5 {
            fail(&breaker);
        }
        std::thread::sleep(Duration::from_millis(45));
        breaker.admit(false).expect("the probe");
        assert!(breaker.admit(false).is_err(), "one probe at a time");
        breaker.abandon();
        breaker.admit(false).expect("the next call probes");
    }

    #[test]
    fn neutral_outcomes_count_for_nothing() {
        let breaker = breaker();
        for _ in 0..10 {
            assert_eq!(breaker.record(Outcome::Neutral), None);
        }
        assert_eq!(breaker.health().state, HealthState::Unknown);
    }
}
