//! Installatron users and websites ↔ canonical messages. Websites travel as
//! the panel's JSON (`reseller` on input, `parent` on output); empty fields are
//! left out, so the panel keeps its defaults.

use std::collections::HashMap;

use panelgate_proto::v1::{
    Account, AccountStatus, Domain, DomainStatus, InstallatronAccountDetails, InstallatronDatabase,
    InstallatronWebsite, account,
};
use serde_json::{Map, Value, json};

use reqwest::Url;

use crate::{AdapterError, Result, units};

fn text(value: &Value, key: &str) -> String {
    value.get(key).and_then(units::as_text).unwrap_or_default()
}

fn flag(value: &Value, key: &str) -> bool {
    match value.get(key) {
        Some(Value::Bool(flag)) => *flag,
        Some(Value::String(text)) => matches!(text.as_str(), "1" | "true" | "yes"),
        Some(Value::Number(number)) => number.as_u64() == Some(1),
        _ => false,
    }
}

/// A website of the panel's JSON.
pub(super) fn website(value: &Value) -> InstallatronWebsite {
    let vhosts = value
        .get("vhosts")
        .and_then(Value::as_object)
        .map(|vhosts| {
            vhosts
                .iter()
                .map(|(url, root)| (url.clone(), units::as_text(root).unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    let databases = value
        .get("databases")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|database| InstallatronDatabase {
                    r#type: text(database, "type"),
                    host: text(database, "host"),
                    name: text(database, "name"),
                    user: text(database, "user"),
                    password: text(database, "pass"),
                })
                .collect()
        })
        .unwrap_or_default();
    let id = |key: &str| value.get(key).and_then(Value::as_i64);
    InstallatronWebsite {
        path: text(value, "path"),
        label: text(value, "label"),
        server: text(value, "server"),
        vhosts,
        databases,
        uid: id("uid"),
        gid: id("gid"),
        language: text(value, "language"),
        suspended: flag(value, "suspended"),
        vhost_ip: text(value, "vhost_ip"),
        email: text(value, "email"),
        parent: text(value, "parent"),
    }
}

/// A website as the panel takes it.
pub(super) fn website_json(website: &InstallatronWebsite) -> Value {
    let mut out = Map::new();
    let mut put = |key: &str, value: &str| {
        if !value.is_empty() {
            out.insert(key.to_owned(), Value::from(value));
        }
    };
    put("path", &website.path);
    put("label", &website.label);
    put("server", &website.server);
    put("language", &website.language);
    put("vhost_ip", &website.vhost_ip);
    put("email", &website.email);
    put("reseller", &website.parent);
    if !website.vhosts.is_empty() {
        out.insert("vhosts".into(), json!(website.vhosts));
    }
    let databases: Vec<Value> = website
        .databases
        .iter()
        .map(|database| {
            json!({
                "type": if database.r#type.is_empty() { "mysql" } else { database.r#type.as_str() },
                "host": database.host,
                "name": database.name,
                "user": database.user,
                "pass": database.password,
            })
        })
        .collect();
    if !databases.is_empty() {
        out.insert("databases".into(), Value::Array(databases));
    }
    if let Some(uid) = website.uid {
        out.insert("uid".into(), Value::from(uid));
    }
    if let Some(gid) = website.gid {
        out.insert("gid".into(), Value::from(gid));
    }
    if website.suspended {
        out.insert("suspended".into(), Value::Bool(true));
    }
    Value::Object(out)
}

/// Checks a website a caller gives (request field `field`) before any
/// call: `uid` and `gid` above 0, a path and document roots without `..`
/// segments, vhosts keyed by http(s) URLs with a host.
pub(super) fn check_website(field: &str, website: &InstallatronWebsite) -> Result<()> {
    for (name, id) in [("uid", website.uid), ("gid", website.gid)] {
        if id.is_some_and(|id| id <= 0) {
            return Err(AdapterError::invalid(
                format!("{field}.{name}"),
                "must be above 0",
            ));
        }
    }
    let climbs = |path: &str| path.split(['/', '\\']).any(|part| part == "..");
    if climbs(&website.path) {
        return Err(AdapterError::invalid(
            format!("{field}.path"),
            "must not contain `..` segments",
        ));
    }
    for (url, root) in &website.vhosts {
        let web_url = Url::parse(url)
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https") && url.host_str().is_some());
        if web_url.is_none() {
            return Err(AdapterError::invalid(
                format!("{field}.vhosts"),
                format!(
                    "`{}` is not an http:// or https:// URL with a host",
                    crate::http::excerpt(url)
                ),
            ));
        }
        if climbs(root) {
            return Err(AdapterError::invalid(
                format!("{field}.vhosts"),
                "document roots must not contain `..` segments",
            ));
        }
    }
    Ok(())
}

/// The websites of a user of the panel's JSON.
pub(super) fn websites(user: &Value) -> Vec<InstallatronWebsite> {
    user.get("websites")
        .and_then(Value::as_array)
        .map(|list| list.iter().map(website).collect())
        .unwrap_or_default()
}

/// A user as a canonical account, for replies: website paths lose the
/// password of their user info and databases their password. The main
/// domain is the first website's label, or else its first vhost's host.
pub(super) fn account(user: &Value) -> Account {
    let websites: Vec<InstallatronWebsite> = websites(user).into_iter().map(shown).collect();
    let primary_domain = websites
        .first()
        .map(|first| {
            if first.label.contains('.') {
                first.label.clone()
            } else {
                first
                    .vhosts
                    .keys()
                    .map(|url| host(url))
                    .min()
                    .unwrap_or_default()
            }
        })
        .unwrap_or_default();
    Account {
        username: text(user, "id"),
        primary_domain,
        email: text(user, "email"),
        package: text(user, "package"),
        status: if flag(user, "suspended") {
            AccountStatus::Suspended
        } else {
            AccountStatus::Active
        }
        .into(),
        panel_user_id: text(user, "id"),
        panel_details: Some(account::PanelDetails::Installatron(
            InstallatronAccountDetails {
                websites,
                parent: text(user, "parent"),
                r#type: text(user, "type"),
                language: text(user, "locale"),
            },
        )),
        ..Default::default()
    }
}

/// A website as a reply may show it: without the password of the path's user
/// info (`sftp://user:pass@host/…` → `sftp://user@host/…`) and without
/// database passwords.
fn shown(mut website: InstallatronWebsite) -> InstallatronWebsite {
    website.path = without_password(&website.path);
    for database in &mut website.databases {
        database.password.clear();
    }
    website
}

/// A path or URI with the password of its user info removed. Userinfo ends at
/// the last '@' before the path; a password is what follows its first ':'.
fn without_password(path: &str) -> String {
    let Some((scheme, rest)) = path.split_once("://") else {
        return path.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
            format!("{scheme}://{user}@{host}{tail}")
        }
        None => path.to_owned(),
    }
}

