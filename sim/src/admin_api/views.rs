//! The ten views: validation order, state changes and messages, one function
//! per endpoint, as in the panel's `admin_api/views.py`.
//!
//! Each view reads the form as Django's `request.POST` and answers with the JSON
//! body the panel sends (always with HTTP 200), or [`Reply::ServerError`] where
//! the panel's code would raise.

use serde_json::{Value, json};

use super::SimPackage;
use super::endpoints::{Endpoint, Outcome, Reply, Request, done, done_with, error, fail};
use super::state::{PackageOf, Panel, UserRow};
use super::values::{
    count_limit, normalize_domain, parse_flag, parse_number, size_display, size_limit,
};

/// Simulated files of one domain (reading 11).
const DOMAIN_BYTES: u64 = 1536 * 1024;
/// Simulated size of one database (reading 11).
const DATABASE_BYTES: u64 = 48 * 1024;

/// `POST /admin_api/`: package, usage and limits of one user.
pub(super) fn account_info(panel: &mut Panel, request: &Request) -> Outcome {
    let username = request.require("username", || error("Username is required"))?;
    let user = panel
        .user(username)
        .cloned()
        .ok_or_else(|| error("User not found"))?;
    let package = match panel.package_of(&user.pkg_id) {
        PackageOf::Found(package) => package.clone(),
        PackageOf::Missing => return Err(error("Package not found")),
        PackageOf::NotANumber => return Err(Reply::ServerError),
    };
    Endpoint::AccountInfo.armed(panel)?;
    let domains = panel.domains_of(&user.username);
    let databases = panel.database_count(&user.username) as u64;
    let domain_count = domains.len() as u64;
    let db_bytes = databases * DATABASE_BYTES;
    Ok(Reply::Json(json!({
        "package_name": package.name,
        "disk_limit": size_limit(package.disk_space_mb),
        "disk_used": size_display(domain_count * DOMAIN_BYTES + db_bytes),
        "email_disk_used": "0MB",
        "db_disk_used": size_display(db_bytes),
        "bandwidth": size_limit(package.bandwidth_mb),
        "bandwidth_use": size_display(0),
        "email_limit": count_limit(package.email_accounts),
        "email_used": 0,
        "db_limit": count_limit(package.databases),
        "db_used": databases,
        "ftp_limit": count_limit(package.ftp_accounts),
        "ftp_used": u64::from(user.has_ftp),
        "domain_limit": count_limit(package.allowed_domains),
        "domain_used": domain_count,
        "server_ip": panel.server_addr.ip().to_string(),
        "main_domain": domains.first().map(|domain| domain.name.clone()),
        "user_id": user.id,
        "email": user.email,
        "full_name": format!("{} {}", user.first_name, user.last_name),
    })))
}

/// `POST /admin_api/add_user/`: user, primary domain and FTP account.
pub(super) fn add_user(panel: &mut Panel, request: &Request) -> Outcome {
    let fields = [
        "username",
        "first_name",
        "last_name",
        "email",
        "pkg_id",
        "password",
        "domain",
        "php_version",
    ];
    let [
        username,
        first_name,
        last_name,
        email,
        pkg_id,
        password,
        domain,
        php_version,
    ] = request
        .filled_all(fields)
        .ok_or_else(|| fail("All fields are required"))?;
    if panel.username_taken(username) {
        return Err(fail("A username with the same name already exists"));
    }
    // The user row is saved before anything else is checked (reading 7).
    let user_id = panel.insert_user(UserRow {
        id: 0,
        username: username.to_owned(),
        first_name: first_name.to_owned(),
        last_name: last_name.to_owned(),
        email: email.to_owned(),
        password: password.to_owned(),
        pkg_id: pkg_id.to_owned(),
        active: true,
        has_ftp: false,
    });
    if !matches!(panel.package_of(pkg_id), PackageOf::Found(_)) {
        return Err(fail("Invalid package ID"));
    }
    let domain = new_domain_name(panel, domain)?;
    Endpoint::AddUser.armed(panel)?;
    panel.insert_domain(&domain, username, "public_html", php_version);
    if let Some(user) = panel.user_mut(username) {
        user.has_ftp = true;
    }
    done_with(
        format!("Username {username} created successfully"),
        "user_id",
        user_id,
    )
}

