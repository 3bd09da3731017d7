//! ServerService: what a server's panel reports about the machine.

use panelgate_proto::v1::{
    GetServerInfoRequest, GetServerInfoResponse, Operation, server_service_server::ServerService,
};
use tonic::{Request, Response, Status};
use tracing::instrument;

use crate::app::App;

/// The ServerService implementation.
pub struct ServerApi {
    app: App,
}

impl ServerApi {
    /// Serves server information through `app`.
    pub fn new(app: App) -> Self {
        ServerApi { app }
    }
}

#[tonic::async_trait]
impl ServerService for ServerApi {
    #[instrument(
        name = "ServerService/GetServerInfo",
        skip_all,
        fields(server_id, panel_kind)
    )]
    async fn get_server_info(
        &self,
        request: Request<GetServerInfoRequest>,
    ) -> Result<Response<GetServerInfoResponse>, Status> {
        let req = request.into_inner();
        let mut call = self.app.read("ServerService/GetServerInfo");
        let result = async {
            let route = call.route(req.target.as_ref()).await?;
            route.require(Operation::GetServerInfo)?;
            let info = route
                .panel
                .get_server_info()
                .await
                .map_err(|err| route.fail(err))?;
            Ok(GetServerInfoResponse { info: Some(info) })
        }
        .await;
        call.finish(result).await
    }
}
