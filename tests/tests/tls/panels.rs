//! Towards panels: certificates verified by default, a server's own CA in
//! `tls.ca_pem`, and `tls.insecure_skip_verify` (shown and logged).

use panelgate_proto::v1::{
    CheckServerRequest, CheckServerResponse, GetServerRequest, ListPackagesRequest,
    RegisterServerRequest, Server, TlsSettings, package_service_client::PackageServiceClient,
};
use panelgate_tests::{
    AdminApiFixture, Backend, Gateway, PanelFixture,
    errors::{assert_error, metadata},
    gateway::{by_name, with_gateway},
    logs,
    tls_proxy::{TestCa, TlsProxy, self_signed_server_cert},
};
use tonic::{Code, Status};

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
