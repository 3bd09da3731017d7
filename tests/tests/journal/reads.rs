//! Reading the journal: ListOperations' filters combine and its pages walk
//! everything once, a group-limited caller sees its groups' entries only,
//! GetOperation returns one entry.

use std::time::{Duration, SystemTime};

use panelgate::auth::scopes;
use panelgate_proto::v1::{GetOperationRequest, ListOperationsRequest, ListServersRequest};
use panelgate_tests::{
    Backend, PanelFixture,
    errors::{assert_error, assert_invalid},
    gateway::{TEST_CALLER, by_id, by_name},
};
use tonic::Code;

use crate::{
    CREATE, DELETE, REGISTER, SUSPEND, all_entries, create, delete_missing, entries, list, pair,
    suspend, time_of, timestamp, what, with_panels,
};

panelgate_tests::on_both_backends!(
    list_operations_filters_combine_and_pages_walk_everything_once,
    group_limited_caller_sees_only_its_groups_entries,
    get_operation_returns_one_entry
);

/// ListOperations' filters (caller, target by name and by id, resource,
/// method, start-time window) each select exactly the matching entries and
/// combine with AND; an unknown target is NOT_FOUND; paging with page_size 2
/// (and 1, filtered) walks every entry exactly once in the unpaged order; a
/// malformed page token, or another list's token, is INVALID_ARGUMENT
/// `page_token`; an invalid timestamp is INVALID_ARGUMENT naming it.
async fn list_operations_filters_combine_and_pages_walk_everything_once(backend: Backend) {
    with_panels(backend, 2, |gateway, fixtures| async move {
        let one = fixtures[0].register_in(&gateway, "scala", "").await;
        let two = fixtures[1].register_in(&gateway, "scala-2", "").await;
        let billing = gateway.as_caller(&gateway.token("billing", scopes::ALL, &[]));
        create(&gateway, "scala", "alice").await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        let middle = SystemTime::now();
        tokio::time::sleep(Duration::from_millis(20)).await;
        create(&billing, "scala-2", "bob").await;
        suspend(&billing, "scala", "alice").await;
        delete_missing(&gateway, "scala-2", "ghost").await;

        let everything = all_entries(&gateway).await;
        assert_eq!(
            what(&everything),
            [
                pair(DELETE, "account/ghost"),
                pair(SUSPEND, "account/alice"),
                pair(CREATE, "account/bob"),
                pair(CREATE, "account/alice"),
                pair(REGISTER, "server/scala-2"),
                pair(REGISTER, "server/scala"),
            ]
        );
        let filtered =
            async |request: ListOperationsRequest| what(&entries(&gateway, request).await);
        assert_eq!(
            filtered(ListOperationsRequest {
                caller: "billing".to_owned(),
                ..Default::default()
            })
            .await,
            [pair(SUSPEND, "account/alice"), pair(CREATE, "account/bob")]
        );
        assert_eq!(
            filtered(ListOperationsRequest {
                caller: TEST_CALLER.to_owned(),
                ..Default::default()
            })
            .await,
            [
                pair(DELETE, "account/ghost"),
                pair(CREATE, "account/alice"),
                pair(REGISTER, "server/scala-2"),
                pair(REGISTER, "server/scala"),
            ]
        );
        assert_eq!(
            filtered(ListOperationsRequest {
                target: by_name("scala"),
                ..Default::default()
            })
            .await,
            [
                pair(SUSPEND, "account/alice"),
                pair(CREATE, "account/alice"),
                pair(REGISTER, "server/scala"),
            ]
        );
        assert_eq!(
            filtered(ListOperationsRequest {
                target: by_id(&two),
                ..Default::default()
            })
            .await,
            [
                pair(DELETE, "account/ghost"),
                pair(CREATE, "account/bob"),
                pair(REGISTER, "server/scala-2"),
            ]
        );
        assert_eq!(
            filtered(ListOperationsRequest {
                target: by_id(&one),
                caller: "billing".to_owned(),
                ..Default::default()
            })
            .await,
            [pair(SUSPEND, "account/alice")]
        );
        assert_eq!(
            filtered(ListOperationsRequest {
                resource: "account/alice".to_owned(),
                ..Default::default()
            })
            .await,
            [
                pair(SUSPEND, "account/alice"),
                pair(CREATE, "account/alice")
            ]
        );
        assert_eq!(
            filtered(ListOperationsRequest {
                method: CREATE.to_owned(),
                ..Default::default()
            })
            .await,
            [pair(CREATE, "account/bob"), pair(CREATE, "account/alice")]
        );
        assert_eq!(
            filtered(ListOperationsRequest {
                method: CREATE.to_owned(),
                caller: TEST_CALLER.to_owned(),
                target: by_name("scala-2"),
                ..Default::default()
            })
            .await,
            []
        );
        assert_eq!(
            filtered(ListOperationsRequest {
                start_time_from: timestamp(middle),
                ..Default::default()
            })
            .await,
            [
                pair(DELETE, "account/ghost"),
                pair(SUSPEND, "account/alice"),
                pair(CREATE, "account/bob"),
            ]
        );
        assert_eq!(
            filtered(ListOperationsRequest {
                start_time_to: timestamp(middle),
                ..Default::default()
            })
            .await,
            [
                pair(CREATE, "account/alice"),
                pair(REGISTER, "server/scala-2"),
                pair(REGISTER, "server/scala"),
            ]
        );
        let bob_started = time_of(everything[2].start_time.as_ref());
        assert_eq!(
            filtered(ListOperationsRequest {
                start_time_from: timestamp(bob_started),
                start_time_to: timestamp(bob_started + Duration::from_micros(1)),
                ..Default::default()
            })
            .await,
            [pair(CREATE, "account/bob")],
            "from is inclusive, to exclusive"
        );
        assert!(
            filtered(ListOperationsRequest {
                caller: "nobody".to_owned(),
                ..Default::default()
            })
            .await
            .is_empty()
        );
        let unknown = list(
            &gateway,
            ListOperationsRequest {
                target: by_name("nowhere"),
                ..Default::default()
            },
        )
        .await;
        assert_error(unknown, Code::NotFound, "SERVER_NOT_FOUND");

        // Paging.
        let all_ids: Vec<_> = everything.iter().map(|entry| entry.id.clone()).collect();
        let walk = async |filter: ListOperationsRequest, page_size: i32| {
            let mut ids = Vec::new();
            let mut token = String::new();
            let mut pages = 0;
            loop {
                let page = list(
                    &gateway,
                    ListOperationsRequest {
                        page_size,
                        page_token: token.clone(),
                        ..filter.clone()
                    },
                )
                .await
                .expect("a page");
                pages += 1;
                assert!(page.operations.len() <= usize::try_from(page_size).expect("size"));
                ids.extend(page.operations.into_iter().map(|entry| entry.id));
                if page.next_page_token.is_empty() {
                    break;
                }
                token = page.next_page_token;
                assert!(pages < 20, "paging does not end");
            }
            (ids, pages)
        };
        let (walked, pages) = walk(ListOperationsRequest::default(), 2).await;
        assert_eq!(walked, all_ids, "page_size 2 walked a different list");
        assert!((3..=4).contains(&pages), "{pages} pages of 2 for 6 entries");
        let ours: Vec<_> = everything
            .iter()
            .filter(|entry| entry.caller == TEST_CALLER)
            .map(|entry| entry.id.clone())
            .collect();
        let (walked, _) = walk(
            ListOperationsRequest {
                caller: TEST_CALLER.to_owned(),
                ..Default::default()
            },
            1,
        )
        .await;
        assert_eq!(walked, ours, "filtered page_size 1 walk");

        for token in ["not-a-token", "AAAA", "%%%"] {
            let bad = list(
                &gateway,
                ListOperationsRequest {
                    page_token: token.to_owned(),
                    ..Default::default()
                },
            )
            .await;
            assert_invalid(bad, "page_token");
        }
        let servers = gateway
            .inventory()
            .list_servers(ListServersRequest {
                page_size: 1,
                ..Default::default()
            })
            .await
            .expect("list servers")
            .into_inner();
        assert!(
            !servers.next_page_token.is_empty(),
            "premise: a second page"
        );
        let foreign = list(
            &gateway,
            ListOperationsRequest {
                page_token: servers.next_page_token,
                ..Default::default()
            },
        )
        .await;
        assert_invalid(foreign, "page_token");
        let bad_time = list(
            &gateway,
            ListOperationsRequest {
                start_time_from: Some(prost_types::Timestamp {
                    seconds: 0,
                    nanos: -1,
                }),
                ..Default::default()
            },
        )
        .await;
        assert_invalid(bad_time, "start_time_from");
    })
    .await;
}

