//! Package lists, cached per server in moka (TTL from config; CreatePackage
//! drops the server's entry), and package resolution: by name, then by the
//! panel's id. A name missing from a fresh list is remembered as missing for
//! a short while, so unknown names do not make a panel call each time.

use std::{sync::Arc, time::Duration};

use moka::future::Cache;
use panelgate_adapters::{AdapterError, Entity, PackageRef, metrics::PanelMetrics};
use panelgate_proto::Capability;
use panelgate_proto::v1::Package;

use crate::{
    caches::{self, Budget},
    config::Config,
    error::GatewayError,
    routing::Route,
};

/// How long a package name a fresh list lacked stays known as missing.
const MISSING_TTL: Duration = Duration::from_secs(30);

/// The per-server package lists.
pub struct PackageCache {
    lists: Cache<String, Arc<Vec<Package>>>,
    /// (server id, name) a list just reloaded did not have.
    missing: Cache<(String, String), ()>,
    metrics: PanelMetrics,
}

impl PackageCache {
    /// A cache keeping each list for the configured TTL, within its share of
    /// the cache budget, counting lookups in `metrics`.
    pub fn new(config: &Config, metrics: PanelMetrics) -> Self {
        let budget = Budget::mib(config.cache_memory_mib).packages();
        PackageCache {
            lists: caches::weighed(
                budget,
                Some(config.package_cache_ttl),
                |id: &String, list: &Arc<Vec<Package>>| id.len() + caches::packages_bytes(list),
            ),
            missing: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(MISSING_TTL)
                .build(),
            metrics,
        }
    }

    /// The server's packages; one panel call per server per TTL, shared by
    /// concurrent callers.
    pub async fn list(&self, route: &Route) -> Result<Arc<Vec<Package>>, GatewayError> {
        let load = || async {
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

    /// Forgets a server's list (after a package change through panelgate,
    /// or a server change), and every name known as missing.
    pub async fn invalidate(&self, server_id: &str) {
        self.lists.invalidate(server_id).await;
        self.missing.invalidate_all();
    }

    /// Forgets every list.
    pub fn invalidate_all(&self) {
        self.lists.invalidate_all();
        self.missing.invalidate_all();
    }

    /// Resolves `wanted` (a name or an id), which request field `field`
    /// names, to one of the server's packages: INVALID_ARGUMENT listing the
    /// server's packages when it has none such. On panels without package
    /// lists, the name is passed through as given.
    pub async fn resolve(
        &self,
        route: &Route,
        field: &str,
        wanted: &str,
    ) -> Result<PackageRef, GatewayError> {
        self.lookup(route, wanted).await?.map_err(|names| {
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

    /// The package a call acts on: NOT_FOUND (PACKAGE_NOT_FOUND) when the
    /// server has none such.
    pub async fn existing(&self, route: &Route, wanted: &str) -> Result<PackageRef, GatewayError> {
        self.lookup(route, wanted).await?.map_err(|_| {
            route.fail(AdapterError::NotFound {
                entity: Entity::Package,
                key: wanted.to_owned(),
                upstream: None,
            })
        })
    }

    /// The package `wanted` names, or the names of the server's packages.
    /// A miss reloads the list once (for packages made outside panelgate),
    /// unless a reload just missed it too.
    async fn lookup(
        &self,
        route: &Route,
        wanted: &str,
    ) -> Result<Result<PackageRef, Vec<String>>, GatewayError> {
        if !route
            .panel
            .capabilities()
            .contains(&Capability::ListPackages)
        {
            return Ok(Ok(PackageRef {
                id: wanted.to_owned(),
                name: wanted.to_owned(),
            }));
        }
        let cached = self.list(route).await?;
        if let Some(found) = find(&cached, wanted) {
            return Ok(Ok(found));
        }
        let key = (route.server.id.clone(), wanted.to_owned());
        let packages = if self.missing.contains_key(&key) {
            cached
        } else {
            self.lists.invalidate(&route.server.id).await;
            self.list(route).await?
        };
        if let Some(found) = find(&packages, wanted) {
            return Ok(Ok(found));
        }
        self.missing.insert(key, ()).await;
        Ok(Err(packages
            .iter()
            .map(|package| package.name.clone())
            .collect()))
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
