//! `grpc.health.v1`: every service is SERVING while the inventory answers and
//! NOT_SERVING while it does not, checked every `interval`.

use std::time::Duration;

use panelgate_inventory::Inventory;
use tonic_health::{ServingStatus, server::HealthReporter};
use tracing::{info, warn};

/// Pings the inventory forever, flipping the status of `services` (and of the
/// whole server, "") when reachability changes.
pub async fn watch_inventory(
    inventory: Inventory,
    reporter: HealthReporter,
    services: Vec<&'static str>,
    interval: Duration,
) {
    let mut last = None;
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let status = match inventory.ping().await {
            Ok(()) => ServingStatus::Serving,
            Err(err) => {
                if last != Some(ServingStatus::NotServing) {
                    warn!(error = %err, "inventory unreachable: health is NOT_SERVING");
                }
                ServingStatus::NotServing
            }
        };
        if last == Some(ServingStatus::NotServing) && status == ServingStatus::Serving {
            info!("inventory reachable again: health is SERVING");
        }
        if last != Some(status) {
            for service in std::iter::once("").chain(services.iter().copied()) {
                reporter.set_service_status(service, status).await;
            }
            last = Some(status);
        }
    }
}
