//! OpenAdmin replies → canonical messages, and canonical package limits →
//! plan fields.
//!
//! Units, as the panel's plans state them: disk and bandwidth in GB ("10 GB", or
//! a bare number of GB), counts as numbers where 0 means unlimited; per-user
//! quota figures (`/api/usage/disk`) in 1 KiB blocks, as `repquota` prints them.

use std::collections::BTreeMap;

use panelgate_proto::v1::{
    Account, AccountStatus, AccountUsage, Domain, DomainStatus, FilesystemUsage, Limit,
    Notification, Package, PackageLimits, ResourceUsage, ServiceState, SystemService,
};
use serde_json::{Map, Value, json};

use super::wire::{DomainEntry, NotificationEntry, Notifications, Plan, UserDetail, UserListEntry};
use crate::{
    AdapterError, Result,
    units::{self, SizeUnit},
};

const MIB: u64 = 1024 * 1024;
const MIB_PER_GB: u64 = 1024;
const KIB: u64 = 1024;

/// The prefix the panel gives a suspended account's username.
const SUSPENDED_PREFIX: &str = "SUSPENDED_";

/// Whether the panel has renamed the account as suspended.
pub(super) fn is_suspended(detail: &UserDetail) -> bool {
    detail.user.username.starts_with(SUSPENDED_PREFIX)
}

/// The account's own name in a renamed row: `SUSPENDED_<x>_<username>` (any
/// `<x>`; usernames have no `_`), or None when the row is not renamed.
fn unsuspended_name(stored: &str) -> Option<&str> {
    stored
        .strip_prefix(SUSPENDED_PREFIX)?
        .rsplit_once('_')
        .map(|(_, username)| username)
}

/// One account's detail (and its dedicated IP, if any).
pub(super) fn account(
    username: &str,
    detail: &UserDetail,
    dedicated_ip: Option<String>,
) -> Account {
    let suspended = is_suspended(detail);
    Account {
        username: username.to_owned(),
        server_id: String::new(),
        primary_domain: detail
            .domains
            .first()
            .map(|domain| domain_name(&domain.domain_url))
            .unwrap_or_default(),
        email: detail.user.email.clone().unwrap_or_default(),
        package: detail
            .plan
            .as_ref()
            .map(|plan| plan.name.clone())
            .unwrap_or_default(),
        status: if suspended {
            AccountStatus::Suspended
        } else {
            AccountStatus::Active
        }
        .into(),
        full_name: String::new(),
        panel_user_id: units::as_text(&detail.user.id).unwrap_or_default(),
        dedicated_ip: dedicated_ip.unwrap_or_default(),
        panel_details: None,
    }
}

/// One entry of the account list, which shows a suspended account under its
/// `SUSPENDED_` name.
pub(super) fn listed_account(entry: UserListEntry, ips: &BTreeMap<String, Value>) -> Account {
    let (username, status) = match unsuspended_name(&entry.username) {
        Some(username) => (username.to_owned(), AccountStatus::Suspended),
        None => (entry.username, AccountStatus::Active),
    };
    let dedicated_ip = ips
        .get(&username)
        .and_then(units::as_text)
        .unwrap_or_default();
    Account {
        email: entry.email.unwrap_or_default(),
        package: entry.plan_name.unwrap_or_default(),
        dedicated_ip,
        username,
        status: status.into(),
        ..Default::default()
    }
}

/// A listed domain of `owner` (empty when the list does not say).
pub(super) fn domain(entry: DomainEntry, owner: &str) -> Domain {
    Domain {
        name: domain_name(&entry.domain_url),
        username: owner.to_owned(),
        document_root: entry.docroot.unwrap_or_default(),
        status: DomainStatus::Unspecified.into(),
        panel_domain_id: units::as_text(&entry.domain_id).unwrap_or_default(),
    }
}

/// A domain as the panel lists it: a bare name, or sometimes a URL.
fn domain_name(domain_url: &str) -> String {
    domain_url
        .trim()
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_ascii_lowercase()
}

