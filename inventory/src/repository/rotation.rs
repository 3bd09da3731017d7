//! Master-key rotation: re-sealing every stored secret under the primary key.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait, UpdateMany,
};

use super::Inventory;
use super::idempotency::{digest_aad, reply_aad};
use crate::entities::{operations, servers};
use crate::{InventoryError, Keyring, ResealReport};

/// Rows read, re-sealed and written per transaction.
const BATCH: u64 = 100;

/// An operation's id, key id, sealed digest and sealed reply.
type SealedPayload = (String, String, Option<Vec<u8>>, Option<Vec<u8>>);

impl Inventory {
    /// Re-seals, under the primary key, every server credential and every operation
    /// digest and reply that another key sealed, so retired keys can be dropped from
    /// the keyring. Rotation: give every gateway a keyring with the new key as
    /// primary and the old ones in `previous`, then run this (gateways may keep
    /// serving). Each row is written only if it still has the key id it was read
    /// with, so a concurrent write (already under the primary) is never overwritten.
    /// Idempotent: a second run reports 0. `NoMasterKey` without a keyring,
    /// `UnknownKey` naming the key id of a row that no key of the keyring opens;
    /// batches written before an error stay written.
    pub async fn reseal(&self) -> Result<ResealReport, InventoryError> {
        let keyring = self.keyring()?;
        let report = ResealReport {
            servers: self.reseal_servers(keyring).await?,
            operations: self.reseal_operations(keyring).await?,
        };
        tracing::info!(
            key_id = keyring.primary.key_id(),
            servers = report.servers,
            operations = report.operations,
            "everything is sealed under the primary master key"
        );
        Ok(report)
    }

    async fn reseal_servers(&self, keyring: &Keyring) -> Result<u64, InventoryError> {
        let mut after = String::new();
        let mut total = 0;
        loop {
            let rows: Vec<(String, String, Vec<u8>)> = servers::Entity::find()
                .select_only()
                .column(servers::Column::Id)
                .column(servers::Column::CredentialsKeyId)
                .column(servers::Column::CredentialsCiphertext)
                .filter(servers::Column::CredentialsKeyId.ne(keyring.primary.key_id()))
                .filter(servers::Column::CredentialsCiphertext.is_not_null())
                .filter(servers::Column::Id.gt(after.as_str()))
                .order_by_asc(servers::Column::Id)
                .limit(BATCH)
                .into_tuple()
                .all(self.db()?)
                .await?;
            let Some((last, ..)) = rows.last() else {
                return Ok(total);
            };
            after = last.clone();
            let updates = rows
                .iter()
                .map(|(id, key_id, ciphertext)| {
                    let sealed = keyring.reseal(key_id, id, ciphertext)?;
                    Ok(servers::Entity::update_many()
                        .col_expr(
                            servers::Column::CredentialsKeyId,
                            Expr::value(sealed.key_id),
                        )
                        .col_expr(
                            servers::Column::CredentialsCiphertext,
                            Expr::value(sealed.bytes),
                        )
                        .filter(servers::Column::Id.eq(id))
                        .filter(servers::Column::CredentialsKeyId.eq(key_id)))
                })
                .collect::<Result<Vec<_>, InventoryError>>()?;
            total += self.write_batch("servers", updates, total).await?;
        }
    }

    async fn reseal_operations(&self, keyring: &Keyring) -> Result<u64, InventoryError> {
        let mut after = String::new();
        let mut total = 0;
        loop {
            let rows: Vec<SealedPayload> = operations::Entity::find()
                .select_only()
                .column(operations::Column::Id)
                .column(operations::Column::KeyId)
                .column(operations::Column::RequestDigest)
                .column(operations::Column::Reply)
                .filter(operations::Column::KeyId.ne(keyring.primary.key_id()))
                .filter(operations::Column::Id.gt(after.as_str()))
                .order_by_asc(operations::Column::Id)
                .limit(BATCH)
                .into_tuple()
                .all(self.db()?)
                .await?;
            let Some((last, ..)) = rows.last() else {
                return Ok(total);
            };
            after = last.clone();
            let updates = rows
                .iter()
                .map(|(id, key_id, digest, reply)| {
                    let digest =
                        reseal_optional(keyring, key_id, &digest_aad(id), digest.as_deref())?;
                    let reply = reseal_optional(keyring, key_id, &reply_aad(id), reply.as_deref())?;
                    Ok(operations::Entity::update_many()
                        .col_expr(
                            operations::Column::KeyId,
                            Expr::value(keyring.primary.key_id()),
                        )
                        .col_expr(operations::Column::RequestDigest, Expr::value(digest))
                        .col_expr(operations::Column::Reply, Expr::value(reply))
                        .filter(operations::Column::Id.eq(id))
                        .filter(operations::Column::KeyId.eq(key_id)))
                })
                .collect::<Result<Vec<_>, InventoryError>>()?;
            total += self.write_batch("operations", updates, total).await?;
        }
    }

    /// Runs one batch of re-sealing updates in a transaction; returns how many rows
    /// they changed (rows a concurrent writer changed first are skipped).
    async fn write_batch<E: EntityTrait>(
        &self,
        table: &'static str,
        updates: Vec<UpdateMany<E>>,
        done_before: u64,
    ) -> Result<u64, InventoryError> {
        let txn = self.db()?.begin().await?;
        let mut resealed = 0;
        for update in updates {
            resealed += update.exec(&txn).await?.rows_affected;
        }
        txn.commit().await?;
        tracing::info!(
            table,
            resealed,
            total = done_before + resealed,
            "re-sealed a batch under the primary master key"
        );
        Ok(resealed)
    }
}

/// Re-seals a value under the primary key, if there is one.
fn reseal_optional(
    keyring: &Keyring,
    key_id: &str,
    aad: &str,
    sealed: Option<&[u8]>,
) -> Result<Option<Vec<u8>>, InventoryError> {
    sealed
        .map(|sealed| {
            keyring
                .reseal(key_id, aad, sealed)
                .map(|resealed| resealed.bytes)
        })
        .transpose()
}
