//! Health is open; reflection needs its scope, unless it is public.

use std::sync::Arc;

use panelgate::auth::{Auth, scopes};
use panelgate_tests::{
    Backend,
    errors::assert_error,
    gateway::{TEST_CALLER, with_gateway},
};
use tonic::Code;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

use panelgate_tests::reflection::Reflection;

use crate::{LIST_SERVERS, bearer, call_empty};

/// Kubernetes probes carry no token, so health must answer without one;
/// reflection describes the whole API, so by default it needs scope
/// `reflection` (on both reflection versions), and a token with every other
/// scope is not enough.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_is_open_and_reflection_needs_its_scope() {
    with_gateway(
        Backend::Sqlite,
        |_| {},
        |gateway| async move {
            let health = HealthClient::new(gateway.channel())
                .check(HealthCheckRequest {
                    service: "panelgate.v1.AccountService".to_owned(),
                })
                .await
                .expect("health answers without a token")
                .into_inner();
            assert_eq!(health.status(), ServingStatus::Serving);

            let anonymous = Reflection::V1.services(gateway.channel(), None).await;
            assert_error(anonymous, Code::Unauthenticated, "UNAUTHENTICATED");
            let anonymous = Reflection::V1alpha.services(gateway.channel(), None).await;
            assert_error(anonymous, Code::Unauthenticated, "UNAUTHENTICATED");

            let others: Vec<&str> = scopes::ALL
                .iter()
                .copied()
                .filter(|scope| *scope != scopes::REFLECTION)
                .collect();
            let lacking = gateway.token(TEST_CALLER, &others, &[]);
            let refused = Reflection::V1
                .services(gateway.channel(), Some(&bearer(&lacking)))
                .await;
            assert_error(refused, Code::PermissionDenied, "SCOPE_MISSING");

            let reflection = gateway.token(TEST_CALLER, &[scopes::REFLECTION], &[]);
            let services = Reflection::V1
                .services(gateway.channel(), Some(&bearer(&reflection)))
                .await
                .expect("reflection with its scope");
            assert!(
                services.contains("panelgate.v1.AccountService")
                    && services.contains("grpc.health.v1.Health"),
                "{services:?}"
            );
        },
    )
    .await;
}

/// `--reflection-public` opens reflection (both versions) to callers without
/// a token, and nothing else: the API itself still needs one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_reflection_needs_no_token_but_the_api_still_does() {
    with_gateway(
        Backend::Sqlite,
        |config| {
            config.auth = Some(Arc::new(Auth {
                tokens: panelgate_tests::gateway::test_tokens(),
                reflection_public: true,
            }));
        },
        |gateway| async move {
            let services = Reflection::V1
                .services(gateway.channel(), None)
                .await
                .expect("public reflection v1 without a token");
            assert!(
                services.contains("panelgate.v1.InventoryService"),
                "{services:?}"
            );
            let services = Reflection::V1alpha
                .services(gateway.channel(), None)
                .await
                .expect("public reflection v1alpha without a token");
            assert!(
                services.contains("panelgate.v1.InventoryService"),
                "{services:?}"
            );

            let anonymous = call_empty(gateway.channel(), LIST_SERVERS, None).await;
            assert_error(anonymous, Code::Unauthenticated, "UNAUTHENTICATED");
        },
    )
    .await;
}
