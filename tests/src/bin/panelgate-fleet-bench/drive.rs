//! Making N calls with a bounded number in flight, with progress printed
//! every 10%; the first failure stops the phase.

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use tokio::task::JoinSet;

/// Runs `call(0)`..`call(n - 1)`, at most `in_flight` at once; returns the
/// wall time. Progress lines are headed `what`.
pub async fn each<F, Fut>(
    what: &str,
    n: usize,
    in_flight: usize,
    call: F,
) -> anyhow::Result<Duration>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let started = Instant::now();
    let progress = Arc::new(Progress {
        what: what.to_owned(),
        n,
        step: n.div_ceil(10).max(1),
        started,
        done: AtomicUsize::new(0),
    });
    let next = Arc::new(AtomicUsize::new(0));
    let call = Arc::new(call);
    let mut workers = JoinSet::new();
    for _ in 0..in_flight.clamp(1, n.max(1)) {
        let (next, call, progress) = (next.clone(), call.clone(), progress.clone());
        workers.spawn(async move {
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= n {
                    return anyhow::Ok(());
                }
                call(index).await?;
                progress.one_done();
            }
        });
    }
    // An error returns at once; dropping the set aborts the other workers.
    while let Some(worker) = workers.join_next().await {
        worker.with_context(|| format!("{what}: a worker task failed"))??;
    }
    Ok(started.elapsed())
}

/// Calls done in one phase, printed every `step`.
struct Progress {
    what: String,
    n: usize,
    step: usize,
    started: Instant,
    done: AtomicUsize,
}

impl Progress {
    fn one_done(&self) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        if done.is_multiple_of(self.step) || done == self.n {
            println!(
                "  {}: {done}/{} ({}%), {:.1} s",
                self.what,
                self.n,
                done * 100 / self.n,
                self.started.elapsed().as_secs_f64()
            );
        }
    }
}
