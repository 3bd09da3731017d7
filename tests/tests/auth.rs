//! Caller authentication and authorisation over real gRPC: every RPC of the
//! descriptor set refuses a missing token, a foreign signature and a missing
//! scope; malformed, expired and mis-addressed tokens are UNAUTHENTICATED and
//! never echoed; RS256/ES256 public keys; health is open and reflection needs
//! its scope (unless public); a token limited to inventory groups reaches only
//! their servers (on SQLite and PostgreSQL, with simulated admin_api panels
//! over real HTTP); oversized metadata and messages get a clear status and the
//! gateway keeps serving.

use std::{
    collections::BTreeSet,
    str::FromStr,
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use panelgate::auth::{Auth, KeyMaterial, Tokens, scopes};
use panelgate_proto::v1::{
    CheckServerRequest, CreateAccountRequest, DeleteServerRequest, GetAccountRequest,
    GetOperationRequest, GetServerRequest, LabelSet, ListOperationsRequest, ListServersRequest,
    OperationEntry, PanelKind, RegisterServerRequest, Server, SuspendAccountRequest, Target,
    UpdateServerRequest,
};
use panelgate_tests::{
    AdminApiFixture, Backend, Gateway, PanelFixture,
    errors::{assert_error, reason},
    gateway::{TEST_CALLER, TEST_TOKEN_AUDIENCE, TEST_TOKEN_SECRET, by_id, by_name, with_gateway},
};
use prost::Message;
use prost_types::FileDescriptorSet;
use secrecy::SecretBox;
use serde_json::{Value, json};
use tonic::{
    Code, Status,
    codegen::{http::uri::PathAndQuery, tokio_stream},
    metadata::{AsciiMetadataValue, MetadataValue},
    transport::Channel,
};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};
use tonic_prost::ProstCodec;
use tonic_reflection::pb::{v1, v1alpha};

panelgate_tests::on_both_backends!(a_group_limited_token_reaches_only_servers_of_its_groups);

// ---------------------------------------------------------------------------
// Test-only key material
// ---------------------------------------------------------------------------

/// TEST ONLY: an RSA-2048 key pair generated for these tests (openssl
/// genpkey), the private half signs RS256 tokens the gateway must accept.
const TEST_ONLY_RSA_PRIVATE_PEM: &str = "-----BEGIN PRIVATE KEY-----
MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQDYy8WPYiIgsp47
tNHrteNEd/vevOkoyDz/O4K9MdWIOVJRR8L+HBnocyt26+QgTVOKLtlVHZ4CunPO
DolA0hZN0iFMlxnENUY/66dKzvD+Rj14Fzx8aepdi+AyylSfv/XKg4telOaLw5ET
+UQ1zJ6dh4AqkFOPo9WajWpzlOSVKuOVxtmsWVVhD5ag3zyXR39mUGPfFGWkFbTy
eMoY7wLGDvrq6w4DpPmXyfHLQNKgS3TmR4+sXB+4GWRqfqM6Ss4RfRoesq2qCgyR
2jEFhG7NhfvinHqn1x1ILZDmKQ5TFBTIA6tZ1+3jlcnrxAFslxhVyCkb5aR8GM3k
tAljC97pAgMBAAECgf8Ar1jWF17tpO4e0Tr2rRismvCtA3rXOPfpTv9LsFFS+vmA
E4kGaibnCdB3dV3sjwawxzFZiDMhA8idpZPB6DNPfJLxLsVEMAUFCQigKJZHgq2J
ZIlmvRwazazrbRobG882SUqyukW055KvpuF9dzNUYqwIwa++Io3oVL7BWvcSn7B1
pWZi4jugctDMFpDzMYIkYBouQXUy22MdlfdY2etucl4JmtW77w8gahg4GVCl2cyv
EL6BpQLqq3d7GLYiLZj3M/t9ZvatUsmTtf5w7MzkqeyfA+OJh09kIJo/1kd4L8/I
+EiPxkgsgsYJV7WbIgWH3tfbnP9ut8AFmpKGFQ0CgYEA7F6mAyvKQ2GOQlTwHx99
0XJyvlg1W4uvxx1pbiqygnXlEH2P3GluUzzrcypEGnV4V6cT8l4aIwcj3ELYL+w1
L3aMFkZilLJ0BBoRPFG8FBKHuLkSPhPaRllCm5eTVTAvWPQWCO6jWHlSFGDYJUnH
XxueTgBRyxUpDaYMNz6YrxUCgYEA6sz5hnE/dRU2euNpd80vTRQAA3v5Beyei3c2
pF/exRi0FKS2xlMfqn8ta6BBCFNvZhGCQMCZcEkRIJ9EWQqimv9L8K23RbQHrvqk
jLrUXGlBVAl9xZbeB6D2RjfSggPIQmzcnRxYI2qxbrVFmJ8y+cwHSFyOVo3D7Wg/
hIh3hYUCgYEAtFJ8mdy1YHQzQB1mVogCx19ldBr9EcreHawte3MtXeOtDciMkJ0K
IoxOHzy2We0WEuCOkg8CJ4jR7b49CUpNRNlOg8vMdx4w7dQpI/hC4JlGW0EtTph8
o8CC1QpsxseMx3LmwIe1q9BaMtuy6beAVulN+rm5rJGHETeFCDxD5QUCgYEAoRuT
+xOpnwS3JQr1SyaW1iRq/fkKnW4GO1vJOnAtwr94kNGUN/DBQZOR7s8+0B+vyDEr
VpLQtaLtBZ1CoHYTrJaP3MzVfBZTT1Tbo1RuchomoSsCCZnDLyja0sNqxZsixbE8
jvDr6SFELdpjrp1NtOix9ozLfcg4L6XgL2gT2qECgYAnrmnOEGwGkpvpLsqSmqVu
ez6bOssRdpSyBltxtSVUAR1lufBGKRkqpMg+OFejui1Hcr1bpfEgOonKKHi7WQom
GZxWbgKx0ys3kQapH1UHpspw0oQ+GcJtC9Z2Yk+DEJvXXULJY/woLTXIXwCBZwdY
8h6AWfvzFaJH7KwUvKQ/Kw==
-----END PRIVATE KEY-----
";

