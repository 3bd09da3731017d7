//! One well-formed call per canonical operation, so tests can walk every
//! operation a panel does or does not declare.

use panelgate_proto::{Capability, v1::*};
use tonic::Status;

use crate::Gateway;

/// Every canonical operation.
pub const ALL: &[Capability] = &[
    Capability::CreateAccount,
    Capability::GetAccount,
    Capability::ListAccounts,
    Capability::UpdateAccount,
    Capability::SuspendAccount,
    Capability::UnsuspendAccount,
    Capability::DeleteAccount,
    Capability::ChangePackage,
    Capability::ChangePassword,
    Capability::CreateLoginLink,
    Capability::GetAccountUsage,
    Capability::ListPackages,
    Capability::CreatePackage,
    Capability::AddDomain,
    Capability::ListDomains,
    Capability::SuspendDomain,
    Capability::UnsuspendDomain,
    Capability::DeleteDomain,
    Capability::CreateDatabase,
    Capability::IssueCertificate,
    Capability::GetServerInfo,
    Capability::GetPackage,
    Capability::ControlSystemService,
    Capability::SetSystemServiceMonitored,
    Capability::ListNotifications,
    Capability::CreatePanelAdmin,
    Capability::ListPanelAdmins,
    Capability::UpdatePackage,
    Capability::DeletePackage,
];

/// Whether `operation` changes something on the panel (a login link is
/// made too).
pub fn is_mutation(operation: Capability) -> bool {
    !matches!(
        operation,
        Capability::Unspecified
            | Capability::GetAccount
            | Capability::ListAccounts
            | Capability::GetAccountUsage
            | Capability::ListPackages
            | Capability::GetPackage
            | Capability::ListDomains
            | Capability::GetServerInfo
            | Capability::ListNotifications
            | Capability::ListPanelAdmins
    )
}

/// The system service calls act on (every panel that has services runs it).
pub const SERVICE: &str = "mysql";

/// What a call is about: an account (whose domain is `<username>.example`,
/// to which AddDomain adds `shop.<username>.example`, the domain the other
/// domain calls act on), packages the server has, and the request id that
/// mutations carry.
#[derive(Clone, Copy, Debug)]
pub struct About<'a> {
    /// The account.
    pub username: &'a str,
    /// A package for new accounts, and another to change to.
    pub packages: (&'a str, &'a str),
    /// The `request_id` of mutations ("" for none).
    pub request_id: &'a str,
}

impl<'a> About<'a> {
    /// Account `username` on a server with `packages`.
    pub fn of(username: &'a str, packages: (&'a str, &'a str)) -> Self {
        About {
            username,
            packages,
            request_id: "",
        }
    }

    /// Account `username` on a server with admin_api's packages (Basic, Premium).
    pub fn account(username: &'a str) -> Self {
        Self::of(username, ("Basic", "Premium"))
    }
}

