//! Server-level routes: the endpoint listing, usage, system information,
//! services and notifications. Machine figures are simulated constants; the
//! per-account ones follow the panel's state.

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::AutologinStyle;
use super::endpoints::{Call, Endpoint, Reply, error};
use super::state::Panel;

/// The simulated root partition: size and bytes used before any account (reading 17).
const DISK_TOTAL: u64 = 123_690_532_864;
const DISK_BASE_USED: u64 = 63_366_230_016;
/// The simulated RAM.
const GIB: u64 = 1024 * 1024 * 1024;

/// `GET /api/`: the health check.
pub(super) fn health(_: &mut Panel, _: &Call<'_>) -> Reply {
    Reply::ok(json!({"message": "API is working!"}))
}

/// `GET /api/usage`: `{"endpoints": [{"method", "path", "description"}]}`, the
/// routes this build has (reading 15).
pub(super) fn usage(panel: &mut Panel, _: &Call<'_>) -> Reply {
    let endpoints: Vec<Value> = Endpoint::ALL
        .iter()
        .filter(|endpoint| endpoint.available(panel.autologin, panel.plan_create))
        .map(|endpoint| {
            let facts = endpoint.facts();
            let (method, path) = facts.method_and_path();
            json!({"method": method.as_str(), "path": path, "description": facts.about})
        })
        .collect();
    Reply::ok(json!({ "endpoints": endpoints }))
}

/// `GET /api/usage/stats`: one JSON object per line, in one string; the last
/// line is now (reading 15).
pub(super) fn usage_stats(panel: &mut Panel, _: &Call<'_>) -> Reply {
    let day_before = (panel.started_at - chrono::Duration::days(1)).format("%Y-%m-%d");
    let today = chrono::Utc::now().format("%Y-%m-%d");
    let line = |timestamp: &dyn std::fmt::Display, users: usize, domains: usize| {
        // Python's json.dumps spacing, keys in the doc's order.
        format!(
            "{{\"timestamp\": \"{timestamp}\", \"users\": {users}, \"domains\": {domains}, \"websites\": 0}}"
        )
    };
    let stats = [
        line(&day_before, 0, 0),
        line(&today, panel.users().len(), panel.domains().len()),
    ]
    .join("\n");
    Reply::ok(json!({ "usage_stats": stats }))
}

/// `GET /api/usage/cpu`: percent per core, the doc's `core_N` keys.
pub(super) fn cpu(_: &mut Panel, _: &Call<'_>) -> Reply {
    Reply::ok(json!({"core_0": 12.5, "core_1": 3.0, "core_2": 7.25, "core_3": 0.0}))
}

/// `GET /api/usage/memory`: bytes, and the same as text.
pub(super) fn memory(_: &mut Panel, _: &Call<'_>) -> Reply {
    Reply::ok(json!({
        "ram_info": {
            "total": 8 * GIB,
            "available": 5 * GIB,
            "used": 3 * GIB,
            "percent": 37.5,
        },
        "human_readable_info": {
            "total": "8.00 GB",
            "available": "5.00 GB",
            "used": "3.00 GB",
            "percent": "37.5%",
        },
    }))
}

/// `GET /api/usage/disk`: quota per account, keyed by username, in 1 KiB blocks
/// (reading 16).
pub(super) fn disk(panel: &mut Panel, _: &Call<'_>) -> Reply {
    let usage: Map<String, Value> = panel
        .users()
        .into_iter()
        .map(|user| {
            let (blocks, inodes) = panel.disk_usage(&user.username);
            let (block_limit, inode_limit) = panel.plan(user.plan_id).map_or((0, 0), |plan| {
                (plan.disk_limit_gb * 1024 * 1024, plan.inodes_limit)
            });
            let entry = json!({
                "diskusage": blocks,
                "disklimit": block_limit,
                "inodesusage": inodes,
                "inodeslimit": inode_limit,
                "bwusage": 0,
                "bwlimit": 0,
            });
            (user.username.clone(), entry)
        })
        .collect();
    Reply::ok(Value::Object(usage))
}

