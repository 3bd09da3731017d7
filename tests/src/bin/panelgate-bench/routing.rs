//! Scenario `routing`: inventory database queries per gateway call at steady
//! state, read from the gateway's Prometheus endpoint
//! (`panelgate_inventory_query_duration_seconds_count`, summed over labels)
//! before and after each measured phase. Calls naming their server are routed
//! from the caches and must make ~0 queries; GetAccount without a target is
//! routed by the account index, one query per call, and is measured beside
//! it for comparison.

use panelgate_proto::v1::{GetAccountRequest, ListPackagesRequest};
use panelgate_tests::{AdminApiFixture, gateway::by_name};

use crate::{
    Settings,
    load::{Failure, Measured},
    prometheus::Scraper,
    report::Row,
    setup::{BenchGateway, Pool, caller_bearer, create_account, register, start_panel},
};

/// The scenario's `--scenario` name.
pub const NAME: &str = "routing";

/// The simulated server's name in the gateway's inventory.
const SERVER: &str = "bench-admin-api";

/// The account read.
const USERNAME: &str = "benchuser";

/// Most inventory queries per call that still count as "none" at steady
/// state (cache entries expiring, the health check's ping).
const STEADY_STATE_QUERIES: f64 = 0.01;

/// What the table says when the gateway has no metrics endpoint.
const NO_METRICS: &str = "metrics endpoint not available";

/// How calls are routed.
#[derive(Clone, Copy, Debug)]
enum Call {
    /// ListPackages naming the server.
    ListPackages,
    /// GetAccount naming the server.
    GetAccountByTarget,
    /// GetAccount without a target: the account index finds the server.
    GetAccountByIndex,
}

/// Measures the three kinds of call.
pub async fn run(settings: &Settings) -> anyhow::Result<Vec<Row>> {
    let fixture: AdminApiFixture = start_panel().await?;
    let gateway = BenchGateway::start(true).await?;
    let pool = settings.pool(gateway.addr(), caller_bearer()?).await?;
    register(&pool, &fixture, SERVER).await?;
    create_account(&pool, &fixture, SERVER, USERNAME).await?;
    let scraper = match gateway.metrics {
        Some(addr) => Some(Scraper::ready(addr).await?),
        None => {
            eprintln!("{NAME}: {NO_METRICS}: inventory queries are not counted");
            None
        }
    };

    let by_target = measure(settings, &pool, scraper.as_ref(), Call::GetAccountByTarget).await?;
    let by_target = Row::new(NAME, "GetAccount by target", &by_target.0)
        .baseline()
        .counted(queries(by_target.1, by_target.0.requests))
        .problem_if(
            too_many(by_target.1, by_target.0.requests),
            "GetAccount by target queried the inventory at steady state",
        );
    println!("{}", by_target.progress());

    let by_index = measure(settings, &pool, scraper.as_ref(), Call::GetAccountByIndex).await?;
    let by_index = Row::new(NAME, "GetAccount by account index", &by_index.0)
        .versus(&by_target)
        .counted(queries(by_index.1, by_index.0.requests));
    println!("{}", by_index.progress());

    let packages = measure(settings, &pool, scraper.as_ref(), Call::ListPackages).await?;
    let packages = Row::new(NAME, "ListPackages by target", &packages.0)
        .counted(queries(packages.1, packages.0.requests))
        .problem_if(
            too_many(packages.1, packages.0.requests),
            "ListPackages by target queried the inventory at steady state",
        );
    println!("{}", packages.progress());

    gateway.stop().await?;
    Ok(vec![by_target, by_index, packages])
}

/// The "counted" cell: queries per call, or why there is no figure.
fn queries(queries: Option<f64>, requests: u64) -> String {
    match queries {
        Some(queries) => format!(
            "{:.4} inventory queries/call ({queries:.0} in {requests} calls)",
            queries / requests.max(1) as f64
        ),
        None => NO_METRICS.to_owned(),
    }
}

fn too_many(queries: Option<f64>, requests: u64) -> bool {
    queries.is_some_and(|queries| queries / requests.max(1) as f64 > STEADY_STATE_QUERIES)
}

/// Warms up, then measures `kind`; returns the figures and the inventory
/// queries made while measuring (None without a metrics endpoint).
async fn measure(
    settings: &Settings,
    pool: &Pool,
    scraper: Option<&Scraper>,
    kind: Call,
) -> anyhow::Result<(Measured, Option<f64>)> {
    let pool = pool.clone();
    let call = move |worker: usize| {
        let mut packages = pool.packages(worker);
        let mut accounts = pool.accounts(worker);
        async move {
            match kind {
                Call::ListPackages => {
                    let reply = packages
                        .list_packages(ListPackagesRequest {
                            target: by_name(SERVER),
                            ..Default::default()
                        })
                        .await?;
                    if reply.into_inner().packages.is_empty() {
                        return Err(Failure::new("wrong reply", "no packages"));
                    }
                }
                Call::GetAccountByTarget | Call::GetAccountByIndex => {
                    let target = match kind {
                        Call::GetAccountByTarget => by_name(SERVER),
                        _ => None,
                    };
                    let reply = accounts
                        .get_account(GetAccountRequest {
                            target,
                            username: USERNAME.to_owned(),
                        })
                        .await?;
                    if reply.into_inner().account.is_none() {
                        return Err(Failure::new("wrong reply", "no account"));
                    }
                }
            }
            Ok(())
        }
    };
    let what = format!("{NAME} / {kind:?}");
    settings.warm_up(&what, call.clone()).await?;
    let before = match scraper {
        Some(scraper) => Some(scraper.inventory_queries().await?),
        None => None,
    };
    let measured = settings.measure(&what, call).await?;
    let queries = match (scraper, before) {
        (Some(scraper), Some(before)) => Some(scraper.inventory_queries().await? - before),
        _ => None,
    };
    Ok((measured, queries))
}
