//! Asking the gateway's server reflection, in both versions it serves: v1,
//! and v1alpha (what older grpcurl speaks), whose generated types differ
//! while the questions are the same.

use std::collections::BTreeSet;

use tonic::{Status, transport::Channel};

/// A version of the reflection service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reflection {
    /// `grpc.reflection.v1`.
    V1,
    /// `grpc.reflection.v1alpha`.
    V1alpha,
}

impl Reflection {
    /// The services listed, asked over `channel` with `authorization` (a
    /// whole header value) when given.
    pub async fn services(
        self,
        channel: Channel,
        authorization: Option<&str>,
    ) -> Result<BTreeSet<String>, Status> {
        match self {
            Reflection::V1 => v1::services(channel, authorization).await,
            Reflection::V1alpha => v1alpha::services(channel, authorization).await,
        }
    }

    /// The encoded file descriptors of the file that defines `symbol`.
    pub async fn files_containing(
        self,
        channel: Channel,
        authorization: Option<&str>,
        symbol: &str,
    ) -> Result<Vec<Vec<u8>>, Status> {
        match self {
            Reflection::V1 => v1::files_containing(channel, authorization, symbol).await,
            Reflection::V1alpha => v1alpha::files_containing(channel, authorization, symbol).await,
        }
    }
}

/// The questions, for one version's generated types.
macro_rules! questions {
    ($version:ident) => {
        mod $version {
            use std::collections::BTreeSet;

            use tonic::{
                Status, codegen::tokio_stream, metadata::AsciiMetadataValue, transport::Channel,
            };
            use tonic_reflection::pb::$version::{
                ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
                server_reflection_request::MessageRequest,
                server_reflection_response::MessageResponse,
            };

            /// The one answer to `question`.
            async fn ask(
                channel: Channel,
                authorization: Option<&str>,
                question: MessageRequest,
            ) -> Result<Option<MessageResponse>, Status> {
                let mut request =
                    tonic::Request::new(tokio_stream::iter([ServerReflectionRequest {
                        host: String::new(),
                        message_request: Some(question),
                    }]));
                if let Some(value) = authorization {
                    let value: AsciiMetadataValue = value.parse().expect("an ASCII header value");
                    request.metadata_mut().insert("authorization", value);
                }
                let mut client = ServerReflectionClient::new(channel);
                let mut replies = client.server_reflection_info(request).await?.into_inner();
                let reply = replies.message().await?.expect("one reply");
                Ok(reply.message_response)
            }

            pub(super) async fn services(
                channel: Channel,
                authorization: Option<&str>,
            ) -> Result<BTreeSet<String>, Status> {
                let question = MessageRequest::ListServices(String::new());
                match ask(channel, authorization, question).await? {
                    Some(MessageResponse::ListServicesResponse(list)) => Ok(list
                        .service
                        .into_iter()
                        .map(|service| service.name)
                        .collect()),
                    other => panic!("expected a service list, got {other:?}"),
                }
            }

            pub(super) async fn files_containing(
                channel: Channel,
                authorization: Option<&str>,
                symbol: &str,
            ) -> Result<Vec<Vec<u8>>, Status> {
                let question = MessageRequest::FileContainingSymbol(symbol.to_owned());
                match ask(channel, authorization, question).await? {
                    Some(MessageResponse::FileDescriptorResponse(files)) => {
                        Ok(files.file_descriptor_proto)
                    }
                    other => panic!("expected descriptors, got {other:?}"),
                }
            }
        }
    };
}

questions!(v1);
questions!(v1alpha);
