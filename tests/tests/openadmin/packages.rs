//! Plans as packages: `GET /api/plans[/{id}]` and `POST /api/plans`.

use panelgate_proto::Capability;
use panelgate_proto::v1::{
    CreatePackageRequest, OpenAdminPackageOptions, Package, PackageLimits, create_package_request,
};
use panelgate_sim::{OpenAdminConfig, SimPlan};
use panelgate_tests::{
    PanelFixture,
    errors::metadata,
    gateway::by_name,
    limits::{limit, unlimited},
};
use tonic::Code;

use crate::{DEFAULT_PLAN, Oa, PRO_PLAN, SERVER};

panelgate_tests::panel_tests!(Oa:
    list_and_get_packages, list_packages_pages_through_one_cached_list,
    create_package_stores_limits_and_options);

/// The limits of the simulator's two plans, as packages: disk and bandwidth
/// in MiB (the panel says GB), 0 as unlimited.
fn default_packages() -> [Package; 2] {
    [
        Package {
            id: "1".into(),
            name: DEFAULT_PLAN.into(),
            limits: Some(PackageLimits {
                disk_mib: limit(10 * 1024),
                bandwidth_mib: limit(100 * 1024),
                email_accounts: unlimited(),
                databases: unlimited(),
                ftp_accounts: unlimited(),
                domains: unlimited(),
                subdomains: None,
                inodes: limit(1_000_000),
            }),
        },
        Package {
            id: "2".into(),
            name: PRO_PLAN.into(),
            limits: Some(PackageLimits {
                disk_mib: limit(50 * 1024),
                bandwidth_mib: limit(500 * 1024),
                email_accounts: limit(100),
                databases: limit(20),
                ftp_accounts: limit(10),
                domains: limit(10),
                subdomains: None,
                inodes: limit(2_500_000),
            }),
        },
    ]
}

/// ListPackages gives the panel's plans with their limits; GetPackage finds
/// one by panel id (one `GET /api/plans/{id}`) and by name (the list, then
/// that call); an unknown id or name is NOT_FOUND.
async fn list_and_get_packages(oa: Oa) {
    assert_eq!(oa.list_packages().await, default_packages());
    let [_, pro] = default_packages();

    oa.get_package("1").await.expect("warm the token");
    let before = oa.requests();
    assert_eq!(oa.get_package("2").await.expect("by id"), pro);
    assert_eq!(oa.requests() - before, 1, "GET /api/plans/2");
    let before = oa.requests();
    assert_eq!(oa.get_package(PRO_PLAN).await.expect("by name"), pro);
    assert_eq!(
        oa.requests() - before,
        2,
        "GET /api/plans, then /api/plans/2"
    );

    let missing = oa.get_package("9").await;
    oa.assert_said(
        missing,
        Code::NotFound,
        "PACKAGE_NOT_FOUND",
        "Plan not found",
    );
    let missing = oa.get_package("gold_plan").await;
    oa.assert_panel_error(missing, Code::NotFound, "PACKAGE_NOT_FOUND");
}

/// ListPackages pages with page_size and next_page_token, both pages cut
/// from one cached panel list (one `GET /api/plans`).
async fn list_packages_pages_through_one_cached_list(oa: Oa) {
    oa.get_package("1").await.expect("warm the token");
    let before = oa.requests();
    let first = oa.packages_page(1, "").await;
    let second = oa.packages_page(1, &first.next_page_token).await;
    let [default, pro] = default_packages();
    assert_eq!(first.packages, [default]);
    assert_eq!(second.packages, [pro]);
    assert_eq!(second.next_page_token, "");
    assert_eq!(oa.requests() - before, 1, "one GET /api/plans");
}

/// CreatePackage sends every limit in the panel's units (whole GB, counts)
/// and the OpenAdmin options (description, websites, CPU, RAM); the panel
/// stores them, the reply reads the plan back, ListPackages shows it at once
/// (the cached list is dropped), and a second plan of that name is
/// ALREADY_EXISTS.
async fn create_package_stores_limits_and_options(oa: Oa) {
    assert_eq!(oa.list_packages().await.len(), 2, "the list is cached");
    let limits = PackageLimits {
        disk_mib: limit(20 * 1024),
        bandwidth_mib: limit(200 * 1024),
        email_accounts: limit(50),
        databases: limit(5),
        ftp_accounts: limit(3),
        domains: limit(4),
        subdomains: None,
        inodes: unlimited(),
    };
    let request = CreatePackageRequest {
        target: by_name(SERVER),
        name: "gold_plan".into(),
        limits: Some(limits),
        panel_options: Some(create_package_request::PanelOptions::Openadmin(
            OpenAdminPackageOptions {
                description: "Gold: four domains".into(),
                websites: limit(7),
                cpu: "2".into(),
                ram: "2g".into(),
            },
        )),
        ..Default::default()
    };
    let created = oa
        .gateway
        .packages()
        .create_package(request.clone())
        .await
        .expect("create package")
        .into_inner()
        .package
        .expect("package in reply");
    assert_eq!(
        created,
        Package {
            id: "3".into(),
            name: "gold_plan".into(),
            limits: Some(limits),
        }
    );

    let stored = oa
        .sim
        .plans()
        .into_iter()
        .find(|plan| plan.name == "gold_plan");
    assert_eq!(
        stored,
        Some(SimPlan {
            description: "Gold: four domains".into(),
            websites_limit: 7,
            email_limit: 50,
            ftp_limit: 3,
            inodes_limit: 0,
            db_limit: 5,
            cpu: "2".into(),
            ram: "2g".into(),
            bandwidth_gb: 200,
            ..SimPlan::new(3, "gold_plan", 20, 4)
        })
    );
    let listed = oa.list_packages().await;
    assert_eq!(listed.len(), 3, "{listed:?}");
    assert_eq!(listed[2], created);

    let again = oa.gateway.packages().create_package(request).await;
    oa.assert_said(
        again,
        Code::AlreadyExists,
        "PACKAGE_ALREADY_EXISTS",
        "ERROR: Plan name 'gold_plan' already exists.",
    );
    assert_eq!(oa.sim.plans().len(), 3);
}

/// A build without plan creation (POST /api/plans is its 404 page):
/// CreatePackage is UNIMPLEMENTED OPERATION_NOT_SUPPORTED and creates
/// nothing; CheckServer reads the panel's endpoint listing and leaves
/// CreatePackage out of the live capabilities, while GetServer's static list
/// (what OpenAdmin can do at best) still has it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_package_without_plan_creation_is_unimplemented() {
    let config = OpenAdminConfig {
        plan_create: false,
        ..OpenAdminConfig::default()
    };
    Oa::run_with(config, |oa| async move {
        let refused = oa
            .create_package(CreatePackageRequest {
                name: "gold_plan".into(),
                ..Default::default()
            })
            .await;
        let status = oa.assert_panel_error(refused, Code::Unimplemented, "OPERATION_NOT_SUPPORTED");
        assert_eq!(metadata(&status, "operation"), "OPERATION_CREATE_PACKAGE");
        assert_eq!(oa.sim.plans().len(), 2, "no plan created");

        let create_package = Capability::CreatePackage as i32;
        let checked = oa.check(SERVER).await;
        assert!(checked.healthy, "{checked:?}");
        assert!(
            !checked.capabilities.contains(&create_package),
            "{checked:?}"
        );
        assert!(
            checked
                .capabilities
                .contains(&(Capability::CreateAccount as i32))
        );
        let stored = oa.server().await;
        assert!(stored.capabilities.contains(&create_package), "{stored:?}");
    })
    .await;
}
