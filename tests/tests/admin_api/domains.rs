//! Domains, certificates and databases: add_domain (AddDomain, and the
//! primary domain of CreateAccount), issue_ssl (IssueCertificate) and
//! database_add (CreateDatabase, with the MySQL errors the panel passes
//! through), with their documented errors.

use panelgate_proto::v1::{
    AddDomainRequest, AdminApiDomainOptions, CreateAccountRequest, DomainStatus,
    IssueCertificateRequest, PanelKind, RegisterServerRequest, Server, add_domain_request,
};
use panelgate_tests::{PanelFixture, errors::assert_invalid, gateway::by_name};
use tonic::Code;

use crate::{DEFAULT_PHP, Ols};

panelgate_tests::panel_tests!(Ols:
    add_domain_with_php_option_and_document_root, add_domain_takes_the_servers_default_php_version,
    php_version_is_required_without_a_server_default, issue_certificate_marks_the_domain_ssl,
    domain_limit_of_the_package_is_resource_exhausted, existing_domain_is_already_exists,
    add_domain_for_unknown_account_is_not_found, certificate_for_unknown_domain_is_not_found,
    panel_failures_adding_a_domain_are_upstream_operation_failed,
    failed_ssl_issue_is_certificate_not_issued, create_database_prefixes_names_with_the_account,
    database_creation_failure_is_upstream_operation_failed,
    duplicate_database_is_refused_and_nothing_half_made);

/// IssueCertificate of `domain` on `ols`.
fn certificate(ols: &Ols, domain: &str) -> IssueCertificateRequest {
    IssueCertificateRequest {
        target: ols.target(),
        domain: domain.to_owned(),
        ..Default::default()
    }
}

/// AddDomain sends the PHP version of the options and the document root as
/// the panel's `path`.
async fn add_domain_with_php_option_and_document_root(ols: Ols) {
    ols.create("kim", "Premium").await;
    let added = ols
        .gateway
        .domains()
        .add_domain(AddDomainRequest {
            target: ols.target(),
            username: "kim".into(),
            domain: "Shop.Kim.Example".into(),
            document_root: "shop/public".into(),
            panel_options: Some(add_domain_request::PanelOptions::AdminApi(
                AdminApiDomainOptions {
                    php_version: "8.3".into(),
                },
            )),
            ..Default::default()
        })
        .await;
    let domain = added.expect("add domain").into_inner().domain;
    let domain = domain.expect("domain in reply");
    assert_eq!(domain.name, "shop.kim.example");
    assert_eq!(domain.username, "kim");
    assert_eq!(domain.document_root, "shop/public");
    assert_eq!(domain.status(), DomainStatus::Active);

    let stored = ols.sim.domain("shop.kim.example").expect("on the panel");
    assert_eq!(stored.owner, "kim");
    assert_eq!(stored.php_version, "8.3");
    assert_eq!(stored.path, "/home/kim/shop/public");
    assert_eq!(domain.panel_domain_id, stored.id.to_string());
    let domains = ols.sim.user("kim").expect("kim").domains;
    assert_eq!(domains, ["kim.example", "shop.kim.example"]);
}

/// AddDomain without options takes the server's default PHP version, and
/// without a document root the panel's `public_html`.
async fn add_domain_takes_the_servers_default_php_version(ols: Ols) {
    ols.create("lee", "Premium").await;
    let added = ols.add_domain("lee", "blog.lee.example", "").await;
    added.expect("add domain");
    let stored = ols.sim.domain("blog.lee.example").expect("on the panel");
    assert_eq!(stored.owner, "lee");
    assert_eq!(stored.php_version, DEFAULT_PHP);
    assert_eq!(stored.path, "/home/lee/public_html");
}

