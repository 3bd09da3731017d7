//! CertificateService: TLS certificates for hosted domains.

use panelgate_proto::v1::{
    IssueCertificateRequest, IssueCertificateResponse,
    certificate_service_server::CertificateService,
};

use crate::{
    app::App,
    call::{Body, Call},
    validate,
};

/// The CertificateService implementation.
pub struct CertificateApi {
    app: App,
}

impl CertificateApi {
    /// Serves certificates through `app`.
    pub fn new(app: App) -> Self {
        CertificateApi { app }
    }

    async fn issue_certificate(
        &self,
        call: Call,
        req: IssueCertificateRequest,
    ) -> Body<IssueCertificateResponse> {
        let domain = validate::domain("domain", &req.domain)?;
        call.about(format!("certificate/{domain}"));
        let route = call.route(req.target.as_ref()).await?;
        let certificate = call
            .on(&route, async |panel| panel.issue_certificate(&domain).await)
            .await?;
        Ok(IssueCertificateResponse {
            certificate: Some(certificate),
            ..Default::default()
        })
    }
}

serve!(CertificateService for CertificateApi {
    issue_certificate(IssueCertificateRequest),
});
