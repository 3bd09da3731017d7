//! The `panelgate` binary as an operator runs it: migrate, key handling, and a
//! clean stop on SIGTERM.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

const PANELGATE: &str = env!("CARGO_BIN_EXE_panelgate");
/// base64 of 32 zero bytes.
const KEY: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

fn panelgate(args: &[&str]) -> Command {
    let mut command = Command::new(PANELGATE);
    command
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("PANELGATE_MASTER_KEY")
        .env_remove("PANELGATE_MASTER_KEY_FILE")
        .env_remove("PANELGATE_AUTH_HS256_SECRET")
        .env_remove("PANELGATE_AUTH_HS256_SECRET_FILE")
        .env_remove("PANELGATE_AUTH_PUBLIC_KEY_FILE")
        .env_remove("PANELGATE_AUTH_DISABLED")
        // Tests run side by side: none may take the default metrics port.
        .env("PANELGATE_METRICS_LISTEN", "off")
        .env("RUST_LOG", "info");
    command
}

/// `migrate` creates the SQLite file on first run and is a no-op the second time.
#[test]
fn migrate_creates_the_database_and_is_repeatable() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("inventory.db");
    let url = format!("sqlite://{}", file.display());
    for run in 1..=2 {
        let output = panelgate(&["migrate", "--database-url", &url])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "run {run}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    assert!(file.exists());
}

/// A malformed master key stops `serve` with a clear error that does not echo the key.
#[test]
fn bad_master_key_is_refused_without_echoing_it() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("x.db").display());
    let secret = "not-base64-but-secret-Zq9";
    let output = panelgate(&["serve", "--database-url", &url, "--listen", "127.0.0.1:0"])
        .env("PANELGATE_MASTER_KEY", secret)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("invalid master key"), "{stderr}");
    assert!(!stderr.contains(secret), "the key was echoed: {stderr}");
}

/// A key given both ways is ambiguous and refused.
#[test]
fn master_key_from_env_and_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("key");
    std::fs::write(&key_file, KEY).unwrap();
    let output = panelgate(&["serve", "--listen", "127.0.0.1:0"])
        .env("PANELGATE_MASTER_KEY", KEY)
        .env("PANELGATE_MASTER_KEY_FILE", &key_file)
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("not both"));
}

/// `serve` with a key file comes up, and SIGTERM stops it with exit status 0.
#[cfg(unix)]
#[test]
fn serve_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("key");
    std::fs::write(&key_file, format!("{KEY}\n")).unwrap();
    let url = format!("sqlite://{}", dir.path().join("x.db").display());
    let secret_file = dir.path().join("token-secret");
    std::fs::write(&secret_file, "an-hs256-secret-of-at-least-32-bytes\n").unwrap();
    let mut child = panelgate(&["serve", "--listen", "127.0.0.1:0", "--database-url", &url])
        .arg("--master-key-file")
        .arg(&key_file)
        .arg("--auth-hs256-secret-file")
        .arg(&secret_file)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read stderr on a thread, so a server that never comes up fails the test
    // after a bounded wait instead of hanging it.
    let stderr = child.stderr.take().unwrap();
    let (lines, logged) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let serving = std::iter::from_fn(|| {
        logged
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .ok()
    })
    .any(|line| line.contains("panelgate serving gRPC"));
    if !serving {
        let _ = child.kill();
        panic!("serve did not come up within 30 s");
    }
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "exit status {status}");
}

// ---------------------------------------------------------------------------
// Caller tokens: `token issue` and `serve`'s authentication settings
// ---------------------------------------------------------------------------

/// A recognisable HS256 secret (at least 32 bytes), so a leak is easy to spot.
const TOKEN_SECRET: &str = "SECRET-cli-token-key-0123456789-Kq7Ww";

/// Runs `command` to completion with its output captured, failing the test
/// (and killing the process) if it takes longer than 30 s, so a command that
/// unexpectedly starts serving cannot hang the suite.
fn output_within_30s(mut command: Command) -> std::process::Output {
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start panelgate");
    let pid = child.id();
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(child.wait_with_output());
    });
    match finished.recv_timeout(Duration::from_secs(30)) {
        Ok(output) => output.expect("panelgate's output"),
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("the command did not finish within 30 s");
        }
    }
}