/// The host of a site URL: "https://www.example.com/shop" → "www.example.com".
pub(super) fn host(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split(['/', ':'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// The domains of a user: every vhost host, once, with its document root.
pub(super) fn domains(username: &str, websites: &[InstallatronWebsite]) -> Vec<Domain> {
    let mut seen: HashMap<String, ()> = HashMap::new();
    let mut domains = Vec::new();
    for website in websites {
        let mut urls: Vec<(&String, &String)> = website.vhosts.iter().collect();
        urls.sort();
        for (url, root) in urls {
            let name = host(url);
            if name.is_empty() || seen.insert(name.clone(), ()).is_some() {
                continue;
            }
            domains.push(Domain {
                name,
                username: username.to_owned(),
                document_root: root.clone(),
                status: if website.suspended {
                    DomainStatus::Suspended
                } else {
                    DomainStatus::Active
                }
                .into(),
                panel_domain_id: website.label.clone(),
            });
        }
    }
    domains
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The second website of the source doc's response example.
    fn doc_website() -> Value {
        json!({
            "path": "sftp://exampleftpuser:exampleftppassword@website.com/subdomain",
            "server": "website.com",
            "label": "subdomain.website.com",
            "parent": "root",
            "databases": [{"type": "mysql", "host": "123.123.123.123:3307", "user": "useraccountname_mytestdb2",
                "name": "useraccountname_mytestdb2", "pass": "exampledbpassword2"}],
            "vhosts": {"http://subdomain.website.com": "public_html/subdomain", "https://subdomain.website.com": "public_html/subdomain"}
        })
    }

    #[test]
    fn websites_round_trip_through_the_panels_json() {
        let website = website(&doc_website());
        assert_eq!(website.databases[0].host, "123.123.123.123:3307");
        assert_eq!(website.databases[0].password, "exampledbpassword2");
        assert_eq!(website.vhosts.len(), 2);
        let sent = website_json(&website);
        assert_eq!(sent["reseller"], "root", "parent goes out as reseller");
        assert_eq!(sent["databases"][0]["pass"], "exampledbpassword2");
        assert_eq!(
            super::website(&json!({"parent": "root", "reseller": "x"})).parent,
            "root"
        );
        assert!(
            website_json(&InstallatronWebsite::default())
                .as_object()
                .unwrap()
                .is_empty(),
            "empty fields left out"
        );
    }

    #[test]
    fn replies_show_no_path_or_database_password() {
        let user = json!({"id": "bob", "websites": [doc_website()]});
        let account = account(&user);
        let Some(account::PanelDetails::Installatron(details)) = account.panel_details else {
            panic!("installatron details");
        };
        let website = &details.websites[0];
        assert_eq!(website.path, "sftp://exampleftpuser@website.com/subdomain");
        assert_eq!(website.databases[0].password, "");
        assert_eq!(website.databases[0].user, "useraccountname_mytestdb2");
        for (path, shown) in [
            ("/home/bob", "/home/bob"),
            ("ftp://u:p%40ss@h:21/x", "ftp://u@h:21/x"),
            ("ssh://key@host", "ssh://key@host"),
            ("sftp://u:a:b@c@host/p@q", "sftp://u@host/p@q"),
        ] {
            assert_eq!(without_password(path), shown, "{path}");
        }
    }

    #[test]
    fn websites_given_by_callers_are_checked() {
        let good = website(&doc_website());
        assert!(check_website("w", &good).is_ok());
        let bad = [
            InstallatronWebsite {
                uid: Some(0),
                ..good.clone()
            },
            InstallatronWebsite {
                gid: Some(-5),
                ..good.clone()
            },
            InstallatronWebsite {
                path: "/home/bob/../amy".into(),
                ..good.clone()
            },
            InstallatronWebsite {
                vhosts: [("ftp://x.example".to_owned(), "public_html".to_owned())].into(),
                ..good.clone()
            },
            InstallatronWebsite {
                vhosts: [("not a url".to_owned(), "public_html".to_owned())].into(),
                ..good.clone()
            },
            InstallatronWebsite {
                vhosts: [("https://x.example".to_owned(), "../../etc".to_owned())].into(),
                ..good.clone()
            },
        ];
        for website in bad {
            assert!(
                matches!(
                    check_website("w", &website),
                    Err(AdapterError::InvalidArgument { .. })
                ),
                "{website:?}"
            );
        }
    }

    #[test]
    fn accounts_and_domains() {
        let user = json!({"id": "bob", "email": "bob@example.com", "package": "gold", "suspended": true,
            "parent": "root", "type": "user", "locale": "en", "websites": [doc_website()]});
        let account = account(&user);
        assert_eq!(
            (account.username.as_str(), account.primary_domain.as_str()),
            ("bob", "subdomain.website.com")
        );
        assert_eq!(account.status(), AccountStatus::Suspended);
        let domains = domains("bob", &websites(&user));
        assert_eq!(
            domains.len(),
            1,
            "http and https of one host are one domain"
        );
        assert_eq!(domains[0].name, "subdomain.website.com");
        assert_eq!(host("https://www.example.com:8443/shop"), "www.example.com");
    }
}
