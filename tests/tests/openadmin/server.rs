//! The server: `/api/system` and the endpoint listing (CheckServer),
//! `/api/usage*` and `/api/services/status` (GetServerInfo),
//! `/api/service/*` and `/api/services` (system services), and
//! `/api/notifications`.

use std::collections::BTreeMap;

use panelgate_proto::Capability;
use panelgate_proto::v1::{
    ControlSystemServiceRequest, GetServerInfoRequest, ListNotificationsRequest, Notification,
    ServerInfo, ServiceState, SetSystemServiceMonitoredRequest, SystemServiceAction,
};
use panelgate_sim::SimService;
use panelgate_tests::limits::{GIB, KIB};
use tonic::{Code, Status};

use crate::{DEFAULT_PLAN, Oa, SERVER};

panelgate_tests::panel_tests!(Oa:
    check_server_reports_version_and_live_capabilities,
    server_info_gathers_system_usage_and_services, system_services_start_stop_and_restart,
    service_monitoring_is_set_in_the_panels_list, notifications_are_listed_in_order);

/// GetServerInfo of the server.
async fn server_info(oa: &Oa) -> ServerInfo {
    let request = GetServerInfoRequest {
        target: oa.target(),
    };
    let reply = oa.gateway.servers().get_server_info(request).await;
    let info = reply.expect("get server info").into_inner().info;
    info.expect("info in reply")
}

/// ControlSystemService of `service` with `action`.
async fn control_service(
    oa: &Oa,
    service: &str,
    action: SystemServiceAction,
) -> Result<(), Status> {
    let request = ControlSystemServiceRequest {
        target: oa.target(),
        service: service.to_owned(),
        action: action.into(),
        ..Default::default()
    };
    let reply = oa.gateway.servers().control_system_service(request).await;
    reply.map(drop)
}

/// SetSystemServiceMonitored of `service`.
async fn set_monitored(oa: &Oa, service: &str, monitored: bool) -> Result<(), Status> {
    let request = SetSystemServiceMonitoredRequest {
        target: oa.target(),
        service: service.to_owned(),
        monitored,
        ..Default::default()
    };
    let reply = oa
        .gateway
        .servers()
        .set_system_service_monitored(request)
        .await;
    reply.map(drop)
}

/// The panel's snapshot of `service`.
fn service(oa: &Oa, service: &str) -> SimService {
    oa.sim
        .services()
        .into_iter()
        .find(|entry| entry.name == service)
        .unwrap_or_else(|| panic!("service {service} on the panel"))
}

/// CheckServer logs in, reads `/api/system` and the endpoint listing: healthy,
/// the panel's version, and live capabilities that, on a build with plan
/// creation, are OpenAdmin's whole static list.
async fn check_server_reports_version_and_live_capabilities(oa: Oa) {
    let checked = oa.check(SERVER).await;
    assert!(checked.healthy, "{checked:?}");
    assert_eq!(checked.error_reason, "");
    assert_eq!(checked.panel_version, "1.8.0");
    assert!(checked.latency.is_some());
    assert_eq!(oa.sim.login_count(), 1);
    let stored = oa.server().await;
    let mut live = checked.capabilities.clone();
    let mut all = stored.capabilities.clone();
    live.sort_unstable();
    all.sort_unstable();
    assert_eq!(live, all);
    assert!(live.contains(&(Capability::CreatePackage as i32)));
}

/// The state of each service as GetServerInfo reports it.
fn service_states(info: &ServerInfo) -> BTreeMap<String, ServiceState> {
    info.services
        .iter()
        .map(|service| (service.name.clone(), service.state()))
        .collect()
}

