//! Servers, their labels and their sealed credentials.

use std::collections::{BTreeMap, HashMap};

use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use secrecy::SecretSlice;
use uuid::Uuid;

use super::changes::{Change, announce};
use super::paging::{self, Cursor};
use super::{Inventory, now};
use crate::entities::{accounts, reservations, server_labels, servers};
use crate::{
    InventoryError, NewServer, Page, PageRequest, Record, ServerFilter, ServerRecord, ServerUpdate,
    TlsConfig,
};

impl Inventory {
    /// Registers a server, sealing `credentials` under the primary master key.
    /// Fails with `NoMasterKey`, writing nothing, if credentials come without a keyring;
    /// `AlreadyExists` if the name is taken.
    pub async fn create_server(
        &self,
        server: NewServer,
        credentials: Option<SecretSlice<u8>>,
    ) -> Result<ServerRecord, InventoryError> {
        let id = Uuid::new_v4().to_string();
        let sealed = self.seal_credentials(&id, credentials.as_ref())?;
        let now = now();
        let row = servers::Model {
            id,
            name: server.name,
            kind: server.kind,
            base_url: server.base_url,
            group_name: server.group,
            state: server.state.as_str().to_owned(),
            max_accounts: i64::from(server.max_accounts),
            priority: i64::from(server.priority),
            tls_ca_pem: server.tls.ca_pem,
            tls_insecure_skip_verify: server.tls.insecure_skip_verify,
            default_php_version: server.default_php_version,
            credentials_key_id: sealed.as_ref().map(|sealed| sealed.key_id.clone()),
            credentials_ciphertext: sealed.map(|sealed| sealed.bytes),
            created_at: now,
            updated_at: now,
            last_sync_at: None,
            last_sync_outcome: String::new(),
        };

        let txn = self.db()?.begin().await?;
        servers::Entity::insert(row.clone().into_active_model())
            .exec_without_returning(&txn)
            .await
            .map_err(|err| InventoryError::on_unique(err, Record::Server, &row.name))?;
        insert_labels(&txn, &row.id, &server.labels).await?;
        txn.commit().await?;
        tracing::info!(server_id = %row.id, name = %row.name, "server registered");
        record(row, server.labels)
    }

    /// The server with this id, or `NotFound`.
    pub async fn get_server(&self, id: &str) -> Result<ServerRecord, InventoryError> {
        let row = servers::Entity::find_by_id(id)
            .one(self.db()?)
            .await?
            .ok_or_else(|| InventoryError::not_found(Record::Server, id))?;
        with_labels(self.db()?, row).await
    }

    /// The server with this name, or `NotFound`.
    pub async fn get_server_by_name(&self, name: &str) -> Result<ServerRecord, InventoryError> {
        let row = servers::Entity::find()
            .filter(servers::Column::Name.eq(name))
            .one(self.db()?)
            .await?
            .ok_or_else(|| InventoryError::not_found(Record::Server, name))?;
        with_labels(self.db()?, row).await
    }

    /// Servers matching every condition of `filter`, by name. Filtering and paging
    /// both happen in SQL.
    pub async fn list_servers(
        &self,
        filter: &ServerFilter,
        page: PageRequest,
    ) -> Result<Page<ServerRecord>, InventoryError> {
        let size = page.effective_size();
        let mut query = servers::Entity::find()
            .order_by_asc(servers::Column::Name)
            .limit(size + 1);
        if let Some(kind) = &filter.kind {
            query = query.filter(servers::Column::Kind.eq(kind));
        }
        if let Some(group) = &filter.group {
            query = query.filter(servers::Column::GroupName.eq(group));
        }
        if let Some(groups) = &filter.any_group_of {
            query = query.filter(servers::Column::GroupName.is_in(groups.iter().cloned()));
        }
        if let Some(state) = filter.state {
            query = query.filter(servers::Column::State.eq(state.as_str()));
        }
        for (key, value) in &filter.labels {
            query = query.filter(has_label(key, value));
        }
        if let Some(ids) = &filter.ids {
            query = query.filter(servers::Column::Id.is_in(ids.iter().cloned()));
        }
        if filter.with_free_slots {
            query = query.filter(has_free_slot(now()));
        }
        match paging::decode(&page)? {
            None => {}
            Some(Cursor::Servers { name }) => query = query.filter(servers::Column::Name.gt(name)),
            Some(_) => return Err(InventoryError::InvalidPageToken),
        }

        let rows = query.all(self.db()?).await?;
        let page = paging::page_of(rows, size, |row| Cursor::Servers {
            name: row.name.clone(),
        });
        let ids = page.items.iter().map(|row| row.id.clone());
        let mut labels = labels_of(self.db()?, ids).await?;
        let items = page
            .items
            .into_iter()
            .map(|row| {
                let row_labels = labels.remove(&row.id).unwrap_or_default();
                record(row, row_labels)
            })
            .collect::<Result<_, _>>()?;
        Ok(Page {
            items,
            next_token: page.next_token,
        })
    }

