//! Scenario `list-packages`: a bare tonic server answering a constant
//! ListPackages (the baseline) vs cached ListPackages through the gateway
//! (auth, routing from cache, package cache; no panel call at steady state).

use anyhow::Context;
use panelgate_proto::v1::ListPackagesRequest;
use panelgate_tests::{AdminApiFixture, PanelFixture, gateway::by_name};

use crate::{
    Settings,
    baseline::BareServer,
    load::{Failure, Measured},
    parties::Party,
    report::Row,
    setup::{BenchGateway, Pool, caller_bearer, register, start_panel},
};

/// The scenario's `--scenario` name.
pub const NAME: &str = "list-packages";

/// The simulated server's name in the gateway's inventory.
const SERVER: &str = "bench-admin-api";

/// The side through the gateway.
pub const CACHED: &str = "gateway, cached";

/// Measures both sides.
pub async fn run(settings: &Settings) -> anyhow::Result<Vec<Row>> {
    let fixture: AdminApiFixture = start_panel().await?;
    let gateway = BenchGateway::start(false).await?;
    let bearer = caller_bearer()?;
    let pool = settings.pool(gateway.addr(), bearer.clone()).await?;
    register(&pool, &fixture, SERVER).await?;

    // One call fills the gateway's package cache; the baseline then serves
    // the very reply the gateway gives.
    let reply = pool
        .packages(0)
        .list_packages(request())
        .await
        .context("first ListPackages through the gateway")?
        .into_inner();
    let expected = reply.packages.len();
    let bare = Party::Bare.run(BareServer::start(reply)).await??;
    let bare_pool = settings.pool(bare.addr, bearer).await?;

    let baseline = measure(settings, "bare tonic", &bare_pool, expected).await?;
    let baseline = Row::new(NAME, "bare tonic PackageService", &baseline).baseline();
    println!("{}", baseline.progress());

    let panel_before = fixture.requests();
    let through = measure(settings, "gateway", &pool, expected).await?;
    let panel_calls = fixture.requests() - panel_before;
    let through = Row::new(NAME, CACHED, &through)
        .versus(&baseline)
        .counted(format!("{panel_calls} panel requests"))
        .problem_if(
            panel_calls != 0,
            format!("cached ListPackages made {panel_calls} panel requests, expected 0"),
        );
    println!("{}", through.progress());

    bare.stop().await?;
    gateway.stop().await?;
    Ok(vec![baseline, through])
}

fn request() -> ListPackagesRequest {
    ListPackagesRequest {
        target: by_name(SERVER),
        ..Default::default()
    }
}

/// Warms up, then measures ListPackages over `pool`; every reply must list
/// `expected` packages.
async fn measure(
    settings: &Settings,
    side: &str,
    pool: &Pool,
    expected: usize,
) -> anyhow::Result<Measured> {
    let pool = pool.clone();
    let call = move |worker: usize| {
        let mut client = pool.packages(worker);
        async move {
            let reply = client.list_packages(request()).await?.into_inner();
            if reply.packages.len() != expected {
                return Err(Failure::new(
                    "wrong reply",
                    format!("{} packages, expected {expected}", reply.packages.len()),
                ));
            }
            Ok(())
        }
    };
    let what = format!("{NAME} / {side}");
    settings.warm_up(&what, call.clone()).await?;
    settings.measure(&what, call).await
}
