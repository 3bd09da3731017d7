//! The endpoint table (methods, paths, which build has which, dispatch) and
//! what the views share: the request, the reply, the error shapes.

use std::collections::HashMap;

use axum::http::{HeaderMap, Method, StatusCode, header};
use serde_json::{Map, Value, json};

use super::AutologinStyle;
use super::state::Panel;
use super::{auth, domains, plans, system, users};
use crate::table::endpoint_table;

/// What the table says of one route.
pub(super) struct Facts {
    /// The method and the path (axum's syntax, `{param}`), as `GET /api/usage`
    /// lists them.
    route: &'static str,
    /// The handler, run once the API switch and the token have been checked.
    pub(super) run: fn(&mut Panel, &Call<'_>) -> Reply,
    /// What `GET /api/usage` says of the route.
    pub(super) about: &'static str,
}

impl Facts {
    /// The HTTP method and the path.
    ///
    /// # Panics
    ///
    /// On a row of the table without a method before its path (a bug).
    pub(super) fn method_and_path(&self) -> (Method, &'static str) {
        self.route
            .split_once(' ')
            .and_then(|(method, path)| Some((Method::from_bytes(method.as_bytes()).ok()?, path)))
            .expect("every route of the table is `<METHOD> <path>`")
    }
}

endpoint_table! {
    /// One route of the OpenAdmin API, in the order `GET /api/usage` lists them.
    pub(super) enum Endpoint: Facts {
        Health { route: "GET /api/", run: system::health, about: "Check that the API is reachable (no token needed)" },
        Login { route: "POST /api/", run: auth::login, about: "Get a JWT access token with the admin username and password" },
        WhoAmI { route: "GET /api/whoami", run: auth::whoami, about: "Show the admin the token belongs to" },
        ListUsers { route: "GET /api/users", run: users::list, about: "List all accounts" },
        CreateUser { route: "POST /api/users", run: users::create, about: "Create an account" },
        GetUser { route: "GET /api/users/{username}", run: users::get, about: "Get one account" },
        PatchUser { route: "PATCH /api/users/{username}", run: users::patch, about: "Suspend, unsuspend or change the password of an account" },
        PutUser { route: "PUT /api/users/{username}", run: users::change_plan, about: "Change the plan of an account" },
        DeleteUser { route: "DELETE /api/users/{username}", run: users::delete, about: "Delete an account" },
        AutologinPost { route: "POST /api/users/{username}/autologin", run: users::autologin_post, about: "Get a one-time login link for an account" },
        AutologinConnect { route: "CONNECT /api/users/{username}", run: users::autologin, about: "Get a one-time login link for an account" },
        Ips { route: "GET /api/ips", run: users::ips, about: "List accounts with a dedicated IP" },
        ListPlans { route: "GET /api/plans", run: plans::list, about: "List all plans" },
        CreatePlan { route: "POST /api/plans", run: plans::create, about: "Create a plan" },
        GetPlan { route: "GET /api/plans/{plan_id}", run: plans::get, about: "Get one plan" },
        ListDomains { route: "GET /api/domains", run: domains::list, about: "List all domains" },
        AddDomain { route: "POST /api/domains/new", run: domains::add, about: "Add a domain to an account" },
        DomainAction { route: "POST /api/domains/{action}/{domain}", run: domains::action, about: "Suspend, unsuspend or delete a domain" },
        Usage { route: "GET /api/usage", run: system::usage, about: "List the API endpoints" },
        UsageStats { route: "GET /api/usage/stats", run: system::usage_stats, about: "Usage statistics history" },
        UsageCpu { route: "GET /api/usage/cpu", run: system::cpu, about: "CPU usage per core" },
        UsageMemory { route: "GET /api/usage/memory", run: system::memory, about: "Memory usage" },
        UsageDisk { route: "GET /api/usage/disk", run: system::disk, about: "Disk usage per account" },
        UsageServer { route: "GET /api/usage/server", run: system::server_disk, about: "Disk usage per partition" },
        System { route: "GET /api/system", run: system::system, about: "System information" },
        Services { route: "GET /api/services", run: system::services, about: "List monitored services" },
        PutServices { route: "PUT /api/services", run: system::put_services, about: "Replace the monitored services list" },
        ServicesStatus { route: "GET /api/services/status", run: system::services_status, about: "Check the status of services" },
        ServiceAction { route: "POST /api/service/{action}/{service_name}", run: system::service_action, about: "Start, restart or stop a service" },
        Notifications { route: "GET /api/notifications", run: system::notifications, about: "List notifications" },
    }
}

impl Endpoint {
    /// Whether the simulated build has this route.
    pub(super) fn available(self, autologin: AutologinStyle, plan_create: bool) -> bool {
        match self {
            Endpoint::AutologinPost => autologin == AutologinStyle::Post,
            Endpoint::AutologinConnect => autologin == AutologinStyle::Connect,
            Endpoint::CreatePlan => plan_create,
            _ => true,
        }
    }

