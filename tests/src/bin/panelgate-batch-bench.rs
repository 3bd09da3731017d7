//! `panelgate-batch-bench`: batches at fleet size.
//!
//! Starts the real `panelgate serve` binary as a separate process (a fresh
//! SQLite inventory, or `--database-url`; caller authentication off) and
//! simulated SPanel panels in this process, each answering every request
//! after `--latency`; then measures, from the request to the batch's end:
//!
//! 1. a fleet health check (CheckServers) over `--check-servers` servers,
//!    all pointing at one panel;
//! 2. a batch suspension of `--servers` × `--accounts` accounts, each server
//!    a panel of its own, at the default 2 items at once per server, the
//!    accounts listed explicitly.
//!
//! For each it prints the wall time, items per second, and the gateway
//! process's CPU time (whole and per item, from `/proc/<pid>/stat`). The
//! batch's results are checked: every account suspended on its panel, no
//! panel ever answering more than 2 requests at once.
//!
//! ```sh
//! cargo build --release -p panelgate -p panelgate-tests --bin panelgate --bin panelgate-batch-bench
//! target/release/panelgate-batch-bench
//! ```
//!
//! Flags: `--check-servers N` (1000), `--servers N` (100), `--accounts N`
//! per server (100), `--latency` (20ms), `--database-url URL`, `--panelgate
//! PATH` (default: `panelgate` beside this executable).

#[path = "panelgate-fleet-bench/gateway.rs"]
mod gateway;

use std::{
    path::PathBuf,
    time::{Duration, Instant},
};

use anyhow::{Context, ensure};
use clap::Parser;
use panelgate::config::parse_duration;
use panelgate_proto::v1::{
    AccountRef, AccountSelection, BatchOperation, BatchOptions, BatchState, CheckServersRequest,
    GetBatchRequest, RegisterServerRequest, ServerSelector, SuspendAccountsRequest,
    batch_service_client::BatchServiceClient, inventory_service_client::InventoryServiceClient,
};
use panelgate_tests::{PanelChange, PanelFixture, SpanelFixture};
use tonic::transport::Channel;

use crate::gateway::Gateway;

/// The command line.
#[derive(Debug, Parser)]
#[command(
    name = "panelgate-batch-bench",
    about = "Measures a fleet health check and a bulk suspension at fleet size"
)]
struct Args {
    /// Servers the health check covers, all on one simulated panel.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    check_servers: u32,
    /// Servers of the bulk suspension, each its own simulated panel.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1000))]
    servers: u32,
    /// Accounts per server to suspend.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1000))]
    accounts: u32,
    /// How long each panel takes to answer each request.
    #[arg(long, default_value = "20ms", value_parser = parse_duration)]
    latency: Duration,
    /// The inventory [default: a fresh SQLite file].
    #[arg(long)]
    database_url: Option<String>,
    /// The panelgate binary [default: `panelgate` beside this executable].
    #[arg(long)]
    panelgate: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let binary = match &args.panelgate {
        Some(path) => path.clone(),
        None => gateway::beside_this_executable()?,
    };
    let gateway = Gateway::spawn(&binary, args.database_url.as_deref()).await?;
    let channel = Channel::from_shared(format!("http://{}", gateway.addr))?
        .connect()
        .await
        .context("connect to the gateway")?;
    println!(
        "panelgate-batch-bench: gateway pid {} on {}, inventory {}, panel latency {:?}, {} cores",
        gateway.pid(),
        gateway.addr,
        if args.database_url.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        args.latency,
        std::thread::available_parallelism().map_or(0, usize::from),
    );
    let measured = async {
        health_check(&args, &gateway, &channel).await?;
        suspension(&args, &gateway, &channel).await
    }
    .await;
    if measured.is_err() {
        eprintln!("panelgate's last log lines:\n{}", gateway.last_lines());
    }
    measured
}

/// CheckServers over `--check-servers` servers of one panel.
async fn health_check(args: &Args, gateway: &Gateway, channel: &Channel) -> anyhow::Result<()> {
    let panel = SpanelFixture::start().await;
    for n in 0..args.check_servers {
        register(channel, &panel, &format!("check-{n:05}"), "check").await?;
    }
    panel.faults().set_delay(args.latency);
    let request = CheckServersRequest {
        servers: Some(ServerSelector {
            group: "check".into(),
            ..ServerSelector::default()
        }),
        ..CheckServersRequest::default()
    };
    let (cpu, started) = (gateway.cpu()?, Instant::now());
    let reply = BatchServiceClient::new(channel.clone())
        .check_servers(request)
        .await?
        .into_inner();
    let batch = wait(channel, reply.operation.context("an operation")?).await?;
    report(
        "fleet health check",
        args.check_servers,
        started.elapsed(),
        gateway.cpu()? - cpu,
    );
    let metadata = batch.metadata.context("metadata")?;
    ensure!(
        metadata.succeeded == args.check_servers,
        "{} of {} servers healthy",
        metadata.succeeded,
        args.check_servers
    );
    Ok(())
}

