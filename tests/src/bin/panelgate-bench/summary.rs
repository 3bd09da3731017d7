//! What is printed after the table: the gateway's and the simulator's CPU
//! time per call, set against the simulator's per direct call, and the
//! latency the gateway adds to GetAccount at concurrency 1. A figure whose
//! rows were not measured (another `--scenario`) is left out.

use crate::{
    accounts::{self, DIRECT, ONE_AT_A_TIME, THROUGH},
    packages,
    parties::Party,
    report::{Figures, Row},
};

/// The summary of `rows`, empty when none of its figures was measured.
pub fn summary(rows: &[Row]) -> String {
    let find = |scenario: &str, side: &str| {
        rows.iter()
            .find(|row| row.scenario == scenario && row.side == side)
            .map(|row| &row.figures)
    };
    let cached = find(packages::NAME, packages::CACHED);
    let direct = find(accounts::NAME, DIRECT);
    let through = find(accounts::NAME, THROUGH);
    let direct_one = find(accounts::NAME, &format!("{DIRECT}{ONE_AT_A_TIME}"));
    let through_one = find(accounts::NAME, &format!("{THROUGH}{ONE_AT_A_TIME}"));

    let gateway_cached = cpu(cached, Party::Gateway);
    let gateway_account = cpu(through, Party::Gateway);
    let panel_direct = cpu(direct, Party::Panel);
    let panel_through = cpu(through, Party::Panel);
    let cpu_lines = [
        ("gateway per cached ListPackages", micros(gateway_cached)),
        ("gateway per GetAccount", micros(gateway_account)),
        (
            "simulator per direct account-info call",
            micros(panel_direct),
        ),
        (
            "simulator per call through the gateway",
            micros(panel_through),
        ),
        (
            "gateway per cached ListPackages ÷ simulator per direct call",
            ratio(gateway_cached, panel_direct),
        ),
        (
            "gateway per GetAccount ÷ simulator per direct call",
            ratio(gateway_account, panel_direct),
        ),
        (
            "simulator per call through the gateway ÷ per direct call",
            ratio(panel_through, panel_direct),
        ),
    ];
    let latency_lines = [
        ("GetAccount through the gateway", latency(through_one)),
        ("direct call to the simulator", latency(direct_one)),
        ("difference", latency_difference(through_one, direct_one)),
    ];
    let mut out = section("CPU time per call (µs on CPU ÷ calls measured)", &cpu_lines);
    out.push_str(&section(
        "GetAccount latency at concurrency 1 (µs)",
        &latency_lines,
    ));
    out
}

/// `title` and its measured lines, values aligned; empty when none was.
fn section(title: &str, lines: &[(&str, Option<String>)]) -> String {
    let measured: Vec<(&str, &String)> = lines
        .iter()
        .filter_map(|(label, value)| Some((*label, value.as_ref()?)))
        .collect();
    let Some(width) = measured
        .iter()
        .map(|(label, _)| label.chars().count())
        .max()
    else {
        return String::new();
    };
    let mut out = format!("\n{title}:\n");
    for (label, value) in measured {
        out.push_str(&format!("  {label:<width$}  {value}\n"));
    }
    out
}

fn cpu(figures: Option<&Figures>, party: Party) -> Option<f64> {
    figures.map(|figures| figures.cpu_micros(party))
}

fn micros(value: Option<f64>) -> Option<String> {
    value.map(|value| format!("{value:.1}"))
}

fn ratio(value: Option<f64>, baseline: Option<f64>) -> Option<String> {
    let (value, baseline) = (value?, baseline?);
    (baseline > 0.0).then(|| format!("{:.2}×", value / baseline))
}

fn latency(figures: Option<&Figures>) -> Option<String> {
    figures.map(|figures| {
        format!(
            "p50 {:.0}, p99 {:.0}",
            figures.p50 * 1000.0,
            figures.p99 * 1000.0
        )
    })
}

fn latency_difference(value: Option<&Figures>, baseline: Option<&Figures>) -> Option<String> {
    let (value, baseline) = (value?, baseline?);
    Some(format!(
        "p50 {:+.0}, p99 {:+.0}",
        (value.p50 - baseline.p50) * 1000.0,
        (value.p99 - baseline.p99) * 1000.0
    ))
}
