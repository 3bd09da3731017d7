//! TLS towards panels: one rustls configuration per server TLS setting, used
//! both by reqwest and by the raw HTTP/1.1 path ([`crate::http`]'s CONNECT), so
//! certificate checks are the same whichever way a panel is called.
//!
//! Verification is on by default (the operating system's roots, through
//! rustls-platform-verifier); a server may add its own CA, or turn
//! verification off for self-signed panels.

use std::sync::Arc;

use rustls::{
    ClientConfig, DigitallySignedStruct, SignatureScheme,
    client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
    crypto::{CryptoProvider, aws_lc_rs, verify_tls12_signature, verify_tls13_signature},
};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime, pem::PemObject};
use rustls_platform_verifier::Verifier;

use crate::AdapterError;
use crate::Result;

/// How to verify a panel's TLS certificate.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct TlsOptions {
    /// PEM of extra CAs to trust, besides the system roots.
    pub ca_pem: Option<String>,
    /// Accept any certificate (self-signed panels).
    pub insecure_skip_verify: bool,
}

/// The rustls client configuration for `options`. Speaks HTTP/1.1 only, as
/// panels do.
pub fn client_config(options: &TlsOptions) -> Result<Arc<ClientConfig>> {
    let provider = Arc::new(aws_lc_rs::default_provider());
    let verifier: Arc<dyn ServerCertVerifier> =
        if options.insecure_skip_verify {
            Arc::new(AcceptAnyCertificate(provider.clone()))
        } else {
            let verifier = match &options.ca_pem {
                None => Verifier::new(provider.clone()),
                Some(pem) => Verifier::new_with_extra_roots(extra_roots(pem)?, provider.clone()),
            };
            Arc::new(verifier.map_err(|err| {
                misconfigured(format!("cannot load the system's TLS roots: {err}"))
            })?)
        };
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| misconfigured(format!("TLS setup failed: {err}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The certificates of a PEM bundle; text without any is refused, or a typo
/// would silently trust nothing extra.
fn extra_roots(pem: &str) -> Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| misconfigured("tls.ca_pem is not valid PEM".into()))?;
    if certs.is_empty() {
        return Err(misconfigured(
            "tls.ca_pem is not valid PEM: no certificate found".into(),
        ));
    }
    Ok(certs)
}

fn misconfigured(message: String) -> AdapterError {
    AdapterError::Misconfigured(message)
}

/// `insecure_skip_verify`: any certificate is accepted, but the handshake's
/// signatures are still checked, so the connection is at least encrypted to
/// whoever holds the presented key.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_and_insecure_configs_build() {
        assert!(client_config(&TlsOptions::default()).is_ok());
        let insecure = TlsOptions {
            insecure_skip_verify: true,
            ..Default::default()
        };
        assert!(client_config(&insecure).is_ok());
    }

    #[test]
    fn ca_pem_must_hold_a_certificate() {
        for bad in ["this is not PEM", "", "-----BEGIN CERTIFICATE-----\nAAAA"] {
            let options = TlsOptions {
                ca_pem: Some(bad.to_owned()),
                insecure_skip_verify: false,
            };
            assert!(
                matches!(client_config(&options), Err(AdapterError::Misconfigured(_))),
                "{bad:?}"
            );
        }
    }
}
