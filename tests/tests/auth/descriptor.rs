//! The descriptor walk: every RPC of the descriptor set refuses a missing
//! token, a foreign signature and a missing scope.

use std::time::Duration;

use panelgate::auth::{KeyMaterial, Tokens, scopes};
use panelgate_tests::{
    Backend,
    errors::assert_error,
    gateway::{TEST_CALLER, TEST_TOKEN_AUDIENCE, with_gateway},
};
use secrecy::SecretBox;
use tonic::Code;

use crate::{
    assert_unauthenticated_without_echo, bearer, call_empty, needed_scope, panelgate_rpcs,
};

/// The issue's "done when": every RPC in the descriptor set, called over the
/// wire, refuses a missing token, a token of another key and a token lacking
/// just its scope, and is let through with only that scope. Walking the
/// descriptor set (not a hand list) means a new RPC is covered the day it is
/// added, and the count check stops the walk from passing on an empty set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rpc_refuses_a_missing_token_a_bad_signature_and_a_missing_scope() {
    with_gateway(
        Backend::Sqlite,
        |_| {},
        |gateway| async move {
            let (rpcs, declared) = panelgate_rpcs();
            assert!(declared > 30, "only {declared} RPCs in the descriptor set");
            let foreign = Tokens::new(
                KeyMaterial::Hs256(SecretBox::new(
                    b"another-secret-of-at-least-32-bytes-7Qx"
                        .to_vec()
                        .into_boxed_slice(),
                )),
                TEST_TOKEN_AUDIENCE,
                TEST_TOKEN_AUDIENCE,
                Duration::from_secs(5),
            )
            .expect("a foreign key");
            let foreign_token =
                panelgate_tests::gateway::issue(&foreign, "mallory", scopes::ALL, &[]);
            let mut walked = 0;
            for rpc in &rpcs {
                let needed = needed_scope(rpc);

                let anonymous = call_empty(gateway.channel(), rpc, None).await;
                let status = assert_error(anonymous, Code::Unauthenticated, "UNAUTHENTICATED");
                assert!(
                    status.message().contains("authorization"),
                    "{rpc}: the refusal should say what to send: {status:?}"
                );

                let forged =
                    call_empty(gateway.channel(), rpc, Some(&bearer(&foreign_token))).await;
                assert_unauthenticated_without_echo(forged, &foreign_token, rpc);

                let others: Vec<&str> = scopes::ALL
                    .iter()
                    .copied()
                    .filter(|scope| *scope != needed)
                    .collect();
                let lacking = gateway.token(TEST_CALLER, &others, &[]);
                let refused = call_empty(gateway.channel(), rpc, Some(&bearer(&lacking))).await;
                let status = assert_error(refused, Code::PermissionDenied, "SCOPE_MISSING");
                assert!(
                    status.message().contains(needed),
                    "{rpc}: the refusal should name scope {needed}: {status:?}"
                );

                let only = gateway.token(TEST_CALLER, &[needed], &[]);
                if let Err(status) = call_empty(gateway.channel(), rpc, Some(&bearer(&only))).await
                {
                    assert!(
                        !matches!(
                            status.code(),
                            Code::Unauthenticated | Code::PermissionDenied | Code::Unimplemented
                        ),
                        "{rpc}: scope {needed} alone should get the call past auth: {status:?}"
                    );
                }
                walked += 1;
            }
            assert_eq!(walked, declared, "every RPC of the descriptor set walked");

            // A path outside the table is refused even with every scope.
            let everything = gateway.token(TEST_CALLER, scopes::ALL, &[]);
            let unknown = call_empty(
                gateway.channel(),
                "/panelgate.v1.AccountService/StealEverything",
                Some(&bearer(&everything)),
            )
            .await;
            assert_error(unknown, Code::PermissionDenied, "METHOD_UNKNOWN");
        },
    )
    .await;
}
