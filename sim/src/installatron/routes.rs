//! The HTTP surface: every path goes through one handler, which records the
//! request, checks the key, finds the command from the path and method, reads
//! the parameters and runs the command (readings 1 to 5).

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri, header};
use axum::response::Response;

use super::InstallatronRequest;
use super::fields::valid_id;
use super::input::{BodyKind, Params};
use super::reply::{self, Failure, Field, Outcome};
use super::state::{Panel, SharedPanel};
use super::users;
use crate::server::{host_or, lock};

/// The header carrying the key (header names compare without case).
const API_KEY_HEADER: &str = "x-api-key";
/// The header that tunnels another method through POST.
const METHOD_OVERRIDE_HEADER: &str = "x-http-method-override";

/// The panel's router: one handler for every path and method.
pub(super) fn router(panel: SharedPanel) -> Router {
    Router::new().fallback(handle).with_state(panel)
}

async fn handle(
    State(panel): State<SharedPanel>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let outcome = {
        let mut panel = lock(&panel);
        panel.record(InstallatronRequest {
            method: method.to_string(),
            path: uri
                .path_and_query()
                .map_or_else(|| uri.path().to_owned(), ToString::to_string),
            content_type: header_text(&headers, header::CONTENT_TYPE.as_str()),
            accept: header_text(&headers, header::ACCEPT.as_str()),
            body: body.to_vec(),
        });
        answer(&mut panel, method, &uri, &headers, &body)
    };
    reply::into_response(outcome)
}

/// A header's value as text, if present and readable.
fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

/// The command's outcome, checks in reading 3's order.
fn answer(
    panel: &mut Panel,
    method: Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Outcome {
    let key = header_text(headers, API_KEY_HEADER).unwrap_or_default();
    if !panel.accepts_key(key.trim()) {
        return Err(Failure::invalid_api_key());
    }
    let method = effective_method(method, headers);
    let command = Command::parse(uri.path())?;
    let allowed = command.allows(&method);
    if !allowed {
        return Err(Failure::invalid_method(method.as_str()));
    }
    let id = match &command {
        Command::Users => None,
        Command::User(id) | Command::Login(id) => Some(id.as_str()),
    };
    match id {
        // A user command without a user (`DELETE /users`, `/users//login`).
        Some("") => return Err(Failure::empty_user()),
        Some(id) if !valid_id(id) => {
            return Err(Failure::invalid(&Field::top("id"), "not a valid username"));
        }
        _ => {}
    }
    let content_type = header_text(headers, header::CONTENT_TYPE.as_str());
    let params = Params::read(uri.query(), BodyKind::of(content_type.as_deref()), body)?;
    match (command, method) {
        (Command::Users, Method::GET) => users::list(panel, &params),
        (Command::Users, Method::POST) => users::save(panel, None, &params),
        (Command::User(id), Method::GET) => users::view(panel, &id),
        (Command::User(id), Method::POST) => users::save(panel, Some(&id), &params),
        (Command::User(id), Method::DELETE) => users::delete(panel, &id, &params),
        (Command::Login(id), _) => {
            let host = host_or(headers, panel.server_addr);
            users::login(panel, &id, &params, &host)
        }
        // `DELETE /users` names no user.
        (Command::Users | Command::User(_), _) => Err(Failure::empty_user()),
    }
}

/// The method a POST asks for with `X-HTTP-Method-Override`, else the request's.
fn effective_method(method: Method, headers: &HeaderMap) -> Method {
    if method != Method::POST {
        return method;
    }
    header_text(headers, METHOD_OVERRIDE_HEADER)
        .and_then(|name| Method::from_bytes(name.trim().to_ascii_uppercase().as_bytes()).ok())
        .unwrap_or(method)
}

/// What a path asks for; ids percent-decoded (reading 4).
#[derive(Debug, PartialEq, Eq)]
enum Command {
    /// `/users`.
    Users,
    /// `/users/{id}`.
    User(String),
    /// `/users/{id}/login`.
    Login(String),
}

impl Command {
    /// Whether the path has `method` (reading 3).
    fn allows(&self, method: &Method) -> bool {
        match self {
            Command::Users | Command::User(_) => {
                [Method::GET, Method::POST, Method::DELETE].contains(method)
            }
            Command::Login(_) => method == Method::POST,
        }
    }

    /// Reads a path: one trailing `/` is ignored; a user path of another shape
    /// has an id with a `/` in it (403 `invalid_argument_id`); any other path
    /// is no command (404).
    fn parse(path: &str) -> Result<Command, Failure> {
        let trimmed = path.strip_prefix('/').unwrap_or(path);
        let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
        let segments: Vec<String> = trimmed.split('/').map(percent_decode).collect();
        match segments.as_slice() {
            [users] if users == "users" => Ok(Command::Users),
            [users, id] if users == "users" => Ok(Command::User(id.clone())),
            [users, id, login] if users == "users" && login == "login" => {
                Ok(Command::Login(id.clone()))
            }
            [users, ..] if users == "users" => {
                Err(Failure::invalid(&Field::top("id"), "not a valid username"))
            }
            _ => Err(Failure::command_not_found(path)),
        }
    }
}

/// Percent-decodes one path segment (`+` stays a `+` in a path); bytes that
/// are not UTF-8 become U+FFFD.
fn percent_decode(segment: &str) -> String {
    let raw = segment.as_bytes();
    let mut bytes = Vec::with_capacity(raw.len());
    let mut at = 0;
    while at < raw.len() {
        let escaped = (raw[at] == b'%')
            .then(|| raw.get(at + 1..at + 3))
            .flatten()
            .filter(|hex| hex.iter().all(u8::is_ascii_hexdigit))
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                bytes.push(byte);
                at += 3;
            }
            None => {
                bytes.push(raw[at]);
                at += 1;
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}
