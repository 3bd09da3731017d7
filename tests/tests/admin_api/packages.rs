//! Packages: packages_list (ListPackages, and the list CreateAccount
//! resolves names in, cached per server) and new_package (CreatePackage).

use panelgate_proto::v1::{
    AdminApiPackageOptions, CreatePackageRequest, GetServerRequest, ListPackagesRequest, Package,
    PackageLimits, create_package_request,
};
use panelgate_sim::{Fault, SimPackage};
use panelgate_tests::{
    PanelFixture,
    errors::{assert_invalid, metadata, violation},
    gateway::{by_id, by_name},
    limits::{limit, unlimited},
};
use tonic::Code;

use crate::{Ols, package_names};

panelgate_tests::panel_tests!(Ols:
    list_packages_reports_ids_names_and_disk, list_packages_pages_through_one_cached_list,
    create_package_stores_limits_and_refreshes_the_list,
    create_package_refuses_limits_the_panel_cannot_express, duplicate_package_is_already_exists,
    unknown_package_is_invalid_and_lists_the_servers_packages,
    package_made_outside_panelgate_is_found_on_first_use, failed_package_list_is_not_cached,
    package_list_is_cached_per_server_by_name_and_id);

/// The names of `packages`.
fn names(packages: &[Package]) -> Vec<&str> {
    packages
        .iter()
        .map(|package| package.name.as_str())
        .collect()
}

/// ListPackages gives the panel's ids, names and disk sizes (MiB); the panel
/// reports no other limit, so those stay unknown.
async fn list_packages_reports_ids_names_and_disk(ols: Ols) {
    let packages = ols.list_packages().await;
    let expected = [("1", "Basic", 1024), ("2", "Premium", 5120)];
    assert_eq!(packages.len(), expected.len(), "{packages:?}");
    for (package, (id, name, disk)) in packages.iter().zip(expected) {
        assert_eq!((package.id.as_str(), package.name.as_str()), (id, name));
        let only_disk = PackageLimits {
            disk_mib: limit(disk),
            ..Default::default()
        };
        assert_eq!(package.limits, Some(only_disk));
    }
}

/// ListPackages pages with page_size and next_page_token, all pages cut from
/// one cached panel list.
async fn list_packages_pages_through_one_cached_list(ols: Ols) {
    let before = ols.sim.request_count();
    let mut client = ols.gateway.packages();
    let page = |page_token: String| ListPackagesRequest {
        target: ols.target(),
        page_size: 1,
        page_token,
    };
    let first = client.list_packages(page(String::new())).await;
    let first = first.expect("first page").into_inner();
    assert_eq!(names(&first.packages), ["Basic"]);
    assert!(!first.next_page_token.is_empty(), "a second page follows");

    let second = client.list_packages(page(first.next_page_token)).await;
    let second = second.expect("second page").into_inner();
    assert_eq!(names(&second.packages), ["Premium"]);
    assert_eq!(second.next_page_token, "", "the last page");
    let requests = ols.sim.request_count() - before;
    assert_eq!(requests, 1, "one packages_list call");
}

/// CreatePackage sends every limit (unlimited as 0) and the disk-limit
/// option; the panel stores them, and ListPackages shows the new package at
/// once although the list was cached just before.
async fn create_package_stores_limits_and_refreshes_the_list(ols: Ols) {
    assert_eq!(names(&ols.list_packages().await), ["Basic", "Premium"]);
    let limits = PackageLimits {
        disk_mib: limit(2048),
        bandwidth_mib: limit(10_000),
        email_accounts: limit(10),
        databases: limit(5),
        ftp_accounts: limit(3),
        domains: limit(4),
        subdomains: unlimited(),
        inodes: None,
    };
    let created = ols.create_package(CreatePackageRequest {
        name: "Gold".into(),
        limits: Some(limits),
        panel_options: Some(create_package_request::PanelOptions::AdminApi(
            AdminApiPackageOptions {
                enforce_disk_limit: true,
            },
        )),
        ..Default::default()
    });
    let created = created.await.expect("create package");
    assert_eq!((created.id.as_str(), created.name.as_str()), ("3", "Gold"));
    assert_eq!(created.limits, Some(limits));

    let stored = ols.sim.packages().into_iter().find(|p| p.name == "Gold");
    assert_eq!(
        stored,
        Some(SimPackage {
            id: 3,
            name: "Gold".into(),
            disk_space_mb: 2048,
            bandwidth_mb: 10_000,
            email_accounts: 10,
            databases: 5,
            ftp_accounts: 3,
            allowed_domains: 4,
            allowed_subdomains: 0,
            limit_action: true,
        })
    );

    let listed = ols.list_packages().await;
    assert_eq!(names(&listed), ["Basic", "Premium", "Gold"]);
    assert_eq!(listed[2].id, "3");
    assert_eq!(listed[2].limits.and_then(|l| l.disk_mib), limit(2048));
}