/// Usage from the account's detail (plan limits, domains) and its quota line.
pub(super) fn usage(detail: &UserDetail, quota: Option<&Value>) -> AccountUsage {
    let plan = detail.plan.as_ref();
    let count_limit =
        |value: Option<&Value>| value.and_then(|value| units::limit(value, units::as_u64, true));
    let quota_bytes = |key: &str| {
        quota
            .and_then(|quota| quota.get(key))
            .and_then(units::as_u64)
            .map(|blocks| blocks.saturating_mul(KIB))
    };
    let quota_count = |key: &str| {
        quota
            .and_then(|quota| quota.get(key))
            .and_then(units::as_u64)
    };
    let quota_limit = |value: Option<u64>| {
        value.map(|max| Limit {
            max: (max != 0).then_some(max),
        })
    };
    AccountUsage {
        disk_bytes: quota_bytes("diskusage").map(|used| ResourceUsage {
            used,
            limit: quota_limit(quota_bytes("disklimit")),
        }),
        bandwidth_bytes: quota_bytes("bwusage").map(|used| ResourceUsage {
            used,
            limit: quota_limit(quota_bytes("bwlimit")),
        }),
        inodes: quota_count("inodesusage").map(|used| ResourceUsage {
            used,
            limit: quota_limit(quota_count("inodeslimit")),
        }),
        domains: Some(ResourceUsage {
            used: detail.domains.len() as u64,
            limit: count_limit(plan.map(|plan| &plan.domains_limit)),
        }),
        ..Default::default()
    }
}

/// A plan as a canonical package.
pub(super) fn package(plan: &Plan) -> Result<Package> {
    let id = units::as_text(&plan.id).ok_or_else(|| {
        AdapterError::protocol(
            format!("plan `{}` has no readable id", plan.name),
            &plan.id.to_string(),
        )
    })?;
    let count = |value: &Value| units::limit(value, units::as_u64, true);
    let gigabytes = |value: &Value| units::limit(value, gb_as_mib, true);
    Ok(Package {
        id,
        name: plan.name.clone(),
        limits: Some(PackageLimits {
            disk_mib: gigabytes(&plan.disk_limit),
            bandwidth_mib: gigabytes(&plan.bandwidth),
            email_accounts: count(&plan.email_limit),
            databases: count(&plan.db_limit),
            ftp_accounts: count(&plan.ftp_limit),
            domains: count(&plan.domains_limit),
            subdomains: None,
            inodes: count(&plan.inodes_limit),
        }),
    })
}

/// "10 GB", "512 MB" or a bare number of GB, in MiB.
fn gb_as_mib(value: &Value) -> Option<u64> {
    match value {
        Value::String(text) if text.trim().chars().all(|c| c.is_ascii_digit() || c == '.') => {
            units::size_bytes(text, SizeUnit::Bytes).map(|gb| gb.saturating_mul(MIB_PER_GB))
        }
        Value::String(text) => units::size_bytes(text, SizeUnit::Mib).map(|bytes| bytes / MIB),
        Value::Number(_) => units::as_u64(value).map(|gb| gb.saturating_mul(MIB_PER_GB)),
        _ => None,
    }
}

/// The `POST /api/plans` body for a new package: limits in the panel's units
/// (whole GB for disk and bandwidth, 0 for unlimited).
pub(super) fn plan_body(
    name: &str,
    limits: &PackageLimits,
    description: &str,
    websites: Option<&Limit>,
    cpu: &str,
    ram: &str,
) -> Result<Value> {
    let mut body = Map::new();
    body.insert("name".into(), json!(name));
    body.insert("description".into(), json!(description));
    let counts = [
        (
            "email_limit",
            "limits.email_accounts",
            &limits.email_accounts,
        ),
        ("ftp_limit", "limits.ftp_accounts", &limits.ftp_accounts),
        ("domains_limit", "limits.domains", &limits.domains),
        ("inodes_limit", "limits.inodes", &limits.inodes),
        ("db_limit", "limits.databases", &limits.databases),
        (
            "websites_limit",
            "panel_options.openadmin.websites",
            &websites.copied(),
        ),
    ];
    for (panel_field, canonical, limit) in counts {
        if let Some(value) = panel_number(canonical, limit.as_ref(), 1)? {
            body.insert(panel_field.into(), json!(value));
        }
    }
    for (panel_field, canonical, limit) in [
        ("disk_limit", "limits.disk_mib", &limits.disk_mib),
        ("bandwidth", "limits.bandwidth_mib", &limits.bandwidth_mib),
    ] {
        if let Some(value) = panel_number(canonical, limit.as_ref(), MIB_PER_GB)? {
            body.insert(panel_field.into(), json!(value));
        }
    }
    if limits.subdomains.is_some() {
        return Err(AdapterError::invalid(
            "limits.subdomains",
            "OpenAdmin plans have no subdomain limit",
        ));
    }
    if !cpu.is_empty() {
        body.insert("cpu".into(), json!(cpu));
    }
    if !ram.is_empty() {
        body.insert("ram".into(), json!(ram));
    }
    Ok(Value::Object(body))
}

