//! OpenAdmin (OpenPanel Enterprise) end to end: the real gateway over real
//! gRPC, in front of the OpenAdmin simulator over real HTTP.
//!
//! Every test checks what a canonical call did on the simulated panel itself
//! (`sim.user(..)`, `sim.domain(..)`, `sim.plans()`, `sim.services()`), and the
//! session tests count what the panel saw: its logins (`sim.login_count()`) and
//! the HTTP requests it received (`sim.request_count()`).
//!
//! Unless a test says otherwise the simulator is the Go build (POST autologin,
//! plan creation) with 15-minute tokens, plans `default_plan_nginx` (id 1,
//! 10 GB, unlimited domains) and `pro_plan_apache` (id 2, 50 GB, 10 domains),
//! and five services: caddy, docker, mysql and named running and monitored,
//! csf neither; it is registered as `openpanel`. These tests run on SQLite
//! (login coalescing on both databases): what every panel shares, the
//! cross-panel suite (`tests/conformance.rs`) runs on both.
//!
//! - `sessions`: one login for many callers, expiry, revocation, the login
//!   rate limit, the API switch, and login links of both autologin forms;
//! - `accounts`: `/api/users` and `/api/ips`, usage, unknown accounts;
//! - `packages`: `/api/plans`;
//! - `domains`: `/api/domains`;
//! - `server`: `/api/system`, `/api/usage*`, `/api/services*`, notifications.

mod accounts;
mod domains;
mod packages;
mod server;
mod sessions;

use panelgate_proto::v1::CreateAccountRequest;
use panelgate_tests::{OpenAdminFixture, Panel};

/// A gateway with a fresh OpenAdmin simulator registered as `openpanel`.
type Oa = Panel<OpenAdminFixture>;

/// The name the simulator is registered under.
const SERVER: &str = "openpanel";
/// The simulator's plans (its default config).
const DEFAULT_PLAN: &str = "default_plan_nginx";
const PRO_PLAN: &str = "pro_plan_apache";

/// CreateAccount of `username` on `plan` (see [`Panel::new_account`]).
fn new_account(oa: &Oa, username: &str, plan: &str) -> CreateAccountRequest {
    CreateAccountRequest {
        package: plan.to_owned(),
        ..oa.new_account(username)
    }
}
