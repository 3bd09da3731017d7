//! Which scope each RPC needs: one table for the whole API. An RPC missing
//! here is refused (a test walks the descriptor set to keep it complete).

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

/// (RPC path, scope it needs).
const TABLE: &[(&str, &str)] = &[
    (
        "/panelgate.v1.InventoryService/RegisterServer",
        INVENTORY_WRITE,
    ),
    ("/panelgate.v1.InventoryService/GetServer", INVENTORY_READ),
    ("/panelgate.v1.InventoryService/ListServers", INVENTORY_READ),
    (
        "/panelgate.v1.InventoryService/UpdateServer",
        INVENTORY_WRITE,
    ),
    (
        "/panelgate.v1.InventoryService/DeleteServer",
        INVENTORY_WRITE,
    ),
    ("/panelgate.v1.InventoryService/CheckServer", INVENTORY_READ),
    ("/panelgate.v1.AccountService/CreateAccount", HOSTING_WRITE),
    ("/panelgate.v1.AccountService/GetAccount", HOSTING_READ),
    ("/panelgate.v1.AccountService/ListAccounts", HOSTING_READ),
    ("/panelgate.v1.AccountService/UpdateAccount", HOSTING_WRITE),
    ("/panelgate.v1.AccountService/SuspendAccount", HOSTING_WRITE),
    (
        "/panelgate.v1.AccountService/UnsuspendAccount",
        HOSTING_WRITE,
    ),
    ("/panelgate.v1.AccountService/DeleteAccount", HOSTING_WRITE),
    ("/panelgate.v1.AccountService/ChangePackage", HOSTING_WRITE),
    ("/panelgate.v1.AccountService/ChangePassword", HOSTING_WRITE),
    (
        "/panelgate.v1.AccountService/CreateLoginLink",
        HOSTING_LOGIN,
    ),
    ("/panelgate.v1.AccountService/GetAccountUsage", HOSTING_READ),
    ("/panelgate.v1.PackageService/ListPackages", HOSTING_READ),
    ("/panelgate.v1.PackageService/GetPackage", HOSTING_READ),
    ("/panelgate.v1.PackageService/CreatePackage", HOSTING_WRITE),
    ("/panelgate.v1.PackageService/UpdatePackage", HOSTING_WRITE),
    ("/panelgate.v1.PackageService/DeletePackage", HOSTING_WRITE),
    ("/panelgate.v1.DomainService/AddDomain", HOSTING_WRITE),
    ("/panelgate.v1.DomainService/ListDomains", HOSTING_READ),
    ("/panelgate.v1.DomainService/SuspendDomain", HOSTING_WRITE),
    ("/panelgate.v1.DomainService/UnsuspendDomain", HOSTING_WRITE),
    ("/panelgate.v1.DomainService/DeleteDomain", HOSTING_WRITE),
    (
        "/panelgate.v1.DatabaseService/CreateDatabase",
        HOSTING_WRITE,
    ),
    (
        "/panelgate.v1.CertificateService/IssueCertificate",
        HOSTING_WRITE,
    ),
    ("/panelgate.v1.ServerService/GetServerInfo", HOSTING_READ),
    (
        "/panelgate.v1.ServerService/ControlSystemService",
        PANELS_ADMIN,
    ),
    (
        "/panelgate.v1.ServerService/SetSystemServiceMonitored",
        PANELS_ADMIN,
    ),
    (
        "/panelgate.v1.ServerService/ListNotifications",
        HOSTING_READ,
    ),
    ("/panelgate.v1.ServerService/CreatePanelAdmin", PANELS_ADMIN),
    ("/panelgate.v1.ServerService/ListPanelAdmins", PANELS_ADMIN),
    (
        "/panelgate.v1.OperationService/ListOperations",
        OPERATIONS_READ,
    ),
    (
        "/panelgate.v1.OperationService/GetOperation",
        OPERATIONS_READ,
    ),
];

/// The table's own copy of `path` ("/package.Service/Method"), if it is an
/// RPC of the API.
pub fn rpc(path: &str) -> Option<&'static str> {
    TABLE.iter().map(|(rpc, _)| *rpc).find(|rpc| *rpc == path)
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
    TABLE
        .iter()
        .find(|(rpc, _)| *rpc == path)
        .map_or(Access::Unknown, |(_, scope)| Access::Scope(scope))
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use prost::Message;
    use prost_types::FileDescriptorSet;

    use super::*;

    /// Every RPC of the API has exactly one entry, and every entry is an RPC.
    #[test]
    fn the_table_covers_every_rpc_in_the_descriptor_set() {
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
        let table: HashSet<String> = TABLE.iter().map(|(rpc, _)| (*rpc).to_owned()).collect();
        let missing: Vec<&String> = rpcs.difference(&table).collect();
        let stale: Vec<&String> = table.difference(&rpcs).collect();
        assert!(missing.is_empty(), "RPCs without a scope: {missing:?}");
        assert!(
            stale.is_empty(),
            "scopes for RPCs that do not exist: {stale:?}"
        );
        assert_eq!(table.len(), TABLE.len(), "an RPC is listed twice");
        assert!(TABLE.iter().all(|(_, scope)| ALL.contains(scope)));
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
