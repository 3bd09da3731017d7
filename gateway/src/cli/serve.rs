//! Flags of `serve` (and the database and master-key flags other commands
//! share), turned into a [`Config`].

use std::{net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use anyhow::{Context, bail};
use clap::{Args, builder::BoolishValueParser};
use panelgate_inventory::{Keyring, MasterKey};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
use secrecy::zeroize::Zeroizing;
use tonic::transport::{Certificate, Identity, ServerTlsConfig};

use super::{auth::AuthArgs, outbound::OutboundArgs};
use crate::{
    auth::Auth,
    caches,
    config::{Config, parse_duration, parse_duration_or_zero},
    placement::Strategy,
};

/// Where the inventory lives.
#[derive(Args)]
pub struct DatabaseArgs {
    /// `sqlite://path.db` (created on first start) or `postgres://user:pass@host/db`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://panelgate.db",
        hide_env_values = true
    )]
    pub database_url: String,
}

/// The master keys sealing panel credentials and stored replies.
#[derive(Args)]
pub struct KeyArgs {
    /// Master key (base64 of 32 bytes). Prefer the environment variable or
    /// --master-key-file: flags show in `ps`.
    #[arg(long, env = "PANELGATE_MASTER_KEY", hide_env_values = true)]
    pub master_key: Option<String>,
    /// File holding the master key (base64 of 32 bytes).
    #[arg(long, env = "PANELGATE_MASTER_KEY_FILE")]
    pub master_key_file: Option<PathBuf>,
    /// The key being retired by a rotation: still opens what it sealed until
    /// `panelgate rotate-key` has re-sealed everything.
    #[arg(long, env = "PANELGATE_PREVIOUS_MASTER_KEY", hide_env_values = true)]
    pub previous_master_key: Option<String>,
    /// File holding the key being retired.
    #[arg(long, env = "PANELGATE_PREVIOUS_MASTER_KEY_FILE")]
    pub previous_master_key_file: Option<PathBuf>,
}

impl KeyArgs {
    /// The keyring these flags describe; None when no master key is given.
    pub fn keyring(&self) -> anyhow::Result<Option<Keyring>> {
        let Some(primary) = read_key(
            "master key",
            self.master_key.as_deref(),
            self.master_key_file.as_ref(),
        )?
        else {
            if self.previous_master_key.is_some() || self.previous_master_key_file.is_some() {
                bail!("a previous master key is given without a master key");
            }
            return Ok(None);
        };
        let mut keyring = Keyring::new(primary);
        if let Some(previous) = read_key(
            "previous master key",
            self.previous_master_key.as_deref(),
            self.previous_master_key_file.as_ref(),
        )? {
            if previous.key_id() == keyring.primary.key_id() {
                bail!("the previous master key is the master key itself");
            }
            keyring = keyring.with_previous(previous);
        }
        Ok(Some(keyring))
    }
}

/// A key given inline or in a file (not both), if given at all.
fn read_key(
    what: &str,
    inline: Option<&str>,
    file: Option<&PathBuf>,
) -> anyhow::Result<Option<MasterKey>> {
    let text = match (inline, file) {
        (Some(_), Some(_)) => bail!("give the {what} inline or as a file, not both"),
        (Some(text), None) => Zeroizing::new(text.to_owned()),
        (None, Some(path)) => Zeroizing::new(
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the {what} file {}", path.display()))?,
        ),
        (None, None) => return Ok(None),
    };
    let key = MasterKey::from_base64(&text).with_context(|| format!("invalid {what}"))?;
    Ok(Some(key))
}

/// TLS of the gRPC listener.
#[derive(Args)]
pub struct TlsArgs {
    /// PEM certificate chain of the listener; with --tls-key-file, serves TLS.
    #[arg(long, env = "PANELGATE_TLS_CERT_FILE", requires = "tls_key_file")]
    pub tls_cert_file: Option<PathBuf>,
    /// PEM private key of the listener.
    #[arg(long, env = "PANELGATE_TLS_KEY_FILE", requires = "tls_cert_file")]
    pub tls_key_file: Option<PathBuf>,
    /// PEM CA certificates: callers must present a client certificate they
    /// signed (mutual TLS).
    #[arg(long, env = "PANELGATE_TLS_CLIENT_CA_FILE", requires = "tls_cert_file")]
    pub tls_client_ca_file: Option<PathBuf>,
}

