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
    /// The HTTP method.
    pub(super) method: Method,
    /// The path, in axum's syntax (`{param}`), as `GET /api/usage` lists it.
    pub(super) path: &'static str,
    /// What `GET /api/usage` says of it.
    pub(super) about: &'static str,
    /// The handler, run once the API switch and the token have been checked.
    pub(super) run: fn(&mut Panel, &Call<'_>) -> Reply,
}

endpoint_table! {
    /// One route of the OpenAdmin API, in the order `GET /api/usage` lists them.
    pub(super) enum Endpoint: Facts {
        Health {
            method: Method::GET, path: "/api/", about: "Check that the API is reachable (no token needed)",
            run: |_, _| Reply::ok(json!({"message": "API is working!"})),
        },
        Login {
            method: Method::POST, path: "/api/", about: "Get a JWT access token with the admin username and password",
            run: |panel, call| auth::login(panel, call.body),
        },
        WhoAmI {
            method: Method::GET, path: "/api/whoami", about: "Show the admin the token belongs to",
            run: |_, call| Reply::ok(json!({"logged_in_as": call.admin})),
        },
        ListUsers {
            method: Method::GET, path: "/api/users", about: "List all accounts",
            run: |panel, _| users::list(panel),
        },
        CreateUser {
            method: Method::POST, path: "/api/users", about: "Create an account",
            run: users::create,
        },
        GetUser {
            method: Method::GET, path: "/api/users/{username}", about: "Get one account",
            run: |panel, call| users::get(panel, call),
        },
        PatchUser {
            method: Method::PATCH, path: "/api/users/{username}",
            about: "Suspend, unsuspend or change the password of an account",
            run: users::patch,
        },
        PutUser {
            method: Method::PUT, path: "/api/users/{username}", about: "Change the plan of an account",
            run: users::change_plan,
        },
        DeleteUser {
            method: Method::DELETE, path: "/api/users/{username}", about: "Delete an account",
            run: users::delete,
        },
        AutologinPost {
            method: Method::POST, path: "/api/users/{username}/autologin",
            about: "Get a one-time login link for an account",
            run: |panel, call| users::autologin(panel, call, true),
        },
        AutologinConnect {
            method: Method::CONNECT, path: "/api/users/{username}",
            about: "Get a one-time login link for an account",
            run: |panel, call| users::autologin(panel, call, false),
        },
        Ips {
            method: Method::GET, path: "/api/ips", about: "List accounts with a dedicated IP",
            run: |panel, _| users::ips(panel),
        },
        ListPlans {
            method: Method::GET, path: "/api/plans", about: "List all plans",
            run: |panel, _| plans::list(panel),
        },
        CreatePlan {
            method: Method::POST, path: "/api/plans", about: "Create a plan",
            run: plans::create,
        },
        GetPlan {
            method: Method::GET, path: "/api/plans/{plan_id}", about: "Get one plan",
            run: |panel, call| plans::get(panel, call),
        },
        ListDomains {
            method: Method::GET, path: "/api/domains", about: "List all domains",
            run: |panel, _| domains::list(panel),
        },
        AddDomain {
            method: Method::POST, path: "/api/domains/new", about: "Add a domain to an account",
            run: domains::add,
        },
        DomainAction {
            method: Method::POST, path: "/api/domains/{action}/{domain}",
            about: "Suspend, unsuspend or delete a domain",
            run: domains::action,
        },
        Usage {
            method: Method::GET, path: "/api/usage", about: "List the API endpoints",
            run: |panel, _| system::usage(panel),
        },
        UsageStats {
            method: Method::GET, path: "/api/usage/stats", about: "Usage statistics history",
            run: |panel, _| system::usage_stats(panel),
        },
        UsageCpu {
            method: Method::GET, path: "/api/usage/cpu", about: "CPU usage per core",
            run: |_, _| system::cpu(),
        },
        UsageMemory {
            method: Method::GET, path: "/api/usage/memory", about: "Memory usage",
            run: |_, _| system::memory(),
        },
        UsageDisk {
            method: Method::GET, path: "/api/usage/disk", about: "Disk usage per account",
            run: |panel, _| system::disk(panel),
        },
        UsageServer {
            method: Method::GET, path: "/api/usage/server", about: "Disk usage per partition",
            run: |panel, _| system::server_disk(panel),
        },
        System {
            method: Method::GET, path: "/api/system", about: "System information",
            run: |panel, _| system::system(panel),
        },
        Services {
            method: Method::GET, path: "/api/services", about: "List monitored services",
            run: |panel, _| Reply::ok(Value::Object(panel.services.clone())),
        },
        PutServices {
            method: Method::PUT, path: "/api/services", about: "Replace the monitored services list",
            run: system::put_services,
        },
        ServicesStatus {
            method: Method::GET, path: "/api/services/status", about: "Check the status of services",
            run: |panel, _| system::services_status(panel),
        },
        ServiceAction {
            method: Method::POST, path: "/api/service/{action}/{service_name}",
            about: "Start, restart or stop a service",
            run: system::service_action,
        },
        Notifications {
            method: Method::GET, path: "/api/notifications", about: "List notifications",
            run: |panel, _| system::notifications(panel),
        },
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
