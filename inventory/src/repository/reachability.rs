//! Whether the database is known to be unreachable, so calls fail at once
//! instead of each waiting out the pool's timeouts; and, for SQLite, whether
//! the file opened at start is still the one at its path (connections keep
//! working on a deleted file, silently writing where nothing will be found).
//!
//! [`Inventory::ping`](super::Inventory::ping), run by the health check, is
//! the probe: it bypasses the gate and sets it.

use std::{
    path::PathBuf,
    sync::atomic::{AtomicBool, Ordering},
};

use crate::InventoryError;

/// The gate in front of every statement.
#[derive(Debug, Default)]
pub(super) struct Reachability {
    /// Set while the last probe failed.
    down: AtomicBool,
    /// The SQLite file and its identity when it was opened.
    sqlite_file: Option<(PathBuf, FileId)>,
}

impl Reachability {
    /// A gate for the database at `url`: for a SQLite file, the file as it is now.
    pub(super) fn new(url: &str) -> Self {
        let sqlite_file = sqlite_path(url).and_then(|path| {
            let id = FileId::of(&path)?;
            Some((path, id))
        });
        Reachability {
            down: AtomicBool::new(false),
            sqlite_file,
        }
    }

    /// UNAVAILABLE while the database is known to be down.
    pub(super) fn check(&self) -> Result<(), InventoryError> {
        if self.down.load(Ordering::Relaxed) {
            return Err(InventoryError::Unreachable(
                "the inventory database did not answer its last health check".into(),
            ));
        }
        Ok(())
    }

    /// The SQLite file is still the one opened at start, if there is one.
    pub(super) fn file_in_place(&self) -> Result<(), InventoryError> {
        let Some((path, opened)) = &self.sqlite_file else {
            return Ok(());
        };
        if FileId::of(path).as_ref() == Some(opened) {
            return Ok(());
        }
        Err(InventoryError::Unreachable(format!(
            "the SQLite file {} was deleted or replaced: restart panelgate on an intact database",
            path.display()
        )))
    }

    /// Records a probe's outcome.
    pub(super) fn set(&self, reachable: bool) {
        self.down.store(!reachable, Ordering::Relaxed);
    }
}

/// The path of a SQLite URL's file; None for other URLs and in-memory databases.
fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or(rest);
    if path.is_empty() || path.contains(":memory:") || url.contains("mode=memory") {
        return None;
    }
    Some(PathBuf::from(path))
}

/// What identifies a file: device and inode (on Unix), so a file deleted
/// and made again at the same path is told apart.
#[derive(Debug, PartialEq, Eq)]
struct FileId(u64, u64);

impl FileId {
    fn of(path: &std::path::Path) -> Option<Self> {
        let metadata = std::fs::metadata(path).ok()?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            Some(FileId(metadata.dev(), metadata.ino()))
        }
        #[cfg(not(unix))]
        {
            Some(FileId(metadata.len(), 0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_paths() {
        assert_eq!(
            sqlite_path("sqlite://data/panelgate.db?mode=rwc"),
            Some(PathBuf::from("data/panelgate.db"))
        );
        assert_eq!(
            sqlite_path("sqlite:///var/lib/p.db"),
            Some(PathBuf::from("/var/lib/p.db"))
        );
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://db/inventory"), None);
    }

    #[test]
    fn a_deleted_file_is_told() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("inventory.db");
        std::fs::write(&file, b"x").unwrap();
        let gate = Reachability::new(&format!("sqlite://{}", file.display()));
        assert!(gate.file_in_place().is_ok());
        std::fs::remove_file(&file).unwrap();
        assert!(gate.file_in_place().is_err());
        assert!(gate.check().is_ok(), "only a probe closes the gate");
        gate.set(false);
        assert!(matches!(gate.check(), Err(InventoryError::Unreachable(_))));
        gate.set(true);
        assert!(gate.check().is_ok());
    }
}
