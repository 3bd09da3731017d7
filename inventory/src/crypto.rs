//! Master keys and the sealing of stored secrets (AES-256-GCM, aws-lc-rs): server
//! credentials, and idempotent calls' request digests and replies.
//!
//! A sealed value is `nonce (12 bytes) || ciphertext || tag (16 bytes)`, stored with
//! the id of the key that sealed it. The associated data names the row (the server
//! id; `operation/{id}/digest` or `operation/{id}/reply`), so a ciphertext copied to
//! another row or column does not open.

use std::fmt;

use aws_lc_rs::aead::{AES_256_GCM, Aad, NONCE_LEN, Nonce, RandomizedNonceKey};
use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use secrecy::zeroize::Zeroizing;
use secrecy::{ExposeSecret, SecretBox, SecretSlice};

use crate::InventoryError;

/// Length of a master key in bytes (AES-256).
pub const MASTER_KEY_LEN: usize = 32;

/// Why a master key was refused. Never carries key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The text is not standard base64.
    #[error("master key is not valid base64")]
    NotBase64,
    /// The key does not decode to 32 bytes.
    #[error("master key must be {MASTER_KEY_LEN} bytes, got {0}")]
    WrongLength(usize),
    /// The system random generator failed.
    #[error("could not generate a master key: system random generator failed")]
    Random,
}

/// A 256-bit key that seals stored secrets. Its bytes are zeroed on drop and never
/// printed: `Debug` shows the key id only.
pub struct MasterKey {
    bytes: SecretBox<[u8; MASTER_KEY_LEN]>,
    key_id: String,
}

impl MasterKey {
    /// Reads a key from base64 (as in `PANELGATE_MASTER_KEY` or a key file);
    /// surrounding whitespace is ignored.
    pub fn from_base64(text: &str) -> Result<Self, KeyError> {
        let decoded = Zeroizing::new(
            STANDARD
                .decode(text.trim())
                .map_err(|_| KeyError::NotBase64)?,
        );
        let bytes: [u8; MASTER_KEY_LEN] = decoded
            .as_slice()
            .try_into()
            .map_err(|_| KeyError::WrongLength(decoded.len()))?;
        Ok(Self::from_bytes(bytes))
    }

    /// A fresh random key (`panelgate demo` uses one and throws it away).
    pub fn generate() -> Result<Self, KeyError> {
        let mut bytes = [0u8; MASTER_KEY_LEN];
        aws_lc_rs::rand::fill(&mut bytes).map_err(|_| KeyError::Random)?;
        Ok(Self::from_bytes(bytes))
    }

    fn from_bytes(bytes: [u8; MASTER_KEY_LEN]) -> Self {
        let bytes = SecretBox::new(Box::new(bytes));
        let hash = digest(&SHA256, bytes.expose_secret());
        let key_id = hash.as_ref()[..8]
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        Self { bytes, key_id }
    }

    /// The key's id: the first 8 bytes of SHA-256(key), as 16 hex characters.
    /// Stored next to each ciphertext so the right key can open it after a rotation.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    fn aead_key(&self) -> Result<RandomizedNonceKey, aws_lc_rs::error::Unspecified> {
        RandomizedNonceKey::new(&AES_256_GCM, self.bytes.expose_secret())
    }
}

impl Clone for MasterKey {
    fn clone(&self) -> Self {
        Self::from_bytes(*self.bytes.expose_secret())
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MasterKey({})", self.key_id)
    }
}

/// A sealed value and the id of the key that sealed it.
pub(crate) struct Sealed {
    pub(crate) key_id: String,
    pub(crate) bytes: Vec<u8>,
}

/// The keys stored secrets are sealed with: new values are sealed with `primary`;
/// stored values open with whichever key matches their key id, so a retired key
/// can stay in `previous` until [`Inventory::reseal`](crate::Inventory::reseal)
/// has moved everything to the primary key.
#[derive(Debug, Clone)]
pub struct Keyring {
    /// Seals new values.
    pub primary: MasterKey,
    /// Open older values only.
    pub previous: Vec<MasterKey>,
}

impl Keyring {
    /// A keyring with one key.
    pub fn new(primary: MasterKey) -> Self {
        Self {
            primary,
            previous: Vec::new(),
        }
    }