/// TEST ONLY: the public half of [`TEST_ONLY_RSA_PRIVATE_PEM`] (SPKI PEM).
const TEST_ONLY_RSA_PUBLIC_PEM: &str = "-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA2MvFj2IiILKeO7TR67Xj
RHf73rzpKMg8/zuCvTHViDlSUUfC/hwZ6HMrduvkIE1Tii7ZVR2eArpzzg6JQNIW
TdIhTJcZxDVGP+unSs7w/kY9eBc8fGnqXYvgMspUn7/1yoOLXpTmi8ORE/lENcye
nYeAKpBTj6PVmo1qc5TklSrjlcbZrFlVYQ+WoN88l0d/ZlBj3xRlpBW08njKGO8C
xg766usOA6T5l8nxy0DSoEt05kePrFwfuBlkan6jOkrOEX0aHrKtqgoMkdoxBYRu
zYX74px6p9cdSC2Q5ikOUxQUyAOrWdft45XJ68QBbJcYVcgpG+WkfBjN5LQJYwve
6QIDAQAB
-----END PUBLIC KEY-----
";

/// TEST ONLY: another RSA-2048 private key, whose tokens must be refused.
const TEST_ONLY_OTHER_RSA_PRIVATE_PEM: &str = "-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7jUn5tdCh97pp
nU5wMU/6PMIvyPQFPCCfHvM6tu2vOD9KcU5JmfskV/rnRFKbDEYG4EW7dIqqqF39
153SB4iLnSMxv5oTENUwt0P1O2UZiQhYeOd1Wq8NcEXoLirB2g9RmH0eLayF9rag
GsOCvKxMEmXPtBFv2E/pIEE84asNI3Q7TVoeGRU+NOYqqs5HBIPQtcs/eQ95HXB8
J3NhllaQ3tOttZ2CsuJb9nNltyhzR9k6G+YjrBkgjxtrCHdz0wUWDUCiNRxsRfHO
g7l80cTSAtF3CJ4Rw7JtGx/go+oWEqCi8nkp8eWAp5nRKkmNkJupu63G+qHPSPQ6
rQFaCoQhAgMBAAECggEAAqNY9t1jAGGQKoZ5wSPoberR3m3eBNQqL012UA1HqER1
xhx0OfPOWl4EcPap5MrA52gwguj/lFPxnS2dvNkPR3Yf4HDDVYunPAav5YX+2jju
YvQxvpmrxwLHxkgeoNhqM78d2hamtmxYeEW4GfbWbkF/U3MYdbFzZPeSWK1h7w7a
Qd5uU1agFpCD54kFNNu2ws/ThLwdRs34Jh/vVA+1VdBMxwzDFyyFLNCicvBf75U1
hb3OP4O6ujLDnT1UBV2Y0xNoG/6yLR7jPBAKkG+b/TFSTFdV+4k2boyzTZ+Bo6e8
FK6gMR7KS7c8y9zwz9Wuw421OfHsVRA9JeqJNPvZmQKBgQDtwTad0H/ytBmTOIJi
SKRS6CFUExLnkG8YZ4a3ZcFxyU8DTzQpSROMcnY/zvSGIUyBu0hS3AmeJX5eUob2
ycwS1az6WI0AwCriPGb+IJC7OjUUjkKadXNzzsDbG0BvF+vQS5H2mYXAUbFW9PP5
8XQ4TZkerHaCrKAhL5mQv2ip7QKBgQDJ8dIuLlLNgh34icLClFwhlMfXnRCqRM/G
Qg5ZZgtmOzxWZ5zcnVW9IE7tfl74yqbX2zZBxr0G32+U35eCC4/xL2sB6AzeTba1
syzlcHp/WYLORGE1fqMaWehDqbeNjeZ1gf53zdjYQb6H+z/jvI7Sj/tHOjnN3QcX
9thBBJushQKBgAfGPKH2cmieSQPOYj0SgQURAB3+raySxX83y2jt0+CDo6jJCzya
XiBGkeVOQCKurhDD7f5/oXThZvtwmWcyfBDVmd1pzdqLbhuNvBRtPi5RHfE5IaZp
Vsgfp6DCiF3Zm2VpQzGcHYqHYVQlmGDA63r31pzxKMLnIClVpCDekW6VAoGBAI3u
fOdiPWYc1k2xHQY+2YXsmIws4uKY3GMeWBFzC/39Ego0ZmYT2ofDJlX65Gr9m0fI
1RhjwsUK0tSSVVzcHX3I8u9zFWBExG5uENbtN9s7oRixrJS5fY7us7SimtRNcDUU
eTHgplBP3MabyqqYAtVwxo2oGapbdznbjuAbigI1AoGABtQnWTDES3wdroH813lf
KvfldzXYy0CU/52S6uZOnE79cq7zkFVkLCgYJgWU4lXkF6GLdydgeiWpk8Q6DCRJ
QVAiCzXIoo5kZ2TBC0kZnttv7H+UBD1YnUfbAReU/jRUBJPxL8kIoC3kjcUhbkbf
jOqOL0okqoTrWHPu2D1DDBI=
-----END PRIVATE KEY-----
";

