//! Caller authentication and authorisation over real gRPC: every RPC of the
//! descriptor set refuses a missing token, a foreign signature and a missing
//! scope; malformed, expired and mis-addressed tokens are UNAUTHENTICATED and
//! never echoed; RS256/ES256 public keys; health is open and reflection needs
//! its scope (unless public); a token limited to inventory groups reaches only
//! their servers (on SQLite and PostgreSQL, with simulated admin_api panels
//! over real HTTP); oversized metadata and messages get a clear status and the
//! gateway keeps serving.
//!
//! - `descriptor`: every RPC refuses a missing token, a foreign signature, a
//!   missing scope;
//! - `tokens`: token shapes, and RS256/ES256 public keys;
//! - `open`: health and reflection;
//! - `groups`: tokens limited to inventory groups;
//! - `oversize`: oversized metadata and messages.

mod descriptor;
mod groups;
mod open;
mod oversize;
mod tokens;

use std::{
    str::FromStr,
    time::{SystemTime, UNIX_EPOCH},
};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use panelgate::auth::scopes;
use panelgate_proto::v1::{CreateAccountRequest, Target};
use panelgate_tests::{
    errors::reason,
    gateway::{TEST_TOKEN_AUDIENCE, TEST_TOKEN_SECRET},
};
use prost::Message;
use prost_types::FileDescriptorSet;
use serde_json::{Value, json};
use tonic::{
    Code, Status, codegen::http::uri::PathAndQuery, metadata::AsciiMetadataValue,
    transport::Channel,
};
use tonic_prost::ProstCodec;

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