    /// Adds a retired key, still used to open values it sealed.
    pub fn with_previous(mut self, key: MasterKey) -> Self {
        self.previous.push(key);
        self
    }

    /// Seals `plaintext` with the primary key, bound to `aad` (what it belongs to).
    pub(crate) fn seal(&self, aad: &str, plaintext: &[u8]) -> Result<Sealed, InventoryError> {
        let key = self.primary.aead_key().map_err(|_| encryption_failed())?;
        // One buffer, sized up front so it never reallocates (and leaves a plaintext
        // copy behind): nonce placeholder || plaintext, encrypted in place, then tag.
        let mut buffer = Zeroizing::new(Vec::with_capacity(
            NONCE_LEN + plaintext.len() + AES_256_GCM.tag_len(),
        ));
        buffer.extend_from_slice(&[0; NONCE_LEN]);
        buffer.extend_from_slice(plaintext);
        let (nonce, tag) = key
            .seal_in_place_separate_tag(Aad::from(aad.as_bytes()), &mut buffer[NONCE_LEN..])
            .map_err(|_| encryption_failed())?;
        buffer[..NONCE_LEN].copy_from_slice(nonce.as_ref());
        buffer.extend_from_slice(tag.as_ref());
        Ok(Sealed {
            key_id: self.primary.key_id.clone(),
            bytes: std::mem::take(&mut *buffer),
        })
    }

    /// Opens a value sealed under `key_id` and bound to `aad`.
    pub(crate) fn open(
        &self,
        key_id: &str,
        aad: &str,
        sealed: &[u8],
    ) -> Result<SecretSlice<u8>, InventoryError> {
        let master = std::iter::once(&self.primary)
            .chain(&self.previous)
            .find(|key| key.key_id == key_id)
            .ok_or_else(|| InventoryError::UnknownKey {
                key_id: key_id.to_owned(),
            })?;
        let (nonce, ciphertext) = sealed
            .split_at_checked(NONCE_LEN)
            .ok_or_else(decryption_failed)?;
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| decryption_failed())?;
        let key = master.aead_key().map_err(|_| decryption_failed())?;
        // The buffer holds plaintext once opened: it is zeroed on drop.
        let mut buffer = Zeroizing::new(ciphertext.to_vec());
        let plaintext = key
            .open_in_place(nonce, Aad::from(aad.as_bytes()), &mut buffer)
            .map_err(|_| decryption_failed())?;
        Ok(SecretSlice::from(plaintext.to_vec()))
    }

    /// Opens a value sealed under `key_id` and seals it again under the primary key,
    /// bound to the same `aad`.
    pub(crate) fn reseal(
        &self,
        key_id: &str,
        aad: &str,
        sealed: &[u8],
    ) -> Result<Sealed, InventoryError> {
        let plaintext = self.open(key_id, aad, sealed)?;
        self.seal(aad, plaintext.expose_secret())
    }
}

fn encryption_failed() -> InventoryError {
    InventoryError::Crypto {
        operation: "encryption",
    }
}

