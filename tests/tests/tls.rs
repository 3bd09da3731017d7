//! TLS, both ways. The gRPC listener: TLS with a certificate from a private CA
//! (clients must trust that CA; plaintext is refused), and mutual TLS (a client
//! certificate from the configured client CA is required). Towards panels: a
//! simulator behind a TLS-terminating proxy with a private-CA or self-signed
//! certificate is refused by default (certificate verification on), reached
//! with the server's own `tls.ca_pem`, or with `tls.insecure_skip_verify`
//! (shown in GetServer and logged as a warning at registration). And `serve`
//! refuses unreadable or mismatched certificate files at start.

use std::time::Duration;

use clap::Parser;
use panelgate::{
    auth::scopes,
    cli::{Cli, run},
};
use panelgate_proto::v1::{
    CheckServerRequest, CheckServerResponse, GetServerRequest, ListPackagesRequest,
    ListServersRequest, ListServersResponse, RegisterServerRequest, Server, TlsSettings,
    inventory_service_client::InventoryServiceClient, package_service_client::PackageServiceClient,
};
use panelgate_tests::{
    AdminApiFixture, Backend, Gateway, PanelFixture,
    errors::{assert_error, metadata},
    gateway::{Bearer, TEST_CALLER, by_name, with_gateway},
    logs,
    tls_proxy::{IssuedCert, TestCa, TlsProxy, self_signed_server_cert},
};
use tonic::{
    Code, Status,
    service::interceptor::InterceptedService,
    transport::{Certificate, Channel, ClientTlsConfig, Identity, ServerTlsConfig},
};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// The gRPC listener
// ---------------------------------------------------------------------------

/// A listener serving TLS with a private-CA certificate for 127.0.0.1: a
/// client trusting that CA is served (by IP and by the name `localhost`); a
/// plaintext client, a client trusting another CA, and a client expecting
/// another host name all fail to connect.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_listener_serves_only_clients_that_trust_its_certificate() {
    let ca = TestCa::new("panelgate listener CA");
    let tls = listener_tls(&ca.server_cert(), None);
    with_gateway(
        Backend::Sqlite,
        move |config| config.tls = Some(tls),
        |gateway| async move {
            let https = format!("https://{}", gateway.addr);
            let trusted = list_servers(&gateway, https.clone(), Some(client_tls(&ca, None)))
                .await
                .expect("a client trusting the CA is served over TLS");
            assert!(trusted.servers.is_empty(), "{trusted:?}");
            list_servers(
                &gateway,
                format!("https://localhost:{}", gateway.addr.port()),
                Some(client_tls(&ca, None)),
            )
            .await
            .expect("the certificate's DNS name works too");

            let plaintext = list_servers(&gateway, format!("http://{}", gateway.addr), None).await;
            assert_transport_failure(plaintext, "a plaintext client");

            let stranger = TestCa::new("some other CA");
            let untrusting =
                list_servers(&gateway, https.clone(), Some(client_tls(&stranger, None))).await;
            let failure = assert_transport_failure(untrusting, "a client not trusting the CA");
            assert!(
                failure.to_lowercase().contains("certificate"),
                "the failure names the certificate: {failure}"
            );

            let wrong_name = list_servers(
                &gateway,
                https,
                Some(client_tls(&ca, None).domain_name("panel.example.net")),
            )
            .await;
            assert_transport_failure(wrong_name, "a client expecting another host name");
        },
    )
    .await;
}

/// Mutual TLS: with a client CA configured, a client presenting no
/// certificate fails, one presenting a certificate of the client CA is
/// served, and one presenting a certificate of another CA (here the CA of the
/// server's own certificate) fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mtls_listener_requires_a_certificate_from_its_client_ca() {
    let server_ca = TestCa::new("panelgate listener CA");
    let client_ca = TestCa::new("panelgate callers CA");
    let tls = listener_tls(&server_ca.server_cert(), Some(&client_ca));
    with_gateway(
        Backend::Sqlite,
        move |config| config.tls = Some(tls),
        |gateway| async move {
            let https = format!("https://{}", gateway.addr);

            let anonymous =
                list_servers(&gateway, https.clone(), Some(client_tls(&server_ca, None))).await;
            assert_transport_failure(anonymous, "a client without a certificate");

            let billing = client_ca.client_cert("billing");
            list_servers(
                &gateway,
                https.clone(),
                Some(client_tls(&server_ca, Some(&billing))),
            )
            .await
            .expect("a client with a certificate of the client CA is served");

            let impostor = server_ca.client_cert("billing");
            let refused = list_servers(
                &gateway,
                https.clone(),
                Some(client_tls(&server_ca, Some(&impostor))),
            )
            .await;
            assert_transport_failure(refused, "a client certificate of another CA");

            let self_made = self_signed_server_cert();
            let refused = list_servers(
                &gateway,
                https,
                Some(client_tls(&server_ca, Some(&self_made))),
            )
            .await;
            assert_transport_failure(refused, "a self-signed client certificate");
        },
    )
    .await;
}

