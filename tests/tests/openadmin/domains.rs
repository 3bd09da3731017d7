//! Domains: `GET /api/domains` and `POST /api/domains/{new,suspend,
//! unsuspend,delete}`, with their documented errors.

use panelgate_proto::v1::DomainStatus;
use panelgate_sim::{OpenAdminConfig, SimPlan};
use panelgate_tests::{PanelFixture, errors::assert_invalid};
use tonic::Code;

use crate::{DEFAULT_PLAN, Oa, PRO_PLAN};

panelgate_tests::panel_tests!(Oa:
    domains_are_added_listed_suspended_and_deleted,
    existing_domain_is_already_exists_despite_http_200,
    document_root_outside_var_www_html_is_invalid);

/// AddDomain creates the domain under `/var/www/html/<domain>` or under the
/// document root given; ListDomains lists one account's domains with their
/// owner and panel ids, or the server's (without owners: the panel lists them
/// by internal user id); Suspend/Unsuspend/DeleteDomain act on the panel, and
/// suspending twice is fine.
async fn domains_are_added_listed_suspended_and_deleted(oa: Oa) {
    oa.create("dom", PRO_PLAN).await;
    oa.create("other", PRO_PLAN).await;

    let shop = oa
        .add_domain("dom", "shop.example", "")
        .await
        .expect("add shop.example");
    assert_eq!(
        (
            shop.name.as_str(),
            shop.username.as_str(),
            shop.document_root.as_str()
        ),
        ("shop.example", "dom", "/var/www/html/shop.example")
    );
    assert_eq!(shop.status(), DomainStatus::Active);
    let blog = oa
        .add_domain("dom", "blog.example", "/var/www/html/blog")
        .await
        .expect("add blog.example");
    assert_eq!(blog.document_root, "/var/www/html/blog");
    let on_panel = oa.sim.domain("blog.example").expect("blog.example");
    assert_eq!(
        (on_panel.owner.as_str(), on_panel.docroot.as_str()),
        ("dom", "/var/www/html/blog")
    );
    assert_eq!(
        oa.sim.domain("shop.example").expect("shop.example").docroot,
        "/var/www/html/shop.example"
    );

    let of_dom: Vec<_> = oa
        .list_domains("dom")
        .await
        .into_iter()
        .map(|domain| {
            let on_panel = oa.sim.domain(&domain.name).expect("listed domain exists");
            assert_eq!(domain.panel_domain_id, on_panel.id.to_string());
            assert_eq!(domain.document_root, on_panel.docroot);
            (domain.name, domain.username)
        })
        .collect();
    let owned = |name: &str| (name.to_owned(), "dom".to_owned());
    assert_eq!(
        of_dom,
        [
            owned("dom.example"),
            owned("shop.example"),
            owned("blog.example")
        ]
    );
    let mut all: Vec<_> = oa
        .list_domains("")
        .await
        .into_iter()
        .map(|domain| {
            assert_eq!(domain.username, "", "{domain:?}");
            domain.name
        })
        .collect();
    all.sort();
    assert_eq!(
        all,
        [
            "blog.example",
            "dom.example",
            "other.example",
            "shop.example"
        ]
    );

    for round in 1..=2 {
        let suspended = oa.suspend_domain("shop.example").await;
        suspended.unwrap_or_else(|status| panic!("suspend #{round}: {status:?}"));
        assert!(oa.sim.domain("shop.example").expect("shop").suspended);
    }
    oa.unsuspend_domain("shop.example")
        .await
        .expect("unsuspend");
    assert!(!oa.sim.domain("shop.example").expect("shop").suspended);

    let deleted = oa.delete_domain("blog.example", "").await;
    deleted.expect("delete blog.example");
    assert_eq!(oa.sim.domain("blog.example"), None);
    assert_eq!(
        oa.sim.user("dom").expect("dom").domains,
        ["dom.example", "shop.example"]
    );
}

/// AddDomain of a domain the panel has (any owner): the panel answers HTTP
/// 200 with returncode 1, and that is ALREADY_EXISTS DOMAIN_ALREADY_EXISTS;
/// the domain keeps its owner.
async fn existing_domain_is_already_exists_despite_http_200(oa: Oa) {
    oa.create("alice", DEFAULT_PLAN).await;
    oa.create("bob", DEFAULT_PLAN).await;
    for username in ["alice", "bob"] {
        let taken = oa.add_domain(username, "alice.example", "").await;
        oa.assert_said(
            taken,
            Code::AlreadyExists,
            "DOMAIN_ALREADY_EXISTS",
            "ERROR: Domain alice.example already exists.",
        );
    }
    assert_eq!(
        oa.sim.domain("alice.example").expect("alice.example").owner,
        "alice"
    );
    assert_eq!(oa.sim.user("bob").expect("bob").domains, ["bob.example"]);
}

/// A plan's domain limit reached → RESOURCE_EXHAUSTED LIMIT_REACHED, and the
/// domain is not created.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn domain_limit_is_resource_exhausted() {
    let mut config = OpenAdminConfig::default();
    config.plans.push(SimPlan::new(3, "tiny_plan", 1, 2));
    Oa::run_with(config, |oa| async move {
        oa.create("tina", "tiny_plan").await;
        oa.add_domain("tina", "second.example", "")
            .await
            .expect("the second domain fits");
        let third = oa.add_domain("tina", "third.example", "").await;
        oa.assert_said(
            third,
            Code::ResourceExhausted,
            "LIMIT_REACHED",
            "ERROR: Domain limit reached: user tina can have at most 2 domains.",
        );
        assert_eq!(oa.sim.domain("third.example"), None);
        assert_eq!(
            oa.sim.user("tina").expect("tina").domains,
            ["tina.example", "second.example"]
        );
    })
    .await;
}

/// A document root outside `/var/www/html/` → INVALID_ARGUMENT on
/// `document_root`, before any panel call (not even a login).
async fn document_root_outside_var_www_html_is_invalid(oa: Oa) {
    for root in [
        "/home/alice/public_html",
        "/var/www/html/",
        "/var/www/htmlx/shop",
    ] {
        let refused = oa.add_domain("alice", "shop.example", root).await;
        assert_invalid(refused, "document_root");
    }
    assert_eq!(oa.requests(), 0, "the panel heard nothing");
    assert_eq!(oa.sim.domain("shop.example"), None);
}
