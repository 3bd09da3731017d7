//! TLS, both ways. The gRPC listener: TLS with a certificate from a private CA
//! (clients must trust that CA; plaintext is refused), and mutual TLS (a client
//! certificate from the configured client CA is required). Towards panels: a
//! simulator behind a TLS-terminating proxy with a private-CA or self-signed
//! certificate is refused by default (certificate verification on), reached
//! with the server's own `tls.ca_pem`, or with `tls.insecure_skip_verify`
//! (shown in GetServer and logged as a warning at registration). And `serve`
//! refuses unreadable or mismatched certificate files at start.
//!
//! - `listener`: the gRPC listener, with TLS and mutual TLS, and `serve`
//!   refusing unusable files;
//! - `panels`: TLS towards panels.

mod listener;
mod panels;

use std::time::Duration;

use panelgate::auth::scopes;
use panelgate_proto::v1::{
    ListServersRequest, ListServersResponse, inventory_service_client::InventoryServiceClient,
};
use panelgate_tests::{
    Gateway,
    gateway::{Bearer, TEST_CALLER},
    tls_proxy::{IssuedCert, TestCa},
};
use tonic::{
    Code, Status,
    service::interceptor::InterceptedService,
    transport::{Certificate, Channel, ClientTlsConfig, Identity, ServerTlsConfig},
};

/// The listener configuration serving `cert`, requiring client certificates
/// from `client_ca` when given.
fn listener_tls(cert: &IssuedCert, client_ca: Option<&TestCa>) -> ServerTlsConfig {
    let config = ServerTlsConfig::new().identity(Identity::from_pem(&cert.cert_pem, &cert.key_pem));
    match client_ca {
        Some(ca) => config.client_ca_root(Certificate::from_pem(ca.cert_pem())),
        None => config,
    }
}

/// A client trusting `ca` only, presenting `identity` when given.
fn client_tls(ca: &TestCa, identity: Option<&IssuedCert>) -> ClientTlsConfig {
    let config = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(ca.cert_pem()));
    match identity {
        Some(cert) => config.identity(Identity::from_pem(&cert.cert_pem, &cert.key_pem)),
        None => config,
    }
}

/// ListServers over a fresh connection to `url` (TLS when `tls` is given),
/// with an all-scope token of `gateway`: the outcome of the first call.
async fn list_servers(
    gateway: &Gateway,
    url: String,
    tls: Option<ClientTlsConfig>,
) -> Result<ListServersResponse, Status> {
    let mut endpoint = Channel::from_shared(url)
        .expect("gateway URL")
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(10));
    if let Some(tls) = tls {
        endpoint = endpoint.tls_config(tls).expect("client TLS configuration");
    }
    let token = gateway.token(TEST_CALLER, scopes::ALL, &[]);
    let channel = InterceptedService::new(
        endpoint.connect_lazy(),
        Bearer::new(&token).expect("a token is ASCII"),
    );
    InventoryServiceClient::new(channel)
        .list_servers(ListServersRequest::default())
        .await
        .map(tonic::Response::into_inner)
}

/// A status with its whole chain of causes, for messages about transport
/// failures (tonic keeps the TLS error in the source chain).
fn with_causes(status: &Status) -> String {
    let mut text = format!("{status:?}");
    let mut cause: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(status);
    while let Some(err) = cause {
        text.push_str(" <- ");
        text.push_str(&err.to_string());
        cause = err.source();
    }
    text
}

/// Asserts the call failed before reaching the gateway's services: a
/// transport failure, not an answer of panelgate. Which code the client
/// reports depends on when the connection broke: UNAVAILABLE (handshake
/// refused), CANCELLED (with TLS 1.3 the server rejects a client certificate
/// after the client finished its side), INTERNAL (a plaintext client reading
/// a TLS alert as HTTP/2) or UNKNOWN.
#[track_caller]
fn assert_transport_failure<T: std::fmt::Debug>(result: Result<T, Status>, what: &str) -> String {
    let status = match result {
        Ok(reply) => panic!("{what}: expected a failed connection, got {reply:?}"),
        Err(status) => status,
    };
    assert!(
        matches!(
            status.code(),
            Code::Unavailable | Code::Unknown | Code::Internal | Code::Cancelled
        ),
        "{what}: {}",
        with_causes(&status)
    );
    assert!(
        tonic_types::StatusExt::get_details_error_info(&status).is_none(),
        "{what}: a panelgate error means the call got through: {status:?}"
    );
    with_causes(&status)
}
