//! Domains and databases: the websites list read, changed and written back
//! whole, and database credentials recorded on the right website.

use crate::{
    DOC_USER, Ia, Installatron, SFTP_PATH, body_json, database, example::doc_user_stored,
    new_account, site, vhosts, websites_of, with_websites,
};
use panelgate_proto::v1::{
    AddDomainRequest, CreateDatabaseRequest, Database, Domain, DomainStatus,
    InstallatronDatabaseOptions, InstallatronDomainOptions, InstallatronWebsite,
    add_domain_request, create_database_request,
};
use panelgate_tests::errors::assert_invalid;
use serde_json::json;
use tonic::Code;

panelgate_tests::panel_tests!(Ia:
    add_domain_keeps_the_other_websites, delete_domain_removes_only_its_vhosts,
    list_domains_lists_each_host_once, create_database_records_credentials_on_the_right_website);

/// AddDomain on a user with the doc's two websites writes the whole list back
/// with a third website: by default labelled with the domain, served at its
/// http:// and https:// from `public_html` (or the request's document root),
/// its files where the first website has them; or the website given in
/// InstallatronDomainOptions (label defaulting to the domain). The doc's two
/// websites stay byte for byte what they were. A domain some website already
/// serves is ALREADY_EXISTS without a write.
async fn add_domain_keeps_the_other_websites(ia: Ia) {
    ia.create_doc_user().await;
    let doc = ia.websites(DOC_USER);

    let mark = ia.mark();
    let added = ia
        .add_domain_reply(AddDomainRequest {
            username: DOC_USER.to_owned(),
            domain: "shop.example".to_owned(),
            ..Default::default()
        })
        .await
        .expect("add shop.example")
        .domain;
    assert_eq!(
        added,
        Some(Domain {
            name: "shop.example".to_owned(),
            username: DOC_USER.to_owned(),
            document_root: "public_html".to_owned(),
            status: DomainStatus::Active.into(),
            panel_domain_id: "shop.example".to_owned(),
        })
    );
    assert_eq!(
        ia.calls_since(mark),
        ["GET /users/useraccountname", "POST /users/useraccountname"]
    );
    let body = body_json(&ia.since(mark)[1]);
    assert_eq!(
        body.as_object().map(|fields| fields.len()),
        Some(1),
        "only the websites are sent: {body}"
    );
    assert_eq!(body["websites"].as_array().map(Vec::len), Some(3));
    let websites = ia.websites(DOC_USER);
    assert_eq!(websites[..2], doc[..], "the doc's websites are untouched");
    assert_eq!(
        websites[2],
        json!({
            "path": "sftp://exampleftpuser:exampleftppassword@website.com",
            "label": "shop.example",
            "server": "website.com",
            "parent": "root",
            "databases": [],
            "vhosts": {
                "http://shop.example": "public_html",
                "https://shop.example": "public_html"
            }
        })
    );

    // A document root for the default website.
    let added = ia
        .add_domain_reply(AddDomainRequest {
            username: DOC_USER.to_owned(),
            domain: "docs.example".to_owned(),
            document_root: "docs/public".to_owned(),
            ..Default::default()
        })
        .await
        .expect("add docs.example")
        .domain
        .expect("domain in reply");
    assert_eq!(added.document_root, "docs/public");
    assert_eq!(
        ia.websites(DOC_USER)[3]["vhosts"],
        json!({"http://docs.example": "docs/public", "https://docs.example": "docs/public"})
    );

    // The caller's own website: a local path with its ids and a database.
    let blog = InstallatronWebsite {
        path: "/home/useraccountname/blog".to_owned(),
        uid: Some(1001),
        gid: Some(1002),
        vhosts: vhosts(&[
            ("http://blog.example", "htdocs"),
            ("http://www.blog.example", "htdocs"),
        ]),
        databases: vec![database(
            "localhost",
            "useraccountname_blog",
            "blog-db-pass",
        )],
        ..Default::default()
    };
    let added = ia
        .add_domain_reply(AddDomainRequest {
            username: DOC_USER.to_owned(),
            domain: "blog.example".to_owned(),
            panel_options: Some(add_domain_request::PanelOptions::Installatron(
                InstallatronDomainOptions {
                    website: Some(blog),
                },
            )),
            ..Default::default()
        })
        .await
        .expect("add blog.example")
        .domain
        .expect("domain in reply");
    assert_eq!(
        (added.document_root.as_str(), added.panel_domain_id.as_str()),
        ("htdocs", "blog.example")
    );
    let websites = ia.websites(DOC_USER);
    assert_eq!(websites.len(), 5);
    assert_eq!(
        websites[..2],
        doc[..],
        "the doc's websites are still untouched"
    );
    assert_eq!(
        websites[4],
        json!({
            "path": "/home/useraccountname/blog",
            "label": "blog.example",
            "server": "localhost",
            "parent": "root",
            "uid": 1001,
            "gid": 1002,
            "databases": [{
                "type": "mysql",
                "host": "localhost",
                "user": "useraccountname_blog",
                "name": "useraccountname_blog",
                "pass": "blog-db-pass"
            }],
            "vhosts": {"http://blog.example": "htdocs", "http://www.blog.example": "htdocs"}
        })
    );

    // Served already: by a website's vhosts, or as a label.
    for taken in ["subdomain.website.com", "www.blog.example", "website.com"] {
        let before = ia.snapshot(DOC_USER);
        let mark = ia.mark();
        let again = ia
            .add_domain_reply(AddDomainRequest {
                username: DOC_USER.to_owned(),
                domain: taken.to_owned(),
                ..Default::default()
            })
            .await;
        ia.assert_panel_error(again, Code::AlreadyExists, "DOMAIN_ALREADY_EXISTS");
        assert_eq!(
            ia.calls_since(mark),
            ["GET /users/useraccountname"],
            "{taken}"
        );
        assert_eq!(ia.snapshot(DOC_USER), before, "{taken}");
    }
}

