//! Secrets never leak. Panel admin credentials and API keys, account, database
//! and panel-admin passwords, login-link tokens, panel session tokens
//! (OpenAdmin's JWTs), the caller's own JWTs and the HS256 secret they are
//! signed with, and the master key go through every call that carries them,
//! successful, refused or failing, first-time or replayed, and then none of
//! them may appear in: the log (captured at TRACE, every target, by a global
//! subscriber this test binary installs), any error message or error detail,
//! any reply (except the login link in its own reply, and Installatron's
//! account replies, which return the caller's own website paths and database
//! passwords as recorded: there only the Debug must hide them), or the
//! inventory database at rest: the bytes of the SQLite file and its WAL, or
//! on PostgreSQL every table dumped through `psql` (secrets searched as text
//! and as hex, for `bytea`). Replies stored for idempotent replays are sealed:
//! their encodings are not in the database either.
//!
//! The flows, one module each:
//! - [`admin_api`], [`openadmin`], [`installatron`]: one panel each, every
//!   call that carries that panel's secrets, succeeding and failing;
//! - [`every_rpc`]: all four panels behind one gateway, every panelgate.v1 RPC
//!   driven (checked against the descriptor set) with secret-bearing values,
//!   idempotent replays, reused request ids, and the operation journal;
//! - [`callers`]: refused callers (no token, an expired one, forged and
//!   tampered signatures, missing scopes, other groups) on every RPC;
//! - [`echoes`]: panels that quote a secret back in their refusals.
//!
//! Every flow runs its gateway with a master key of its own (recognisable in
//! raw, base64, hex and Debug forms) and calls it with a caller token it
//! knows, whose full text and signature segment are secrets too.

mod admin_api;
mod callers;
mod echoes;
mod every_rpc;
mod installatron;
mod openadmin;

use std::{
    collections::BTreeSet,
    io,
    process::Command,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{SystemTime, UNIX_EPOCH},
};

use panelgate::{Config, auth::scopes};
use panelgate_inventory::{Keyring, MasterKey};
use panelgate_proto::v1::{
    CheckServerRequest, CreateAccountRequest, CreateDatabaseRequest, CreateLoginLinkResponse,
    Credentials, GetAccountRequest, Operation, PanelKind, PasswordCredentials,
    RegisterServerRequest, Server, ServerDefaults, account_service_client::AccountServiceClient,
    credentials, database_service_client::DatabaseServiceClient,
    inventory_service_client::InventoryServiceClient,
    operation_service_client::OperationServiceClient, server_service_client::ServerServiceClient,
};
use panelgate_tests::{
    Gateway,
    errors::assert_error,
    gateway::{Authed, REQUIRE_POSTGRES_ENV, TEST_TOKEN_SECRET, by_name},
    logs, operations,
};
use prost::Message;
use tonic::{
    Code, GrpcMethod, Status,
    service::{Interceptor, interceptor::InterceptedService},
};
use tonic_types::StatusExt;

use panelgate_tests::Backend;

// ---------------------------------------------------------------------------
// The secrets, and what was seen of them
// ---------------------------------------------------------------------------

/// Secret values unique to one run, so a hit can only be a leak of this run
/// (or of the constant HS256 secret of every test gateway).
struct Secrets {
    /// Unique to this flow: `<nanos>-<counter>`.
    unique: String,
    /// `<backend>-<unique>`, in every secret made.
    tag: String,
    /// Every secret given to the gateway, with what it was.
    all: Vec<(String, Vec<u8>)>,
}

impl Secrets {
    fn new(backend: Backend) -> Self {
        static FLOWS: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock after 1970")
            .as_nanos();
        let unique = format!("{nanos:x}-{}", FLOWS.fetch_add(1, Ordering::Relaxed));
        let mut secrets = Secrets {
            tag: format!("{backend:?}-{unique}"),
            unique,
            all: Vec::new(),
        };
        secrets.learn("the HS256 secret of caller tokens", TEST_TOKEN_SECRET);
        secrets
    }

    /// A new secret, e.g. `S3cret-Admin-Pass-Sqlite-18c4…`.
    fn make(&mut self, what: &str, prefix: &str) -> String {
        let secret = format!("S3cret-{prefix}-{}", self.tag);
        self.learn(what, secret.clone());
        secret
    }

