//! Idempotent mutations (AIP-155): how the journal claim of a `request_id` is
//! waited on, and how a stored outcome is replayed. The journal itself lives
//! in the inventory (`Inventory::start_operation`); the call's life is in
//! `call`.

use std::time::{Duration, Instant};

use aws_lc_rs::digest::{SHA256, digest};
use panelgate_inventory::{Claim, Inventory, OperationStart, StoredOutcome};
use panelgate_proto::code_from_name;
use prost::Message;
use secrecy::ExposeSecret;
use tonic::{Code, Response, Status, codegen::Bytes};

use crate::{error::GatewayError, leases::LEASE};

/// How long a retry waits for the first call with its `request_id` to end
/// before it is answered ABORTED (retryable).
pub const IN_FLIGHT_WAIT: Duration = Duration::from_secs(30);

/// SHA-256 of the encoded request: a retry must send the very same request.
pub fn request_digest(request: &impl Message) -> Vec<u8> {
    digest(&SHA256, &request.encode_to_vec()).as_ref().to_vec()
}

/// What to do with a mutation whose journal entry is claimed.
pub enum Claimed {
    /// Run it (see [`Claim::Run`]).
    Run {
        /// The journal entry to finish.
        id: String,
        /// An earlier attempt may have reached the panel.
        uncertain: bool,
    },
    /// Answer with an earlier call's outcome.
    Replay(StoredOutcome),
}

/// Claims the journal entry `start` describes, waiting while another call
/// holds its `request_id`: at most [`IN_FLIGHT_WAIT`], polling with backoff.
pub async fn claim_or_wait(
    inventory: &Inventory,
    start: impl Fn() -> OperationStart,
) -> Result<Claimed, GatewayError> {
    let give_up = Instant::now() + IN_FLIGHT_WAIT;
    let mut pause = Duration::from_millis(10);
    loop {
        match inventory.start_operation(start(), LEASE).await? {
            Claim::InFlight if Instant::now() + pause < give_up => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(250));
            }
            Claim::InFlight => return Err(GatewayError::RequestInProgress),
            Claim::Reused => return Err(GatewayError::RequestIdReused),
            Claim::Run { id, uncertain } => return Ok(Claimed::Run { id, uncertain }),
            Claim::Replay(stored) => return Ok(Claimed::Replay(stored)),
        }
    }
}

/// The reply a stored outcome stands for.
pub fn replay<T: Message + Default>(stored: &StoredOutcome) -> Result<Response<T>, Status> {
    let reply = stored
        .reply
        .as_ref()
        .map(|reply| Bytes::copy_from_slice(reply.expose_secret()))
        .unwrap_or_default();
    match code_from_name(&stored.outcome) {
        Some(Code::Ok) => T::decode(reply)
            .map(Response::new)
            .map_err(|_| Status::internal("the stored reply of this request_id is unreadable")),
        Some(code) => Err(Status::with_details(
            code,
            stored.error_message.clone().unwrap_or_default(),
            reply,
        )),
        None => Err(Status::internal(
            "the stored outcome of this request_id is unreadable",
        )),
    }
}

/// What to store of an outcome for replays: the encoded reply, or the
/// error's encoded details.
pub fn stored_reply<T: Message>(outcome: &Result<Response<T>, Status>) -> Vec<u8> {
    match outcome {
        Ok(reply) => reply.get_ref().encode_to_vec(),
        Err(status) => status.details().to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use prost::Message;
    use prost_types::FileDescriptorSet;

    use crate::auth::scopes;

    /// Every RPC needing a write scope takes a request_id, and every RPC
    /// taking one is journalled.
    #[test]
    fn every_writing_rpc_takes_a_request_id() {
        let descriptors = FileDescriptorSet::decode(panelgate_proto::FILE_DESCRIPTOR_SET)
            .expect("descriptor set");
        let files: Vec<_> = descriptors
            .file
            .iter()
            .filter(|file| file.package() == "panelgate.v1")
            .collect();
        let message = |name: &str| {
            let name = name.trim_start_matches(".panelgate.v1.");
            files
                .iter()
                .flat_map(|file| &file.message_type)
                .find(|message| message.name() == name)
                .expect("request message")
        };
        for file in &files {
            for service in &file.service {
                for method in &service.method {
                    let path = format!("/panelgate.v1.{}/{}", service.name(), method.name());
                    let writes = matches!(
                        scopes::access(&path, false),
                        scopes::Access::Scope(
                            scopes::INVENTORY_WRITE | scopes::HOSTING_WRITE | scopes::PANELS_ADMIN
                        )
                    ) && !method.name().starts_with("List");
                    let takes_id = message(method.input_type())
                        .field
                        .iter()
                        .any(|field| field.name() == "request_id");
                    assert_eq!(writes, takes_id, "{path}");
                    let facts = panelgate_proto::RPCS
                        .iter()
                        .find(|rpc| rpc.path == path)
                        .expect("facts");
                    assert!(!takes_id || facts.journalled, "{path}");
                }
            }
        }
    }
}
