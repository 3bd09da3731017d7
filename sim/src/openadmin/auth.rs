//! Logins and bearer tokens: `POST /api/` issues an HS256 JWT with
//! Flask-JWT-Extended's claims; every other route checks one.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, StatusCode, header};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::endpoints::{Call, Reply, error};
use super::state::Panel;

/// The claims of an access token, in the order Flask-JWT-Extended writes them.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    fresh: bool,
    iat: u64,
    /// Random per token (a UUID4, as Flask-JWT-Extended's).
    jti: String,
    #[serde(rename = "type")]
    kind: String,
    /// The admin's username.
    sub: String,
    nbf: u64,
    csrf: String,
    exp: u64,
}

/// What the panel keeps about logins.
pub(super) struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    lifetime: Duration,
    /// `jti` → `exp` of every token issued and not revoked.
    issued: HashMap<String, u64>,
    /// Successful logins.
    pub(super) logins: u64,
    /// The login rate limit, if any.
    bucket: Option<Bucket>,
}

impl Tokens {
    pub(super) fn new(secret: &str, lifetime: Duration, login_burst: Option<u32>) -> Tokens {
        Tokens {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            lifetime,
            issued: HashMap::new(),
            logins: 0,
            bucket: login_burst.map(Bucket::new),
        }
    }

    /// Forgets every issued token.
    pub(super) fn revoke_all(&mut self) {
        self.issued.clear();
    }

    /// Signs a token for `sub` and remembers it.
    fn issue(&mut self, sub: &str) -> Option<String> {
        let now = unix_now();
        // Expired tokens are of no further use: keep the set small.
        self.issued.retain(|_, exp| *exp >= now);
        let claims = Claims {
            fresh: false,
            iat: now,
            jti: uuid::Uuid::new_v4().to_string(),
            kind: "access".to_owned(),
            sub: sub.to_owned(),
            nbf: now,
            csrf: uuid::Uuid::new_v4().to_string(),
            exp: now + self.lifetime.as_secs(),
        };
        let token =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).ok()?;
        self.issued.insert(claims.jti, claims.exp);
        self.logins += 1;
        Some(token)
    }

    /// The `sub` of a valid token: right signature, not expired (no leeway), not revoked.
    fn verify(&self, token: &str) -> Option<String> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "sub"]);
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation).ok()?;
        let claims = data.claims;
        (claims.kind == "access" && self.issued.contains_key(&claims.jti)).then_some(claims.sub)
    }
}

/// A token bucket: `capacity` attempts at once, refilled at `capacity` per minute
/// (the Go build's per-IP limiter, here one bucket for every client; reading 3).
struct Bucket {
    capacity: f64,
    available: f64,
    refilled: Instant,
}

impl Bucket {
    fn new(per_minute: u32) -> Bucket {
        let capacity = f64::from(per_minute);
        Bucket {
            capacity,
            available: capacity,
            refilled: Instant::now(),
        }
    }

    /// Takes one attempt; false when none is left.
    fn take(&mut self) -> bool {
        let now = Instant::now();
        let minutes = now.duration_since(self.refilled).as_secs_f64() / 60.0;
        self.available = (self.available + minutes * self.capacity).min(self.capacity);
        self.refilled = now;
        if self.available >= 1.0 {
            self.available -= 1.0;
            true
        } else {
            false
        }
    }
}

/// `POST /api/`: rate limit, JSON body, credentials, token.
pub(super) fn login(panel: &mut Panel, call: &Call<'_>) -> Reply {
    let body = call.body;
    if let Some(bucket) = &mut panel.tokens.bucket
        && !bucket.take()
    {
        return error(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many login attempts. Please try again later.",
        );
    }
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) else {
        return error(StatusCode::BAD_REQUEST, "Invalid JSON body");
    };
    let text = |key: &str| fields.get(key).and_then(Value::as_str).unwrap_or_default();
    let (username, password) = (text("username"), text("password"));
    if username.is_empty() || username != panel.admin_username || password != panel.admin_password {
        return error(StatusCode::UNAUTHORIZED, "Invalid credentials");
    }
    let username = username.to_owned();
    match panel.tokens.issue(&username) {
        Some(token) => Reply::ok(json!({ "access_token": token })),
        None => error(StatusCode::INTERNAL_SERVER_ERROR, "Could not issue token"),
    }
}

/// `GET /api/whoami`: the admin the token names.
pub(super) fn whoami(_: &mut Panel, call: &Call<'_>) -> Reply {
    Reply::ok(json!({ "logged_in_as": call.admin }))
}

/// The admin a request's `Authorization: Bearer <token>` names, or the 401 reply.
pub(super) fn check(panel: &Panel, headers: &HeaderMap) -> Result<String, Reply> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .and_then(|token| panel.tokens.verify(token))
        .ok_or_else(|| error(StatusCode::UNAUTHORIZED, "Missing or invalid token"))
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}