// ---------------------------------------------------------------------------
// Towards panels
// ---------------------------------------------------------------------------

/// Registers the admin_api simulator of `fixture` as `name`, reached at
/// `base_url` with `tls`.
async fn register_behind(
    gateway: &Gateway,
    fixture: &AdminApiFixture,
    name: &str,
    base_url: String,
    tls: Option<TlsSettings>,
) -> Server {
    gateway
        .inventory()
        .register_server(RegisterServerRequest {
            server: Some(Server {
                name: name.to_owned(),
                kind: AdminApiFixture::KIND.into(),
                base_url,
                defaults: fixture.defaults(),
                tls,
                ..Default::default()
            }),
            credentials: Some(fixture.credentials()),
            request_id: String::new(),
        })
        .await
        .unwrap_or_else(|status| panic!("register {name}: {status:?}"))
        .into_inner()
        .server
        .expect("server in the reply")
}

async fn check(gateway: &Gateway, name: &str) -> CheckServerResponse {
    gateway
        .inventory()
        .check_server(CheckServerRequest {
            target: by_name(name),
        })
        .await
        .unwrap_or_else(|status| panic!("CheckServer {name}: {status:?}"))
        .into_inner()
}

async fn list_packages(gateway: &Gateway, name: &str) -> Result<Vec<String>, Status> {
    let mut packages: PackageServiceClient<_> = gateway.packages();
    packages
        .list_packages(ListPackagesRequest {
            target: by_name(name),
            ..Default::default()
        })
        .await
        .map(|reply| {
            reply
                .into_inner()
                .packages
                .into_iter()
                .map(|package| package.name)
                .collect()
        })
}

/// Asserts `name` cannot be used because its panel's certificate is not
/// trusted: CheckServer is unhealthy naming a certificate problem, a hosting
/// call fails with a message naming the server and the certificate, and no
/// request reached the panel (the TLS handshake failed first).
async fn assert_certificate_refused(
    gateway: &Gateway,
    fixture: &AdminApiFixture,
    proxy: &TlsProxy,
    name: &str,
) {
    let requests_before = fixture.requests();
    let handshakes_before = proxy.handshakes();

    let checked = check(gateway, name).await;
    assert!(!checked.healthy, "{name}: {checked:?}");
    assert_eq!(
        checked.error_reason, "UPSTREAM_TLS_UNTRUSTED",
        "{checked:?}"
    );
    assert!(
        checked.error_message.to_lowercase().contains("certificate"),
        "{name}: CheckServer names a certificate problem: {checked:?}"
    );

    let failed = list_packages(gateway, name).await;
    let status = assert_error(failed, Code::FailedPrecondition, "UPSTREAM_TLS_UNTRUSTED");
    assert!(
        status.message().contains("tls.ca_pem"),
        "the message says what to set: {status:?}"
    );
    assert!(
        status.message().contains(name),
        "the message names the server: {status:?}"
    );
    assert!(
        status.message().to_lowercase().contains("certificate"),
        "the message names a certificate problem: {status:?}"
    );
    assert_eq!(metadata(&status, "server_name"), name, "{status:?}");

    assert_eq!(
        fixture.requests(),
        requests_before,
        "{name}: no request may reach a panel whose certificate was refused"
    );
    assert_eq!(proxy.handshakes(), handshakes_before, "{name}");
    assert!(
        !proxy.handshake_errors().is_empty(),
        "the panel side saw the handshake fail"
    );
}