    /// Adds a secret the gateway handed out (a login link's token) or one
    /// made elsewhere (a caller token).
    fn learn(&mut self, what: impl Into<String>, secret: impl Into<String>) {
        self.learn_bytes(what, secret.into().into_bytes());
    }

    /// Adds a secret that is bytes (the master key's raw form).
    fn learn_bytes(&mut self, what: impl Into<String>, secret: Vec<u8>) {
        assert!(secret.len() >= 8, "a secret long enough to be recognised");
        self.all.push((what.into(), secret));
    }

    /// Adds a caller JWT: the whole token, and its signature segment on its
    /// own (its header and claims are base64 JSON that other text may share,
    /// its signature is what makes it a credential).
    fn learn_token(&mut self, what: &str, token: &str) {
        let signature = token_signature(token);
        self.learn(format!("{what} (signature segment)"), signature);
        self.learn(what, token);
    }

    /// The value of the secret `what` was.
    fn value(&self, what: &str) -> &[u8] {
        self.all
            .iter()
            .find(|(known, _)| known == what)
            .map(|(_, secret)| secret.as_slice())
            .unwrap_or_default()
    }

    /// What the secrets found in `haystack` were.
    fn found_in(&self, haystack: &[u8]) -> Vec<String> {
        let text = String::from_utf8_lossy(haystack);
        self.all
            .iter()
            .filter(|(_, secret)| contains(haystack, &text, secret))
            .map(|(what, _)| what.clone())
            .collect()
    }

    /// What the secrets found in stored bytes were: as they are, or as hex
    /// (how PostgreSQL's dump shows a `bytea`).
    fn found_at_rest(&self, haystack: &[u8]) -> Vec<String> {
        let text = String::from_utf8_lossy(haystack);
        self.all
            .iter()
            .filter(|(_, secret)| {
                contains(haystack, &text, secret) || text.contains(&hex(secret, false))
            })
            .map(|(what, _)| what.clone())
            .collect()
    }
}

/// Whether `needle` is in `haystack` (`text` is its lossy UTF-8 reading,
/// which keeps every ASCII byte where it was, and is searched far faster).
fn contains(haystack: &[u8], text: &str, needle: &[u8]) -> bool {
    match std::str::from_utf8(needle) {
        Ok(needle) if needle.is_ascii() => text.contains(needle),
        _ => haystack
            .windows(needle.len())
            .any(|window| window == needle),
    }
}

/// The signature segment of a JWT (`header.claims.signature`).
fn token_signature(token: &str) -> String {
    let segments: Vec<&str> = token.split('.').collect();
    assert_eq!(segments.len(), 3, "a JWT has three segments");
    assert!(segments[2].len() >= 40, "an HS256 signature: {token}");
    segments[2].to_owned()
}

fn hex(bytes: &[u8], upper: bool) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let written = if upper {
            write!(out, "{byte:02X}")
        } else {
            write!(out, "{byte:02x}")
        };
        written.expect("writing to a String");
    }
    out
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const BASE64_URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Base64 with `alphabet`, padded with `=` when `pad`.
fn base64(bytes: &[u8], alphabet: &[u8; 64], pad: bool) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let at = |index: usize| u32::from(chunk.get(index).copied().unwrap_or(0));
        let group = (at(0) << 16) | (at(1) << 8) | at(2);
        for position in 0..4 {
            if position <= chunk.len() {
                let sextet =
                    usize::try_from((group >> (18 - 6 * position)) & 63).expect("a sextet fits");
                out.push(char::from(alphabet[sextet]));
            } else if pad {
                out.push('=');
            }
        }
    }
    out
}

/// A master key unique to this flow, learnt as a secret in every form it
/// could leak in: raw bytes, base64 (how it is configured), base64url, hex
/// (both cases) and the Debug of its bytes. Its key id is public.
fn recognisable_master_key(secrets: &mut Secrets) -> Keyring {
    let mut raw = format!("S3cret-MK-{}", secrets.unique).into_bytes();
    assert!(raw.len() <= 32, "the key's text fits in 32 bytes");
    raw.resize(32, b'!');
    let configured = base64(&raw, BASE64, true);
    let key = MasterKey::from_base64(&configured).expect("a 32-byte master key");
    secrets.learn("master key (base64)", configured);
    secrets.learn("master key (base64url)", base64(&raw, BASE64_URL, false));
    secrets.learn("master key (hex)", hex(&raw, false));
    secrets.learn("master key (HEX)", hex(&raw, true));
    secrets.learn("master key (Debug of its bytes)", format!("{raw:?}"));
    secrets.learn_bytes("master key (raw bytes)", raw);
    Keyring::new(key)
}