    /// Applies `update` and its labels in one transaction, bumping `updated_at`
    /// and announcing the change to other replicas.
    /// `NotFound` if the server is absent, `AlreadyExists` if the new name is taken,
    /// `NoMasterKey` (nothing written) for credentials without a keyring.
    pub async fn update_server(
        &self,
        id: &str,
        update: ServerUpdate,
    ) -> Result<ServerRecord, InventoryError> {
        let sealed = self.seal_credentials(id, update.credentials.as_ref())?;
        let mut query = servers::Entity::update_many()
            .col_expr(servers::Column::UpdatedAt, Expr::value(now()))
            .filter(servers::Column::Id.eq(id));
        if let Some(name) = &update.name {
            query = query.col_expr(servers::Column::Name, Expr::value(name));
        }
        if let Some(base_url) = update.base_url {
            query = query.col_expr(servers::Column::BaseUrl, Expr::value(base_url));
        }
        if let Some(group) = update.group {
            query = query.col_expr(servers::Column::GroupName, Expr::value(group));
        }
        if let Some(state) = update.state {
            query = query.col_expr(servers::Column::State, Expr::value(state.as_str()));
        }
        if let Some(priority) = update.priority {
            query = query.col_expr(servers::Column::Priority, Expr::value(i64::from(priority)));
        }
        if let Some(max_accounts) = update.max_accounts {
            let max_accounts = i64::from(max_accounts);
            query = query.col_expr(servers::Column::MaxAccounts, Expr::value(max_accounts));
        }
        if let Some(TlsConfig {
            ca_pem,
            insecure_skip_verify,
        }) = update.tls
        {
            query = query
                .col_expr(servers::Column::TlsCaPem, Expr::value(ca_pem))
                .col_expr(
                    servers::Column::TlsInsecureSkipVerify,
                    Expr::value(insecure_skip_verify),
                );
        }
        if let Some(php_version) = update.default_php_version {
            query = query.col_expr(servers::Column::DefaultPhpVersion, Expr::value(php_version));
        }
        if let Some(sealed) = sealed {
            query = query
                .col_expr(
                    servers::Column::CredentialsKeyId,
                    Expr::value(sealed.key_id),
                )
                .col_expr(
                    servers::Column::CredentialsCiphertext,
                    Expr::value(sealed.bytes),
                );
        }

        let txn = self.db()?.begin().await?;
        let updated = query.exec(&txn).await.map_err(|err| match &update.name {
            Some(name) => InventoryError::on_unique(err, Record::Server, name),
            None => err.into(),
        })?;
        if updated.rows_affected == 0 {
            return Err(InventoryError::not_found(Record::Server, id));
        }
        if let Some(labels) = &update.labels {
            server_labels::Entity::delete_many()
                .filter(server_labels::Column::ServerId.eq(id))
                .exec(&txn)
                .await?;
            insert_labels(&txn, id, labels).await?;
        }
        let row = servers::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or_else(|| InventoryError::not_found(Record::Server, id))?;
        let server = with_labels(&txn, row).await?;
        announce(&txn, &Change::Server(id.to_owned())).await?;
        txn.commit().await?;
        tracing::info!(server_id = %id, "server updated");
        Ok(server)
    }

    /// Deletes a server with its labels and account index entries (the journal keeps
    /// its entries), announcing it to other replicas. `NotFound` if absent.
    pub async fn delete_server(&self, id: &str) -> Result<(), InventoryError> {
        let txn = self.db()?.begin().await?;
        let deleted = servers::Entity::delete_by_id(id).exec(&txn).await?;
        if deleted.rows_affected == 0 {
            return Err(InventoryError::not_found(Record::Server, id));
        }
        announce(&txn, &Change::Server(id.to_owned())).await?;
        txn.commit().await?;
        tracing::info!(server_id = %id, "server deleted");
        Ok(())
    }

    /// Opens the stored credentials (`None` if none are stored). The plaintext only
    /// ever leaves as a secret. `UnknownKey` if sealed under a key not configured,
    /// `Crypto` if the ciphertext does not open.
    pub async fn server_credentials(
        &self,
        id: &str,
    ) -> Result<Option<SecretSlice<u8>>, InventoryError> {
        let (key_id, ciphertext): (Option<String>, Option<Vec<u8>>) =
            servers::Entity::find_by_id(id)
                .select_only()
                .column(servers::Column::CredentialsKeyId)
                .column(servers::Column::CredentialsCiphertext)
                .into_tuple()
                .one(self.db()?)
                .await?
                .ok_or_else(|| InventoryError::not_found(Record::Server, id))?;
        let (Some(key_id), Some(ciphertext)) = (key_id, ciphertext) else {
            return Ok(None);
        };
        let keyring = self
            .keyring
            .as_deref()
            .ok_or_else(|| InventoryError::UnknownKey {
                key_id: key_id.clone(),
            })?;
        keyring.open(&key_id, id, &ciphertext).map(Some)
    }
}