/// Verification is on by default: a panel behind TLS with a private-CA
/// certificate is refused when registered without TLS settings, and also when
/// `tls.ca_pem` holds some other CA; a self-signed panel is refused too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panel_certificates_are_verified_by_default() {
    with_gateway(
        Backend::Sqlite,
        |_| {},
        |gateway| async move {
            let fixture = AdminApiFixture::start().await;
            let ca = TestCa::new("panel CA");
            let proxy = TlsProxy::start(&fixture.base_url(), &ca.server_cert()).await;
            register_behind(&gateway, &fixture, "tls-default", proxy.base_url(), None).await;
            assert_certificate_refused(&gateway, &fixture, &proxy, "tls-default").await;

            let other = TestCa::new("some other CA");
            register_behind(
                &gateway,
                &fixture,
                "tls-other-ca",
                proxy.base_url(),
                Some(TlsSettings {
                    ca_pem: other.cert_pem(),
                    insecure_skip_verify: false,
                }),
            )
            .await;
            assert_certificate_refused(&gateway, &fixture, &proxy, "tls-other-ca").await;

            let self_signed =
                TlsProxy::start(&fixture.base_url(), &self_signed_server_cert()).await;
            register_behind(
                &gateway,
                &fixture,
                "tls-self-signed",
                self_signed.base_url(),
                None,
            )
            .await;
            assert_certificate_refused(&gateway, &fixture, &self_signed, "tls-self-signed").await;
        },
    )
    .await;
}

/// A server whose `tls.ca_pem` is the CA of the panel's certificate is
/// reached over TLS: CheckServer is healthy and hosting calls work, through
/// the proxy (TLS handshakes counted there).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panel_with_its_ca_in_tls_ca_pem_works() {
    with_gateway(
        Backend::Sqlite,
        |_| {},
        |gateway| async move {
            let fixture = AdminApiFixture::start().await;
            let ca = TestCa::new("panel CA");
            let proxy = TlsProxy::start(&fixture.base_url(), &ca.server_cert()).await;
            let server = register_behind(
                &gateway,
                &fixture,
                "tls-private-ca",
                proxy.base_url(),
                Some(TlsSettings {
                    ca_pem: ca.cert_pem(),
                    insecure_skip_verify: false,
                }),
            )
            .await;
            let tls = server.tls.expect("tls in the reply");
            assert!(!tls.insecure_skip_verify);
            assert_eq!(tls.ca_pem, ca.cert_pem());

            let checked = check(&gateway, "tls-private-ca").await;
            assert!(checked.healthy, "{checked:?}");
            let packages = list_packages(&gateway, "tls-private-ca")
                .await
                .expect("ListPackages over TLS");
            assert_eq!(packages, ["Basic", "Premium"]);
            assert!(proxy.handshakes() > 0, "the calls went through TLS");
            assert!(
                proxy.handshake_errors().is_empty(),
                "{:?}",
                proxy.handshake_errors()
            );
        },
    )
    .await;
}

/// `tls.insecure_skip_verify` reaches a self-signed panel: CheckServer is
/// healthy, hosting calls work, GetServer shows the setting, and registering
/// it logged a warning naming the server (and only it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insecure_skip_verify_works_is_shown_and_logged() {
    logs::capture(tracing::Level::INFO);
    with_gateway(
        Backend::Sqlite,
        |_| {},
        |gateway| async move {
            let fixture = AdminApiFixture::start().await;
            let proxy = TlsProxy::start(&fixture.base_url(), &self_signed_server_cert()).await;
            register_behind(
                &gateway,
                &fixture,
                "tls-skip-verify",
                proxy.base_url(),
                Some(TlsSettings {
                    ca_pem: String::new(),
                    insecure_skip_verify: true,
                }),
            )
            .await;
            let ca = TestCa::new("panel CA");
            let verified = TlsProxy::start(&fixture.base_url(), &ca.server_cert()).await;
            register_behind(
                &gateway,
                &fixture,
                "tls-verified",
                verified.base_url(),
                Some(TlsSettings {
                    ca_pem: ca.cert_pem(),
                    insecure_skip_verify: false,
                }),
            )
            .await;

            let checked = check(&gateway, "tls-skip-verify").await;
            assert!(checked.healthy, "{checked:?}");
            let packages = list_packages(&gateway, "tls-skip-verify")
                .await
                .expect("ListPackages without verification");
            assert_eq!(packages, ["Basic", "Premium"]);
            assert!(proxy.handshakes() > 0, "the calls went through TLS");

            let shown = gateway
                .inventory()
                .get_server(GetServerRequest {
                    target: by_name("tls-skip-verify"),
                })
                .await
                .expect("GetServer")
                .into_inner()
                .server
                .expect("server");
            assert!(
                shown.tls.is_some_and(|tls| tls.insecure_skip_verify),
                "GetServer shows insecure_skip_verify"
            );

            let warnings: Vec<String> = logs::lines()
                .into_iter()
                .filter(|line| line.contains("insecure_skip_verify"))
                .collect();
            assert!(
                warnings
                    .iter()
                    .any(|line| line.contains(" WARN ") && line.contains("tls-skip-verify")),
                "a warning names the server: {warnings:#?}"
            );
            assert!(
                !warnings.iter().any(|line| line.contains("tls-verified")),
                "no warning for a verified server: {warnings:#?}"
            );
        },
    )
    .await;
}

