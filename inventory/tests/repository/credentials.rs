//! Credentials: sealed at rest, opened only with the right key, never stored without one.

use panelgate_inventory::entities::servers;
use panelgate_inventory::{
    ExposeSecret, Inventory, InventoryError, Keyring, MasterKey, PageRequest, Record, SecretSlice,
    ServerFilter, ServerUpdate,
};
use sea_orm::EntityTrait;

use crate::harness::{Harness, new_server};

suite!(
    credentials_round_trip_and_are_encrypted_at_rest,
    credentials_without_a_keyring_are_refused_and_nothing_is_written,
    credentials_under_another_key_do_not_open,
);

const PASSWORD: &[u8] = b"correct horse battery staple";

fn secret(bytes: &[u8]) -> Option<SecretSlice<u8>> {
    Some(SecretSlice::from(bytes.to_vec()))
}

/// Stored credentials open to the same bytes; the row holds only ciphertext under
/// the primary key's id; an update replaces them.
async fn credentials_round_trip_and_are_encrypted_at_rest(h: Harness) {
    let inv = &h.inventory;
    let server = inv
        .create_server(new_server("web-1", &[]), secret(PASSWORD))
        .await
        .unwrap();
    assert!(server.credentials_set);
    let opened = inv.server_credentials(&server.id).await.unwrap().unwrap();
    assert_eq!(opened.expose_secret(), PASSWORD);

    let row = servers::Entity::find_by_id(server.id.clone())
        .one(&h.raw().await)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        row.credentials_key_id.as_deref(),
        Some(h.keyring.primary.key_id())
    );
    let ciphertext = row.credentials_ciphertext.unwrap();
    assert_eq!(ciphertext.len(), 12 + PASSWORD.len() + 16);
    assert!(
        !ciphertext
            .windows(5)
            .any(|w| PASSWORD.windows(5).any(|p| p == w))
    );

    let update = ServerUpdate {
        credentials: secret(b"new password"),
        ..Default::default()
    };
    inv.update_server(&server.id, update).await.unwrap();
    let opened = inv.server_credentials(&server.id).await.unwrap().unwrap();
    assert_eq!(opened.expose_secret(), b"new password");

    let bare = inv
        .create_server(new_server("web-2", &[]), None)
        .await
        .unwrap();
    assert!(inv.server_credentials(&bare.id).await.unwrap().is_none());
    let err = inv.server_credentials("nope").await.unwrap_err();
    assert!(matches!(
        err,
        InventoryError::NotFound {
            record: Record::Server,
            ..
        }
    ));
}

/// Without a keyring, create and update with credentials are `NoMasterKey` and write
/// nothing; stored credentials cannot be read (`UnknownKey`).
async fn credentials_without_a_keyring_are_refused_and_nothing_is_written(h: Harness) {
    let keyless = h.without_keyring().await;
    let err = keyless
        .create_server(new_server("web-1", &[("a", "b")]), secret(PASSWORD))
        .await
        .unwrap_err();
    assert!(matches!(err, InventoryError::NoMasterKey));
    assert!(err.to_string().contains("PANELGATE_MASTER_KEY"));
    let all = keyless
        .list_servers(&ServerFilter::default(), PageRequest::default())
        .await
        .unwrap();
    assert!(all.items.is_empty());

    let server = keyless
        .create_server(new_server("web-1", &[]), None)
        .await
        .unwrap();
    let update = ServerUpdate {
        name: Some("renamed".into()),
        credentials: secret(PASSWORD),
        ..Default::default()
    };
    let err = keyless.update_server(&server.id, update).await.unwrap_err();
    assert!(matches!(err, InventoryError::NoMasterKey));
    assert_eq!(keyless.get_server(&server.id).await.unwrap(), server);

    let sealed = h
        .inventory
        .create_server(new_server("web-2", &[]), secret(PASSWORD))
        .await
        .unwrap();
    let err = keyless.server_credentials(&sealed.id).await.unwrap_err();
    assert!(
        matches!(err, InventoryError::UnknownKey { key_id } if key_id == h.keyring.primary.key_id())
    );
    keyless.close().await.unwrap();
}

/// Credentials sealed under a key the keyring lacks are `UnknownKey`; once that key
/// is added as a previous key they open again.
async fn credentials_under_another_key_do_not_open(h: Harness) {
    let server = h
        .inventory
        .create_server(new_server("web-1", &[]), secret(PASSWORD))
        .await
        .unwrap();
    let rotated = Keyring::new(MasterKey::generate().unwrap());
    let other = Inventory::connect(&h.url, Some(rotated.clone()))
        .await
        .unwrap();
    let err = other.server_credentials(&server.id).await.unwrap_err();
    assert!(matches!(err, InventoryError::UnknownKey { .. }));
    other.close().await.unwrap();

    let with_old = Inventory::connect(
        &h.url,
        Some(rotated.with_previous(h.keyring.primary.clone())),
    )
    .await
    .unwrap();
    let opened = with_old
        .server_credentials(&server.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(opened.expose_secret(), PASSWORD);
    with_old.close().await.unwrap();
}
