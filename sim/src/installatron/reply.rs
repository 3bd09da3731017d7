//! The envelope every answer travels in, the errcodes, and the failures the
//! handlers return.
//!
//! # Format
//!
//! ```text
//! {"result": true, "status": 200, "errcode": null, "errfield": null,
//!  "message": "The task is complete.\n", "data": ..., ["total_count": n,] ["session_id": "..."]}
//! ```
//!
//! The HTTP status is always the envelope's `status` (reading 2).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use serde::Serialize;

use super::state::UserRow;

/// The message of every success (reading 2).
pub(super) const TASK_COMPLETE: &str = "The task is complete.\n";

/// A handler's outcome: a success to wrap, or a [`Failure`].
pub(super) type Outcome = Result<Reply, Failure>;

/// A success.
#[derive(Debug)]
pub(super) enum Reply {
    /// The task was done; `data` is what it answers.
    Done(Data),
    /// `GET /users`: one page of users and the size of the whole list (reading 13).
    Page {
        /// The users of the page.
        users: Vec<UserRow>,
        /// How many users there are in all.
        total_count: usize,
    },
    /// `POST /users/{id}/login`: the GUI URL and its session (reading 16).
    Session {
        /// The URL the user opens.
        url: String,
        /// The session's id, the last segment of `url`.
        session_id: String,
    },
    /// A dry run that found nothing in the way: status 200, `complete_dryrun`,
    /// `result` false, nothing changed (reading 11).
    DryRun,
}

/// What `data` holds on a success.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(super) enum Data {
    /// `null`: deletes.
    Null,
    /// One user: view, create, edit.
    User(Box<UserRow>),
}

/// A refused or failed request: everything the envelope says besides `result`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Failure {
    pub(super) status: StatusCode,
    pub(super) errcode: String,
    pub(super) errfield: Option<String>,
    pub(super) message: String,
}

impl Failure {
    fn new(
        status: StatusCode,
        errcode: impl Into<String>,
        errfield: Option<String>,
        message: impl Into<String>,
    ) -> Failure {
        Failure {
            status,
            errcode: errcode.into(),
            errfield,
            message: message.into(),
        }
    }

    /// 400 `empty_argument_<leaf>`: a required field is missing or empty (reading 8).
    pub(super) fn empty(field: &Field) -> Failure {
        Failure::new(
            StatusCode::BAD_REQUEST,
            format!("empty_argument_{}", field.leaf),
            Some(field.errfield.clone()),
            format!("The {} argument is required.\n", field.errfield),
        )
    }

    /// `invalid_argument_<leaf>`: a field's value is refused, 400 (403 for `id`,
    /// as the doc lists it) (reading 8).
    pub(super) fn invalid(field: &Field, why: &str) -> Failure {
        let status = if field.leaf == "id" {
            StatusCode::FORBIDDEN
        } else {
            StatusCode::BAD_REQUEST
        };
        Failure::new(
            status,
            format!("invalid_argument_{}", field.leaf),
            Some(field.errfield.clone()),
            format!("The {} argument is invalid: {why}.\n", field.errfield),
        )
    }

    /// 403 `invalid_api_key` (reading 1).
    pub(super) fn invalid_api_key() -> Failure {
        Failure::new(
            StatusCode::FORBIDDEN,
            "invalid_api_key",
            None,
            "The server's Installatron Server Key is invalid.\n",
        )
    }

    /// 404 `user_not_found`.
    pub(super) fn user_not_found() -> Failure {
        Failure::new(
            StatusCode::NOT_FOUND,
            "user_not_found",
            None,
            "The specified user could not be found in the Installatron Server database.\n",
        )
    }

    /// 400 `empty_argument_user`: a user route without a user (reading 15).
    pub(super) fn empty_user() -> Failure {
        Failure::new(
            StatusCode::BAD_REQUEST,
            "empty_argument_user",
            Some("user".to_owned()),
            "No user parameter was provided.\n",
        )
    }

    /// 404 `command_not_found`: a path that is no API (reading 3).
    pub(super) fn command_not_found(path: &str) -> Failure {
        Failure::new(
            StatusCode::NOT_FOUND,
            "command_not_found",
            None,
            format!("The command {path} does not exist.\n"),
        )
    }