/// Calls `operation` on the server `target` names, with valid inputs about
/// `about`.
pub async fn call(
    gateway: &Gateway,
    target: Option<Target>,
    operation: Capability,
    about: About<'_>,
) -> Result<(), Status> {
    let username = about.username.to_owned();
    let domain = format!("{username}.example");
    let added = format!("shop.{domain}");
    let (package, other_package) = about.packages;
    let request_id = about.request_id.to_owned();
    match operation {
        Capability::Unspecified => Err(Status::invalid_argument("no operation")),
        Capability::CreateAccount => gateway
            .accounts()
            .create_account(CreateAccountRequest {
                target,
                username,
                primary_domain: domain,
                email: "owner@example.com".into(),
                password: "a-long-password".into(),
                package: package.into(),
                request_id,
                ..Default::default()
            })
            .await
            .map(drop),
        Capability::GetAccount => gateway
            .accounts()
            .get_account(GetAccountRequest { target, username })
            .await
            .map(drop),
        Capability::ListAccounts => gateway
            .accounts()
            .list_accounts(ListAccountsRequest {
                target,
                ..Default::default()
            })
            .await
            .map(drop),
        Capability::UpdateAccount => gateway
            .accounts()
            .update_account(UpdateAccountRequest {
                target,
                username,
                email: Some("new@example.com".into()),
                request_id,
                ..Default::default()
            })
            .await
            .map(drop),
        Capability::SuspendAccount => gateway
            .accounts()
            .suspend_account(SuspendAccountRequest {
                target,
                username,
                request_id,
                ..Default::default()
            })
            .await
            .map(drop),
        Capability::UnsuspendAccount => gateway
            .accounts()
            .unsuspend_account(UnsuspendAccountRequest {
                target,
                username,
                request_id,
                ..Default::default()
            })
            .await
            .map(drop),
        Capability::DeleteAccount => gateway
            .accounts()
            .delete_account(DeleteAccountRequest {
                target,
                username,
                request_id,
                ..Default::default()
            })
            .await
            .map(drop),
        Capability::ChangePackage => gateway
            .accounts()
            .change_package(ChangePackageRequest {
                target,
                username,
                package: other_package.into(),
                request_id,
                ..Default::default()
            })
            .await
            .map(drop),
        Capability::ChangePassword => gateway
            .accounts()
            .change_password(ChangePasswordRequest {
                target,
                username,
                password: "another-long-password".into(),
                request_id,
                ..Default::default()
            })
            .await
            .map(drop),
        Capability::CreateLoginLink => gateway
            .accounts()
            .create_login_link(CreateLoginLinkRequest { target, username })
            .await
            .map(drop),
        Capability::GetAccountUsage => gateway
            .accounts()
            .get_account_usage(GetAccountUsageRequest { target, username })
            .await
            .map(drop),
        Capability::ListPackages => gateway
            .packages()
            .list_packages(ListPackagesRequest {
                target,
                ..Default::default()
            })
            .await
            .map(drop),
        Capability::CreatePackage => gateway
            .packages()
            .create_package(CreatePackageRequest {
                target,
                name: format!("pkg{username}"),
                request_id,
                ..Default::default()
            })
            .await
            .map(drop),
        Capability::AddDomain => gateway
            .domains()
            .add_domain(AddDomainRequest {
                target,
                username,
                domain: added,
                request_id,
                ..Default::default()
            })
            .await
            .map(drop),
        Capability::ListDomains => gateway
            .domains()
            .list_domains(ListDomainsRequest {
                target,
                username,
                ..Default::default()
            })
            .await
            .map(drop),
        Capability::SuspendDomain => gateway
            .domains()
            .suspend_domain(SuspendDomainRequest {
                target,
                domain: added,
                request_id,
                ..Default::default()
            })
            .await
            .map(drop),
        Capability::UnsuspendDomain => gateway
            .domains()
            .unsuspend_domain(UnsuspendDomainRequest {
                target,
                domain: added,
                request_id,
                ..Default::default()
            })
            .await
            .map(drop),
        Capability::DeleteDomain => gateway
            .domains()
            .delete_domain(DeleteDomainRequest {
                target,
                domain: added,
                request_id,
                ..Default::default()
            })
            .await
            .map(drop),
        Capability::CreateDatabase => gateway
            .databases()
            .create_database(CreateDatabaseRequest {
                target,
                username,
                database_name: "shop".into(),
                database_user: "shopuser".into(),
                database_password: "a-long-password".into(),
                request_id,
                ..Default::default()
            })
            .await
            .map(drop),
        Capability::IssueCertificate => gateway
            .certificates()
            .issue_certificate(IssueCertificateRequest {
                target,
                domain,
                request_id,
                ..Default::default()
            })
            .await
            .map(drop),
        Capability::GetServerInfo => gateway
            .servers()
            .get_server_info(GetServerInfoRequest { target })
            .await
            .map(drop),
        Capability::GetPackage => gateway
            .packages()
            .get_package(GetPackageRequest {
                target,
                package: package.into(),
            })
            .await
            .map(drop),
        Capability::ControlSystemService => gateway
            .servers()
            .control_system_service(ControlSystemServiceRequest {
                target,
                service: SERVICE.into(),
                action: SystemServiceAction::Restart.into(),
                request_id,
                ..Default::default()
            })
            .await
            .map(drop),
        Capability::SetSystemServiceMonitored => gateway
            .servers()
            .set_system_service_monitored(SetSystemServiceMonitoredRequest {
                target,
                service: SERVICE.into(),
                monitored: true,
                request_id,
                ..Default::default()
            })
            .await
            .map(drop),
        Capability::ListNotifications => gateway
            .servers()
            .list_notifications(ListNotificationsRequest {
                target,
                ..Default::default()
            })
            .await
            .map(drop),
        Capability::CreatePanelAdmin => gateway
            .servers()
            .create_panel_admin(CreatePanelAdminRequest {
                target,
                username: format!("{username}admin"),
                password: "a-long-password".into(),
                full_access: true,
                request_id,
                ..Default::default()
            })
            .await
            .map(drop),
        Capability::UpdatePackage => gateway
            .packages()
            .update_package(UpdatePackageRequest {
                target,
                package: format!("pkg{username}"),
                request_id,
                ..Default::default()
            })
            .await
            .map(drop),
        Capability::DeletePackage => gateway
            .packages()
            .delete_package(DeletePackageRequest {
                target,
                package: format!("pkg{username}"),
                request_id,
                ..Default::default()
            })
            .await
            .map(drop),
        Capability::ListPanelAdmins => gateway
            .servers()
            .list_panel_admins(ListPanelAdminsRequest {
                target,
                ..Default::default()
            })
            .await
            .map(drop),
    }
}