impl TlsArgs {
    /// The listener's TLS configuration; None for plaintext. The files are
    /// checked here, so a bad one stops the start naming itself.
    pub fn config(&self) -> anyhow::Result<Option<ServerTlsConfig>> {
        let (Some(cert_file), Some(key_file)) = (&self.tls_cert_file, &self.tls_key_file) else {
            return Ok(None);
        };
        let cert = read_certificates(cert_file, "TLS certificate")?;
        let key = Zeroizing::new(read(key_file, "TLS private key")?);
        PrivateKeyDer::from_pem_slice(&key)
            .map_err(|_| anyhow::anyhow!("{} holds no PEM private key", key_file.display()))?;
        let mut config = ServerTlsConfig::new()
            .identity(Identity::from_pem(cert, &*key))
            .timeout(HANDSHAKE_TIMEOUT);
        if let Some(ca_file) = &self.tls_client_ca_file {
            let ca = read_certificates(ca_file, "client CA")?;
            config = config.client_ca_root(Certificate::from_pem(ca));
        }
        Ok(Some(config))
    }
}

/// Longest TLS handshake a client may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A PEM file holding at least one certificate.
fn read_certificates(path: &PathBuf, what: &str) -> anyhow::Result<Vec<u8>> {
    let pem = read(path, what)?;
    let certificates = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| anyhow::anyhow!("the {what} file {} is not valid PEM", path.display()))?;
    if certificates.is_empty() {
        bail!(
            "the {what} file {} holds no PEM certificate",
            path.display()
        );
    }
    Ok(pem)
}

/// The bytes of `path`, or an error naming it as the `what` file.
pub(super) fn read(path: &PathBuf, what: &str) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read the {what} file {}", path.display()))
}

/// Where to serve Prometheus metrics: an address, or none (`off`).
#[derive(Clone, Copy, Debug)]
pub struct MetricsListen(pub Option<SocketAddr>);

impl MetricsListen {
    /// Parses `ip:port` or `off`.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.trim().eq_ignore_ascii_case("off") {
            return Ok(MetricsListen(None));
        }
        text.trim()
            .parse()
            .map(|addr| MetricsListen(Some(addr)))
            .map_err(|_| format!("`{text}` is neither `ip:port` nor `off`"))
    }
}

