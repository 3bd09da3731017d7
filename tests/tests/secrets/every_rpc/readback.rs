//! Every operation through the shared dispatcher, the reads after all the
//! secrets went in, and the journal read back.

use std::time::Duration;

use panelgate_proto::v1::{
    AccountSelection, CancelBatchRequest, ChangePackagesRequest, CheckServersRequest,
    DeleteAccountsRequest, GetAccountRequest, GetBatchRequest, GetOperationRequest,
    GetSyncRunRequest, ListAccountsRequest, ListBatchItemsRequest, ListBatchesRequest,
    ListOperationsRequest, ListSyncFindingsRequest, OperationEntry, PanelKind, Placement,
    PlanPlacementRequest, SearchAccountsRequest, ServerSelector, SuspendAccountsRequest,
    SyncRunState, SyncServersRequest, UnsuspendAccountsRequest, WatchBatchRequest,
};
use panelgate_tests::{gateway::by_name, operations};
use tonic::Code;

use panelgate_tests::secrets::{Secrets, Seen};

use super::super::Api;

use super::Member;

/// Every canonical operation on `member` through the shared dispatcher
/// (deletions last), about an account created first with a secret password
/// and the panel's own package (the dispatcher's is admin_api's), whatever
/// the panel answers: each failure is kept to be searched.
pub(super) async fn dispatcher_sweep(
    api: &Api,
    member: &Member,
    secrets: &mut Secrets,
    seen: &mut Seen,
) {
    use panelgate_proto::Capability as Op;
    let short = member.short;
    let password = secrets.make(
        "password of the swept account",
        &format!("All-{short}-Sweep-Pass"),
    );
    let websites = (member.kind == PanelKind::Installatron).then(|| {
        (
            secrets.make(
                "path password of the swept account",
                &format!("All-{short}-Sweep-Path-Pass"),
            ),
            secrets.make(
                "database password of the swept account",
                &format!("All-{short}-Sweep-Db-Pass"),
            ),
        )
    });
    let request = member.account(
        "sweeper",
        &password,
        websites
            .as_ref()
            .map(|(path, database)| (path.as_str(), database.as_str())),
        "",
    );
    let result = api.accounts().create_account(request).await;
    let created = seen.outcome(
        format!("{}: CreateAccount (sweeper)", member.server),
        result,
    );
    assert!(
        created.is_some(),
        "{}: the swept account is created",
        member.server
    );
    let deletions = [Op::DeleteDomain, Op::DeleteAccount, Op::DeletePackage];
    let ordered = operations::ALL
        .iter()
        .filter(|operation| !deletions.contains(operation))
        .chain(deletions.iter());
    let mut outcomes = Vec::new();
    for operation in ordered {
        let result = api.dispatch(&member.server, *operation, "sweeper").await;
        let code = result.as_ref().err().map_or(Code::Ok, tonic::Status::code);
        outcomes.push(format!("{operation:?}={code:?}"));
        if let Err(status) = result {
            assert!(
                !matches!(status.code(), Code::Unknown | Code::Unauthenticated),
                "{}: {operation:?}: {status:?}",
                member.server
            );
            seen.failures.push((
                format!("{}: {operation:?} (dispatcher)", member.server),
                status,
            ));
        }
    }
    eprintln!(
        "dispatcher sweep on {}: {}",
        member.server,
        outcomes.join(" ")
    );
}

/// Reads after all the secrets went in: accounts (Installatron's return the
/// caller's records), on every server, and a placement over them all.
pub(super) async fn reads(api: &Api, members: &[Member], seen: &mut Seen) {
    let whole_fleet = PlanPlacementRequest {
        placement: Some(Placement {
            whole_fleet: true,
            ..Default::default()
        }),
    };
    let result = api.accounts().plan_placement(whole_fleet).await;
    let plan = seen.outcome("PlanPlacement (whole fleet)", result);
    let planned = plan.map_or(0, |plan| plan.candidates.len() + plan.passed_over.len());
    assert_eq!(planned, members.len(), "every server is planned");
    for member in members {
        let name = &member.server;
        let result = api
            .accounts()
            .get_account(GetAccountRequest {
                target: by_name(name),
                username: "keeper".into(),
            })
            .await;
        let account = seen.outcome(format!("{name}: GetAccount"), result);
        assert!(account.is_some(), "{name}: keeper is there");
        let result = api
            .accounts()
            .list_accounts(ListAccountsRequest {
                target: by_name(name),
                ..Default::default()
            })
            .await;
        seen.outcome(format!("{name}: ListAccounts"), result);
    }
    sync(api, members, seen).await;
}

