//! Shared HTTP plumbing for every adapter: one client (and connection pool)
//! per distinct TLS setting, shared by every server that has it, timeouts,
//! request paths ([`UrlPath`]), bounded reply bodies, and the one
//! classification of replies by their status line ([`reply`]) and of
//! transport failures (timeout, refused, dropped). Redirects are never
//! followed. Panel code only builds requests and reads the 2xx and 4xx
//! replies let through.
//!
//! [`HttpClient::send_raw`] writes one HTTP/1.1 request by hand (see [`raw`]).

mod outbound;
mod path;
mod raw;
mod reply;

use std::{sync::Arc, time::Duration};

use panelgate_proto::v1::ErrorReason;
use reqwest::{RequestBuilder, Url, redirect};
use rustls::ClientConfig;
use tower::ServiceExt;

use self::outbound::{Exchange, Outbound, Peer, Request, Stack};
pub use self::{
    outbound::{
        BreakerSettings, CREDENTIALS_BACKOFF, CallScope, Class, Guard, Guards, Health, HealthState,
        Resilience, RetrySettings, Timeouts,
    },
    path::UrlPath,
    reply::{Reply, excerpt},
};
pub use crate::tls::TlsOptions;
use crate::{
    AdapterError, Result,
    metrics::{PanelMetrics, ServerLabels},
    tls,
};

/// Distinct TLS settings whose clients are cached (servers of the same
/// setting share one): fleets have a handful (default, self-signed, a few
/// private CAs). Beyond this many, an evicted setting's client is built
/// again for the next adapter, and adapters built earlier keep theirs.
const TLS_SETTINGS: u64 = 64;

/// Idle connections kept per panel host, and for how long: enough for the
/// bulkhead's bursts to reuse, bounded so a large fleet does not hold a
/// socket per server for long.
const IDLE_PER_HOST: usize = 8;
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// The process-wide HTTP transport: one client per distinct TLS setting,
/// how calls to each server are protected, each server's guard, and the
/// metrics every call records.
#[derive(Clone, Debug)]
pub struct Transport {
    clients: moka::sync::Cache<TlsOptions, Client>,
    resilience: Resilience,
    guards: Arc<Guards>,
    metrics: PanelMetrics,
}

/// The client of one TLS setting, and that setting's rustls configuration
/// (for the raw HTTP/1.1 path).
#[derive(Clone, Debug)]
struct Client {
    http: reqwest::Client,
    tls: Arc<ClientConfig>,
}

impl Transport {
    /// Builds the client of the default TLS setting.
    pub fn new(resilience: Resilience, metrics: PanelMetrics) -> Result<Self> {
        let transport = Transport {
            clients: moka::sync::Cache::new(TLS_SETTINGS),
            resilience,
            guards: Arc::new(Guards::new(resilience, metrics.clone())),
            metrics,
        };
        transport.shared(&TlsOptions::default())?;
        Ok(transport)
    }

    /// The client every server with TLS setting `options` shares.
    fn shared(&self, options: &TlsOptions) -> Result<Client> {
        // Without verification, a CA changes nothing.
        let key = if options.insecure_skip_verify {
            TlsOptions {
                ca_pem: None,
                insecure_skip_verify: true,
            }
        } else {
            options.clone()
        };
        self.clients
            .try_get_with(key, || {
                let tls = tls::client_config(options)?;
                let http = reqwest_client(self.resilience.timeouts, &tls)?;
                Ok(Client { http, tls })
            })
            .map_err(Arc::unwrap_or_clone)
    }

    /// Every server's guard (health, circuit, credentials backoff).
    pub fn guards(&self) -> &Guards {
        &self.guards
    }

    /// Checks that a panel at `base_url` with these TLS settings can be
    /// reached by a client (the URL's shape, the CA's PEM), without calling it.
    pub fn check(base_url: &str, options: &TlsOptions) -> Result<()> {
        parse_base_url(base_url)?;
        // The default settings are the shared client's, built at start.
        if *options != TlsOptions::default() {
            tls::client_config(options)?;
        }
        Ok(())
    }

    /// The client for one panel server: its TLS setting's shared client,
    /// behind the server's own outbound stack.
    pub fn client(
        &self,
        server: ServerLabels,
        base_url: &str,
        options: &TlsOptions,
    ) -> Result<HttpClient> {
        let base_url = parse_base_url(base_url)?;
        let Client { http: client, tls } = self.shared(options)?;
        let guard = self.guards.of(&server.server_id);
        let exchange = Exchange::new(Peer {
            client: client.clone(),
            tls,
            connect_timeout: self.resilience.timeouts.connect,
            server,
            metrics: self.metrics.clone(),
        });
        Ok(HttpClient {
            client,
            stack: outbound::stack(guard, exchange),
            base_url,
        })
    }
}

/// A reqwest client: attempts are bounded by the outbound stack, which
/// reads the body too; connecting is bounded here.
fn reqwest_client(timeouts: Timeouts, tls: &ClientConfig) -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(timeouts.connect)
        .pool_max_idle_per_host(IDLE_PER_HOST)
        .pool_idle_timeout(IDLE_TIMEOUT)
        .user_agent(USER_AGENT)
        // A redirect would carry the panel's credentials to another host.
        .redirect(redirect::Policy::none())
        .tls_backend_preconfigured(tls.clone())
        .build()
        .map_err(|err| AdapterError::Misconfigured(format!("cannot build HTTP client: {err}")))
}

const USER_AGENT: &str = concat!("panelgate/", env!("CARGO_PKG_VERSION"));

/// Longest base URL accepted.
const MAX_BASE_URL: usize = 2048;

