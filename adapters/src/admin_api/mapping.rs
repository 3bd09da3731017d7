//! admin_api replies → canonical messages, and canonical inputs → the panel's
//! fields (`new_package`'s limits, `add_domain`'s path). The panel treats 0 as "unlimited" for every
//! package limit, and reports sizes as text ("10GB", "1.5 MB").

use panelgate_proto::v1::{
    Account, AccountStatus, AccountUsage, Package, PackageLimits, ResourceUsage,
};
use serde_json::Value;

use super::wire::{AccountInfo, PackageEntry};
use crate::{
    AdapterError, NewPackage, Result,
    units::{self, SizeUnit},
};

/// The panel's account info as a canonical account. The panel reports no
/// suspension flag, so the status stays unspecified.
pub(super) fn account(username: &str, info: &AccountInfo) -> Account {
    Account {
        username: username.to_owned(),
        server_id: String::new(),
        primary_domain: info.main_domain.clone().unwrap_or_default(),
        email: info.email.clone().unwrap_or_default(),
        package: info.package_name.clone().unwrap_or_default(),
        status: AccountStatus::Unspecified.into(),
        full_name: info.full_name.clone().unwrap_or_default(),
        panel_user_id: units::as_text(&info.user_id).unwrap_or_default(),
        dedicated_ip: String::new(),
        panel_details: None,
    }
}

/// The panel's account info as canonical usage (sizes in bytes).
///
/// Sizes come as text with a unit ("2GB", "1.5 MB", "0 Bytes"). Where one
/// comes as a bare number, its unit is the one the panel computed it from:
/// limits (`disk_limit`, `bandwidth`) are the package's fields, stored in MB;
/// used figures are counted in bytes. Both limits and both used figures are
/// read alike.
pub(super) fn usage(info: &AccountInfo) -> AccountUsage {
    let count =
        |used: &Value, limit: &Value| resource(used, units::as_u64, Some((limit, units::as_u64)));
    AccountUsage {
        disk_bytes: resource(
            &info.disk_used,
            used_bytes,
            Some((&info.disk_limit, limit_bytes)),
        ),
        email_disk_bytes: resource(&info.email_disk_used, used_bytes, None),
        database_disk_bytes: resource(&info.db_disk_used, used_bytes, None),
        bandwidth_bytes: resource(
            &info.bandwidth_use,
            used_bytes,
            Some((&info.bandwidth, limit_bytes)),
        ),
        email_accounts: count(&info.email_used, &info.email_limit),
        databases: count(&info.db_used, &info.db_limit),
        ftp_accounts: count(&info.ftp_used, &info.ftp_limit),
        domains: count(&info.domain_used, &info.domain_limit),
        inodes: None,
    }
}

/// A used size: text with a unit, or a bare number of bytes.
fn used_bytes(value: &Value) -> Option<u64> {
    size(value, SizeUnit::Bytes)
}

/// A size limit: text with a unit, or a bare number of MB (the package's).
fn limit_bytes(value: &Value) -> Option<u64> {
    size(value, SizeUnit::Mib)
}

/// A size sent as text ("2GB") or as a bare number in `bare`.
fn size(value: &Value, bare: SizeUnit) -> Option<u64> {
    match value {
        Value::String(text) => units::size_bytes(text, bare),
        Value::Number(_) => {
            units::as_u64(value).and_then(|n| units::size_bytes(&n.to_string(), bare))
        }
        _ => None,
    }
}

/// How one figure is read.
type Parse = fn(&Value) -> Option<u64>;

/// One usage figure, and its limit with how to read it; absent when the
/// panel did not report what is used.
fn resource(used: &Value, parse: Parse, limit: Option<(&Value, Parse)>) -> Option<ResourceUsage> {
    Some(ResourceUsage {
        used: parse(used)?,
        limit: limit.and_then(|(value, parse)| units::limit(value, parse, true)),
    })
}

/// One entry of `packages_list`: only the disk limit is reported.
pub(super) fn package(entry: &PackageEntry) -> Result<Package> {
    let id = units::required_text(&entry.id, || {
        format!("package `{}` has no readable id", entry.name)
    })?;
    Ok(Package {
        id,
        name: entry.name.clone(),
        limits: Some(PackageLimits {
            disk_mib: units::limit(&entry.disk_space, units::as_u64, true),
            ..Default::default()
        }),
    })
}