/// With neither a PHP version in the options nor a server default, AddDomain
/// and CreateAccount are INVALID_ARGUMENT on the option, before any panel call.
async fn php_version_is_required_without_a_server_default(ols: Ols) {
    let bare = RegisterServerRequest {
        server: Some(Server {
            name: "bare".into(),
            kind: PanelKind::AdminApi.into(),
            base_url: ols.base_url(),
            ..Default::default()
        }),
        credentials: Some(ols.credentials()),
        request_id: String::new(),
    };
    let registered = ols.gateway.inventory().register_server(bare).await;
    registered.expect("register `bare` without defaults");
    let before = ols.sim.request_count();
    let refused = ols
        .gateway
        .domains()
        .add_domain(AddDomainRequest {
            target: by_name("bare"),
            username: "mo".into(),
            domain: "shop.mo.example".into(),
            ..Default::default()
        })
        .await;
    assert_invalid(refused, "panel_options.admin_api.php_version");
    assert_eq!(ols.sim.request_count(), before, "no panel call");

    let refused = ols
        .gateway
        .accounts()
        .create_account(CreateAccountRequest {
            target: by_name("bare"),
            ..ols.new_account("mo")
        })
        .await;
    assert_invalid(refused, "panel_options.admin_api.php_version");
    assert_eq!(ols.sim.user("mo"), None, "no add_user call");
}

/// IssueCertificate asks the panel for a certificate of an existing domain.
async fn issue_certificate_marks_the_domain_ssl(ols: Ols) {
    ols.create("max", "Basic").await;
    assert!(!ols.sim.domain("max.example").expect("domain").has_ssl);
    let request = certificate(&ols, "max.example");
    let issued = ols.gateway.certificates().issue_certificate(request).await;
    let certificate = issued.expect("issue certificate").into_inner();
    let certificate = certificate.certificate.expect("certificate in reply");
    assert_eq!(certificate.domain, "max.example");
    assert!(ols.sim.domain("max.example").expect("domain").has_ssl);
}

/// Basic allows 2 domains, the primary one included: the third is
/// RESOURCE_EXHAUSTED LIMIT_REACHED and not created; on Premium it is.
async fn domain_limit_of_the_package_is_resource_exhausted(ols: Ols) {
    ols.create("rae", "Basic").await;
    let second = ols.add_domain("rae", "two.rae.example", "").await;
    second.expect("second domain");
    let third = ols.add_domain("rae", "three.rae.example", "").await;
    let said = "Domain add limit exceeded.";
    ols.assert_said(third, Code::ResourceExhausted, "LIMIT_REACHED", said);
    assert_eq!(ols.sim.domain("three.rae.example"), None);
    assert_eq!(ols.sim.user("rae").expect("rae").domains.len(), 2);

    let moved = ols.change_package("rae", "Premium").await;
    moved.expect("move rae to Premium");
    let third = ols.add_domain("rae", "three.rae.example", "").await;
    third.expect("third domain on Premium");
    assert!(ols.sim.domain("three.rae.example").is_some());
}

/// AddDomain of a domain the panel has (any owner) → ALREADY_EXISTS
/// DOMAIN_ALREADY_EXISTS; the domain keeps its owner.
async fn existing_domain_is_already_exists(ols: Ols) {
    ols.create("sam", "Premium").await;
    ols.create("tia", "Premium").await;
    for (username, domain) in [("sam", "sam.example"), ("tia", "sam.example")] {
        let again = ols.add_domain(username, domain, "").await;
        let said = "The domain 'sam.example' already exists.";
        ols.assert_said(again, Code::AlreadyExists, "DOMAIN_ALREADY_EXISTS", said);
    }
    assert_eq!(ols.sim.domain("sam.example").expect("domain").owner, "sam");
    assert_eq!(ols.sim.user("tia").expect("tia").domains, ["tia.example"]);
}

/// AddDomain for a user the panel lacks (the server named explicitly) →
/// NOT_FOUND ACCOUNT_NOT_FOUND.
async fn add_domain_for_unknown_account_is_not_found(ols: Ols) {
    let missing = ols.add_domain("ghost", "ghost.example", "").await;
    let said = "User 'ghost' not found.";
    ols.assert_said(missing, Code::NotFound, "ACCOUNT_NOT_FOUND", said);
    assert_eq!(ols.sim.domain("ghost.example"), None);
}

/// IssueCertificate for a domain the panel lacks → NOT_FOUND DOMAIN_NOT_FOUND.
async fn certificate_for_unknown_domain_is_not_found(ols: Ols) {
    let request = certificate(&ols, "nowhere.example");
    let missing = ols.gateway.certificates().issue_certificate(request).await;
    let said = "Domain 'nowhere.example' not found.";
    ols.assert_said(missing, Code::NotFound, "DOMAIN_NOT_FOUND", said);
}

