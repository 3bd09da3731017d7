//! The search for secrets where they must never be: the log, the errors and
//! replies a flow saw, and the inventory database at rest.

use std::{collections::BTreeSet, io, process::Command};

use panelgate_proto::v1::CreateLoginLinkResponse;

use super::{Secrets, Seen, contains, failure_texts, hex};
use crate::{Gateway, gateway::REQUIRE_POSTGRES_ENV, logs};

/// How every JWT starts (base64url of `{"`): no session token the gateway
/// holds and no caller token may show anywhere. The panels' own token values
/// are not exposed by the simulators, so this is what is searched for.
const JWT_START: &[u8] = b"eyJ";

fn has_jwt(haystack: &[u8]) -> bool {
    jwt_context(haystack).is_some()
}

/// Where a JWT starts in `haystack`, with what surrounds it, for messages.
fn jwt_context(haystack: &[u8]) -> Option<String> {
    let at = haystack
        .windows(JWT_START.len())
        .position(|window| window == JWT_START)?;
    let around = &haystack[at.saturating_sub(60)..(at + 60).min(haystack.len())];
    Some(String::from_utf8_lossy(around).into_owned())
}

/// Asserts the log captured these very calls (it mentions each of
/// `log_mentions`) and holds none of the secrets and no JWT; that no failure
/// and no reply seen carries either; and that the database at rest (the
/// SQLite file with its WAL, or PostgreSQL's tables) holds no secret, as
/// text or as hex, and none of the replies stored for replays.
pub fn assert_nothing_leaked(
    gateway: &Gateway,
    server: &str,
    log_mentions: &[&str],
    secrets: &Secrets,
    seen: &Seen,
) {
    let log = logs::text();
    assert!(!log.is_empty(), "the log capture works");
    for expected in log_mentions.iter().copied().chain([server]) {
        assert!(log.contains(expected), "the log mentions {expected}");
    }
    // Every leak is listed before failing, so one run shows them all.
    let mut leaks = Vec::new();
    for what in secrets.found_in(log.as_bytes()) {
        let secret = secrets.value(&what);
        let line = log
            .lines()
            .find(|line| contains(line.as_bytes(), line, secret))
            .unwrap_or_default();
        leaks.push(format!("the log holds the {what}: {}", excerpt(line)));
    }
    if let Some(line) = log.lines().find(|line| has_jwt(line.as_bytes())) {
        leaks.push(format!("a JWT in the log: {}", excerpt(line)));
    }

    for (call, status) in &seen.failures {
        let mut parts = Vec::new();
        let mut found = BTreeSet::new();
        for (part, text) in failure_texts(status) {
            let leaked = secrets.found_in(&text);
            if !leaked.is_empty() {
                parts.push(part.clone());
                found.extend(leaked);
            }
            if let Some(context) = jwt_context(&text) {
                leaks.push(format!("{call}: a JWT in the error's {part}: …{context}…"));
            }
        }
        if !found.is_empty() {
            leaks.push(format!(
                "{call}: secrets in the error ({}): {found:?}",
                parts.join(", ")
            ));
        }
    }
    for (call, encoded, debug, page_token) in &seen.replies {
        let leaked = secrets.found_in(encoded);
        if !leaked.is_empty() {
            leaks.push(format!("{call}: secrets in the reply: {leaked:?}"));
        }
        let leaked = secrets.found_in(debug.as_bytes());
        if !leaked.is_empty() {
            leaks.push(format!("{call}: secrets in the reply's Debug: {leaked:?}"));
        }
        let without_page_token = |bytes: &[u8]| {
            let text = String::from_utf8_lossy(bytes);
            match page_token {
                Some(token) => text.replace(token.as_str(), ""),
                None => text.into_owned(),
            }
        };
        for text in [
            without_page_token(encoded),
            without_page_token(debug.as_bytes()),
        ] {
            if let Some(context) = jwt_context(text.as_bytes()) {
                leaks.push(format!("{call}: a JWT in the reply: …{context}…"));
            }
        }
    }

    if let Some((what, bytes)) = database_at_rest(gateway) {
        assert!(
            contains(&bytes, &String::from_utf8_lossy(&bytes), server.as_bytes()),
            "the server name is in the {what} read"
        );
        let leaked = secrets.found_at_rest(&bytes);
        if !leaked.is_empty() {
            leaks.push(format!("secrets in the {what}: {leaked:?}"));
        }
        let text = String::from_utf8_lossy(&bytes);
        for (call, stored) in &seen.stored {
            // Short encodings could match by chance; every one stored here
            // is longer.
            if stored.len() < 16 {
                continue;
            }
            if contains(&bytes, &text, stored) || text.contains(&hex(stored, false)) {
                leaks.push(format!(
                    "{call}: the reply stored for replays is in the {what} in plaintext"
                ));
            }
        }
    }
    assert!(leaks.is_empty(), "leaks:\n{}", leaks.join("\n"));
}

