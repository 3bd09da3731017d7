//! Scenario `cold-login`: bursts of N concurrent GetAccount calls on a
//! freshly registered OpenAdmin server, whose panel session (JWT) cache is
//! cold, so every call needs a login: the gateway must log in once per
//! burst, not once per call. Baseline: the same burst again on the same
//! server right after, with the token cached. The simulator counts logins.

use panelgate_tests::{OpenAdminFixture, gateway::by_name};

use crate::{
    Settings,
    load::{self, Budget, Measured},
    report::Row,
    setup::{
        BenchGateway, Pool, caller_bearer, create_account, get_account, register, start_panel,
    },
};

/// The scenario's `--scenario` name.
pub const NAME: &str = "cold-login";

/// The account read; made through a separate server entry so that each
/// burst's server starts with a cold session cache.
const USERNAME: &str = "benchoa";

/// Logins and figures of one side, over every burst.
struct Side {
    measured: Option<Measured>,
    logins: u64,
}

impl Side {
    fn new() -> Side {
        Side {
            measured: None,
            logins: 0,
        }
    }

    fn add(&mut self, measured: Measured, logins: u64) -> anyhow::Result<()> {
        self.logins += logins;
        match &mut self.measured {
            Some(total) => total.merge(measured),
            None => {
                self.measured = Some(measured);
                Ok(())
            }
        }
    }
}

/// Measures `settings.bursts` cold bursts and as many warm ones.
pub async fn run(settings: &Settings) -> anyhow::Result<Vec<Row>> {
    let fixture: OpenAdminFixture = start_panel().await?;
    let gateway = BenchGateway::start(false).await?;
    let pool = settings.pool(gateway.addr(), caller_bearer()?).await?;
    register(&pool, &fixture, "bench-oa-seed").await?;
    create_account(&pool, &fixture, "bench-oa-seed", USERNAME).await?;

    let mut cold = Side::new();
    let mut warm = Side::new();
    for round in 0..settings.bursts {
        let server = format!("bench-oa-{round}");
        register(&pool, &fixture, &server).await?;
        let before = fixture.sim.login_count();
        let measured = burst(settings, &pool, &server, "cold").await?;
        let after_cold = fixture.sim.login_count();
        cold.add(measured, after_cold - before)?;
        let measured = burst(settings, &pool, &server, "warm").await?;
        warm.add(measured, fixture.sim.login_count() - after_cold)?;
    }
    gateway.stop().await?;

    let bursts = settings.bursts as u64;
    let (Some(warm_measured), Some(cold_measured)) = (warm.measured, cold.measured) else {
        anyhow::bail!("{NAME}: no burst was run (--bursts 0)");
    };
    let baseline = Row::new(NAME, "burst, session cached", &warm_measured)
        .baseline()
        .counted(logins(warm.logins, bursts))
        .problem_if(
            warm.logins != 0,
            format!("{} logins in {bursts} warm bursts, expected 0", warm.logins),
        );
    println!("{}", baseline.progress());
    let cold = Row::new(NAME, "burst, cold session cache", &cold_measured)
        .versus(&baseline)
        .counted(logins(cold.logins, bursts))
        .problem_if(
            cold.logins != bursts,
            format!(
                "{} logins in {bursts} cold bursts, expected exactly 1 per burst",
                cold.logins
            ),
        );
    println!("{}", cold.progress());
    Ok(vec![baseline, cold])
}

fn logins(logins: u64, bursts: u64) -> String {
    format!("{logins} logins in {bursts} bursts")
}

/// One burst: every worker calls GetAccount once on `server`, all at once.
async fn burst(
    settings: &Settings,
    pool: &Pool,
    server: &str,
    side: &str,
) -> anyhow::Result<Measured> {
    let pool = pool.clone();
    let server = server.to_owned();
    let call = move |worker: usize| get_account(pool.accounts(worker), by_name(&server), USERNAME);
    load::drive(settings.concurrency, Budget::Once, call)
        .await?
        .ok(&format!("{NAME} / {side} burst"))
}
