//! The README's capability table (panel × canonical operation) must be exactly
//! what the adapters declare. When it is not, this test prints the table to
//! paste between the README's markers.

use panelgate_adapters::{capabilities, kind_name};
use panelgate_proto::v1::{Operation, PanelKind};

const BEGIN: &str = "<!-- capability-table:begin -->";
const END: &str = "<!-- capability-table:end -->";

/// The panels, in the README's column order.
const PANELS: &[(PanelKind, &str)] = &[
    (PanelKind::AdminApi, "admin_api"),
    (PanelKind::Openadmin, "OpenAdmin"),
    (PanelKind::Spanel, "SPanel"),
    (PanelKind::Installatron, "Installatron"),
];

/// Every canonical operation, in enum order.
fn operations() -> Vec<Operation> {
    (1..)
        .map_while(|value| Operation::try_from(value).ok())
        .collect()
}

/// "OPERATION_CREATE_ACCOUNT" → "CreateAccount".
fn rpc_name(operation: Operation) -> String {
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
            PANELS
                .iter()
                .map(|(_, title)| *title)
                .collect::<Vec<_>>()
                .join(" | ")
        ),
        format!("|---|{}", "---|".repeat(PANELS.len())),
    ];
    for operation in operations() {
        let cells: Vec<&str> = PANELS
            .iter()
            .map(|(kind, _)| {
                if capabilities(*kind).contains(&operation) {
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

#[test]
fn readme_capability_table_matches_the_adapters() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md");
    let begin = readme
        .find(BEGIN)
        .expect("the README has the capability table's begin marker");
    let end = readme
        .find(END)
        .expect("the README has the capability table's end marker");
    let in_readme = readme[begin + BEGIN.len()..end].trim();
    let expected = table();
    assert_eq!(
        in_readme, expected,
        "the README's capability table is out of date; put this between its markers:\n{expected}"
    );
}

#[test]
fn every_panel_kind_with_an_adapter_is_a_column() {
    for kind in [
        PanelKind::AdminApi,
        PanelKind::Openadmin,
        PanelKind::Spanel,
        PanelKind::Installatron,
    ] {
        if !capabilities(kind).is_empty() {
            assert!(
                PANELS.iter().any(|(panel, _)| *panel == kind),
                "{} has no column",
                kind_name(kind)
            );
        }
    }
    assert_eq!(rpc_name(Operation::CreateAccount), "CreateAccount");
    assert_eq!(
        rpc_name(Operation::SetSystemServiceMonitored),
        "SetSystemServiceMonitored"
    );
}
