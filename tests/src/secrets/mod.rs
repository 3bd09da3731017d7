//! Secrets a test gives the gateway, and the search for them where they
//! must never be: what the `secrets` flows and the cross-panel suite's
//! secrets flow share.
//!
//! - [`Secrets`]: recognisable secret values unique to one flow, and where
//!   each is found (as text, as hex);
//! - `seen`: [`Seen`], the replies and failures of a flow's calls;
//! - `leaks`: [`assert_nothing_leaked`], the search of the log, the errors,
//!   the replies and the database at rest;
//! - [`register_refused`]: a server registered with credentials its panel
//!   refuses, and where the refusal shows.

mod leaks;
mod seen;

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use panelgate::{Config, auth::scopes};
use panelgate_inventory::{Keyring, MasterKey};
use panelgate_proto::v1::{CheckServerRequest, GetAccountRequest, RegisterServerRequest};
use tonic::Code;

pub use self::{leaks::*, seen::*};
use crate::{
    Backend, Gateway,
    gateway::{TEST_TOKEN_SECRET, by_name, with_gateway},
    logs,
};

/// Secret values unique to one run, so a hit can only be a leak of this run
/// (or of the constant HS256 secret of every test gateway).
pub struct Secrets {
    /// Unique to this flow: `<nanos>-<counter>`.
    pub unique: String,
    /// `<backend>-<unique>`, in every secret made.
    tag: String,
    /// Every secret given to the gateway, with what it was.
    all: Vec<(String, Vec<u8>)>,
}

impl Secrets {
    /// The secrets of a new flow on `backend`: the HS256 secret of every
    /// test gateway's caller tokens, to start with.
    pub fn new(backend: Backend) -> Self {
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
    pub fn make(&mut self, what: &str, prefix: &str) -> String {
        let secret = format!("S3cret-{prefix}-{}", self.tag);
        self.learn(what, secret.clone());
        secret
    }

    /// Adds a secret the gateway handed out (a login link's token) or one
    /// made elsewhere (a caller token).
    pub fn learn(&mut self, what: impl Into<String>, secret: impl Into<String>) {
        self.learn_bytes(what, secret.into().into_bytes());
    }

    /// Adds a secret that is bytes (the master key's raw form).
    pub fn learn_bytes(&mut self, what: impl Into<String>, secret: Vec<u8>) {
        assert!(secret.len() >= 8, "a secret long enough to be recognised");
        self.all.push((what.into(), secret));
    }

    /// Adds a caller JWT: the whole token, and its signature segment on its
    /// own (its header and claims are base64 JSON that other text may share,
    /// its signature is what makes it a credential).
    pub fn learn_token(&mut self, what: &str, token: &str) {
        let signature = token_signature(token);
        self.learn(format!("{what} (signature segment)"), signature);
        self.learn(what, token);
    }

    /// The value of the secret `what` was.
    pub fn value(&self, what: &str) -> &[u8] {
        self.all
            .iter()
            .find(|(known, _)| known == what)
            .map(|(_, secret)| secret.as_slice())
            .unwrap_or_default()
    }

    /// What the secrets found in `haystack` were.
    pub fn found_in(&self, haystack: &[u8]) -> Vec<String> {
        let text = String::from_utf8_lossy(haystack);
        self.all
            .iter()
            .filter(|(_, secret)| contains(haystack, &text, secret))
            .map(|(what, _)| what.clone())
            .collect()
    }

    /// What the secrets found in stored bytes were: as they are, or as hex
    /// (how PostgreSQL's dump shows a `bytea`).
    pub fn found_at_rest(&self, haystack: &[u8]) -> Vec<String> {
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
pub fn contains(haystack: &[u8], text: &str, needle: &[u8]) -> bool {
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

/// `bytes` as hex, upper or lower case.
pub fn hex(bytes: &[u8], upper: bool) -> String {
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
pub fn recognisable_master_key(secrets: &mut Secrets) -> Keyring {
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

/// Runs `body` against a fresh gateway on `backend` whose master key is
/// this flow's (learnt, in every form, as a secret), called with a token of
/// every scope for `subject` (a secret too), the log captured at TRACE, and
/// nothing seen yet.
pub async fn with_secret_gateway<B, Fut>(
    backend: Backend,
    mut secrets: Secrets,
    subject: String,
    body: B,
) where
    B: FnOnce(Gateway, Secrets, Seen) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    logs::capture(tracing::Level::TRACE);
    let keyring = recognisable_master_key(&mut secrets);
    with_gateway(
        backend,
        with_master_key(keyring),
        move |gateway| async move {
            let gateway = known_caller(&gateway, &mut secrets, &subject);
            body(gateway, secrets, Seen::default()).await;
        },
    )
    .await;
}

/// The gateway configuration of the flows: this flow's master key.
pub fn with_master_key(keyring: Keyring) -> impl FnOnce(&mut Config) {
    move |config| config.keyring = Some(keyring)
}

/// `gateway`, called with a token of every scope for `subject`; the token is
/// a secret from now on (the subject is not).
pub fn known_caller(gateway: &Gateway, secrets: &mut Secrets, subject: &str) -> Gateway {
    let token = gateway.token(subject, scopes::ALL, &[]);
    secrets.learn_token(&format!("caller JWT of {subject}"), &token);
    gateway.as_caller(&token)
}

/// Registers `request` (a server whose panel refuses the credentials it
/// carries) and sees the refusal where it shows: CheckServer reports it, and
/// a GetAccount routed there fails with it. Returns the server's name.
pub async fn register_refused(
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
