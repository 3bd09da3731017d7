//! Master-key rotation end to end: gateways, the `panelgate rotate-key`
//! command (run in-process through `panelgate::cli::run`, exactly what the
//! binary runs) and simulated panels on one inventory database, SQLite and
//! PostgreSQL. A gateway holding the new key as primary and the old one as
//! previous keeps serving while rotate-key re-seals; afterwards the new key
//! alone reads every credential and replays every stored reply, the old key
//! alone reads nothing (CREDENTIALS_UNREADABLE), a second run has nothing to
//! do, and a run missing the key the data was sealed with names that key's id
//! without quoting any key. On SQLite the file holds no key and no password.
//!
//! - `fleet`: three panels with recognisable secrets, and calls in a loop
//!   while rotate-key runs;
//! - `scenarios`: the rotation, the missing key, the SQLite file.

mod fleet;
mod scenarios;

use std::{sync::Arc, time::Duration};

use base64::{Engine as _, engine::general_purpose::STANDARD};
use clap::Parser;
use panelgate::{
    Config,
    auth::{Auth, scopes},
    cli::{Cli, run},
};
use panelgate_inventory::{Keyring, MasterKey};
use panelgate_proto::v1::{
    account_service_client::AccountServiceClient, inventory_service_client::InventoryServiceClient,
    package_service_client::PackageServiceClient,
};
use panelgate_tests::{
    gateway::{
        Authed, Bearer, Running, TEST_CALLER, TEST_UPSTREAM_TIMEOUT, issue, start, test_tokens,
    },
    logs,
};
use tonic::service::interceptor::InterceptedService;

/// What `rotate-key` reported for runs whose new key is `key`: (servers,
/// operations) re-sealed, per run, in order.
fn rotation_reports(key: &Key) -> Vec<(u64, u64)> {
    logs::lines()
        .iter()
        .filter(|line| {
            line.contains("the previous key can be retired")
                && line.contains(&format!("key_id={}", key.id))
        })
        .map(|line| (field(line, "servers"), field(line, "operations")))
        .collect()
}

/// The number after `name=` in a log line.
fn field(line: &str, name: &str) -> u64 {
    let prefix = format!(" {name}=");
    let start = line
        .find(&prefix)
        .unwrap_or_else(|| panic!("no {name} in: {line}"))
        + prefix.len();
    line[start..]
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|digits| digits.parse().ok())
        .unwrap_or_else(|| panic!("no number after {name}= in: {line}"))
}

/// A master key: its 32 bytes (recognisable ASCII, unique per test and
/// label, so log lines of tests running side by side are told apart), base64
/// and key id.
struct Key {
    raw: Vec<u8>,
    base64: String,
    id: String,
}

impl Key {
    fn new(label: &str, test: &str) -> Key {
        let mut raw = format!("KEY-{label}-{test}-").into_bytes();
        raw.resize(32, b'#');
        raw.truncate(32);
        let base64 = STANDARD.encode(&raw);
        let id = MasterKey::from_base64(&base64)
            .expect("a 32-byte key")
            .key_id()
            .to_owned();
        Key { raw, base64, id }
    }

    fn master(&self) -> MasterKey {
        MasterKey::from_base64(&self.base64).expect("a 32-byte key")
    }

    /// A keyring with this key alone.
    fn alone(&self) -> Keyring {
        Keyring::new(self.master())
    }

    /// A keyring with this key as primary and `previous` still readable.
    fn after(&self, previous: &Key) -> Keyring {
        Keyring::new(self.master()).with_previous(previous.master())
    }
}

/// A gateway on `database_url` with `keyring`, started like test gateways
/// (auth on with the test token key), caching server records and adapters
/// for 1 ms only, so every call reads the sealed credentials again.
async fn gateway_with(database_url: &str, keyring: Keyring) -> (Running, Clients) {
    let mut config = Config::new(database_url);
    config.keyring = Some(keyring);
    config.outbound.timeouts.set_each(TEST_UPSTREAM_TIMEOUT);
    config.server_cache_ttl = Duration::from_millis(1);
    config.auth = Some(Arc::new(Auth {
        tokens: test_tokens(),
        reflection_public: false,
    }));
    let running = start(config).await;
    let token = issue(&test_tokens(), TEST_CALLER, scopes::ALL, &[]);
    let clients = Clients(InterceptedService::new(
        running.channel.clone(),
        Bearer::new(&token).expect("a token is ASCII"),
    ));
    (running, clients)
}

/// Clients of a gateway started with [`gateway_with`], sending an all-scope
/// token of the same caller as [`with_gateway`]'s clients (so request_ids are
/// shared with them).
#[derive(Clone)]
struct Clients(Authed);

impl Clients {
    fn inventory(&self) -> InventoryServiceClient<Authed> {
        InventoryServiceClient::new(self.0.clone())
    }
    fn accounts(&self) -> AccountServiceClient<Authed> {
        AccountServiceClient::new(self.0.clone())
    }
    fn packages(&self) -> PackageServiceClient<Authed> {
        PackageServiceClient::new(self.0.clone())
    }
}

/// Runs `panelgate rotate-key` in-process with `new` as the master key and
/// `previous` as the previous one; the error as `{:#}` text.
async fn rotate_key(database_url: &str, new: &Key, previous: Option<&Key>) -> Result<(), String> {
    let mut args = vec![
        "panelgate",
        "rotate-key",
        "--database-url",
        database_url,
        "--master-key",
        &new.base64,
    ];
    if let Some(previous) = previous {
        args.extend(["--previous-master-key", previous.base64.as_str()]);
    }
    let cli = Cli::try_parse_from(args).map_err(|err| err.to_string())?;
    run(cli).await.map_err(|err| format!("{err:#}"))
}
