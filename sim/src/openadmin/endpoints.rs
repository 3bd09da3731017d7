//! The endpoint table (methods, paths, which build has which, dispatch) and
//! what the views share: the request, the reply, the error shapes.

use std::collections::HashMap;

use axum::http::{HeaderMap, Method, StatusCode, header};
use serde_json::{Map, Value, json};

use super::AutologinStyle;
use super::state::Panel;
use super::{auth, domains, plans, system, users};

/// One route of the OpenAdmin API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Endpoint {
    Health,
    Login,
    WhoAmI,
    ListUsers,
    CreateUser,
    GetUser,
    PatchUser,
    PutUser,
    DeleteUser,
    AutologinPost,
    AutologinConnect,
    Ips,
    ListPlans,
    CreatePlan,
    GetPlan,
    ListDomains,
    AddDomain,
    DomainAction,
    Usage,
    UsageStats,
    UsageCpu,
    UsageMemory,
    UsageDisk,
    UsageServer,
    System,
    Services,
    PutServices,
    ServicesStatus,
    ServiceAction,
    Notifications,
}

impl Endpoint {
    /// Every endpoint, in the order `GET /api/usage` lists them.
    pub(super) const ALL: [Endpoint; 30] = [
        Endpoint::Health,
        Endpoint::Login,
        Endpoint::WhoAmI,
        Endpoint::ListUsers,
        Endpoint::CreateUser,
        Endpoint::GetUser,
        Endpoint::PatchUser,
        Endpoint::PutUser,
        Endpoint::DeleteUser,
        Endpoint::AutologinPost,
        Endpoint::AutologinConnect,
        Endpoint::Ips,
        Endpoint::ListPlans,
        Endpoint::CreatePlan,
        Endpoint::GetPlan,
        Endpoint::ListDomains,
        Endpoint::AddDomain,
        Endpoint::DomainAction,
        Endpoint::Usage,
        Endpoint::UsageStats,
        Endpoint::UsageCpu,
        Endpoint::UsageMemory,
        Endpoint::UsageDisk,
        Endpoint::UsageServer,
        Endpoint::System,
        Endpoint::Services,
        Endpoint::PutServices,
        Endpoint::ServicesStatus,
        Endpoint::ServiceAction,
        Endpoint::Notifications,
    ];

    /// The HTTP method, the path (axum syntax) and a description for `GET /api/usage`.
    pub(super) fn route(self) -> (Method, &'static str, &'static str) {
        use Endpoint::*;
        match self {
            Health => (
                Method::GET,
                "/api/",
                "Check that the API is reachable (no token needed)",
            ),
            Login => (
                Method::POST,
                "/api/",
                "Get a JWT access token with the admin username and password",
            ),
            WhoAmI => (
                Method::GET,
                "/api/whoami",
                "Show the admin the token belongs to",
            ),
            ListUsers => (Method::GET, "/api/users", "List all accounts"),
            CreateUser => (Method::POST, "/api/users", "Create an account"),
            GetUser => (Method::GET, "/api/users/{username}", "Get one account"),
            PatchUser => (
                Method::PATCH,
                "/api/users/{username}",
                "Suspend, unsuspend or change the password of an account",
            ),
            PutUser => (
                Method::PUT,
                "/api/users/{username}",
                "Change the plan of an account",
            ),
            DeleteUser => (Method::DELETE, "/api/users/{username}", "Delete an account"),
            AutologinPost => (
                Method::POST,
                "/api/users/{username}/autologin",
                "Get a one-time login link for an account",
            ),
            AutologinConnect => (
                Method::CONNECT,
                "/api/users/{username}",
                "Get a one-time login link for an account",
            ),
            Ips => (Method::GET, "/api/ips", "List accounts with a dedicated IP"),
            ListPlans => (Method::GET, "/api/plans", "List all plans"),
            CreatePlan => (Method::POST, "/api/plans", "Create a plan"),
            GetPlan => (Method::GET, "/api/plans/{plan_id}", "Get one plan"),
            ListDomains => (Method::GET, "/api/domains", "List all domains"),
            AddDomain => (
                Method::POST,
                "/api/domains/new",
                "Add a domain to an account",
            ),
            DomainAction => (
                Method::POST,
                "/api/domains/{action}/{domain}",
                "Suspend, unsuspend or delete a domain",
            ),
            Usage => (Method::GET, "/api/usage", "List the API endpoints"),
            UsageStats => (Method::GET, "/api/usage/stats", "Usage statistics history"),
            UsageCpu => (Method::GET, "/api/usage/cpu", "CPU usage per core"),
            UsageMemory => (Method::GET, "/api/usage/memory", "Memory usage"),
            UsageDisk => (Method::GET, "/api/usage/disk", "Disk usage per account"),
            UsageServer => (Method::GET, "/api/usage/server", "Disk usage per partition"),
            System => (Method::GET, "/api/system", "System information"),
            Services => (Method::GET, "/api/services", "List monitored services"),
            PutServices => (
                Method::PUT,
                "/api/services",
                "Replace the monitored services list",
            ),
            ServicesStatus => (
                Method::GET,
                "/api/services/status",
                "Check the status of services",
            ),
            ServiceAction => (
                Method::POST,
                "/api/service/{action}/{service_name}",
                "Start, restart or stop a service",
            ),
            Notifications => (Method::GET, "/api/notifications", "List notifications"),
        }
    }

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

    /// Runs the endpoint once the API switch and the token have been checked.
    pub(super) fn run(self, panel: &mut Panel, call: &Call<'_>) -> Reply {
        use Endpoint::*;
        match self {
            Health => Reply::ok(json!({"message": "API is working!"})),
            Login => auth::login(panel, call.body),
            WhoAmI => Reply::ok(json!({"logged_in_as": call.admin})),
            ListUsers => users::list(panel),
            CreateUser => users::create(panel, call),
            GetUser => users::get(panel, call),
            PatchUser => users::patch(panel, call),
            PutUser => users::change_plan(panel, call),
            DeleteUser => users::delete(panel, call),
            AutologinPost => users::autologin(panel, call, true),
            AutologinConnect => users::autologin(panel, call, false),
            Ips => users::ips(panel),
            ListPlans => plans::list(panel),
            CreatePlan => plans::create(panel, call),
            GetPlan => plans::get(panel, call),
            ListDomains => domains::list(panel),
            AddDomain => domains::add(panel, call),
            DomainAction => domains::action(panel, call),
            Usage => system::usage(panel),
            UsageStats => system::usage_stats(panel),
            UsageCpu => system::cpu(),
            UsageMemory => system::memory(),
            UsageDisk => system::disk(panel),
            UsageServer => system::server_disk(panel),
            System => system::system(panel),
            Services => Reply::ok(Value::Object(panel.services.clone())),
            PutServices => system::put_services(panel, call),
            ServicesStatus => system::services_status(panel),
            ServiceAction => system::service_action(panel, call),
            Notifications => system::notifications(panel),
        }
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
