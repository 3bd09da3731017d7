//! Caller tokens: JWTs verified with jsonwebtoken — HS256 with a shared
//! secret, or RS256/ES256 with a public key — with issuer, audience and expiry
//! checked and the clock skew bounded. The algorithm is fixed by the key:
//! `alg: none` or any other algorithm is refused. A verified token is
//! remembered for a while (its expiry still checked on every call), so a
//! caller's next calls cost a lookup, not a signature check.

use std::{
    collections::BTreeSet,
    fmt,
    sync::{Arc, LazyLock},
    time::Duration,
};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretBox};
use serde::{Deserialize, Serialize};

/// Longest clock skew tolerated.
pub const MAX_LEEWAY: Duration = Duration::from_secs(300);

/// Who is calling: the token's subject, its scopes, and the inventory groups it
/// is limited to (None: every group).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The token's `sub`.
    pub subject: String,
    /// The token's scopes.
    pub scopes: BTreeSet<String>,
    /// The `groups` claim, when the token has one.
    pub groups: Option<BTreeSet<String>>,
}

impl Caller {
    /// The caller when authentication is off: everything allowed.
    pub fn unauthenticated() -> Arc<Self> {
        static ANONYMOUS: LazyLock<Arc<Caller>> = LazyLock::new(|| {
            Arc::new(Caller {
                subject: "anonymous".to_owned(),
                scopes: super::scopes::ALL
                    .iter()
                    .map(|scope| (*scope).to_owned())
                    .collect(),
                groups: None,
            })
        });
        ANONYMOUS.clone()
    }

    /// The caller the authentication layer put on `request`; None when no
    /// layer did (the call is then refused, never let through).
    pub fn of<T>(request: &tonic::Request<T>) -> Option<Arc<Self>> {
        request.extensions().get::<Arc<Caller>>().cloned()
    }

    /// Whether the caller may use servers of inventory group `group`.
    pub fn may_use_group(&self, group: &str) -> bool {
        self.groups
            .as_ref()
            .is_none_or(|groups| groups.contains(group))
    }
}

/// The claims panelgate writes.
#[derive(Debug, Serialize)]
struct Claims {
    sub: String,
    iss: String,
    aud: String,
    exp: u64,
    iat: u64,
    /// Space-separated scopes (OAuth 2.0 style).
    #[serde(default)]
    scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    groups: Option<Vec<String>>,
}

/// What [`Tokens::verify`] reads of a token. jsonwebtoken checks `exp`, `nbf`,
/// `iss` and `aud` itself, in every shape RFC 7519 allows (an `aud` array, no
/// `iat`), so they are not read again here.
#[derive(Debug, Deserialize)]
struct Presented {
    sub: String,
    /// Space-separated scopes (OAuth 2.0 style).
    #[serde(default)]
    scope: String,
    #[serde(default)]
    groups: Option<Vec<String>>,
    exp: u64,
}

/// How tokens are verified.
pub enum KeyMaterial {
    /// A shared HS256 secret (also lets `panelgate token issue` mint tokens).
    Hs256(SecretBox<[u8]>),
    /// An RS256 or ES256 public key, in PEM.
    PublicKeyPem(Vec<u8>),
}

/// Tokens remembered as verified at most (a fleet's callers are a few
/// services, each with a token at a time).
const VERIFIED_TOKENS: u64 = 1_000;
/// How long a verified token is remembered (its `exp` is checked on every call).
const VERIFIED_FOR: Duration = Duration::from_secs(300);

/// Verifies (and, with an HS256 secret, issues) caller tokens.
pub struct Tokens {
    decoding: DecodingKey,
    encoding: Option<EncodingKey>,
    algorithm: Algorithm,
    issuer: String,
    audience: String,
    leeway: Duration,
    validation: Validation,
    verified: moka::sync::Cache<String, Verified>,
}

/// A token that verified: its caller, and when it expires (`exp`).
#[derive(Clone)]
struct Verified {
    caller: Arc<Caller>,
    expires: u64,
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokens")
            .field("algorithm", &self.algorithm)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("leeway", &self.leeway)
            .finish_non_exhaustive()
    }
}

/// Why a token was refused (never echoes the token).
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// No usable key.
    #[error("{0}")]
    Key(String),
    /// The token is missing, malformed, expired, or not ours.
    #[error("{0}")]
    Invalid(String),
}