    /// Whether the route answers without a token.
    pub(super) fn public(self) -> bool {
        matches!(self, Endpoint::Health | Endpoint::Login)
    }
}

/// One request as the views see it.
pub(super) struct Call<'a> {
    /// Path parameters by name.
    pub(super) params: &'a HashMap<String, String>,
    pub(super) headers: &'a HeaderMap,
    pub(super) body: &'a [u8],
    /// The admin the token names (empty on public routes).
    pub(super) admin: &'a str,
}

impl Call<'_> {
    /// A path parameter (empty if the route has none by that name).
    pub(super) fn param(&self, name: &str) -> &str {
        self.params.get(name).map_or("", String::as_str)
    }

    /// The body as a JSON object, if it is one.
    pub(super) fn object(&self) -> Option<Map<String, Value>> {
        match serde_json::from_slice(self.body) {
            Ok(Value::Object(fields)) => Some(fields),
            _ => None,
        }
    }

    /// Whether the request says its body is JSON (`Content-Type: application/json`,
    /// parameters allowed).
    pub(super) fn sends_json(&self) -> bool {
        self.headers
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
    }

    /// The request's host without its port (the server's IP without a `Host` header).
    pub(super) fn host(&self, panel: &Panel) -> String {
        let Some(host) = self
            .headers
            .get(header::HOST)
            .and_then(|value| value.to_str().ok())
            .filter(|host| !host.is_empty())
        else {
            return panel.server_addr.ip().to_string();
        };
        if host.starts_with('[') {
            // [v6]:port
            return match host.find(']') {
                Some(end) => host[..=end].to_owned(),
                None => host.to_owned(),
            };
        }
        host.split(':').next().unwrap_or(host).to_owned()
    }
}

/// What the panel answers: a status and a JSON body.
#[derive(Debug)]
pub(super) struct Reply {
    pub(super) status: StatusCode,
    pub(super) body: Value,
}

impl Reply {
    /// HTTP 200.
    pub(super) fn ok(body: Value) -> Reply {
        Reply {
            status: StatusCode::OK,
            body,
        }
    }

    /// HTTP 201 `{"success": true, "response": {"message": ...}}`, the user mutations' shape.
    pub(super) fn done(message: &str) -> Reply {
        Reply {
            status: StatusCode::CREATED,
            body: json!({"success": true, "response": {"message": message}}),
        }
    }
}

/// `{"error": message}` with `status`.
pub(super) fn error(status: StatusCode, message: &str) -> Reply {
    Reply {
        status,
        body: json!({ "error": message }),
    }
}

/// HTTP 500 `{"success": false, "error": message}`: an opencli command failed.
pub(super) fn cli_failure(message: &str) -> Reply {
    Reply {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        body: json!({"success": false, "error": message}),
    }
}