/// The gateway configuration of the flows: this flow's master key.
fn with_master_key(keyring: Keyring) -> impl FnOnce(&mut Config) {
    move |config| config.keyring = Some(keyring)
}

/// `gateway`, called with a token of every scope for `subject`; the token is
/// a secret from now on (the subject is not).
fn known_caller(gateway: &Gateway, secrets: &mut Secrets, subject: &str) -> Gateway {
    let token = gateway.token(subject, scopes::ALL, &[]);
    secrets.learn_token(&format!("caller JWT of {subject}"), &token);
    gateway.as_caller(&token)
}

/// Replies and failures of every call made, to search afterwards.
#[derive(Default)]
struct Seen {
    /// (call, encoded reply, Debug of the reply, page token of the reply)
    replies: Vec<(String, Vec<u8>, String, Option<String>)>,
    /// (call, status)
    failures: Vec<(String, Status)>,
    /// (call, what the gateway stored for replays: the encoded reply, or the
    /// error's encoded details), which must be sealed at rest.
    stored: Vec<(String, Vec<u8>)>,
}

impl Seen {
    fn reply<M: Message + std::fmt::Debug>(&mut self, call: impl Into<String>, reply: &M) {
        self.replies.push((
            call.into(),
            reply.encode_to_vec(),
            format!("{reply:?}"),
            None,
        ));
    }

    /// A page of a list, whose `next_page_token` is the gateway's keyset
    /// cursor: base64url JSON, so it starts like a JWT (`eyJ`), but has no
    /// `.` and so cannot be one. Only that token is spared the JWT search.
    fn page<M: Message + std::fmt::Debug>(
        &mut self,
        call: impl Into<String>,
        reply: &M,
        next_page_token: &str,
    ) {
        let call = call.into();
        assert!(
            !next_page_token.contains('.'),
            "{call}: a page token is no JWT: {next_page_token}"
        );
        self.replies.push((
            call,
            reply.encode_to_vec(),
            format!("{reply:?}"),
            (!next_page_token.is_empty()).then(|| next_page_token.to_owned()),
        ));
    }

    /// Records a failure after checking its code and reason.
    #[track_caller]
    fn failure<T: std::fmt::Debug>(
        &mut self,
        call: impl Into<String>,
        result: Result<T, Status>,
        code: Code,
        expected_reason: &str,
    ) -> Status {
        let status = assert_error(result, code, expected_reason);
        self.failures.push((call.into(), status.clone()));
        status
    }

    /// Records a call's reply, or its failure whatever it is (calls whose
    /// outcome depends on the panel); the reply, if any, is returned.
    fn outcome<M: Message + std::fmt::Debug>(
        &mut self,
        call: impl Into<String>,
        result: Result<tonic::Response<M>, Status>,
    ) -> Option<M> {
        match result {
            Ok(reply) => {
                let reply = reply.into_inner();
                self.reply(call, &reply);
                Some(reply)
            }
            Err(status) => {
                self.failures.push((call.into(), status));
                None
            }
        }
    }

    /// A reply the gateway stored for replays of its request id.
    fn stored_reply<M: Message>(&mut self, call: impl Into<String>, reply: &M) {
        self.stored.push((call.into(), reply.encode_to_vec()));
    }

    /// A failure the gateway stored for replays of its request id.
    fn stored_failure(&mut self, call: impl Into<String>, status: &Status) {
        self.stored.push((call.into(), status.details().to_vec()));
    }
}

