//! The results table: one row per scenario side, with the CPU time per call
//! of each party and its ratio against the scenario's baseline measured in
//! the same run.

use crate::{cpu::Usage, load::Measured, parties::Party};

/// The figures of one measured side.
#[derive(Clone, Copy, Debug)]
pub struct Figures {
    /// Calls made.
    pub requests: u64,
    /// Calls per second.
    pub rate: f64,
    /// Median latency, ms.
    pub p50: f64,
    /// 90th percentile latency, ms.
    pub p90: f64,
    /// 99th percentile latency, ms.
    pub p99: f64,
    /// CPU time each party used over those calls.
    pub cpu: Usage,
}

impl Figures {
    /// `party`'s CPU time per call, µs.
    pub fn cpu_micros(&self, party: Party) -> f64 {
        self.cpu.of(party).as_secs_f64() * 1e6 / self.requests.max(1) as f64
    }

    /// The CPU cell of `party`: µs per call, `-` for none at all.
    fn cpu_cell(&self, party: Party) -> String {
        if self.cpu.of(party).is_zero() {
            return "-".to_owned();
        }
        format!("{:.1}", self.cpu_micros(party))
    }
}

impl From<&Measured> for Figures {
    fn from(measured: &Measured) -> Self {
        Figures {
            requests: measured.requests,
            rate: measured.rate(),
            p50: measured.quantile_ms(0.50),
            p90: measured.quantile_ms(0.90),
            p99: measured.quantile_ms(0.99),
            cpu: measured.cpu,
        }
    }
}

/// How a row stands to its scenario's baseline.
#[derive(Clone, Copy, Debug)]
pub enum Role {
    /// It is the baseline.
    Baseline,
    /// It is compared with this baseline.
    Versus(Figures),
    /// It has no baseline (no ratios).
    Alone,
}

/// One line of the table.
#[derive(Clone, Debug)]
pub struct Row {
    /// The scenario's name (its `--scenario` value).
    pub scenario: &'static str,
    /// Which side: the baseline or what is compared with it.
    pub side: String,
    /// What was measured.
    pub figures: Figures,
    /// What the row is compared with.
    pub role: Role,
    /// What was counted besides time (logins, panel requests, inventory queries).
    pub counted: String,
    /// What was counted but not expected (a login per call, a query per
    /// cached call): the run ends with a failure status.
    pub problem: Option<String>,
}

impl Row {
    /// A row of `scenario`, side `side`.
    pub fn new(scenario: &'static str, side: impl Into<String>, measured: &Measured) -> Row {
        Row {
            scenario,
            side: side.into(),
            figures: Figures::from(measured),
            role: Role::Alone,
            counted: String::new(),
            problem: None,
        }
    }

    /// The scenario's baseline.
    pub fn baseline(mut self) -> Row {
        self.role = Role::Baseline;
        self
    }

    /// Compared with `baseline`.
    pub fn versus(mut self, baseline: &Row) -> Row {
        self.role = Role::Versus(baseline.figures);
        self
    }

    /// With `counted` in the last column.
    pub fn counted(mut self, counted: impl Into<String>) -> Row {
        self.counted = counted.into();
        self
    }

    /// Marks the row unexpected, saying `why`, when `unexpected`.
    pub fn problem_if(mut self, unexpected: bool, why: impl Into<String>) -> Row {
        if unexpected {
            self.problem = Some(why.into());
        }
        self
    }

    fn cells(&self) -> Vec<String> {
        let figures = &self.figures;
        let (rate_ratio, p50_ratio) = match &self.role {
            Role::Versus(baseline) => (
                ratio(figures.rate, baseline.rate),
                ratio(figures.p50, baseline.p50),
            ),
            Role::Baseline => ("baseline".to_owned(), "baseline".to_owned()),
            Role::Alone => ("-".to_owned(), "-".to_owned()),
        };
        let mut cells = vec![
            self.scenario.to_owned(),
            self.side.clone(),
            figures.requests.to_string(),
            format!("{:.0}", figures.rate),
            format!("{:.3}", figures.p50),
            format!("{:.3}", figures.p90),
            format!("{:.3}", figures.p99),
        ];
        cells.extend(Party::ALL.map(|party| figures.cpu_cell(party)));
        cells.extend([
            rate_ratio,
            p50_ratio,
            match &self.problem {
                Some(_) => format!("{} (UNEXPECTED)", self.counted),
                None => self.counted.clone(),
            },
        ]);
        cells
    }

    /// A one-line summary, printed as soon as the side is measured.
    pub fn progress(&self) -> String {
        let figures = &self.figures;
        let cpu: Vec<String> = Party::ALL
            .into_iter()
            .filter(|party| !figures.cpu.of(*party).is_zero())
            .map(|party| format!("{} {}", party.label(), figures.cpu_cell(party)))
            .collect();
        let mut line = format!(
            "{} / {}: {} calls, {:.0} req/s, p50 {:.3} ms, p90 {:.3} ms, p99 {:.3} ms, \
             CPU µs/call: {}",
            self.scenario,
            self.side,
            figures.requests,
            figures.rate,
            figures.p50,
            figures.p90,
            figures.p99,
            cpu.join(", "),
        );
        if !self.counted.is_empty() {
            line.push_str(&format!("; {}", self.counted));
        }
        line
    }
}

fn ratio(value: f64, baseline: f64) -> String {
    if baseline <= 0.0 {
        return "n/a".to_owned();
    }
    format!("{:.2}×", value / baseline)
}

/// The column headers, in [`Row::cells`]' order.
fn headers() -> Vec<String> {
    let figures = [
        "scenario", "side", "requests", "req/s", "p50 ms", "p90 ms", "p99 ms",
    ];
    let cpu = Party::ALL.map(|party| format!("{} µs/call", party.label()));
    let ratios = ["req/s ÷ baseline", "p50 ÷ baseline", "counted"];
    figures
        .into_iter()
        .map(str::to_owned)
        .chain(cpu)
        .chain(ratios.into_iter().map(str::to_owned))
        .collect()
}

/// The rows as a Markdown table (ready for the README), columns aligned.
pub fn table(rows: &[Row]) -> String {
    let headers = headers();
    let body: Vec<Vec<String>> = rows.iter().map(Row::cells).collect();
    let mut widths: Vec<usize> = headers
        .iter()
        .map(|header| header.chars().count())
        .collect();
    for cells in &body {
        for (width, cell) in widths.iter_mut().zip(cells) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        format!("| {} |\n", padded.join(" | "))
    };
    let rule: Vec<String> = widths.iter().map(|width| "-".repeat(*width)).collect();
    let mut out = line(&headers);
    out.push_str(&line(&rule));
    for cells in &body {
        out.push_str(&line(cells));
    }
    out
}
