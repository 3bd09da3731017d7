//! CPU time by party, from Linux's per-thread accounting: every thread of the
//! process (`/proc/self/task/<tid>`) is put to its [`Party`] by its name, and
//! its time on CPU read from `schedstat` (first field, ns) or, where the
//! kernel has no schedstat, from `utime + stime` of `stat`, in clock ticks
//! taken as 1/100 s (the usual `_SC_CLK_TCK`; not asked, to avoid a libc
//! dependency). A phase's usage is the sum, per party, of each thread's
//! growth between a snapshot before and one after: a thread that ended in
//! between loses its CPU time of the phase (tokio's idle blocking threads
//! end after 10 s; the workers, which do the calls, live for the run).

use std::{collections::HashMap, fs, path::Path, time::Duration};

use anyhow::Context;

use crate::parties::Party;

/// Nanoseconds in a clock tick of `stat` (at 100 ticks a second).
const NANOS_PER_TICK: u64 = 10_000_000;

/// CPU time used by each party.
#[derive(Clone, Copy, Debug, Default)]
pub struct Usage {
    nanos: [u64; Party::ALL.len()],
}

impl Usage {
    /// The CPU time `party` used.
    pub fn of(&self, party: Party) -> Duration {
        Duration::from_nanos(self.nanos[party as usize])
    }

    /// Adds another phase's usage.
    pub fn add(&mut self, other: &Usage) {
        for (mine, theirs) in self.nanos.iter_mut().zip(other.nanos) {
            *mine += theirs;
        }
    }
}

/// Every thread's CPU time at one moment.
pub struct Snapshot {
    threads: HashMap<u32, (Party, u64)>,
}

impl Snapshot {
    /// The CPU time of every thread of the process now; a thread that ends
    /// while being read is left out.
    pub fn take() -> anyhow::Result<Snapshot> {
        let tasks = fs::read_dir("/proc/self/task")
            .context("list /proc/self/task (CPU time per party needs Linux)")?;
        let threads = tasks
            .filter_map(|task| {
                let task = task.ok()?;
                let tid = task.file_name().to_str()?.parse().ok()?;
                let comm = fs::read_to_string(task.path().join("comm")).ok()?;
                let nanos = cpu_nanos(&task.path())?;
                Some((tid, (Party::of_thread(tid, comm.trim_end()), nanos)))
            })
            .collect();
        Ok(Snapshot { threads })
    }

    /// The CPU time each party used from `earlier` to this snapshot.
    pub fn since(&self, earlier: &Snapshot) -> Usage {
        let mut usage = Usage::default();
        for (tid, (party, nanos)) in &self.threads {
            let before = earlier.threads.get(tid).map_or(0, |(_, nanos)| *nanos);
            usage.nanos[*party as usize] += nanos.saturating_sub(before);
        }
        usage
    }
}

/// Thread `task`'s time on CPU so far, in nanoseconds.
fn cpu_nanos(task: &Path) -> Option<u64> {
    if let Ok(schedstat) = fs::read_to_string(task.join("schedstat")) {
        return schedstat.split_whitespace().next()?.parse().ok();
    }
    let stat = fs::read_to_string(task.join("stat")).ok()?;
    // After the name in parentheses (which may hold anything): field 3,
    // state, then utime and stime are fields 14 and 15.
    let (_, fields) = stat.rsplit_once(')')?;
    let mut fields = fields.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some((utime + stime) * NANOS_PER_TICK)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A thread spinning is counted: its CPU time shows within 2 s of wall
    /// time, however busy the machine's other cores are.
    #[test]
    fn a_busy_thread_s_cpu_time_is_counted() {
        let before = Snapshot::take().expect("snapshot");
        let spin = std::time::Instant::now();
        let counted = || {
            let usage = Snapshot::take().expect("snapshot").since(&before);
            Party::ALL
                .iter()
                .map(|party| usage.of(*party))
                .sum::<Duration>()
        };
        while counted() < Duration::from_millis(30) {
            assert!(
                spin.elapsed() < Duration::from_secs(2),
                "2 s of spinning counted as {:?}",
                counted()
            );
            for _ in 0..100_000 {
                std::hint::black_box(0_u64);
            }
        }
    }
}
