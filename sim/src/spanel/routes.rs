//! The HTTP surface: `/<folder>/api.php` (any method, read as PHP reads
//! `$_POST`) and the web server's 404 page for every other path.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Json, Response};
use axum::routing::any;

use super::actions;
use super::state::SharedPanel;
use crate::form::Form;
use crate::server::{host_or, lock};

/// The panel's router: `api.php` under the panel's folder, and the 404 fallback.
pub(super) fn router(panel: SharedPanel) -> Router {
    let folder = lock(&panel).folder.clone();
    Router::new()
        .route(&format!("/{folder}/api.php"), any(api))
        .fallback(not_found)
        .with_state(panel)
}

/// `api.php`: every answer is HTTP 200 JSON, errors included (reading 1).
async fn api(
    State(panel): State<SharedPanel>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // PHP fills `$_POST` only for a POST with a form Content-Type; any other
    // request reads as an empty form (reading 1).
    let form = if method == Method::POST && is_form(&headers) {
        Form::decode(&body)
    } else {
        Form::default()
    };
    let mut panel = lock(&panel);
    let host = host_or(&headers, panel.server_addr);
    Json(actions::answer(&mut panel, &form, &body, &host)).into_response()
}

/// Whether the request says `application/x-www-form-urlencoded` (parameters allowed).
fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| {
            media
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// Any other path: the web server's 404 page.
async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, Html(NOT_FOUND_PAGE)).into_response()
}

/// nginx's 404 page.
const NOT_FOUND_PAGE: &str = "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n\
<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
