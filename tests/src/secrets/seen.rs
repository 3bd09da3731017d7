//! What a flow's calls answered: replies, failures, and what the gateway
//! stored for replays, to search for secrets afterwards.

use prost::Message;
use tonic::{Code, Status};
use tonic_types::StatusExt;

use crate::errors::assert_error;

/// Replies and failures of every call made, to search afterwards.
#[derive(Default)]
pub struct Seen {
    /// (call, encoded reply, Debug of the reply, page token of the reply)
    pub replies: Vec<(String, Vec<u8>, String, Option<String>)>,
    /// (call, status)
    pub failures: Vec<(String, Status)>,
    /// (call, what the gateway stored for replays: the encoded reply, or the
    /// error's encoded details), which must be sealed at rest.
    pub stored: Vec<(String, Vec<u8>)>,
}

impl Seen {
    /// Records a call's reply.
    pub fn reply<M: Message + std::fmt::Debug>(&mut self, call: impl Into<String>, reply: &M) {
        self.replies.push((
            call.into(),
            reply.encode_to_vec(),
            format!("{reply:?}"),
            None,
        ));
    }

    /// A page of a list, whose `next_page_token` is the gateway's keyset
    /// cursor: base64url JSON, so it starts like a JWT (`eyJ`), but has no
    /// `.` and so cannot be one. Only that token is spared the JWT search.
    pub fn page<M: Message + std::fmt::Debug>(
        &mut self,
        call: impl Into<String>,
        reply: &M,
        next_page_token: &str,
    ) {
        let call = call.into();
        assert!(
            !next_page_token.contains('.'),
            "{call}: a page token is no JWT: {next_page_token}"
        );
        self.replies.push((
            call,
            reply.encode_to_vec(),
            format!("{reply:?}"),
            (!next_page_token.is_empty()).then(|| next_page_token.to_owned()),
        ));
    }

    /// Records a failure after checking its code and reason.
    #[track_caller]
    pub fn failure<T: std::fmt::Debug>(
        &mut self,
        call: impl Into<String>,
        result: Result<T, Status>,
        code: Code,
        expected_reason: &str,
    ) -> Status {
        let status = assert_error(result, code, expected_reason);
        self.failures.push((call.into(), status.clone()));
        status
    }

    /// Records a call's reply, or its failure whatever it is (calls whose
    /// outcome depends on the panel); the reply, if any, is returned.
    pub fn outcome<M: Message + std::fmt::Debug>(
        &mut self,
        call: impl Into<String>,
        result: Result<tonic::Response<M>, Status>,
    ) -> Option<M> {
        match result {
            Ok(reply) => {
                let reply = reply.into_inner();
                self.reply(call, &reply);
                Some(reply)
            }
            Err(status) => {
                self.failures.push((call.into(), status));
                None
            }
        }
    }

    /// A reply the gateway stored for replays of its request id.
    pub fn stored_reply<M: Message>(&mut self, call: impl Into<String>, reply: &M) {
        self.stored.push((call.into(), reply.encode_to_vec()));
    }

    /// A failure the gateway stored for replays of its request id.
    pub fn stored_failure(&mut self, call: impl Into<String>, status: &Status) {
        self.stored.push((call.into(), status.details().to_vec()));
    }
}

/// Every text a failure carries to the caller, named: message, ErrorInfo
/// metadata, BadRequest descriptions, the raw details, and the Debug of it all.
pub(crate) fn failure_texts(status: &Status) -> Vec<(String, Vec<u8>)> {
    let mut texts = vec![
        ("message".to_owned(), status.message().as_bytes().to_vec()),
        ("details".to_owned(), status.details().to_vec()),
        ("Debug".to_owned(), format!("{status:?}").into_bytes()),
    ];
    if let Some(info) = status.get_details_error_info() {
        texts.extend(
            info.metadata
                .into_iter()
                .map(|(key, value)| (format!("ErrorInfo {key}"), value.into_bytes())),
        );
        texts.push(("ErrorInfo reason".to_owned(), info.reason.into_bytes()));
    }
    if let Some(bad) = status.get_details_bad_request() {
        for violation in bad.field_violations {
            texts.push(("BadRequest field".to_owned(), violation.field.into_bytes()));
            texts.push((
                "BadRequest description".to_owned(),
                violation.description.into_bytes(),
            ));
        }
    }
    for (key, value) in status.metadata().iter().filter_map(|entry| match entry {
        tonic::metadata::KeyAndValueRef::Ascii(key, value) => Some((key, value)),
        tonic::metadata::KeyAndValueRef::Binary(..) => None,
    }) {
        texts.push((
            format!("metadata {}", key.as_str()),
            format!("{value:?}").into_bytes(),
        ));
    }
    texts
}
