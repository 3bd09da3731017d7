//! CertificateService: TLS certificates for hosted domains.

use panelgate_proto::v1::{
    IssueCertificateRequest, IssueCertificateResponse,
    certificate_service_server::CertificateService,
};
use tonic::Request;

use crate::{app::App, call::RpcResult, validate};

/// The CertificateService implementation.
pub struct CertificateApi {
    app: App,
}

impl CertificateApi {
    /// Serves certificates through `app`.
    pub fn new(app: App) -> Self {
        CertificateApi { app }
    }
}

#[tonic::async_trait]
impl CertificateService for CertificateApi {
    async fn issue_certificate(
        &self,
        request: Request<IssueCertificateRequest>,
    ) -> RpcResult<IssueCertificateResponse> {
        self.app
            .run(request, |call, req| async move {
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
            })
            .await
    }
}
