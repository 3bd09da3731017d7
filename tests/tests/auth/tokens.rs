//! Token shapes (malformed, foreign, expired, not yet valid, identity
//! providers' claims, non-ASCII headers), never echoed; and public keys:
//! RS256 and ES256 accept their key pair only.

use std::{sync::Arc, time::Duration};

use jsonwebtoken::{Algorithm, EncodingKey};
use panelgate::auth::{Auth, KeyMaterial, Tokens};
use panelgate_proto::v1::ListServersRequest;
use panelgate_tests::{
    Backend,
    errors::assert_error,
    gateway::{TEST_TOKEN_AUDIENCE, with_gateway},
};
use serde_json::{Value, json};
use tonic::{Code, metadata::MetadataValue};

use crate::{
    ALG_NONE_HEADER, LIST_SERVERS, TEST_ONLY_EC_PRIVATE_PEM, TEST_ONLY_EC_PUBLIC_PEM,
    TEST_ONLY_OTHER_EC_PRIVATE_PEM, TEST_ONLY_OTHER_RSA_PRIVATE_PEM, TEST_ONLY_RSA_PRIVATE_PEM,
    TEST_ONLY_RSA_PUBLIC_PEM, assert_unauthenticated_without_echo, bearer, call_empty, call_with,
    good_claims, now, sign, sign_with_test_secret, with,
};

/// Every way a token can be wrong is UNAUTHENTICATED, and the refusal never
/// repeats the token back (a refused token may still be someone's real
/// credential, and error messages end up in logs). A correctly crafted token
/// goes through first, so each refusal is down to its one defect.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_foreign_and_expired_tokens_are_unauthenticated_and_never_echoed() {
    with_gateway(
        Backend::Sqlite,
        |_| {},
        |gateway| async move {
            let good = sign_with_test_secret(Algorithm::HS256, &good_claims());
            call_empty(gateway.channel(), LIST_SERVERS, Some(&bearer(&good)))
                .await
                .expect("the crafted control token is accepted");

            let claims_part = good.split('.').nth(1).expect("a JWT has claims");
            let alg_none = format!("{ALG_NONE_HEADER}.{claims_part}.");
            let hs512 = sign_with_test_secret(Algorithm::HS512, &good_claims());
            let expired = sign_with_test_secret(
                Algorithm::HS256,
                &with(
                    with(good_claims(), "exp", json!(now() - 120)),
                    "iat",
                    json!(now() - 720),
                ),
            );
            let wrong_issuer = sign_with_test_secret(
                Algorithm::HS256,
                &with(good_claims(), "iss", json!("someone-else")),
            );
            let wrong_audience = sign_with_test_secret(
                Algorithm::HS256,
                &with(good_claims(), "aud", json!("another-service")),
            );
            let no_subject =
                sign_with_test_secret(Algorithm::HS256, &with(good_claims(), "sub", Value::Null));
            let shapes: Vec<(&str, String)> = vec![
                ("alg none", bearer(&alg_none)),
                ("HS512 with the right secret", bearer(&hs512)),
                ("expired beyond the leeway", bearer(&expired)),
                ("wrong issuer", bearer(&wrong_issuer)),
                ("wrong audience", bearer(&wrong_audience)),
                ("no sub", bearer(&no_subject)),
                ("garbage", bearer("garbage-not-a-jwt-Zq9xTT4w")),
                (
                    "three garbage segments",
                    bearer("Zm9vYmFyYmF6.cXV4cXV1eA.c2lnbmF0dXJl"),
                ),
                (
                    "Basic credentials",
                    "Basic cGFuZWxnYXRlOnNlY3JldC1aUTk=".to_owned(),
                ),
                ("a lone Bearer", "Bearer ".to_owned()),
                ("the token without Bearer", good.clone()),
            ];
            for (what, authorization) in &shapes {
                let result = call_empty(gateway.channel(), LIST_SERVERS, Some(authorization)).await;
                assert_unauthenticated_without_echo(result, authorization, what);
            }

            // The refusal says why (without the token), so operators can fix it.
            let expired = call_empty(gateway.channel(), LIST_SERVERS, Some(&bearer(&expired)))
                .await
                .expect_err("expired");
            assert!(expired.message().contains("expired"), "{expired:?}");
            let hs512 = call_empty(gateway.channel(), LIST_SERVERS, Some(&bearer(&hs512)))
                .await
                .expect_err("HS512");
            assert!(hs512.message().contains("algorithm"), "{hs512:?}");

            // Still serving, and the control token still works.
            call_empty(gateway.channel(), LIST_SERVERS, Some(&bearer(&good)))
                .await
                .expect("the gateway still serves");
        },
    )
    .await;
}

