//! Validation: what is refused before any call (permission shapes, limits
//! SPanel cannot express), and what the panel refuses (permissions, names).

use panelgate_proto::v1::{PackageLimits, SpanelCategoryPermissions, SpanelPermissions};
use panelgate_sim::SimSpanelPackage;
use panelgate_tests::{
    PanelFixture,
    errors::{assert_invalid, assert_invalid_because},
    limits::limit,
};
use tonic::Code;

use crate::{Sp, Spanel, all_pages, categories, config, pages};

panelgate_tests::panel_tests!(Sp with config();
    malformed_permission_shapes_are_refused_before_any_call,
    limits_spanel_cannot_express_are_refused_before_any_call,
    permissions_and_names_the_panel_refuses_are_invalid_arguments,
    error_sentences_are_joined_into_one_message);

/// Permission shapes SPanel cannot take are INVALID_ARGUMENT on
/// `panel_options.spanel.permissions` before any panel call, for packages and
/// for admins: `all` with categories, neither, a category with neither
/// `all_pages` nor pages, or with both, a category without a name.
async fn malformed_permission_shapes_are_refused_before_any_call(sp: Sp) {
    let shapes = [
        SpanelPermissions {
            all: true,
            categories: vec![all_pages("email")],
        },
        categories(Vec::new()),
        categories(vec![pages("email", &[])]),
        categories(vec![SpanelCategoryPermissions {
            category: "email".into(),
            all_pages: true,
            pages: vec!["accounts".into()],
        }]),
        categories(vec![all_pages(" ")]),
    ];
    let before = sp.requests();
    for shape in shapes {
        let package = sp
            .create_package_with("shaped", PackageLimits::default(), Some(shape.clone()))
            .await;
        assert_invalid(package, "panel_options.spanel.permissions");
        let admin = sp
            .create_admin_with("shaped", "some-password-1", false, Some(shape))
            .await;
        assert_invalid(admin, "panel_options.spanel.permissions");
    }
    assert_eq!(sp.requests(), before, "no panel call");
    assert_eq!(sp.sim.packages().len(), 3);
}

