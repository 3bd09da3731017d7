//! InventoryService's request fields, checked: kinds, states, labels, TLS,
//! defaults, and credentials encoded for sealing.

use std::collections::BTreeMap;

use panelgate_adapters::{KINDS, PanelCredentials, capabilities, check_credentials};
use panelgate_inventory::{ServerState as StoredState, TlsConfig};
use panelgate_proto::v1::{Credentials, PanelKind, ServerDefaults, ServerState, TlsSettings};
use prost::Message;
use secrecy::{ExposeSecret, SecretSlice};

use crate::{error::GatewayError, validate};

/// A kind panelgate has an adapter for.
pub(crate) fn panel_kind(field: &str, value: i32) -> Result<PanelKind, GatewayError> {
    let supported = |kind: &PanelKind| !capabilities(*kind).is_empty();
    PanelKind::try_from(value)
        .ok()
        .filter(supported)
        .ok_or_else(|| {
            let known: Vec<&str> = KINDS
                .iter()
                .filter(|kind| supported(kind))
                .map(|kind| kind.as_str_name())
                .collect();
            GatewayError::invalid(
                field,
                format!(
                    "must be a panel kind panelgate has an adapter for: {}",
                    known.join(", ")
                ),
            )
        })
}

/// A server state; None for UNSPECIFIED.
pub(super) fn state(field: &str, value: i32) -> Result<Option<StoredState>, GatewayError> {
    match ServerState::try_from(value) {
        Ok(ServerState::Unspecified) => Ok(None),
        Ok(ServerState::Active) => Ok(Some(StoredState::Active)),
        Ok(ServerState::Draining) => Ok(Some(StoredState::Draining)),
        Ok(ServerState::Disabled) => Ok(Some(StoredState::Disabled)),
        Err(_) => Err(GatewayError::invalid(
            field,
            "must be ACTIVE, DRAINING or DISABLED",
        )),
    }
}

pub(crate) fn optional_text(field: &str, value: &str) -> Result<Option<String>, GatewayError> {
    if value.trim().is_empty() {
        return Ok(None);
    }
    validate::name(field, value, 63).map(Some)
}

/// Labels: keys of letters, digits, '.', '_', '-' or '/' (at most 63), values of
/// at most 63 printable characters.
pub(crate) fn labels(
    field: &str,
    labels: impl IntoIterator<Item = (String, String)>,
) -> Result<BTreeMap<String, String>, GatewayError> {
    let mut checked = BTreeMap::new();
    for (key, value) in labels {
        let key_ok = !key.is_empty()
            && key.len() <= 63
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/'));
        if !key_ok {
            return Err(GatewayError::invalid(
                field,
                format!(
                    "label key `{}`: 1 to 63 letters, digits, '.', '_', '-' or '/'",
                    validate::excerpt(&key)
                ),
            ));
        }
        if value.chars().count() > 63 || value.chars().any(char::is_control) {
            return Err(GatewayError::invalid(
                field,
                format!("label `{key}`: value must be at most 63 printable characters"),
            ));
        }
        checked.insert(key, value);
    }
    Ok(checked)
}

pub(super) fn tls_config(tls: TlsSettings) -> TlsConfig {
    TlsConfig {
        ca_pem: (!tls.ca_pem.trim().is_empty()).then_some(tls.ca_pem),
        insecure_skip_verify: tls.insecure_skip_verify,
    }
}

pub(super) fn php_default(
    field: &str,
    defaults: Option<ServerDefaults>,
) -> Result<Option<String>, GatewayError> {
    let version = validate::php_version(
        &format!("{field}.php_version"),
        &defaults.unwrap_or_default().php_version,
    )?;
    Ok((!version.is_empty()).then_some(version))
}

/// Checks credentials against the panel kind and encodes them for sealing.
pub(super) fn sealable_credentials(
    kind: PanelKind,
    credentials: Option<Credentials>,
) -> Result<Option<SecretSlice<u8>>, GatewayError> {
    let Some(credentials) = credentials else {
        return Ok(None);
    };
    let encoded = credentials.encode_to_vec();
    let Some(parsed) = PanelCredentials::from_proto(credentials) else {
        return Err(GatewayError::invalid(
            "credentials",
            "set credentials.password or credentials.api_token",
        ));
    };
    check_credentials(kind, &parsed)
        .map_err(|reason| GatewayError::invalid("credentials", reason))?;
    match &parsed {
        PanelCredentials::Password { username, password } => {
            if username.trim().is_empty() {
                return Err(GatewayError::invalid(
                    "credentials.password.username",
                    "required",
                ));
            }
            if password.expose_secret().is_empty() {
                return Err(GatewayError::invalid(
                    "credentials.password.password",
                    "required",
                ));
            }
        }
        PanelCredentials::ApiToken(token) => {
            if token.expose_secret().trim().is_empty() {
                return Err(GatewayError::invalid(
                    "credentials.api_token.token",
                    "required",
                ));
            }
        }
    }
    Ok(Some(encoded.into()))
}