/// DeleteDomain removes only the vhosts of that domain: a website keeping
/// other vhosts stays (its databases too), a website left without any goes
/// (with its databases), and every other website stays byte for byte. Adding
/// a domain and deleting it again gives back the doc's user exactly. Without
/// `username` the owner is found by reading every user; an unknown domain is
/// NOT_FOUND without a write.
async fn delete_domain_removes_only_its_vhosts(ia: Ia) {
    ia.create_doc_user().await;
    ia.create_account(new_account("other"))
        .await
        .expect("create other");
    let other = ia.snapshot("other");

    // There and back: the doc's user is exactly what it was.
    ia.add_domain_reply(AddDomainRequest {
        username: DOC_USER.to_owned(),
        domain: "shop.example".to_owned(),
        ..Default::default()
    })
    .await
    .expect("add shop.example");
    ia.delete_domain_reply("shop.example", DOC_USER, false)
        .await
        .expect("delete shop.example");
    assert_eq!(
        ia.user(DOC_USER),
        doc_user_stored(),
        "back to the doc's user"
    );

    // A website with two hosts loses one of them, and keeps its database.
    let mut both = site(SFTP_PATH, "blog.example");
    both.vhosts.insert(
        "http://www.blog.example".to_owned(),
        "public_html".to_owned(),
    );
    both.databases = vec![database("localhost", "blogdb", "blog-db-pass")];
    ia.add_domain_reply(AddDomainRequest {
        username: DOC_USER.to_owned(),
        domain: "blog.example".to_owned(),
        panel_options: Some(add_domain_request::PanelOptions::Installatron(
            InstallatronDomainOptions {
                website: Some(both),
            },
        )),
        ..Default::default()
    })
    .await
    .expect("add blog.example");
    let before = ia.websites(DOC_USER);
    let mark = ia.mark();
    ia.delete_domain_reply("www.blog.example", DOC_USER, false)
        .await
        .expect("delete www.blog.example");
    assert_eq!(
        ia.calls_since(mark),
        ["GET /users/useraccountname", "POST /users/useraccountname"]
    );
    let after = ia.websites(DOC_USER);
    assert_eq!(after[..2], before[..2], "the doc's websites are untouched");
    let mut blog = before[2].clone();
    blog["vhosts"]
        .as_object_mut()
        .expect("vhosts")
        .remove("http://www.blog.example");
    assert_eq!(after[2], blog, "only www.blog.example's vhost is gone");
    assert_eq!(after[2]["databases"][0]["name"], "blogdb");

    // A website left without vhosts goes, with its database; found
    // without `username` by reading the users.
    let mark = ia.mark();
    ia.delete_domain_reply("subdomain.website.com", "", false)
        .await
        .expect("delete subdomain.website.com");
    assert_eq!(
        ia.calls_since(mark),
        [
            "GET /users?offset=0&limit=100",
            "POST /users/useraccountname"
        ]
    );
    let last = ia.websites(DOC_USER);
    assert_eq!(last, [after[0].clone(), after[2].clone()]);
    assert!(
        !ia.snapshot(DOC_USER).contains("useraccountname_mytestdb2"),
        "the database went with its website"
    );
    assert_eq!(ia.snapshot("other"), other, "other users are untouched");

    // Nobody serves it.
    for owner in [DOC_USER, ""] {
        let before = ia.snapshot(DOC_USER);
        let mark = ia.mark();
        let gone = ia
            .delete_domain_reply("nowhere.example", owner, false)
            .await;
        ia.assert_panel_error(gone, Code::NotFound, "DOMAIN_NOT_FOUND");
        assert!(
            ia.since(mark).iter().all(|request| request.method == "GET"),
            "no write: {:?}",
            ia.calls_since(mark)
        );
        assert_eq!(ia.snapshot(DOC_USER), before);
    }
}