/// A panel's base URL: http or https with a host, and no user info, query or
/// fragment (credentials belong in the sealed credentials, never in a URL that
/// is stored and shown in clear).
fn parse_base_url(base_url: &str) -> Result<Url> {
    let refuse = |why: &str| AdapterError::Misconfigured(format!("base_url {why}"));
    if base_url.len() > MAX_BASE_URL {
        return Err(refuse(&format!("is longer than {MAX_BASE_URL} characters")));
    }
    let mut url =
        Url::parse(base_url.trim()).map_err(|err| refuse(&format!("is not a URL: {err}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(refuse("must be an http or https URL with a host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refuse(
            "must not carry credentials: set them as the server's credentials",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(refuse("must not have a query or fragment"));
    }
    // Joining relative paths keeps a base path only when it ends with '/'.
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// The HTTP side of one panel: its base URL, its client (which builds the
/// requests) and its outbound stack (which sends them).
#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    stack: Stack,
    base_url: Url,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("base_url", &self.base_url.as_str())
            .finish_non_exhaustive()
    }
}

impl HttpClient {
    /// Starts a request to `path`, under the base URL.
    pub fn request(&self, method: reqwest::Method, path: impl Into<UrlPath>) -> RequestBuilder {
        self.client
            .request(method, path.into().under(&self.base_url))
    }

    /// The base URL, for building links the panel does not give.
    pub fn base_url(&self) -> &Url {
        &self.base_url
    }

    /// Sends a request through the stack and reads the whole (bounded)
    /// reply, judged by its status line first (see [`reply`]): only 2xx and
    /// 4xx replies come back.
    pub async fn send(&self, request: RequestBuilder) -> Result<Reply> {
        self.send_reading(request, |_| None).await
    }

    /// [`HttpClient::send`], for panels that document refusals sent with a
    /// 5xx: `refusal` reads such a reply (see [`Reply`]'s checks).
    pub async fn send_reading(
        &self,
        request: RequestBuilder,
        refusal: impl FnOnce(&Reply) -> Option<AdapterError>,
    ) -> Result<Reply> {
        let request = request.build().map_err(|err| {
            AdapterError::Misconfigured(format!("cannot build the request: {}", root_cause(&err)))
        })?;
        self.through_stack(Request::Http(request))
            .await?
            .checked(refusal)
    }

    /// Sends `method path HTTP/1.1` exactly as given (origin form, no body) on
    /// a fresh connection, with `headers`, and judges the reply as
    /// [`HttpClient::send`] does.
    pub async fn send_raw(
        &self,
        method: &str,
        path: &UrlPath,
        headers: &[(&str, &str)],
    ) -> Result<Reply> {
        let url = path.under(&self.base_url);
        let head = raw::head(method, &url, headers)?;
        self.through_stack(Request::Raw { url, head })
            .await?
            .checked(|_| None)
    }

    async fn through_stack(&self, request: Request) -> Result<Reply> {
        self.stack.clone().oneshot(Outbound::new(request)).await
    }
}

/// A reqwest failure, as the adapters' error: an untrusted certificate, no
/// connection made (refused, or no answer within the connect timeout: the
/// only timeout reqwest has here), or the line dropped.
pub(crate) fn transport_error(err: &reqwest::Error, connect_timeout: Duration) -> AdapterError {
    if let Some(untrusted) = untrusted_certificate(err) {
        return untrusted;
    }
    if err.is_timeout() {
        return AdapterError::Unreachable {
            message: format!("cannot connect: no answer within {connect_timeout:?}"),
        };
    }
    if err.is_connect() {
        return AdapterError::Unreachable {
            message: format!("cannot connect: {}", root_cause(err)),
        };
    }
    let what = if err.is_body() || err.is_decode() {
        "connection lost while reading the reply"
    } else {
        "request failed"
    };
    AdapterError::Unavailable {
        message: format!("{what}: {}", root_cause(err)),
    }
}

/// A refused panel certificate, found among an error's causes: a setting to
/// fix, not a failure a retry would cure.
fn untrusted_certificate(err: &(dyn std::error::Error + 'static)) -> Option<AdapterError> {
    let Some(rustls::Error::InvalidCertificate(problem)) = rustls_cause(err) else {
        return None;
    };
    Some(AdapterError::FailedPrecondition {
        reason: ErrorReason::UpstreamTlsUntrusted,
        message: format!(
            "the panel's TLS certificate is not trusted ({problem:?}): set the server's \
             tls.ca_pem to the panel's CA, or tls.insecure_skip_verify"
        ),
        upstream: None,
    })
}

/// The rustls error among an error's causes. `io::Error::source` skips the
/// error it wraps, so wrapped errors are unwrapped by hand.
fn rustls_cause<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut cause = Some(err);
    while let Some(current) = cause {
        if let Some(found) = current.downcast_ref::<rustls::Error>() {
            return Some(found);
        }
        cause = match current.downcast_ref::<std::io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|inner| inner as &(dyn std::error::Error + 'static)),
            None => current.source(),
        };
    }
    None
}

/// The innermost cause of an error chain: "connection refused" rather than
/// reqwest's "error sending request for url (...)".
fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = err;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_gains_a_trailing_slash_so_paths_join_under_it() {
        let url = parse_base_url("https://panel.example:6844/prefix").unwrap();
        assert_eq!(
            UrlPath::route("admin_api/").under(&url).as_str(),
            "https://panel.example:6844/prefix/admin_api/"
        );
    }

    #[test]
    fn base_url_must_be_http() {
        assert!(matches!(
            parse_base_url("ftp://x"),
            Err(AdapterError::Misconfigured(_))
        ));
        assert!(matches!(
            parse_base_url("not a url"),
            Err(AdapterError::Misconfigured(_))
        ));
    }
}
