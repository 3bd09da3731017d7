//! Placement through the real gateway to simulated admin_api panels: each
//! strategy fills servers as specified (asserted on the simulators), a full
//! fleet answers NO_SERVER_AVAILABLE with its reasons, a server whose panel
//! is down is skipped, a retry after a timeout lands where the first attempt
//! went, a server with an open circuit is passed over, PlanPlacement gives
//! every server in scope a reason, capacity shows on Server, and bad
//! placements name their field.

use std::{collections::BTreeMap, time::Duration};

use panelgate_proto::v1::{
    CreateAccountRequest, GetAccountRequest, ListPackagesRequest, ListServersRequest, PanelKind,
    PassedOverReason, Placement, PlacementStrategy, PlanPlacementRequest, Server, ServerCapacity,
    ServerState, UpdateServerRequest,
};
use panelgate_tests::{
    AdminApiFixture, Backend, Gateway, OpenAdminFixture, PanelFixture,
    errors::{assert_error, assert_invalid},
    gateway::{by_name, with_gateway},
};
use tonic::{Code, Request, Status};

/// One server of a test fleet.
struct Spec {
    name: &'static str,
    group: &'static str,
    max_accounts: u32,
    state: ServerState,
    priority: u32,
}

const fn spec(name: &'static str, max_accounts: u32, priority: u32) -> Spec {
    Spec {
        name,
        group: "eu",
        max_accounts,
        state: ServerState::Active,
        priority,
    }
}

/// The fleet of the strategy tests: caps 3, 5 and none, and a draining one.
const FLEET: [Spec; 4] = [
    spec("three", 3, 2),
    spec("five", 5, 1),
    spec("open", 0, 0),
    Spec {
        state: ServerState::Draining,
        ..spec("draining", 5, 0)
    },
];

/// Registers each spec on a simulator of its own, labelled `fleet=test`.
async fn register(gateway: &Gateway, specs: &[Spec]) -> BTreeMap<&'static str, AdminApiFixture> {
    let mut sims = BTreeMap::new();
    for spec in specs {
        let sim = AdminApiFixture::start().await;
        register_at(gateway, &sim, spec, &sim.base_url()).await;
        sims.insert(spec.name, sim);
    }
    sims
}

/// Registers `spec` as a server of `sim`'s kind and credentials at
/// `base_url`, labelled `fleet=test`.
async fn register_at(gateway: &Gateway, sim: &impl PanelFixture, spec: &Spec, base_url: &str) {
    let mut request = sim.register_request(spec.name, base_url, sim.credentials());
    request.server = request.server.map(|server| Server {
        group: spec.group.to_owned(),
        max_accounts: spec.max_accounts,
        state: spec.state.into(),
        priority: spec.priority,
        labels: [("fleet".to_owned(), "test".to_owned())].into(),
        ..server
    });
    gateway
        .inventory()
        .register_server(request)
        .await
        .expect("register a server");
}

fn placement(strategy: PlacementStrategy) -> Placement {
    Placement {
        labels: [("fleet".to_owned(), "test".to_owned())].into(),
        strategy: strategy.into(),
        ..Default::default()
    }
}

fn create(username: &str, placement: Placement) -> CreateAccountRequest {
    CreateAccountRequest {
        target: None,
        placement: Some(placement),
        username: username.to_owned(),
        primary_domain: format!("{username}.example"),
        email: format!("{username}@mail.example"),
        password: "Long-enough-password-1".to_owned(),
        package: "Basic".to_owned(),
        ..Default::default()
    }
}

/// Creates `username` where `placement` puts it; the server's id.
async fn place(gateway: &Gateway, username: &str, placement: Placement) -> Result<String, Status> {
    let created = gateway
        .accounts()
        .create_account(create(username, placement))
        .await?;
    let account = created.into_inner().account.expect("an account");
    Ok(account.server_id)
}

/// Which simulator holds `username`.
fn holder(sims: &BTreeMap<&'static str, AdminApiFixture>, username: &str) -> &'static str {
    let holders: Vec<_> = sims
        .iter()
        .filter(|(_, sim)| sim.account_exists(username))
        .map(|(name, _)| *name)
        .collect();
    match holders.as_slice() {
        [one] => one,
        other => panic!("{username} is on {other:?}"),
    }
}

/// How many of `count` accounts `prefix0..` each simulator holds.
fn spread(
    sims: &BTreeMap<&'static str, AdminApiFixture>,
    prefix: &str,
    count: usize,
) -> BTreeMap<&'static str, usize> {
    let mut spread = BTreeMap::new();
    for n in 0..count {
        *spread
            .entry(holder(sims, &format!("{prefix}{n}")))
            .or_default() += 1;
    }
    spread
}

