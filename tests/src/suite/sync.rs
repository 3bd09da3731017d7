//! Sync against every panel kind: accounts made in the panel's own UI,
//! drift (package changed, account suspended, account deleted on the
//! panel), an unreachable server and an unknown id; the dry run reports one
//! class per account and changes nothing, `apply` imports and marks, and
//! the fleet-wide search then answers from the index. The periodic sync
//! does the same on its own, with usage.

use std::{collections::BTreeMap, time::Duration};

use panelgate_inventory::{AccountEntry, AccountStatus as Stored, Inventory};
use panelgate_proto::{
    Capability,
    v1::{
        AccountOrder, AccountStatus, GetAccountRequest, GetServerRequest, GetSyncRunRequest,
        IndexedAccount, ListSyncFindingsRequest, SearchAccountsRequest, Server, ServerSelector,
        SyncClass, SyncFinding, SyncRun, SyncRunState, SyncServersRequest, UpdateServerRequest,
    },
};

use tonic::Code;

use super::capabilities;
use crate::{
    Backend, Gateway, PanelChange, PanelFixture, panel::Panel, scrape::free_loopback_port,
};

/// Starts a sync of `server_ids`, waits for it to end, and reads every
/// finding (two per page, so paging is exercised).
pub async fn synced(
    gateway: &Gateway,
    server_ids: &[&str],
    apply: bool,
) -> (SyncRun, Vec<SyncFinding>) {
    let mut fleet = gateway.fleet();
    let request = SyncServersRequest {
        servers: Some(ServerSelector {
            server_ids: server_ids.iter().map(|id| (*id).to_owned()).collect(),
            ..ServerSelector::default()
        }),
        apply,
        ..SyncServersRequest::default()
    };
    let started = fleet.sync_servers(request).await.expect("sync started");
    let id = started.into_inner().run.expect("a run").id;
    let mut run = SyncRun::default();
    for _ in 0..200 {
        let got = fleet
            .get_sync_run(GetSyncRunRequest { id: id.clone() })
            .await
            .expect("the run");
        run = got.into_inner().run.expect("a run");
        if run.state() == SyncRunState::Done {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(run.state(), SyncRunState::Done, "the run ends: {run:?}");
    let mut findings = Vec::new();
    let mut page_token = String::new();
    loop {
        let request = ListSyncFindingsRequest {
            run_id: id.clone(),
            page_size: 2,
            page_token,
            ..ListSyncFindingsRequest::default()
        };
        let page = fleet.list_sync_findings(request).await.expect("findings");
        let page = page.into_inner();
        findings.extend(page.findings);
        if page.next_page_token.is_empty() {
            return (run, findings);
        }
        page_token = page.next_page_token;
    }
}

/// Every account a search finds, by username (paged two at a time).
pub async fn searched(
    gateway: &Gateway,
    request: SearchAccountsRequest,
) -> BTreeMap<String, IndexedAccount> {
    let mut fleet = gateway.fleet();
    let mut found = BTreeMap::new();
    let mut page_token = String::new();
    loop {
        let page = fleet
            .search_accounts(SearchAccountsRequest {
                page_size: 2,
                page_token,
                ..request.clone()
            })
            .await
            .expect("search")
            .into_inner();
        for account in page.accounts {
            found.insert(account.username.clone(), account);
        }
        if page.next_page_token.is_empty() {
            return found;
        }
        page_token = page.next_page_token;
    }
}

/// Each finding as (server or username, class, differing fields).
fn classes(findings: &[SyncFinding]) -> BTreeMap<String, (SyncClass, Vec<String>)> {
    findings
        .iter()
        .map(|finding| {
            let key = if finding.username.is_empty() {
                format!("server {}", finding.server_id)
            } else {
                finding.username.clone()
            };
            let fields = finding
                .differences
                .iter()
                .map(|d| format!("{}: {} -> {}", d.field, d.index_value, d.panel_value))
                .collect();
            (key, (finding.class(), fields))
        })
        .collect()
}

async fn server(gateway: &Gateway, id: &str) -> Server {
    let request = GetServerRequest {
        target: crate::gateway::by_id(id),
    };
    let reply = gateway
        .inventory()
        .get_server(request)
        .await
        .expect("server");
    reply.into_inner().server.expect("a server")
}

/// The whole scenario for one panel kind.
pub async fn sync_reconciles_the_index_with_the_panels<F: PanelFixture>(backend: Backend) {
    Panel::<F>::on(backend, |panel| async move {
        let (basic, other) = panel.packages();
        for username in ["keep1", "drift1", "susp1", "gone1", "gwsusp1"] {
            panel.create(username, basic).await;
        }
        panel.suspend("gwsusp1").await.expect("suspended");
        let make = PanelChange::Make {
            username: "ui1",
            package: basic,
        };
        panel.on_panel(make).await;
        let change = PanelChange::ChangePackage {
            username: "drift1",
            package: other,
        };
        panel.on_panel(change).await;
        panel.on_panel(PanelChange::Suspend("susp1")).await;
        panel.on_panel(PanelChange::Delete("gone1")).await;
        // admin_api cannot list its accounts: only the indexed ones are
        // looked up, so one made in its UI stays unknown.
        let lists = capabilities(&panel)
            .await
            .contains(&Capability::ListAccounts);

        let dead_url = format!("http://{}/", free_loopback_port());
        let dead = panel
            .register_at(&panel.gateway, "dead", &dead_url, &panel.secret())
            .await;
        let inventory = Inventory::connect(&panel.gateway.database_url, None)
            .await
            .expect("the inventory");
        let stranded = AccountEntry {
            server_id: dead.clone(),
            username: "stranded".into(),
            primary_domain: "stranded.example".into(),
            package: basic.into(),
            status: Stored::Active,
            email: String::new(),
        };
        inventory.upsert_account(stranded).await.expect("indexed");
        inventory.close().await.expect("closed");

        let mut expected: BTreeMap<String, (SyncClass, Vec<String>)> = [
            ("keep1".to_owned(), (SyncClass::Matched, vec![])),
            (
                "drift1".to_owned(),
                (
                    SyncClass::Mismatched,
                    vec![format!("package: {basic} -> {other}")],
                ),
            ),
            ("gwsusp1".to_owned(), (SyncClass::Matched, vec![])),
            ("gone1".to_owned(), (SyncClass::IndexOnly, vec![])),
            (
                format!("server {dead}"),
                (SyncClass::ServerUnreachable, vec![]),
            ),
            (
                "server no-such-server".to_owned(),
                (SyncClass::ServerUnknown, vec![]),
            ),
        ]
        .into();
        if lists {
            expected.insert("ui1".to_owned(), (SyncClass::PanelOnly, vec![]));
        }
        // admin_api does not say whether an account is suspended.
        let susp1 = if F::REPORTS_STATUS {
            let difference = "status: active -> suspended".to_owned();
            (SyncClass::Mismatched, vec![difference])
        } else {
            (SyncClass::Matched, vec![])
        };
        expected.insert("susp1".to_owned(), susp1);
        let everything = SearchAccountsRequest::default();
        let before = searched(&panel.gateway, everything.clone()).await;
        let panel_before = panel.state();
        let ids = [panel.id.as_str(), dead.as_str(), "no-such-server"];

        // The dry run reports, and changes nothing anywhere.
        let (run, findings) = synced(&panel.gateway, &ids, false).await;
        assert_eq!(classes(&findings), expected, "{findings:#?}");
        let counts = run.accounts.expect("counts");
        let drifted = 1 + u32::from(F::REPORTS_STATUS);
        assert_eq!(
            (counts.matched, counts.mismatched, counts.index_only),
            (4 - drifted, drifted, 1)
        );
        assert_eq!(counts.panel_only, u32::from(lists));
        assert_eq!(
            (run.servers_total, run.servers_done, run.servers_failed),
            (3, 3, 2)
        );
        let unreachable = findings
            .iter()
            .find(|finding| finding.server_id == dead)
            .expect("the dead server's finding");
        assert!(
            unreachable.reason.starts_with("UPSTREAM_UNAVAILABLE"),
            "{unreachable:?}"
        );
        assert_eq!(searched(&panel.gateway, everything.clone()).await, before);
        assert_eq!(panel.state(), panel_before, "a sync changes no panel");
        assert!(
            server(&panel.gateway, &panel.id)
                .await
                .last_sync_time
                .is_none()
        );

        // Applied: imported, updated from the panel, marked; nothing deleted.
        let (run, findings) = synced(&panel.gateway, &ids, true).await;
        assert_eq!(classes(&findings), expected, "{findings:#?}");
        assert!(run.apply);
        assert_eq!(panel.state(), panel_before, "a sync changes no panel");
        let after = searched(&panel.gateway, everything.clone()).await;
        let entry = |username: &str| after.get(username).cloned().expect(username);
        assert!(entry("gone1").missing, "kept, marked missing");
        assert!(
            !entry("stranded").missing,
            "an unreachable server marks nothing"
        );
        assert!(!entry("keep1").missing && entry("keep1").mismatched_fields.is_empty());
        assert_eq!(entry("drift1").package, other);
        assert_eq!(entry("drift1").mismatched_fields, ["package"]);
        let suspended = [AccountStatus::Active, AccountStatus::Suspended];
        assert_eq!(
            entry("susp1").status(),
            suspended[usize::from(F::REPORTS_STATUS)]
        );
        assert!(entry("keep1").confirm_time.is_some());
        if lists {
            let imported = entry("ui1");
            assert_eq!(
                (imported.package.as_str(), imported.missing),
                (basic, false)
            );
            assert_eq!(imported.server_id, panel.id);
            let found = panel
                .gateway
                .accounts()
                .get_account(GetAccountRequest {
                    target: None,
                    username: "ui1".into(),
                })
                .await
                .expect("an imported account is routed by the index")
                .into_inner()
                .account
                .expect("an account");
            assert_eq!(found.server_id, panel.id);
        } else {
            assert!(!after.contains_key("ui1"));
        }
        let synced_server = server(&panel.gateway, &panel.id).await;
        assert_eq!(synced_server.last_sync_outcome, "ok");
        assert!(synced_server.last_sync_time.is_some());
        let dead_server = server(&panel.gateway, &dead).await;
        assert!(
            dead_server
                .last_sync_outcome
                .starts_with("UPSTREAM_UNAVAILABLE"),
            "{dead_server:?}"
        );

        // "Which suspended accounts are on package X in group eu?"
        let regroup = UpdateServerRequest {
            target: crate::gateway::by_id(&panel.id),
            group: Some("eu".into()),
            ..UpdateServerRequest::default()
        };
        panel
            .gateway
            .inventory()
            .update_server(regroup)
            .await
            .expect("regrouped");
        let question = |group: &str, package: &str| SearchAccountsRequest {
            group: group.into(),
            package: package.into(),
            status: AccountStatus::Suspended.into(),
            ..SearchAccountsRequest::default()
        };
        let answer = searched(&panel.gateway, question("eu", basic)).await;
        let mut expected = vec!["gwsusp1"];
        if F::REPORTS_STATUS {
            expected.push("susp1");
        }
        assert_eq!(answer.keys().collect::<Vec<_>>(), expected);
        assert!(
            searched(&panel.gateway, question("eu", other))
                .await
                .is_empty()
        );
        assert!(
            searched(&panel.gateway, question("us", basic))
                .await
                .is_empty()
        );

        // A token limited to group "us" sees nothing of servers in "eu".
        let token = panel.gateway.token(
            "us-only",
            &["hosting:read", "inventory:read", "inventory:write"],
            &["us"],
        );
        let limited = panel.gateway.as_caller(&token);
        assert!(searched(&limited, everything.clone()).await.is_empty());
        let request = ListSyncFindingsRequest {
            run_id: run.id.clone(),
            ..ListSyncFindingsRequest::default()
        };
        let refused = limited.fleet().list_sync_findings(request).await;
        crate::errors::assert_error(refused, Code::PermissionDenied, "GROUP_NOT_ALLOWED");
        // Its own sync of the whole fleet reaches only its groups: none.
        let ids = [panel.id.as_str(), dead.as_str()];
        let (own, findings) = synced(&limited, &ids, false).await;
        assert_eq!((own.servers_total, own.servers_failed), (2, 2));
        assert!(
            findings.is_empty(),
            "unknown to it, and not shown: {findings:?}"
        );

        // The index now agrees with the panel but for the missing account.
        let (_, findings) = synced(&panel.gateway, &[panel.id.as_str()], false).await;
        let again = classes(&findings);
        assert_eq!(again["gone1"].0, SyncClass::IndexOnly);
        assert!(
            again
                .iter()
                .filter(|(username, _)| *username != "gone1")
                .all(|(_, (class, _))| *class == SyncClass::Matched),
            "{again:?}"
        );
    })
    .await;
}

/// The periodic sync applies on its own: accounts made on the panel are
/// imported and, with `--sync-usage`, usage figures land in the index,
/// ranked by SearchAccounts' disk order.
pub async fn periodic_sync_imports_and_collects_usage<F: PanelFixture>(backend: Backend) {
    let configure = |config: &mut panelgate::Config| {
        config.sync_interval = Duration::from_millis(500);
        config.sync_usage = true;
    };
    Panel::<F>::run_on(backend, Default::default(), configure, |panel| async move {
        let (basic, _) = panel.packages();
        panel.create("made1", basic).await;
        let make = PanelChange::Make {
            username: "ui2",
            package: basic,
        };
        panel.on_panel(make).await;
        let operations = capabilities(&panel).await;
        let lists = operations.contains(&Capability::ListAccounts);
        let reports_usage = operations.contains(&Capability::GetAccountUsage);
        let everything = SearchAccountsRequest::default();
        let mut found = BTreeMap::new();
        for _ in 0..100 {
            found = searched(&panel.gateway, everything.clone()).await;
            let imported = !lists || found.contains_key("ui2");
            let measured = !reports_usage
                || found
                    .get("made1")
                    .is_some_and(|account| account.usage.is_some());
            if imported && measured {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(found.contains_key("ui2"), lists, "{found:?}");
        let made = &found["made1"];
        assert_eq!(made.usage.is_some(), reports_usage, "{made:?}");
        if let Some(usage) = &made.usage {
            assert!(usage.collect_time.is_some() && usage.disk_bytes.is_some());
            let by_disk = SearchAccountsRequest {
                order_by: AccountOrder::DiskDesc.into(),
                ..SearchAccountsRequest::default()
            };
            let page = panel
                .gateway
                .fleet()
                .search_accounts(by_disk)
                .await
                .expect("search")
                .into_inner();
            let disk = |account: &IndexedAccount| {
                account
                    .usage
                    .as_ref()
                    .and_then(|u| u.disk_bytes.as_ref())
                    .map(|d| d.used)
            };
            let figures: Vec<Option<u64>> = page.accounts.iter().map(disk).collect();
            let mut ranked = figures.clone();
            ranked.sort_by(|a, b| b.cmp(a));
            assert_eq!(figures, ranked, "most disk first, none last");
        }
        let synced = server(&panel.gateway, &panel.id).await;
        assert_eq!(synced.last_sync_outcome, "ok");
    })
    .await;
}
