//! Caller-token flags: how `serve` verifies tokens and how `token issue`
//! mints them.

use std::{path::PathBuf, time::Duration};

use anyhow::{Context, bail};
use clap::Args;
use secrecy::SecretBox;

use super::serve::read;
use crate::{
    auth::{KeyMaterial, Tokens, scopes},
    config::{parse_duration, parse_duration_or_zero},
};

/// How callers' tokens are verified.
#[derive(Args)]
pub struct AuthArgs {
    /// Shared HS256 secret (at least 32 bytes) verifying callers' tokens; also
    /// what `panelgate token issue` signs with. Prefer the file: flags show in `ps`.
    #[arg(long, env = "PANELGATE_AUTH_HS256_SECRET", hide_env_values = true)]
    pub auth_hs256_secret: Option<String>,
    /// File holding the HS256 secret.
    #[arg(long, env = "PANELGATE_AUTH_HS256_SECRET_FILE")]
    pub auth_hs256_secret_file: Option<PathBuf>,
    /// PEM public key verifying callers' tokens: RSA (RS256) or EC P-256 (ES256),
    /// for tokens minted by your identity provider.
    #[arg(long, env = "PANELGATE_AUTH_PUBLIC_KEY_FILE")]
    pub auth_public_key_file: Option<PathBuf>,
    /// The `iss` tokens must carry.
    #[arg(long, env = "PANELGATE_AUTH_ISSUER", default_value = "panelgate")]
    pub auth_issuer: String,
    /// The `aud` tokens must carry.
    #[arg(long, env = "PANELGATE_AUTH_AUDIENCE", default_value = "panelgate")]
    pub auth_audience: String,
    /// Clock skew tolerated on `exp` and `nbf` (at most 5m).
    #[arg(long, env = "PANELGATE_AUTH_LEEWAY", default_value = "60s", value_parser = parse_duration_or_zero)]
    pub auth_leeway: Duration,
}

impl AuthArgs {
    /// The verifier these flags describe; None when no key is given.
    pub fn tokens(&self) -> anyhow::Result<Option<Tokens>> {
        let key = match (
            &self.auth_hs256_secret,
            &self.auth_hs256_secret_file,
            &self.auth_public_key_file,
        ) {
            (None, None, None) => return Ok(None),
            (Some(secret), None, None) => hs256(secret.as_bytes().to_vec()),
            (None, Some(path), None) => hs256(read(path, "HS256 secret")?),
            (None, None, Some(path)) => KeyMaterial::PublicKeyPem(read(path, "public key")?),
            _ => bail!(
                "give one token key: PANELGATE_AUTH_HS256_SECRET, --auth-hs256-secret-file or --auth-public-key-file"
            ),
        };
        let tokens = Tokens::new(
            key,
            &self.auth_issuer,
            &self.auth_audience,
            self.auth_leeway,
        )
        .context("invalid caller authentication settings")?;
        Ok(Some(tokens))
    }
}

/// An HS256 key from secret bytes; surrounding whitespace (a file's trailing
/// newline) is not part of it.
fn hs256(bytes: Vec<u8>) -> KeyMaterial {
    let text = secrecy::zeroize::Zeroizing::new(bytes);
    let trimmed = text.trim_ascii().to_vec().into_boxed_slice();
    KeyMaterial::Hs256(SecretBox::new(trimmed))
}

/// Flags of `token issue`.
#[derive(Args)]
pub struct IssueArgs {
    /// Who the token speaks for (its `sub`, recorded in the operation journal).
    #[arg(long)]
    pub sub: String,
    /// A scope to grant; repeat the flag or separate with commas.
    #[arg(long = "scope", value_delimiter = ',', required = true)]
    pub scopes: Vec<String>,
    /// Limit the token to servers of this inventory group; repeatable.
    #[arg(long = "group", value_delimiter = ',')]
    pub groups: Vec<String>,
    /// How long the token is valid.
    #[arg(long, default_value = "1h", value_parser = parse_duration)]
    pub ttl: Duration,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub auth: AuthArgs,
}

impl IssueArgs {
    /// Mints the token these flags describe.
    pub fn issue(&self) -> anyhow::Result<String> {
        if self.sub.trim().is_empty() {
            bail!("--sub must name the caller");
        }
        if let Some(unknown) = self
            .scopes
            .iter()
            .find(|scope| !scopes::ALL.contains(&scope.as_str()))
        {
            bail!(
                "unknown scope `{unknown}`; the scopes are: {}",
                scopes::ALL.join(", ")
            );
        }
        let tokens = self.auth.tokens()?.context(
            "tokens are signed with the HS256 secret: set PANELGATE_AUTH_HS256_SECRET or --auth-hs256-secret-file",
        )?;
        Ok(tokens.issue(&self.sub, &self.scopes, &self.groups, self.ttl)?)
    }
}
