//! Scenario `get-account`: the admin_api simulator's account-info endpoint
//! called directly over HTTP (the baseline: `POST /admin_api/` with the admin
//! `username`/`password` headers and the account's `username` in the form)
//! vs `AccountService/GetAccount` through the gateway, which makes that same
//! HTTP call. The simulator answers at once (no injected delay). Scenario
//! `latency` measures the same two sides at concurrency 1 (as rows of
//! `get-account`): the latency the gateway adds to a lone call.

use panelgate_sim::admin_api::AdminApiConfig;
use panelgate_tests::{AdminApiFixture, PanelFixture, gateway::by_name};
use serde_json::Value;

use crate::{
    Settings,
    load::{Failure, Measured},
    report::Row,
    setup::{
        BenchGateway, Pool, caller_bearer, create_account, get_account, register, start_panel,
    },
};

/// The scenario's `--scenario` name.
pub const NAME: &str = "get-account";

/// The simulated server's name in the gateway's inventory.
const SERVER: &str = "bench-admin-api";

/// The account read.
const USERNAME: &str = "benchuser";

/// The baseline side.
pub const DIRECT: &str = "direct HTTP to the simulator";

/// The side through the gateway.
pub const THROUGH: &str = "GetAccount through the gateway";

/// What the sides of the `latency` scenario add to their names.
pub const ONE_AT_A_TIME: &str = " (concurrency 1)";

/// Measures both sides.
pub async fn run(settings: &Settings) -> anyhow::Result<Vec<Row>> {
    run_sides(settings, "").await
}

/// Measures both sides at concurrency 1.
pub async fn run_latency(settings: &Settings) -> anyhow::Result<Vec<Row>> {
    let settings = Settings {
        concurrency: 1,
        ..settings.clone()
    };
    run_sides(&settings, ONE_AT_A_TIME).await
}

/// Measures both sides, `suffix` added to their names.
async fn run_sides(settings: &Settings, suffix: &str) -> anyhow::Result<Vec<Row>> {
    let fixture: AdminApiFixture = start_panel().await?;
    let gateway = BenchGateway::start(false).await?;
    let pool = settings.pool(gateway.addr(), caller_bearer()?).await?;
    register(&pool, &fixture, SERVER).await?;
    create_account(&pool, &fixture, SERVER, USERNAME).await?;

    let direct = measure_direct(settings, &fixture).await?;
    let direct = Row::new(NAME, format!("{DIRECT}{suffix}"), &direct.0)
        .baseline()
        .counted(per_call(direct.1, direct.0.requests));
    println!("{}", direct.progress());

    let through = measure_gateway(settings, &fixture, &pool).await?;
    let panel_calls = through.1;
    let through = Row::new(NAME, format!("{THROUGH}{suffix}"), &through.0)
        .versus(&direct)
        .counted(per_call(panel_calls, through.0.requests))
        .problem_if(
            panel_calls != through.0.requests,
            format!(
                "{panel_calls} panel requests for {} GetAccount calls, expected one each",
                through.0.requests
            ),
        );
    println!("{}", through.progress());

    gateway.stop().await?;
    Ok(vec![direct, through])
}

fn per_call(panel_calls: u64, requests: u64) -> String {
    format!(
        "{:.2} panel requests/call",
        panel_calls as f64 / requests.max(1) as f64
    )
}

/// The baseline: one account-info request per call, with reqwest's
/// connection pool; returns the figures and the simulator's request count.
async fn measure_direct(
    settings: &Settings,
    fixture: &AdminApiFixture,
) -> anyhow::Result<(Measured, u64)> {
    let admin = AdminApiConfig::default();
    let client = reqwest::Client::new();
    let url = format!("{}/admin_api/", fixture.base_url());
    let call = move |_worker: usize| {
        let request = client
            .post(&url)
            .header("username", &admin.admin_username)
            .header("password", &admin.admin_password)
            .form(&[("username", USERNAME)]);
        async move {
            let reply: Value = request.send().await?.error_for_status()?.json().await?;
            if let Some(error) = reply.get("error") {
                return Err(Failure::new("panel error", error.to_string()));
            }
            if reply.get("user_id").is_none() {
                return Err(Failure::new("wrong reply", reply.to_string()));
            }
            Ok(())
        }
    };
    let what = format!("{NAME} / direct HTTP");
    settings.warm_up(&what, call.clone()).await?;
    let before = fixture.requests();
    let measured = settings.measure(&what, call).await?;
    Ok((measured, fixture.requests() - before))
}

/// The gateway side: GetAccount naming the server; returns the figures and
/// the simulator's request count.
async fn measure_gateway(
    settings: &Settings,
    fixture: &AdminApiFixture,
    pool: &Pool,
) -> anyhow::Result<(Measured, u64)> {
    let pool = pool.clone();
    let call = move |worker: usize| get_account(pool.accounts(worker), by_name(SERVER), USERNAME);
    let what = format!("{NAME} / gateway");
    settings.warm_up(&what, call.clone()).await?;
    let before = fixture.requests();
    let measured = settings.measure(&what, call).await?;
    Ok((measured, fixture.requests() - before))
}