/// The panel's internal add_domain failures (listener mapping, virtual host,
/// folder permissions) → INTERNAL UPSTREAM_OPERATION_FAILED with the panel's
/// words; the domain is not there, and the next try works.
async fn panel_failures_adding_a_domain_are_upstream_operation_failed(ols: Ols) {
    ols.create("uli", "Premium").await;
    let domain = "shop.uli.example";
    for message in [
        format!("Failed to add mapping for '{domain}'."),
        format!("Failed to add virtual host for '{domain}'."),
        format!("Failed to set folder permissions for '{domain}'."),
    ] {
        ols.sim.fail_next("add_domain", &message);
        let failed = ols.add_domain("uli", domain, "").await;
        ols.assert_said(
            failed,
            Code::Internal,
            "UPSTREAM_OPERATION_FAILED",
            &message,
        );
        assert_eq!(ols.sim.domain(domain), None, "after: {message}");
    }
    ols.add_domain("uli", domain, "")
        .await
        .expect("the next try");
    assert!(ols.sim.domain(domain).is_some());
}

/// issue_ssl failing on the panel → FAILED_PRECONDITION CERTIFICATE_NOT_ISSUED
/// with the panel's words; the domain has no certificate.
async fn failed_ssl_issue_is_certificate_not_issued(ols: Ols) {
    ols.create("val", "Basic").await;
    let said = "Failed to issue SSL for 'val.example'.";
    ols.sim.fail_next("issue_ssl", said);
    let request = certificate(&ols, "val.example");
    let failed = ols.gateway.certificates().issue_certificate(request).await;
    let reason = "CERTIFICATE_NOT_ISSUED";
    ols.assert_said(failed, Code::FailedPrecondition, reason, said);
    assert!(!ols.sim.domain("val.example").expect("domain").has_ssl);
}

/// CreateDatabase makes a database and its user, which the panel prefixes
/// with the account name; the reply gives the names as requested.
async fn create_database_prefixes_names_with_the_account(ols: Ols) {
    ols.create("ned", "Basic").await;
    let database = ols.create_database("ned", "shop", "shopuser").await;
    let database = database.expect("create database");
    let names = (database.name.as_str(), database.user.as_str());
    assert_eq!(names, ("shop", "shopuser"));
    assert_eq!(database.username, "ned");
    let user = ols.sim.user("ned").expect("ned");
    assert_eq!(user.databases, ["ned_shop"]);
    assert_eq!(user.db_users, ["ned_shopuser"]);
}

/// database_add passing a failure of its database layer through → INTERNAL
/// UPSTREAM_OPERATION_FAILED with the panel's words; nothing is created.
async fn database_creation_failure_is_upstream_operation_failed(ols: Ols) {
    ols.create("wes", "Basic").await;
    let message = "Some error message from database creation function";
    ols.sim.fail_next("database_add", message);
    let failed = ols.create_database("wes", "shop", "shopuser").await;
    ols.assert_said(failed, Code::Internal, "UPSTREAM_OPERATION_FAILED", message);
    let user = ols.sim.user("wes").expect("wes");
    let nothing = user.databases.is_empty() && user.db_users.is_empty();
    assert!(nothing, "{user:?}");
}

/// A database or database user the account has already: the panel passes
/// MySQL's error through, the caller gets it as an error, and nothing is
/// half-made (no second database, no stray user).
async fn duplicate_database_is_refused_and_nothing_half_made(ols: Ols) {
    ols.create("xia", "Basic").await;
    let first = ols.create_database("xia", "shop", "shopuser").await;
    first.expect("first database");
    let cases = [
        (
            ("shop", "otheruser"),
            "DATABASE_ALREADY_EXISTS",
            "(1007, \"Can't create database 'xia_shop'; database exists\")",
        ),
        (
            ("blog", "shopuser"),
            "DATABASE_USER_ALREADY_EXISTS",
            "(1396, \"Operation CREATE USER failed for 'xia_shopuser'@'localhost'\")",
        ),
    ];
    for ((name, user), reason, mysql_error) in cases {
        let again = ols.create_database("xia", name, user).await;
        // MySQL's error passed through by the panel, read for what it means.
        ols.assert_said(again, Code::AlreadyExists, reason, mysql_error);
        let user = ols.sim.user("xia").expect("xia");
        assert_eq!(user.databases, ["xia_shop"]);
        assert_eq!(user.db_users, ["xia_shopuser"]);
    }
}
