//! Log capture for tests that assert on what was logged: one global
//! subscriber per test binary, every target at the level it was installed
//! with, formatted as text into a shared buffer.

use std::{
    io,
    sync::{Arc, Mutex, MutexGuard, OnceLock},
};

use tracing::Level;

static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();

/// Installs the capturing subscriber at `level`, once per test binary (later
/// calls keep the first level).
pub fn capture(level: Level) {
    LOG.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let sink = buffer.clone();
        tracing_subscriber::fmt()
            .with_max_level(level)
            .with_ansi(false)
            .with_writer(move || LogSink(sink.clone()))
            .try_init()
            .expect("install the capturing subscriber");
        buffer
    });
}

/// Everything captured so far (nothing before [`capture`]).
pub fn text() -> String {
    LOG.get().map_or_else(String::new, |buffer| {
        String::from_utf8_lossy(&lock(buffer)).into_owned()
    })
}

/// Everything captured so far, line by line.
pub fn lines() -> Vec<String> {
    text().lines().map(str::to_owned).collect()
}

fn lock(buffer: &Mutex<Vec<u8>>) -> MutexGuard<'_, Vec<u8>> {
    buffer
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Appends formatted log lines to the shared buffer.
struct LogSink(Arc<Mutex<Vec<u8>>>);

impl io::Write for LogSink {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        lock(&self.0).extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