/// `POST /admin_api/suspend_user/`: SUSPEND, UNSUSPEND or DELETE a user.
pub(super) fn suspend_user(panel: &mut Panel, request: &Request) -> Outcome {
    let [username, state] = request
        .filled_all(["username", "state"])
        .ok_or_else(|| fail("Username and state are required"))?;
    let state = state.to_uppercase();
    let user = panel
        .user(username)
        .ok_or_else(|| fail(&format!("User '{username}' does not exist.")))?;
    let active = user.active;
    let message = match state.as_str() {
        "SUSPEND" | "UNSUSPEND" => {
            Endpoint::SuspendUser.armed(panel)?;
            let suspend = state == "SUSPEND";
            if let Some(user) = panel.user_mut(username) {
                user.active = !suspend;
            }
            let now = if suspend { "suspended" } else { "unsuspended" };
            format!("User '{username}' and all associated accounts/domains have been {now}.")
        }
        "DELETE" => {
            if active {
                return Err(fail(&format!(
                    "User '{username}' must be suspended before deletion."
                )));
            }
            Endpoint::SuspendUser.armed(panel)?;
            panel.delete_user(username);
            format!(
                "User '{username}' and all associated FTP, email accounts, and domains have been deleted."
            )
        }
        _ => {
            return Err(fail(&format!(
                "Unknown state '{state}'. Use SUSPEND, UNSUSPEND or DELETE."
            )));
        }
    };
    done(message)
}

/// `POST /admin_api/update_user/`: names, email, password, package.
pub(super) fn update_user(panel: &mut Panel, request: &Request) -> Outcome {
    let username = request.require("username", || fail("Username is required"))?;
    let not_found = || fail(&format!("User with username '{username}' not found."));
    panel.user(username).ok_or_else(not_found)?;
    Endpoint::UpdateUser.armed(panel)?;
    let user = panel.user_mut(username).ok_or_else(not_found)?;
    let fields = [
        (&mut user.first_name, "first_name"),
        (&mut user.last_name, "last_name"),
        (&mut user.email, "email"),
        (&mut user.password, "password"),
    ];
    for (field, key) in fields {
        if let Some(value) = request.filled(key) {
            *field = value.to_owned();
        }
    }
    // Stored unchecked whenever present, even empty (reading 6).
    if let Some(pkg_id) = request.get("pkg_id") {
        user.pkg_id = pkg_id.to_owned();
    }
    done_with(
        format!("User '{username}' updated successfully."),
        "user_id",
        user.id,
    )
}

/// `POST /admin_api/packages_list/`: id, name and disk space of every package.
pub(super) fn packages_list(panel: &mut Panel, _: &Request) -> Outcome {
    Endpoint::PackagesList.armed(panel)?;
    let packages: Vec<Value> = panel
        .packages()
        .iter()
        .map(|package| {
            json!({"id": package.id, "name": package.name, "disk_space": package.disk_space_mb})
        })
        .collect();
    Ok(Reply::Json(
        json!({ "success": true, "packages": packages }),
    ))
}

/// `POST /admin_api/new_package/`: a package; omitted limits are 0 (unlimited).
pub(super) fn new_package(panel: &mut Panel, request: &Request) -> Outcome {
    let name = request.require("name", || fail("Package name is required"))?;
    if panel.package_name_taken(name) {
        return Err(fail("A package with the same name already exists."));
    }
    // `value or 0`, then Django's integer field: garbage raises on save (reading 12).
    let number = |key: &str| request.filled(key).map_or(Some(0), parse_number);
    let (
        Some(disk_space_mb),
        Some(bandwidth_mb),
        Some(email_accounts),
        Some(databases),
        Some(ftp_accounts),
        Some(allowed_domains),
        Some(allowed_subdomains),
    ) = (
        number("disk_space"),
        number("bandwidth"),
        number("email_accounts"),
        number("databases"),
        number("ftp_accounts"),
        number("allowed_domains"),
        number("allowed_subdomains"),
    )
    else {
        return Err(Reply::ServerError);
    };
    Endpoint::NewPackage.armed(panel)?;
    let package_id = panel.insert_package(SimPackage {
        id: 0,
        name: name.to_owned(),
        disk_space_mb,
        bandwidth_mb,
        email_accounts,
        databases,
        ftp_accounts,
        allowed_domains,
        allowed_subdomains,
        limit_action: request.filled("limit_action").is_some_and(parse_flag),
    });
    done_with(
        "Package has been added successfully.",
        "package_id",
        package_id,
    )
}