/// Nine placed creates, one after another, under `strategy`: the first
/// accounts land as `first` says, and they fill the capped servers before the
/// uncapped one; the draining server gets none.
async fn fills(backend: Backend, strategy: PlacementStrategy, first: &'static [&'static str]) {
    with_gateway(
        backend,
        |_| {},
        |gateway| async move {
            let sims = register(&gateway, &FLEET).await;
            for n in 0..9 {
                place(&gateway, &format!("u{n}"), placement(strategy))
                    .await
                    .unwrap_or_else(|status| panic!("create u{n}: {status:?}"));
            }
            let landed: Vec<_> = (0..first.len())
                .map(|n| holder(&sims, &format!("u{n}")))
                .collect();
            assert_eq!(landed, first, "{strategy:?}: where the first three went");
            let expected = BTreeMap::from([("five", 5), ("open", 1), ("three", 3)]);
            assert_eq!(spread(&sims, "u", 9), expected, "{strategy:?}");
        },
    )
    .await;
}

/// With the two capped servers full and the uncapped one out of scope, a
/// create is RESOURCE_EXHAUSTED NO_SERVER_AVAILABLE saying why.
async fn a_full_scope_answers_no_server_available(backend: Backend) {
    with_gateway(
        backend,
        |_| {},
        |gateway| async move {
            let specs = [spec("three", 3, 0), spec("five", 5, 0)];
            let sims = register(&gateway, &specs).await;
            for n in 0..8 {
                place(
                    &gateway,
                    &format!("f{n}"),
                    placement(PlacementStrategy::MostFree),
                )
                .await
                .unwrap_or_else(|status| panic!("create f{n}: {status:?}"));
            }
            let refused = place(&gateway, "late", placement(PlacementStrategy::MostFree)).await;
            let status = assert_error(refused, Code::ResourceExhausted, "NO_SERVER_AVAILABLE");
            assert!(status.message().contains("2 full"), "{status:?}");
            assert_eq!(
                spread(&sims, "f", 8),
                BTreeMap::from([("five", 5), ("three", 3)])
            );
        },
    )
    .await;
}

/// The best server's panel refuses connections: the account lands on the
/// next one, and the dead one got no account.
async fn a_server_whose_panel_is_down_is_skipped(backend: Backend) {
    with_gateway(
        backend,
        |_| {},
        |gateway| async move {
            let sims = register(&gateway, &[spec("alive", 5, 0)]).await;
            let dead = AdminApiFixture::start().await;
            let dead_url = format!("http://{}", panelgate_tests::scrape::free_loopback_port());
            register_at(&gateway, &dead, &spec("dead", 500, 0), &dead_url).await;

            let plan = plan(&gateway, placement(PlacementStrategy::MostFree)).await;
            assert_eq!(plan[0], "dead", "the dead server ranks first");
            place(&gateway, "survivor", placement(PlacementStrategy::MostFree))
                .await
                .expect("placed on the next server");
            assert_eq!(holder(&sims, "survivor"), "alive");
        },
    )
    .await;
}

/// The names PlanPlacement ranks, best first.
async fn plan(gateway: &Gateway, placement: Placement) -> Vec<String> {
    let planned = gateway
        .accounts()
        .plan_placement(PlanPlacementRequest {
            placement: Some(placement),
        })
        .await
        .expect("plan");
    let planned = planned.into_inner();
    planned
        .candidates
        .into_iter()
        .map(|candidate| candidate.server_name)
        .collect()
}

