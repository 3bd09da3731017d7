//! OpenAdmin's server calls: system information (six reads at once), the
//! system services (controlled, and monitored through the services list).

use panelgate_proto::v1::{ServerInfo, SystemServiceAction};
use reqwest::Method;
use serde_json::{Map, Value, json};

use super::{
    OpenAdmin,
    error::Subject,
    mapping,
    wire::{Filesystem, Memory, System, UsageStats},
};
use crate::{AdapterError, Entity, Result, http::UrlPath, units};

impl OpenAdmin {
    pub(super) async fn server_info(&self) -> Result<ServerInfo> {
        let subject = Subject::new("server");
        let (system, stats, cpu, memory, disks, services) = tokio::join!(
            self.client.get::<System>("api/system", subject),
            self.client.get::<UsageStats>("api/usage/stats", subject),
            self.client
                .get::<Map<String, Value>>("api/usage/cpu", subject),
            self.client.get::<Memory>("api/usage/memory", subject),
            self.client
                .get::<Vec<Filesystem>>("api/usage/server", subject),
            self.client.get::<Value>("api/services/status", subject),
        );
        let system = system?;
        let memory = memory?;
        Ok(ServerInfo {
            hostname: system.hostname.unwrap_or_default(),
            os: system.os.unwrap_or_default(),
            kernel: system.kernel.unwrap_or_default(),
            panel_version: system.openpanel_version.unwrap_or_default(),
            uptime: units::as_u64(&system.uptime).map(|seconds| prost_types::Duration {
                seconds: i64::try_from(seconds).unwrap_or(i64::MAX),
                nanos: 0,
            }),
            cpu_percent: mapping::cpu_percent(&cpu?),
            memory_total_bytes: units::as_u64(&memory.ram_info.total).unwrap_or_default(),
            memory_used_bytes: units::as_u64(&memory.ram_info.used).unwrap_or_default(),
            filesystems: disks?
                .into_iter()
                .map(|disk| mapping::filesystem(disk.mountpoint, &disk.total, &disk.used))
                .collect(),
            services: mapping::services(&services?),
            account_count: mapping::account_count(&stats?.usage_stats),
        })
    }

    /// `POST api/service/<verb>/<service>`.
    pub(super) async fn control_service(
        &self,
        service: &str,
        action: SystemServiceAction,
    ) -> Result<()> {
        let verb = match action {
            SystemServiceAction::Start => "start",
            SystemServiceAction::Stop => "stop",
            SystemServiceAction::Restart => "restart",
            SystemServiceAction::Unspecified => {
                return Err(AdapterError::invalid(
                    "action",
                    "must be START, STOP or RESTART",
                ));
            }
        };
        let path = UrlPath::route("api/service")
            .then(verb)
            .value("service", service)?;
        self.client
            .mutate(Method::POST, path, None, Subject::new(service))
            .await
            .map(drop)
    }

    /// Sets one service's `status` in the services list and writes the
    /// whole list back.
    pub(super) async fn set_monitored(&self, service: &str, monitored: bool) -> Result<()> {
        let subject = Subject::new(service);
        let mut services: Map<String, Value> = self.client.get("api/services", subject).await?;
        let entry = services
            .iter_mut()
            .find(|(key, entry)| {
                key.eq_ignore_ascii_case(service)
                    || entry
                        .get("name")
                        .and_then(Value::as_str)
                        .is_some_and(|name| name.eq_ignore_ascii_case(service))
            })
            .map(|(_, entry)| entry)
            .ok_or_else(|| AdapterError::NotFound {
                entity: Entity::Service,
                key: service.to_owned(),
                upstream: None,
            })?;
        let Value::Object(entry) = entry else {
            return Err(AdapterError::protocol(
                format!("service `{service}` is not an object in the panel's list"),
                &entry.to_string(),
            ));
        };
        entry.insert(
            "status".into(),
            json!(if monitored { "active" } else { "inactive" }),
        );
        let body = Value::Object(services);
        self.client
            .mutate(Method::PUT, "api/services", Some(&body), subject)
            .await
            .map(drop)
    }
}