/// The whole `new_package` form: name, limits, and `limit_action` when the
/// disk limit is enforced.
pub(super) fn new_package_fields(
    package: &NewPackage,
    enforce_disk_limit: bool,
) -> Result<Vec<(&'static str, String)>> {
    let mut fields = vec![("name", package.name.clone())];
    fields.extend(package_limit_fields(&package.limits)?);
    if enforce_disk_limit {
        fields.push(("limit_action", "true".to_owned()));
    }
    Ok(fields)
}

/// The `new_package` form fields for canonical limits. The panel cannot
/// disable a resource (0 means unlimited there) and has no inode limit.
fn package_limit_fields(limits: &PackageLimits) -> Result<Vec<(&'static str, String)>> {
    if limits.inodes.is_some() {
        return Err(AdapterError::invalid(
            "limits.inodes",
            "admin_api packages have no inode limit",
        ));
    }
    let fields = [
        ("disk_space", "limits.disk_mib", &limits.disk_mib),
        ("bandwidth", "limits.bandwidth_mib", &limits.bandwidth_mib),
        (
            "email_accounts",
            "limits.email_accounts",
            &limits.email_accounts,
        ),
        ("databases", "limits.databases", &limits.databases),
        ("ftp_accounts", "limits.ftp_accounts", &limits.ftp_accounts),
        ("allowed_domains", "limits.domains", &limits.domains),
        (
            "allowed_subdomains",
            "limits.subdomains",
            &limits.subdomains,
        ),
    ];
    let mut form = Vec::new();
    for (panel_field, canonical, limit) in fields {
        if let Some(number) = units::zero_for_unlimited("admin_api", canonical, limit.as_ref())? {
            form.push((panel_field, number.to_string()));
        }
    }
    Ok(form)
}

