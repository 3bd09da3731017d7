//! Assembles and runs the gRPC server: the panelgate services, health and
//! reflection (v1 and v1alpha, so any grpcurl or `buf curl` works without proto
//! files), on a listener the caller binds.

use std::future::Future;

use anyhow::Context;
use panelgate_inventory::Inventory;
use panelgate_proto::v1::{
    account_service_server::AccountServiceServer,
    certificate_service_server::CertificateServiceServer,
    database_service_server::DatabaseServiceServer, domain_service_server::DomainServiceServer,
    inventory_service_server::InventoryServiceServer, package_service_server::PackageServiceServer,
    server_service_server::ServerServiceServer,
};
use tokio::net::TcpListener;
use tonic::{
    server::NamedService,
    transport::{Server, server::TcpIncoming},
};
use tracing::info;

use crate::{
    app::App,
    config::Config,
    grpc::{
        AccountApi, CertificateApi, DatabaseApi, DomainApi, InventoryApi, PackageApi, ServerApi,
    },
    health,
};

/// Runs the gateway on `listener` until `shutdown` resolves: connects to the
/// inventory (migrating it unless told not to), serves, then closes the database.
pub async fn serve(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let inventory = Inventory::connect(&config.database_url, config.keyring.clone())
        .await
        .context("cannot open the inventory database")?;
    if config.migrate_on_start {
        inventory
            .migrate()
            .await
            .context("cannot migrate the inventory database")?;
    }
    let app = App::new(inventory.clone(), &config).context("cannot set up panel HTTP clients")?;

    let (reporter, health_service) = tonic_health::server::health_reporter();
    let services = vec![
        InventoryServiceServer::<InventoryApi>::NAME,
        AccountServiceServer::<AccountApi>::NAME,
        PackageServiceServer::<PackageApi>::NAME,
        DomainServiceServer::<DomainApi>::NAME,
        DatabaseServiceServer::<DatabaseApi>::NAME,
        CertificateServiceServer::<CertificateApi>::NAME,
        ServerServiceServer::<ServerApi>::NAME,
    ];
    let monitor = tokio::spawn(health::watch_inventory(
        inventory.clone(),
        reporter,
        services,
        config.health_interval,
    ));

    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(panelgate_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    let reflection_v1 = reflection()
        .build_v1()
        .context("cannot build reflection v1")?;
    let reflection_v1alpha = reflection()
        .build_v1alpha()
        .context("cannot build reflection v1alpha")?;

    info!(addr = %listener.local_addr()?, "panelgate serving gRPC");
    let served = Server::builder()
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(InventoryServiceServer::new(InventoryApi::new(app.clone())))
        .add_service(AccountServiceServer::new(AccountApi::new(app.clone())))
        .add_service(PackageServiceServer::new(PackageApi::new(app.clone())))
        .add_service(DomainServiceServer::new(DomainApi::new(app.clone())))
        .add_service(DatabaseServiceServer::new(DatabaseApi::new(app.clone())))
        .add_service(CertificateServiceServer::new(CertificateApi::new(
            app.clone(),
        )))
        .add_service(ServerServiceServer::new(ServerApi::new(app)))
        .serve_with_incoming_shutdown(
            TcpIncoming::from(listener).with_nodelay(Some(true)),
            shutdown,
        )
        .await;
    monitor.abort();
    inventory
        .close()
        .await
        .context("cannot close the inventory database")?;
    served.context("gRPC server failed")
}