/// The first server is too slow: the create times out, and its slot is kept
/// (the panel may have made the account), so that server now ranks below
/// the other. The retry with the same request_id goes back to it all the
/// same, and answers OK; the other server got nothing.
async fn a_retry_after_a_timeout_lands_on_the_first_server(backend: Backend) {
    with_gateway(
        backend,
        |_| {},
        |gateway| async move {
            let sims = register(&gateway, &[spec("big", 20, 0), spec("small", 10, 0)]).await;
            let request = || CreateAccountRequest {
                request_id: "6f1c2a9e-placed-retry".to_owned(),
                ..create("again", placement(PlacementStrategy::LeastFull))
            };
            // Packages listed first, so the slow panel call is the create.
            let list = ListPackagesRequest {
                target: by_name("big"),
                ..Default::default()
            };
            gateway.packages().list_packages(list).await.expect("list");
            sims["big"].faults().set_delay(Duration::from_millis(2500));
            let mut first = Request::new(request());
            first.set_timeout(Duration::from_millis(1500));
            let timed_out = gateway.accounts().create_account(first).await;
            assert_error(timed_out, Code::DeadlineExceeded, "UPSTREAM_TIMEOUT");
            let ranked = plan(&gateway, placement(PlacementStrategy::LeastFull)).await;
            assert_eq!(
                ranked,
                ["small", "big"],
                "big holds a slot for the lost create"
            );
            // The panel finishes the create the caller gave up on.
            tokio::time::sleep(Duration::from_millis(1500)).await;
            sims["big"].faults().set_delay(Duration::ZERO);

            let retried = gateway.accounts().create_account(request()).await;
            let account = retried
                .expect("the retry")
                .into_inner()
                .account
                .expect("account");
            assert_eq!(holder(&sims, "again"), "big");
            assert!(!sims["small"].account_exists("again"));
            assert_eq!(account.server_id, server_id(&gateway, "big").await);
        },
    )
    .await;
}

/// The id of server `name`.
async fn server_id(gateway: &Gateway, name: &str) -> String {
    let server = gateway
        .inventory()
        .get_server(panelgate_proto::v1::GetServerRequest {
            target: by_name(name),
        })
        .await
        .expect("get server");
    server.into_inner().server.expect("server").id
}

/// A caller of groups eu and ap plans a placement in group eu of kind
/// admin_api: one candidate, every other server it may see has its reason,
/// and the one of group us is counted, never named.
async fn every_server_in_scope_has_a_reason(backend: Backend) {
    with_gateway(
        backend,
        |_| {},
        |gateway| async move {
            let specs = [
                spec("eu-ok", 5, 0),
                spec("eu-full", 1, 0),
                Spec {
                    state: ServerState::Draining,
                    ..spec("eu-draining", 5, 0)
                },
                Spec {
                    state: ServerState::Disabled,
                    ..spec("eu-disabled", 5, 0)
                },
                Spec {
                    group: "ap",
                    ..spec("ap-1", 5, 0)
                },
                Spec {
                    group: "us",
                    ..spec("us-1", 5, 0)
                },
            ];
            register(&gateway, &specs).await;
            let openadmin = OpenAdminFixture::start().await;
            let other_kind = spec("eu-openadmin", 5, 0);
            register_at(&gateway, &openadmin, &other_kind, &openadmin.base_url()).await;
            let fill = CreateAccountRequest {
                target: by_name("eu-full"),
                placement: None,
                ..create("filler", Placement::default())
            };
            gateway
                .accounts()
                .create_account(fill)
                .await
                .expect("fill eu-full");

            let caller = gateway.token("planner", &["hosting:read"], &["eu", "ap"]);
            let planned = gateway
                .as_caller(&caller)
                .accounts()
                .plan_placement(PlanPlacementRequest {
                    placement: Some(Placement {
                        group: "eu".to_owned(),
                        kind: PanelKind::AdminApi.into(),
                        ..placement(PlacementStrategy::LeastFull)
                    }),
                })
                .await
                .expect("plan")
                .into_inner();
            let reasons: BTreeMap<String, PassedOverReason> = planned
                .passed_over
                .iter()
                .map(|passed| (passed.server_name.clone(), passed.reason()))
                .collect();
            let candidates: Vec<_> = planned
                .candidates
                .iter()
                .map(|candidate| candidate.server_name.as_str())
                .collect();
            assert_eq!(candidates, ["eu-ok"], "{planned:?}");
            let expected = BTreeMap::from([
                ("eu-full".to_owned(), PassedOverReason::Full),
                ("ap-1".to_owned(), PassedOverReason::OtherGroup),
                ("eu-disabled".to_owned(), PassedOverReason::Disabled),
                ("eu-draining".to_owned(), PassedOverReason::Draining),
                ("eu-openadmin".to_owned(), PassedOverReason::OtherKind),
            ]);
            assert_eq!(reasons, expected);
            assert_eq!(planned.not_allowed, 1, "us-1 is counted, not named");
            assert_eq!(planned.strategy(), PlacementStrategy::LeastFull);
        },
    )
    .await;
}