/// `POST /admin_api/issue_ssl/`: a certificate for an existing domain.
pub(super) fn issue_ssl(panel: &mut Panel, request: &Request) -> Outcome {
    let domain = request.require("domain", || fail("Domain name is required."))?;
    let not_found = || fail(&format!("Domain '{domain}' not found."));
    panel.domain(domain).ok_or_else(not_found)?;
    Endpoint::IssueSsl.armed(panel)?;
    panel.domain_mut(domain).ok_or_else(not_found)?.has_ssl = true;
    done(format!("SSL issued successfully for '{domain}'."))
}

/// `POST /admin_api/add_domain/`: a domain for a user, within the package's limit.
pub(super) fn add_domain(panel: &mut Panel, request: &Request) -> Outcome {
    let path = request
        .get("path")
        .map(|path| path.trim_start_matches('/'))
        .filter(|path| !path.is_empty())
        .unwrap_or("public_html");
    let [username, domain, php_version] = request
        .filled_all(["username", "domain", "php_version"])
        .ok_or_else(|| fail("Username, domain, and php_version are required."))?;
    let owner = panel
        .username_of(username)
        .ok_or_else(|| fail(&format!("User '{username}' not found.")))?;
    let domain = new_domain_name(panel, domain)?;
    let allowed = match panel
        .user(&owner)
        .map(|user| panel.package_of(&user.pkg_id))
    {
        Some(PackageOf::Found(package)) => package.allowed_domains,
        // The code reads `allowed_domains` of a missing package and raises (reading 6).
        _ => return Err(Reply::ServerError),
    };
    if allowed != 0 && panel.domains_of(&owner).len() as u64 >= allowed {
        return Err(fail("Domain add limit exceeded."));
    }
    Endpoint::AddDomain.armed(panel)?;
    let domain_id = panel.insert_domain(&domain, &owner, path, php_version);
    done_with(
        format!("Domain '{domain}' added successfully!"),
        "domain_id",
        domain_id,
    )
}

/// `POST /admin_api/database_add/`: a database and its user, both prefixed.
pub(super) fn database_add(panel: &mut Panel, request: &Request) -> Outcome {
    let database_error = |message: &str| Endpoint::DatabaseAdd.failure(message);
    let [username, db, db_user, db_pass, db_pass_confirm] = request
        .filled_all(["username", "db", "dbuser", "dbpass", "dbpassc"])
        .ok_or_else(|| database_error("All fields are required."))?;
    let owner = panel
        .username_of(username)
        .ok_or_else(|| database_error(&format!("Username '{username}' does not exist.")))?;
    if db_user.chars().count() < 2 {
        return Err(database_error(
            "Database username must be at least 2 characters long.",
        ));
    }
    if db_pass.chars().count() < 8 {
        return Err(database_error(
            "Password must be at least 8 characters long.",
        ));
    }
    if db_pass != db_pass_confirm {
        return Err(database_error("Passwords do not match."));
    }
    Endpoint::DatabaseAdd.armed(panel)?;
    let database = format!("{owner}_{db}");
    let database_user = format!("{owner}_{db_user}");
    if panel.database_exists(&database) {
        return Err(database_error(&format!(
            "(1007, \"Can't create database '{database}'; database exists\")"
        )));
    }
    if panel.db_user_exists(&database_user) {
        return Err(database_error(&format!(
            "(1396, \"Operation CREATE USER failed for '{database_user}'@'localhost'\")"
        )));
    }
    panel.insert_database(database, database_user, &owner);
    done(format!(
        "Database user created successfully for {username}."
    ))
}

/// `POST /admin_api/sso_login/`: a one-click login link for a user.
pub(super) fn sso_login(panel: &mut Panel, request: &Request) -> Outcome {
    let username = request.require("username", || fail("Username are required."))?;
    let owner = panel
        .username_of(username)
        .ok_or_else(|| fail(&format!("User with username '{username}' not found.")))?;
    Endpoint::SsoLogin.armed(panel)?;
    let token = panel.new_sso_token(&owner);
    done_with(
        format!("User '{username}' successfully genarate sso token."),
        "url",
        format!("http://{}/login/?token={token}", request.host),
    )
}

/// The normalized name of a domain that may be created, or the panel's refusal.
fn new_domain_name(panel: &Panel, raw: &str) -> Result<String, Reply> {
    let domain = normalize_domain(raw).ok_or_else(|| fail("Invalid domain format."))?;
    if panel.domain(&domain).is_some() {
        return Err(fail(&format!("The domain '{domain}' already exists.")));
    }
    Ok(domain)
}
