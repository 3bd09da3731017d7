//! The HTTP surface: one route per endpoint the simulated build has, behind the
//! API switch and the token check, and the build's own 404 and 405 pages.

use std::collections::{BTreeMap, HashMap};

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{MethodFilter, MethodRouter};

use super::AutologinStyle;
use super::auth;
use super::endpoints::{Call, Endpoint, Reply, error};
use super::state::SharedPanel;
use crate::faults;
use crate::server::lock;

/// What every `/api/*` route answers while the API is off.
const API_DISABLED: &str = "API access is disabled! To enable api access OpenAdmin > Settings";

/// The panel's router, for the build its `autologin` and `plan_create` describe.
pub(super) fn router(panel: SharedPanel) -> Router {
    let (autologin, plan_create) = {
        let panel = lock(&panel);
        (panel.autologin, panel.plan_create)
    };
    let mut paths: BTreeMap<&str, MethodRouter<SharedPanel>> = BTreeMap::new();
    for &endpoint in Endpoint::ALL {
        let (method, path) = endpoint.facts().method_and_path();
        let Ok(filter) = MethodFilter::try_from(method) else {
            continue;
        };
        let available = endpoint.available(autologin, plan_create);
        // The other autologin form is simply absent: its path is unknown (POST
        // form: 404) or has other methods (CONNECT form: 405) (reading 1).
        if !available && endpoint != Endpoint::CreatePlan {
            continue;
        }
        let methods = paths.remove(path).unwrap_or_default();
        let methods = if available {
            let handler =
                move |state, params, headers, body| handle(endpoint, state, params, headers, body);
            methods.on(filter, handler)
        } else {
            // A build without plan creation lacks the route: the 404 page, not a
            // 405 from the GET route on the same path (reading 11).
            methods.on(filter, not_found)
        };
        paths.insert(path, methods);
    }
    let mut router = Router::new();
    for (path, methods) in paths {
        router = router.route(path, methods);
    }
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(panel)
}

/// Runs one endpoint: API switch, token (unless public), then the endpoint.
async fn handle(
    endpoint: Endpoint,
    State(panel): State<SharedPanel>,
    params: Result<Path<HashMap<String, String>>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = params.map(|Path(params)| params).unwrap_or_default();
    let response = into_response(answer(endpoint, &panel, &params, &headers, &body));
    if endpoint == Endpoint::AutologinConnect {
        // Else axum's router drops the body of the 200.
        return faults::with_unknown_size(response).await;
    }
    response
}

/// The endpoint's reply, under the panel lock.
fn answer(
    endpoint: Endpoint,
    panel: &SharedPanel,
    params: &HashMap<String, String>,
    headers: &HeaderMap,
    body: &[u8],
) -> Reply {
    let mut panel = lock(panel);
    if !panel.api_enabled {
        return error(StatusCode::NOT_FOUND, API_DISABLED);
    }
    let admin = if endpoint.public() {
        String::new()
    } else {
        match auth::check(&panel, headers) {
            Ok(admin) => admin,
            Err(refusal) => return refusal,
        }
    };
    let call = Call {
        params,
        headers,
        body,
        admin: &admin,
    };
    (endpoint.facts().run)(&mut panel, &call)
}

fn into_response(reply: Reply) -> Response {
    (reply.status, Json(reply.body)).into_response()
}

/// An unknown path: Flask's 404 page (Python build) or Go's mux text (Go build).
async fn not_found(State(panel): State<SharedPanel>) -> Response {
    let autologin = lock(&panel).autologin;
    match autologin {
        AutologinStyle::Connect => html(StatusCode::NOT_FOUND, FLASK_NOT_FOUND),
        AutologinStyle::Post => text(StatusCode::NOT_FOUND, "404 page not found\n"),
    }
}

/// A known path with a method it lacks; axum adds the `Allow` header.
async fn method_not_allowed(State(panel): State<SharedPanel>) -> Response {
    let autologin = lock(&panel).autologin;
    match autologin {
        AutologinStyle::Connect => html(StatusCode::METHOD_NOT_ALLOWED, FLASK_NOT_ALLOWED),
        AutologinStyle::Post => text(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed\n"),
    }
}

fn html(status: StatusCode, page: &'static str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        page,
    )
        .into_response()
}

/// Go's `http.Error`.
fn text(status: StatusCode, body: &'static str) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

/// Werkzeug's 404 page.
const FLASK_NOT_FOUND: &str = "<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n\
<h1>Not Found</h1>\n<p>The requested URL was not found on the server. If you entered the URL \
manually please check your spelling and try again.</p>\n";

/// Werkzeug's 405 page.
const FLASK_NOT_ALLOWED: &str = "<!doctype html>\n<html lang=en>\n<title>405 Method Not Allowed</title>\n\
<h1>Method Not Allowed</h1>\n<p>The method is not allowed for the requested URL.</p>\n";