/// Target and placement together, neither, an empty selector without
/// whole_fleet, an unknown strategy: INVALID_ARGUMENT naming the field, and
/// no panel is called; a username already indexed is ALREADY_EXISTS.
async fn bad_placements_name_their_field(backend: Backend) {
    with_gateway(
        backend,
        |_| {},
        |gateway| async move {
            let sims = register(&gateway, &[spec("only", 5, 0)]).await;
            let both = CreateAccountRequest {
                target: by_name("only"),
                ..create("x1", placement(PlacementStrategy::LeastFull))
            };
            assert_invalid(gateway.accounts().create_account(both).await, "placement");
            let neither = CreateAccountRequest {
                placement: None,
                ..create("x2", placement(PlacementStrategy::LeastFull))
            };
            assert_invalid(gateway.accounts().create_account(neither).await, "target");
            let empty = create("x3", Placement::default());
            assert_invalid(
                gateway.accounts().create_account(empty).await,
                "placement.whole_fleet",
            );
            let unknown = create(
                "x4",
                Placement {
                    strategy: 99,
                    ..placement(PlacementStrategy::LeastFull)
                },
            );
            assert_invalid(
                gateway.accounts().create_account(unknown).await,
                "placement.strategy",
            );
            let whole = create(
                "x5",
                Placement {
                    whole_fleet: true,
                    ..Placement::default()
                },
            );
            gateway
                .accounts()
                .create_account(whole)
                .await
                .expect("the whole fleet, asked for");
            assert_eq!(holder(&sims, "x5"), "only");
            assert!(!sims["only"].account_exists("x1"));
            // A username the index has somewhere is not placed a second time.
            let twice = place(&gateway, "x5", placement(PlacementStrategy::LeastFull)).await;
            assert_error(twice, Code::AlreadyExists, "ACCOUNT_ALREADY_EXISTS");
        },
    )
    .await;
}

/// A server whose panel failed until its circuit opened is passed over as
/// CIRCUIT_OPEN, and the account lands on the next.
async fn a_server_with_an_open_circuit_is_passed_over(backend: Backend) {
    let one_failure_opens = |config: &mut panelgate::Config| {
        config.outbound.breaker.consecutive_failures = 1;
    };
    with_gateway(backend, one_failure_opens, |gateway| async move {
        let sims = register(&gateway, &[spec("alive", 5, 0)]).await;
        let dead = AdminApiFixture::start().await;
        let dead_url = format!("http://{}", panelgate_tests::scrape::free_loopback_port());
        register_at(&gateway, &dead, &spec("dead", 500, 0), &dead_url).await;
        let probe = GetAccountRequest {
            target: by_name("dead"),
            username: "nobody".to_owned(),
        };
        assert_error(
            gateway.accounts().get_account(probe).await,
            Code::Unavailable,
            "UPSTREAM_UNAVAILABLE",
        );

        let planned = gateway
            .accounts()
            .plan_placement(PlanPlacementRequest {
                placement: Some(placement(PlacementStrategy::MostFree)),
            })
            .await
            .expect("plan")
            .into_inner();
        let passed: Vec<_> = planned
            .passed_over
            .iter()
            .map(|passed| (passed.server_name.as_str(), passed.reason()))
            .collect();
        assert_eq!(passed, [("dead", PassedOverReason::CircuitOpen)]);
        place(&gateway, "steady", placement(PlacementStrategy::MostFree))
            .await
            .expect("placed");
        assert_eq!(holder(&sims, "steady"), "alive");
    })
    .await;
}

/// Server.capacity counts a server's accounts; ListServers with
/// with_free_slots leaves out the full one.
async fn capacity_shows_and_full_servers_can_be_left_out(backend: Backend) {
    with_gateway(
        backend,
        |_| {},
        |gateway| async move {
            let specs = [spec("full", 1, 0), spec("open", 0, 0), spec("roomy", 5, 0)];
            register(&gateway, &specs).await;
            let fill = CreateAccountRequest {
                target: by_name("full"),
                placement: None,
                ..create("tenant", Placement::default())
            };
            gateway
                .accounts()
                .create_account(fill)
                .await
                .expect("create");

            let listed = |with_free_slots| {
                let gateway = gateway.clone();
                async move {
                    let request = ListServersRequest {
                        with_free_slots,
                        ..Default::default()
                    };
                    let listed = gateway.inventory().list_servers(request).await;
                    listed.expect("list").into_inner().servers
                }
            };
            let all = listed(false).await;
            let capacity: Vec<_> = all
                .iter()
                .map(|server| (server.name.as_str(), server.capacity.expect("capacity")))
                .collect();
            let of = |accounts, free| ServerCapacity {
                accounts,
                reserved: 0,
                free,
            };
            assert_eq!(
                capacity,
                [
                    ("full", of(1, Some(0))),
                    ("open", of(0, None)),
                    ("roomy", of(0, Some(5))),
                ]
            );
            let with_room: Vec<_> = listed(true)
                .await
                .into_iter()
                .map(|server| server.name)
                .collect();
            assert_eq!(with_room, ["open", "roomy"]);
        },
    )
    .await;
}

