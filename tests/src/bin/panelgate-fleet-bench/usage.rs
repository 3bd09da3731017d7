//! What a process holds, read from `/proc/<pid>`: resident memory now
//! (`VmRSS`) and at its peak (`VmHWM`), and its open sockets (the entries of
//! `fd/` that link to `socket:[inode]`).

use std::fmt;

use anyhow::Context;

/// One reading of a process's memory and sockets.
#[derive(Clone, Copy, Debug)]
pub struct Usage {
    /// Resident set size, KiB.
    pub rss_kib: u64,
    /// Peak resident set size, KiB.
    pub hwm_kib: u64,
    /// Open sockets.
    pub sockets: usize,
}

impl Usage {
    /// Reads process `pid`'s usage now.
    pub fn of(pid: u32) -> anyhow::Result<Usage> {
        let path = format!("/proc/{pid}/status");
        let status = std::fs::read_to_string(&path).with_context(|| format!("read {path}"))?;
        let kib = |field: &str| {
            status_kib(&status, field).with_context(|| format!("no {field} in {path}"))
        };
        Ok(Usage {
            rss_kib: kib("VmRSS")?,
            hwm_kib: kib("VmHWM")?,
            sockets: sockets(pid)?,
        })
    }

    /// Resident set size, MiB.
    pub fn rss_mib(&self) -> f64 {
        mib(self.rss_kib)
    }

    /// Peak resident set size, MiB.
    pub fn hwm_mib(&self) -> f64 {
        mib(self.hwm_kib)
    }
}

impl fmt::Display for Usage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "RSS {:.1} MiB (VmHWM {:.1} MiB), {} open sockets",
            self.rss_mib(),
            self.hwm_mib(),
            self.sockets
        )
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// The value of `field` in `/proc/<pid>/status` text, e.g. `VmRSS:  1234 kB`.
fn status_kib(status: &str, field: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Process `pid`'s open sockets. A descriptor closed while they are counted
/// is not counted.
fn sockets(pid: u32) -> anyhow::Result<usize> {
    let dir = format!("/proc/{pid}/fd");
    let entries = std::fs::read_dir(&dir).with_context(|| format!("list {dir}"))?;
    Ok(entries
        .filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
        .filter(|target| target.to_string_lossy().starts_with("socket:"))
        .count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_kib_fields_of_the_status_file() {
        let status = "Name:\tpanelgate\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\n";
        assert_eq!(status_kib(status, "VmRSS"), Some(102_400));
        assert_eq!(status_kib(status, "VmHWM"), Some(204_800));
        assert_eq!(status_kib(status, "VmSwap"), None);
    }

    #[test]
    fn reads_this_process() {
        let usage = Usage::of(std::process::id()).expect("read /proc/self");
        assert!(
            usage.rss_kib > 0 && usage.hwm_kib >= usage.rss_kib,
            "{usage}"
        );
    }
}