/// TEST ONLY: an EC P-256 key pair generated for these tests (openssl
/// genpkey), the private half signs ES256 tokens the gateway must accept.
const TEST_ONLY_EC_PRIVATE_PEM: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgalj0hHkXpVaI6iBj
QFd6nrgzwIM73DChrBaBhQcg3dChRANCAARJYP60B83HZL6o1YFOPVOl5SRnaLlU
553js45QjYNzPXpMS+cgtfKSHArbQKdVcLdZ5tDg6AKEE1ZMUSwdIfe0
-----END PRIVATE KEY-----
";

/// TEST ONLY: the public half of [`TEST_ONLY_EC_PRIVATE_PEM`] (SPKI PEM).
const TEST_ONLY_EC_PUBLIC_PEM: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAESWD+tAfNx2S+qNWBTj1TpeUkZ2i5
VOed47OOUI2Dcz16TEvnILXykhwK20CnVXC3WebQ4OgChBNWTFEsHSH3tA==
-----END PUBLIC KEY-----
";

/// TEST ONLY: another EC P-256 private key, whose tokens must be refused.
const TEST_ONLY_OTHER_EC_PRIVATE_PEM: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgaCtK+9c9icvExLPU
WObSYZj4aImVv9x19+nqpBHABPKhRANCAAQ1d4QmVjdPW0fblVZo8XbTjMqcjK8o
Y1RpR1hOltN4bDkWcU3TFENmDSonrCa1vPJWaG4FKoQ6roGN/LnNjPnw
-----END PRIVATE KEY-----
";

