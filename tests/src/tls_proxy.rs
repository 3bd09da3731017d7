//! TLS for tests: a private certificate authority issuing server and client
//! certificates (rcgen), and a TLS-terminating TCP proxy that puts a
//! plain-HTTP simulator behind `https://127.0.0.1:port` with one of those
//! certificates. aws-lc-rs is the only crypto provider, as in the product.

use std::{
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{
    TlsAcceptor,
    rustls::{
        ServerConfig,
        crypto::aws_lc_rs,
        pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject},
    },
};

/// A certificate and its private key, both PEM.
#[derive(Clone)]
pub struct IssuedCert {
    /// The certificate.
    pub cert_pem: String,
    /// Its private key (PKCS#8).
    pub key_pem: String,
}

/// The names every server certificate of these tests is valid for.
pub const SERVER_NAMES: [&str; 2] = ["127.0.0.1", "localhost"];

/// A private certificate authority.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl TestCa {
    /// A new CA whose certificate has `common_name` as its subject.
    pub fn new(common_name: &str) -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate().expect("CA key");
        TestCa {
            issuer: CertifiedIssuer::self_signed(params, key).expect("self-sign the CA"),
        }
    }

    /// The CA certificate, PEM: what a client or server is told to trust.
    pub fn cert_pem(&self) -> String {
        self.issuer.pem()
    }

    /// A server certificate for 127.0.0.1 and localhost.
    pub fn server_cert(&self) -> IssuedCert {
        self.issue(
            &SERVER_NAMES,
            "panelgate test server",
            ExtendedKeyUsagePurpose::ServerAuth,
        )
    }

    /// A client certificate with `common_name` as its subject.
    pub fn client_cert(&self, common_name: &str) -> IssuedCert {
        self.issue(&[], common_name, ExtendedKeyUsagePurpose::ClientAuth)
    }

    fn issue(
        &self,
        names: &[&str],
        common_name: &str,
        usage: ExtendedKeyUsagePurpose,
    ) -> IssuedCert {
        let names: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
        let mut params = CertificateParams::new(names).expect("certificate parameters");
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![usage];
        params.use_authority_key_identifier_extension = true;
        let key = KeyPair::generate().expect("certificate key");
        let cert = params
            .signed_by(&key, &self.issuer)
            .expect("sign the certificate");
        IssuedCert {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }
}

/// A self-signed server certificate for 127.0.0.1 and localhost (no CA), like
/// a panel's default one.
pub fn self_signed_server_cert() -> IssuedCert {
    let names: Vec<String> = SERVER_NAMES.iter().map(|name| (*name).to_owned()).collect();
    let key = KeyPair::generate().expect("certificate key");
    let cert = CertificateParams::new(names)
        .expect("certificate parameters")
        .self_signed(&key)
        .expect("self-sign");
    IssuedCert {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    }
}

/// A running TLS-terminating proxy in front of a plain-HTTP server.
pub struct TlsProxy {
    /// Where clients connect (TLS).
    pub addr: SocketAddr,
    base_url: String,
    stats: Arc<Stats>,
}

#[derive(Default)]
struct Stats {
    handshakes: AtomicU64,
    failures: Mutex<Vec<String>>,
}

impl TlsProxy {
    /// Serves TLS with `cert` on a loopback port and forwards the decrypted
    /// bytes to the plain-HTTP server of `upstream_base_url`
    /// (`http://127.0.0.1:port[/path]`). Speaks HTTP/1.1 (ALPN), as panels do.
    pub async fn start(upstream_base_url: &str, cert: &IssuedCert) -> TlsProxy {
        let rest = upstream_base_url
            .strip_prefix("http://")
            .expect("an http:// upstream URL");
        let (authority, path) = match rest.split_once('/') {
            Some((authority, path)) => (authority, Some(path)),
            None => (rest, None),
        };
        let upstream: SocketAddr = authority.parse().expect("upstream host is ip:port");

        let certs = CertificateDer::pem_slice_iter(cert.cert_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .expect("certificate PEM");
        let key = PrivateKeyDer::from_pem_slice(cert.key_pem.as_bytes()).expect("key PEM");
        let mut config =
            ServerConfig::builder_with_provider(Arc::new(aws_lc_rs::default_provider()))
                .with_safe_default_protocol_versions()
                .expect("TLS versions")
                .with_no_client_auth()
                .with_single_cert(certs, key)
                .expect("certificate and key match");
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let acceptor = TlsAcceptor::from(Arc::new(config));

        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the TLS proxy");
        let addr = listener.local_addr().expect("TLS proxy address");
        let stats = Arc::new(Stats::default());
        let seen = stats.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let seen = seen.clone();
                tokio::spawn(async move {
                    let mut client = match acceptor.accept(client).await {
                        Ok(stream) => stream,
                        Err(err) => {
                            seen.failures
                                .lock()
                                .unwrap_or_else(|poisoned| poisoned.into_inner())
                                .push(err.to_string());
                            return;
                        }
                    };
                    seen.handshakes.fetch_add(1, Ordering::SeqCst);
                    let Ok(mut server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                });
            }
        });
        let base_url = match path {
            Some(path) => format!("https://{addr}/{path}"),
            None => format!("https://{addr}"),
        };
        TlsProxy {
            addr,
            base_url,
            stats,
        }
    }

    /// The upstream's base URL as reached through this proxy (https, same path).
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// TLS handshakes completed so far.
    pub fn handshakes(&self) -> u64 {
        self.stats.handshakes.load(Ordering::SeqCst)
    }

    /// Why handshakes failed so far, as rustls put it (e.g. the alert a
    /// client sent on rejecting the certificate).
    pub fn handshake_errors(&self) -> Vec<String> {
        self.stats
            .failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}
