//! Sessions: one login shared by concurrent callers, tokens used for as long
//! as they live, revoked ones replaced with one login, the login rate limit,
//! the API switch (whether a call holds a token or must log in), and login
//! links of the Go build (POST autologin) and of the Python build (CONNECT).

use std::time::Duration;

use panelgate::Config;
use panelgate_proto::v1::{CreateAccountRequest, GetPackageRequest, ListAccountsRequest};
use panelgate_sim::{AutologinStyle, OpenAdminConfig};
use panelgate_tests::{PanelFixture, gateway::by_name};
use tonic::Code;
use tonic_types::StatusExt;

use crate::{DEFAULT_PLAN, Oa, PRO_PLAN, SERVER, new_account};

// On both databases (the server record and its sealed credentials read from
// each), with an upstream timeout that would also cover 2,000 requests
// queuing for the panel's connections: these tests are about logins.
panelgate_tests::panel_tests!(Oa with OpenAdminConfig::default(), gateway patient; both:
    concurrent_calls_on_a_cold_cache_share_one_login, revoked_token_costs_exactly_one_login);

/// A gateway configuration whose upstream timeout is no matter.
fn patient(config: &mut Config) {
    config.outbound.timeouts.set_each(Duration::from_secs(30));
}

/// How many calls the coalescing test makes at once.
const CONCURRENT_CALLS: u64 = 1_000;

/// 1,000 concurrent ListAccounts on a freshly registered server (a cold token
/// cache), all over one gRPC channel: every call succeeds with the panel's
/// accounts, the panel sees exactly one login for them, and then exactly two
/// requests per call (`/api/users`, `/api/ips`), so no call was ever sent
/// without a token or refused. A second server entry for the same panel has
/// its own token.
async fn concurrent_calls_on_a_cold_cache_share_one_login(oa: Oa) {
    // An account made through another entry for the same panel, so that
    // `openpanel`'s own token cache is still cold.
    oa.fixture.register(&oa.gateway, "seed").await;
    oa.gateway
        .accounts()
        .create_account(CreateAccountRequest {
            target: by_name("seed"),
            ..new_account(&oa, "alice", DEFAULT_PLAN)
        })
        .await
        .expect("create alice through `seed`");
    assert_eq!(oa.sim.login_count(), 1, "`seed` logged in once");

    let logins = oa.sim.login_count();
    let before = oa.requests();
    let client = oa.gateway.accounts();
    let calls: Vec<_> = (0..CONCURRENT_CALLS)
        .map(|_| {
            let mut client = client.clone();
            tokio::spawn(async move {
                client
                    .list_accounts(ListAccountsRequest {
                        target: by_name(SERVER),
                        ..Default::default()
                    })
                    .await
            })
        })
        .collect();
    let mut failures = Vec::new();
    for call in calls {
        match call.await.expect("the call's task") {
            Ok(reply) => {
                let accounts = reply.into_inner().accounts;
                assert_eq!(accounts.len(), 1, "{accounts:?}");
                assert_eq!(accounts[0].username, "alice");
                assert_eq!(accounts[0].server_id, oa.id);
            }
            Err(status) => failures.push(status),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {CONCURRENT_CALLS} calls failed, e.g. {:?}",
        failures.len(),
        failures.first()
    );
    assert_eq!(
        oa.sim.login_count() - logins,
        1,
        "one login for {CONCURRENT_CALLS} concurrent calls"
    );
    assert_eq!(
        oa.requests() - before,
        1 + 2 * CONCURRENT_CALLS,
        "the login, then /api/users and /api/ips per call"
    );
}

/// Lifetime of the simulator's tokens in the expiry test.
const SHORT_TOKEN: Duration = Duration::from_secs(2);

/// A token is used for as long as its own `exp` says: with 2-second tokens, a
/// second call at once reuses it; a call after the token has expired logs in
/// again first, without first being refused (a login and the call: two
/// requests, not three), and the caller sees nothing of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_token_is_refreshed_transparently() {
    let config = OpenAdminConfig {
        token_lifetime: SHORT_TOKEN,
        ..OpenAdminConfig::default()
    };
    Oa::run_with(config, |oa| async move {
        oa.get_package("1").await.expect("first call");
        assert_eq!(oa.sim.login_count(), 1);
        oa.get_package("1").await.expect("second call");
        assert_eq!(oa.sim.login_count(), 1, "the live token is reused");

        // Past the token's life, by the panel's whole-second clock too.
        tokio::time::sleep(SHORT_TOKEN + Duration::from_secs(1)).await;
        let before = oa.requests();
        let package = oa.get_package("1").await.expect("call after the expiry");
        assert_eq!(package.name, DEFAULT_PLAN);
        assert_eq!(oa.sim.login_count(), 2, "one new login");
        assert_eq!(
            oa.requests() - before,
            2,
            "a login, then the call: the expired token was never sent"
        );
    })
    .await;
}

