//! Packages (`accounts/listpackages`, `modifypackage`, `removepackage`)
//! and panel administrators (`admin/createadminuser`, `listadminusers`).

use panelgate_proto::v1::{Package, PackageLimits, PanelAdmin};
use panelgate_sim::{SimPermissions, SimSpanelPackage};
use panelgate_tests::{
    PanelFixture,
    errors::{assert_error, assert_invalid},
    limits::{limit, unlimited},
};
use tonic::Code;

use crate::{Sp, Spanel, all_pages, categories, config, default_packages, pages, sim_permissions};

panelgate_tests::panel_tests!(Sp with config();
    list_and_get_packages_read_listpackages, update_package_replaces_it_and_its_accounts_follow,
    delete_package_refuses_a_package_in_use, create_panel_admin_with_full_access_or_permissions,
    list_panel_admins_flattens_permissions);

/// ListPackages and GetPackage read `accounts/listpackages` (the list is
/// cached: a second ListPackages makes no request); an unknown package is
/// NOT_FOUND.
async fn list_and_get_packages_read_listpackages(sp: Sp) {
    let mark = sp.mark();
    assert_eq!(sp.list_packages().await, default_packages());
    assert_eq!(sp.list_packages().await, default_packages());
    assert_eq!(sp.actions_since(mark), ["accounts/listpackages"], "cached");
    assert_eq!(
        sp.last_body("accounts/listpackages"),
        "token=provided_auth_token&action=accounts%2Flistpackages"
    );

    let [_, pro, _] = default_packages();
    assert_eq!(sp.get_package("pro").await.expect("get pro"), pro);
    let missing = sp.get_package("gold").await;
    sp.assert_panel_error(missing, Code::NotFound, "PACKAGE_NOT_FOUND");
}

/// UpdatePackage is `accounts/modifypackage` with the whole definition: the
/// panel's package is replaced (omitted limits become unlimited), the accounts
/// on it take the new limits and permissions, and the reply, GetPackage and
/// ListPackages (cache cleared) show the new definition. Without permissions
/// the package gets all of them. An unknown package is NOT_FOUND.
async fn update_package_replaces_it_and_its_accounts_follow(sp: Sp) {
    sp.create("gus", "basic").await;
    let limits = PackageLimits {
        disk_mib: limit(4096),
        domains: limit(3),
        databases: limit(2),
        ..Default::default()
    };
    let permissions = categories(vec![all_pages("mysql"), pages("file", &["filemanager"])]);
    let mark = sp.mark();
    let updated = sp
        .update_package_with("basic", limits, Some(permissions))
        .await
        .expect("update basic");
    assert_eq!(
        sp.actions_since(mark),
        ["accounts/modifypackage", "accounts/listpackages"]
    );
    assert_eq!(
        sp.last_body("accounts/modifypackage"),
        "token=provided_auth_token&action=accounts%2Fmodifypackage&package=basic\
         &quota=4096&domains=2&databases=2&permissions%5Bmysql%5D=all\
         &permissions%5Bfile%5D%5B0%5D=filemanager"
    );
    let new_basic = Package {
        id: "basic".into(),
        name: "basic".into(),
        limits: Some(PackageLimits {
            disk_mib: limit(4096),
            inodes: unlimited(),
            domains: limit(3),
            email_accounts: unlimited(),
            databases: limit(2),
            ..Default::default()
        }),
    };
    assert_eq!(updated, new_basic);
    let granted = sim_permissions(&[("mysql", None), ("file", Some(&["filemanager"]))]);
    assert_eq!(
        sp.sim.packages()[0],
        SimSpanelPackage {
            quota_mb: Some(4096),
            domains: Some(2),
            databases: Some(2),
            permissions: granted.clone(),
            ..SimSpanelPackage::unlimited("basic")
        }
    );
    let gus = sp.sim.account("gus").expect("gus");
    assert_eq!(gus.package, "basic");
    assert_eq!(
        (
            gus.quota_mb,
            gus.inodes_limit,
            gus.domains_limit,
            gus.emails_limit,
            gus.databases_limit
        ),
        (Some(4096), None, Some(2), None, Some(2)),
        "gus follows"
    );
    assert_eq!(gus.permissions, granted);
    assert_eq!(sp.get_package("basic").await.expect("get basic"), new_basic);
    assert_eq!(sp.list_packages().await[0], new_basic);

    sp.update_package_with("basic", PackageLimits::default(), None)
        .await
        .expect("update basic without permissions");
    assert_eq!(
        sp.last_body("accounts/modifypackage"),
        "token=provided_auth_token&action=accounts%2Fmodifypackage&package=basic&permissions=all"
    );
    assert_eq!(
        sp.sim.account("gus").expect("gus").permissions,
        SimPermissions::All
    );

    let mark = sp.mark();
    let missing = sp
        .update_package_with("gold", PackageLimits::default(), None)
        .await;
    assert_error(missing, Code::NotFound, "PACKAGE_NOT_FOUND");
    assert!(
        !sp.actions_since(mark)
            .contains(&"accounts/modifypackage".to_owned()),
        "no modifypackage for an unknown package"
    );
}

