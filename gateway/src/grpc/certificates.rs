//! CertificateService: TLS certificates for hosted domains.

use panelgate_proto::v1::{
    IssueCertificateRequest, IssueCertificateResponse, Operation,
    certificate_service_server::CertificateService,
};
use tonic::{Request, Response, Status};
use tracing::instrument;

use crate::{app::App, validate};

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
    #[instrument(
        name = "CertificateService/IssueCertificate",
        skip_all,
        fields(server_id, panel_kind)
    )]
    async fn issue_certificate(
        &self,
        request: Request<IssueCertificateRequest>,
    ) -> Result<Response<IssueCertificateResponse>, Status> {
        let req = request.into_inner();
        let mut call = self
            .app
            .mutation("CertificateService/IssueCertificate", &req.request_id);
        let result = async {
            let domain = validate::domain("domain", &req.domain)?;
            call.about(format!("certificate/{domain}"))?;
            let route = call.route(req.target.as_ref()).await?;
            route.require(Operation::IssueCertificate)?;
            let certificate = route
                .panel
                .issue_certificate(&domain)
                .await
                .map_err(|err| route.fail(err))?;
            Ok(IssueCertificateResponse {
                certificate: Some(certificate),
            })
        }
        .await;
        call.finish(result).await
    }
}
