//! OpenAdmin's plans (canonical packages): listed, read by name or id, and
//! created where the panel's build has plan creation.

use panelgate_proto::Capability;
use panelgate_proto::v1::Package;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::{
    OpenAdmin,
    accounts::reply_mentions,
    error::{self, Subject},
    mapping,
    wire::{Plan, PlanList, PlanReply},
};
use crate::{AdapterError, Entity, Result, http::UrlPath, units};

impl OpenAdmin {
    pub(super) async fn plans(&self) -> Result<Vec<Plan>> {
        let list: PlanList = self.client.get("api/plans", Subject::new("*")).await?;
        Ok(list.plans)
    }

    /// The plan of id `wanted`, or else of that name.
    pub(super) async fn plan(&self, wanted: &str) -> Result<Package> {
        let id = if wanted.chars().all(|c| c.is_ascii_digit()) {
            wanted.to_owned()
        } else {
            let plans = self.plans().await?;
            let plan = plans
                .iter()
                .find(|plan| plan.name == wanted)
                .ok_or_else(|| AdapterError::NotFound {
                    entity: Entity::Package,
                    key: wanted.to_owned(),
                    upstream: None,
                })?;
            units::as_text(&plan.id).unwrap_or_default()
        };
        let path = UrlPath::route("api/plans").value("package", &id)?;
        let reply: PlanReply = self.client.get(path, Subject::new(wanted)).await?;
        mapping::package(&reply.plan)
    }

    /// `POST api/plans`; a build without that route (404 or 405, unless the
    /// whole API is off) is UNIMPLEMENTED.
    pub(super) async fn create_plan(&self, name: &str, body: &Value) -> Result<()> {
        let subject = Subject::new(name);
        let reply = self
            .client
            .send(Method::POST, "api/plans".into(), Some(body), subject)
            .await?;
        if matches!(
            reply.status,
            StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
        ) && !reply_mentions(&reply.body, "api access is disabled")
        {
            return Err(AdapterError::Unsupported {
                capability: Capability::CreatePackage,
            });
        }
        error::mutated(&reply, subject).map(drop)
    }
}
