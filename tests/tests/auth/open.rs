//! Health is open; reflection needs its scope, unless it is public.

use std::{collections::BTreeSet, sync::Arc};

use panelgate::auth::{Auth, scopes};
use panelgate_tests::{
    Backend,
    errors::assert_error,
    gateway::{TEST_CALLER, with_gateway},
};
use tonic::{
    Code, Status, codegen::tokio_stream, metadata::AsciiMetadataValue, transport::Channel,
};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};
use tonic_reflection::pb::{v1, v1alpha};

use crate::{LIST_SERVERS, bearer, call_empty};

/// Lists services through reflection v1 over `channel`, sending
/// `authorization` when given.
async fn reflection_v1_services(
    channel: Channel,
    authorization: Option<&str>,
) -> Result<BTreeSet<String>, Status> {
    use v1::{
        ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
    };
    let mut request = tonic::Request::new(tokio_stream::iter([ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    }]));
    if let Some(value) = authorization {
        let value: AsciiMetadataValue = value.parse().expect("an ASCII header value");
        request.metadata_mut().insert("authorization", value);
    }
    let mut replies = ServerReflectionClient::new(channel)
        .server_reflection_info(request)
        .await?
        .into_inner();
    let reply = replies.message().await?.expect("one reply");
    match reply.message_response {
        Some(MessageResponse::ListServicesResponse(list)) => Ok(list
            .service
            .into_iter()
            .map(|service| service.name)
            .collect()),
        other => panic!("expected a service list, got {other:?}"),
    }
}

/// Lists services through reflection v1alpha (older grpcurl) without a token.
async fn reflection_v1alpha_services_tokenless(
    channel: Channel,
) -> Result<BTreeSet<String>, Status> {
    use v1alpha::{
        ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
    };
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut replies = ServerReflectionClient::new(channel)
        .server_reflection_info(tokio_stream::iter([request]))
        .await?
        .into_inner();
    let reply = replies.message().await?.expect("one reply");
    match reply.message_response {
        Some(MessageResponse::ListServicesResponse(list)) => Ok(list
            .service
            .into_iter()
            .map(|service| service.name)
            .collect()),
        other => panic!("expected a service list, got {other:?}"),
    }
}

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

            let anonymous = reflection_v1_services(gateway.channel(), None).await;
            assert_error(anonymous, Code::Unauthenticated, "UNAUTHENTICATED");
            let anonymous = reflection_v1alpha_services_tokenless(gateway.channel()).await;
            assert_error(anonymous, Code::Unauthenticated, "UNAUTHENTICATED");

            let others: Vec<&str> = scopes::ALL
                .iter()
                .copied()
                .filter(|scope| *scope != scopes::REFLECTION)
                .collect();
            let lacking = gateway.token(TEST_CALLER, &others, &[]);
            let refused = reflection_v1_services(gateway.channel(), Some(&bearer(&lacking))).await;
            assert_error(refused, Code::PermissionDenied, "SCOPE_MISSING");

            let reflection = gateway.token(TEST_CALLER, &[scopes::REFLECTION], &[]);
            let services = reflection_v1_services(gateway.channel(), Some(&bearer(&reflection)))
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
            let services = reflection_v1_services(gateway.channel(), None)
                .await
                .expect("public reflection v1 without a token");
            assert!(
                services.contains("panelgate.v1.InventoryService"),
                "{services:?}"
            );
            let services = reflection_v1alpha_services_tokenless(gateway.channel())
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
