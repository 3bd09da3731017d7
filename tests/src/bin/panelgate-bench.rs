//! `panelgate-bench`: what the gateway costs, measured against a baseline in
//! the same run. Starts the gateway and the simulated panels in process on
//! 127.0.0.1 (as the end-to-end tests do), drives them with N concurrent
//! tonic clients, and prints per scenario and side: req/s, p50/p90/p99
//! latency (hdrhistogram), the CPU time per call of each party, and the
//! ratios against the scenario's baseline; then the gateway's and the
//! simulator's CPU per call against the simulator's per direct call, and the
//! latency GetAccount adds at concurrency 1.
//!
//! CPU time is told apart by thread ([`parties`], [`cpu`]): the gateway, the
//! bare tonic server of the list-packages baseline and the simulators each
//! run on a tokio runtime of their own (as many workers as cores, threads
//! named `pg-gateway`, `pg-bare`, `pg-sim`), the clients on the main one
//! (`pg-client`, and the main thread); sqlx's SQLite threads are the
//! gateway's, any other thread is counted as "other". Each party's on-CPU
//! time over a measured phase (warm-up excluded), divided by the calls made,
//! is its CPU per call. All parties share the machine's cores, so a busy one
//! slows the others, and on loopback the kernel may do a packet's receive
//! work on the sending thread: part of a party's network cost can be counted
//! to its peer. Compare figures of one run, on one otherwise idle machine.
//!
//! Run it in release: `cargo run --release -p panelgate-tests --bin
//! panelgate-bench -- --help`. Scenarios (README, "Benchmarks"):
//! - `list-packages`: bare tonic `PackageService` vs cached ListPackages;
//! - `get-account`: direct HTTP to the admin_api simulator vs GetAccount;
//! - `latency`: the same two sides at concurrency 1;
//! - `cold-login`: OpenAdmin bursts on a cold session cache, logins counted;
//! - `routing`: inventory queries per call at steady state (`/metrics`).
//!
//! A call that fails stops the run with the failures counted by kind: a
//! benchmark that measured errors measured nothing.

// The modules live beside this file, in `panelgate-bench/`.
#[path = "panelgate-bench/accounts.rs"]
mod accounts;
#[path = "panelgate-bench/baseline.rs"]
mod baseline;
#[path = "panelgate-bench/cpu.rs"]
mod cpu;
#[path = "panelgate-bench/load.rs"]
mod load;
#[path = "panelgate-bench/logins.rs"]
mod logins;
#[path = "panelgate-bench/packages.rs"]
mod packages;
#[path = "panelgate-bench/parties.rs"]
mod parties;
#[path = "panelgate-bench/prometheus.rs"]
mod prometheus;
#[path = "panelgate-bench/report.rs"]
mod report;
#[path = "panelgate-bench/routing.rs"]
mod routing;
#[path = "panelgate-bench/setup.rs"]
mod setup;
#[path = "panelgate-bench/summary.rs"]
mod summary;

use std::{future::Future, net::SocketAddr, time::Duration};

use anyhow::bail;
use clap::{Parser, ValueEnum};
use panelgate::config::parse_duration_or_zero;
use panelgate_tests::gateway::Bearer;

use crate::{
    load::{Budget, Failure, Measured},
    report::Row,
    setup::Pool,
};

/// The command line.
#[derive(Debug, Parser)]
#[command(
    name = "panelgate-bench",
    about = "Measures panelgate against baselines, in process on 127.0.0.1"
)]
struct Args {
    /// Concurrent clients (workers), and the size of each cold-login burst.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..))]
    concurrency: u16,
    /// How long each side of a scenario is measured, e.g. 5s or 500ms.
    #[arg(long, default_value = "5s", value_parser = parse_duration_or_zero, conflicts_with = "requests")]
    duration: Duration,
    /// Measure this many calls per side instead of a duration.
    #[arg(long)]
    requests: Option<u64>,
    /// Calls before each measured side, not measured (0s for none).
    #[arg(long, default_value = "1s", value_parser = parse_duration_or_zero)]
    warmup: Duration,
    /// Cold-login bursts (each on a newly registered server).
    #[arg(long, default_value_t = 10)]
    bursts: usize,
    /// Workers sharing one tonic channel (one HTTP/2 connection).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..))]
    workers_per_channel: u16,
    /// Run only this scenario.
    #[arg(long)]
    scenario: Option<Scenario>,
}

