//! The plan routes and the two ways the panel renders a plan.

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::SimPlan;
use super::endpoints::{Call, Reply, cli_failure, error};
use super::state::Panel;
use super::users::filled;

/// A plan in `GET /api/plans` and `GET /api/plans/{id}`: the v1.7.60 doc's
/// fields plus the Go build's `email_limit` and `ftp_limit` (reading 10).
pub(super) fn plan_json(plan: &SimPlan) -> Value {
    json!({
        "id": plan.id,
        "name": plan.name,
        "description": plan.description,
        "bandwidth": plan.bandwidth_gb,
        "cpu": plan.cpu,
        "ram": plan.ram,
        "disk_limit": format!("{} GB", plan.disk_limit_gb),
        "storage_file": "0 GB",
        "inodes_limit": plan.inodes_limit,
        "db_limit": plan.db_limit,
        "domains_limit": plan.domains_limit,
        "websites_limit": plan.websites_limit,
        "email_limit": plan.email_limit,
        "ftp_limit": plan.ftp_limit,
        "docker_image": plan.docker_image,
    })
}

/// A plan inside `GET /api/users/{username}`: the Go build's field set, with
/// the same values as [`plan_json`] (reading 10).
pub(super) fn user_plan_json(plan: &SimPlan) -> Value {
    json!({
        "id": plan.id,
        "name": plan.name,
        "description": plan.description,
        "domains_limit": plan.domains_limit,
        "websites_limit": plan.websites_limit,
        "email_limit": plan.email_limit,
        "ftp_limit": plan.ftp_limit,
        "disk_limit": format!("{} GB", plan.disk_limit_gb),
        "inodes_limit": plan.inodes_limit,
        "db_limit": plan.db_limit,
        "cpu": plan.cpu,
        "ram": plan.ram,
        "bandwidth": plan.bandwidth_gb,
        "feature_set": plan.feature_set,
    })
}

/// `GET /api/plans`.
pub(super) fn list(panel: &mut Panel, _: &Call<'_>) -> Reply {
    let plans: Vec<Value> = panel.plans().iter().map(plan_json).collect();
    Reply::ok(json!({ "plans": plans }))
}

/// `GET /api/plans/{plan_id}`: by numeric id.
pub(super) fn get(panel: &mut Panel, call: &Call<'_>) -> Reply {
    let plan = call
        .param("plan_id")
        .parse::<u64>()
        .ok()
        .and_then(|id| panel.plan(id));
    match plan {
        Some(plan) => Reply::ok(json!({ "plan": plan_json(plan) })),
        None => error(StatusCode::NOT_FOUND, "Plan not found"),
    }
}

/// `POST /api/plans` (Go build): `opencli plan-create` (reading 11).
pub(super) fn create(panel: &mut Panel, call: &Call<'_>) -> Reply {
    let Some(fields) = call.object() else {
        return error(StatusCode::BAD_REQUEST, "Invalid JSON format");
    };
    let Some(name) = filled(&fields, "name") else {
        return error(StatusCode::BAD_REQUEST, "Missing required fields");
    };
    let mut numbers = [0; 9];
    let keys = [
        "email_limit",
        "ftp_limit",
        "domains_limit",
        "websites_limit",
        "disk_limit",
        "inodes_limit",
        "db_limit",
        "bandwidth",
        "max_email_quota",
    ];
    for (slot, key) in numbers.iter_mut().zip(keys) {
        match count(&fields, key) {
            Some(number) => *slot = number,
            None => return error(StatusCode::BAD_REQUEST, &format!("Invalid value for {key}")),
        }
    }
    let [
        email,
        ftp,
        domains,
        websites,
        disk,
        inodes,
        db,
        bandwidth,
        _,
    ] = numbers;
    let (Some(cpu), Some(ram)) = (
        size_text(&fields, "cpu", "1", ""),
        size_text(&fields, "ram", "1g", "g"),
    ) else {
        return error(StatusCode::BAD_REQUEST, "Invalid value for cpu or ram");
    };
    if panel.plan_named(name).is_some() {
        return cli_failure(&format!("ERROR: Plan name '{name}' already exists."));
    }
    let text = |key: &str, default: &str| {
        fields
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or(default)
            .to_owned()
    };
    panel.insert_plan(SimPlan {
        id: 0,
        name: name.to_owned(),
        description: text("description", ""),
        domains_limit: domains,
        websites_limit: websites,
        email_limit: email,
        ftp_limit: ftp,
        disk_limit_gb: disk,
        inodes_limit: inodes,
        db_limit: db,
        cpu,
        ram,
        bandwidth_gb: bandwidth,
        docker_image: text("docker_image", "openpanel/nginx"),
        feature_set: text("feature_set", "default"),
    });
    Reply::ok(json!({"success": true, "message": "Plan created successfully."}))
}

/// A count sent as a number or a string of digits; absent is 0 (unlimited).
/// `None` if it is something else.
fn count(fields: &Map<String, Value>, key: &str) -> Option<u64> {
    match fields.get(key) {
        None | Some(Value::Null) => Some(0),
        Some(Value::Number(number)) => number.as_u64(),
        Some(Value::String(text)) if text.trim().is_empty() => Some(0),
        Some(Value::String(text)) => text.trim().parse().ok(),
        Some(_) => None,
    }
}

/// `cpu` or `ram` as the panel stores it (a string): a string as sent, a number
/// followed by `unit`; absent is `default`. `None` for anything else.
fn size_text(fields: &Map<String, Value>, key: &str, default: &str, unit: &str) -> Option<String> {
    match fields.get(key) {
        None | Some(Value::Null) => Some(default.to_owned()),
        Some(Value::String(text)) if text.trim().is_empty() => Some(default.to_owned()),
        Some(Value::String(text)) => Some(text.trim().to_owned()),
        Some(Value::Number(number)) => Some(format!("{number}{unit}")),
        Some(_) => None,
    }
}