/// An applied sync of the whole fleet, with usage, its progress and every
/// finding, then the index searched: what panels hold, read back.
async fn sync(api: &Api, members: &[Member], seen: &mut Seen) {
    let request = SyncServersRequest {
        servers: Some(ServerSelector {
            whole_fleet: true,
            ..Default::default()
        }),
        apply: true,
        collect_usage: true,
        ..Default::default()
    };
    let result = api.fleet().sync_servers(request).await;
    let run = seen.outcome("SyncServers (whole fleet)", result);
    let id = run.and_then(|reply| reply.run).expect("a run").id;
    let mut state = SyncRunState::Running;
    for _ in 0..200 {
        let result = api
            .fleet()
            .get_sync_run(GetSyncRunRequest { id: id.clone() })
            .await;
        let run = seen
            .outcome("GetSyncRun", result)
            .and_then(|reply| reply.run);
        state = run.expect("the run").state();
        if state != SyncRunState::Running {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(state, SyncRunState::Done);
    let request = ListSyncFindingsRequest {
        run_id: id,
        page_size: 500,
        ..Default::default()
    };
    let result = api.fleet().list_sync_findings(request).await;
    let findings = seen.outcome("ListSyncFindings", result).expect("findings");
    assert!(!findings.findings.is_empty());
    let result = api
        .fleet()
        .search_accounts(SearchAccountsRequest::default())
        .await;
    let found = seen.outcome("SearchAccounts", result).expect("accounts");
    assert!(
        found.accounts.len() >= members.len(),
        "keeper on every server"
    );
    batches(api, seen).await;
}

/// A fleet health check watched to its end, then every other batch RPC:
/// batches over the index's keepers (suspend, package change and delete
/// only checked), the batch read back, its items, and a cancel of it.
async fn batches(api: &Api, seen: &mut Seen) {
    let keepers = || {
        Some(AccountSelection {
            search: Some(SearchAccountsRequest {
                username_prefix: "keeper".into(),
                ..Default::default()
            }),
            ..Default::default()
        })
    };
    let check = CheckServersRequest {
        servers: Some(ServerSelector {
            whole_fleet: true,
            ..Default::default()
        }),
        ..Default::default()
    };
    let result = api.batches().check_servers(check).await;
    let started = seen.outcome("CheckServers (whole fleet)", result);
    let id = started
        .and_then(|reply| reply.operation)
        .expect("a batch")
        .id;
    let mut events = api
        .batches()
        .watch_batch(WatchBatchRequest { id: id.clone() })
        .await
        .expect("watch the check")
        .into_inner();
    while let Some(event) = events.message().await.expect("an event") {
        seen.reply("WatchBatch", &event);
    }
    let result = api
        .batches()
        .suspend_accounts(SuspendAccountsRequest {
            accounts: keepers(),
            reason: "checked only".into(),
            validate_only: true,
            ..Default::default()
        })
        .await;
    seen.outcome("SuspendAccounts (validate_only)", result);
    let result = api
        .batches()
        .change_packages(ChangePackagesRequest {
            accounts: keepers(),
            package: "gold".into(),
            validate_only: true,
            ..Default::default()
        })
        .await;
    seen.outcome("ChangePackages (validate_only)", result);
    let result = api
        .batches()
        .delete_accounts(DeleteAccountsRequest {
            accounts: keepers(),
            validate_only: true,
            ..Default::default()
        })
        .await;
    seen.outcome("DeleteAccounts (validate_only)", result);
    let result = api
        .batches()
        .unsuspend_accounts(UnsuspendAccountsRequest {
            accounts: keepers(),
            ..Default::default()
        })
        .await;
    seen.outcome("UnsuspendAccounts", result);
    let result = api
        .batches()
        .get_batch(GetBatchRequest { id: id.clone() })
        .await;
    seen.outcome("GetBatch", result);
    let result = api
        .batches()
        .list_batches(ListBatchesRequest::default())
        .await;
    let listed = seen.outcome("ListBatches", result).expect("batches");
    assert!(
        listed.operations.len() >= 2,
        "the check and the unsuspension"
    );
    let result = api
        .batches()
        .list_batch_items(ListBatchItemsRequest {
            id: id.clone(),
            ..Default::default()
        })
        .await;
    seen.outcome("ListBatchItems", result);
    let result = api
        .batches()
        .cancel_batch(CancelBatchRequest {
            id,
            ..Default::default()
        })
        .await;
    seen.outcome("CancelBatch (ended)", result);
}

/// The journal of this caller, every page and every entry, and a malformed
/// GetOperation: login links and replays are in it, no secret is.
pub(super) async fn journal(api: &Api, subject: &str, seen: &mut Seen) {
    let mut operations = api.operations();
    let mut entries: Vec<OperationEntry> = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = operations
            .list_operations(ListOperationsRequest {
                caller: subject.to_owned(),
                page_size: 20,
                page_token,
                ..Default::default()
            })
            .await
            .expect("list operations")
            .into_inner();
        seen.page(
            format!("ListOperations (page {})", entries.len() / 20),
            &page,
            &page.next_page_token,
        );
        entries.extend(page.operations);
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    assert!(
        entries.iter().all(|entry| entry.caller == subject),
        "this caller's"
    );
    let logins = entries
        .iter()
        .filter(|entry| entry.method.ends_with("CreateLoginLink"))
        .count();
    assert!(logins >= 4, "login links are journalled: {entries:?}");
    assert!(
        entries
            .iter()
            .any(|entry| entry.method.ends_with("CreatePanelAdmin") && !entry.request_id.is_empty()),
        "idempotent calls are journalled with their request id"
    );
    for entry in &entries {
        let got = operations
            .get_operation(GetOperationRequest {
                id: entry.id.clone(),
            })
            .await
            .expect("get operation")
            .into_inner();
        seen.reply(format!("GetOperation {}", entry.method), &got);
    }
    let filtered = operations
        .list_operations(ListOperationsRequest {
            method: "AccountService/CreateAccount".into(),
            resource: "account/keeper".into(),
            ..Default::default()
        })
        .await
        .expect("list operations by method and resource")
        .into_inner();
    seen.page(
        "ListOperations (CreateAccount of keeper)",
        &filtered,
        &filtered.next_page_token,
    );
    let result = operations
        .get_operation(GetOperationRequest {
            id: "not-an-id".into(),
        })
        .await;
    seen.failure(
        "GetOperation (malformed id)",
        result,
        Code::InvalidArgument,
        "INVALID_FIELD",
    );
}