/// Limits SPanel cannot express (bandwidth, FTP accounts, subdomains), a disk
/// quota under its 100 MB minimum, zero inodes and zero domains (the primary
/// one counts) are INVALID_ARGUMENT on that limit before any panel call.
async fn limits_spanel_cannot_express_are_refused_before_any_call(sp: Sp) {
    let cases = [
        (
            "limits.bandwidth_mib",
            PackageLimits {
                bandwidth_mib: limit(10_000),
                ..Default::default()
            },
        ),
        (
            "limits.ftp_accounts",
            PackageLimits {
                ftp_accounts: limit(5),
                ..Default::default()
            },
        ),
        (
            "limits.subdomains",
            PackageLimits {
                subdomains: limit(5),
                ..Default::default()
            },
        ),
        (
            "limits.disk_mib",
            PackageLimits {
                disk_mib: limit(99),
                ..Default::default()
            },
        ),
        (
            "limits.inodes",
            PackageLimits {
                inodes: limit(0),
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
    ];
    let before = sp.requests();
    for (field, limits) in &cases {
        let created = sp.create_package_with("limited", *limits, None).await;
        assert_invalid(created, field);
    }
    assert_eq!(sp.requests(), before, "no panel call");
    // UpdatePackage finds the package in the (cached) package list first.
    let mark = sp.mark();
    for (field, limits) in cases {
        let updated = sp.update_package_with("pro", limits, None).await;
        assert_invalid(updated, field);
    }
    let actions = sp.actions_since(mark);
    assert!(
        actions
            .iter()
            .all(|action| action == "accounts/listpackages"),
        "no modifypackage: {actions:?}"
    );
    assert_eq!(sp.sim.packages().len(), 3);
    assert_eq!(sp.sim.packages()[1], SimSpanelPackage::unlimited("pro"));

    // 100 MB, the minimum, is fine.
    let smallest = sp
        .create_package_with(
            "smallest",
            PackageLimits {
                disk_mib: limit(100),
                ..Default::default()
            },
            None,
        )
        .await
        .expect("create a 100 MB package");
    assert_eq!(
        smallest.limits.expect("limits").disk_mib,
        limit(100),
        "the minimum"
    );
}

/// What only the panel knows it refuses, as INVALID_ARGUMENT on the field it
/// is about, with the panel's words: a permission category or page not in the
/// panel's catalogue (the createpackage doc's prose says `domains` where the
/// panel's category is `domain`; an admin may not get a user category), and a
/// package name that is not alphanumeric. Nothing is created.
async fn permissions_and_names_the_panel_refuses_are_invalid_arguments(sp: Sp) {
    const PERMISSIONS: &str = "panel_options.spanel.permissions";
    for (permissions, said) in [
        (
            categories(vec![all_pages("billing")]),
            "Unknown permission category: billing",
        ),
        (
            categories(vec![pages("domains", &["domains", "redirects"])]),
            "Unknown permission category: domains",
        ),
        (
            categories(vec![pages("domain", &["domains", "nosuch"])]),
            "Unknown permission page: domain/nosuch",
        ),
    ] {
        let refused = sp
            .create_package_with("custom", PackageLimits::default(), Some(permissions))
            .await;
        assert_invalid_because(refused, PERMISSIONS, said);
    }
    let refused = sp
        .create_admin_with(
            "mailman",
            "mail-password-1",
            false,
            Some(categories(vec![all_pages("email")])),
        )
        .await;
    assert_invalid_because(refused, PERMISSIONS, "Unknown permission category: email");

    let refused = sp
        .create_package_with(
            "my-package",
            PackageLimits::default(),
            Some(categories(vec![all_pages("billing")])),
        )
        .await;
    assert_invalid_because(
        refused,
        "name",
        "The package name must be between 1 and 30 alphanumeric characters; \
         Unknown permission category: billing",
    );

    assert_eq!(sp.sim.packages().len(), 3, "no package created");
    assert_eq!(sp.sim.admin_users().len(), 1, "root only");
}

/// SPanel's `message` is an array of sentences: all of them reach the caller,
/// joined with "; ", and the first decides the code. A failure of the panel
/// itself (two sentences) is INTERNAL UPSTREAM_OPERATION_FAILED and changes
/// nothing; a validation with two problems (a taken admin name and an unknown
/// permission category) is ALREADY_EXISTS, by its first sentence, with both.
async fn error_sentences_are_joined_into_one_message(sp: Sp) {
    sp.create("alice", "basic").await;
    sp.sim.fail_next(
        "accounts/changeuserpassword",
        &[
            "The password could not be saved",
            "The password store is locked",
        ],
    );
    let changed = sp.change_password("alice", "second-password-2").await;
    let status = sp.assert_said(
        changed,
        Code::Internal,
        "UPSTREAM_OPERATION_FAILED",
        "The password could not be saved; The password store is locked",
    );
    assert!(
        status
            .message()
            .contains("The password could not be saved; The password store is locked"),
        "{}",
        status.message()
    );
    assert_eq!(
        sp.sim.account("alice").expect("alice").password,
        "first-password-1",
        "unchanged"
    );

    sp.create_admin_with("ops", "ops-password-1", true, None)
        .await
        .expect("create ops");
    let again = sp
        .create_admin_with(
            "ops",
            "ops-password-1",
            false,
            Some(categories(vec![all_pages("billing")])),
        )
        .await;
    sp.assert_said(
        again,
        Code::AlreadyExists,
        "ACCOUNT_ALREADY_EXISTS",
        "An admin user with the username ops already exists; \
         Unknown permission category: billing",
    );
    assert_eq!(sp.sim.admin_users().len(), 2, "root and ops only");
}
