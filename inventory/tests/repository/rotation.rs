//! Master-key rotation, and sealing of the idempotency payload at rest.

use std::time::Duration as Lease;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use panelgate_inventory::entities::{operations, servers};
use panelgate_inventory::{
    Claim, ExposeSecret, Inventory, InventoryError, Keyring, MasterKey, ResealReport, SecretSlice,
};
use sea_orm::{ActiveValue::Set, EntityTrait, IntoActiveModel};

use crate::harness::{Harness, ended, new_server, operation};

suite!(
    reseal_moves_everything_to_the_new_primary_key,
    reseal_names_a_key_missing_from_the_keyring,
    finish_under_a_new_primary_reseals_the_digest,
    sealed_payloads_are_not_stored_in_plaintext,
    swapped_blobs_do_not_open,
);

const LEASE: Lease = Lease::from_secs(60);
const PASSWORD: &[u8] = b"correct horse battery staple";
const DIGEST: &[u8] = b"DIGEST-MARKER-0123456789abcdefgh";
const REPLY: &[u8] = b"SECRET-REPLY-MARKER";
/// More operations than one re-sealing batch holds.
const OPERATIONS: usize = 120;

fn secret(bytes: &[u8]) -> Option<SecretSlice<u8>> {
    Some(SecretSlice::from(bytes.to_vec()))
}

async fn connect(h: &Harness, keyring: Keyring) -> Inventory {
    Inventory::connect(&h.url, Some(keyring)).await.unwrap()
}

/// Starts `req-{i}` (digest `DIGEST`) and finishes it with `REPLY`.
async fn finished(inventory: &Inventory, i: usize) {
    let request_id = format!("req-{i}");
    let start = operation("billing", Some(&request_id), DIGEST);
    let Claim::Run { id, .. } = inventory.start_operation(start, LEASE).await.unwrap() else {
        panic!("a new key runs");
    };
    inventory
        .finish_operation(&id, ended("OK", Some(REPLY), false))
        .await
        .unwrap();
}

/// Credentials and operations sealed under key A are re-sealed under B (across
/// several batches) by an inventory holding B as primary and A as previous; then an
/// inventory holding B alone reads every credential and replays every operation,
/// and a second run has nothing left to do.
async fn reseal_moves_everything_to_the_new_primary_key(h: Harness) {
    let mut server_ids = Vec::new();
    for name in ["web-1", "web-2", "web-3"] {
        let server = h
            .inventory
            .create_server(new_server(name, &[]), secret(PASSWORD))
            .await
            .unwrap();
        server_ids.push(server.id);
    }
    h.inventory
        .create_server(new_server("bare", &[]), None)
        .await
        .unwrap();
    for i in 0..OPERATIONS {
        finished(&h.inventory, i).await;
    }
    let pending = operation("billing", Some("pending"), DIGEST);
    h.inventory.start_operation(pending, LEASE).await.unwrap();
    let plain = operation("billing", None, DIGEST);
    h.inventory.start_operation(plain, LEASE).await.unwrap();

    let new_key = MasterKey::generate().unwrap();
    let rotated = connect(
        &h,
        Keyring::new(new_key.clone()).with_previous(h.keyring.primary.clone()),
    )
    .await;
    let report = rotated.reseal().await.unwrap();
    let expected = ResealReport {
        servers: 3,
        operations: OPERATIONS as u64 + 1,
    };
    assert_eq!(report, expected);
    assert_eq!(rotated.reseal().await.unwrap(), ResealReport::default());
    rotated.close().await.unwrap();

    let new_only = connect(&h, Keyring::new(new_key.clone())).await;
    assert_eq!(new_only.reseal().await.unwrap(), ResealReport::default());
    for id in &server_ids {
        let credentials = new_only.server_credentials(id).await.unwrap().unwrap();
        assert_eq!(credentials.expose_secret(), PASSWORD);
    }
    for i in 0..OPERATIONS {
        let request_id = format!("req-{i}");
        let start = operation("billing", Some(&request_id), DIGEST);
        let Claim::Replay(outcome) = new_only.start_operation(start, LEASE).await.unwrap() else {
            panic!("req-{i} replays");
        };
        assert_eq!(outcome.reply.unwrap().expose_secret(), REPLY);
    }
    let pending = operation("billing", Some("pending"), DIGEST);
    let claim = new_only.start_operation(pending, LEASE).await.unwrap();
    assert!(matches!(claim, Claim::InFlight), "{claim:?}");
    let reused = operation("billing", Some("pending"), b"another request");
    let claim = new_only.start_operation(reused, LEASE).await.unwrap();
    assert!(matches!(claim, Claim::Reused), "{claim:?}");
    new_only.close().await.unwrap();

    let raw = h.raw().await;
    for row in operations::Entity::find().all(&raw).await.unwrap() {
        let expected = row.request_id.as_ref().map(|_| new_key.key_id());
        assert_eq!(row.key_id.as_deref(), expected);
    }
}

