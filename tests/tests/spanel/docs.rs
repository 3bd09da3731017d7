//! The SPanel doc's examples byte for byte, SSO (`base/sso`), the
//! white-label folder and the API check.

use panelgate_proto::v1::{
    GetAccountRequest, ListPackagesRequest, Package, PackageLimits, PanelAdmin,
};
use panelgate_sim::{SimSpanelPackage, SpanelConfig};
use panelgate_tests::{
    Backend, PanelFixture,
    errors::{assert_error, assert_invalid},
    gateway::{by_id, by_name},
    limits::{limit, unlimited},
};
use tonic::Code;

use crate::{
    DOC_TOKEN, SERVER, Sp, Spanel, all_pages, categories, config, default_packages, pages,
    sim_permissions,
};

panelgate_tests::on_both_backends!(
    createadminuser_example_is_sent_byte_for_byte,
    createpackage_example_is_sent_byte_for_byte,
);

/// The createadminuser example of the SPanel doc: CreatePanelAdmin with the
/// doc's token, password and permission array (`server` => 'all', `accounts`
/// => ['manage', 'create']) puts on the wire exactly what PHP's
/// `http_build_query($postData)` gives, then lists the admins to answer: the
/// reply and the panel hold the admin with those permissions.
async fn createadminuser_example_is_sent_byte_for_byte(backend: Backend) {
    Sp::run_on(
        backend,
        config(),
        |_| {},
        |sp| async move {
            let mark = sp.mark();
            let permissions = categories(vec![
                all_pages("server"),
                pages("accounts", &["manage", "create"]),
            ]);
            let admin = sp
                .create_admin_with(
                    "admin@example.com",
                    "KExk80Ml5aG6M",
                    false,
                    Some(permissions),
                )
                .await
                .expect("create the doc's admin");

            assert_eq!(
                sp.actions_since(mark),
                ["admin/createadminuser", "admin/listadminusers"]
            );
            assert_eq!(
                sp.last_body("admin/createadminuser"),
                "token=provided_auth_token&action=admin%2Fcreateadminuser\
                 &username=admin%40example.com&password=KExk80Ml5aG6M\
                 &permissions%5Bserver%5D=all\
                 &permissions%5Baccounts%5D%5B0%5D=manage&permissions%5Baccounts%5D%5B1%5D=create"
            );
            assert_eq!(
                admin,
                PanelAdmin {
                    username: "admin@example.com".into(),
                    full_access: false,
                    permissions: vec![
                        "accounts/manage".into(),
                        "accounts/create".into(),
                        "server/*".into()
                    ],
                    two_factor: false,
                }
            );
            let on_panel = sp
                .sim
                .admin_users()
                .into_iter()
                .find(|admin| admin.user == "admin@example.com")
                .expect("the admin on the panel");
            assert_eq!(on_panel.password, "KExk80Ml5aG6M");
            assert_eq!(
                on_panel.permissions,
                sim_permissions(&[("server", None), ("accounts", Some(&["manage", "create"]))])
            );
        },
    )
    .await;
}