/// A reader whose token is limited to inventory group `eu` lists only the
/// entries of calls on `eu` servers, and GetOperation of a call on a `us`
/// server is PERMISSION_DENIED `GROUP_NOT_ALLOWED`.
async fn group_limited_caller_sees_only_its_groups_entries(backend: Backend) {
    with_panels(backend, 2, |gateway, fixtures| async move {
        fixtures[0].register_in(&gateway, "scala-eu", "eu").await;
        fixtures[1].register_in(&gateway, "scala-us", "us").await;
        create(&gateway, "scala-eu", "alice").await;
        create(&gateway, "scala-us", "bob").await;
        suspend(&gateway, "scala-us", "bob").await;
        let auditor =
            gateway.as_caller(&gateway.token("auditor", &[scopes::OPERATIONS_READ], &["eu"]));

        let seen = all_entries(&auditor).await;
        assert_eq!(
            what(&seen),
            [
                pair(CREATE, "account/alice"),
                pair(REGISTER, "server/scala-eu"),
            ]
        );
        let bob = entries(
            &gateway,
            ListOperationsRequest {
                resource: "account/bob".to_owned(),
                method: CREATE.to_owned(),
                ..Default::default()
            },
        )
        .await;
        let [bob] = bob.as_slice() else {
            panic!("one create of bob: {bob:#?}");
        };
        let hidden = auditor
            .operations()
            .get_operation(GetOperationRequest { id: bob.id.clone() })
            .await;
        assert_error(hidden, Code::PermissionDenied, "GROUP_NOT_ALLOWED");
        let shown = auditor
            .operations()
            .get_operation(GetOperationRequest {
                id: seen[0].id.clone(),
            })
            .await
            .expect("an eu entry");
        assert_eq!(shown.into_inner().operation.as_ref(), Some(&seen[0]));
    })
    .await;
}

