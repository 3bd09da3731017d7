//! What InventoryService shows of a server: its record (never its
//! credentials) and this replica's view of its panel's health.

use std::{collections::BTreeSet, time::Instant};

use panelgate_adapters::{
    capabilities,
    http::{Guards, Health, HealthState as Seen},
    kind_from_name,
};
use panelgate_inventory::{ServerRecord, ServerState as StoredState, Usage};
use panelgate_proto::v1::{
    HealthState, PanelKind, Server, ServerDefaults, ServerHealth, ServerState, TlsSettings,
};
use tracing::warn;

use crate::{grpc::timestamp, placement};

/// The canonical view of a stored server (never its credentials), with its
/// health as this replica's guards see it.
pub(super) fn server_message(record: &ServerRecord, guards: &Guards, usage: Usage) -> Server {
    let kind = kind_from_name(&record.kind).unwrap_or(PanelKind::Unspecified);
    Server {
        id: record.id.clone(),
        name: record.name.clone(),
        kind: kind.into(),
        base_url: record.base_url.clone(),
        group: record.group.clone(),
        labels: record.labels.clone().into_iter().collect(),
        state: match record.state {
            StoredState::Active => ServerState::Active,
            StoredState::Draining => ServerState::Draining,
            StoredState::Disabled => ServerState::Disabled,
        }
        .into(),
        max_accounts: record.max_accounts,
        capabilities: capabilities(kind).iter().map(|op| *op as i32).collect(),
        tls: Some(TlsSettings {
            ca_pem: record.tls.ca_pem.clone().unwrap_or_default(),
            insecure_skip_verify: record.tls.insecure_skip_verify,
        }),
        credentials_set: record.credentials_set,
        defaults: Some(ServerDefaults {
            php_version: record.default_php_version.clone().unwrap_or_default(),
        }),
        create_time: Some(timestamp(record.created_at)),
        update_time: Some(timestamp(record.updated_at)),
        health: Some(health_view(guards, &record.id)),
        priority: record.priority,
        capacity: Some(placement::capacity(record, usage)),
        last_sync_time: record.last_sync.as_ref().map(|(at, _)| timestamp(*at)),
        last_sync_outcome: record
            .last_sync
            .as_ref()
            .map(|(_, outcome)| outcome.clone())
            .unwrap_or_default(),
    }
}

/// The health view of one server.
fn health_view(guards: &Guards, server_id: &str) -> ServerHealth {
    let Some(Health {
        state,
        since,
        last_error,
        last_success,
    }) = guards.get(server_id).map(|guard| guard.health())
    else {
        return ServerHealth::default();
    };
    ServerHealth {
        state: state_of(state).into(),
        since: (state != Seen::Unknown).then(|| wall(since)),
        last_error_reason: last_error
            .map(|reason| reason.name().to_owned())
            .unwrap_or_default(),
        last_success_time: last_success.map(wall),
    }
}

fn state_of(seen: Seen) -> HealthState {
    match seen {
        Seen::Unknown => HealthState::Unspecified,
        Seen::Healthy => HealthState::Healthy,
        Seen::Degraded => HealthState::Degraded,
        Seen::Unhealthy => HealthState::Unhealthy,
        Seen::CircuitOpen => HealthState::CircuitOpen,
    }
}

/// The servers ListServers' health filter keeps, by id.
pub(super) fn in_health(guards: &Guards, wanted: HealthState) -> BTreeSet<String> {
    guards
        .health_states()
        .into_iter()
        .filter(|(_, state)| state_of(*state) == wanted)
        .map(|(id, _)| id)
        .collect()
}

/// An instant of this process as wall-clock time.
fn wall(at: Instant) -> prost_types::Timestamp {
    let ago = chrono::Duration::from_std(Instant::now().saturating_duration_since(at))
        .unwrap_or_default();
    timestamp(chrono::Utc::now() - ago)
}

pub(super) fn warn_if_insecure(record: &ServerRecord) {
    if record.tls.insecure_skip_verify {
        warn!(server = %record.name, "TLS verification towards this panel is off (tls.insecure_skip_verify)");
    }
}
