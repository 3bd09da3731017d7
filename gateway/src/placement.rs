//! Placement: which server an account goes to when the caller names none.
//! Every server in a placement's scope (its labels; the whole fleet when it
//! names none) is either a candidate or passed over with a reason; the
//! candidates are ranked by the strategy. CreateAccount tries them in
//! order, holding a slot on each before its panel call (see `capacity`);
//! PlanPlacement shows the plan and reserves nothing.

use std::{
    cmp::Ordering,
    collections::{BTreeMap, BTreeSet},
};

use panelgate_adapters::{capabilities, http::HealthState, kind_from_name, kind_name};
use panelgate_inventory::{PageRequest, ServerFilter, ServerRecord, ServerState, Usage};
use panelgate_proto::Capability;
use panelgate_proto::v1::{
    PanelKind, PassedOverReason, Placement, PlacementStrategy, ServerCapacity,
};

use crate::{app::App, error::GatewayError};

/// How candidates are ranked (see the proto's `PlacementStrategy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Strategy {
    /// Lowest fill ratio first.
    LeastFull,
    /// Most free slots first.
    MostFree,
    /// Lowest priority first, one server filled before the next.
    FillInOrder,
}

impl Strategy {
    /// The proto's name of it.
    pub fn proto(self) -> PlacementStrategy {
        match self {
            Strategy::LeastFull => PlacementStrategy::LeastFull,
            Strategy::MostFree => PlacementStrategy::MostFree,
            Strategy::FillInOrder => PlacementStrategy::FillInOrder,
        }
    }
}

/// A placement, checked: which servers are in scope and which qualify.
#[derive(Clone, Debug)]
pub struct Scope {
    group: Option<String>,
    labels: BTreeMap<String, String>,
    kind: Option<PanelKind>,
    strategy: Strategy,
}

impl Scope {
    /// Checks `placement` (the request field `field`); `default` ranks when
    /// it names no strategy, `options_kind` (the request's panel options)
    /// keeps it to one kind.
    pub fn of(
        field: &str,
        placement: &Placement,
        default: Strategy,
        options_kind: Option<PanelKind>,
    ) -> Result<Self, GatewayError> {
        let invalid = |name: &str, why: &str| GatewayError::invalid(format!("{field}.{name}"), why);
        let strategy = match PlacementStrategy::try_from(placement.strategy) {
            Ok(PlacementStrategy::Unspecified) => default,
            Ok(PlacementStrategy::LeastFull) => Strategy::LeastFull,
            Ok(PlacementStrategy::MostFree) => Strategy::MostFree,
            Ok(PlacementStrategy::FillInOrder) => Strategy::FillInOrder,
            Err(_) => {
                let why = "must be LEAST_FULL, MOST_FREE or FILL_IN_ORDER";
                return Err(invalid("strategy", why));
            }
        };
        let kind = match PanelKind::try_from(placement.kind) {
            Ok(PanelKind::Unspecified) => None,
            Ok(kind) if !capabilities(kind).is_empty() => Some(kind),
            _ => return Err(invalid("kind", "is not a panel kind panelgate serves")),
        };
        let kind = match (kind, options_kind) {
            (Some(kind), Some(options)) if kind != options => {
                let why = "differs from the kind of the request's panel_options";
                return Err(invalid("kind", why));
            }
            (kind, options) => kind.or(options),
        };
        let group = (!placement.group.is_empty()).then(|| placement.group.clone());
        let labels: BTreeMap<_, _> = placement.labels.clone().into_iter().collect();
        if group.is_none() && labels.is_empty() && kind.is_none() && !placement.whole_fleet {
            let why = "names no group, label or kind: set whole_fleet to place anywhere";
            return Err(invalid("whole_fleet", why));
        }
        Ok(Scope {
            group,
            labels,
            kind,
            strategy,
        })
    }

    /// The strategy it ranks by.
    pub fn strategy(&self) -> Strategy {
        self.strategy
    }
}

/// A candidate server, with what it was ranked by.
#[derive(Clone, Debug)]
pub struct Candidate {
    /// The server.
    pub server: ServerRecord,
    /// Its accounts and reservations when planned.
    pub usage: Usage,
    /// What the strategy ranked it by (see the proto's `PlacementCandidate`).
    pub score: f64,
}

/// The servers in a scope: the candidates best first, and the others.
#[derive(Debug, Default)]
pub struct Plan {
    /// Eligible servers, best first.
    pub candidates: Vec<Candidate>,
    /// The others the caller may see, with why.
    pub passed_over: Vec<(ServerRecord, PassedOverReason)>,
    /// Servers of groups the caller's token is not valid for: counted, never
    /// named.
    pub not_allowed: u32,
}

