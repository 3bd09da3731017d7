//! CertificateService: TLS certificates for hosted domains.

use panelgate_proto::v1::{
    IssueCertificateRequest, IssueCertificateResponse, Operation,
    certificate_service_server::CertificateService,
};
use tonic::{Request, Response, Status};

use crate::{
    app::{App, validation},
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
}

#[tonic::async_trait]
impl CertificateService for CertificateApi {
    async fn issue_certificate(
        &self,
        request: Request<IssueCertificateRequest>,
    ) -> Result<Response<IssueCertificateResponse>, Status> {
        let (mut call, req) = match self
            .app
            .mutation(request, "CertificateService/IssueCertificate")
            .await
        {
            Ok(started) => started,
            Err(reply) => return reply,
        };
        let result = async {
            let domain = validate::domain("domain", &req.domain)?;
            call.about(format!("certificate/{domain}"));
            let route = call.route(req.target.as_ref()).await?;
            route.require(Operation::IssueCertificate)?;
            if req.validate_only {
                let dry_run = route.panel.dry_run();
                if let Some(panel) = &dry_run {
                    panel
                        .issue_certificate(&domain)
                        .await
                        .map_err(|err| route.fail(err))?;
                }
                let validation = validation(&dry_run);
                return Ok(IssueCertificateResponse {
                    validation: Some(validation),
                    ..Default::default()
                });
            }
            let certificate = route
                .panel
                .issue_certificate(&domain)
                .await
                .map_err(|err| route.fail(err))?;
            Ok(IssueCertificateResponse {
                certificate: Some(certificate),
                ..Default::default()
            })
        }
        .await;
        call.finish(result).await
    }
}
