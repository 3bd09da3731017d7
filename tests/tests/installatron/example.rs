//! The source doc's RESPONSE example user, as data: its websites as
//! canonical messages, its `data` verbatim, the request that creates it,
//! and how the panel stores it and replies show it.

use panelgate_proto::v1::{
    Account, AccountStatus, CreateAccountRequest, InstallatronAccountDetails, InstallatronWebsite,
    account,
};
use serde_json::{Value, json};

use crate::{DOC_USER, PACKAGE, database, vhosts, with_websites};

/// The websites of the source doc's RESPONSE example, as canonical messages.
pub(crate) fn doc_websites() -> Vec<InstallatronWebsite> {
    vec![
        InstallatronWebsite {
            path: "sftp://exampleftpuser:exampleftppassword@website.com".to_owned(),
            label: "website.com".to_owned(),
            server: "website.com".to_owned(),
            parent: "root".to_owned(),
            databases: vec![database(
                "localhost",
                "useraccountname_mytestdb1",
                "exampledbpassword1",
            )],
            vhosts: vhosts(&[("http://website.com", "public_html")]),
            ..Default::default()
        },
        InstallatronWebsite {
            path: "sftp://exampleftpuser:exampleftppassword@website.com/subdomain".to_owned(),
            server: "website.com".to_owned(),
            label: "subdomain.website.com".to_owned(),
            parent: "root".to_owned(),
            databases: vec![database(
                "123.123.123.123:3307",
                "useraccountname_mytestdb2",
                "exampledbpassword2",
            )],
            vhosts: vhosts(&[
                ("http://subdomain.website.com", "public_html/subdomain"),
                ("https://subdomain.website.com", "public_html/subdomain"),
            ]),
            ..Default::default()
        },
    ]
}

/// The `data` of the source doc's RESPONSE example, verbatim.
pub(crate) fn doc_user_json() -> Value {
    json!({
        "id": "useraccountname",
        "parent": "root",
        "type": "user",
        "suspended": false,
        "locale": "en",
        "email": "address@website.com",
        "websites": [
            {
                "path": "sftp://exampleftpuser:exampleftppassword@website.com",
                "label": "website.com",
                "server": "website.com",
                "parent": "root",
                "databases": [
                    {
                        "type": "mysql",
                        "host": "localhost",
                        "user": "useraccountname_mytestdb1",
                        "name": "useraccountname_mytestdb1",
                        "pass": "exampledbpassword1"
                    }
                ],
                "vhosts": {
                    "http://website.com": "public_html"
                }
            },
            {
                "path": "sftp://exampleftpuser:exampleftppassword@website.com/subdomain",
                "server": "website.com",
                "label": "subdomain.website.com",
                "parent": "root",
                "databases": [
                    {
                        "type": "mysql",
                        "host": "123.123.123.123:3307",
                        "user": "useraccountname_mytestdb2",
                        "name": "useraccountname_mytestdb2",
                        "pass": "exampledbpassword2"
                    }
                ],
                "vhosts": {
                    "http://subdomain.website.com": "public_html/subdomain",
                    "https://subdomain.website.com": "public_html/subdomain"
                }
            }
        ]
    })
}

/// CreateAccount of the doc's user with the doc's websites.
pub(crate) fn doc_request() -> CreateAccountRequest {
    CreateAccountRequest {
        primary_domain: "website.com".to_owned(),
        email: "address@website.com".to_owned(),
        ..with_websites(DOC_USER, doc_websites())
    }
}

/// The doc's user as the panel stores it after [`doc_request`]: the doc's
/// `data` plus the package CreateAccount always sets (the doc shows none).
pub(crate) fn doc_user_stored() -> Value {
    let mut user = doc_user_json();
    user["package"] = json!(PACKAGE);
    user
}

/// The doc's websites as replies show them: the paths without the FTP
/// password, the databases without theirs.
pub(crate) fn doc_websites_shown() -> Vec<InstallatronWebsite> {
    let mut websites = doc_websites();
    websites[0].path = "sftp://exampleftpuser@website.com".to_owned();
    websites[1].path = "sftp://exampleftpuser@website.com/subdomain".to_owned();
    for website in &mut websites {
        for database in &mut website.databases {
            database.password.clear();
        }
    }
    websites
}

/// The doc's user as a canonical account on server `server_id`.
pub(crate) fn doc_account(server_id: &str) -> Account {
    Account {
        username: DOC_USER.to_owned(),
        server_id: server_id.to_owned(),
        primary_domain: "website.com".to_owned(),
        email: "address@website.com".to_owned(),
        package: PACKAGE.to_owned(),
        status: AccountStatus::Active.into(),
        panel_user_id: DOC_USER.to_owned(),
        panel_details: Some(account::PanelDetails::Installatron(
            InstallatronAccountDetails {
                websites: doc_websites_shown(),
                parent: "root".to_owned(),
                r#type: "user".to_owned(),
                language: "en".to_owned(),
            },
        )),
        ..Default::default()
    }
}