/// base64url of `{"alg":"none","typ":"JWT"}`: the header of an unsigned JWT.
const ALG_NONE_HEADER: &str = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0";

/// A cheap read every token test calls: needs `inventory:read`, no server.
const LIST_SERVERS: &str = "/panelgate.v1.InventoryService/ListServers";

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// Calls `path` over `channel` with an empty message (`()`, prost's
/// `google.protobuf.Empty`: a valid encoding of any proto3 request, and
/// readable as any reply), sending `authorization` as given (raw, so
/// malformed values can be sent too).
async fn call_empty(
    channel: Channel,
    path: &str,
    authorization: Option<&str>,
) -> Result<(), Status> {
    let mut request = tonic::Request::new(());
    if let Some(value) = authorization {
        let value: AsciiMetadataValue = value.parse().expect("an ASCII header value");
        request.metadata_mut().insert("authorization", value);
    }
    call_with(channel, path, request).await
}

/// Calls `path` with `request` as built (metadata and all).
async fn call_with(
    channel: Channel,
    path: &str,
    request: tonic::Request<()>,
) -> Result<(), Status> {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.expect("the gateway accepts connections");
    let path = PathAndQuery::from_str(path).expect("an RPC path");
    grpc.unary(request, path, ProstCodec::<(), ()>::default())
        .await
        .map(|_| ())
}

/// `authorization` for `token`.
fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// Every RPC of every `panelgate.v1` service in the descriptor set, as
/// "/panelgate.v1.Service/Method", and how many methods the set declares.
fn panelgate_rpcs() -> (Vec<String>, usize) {
    let descriptors =
        FileDescriptorSet::decode(panelgate_proto::FILE_DESCRIPTOR_SET).expect("descriptor set");
    let files: Vec<_> = descriptors
        .file
        .iter()
        .filter(|file| file.package() == "panelgate.v1")
        .collect();
    let declared = files
        .iter()
        .flat_map(|file| &file.service)
        .map(|service| service.method.len())
        .sum();
    let rpcs = files
        .iter()
        .flat_map(|file| &file.service)
        .flat_map(|service| {
            service
                .method
                .iter()
                .map(move |method| format!("/panelgate.v1.{}/{}", service.name(), method.name()))
        })
        .collect();
    (rpcs, declared)
}

/// The scope `path` needs according to the table.
fn needed_scope(path: &str) -> &'static str {
    match scopes::access(path, false) {
        scopes::Access::Scope(scope) => scope,
        other => panic!("{path}: expected a scope, the table says {other:?}"),
    }
}

/// Seconds since the epoch.
fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

/// Claims the test gateway accepts: its issuer and audience, valid 10
/// minutes, every scope.
fn good_claims() -> Value {
    json!({
        "sub": "crafted",
        "iss": TEST_TOKEN_AUDIENCE,
        "aud": TEST_TOKEN_AUDIENCE,
        "iat": now(),
        "exp": now() + 600,
        "scope": scopes::ALL.join(" "),
    })
}

/// `claims` with `key` set to `value` (or removed, for `Value::Null`).
fn with(mut claims: Value, key: &str, value: Value) -> Value {
    let object = claims.as_object_mut().expect("claims are an object");
    if value.is_null() {
        object.remove(key);
    } else {
        object.insert(key.to_owned(), value);
    }
    claims
}

/// `claims` signed with `algorithm` and `key`.
fn sign(algorithm: Algorithm, claims: &Value, key: &EncodingKey) -> String {
    jsonwebtoken::encode(&Header::new(algorithm), claims, key).expect("sign a test token")
}

/// `claims` signed HS-something with the test gateway's own secret.
fn sign_with_test_secret(algorithm: Algorithm, claims: &Value) -> String {
    sign(
        algorithm,
        claims,
        &EncodingKey::from_secret(TEST_TOKEN_SECRET.as_bytes()),
    )
}

