//! FleetService's refusals: bad input names its field, unknown runs are
//! NOT_FOUND, and a page token of another list is refused; nothing starts.

use panelgate_proto::v1::{
    GetSyncRunRequest, ListSyncFindingsRequest, SearchAccountsRequest, ServerSelector,
    SyncServersRequest,
};
use panelgate_tests::{
    Backend,
    errors::{assert_error, assert_invalid},
    with_gateway,
};
use tonic::Code;

panelgate_tests::on_both_backends!(bad_fleet_input_is_invalid_argument_naming_the_field);

async fn bad_fleet_input_is_invalid_argument_naming_the_field(backend: Backend) {
    with_gateway(
        backend,
        |_| {},
        |gateway| async move {
            let mut fleet = gateway.fleet();
            let sync = |servers: ServerSelector| SyncServersRequest {
                servers: Some(servers),
                ..SyncServersRequest::default()
            };
            let empty = fleet.sync_servers(sync(ServerSelector::default())).await;
            assert_invalid(empty, "servers");
            let blank_id = ServerSelector {
                server_ids: vec![" ".into()],
                ..ServerSelector::default()
            };
            assert_invalid(
                fleet.sync_servers(sync(blank_id)).await,
                "servers.server_ids",
            );
            let bad_kind = ServerSelector {
                kind: 99,
                ..ServerSelector::default()
            };
            assert_invalid(fleet.sync_servers(sync(bad_kind)).await, "servers.kind");
            let bad_label = ServerSelector {
                labels: [("no spaces".to_owned(), "x".to_owned())].into(),
                ..ServerSelector::default()
            };
            assert_invalid(fleet.sync_servers(sync(bad_label)).await, "servers.labels");
            let usage_without_apply = SyncServersRequest {
                collect_usage: true,
                ..sync(ServerSelector {
                    whole_fleet: true,
                    ..ServerSelector::default()
                })
            };
            let refused = fleet.sync_servers(usage_without_apply).await;
            assert_invalid(refused, "collect_usage");

            let not_an_id = GetSyncRunRequest { id: "run-1".into() };
            assert_invalid(fleet.get_sync_run(not_an_id).await, "id");
            let unknown = "0b5c3c1e-5a4f-4f0e-9d3a-2f8e6f1d7c21";
            let missing = fleet
                .get_sync_run(GetSyncRunRequest { id: unknown.into() })
                .await;
            assert_error(missing, Code::NotFound, "SYNC_RUN_NOT_FOUND");
            let findings = ListSyncFindingsRequest {
                run_id: unknown.into(),
                ..ListSyncFindingsRequest::default()
            };
            let missing = fleet.list_sync_findings(findings).await;
            assert_error(missing, Code::NotFound, "SYNC_RUN_NOT_FOUND");

            let search = |request: SearchAccountsRequest| {
                let mut fleet = gateway.fleet();
                async move { fleet.search_accounts(request).await }
            };
            let over = SearchAccountsRequest {
                min_usage_percent: 101,
                ..SearchAccountsRequest::default()
            };
            assert_invalid(search(over).await, "min_usage_percent");
            let bad_status = SearchAccountsRequest {
                status: 7,
                ..SearchAccountsRequest::default()
            };
            assert_invalid(search(bad_status).await, "status");
            let bad_order = SearchAccountsRequest {
                order_by: 9,
                ..SearchAccountsRequest::default()
            };
            assert_invalid(search(bad_order).await, "order_by");
            let negative = SearchAccountsRequest {
                page_size: -1,
                ..SearchAccountsRequest::default()
            };
            assert_invalid(search(negative).await, "page_size");
            let forged = SearchAccountsRequest {
                page_token: "bm90IGEgdG9rZW4".into(),
                ..SearchAccountsRequest::default()
            };
            assert_invalid(search(forged).await, "page_token");
        },
    )
    .await;
}
