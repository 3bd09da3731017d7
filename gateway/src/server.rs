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
    inventory_service_server::InventoryServiceServer,
    operation_service_server::OperationServiceServer, package_service_server::PackageServiceServer,
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
    auth::AuthLayer,
    config::Config,
    grpc::{
        AccountApi, CertificateApi, DatabaseApi, DomainApi, InventoryApi, OperationApi, PackageApi,
        ServerApi,
    },
    health, retention,
};

/// Largest request or response message, in bytes (a page of a list stays far below).
const MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;

/// Largest request metadata (headers), in bytes: room for a large JWT.
const MAX_METADATA_BYTES: u32 = 32 * 1024;

/// A panelgate service with the message size limits.
macro_rules! limited {
    ($service:expr) => {
        $service
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES)
    };
}

/// Runs the gateway on `listener` until `shutdown` resolves: connects to the
/// inventory (migrating it unless told not to), serves, then closes the database.
pub async fn serve(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    // TLS first: a bad certificate stops the start before anything is opened.
    let mut builder = Server::builder()
        .http2_max_header_list_size(MAX_METADATA_BYTES)
        .layer(AuthLayer::new(config.auth.clone()));
    if let Some(tls) = config.tls.clone() {
        builder = builder
            .tls_config(tls)
            .context("invalid TLS configuration of the listener")?;
    }
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
        OperationServiceServer::<OperationApi>::NAME,
    ];
    let monitor = tokio::spawn(health::watch_inventory(
        inventory.clone(),
        reporter,
        services,
        config.health_interval,
    ));

    let pruner = tokio::spawn(retention::prune_journal(
        inventory.clone(),
        config.idempotency_retention,
        config.journal_retention,
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

    info!(
        addr = %listener.local_addr()?,
        tls = config.tls.is_some(),
        auth = config.auth.is_some(),
        "panelgate serving gRPC"
    );
    let served = builder
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(limited!(InventoryServiceServer::new(InventoryApi::new(
            app.clone()
        ))))
        .add_service(limited!(AccountServiceServer::new(AccountApi::new(
            app.clone()
        ))))
        .add_service(limited!(PackageServiceServer::new(PackageApi::new(
            app.clone()
        ))))
        .add_service(limited!(DomainServiceServer::new(DomainApi::new(
            app.clone()
        ))))
        .add_service(limited!(DatabaseServiceServer::new(DatabaseApi::new(
            app.clone()
        ))))
        .add_service(limited!(CertificateServiceServer::new(
            CertificateApi::new(app.clone(),)
        )))
        .add_service(limited!(ServerServiceServer::new(ServerApi::new(
            app.clone()
        ))))
        .add_service(limited!(OperationServiceServer::new(OperationApi::new(
            app
        ))))
        .serve_with_incoming_shutdown(
            TcpIncoming::from(listener).with_nodelay(Some(true)),
            shutdown,
        )
        .await;
    monitor.abort();
    pruner.abort();
    inventory
        .close()
        .await
        .context("cannot close the inventory database")?;
    served.context("gRPC server failed")
}