/// The scenarios, in the order they run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Scenario {
    /// Bare tonic PackageService vs cached ListPackages through the gateway.
    ListPackages,
    /// Direct HTTP to the admin_api simulator vs GetAccount through the gateway.
    GetAccount,
    /// The same two sides at concurrency 1 (rows of get-account).
    Latency,
    /// OpenAdmin bursts on a cold session cache: logins counted.
    ColdLogin,
    /// Inventory queries per call at steady state.
    Routing,
}

impl Scenario {
    const ALL: [Scenario; 5] = [
        Scenario::ListPackages,
        Scenario::GetAccount,
        Scenario::Latency,
        Scenario::ColdLogin,
        Scenario::Routing,
    ];

    async fn run(self, settings: &Settings) -> anyhow::Result<Vec<Row>> {
        match self {
            Scenario::ListPackages => packages::run(settings).await,
            Scenario::GetAccount => accounts::run(settings).await,
            Scenario::Latency => accounts::run_latency(settings).await,
            Scenario::ColdLogin => logins::run(settings).await,
            Scenario::Routing => routing::run(settings).await,
        }
    }
}

/// What every scenario is run with.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Concurrent workers.
    pub concurrency: usize,
    /// Workers per tonic channel.
    pub per_channel: usize,
    /// How long (or how many calls) each side is measured.
    pub budget: Budget,
    /// Unmeasured calls before each side.
    pub warmup: Duration,
    /// Cold-login bursts.
    pub bursts: usize,
}

impl Settings {
    /// Channels to `addr` for the workers, sending `bearer`.
    pub async fn pool(&self, addr: SocketAddr, bearer: Bearer) -> anyhow::Result<Pool> {
        Pool::connect(addr, self.concurrency, self.per_channel, bearer).await
    }

    /// Runs `call` unmeasured for the warm-up time; fails on any failure.
    pub async fn warm_up<F, Fut>(&self, what: &str, call: F) -> anyhow::Result<()>
    where
        F: Fn(usize) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), Failure>> + Send + 'static,
    {
        if self.warmup.is_zero() {
            return Ok(());
        }
        load::drive(self.concurrency, Budget::For(self.warmup), call)
            .await?
            .ok(&format!("{what} (warm-up)"))?;
        Ok(())
    }

    /// Measures `call` for the budget; fails on any failure.
    pub async fn measure<F, Fut>(&self, what: &str, call: F) -> anyhow::Result<Measured>
    where
        F: Fn(usize) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), Failure>> + Send + 'static,
    {
        load::drive(self.concurrency, self.budget, call)
            .await?
            .ok(what)
    }
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    parties::start()?.block_on(run(args))
}

/// Runs the scenarios asked for and prints the results.
async fn run(args: Args) -> anyhow::Result<()> {
    let settings = Settings {
        concurrency: usize::from(args.concurrency),
        per_channel: usize::from(args.workers_per_channel),
        budget: match args.requests {
            Some(requests) => Budget::Requests(requests),
            None => Budget::For(args.duration),
        },
        warmup: args.warmup,
        bursts: args.bursts,
    };
    println!("{}", machine(&settings));

    let mut rows = Vec::new();
    for scenario in Scenario::ALL {
        if args.scenario.is_some_and(|only| only != scenario) {
            continue;
        }
        rows.extend(scenario.run(&settings).await?);
    }
    println!();
    print!("{}", report::table(&rows));
    print!("{}", summary::summary(&rows));

    let problems: Vec<&Row> = rows.iter().filter(|row| row.problem.is_some()).collect();
    if problems.is_empty() {
        return Ok(());
    }
    for row in problems {
        eprintln!(
            "UNEXPECTED in {} / {}: {}",
            row.scenario,
            row.side,
            row.problem.as_deref().unwrap_or_default()
        );
    }
    bail!("some counts were not what they should be (see above)")
}

/// Where the figures come from: cores, CPU model, load settings.
fn machine(settings: &Settings) -> String {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split_once(':'))
                .map(|(_, model)| model.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let budget = match settings.budget {
        Budget::For(duration) => format!("{duration:?} per side"),
        Budget::Requests(requests) => format!("{requests} calls per side"),
        Budget::Once => "one call per worker".to_owned(),
    };
    format!(
        "panelgate-bench: {cores} cores ({cpu}), clients and servers in this one process, \
         each party on a runtime of {cores} workers; \
         {} workers on {} channels, {budget}, {:?} warm-up",
        settings.concurrency,
        settings.concurrency.div_ceil(settings.per_channel),
        settings.warmup,
    )
}