/// The best-ranked server's panel rejects panelgate's credentials (its
/// package list fails before any create): it is passed over as FAILING, and
/// the account lands on the next.
async fn a_server_with_rejected_credentials_is_passed_over(backend: Backend) {
    with_gateway(
        backend,
        |_| {},
        |gateway| async move {
            let sims = register(&gateway, &[spec("broken", 500, 0), spec("fine", 5, 0)]).await;
            let wrong = UpdateServerRequest {
                target: by_name("broken"),
                credentials: Some(AdminApiFixture::credentials_with("not-the-password")),
                ..Default::default()
            };
            gateway
                .inventory()
                .update_server(wrong)
                .await
                .expect("update");
            place(&gateway, "steady", placement(PlacementStrategy::MostFree))
                .await
                .expect("placed on the next server");
            assert_eq!(holder(&sims, "steady"), "fine");
        },
    )
    .await;
}

/// Two calls create the same account on a server of one slot at once: one
/// makes it, the other is ALREADY_EXISTS, and the slot is the made
/// account's alone (a third account finds the server full).
async fn one_slot_per_account_however_many_calls_create_it(backend: Backend) {
    with_gateway(
        backend,
        |_| {},
        |gateway| async move {
            let sims = register(&gateway, &[spec("single", 1, 0)]).await;
            let list = ListPackagesRequest {
                target: by_name("single"),
                ..Default::default()
            };
            gateway.packages().list_packages(list).await.expect("list");
            sims["single"]
                .faults()
                .set_delay(Duration::from_millis(500));
            let twin = |request_id: &str| CreateAccountRequest {
                target: by_name("single"),
                placement: None,
                request_id: request_id.to_owned(),
                ..create("twin", Placement::default())
            };
            let (mut one, mut two) = (gateway.accounts(), gateway.accounts());
            let (first, second) = tokio::join!(
                one.create_account(twin("5b0e7c1a-twin-one")),
                two.create_account(twin("5b0e7c1a-twin-two")),
            );
            let (made, refused) = match (first, second) {
                (Ok(made), Err(refused)) | (Err(refused), Ok(made)) => (made, refused),
                other => panic!("one create of twin succeeds: {other:?}"),
            };
            assert_eq!(made.into_inner().account.expect("account").username, "twin");
            assert_error(
                Err::<(), _>(refused),
                Code::AlreadyExists,
                "ACCOUNT_ALREADY_EXISTS",
            );
            sims["single"].faults().set_delay(Duration::ZERO);
            let third = CreateAccountRequest {
                target: by_name("single"),
                placement: None,
                ..create("third", Placement::default())
            };
            let full = gateway.accounts().create_account(third).await;
            assert_error(full, Code::ResourceExhausted, "SERVER_FULL");
        },
    )
    .await;
}

async fn least_full_fills_by_ratio(backend: Backend) {
    fills(
        backend,
        PlacementStrategy::LeastFull,
        &["five", "three", "five"],
    )
    .await;
}

async fn most_free_fills_by_free_slots(backend: Backend) {
    fills(backend, PlacementStrategy::MostFree, &["five", "five"]).await;
}

async fn fill_in_order_fills_by_priority(backend: Backend) {
    const FIRST: [&str; 6] = ["five", "five", "five", "five", "five", "three"];
    fills(backend, PlacementStrategy::FillInOrder, &FIRST).await;
}

/// One `#[tokio::test]` per backend for each named test fn.
macro_rules! on_both_backends {
    ($($test:ident),+ $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $test() {
                super::$test(panelgate_tests::Backend::Sqlite).await;
            })+
        }
        mod postgres {
            $(#[tokio::test]
            async fn $test() {
                super::$test(panelgate_tests::Backend::Postgres).await;
            })+
        }
    };
}

on_both_backends!(
    least_full_fills_by_ratio,
    most_free_fills_by_free_slots,
    fill_in_order_fills_by_priority,
    a_full_scope_answers_no_server_available,
    a_server_whose_panel_is_down_is_skipped,
    a_retry_after_a_timeout_lands_on_the_first_server,
    every_server_in_scope_has_a_reason,
    bad_placements_name_their_field,
    a_server_with_an_open_circuit_is_passed_over,
    capacity_shows_and_full_servers_can_be_left_out,
    a_server_with_rejected_credentials_is_passed_over,
    one_slot_per_account_however_many_calls_create_it,
);