/// SuspendAccounts of `--accounts` accounts on each of `--servers` panels.
async fn suspension(args: &Args, gateway: &Gateway, channel: &Channel) -> anyhow::Result<()> {
    let mut panels = Vec::new();
    let mut items = Vec::new();
    for n in 0..args.servers {
        let panel = SpanelFixture::start().await;
        for k in 0..args.accounts {
            let username = format!("b{n}x{k}");
            let make = PanelChange::Make {
                username: &username,
                package: "basic",
            };
            panel.on_panel(make).await;
            items.push(username);
        }
        let id = register(channel, &panel, &format!("bulk-{n:04}"), "bulk").await?;
        panel.faults().set_delay(args.latency);
        let server_items = items.drain(..).map(|username| AccountRef {
            server_id: id.clone(),
            username,
        });
        panels.push((panel, server_items.collect::<Vec<_>>()));
    }
    let accounts: Vec<AccountRef> = panels
        .iter()
        .flat_map(|(_, items)| items.iter().cloned())
        .collect();
    let total = u32::try_from(accounts.len()).unwrap_or(u32::MAX);
    let request = SuspendAccountsRequest {
        accounts: Some(AccountSelection {
            accounts,
            ..AccountSelection::default()
        }),
        options: Some(BatchOptions {
            overall_limit: 1024,
            ..BatchOptions::default()
        }),
        ..SuspendAccountsRequest::default()
    };
    let (cpu, started) = (gateway.cpu()?, Instant::now());
    let reply = BatchServiceClient::new(channel.clone())
        .suspend_accounts(request)
        .await?
        .into_inner();
    let batch = wait(channel, reply.operation.context("an operation")?).await?;
    report(
        "bulk suspension",
        total,
        started.elapsed(),
        gateway.cpu()? - cpu,
    );
    let metadata = batch.metadata.context("metadata")?;
    ensure!(
        metadata.state() == BatchState::Succeeded,
        "the batch ended {:?}: {metadata:?}",
        metadata.state()
    );
    let mut peak = 0;
    for (panel, items) in &panels {
        for item in items {
            let suspended = panel
                .account(&item.username)
                .is_some_and(|account| account.suspended);
            ensure!(suspended, "{} not suspended", item.username);
        }
        peak = peak.max(panel.fixture().sim.peak_concurrency());
    }
    println!("  every account suspended; at most {peak} requests at once on any panel");
    ensure!(peak <= 2, "a panel answered {peak} requests at once");
    Ok(())
}

/// Registers `panel` as server `name` in `group`; its id.
async fn register(
    channel: &Channel,
    panel: &SpanelFixture,
    name: &str,
    group: &str,
) -> anyhow::Result<String> {
    let mut request: RegisterServerRequest =
        panel.register_request(name, &panel.base_url(), panel.credentials());
    if let Some(server) = request.server.as_mut() {
        server.group = group.to_owned();
    }
    let reply = InventoryServiceClient::new(channel.clone())
        .register_server(request)
        .await
        .with_context(|| format!("register {name}"))?;
    Ok(reply.into_inner().server.context("a server")?.id)
}

/// The batch once it has ended, polled every 10 ms.
async fn wait(channel: &Channel, started: BatchOperation) -> anyhow::Result<BatchOperation> {
    let mut client = BatchServiceClient::new(channel.clone());
    loop {
        let batch = client
            .get_batch(GetBatchRequest {
                id: started.id.clone(),
            })
            .await?
            .into_inner()
            .operation
            .context("an operation")?;
        if batch.done {
            return Ok(batch);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn report(what: &str, items: u32, wall: Duration, cpu: Duration) {
    println!(
        "{what:<20} {items:>6} items  wall {:>6.2} s  {:>8.0} items/s  gateway CPU {:>6.2} s ({:.0} µs per item)",
        wall.as_secs_f64(),
        f64::from(items) / wall.as_secs_f64().max(f64::EPSILON),
        cpu.as_secs_f64(),
        cpu.as_secs_f64() * 1e6 / f64::from(items.max(1)),
    );
}
