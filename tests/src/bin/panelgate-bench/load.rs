//! The load driver: N workers calling in a loop (or once each, for a burst),
//! each call's latency in an hdrhistogram, failures counted by kind, and the
//! CPU time each party used meanwhile.

use std::{
    collections::BTreeMap,
    fmt,
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use hdrhistogram::Histogram;
use tokio::sync::Barrier;

use crate::cpu::{Snapshot, Usage};

/// Highest latency the histograms hold, in microseconds (a minute).
const MAX_MICROS: u64 = 60_000_000;

/// How long one load phase lasts.
#[derive(Clone, Copy, Debug)]
pub enum Budget {
    /// Every worker calls until the time is up.
    For(Duration),
    /// The workers share this many calls.
    Requests(u64),
    /// Every worker makes exactly one call, all released together (a burst).
    Once,
}

/// Why one call failed.
#[derive(Debug)]
pub struct Failure {
    /// What failures are counted by, e.g. "gRPC Unavailable" or "HTTP 500".
    pub kind: String,
    /// What the failure said.
    pub message: String,
}

impl Failure {
    /// A failure of `kind` saying `message`.
    pub fn new(kind: impl Into<String>, message: impl Into<String>) -> Self {
        Failure {
            kind: kind.into(),
            message: message.into(),
        }
    }
}

impl From<tonic::Status> for Failure {
    fn from(status: tonic::Status) -> Self {
        Failure::new(
            format!("gRPC {:?}", status.code()),
            status.message().to_owned(),
        )
    }
}

impl From<reqwest::Error> for Failure {
    fn from(error: reqwest::Error) -> Self {
        let kind = match error.status() {
            Some(status) => format!("HTTP {}", status.as_u16()),
            None => "HTTP transport".to_owned(),
        };
        Failure::new(kind, format!("{error:#}"))
    }
}

/// Failures of one kind: how many, and the first one's message.
#[derive(Debug)]
pub struct Counted {
    /// How many calls failed this way.
    pub count: u64,
    /// The first such failure's message.
    pub example: String,
}

/// What a load phase measured.
pub struct Measured {
    /// Latency of each successful call, in microseconds.
    pub latency: Histogram<u64>,
    /// Calls made, failed ones included.
    pub requests: u64,
    /// From the first call's start to the last call's end (summed over the
    /// phases of a [`Measured::merge`]).
    pub elapsed: Duration,
    /// Failed calls by kind.
    pub failures: BTreeMap<String, Counted>,
    /// CPU time each party used during the phase.
    pub cpu: Usage,
}

impl fmt::Debug for Measured {
    /// The figures, not the histogram's buckets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Measured")
            .field("requests", &self.requests)
            .field("elapsed", &self.elapsed)
            .field("recorded", &self.latency.len())
            .field("failures", &self.failures)
            .field("cpu", &self.cpu)
            .finish()
    }
}

impl Measured {
    fn empty() -> Self {
        Measured {
            latency: Histogram::new_with_bounds(1, MAX_MICROS, 3)
                .expect("constant histogram bounds are valid"),
            requests: 0,
            elapsed: Duration::ZERO,
            failures: BTreeMap::new(),
            cpu: Usage::default(),
        }
    }

    /// Adds another phase's figures (bursts measured one after another).
    pub fn merge(&mut self, other: Measured) -> anyhow::Result<()> {
        self.latency
            .add(&other.latency)
            .context("merge latency histograms")?;
        self.requests += other.requests;
        self.elapsed += other.elapsed;
        self.cpu.add(&other.cpu);
        for (kind, counted) in other.failures {
            self.count_failures(kind, counted.count, counted.example);
        }
        Ok(())
    }

    fn count_failures(&mut self, kind: String, count: u64, example: String) {
        self.failures
            .entry(kind)
            .or_insert(Counted { count: 0, example })
            .count += count;
    }

    /// The phase's figures, or an error naming every kind of failure and how
    /// often it happened: a benchmark that measured errors measured nothing.
    pub fn ok(self, what: &str) -> anyhow::Result<Self> {
        if self.failures.is_empty() {
            return Ok(self);
        }
        let failed: u64 = self.failures.values().map(|counted| counted.count).sum();
        let mut report = format!("{what}: {failed} of {} calls failed:", self.requests);
        for (kind, counted) in &self.failures {
            report.push_str(&format!(
                "\n  {kind}: {} (e.g. {})",
                counted.count, counted.example
            ));
        }
        bail!(report)
    }

