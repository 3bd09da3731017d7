//! The gRPC listener: TLS with a certificate from a private CA, mutual TLS,
//! and `serve` refusing unreadable or mismatched certificate files.

use std::time::Duration;

use clap::Parser;
use panelgate::cli::{Cli, run};
use panelgate_tests::{
    Backend,
    gateway::with_gateway,
    tls_proxy::{TestCa, self_signed_server_cert},
};

use crate::{assert_transport_failure, client_tls, list_servers, listener_tls};

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