/// `GET /api/usage/server`: partitions, in bytes.
pub(super) fn server_disk(panel: &mut Panel, _: &Call<'_>) -> Reply {
    let accounts: u64 = panel
        .users()
        .into_iter()
        .map(|user| panel.disk_usage(&user.username).0 * 1024)
        .sum();
    let used = DISK_BASE_USED + accounts;
    let percent = (used as f64 * 1000.0 / DISK_TOTAL as f64).round() / 10.0;
    Reply::ok(json!([{
        "device": "/dev/vda1",
        "mountpoint": "/",
        "fstype": "ext4",
        "total": DISK_TOTAL,
        "used": used,
        "free": DISK_TOTAL - used,
        "percent": percent,
    }]))
}

/// `GET /api/system`: the doc's shape (counts as numbers, uptime as a string).
pub(super) fn system(panel: &mut Panel, _: &Call<'_>) -> Reply {
    let version = match panel.autologin {
        AutologinStyle::Connect => "1.7.60",
        AutologinStyle::Post => "1.8.0",
    };
    Reply::ok(json!({
        "hostname": "openpanel-sim",
        "os": "Ubuntu 24.04 LTS",
        "time": chrono::Utc::now().format("%Y-%m-%d %H:%M:%S").to_string(),
        "kernel": "6.8.0-36-generic",
        "cpu": "DO-Premium-Intel(x86_64)",
        "openpanel_version": version,
        "running_processes": 178,
        "package_updates": 98,
        "uptime": panel.uptime().as_secs().to_string(),
    }))
}

/// `GET /api/services`: services.json as it is.
pub(super) fn services(panel: &mut Panel, _: &Call<'_>) -> Reply {
    Reply::ok(Value::Object(panel.services.clone()))
}

/// `PUT /api/services`: replaces services.json with the body (a JSON object).
pub(super) fn put_services(panel: &mut Panel, call: &Call<'_>) -> Reply {
    let Some(services) = call.object() else {
        return error(StatusCode::BAD_REQUEST, "Invalid JSON format");
    };
    panel.services = services;
    Reply::ok(json!({"message": "/etc/openadmin/services.json updated successfully"}))
}

/// `GET /api/services/status`: every services.json entry with `status` replaced
/// by the running state (reading 18).
pub(super) fn services_status(panel: &mut Panel, _: &Call<'_>) -> Reply {
    let statuses: Map<String, Value> = panel
        .services
        .iter()
        .map(|(key, entry)| {
            let status = match panel.running.get(key) {
                Some(true) => "Active".to_owned(),
                Some(false) => "Inactive".to_owned(),
                None => format!("Error: Unit {key}.service could not be found."),
            };
            let mut entry = match entry {
                Value::Object(fields) => fields.clone(),
                _ => Map::new(),
            };
            entry
                .entry("name")
                .or_insert_with(|| Value::String(key.clone()));
            entry.insert("status".to_owned(), Value::String(status));
            (key.clone(), Value::Object(entry))
        })
        .collect();
    Reply::ok(Value::Object(statuses))
}

/// `POST /api/service/{start|restart|stop}/{service_name}` (reading 18).
pub(super) fn service_action(panel: &mut Panel, call: &Call<'_>) -> Reply {
    let (running, done) = match call.param("action") {
        "start" => (true, "started"),
        "restart" => (true, "restarted"),
        "stop" => (false, "stopped"),
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "Invalid action. Use start, restart, or stop",
            );
        }
    };
    let key = call.param("service_name");
    if !panel.services.contains_key(key) {
        return error(StatusCode::NOT_FOUND, &format!("Service {key} not found"));
    }
    let label = panel.service_label(key);
    let Some(state) = panel.running.get_mut(key) else {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!(
                "Failed to {} {label}: Unit {key}.service not found.",
                call.param("action")
            ),
        );
    };
    *state = running;
    Reply::ok(json!({ "success": format!("{label} {done} successfully") }))
}

/// `GET /api/notifications`: the doc's array of `{title, message}`.
pub(super) fn notifications(panel: &mut Panel, _: &Call<'_>) -> Reply {
    let notifications: Vec<Value> = panel
        .notifications
        .iter()
        .map(|(title, message)| json!({"title": title, "message": message}))
        .collect();
    Reply::ok(Value::Array(notifications))
}