/// A document root as the panel's `path`, relative to the account's home
/// (`/home/<user>/`): `public_html/shop`, or the same written in full. The
/// panel puts the path under the home as given, so anything that could
/// point outside it is refused.
pub(super) fn home_relative(username: &str, root: &str) -> Result<String> {
    let home = format!("/home/{username}/");
    let relative = root.strip_prefix(&home).unwrap_or(root);
    let outside = relative.starts_with('/')
        || relative.contains('\\')
        || relative.split('/').any(|part| part == ".." || part == ".");
    if outside || relative.is_empty() {
        return Err(AdapterError::invalid(
            "document_root",
            format!(
                "admin_api document roots are folders inside the account's home ({home}), e.g. public_html/shop"
            ),
        ));
    }
    Ok(relative.to_owned())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::testing::{UNLIMITED, at_most};

    fn doc_example() -> AccountInfo {
        // The account-info reply of the source doc, plus the code's bandwidth fields.
        serde_json::from_value(json!({
            "package_name": "Basic Plan", "disk_limit": "10GB", "disk_used": "2GB",
            "email_disk_used": "100MB", "db_disk_used": "500MB", "email_limit": 5,
            "email_used": 2, "db_limit": 3, "db_used": 1, "ftp_limit": 2, "ftp_used": 1,
            "domain_limit": 2, "domain_used": 1, "server_ip": "192.168.1.100",
            "main_domain": "example.com", "user_id": 123, "email": "user@example.com",
            "full_name": "John Doe", "bandwidth": 0, "bandwidth_use": "1.5 MB"
        }))
        .unwrap()
    }

    #[test]
    fn doc_account_info_maps_to_an_account() {
        let account = account("exampleuser", &doc_example());
        assert_eq!(account.username, "exampleuser");
        assert_eq!(account.primary_domain, "example.com");
        assert_eq!(account.package, "Basic Plan");
        assert_eq!(account.email, "user@example.com");
        assert_eq!(account.full_name, "John Doe");
        assert_eq!(account.panel_user_id, "123");
        assert_eq!(account.status(), AccountStatus::Unspecified);
    }

    #[test]
    fn doc_account_info_maps_to_usage_in_bytes() {
        const GIB: u64 = 1 << 30;
        const MIB: u64 = 1 << 20;
        let usage = usage(&doc_example());
        let disk = usage.disk_bytes.unwrap();
        assert_eq!((disk.used, disk.limit), (2 * GIB, at_most(10 * GIB)));
        assert_eq!(usage.email_disk_bytes.unwrap().used, 100 * MIB);
        assert_eq!(usage.database_disk_bytes.unwrap().used, 500 * MIB);
        let bandwidth = usage.bandwidth_bytes.unwrap();
        assert_eq!((bandwidth.used, bandwidth.limit), (1_572_864, UNLIMITED));
        let emails = usage.email_accounts.unwrap();
        assert_eq!((emails.used, emails.limit), (2, at_most(5)));
        assert_eq!(usage.domains.unwrap().limit, at_most(2));
        assert_eq!(usage.inodes, None);
    }

    /// Bare numbers: limits are MB (the package's fields), used figures
    /// bytes, for disk and bandwidth alike.
    #[test]
    fn bare_sizes_are_read_alike_for_disk_and_bandwidth() {
        let info: AccountInfo = serde_json::from_value(json!({
            "disk_limit": 2048, "disk_used": 4096, "bandwidth": 2048, "bandwidth_use": 4096,
        }))
        .unwrap();
        let usage = usage(&info);
        for figure in [usage.disk_bytes, usage.bandwidth_bytes] {
            let figure = figure.expect("reported");
            assert_eq!(figure.used, 4096);
            assert_eq!(figure.limit.and_then(|limit| limit.max), Some(2048 << 20));
        }
    }

    #[test]
    fn unreadable_and_unlimited_figures() {
        let mut info = doc_example();
        info.disk_used = json!("a lot");
        info.email_limit = json!("Unlimited");
        let usage = usage(&info);
        assert_eq!(
            usage.disk_bytes, None,
            "an unreadable figure is not invented"
        );
        assert_eq!(usage.email_accounts.unwrap().limit, UNLIMITED);
    }

    #[test]
    fn packages_list_entries() {
        let entry: PackageEntry =
            serde_json::from_value(json!({"id": 1, "name": "Basic", "disk_space": 1024})).unwrap();
        let package = package(&entry).unwrap();
        assert_eq!((package.id.as_str(), package.name.as_str()), ("1", "Basic"));
        assert_eq!(package.limits.unwrap().disk_mib, at_most(1024));
        let unlimited: PackageEntry =
            serde_json::from_value(json!({"id": "2", "name": "Big", "disk_space": 0})).unwrap();
        assert_eq!(package_limits(&unlimited).disk_mib, UNLIMITED);
    }

    fn package_limits(entry: &PackageEntry) -> PackageLimits {
        package(entry).unwrap().limits.unwrap()
    }

    #[test]
    fn limits_become_new_package_fields() {
        let limits = PackageLimits {
            disk_mib: at_most(10240),
            domains: UNLIMITED,
            ..Default::default()
        };
        let fields = package_limit_fields(&limits).unwrap();
        assert_eq!(
            fields,
            vec![
                ("disk_space", "10240".into()),
                ("allowed_domains", "0".into())
            ]
        );
    }

    #[test]
    fn limits_the_panel_cannot_express_are_refused() {
        let zero = PackageLimits {
            email_accounts: at_most(0),
            ..Default::default()
        };
        let inodes = PackageLimits {
            inodes: at_most(5),
            ..Default::default()
        };
        for (limits, refused) in [(zero, "limits.email_accounts"), (inodes, "limits.inodes")] {
            assert!(
                matches!(
                    package_limit_fields(&limits),
                    Err(AdapterError::InvalidArgument { field, .. }) if field == refused
                ),
                "{refused}"
            );
        }
    }

    #[test]
    fn document_roots_stay_in_the_home() {
        assert_eq!(
            home_relative("bob", "public_html/shop").unwrap(),
            "public_html/shop"
        );
        assert_eq!(
            home_relative("bob", "/home/bob/public_html/shop").unwrap(),
            "public_html/shop"
        );
        for outside in [
            "/etc",
            "/home/amy/public_html",
            "a/../../x",
            "./x",
            "a\\..\\b",
            "/home/bob/",
        ] {
            assert!(
                matches!(
                    home_relative("bob", outside),
                    Err(AdapterError::InvalidArgument { .. })
                ),
                "{outside}"
            );
        }
    }
}
