//! The fleet: N servers registered through InventoryService, all on the one
//! simulated admin_api panel, with a mix of TLS settings (each server's own
//! TLS settings give it an HTTP client of its own in the gateway), and one
//! ListPackages per server.

use std::{fmt, sync::Arc, time::Duration};

use anyhow::{Context, bail};
use panelgate_proto::v1::{
    Credentials, ListPackagesRequest, PanelKind, PasswordCredentials, RegisterServerRequest,
    Server, ServerDefaults, TlsSettings, credentials,
    inventory_service_client::InventoryServiceClient, package_service_client::PackageServiceClient,
};
use panelgate_sim::AdminApiConfig;
use panelgate_tests::{gateway::by_name, tls_proxy::TestCa};
use tonic::transport::Channel;

use crate::drive;

/// Servers `i` with `i % 4` in 0..2 turn verification off, 2 trust a CA of
/// their own, 3 keep the defaults: a half, a quarter and a quarter.
fn tls(index: usize, ca_pem: &str) -> Option<TlsSettings> {
    match index % 4 {
        0 | 1 => Some(TlsSettings {
            insecure_skip_verify: true,
            ..Default::default()
        }),
        2 => Some(TlsSettings {
            ca_pem: ca_pem.to_owned(),
            ..Default::default()
        }),
        _ => None,
    }
}

/// The servers to register and call, and the panel they all point at.
pub struct Fleet {
    /// How many servers.
    pub size: usize,
    base_url: String,
    panel: AdminApiConfig,
    ca_pem: String,
}

impl Fleet {
    /// `size` servers on the simulated panel at `base_url` run with `panel`.
    pub fn new(size: usize, base_url: String, panel: AdminApiConfig) -> Arc<Fleet> {
        let ca_pem = TestCa::new("panelgate fleet-bench CA").cert_pem();
        Arc::new(Fleet {
            size,
            base_url,
            panel,
            ca_pem,
        })
    }

    /// Server `index`'s name.
    fn name(index: usize) -> String {
        format!("fleet-{index:06}")
    }

    /// RegisterServer of server `index`.
    fn registration(&self, index: usize) -> RegisterServerRequest {
        RegisterServerRequest {
            server: Some(Server {
                name: Fleet::name(index),
                kind: PanelKind::AdminApi.into(),
                base_url: self.base_url.clone(),
                tls: tls(index, &self.ca_pem),
                // admin_api takes new accounts' PHP version from here.
                defaults: Some(ServerDefaults {
                    php_version: "8.2".to_owned(),
                }),
                ..Default::default()
            }),
            credentials: Some(Credentials {
                kind: Some(credentials::Kind::Password(PasswordCredentials {
                    username: self.panel.admin_username.clone(),
                    password: self.panel.admin_password.clone(),
                })),
            }),
            request_id: String::new(),
        }
    }

    /// Registers every server, `in_flight` at a time; returns the wall time.
    pub async fn register(
        self: &Arc<Fleet>,
        channel: &Channel,
        in_flight: usize,
    ) -> anyhow::Result<Duration> {
        let (fleet, channel) = (self.clone(), channel.clone());
        drive::each("register", self.size, in_flight, move |index| {
            let request = fleet.registration(index);
            let mut inventory = InventoryServiceClient::new(channel.clone());
            async move {
                inventory
                    .register_server(request)
                    .await
                    .with_context(|| format!("RegisterServer {}", Fleet::name(index)))?;
                Ok(())
            }
        })
        .await
    }

    /// One ListPackages on every server, `in_flight` at a time, each reply
    /// checked against the panel's packages; returns the wall time.
    pub async fn list_packages(
        self: &Arc<Fleet>,
        what: &str,
        channel: &Channel,
        in_flight: usize,
    ) -> anyhow::Result<Duration> {
        let expected = self.panel.packages.len();
        let channel = channel.clone();
        drive::each(what, self.size, in_flight, move |index| {
            let mut packages = PackageServiceClient::new(channel.clone());
            async move {
                let name = Fleet::name(index);
                let reply = packages
                    .list_packages(ListPackagesRequest {
                        target: by_name(&name),
                        ..Default::default()
                    })
                    .await
                    .with_context(|| format!("ListPackages on {name}"))?
                    .into_inner();
                if reply.packages.len() != expected {
                    bail!(
                        "ListPackages on {name}: {} packages, the panel has {expected}",
                        reply.packages.len()
                    );
                }
                Ok(())
            }
        })
        .await
    }
}

impl fmt::Display for Fleet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let of_kind = |kinds: &[usize]| {
            (0..self.size)
                .filter(|index| kinds.contains(&(index % 4)))
                .count()
        };
        write!(
            f,
            "{} admin_api servers at {} ({} with tls.insecure_skip_verify, {} with tls.ca_pem, \
             {} with default TLS settings)",
            self.size,
            self.base_url,
            of_kind(&[0, 1]),
            of_kind(&[2]),
            of_kind(&[3]),
        )
    }
}
