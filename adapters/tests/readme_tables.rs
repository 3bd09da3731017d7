//! The README's tables made from the adapters' own facts must be exactly
//! what the adapters declare: the capability table (panel × canonical
//! operation) and the panel-specific error reasons (from each adapter's
//! table of documented errors). When one is not, its test prints the table to
//! paste between the README's markers.

use panelgate_adapters::{
    KINDS, PanelDescription, admin_api, capabilities, describe,
    documented::{Documented, Meaning},
    installatron, kind_name, openadmin, spanel,
};
use panelgate_proto::Capability;
use panelgate_proto::v1::PanelKind;

/// The panels, in the README's column order (the registry's).
fn panels() -> impl Iterator<Item = &'static PanelDescription> {
    KINDS.into_iter().filter_map(describe)
}

/// Every canonical operation, in enum order.
fn operations() -> Vec<Capability> {
    (1..)
        .map_while(|value| Capability::try_from(value).ok())
        .collect()
}

/// "OPERATION_CREATE_ACCOUNT" → "CreateAccount".
fn rpc_name(operation: Capability) -> String {
    operation
        .as_str_name()
        .trim_start_matches("OPERATION_")
        .split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_string() + &chars.as_str().to_ascii_lowercase()
            })
        })
        .collect()
}

fn table() -> String {
    let mut rows = vec![
        format!(
            "| operation | {} |",
            panels()
                .map(|panel| panel.title)
                .collect::<Vec<_>>()
                .join(" | ")
        ),
        format!("|---|{}", "---|".repeat(panels().count())),
    ];
    for operation in operations() {
        let cells: Vec<&str> = panels()
            .map(|panel| {
                if panel.capabilities.contains(&operation) {
                    "✓"
                } else {
                    "—"
                }
            })
            .collect();
        rows.push(format!(
            "| {} | {} |",
            rpc_name(operation),
            cells.join(" | ")
        ));
    }
    rows.join("\n")
}

/// The panel-specific reasons of the adapters' error tables, one row each.
fn reasons() -> String {
    let tables: [(PanelKind, &[Documented]); 4] = [
        (PanelKind::AdminApi, admin_api::ERRORS),
        (PanelKind::Openadmin, openadmin::ERRORS),
        (PanelKind::Spanel, spanel::ERRORS),
        (PanelKind::Installatron, installatron::ERRORS),
    ];
    let mut rows = vec![
        "| panel | reason (FAILED_PRECONDITION) | what it says |".to_owned(),
        "|---|---|---|".to_owned(),
    ];
    for (kind, table) in tables {
        let title = describe(kind).expect("a panel kind with an adapter").title;
        for row in table {
            let Meaning::Precondition(reason, message) = row.means else {
                continue;
            };
            let line = format!(
                "| {title} | `{}` | {} |",
                reason.name(),
                message
                    .replace("{said}", "the panel's own words")
                    .replace("{}", "<name>")
            );
            if !rows.contains(&line) {
                rows.push(line);
            }
        }
    }
    rows.join("\n")
}

/// The README's text between the markers of table `name`.
fn in_readme(name: &str) -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md");
    let begin = format!("<!-- {name}:begin -->");
    let end = format!("<!-- {name}:end -->");
    let start = readme
        .find(&begin)
        .unwrap_or_else(|| panic!("the README has the marker {begin}"));
    let stop = readme
        .find(&end)
        .unwrap_or_else(|| panic!("the README has the marker {end}"));
    readme[start + begin.len()..stop].trim().to_owned()
}

#[test]
fn readme_capability_table_matches_the_adapters() {
    let expected = table();
    assert_eq!(
        in_readme("capability-table"),
        expected,
        "the README's capability table is out of date; put this between its markers:\n{expected}"
    );
}

#[test]
fn readme_lists_every_panel_specific_reason() {
    let expected = reasons();
    assert_eq!(
        in_readme("panel-reasons"),
        expected,
        "the README's table of panel reasons is out of date; put this between its markers:\n{expected}"
    );
}

#[test]
fn every_panel_kind_with_an_adapter_is_a_column() {
    for kind in (0..).map_while(|value| PanelKind::try_from(value).ok()) {
        if !capabilities(kind).is_empty() {
            assert!(
                panels().any(|panel| panel.kind == kind),
                "{} has no column",
                kind_name(kind)
            );
        }
    }
    assert_eq!(rpc_name(Capability::CreateAccount), "CreateAccount");
    assert_eq!(
        rpc_name(Capability::SetSystemServiceMonitored),
        "SetSystemServiceMonitored"
    );
}
