//! Permission lists of packages, accounts and admin users: the two catalogues
//! (reading 12), reading a `permissions` field and rendering it back.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::form::Param;

/// Permissions as the panel stores them (reading 12).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SimPermissions {
    /// `permissions=all`: every page of every category.
    All,
    /// `permissions[<category>]=...`: only the categories named, each with all
    /// its pages or a list of them.
    Categories(BTreeMap<String, SimCategoryPermissions>),
}

/// What one category grants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SimCategoryPermissions {
    /// `permissions[<category>]=all`: every page of the category.
    All,
    /// `permissions[<category>][]=<page>`: these pages, in the order sent, without repeats.
    Pages(Vec<String>),
}

/// One catalogue: categories with their pages, in the panel's order.
pub(super) type Catalogue = &'static [(&'static str, &'static [&'static str])];

/// The pages packages, accounts and subusers can be given (`user/listuserpermissions`).
pub(super) const USER_CATALOGUE: Catalogue = &[
    (
        "file",
        &["filemanager", "ftpaccounts", "backups", "diskusage"],
    ),
    (
        "email",
        &[
            "accounts",
            "forwarders",
            "autoresponders",
            "spamprotection",
            "webmail",
        ],
    ),
    (
        "domain",
        &["domains", "subdomains", "redirects", "dnseditor", "ssl"],
    ),
    (
        "mysql",
        &["databases", "users", "phpmyadmin", "remotemysql"],
    ),
    ("software", &["wpmanager", "installer", "phpversion"]),
    ("tool", &["sshield", "cronjobs", "errorlogs", "generatecsr"]),
];

/// The pages admin users can be given (`admin/listadminuserpermissions`).
pub(super) const ADMIN_CATALOGUE: Catalogue = &[
    (
        "server",
        &[
            "information",
            "status",
            "services",
            "processes",
            "hostname",
            "ipaddresses",
        ],
    ),
    (
        "accounts",
        &["manage", "create", "packages", "suspended", "transfer"],
    ),
    ("admin", &["adminusers", "apitokens"]),
    ("security", &["firewall", "sshield", "modsecurity"]),
    ("tools", &["backups", "cronjobs", "phpsettings"]),
];

/// Whether `category/page` names a page of `catalogue` (SSO redirects).
pub(super) fn has_page(catalogue: Catalogue, category: &str, page: &str) -> bool {
    pages_of(catalogue, category).is_some_and(|pages| pages.contains(&page))
}

fn pages_of(catalogue: Catalogue, category: &str) -> Option<&'static [&'static str]> {
    catalogue
        .iter()
        .find(|(name, _)| *name == category)
        .map(|(_, pages)| *pages)
}

/// Reads a `permissions` field against `catalogue`; every problem found is one
/// message (reading 12).
pub(super) fn parse(
    field: Option<&Param>,
    catalogue: Catalogue,
) -> Result<SimPermissions, Vec<String>> {
    let pairs = match field {
        None => return Err(vec!["The permissions field is required".to_owned()]),
        Some(Param::Str(value)) if value == "all" => return Ok(SimPermissions::All),
        Some(Param::Str(_)) => {
            return Err(vec![
                "Invalid permissions: use 'all' or an array of categories".to_owned(),
            ]);
        }
        Some(Param::Array(pairs)) => pairs,
    };
    let mut granted = BTreeMap::new();
    let mut problems = Vec::new();
    for (category, value) in pairs {
        let Some(known_pages) = pages_of(catalogue, category) else {
            problems.push(format!("Unknown permission category: {category}"));
            continue;
        };
        let pages = match value {
            Param::Str(value) if value == "all" => {
                granted.insert(category.clone(), SimCategoryPermissions::All);
                continue;
            }
            Param::Str(_) => None,
            Param::Array(_) => value.as_list(),
        };
        let Some(pages) = pages else {
            problems.push(format!(
                "Invalid permissions for category {category}: use 'all' or an array of pages"
            ));
            continue;
        };
        let mut kept: Vec<String> = Vec::new();
        for page in pages {
            if !known_pages.contains(&page.as_str()) {
                problems.push(format!("Unknown permission page: {category}/{page}"));
            } else if !kept.contains(&page) {
                kept.push(page);
            }
        }
        granted.insert(category.clone(), SimCategoryPermissions::Pages(kept));
    }
    if problems.is_empty() {
        Ok(SimPermissions::Categories(granted))
    } else {
        Err(problems)
    }
}

impl SimPermissions {
    /// As the panel lists it: `"all"`, or `{"<category>": "all" | ["<page>", ...]}`.
    pub(super) fn to_json(&self) -> Value {
        match self {
            SimPermissions::All => json!("all"),
            SimPermissions::Categories(categories) => {
                let entries = categories.iter().map(|(category, granted)| {
                    let value = match granted {
                        SimCategoryPermissions::All => json!("all"),
                        SimCategoryPermissions::Pages(pages) => json!(pages),
                    };
                    (category.clone(), value)
                });
                Value::Object(entries.collect())
            }
        }
    }
}

/// A catalogue as the list-permissions functions answer it:
/// `{"<category>": {"category": "<category>", "pages": [...]}}`.
pub(super) fn catalogue_json(catalogue: Catalogue) -> Value {
    let entries: Map<String, Value> = catalogue
        .iter()
        .map(|(category, pages)| {
            (
                (*category).to_owned(),
                json!({"category": category, "pages": pages}),
            )
        })
        .collect();
    Value::Object(entries)
}