/// Asserts an UNAUTHENTICATED refusal whose message, details and metadata
/// contain neither `sent` nor any long piece of it.
#[track_caller]
fn assert_unauthenticated_without_echo(result: Result<(), Status>, sent: &str, what: &str) {
    let status = match result {
        Ok(()) => panic!("{what}: accepted, expected UNAUTHENTICATED"),
        Err(status) => status,
    };
    assert_eq!(status.code(), Code::Unauthenticated, "{what}: {status:?}");
    assert_eq!(reason(&status), "UNAUTHENTICATED", "{what}: {status:?}");
    let details = String::from_utf8_lossy(status.details());
    let metadata = format!("{:?}", status.metadata());
    let pieces = std::iter::once(sent)
        .chain(sent.split(['.', ' ']))
        .filter(|piece| piece.len() >= 8);
    for piece in pieces {
        for (place, text) in [
            ("message", status.message()),
            ("details", &*details),
            ("metadata", &*metadata),
        ] {
            assert!(
                !text.contains(piece),
                "{what}: the {place} echoes the token: {text}"
            );
        }
    }
}

/// Registers `fixture` as admin_api server `name` in inventory group `group`
/// (as the unlimited test caller); returns its id.
async fn register_in_group(
    gateway: &Gateway,
    fixture: &AdminApiFixture,
    name: &str,
    group: &str,
) -> String {
    gateway
        .inventory()
        .register_server(RegisterServerRequest {
            server: Some(Server {
                name: name.to_owned(),
                kind: PanelKind::AdminApi.into(),
                base_url: fixture.base_url(),
                group: group.to_owned(),
                defaults: fixture.defaults(),
                ..Default::default()
            }),
            credentials: Some(fixture.credentials()),
            request_id: String::new(),
        })
        .await
        .expect("register the simulated server")
        .into_inner()
        .server
        .expect("server in reply")
        .id
}

/// A CreateAccount request for `username` on `target`.
fn new_account(target: Option<Target>, username: &str) -> CreateAccountRequest {
    CreateAccountRequest {
        target,
        username: username.to_owned(),
        primary_domain: format!("{username}.example"),
        email: format!("{username}@mail.example"),
        password: "first-password-1".to_owned(),
        package: "Basic".to_owned(),
        ..Default::default()
    }
}

/// Every journal entry `gateway`'s caller may see.
async fn all_operations(gateway: &Gateway) -> Vec<OperationEntry> {
    let mut entries = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = gateway
            .operations()
            .list_operations(ListOperationsRequest {
                page_size: 500,
                page_token,
                ..Default::default()
            })
            .await
            .expect("list operations")
            .into_inner();
        entries.extend(page.operations);
        if page.next_page_token.is_empty() {
            return entries;
        }
        page_token = page.next_page_token;
    }
}

/// The names ListServers gives `gateway`'s caller.
async fn server_names(gateway: &Gateway) -> BTreeSet<String> {
    gateway
        .inventory()
        .list_servers(ListServersRequest::default())
        .await
        .expect("list servers")
        .into_inner()
        .servers
        .into_iter()
        .map(|server| server.name)
        .collect()
}

// ---------------------------------------------------------------------------
// 1. The descriptor walk
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// 2. Token shapes
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// 3. Public keys: RS256 and ES256
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// 4. Health and reflection
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// 5. Groups
// ---------------------------------------------------------------------------

