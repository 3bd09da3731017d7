//! Compiles `panelgate/v1/*.proto` with protox (no system `protoc`), generates the
//! tonic client and server code, and writes the encoded descriptor set that the
//! gateway serves through reflection.

use std::{env, fs, path::PathBuf};

use prost::Message;

/// Messages with a secret field: prost derives no Debug for them.
const REDACTED_MESSAGES: &[&str] = &[
    "PasswordCredentials",
    "ApiTokenCredentials",
    "CreateAccountRequest",
    "ChangePasswordRequest",
    "CreateDatabaseRequest",
    "CreateLoginLinkResponse",
    "CreatePanelAdminRequest",
    "InstallatronWebsite",
    "InstallatronDatabase",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut protos: Vec<PathBuf> = fs::read_dir("panelgate/v1")?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    protos.retain(|path| path.extension().is_some_and(|ext| ext == "proto"));
    protos.sort();

    // Source info keeps the comments, so grpcurl users read field docs via reflection.
    let descriptors = protox::compile(&protos, ["."])?;
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(
        out_dir.join("panelgate_descriptor.bin"),
        descriptors.encode_to_vec(),
    )?;

    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        // Maps as BTreeMap: encoded in key order, so equal requests encode to
        // equal bytes (request digests of idempotent retries depend on it).
        .btree_map(".")
        // Messages carrying secrets get a hand-written, redacting Debug (src/redact.rs).
        .skip_debug(
            REDACTED_MESSAGES
                .iter()
                .map(|name| format!(".panelgate.v1.{name}")),
        )
        // skip_debug also matches nested types: the oneofs hold no secret of
        // their own (what they hold redacts itself).
        .type_attribute(
            ".panelgate.v1.CreateAccountRequest.panel_options",
            "#[derive(Debug)]",
        )
        .type_attribute(
            ".panelgate.v1.CreatePanelAdminRequest.panel_options",
            "#[derive(Debug)]",
        )
        .type_attribute(
            ".panelgate.v1.CreateDatabaseRequest.panel_options",
            "#[derive(Debug)]",
        )
        .compile_fds(descriptors)?;

    println!("cargo:rerun-if-changed=panelgate");
    Ok(())
}