    /// 405 `invalid_method`: a known path with a method it lacks (reading 3).
    pub(super) fn invalid_method(method: &str) -> Failure {
        Failure::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "invalid_method",
            None,
            format!("The {method} method is not available for this command.\n"),
        )
    }

    /// 400 `invalid_json`: a JSON body that is not a JSON object (reading 5).
    pub(super) fn invalid_json() -> Failure {
        Failure::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            None,
            "The request body is not a valid JSON object.\n",
        )
    }

    /// 500 `failed_filesystem_host`: a dry run could not reach a website's host (reading 12).
    pub(super) fn filesystem_host(field: &Field, host: &str) -> Failure {
        Failure::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "failed_filesystem_host",
            Some(field.errfield.clone()),
            format!("Unable to reach the remote host {host}.\n"),
        )
    }

    /// 500 `failed_database_host`: a dry run could not reach a database server (reading 12).
    pub(super) fn database_host(field: &Field, host: &str) -> Failure {
        Failure::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "failed_database_host",
            Some(field.errfield.clone()),
            format!("Unable to connect to the database server {host}.\n"),
        )
    }
}

/// Where a value sits in the request, for `errfield` and the errcode.
///
/// `Field::top("websites").at(0).key("uid")` is errfield `websites[0][uid]`
/// with errcode leaf `uid` (reading 8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Field {
    /// The whole name in PHP's bracket notation.
    errfield: String,
    /// The last named part, which names the errcode.
    leaf: String,
}

impl Field {
    /// A top-level field.
    pub(super) fn top(name: &str) -> Field {
        Field {
            errfield: name.to_owned(),
            leaf: name.to_owned(),
        }
    }

    /// The item at `index` of this list (the errcode keeps the list's name).
    pub(super) fn at(&self, index: usize) -> Field {
        Field {
            errfield: format!("{}[{index}]", self.errfield),
            leaf: self.leaf.clone(),
        }
    }

    /// The member `name` of this object.
    pub(super) fn key(&self, name: &str) -> Field {
        Field {
            errfield: format!("{}[{name}]", self.errfield),
            leaf: name.to_owned(),
        }
    }
}

/// The envelope as it goes on the wire, in the doc's key order.
#[derive(Serialize)]
struct Envelope<'a, D: Serialize> {
    result: bool,
    status: u16,
    errcode: Option<&'a str>,
    errfield: Option<&'a str>,
    message: &'a str,
    data: D,
    #[serde(skip_serializing_if = "Option::is_none")]
    total_count: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_id: Option<&'a str>,
}

impl<'a, D: Serialize> Envelope<'a, D> {
    /// A success with `data`.
    fn done(data: D) -> Self {
        Envelope {
            result: true,
            status: StatusCode::OK.as_u16(),
            errcode: None,
            errfield: None,
            message: TASK_COMPLETE,
            data,
            total_count: None,
            session_id: None,
        }
    }
}

/// The envelope as an HTTP answer, the HTTP status mirroring `status`.
fn send<D: Serialize>(envelope: &Envelope<'_, D>) -> Response {
    let status = StatusCode::from_u16(envelope.status).unwrap_or(StatusCode::OK);
    (status, Json(envelope)).into_response()
}

/// The answer to one request.
pub(super) fn into_response(outcome: Outcome) -> Response {
    match outcome {
        Ok(Reply::Done(data)) => send(&Envelope::done(data)),
        Ok(Reply::Page { users, total_count }) => send(&Envelope {
            total_count: Some(total_count),
            ..Envelope::done(users)
        }),
        Ok(Reply::Session { url, session_id }) => send(&Envelope {
            session_id: Some(&session_id),
            ..Envelope::done(url)
        }),
        Ok(Reply::DryRun) => send(&Envelope {
            result: false,
            status: StatusCode::OK.as_u16(),
            errcode: Some("complete_dryrun"),
            errfield: None,
            message: "dryrun was enabled and finished without error.\n",
            data: Data::Null,
            total_count: None,
            session_id: None,
        }),
        Err(failure) => send(&Envelope {
            result: false,
            status: failure.status.as_u16(),
            errcode: Some(&failure.errcode),
            errfield: failure.errfield.as_deref(),
            message: &failure.message,
            data: Data::Null,
            total_count: None,
            session_id: None,
        }),
    }
}
