//! Assembles and runs the gRPC server: the panelgate services, health and
//! reflection (v1 and v1alpha, so any grpcurl or `buf curl` works without proto
//! files), on a listener the caller binds; the metrics endpoint beside it; and
//! the graceful shutdown.

use std::{future::Future, sync::Arc};

use anyhow::Context;
use panelgate_inventory::Inventory;
use panelgate_proto::v1::{
    account_service_server::AccountServiceServer, batch_service_server::BatchServiceServer,
    certificate_service_server::CertificateServiceServer,
    database_service_server::DatabaseServiceServer, domain_service_server::DomainServiceServer,
    fleet_service_server::FleetServiceServer, inventory_service_server::InventoryServiceServer,
    operation_service_server::OperationServiceServer, package_service_server::PackageServiceServer,
    server_service_server::ServerServiceServer,
};
use tokio::{
    net::TcpListener,
    sync::{Notify, oneshot},
};
use tonic::{
    server::NamedService,
    transport::{Server, server::TcpIncoming},
};
use tonic_health::ServingStatus;
use tracing::{info, warn};

use crate::{
    app::App,
    auth::Authenticate,
    batch, changes,
    config::Config,
    gate::GateLayer,
    grpc::{
        AccountApi, BatchApi, CertificateApi, DatabaseApi, DomainApi, FleetApi, InventoryApi,
        OperationApi, PackageApi, ServerApi,
    },
    health,
    metrics::{self, Metrics},
    prober,
    protocol::Protocol,
    retention, sync,
    telemetry::TelemetryLayer,
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
/// inventory (migrating it unless told not to) and serves. On shutdown,
/// health turns NOT_SERVING, no new connection is accepted, calls in flight
/// get `config.shutdown_grace` to finish, then the database is closed.
pub async fn serve(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let metrics = Metrics::default();
    // TLS first: a bad certificate stops the start before anything is opened.
    let mut builder = Server::builder()
        .http2_max_header_list_size(MAX_METADATA_BYTES)
        .layer(TelemetryLayer::new(metrics.clone()))
        .layer(GateLayer(Protocol))
        .layer(GateLayer(Authenticate(config.auth.clone())));
    if let Some(tls) = config.tls.clone() {
        builder = builder
            .tls_config(tls)
            .context("invalid TLS configuration of the listener")?;
    }
    let metrics_listener = match config.metrics_listen {
        Some(addr) => Some(
            TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen for metrics on {addr}"))?,
        ),
        None => None,
    };
    let mut inventory = Inventory::connect(&config.database_url, config.keyring.clone())
        .await
        .context("cannot open the inventory database")?;
    let observer = metrics.clone();
    inventory.observe_queries(move |sql, elapsed, failed| {
        observer.inventory_query(sql, elapsed, failed);
    });
    if config.migrate_on_start {
        inventory
            .migrate()
            .await
            .context("cannot migrate the inventory database")?;
    }
    let app = App::new(inventory.clone(), &config, &metrics)
        .context("cannot set up panel HTTP clients")?;
    let (stop_metrics, metrics_stopped) = oneshot::channel::<()>();
    let metrics_server = metrics_listener.map(|listener| {
        tokio::spawn(metrics::serve(listener, metrics.clone(), async {
            let _ = metrics_stopped.await;
        }))
    });

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
        FleetServiceServer::<FleetApi>::NAME,
        BatchServiceServer::<BatchApi>::NAME,
    ];
    let monitor = tokio::spawn(health::watch_inventory(
        inventory.clone(),
        reporter.clone(),
        services.clone(),
        config.health_interval,
    ));
    // On shutdown: NOT_SERVING first (the monitor must not flip it back),
    // then tonic stops accepting and drains; `draining` starts the grace clock.
    let draining = Arc::new(Notify::new());
    let stop = {
        let draining = draining.clone();
        let monitor = monitor.abort_handle();
        let grace = config.shutdown_grace;
        async move {
            shutdown.await;
            monitor.abort();
            for service in std::iter::once("").chain(services) {
                reporter
                    .set_service_status(service, ServingStatus::NotServing)
                    .await;
            }
            info!(
                ?grace,
                "shutting down: health is NOT_SERVING, no new connections, calls in flight may finish"
            );
            draining.notify_one();
        }
    };

    let follower = inventory
        .listen()
        .map(|listener| tokio::spawn(changes::follow(app.clone(), listener)));
    let renewer = tokio::spawn(app.leases.clone().renew(inventory.clone()));
    let batches = tokio::spawn(batch::work(app.clone()));
    let pruner = tokio::spawn(retention::prune_journal(
        inventory.clone(),
        config.idempotency_retention,
        config.journal_retention,
        config.batch_retention,
    ));
    let syncer = (!config.sync_interval.is_zero()).then(|| {
        tokio::spawn(sync::schedule::sync_periodically(
            app.clone(),
            config.sync_interval,
            config.sync_usage,
        ))
    });
    let prober = (!config.probe_interval.is_zero()).then(|| {
        tokio::spawn(prober::probe_open_circuits(
            app.clone(),
            config.probe_interval,
        ))
    });

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
            app.clone()
        ))))
        .add_service(limited!(FleetServiceServer::new(FleetApi::new(
            app.clone()
        ))))
        .add_service(limited!(BatchServiceServer::new(BatchApi::new(app))))
        .serve_with_incoming_shutdown(TcpIncoming::from(listener).with_nodelay(Some(true)), stop);
    let grace_over = async {
        draining.notified().await;
        tokio::time::sleep(config.shutdown_grace).await;
    };
    let served = tokio::select! {
        served = served => served,
        () = grace_over => {
            warn!(grace = ?config.shutdown_grace, "shutdown grace period over: calls still in flight are cut off");
            Ok(())
        }
    };
    monitor.abort();
    pruner.abort();
    renewer.abort();
    batches.abort();
    for task in prober.iter().chain(&syncer).chain(&follower) {
        task.abort();
    }
    let _ = stop_metrics.send(());
    if let Some(metrics_server) = metrics_server {
        match metrics_server.await {
            Ok(Err(err)) => warn!(error = %format!("{err:#}"), "metrics endpoint failed"),
            Err(err) => warn!(error = %err, "metrics endpoint task failed"),
            Ok(Ok(())) => {}
        }
    }
    inventory
        .close()
        .await
        .context("cannot close the inventory database")?;
    served.context("gRPC server failed")
}