impl Tokens {
    /// Tokens of `issuer` for `audience`, checked with `key`.
    pub fn new(
        key: KeyMaterial,
        issuer: &str,
        audience: &str,
        leeway: Duration,
    ) -> Result<Self, TokenError> {
        if issuer.is_empty() || audience.is_empty() {
            return Err(TokenError::Key(
                "an issuer and an audience are required".into(),
            ));
        }
        if leeway > MAX_LEEWAY {
            return Err(TokenError::Key(format!(
                "the clock skew allowed is at most {MAX_LEEWAY:?}"
            )));
        }
        let (decoding, encoding, algorithm) = match key {
            KeyMaterial::Hs256(secret) => {
                if secret.expose_secret().len() < 32 {
                    return Err(TokenError::Key(
                        "the HS256 secret must be at least 32 bytes".into(),
                    ));
                }
                let secret = secret.expose_secret();
                (
                    DecodingKey::from_secret(secret),
                    Some(EncodingKey::from_secret(secret)),
                    Algorithm::HS256,
                )
            }
            KeyMaterial::PublicKeyPem(pem) => {
                if let Ok(key) = DecodingKey::from_rsa_pem(&pem) {
                    (key, None, Algorithm::RS256)
                } else if let Ok(key) = DecodingKey::from_ec_pem(&pem) {
                    (key, None, Algorithm::ES256)
                } else {
                    return Err(TokenError::Key(
                        "the public key is not an RSA or EC (P-256) PEM".into(),
                    ));
                }
            }
        };
        let mut validation = Validation::new(algorithm);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.leeway = leeway.as_secs();
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        Ok(Tokens {
            decoding,
            encoding,
            algorithm,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            leeway,
            validation,
            verified: moka::sync::Cache::builder()
                .max_capacity(VERIFIED_TOKENS)
                .time_to_live(VERIFIED_FOR)
                .build(),
        })
    }

    /// The caller a bearer token speaks for.
    pub fn verify(&self, token: &str) -> Result<Arc<Caller>, TokenError> {
        let now = jsonwebtoken::get_current_timestamp();
        if let Some(verified) = self.verified.get(token) {
            if now <= verified.expires.saturating_add(self.leeway.as_secs()) {
                return Ok(verified.caller);
            }
            self.verified.invalidate(token);
        }
        let data = jsonwebtoken::decode::<Presented>(token, &self.decoding, &self.validation)
            .map_err(|err| TokenError::Invalid(describe(&err)))?;
        let claims = data.claims;
        let caller = Arc::new(Caller {
            subject: claims.sub,
            scopes: claims.scope.split_whitespace().map(str::to_owned).collect(),
            groups: claims.groups.map(|groups| groups.into_iter().collect()),
        });
        let verified = Verified {
            caller: caller.clone(),
            expires: claims.exp,
        };
        self.verified.insert(token.to_owned(), verified);
        Ok(caller)
    }

    /// Mints a token (HS256 only) for `subject` with `scopes`, limited to
    /// `groups` when given, valid for `ttl`.
    pub fn issue(
        &self,
        subject: &str,
        scopes: &[String],
        groups: &[String],
        ttl: Duration,
    ) -> Result<String, TokenError> {
        let encoding = self.encoding.as_ref().ok_or_else(|| {
            TokenError::Key("tokens can be issued with an HS256 secret only".into())
        })?;
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            sub: subject.to_owned(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            iat: now,
            exp: now.saturating_add(ttl.as_secs()),
            scope: scopes.join(" "),
            groups: (!groups.is_empty()).then(|| groups.to_vec()),
        };
        jsonwebtoken::encode(&Header::new(self.algorithm), &claims, encoding)
            .map_err(|err| TokenError::Key(format!("cannot sign the token: {err}")))
    }
}

/// A short, token-free reason.
fn describe(err: &jsonwebtoken::errors::Error) -> String {
    use jsonwebtoken::errors::ErrorKind;
    match err.kind() {
        ErrorKind::ExpiredSignature => "the token has expired".into(),
        ErrorKind::ImmatureSignature => "the token is not valid yet".into(),
        ErrorKind::InvalidSignature => "the token's signature does not verify".into(),
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
            "the token's algorithm is not the one configured".into()
        }
        ErrorKind::InvalidIssuer => "the token's issuer is not the one configured".into(),
        ErrorKind::InvalidAudience => "the token's audience is not the one configured".into(),
        ErrorKind::MissingRequiredClaim(claim) => format!("the token has no `{claim}` claim"),
        _ => "the token is malformed".into(),
    }
}

#[cfg(test)]
mod tests {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

    use super::*;

    fn tokens() -> Tokens {
        tokens_with_leeway(Duration::from_secs(5))
    }

