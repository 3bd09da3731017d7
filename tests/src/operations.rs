//! One well-formed call per canonical operation, so tests can walk every
//! operation a panel does or does not declare.

use panelgate_proto::v1::*;
use tonic::Status;

use crate::Gateway;

/// Every canonical operation.
pub const ALL: &[Operation] = &[
    Operation::CreateAccount,
    Operation::GetAccount,
    Operation::ListAccounts,
    Operation::UpdateAccount,
    Operation::SuspendAccount,
    Operation::UnsuspendAccount,
    Operation::DeleteAccount,
    Operation::ChangePackage,
    Operation::ChangePassword,
    Operation::CreateLoginLink,
    Operation::GetAccountUsage,
    Operation::ListPackages,
    Operation::CreatePackage,
    Operation::AddDomain,
    Operation::ListDomains,
    Operation::SuspendDomain,
    Operation::UnsuspendDomain,
    Operation::DeleteDomain,
    Operation::CreateDatabase,
    Operation::IssueCertificate,
    Operation::GetServerInfo,
    Operation::GetPackage,
    Operation::ControlSystemService,
    Operation::SetSystemServiceMonitored,
    Operation::ListNotifications,
    Operation::CreatePanelAdmin,
    Operation::ListPanelAdmins,
    Operation::UpdatePackage,
    Operation::DeletePackage,
];

/// Whether `operation` changes something on the panel (a login link is
/// made too).
pub fn is_mutation(operation: Operation) -> bool {
    !matches!(
        operation,
        Operation::Unspecified
            | Operation::GetAccount
            | Operation::ListAccounts
            | Operation::GetAccountUsage
            | Operation::ListPackages
            | Operation::GetPackage
            | Operation::ListDomains
            | Operation::GetServerInfo
            | Operation::ListNotifications
            | Operation::ListPanelAdmins
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
    operation: Operation,
    about: About<'_>,
) -> Result<(), Status> {
    let username = about.username.to_owned();
    let domain = format!("{username}.example");
    let added = format!("shop.{domain}");
    let (package, other_package) = about.packages;
    let request_id = about.request_id.to_owned();
    match operation {
        Operation::Unspecified => Err(Status::invalid_argument("no operation")),
        Operation::CreateAccount => gateway
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
        Operation::GetAccount => gateway
            .accounts()
            .get_account(GetAccountRequest { target, username })
            .await
            .map(drop),
        Operation::ListAccounts => gateway
            .accounts()
            .list_accounts(ListAccountsRequest {
                target,
                ..Default::default()
            })
            .await
            .map(drop),
        Operation::UpdateAccount => gateway
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
        Operation::SuspendAccount => gateway
            .accounts()
            .suspend_account(SuspendAccountRequest {
                target,
                username,
                request_id,
                ..Default::default()
            })
            .await
            .map(drop),
        Operation::UnsuspendAccount => gateway
            .accounts()
            .unsuspend_account(UnsuspendAccountRequest {
                target,
                username,
                request_id,
                ..Default::default()
            })
            .await
            .map(drop),
        Operation::DeleteAccount => gateway
            .accounts()
            .delete_account(DeleteAccountRequest {
                target,
                username,
                request_id,
                ..Default::default()
            })
            .await
            .map(drop),
        Operation::ChangePackage => gateway
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
        Operation::ChangePassword => gateway
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
        Operation::CreateLoginLink => gateway
            .accounts()
            .create_login_link(CreateLoginLinkRequest { target, username })
            .await
            .map(drop),
        Operation::GetAccountUsage => gateway
            .accounts()
            .get_account_usage(GetAccountUsageRequest { target, username })
            .await
            .map(drop),
        Operation::ListPackages => gateway
            .packages()
            .list_packages(ListPackagesRequest {
                target,
                ..Default::default()
            })
            .await
            .map(drop),
        Operation::CreatePackage => gateway
            .packages()
            .create_package(CreatePackageRequest {
                target,
                name: format!("pkg{username}"),
                request_id,
                ..Default::default()
            })
            .await
            .map(drop),
        Operation::AddDomain => gateway
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
        Operation::ListDomains => gateway
            .domains()
            .list_domains(ListDomainsRequest {
                target,
                username,
                ..Default::default()
            })
            .await
            .map(drop),
        Operation::SuspendDomain => gateway
            .domains()
            .suspend_domain(SuspendDomainRequest {
                target,
                domain: added,
                request_id,
                ..Default::default()
            })
            .await
            .map(drop),
        Operation::UnsuspendDomain => gateway
            .domains()
            .unsuspend_domain(UnsuspendDomainRequest {
                target,
                domain: added,
                request_id,
                ..Default::default()
            })
            .await
            .map(drop),
        Operation::DeleteDomain => gateway
            .domains()
            .delete_domain(DeleteDomainRequest {
                target,
                domain: added,
                request_id,
                ..Default::default()
            })
            .await
            .map(drop),
        Operation::CreateDatabase => gateway
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
        Operation::IssueCertificate => gateway
            .certificates()
            .issue_certificate(IssueCertificateRequest {
                target,
                domain,
                request_id,
                ..Default::default()
            })
            .await
            .map(drop),
        Operation::GetServerInfo => gateway
            .servers()
            .get_server_info(GetServerInfoRequest { target })
            .await
            .map(drop),
        Operation::GetPackage => gateway
            .packages()
            .get_package(GetPackageRequest {
                target,
                package: package.into(),
            })
            .await
            .map(drop),
        Operation::ControlSystemService => gateway
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
        Operation::SetSystemServiceMonitored => gateway
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
        Operation::ListNotifications => gateway
            .servers()
            .list_notifications(ListNotificationsRequest {
                target,
                ..Default::default()
            })
            .await
            .map(drop),
        Operation::CreatePanelAdmin => gateway
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
        Operation::UpdatePackage => gateway
            .packages()
            .update_package(UpdatePackageRequest {
                target,
                package: format!("pkg{username}"),
                request_id,
                ..Default::default()
            })
            .await
            .map(drop),
        Operation::DeletePackage => gateway
            .packages()
            .delete_package(DeletePackageRequest {
                target,
                package: format!("pkg{username}"),
                request_id,
                ..Default::default()
            })
            .await
            .map(drop),
        Operation::ListPanelAdmins => gateway
            .servers()
            .list_panel_admins(ListPanelAdminsRequest {
                target,
                ..Default::default()
            })
            .await
            .map(drop),
    }
}
