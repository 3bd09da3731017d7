//! The tonic services, one file per proto service. Each RPC is a body: an
//! inherent method of the service's type, from the request and its
//! [`Call`](crate::call::Call) to the reply (validate, route, reach the
//! panel, map the reply); [`serve!`] runs each with the command runner.

/// Implements tonic service `$service` for `$api` (which has an `app` field):
/// each listed RPC runs the inherent method of the same name,
/// `async fn rpc(&self, call: Call, req: RpcRequest) -> Body<RpcReply>`,
/// with `App::run`. Items after the list (streaming RPCs) go into the impl
/// as they are.
macro_rules! serve {
    ($service:ident for $api:ty { $($rpc:ident($request:ty)),+ $(,)? } $($streams:tt)*) => {
        #[tonic::async_trait]
        impl $service for $api {
            $(
                async fn $rpc(
                    &self,
                    request: tonic::Request<$request>,
                ) -> $crate::call::RpcResult<<$request as panelgate_proto::Rpc>::Reply> {
                    self.app
                        .run(request, |call, req| <$api>::$rpc(self, call, req))
                        .await
                }
            )+
            $($streams)*
        }
    };
}

mod accounts;
mod batches;
mod certificates;
mod databases;
mod domains;
mod fleet;
mod inventory;
mod operations;
mod packages;
mod server_info;

pub use self::{
    accounts::AccountApi, batches::BatchApi, certificates::CertificateApi, databases::DatabaseApi,
    domains::DomainApi, fleet::FleetApi, inventory::InventoryApi, operations::OperationApi,
    packages::PackageApi, server_info::ServerApi,
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use panelgate_adapters::{Slice, kind_name};
use panelgate_proto::{PanelOptions, v1::PanelKind};

use crate::error::GatewayError;

/// Page size when a request leaves it at 0.
const DEFAULT_PAGE_SIZE: usize = 50;
/// Largest page a request gets.
const MAX_PAGE_SIZE: usize = 500;
/// Deepest position a page token may point at.
const MAX_OFFSET: usize = 1_000_000;
/// Marks tokens of position-based pages.
const OFFSET_TOKEN_PREFIX: &str = "offset:";

/// The page size a request asks for, within bounds.
fn page_size(requested: i32) -> Result<usize, GatewayError> {
    match usize::try_from(requested) {
        Err(_) => Err(GatewayError::invalid("page_size", "must not be negative")),
        Ok(0) => Ok(DEFAULT_PAGE_SIZE),
        Ok(size) => Ok(size.min(MAX_PAGE_SIZE)),
    }
}

/// The slice of a panel's list a request asks for.
fn offset_page(page_size: i32, page_token: &str) -> Result<Slice, GatewayError> {
    let limit = self::page_size(page_size)?;
    if page_token.is_empty() {
        return Ok(Slice { offset: 0, limit });
    }
    let offset = URL_SAFE_NO_PAD
        .decode(page_token)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.strip_prefix(OFFSET_TOKEN_PREFIX)?.parse().ok())
        .filter(|offset| *offset <= MAX_OFFSET)
        .ok_or_else(|| GatewayError::invalid("page_token", "not a token this server issued"))?;
    Ok(Slice { offset, limit })
}

/// The token of the page after `page`, or empty when there is none.
fn next_offset_token(page: Slice, more: bool) -> String {
    if !more {
        return String::new();
    }
    URL_SAFE_NO_PAD.encode(format!(
        "{OFFSET_TOKEN_PREFIX}{}",
        page.offset.saturating_add(page.limit)
    ))
}

/// Refuses per-panel options meant for another kind than the server's.
fn check_options_kind(
    options: Option<&impl PanelOptions>,
    server_kind: PanelKind,
) -> Result<(), GatewayError> {
    match options.map(PanelOptions::panel_kind) {
        Some(kind) if kind != server_kind => Err(GatewayError::invalid(
            "panel_options",
            format!(
                "options for {} given, but the server runs {}",
                kind_name(kind),
                kind_name(server_kind)
            ),
        )),
        _ => Ok(()),
    }
}

/// A chrono time as a protobuf timestamp.
fn timestamp(time: chrono::DateTime<chrono::Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: time.timestamp(),
        nanos: i32::try_from(time.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_sizes_are_bounded() {
        assert_eq!(page_size(0).unwrap(), DEFAULT_PAGE_SIZE);
        assert_eq!(page_size(7).unwrap(), 7);
        assert_eq!(page_size(100_000).unwrap(), MAX_PAGE_SIZE);
        assert!(page_size(-1).is_err());
    }

    #[test]
    fn offset_tokens_round_trip_and_reject_forgeries() {
        let first = offset_page(2, "").unwrap();
        assert_eq!(
            first,
            Slice {
                offset: 0,
                limit: 2
            }
        );
        let token = next_offset_token(first, true);
        assert_eq!(
            offset_page(2, &token).unwrap(),
            Slice {
                offset: 2,
                limit: 2
            }
        );
        assert_eq!(next_offset_token(first, false), "");
        let huge = URL_SAFE_NO_PAD.encode(format!("{OFFSET_TOKEN_PREFIX}{}", usize::MAX));
        for bad in ["garbage", "b2Zmc2V0Onh4", "!!", &huge] {
            assert!(offset_page(2, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn options_must_match_the_server() {
        use panelgate_proto::v1::{
            AdminApiAccountOptions, create_account_request::PanelOptions as Options,
        };
        let admin_api = Options::AdminApi(AdminApiAccountOptions::default());
        assert!(check_options_kind(None::<&Options>, PanelKind::Spanel).is_ok());
        assert!(check_options_kind(Some(&admin_api), PanelKind::AdminApi).is_ok());
        assert!(check_options_kind(Some(&admin_api), PanelKind::Spanel).is_err());
    }
}
