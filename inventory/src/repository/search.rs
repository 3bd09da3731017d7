//! The fleet-wide account search: the account index filtered in SQL, paged
//! by keyset (stable while entries are added or removed).

use std::collections::HashMap;

use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr, NullOrdering, Order};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
};

use super::paging::{self, Cursor};
use super::{Inventory, sync::panel_account};
use crate::entities::{accounts, servers};
use crate::{
    AccountOrder, AccountSearch, IndexedAccount, InventoryError, Page, PageRequest, UsageFigures,
};

impl Inventory {
    /// The index entries matching every condition of `search`, in its order.
    pub async fn search_accounts(
        &self,
        search: &AccountSearch,
        page: PageRequest,
    ) -> Result<Page<IndexedAccount>, InventoryError> {
        let size = page.effective_size();
        let mut query = accounts::Entity::find()
            .filter(conditions(search))
            .limit(size + 1);
        let cursor = paging::decode(&page)?;
        query = match search.order {
            AccountOrder::Server => query
                .order_by_asc(accounts::Column::ServerId)
                .order_by_asc(accounts::Column::Username),
            AccountOrder::DiskDesc => query
                .order_by_with_nulls(accounts::Column::DiskUsed, Order::Desc, NullOrdering::Last)
                .order_by_asc(accounts::Column::ServerId)
                .order_by_asc(accounts::Column::Username),
        };
        match (search.order, cursor) {
            (_, None) => {}
            (
                AccountOrder::Server,
                Some(Cursor::Accounts {
                    server_id,
                    username,
                }),
            ) => query = query.filter(after(&server_id, &username)),
            (
                AccountOrder::DiskDesc,
                Some(Cursor::AccountsByDisk {
                    disk,
                    server_id,
                    username,
                }),
            ) => query = query.filter(after_disk(disk, &server_id, &username)),
            _ => return Err(InventoryError::InvalidPageToken),
        }
        let rows = query.all(self.db()?).await?;
        let order = search.order;
        let page = paging::page_of(rows, size, |row| match order {
            AccountOrder::Server => Cursor::Accounts {
                server_id: row.server_id.clone(),
                username: row.username.clone(),
            },
            AccountOrder::DiskDesc => Cursor::AccountsByDisk {
                disk: row.disk_used,
                server_id: row.server_id.clone(),
                username: row.username.clone(),
            },
        });
        let servers = self.servers_of(&page.items).await?;
        let items = page
            .items
            .iter()
            .map(|row| {
                let (group, kind) = servers.get(&row.server_id).cloned().unwrap_or_default();
                indexed(row, group, kind)
            })
            .collect::<Result<_, _>>()?;
        Ok(Page {
            items,
            next_token: page.next_token,
        })
    }

    /// Group and kind of the servers of `rows`, by id.
    async fn servers_of(
        &self,
        rows: &[accounts::Model],
    ) -> Result<HashMap<String, (String, String)>, InventoryError> {
        let ids: std::collections::BTreeSet<&str> =
            rows.iter().map(|row| row.server_id.as_str()).collect();
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let found: Vec<(String, String, String)> = servers::Entity::find()
            .select_only()
            .columns([
                servers::Column::Id,
                servers::Column::GroupName,
                servers::Column::Kind,
            ])
            .filter(servers::Column::Id.is_in(ids))
            .into_tuple()
            .all(self.db()?)
            .await?;
        Ok(found
            .into_iter()
            .map(|(id, group, kind)| (id, (group, kind)))
            .collect())
    }
}