/// ListDomains lists every vhost host once (http:// and https:// of one host
/// are one domain), with its document root, its website's label as the
/// panel's id and its website's suspension; for one account, or for every
/// account of the server.
async fn list_domains_lists_each_host_once(ia: Ia) {
    ia.create_doc_user().await;
    let mut parked = site(SFTP_PATH, "parked.example");
    parked.vhosts.insert(
        "http://www.parked.example".to_owned(),
        "public_html".to_owned(),
    );
    parked.suspended = true;
    ia.create_account(with_websites("other", vec![parked]))
        .await
        .expect("create other");

    let domain =
        |name: &str, username: &str, root: &str, label: &str, status: DomainStatus| Domain {
            name: name.to_owned(),
            username: username.to_owned(),
            document_root: root.to_owned(),
            status: status.into(),
            panel_domain_id: label.to_owned(),
        };
    let doc_domains = vec![
        domain(
            "website.com",
            DOC_USER,
            "public_html",
            "website.com",
            DomainStatus::Active,
        ),
        domain(
            "subdomain.website.com",
            DOC_USER,
            "public_html/subdomain",
            "subdomain.website.com",
            DomainStatus::Active,
        ),
    ];
    assert_eq!(ia.list_domains(DOC_USER).await, doc_domains);
    let other_domains = vec![
        domain(
            "parked.example",
            "other",
            "public_html",
            "parked.example",
            DomainStatus::Suspended,
        ),
        domain(
            "www.parked.example",
            "other",
            "public_html",
            "parked.example",
            DomainStatus::Suspended,
        ),
    ];
    assert_eq!(ia.list_domains("other").await, other_domains);
    let everything: Vec<Domain> = doc_domains.into_iter().chain(other_domains).collect();
    assert_eq!(ia.list_domains("").await, everything);
}

/// CreateDatabase records the credentials (type mysql, host `localhost` by
/// default) on the website serving the primary domain by default, or on the
/// website InstallatronDatabaseOptions names, with its host; the other
/// websites stay as they were. The same name again on that website is
/// ALREADY_EXISTS, an unknown website label INVALID_ARGUMENT — neither writes.
async fn create_database_records_credentials_on_the_right_website(ia: Ia) {
    ia.create_doc_user().await;
    let doc = ia.websites(DOC_USER);
    let request = |name: &str, website: &str, host: &str| CreateDatabaseRequest {
        username: DOC_USER.to_owned(),
        database_name: name.to_owned(),
        database_user: format!("{name}_u"),
        database_password: format!("{name}-password"),
        panel_options: (!website.is_empty() || !host.is_empty()).then(|| {
            create_database_request::PanelOptions::Installatron(InstallatronDatabaseOptions {
                website: website.to_owned(),
                host: host.to_owned(),
            })
        }),
        ..Default::default()
    };

    let mark = ia.mark();
    let created = ia
        .create_database_reply(request("shopdb", "", ""))
        .await
        .expect("create shopdb")
        .database;
    assert_eq!(
        created,
        Some(Database {
            name: "shopdb".to_owned(),
            user: "shopdb_u".to_owned(),
            username: DOC_USER.to_owned(),
        })
    );
    assert_eq!(
        ia.calls_since(mark),
        ["GET /users/useraccountname", "POST /users/useraccountname"]
    );
    let websites = ia.websites(DOC_USER);
    assert_eq!(
        websites[0]["databases"][1],
        json!({"type": "mysql", "host": "localhost", "user": "shopdb_u", "name": "shopdb", "pass": "shopdb-password"}),
        "on website.com, the primary domain's website"
    );
    assert_eq!(websites[0]["databases"][0], doc[0]["databases"][0]);
    assert_eq!(websites[1], doc[1], "the other website is untouched");

    ia.create_database_reply(request("subdb", "subdomain.website.com", "db.example:3307"))
        .await
        .expect("create subdb");
    let websites = ia.websites(DOC_USER);
    assert_eq!(
        websites[1]["databases"],
        json!([
            doc[1]["databases"][0],
            {"type": "mysql", "host": "db.example:3307", "user": "subdb_u", "name": "subdb", "pass": "subdb-password"}
        ])
    );
    assert_eq!(websites[0]["databases"].as_array().map(Vec::len), Some(2));
    let got = ia.get_account(DOC_USER).await.expect("get");
    let recorded = &websites_of(&got)[1].databases[1];
    assert_eq!(
        (recorded.host.as_str(), recorded.password.as_str()),
        ("db.example:3307", ""),
        "returned as recorded, without its password"
    );

    let before = ia.snapshot(DOC_USER);
    let mark = ia.mark();
    let again = ia.create_database_reply(request("shopdb", "", "")).await;
    ia.assert_panel_error(again, Code::AlreadyExists, "DATABASE_ALREADY_EXISTS");
    let unknown = ia
        .create_database_reply(request("lostdb", "nowhere.example", ""))
        .await;
    assert_invalid(unknown, "panel_options.installatron.website");
    assert!(
        ia.since(mark).iter().all(|request| request.method == "GET"),
        "no write: {:?}",
        ia.calls_since(mark)
    );
    assert_eq!(ia.snapshot(DOC_USER), before);
}
