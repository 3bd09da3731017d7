//! How the gateway's caches are sized: by an estimate of the bytes each entry
//! holds, within one memory budget (`--cache-memory-mib`) shared out here,
//! so a fleet of 100,000 servers fits the default and a small fleet uses
//! only what it needs. Entries also expire (a TTL backstop to the change
//! notifications) and are dropped on change.

use std::{hash::Hash, time::Duration};

use moka::future::Cache;
use panelgate_inventory::ServerRecord;
use panelgate_proto::v1::Package;

/// The default budget: enough for 100,000 servers' records, adapters and
/// package lists of a dozen packages.
pub const DEFAULT_MEMORY_MIB: u64 = 640;

/// What an adapter holds besides its record's text: its HTTP stack,
/// credentials and configuration (an estimate, on the high side).
const ADAPTER_BYTES: usize = 2048;

/// What any entry costs beyond its own text: the cache's bookkeeping.
const ENTRY_BYTES: usize = 128;

/// The budget and its shares.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    bytes: u64,
}

impl Budget {
    /// A budget of `mib` MiB.
    pub fn mib(mib: u64) -> Self {
        Budget {
            bytes: mib.saturating_mul(1024 * 1024),
        }
    }

    /// Server records and names: a quarter.
    pub fn servers(self) -> u64 {
        self.bytes / 4
    }

    /// Adapters: three eighths.
    pub fn adapters(self) -> u64 {
        self.bytes / 8 * 3
    }

    /// Package lists: three eighths.
    pub fn packages(self) -> u64 {
        self.bytes / 8 * 3
    }
}

/// A cache of `bytes` at most, its entries weighed by `weigh` and kept `ttl`
/// at most (`None`: until evicted, dropped, or idle for an hour).
/// Invalidation by predicate is on, for dropping all of one server's entries.
pub fn weighed<K, V>(
    bytes: u64,
    ttl: Option<Duration>,
    weigh: impl Fn(&K, &V) -> usize + Send + Sync + 'static,
) -> Cache<K, V>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    let builder = Cache::builder()
        .max_capacity(bytes)
        .weigher(move |key, value| {
            u32::try_from(ENTRY_BYTES + weigh(key, value)).unwrap_or(u32::MAX)
        })
        .support_invalidation_closures();
    match ttl {
        Some(ttl) => builder.time_to_live(ttl),
        None => builder.time_to_idle(Duration::from_secs(3600)),
    }
    .build()
}

/// A server record's text.
pub fn record_bytes(server: &ServerRecord) -> usize {
    let labels: usize = server
        .labels
        .iter()
        .map(|(key, value)| key.len() + value.len() + 48)
        .sum();
    std::mem::size_of::<ServerRecord>()
        + server.id.len()
        + server.name.len()
        + server.kind.len()
        + server.base_url.len()
        + server.group.len()
        + server.tls.ca_pem.as_ref().map_or(0, String::len)
        + server.default_php_version.as_ref().map_or(0, String::len)
        + labels
}

/// An adapter of server `server_id`.
pub fn adapter_bytes(server_id: &str) -> usize {
    ADAPTER_BYTES + server_id.len()
}

/// A package list.
pub fn packages_bytes(packages: &[Package]) -> usize {
    packages
        .iter()
        .map(|package| std::mem::size_of::<Package>() + package.id.len() + package.name.len() + 64)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_budget_holds_a_fleet_of_100_000() {
        let budget = Budget::mib(DEFAULT_MEMORY_MIB);
        let fleet = 100_000u64;
        let record = 1024; // a record with a CA certificate and labels
        let name = 64; // its name and id, in the cache of names
        let packages = 12 * 160;
        assert!(budget.servers() >= fleet * (record + name + 2 * ENTRY_BYTES as u64));
        assert!(budget.adapters() >= fleet * (ADAPTER_BYTES + 64 + ENTRY_BYTES) as u64);
        assert!(budget.packages() >= fleet * (packages + ENTRY_BYTES as u64));
    }
}