/// GetOperation returns exactly the entry ListOperations lists (also for an
/// id in upper case); a malformed id is INVALID_ARGUMENT `id`; an unknown
/// UUID is NOT_FOUND `OPERATION_NOT_FOUND`.
async fn get_operation_returns_one_entry(backend: Backend) {
    with_panels(backend, 1, |gateway, fixtures| async move {
        fixtures[0].register_in(&gateway, "scala", "").await;
        create(&gateway, "scala", "alice").await;
        delete_missing(&gateway, "scala", "ghost").await;
        let journal = all_entries(&gateway).await;
        assert_eq!(journal.len(), 3);
        for entry in &journal {
            for id in [entry.id.clone(), entry.id.to_ascii_uppercase()] {
                let got = gateway
                    .operations()
                    .get_operation(GetOperationRequest { id })
                    .await
                    .expect("get operation")
                    .into_inner();
                assert_eq!(got.operation.as_ref(), Some(entry));
            }
        }
        for id in [
            "",
            "42",
            "not-a-uuid",
            "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz",
            "0b5c3c1e5a4f4f0e9d3a2f8e6f1d7c21",
        ] {
            let bad = gateway
                .operations()
                .get_operation(GetOperationRequest { id: id.to_owned() })
                .await;
            assert_invalid(bad, "id");
        }
        let unknown = gateway
            .operations()
            .get_operation(GetOperationRequest {
                id: "0b5c3c1e-5a4f-4f0e-9d3a-2f8e6f1d7c21".to_owned(),
            })
            .await;
        assert_error(unknown, Code::NotFound, "OPERATION_NOT_FOUND");
    })
    .await;
}
