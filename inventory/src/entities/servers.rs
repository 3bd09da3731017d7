//! The `servers` table: one row per panel server of the fleet.

use sea_orm::entity::prelude::*;

/// A server row.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "servers")]
pub struct Model {
    /// A UUID, as text.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// Unique operator-facing name.
    #[sea_orm(unique)]
    pub name: String,
    /// Panel kind as short text (`admin_api`, `openadmin`, ...).
    pub kind: String,
    /// Where the panel's API lives.
    pub base_url: String,
    /// Free-form group (region, customer tier, ...).
    pub group_name: String,
    /// `active`, `draining` or `disabled`.
    pub state: String,
    /// Account cap, 0 for none (a `u32` in the domain, `bigint` here).
    pub max_accounts: i64,
    /// Placement priority, lower first (a `u32` in the domain).
    pub priority: i64,
    /// Extra CA certificate (PEM) trusted for this panel.
    pub tls_ca_pem: Option<String>,
    /// Skip TLS certificate verification (lab panels only).
    pub tls_insecure_skip_verify: bool,
    /// PHP version for new sites, where the panel takes one.
    pub default_php_version: Option<String>,
    /// Id of the master key that sealed `credentials_ciphertext`.
    pub credentials_key_id: Option<String>,
    /// nonce || AES-256-GCM ciphertext || tag; never plaintext.
    pub credentials_ciphertext: Option<Vec<u8>>,
    /// When the row was inserted.
    pub created_at: DateTimeUtc,
    /// When the row was last changed (not by a sync: see `last_sync_at`).
    pub updated_at: DateTimeUtc,
    /// When an applied sync last read the server.
    pub last_sync_at: Option<DateTimeUtc>,
    /// How that sync ended: "ok", or why the server could not be read.
    pub last_sync_outcome: String,
    /// The server's labels.
    #[sea_orm(has_many)]
    pub labels: HasMany<super::server_labels::Entity>,
    /// The account index entries on this server.
    #[sea_orm(has_many)]
    pub accounts: HasMany<super::accounts::Entity>,
    /// The slots held on this server by creates in flight.
    #[sea_orm(has_many)]
    pub reservations: HasMany<super::reservations::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
