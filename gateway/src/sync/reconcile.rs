//! Compares what a panel holds with the index entries of its server: one
//! finding per account, and what an applied sync writes. Pure: no I/O.

use std::collections::BTreeMap;

use panelgate_inventory::{
    AccountStatus, Difference, Finding, PanelAccount, ServerSyncResult, SyncClass,
};

/// Findings for `server_id` and the index writes that would apply them,
/// from the index entries read first and the accounts the panel holds
/// (listed, or each indexed one looked up) read after. An index entry the
/// panel does not hold is index-only; a panel account the index lacks is
/// panel-only. A username a paged list repeats counts once.
pub fn reconcile(
    server_id: &str,
    index: Vec<PanelAccount>,
    panel: Vec<PanelAccount>,
) -> (Vec<Finding>, ServerSyncResult) {
    let mut index: BTreeMap<String, PanelAccount> = index
        .into_iter()
        .map(|entry| (entry.username.clone(), entry))
        .collect();
    let mut findings = Vec::with_capacity(index.len().max(panel.len()));
    let mut result = ServerSyncResult::default();
    let finding = |username: &str, class, differences| Finding {
        server_id: server_id.to_owned(),
        username: username.to_owned(),
        class,
        differences,
        reason: String::new(),
    };
    let mut seen = std::collections::BTreeSet::new();
    for on_panel in panel {
        if !seen.insert(on_panel.username.clone()) {
            continue;
        }
        let Some(entry) = index.remove(&on_panel.username) else {
            findings.push(finding(
                &on_panel.username,
                SyncClass::PanelOnly,
                Vec::new(),
            ));
            result.imported.push(on_panel);
            continue;
        };
        let differences = differences(&entry, &on_panel);
        if differences.is_empty() {
            findings.push(finding(&on_panel.username, SyncClass::Matched, Vec::new()));
        } else {
            let fields = differences.iter().map(|d| d.field.clone()).collect();
            result.mismatched.push((on_panel.username.clone(), fields));
            findings.push(finding(
                &on_panel.username,
                SyncClass::Mismatched,
                differences,
            ));
        }
        let merged = merged(&entry, on_panel);
        if merged == entry {
            result.unchanged.push(merged.username);
        } else {
            result.changed.push(merged);
        }
    }
    for username in index.into_keys() {
        findings.push(finding(&username, SyncClass::IndexOnly, Vec::new()));
        result.missing.push(username);
    }
    findings.sort_by(|a, b| a.username.cmp(&b.username));
    (findings, result)
}

/// The fields both sides report and that differ. A value one side does not
/// report (empty, or an unknown status) is not a difference.
fn differences(index: &PanelAccount, panel: &PanelAccount) -> Vec<Difference> {
    let mut found = Vec::new();
    let mut compare = |field: &str, index: &str, panel: &str| {
        if !index.is_empty() && !panel.is_empty() && !index.eq_ignore_ascii_case(panel) {
            found.push(Difference {
                field: field.to_owned(),
                index_value: index.to_owned(),
                panel_value: panel.to_owned(),
            });
        }
    };
    compare("package", &index.package, &panel.package);
    compare("status", status(index.status), status(panel.status));
    compare(
        "primary_domain",
        &index.primary_domain,
        &panel.primary_domain,
    );
    compare("email", &index.email, &panel.email);
    found
}

/// A status as compared: unknown is no value.
fn status(status: AccountStatus) -> &'static str {
    match status {
        AccountStatus::Unknown => "",
        known => known.as_str(),
    }
}

/// The panel's values, keeping the index's where the panel reports none.
fn merged(index: &PanelAccount, panel: PanelAccount) -> PanelAccount {
    let or = |panel: String, index: &String| {
        if panel.is_empty() {
            index.clone()
        } else {
            panel
        }
    };
    PanelAccount {
        primary_domain: or(panel.primary_domain, &index.primary_domain),
        email: or(panel.email, &index.email),
        package: or(panel.package, &index.package),
        status: match panel.status {
            AccountStatus::Unknown => index.status,
            known => known,
        },
        username: panel.username,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(username: &str, package: &str, status: AccountStatus, email: &str) -> PanelAccount {
        PanelAccount {
            username: username.into(),
            primary_domain: format!("{username}.example"),
            email: email.into(),
            package: package.into(),
            status,
        }
    }

    fn classes(findings: &[Finding]) -> Vec<(&str, SyncClass)> {
        findings
            .iter()
            .map(|finding| (finding.username.as_str(), finding.class))
            .collect()
    }

    #[test]
    fn every_account_gets_one_class() {
        use AccountStatus::{Active, Suspended, Unknown};
        let index = vec![
            account("alike", "gold", Active, "a@x.example"),
            account("drifted", "gold", Active, "d@x.example"),
            account("gone", "gold", Active, ""),
            account("vague", "gold", Active, "v@x.example"),
        ];
        let panel = vec![
            account("alike", "GOLD", Active, "A@x.example"),
            account("drifted", "silver", Suspended, "d@x.example"),
            account("newcomer", "gold", Active, "n@x.example"),
            // Reports no email and no status: nothing to compare.
            account("vague", "gold", Unknown, ""),
        ];
        let (findings, result) = reconcile("s1", index, panel);
        assert_eq!(
            classes(&findings),
            [
                ("alike", SyncClass::Matched),
                ("drifted", SyncClass::Mismatched),
                ("gone", SyncClass::IndexOnly),
                ("newcomer", SyncClass::PanelOnly),
                ("vague", SyncClass::Matched),
            ]
        );
        let drifted = &findings[1].differences;
        assert_eq!(
            drifted
                .iter()
                .map(|d| (
                    d.field.as_str(),
                    d.index_value.as_str(),
                    d.panel_value.as_str()
                ))
                .collect::<Vec<_>>(),
            [
                ("package", "gold", "silver"),
                ("status", "active", "suspended")
            ]
        );
        assert_eq!(result.missing, ["gone"]);
        assert_eq!(
            result.mismatched,
            [(
                "drifted".to_owned(),
                vec!["package".to_owned(), "status".to_owned()]
            )]
        );
        // The panel's values win (its spelling too); what it does not
        // report is kept, so "vague" stays as it is.
        let changed: Vec<(&str, &str)> = result
            .changed
            .iter()
            .map(|account| (account.username.as_str(), account.package.as_str()))
            .collect();
        assert_eq!(changed, [("alike", "GOLD"), ("drifted", "silver")]);
        assert_eq!(result.unchanged, ["vague"]);
        assert_eq!(result.imported[0].username, "newcomer");
    }

    #[test]
    fn an_empty_panel_makes_every_entry_index_only() {
        let index = vec![account("a", "p", AccountStatus::Active, "")];
        let (findings, result) = reconcile("s1", index, Vec::new());
        assert_eq!(classes(&findings), [("a", SyncClass::IndexOnly)]);
        assert_eq!(result.on_panel().count(), 0);
    }
}