/// `EXISTS (SELECT 1 FROM server_labels WHERE server_id = servers.id AND key = .. AND value = ..)`
fn has_label(key: &str, value: &str) -> Expr {
    use sea_orm::ExprTrait as _;

    Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from(server_labels::Entity)
            .and_where(
                Expr::col((server_labels::Entity, server_labels::Column::ServerId))
                    .equals((servers::Entity, servers::Column::Id)),
            )
            .and_where(Expr::col((server_labels::Entity, server_labels::Column::Key)).eq(key))
            .and_where(Expr::col((server_labels::Entity, server_labels::Column::Value)).eq(value))
            .to_owned(),
    )
}

/// No cap, or fewer accounts and live reservations than the cap.
fn has_free_slot(now: chrono::DateTime<chrono::Utc>) -> Expr {
    use sea_orm::ExprTrait as _;
    use sea_orm::sea_query::{SelectStatement, SubQueryStatement};

    let count = |query: SelectStatement| {
        Expr::SubQuery(None, Box::new(SubQueryStatement::SelectStatement(query)))
    };
    let accounts = Query::select()
        .expr(Expr::col(accounts::Column::Id).count())
        .from(accounts::Entity)
        .and_where(
            Expr::col((accounts::Entity, accounts::Column::ServerId))
                .equals((servers::Entity, servers::Column::Id)),
        )
        .to_owned();
    let reserved = Query::select()
        .expr(Expr::col(reservations::Column::Id).count())
        .from(reservations::Entity)
        .and_where(
            Expr::col((reservations::Entity, reservations::Column::ServerId))
                .equals((servers::Entity, servers::Column::Id)),
        )
        .and_where(Expr::col((reservations::Entity, reservations::Column::ExpiresAt)).gt(now))
        .to_owned();
    Expr::col((servers::Entity, servers::Column::MaxAccounts))
        .eq(0)
        .or(count(accounts)
            .add(count(reserved))
            .lt(Expr::col((servers::Entity, servers::Column::MaxAccounts))))
}

async fn insert_labels(
    db: &impl ConnectionTrait,
    server_id: &str,
    labels: &BTreeMap<String, String>,
) -> Result<(), DbErr> {
    let rows = labels
        .iter()
        .map(|(key, value)| server_labels::ActiveModel {
            server_id: Set(server_id.to_owned()),
            key: Set(key.clone()),
            value: Set(value.clone()),
        });
    server_labels::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Labels of the given servers, by server id.
async fn labels_of(
    db: &impl ConnectionTrait,
    server_ids: impl IntoIterator<Item = String>,
) -> Result<HashMap<String, BTreeMap<String, String>>, DbErr> {
    let rows = server_labels::Entity::find()
        .filter(server_labels::Column::ServerId.is_in(server_ids))
        .all(db)
        .await?;
    let mut labels: HashMap<String, BTreeMap<String, String>> = HashMap::new();
    for row in rows {
        labels
            .entry(row.server_id)
            .or_default()
            .insert(row.key, row.value);
    }
    Ok(labels)
}

async fn with_labels(
    db: &impl ConnectionTrait,
    row: servers::Model,
) -> Result<ServerRecord, InventoryError> {
    let labels = labels_of(db, [row.id.clone()])
        .await?
        .remove(&row.id)
        .unwrap_or_default();
    record(row, labels)
}

fn record(
    row: servers::Model,
    labels: BTreeMap<String, String>,
) -> Result<ServerRecord, InventoryError> {
    let corrupt = |what: &str| DbErr::Type(format!("server `{}` has an invalid {what}", row.id));
    let state = row.state.parse().map_err(|_| corrupt("state"))?;
    let max_accounts = u32::try_from(row.max_accounts).map_err(|_| corrupt("max_accounts"))?;
    let priority = u32::try_from(row.priority).map_err(|_| corrupt("priority"))?;
    Ok(ServerRecord {
        credentials_set: row.credentials_ciphertext.is_some(),
        id: row.id,
        name: row.name,
        kind: row.kind,
        base_url: row.base_url,
        group: row.group_name,
        labels,
        state,
        max_accounts,
        priority,
        tls: TlsConfig {
            ca_pem: row.tls_ca_pem,
            insecure_skip_verify: row.tls_insecure_skip_verify,
        },
        default_php_version: row.default_php_version,
        created_at: row.created_at,
        updated_at: row.updated_at,
        last_sync: row.last_sync_at.map(|at| (at, row.last_sync_outcome)),
    })
}