/// At most 400 characters of a log line, for messages.
fn excerpt(line: &str) -> &str {
    match line.char_indices().nth(400) {
        Some((cut, _)) => &line[..cut],
        None => line,
    }
}

/// The inventory database as bytes to search, and what they are: the SQLite
/// file with its WAL; or on PostgreSQL every table of the test database as
/// `COPY` text (`bytea` as hex), read through `psql`. None when PostgreSQL's
/// `psql` is not installed (a failure when PostgreSQL is required).
fn database_at_rest(gateway: &Gateway) -> Option<(&'static str, Vec<u8>)> {
    if let Some(file) = &gateway.sqlite_file {
        let mut bytes = std::fs::read(file).expect("read the SQLite file");
        let mut wal = file.clone().into_os_string();
        wal.push("-wal");
        if let Ok(more) = std::fs::read(&wal) {
            bytes.extend(more);
        }
        return Some(("SQLite file", bytes));
    }
    let psql = |command: &str| {
        Command::new("psql")
            .args([
                gateway.database_url.as_str(),
                "--no-psqlrc",
                "--quiet",
                "--no-align",
                "--tuples-only",
                "--set=ON_ERROR_STOP=1",
                "--command",
                command,
            ])
            .output()
    };
    let tables = match psql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'") {
        Ok(output) => output,
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            assert!(
                std::env::var_os(REQUIRE_POSTGRES_ENV).is_none(),
                "{REQUIRE_POSTGRES_ENV} is set but psql is missing: the PostgreSQL tables cannot be searched"
            );
            eprintln!("psql not found: the PostgreSQL tables are not searched");
            return None;
        }
        Err(err) => panic!("run psql: {err}"),
    };
    assert!(
        tables.status.success(),
        "psql lists the tables: {}",
        String::from_utf8_lossy(&tables.stderr)
    );
    let tables = String::from_utf8(tables.stdout).expect("table names are UTF-8");
    let tables: Vec<&str> = tables.lines().filter(|name| !name.is_empty()).collect();
    for table in ["servers", "accounts", "operations"] {
        assert!(tables.contains(&table), "table {table} in {tables:?}");
    }
    let mut bytes = Vec::new();
    for table in tables {
        let dump =
            psql(&format!("COPY public.\"{table}\" TO STDOUT")).expect("run psql to dump a table");
        assert!(
            dump.status.success(),
            "psql dumps {table}: {}",
            String::from_utf8_lossy(&dump.stderr)
        );
        bytes.extend(dump.stdout);
    }
    Some(("PostgreSQL tables", bytes))
}

/// The one-time token of a login link (what follows `marker`).
pub fn link_token(link: &CreateLoginLinkResponse, marker: &str) -> String {
    link.url
        .split_once(marker)
        .map(|(_, token)| token.to_owned())
        .unwrap_or_else(|| panic!("`{marker}` in the login link"))
}