/// A verifier of HS256 tokens with `secret`, `issuer` and `audience`, as the
/// gateway builds it.
fn verifier(secret: &str, issuer: &str, audience: &str) -> panelgate::auth::Tokens {
    panelgate::auth::Tokens::new(
        panelgate::auth::KeyMaterial::Hs256(secrecy::SecretBox::new(
            secret.as_bytes().to_vec().into_boxed_slice(),
        )),
        issuer,
        audience,
        Duration::ZERO,
    )
    .expect("verifier settings")
}

/// The lifetime claims of a token (read after its signature was verified).
#[derive(serde::Deserialize)]
struct Lifetime {
    iat: u64,
    exp: u64,
}

/// `token issue` is how operators mint tokens: what it prints must be exactly
/// one JWT that the gateway, configured with the same secret, issuer and
/// audience, accepts with the subject, scopes, groups and lifetime asked for,
/// and the secret must never show in what it prints or logs.
#[test]
fn token_issue_prints_one_jwt_the_gateway_verifies() {
    let output = panelgate(&[
        "token",
        "issue",
        "--sub",
        "billing",
        "--scope",
        "hosting:read,hosting:write",
        "--scope",
        "operations:read",
        "--group",
        "eu",
        "--ttl",
        "1h",
        "--auth-issuer",
        "issuer.example",
        "--auth-audience",
        "gateway.example",
    ])
    .env("PANELGATE_AUTH_HS256_SECRET", TOKEN_SECRET)
    .output()
    .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!stdout.contains(TOKEN_SECRET) && !stderr.contains(TOKEN_SECRET));
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {stdout:?}");
    let token = lines[0];
    assert_eq!(token.split('.').count(), 3, "a JWT: {token}");

    let caller = verifier(TOKEN_SECRET, "issuer.example", "gateway.example")
        .verify(token)
        .unwrap();
    assert_eq!(caller.subject, "billing");
    let scopes: Vec<&str> = caller.scopes.iter().map(String::as_str).collect();
    assert_eq!(scopes, ["hosting:read", "hosting:write", "operations:read"]);
    let groups = caller.groups.as_ref().expect("a groups claim");
    assert_eq!(groups.iter().collect::<Vec<_>>(), ["eu"]);
    let lifetime: Lifetime = jsonwebtoken::dangerous::insecure_decode_claims(token).unwrap();
    assert_eq!(lifetime.exp - lifetime.iat, 3600, "--ttl 1h");

    // The flags were used: another audience, issuer or secret does not verify it.
    assert!(
        verifier(TOKEN_SECRET, "issuer.example", "panelgate")
            .verify(token)
            .is_err()
    );
    assert!(
        verifier(TOKEN_SECRET, "panelgate", "gateway.example")
            .verify(token)
            .is_err()
    );
    assert!(
        verifier(
            "another-secret-of-at-least-32-bytes-x",
            "issuer.example",
            "gateway.example"
        )
        .verify(token)
        .is_err()
    );
}

/// The secret file (with its trailing newline, as editors leave it) signs the
/// same tokens as the secret itself, issuer and audience default to
/// "panelgate", and a token without `--group` is not limited to groups.
#[test]
fn token_issue_reads_the_secret_file_with_default_issuer_and_audience() {
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("token-secret");
    std::fs::write(&secret_file, format!("{TOKEN_SECRET}\n")).unwrap();
    let mut command = panelgate(&[
        "token",
        "issue",
        "--sub",
        "ops",
        "--scope",
        "inventory:read",
    ]);
    command
        .arg("--auth-hs256-secret-file")
        .arg(&secret_file)
        .env_remove("PANELGATE_AUTH_ISSUER")
        .env_remove("PANELGATE_AUTH_AUDIENCE");
    let output = command.output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!stdout.contains(TOKEN_SECRET) && !stderr.contains(TOKEN_SECRET));
    let caller = verifier(TOKEN_SECRET, "panelgate", "panelgate")
        .verify(stdout.trim_end())
        .unwrap();
    assert_eq!(caller.subject, "ops");
    assert_eq!(caller.groups, None);
}