    /// Calls per second.
    pub fn rate(&self) -> f64 {
        if self.elapsed.is_zero() {
            return 0.0;
        }
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    /// The latency at `quantile` (0.5 for the median), in milliseconds.
    pub fn quantile_ms(&self, quantile: f64) -> f64 {
        self.latency.value_at_quantile(quantile) as f64 / 1000.0
    }
}

/// One worker's share of a phase.
struct Share {
    measured: Measured,
    first_start: Option<Instant>,
    last_end: Option<Instant>,
}

/// Runs `workers` concurrent workers for `budget`; worker `i` makes its calls
/// with `call(i)`. All workers start together (a barrier), so a
/// [`Budget::Once`] phase is a burst. The CPU time is read before the
/// workers are spawned and after the last one is done.
pub async fn drive<F, Fut>(workers: usize, budget: Budget, call: F) -> anyhow::Result<Measured>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), Failure>> + Send + 'static,
{
    let cpu_before = Snapshot::take()?;
    let call = Arc::new(call);
    let barrier = Arc::new(Barrier::new(workers));
    let tickets = Arc::new(AtomicU64::new(0));
    let deadline = match budget {
        Budget::For(duration) => Some(Instant::now() + duration),
        Budget::Requests(_) | Budget::Once => None,
    };
    let tasks: Vec<_> = (0..workers)
        .map(|worker| {
            let call = call.clone();
            let barrier = barrier.clone();
            let tickets = tickets.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                let mut share = Share {
                    measured: Measured::empty(),
                    first_start: None,
                    last_end: None,
                };
                let mut made = 0_u64;
                while may_call(budget, deadline, &tickets, made) {
                    let start = Instant::now();
                    let outcome = call(worker).await;
                    let end = Instant::now();
                    made += 1;
                    record(&mut share, start, end, outcome);
                }
                share
            })
        })
        .collect();
    let mut total = Measured::empty();
    let mut first_start: Option<Instant> = None;
    let mut last_end: Option<Instant> = None;
    for task in tasks {
        let share = task.await.context("a load worker panicked")?;
        first_start = earliest(first_start, share.first_start);
        last_end = latest(last_end, share.last_end);
        total.merge(share.measured)?;
    }
    total.cpu = Snapshot::take()?.since(&cpu_before);
    total.elapsed = match (first_start, last_end) {
        (Some(start), Some(end)) => end.duration_since(start),
        _ => Duration::ZERO,
    };
    Ok(total)
}

/// Whether a worker that made `made` calls may make another.
fn may_call(budget: Budget, deadline: Option<Instant>, tickets: &AtomicU64, made: u64) -> bool {
    match budget {
        Budget::For(_) => deadline.is_some_and(|deadline| Instant::now() < deadline),
        Budget::Requests(total) => tickets.fetch_add(1, Ordering::Relaxed) < total,
        Budget::Once => made == 0,
    }
}

fn record(share: &mut Share, start: Instant, end: Instant, outcome: Result<(), Failure>) {
    share.first_start.get_or_insert(start);
    share.last_end = Some(end);
    share.measured.requests += 1;
    match outcome {
        Ok(()) => {
            let micros = u64::try_from(end.duration_since(start).as_micros()).unwrap_or(u64::MAX);
            share.measured.latency.saturating_record(micros.max(1));
        }
        Err(failure) => share
            .measured
            .count_failures(failure.kind, 1, failure.message),
    }
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn latest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_request_budget_is_shared_and_a_burst_is_one_call_per_worker() {
        let shared = drive(4, Budget::Requests(10), |_| async { Ok(()) })
            .await
            .expect("drive");
        assert_eq!(shared.requests, 10);
        assert_eq!(shared.latency.len(), 10);
        let burst = drive(5, Budget::Once, |_| async { Ok(()) })
            .await
            .expect("drive");
        assert_eq!(burst.requests, 5);
    }

    #[tokio::test]
    async fn failures_are_counted_by_kind_and_fail_the_phase() {
        let measured = drive(2, Budget::Requests(6), |_| async {
            Err(Failure::new("gRPC Unavailable", "panel down"))
        })
        .await
        .expect("drive");
        let failed = measured.failures.get("gRPC Unavailable").map(|c| c.count);
        assert_eq!(failed, Some(6), "{measured:?}");
        assert_eq!(measured.latency.len(), 0, "failed calls have no latency");
        let error = measured.ok("phase").expect_err("failures fail the phase");
        assert!(error.to_string().contains("gRPC Unavailable"), "{error:#}");
    }
}