/// `search`'s conditions as one WHERE clause.
fn conditions(search: &AccountSearch) -> Condition {
    let mut all = Condition::all();
    let mut servers_where = Condition::all();
    let mut on_servers = false;
    if let Some(group) = &search.group {
        servers_where = servers_where.add(servers::Column::GroupName.eq(group));
        on_servers = true;
    }
    if let Some(groups) = &search.any_group_of {
        servers_where = servers_where.add(servers::Column::GroupName.is_in(groups.iter().cloned()));
        on_servers = true;
    }
    if let Some(kind) = &search.kind {
        servers_where = servers_where.add(servers::Column::Kind.eq(kind));
        on_servers = true;
    }
    if on_servers {
        let ids = servers::Entity::find()
            .select_only()
            .column(servers::Column::Id)
            .filter(servers_where)
            .into_query();
        all = all.add(accounts::Column::ServerId.in_subquery(ids));
    }
    if let Some(server_id) = &search.server_id {
        all = all.add(accounts::Column::ServerId.eq(server_id));
    }
    if let Some(package) = &search.package {
        all = all.add(accounts::Column::Package.eq(package));
    }
    if let Some(status) = search.status {
        all = all.add(accounts::Column::Status.eq(status.as_str()));
    }
    if let Some(domain) = &search.primary_domain {
        all = all.add(accounts::Column::PrimaryDomain.eq(domain.to_ascii_lowercase()));
    }
    if let Some(suffix) = &search.domain_suffix {
        let pattern = format!("%{}", literal(&suffix.to_ascii_lowercase()));
        all = all.add(accounts::Column::PrimaryDomain.like(like(pattern)));
    }
    if let Some(prefix) = &search.username_prefix {
        let pattern = format!("{}%", literal(&prefix.to_ascii_lowercase()));
        all = all.add(accounts::Column::Username.like(like(pattern)));
    }
    if let Some(missing) = search.missing {
        all = all.add(accounts::Column::Missing.eq(missing));
    }
    if let Some(mismatched) = search.mismatched {
        let none = accounts::Column::MismatchedFields.eq("");
        all = all.add(if mismatched { none.not() } else { none });
    }
    if let Some(percent) = search.min_usage_percent {
        let over = |used: accounts::Column, limit: accounts::Column| -> Expr {
            Expr::col(limit).gt(0).and(
                Expr::col(used)
                    .mul(100)
                    .gte(Expr::col(limit).mul(i64::from(percent))),
            )
        };
        all = all.add(
            Condition::any()
                .add(over(
                    accounts::Column::DiskUsed,
                    accounts::Column::DiskLimit,
                ))
                .add(over(
                    accounts::Column::BandwidthUsed,
                    accounts::Column::BandwidthLimit,
                ))
                .add(over(
                    accounts::Column::InodesUsed,
                    accounts::Column::InodesLimit,
                )),
        );
    }
    all
}

/// The character that makes the next one of a LIKE pattern literal.
const LIKE_ESCAPE: char = '\\';

/// `text` matched literally in a LIKE pattern: `%` and `_` are no
/// wildcards. (Usernames and stored domains are lowercase, so the
/// databases' different case rules for LIKE do not matter.)
fn literal(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | LIKE_ESCAPE) {
            escaped.push(LIKE_ESCAPE);
        }
        escaped.push(c);
    }
    escaped
}

fn like(pattern: String) -> LikeExpr {
    LikeExpr::new(pattern).escape(LIKE_ESCAPE)
}

/// Rows after (`server_id`, `username`).
fn after(server_id: &str, username: &str) -> Condition {
    Condition::any()
        .add(accounts::Column::ServerId.gt(server_id))
        .add(
            Condition::all()
                .add(accounts::Column::ServerId.eq(server_id))
                .add(accounts::Column::Username.gt(username)),
        )
}

/// Rows after (`disk`, `server_id`, `username`) in the disk-first order.
fn after_disk(disk: Option<i64>, server_id: &str, username: &str) -> Condition {
    let Some(disk) = disk else {
        return Condition::all()
            .add(accounts::Column::DiskUsed.is_null())
            .add(after(server_id, username));
    };
    Condition::any()
        .add(accounts::Column::DiskUsed.lt(disk))
        .add(accounts::Column::DiskUsed.is_null())
        .add(
            Condition::all()
                .add(accounts::Column::DiskUsed.eq(disk))
                .add(after(server_id, username)),
        )
}

fn indexed(
    row: &accounts::Model,
    group: String,
    kind: String,
) -> Result<IndexedAccount, InventoryError> {
    let figure = |value: Option<i64>| value.and_then(|value| u64::try_from(value).ok());
    Ok(IndexedAccount {
        server_id: row.server_id.clone(),
        group,
        kind,
        account: panel_account(row)?,
        missing: row.missing,
        mismatched_fields: row
            .mismatched_fields
            .split(',')
            .filter(|field| !field.is_empty())
            .map(str::to_owned)
            .collect(),
        synced_at: row.synced_at,
        usage: row.usage_at.map(|at| {
            let figures = UsageFigures {
                disk_used: figure(row.disk_used),
                disk_limit: figure(row.disk_limit),
                bandwidth_used: figure(row.bandwidth_used),
                bandwidth_limit: figure(row.bandwidth_limit),
                inodes_used: figure(row.inodes_used),
                inodes_limit: figure(row.inodes_limit),
            };
            (figures, at)
        }),
    })
}
