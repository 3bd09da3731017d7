//! The bench's parties: the gateway, the bare tonic server of the
//! list-packages baseline and the simulated panels each run on a tokio
//! runtime of their own, the clients on the main one, every runtime's
//! threads (workers and blocking pool) named after its party, so that
//! [`crate::cpu`] can tell their CPU time apart.

use std::{future::Future, sync::OnceLock};

use anyhow::{Context, bail};
use tokio::runtime::{Builder, Runtime};

/// Who a thread of the process works for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Party {
    /// The gateway: its runtime, and sqlx's SQLite worker threads.
    Gateway,
    /// The bare tonic `PackageService` of the list-packages baseline.
    Bare,
    /// The simulated panels.
    Panel,
    /// The load-generating clients: the main runtime, and the main thread
    /// that drives it.
    Clients,
    /// Any other thread (none is known; counted so that nothing is hidden).
    Other,
}

/// What the threads of sqlx's SQLite connections are called (the gateway's
/// inventory: `sqlx-sqlite-worker-N`, cut to 15 bytes by the kernel).
const SQLITE_THREADS: &str = "sqlx-sqlite";

/// The runtimes of the servers, built by [`start`] and never dropped
/// (dropping a runtime in async context panics).
static SERVERS: OnceLock<Servers> = OnceLock::new();

struct Servers {
    gateway: Runtime,
    bare: Runtime,
    panel: Runtime,
}

impl Party {
    /// Every party, in the order of the table's columns.
    pub const ALL: [Party; 5] = [
        Party::Gateway,
        Party::Bare,
        Party::Panel,
        Party::Clients,
        Party::Other,
    ];

    /// Its column in the table.
    pub fn label(self) -> &'static str {
        match self {
            Party::Gateway => "gw",
            Party::Bare => "bare",
            Party::Panel => "panel",
            Party::Clients => "clients",
            Party::Other => "other",
        }
    }

    /// The name of its runtime's threads: at most 15 bytes, the longest
    /// thread name (`/proc/…/comm`) Linux keeps.
    fn thread_name(self) -> &'static str {
        match self {
            Party::Gateway => "pg-gateway",
            Party::Bare => "pg-bare",
            Party::Panel => "pg-sim",
            Party::Clients => "pg-client",
            Party::Other => "",
        }
    }

    /// The party of thread `tid`, named `comm`.
    pub fn of_thread(tid: u32, comm: &str) -> Party {
        if tid == std::process::id() {
            return Party::Clients;
        }
        if comm.starts_with(SQLITE_THREADS) {
            return Party::Gateway;
        }
        Party::ALL
            .into_iter()
            .find(|party| *party != Party::Other && comm == party.thread_name())
            .unwrap_or(Party::Other)
    }

    /// Runs `future` on this party's runtime, so that everything it spawns
    /// (a server and its connections) lives there; for the servers only.
    pub async fn run<F>(self, future: F) -> anyhow::Result<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let servers = SERVERS.get().context("the runtimes are not started")?;
        let runtime = match self {
            Party::Gateway => &servers.gateway,
            Party::Bare => &servers.bare,
            Party::Panel => &servers.panel,
            Party::Clients | Party::Other => bail!("{self:?} has no server runtime"),
        };
        runtime
            .spawn(future)
            .await
            .with_context(|| format!("a task on the {self:?} runtime panicked"))
    }

    /// A multi-thread runtime with as many workers as cores (as the party
    /// would have in a process of its own), its threads named after it.
    fn runtime(self) -> anyhow::Result<Runtime> {
        Builder::new_multi_thread()
            .thread_name(self.thread_name())
            .enable_all()
            .build()
            .with_context(|| format!("start the {} runtime", self.thread_name()))
    }
}

/// Starts the servers' runtimes; returns the clients' runtime, for `main`
/// to run the bench on.
pub fn start() -> anyhow::Result<Runtime> {
    let servers = Servers {
        gateway: Party::Gateway.runtime()?,
        bare: Party::Bare.runtime()?,
        panel: Party::Panel.runtime()?,
    };
    if SERVERS.set(servers).is_err() {
        bail!("the runtimes are already started");
    }
    Party::Clients.runtime()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_are_put_to_their_party_by_name() {
        let not_main = u32::MAX;
        assert_eq!(Party::of_thread(not_main, "pg-gateway"), Party::Gateway);
        assert_eq!(
            Party::of_thread(not_main, "sqlx-sqlite-wor"),
            Party::Gateway
        );
        assert_eq!(Party::of_thread(not_main, "pg-sim"), Party::Panel);
        assert_eq!(Party::of_thread(not_main, "tokio-runtime-w"), Party::Other);
        assert_eq!(Party::of_thread(not_main, ""), Party::Other);
        assert_eq!(Party::of_thread(std::process::id(), "main"), Party::Clients);
    }
}