/// A row sealed under a key the keyring lacks fails the run with `UnknownKey`,
/// naming the key id and nothing of any key; without a keyring it is `NoMasterKey`.
async fn reseal_names_a_key_missing_from_the_keyring(h: Harness) {
    let old_text = STANDARD.encode([7u8; 32]);
    let old = Keyring::new(MasterKey::from_base64(&old_text).unwrap());
    let old_id = old.primary.key_id().to_owned();
    let writer = connect(&h, old).await;
    finished(&writer, 0).await;
    writer.close().await.unwrap();

    let unrelated = connect(&h, h.keyring.clone()).await;
    let err = unrelated.reseal().await.unwrap_err();
    assert!(matches!(&err, InventoryError::UnknownKey { key_id } if *key_id == old_id));
    let message = err.to_string();
    assert!(message.contains(&old_id), "{message}");
    assert!(!message.contains(&old_text));
    unrelated.close().await.unwrap();

    let keyless = h.without_keyring().await;
    assert!(matches!(
        keyless.reseal().await,
        Err(InventoryError::NoMasterKey)
    ));
    keyless.close().await.unwrap();
}

/// A call claimed under the old key and finished under the new one leaves its row
/// wholly under the new key: an inventory with the new key alone replays it.
async fn finish_under_a_new_primary_reseals_the_digest(h: Harness) {
    let start = operation("billing", Some("req-1"), DIGEST);
    let Claim::Run { id, .. } = h.inventory.start_operation(start, LEASE).await.unwrap() else {
        panic!("a new key runs");
    };
    let new_key = MasterKey::generate().unwrap();
    let rotated = connect(
        &h,
        Keyring::new(new_key.clone()).with_previous(h.keyring.primary.clone()),
    )
    .await;
    rotated
        .finish_operation(&id, ended("OK", Some(REPLY), false))
        .await
        .unwrap();
    rotated.close().await.unwrap();

    let row = operations::Entity::find_by_id(id)
        .one(&h.raw().await)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.key_id.as_deref(), Some(new_key.key_id()));
    let new_only = connect(&h, Keyring::new(new_key)).await;
    let start = operation("billing", Some("req-1"), DIGEST);
    let Claim::Replay(outcome) = new_only.start_operation(start, LEASE).await.unwrap() else {
        panic!("the finished call replays");
    };
    assert_eq!(outcome.reply.unwrap().expose_secret(), REPLY);
    new_only.close().await.unwrap();
}

/// Neither the digest, the reply nor the credentials appear in the rows, before or
/// after a reseal; on SQLite, not in the database files either.
async fn sealed_payloads_are_not_stored_in_plaintext(h: Harness) {
    h.inventory
        .create_server(new_server("web-1", &[]), secret(PASSWORD))
        .await
        .unwrap();
    finished(&h.inventory, 0).await;
    let check = || async {
        let raw = h.raw().await;
        let mut stored = Vec::new();
        for row in operations::Entity::find().all(&raw).await.unwrap() {
            stored.extend(row.request_digest.unwrap());
            stored.extend(row.reply.unwrap());
        }
        for row in servers::Entity::find().all(&raw).await.unwrap() {
            stored.extend(row.credentials_ciphertext.unwrap());
        }
        raw.close().await.unwrap();
        assert_no_plaintext(&stored);
        if let Some(path) = h.url.strip_prefix("sqlite://") {
            let mut files = std::fs::read(path).unwrap();
            files.extend(std::fs::read(format!("{path}-wal")).unwrap_or_default());
            assert!(files.len() > 4096);
            assert_no_plaintext(&files);
        }
    };
    check().await;
    let rotated = connect(
        &h,
        Keyring::new(MasterKey::generate().unwrap()).with_previous(h.keyring.primary.clone()),
    )
    .await;
    assert_eq!(rotated.reseal().await.unwrap().operations, 1);
    rotated.close().await.unwrap();
    check().await;
}

fn assert_no_plaintext(bytes: &[u8]) {
    for secret in [DIGEST, REPLY, PASSWORD] {
        assert!(
            !bytes.windows(secret.len()).any(|window| window == secret),
            "{} found in plaintext",
            String::from_utf8_lossy(secret)
        );
    }
}

/// Sealed blobs are bound to their row and column: a reply copied to another row,
/// or a digest put in the reply column, does not open.
async fn swapped_blobs_do_not_open(h: Harness) {
    finished(&h.inventory, 0).await;
    finished(&h.inventory, 1).await;
    let raw = h.raw().await;
    let rows = operations::Entity::find().all(&raw).await.unwrap();
    let (first, second) = (&rows[0], &rows[1]);
    for stolen in [second.reply.clone(), first.request_digest.clone()] {
        let mut row = first.clone().into_active_model();
        row.reply = Set(stolen);
        operations::Entity::update(row).exec(&raw).await.unwrap();
        let request_id = first.request_id.clone().unwrap();
        let start = operation("billing", Some(&request_id), DIGEST);
        let err = h.inventory.start_operation(start, LEASE).await.unwrap_err();
        assert!(
            matches!(
                err,
                InventoryError::Crypto {
                    operation: "decryption"
                }
            ),
            "{err:?}"
        );
    }
    raw.close().await.unwrap();
}