/// `nbf` ("not before") is honoured with the same bounded leeway as `exp`: a
/// token minted for later must not work now (the `--auth-leeway` help and the
/// refusal text promise it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_not_valid_yet_is_unauthenticated() {
    with_gateway(
        Backend::Sqlite,
        |_| {},
        |gateway| async move {
            let started = sign_with_test_secret(
                Algorithm::HS256,
                &with(good_claims(), "nbf", json!(now() - 60)),
            );
            call_empty(gateway.channel(), LIST_SERVERS, Some(&bearer(&started)))
                .await
                .expect("a token valid since a minute ago");
            let later = sign_with_test_secret(
                Algorithm::HS256,
                &with(good_claims(), "nbf", json!(now() + 300)),
            );
            let result = call_empty(gateway.channel(), LIST_SERVERS, Some(&bearer(&later))).await;
            assert_unauthenticated_without_echo(result.clone(), &bearer(&later), "nbf in 5 min");
            let status = result.expect_err("refused");
            assert!(status.message().contains("not valid yet"), "{status:?}");
        },
    )
    .await;
}

/// Identity providers (the RS256/ES256 case) send RFC 7519 claim shapes
/// panelgate's own tokens do not use: `aud` as an array, no `iat`. A token
/// whose `aud` array names panelgate, or that has no `iat`, is valid; an
/// `aud` array without panelgate is not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc_7519_claim_shapes_of_identity_providers_are_understood() {
    with_gateway(
        Backend::Sqlite,
        |_| {},
        |gateway| async move {
            let audiences = sign_with_test_secret(
                Algorithm::HS256,
                &with(
                    good_claims(),
                    "aud",
                    json!(["account", TEST_TOKEN_AUDIENCE]),
                ),
            );
            call_empty(gateway.channel(), LIST_SERVERS, Some(&bearer(&audiences)))
                .await
                .expect("an aud array naming panelgate");
            let no_iat =
                sign_with_test_secret(Algorithm::HS256, &with(good_claims(), "iat", Value::Null));
            call_empty(gateway.channel(), LIST_SERVERS, Some(&bearer(&no_iat)))
                .await
                .expect("a token without iat");
            let elsewhere = sign_with_test_secret(
                Algorithm::HS256,
                &with(good_claims(), "aud", json!(["account", "billing"])),
            );
            let result =
                call_empty(gateway.channel(), LIST_SERVERS, Some(&bearer(&elsewhere))).await;
            assert_unauthenticated_without_echo(result, &elsewhere, "aud array without us");
        },
    )
    .await;
}

/// Health (and public reflection) is open by path prefix, so a path that
/// starts like health but climbs out of it must not reach a panelgate RPC
/// without a token (were it served, ListServers would answer OK).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_path_prefixes_do_not_open_other_services() {
    with_gateway(
        Backend::Sqlite,
        |config| {
            config.auth = Some(Arc::new(Auth {
                tokens: panelgate_tests::gateway::test_tokens(),
                reflection_public: true,
            }));
        },
        |gateway| async move {
            for path in [
                "/grpc.health.v1.Health/../panelgate.v1.InventoryService/ListServers",
                "/grpc.health.v1.Health/%2E%2E/panelgate.v1.InventoryService/ListServers",
                "/grpc.health.v1.Health//panelgate.v1.InventoryService/ListServers",
                "/grpc.reflection.v1.ServerReflection/../../panelgate.v1.InventoryService/ListServers",
                "/grpc.health.v1.Health.x/../panelgate.v1.InventoryService/ListServers",
            ] {
                let status = call_empty(gateway.channel(), path, None)
                    .await
                    .expect_err(path);
                // Not routed (UNIMPLEMENTED) or refused, never served.
                assert!(
                    matches!(
                        status.code(),
                        Code::Unimplemented | Code::Unauthenticated | Code::PermissionDenied
                    ),
                    "{path}: {status:?}"
                );
            }
        },
    )
    .await;
}

