//! Panel login sessions (OpenAdmin's JWTs), cached per server in moka.
//!
//! A token is kept as long as the token itself says — its `exp`, read without
//! verification (it is the panel's token, not ours) — minus a margin. Concurrent
//! callers on a cold cache share one login; a failed login is not cached; a
//! token the panel refuses is dropped so the next call logs in again. The cache
//! lives beside the adapters (which are rebuilt whenever a server's record
//! changes), so tokens survive those rebuilds.

use std::{
    future::Future,
    sync::Arc,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use moka::{Expiry, future::Cache, ops::compute::Op};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::{Result, metrics::PanelMetrics};

/// Longest a token is trusted before its `exp` (less for short-lived tokens).
const MAX_MARGIN: Duration = Duration::from_secs(30);
/// How long a token without a readable `exp` is kept.
const UNKNOWN_LIFETIME: Duration = Duration::from_secs(60);

/// A token a panel issued, and how long panelgate may use it.
pub struct Session {
    token: SecretString,
    lifetime: Duration,
}

impl Session {
    /// A session for `token`, its lifetime read from the token's own claims.
    pub fn from_jwt(token: String) -> Self {
        let lifetime = jwt_lifetime(&token, SystemTime::now()).unwrap_or(UNKNOWN_LIFETIME);
        Session {
            token: token.into(),
            lifetime,
        }
    }

    /// The token, for an `Authorization` header.
    pub fn token(&self) -> &str {
        self.token.expose_secret()
    }

    /// How long panelgate uses the token.
    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }
}

#[derive(Deserialize)]
struct Claims {
    exp: Option<u64>,
    iat: Option<u64>,
}

/// What is left of a JWT's life at `now`, less a margin of a tenth of its whole
/// life (at most 30 s). None when the token has no readable `exp`.
fn jwt_lifetime(token: &str, now: SystemTime) -> Option<Duration> {
    let claims: Claims = jsonwebtoken::dangerous::insecure_decode_claims(token).ok()?;
    let exp = claims.exp?;
    let now = now.duration_since(UNIX_EPOCH).ok()?.as_secs();
    let whole = exp.saturating_sub(claims.iat.unwrap_or(now));
    let margin = Duration::from_secs(whole / 10).min(MAX_MARGIN);
    Some(Duration::from_secs(exp.saturating_sub(now)).saturating_sub(margin))
}

/// Keeps each session for its own lifetime.
struct SessionExpiry;

impl Expiry<String, Arc<Session>> for SessionExpiry {
    fn expire_after_create(
        &self,
        _server: &String,
        session: &Arc<Session>,
        _now: Instant,
    ) -> Option<Duration> {
        Some(session.lifetime)
    }
}

/// The sessions of every server, keyed by server id. Cheap to clone.
#[derive(Clone)]
pub struct Sessions {
    cache: Cache<String, Arc<Session>>,
    metrics: PanelMetrics,
}

impl Sessions {
    /// An empty cache, counting lookups and logins in `metrics`.
    pub fn new(metrics: PanelMetrics) -> Self {
        Sessions {
            cache: Cache::builder()
                .max_capacity(100_000)
                .expire_after(SessionExpiry)
                .build(),
            metrics,
        }
    }

    /// The server's cached session, or the one `login` yields; concurrent
    /// callers share one login, and a failed one is not kept.
    pub async fn get(
        &self,
        server: &str,
        login: impl Future<Output = Result<Session>>,
    ) -> Result<Arc<Session>> {
        let login = || async {
            let session = login.await;
            self.metrics.login(server, session.is_ok());
            session.map(Arc::new)
        };
        self.metrics
            .cached("jwt", &self.cache, server.to_owned(), login)
            .await
            .map_err(Arc::unwrap_or_clone)
    }

    /// Drops `stale` (the panel refused it) unless another caller already
    /// replaced it, so a burst of refusals leads to one new login, not many.
    pub async fn discard(&self, server: &str, stale: &Arc<Session>) {
        self.cache
            .entry(server.to_owned())
            .and_compute_with(|current| async move {
                match current {
                    Some(entry) if Arc::ptr_eq(entry.value(), stale) => Op::Remove,
                    _ => Op::Nop,
                }
            })
            .await;
    }

    /// Drops whatever session a server has (its record changed).
    pub async fn forget(&self, server: &str) {
        self.cache.invalidate(server).await;
    }

    /// Drops every server's session (records may have changed unseen).
    pub fn forget_all(&self) {
        self.cache.invalidate_all();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

    use super::*;
    use crate::AdapterError;

    fn jwt(claims: &str) -> String {
        format!(
            "{}.{}.signature",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#),
            URL_SAFE_NO_PAD.encode(claims)
        )
    }

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn lifetime_is_what_is_left_less_a_margin() {
        // A 15-minute token, just issued: 900 s less 30 s.
        let token = jwt(r#"{"iat":1000,"exp":1900,"sub":"api"}"#);
        assert_eq!(
            jwt_lifetime(&token, at(1000)),
            Some(Duration::from_secs(870))
        );
        // Ten minutes later.
        assert_eq!(
            jwt_lifetime(&token, at(1600)),
            Some(Duration::from_secs(270))
        );
        // A 10-second test token keeps a margin of a tenth.
        let short = jwt(r#"{"iat":1000,"exp":1010}"#);
        assert_eq!(jwt_lifetime(&short, at(1000)), Some(Duration::from_secs(9)));
        // Expired: nothing left.
        assert_eq!(jwt_lifetime(&token, at(5000)), Some(Duration::ZERO));
    }

    #[test]
    fn tokens_without_exp_are_unknown() {
        assert_eq!(jwt_lifetime(&jwt(r#"{"sub":"api"}"#), at(1000)), None);
        assert_eq!(jwt_lifetime("not a jwt", at(1000)), None);
        assert_eq!(
            Session::from_jwt("opaque".into()).lifetime(),
            UNKNOWN_LIFETIME
        );
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_login_and_failures_are_not_kept() {
        let sessions = Sessions::new(PanelMetrics::default());
        let logins = Arc::new(AtomicU32::new(0));
        let login = || {
            let logins = logins.clone();
            async move {
                logins.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
                Ok(Session::from_jwt("opaque".into()))
            }
        };
        let calls = (0..50).map(|_| sessions.get("s1", login()));
        for session in futures::future::join_all(calls).await {
            assert_eq!(session.unwrap().token(), "opaque");
        }
        assert_eq!(logins.load(Ordering::SeqCst), 1);

        let failed = sessions
            .get("s2", async {
                Err(AdapterError::CredentialsRejected { upstream: None })
            })
            .await;
        assert!(failed.is_err());
        let retried = sessions.get("s2", login()).await;
        assert!(retried.is_ok(), "a failed login is not cached");
    }

    #[tokio::test]
    async fn discard_only_drops_the_stale_session() {
        let sessions = Sessions::new(PanelMetrics::default());
        // The session of "s1", logging in with `token` when there is none.
        let session = async |token: &str| {
            let login = async { Ok(Session::from_jwt(token.into())) };
            sessions.get("s1", login).await.unwrap()
        };
        let first = session("one").await;
        sessions.discard("s1", &first).await;
        let second = session("two").await;
        assert_eq!(second.token(), "two");
        // A late refusal of the first token leaves the second in place.
        sessions.discard("s1", &first).await;
        let still = session("three").await;
        assert_eq!(still.token(), "two");
    }
}
