//! `panelgate-sync-bench`: sync runs and the fleet-wide search at fleet size.
//!
//! Starts one simulated SPanel panel holding `--accounts` accounts (every
//! other one on package `pro`, every tenth suspended) that answers each
//! request after `--latency`, and a gateway in this process on a fresh
//! SQLite inventory (or `--database-url`), registers `--servers` servers
//! all pointing at that panel (in ten groups, `g0` to `g9`), then:
//!
//! 1. an applied sync of the whole fleet: every server's accounts imported
//!    (servers × accounts index entries);
//! 2. a dry-run sync of the whole fleet: every account compared, every one
//!    matched (the wall time of a full sync), then the same applied (what
//!    the periodic sync costs: every entry confirmed);
//! 3. `--searches` SearchAccounts calls, one at a time, for "suspended
//!    accounts on package pro in group g3" (first page, 50), and as many
//!    for primary domains ending in "7.example" (a scan: no index serves a
//!    suffix): p50 and p99 latency.
//!
//! ```sh
//! cargo run --release -p panelgate-tests --bin panelgate-sync-bench
//! ```
//!
//! Flags: `--servers N` (1000), `--accounts N` per server (100), `--latency`
//! (20ms), `--searches N` (1000), `--database-url URL` (a fresh SQLite file).

use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use clap::Parser;
use panelgate::config::parse_duration;
use panelgate_proto::v1::{
    AccountStatus, GetSyncRunRequest, SearchAccountsRequest, ServerSelector, SyncRun, SyncRunState,
    SyncServersRequest,
};
use panelgate_tests::{
    Gateway, PanelChange, PanelFixture, SpanelFixture,
    gateway::{self, Running},
};

/// The command line.
#[derive(Debug, Parser)]
#[command(
    name = "panelgate-sync-bench",
    about = "Measures sync runs and the fleet-wide account search at fleet size"
)]
struct Args {
    /// Servers to register, all on the one simulated panel.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    servers: u32,
    /// Accounts on the panel, so per server.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    accounts: u32,
    /// How long the panel takes to answer each request.
    #[arg(long, default_value = "20ms", value_parser = parse_duration)]
    latency: Duration,
    /// Searches per question.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    searches: u32,
    /// The inventory [default: a fresh SQLite file].
    #[arg(long)]
    database_url: Option<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let panel = SpanelFixture::start().await;
    for n in 0..args.accounts {
        let username = format!("user{n:05}");
        let package = if n % 2 == 0 { "basic" } else { "pro" };
        let make = PanelChange::Make {
            username: &username,
            package,
        };
        panel.on_panel(make).await;
        if n % 10 == 9 {
            panel.on_panel(PanelChange::Suspend(&username)).await;
        }
    }
    let dir = tempfile::tempdir().context("a temporary directory")?;
    let url = match &args.database_url {
        Some(url) => url.clone(),
        None => format!("sqlite://{}", dir.path().join("inventory.db").display()),
    };
    let running = gateway::start(gateway::test_config(&url)).await;
    let measured = measure(&args, &panel, &running.gateway(&url)).await;
    Running::stop(running).await;
    measured
}

async fn measure(args: &Args, panel: &SpanelFixture, gateway: &Gateway) -> anyhow::Result<()> {
    let started = Instant::now();
    for n in 0..args.servers {
        let mut request =
            panel.register_request(&format!("s{n:05}"), &panel.base_url(), panel.credentials());
        if let Some(server) = request.server.as_mut() {
            server.group = format!("g{}", n % 10);
        }
        let mut inventory = gateway.inventory();
        inventory
            .register_server(request)
            .await
            .context("register a server")?;
    }
    println!(
        "panelgate-sync-bench: {} servers on one SPanel panel of {} accounts, panel latency {:?}, \
         {} cores; registered in {:.1} s",
        args.servers,
        args.accounts,
        args.latency,
        std::thread::available_parallelism().map_or(0, usize::from),
        started.elapsed().as_secs_f64(),
    );
    panel.faults().set_delay(args.latency);

    let (imported, took) = sync(gateway, true).await?;
    let counts = imported.accounts.unwrap_or_default();
    println!(
        "applied sync (import):  {:>7.1} s  {} servers, {} accounts imported",
        took.as_secs_f64(),
        imported.servers_done,
        counts.panel_only
    );
    let expected = args.servers * args.accounts;
    ensure!(
        counts.panel_only == expected,
        "imported {} of {expected}",
        counts.panel_only
    );
    let (compared, took) = sync(gateway, false).await?;
    let counts = compared.accounts.unwrap_or_default();
    println!(
        "dry-run sync (full):    {:>7.1} s  {} servers, {} accounts matched",
        took.as_secs_f64(),
        compared.servers_done,
        counts.matched
    );
    ensure!(
        counts.matched == expected,
        "matched {} of {expected}",
        counts.matched
    );
    let (confirmed, took) = sync(gateway, true).await?;
    let counts = confirmed.accounts.unwrap_or_default();
    println!(
        "applied sync (all alike): {:>5.1} s  {} servers, {} entries confirmed",
        took.as_secs_f64(),
        confirmed.servers_done,
        counts.matched
    );

    let question = SearchAccountsRequest {
        group: "g3".into(),
        package: "pro".into(),
        status: AccountStatus::Suspended.into(),
        ..SearchAccountsRequest::default()
    };
    let suffix = SearchAccountsRequest {
        domain_suffix: "7.example".into(),
        ..SearchAccountsRequest::default()
    };
    for (name, request) in [
        ("suspended on pro in group g3", question),
        ("domain suffix, whole fleet", suffix),
    ] {
        let (p50, p99, found) = search(gateway, request, args.searches).await?;
        println!(
            "search {name:<28} p50 {:>6.2} ms  p99 {:>6.2} ms  ({found} on the first page, {} index entries)",
            p50.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3,
            expected
        );
    }
    Ok(())
}

/// Syncs the whole fleet and waits for the run to end: the run, and the
/// wall time from the request to its end.
async fn sync(gateway: &Gateway, apply: bool) -> anyhow::Result<(SyncRun, Duration)> {
    let started = Instant::now();
    let request = SyncServersRequest {
        servers: Some(ServerSelector {
            whole_fleet: true,
            ..ServerSelector::default()
        }),
        apply,
        ..SyncServersRequest::default()
    };
    let mut fleet = gateway.fleet();
    let run = fleet.sync_servers(request).await?.into_inner().run;
    let id = run.context("a run")?.id;
    loop {
        let got = fleet
            .get_sync_run(GetSyncRunRequest { id: id.clone() })
            .await?;
        let run = got.into_inner().run.context("a run")?;
        match run.state() {
            SyncRunState::Done => return Ok((run, started.elapsed())),
            SyncRunState::Running => tokio::time::sleep(Duration::from_millis(20)).await,
            other => bail!("the run ended {other:?}"),
        }
    }
}

/// `times` searches one after the other: p50, p99, and the results found.
async fn search(
    gateway: &Gateway,
    request: SearchAccountsRequest,
    times: u32,
) -> anyhow::Result<(Duration, Duration, usize)> {
    let mut fleet = gateway.fleet();
    let mut took = Vec::new();
    let mut found = 0;
    for _ in 0..times {
        let started = Instant::now();
        let reply = fleet.search_accounts(request.clone()).await?.into_inner();
        took.push(started.elapsed());
        found = reply.accounts.len();
    }
    took.sort();
    let at = |share: f64| took[((took.len() - 1) as f64 * share).round() as usize];
    Ok((at(0.5), at(0.99), found))
}
