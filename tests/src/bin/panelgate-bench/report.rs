//! The results table: one row per scenario side, with its ratio against the
//! scenario's baseline measured in the same run.

use crate::load::Measured;

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
}

impl From<&Measured> for Figures {
    fn from(measured: &Measured) -> Self {
        Figures {
            requests: measured.requests,
            rate: measured.rate(),
            p50: measured.quantile_ms(0.50),
            p90: measured.quantile_ms(0.90),
            p99: measured.quantile_ms(0.99),
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
        vec![
            self.scenario.to_owned(),
            self.side.clone(),
            figures.requests.to_string(),
            format!("{:.0}", figures.rate),
            format!("{:.3}", figures.p50),
            format!("{:.3}", figures.p90),
            format!("{:.3}", figures.p99),
            rate_ratio,
            p50_ratio,
            match &self.problem {
                Some(_) => format!("{} (UNEXPECTED)", self.counted),
                None => self.counted.clone(),
            },
        ]
    }

    /// A one-line summary, printed as soon as the side is measured.
    pub fn progress(&self) -> String {
        let figures = &self.figures;
        format!(
            "{} / {}: {} calls, {:.0} req/s, p50 {:.3} ms, p90 {:.3} ms, p99 {:.3} ms {}",
            self.scenario,
            self.side,
            figures.requests,
            figures.rate,
            figures.p50,
            figures.p90,
            figures.p99,
            self.counted
        )
    }
}

fn ratio(value: f64, baseline: f64) -> String {
    if baseline <= 0.0 {
        return "n/a".to_owned();
    }
    format!("{:.2}×", value / baseline)
}

const HEADERS: [&str; 10] = [
    "scenario",
    "side",
    "requests",
    "req/s",
    "p50 ms",
    "p90 ms",
    "p99 ms",
    "req/s ÷ baseline",
    "p50 ÷ baseline",
    "counted",
];

/// The rows as a Markdown table (ready for the README), columns aligned.
pub fn table(rows: &[Row]) -> String {
    let body: Vec<Vec<String>> = rows.iter().map(Row::cells).collect();
    let mut widths: Vec<usize> = HEADERS
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
    let headers: Vec<String> = HEADERS.iter().map(|header| (*header).to_owned()).collect();
    let rule: Vec<String> = widths.iter().map(|width| "-".repeat(*width)).collect();
    let mut out = line(&headers);
    out.push_str(&line(&rule));
    for cells in &body {
        out.push_str(&line(cells));
    }
    out
}