fn decryption_failed() -> InventoryError {
    InventoryError::Crypto {
        operation: "decryption",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyring() -> Keyring {
        Keyring::new(MasterKey::generate().unwrap())
    }

    /// A sealed value opens with the same key and server id, and hides the plaintext.
    #[test]
    fn round_trip() {
        let keyring = keyring();
        let sealed = keyring.seal("server-1", b"hunter2").unwrap();
        assert_eq!(sealed.key_id, keyring.primary.key_id());
        assert_eq!(sealed.bytes.len(), NONCE_LEN + 7 + 16);
        assert!(!sealed.bytes.windows(7).any(|w| w == b"hunter2"));
        let opened = keyring
            .open(&sealed.key_id, "server-1", &sealed.bytes)
            .unwrap();
        assert_eq!(opened.expose_secret(), b"hunter2");
    }

    /// Each seal draws a fresh nonce.
    #[test]
    fn nonces_differ() {
        let keyring = keyring();
        let a = keyring.seal("s", b"same").unwrap();
        let b = keyring.seal("s", b"same").unwrap();
        assert_ne!(a.bytes[..NONCE_LEN], b.bytes[..NONCE_LEN]);
    }

    /// A value sealed under a key the keyring lacks is `UnknownKey`.
    #[test]
    fn unknown_key() {
        let sealed = keyring().seal("s", b"secret").unwrap();
        let err = keyring()
            .open(&sealed.key_id, "s", &sealed.bytes)
            .unwrap_err();
        assert!(matches!(err, InventoryError::UnknownKey { key_id } if key_id == sealed.key_id));
    }

    /// A retired key in `previous` still opens what it sealed.
    #[test]
    fn previous_key_opens() {
        let old = MasterKey::generate().unwrap();
        let sealed = Keyring::new(old.clone()).seal("s", b"secret").unwrap();
        let rotated = keyring().with_previous(old);
        let opened = rotated.open(&sealed.key_id, "s", &sealed.bytes).unwrap();
        assert_eq!(opened.expose_secret(), b"secret");
    }

    /// Flipped bits, a truncated value or another server id fail to open.
    #[test]
    fn tampering_fails() {
        let keyring = keyring();
        let sealed = keyring.seal("server-1", b"secret").unwrap();
        let is_crypto = |result: Result<SecretSlice<u8>, InventoryError>| {
            matches!(
                result,
                Err(InventoryError::Crypto {
                    operation: "decryption"
                })
            )
        };
        for index in [0, NONCE_LEN, sealed.bytes.len() - 1] {
            let mut tampered = sealed.bytes.clone();
            tampered[index] ^= 1;
            assert!(is_crypto(keyring.open(
                &sealed.key_id,
                "server-1",
                &tampered
            )));
        }
        assert!(is_crypto(keyring.open(
            &sealed.key_id,
            "server-1",
            &sealed.bytes[..5]
        )));
        assert!(is_crypto(keyring.open(
            &sealed.key_id,
            "server-2",
            &sealed.bytes
        )));
    }

    /// A value re-sealed under a new primary key opens with that key alone, with the
    /// same associated data.
    #[test]
    fn reseal_moves_to_the_primary_key() {
        let old = MasterKey::generate().unwrap();
        let sealed = Keyring::new(old.clone()).seal("s", b"secret").unwrap();
        let rotated = keyring().with_previous(old);
        let resealed = rotated.reseal(&sealed.key_id, "s", &sealed.bytes).unwrap();
        assert_eq!(resealed.key_id, rotated.primary.key_id());
        let primary_only = Keyring::new(rotated.primary.clone());
        let opened = primary_only
            .open(&resealed.key_id, "s", &resealed.bytes)
            .unwrap();
        assert_eq!(opened.expose_secret(), b"secret");
        assert!(
            primary_only
                .open(&resealed.key_id, "t", &resealed.bytes)
                .is_err()
        );
    }

    /// Debug shows the key id and nothing of the key.
    #[test]
    fn debug_hides_key() {
        let key = MasterKey::from_base64(&STANDARD.encode([7u8; 32])).unwrap();
        let printed = format!("{key:?} {:?}", Keyring::new(key.clone()));
        assert!(printed.starts_with(&format!("MasterKey({})", key.key_id())));
        assert!(!printed.contains("7, 7"));
        assert!(!printed.contains(&STANDARD.encode([7u8; 32])));
    }

    /// Key ids are 16 hex characters derived from the key.
    #[test]
    fn key_id_is_sha256_prefix() {
        let key = MasterKey::from_base64(&STANDARD.encode([0u8; 32])).unwrap();
        // SHA-256 of 32 zero bytes starts 66687aadf862bd77.
        assert_eq!(key.key_id(), "66687aadf862bd77");
    }

    /// Only 32 bytes of base64 are accepted, whitespace around them is trimmed,
    /// and errors never echo the input.
    #[test]
    fn from_base64_checks_input() {
        let good = STANDARD.encode([1u8; 32]);
        assert!(MasterKey::from_base64(&format!("  {good}\n")).is_ok());
        for len in [0, 16, 31, 33, 64] {
            let text = STANDARD.encode(vec![1u8; len]);
            assert_eq!(
                MasterKey::from_base64(&text).unwrap_err(),
                KeyError::WrongLength(len)
            );
        }
        let err = MasterKey::from_base64("not base64 at all!").unwrap_err();
        assert_eq!(err, KeyError::NotBase64);
        assert!(!err.to_string().contains("at all"));
    }
}
