//! The HTTP surface: one route per endpoint behind the admin guard, Django's
//! 404 page for unknown paths and its 301 for a missing trailing slash.

use std::collections::HashMap;

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::header::{HOST, LOCATION};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Json, Response};
use axum::routing::any;
use axum::{Extension, Router};

use super::endpoints::{Endpoint, Reply, Request, error};
use super::state::{Panel, SharedPanel};
use crate::server::lock;

/// The panel's router: the ten endpoints and the fallback.
pub(super) fn router(panel: SharedPanel) -> Router {
    let mut router = Router::new();
    for endpoint in Endpoint::ALL {
        // `any`: the guard answers other methods itself, as the panel does.
        router = router.route(
            endpoint.facts().path,
            any(handle).layer(Extension(*endpoint)),
        );
    }
    router.fallback(not_found).with_state(panel)
}

/// Runs one endpoint: the guard, then the endpoint on the form body.
async fn handle(
    Extension(endpoint): Extension<Endpoint>,
    State(panel): State<SharedPanel>,
    method: Method,
    headers: HeaderMap,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let mut panel = lock(&panel);
    if let Err(refusal) = admin_guard(&panel, &method, &headers) {
        return into_response(refusal);
    }
    let request = Request {
        // Not form-encoded (JSON, no body, ...) reads as an empty form, like `request.POST`.
        form: form.map(|Form(fields)| fields).unwrap_or_default(),
        host: match headers.get(HOST).and_then(|host| host.to_str().ok()) {
            Some(host) => host.to_owned(),
            None => panel.server_addr.to_string(),
        },
    };
    into_response(endpoint.run(&mut panel, &request))
}

/// The panel's `admin_api_login_required` decorator, in its order: API switch,
/// method, both credential headers present, credentials right.
fn admin_guard(panel: &Panel, method: &Method, headers: &HeaderMap) -> Result<(), Reply> {
    if !panel.api_enabled {
        return Err(error("API is currently disabled"));
    }
    if method != Method::POST {
        return Err(error("POST method required"));
    }
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .filter(|value| !value.is_empty())
    };
    let (Some(username), Some(password)) = (header("username"), header("password")) else {
        return Err(error("Username and password required"));
    };
    if username != panel.admin_username || password != panel.admin_password {
        return Err(error("Invalid credentials"));
    }
    Ok(())
}

fn into_response(reply: Reply) -> Response {
    match reply {
        Reply::Json(body) => Json(body).into_response(),
        Reply::ServerError => {
            (StatusCode::INTERNAL_SERVER_ERROR, Html(SERVER_ERROR_PAGE)).into_response()
        }
    }
}

/// Django's answer outside the routes: 301 to the slashed path for a known
/// endpoint without its trailing slash (`APPEND_SLASH`), else its 404 page.
async fn not_found(uri: Uri) -> Response {
    let slashed = format!("{}/", uri.path());
    if Endpoint::ALL
        .iter()
        .any(|endpoint| endpoint.facts().path == slashed)
    {
        let location = match uri.query() {
            Some(query) => format!("{slashed}?{query}"),
            None => slashed,
        };
        return (StatusCode::MOVED_PERMANENTLY, [(LOCATION, location)]).into_response();
    }
    (StatusCode::NOT_FOUND, Html(NOT_FOUND_PAGE)).into_response()
}

/// Django's 404 page with `DEBUG = False`.
const NOT_FOUND_PAGE: &str = "\n<!doctype html>\n<html lang=\"en\">\n<head>\n  <title>Not Found</title>\n\
</head>\n<body>\n  <h1>Not Found</h1><p>The requested resource was not found on this server.</p>\n\
</body>\n</html>\n";

/// Django's 500 page with `DEBUG = False`.
const SERVER_ERROR_PAGE: &str = "\n<!doctype html>\n<html lang=\"en\">\n<head>\n  <title>Server Error (500)</title>\n\
</head>\n<body>\n  <h1>Server Error (500)</h1><p></p>\n</body>\n</html>\n";
