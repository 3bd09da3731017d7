//! Compiles `panelgate/v1/*.proto` with protox (no system `protoc`), generates
//! the tonic client and server code, writes the encoded descriptor set that
//! the gateway serves through reflection, and generates from the protos' own
//! options what the code must know of each RPC and each secret
//! (`build/facts.rs`, `build/secrets.rs`).

#[path = "build/facts.rs"]
mod facts;
#[path = "build/names.rs"]
mod names;
#[path = "build/secrets.rs"]
mod secrets;

use std::{env, fs, path::PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut protos: Vec<PathBuf> = fs::read_dir("panelgate/v1")?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    protos.retain(|path| path.extension().is_some_and(|ext| ext == "proto"));
    protos.sort();

    // Source info keeps the comments, so grpcurl users read field docs via reflection.
    let mut compiler = protox::Compiler::new(["."])?;
    compiler
        .include_source_info(true)
        .include_imports(true)
        .open_files(&protos)?;
    let pool = compiler.descriptor_pool();
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(
        out_dir.join("panelgate_descriptor.bin"),
        compiler.encode_file_descriptor_set(),
    )?;

    let secrets = secrets::Secrets::read(&pool)?;
    let generated = [
        facts::generate(&pool)?,
        facts::panel_options(&pool),
        secrets.generate(),
    ]
    .concat();
    fs::write(out_dir.join("panelgate_facts.rs"), generated)?;

    let mut config = tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        // Maps as BTreeMap: encoded in key order, so equal requests encode to
        // equal bytes (request digests of idempotent retries depend on it).
        .btree_map(".")
        // Messages with a secret field get a generated, redacting Debug.
        .skip_debug(secrets.redacted().map(|name| format!(".{name}")));
    // skip_debug also matches the types nested in those messages: they hold
    // no secret of their own (what they hold redacts itself).
    for nested in secrets.nested_in_redacted() {
        config = config.type_attribute(format!(".{nested}"), "#[derive(Debug)]");
    }
    config.compile_fds(compiler.file_descriptor_set())?;

    println!("cargo:rerun-if-changed=panelgate");
    println!("cargo:rerun-if-changed=build");
    Ok(())
}
