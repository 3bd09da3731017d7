//! The baseline of the ListPackages scenario: a bare tonic server on its own
//! loopback port implementing panelgate's own `PackageService`, whose
//! ListPackages answers a constant reply: the same messages on the wire as
//! the gateway's, and no gateway logic (no auth, routing, cache or panel).

use std::net::SocketAddr;

use anyhow::Context;
use panelgate_proto::v1::{
    CreatePackageRequest, CreatePackageResponse, DeletePackageRequest, DeletePackageResponse,
    GetPackageRequest, GetPackageResponse, ListPackagesRequest, ListPackagesResponse,
    UpdatePackageRequest, UpdatePackageResponse,
    package_service_server::{PackageService, PackageServiceServer},
};
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};
use tonic::{
    Request, Response, Status,
    transport::{Server, server::TcpIncoming},
};

/// A PackageService whose ListPackages always answers the same reply.
struct ConstantPackages {
    reply: ListPackagesResponse,
}

#[tonic::async_trait]
impl PackageService for ConstantPackages {
    async fn list_packages(
        &self,
        _request: Request<ListPackagesRequest>,
    ) -> Result<Response<ListPackagesResponse>, Status> {
        Ok(Response::new(self.reply.clone()))
    }

    async fn get_package(
        &self,
        _request: Request<GetPackageRequest>,
    ) -> Result<Response<GetPackageResponse>, Status> {
        Err(Status::unimplemented(
            "the baseline serves ListPackages only",
        ))
    }

    async fn create_package(
        &self,
        _request: Request<CreatePackageRequest>,
    ) -> Result<Response<CreatePackageResponse>, Status> {
        Err(Status::unimplemented(
            "the baseline serves ListPackages only",
        ))
    }

    async fn update_package(
        &self,
        _request: Request<UpdatePackageRequest>,
    ) -> Result<Response<UpdatePackageResponse>, Status> {
        Err(Status::unimplemented(
            "the baseline serves ListPackages only",
        ))
    }

    async fn delete_package(
        &self,
        _request: Request<DeletePackageRequest>,
    ) -> Result<Response<DeletePackageResponse>, Status> {
        Err(Status::unimplemented(
            "the baseline serves ListPackages only",
        ))
    }
}

/// A running bare server.
pub struct BareServer {
    /// Where it listens.
    pub addr: SocketAddr,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<Result<(), tonic::transport::Error>>,
}

impl BareServer {
    /// Serves `reply` to every ListPackages on a loopback port, with the
    /// gateway's listener settings (TCP_NODELAY).
    pub async fn start(reply: ListPackagesResponse) -> anyhow::Result<BareServer> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .context("bind the baseline server's port")?;
        let addr = listener.local_addr().context("baseline server address")?;
        let (shutdown, stop) = oneshot::channel::<()>();
        let service = PackageServiceServer::new(ConstantPackages { reply });
        let task = tokio::spawn(
            Server::builder()
                .add_service(service)
                .serve_with_incoming_shutdown(
                    TcpIncoming::from(listener).with_nodelay(Some(true)),
                    async {
                        let _ = stop.await;
                    },
                ),
        );
        Ok(BareServer {
            addr,
            shutdown,
            task,
        })
    }

    /// Stops the server.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(());
        self.task
            .await
            .context("the baseline server panicked")?
            .context("the baseline server failed")
    }
}
