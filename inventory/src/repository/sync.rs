//! Sync runs: the run and its progress, its findings, and what an applied
//! sync writes to the account index (never a deletion).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, TransactionTrait,
};
use uuid::Uuid;

use super::paging::{self, Cursor};
use super::{Inventory, now};
use crate::entities::{accounts, servers, sync_findings, sync_runs};
use crate::{
    AccountStatus, Difference, Finding, FindingFilter, InventoryError, NewSyncRun, Page,
    PageRequest, PanelAccount, Record, ServerSyncResult, SyncClass, SyncCounts, SyncRunRecord,
};

/// Rows written per INSERT (well under both databases' parameter limits).
const CHUNK: usize = 200;

impl Inventory {
    /// Records a new run, or returns the run of the same key (`false`:
    /// nothing was started).
    pub async fn start_sync_run(
        &self,
        run: NewSyncRun,
    ) -> Result<(SyncRunRecord, bool), InventoryError> {
        let db = self.db()?;
        if let Some(key) = &run.key
            && let Some(earlier) = sync_runs::Entity::find()
                .filter(sync_runs::Column::RunKey.eq(key))
                .one(db)
                .await?
        {
            return Ok((run_record(earlier)?, false));
        }
        let now = now();
        let row = sync_runs::ActiveModel {
            id: Set(Uuid::new_v4().to_string()),
            run_key: Set(run.key.clone()),
            caller: Set(run.caller),
            apply: Set(run.apply),
            collect_usage: Set(run.collect_usage),
            state: Set(RUNNING.to_owned()),
            servers_total: Set(count(run.servers_total)),
            servers_done: Set(0),
            servers_failed: Set(0),
            matched: Set(0),
            panel_only: Set(0),
            index_only: Set(0),
            mismatched: Set(0),
            started_at: Set(now),
            updated_at: Set(now),
            ended_at: Set(None),
        };
        let inserted = sync_runs::Entity::insert(row).exec_with_returning(db).await;
        match inserted.map_err(|err| InventoryError::on_unique(err, Record::SyncRun, "")) {
            Ok(row) => Ok((run_record(row)?, true)),
            // The same key, recorded a moment ago (here or on another replica).
            Err(InventoryError::AlreadyExists { .. }) if run.key.is_some() => {
                let key = run.key.unwrap_or_default();
                let earlier = sync_runs::Entity::find()
                    .filter(sync_runs::Column::RunKey.eq(key.as_str()))
                    .one(db)
                    .await?
                    .ok_or_else(|| InventoryError::not_found(Record::SyncRun, &key))?;
                Ok((run_record(earlier)?, false))
            }
            Err(err) => Err(err),
        }
    }

    /// The run with id `id`.
    pub async fn get_sync_run(&self, id: &str) -> Result<SyncRunRecord, InventoryError> {
        let row = sync_runs::Entity::find_by_id(id)
            .one(self.db()?)
            .await?
            .ok_or_else(|| InventoryError::not_found(Record::SyncRun, id))?;
        run_record(row)
    }