/// DeletePackage is `accounts/removepackage`: a package an account uses is
/// FAILED_PRECONDITION PANEL_REFUSED naming it, and stays; an unused one is
/// removed, and ListPackages (cache cleared) no longer lists it.
async fn delete_package_refuses_a_package_in_use(sp: Sp) {
    sp.create("gus", "basic").await;
    let refused = sp.delete_package("basic").await;
    let status = sp.assert_said(
        refused,
        Code::FailedPrecondition,
        "PANEL_REFUSED",
        "The package basic is used by 1 account(s) and cannot be removed",
    );
    assert!(
        status.message().contains("package basic"),
        "names it: {}",
        status.message()
    );
    assert!(
        sp.sim
            .packages()
            .iter()
            .any(|package| package.name == "basic")
    );

    sp.delete_package("lean").await.expect("delete lean");
    assert_eq!(
        sp.last_body("accounts/removepackage"),
        "token=provided_auth_token&action=accounts%2Fremovepackage&package=lean"
    );
    let names: Vec<_> = sp.sim.packages().into_iter().map(|p| p.name).collect();
    assert_eq!(names, ["basic", "pro"]);
    let [basic, pro, _] = default_packages();
    assert_eq!(sp.list_packages().await, [basic, pro]);
}

/// CreatePanelAdmin with full_access sends `permissions=all`; with
/// permissions, the categories in PHP's bracket form. Neither, or both, is
/// INVALID_ARGUMENT before any panel call.
async fn create_panel_admin_with_full_access_or_permissions(sp: Sp) {
    let boss = sp
        .create_admin_with("boss", "boss-password-1", true, None)
        .await
        .expect("create boss");
    assert_eq!(
        sp.last_body("admin/createadminuser"),
        "token=provided_auth_token&action=admin%2Fcreateadminuser&username=boss\
         &password=boss-password-1&permissions=all"
    );
    assert!(boss.full_access && boss.permissions.is_empty(), "{boss:?}");
    let on_panel = sp.sim.admin_users();
    assert_eq!(on_panel[1].user, "boss");
    assert_eq!(on_panel[1].permissions, SimPermissions::All);

    let permissions = categories(vec![
        pages("server", &["information", "status"]),
        all_pages("accounts"),
    ]);
    let ops = sp
        .create_admin_with("ops", "ops-password-1", false, Some(permissions))
        .await
        .expect("create ops");
    assert_eq!(
        sp.last_body("admin/createadminuser"),
        "token=provided_auth_token&action=admin%2Fcreateadminuser&username=ops\
         &password=ops-password-1&permissions%5Bserver%5D%5B0%5D=information\
         &permissions%5Bserver%5D%5B1%5D=status&permissions%5Baccounts%5D=all"
    );
    assert!(!ops.full_access);
    assert_eq!(
        ops.permissions,
        ["accounts/*", "server/information", "server/status"]
    );
    assert_eq!(
        sp.sim.admin_users()[2].permissions,
        sim_permissions(&[
            ("server", Some(&["information", "status"])),
            ("accounts", None)
        ])
    );

    let before = sp.requests();
    let neither = sp
        .create_admin_with("nobody1", "some-password-1", false, None)
        .await;
    assert_invalid(neither, "panel_options.spanel.permissions");
    let both = sp
        .create_admin_with(
            "nobody2",
            "some-password-1",
            true,
            Some(categories(vec![all_pages("server")])),
        )
        .await;
    assert_invalid(both, "full_access");
    assert_eq!(sp.requests(), before, "no panel call");
    assert_eq!(sp.sim.admin_users().len(), 3);
}

/// ListPanelAdmins is `admin/listadminusers`: `root` has full access, the
/// others' permissions are flattened to "category/page", or "category/*" for
/// a whole category.
async fn list_panel_admins_flattens_permissions(sp: Sp) {
    sp.create_admin_with(
        "ops@example.com",
        "ops-password-1",
        false,
        Some(categories(vec![
            all_pages("security"),
            pages("accounts", &["manage", "suspended"]),
        ])),
    )
    .await
    .expect("create ops");
    sp.create_admin_with("boss", "boss-password-1", true, None)
        .await
        .expect("create boss");

    let admin = |username: &str, full_access: bool, permissions: &[&str]| PanelAdmin {
        username: username.into(),
        full_access,
        permissions: permissions.iter().map(|&p| p.to_owned()).collect(),
        two_factor: false,
    };
    assert_eq!(
        sp.list_admins().await,
        [
            admin("root", true, &[]),
            admin(
                "ops@example.com",
                false,
                &["accounts/manage", "accounts/suspended", "security/*"]
            ),
            admin("boss", true, &[]),
        ]
    );
    assert_eq!(
        sp.last_body("admin/listadminusers"),
        "token=provided_auth_token&action=admin%2Flistadminusers"
    );
}