/// A header value that is not visible ASCII (obs-text bytes) cannot be a
/// bearer token: UNAUTHENTICATED, not a panic or an internal error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_ascii_authorization_header_is_unauthenticated() {
    with_gateway(
        Backend::Sqlite,
        |_| {},
        |gateway| async move {
            let mut request = tonic::Request::new(());
            let value = MetadataValue::try_from(&b"Bearer \xff\xfe\x80token"[..])
                .expect("obs-text is a legal header value");
            request.metadata_mut().insert("authorization", value);
            let result = call_with(gateway.channel(), LIST_SERVERS, request).await;
            assert_error(result, Code::Unauthenticated, "UNAUTHENTICATED");
            gateway
                .inventory()
                .list_servers(ListServersRequest::default())
                .await
                .expect("the gateway still serves");
        },
    )
    .await;
}

/// A gateway verifying with `public_pem` accepts `algorithm` tokens signed
/// with `private_pem`, and refuses ones signed by `other_private_pem`, ones
/// of `cross_algorithm` signed by `cross_private_pem`, and HS256 tokens keyed
/// with the public key's own bytes (the classic algorithm confusion).
async fn public_key_tokens(
    algorithm: Algorithm,
    public_pem: &'static str,
    private_pem: &str,
    other_private_pem: &str,
    cross: (Algorithm, &str),
) {
    let key = |pem: &str, algorithm: Algorithm| match algorithm {
        Algorithm::RS256 => EncodingKey::from_rsa_pem(pem.as_bytes()).expect("an RSA key"),
        Algorithm::ES256 => EncodingKey::from_ec_pem(pem.as_bytes()).expect("an EC key"),
        other => panic!("no test key for {other:?}"),
    };
    let signed = sign(algorithm, &good_claims(), &key(private_pem, algorithm));
    let other = sign(
        algorithm,
        &good_claims(),
        &key(other_private_pem, algorithm),
    );
    let crossed = sign(cross.0, &good_claims(), &key(cross.1, cross.0));
    let confused = sign(
        Algorithm::HS256,
        &good_claims(),
        &EncodingKey::from_secret(public_pem.as_bytes()),
    );
    let hs256 = sign_with_test_secret(Algorithm::HS256, &good_claims());
    with_gateway(
        Backend::Sqlite,
        |config| {
            config.auth = Some(Arc::new(Auth {
                tokens: Tokens::new(
                    KeyMaterial::PublicKeyPem(public_pem.as_bytes().to_vec()),
                    TEST_TOKEN_AUDIENCE,
                    TEST_TOKEN_AUDIENCE,
                    Duration::from_secs(5),
                )
                .expect("a public key"),
                reflection_public: false,
            }));
        },
        |gateway| async move {
            call_empty(gateway.channel(), LIST_SERVERS, Some(&bearer(&signed)))
                .await
                .expect("a token signed with the private key is accepted");
            for (what, token) in [
                ("signed by another key pair", &other),
                ("signed with another algorithm's key", &crossed),
                ("HS256 keyed with the public key PEM", &confused),
                ("HS256 with a shared secret", &hs256),
            ] {
                let result =
                    call_empty(gateway.channel(), LIST_SERVERS, Some(&bearer(token))).await;
                assert_unauthenticated_without_echo(result, token, what);
            }
        },
    )
    .await;
}

/// RS256 identity-provider tokens: the gateway holds only the public key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rs256_public_key_accepts_its_key_pair_only() {
    public_key_tokens(
        Algorithm::RS256,
        TEST_ONLY_RSA_PUBLIC_PEM,
        TEST_ONLY_RSA_PRIVATE_PEM,
        TEST_ONLY_OTHER_RSA_PRIVATE_PEM,
        (Algorithm::ES256, TEST_ONLY_EC_PRIVATE_PEM),
    )
    .await;
}

/// ES256 (P-256) identity-provider tokens: the gateway holds only the public key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn es256_public_key_accepts_its_key_pair_only() {
    public_key_tokens(
        Algorithm::ES256,
        TEST_ONLY_EC_PUBLIC_PEM,
        TEST_ONLY_EC_PRIVATE_PEM,
        TEST_ONLY_OTHER_EC_PRIVATE_PEM,
        (Algorithm::RS256, TEST_ONLY_RSA_PRIVATE_PEM),
    )
    .await;
}