    fn tokens_with_leeway(leeway: Duration) -> Tokens {
        let secret: SecretBox<[u8]> = SecretBox::new(
            b"0123456789abcdef0123456789abcdef"
                .to_vec()
                .into_boxed_slice(),
        );
        Tokens::new(
            KeyMaterial::Hs256(secret),
            "panelgate",
            "panelgate-api",
            leeway,
        )
        .unwrap()
    }

    #[test]
    fn issued_tokens_verify_with_scopes_and_groups() {
        let tokens = tokens();
        let token = tokens
            .issue(
                "billing",
                &["hosting:read".into(), "hosting:write".into()],
                &["eu".into()],
                Duration::from_secs(60),
            )
            .unwrap();
        let caller = tokens.verify(&token).unwrap();
        assert_eq!(caller.subject, "billing");
        assert!(caller.scopes.contains("hosting:write"));
        assert!(caller.may_use_group("eu") && !caller.may_use_group("us"));
    }

    #[test]
    fn a_remembered_token_still_expires() {
        let strict = tokens_with_leeway(Duration::ZERO);
        let token = strict
            .issue("billing", &[], &[], Duration::from_secs(1))
            .unwrap();
        let first = strict.verify(&token).unwrap();
        let again = strict.verify(&token).unwrap();
        assert!(Arc::ptr_eq(&first, &again), "the second call is a lookup");
        std::thread::sleep(Duration::from_millis(2100));
        assert!(
            matches!(strict.verify(&token), Err(TokenError::Invalid(reason)) if reason.contains("expired"))
        );
    }

    #[test]
    fn tampered_expired_and_foreign_tokens_are_refused() {
        let tokens = tokens();
        let token = tokens
            .issue("billing", &[], &[], Duration::from_secs(60))
            .unwrap();
        let mut tampered = token.clone();
        tampered.pop();
        tampered.push(if token.ends_with('A') { 'B' } else { 'A' });
        assert!(tokens.verify(&tampered).is_err());
        let expired = tokens.issue("billing", &[], &[], Duration::ZERO).unwrap();
        std::thread::sleep(Duration::from_millis(1100));
        let strict = tokens_with_leeway(Duration::ZERO);
        assert!(
            matches!(strict.verify(&expired), Err(TokenError::Invalid(reason)) if reason.contains("expired"))
        );
        let other_secret: SecretBox<[u8]> = SecretBox::new(
            b"another-secret-another-secret-xx"
                .to_vec()
                .into_boxed_slice(),
        );
        let other = Tokens::new(
            KeyMaterial::Hs256(other_secret),
            "panelgate",
            "panelgate-api",
            Duration::ZERO,
        )
        .unwrap();
        let foreign = other
            .issue("mallory", &[], &[], Duration::from_secs(60))
            .unwrap();
        assert!(strict.verify(&foreign).is_err());
    }

    #[test]
    fn alg_none_is_refused() {
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let claims = URL_SAFE_NO_PAD.encode(r#"{"sub":"mallory","iss":"panelgate","aud":"panelgate-api","exp":9999999999,"iat":0,"scope":"hosting:write"}"#);
        assert!(tokens().verify(&format!("{header}.{claims}.")).is_err());
    }

    #[test]
    fn another_algorithm_with_the_same_secret_is_refused() {
        let claims = Claims {
            sub: "mallory".into(),
            iss: "panelgate".into(),
            aud: "panelgate-api".into(),
            exp: jsonwebtoken::get_current_timestamp() + 60,
            iat: 0,
            scope: "hosting:write".into(),
            groups: None,
        };
        let key = EncodingKey::from_secret(b"0123456789abcdef0123456789abcdef");
        let hs512 = jsonwebtoken::encode(&Header::new(Algorithm::HS512), &claims, &key).unwrap();
        assert!(
            matches!(tokens().verify(&hs512), Err(TokenError::Invalid(reason)) if reason.contains("algorithm"))
        );
    }

    #[test]
    fn weak_or_missing_configuration_is_refused() {
        let short: SecretBox<[u8]> = SecretBox::new(b"short".to_vec().into_boxed_slice());
        assert!(Tokens::new(KeyMaterial::Hs256(short), "i", "a", Duration::ZERO).is_err());
        assert!(
            Tokens::new(
                KeyMaterial::PublicKeyPem(b"not a key".to_vec()),
                "i",
                "a",
                Duration::ZERO
            )
            .is_err()
        );
        let secret: SecretBox<[u8]> = SecretBox::new(vec![7u8; 32].into_boxed_slice());
        assert!(Tokens::new(KeyMaterial::Hs256(secret), "", "a", Duration::ZERO).is_err());
    }
}
