//! Installatron failures → [`AdapterError`], by the table of the panel's
//! documented errcodes ([`ERRORS`]). The envelope names the errcode, and for a
//! field the `errfield`, which becomes the canonical request field of the
//! call (see [`field_path`]).

use panelgate_proto::Capability;

use super::client::{Envelope, Subject};
use crate::{
    AdapterError, Entity,
    documented::{self, Context, Documented, Failure, Field, Meaning, When},
};

/// A row of [`ERRORS`].
const fn row(
    errcode: &'static str,
    means: Meaning,
    status: u16,
    body: &'static str,
    during: Capability,
) -> Documented {
    Documented {
        on: &[],
        when: When::errcode(errcode),
        means,
        example: (status, body),
        during,
    }
}

const INVALID: Meaning = Meaning::Invalid(Field::OfCall);

/// Every errcode the panel documents, first match winning, with the reply
/// that documents it.
#[rustfmt::skip]
pub const ERRORS: &[Documented] = &[
    row("invalid_api_key", Meaning::Credentials, 403, r#"{"result": false, "status": 403, "errcode": "invalid_api_key", "errfield": null, "message": "The API key is invalid.\n", "data": null}"#, Capability::GetAccount),
    row("command_not_found", Meaning::Misconfigured, 404, r#"{"result": false, "status": 404, "errcode": "command_not_found", "errfield": null, "message": "No such command.\n", "data": null}"#, Capability::GetAccount),
    row("user_not_found", Meaning::NotFound(Entity::Account), 404, r#"{"result": false, "status": 404, "errcode": "user_not_found", "errfield": null, "message": "The specified user could not be found in the Installatron Server database.\n", "data": null}"#, Capability::SuspendAccount),
    row("invalid_argument_id", INVALID, 403, r#"{"result": false, "status": 403, "errcode": "invalid_argument_id", "errfield": "id", "message": "The id argument is invalid.\n", "data": null}"#, Capability::GetAccount),
    row("invalid_argument_user", INVALID, 403, r#"{"result": false, "status": 403, "errcode": "invalid_argument_user", "errfield": "user", "message": "The user argument is invalid.\n", "data": null}"#, Capability::ListAccounts),
    row("empty_argument_user", INVALID, 400, r#"{"result": false, "status": 400, "errcode": "empty_argument_user", "errfield": "user", "message": "The user argument is required.\n", "data": null}"#, Capability::DeleteAccount),
    row("empty_argument_*", INVALID, 400, r#"{"result": false, "status": 400, "errcode": "empty_argument_email", "errfield": "email", "message": "The email argument is required.\n", "data": null}"#, Capability::UpdateAccount),
    row("invalid_argument_*", INVALID, 400, r#"{"result": false, "status": 400, "errcode": "invalid_argument_email", "errfield": "email", "message": "The email argument is invalid.\n", "data": null}"#, Capability::UpdateAccount),
    row("failed_filesystem_quota", Meaning::Limit, 500, r#"{"result": false, "status": 500, "errcode": "failed_filesystem_quota", "errfield": "websites[0][path]", "message": "The disk quota is exceeded.\n", "data": null}"#, Capability::AddDomain),
    row("failed_filesystem_host", INVALID, 500, r#"{"result": false, "status": 500, "errcode": "failed_filesystem_host", "errfield": "websites[0][path]", "message": "The host could not be reached.\n", "data": null}"#, Capability::AddDomain),
    row("failed_filesystem_login", INVALID, 500, r#"{"result": false, "status": 500, "errcode": "failed_filesystem_login", "errfield": "websites[0][path]", "message": "The login to the host failed.\n", "data": null}"#, Capability::AddDomain),
    row("failed_filesystem_ondemand", INVALID, 500, r#"{"result": false, "status": 500, "errcode": "failed_filesystem_ondemand", "errfield": "websites[0][path]", "message": "The on-demand filesystem could not be mounted.\n", "data": null}"#, Capability::AddDomain),
    row("failed_filesystem_permission", INVALID, 500, r#"{"result": false, "status": 500, "errcode": "failed_filesystem_permission", "errfield": "websites[0][path]", "message": "The path is not writable.\n", "data": null}"#, Capability::AddDomain),
    row("failed_website_vhost", INVALID, 500, r#"{"result": false, "status": 500, "errcode": "failed_website_vhost", "errfield": "websites[0][url]", "message": "The website's vhost could not be found.\n", "data": null}"#, Capability::AddDomain),
    // Per-endpoint lists are longer than the archived docs show: any other
    // failure about a field (the example is not a documented errcode).
    row("failed_*", INVALID, 500, r#"{"result": false, "status": 500, "errcode": "failed_filesystem_mkdir", "errfield": "websites[0][path]", "message": "The directory could not be created.\n", "data": null}"#, Capability::AddDomain),
];

/// A failed envelope, by [`ERRORS`]. A field error names the `errfield`, else
/// the field its errcode ends with; a `failed_*` without a field, and an
/// errcode no row reads, are the panel failing in its own words.
pub(super) fn classify(envelope: &Envelope, subject: Subject<'_>) -> AdapterError {
    let code = envelope.errcode.clone().unwrap_or_default();
    let said = envelope
        .message
        .as_deref()
        .map(str::trim)
        .filter(|message| !message.is_empty())
        .map_or_else(|| code.clone(), str::to_owned);
    let said = format!("{code}: {said}");
    let failure = Failure {
        on: "",
        status: envelope.status.unwrap_or(200),
        errcode: Some(&code),
        text: "",
    };
    let errfield = envelope
        .errfield
        .as_deref()
        .filter(|field| !field.is_empty());
    let field = match errfield {
        Some(errfield) => Some(field_path(errfield, subject)),
        None if code.contains("_argument_") => {
            Some(code.splitn(3, '_').nth(2).unwrap_or("request").to_owned())
        }
        None => None,
    };
    let means = match (documented::find(ERRORS, &failure), &field) {
        (Some(row), Some(_)) => row.means,
        (Some(row), None) if row.means != INVALID => row.means,
        _ => return AdapterError::OperationFailed { upstream: said },
    };
    means.error(Context {
        key: subject.key,
        field: field.as_deref().unwrap_or_default(),
        said: &said,
    })
}

/// The panel's `errfield` as a canonical field path: the subject's renames
/// first (`websites[2][uid]` → `panel_options.installatron.website.uid` when
/// `websites[2]` is renamed so), else as [`canonical_field`] reads it.
fn field_path(errfield: &str, subject: Subject<'_>) -> String {
    for (panel, ours) in subject.renames {
        if errfield == panel {
            return ours.clone();
        }
        if let Some(rest) = errfield
            .strip_prefix(panel.as_str())
            .filter(|rest| rest.starts_with('['))
        {
            return canonical_field(rest, ours);
        }
    }
    canonical_field(errfield, subject.field_prefix)
}

/// The panel's `errfield` as a canonical field path: `id` is the username,
/// `websites[1][databases][0][host]` becomes `<prefix>websites[1].databases[0].host`.
fn canonical_field(errfield: &str, prefix: &str) -> String {
    match errfield {
        "id" | "user" => return "username".to_owned(),
        "email" => return "email".to_owned(),
        _ => {}
    }
    let mut out = prefix.to_owned();
    for (index, part) in errfield.split('[').enumerate() {
        let part = part.trim_end_matches(']');
        match (index, part.parse::<usize>()) {
            (0, _) => out.push_str(part),
            (_, Ok(number)) => out.push_str(&format!("[{number}]")),
            (_, Err(_)) => {
                out.push('.');
                out.push_str(part);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn errcodes_map_to_canonical_errors() {
        let account = Subject::new("bob").with_prefix("panel_options.installatron.");
        let error = classify(
            &Envelope::parsed(
                json!({"result": false, "status": 403, "errcode": "invalid_api_key", "message": "bad key"}),
            ),
            account,
        );
        assert!(matches!(error, AdapterError::CredentialsRejected { .. }));
        let error = classify(
            &Envelope::parsed(json!({"result": false, "status": 404, "errcode": "user_not_found"})),
            account,
        );
        assert!(matches!(
            error,
            AdapterError::NotFound {
                entity: Entity::Account,
                ..
            }
        ));
        let error = classify(
            &Envelope::parsed(
                json!({"result": false, "status": 400, "errcode": "empty_argument_uid", "errfield": "websites[0][uid]", "message": "uid is required"}),
            ),
            account,
        );
        assert!(
            matches!(&error, AdapterError::InvalidArgument { field, .. } if field == "panel_options.installatron.websites[0].uid"),
            "{error:?}"
        );
        assert_eq!(
            error.upstream_message(),
            Some("empty_argument_uid: uid is required")
        );
        let error = classify(
            &Envelope::parsed(
                json!({"result": false, "status": 400, "errcode": "invalid_argument_email", "errfield": "email"}),
            ),
            account,
        );
        assert!(matches!(&error, AdapterError::InvalidArgument { field, .. } if field == "email"));
        let error = classify(
            &Envelope::parsed(
                json!({"result": false, "status": 500, "errcode": "failed_website_vhost"}),
            ),
            account,
        );
        assert!(matches!(error, AdapterError::OperationFailed { .. }));
    }

    #[test]
    fn renamed_errfields_name_the_requests_own_fields() {
        let renames = [
            (
                "websites[2]".to_owned(),
                "panel_options.installatron.website".to_owned(),
            ),
            (
                "websites[0][databases][1][host]".to_owned(),
                "panel_options.installatron.host".to_owned(),
            ),
        ];
        let subject = Subject::new("d.example").with_renames(&renames);
        for (errfield, field) in [
            ("websites[2][uid]", "panel_options.installatron.website.uid"),
            (
                "websites[2][databases][0][host]",
                "panel_options.installatron.website.databases[0].host",
            ),
            ("websites[2]", "panel_options.installatron.website"),
            ("websites[20][uid]", "websites[20].uid"),
            (
                "websites[0][databases][1][host]",
                "panel_options.installatron.host",
            ),
            ("websites[0][path]", "websites[0].path"),
        ] {
            assert_eq!(field_path(errfield, subject), field, "{errfield}");
        }
    }

    #[test]
    fn errfields_become_canonical_paths() {
        assert_eq!(canonical_field("id", "x."), "username");
        assert_eq!(
            canonical_field("websites[1][databases][0][host]", "p."),
            "p.websites[1].databases[0].host"
        );
        assert_eq!(canonical_field("language", ""), "language");
    }
}
