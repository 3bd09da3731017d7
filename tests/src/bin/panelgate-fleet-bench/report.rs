//! The figures of a run, and whether they meet the targets set at
//! [`TARGET_SERVERS`] servers.

use std::{fmt, time::Duration};

use crate::usage::Usage;

/// The fleet size the targets are set for.
pub const TARGET_SERVERS: usize = 10_000;

/// Most resident memory of the gateway after pass 2, MiB.
pub const TARGET_RSS_MIB: f64 = 150.0;

/// One ListPackages pass over the fleet.
pub struct Pass {
    /// 1 or 2.
    pub number: u8,
    /// Calls made: one per server.
    pub calls: usize,
    /// Its wall time.
    pub elapsed: Duration,
    /// Requests the simulated panel received during it.
    pub panel_calls: u64,
    /// The gateway's usage right after it.
    pub usage: Usage,
}

impl Pass {
    /// The share of calls answered without the panel: 1 − panel calls / calls.
    pub fn hit_rate(&self) -> f64 {
        let calls = self.calls as f64;
        (calls - self.panel_calls as f64).max(0.0) / calls.max(1.0)
    }
}

impl fmt::Display for Pass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seconds = self.elapsed.as_secs_f64();
        write!(
            f,
            "pass {}: {} ListPackages in {seconds:.1} s ({:.0} calls/s), \
             {} package-list calls to the panel (hit rate {:.2}%); gateway {}",
            self.number,
            self.calls,
            self.calls as f64 / seconds.max(f64::EPSILON),
            self.panel_calls,
            self.hit_rate() * 100.0,
            self.usage,
        )
    }
}

/// The closing line: the figures, and at [`TARGET_SERVERS`] servers whether
/// each target holds.
pub fn summary(servers: usize, registered: &Usage, first: &Pass, second: &Pass) -> String {
    let figures = format!(
        "summary: {servers} servers; gateway RSS {:.1} MiB after registration, {:.1} MiB \
         after pass 1, {:.1} MiB after pass 2 (VmHWM {:.1} MiB, {} sockets); \
         pass 2: {} panel calls, cache hit rate {:.2}%",
        registered.rss_mib(),
        first.usage.rss_mib(),
        second.usage.rss_mib(),
        second.usage.hwm_mib(),
        second.usage.sockets,
        second.panel_calls,
        second.hit_rate() * 100.0,
    );
    if servers != TARGET_SERVERS {
        return format!("{figures} (targets are set at {TARGET_SERVERS} servers)");
    }
    let verdict = |holds: bool| if holds { "holds" } else { "MISSED" };
    format!(
        "{figures}; target RSS <= {TARGET_RSS_MIB:.0} MiB after pass 2: {}; \
         target 0 panel calls in pass 2: {}",
        verdict(second.usage.rss_mib() <= TARGET_RSS_MIB),
        verdict(second.panel_calls == 0),
    )
}
