//! The scopes, and which one each RPC needs: the `scope` of its `(rpc)`
//! option in the proto (`panelgate_proto::RPCS`; the build refuses an RPC
//! without one). A path that is no RPC is refused.

use panelgate_proto::RPCS;

/// Reading the inventory of servers.
pub const INVENTORY_READ: &str = "inventory:read";
/// Registering, changing and removing servers.
pub const INVENTORY_WRITE: &str = "inventory:write";
/// Reading accounts, packages, domains and server information.
pub const HOSTING_READ: &str = "hosting:read";
/// Changing accounts, packages, domains, databases and certificates.
pub const HOSTING_WRITE: &str = "hosting:write";
/// Creating login links into customers' accounts.
pub const HOSTING_LOGIN: &str = "hosting:login";
/// Administering a panel itself: its system services and administrators.
pub const PANELS_ADMIN: &str = "panels:admin";
/// Reading the operation journal.
pub const OPERATIONS_READ: &str = "operations:read";
/// Server reflection, unless it is public (`--reflection-public`).
pub const REFLECTION: &str = "reflection";

/// Every scope, for `panelgate token issue` and the docs.
pub const ALL: &[&str] = &[
    INVENTORY_READ,
    INVENTORY_WRITE,
    HOSTING_READ,
    HOSTING_WRITE,
    HOSTING_LOGIN,
    PANELS_ADMIN,
    OPERATIONS_READ,
    REFLECTION,
];

/// The facts' own copy of `path` ("/package.Service/Method"), if it is an
/// RPC of the API.
pub fn rpc(path: &str) -> Option<&'static str> {
    RPCS.iter().map(|rpc| rpc.path).find(|rpc| *rpc == path)
}

/// What a request path needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Nothing: health checks (Kubernetes probes carry no token).
    Open,
    /// A valid token with this scope.
    Scope(&'static str),
    /// Refused: a path panelgate does not know.
    Unknown,
}

/// The access `path` ("/package.Service/Method") needs.
pub fn access(path: &str, reflection_public: bool) -> Access {
    if path.starts_with("/grpc.health.v1.Health/") {
        return Access::Open;
    }
    if path.starts_with("/grpc.reflection.") {
        return if reflection_public {
            Access::Open
        } else {
            Access::Scope(REFLECTION)
        };
    }
    RPCS.iter()
        .find(|rpc| rpc.path == path)
        .map_or(Access::Unknown, |rpc| Access::Scope(rpc.scope))
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use prost::Message;
    use prost_types::FileDescriptorSet;

    use super::*;

    /// Every RPC of the API has facts with a scope a token can hold, and
    /// every facts' RPC exists.
    #[test]
    fn every_rpc_in_the_descriptor_set_needs_a_known_scope() {
        let descriptors = FileDescriptorSet::decode(panelgate_proto::FILE_DESCRIPTOR_SET)
            .expect("descriptor set");
        let rpcs: HashSet<String> = descriptors
            .file
            .iter()
            .filter(|file| file.package() == "panelgate.v1")
            .flat_map(|file| {
                file.service.iter().flat_map(|service| {
                    service.method.iter().map(move |method| {
                        format!("/panelgate.v1.{}/{}", service.name(), method.name())
                    })
                })
            })
            .collect();
        let declared: HashSet<String> = RPCS.iter().map(|rpc| rpc.path.to_owned()).collect();
        assert_eq!(rpcs, declared);
        assert_eq!(declared.len(), RPCS.len(), "an RPC is listed twice");
        for rpc in RPCS {
            assert!(
                ALL.contains(&rpc.scope),
                "{}: unknown scope {}",
                rpc.path,
                rpc.scope
            );
        }
    }

    #[test]
    fn health_is_open_reflection_depends_unknown_is_refused() {
        assert_eq!(access("/grpc.health.v1.Health/Check", false), Access::Open);
        assert_eq!(
            access(
                "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
                false
            ),
            Access::Scope(REFLECTION)
        );
        assert_eq!(
            access(
                "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                true
            ),
            Access::Open
        );
        assert_eq!(
            access("/panelgate.v1.AccountService/CreateLoginLink", false),
            Access::Scope(HOSTING_LOGIN)
        );
        assert_eq!(access("/panelgate.v1.Nope/Nothing", false), Access::Unknown);
    }
}
