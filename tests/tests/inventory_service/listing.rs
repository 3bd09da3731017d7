//! ListServers: pages by name, and filters that combine with AND.

use panelgate_proto::v1::{ListServersRequest, PanelKind, Server, ServerState};
use panelgate_tests::{Backend, gateway::with_gateway};

use crate::{admin_api_server, labels, list_servers, listed_names, register};

panelgate_tests::on_both_backends!(
    list_servers_pages_by_name,
    list_servers_filters_combine_with_and
);

/// Five servers in pages of two: three pages in name order, no server twice
/// or missing, the last page without a token; page_size 0 means one page.
async fn list_servers_pages_by_name(backend: Backend) {
    with_gateway(
        backend,
        |_| {},
        |gateway| async move {
            for name in ["srv-c", "srv-a", "srv-e", "srv-b", "srv-d"] {
                register(&gateway, admin_api_server(name, "http://127.0.0.1:1"), None)
                    .await
                    .expect("register");
            }
            let mut pages: Vec<Vec<String>> = Vec::new();
            let mut token = String::new();
            loop {
                let page = list_servers(
                    &gateway,
                    ListServersRequest {
                        page_size: 2,
                        page_token: token.clone(),
                        ..Default::default()
                    },
                )
                .await
                .expect("list a page");
                pages.push(page.servers.into_iter().map(|s| s.name).collect());
                token = page.next_page_token;
                if token.is_empty() {
                    break;
                }
                assert!(pages.len() < 10, "paging does not end: {pages:?}");
            }
            assert_eq!(
                pages,
                vec![
                    vec!["srv-a", "srv-b"],
                    vec!["srv-c", "srv-d"],
                    vec!["srv-e"],
                ],
            );
            let all = listed_names(&gateway, ListServersRequest::default()).await;
            assert_eq!(all, ["srv-a", "srv-b", "srv-c", "srv-d", "srv-e"]);
        },
    )
    .await;
}

/// Filters by kind, group, state and labels, each alone and together: a
/// server is listed only when it meets every condition.
async fn list_servers_filters_combine_with_and(backend: Backend) {
    with_gateway(
        backend,
        |_| {},
        |gateway| async move {
            let fleet = [
                (
                    "srv-a",
                    "eu",
                    ServerState::Disabled,
                    &[("tier", "gold")][..],
                ),
                (
                    "srv-b",
                    "us",
                    ServerState::Draining,
                    &[("tier", "gold"), ("region", "us")][..],
                ),
                (
                    "srv-c",
                    "eu",
                    ServerState::Active,
                    &[("tier", "gold"), ("region", "eu")][..],
                ),
                (
                    "srv-d",
                    "eu",
                    ServerState::Active,
                    &[("tier", "silver"), ("region", "eu")][..],
                ),
                (
                    "srv-e",
                    "us",
                    ServerState::Active,
                    &[("tier", "silver"), ("region", "us")][..],
                ),
            ];
            for (name, group, state, pairs) in fleet {
                let server = Server {
                    group: group.to_owned(),
                    state: state.into(),
                    labels: labels(pairs),
                    ..admin_api_server(name, "http://127.0.0.1:1")
                };
                let stored = register(&gateway, server, None).await.expect("register");
                assert_eq!(stored.state(), state);
            }
            let filtered = |request: ListServersRequest| listed_names(&gateway, request);

            let by_kind = |kind: PanelKind| ListServersRequest {
                kind: kind.into(),
                ..Default::default()
            };
            assert_eq!(filtered(by_kind(PanelKind::AdminApi)).await.len(), 5);
            assert!(filtered(by_kind(PanelKind::Spanel)).await.is_empty());

            let by_group = |group: &str| ListServersRequest {
                group: group.to_owned(),
                ..Default::default()
            };
            assert_eq!(filtered(by_group("eu")).await, ["srv-a", "srv-c", "srv-d"]);
            assert_eq!(filtered(by_group("us")).await, ["srv-b", "srv-e"]);
            assert!(filtered(by_group("apac")).await.is_empty());

            let by_state = |state: ServerState| ListServersRequest {
                state: state.into(),
                ..Default::default()
            };
            assert_eq!(
                filtered(by_state(ServerState::Active)).await,
                ["srv-c", "srv-d", "srv-e"]
            );
            assert_eq!(filtered(by_state(ServerState::Draining)).await, ["srv-b"]);
            assert_eq!(filtered(by_state(ServerState::Disabled)).await, ["srv-a"]);

            let by_labels = |pairs: &[(&str, &str)]| ListServersRequest {
                labels: labels(pairs),
                ..Default::default()
            };
            assert_eq!(
                filtered(by_labels(&[("tier", "gold")])).await,
                ["srv-a", "srv-b", "srv-c"]
            );
            assert_eq!(
                filtered(by_labels(&[("tier", "gold"), ("region", "us")])).await,
                ["srv-b"],
                "labels combine with AND"
            );
            assert!(
                filtered(by_labels(&[("tier", "gold"), ("region", "apac")]))
                    .await
                    .is_empty()
            );
            assert!(filtered(by_labels(&[("owner", "nobody")])).await.is_empty());

            let everything = ListServersRequest {
                kind: PanelKind::AdminApi.into(),
                group: "eu".into(),
                state: ServerState::Active.into(),
                labels: labels(&[("tier", "silver")]),
                ..Default::default()
            };
            assert_eq!(filtered(everything).await, ["srv-d"]);
        },
    )
    .await;
}