/// A limit in the panel's unit (`per` canonical units each); 0 means unlimited
/// there, so a disabled resource cannot be expressed.
fn panel_number(field: &str, limit: Option<&Limit>, per: u64) -> Result<Option<u64>> {
    match units::zero_for_unlimited("OpenAdmin", field, limit)? {
        Some(max) if max % per != 0 => Err(AdapterError::invalid(
            field,
            format!("OpenAdmin takes whole GB: use a multiple of {per} MiB"),
        )),
        number => Ok(number.map(|max| max / per)),
    }
}

/// The last (current) line of the JSON-in-a-string usage stats: accounts.
pub(super) fn account_count(usage_stats: &str) -> Option<u64> {
    usage_stats
        .lines()
        .rev()
        .filter_map(|line| serde_json::from_str::<Value>(line.trim()).ok())
        .find_map(|line| line.get("users").and_then(units::as_u64))
}

/// Per-core CPU use from `{"core_0": 12.5, ...}` (doc) or `{"cpu0": ...}` (Go),
/// in core order.
pub(super) fn cpu_percent(cores: &Map<String, Value>) -> Vec<f64> {
    let mut numbered: Vec<(u64, f64)> = cores
        .iter()
        .filter_map(|(key, value)| {
            let index = key
                .trim_start_matches("core_")
                .trim_start_matches("cpu")
                .parse()
                .ok()?;
            Some((
                index,
                value.as_f64().or_else(|| value.as_str()?.parse().ok())?,
            ))
        })
        .collect();
    numbered.sort_by_key(|(index, _)| *index);
    numbered.into_iter().map(|(_, percent)| percent).collect()
}

/// A filesystem line, in bytes.
pub(super) fn filesystem(mount_point: String, total: &Value, used: &Value) -> FilesystemUsage {
    FilesystemUsage {
        mount_point,
        total_bytes: units::as_u64(total).unwrap_or_default(),
        used_bytes: units::as_u64(used).unwrap_or_default(),
    }
}

/// Services and their state from `/api/services/status`: entries keyed by
/// service, or an array, each with a `name` and a `status` such as "Active",
/// "Inactive" or "Error: ...".
pub(super) fn services(status: &Value) -> Vec<SystemService> {
    let entries: Vec<(Option<&String>, &Value)> = match status {
        Value::Object(map) => map.iter().map(|(key, entry)| (Some(key), entry)).collect(),
        Value::Array(list) => list.iter().map(|entry| (None, entry)).collect(),
        _ => Vec::new(),
    };
    entries
        .into_iter()
        .filter_map(|(key, entry)| {
            let name = key
                .cloned()
                .or_else(|| entry.get("name")?.as_str().map(str::to_owned))?;
            let state = entry
                .get("status")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_ascii_lowercase();
            let state = match state.as_str() {
                "active" | "running" => ServiceState::Running,
                "inactive" | "stopped" | "dead" => ServiceState::Stopped,
                other if other.starts_with("error") || other.starts_with("fail") => {
                    ServiceState::Failed
                }
                _ => ServiceState::Unspecified,
            };
            Some(SystemService {
                name,
                state: state.into(),
            })
        })
        .collect()
}

/// Notifications, structured or bare lines.
pub(super) fn notifications(reply: Notifications) -> Vec<Notification> {
    let entries = match reply {
        Notifications::Bare(entries)
        | Notifications::Wrapped {
            notifications: entries,
        } => entries,
    };
    entries
        .into_iter()
        .map(|entry| match entry {
            NotificationEntry::Structured { title, message } => Notification { title, message },
            NotificationEntry::Line(message) => Notification {
                title: String::new(),
                message,
            },
        })
        .collect()
}

/// Whether the panel's own endpoint listing (`GET /api/usage`) has plan
/// creation: some entry, or some text, names both POST and `/api/plans`.
pub(super) fn lists_plan_creation(listing: &Value) -> bool {
    let mentions = |text: &str| {
        text.contains("POST")
            && text
                .split_whitespace()
                .any(|word| word.trim_end_matches(['/', ',']) == "/api/plans")
    };
    match listing {
        Value::String(text) => mentions(text),
        Value::Array(items) => items.iter().any(lists_plan_creation),
        Value::Object(map) => {
            let method_and_path = map.values().any(|value| value.as_str() == Some("POST"))
                && map.values().any(|value| {
                    value
                        .as_str()
                        .is_some_and(|path| path.trim_end_matches('/') == "/api/plans")
                });
            method_and_path
                || map
                    .iter()
                    .any(|(key, value)| mentions(key) || lists_plan_creation(value))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests;