/// A limit the panel cannot express (max 0: the panel reads 0 as unlimited;
/// inodes: it has none) is INVALID_ARGUMENT on that limit, with no panel call.
async fn create_package_refuses_limits_the_panel_cannot_express(ols: Ols) {
    let before = ols.sim.request_count();
    let cases = [
        (
            "limits.databases",
            PackageLimits {
                disk_mib: limit(2048),
                databases: limit(0),
                ..Default::default()
            },
        ),
        (
            "limits.domains",
            PackageLimits {
                domains: limit(0),
                ..Default::default()
            },
        ),
        (
            "limits.inodes",
            PackageLimits {
                inodes: limit(100_000),
                ..Default::default()
            },
        ),
    ];
    for (field, limits) in cases {
        let refused = ols.create_package(CreatePackageRequest {
            name: "Zero".into(),
            limits: Some(limits),
            ..Default::default()
        });
        let status = assert_invalid(refused.await, field);
        assert_eq!(metadata(&status, "server_id"), ols.id);
    }
    assert_eq!(ols.sim.request_count(), before, "no panel call");
    assert_eq!(package_names(&ols), ["Basic", "Premium"]);
}

/// A package name the panel has already → ALREADY_EXISTS PACKAGE_ALREADY_EXISTS.
async fn duplicate_package_is_already_exists(ols: Ols) {
    let again = ols.create_package(CreatePackageRequest {
        name: "Premium".into(),
        ..Default::default()
    });
    let said = "A package with the same name already exists.";
    ols.assert_said(
        again.await,
        Code::AlreadyExists,
        "PACKAGE_ALREADY_EXISTS",
        said,
    );
    assert_eq!(package_names(&ols), ["Basic", "Premium"]);
}

/// CreateAccount with a package the server lacks → INVALID_ARGUMENT on
/// `package`, naming the server's packages; the list is reloaded once (a
/// miss) and add_user is never called.
async fn unknown_package_is_invalid_and_lists_the_servers_packages(ols: Ols) {
    ols.list_packages().await;
    let before = ols.sim.request_count();
    let mut request = ols.new_account("bea");
    request.package = "Platinum".into();
    let refused = ols.create_account(request).await;
    let status = assert_invalid(refused, "package");
    let description = violation(&status, "package");
    for expected in ["Platinum", "`ols`", "Basic, Premium"] {
        assert!(
            description.contains(expected),
            "{expected} in: {description}"
        );
    }
    let requests = ols.sim.request_count() - before;
    assert_eq!(requests, 1, "one reload of the package list, no add_user");
    assert_eq!(ols.sim.user("bea"), None);
}

/// A package made on the panel outside this server entry's view (through a
/// second server entry for the same panel) is found by CreateAccount on first
/// use although `ols`'s list is cached: a miss reloads the list once.
async fn package_made_outside_panelgate_is_found_on_first_use(ols: Ols) {
    assert_eq!(names(&ols.list_packages().await), ["Basic", "Premium"]);
    ols.fixture.register(&ols.gateway, "ols-b").await;
    let gold = CreatePackageRequest {
        target: by_name("ols-b"),
        name: "Gold".into(),
        limits: Some(PackageLimits {
            disk_mib: limit(2048),
            ..Default::default()
        }),
        ..Default::default()
    };
    let created = ols.gateway.packages().create_package(gold).await;
    created.expect("create Gold through ols-b");
    assert_eq!(package_names(&ols), ["Basic", "Premium", "Gold"]);
    let listed = ols.list_packages().await;
    assert_eq!(names(&listed), ["Basic", "Premium"], "ols's list is cached");

    let created = ols.create("cal", "Gold").await;
    assert_eq!(created.package, "Gold");
    assert_eq!(ols.sim.user("cal").expect("cal").pkg_id, "3");
    let listed = ols.list_packages().await;
    assert_eq!(names(&listed), ["Basic", "Premium", "Gold"], "reloaded");
}

/// A failed package list is not cached: ListPackages during a 502 fails, and
/// the first one after it reaches the panel and succeeds.
async fn failed_package_list_is_not_cached(ols: Ols) {
    ols.sim.faults().set(Fault::Status(502));
    let listed = ols
        .gateway
        .packages()
        .list_packages(ListPackagesRequest {
            target: ols.target(),
            ..Default::default()
        })
        .await;
    ols.assert_panel_error(listed, Code::Unavailable, "UPSTREAM_UNAVAILABLE");
    ols.sim.faults().clear();
    assert_eq!(names(&ols.list_packages().await), ["Basic", "Premium"]);
}

/// Package lists are cached per server: ListPackages twice, by name then by
/// id, makes one panel request; GetServer finds the same server both ways.
async fn package_list_is_cached_per_server_by_name_and_id(ols: Ols) {
    let before = ols.sim.request_count();
    let first = ols.list_packages().await;
    let by_server_id = ols
        .gateway
        .packages()
        .list_packages(ListPackagesRequest {
            target: by_id(&ols.id),
            ..Default::default()
        })
        .await;
    let second = by_server_id.expect("list packages by id");
    assert_eq!(first, second.into_inner().packages);
    let requests = ols.sim.request_count() - before;
    assert_eq!(requests, 1, "one packages_list call");

    for target in [ols.target(), by_id(&ols.id)] {
        let got = ols
            .gateway
            .inventory()
            .get_server(GetServerRequest { target })
            .await;
        let server = got.expect("get server").into_inner().server;
        let server = server.expect("server in reply");
        let found = (server.id.as_str(), server.name.as_str());
        assert_eq!(found, (ols.id.as_str(), "ols"));
    }
}