/// A token limited to group "eu" is a tenant boundary: it must not read,
/// change, check, delete or create anything on servers of other groups, nor
/// move a server out of (or a new one into) a foreign group, nor reach a
/// foreign server through the account index, nor see foreign servers or their
/// journal entries in lists — and a refused call must not reach the foreign
/// panel at all. The unlimited token sees both, so the filtering is not
/// vacuous, and the limited token works on its own group.
async fn a_group_limited_token_reaches_only_servers_of_its_groups(backend: Backend) {
    with_gateway(
        backend,
        |_| {},
        |gateway| async move {
            let eu = AdminApiFixture::start().await;
            let us = AdminApiFixture::start().await;
            let eu_id = register_in_group(&gateway, &eu, "eu-1", "eu").await;
            let us_id = register_in_group(&gateway, &us, "us-1", "us").await;

            // The unlimited caller makes accounts (and journal entries) on both.
            for (server, username) in [("eu-1", "alice"), ("us-1", "bob")] {
                gateway
                    .accounts()
                    .create_account(new_account(by_name(server), username))
                    .await
                    .expect("create an account as the unlimited caller");
                gateway
                    .accounts()
                    .suspend_account(SuspendAccountRequest {
                        username: username.to_owned(),
                        reason: "audit trail".to_owned(),
                        ..Default::default()
                    })
                    .await
                    .expect("suspend as the unlimited caller");
            }
            assert!(eu.account_exists("alice") && us.account_exists("bob"));

            let limited = gateway.as_caller(&gateway.token("eu-ops", scopes::ALL, &["eu"]));
            let us_requests = us.requests();

            // Its own group works.
            limited
                .inventory()
                .get_server(GetServerRequest {
                    target: by_name("eu-1"),
                })
                .await
                .expect("GetServer in its own group");
            limited
                .accounts()
                .get_account(GetAccountRequest {
                    target: None,
                    username: "alice".to_owned(),
                })
                .await
                .expect("a target-less GetAccount the index places in its group");

            // The foreign server, by name and by id.
            for target in [by_name("us-1"), by_id(&us_id)] {
                let get = limited
                    .inventory()
                    .get_server(GetServerRequest {
                        target: target.clone(),
                    })
                    .await;
                assert_error(get, Code::PermissionDenied, "GROUP_NOT_ALLOWED");
                let check = limited
                    .inventory()
                    .check_server(CheckServerRequest {
                        target: target.clone(),
                    })
                    .await;
                assert_error(check, Code::PermissionDenied, "GROUP_NOT_ALLOWED");
            }
            let update = limited
                .inventory()
                .update_server(UpdateServerRequest {
                    target: by_name("us-1"),
                    labels: Some(LabelSet {
                        labels: [("owner".to_owned(), "eu-ops".to_owned())].into(),
                    }),
                    ..Default::default()
                })
                .await;
            assert_error(update, Code::PermissionDenied, "GROUP_NOT_ALLOWED");
            let delete = limited
                .inventory()
                .delete_server(DeleteServerRequest {
                    target: by_name("us-1"),
                    request_id: String::new(),
                })
                .await;
            assert_error(delete, Code::PermissionDenied, "GROUP_NOT_ALLOWED");

            // Into a foreign group: neither a new server nor a moved one.
            let spare = AdminApiFixture::start().await;
            let register = limited
                .inventory()
                .register_server(RegisterServerRequest {
                    server: Some(Server {
                        name: "us-2".to_owned(),
                        kind: PanelKind::AdminApi.into(),
                        base_url: spare.base_url(),
                        group: "us".to_owned(),
                        defaults: spare.defaults(),
                        ..Default::default()
                    }),
                    credentials: Some(spare.credentials()),
                    request_id: String::new(),
                })
                .await;
            assert_error(register, Code::PermissionDenied, "GROUP_NOT_ALLOWED");
            let moved = limited
                .inventory()
                .update_server(UpdateServerRequest {
                    target: by_name("eu-1"),
                    group: Some("us".to_owned()),
                    ..Default::default()
                })
                .await;
            assert_error(moved, Code::PermissionDenied, "GROUP_NOT_ALLOWED");

            // Accounts on the foreign server, by target and through the index.
            let create = limited
                .accounts()
                .create_account(new_account(by_name("us-1"), "carol"))
                .await;
            assert_error(create, Code::PermissionDenied, "GROUP_NOT_ALLOWED");
            let get = limited
                .accounts()
                .get_account(GetAccountRequest {
                    target: by_name("us-1"),
                    username: "bob".to_owned(),
                })
                .await;
            assert_error(get, Code::PermissionDenied, "GROUP_NOT_ALLOWED");
            let indexed = limited
                .accounts()
                .get_account(GetAccountRequest {
                    target: None,
                    username: "bob".to_owned(),
                })
                .await;
            assert_error(indexed, Code::PermissionDenied, "GROUP_NOT_ALLOWED");
            assert_eq!(
                us.requests(),
                us_requests,
                "a refused call reached the foreign panel"
            );
            assert!(!us.account_exists("carol"));

            // Lists are filtered.
            assert_eq!(
                server_names(&limited).await,
                BTreeSet::from(["eu-1".to_owned()])
            );
            let foreign_filter = limited
                .inventory()
                .list_servers(ListServersRequest {
                    group: "us".to_owned(),
                    ..Default::default()
                })
                .await
                .expect("list servers of a foreign group")
                .into_inner();
            assert!(foreign_filter.servers.is_empty(), "{foreign_filter:?}");

            let everything = all_operations(&gateway).await;
            let foreign_entry = everything
                .iter()
                .find(|entry| entry.server_id == us_id)
                .expect("the unlimited caller sees operations on the us server")
                .clone();
            assert!(everything.iter().any(|entry| entry.server_id == eu_id));
            let visible = all_operations(&limited).await;
            assert!(
                visible.iter().any(|entry| entry.server_id == eu_id),
                "the limited caller sees its group's operations: {visible:?}"
            );
            let strays: Vec<_> = visible
                .iter()
                .filter(|entry| entry.server_id != eu_id)
                .collect();
            assert!(strays.is_empty(), "operations outside group eu: {strays:?}");
            let by_target = limited
                .operations()
                .list_operations(ListOperationsRequest {
                    target: by_name("us-1"),
                    ..Default::default()
                })
                .await;
            assert_error(by_target, Code::PermissionDenied, "GROUP_NOT_ALLOWED");
            let foreign_get = limited
                .operations()
                .get_operation(GetOperationRequest {
                    id: foreign_entry.id.clone(),
                })
                .await;
            assert_error(foreign_get, Code::PermissionDenied, "GROUP_NOT_ALLOWED");
            let own = visible.first().expect("an eu operation");
            limited
                .operations()
                .get_operation(GetOperationRequest { id: own.id.clone() })
                .await
                .expect("GetOperation in its own group");

            // Nothing was stored or changed by the refused calls; the
            // unlimited caller still sees both servers as they were.
            assert_eq!(
                server_names(&gateway).await,
                BTreeSet::from(["eu-1".to_owned(), "us-1".to_owned()])
            );
            let us_record = gateway
                .inventory()
                .get_server(GetServerRequest {
                    target: by_name("us-1"),
                })
                .await
                .expect("the us server is still there")
                .into_inner()
                .server
                .expect("server");
            assert!(us_record.labels.is_empty(), "{us_record:?}");
            let eu_record = gateway
                .inventory()
                .get_server(GetServerRequest {
                    target: by_name("eu-1"),
                })
                .await
                .expect("the eu server")
                .into_inner()
                .server
                .expect("server");
            assert_eq!(eu_record.group, "eu");
            assert_eq!(
                spare.requests(),
                0,
                "the refused registration reached its panel"
            );
            gateway
                .operations()
                .get_operation(GetOperationRequest {
                    id: foreign_entry.id,
                })
                .await
                .expect("the unlimited caller reads the us operation");
        },
    )
    .await;
}