/// A token the panel revoked is refused (401); the adapter drops it, logs in
/// once more and repeats the call, which succeeds: one extra login and three
/// requests (the refused call, the login, the call again). A burst of calls
/// all holding the revoked token also costs exactly one login.
async fn revoked_token_costs_exactly_one_login(oa: Oa) {
    oa.get_package("1").await.expect("first call");
    assert_eq!(oa.sim.login_count(), 1);

    oa.sim.revoke_tokens();
    let before = oa.requests();
    let package = oa
        .get_package("1")
        .await
        .expect("call with a revoked token");
    assert_eq!(package.name, DEFAULT_PLAN);
    assert_eq!(oa.sim.login_count(), 2, "exactly one re-login");
    assert_eq!(
        oa.requests() - before,
        3,
        "the refused call, the login, the call again"
    );

    oa.sim.revoke_tokens();
    let calls: Vec<_> = (0..100)
        .map(|_| {
            let mut client = oa.gateway.packages();
            tokio::spawn(async move {
                client
                    .get_package(GetPackageRequest {
                        target: by_name(SERVER),
                        package: "2".to_owned(),
                    })
                    .await
            })
        })
        .collect();
    for call in calls {
        let package = call
            .await
            .expect("the call's task")
            .expect("call with a revoked token")
            .into_inner()
            .package
            .expect("package in reply");
        assert_eq!(package.name, PRO_PLAN);
    }
    assert_eq!(
        oa.sim.login_count(),
        3,
        "one re-login for the whole burst of refused tokens"
    );
}

/// The panel's login rate limit (429 without Retry-After) → UNAVAILABLE
/// UPSTREAM_RATE_LIMITED with a google.rpc.RetryInfo of the minute the panel
/// takes to refill its login bucket; no token was issued.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_rate_limit_is_unavailable_with_retry_info() {
    let config = OpenAdminConfig {
        login_burst: Some(1),
        ..OpenAdminConfig::default()
    };
    Oa::run_with(config, |oa| async move {
        oa.get_package("1").await.expect("the one login allowed");
        assert_eq!(oa.sim.login_count(), 1);

        // A re-login is needed, and the bucket is empty.
        oa.sim.revoke_tokens();
        let limited = oa.get_package("1").await;
        let status = oa.assert_panel_error(limited, Code::Unavailable, "UPSTREAM_RATE_LIMITED");
        let retry = status
            .get_details_retry_info()
            .expect("a google.rpc.RetryInfo detail");
        assert_eq!(retry.retry_delay, Some(Duration::from_secs(60)));
        assert_eq!(oa.sim.login_count(), 1, "no token issued");
    })
    .await;
}

/// What every link of the simulator starts with, for `username`: the user
/// panel on port 2083 of the host panelgate called.
fn link_prefix(username: &str) -> String {
    format!("http://127.0.0.1:2083/login_autologin?username={username}&admin_token=")
}

/// CreateLoginLink on a panel of `style`, where one link costs
/// `requests_per_link` panel requests: the panel's link with a 30-character
/// one-time token, a new one each call; an unknown user is the panel's own
/// 404 "User not found" (not a fallback's page).
async fn login_link_works(style: AutologinStyle, requests_per_link: u64) {
    let config = OpenAdminConfig {
        autologin: style,
        ..OpenAdminConfig::default()
    };
    Oa::run_with(config, move |oa| async move {
        oa.create("lou", DEFAULT_PLAN).await;
        let before = oa.requests();
        let link = oa.login_link("lou").await.expect("login link");
        assert_eq!(oa.requests() - before, requests_per_link, "{style:?}");
        let token = link
            .strip_prefix(&link_prefix("lou"))
            .unwrap_or_else(|| panic!("the panel's link: {link}"));
        assert_eq!(token.len(), 30, "{link}");
        assert!(token.chars().all(|c| c.is_ascii_alphanumeric()), "{link}");

        let again = oa.login_link("lou").await.expect("second login link");
        assert!(again.starts_with(&link_prefix("lou")), "{again}");
        assert_ne!(again, link, "a new one-time token every call");

        let before = oa.requests();
        let missing = oa.login_link("ghost").await;
        oa.assert_said(
            missing,
            Code::NotFound,
            "ACCOUNT_NOT_FOUND",
            "User not found",
        );
        assert_eq!(oa.requests() - before, requests_per_link, "{style:?}");
    })
    .await;
}

/// On the Go build, CreateLoginLink is one `POST /api/users/{u}/autologin`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_link_with_post_autologin() {
    login_link_works(AutologinStyle::Post, 1).await;
}

/// On the Python build (the doc's), `POST .../autologin` is the build's HTML
/// 404 page, so the link (which names the user, sent only in the path) can
/// only come from the `CONNECT /api/users/{u}` the adapter sends next: two
/// requests per link. The unknown user's JSON "User not found" is the CONNECT
/// route's answer too. CheckServer reads the Python build's version.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_link_with_connect_autologin() {
    login_link_works(AutologinStyle::Connect, 2).await;
    let config = OpenAdminConfig {
        autologin: AutologinStyle::Connect,
        ..OpenAdminConfig::default()
    };
    Oa::run_with(config, |oa| async move {
        let checked = oa.check(SERVER).await;
        assert!(checked.healthy, "{checked:?}");
        assert_eq!(checked.panel_version, "1.7.60");
    })
    .await;
}
