//! `panelgate-fleet-bench`: the gateway's memory at fleet size.
//!
//! Starts one simulated admin_api panel in this process (127.0.0.1, three
//! packages) and the real `panelgate serve` binary as a separate process
//! (loopback ports, a fresh SQLite inventory, caller authentication off),
//! registers N servers through InventoryService, all pointing at that one
//! panel (half with `tls.insecure_skip_verify`, a quarter with a `tls.ca_pem`
//! of a private CA, a quarter with the defaults), then makes two passes of
//! one ListPackages per server. After registration and after each pass it
//! prints the gateway process's resident memory (`VmRSS`, and its peak
//! `VmHWM`, from `/proc/<pid>/status`) and open sockets, and for each pass
//! its wall time, calls/s and the requests the panel received: the panel
//! answers nothing but package lists then, so that count is the package
//! lists the gateway fetched rather than served from its cache. The targets,
//! at 10,000 servers: RSS at most 150 MiB after pass 2, and no panel call in
//! pass 2 (a hit rate of 1 − panel calls / N).
//!
//! Build both binaries into one target directory, then run it:
//!
//! ```sh
//! cargo build --release -p panelgate -p panelgate-tests --bin panelgate --bin panelgate-fleet-bench
//! target/release/panelgate-fleet-bench --servers 10000
//! ```
//!
//! Flags: `--servers N` (10000), `--concurrency N` calls in flight (32),
//! `--panelgate PATH` (default: `panelgate` beside this executable). A failed
//! call stops the run; the gateway is killed at the end, on error too.

// The modules live beside this file, in `panelgate-fleet-bench/`.
#[path = "panelgate-fleet-bench/drive.rs"]
mod drive;
#[path = "panelgate-fleet-bench/fleet.rs"]
mod fleet;
#[path = "panelgate-fleet-bench/gateway.rs"]
mod gateway;
#[path = "panelgate-fleet-bench/report.rs"]
mod report;
#[path = "panelgate-fleet-bench/usage.rs"]
mod usage;

use std::{path::PathBuf, sync::Arc, time::Duration};

use anyhow::Context;
use clap::Parser;
use panelgate_sim::{AdminApiConfig, AdminApiSim, SimPackage};
use tonic::transport::Channel;

use crate::{fleet::Fleet, gateway::Gateway, report::Pass, usage::Usage};

/// Longest gRPC call to the gateway.
const CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// The command line.
#[derive(Debug, Parser)]
#[command(
    name = "panelgate-fleet-bench",
    about = "Measures the memory of a panelgate process serving N servers"
)]
struct Args {
    /// Servers to register, all on the one simulated panel.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..))]
    servers: u32,
    /// gRPC calls in flight at once, while registering and in each pass.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..))]
    concurrency: u16,
    /// The panelgate binary [default: `panelgate` beside this executable].
    #[arg(long)]
    panelgate: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let binary = match args.panelgate {
        Some(path) => path,
        None => gateway::beside_this_executable()?,
    };
    let panel = panel();
    let sim = AdminApiSim::start(panel.clone())
        .await
        .context("start the admin_api simulator")?;
    let size = usize::try_from(args.servers).context("--servers is too large for this platform")?;
    let fleet = Fleet::new(size, sim.base_url(), panel);
    let gateway = Gateway::spawn(&binary, None).await?;
    println!(
        "panelgate-fleet-bench: {fleet}; gateway {} (pid {}) serving gRPC on {}; \
         {} calls in flight; {} cores",
        binary.display(),
        gateway.pid(),
        gateway.addr,
        args.concurrency,
        std::thread::available_parallelism().map_or(0, usize::from),
    );
    let measured = measure(&fleet, &sim, &gateway, usize::from(args.concurrency)).await;
    if measured.is_err() {
        eprintln!("panelgate's last log lines:\n{}", gateway.last_lines());
    }
    measured
}

/// The simulated panel: three packages, the default admin credentials.
fn panel() -> AdminApiConfig {
    AdminApiConfig {
        packages: vec![
            SimPackage::new(1, "Basic", 1024, 2),
            SimPackage::new(2, "Standard", 2048, 5),
            SimPackage::new(3, "Premium", 5120, 0),
        ],
        ..AdminApiConfig::default()
    }
}

/// Registers the fleet, makes both passes and prints the figures.
async fn measure(
    fleet: &Arc<Fleet>,
    sim: &AdminApiSim,
    gateway: &Gateway,
    in_flight: usize,
) -> anyhow::Result<()> {
    let channel = Channel::from_shared(format!("http://{}", gateway.addr))
        .context("the gateway's URL")?
        .timeout(CALL_TIMEOUT)
        .connect()
        .await
        .with_context(|| format!("connect to the gateway on {}", gateway.addr))?;
    println!("gateway at start: {}", Usage::of(gateway.pid())?);

    let took = fleet.register(&channel, in_flight).await?;
    let registered = Usage::of(gateway.pid())?;
    println!(
        "registered {} servers in {:.1} s ({:.0}/s); gateway {registered}",
        fleet.size,
        took.as_secs_f64(),
        fleet.size as f64 / took.as_secs_f64().max(f64::EPSILON),
    );

    let first = pass(1, fleet, sim, &channel, gateway.pid(), in_flight).await?;
    println!("{first}");
    let second = pass(2, fleet, sim, &channel, gateway.pid(), in_flight).await?;
    println!("{second}");
    println!(
        "{}",
        report::summary(fleet.size, &registered, &first, &second)
    );
    Ok(())
}

/// Pass `number`: one ListPackages per server, the panel's requests counted
/// meanwhile, then the usage of the gateway (process `pid`).
async fn pass(
    number: u8,
    fleet: &Arc<Fleet>,
    sim: &AdminApiSim,
    channel: &Channel,
    pid: u32,
    in_flight: usize,
) -> anyhow::Result<Pass> {
    let before = sim.request_count();
    let elapsed = fleet
        .list_packages(&format!("pass {number}"), channel, in_flight)
        .await?;
    Ok(Pass {
        number,
        calls: fleet.size,
        elapsed,
        panel_calls: sim.request_count() - before,
        usage: Usage::of(pid)?,
    })
}