/// A typo in a scope would mint a token that silently cannot do its job: it is
/// refused, and the message lists the scopes that exist.
#[test]
fn token_issue_refuses_an_unknown_scope_listing_the_valid_ones() {
    let output = panelgate(&[
        "token",
        "issue",
        "--sub",
        "billing",
        "--scope",
        "hosting:read,hosting:rwite",
    ])
    .env("PANELGATE_AUTH_HS256_SECRET", TOKEN_SECRET)
    .output()
    .unwrap();
    assert!(!output.status.success());
    assert!(output.stdout.is_empty(), "no token printed");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("hosting:rwite"), "{stderr}");
    for scope in panelgate::auth::scopes::ALL {
        assert!(stderr.contains(scope), "{scope} not listed: {stderr}");
    }
    assert!(!stderr.contains(TOKEN_SECRET), "{stderr}");
}

/// Without a secret there is nothing to sign with: a clear error naming how to
/// give one, and no token.
#[test]
fn token_issue_without_a_secret_is_a_clear_error() {
    let output = panelgate(&[
        "token",
        "issue",
        "--sub",
        "billing",
        "--scope",
        "hosting:read",
    ])
    .output()
    .unwrap();
    assert!(!output.status.success());
    assert!(output.stdout.is_empty(), "no token printed");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("PANELGATE_AUTH_HS256_SECRET"), "{stderr}");
}

/// A guessable secret makes every token forgeable: under 32 bytes it is
/// refused, and the refusal does not echo it.
#[test]
fn token_issue_refuses_a_short_secret_without_echoing_it() {
    let short = "short-secret-Zq9";
    let output = panelgate(&[
        "token",
        "issue",
        "--sub",
        "billing",
        "--scope",
        "hosting:read",
    ])
    .env("PANELGATE_AUTH_HS256_SECRET", short)
    .output()
    .unwrap();
    assert!(!output.status.success());
    assert!(output.stdout.is_empty(), "no token printed");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("32 bytes"), "{stderr}");
    assert!(!stderr.contains(short), "the secret was echoed: {stderr}");
}

/// Serving without authentication must be a deliberate choice: with no token
/// key `serve` stops before listening and tells the operator both ways out.
#[test]
fn serve_without_token_config_refuses_naming_auth_disabled() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("x.db").display());
    let output = output_within_30s(panelgate(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--database-url",
        &url,
    ]));
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--auth-disabled"), "{stderr}");
    assert!(stderr.contains("--auth-hs256-secret-file"), "{stderr}");
    assert!(!stderr.contains("panelgate serving gRPC"), "{stderr}");
}

/// A token key and `--auth-disabled` together are contradictory: refused
/// rather than guessing which one the operator meant.
#[test]
fn serve_with_a_token_key_and_auth_disabled_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("x.db").display());
    let mut command = panelgate(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--database-url",
        &url,
        "--auth-disabled",
    ]);
    command.env("PANELGATE_AUTH_HS256_SECRET", TOKEN_SECRET);
    let output = output_within_30s(command);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("contradicts"), "{stderr}");
    assert!(!stderr.contains(TOKEN_SECRET), "{stderr}");
}

/// `serve --auth-disabled` comes up, but says loudly (a WARN line containing
/// "DISABLED") that anyone reaching the port can use every panel, so the
/// setting cannot go unnoticed in the logs; SIGTERM still stops it cleanly.
#[cfg(unix)]
#[test]
fn serve_with_auth_disabled_comes_up_with_a_loud_warning() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("x.db").display());
    let mut child = panelgate(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--database-url",
        &url,
        "--auth-disabled",
    ])
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (lines, logged) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    let serving = std::iter::from_fn(|| {
        logged
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .ok()
    })
    .inspect(|line| seen.push(line.clone()))
    .any(|line| line.contains("panelgate serving gRPC"));
    if !serving {
        let _ = child.kill();
        panic!("serve did not come up within 30 s: {seen:#?}");
    }
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "exit status {status}");
    assert!(
        seen.iter()
            .any(|line| line.contains("WARN") && line.contains("DISABLED")),
        "no WARN line saying authentication is DISABLED: {seen:#?}"
    );
}
