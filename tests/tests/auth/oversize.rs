//! Oversized metadata and messages get a clear status, and the gateway
//! keeps serving.

use panelgate::auth::scopes;
use panelgate_proto::v1::ListServersRequest;
use panelgate_tests::{
    AdminApiFixture, Backend, PanelFixture,
    gateway::{TEST_CALLER, by_name, with_gateway},
};
use tonic::{Code, metadata::AsciiMetadataValue};

use crate::{LIST_SERVERS, bearer, call_empty, call_with, new_account};

/// Request metadata beyond the 32 KiB limit (in an ordinary header and in an
/// oversized bearer token) gets a clear non-OK status instead of tying up or
/// crashing the gateway, which then serves the next call normally.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_metadata_is_refused_and_the_gateway_keeps_serving() {
    with_gateway(
        Backend::Sqlite,
        |_| {},
        |gateway| async move {
            let token = gateway.token(TEST_CALLER, scopes::ALL, &[]);
            let padding: AsciiMetadataValue = "p".repeat(40 * 1024).parse().expect("ASCII");
            let mut request = tonic::Request::new(());
            request
                .metadata_mut()
                .insert("authorization", bearer(&token).parse().expect("ASCII"));
            request.metadata_mut().insert("x-padding", padding);
            let padded = call_with(gateway.channel(), LIST_SERVERS, request).await;
            let status = padded.expect_err("40 KiB of metadata is refused");
            // hyper answers 431 Request Header Fields Too Large (no gRPC
            // status), which tonic reports as UNKNOWN naming the HTTP status:
            // the gateway refused it, not the client.
            assert_ne!(status.code(), Code::Ok);
            assert!(status.message().contains("431"), "{status:?}");

            let huge_token = format!("{token}{}", "A".repeat(40 * 1024));
            let oversized =
                call_empty(gateway.channel(), LIST_SERVERS, Some(&bearer(&huge_token))).await;
            let status = oversized.expect_err("a 40 KiB token is refused");
            assert_ne!(status.code(), Code::Ok);
            assert!(status.message().contains("431"), "{status:?}");

            // Just under the limit is fine: the limit is where it says.
            let mut request = tonic::Request::new(());
            request
                .metadata_mut()
                .insert("authorization", bearer(&token).parse().expect("ASCII"));
            let padding: AsciiMetadataValue = "p".repeat(16 * 1024).parse().expect("ASCII");
            request.metadata_mut().insert("x-padding", padding);
            call_with(gateway.channel(), LIST_SERVERS, request)
                .await
                .expect("16 KiB of metadata is within the limit");

            gateway
                .inventory()
                .list_servers(ListServersRequest::default())
                .await
                .expect("the gateway still serves");
        },
    )
    .await;
}

/// A request message over the 4 MiB limit (a 5 MiB email) is refused with a
/// clear status (RESOURCE_EXHAUSTED, or tonic's OUT_OF_RANGE) before any
/// handler runs: the panel never hears of it,
/// nothing is created, and the gateway serves the next call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_message_is_refused_and_the_gateway_keeps_serving() {
    with_gateway(
        Backend::Sqlite,
        |_| {},
        |gateway| async move {
            let fixture = AdminApiFixture::start().await;
            fixture.register(&gateway, "web-1").await;
            let before = fixture.requests();
            let mut request = new_account(by_name("web-1"), "huge");
            request.email = format!("{}@mail.example", "e".repeat(5 * 1024 * 1024));
            let result = gateway.accounts().create_account(request).await;
            let status = result.expect_err("a 5 MiB message is refused");
            // tonic reports a breach of the decoding limit as OUT_OF_RANGE
            // (gRPC's convention is RESOURCE_EXHAUSTED); either is clear.
            assert!(
                matches!(status.code(), Code::ResourceExhausted | Code::OutOfRange),
                "{status:?}"
            );
            assert!(status.message().contains("too large"), "{status:?}");
            assert!(
                status.message().len() < 1024,
                "a short message, not the request"
            );
            assert_eq!(fixture.requests(), before, "the panel was called");
            assert!(!fixture.account_exists("huge"));

            gateway
                .accounts()
                .create_account(new_account(by_name("web-1"), "small"))
                .await
                .expect("the gateway still serves");
            assert!(fixture.account_exists("small"));
        },
    )
    .await;
}