/// GetServerInfo gathers `/api/system`, `/api/usage/{stats,cpu,memory,server}`
/// and `/api/services/status`: host facts, per-core CPU, memory and disk in
/// bytes, the account count, and each service's state.
async fn server_info_gathers_system_usage_and_services(oa: Oa) {
    oa.create("alice", DEFAULT_PLAN).await;
    oa.create("bob", DEFAULT_PLAN).await;
    let info = server_info(&oa).await;
    assert_eq!(info.hostname, "openpanel-sim");
    assert_eq!(info.os, "Ubuntu 24.04 LTS");
    assert_eq!(info.kernel, "6.8.0-36-generic");
    assert_eq!(info.panel_version, "1.8.0");
    let uptime = info.uptime.expect("uptime").seconds;
    assert!((18_905..18_905 + 600).contains(&uptime), "{uptime}");
    assert_eq!(info.cpu_percent, [12.5, 3.0, 7.25, 0.0]);
    assert_eq!(
        (info.memory_total_bytes, info.memory_used_bytes),
        (8 * GIB, 3 * GIB)
    );
    assert_eq!(info.filesystems.len(), 1, "{:?}", info.filesystems);
    let root = &info.filesystems[0];
    assert_eq!(root.mount_point, "/");
    assert_eq!(root.total_bytes, 123_690_532_864);
    // The base use plus each account's home and primary domain.
    assert_eq!(root.used_bytes, 63_366_230_016 + 2 * (64 + 1536) * KIB);
    assert_eq!(info.account_count, Some(2));
    let states = service_states(&info);
    assert_eq!(
        states,
        BTreeMap::from(
            [
                ("caddy", ServiceState::Running),
                ("csf", ServiceState::Stopped),
                ("docker", ServiceState::Running),
                ("mysql", ServiceState::Running),
                ("named", ServiceState::Running),
            ]
            .map(|(name, state)| (name.to_owned(), state))
        )
    );
}

/// ControlSystemService starts, stops and restarts a service on the panel
/// (GetServerInfo then reports the new state); a service the panel does not
/// list is NOT_FOUND.
async fn system_services_start_stop_and_restart(oa: Oa) {
    control_service(&oa, "caddy", SystemServiceAction::Stop)
        .await
        .expect("stop caddy");
    assert!(!service(&oa, "caddy").running);
    control_service(&oa, "csf", SystemServiceAction::Start)
        .await
        .expect("start csf");
    assert!(service(&oa, "csf").running);
    control_service(&oa, "mysql", SystemServiceAction::Stop)
        .await
        .expect("stop mysql");
    assert!(!service(&oa, "mysql").running);
    control_service(&oa, "mysql", SystemServiceAction::Restart)
        .await
        .expect("restart mysql");
    assert!(service(&oa, "mysql").running, "a restart leaves it running");

    let states = service_states(&server_info(&oa).await);
    assert_eq!(states.get("caddy"), Some(&ServiceState::Stopped));
    assert_eq!(states.get("csf"), Some(&ServiceState::Running));
    assert_eq!(states.get("mysql"), Some(&ServiceState::Running));

    let missing = control_service(&oa, "nosuch", SystemServiceAction::Start).await;
    oa.assert_said(
        missing,
        Code::NotFound,
        "SERVICE_NOT_FOUND",
        "Service nosuch not found",
    );
}

/// SetSystemServiceMonitored edits the panel's services list (GET, then PUT
/// of the whole list): only that service's monitoring changes, not whether it
/// runs nor any other entry; an unlisted service is NOT_FOUND and changes
/// nothing.
async fn service_monitoring_is_set_in_the_panels_list(oa: Oa) {
    let before = oa.sim.services();
    set_monitored(&oa, "csf", true).await.expect("monitor csf");
    set_monitored(&oa, "caddy", false)
        .await
        .expect("unmonitor caddy");
    let after = oa.sim.services();
    assert_eq!(after.len(), before.len());
    for (old, new) in before.iter().zip(&after) {
        let expected = match old.name.as_str() {
            "csf" => SimService {
                monitored: true,
                ..old.clone()
            },
            "caddy" => SimService {
                monitored: false,
                ..old.clone()
            },
            _ => old.clone(),
        };
        assert_eq!(new, &expected);
    }
    assert!(service(&oa, "caddy").running, "unmonitored, still running");

    let missing = set_monitored(&oa, "nosuch", true).await;
    oa.assert_panel_error(missing, Code::NotFound, "SERVICE_NOT_FOUND");
    assert_eq!(oa.sim.services(), after);
}

/// ListNotifications gives the panel's notifications in order: none at
/// first, then what was added.
async fn notifications_are_listed_in_order(oa: Oa) {
    let list = || async {
        let request = ListNotificationsRequest {
            target: oa.target(),
            ..Default::default()
        };
        let reply = oa.gateway.servers().list_notifications(request).await;
        reply
            .expect("list notifications")
            .into_inner()
            .notifications
    };
    assert_eq!(list().await, []);
    oa.sim
        .add_notification("Update available", "New package updates available.");
    oa.sim.add_notification("Disk", "Disk almost full on /");
    let notification = |title: &str, message: &str| Notification {
        title: title.into(),
        message: message.into(),
    };
    assert_eq!(
        list().await,
        [
            notification("Update available", "New package updates available."),
            notification("Disk", "Disk almost full on /"),
        ]
    );
}