/// Flags of `serve`.
#[derive(Args)]
pub struct ServeArgs {
    /// Address of the gRPC listener.
    #[arg(long, env = "PANELGATE_LISTEN", default_value = "127.0.0.1:50051")]
    pub listen: SocketAddr,
    /// Address of the Prometheus metrics listener (`/metrics`), or `off`.
    #[arg(long, env = "PANELGATE_METRICS_LISTEN", default_value = "127.0.0.1:9090", value_parser = MetricsListen::parse)]
    pub metrics_listen: MetricsListen,
    /// After SIGTERM, how long calls in flight may finish before they are cut
    /// off (keep it below Kubernetes' terminationGracePeriodSeconds).
    #[arg(long, env = "PANELGATE_SHUTDOWN_GRACE", default_value = "20s", value_parser = parse_duration)]
    pub shutdown_grace: Duration,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub keys: KeyArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub auth: AuthArgs,
    /// Serve without caller authentication: anyone who can reach the port can
    /// use every panel. Only for a listener no one else can reach.
    #[arg(long, env = "PANELGATE_AUTH_DISABLED", value_parser = BoolishValueParser::new(), default_value_t = false, num_args = 0..=1, default_missing_value = "true")]
    pub auth_disabled: bool,
    /// Serve reflection without a token (it lists the API, not data).
    #[arg(long, env = "PANELGATE_REFLECTION_PUBLIC", value_parser = BoolishValueParser::new(), default_value_t = false, num_args = 0..=1, default_missing_value = "true")]
    pub reflection_public: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub tls: TlsArgs,
    /// Do not apply pending migrations at start (env: true/false, 1/0, yes/no).
    #[arg(long, env = "PANELGATE_NO_MIGRATE", value_parser = BoolishValueParser::new(), default_value_t = false, num_args = 0..=1, default_missing_value = "true")]
    pub no_migrate: bool,
    /// How long a server's package list is cached.
    #[arg(long, env = "PANELGATE_PACKAGE_CACHE_TTL", default_value = "5m", value_parser = parse_duration)]
    pub package_cache_ttl: Duration,
    /// How long server records are cached: a backstop, since every replica
    /// hears of changes at once (PostgreSQL LISTEN/NOTIFY).
    #[arg(long, env = "PANELGATE_SERVER_CACHE_TTL", default_value = "30s", value_parser = parse_duration)]
    pub server_cache_ttl: Duration,
    /// Memory for the caches of server records, adapters and package lists,
    /// in MiB (the default holds 100,000 servers; a smaller fleet uses less).
    #[arg(long, env = "PANELGATE_CACHE_MEMORY_MIB", default_value_t = caches::DEFAULT_MEMORY_MIB, value_parser = clap::value_parser!(u64).range(8..=1_048_576))]
    pub cache_memory_mib: u64,
    /// How placements rank servers when a request names no strategy.
    #[arg(long, env = "PANELGATE_PLACEMENT_STRATEGY", value_enum, default_value_t = Strategy::LeastFull)]
    pub placement_strategy: Strategy,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub outbound: OutboundArgs,
    /// How often an applied sync of the whole fleet runs: the index takes
    /// in accounts made outside panelgate and marks those gone from their
    /// panel (0: never, the default). Each run's server reads are spread
    /// over most of the interval; one replica runs it.
    #[arg(long, env = "PANELGATE_SYNC_INTERVAL", default_value = "0", value_parser = parse_duration_or_zero)]
    pub sync_interval: Duration,
    /// The periodic sync also reads each account's usage (disk, bandwidth,
    /// inodes) into the index: one more panel call per account (env:
    /// true/false, 1/0, yes/no).
    #[arg(long, env = "PANELGATE_SYNC_USAGE", value_parser = BoolishValueParser::new(), default_value_t = false, num_args = 0..=1, default_missing_value = "true")]
    pub sync_usage: bool,
    /// How often health checks the inventory.
    #[arg(long, env = "PANELGATE_HEALTH_INTERVAL", default_value = "1s", value_parser = parse_duration)]
    pub health_interval: Duration,
    /// How long a mutation's `request_id` is remembered: a retry within it
    /// gets the first call's reply.
    #[arg(long, env = "PANELGATE_IDEMPOTENCY_RETENTION", default_value = "24h", value_parser = parse_duration)]
    pub idempotency_retention: Duration,
    /// How long the operation journal (audit) keeps an entry.
    #[arg(long, env = "PANELGATE_JOURNAL_RETENTION", default_value = "90d", value_parser = parse_duration)]
    pub journal_retention: Duration,
    /// How long an ended batch is kept, with its items' results.
    #[arg(long, env = "PANELGATE_BATCH_RETENTION", default_value = "30d", value_parser = parse_duration)]
    pub batch_retention: Duration,
}

impl ServeArgs {
    /// The configuration these flags describe.
    pub fn config(&self) -> anyhow::Result<Config> {
        let keyring = self.keys.keyring()?;
        let tls = self.tls.config()?;
        let auth = match (self.auth.tokens()?, self.auth_disabled) {
            (Some(_), true) => bail!("--auth-disabled contradicts the token key given"),
            (Some(tokens), false) => Some(Arc::new(Auth {
                tokens,
                reflection_public: self.reflection_public,
            })),
            (None, true) => None,
            (None, false) => bail!(
                "configure caller authentication (PANELGATE_AUTH_HS256_SECRET, \
                 --auth-hs256-secret-file or --auth-public-key-file), or pass \
                 --auth-disabled to serve without it"
            ),
        };
        if self.idempotency_retention > self.journal_retention {
            bail!("--idempotency-retention cannot be longer than --journal-retention");
        }
        Ok(Config {
            keyring,
            auth,
            tls,
            migrate_on_start: !self.no_migrate,
            package_cache_ttl: self.package_cache_ttl,
            server_cache_ttl: self.server_cache_ttl,
            cache_memory_mib: self.cache_memory_mib,
            placement_strategy: self.placement_strategy,
            outbound: self.outbound.resilience(),
            probe_interval: self.outbound.probe_interval,
            sync_interval: self.sync_interval,
            sync_usage: self.sync_usage,
            health_interval: self.health_interval,
            idempotency_retention: self.idempotency_retention,
            journal_retention: self.journal_retention,
            batch_retention: self.batch_retention,
            metrics_listen: self.metrics_listen.0,
            shutdown_grace: self.shutdown_grace,
            ..Config::new(&self.database.database_url)
        })
    }
}
