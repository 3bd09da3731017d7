//! Package lists, cached per server in moka (TTL from config; CreatePackage
//! drops the server's entry), and package resolution for CreateAccount and
//! ChangePackage: by name, then by the panel's id.

use std::{sync::Arc, time::Duration};

use moka::future::Cache;
use panelgate_adapters::{PackageRef, metrics::PanelMetrics};
use panelgate_proto::v1::{Operation, Package};

use crate::{error::GatewayError, routing::Route};

/// The per-server package lists.
pub struct PackageCache {
    lists: Cache<String, Arc<Vec<Package>>>,
    metrics: PanelMetrics,
}

impl PackageCache {
    /// A cache keeping each list for `ttl`, counting lookups in `metrics`.
    pub fn new(ttl: Duration, metrics: PanelMetrics) -> Self {
        PackageCache {
            lists: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(ttl)
                .build(),
            metrics,
        }
    }

    /// The server's packages; one panel call per server per TTL, shared by
    /// concurrent callers.
    pub async fn list(&self, route: &Route) -> Result<Arc<Vec<Package>>, GatewayError> {
        let load = async {
            let packages = route
                .panel
                .list_packages()
                .await
                .map_err(|err| route.fail(err))?;
            Ok::<_, GatewayError>(Arc::new(packages))
        };
        self.metrics
            .cached("packages", &self.lists, route.server.id.clone(), load)
            .await
            .map_err(Arc::unwrap_or_clone)
    }

    /// Forgets a server's list (after CreatePackage, or a server change).
    pub async fn invalidate(&self, server_id: &str) {
        self.lists.invalidate(server_id).await;
    }

    /// Resolves `wanted` (a name or an id) to one of the server's packages.
    /// A miss reloads the list once, for packages made outside panelgate. On
    /// panels without package lists, the name is passed through as given.
    pub async fn resolve(
        &self,
        route: &Route,
        field: &str,
        wanted: &str,
    ) -> Result<PackageRef, GatewayError> {
        if !route
            .panel
            .capabilities()
            .contains(&Operation::ListPackages)
        {
            return Ok(PackageRef {
                id: wanted.to_owned(),
                name: wanted.to_owned(),
            });
        }
        if let Some(found) = find(&self.list(route).await?, wanted) {
            return Ok(found);
        }
        self.invalidate(&route.server.id).await;
        let packages = self.list(route).await?;
        find(&packages, wanted).ok_or_else(|| {
            let names: Vec<&str> = packages
                .iter()
                .map(|package| package.name.as_str())
                .collect();
            GatewayError::invalid(
                field,
                format!(
                    "no package `{wanted}` on server `{}`; it has: {}",
                    route.server.name,
                    if names.is_empty() {
                        "none".to_owned()
                    } else {
                        names.join(", ")
                    }
                ),
            )
        })
    }
}

fn find(packages: &[Package], wanted: &str) -> Option<PackageRef> {
    packages
        .iter()
        .find(|package| package.name == wanted)
        .or_else(|| packages.iter().find(|package| package.id == wanted))
        .map(|package| PackageRef {
            id: package.id.clone(),
            name: package.name.clone(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package(id: &str, name: &str) -> Package {
        Package {
            id: id.into(),
            name: name.into(),
            limits: None,
        }
    }

    #[test]
    fn names_win_over_ids() {
        let packages = [package("1", "Basic"), package("2", "1")];
        assert_eq!(find(&packages, "Basic").map(|p| p.id), Some("1".into()));
        // "1" is both an id and a name: the name is what callers see.
        assert_eq!(find(&packages, "1").map(|p| p.id), Some("2".into()));
        assert_eq!(find(&packages, "2").map(|p| p.name), Some("1".into()));
        assert_eq!(find(&packages, "basic"), None);
    }
}
