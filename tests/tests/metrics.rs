//! The Prometheus endpoint: after real calls through the gateway to a
//! simulated OpenAdmin panel, `/metrics` (scraped over real HTTP) shows every
//! listed series with the figures those calls must have moved.

use panelgate_proto::v1::{
    Credentials, GetAccountRequest, ListPackagesRequest, PanelKind, PasswordCredentials,
    RegisterServerRequest, Server, credentials,
};
use panelgate_sim::{OpenAdminConfig, OpenAdminSim};
use panelgate_tests::{
    Backend,
    gateway::by_name,
    scrape::{free_loopback_port, samples, scrape, sum},
    with_gateway,
};
use tonic::Code;

#[tokio::test]
async fn metrics_show_calls_panels_caches_logins_and_the_inventory() {
    let metrics_addr = free_loopback_port();
    with_gateway(
        Backend::Sqlite,
        |config| config.metrics_listen = Some(metrics_addr),
        move |gateway| async move {
            let sim = OpenAdminSim::start(OpenAdminConfig::default())
                .await
                .expect("start the OpenAdmin simulator");
            let (_, before) = scrape(metrics_addr).await;
            let before = samples(&before);

            let server = gateway
                .inventory()
                .register_server(RegisterServerRequest {
                    server: Some(Server {
                        name: "openpanel".to_owned(),
                        kind: PanelKind::Openadmin.into(),
                        base_url: sim.base_url(),
                        ..Default::default()
                    }),
                    credentials: Some(Credentials {
                        kind: Some(credentials::Kind::Password(PasswordCredentials {
                            username: "admin".to_owned(),
                            password: "admin-secret".to_owned(),
                        })),
                    }),
                    request_id: String::new(),
                })
                .await
                .expect("register the OpenAdmin server")
                .into_inner()
                .server
                .expect("server in reply");
            for _ in 0..3 {
                gateway
                    .packages()
                    .list_packages(ListPackagesRequest {
                        target: by_name("openpanel"),
                        ..Default::default()
                    })
                    .await
                    .expect("list packages");
            }
            let missing = gateway
                .accounts()
                .get_account(GetAccountRequest {
                    target: by_name("openpanel"),
                    username: "nobody".to_owned(),
                })
                .await
                .expect_err("an unknown account");
            assert_eq!(missing.code(), Code::NotFound, "{missing:?}");

            let (content_type, text) = scrape(metrics_addr).await;
            assert!(content_type.starts_with("text/plain"), "{content_type}");
            let after = samples(&text);
            let moved = |name: &str, labels: &[(&str, &str)]| {
                sum(&after, name, labels) - sum(&before, name, labels)
            };
            let list_packages = [
                ("grpc_service", "panelgate.v1.PackageService"),
                ("grpc_method", "ListPackages"),
            ];
            let get_account = [
                ("grpc_service", "panelgate.v1.AccountService"),
                ("grpc_method", "GetAccount"),
            ];
            let openpanel = [
                ("server_id", server.id.as_str()),
                ("panel_kind", "openadmin"),
            ];

            // gRPC server metrics, go-grpc-prometheus names.
            assert_eq!(moved("grpc_server_started_total", &list_packages), 3.0);
            let ok = [list_packages[0], list_packages[1], ("grpc_code", "OK")];
            assert_eq!(moved("grpc_server_handled_total", &ok), 3.0);
            let not_found = [get_account[0], get_account[1], ("grpc_code", "NOT_FOUND")];
            assert_eq!(moved("grpc_server_handled_total", &not_found), 1.0);
            assert_eq!(
                moved("grpc_server_handling_seconds_count", &list_packages),
                3.0
            );
            let all_buckets = [list_packages[0], list_packages[1], ("le", "+Inf")];
            assert_eq!(
                moved("grpc_server_handling_seconds_bucket", &all_buckets),
                3.0
            );
            assert!(moved("grpc_server_handling_seconds_sum", &list_packages) > 0.0);

            // Panel calls: every request the panel received is counted once,
            // the unknown user's read as a 4xx and the rest as 2xx.
            let received = sim.request_count() as f64;
            let two_xx = [openpanel[0], openpanel[1], ("outcome", "2xx")];
            let four_xx = [openpanel[0], openpanel[1], ("outcome", "4xx")];
            assert_eq!(moved("panelgate_upstream_requests_total", &four_xx), 1.0);
            assert_eq!(
                moved("panelgate_upstream_requests_total", &two_xx),
                received - 1.0
            );
            let latencies = moved(
                "panelgate_upstream_request_duration_seconds_count",
                &openpanel,
            );
            assert_eq!(latencies, received);
            let logins = [("server_id", server.id.as_str()), ("outcome", "ok")];
            assert_eq!(moved("panelgate_panel_logins_total", &logins), 1.0);
            assert_eq!(sim.login_count(), 1);

            // Caches.
            let lookups = |cache: &str, result: &str| {
                moved(
                    "panelgate_cache_requests_total",
                    &[("cache", cache), ("result", result)],
                )
            };
            assert_eq!(lookups("packages", "miss"), 1.0);
            assert_eq!(lookups("packages", "hit"), 2.0);
            assert_eq!(lookups("jwt", "miss"), 1.0);
            assert!(
                lookups("jwt", "hit") >= 1.0,
                "the account read reuses the token"
            );
            assert!(lookups("servers", "miss") >= 1.0);
            assert!(lookups("servers", "hit") >= 3.0);

            // The inventory: registering wrote, routing read.
            assert!(
                moved(
                    "panelgate_inventory_query_duration_seconds_count",
                    &[("statement", "insert"), ("outcome", "ok")]
                ) >= 1.0
            );
            assert!(
                moved(
                    "panelgate_inventory_query_duration_seconds_count",
                    &[("statement", "select")]
                ) >= 1.0
            );
            // Secrets stay out of the exposition.
            assert!(!text.contains("admin-secret"));
        },
    )
    .await;
}