impl Plan {
    /// "3 full, 1 draining": how many servers were passed over for what.
    pub fn summary(&self) -> String {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for (_, reason) in &self.passed_over {
            let name = reason
                .as_str_name()
                .trim_start_matches("PASSED_OVER_REASON_");
            *counts.entry(name).or_default() += 1;
        }
        if counts.is_empty() {
            return "no server is in scope".to_owned();
        }
        let parts: Vec<String> = counts
            .into_iter()
            .map(|(reason, n)| format!("{n} {}", reason.to_lowercase()))
            .collect();
        parts.join(", ")
    }
}

/// Servers read per inventory page while planning.
const PAGE: u32 = PageRequest::MAX_SIZE;

impl App {
    /// The plan of `scope` for a caller limited to `groups` (None: all),
    /// every server in scope explained.
    pub async fn plan(
        &self,
        scope: &Scope,
        groups: Option<&BTreeSet<String>>,
    ) -> Result<Plan, GatewayError> {
        let filter = ServerFilter {
            labels: scope.labels.clone(),
            ..ServerFilter::default()
        };
        self.plan_of(&filter, scope, groups).await
    }

    /// The candidates of `scope` for a create: only servers the database
    /// says may qualify are read (in scope and the caller's groups, ACTIVE,
    /// with a free slot); when none does, the whole [`App::plan`], which
    /// says why.
    pub async fn candidates(
        &self,
        scope: &Scope,
        groups: Option<&BTreeSet<String>>,
    ) -> Result<Plan, GatewayError> {
        let filter = ServerFilter {
            kind: scope.kind.map(|kind| kind_name(kind).to_owned()),
            group: scope.group.clone(),
            any_group_of: groups.cloned(),
            state: Some(ServerState::Active),
            labels: scope.labels.clone(),
            with_free_slots: true,
            ..ServerFilter::default()
        };
        let plan = self.plan_of(&filter, scope, groups).await?;
        if plan.candidates.is_empty() {
            return self.plan(scope, groups).await;
        }
        Ok(plan)
    }

    async fn plan_of(
        &self,
        filter: &ServerFilter,
        scope: &Scope,
        groups: Option<&BTreeSet<String>>,
    ) -> Result<Plan, GatewayError> {
        let mut plan = Plan::default();
        let mut token = None;
        loop {
            let page = PageRequest { size: PAGE, token };
            let found = self.inventory.list_servers(filter, page).await?;
            let ids: Vec<String> = found.items.iter().map(|s| s.id.clone()).collect();
            let usages = self.inventory.usages(&ids).await?;
            for server in found.items {
                if groups.is_some_and(|groups| !groups.contains(&server.group)) {
                    plan.not_allowed += 1;
                    continue;
                }
                let usage = usages.get(&server.id).copied().unwrap_or_default();
                match self.passed_over(scope, &server, usage) {
                    Some(reason) => plan.passed_over.push((server, reason)),
                    None => plan.candidates.push(Candidate {
                        score: score(scope.strategy, &server, usage),
                        server,
                        usage,
                    }),
                }
            }
            token = found.next_token;
            if token.is_none() {
                break;
            }
        }
        plan.candidates.sort_by(|a, b| rank(scope.strategy, a, b));
        Ok(plan)
    }

    /// Why `server` is no candidate, if it is not.
    fn passed_over(
        &self,
        scope: &Scope,
        server: &ServerRecord,
        usage: Usage,
    ) -> Option<PassedOverReason> {
        let kind = kind_from_name(&server.kind).unwrap_or(PanelKind::Unspecified);
        let health = self
            .router
            .transport()
            .guards()
            .get(&server.id)
            .map(|guard| guard.health().state);
        let reason = if scope
            .group
            .as_ref()
            .is_some_and(|group| *group != server.group)
        {
            PassedOverReason::OtherGroup
        } else if scope.kind.is_some_and(|wanted| wanted != kind) {
            PassedOverReason::OtherKind
        } else if !capabilities(kind).contains(&Capability::CreateAccount) {
            PassedOverReason::LacksCapability
        } else if server.state == ServerState::Disabled {
            PassedOverReason::Disabled
        } else if server.state == ServerState::Draining {
            PassedOverReason::Draining
        } else if health == Some(HealthState::CircuitOpen) {
            PassedOverReason::CircuitOpen
        } else if health == Some(HealthState::Unhealthy) {
            PassedOverReason::Unhealthy
        } else if free(server, usage) == Some(0) {
            PassedOverReason::Full
        } else {
            return None;
        };
        Some(reason)
    }
}