/// The createpackage example of the SPanel doc, on a panel holding the doc's
/// other package `test` (disk and inodes "0"). The example's 1000 inodes are
/// under the minimum its own table states (10000): INVALID_ARGUMENT on
/// `limits.inodes`, with no panel call. With 10000 instead, the body is
/// exactly what PHP's `http_build_query` makes of the doc's array, the reply
/// is the doc's `packagelist` entry read canonically, the panel holds the
/// package, and ListPackages (its cache cleared by the create) lists both,
/// `test`'s legacy "0" disk and inodes read as unlimited.
async fn createpackage_example_is_sent_byte_for_byte(backend: Backend) {
    let config = SpanelConfig {
        admin_token: DOC_TOKEN.to_owned(),
        packages: vec![SimSpanelPackage {
            quota_mb: Some(0),
            inodes: Some(0),
            ..SimSpanelPackage::unlimited("test")
        }],
        ..SpanelConfig::default()
    };
    Sp::run_on(
        backend,
        config,
        |_| {},
        |sp| async move {
            // Fill the package cache first, so that the create must clear it.
            assert_eq!(sp.list_packages().await.len(), 1);

            let below_minimum = PackageLimits {
                disk_mib: limit(10240),
                inodes: limit(1000),
                ..Default::default()
            };
            let mark = sp.mark();
            let refused = sp
                .create_package_with("newPackageName", below_minimum, None)
                .await;
            assert_invalid(refused, "limits.inodes");
            assert_eq!(
                sp.actions_since(mark),
                Vec::<String>::new(),
                "no panel call"
            );

            let limits = PackageLimits {
                disk_mib: limit(10240),
                inodes: limit(10_000),
                email_accounts: limit(0),
                // The doc sends `'databases' => false` and shows "Unlimited". PHP's
                // http_build_query sends false as `databases=0`, which the panel
                // reads as "databases disabled"; leaving the field out is what
                // gives the doc's "Unlimited". So an unlimited limit is left out
                // of the body, and the body below is the doc's array without that
                // entry (as the commented-out `domains` entry is left out too).
                databases: unlimited(),
                ..Default::default()
            };
            let permissions = categories(vec![
                all_pages("email"),
                pages("domain", &["domains", "redirects"]),
            ]);
            let mark = sp.mark();
            let created = sp
                .create_package_with("newPackageName", limits, Some(permissions))
                .await
                .expect("create the doc's package");

            assert_eq!(sp.actions_since(mark), ["accounts/createpackage"]);
            assert_eq!(
                sp.last_body("accounts/createpackage"),
                "token=provided_auth_token&action=accounts%2Fcreatepackage&package=newPackageName\
                 &quota=10240&inodes=10000&emails=0&permissions%5Bemail%5D=all\
                 &permissions%5Bdomain%5D%5B0%5D=domains&permissions%5Bdomain%5D%5B1%5D=redirects"
            );
            let doc_package = Package {
                id: "newPackageName".into(),
                name: "newPackageName".into(),
                limits: Some(PackageLimits {
                    disk_mib: limit(10240),
                    inodes: limit(10_000),
                    domains: unlimited(),
                    email_accounts: limit(0),
                    databases: unlimited(),
                    ..Default::default()
                }),
            };
            assert_eq!(created, doc_package);

            let on_panel = sp
                .sim
                .packages()
                .into_iter()
                .find(|package| package.name == "newPackageName")
                .expect("the package on the panel");
            assert_eq!(
                on_panel,
                SimSpanelPackage {
                    quota_mb: Some(10240),
                    inodes: Some(10_000),
                    emails: Some(0),
                    permissions: sim_permissions(&[
                        ("email", None),
                        ("domain", Some(&["domains", "redirects"]))
                    ]),
                    ..SimSpanelPackage::unlimited("newPackageName")
                }
            );

            let test = Package {
                id: "test".into(),
                name: "test".into(),
                limits: Some(PackageLimits {
                    disk_mib: unlimited(),
                    inodes: unlimited(),
                    domains: unlimited(),
                    email_accounts: unlimited(),
                    databases: unlimited(),
                    ..Default::default()
                }),
            };
            assert_eq!(sp.list_packages().await, [test, doc_package]);
        },
    )
    .await;
}

/// With a token whose SSO option is off, CreateLoginLink is FAILED_PRECONDITION
/// PANEL_SSO_DISABLED saying what to do; once the option is on, the link is
/// the panel's `http://<host>/spanel/sso/<40 hex>`, new every call, asked for
/// with role `user`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_link_needs_the_tokens_sso_option() {
    let config = SpanelConfig {
        admin_token_sso: false,
        ..config()
    };
    Sp::run_with(config, |sp| async move {
        sp.create("lou", "basic").await;
        let refused = sp.login_link("lou").await;
        let status = sp.assert_said(
            refused,
            Code::FailedPrecondition,
            "PANEL_SSO_DISABLED",
            "SSO is not enabled for this API token",
        );
        assert!(
            status.message().contains("SSO option"),
            "says what is missing: {}",
            status.message()
        );

        sp.sim.set_sso_enabled(true);
        let link = sp.login_link("lou").await.expect("login link");
        assert_eq!(
            sp.last_body("base/sso"),
            "token=provided_auth_token&action=base%2Fsso&username=lou&role=user"
        );
        let prefix = format!("http://{}/spanel/sso/", sp.sim.addr());
        let token = link
            .strip_prefix(&prefix)
            .unwrap_or_else(|| panic!("the panel's link: {link}"));
        assert_eq!(token.len(), 40, "{link}");
        assert!(
            token.chars().all(|c| c.is_ascii_hexdigit()),
            "hex token: {link}"
        );
        let again = sp.login_link("lou").await.expect("second login link");
        assert!(again.starts_with(&prefix), "{again}");
        assert_ne!(again, link, "a new token every call");

        sp.sim.set_sso_enabled(false);
        let refused = sp.login_link("lou").await;
        sp.assert_panel_error(refused, Code::FailedPrecondition, "PANEL_SSO_DISABLED");
    })
    .await;
}