/// Every text a failure carries to the caller, named: message, ErrorInfo
/// metadata, BadRequest descriptions, the raw details, and the Debug of it all.
fn failure_texts(status: &Status) -> Vec<(String, Vec<u8>)> {
    let mut texts = vec![
        ("message".to_owned(), status.message().as_bytes().to_vec()),
        ("details".to_owned(), status.details().to_vec()),
        ("Debug".to_owned(), format!("{status:?}").into_bytes()),
    ];
    if let Some(info) = status.get_details_error_info() {
        texts.extend(
            info.metadata
                .into_iter()
                .map(|(key, value)| (format!("ErrorInfo {key}"), value.into_bytes())),
        );
        texts.push(("ErrorInfo reason".to_owned(), info.reason.into_bytes()));
    }
    if let Some(bad) = status.get_details_bad_request() {
        for violation in bad.field_violations {
            texts.push(("BadRequest field".to_owned(), violation.field.into_bytes()));
            texts.push((
                "BadRequest description".to_owned(),
                violation.description.into_bytes(),
            ));
        }
    }
    for (key, value) in status.metadata().iter().filter_map(|entry| match entry {
        tonic::metadata::KeyAndValueRef::Ascii(key, value) => Some((key, value)),
        tonic::metadata::KeyAndValueRef::Binary(..) => None,
    }) {
        texts.push((
            format!("metadata {}", key.as_str()),
            format!("{value:?}").into_bytes(),
        ));
    }
    texts
}

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
fn assert_nothing_leaked(
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
fn link_token(link: &CreateLoginLinkResponse, marker: &str) -> String {
    link.url
        .split_once(marker)
        .map(|(_, token)| token.to_owned())
        .unwrap_or_else(|| panic!("`{marker}` in the login link"))
}

// ---------------------------------------------------------------------------
// Which RPCs a flow drove
// ---------------------------------------------------------------------------

/// Every RPC of the panelgate.v1 services, as `/panelgate.v1.Service/Method`,
/// from the descriptor set the gateway serves.
fn descriptor_rpcs() -> BTreeSet<String> {
    let descriptors = prost_types::FileDescriptorSet::decode(panelgate_proto::FILE_DESCRIPTOR_SET)
        .expect("the descriptor set decodes");
    descriptors
        .file
        .iter()
        .filter(|file| file.package() == "panelgate.v1")
        .flat_map(|file| {
            file.service.iter().flat_map(|service| {
                service.method.iter().map(move |method| {
                    format!("/panelgate.v1.{}/{}", service.name(), method.name())
                })
            })
        })
        .collect()
}

/// The RPC a canonical operation is (the method of that name).
fn rpc_of(operation: Operation) -> String {
    let name = format!("/{operation:?}");
    let matching: Vec<String> = descriptor_rpcs()
        .into_iter()
        .filter(|rpc| rpc.ends_with(&name))
        .collect();
    assert_eq!(matching.len(), 1, "one RPC is {operation:?}: {matching:?}");
    matching.into_iter().next().expect("one RPC")
}

/// The RPCs a flow drove with a valid token: every call of an [`Api`]
/// client is recorded as it leaves (the generated clients name their
/// method), and every operation [`Api::dispatch`] calls.
#[derive(Clone, Default)]
struct Driven(Arc<Mutex<BTreeSet<String>>>);

impl Driven {
    fn insert(&self, rpc: String) {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(rpc);
    }

    fn rpcs(&self) -> BTreeSet<String> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

impl Interceptor for Driven {
    fn call(&mut self, request: tonic::Request<()>) -> Result<tonic::Request<()>, Status> {
        let method = request
            .extensions()
            .get::<GrpcMethod<'static>>()
            .expect("generated clients name their method");
        self.insert(format!("/{}/{}", method.service(), method.method()));
        Ok(request)
    }
}

/// A channel with the caller's token that records the RPCs it carries.
type Recorded = InterceptedService<Authed, Driven>;

/// Clients of a gateway as one caller, recording what they drive.
struct Api {
    gateway: Gateway,
    driven: Driven,
}

impl Api {
    fn new(gateway: Gateway) -> Self {
        Api {
            gateway,
            driven: Driven::default(),
        }
    }

    fn channel(&self) -> Recorded {
        InterceptedService::new(self.gateway.authed(), self.driven.clone())
    }

    fn inventory(&self) -> InventoryServiceClient<Recorded> {
        InventoryServiceClient::new(self.channel())
    }
    fn accounts(&self) -> AccountServiceClient<Recorded> {
        AccountServiceClient::new(self.channel())
    }
    fn databases(&self) -> DatabaseServiceClient<Recorded> {
        DatabaseServiceClient::new(self.channel())
    }
    fn servers(&self) -> ServerServiceClient<Recorded> {
        ServerServiceClient::new(self.channel())
    }
    fn operations(&self) -> OperationServiceClient<Recorded> {
        OperationServiceClient::new(self.channel())
    }

    /// One well-formed call of `operation` through the shared dispatcher.
    async fn dispatch(
        &self,
        target: &str,
        operation: Operation,
        username: &str,
    ) -> Result<(), Status> {
        self.driven.insert(rpc_of(operation));
        operations::call(
            &self.gateway,
            by_name(target),
            operation,
            operations::About::account(username),
        )
        .await
    }
}

/// Registers `request` (a server whose panel refuses the credentials it
/// carries) and sees the refusal where it shows: CheckServer reports it, and
/// a GetAccount routed there fails with it. Returns the server's name.
async fn register_refused(
    gateway: &Gateway,
    request: RegisterServerRequest,
    credentials: &str,
    seen: &mut Seen,
) -> String {
    let name = request
        .server
        .as_ref()
        .map(|server| server.name.clone())
        .unwrap_or_default();
    let registered = gateway
        .inventory()
        .register_server(request)
        .await
        .unwrap_or_else(|status| panic!("register with wrong {credentials}: {status:?}"))
        .into_inner();
    seen.reply("RegisterServer (wrong)", &registered);
    let checked = gateway
        .inventory()
        .check_server(CheckServerRequest {
            target: by_name(&name),
        })
        .await
        .expect("check")
        .into_inner();
    assert_eq!(
        checked.error_reason, "PANEL_CREDENTIALS_REJECTED",
        "{checked:?}"
    );
    seen.reply("CheckServer (wrong)", &checked);
    let result = gateway
        .accounts()
        .get_account(GetAccountRequest {
            target: by_name(&name),
            username: "keeper".into(),
        })
        .await;
    seen.failure(
        format!("GetAccount (wrong {credentials})"),
        result,
        Code::FailedPrecondition,
        "PANEL_CREDENTIALS_REJECTED",
    );
    name
}

// ---------------------------------------------------------------------------
// Request builders
// ---------------------------------------------------------------------------

fn password_credentials(password: &str) -> Option<Credentials> {
    Some(Credentials {
        kind: Some(credentials::Kind::Password(PasswordCredentials {
            username: "admin".into(),
            password: password.to_owned(),
        })),
    })
}

fn register_request(
    name: &str,
    base_url: &str,
    credentials: Option<Credentials>,
) -> RegisterServerRequest {
    RegisterServerRequest {
        server: Some(Server {
            name: name.to_owned(),
            kind: PanelKind::AdminApi.into(),
            base_url: base_url.to_owned(),
            defaults: Some(ServerDefaults {
                php_version: "8.2".into(),
            }),
            ..Default::default()
        }),
        credentials,
        request_id: String::new(),
    }
}

/// An OpenAdmin server logging in as `admin` with `password`.
fn openadmin_register_request(name: &str, base_url: &str, password: &str) -> RegisterServerRequest {
    RegisterServerRequest {
        server: Some(Server {
            name: name.to_owned(),
            kind: PanelKind::Openadmin.into(),
            base_url: base_url.to_owned(),
            ..Default::default()
        }),
        credentials: password_credentials(password),
        request_id: String::new(),
    }
}

fn create_account_request(server: &str, username: &str, password: &str) -> CreateAccountRequest {
    CreateAccountRequest {
        target: by_name(server),
        username: username.to_owned(),
        primary_domain: format!("{username}.example"),
        email: format!("{username}@mail.example"),
        password: password.to_owned(),
        package: "Basic".into(),
        ..Default::default()
    }
}

fn create_database_request(username: &str, name: &str, password: &str) -> CreateDatabaseRequest {
    CreateDatabaseRequest {
        target: None,
        username: username.to_owned(),
        database_name: name.to_owned(),
        database_user: format!("{name}user"),
        database_password: password.to_owned(),
        ..Default::default()
    }
}
