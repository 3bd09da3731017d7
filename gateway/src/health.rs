//! `grpc.health.v1`: every service is SERVING while the inventory answers and
//! NOT_SERVING while it does not, checked every `interval`, each check waiting
//! at most that long (a black-holed database fails it too). The check also
//! opens and closes the inventory's gate: while it fails, calls that need the
//! inventory fail at once instead of each waiting for the database.

use std::time::Duration;

use panelgate_inventory::Inventory;
use tonic_health::{ServingStatus, server::HealthReporter};
use tracing::{info, warn};

/// Shortest wait for one check, whatever the interval.
const MIN_WAIT: Duration = Duration::from_millis(500);

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
        let limit = interval.max(MIN_WAIT);
        let ping = tokio::time::timeout(limit, inventory.ping()).await;
        let status = match ping {
            Ok(Ok(())) => ServingStatus::Serving,
            failed => {
                inventory.mark_unreachable();
                if last != Some(ServingStatus::NotServing) {
                    let error = match failed {
                        Ok(Err(err)) => err.to_string(),
                        _ => format!("no answer within {limit:?}"),
                    };
                    warn!(%error, "inventory unreachable: health is NOT_SERVING");
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