/// Under white-label branding the API lives in `/hostpanel/`: a server
/// registered with that base URL (with or without the trailing slash) works;
/// one registered with the default `/spanel/` gets the web server's 404 page,
/// FAILED_PRECONDITION SERVER_MISCONFIGURED naming the base URL as the thing
/// to fix, and reaches no `api.php`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn white_label_folder_is_part_of_the_base_url() {
    let config = SpanelConfig {
        folder: "hostpanel".into(),
        ..config()
    };
    Sp::run_with(config, |sp| async move {
        assert!(sp.sim.base_url().ends_with("/hostpanel/"));
        assert_eq!(sp.list_packages().await, default_packages());
        sp.create("wendy", "basic").await;
        assert!(sp.sim.account("wendy").is_some());
        let link = sp.login_link("wendy").await.expect("login link");
        assert!(
            link.starts_with(&format!("http://{}/hostpanel/sso/", sp.sim.addr())),
            "{link}"
        );

        let no_slash = sp.sim.base_url().trim_end_matches('/').to_owned();
        sp.register_at(&sp.gateway, "noslash", &no_slash, DOC_TOKEN)
            .await;
        let got = sp
            .gateway
            .accounts()
            .get_account(GetAccountRequest {
                target: by_name("noslash"),
                username: "wendy".into(),
            })
            .await
            .expect("get wendy through `noslash`");
        assert_eq!(got.into_inner().account.expect("account").username, "wendy");

        let wrong = format!("http://{}/spanel/", sp.sim.addr());
        let id = sp
            .register_at(&sp.gateway, "default-folder", &wrong, DOC_TOKEN)
            .await;
        let mark = sp.mark();
        let listed = sp
            .gateway
            .packages()
            .list_packages(ListPackagesRequest {
                target: by_id(&id),
                ..Default::default()
            })
            .await;
        // A 404 page from the web server, not the panel: the base URL is wrong.
        let status = assert_error(listed, Code::FailedPrecondition, "SERVER_MISCONFIGURED");
        for expected in ["404", "base_url"] {
            assert!(status.message().contains(expected), "{}", status.message());
        }
        assert_eq!(sp.actions_since(mark), Vec::<String>::new(), "no api.php");
    })
    .await;
}

/// CheckServer is `toolbox/apicheck`; a token the panel does not know
/// reaches `api.php` as the form's first field, as given (the refusal itself
/// is the cross-panel suite's `wrong_credentials_fail_fast_until_updated`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_server_is_apicheck_and_a_stale_token_is_sent_as_given() {
    Sp::run_with(config(), |sp| async move {
        let mark = sp.mark();
        assert!(sp.check(SERVER).await.healthy);
        assert_eq!(sp.actions_since(mark), ["toolbox/apicheck"]);

        let base_url = sp.sim.base_url();
        sp.register_at(&sp.gateway, "stale", &base_url, "stale-token-123")
            .await;
        let mark = sp.mark();
        let request = ListPackagesRequest {
            target: by_name("stale"),
            ..Default::default()
        };
        let listed = sp.gateway.packages().list_packages(request).await;
        assert_error(
            listed,
            Code::FailedPrecondition,
            "PANEL_CREDENTIALS_REJECTED",
        );
        assert_eq!(sp.actions_since(mark), ["accounts/listpackages"]);
        let body = sp.last_body("accounts/listpackages");
        assert!(body.starts_with("token=stale-token-123&"), "{body}");
    })
    .await;
}