    /// Records what was found on one server of run `run_id` and counts the
    /// server done (and failed, when it was not read), in one transaction.
    /// MATCHED findings are counted, and stored only if `keep_matched`.
    pub async fn record_findings(
        &self,
        run_id: &str,
        mut findings: Vec<Finding>,
        keep_matched: bool,
    ) -> Result<(), InventoryError> {
        let failed = findings
            .iter()
            .any(|finding| finding.class.is_server_failure());
        let counts = SyncCounts::of(&findings);
        if !keep_matched {
            findings.retain(|finding| finding.class != SyncClass::Matched);
        }
        let txn = self.db()?.begin().await?;
        for chunk in findings.chunks(CHUNK) {
            let rows = chunk.iter().map(|finding| finding_row(run_id, finding));
            sync_findings::Entity::insert_many(rows)
                .on_conflict(
                    OnConflict::columns([
                        sync_findings::Column::RunId,
                        sync_findings::Column::ServerId,
                        sync_findings::Column::Username,
                    ])
                    .do_nothing()
                    .to_owned(),
                )
                .exec_without_returning(&txn)
                .await?;
        }
        let plus = |column: sync_runs::Column, n: u64| Expr::col(column).add(count(n));
        sync_runs::Entity::update_many()
            .col_expr(
                sync_runs::Column::ServersDone,
                plus(sync_runs::Column::ServersDone, 1),
            )
            .col_expr(
                sync_runs::Column::ServersFailed,
                plus(sync_runs::Column::ServersFailed, u64::from(failed)),
            )
            .col_expr(
                sync_runs::Column::Matched,
                plus(sync_runs::Column::Matched, counts.matched),
            )
            .col_expr(
                sync_runs::Column::PanelOnly,
                plus(sync_runs::Column::PanelOnly, counts.panel_only),
            )
            .col_expr(
                sync_runs::Column::IndexOnly,
                plus(sync_runs::Column::IndexOnly, counts.index_only),
            )
            .col_expr(
                sync_runs::Column::Mismatched,
                plus(sync_runs::Column::Mismatched, counts.mismatched),
            )
            .col_expr(sync_runs::Column::UpdatedAt, Expr::value(now()))
            .filter(sync_runs::Column::Id.eq(run_id))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Records that run `run_id` is still making progress.
    pub async fn touch_sync_run(&self, run_id: &str) -> Result<(), InventoryError> {
        sync_runs::Entity::update_many()
            .col_expr(sync_runs::Column::UpdatedAt, Expr::value(now()))
            .filter(sync_runs::Column::Id.eq(run_id))
            .exec(self.db()?)
            .await?;
        Ok(())
    }

    /// Marks run `run_id` done.
    pub async fn finish_sync_run(&self, run_id: &str) -> Result<(), InventoryError> {
        let now = now();
        sync_runs::Entity::update_many()
            .col_expr(sync_runs::Column::State, Expr::value(DONE))
            .col_expr(sync_runs::Column::UpdatedAt, Expr::value(now))
            .col_expr(sync_runs::Column::EndedAt, Expr::value(now))
            .filter(sync_runs::Column::Id.eq(run_id))
            .exec(self.db()?)
            .await?;
        Ok(())
    }

    /// A page of run `run_id`'s findings, by server then username.
    pub async fn list_sync_findings(
        &self,
        run_id: &str,
        filter: &FindingFilter,
        page: PageRequest,
    ) -> Result<Page<Finding>, InventoryError> {
        let size = page.effective_size();
        let mut query = sync_findings::Entity::find()
            .filter(sync_findings::Column::RunId.eq(run_id))
            .order_by_asc(sync_findings::Column::ServerId)
            .order_by_asc(sync_findings::Column::Username)
            .limit(size + 1);
        if let Some(class) = filter.class {
            query = query.filter(sync_findings::Column::Class.eq(class.as_str()));
        }
        if let Some(server_id) = &filter.server_id {
            query = query.filter(sync_findings::Column::ServerId.eq(server_id));
        }
        if let Some(groups) = &filter.any_group_of {
            let ids = servers::Entity::find()
                .select_only()
                .column(servers::Column::Id)
                .filter(servers::Column::GroupName.is_in(groups.iter().cloned()))
                .into_query();
            query = query.filter(sync_findings::Column::ServerId.in_subquery(ids));
        }
        match paging::decode(&page)? {
            None => {}
            Some(Cursor::Findings {
                server_id,
                username,
            }) => {
                query = query.filter(
                    sync_findings::Column::ServerId.gt(server_id.as_str()).or(
                        sync_findings::Column::ServerId
                            .eq(server_id.as_str())
                            .and(sync_findings::Column::Username.gt(username)),
                    ),
                );
            }
            Some(_) => return Err(InventoryError::InvalidPageToken),
        }
        let rows = query.all(self.db()?).await?;
        let page = paging::page_of(rows, size, |row| Cursor::Findings {
            server_id: row.server_id.clone(),
            username: row.username.clone(),
        });
        Ok(Page {
            items: page
                .items
                .into_iter()
                .map(finding)
                .collect::<Result<_, _>>()?,
            next_token: page.next_token,
        })
    }

    /// The index entries of `server_id`, as the panel would report them.
    pub async fn indexed_accounts(
        &self,
        server_id: &str,
    ) -> Result<Vec<PanelAccount>, InventoryError> {
        let rows = accounts::Entity::find()
            .filter(accounts::Column::ServerId.eq(server_id))
            .order_by_asc(accounts::Column::Username)
            .all(self.db()?)
            .await?;
        rows.into_iter().map(|row| panel_account(&row)).collect()
    }

    /// Writes what an applied sync read of `server_id` to the index, and
    /// records the sync on the server, in one transaction. Entries are only
    /// added or updated: one removed while the sync ran stays removed.
    pub async fn apply_server_sync(
        &self,
        server_id: &str,
        result: ServerSyncResult,
    ) -> Result<(), InventoryError> {
        let now = now();
        let txn = self.db()?.begin().await?;
        let new_rows = result.imported.iter().map(|account| accounts::ActiveModel {
            server_id: Set(server_id.to_owned()),
            username: Set(account.username.clone()),
            primary_domain: Set(account.primary_domain.clone()),
            package: Set(account.package.clone()),
            status: Set(account.status.as_str().to_owned()),
            email: Set(account.email.clone()),
            missing: Set(false),
            mismatched_fields: Set(String::new()),
            synced_at: Set(now),
            created_at: Set(now),
            ..Default::default()
        });
        let rows: Vec<_> = new_rows.collect();
        for chunk in rows.chunks(CHUNK) {
            accounts::Entity::insert_many(chunk.to_vec())
                .on_conflict(
                    OnConflict::columns([accounts::Column::ServerId, accounts::Column::Username])
                        .do_nothing()
                        .to_owned(),
                )
                .exec_without_returning(&txn)
                .await
                .map_err(|err| InventoryError::on_missing_parent(err, Record::Server, server_id))?;
        }
        let unwritten_since_read = accounts::Column::SyncedAt.lt(result.read_at);
        for chunk in result.unchanged.chunks(CHUNK) {
            accounts::Entity::update_many()
                .col_expr(accounts::Column::Missing, Expr::value(false))
                .col_expr(accounts::Column::MismatchedFields, Expr::value(""))
                .col_expr(accounts::Column::SyncedAt, Expr::value(now))
                .filter(accounts::Column::ServerId.eq(server_id))
                .filter(accounts::Column::Username.is_in(chunk.iter().map(String::as_str)))
                .filter(unwritten_since_read.clone())
                .exec(&txn)
                .await?;
        }
        for account in &result.changed {
            let mismatched = result
                .mismatched
                .iter()
                .find(|(username, _)| *username == account.username)
                .map(|(_, fields)| fields.join(","))
                .unwrap_or_default();
            accounts::Entity::update_many()
                .col_expr(
                    accounts::Column::PrimaryDomain,
                    Expr::value(account.primary_domain.as_str()),
                )
                .col_expr(
                    accounts::Column::Package,
                    Expr::value(account.package.as_str()),
                )
                .col_expr(
                    accounts::Column::Status,
                    Expr::value(account.status.as_str()),
                )
                .col_expr(accounts::Column::Email, Expr::value(account.email.as_str()))
                .col_expr(accounts::Column::Missing, Expr::value(false))
                .col_expr(accounts::Column::MismatchedFields, Expr::value(mismatched))
                .col_expr(accounts::Column::SyncedAt, Expr::value(now))
                .filter(accounts::Column::ServerId.eq(server_id))
                .filter(accounts::Column::Username.eq(account.username.as_str()))
                .filter(unwritten_since_read.clone())
                .exec(&txn)
                .await?;
        }
        for chunk in result.missing.chunks(CHUNK) {
            accounts::Entity::update_many()
                .col_expr(accounts::Column::Missing, Expr::value(true))
                .filter(accounts::Column::ServerId.eq(server_id))
                .filter(accounts::Column::Username.is_in(chunk.iter().map(String::as_str)))
                .filter(unwritten_since_read.clone())
                .exec(&txn)
                .await?;
        }
        for (username, usage) in &result.usage {
            let figure = |value: Option<u64>| value.map(count);
            accounts::Entity::update_many()
                .col_expr(
                    accounts::Column::DiskUsed,
                    Expr::value(figure(usage.disk_used)),
                )
                .col_expr(
                    accounts::Column::DiskLimit,
                    Expr::value(figure(usage.disk_limit)),
                )
                .col_expr(
                    accounts::Column::BandwidthUsed,
                    Expr::value(figure(usage.bandwidth_used)),
                )
                .col_expr(
                    accounts::Column::BandwidthLimit,
                    Expr::value(figure(usage.bandwidth_limit)),
                )
                .col_expr(
                    accounts::Column::InodesUsed,
                    Expr::value(figure(usage.inodes_used)),
                )
                .col_expr(
                    accounts::Column::InodesLimit,
                    Expr::value(figure(usage.inodes_limit)),
                )
                .col_expr(accounts::Column::UsageAt, Expr::value(now))
                .filter(accounts::Column::ServerId.eq(server_id))
                .filter(accounts::Column::Username.eq(username.as_str()))
                .exec(&txn)
                .await?;
        }
        set_last_sync(&txn, server_id, now, "ok").await?;
        txn.commit().await?;
        Ok(())
    }

    /// Deletes the runs started before `before`, with their findings; the
    /// number deleted.
    pub async fn prune_sync_runs(&self, before: DateTime<Utc>) -> Result<u64, InventoryError> {
        let txn = self.db()?.begin().await?;
        let old = sync_runs::Entity::find()
            .select_only()
            .column(sync_runs::Column::Id)
            .filter(sync_runs::Column::StartedAt.lt(before))
            .into_query();
        sync_findings::Entity::delete_many()
            .filter(sync_findings::Column::RunId.in_subquery(old))
            .exec(&txn)
            .await?;
        let deleted = sync_runs::Entity::delete_many()
            .filter(sync_runs::Column::StartedAt.lt(before))
            .exec(&txn)
            .await?
            .rows_affected;
        txn.commit().await?;
        Ok(deleted)
    }

    /// Records on `server_id` that an applied sync could not read it, and why.
    pub async fn record_sync_failure(
        &self,
        server_id: &str,
        reason: &str,
    ) -> Result<(), InventoryError> {
        set_last_sync(self.db()?, server_id, now(), reason).await
    }
}

/// The stored states of a run.
const RUNNING: &str = "running";
const DONE: &str = "done";

async fn set_last_sync(
    db: &impl ConnectionTrait,
    server_id: &str,
    at: DateTime<Utc>,
    outcome: &str,
) -> Result<(), InventoryError> {
    servers::Entity::update_many()
        .col_expr(servers::Column::LastSyncAt, Expr::value(at))
        .col_expr(servers::Column::LastSyncOutcome, Expr::value(outcome))
        .filter(servers::Column::Id.eq(server_id))
        .exec(db)
        .await?;
    Ok(())
}

/// A count as stored (counts never come near `i64::MAX`).
fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn unsigned(n: i64) -> u64 {
    u64::try_from(n).unwrap_or_default()
}

fn run_record(row: sync_runs::Model) -> Result<SyncRunRecord, InventoryError> {
    Ok(SyncRunRecord {
        done: row.state == DONE,
        servers_total: unsigned(row.servers_total),
        servers_done: unsigned(row.servers_done),
        servers_failed: unsigned(row.servers_failed),
        counts: SyncCounts {
            matched: unsigned(row.matched),
            panel_only: unsigned(row.panel_only),
            index_only: unsigned(row.index_only),
            mismatched: unsigned(row.mismatched),
        },
        id: row.id,
        caller: row.caller,
        apply: row.apply,
        collect_usage: row.collect_usage,
        started_at: row.started_at,
        updated_at: row.updated_at,
        ended_at: row.ended_at,
    })
}

fn finding_row(run_id: &str, finding: &Finding) -> sync_findings::ActiveModel {
    let differences = if finding.differences.is_empty() {
        String::new()
    } else {
        // A list of plain strings always serialises.
        serde_json::to_string(&finding.differences).unwrap_or_default()
    };
    sync_findings::ActiveModel {
        run_id: Set(run_id.to_owned()),
        server_id: Set(finding.server_id.clone()),
        username: Set(finding.username.clone()),
        class: Set(finding.class.as_str().to_owned()),
        differences: Set(differences),
        reason: Set(finding.reason.clone()),
        ..Default::default()
    }
}

fn finding(row: sync_findings::Model) -> Result<Finding, InventoryError> {
    let corrupt =
        |what: &str| sea_orm::DbErr::Type(format!("sync finding {} has an invalid {what}", row.id));
    let differences: Vec<Difference> = if row.differences.is_empty() {
        Vec::new()
    } else {
        serde_json::from_str(&row.differences).map_err(|_| corrupt("differences"))?
    };
    Ok(Finding {
        class: row.class.parse().map_err(|_| corrupt("class"))?,
        server_id: row.server_id,
        username: row.username,
        differences,
        reason: row.reason,
    })
}

/// An index row's account fields.
pub(super) fn panel_account(row: &accounts::Model) -> Result<PanelAccount, InventoryError> {
    let status: AccountStatus = row.status.parse().map_err(|_| {
        sea_orm::DbErr::Type(format!("account `{}` has an invalid status", row.username))
    })?;
    Ok(PanelAccount {
        username: row.username.clone(),
        primary_domain: row.primary_domain.clone(),
        email: row.email.clone(),
        package: row.package.clone(),
        status,
    })
}