// ---------------------------------------------------------------------------
// `serve` with bad TLS files
// ---------------------------------------------------------------------------

/// `panelgate serve` (in-process, the binary's own entry point) with TLS files
/// it cannot use fails at start with a message naming the problem, and never
/// quotes the private key: a missing certificate file, a missing key file, a
/// certificate that is not PEM, a key that does not match the certificate,
/// and a client CA file holding no certificate (while usable files serve).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_refuses_unusable_tls_files_at_start() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let ca = TestCa::new("listener CA");
    let cert = ca.server_cert();
    let other = ca.server_cert();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write a TLS file");
        path.display().to_string()
    };
    let cert_file = write("server.crt", &cert.cert_pem);
    let key_file = write("server.key", &cert.key_pem);
    let other_key_file = write("other.key", &other.key_pem);
    let garbage_file = write("garbage.crt", "this is not a certificate\n");
    let missing = dir.path().join("missing.crt").display().to_string();
    let database = format!("sqlite://{}", dir.path().join("inventory.db").display());

    let serve = |tls: &[&str]| {
        let mut args = vec![
            "panelgate",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            &database,
            "--auth-disabled",
        ];
        args.extend_from_slice(tls);
        let cli = Cli::try_parse_from(args).expect("valid command line");
        async move {
            match tokio::time::timeout(Duration::from_secs(20), run(cli)).await {
                Ok(Ok(())) => panic!("serve ended without an error"),
                Ok(Err(err)) => format!("{err:#}"),
                Err(_) => panic!("serve started despite unusable TLS files"),
            }
        }
    };
    // The control: the same command line with usable files serves (still
    // running after 2 s, then dropped).
    let usable = Cli::try_parse_from([
        "panelgate",
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--database-url",
        &database,
        "--auth-disabled",
        "--tls-cert-file",
        &cert_file,
        "--tls-key-file",
        &key_file,
    ])
    .expect("valid command line");
    if let Ok(outcome) = tokio::time::timeout(Duration::from_secs(2), run(usable)).await {
        panic!("serve with usable TLS files ended: {outcome:?}");
    }

    let key_body = |pem: &str| {
        pem.lines()
            .filter(|line| !line.starts_with("-----"))
            .collect::<String>()
    };

    let message = serve(&["--tls-cert-file", &missing, "--tls-key-file", &key_file]).await;
    assert!(
        message.contains("TLS certificate") && message.contains(&missing),
        "{message}"
    );

    let message = serve(&["--tls-cert-file", &cert_file, "--tls-key-file", &missing]).await;
    assert!(
        message.contains("TLS private key") && message.contains(&missing),
        "{message}"
    );

    let message = serve(&[
        "--tls-cert-file",
        &garbage_file,
        "--tls-key-file",
        &key_file,
    ])
    .await;
    assert!(
        message.contains("holds no PEM certificate") && message.contains(&garbage_file),
        "{message}"
    );

    let message = serve(&[
        "--tls-cert-file",
        &cert_file,
        "--tls-key-file",
        &other_key_file,
    ])
    .await;
    assert!(
        message.contains("invalid TLS configuration of the listener")
            && message.contains("KeyMismatch"),
        "{message}"
    );
    assert!(
        !message.contains(&key_body(&other.key_pem)) && !message.contains(&key_body(&cert.key_pem)),
        "no key material in: {message}"
    );

    let message = serve(&[
        "--tls-cert-file",
        &cert_file,
        "--tls-key-file",
        &key_file,
        "--tls-client-ca-file",
        &garbage_file,
    ])
    .await;
    assert!(
        message.contains("client CA") && message.contains(&garbage_file),
        "a client CA file without a certificate: {message}"
    );
}