/// An account held on servers of two groups: the unlimited caller is told it
/// is ambiguous, naming both servers; a caller limited to one group is routed
/// to its own server, and never learns the other server's name.
#[tokio::test]
async fn a_group_limit_settles_an_account_held_in_two_groups() {
    with_gateway(
        Backend::Sqlite,
        |_| {},
        |gateway| async move {
            let eu = AdminApiFixture::start().await;
            let us = AdminApiFixture::start().await;
            register_in_group(&gateway, &eu, "eu-1", "eu").await;
            register_in_group(&gateway, &us, "us-1", "us").await;
            for server in ["eu-1", "us-1"] {
                gateway
                    .accounts()
                    .create_account(new_account(by_name(server), "carol"))
                    .await
                    .expect("create carol");
            }
            let get = |gateway: Gateway| async move {
                gateway
                    .accounts()
                    .get_account(GetAccountRequest {
                        target: None,
                        username: "carol".to_owned(),
                    })
                    .await
            };

            let ambiguous = get(gateway.clone()).await;
            let status = assert_error(ambiguous, Code::FailedPrecondition, "ACCOUNT_AMBIGUOUS");
            assert!(
                status.message().contains("eu-1") && status.message().contains("us-1"),
                "{status:?}"
            );

            let limited = gateway.as_caller(&gateway.token("eu-ops", scopes::ALL, &["eu"]));
            let us_requests = us.requests();
            let eu_requests = eu.requests();
            get(limited.clone())
                .await
                .expect("the eu caller reaches carol on eu-1");
            assert!(eu.requests() > eu_requests, "eu-1 was asked");
            assert_eq!(us.requests(), us_requests, "us-1 was not asked");

            let nowhere = gateway.as_caller(&gateway.token("asia-ops", scopes::ALL, &["asia"]));
            let refused = get(nowhere).await;
            let status = assert_error(refused, Code::PermissionDenied, "GROUP_NOT_ALLOWED");
            assert!(!status.message().contains("-1"), "{status:?}");
        },
    )
    .await;
}

// ---------------------------------------------------------------------------
// 6. Bad input
// ---------------------------------------------------------------------------

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