/// A server's capacity as the API shows it.
pub fn capacity(server: &ServerRecord, usage: Usage) -> ServerCapacity {
    ServerCapacity {
        accounts: usage.accounts,
        reserved: usage.reserved,
        free: free(server, usage),
    }
}

/// Free slots: None without a cap.
pub fn free(server: &ServerRecord, usage: Usage) -> Option<u64> {
    (server.max_accounts > 0)
        .then(|| u64::from(server.max_accounts).saturating_sub(usage.accounts + usage.reserved))
}

fn score(strategy: Strategy, server: &ServerRecord, usage: Usage) -> f64 {
    let used = (usage.accounts + usage.reserved) as f64;
    match (free(server, usage), strategy) {
        (None, _) => used,
        (Some(_), Strategy::LeastFull) => used / f64::from(server.max_accounts),
        (Some(free), Strategy::MostFree) => free as f64,
        (Some(_), Strategy::FillInOrder) => f64::from(server.priority),
    }
}

/// Capped servers (with room) before uncapped ones, which go by accounts
/// and reservations; capped ones by the strategy's score; ties by most free slots,
/// then by a hash of the id: stable, but not alphabetical (name order
/// would overload "small" names).
fn rank(strategy: Strategy, a: &Candidate, b: &Candidate) -> Ordering {
    let (free_a, free_b) = (free(&a.server, a.usage), free(&b.server, b.usage));
    let by_score = match strategy {
        Strategy::MostFree => b.score.total_cmp(&a.score),
        Strategy::LeastFull | Strategy::FillInOrder => a.score.total_cmp(&b.score),
    };
    free_a
        .is_none()
        .cmp(&free_b.is_none())
        .then(by_score)
        .then(free_b.cmp(&free_a))
        .then(spread(&a.server.id).cmp(&spread(&b.server.id)))
}

/// A 64-bit hash that is the same on every replica and release: FNV-1a,
/// then SplitMix64's finalizer so that ids differing in a last character
/// scatter.
fn spread(text: &str) -> u64 {
    let fnv = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    let z = (fnv ^ (fnv >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    let z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(
        id: &str,
        max: u32,
        accounts: u64,
        priority: u32,
        strategy: Strategy,
    ) -> Candidate {
        let server = ServerRecord {
            id: id.into(),
            name: id.into(),
            kind: "admin_api".into(),
            base_url: String::new(),
            group: String::new(),
            labels: BTreeMap::new(),
            state: ServerState::Active,
            max_accounts: max,
            priority,
            tls: Default::default(),
            default_php_version: None,
            credentials_set: true,
            created_at: Default::default(),
            updated_at: Default::default(),
            last_sync: None,
        };
        let usage = Usage {
            accounts,
            reserved: 0,
        };
        Candidate {
            score: score(strategy, &server, usage),
            server,
            usage,
        }
    }

    fn order(strategy: Strategy, servers: &[(&str, u32, u64, u32)]) -> Vec<String> {
        let mut candidates: Vec<_> = servers
            .iter()
            .map(|(id, max, accounts, priority)| {
                candidate(id, *max, *accounts, *priority, strategy)
            })
            .collect();
        candidates.sort_by(|a, b| rank(strategy, a, b));
        candidates.into_iter().map(|c| c.server.id).collect()
    }

    #[test]
    fn strategies_rank_capped_servers_first() {
        // (id, max_accounts, accounts, priority)
        let fleet = [
            ("open", 0, 1, 0),
            ("half", 10, 5, 2),
            ("tenth", 100, 10, 3),
            ("small", 2, 0, 1),
        ];
        assert_eq!(
            order(Strategy::LeastFull, &fleet),
            ["small", "tenth", "half", "open"]
        );
        assert_eq!(
            order(Strategy::MostFree, &fleet),
            ["tenth", "half", "small", "open"]
        );
        assert_eq!(
            order(Strategy::FillInOrder, &fleet),
            ["small", "half", "tenth", "open"]
        );
    }

    #[test]
    fn ties_go_by_free_slots_then_a_stable_hash() {
        let fleet = [("a", 10, 5, 0), ("b", 20, 10, 0)];
        assert_eq!(order(Strategy::LeastFull, &fleet), ["b", "a"]);
        let same = [
            ("web-1", 10, 0, 0),
            ("web-2", 10, 0, 0),
            ("web-3", 10, 0, 0),
        ];
        let first = order(Strategy::LeastFull, &same);
        assert_eq!(order(Strategy::LeastFull, &same), first, "stable");
        let mut names = first.clone();
        names.sort();
        assert_ne!(first, names, "not alphabetical");
    }
}
