//! DomainService: domains of hosting accounts.

use panelgate_adapters::NewDomain;
use panelgate_proto::v1::{
    AddDomainRequest, AddDomainResponse, DeleteDomainRequest, DeleteDomainResponse,
    ListDomainsRequest, ListDomainsResponse, Operation, SuspendDomainRequest,
    SuspendDomainResponse, Target, UnsuspendDomainRequest, UnsuspendDomainResponse,
    add_domain_request::PanelOptions, domain_service_server::DomainService,
};
use tonic::{Request, Response, Status};
use tracing::instrument;

use super::{check_options_kind, next_offset_token, offset_page};
use crate::{app::App, validate};

/// The DomainService implementation.
pub struct DomainApi {
    app: App,
}

impl DomainApi {
    /// Serves domains through `app`.
    pub fn new(app: App) -> Self {
        DomainApi { app }
    }

    /// Suspend, unsuspend and delete: one domain on a named server, or on the
    /// server of its `owner` account (empty when not given).
    async fn change(
        &self,
        change: DomainChange,
        target: Option<&Target>,
        domain: &str,
        owner: &str,
        request_id: &str,
    ) -> Result<Response<()>, Status> {
        let (method, operation) = match change {
            DomainChange::Suspend => ("DomainService/SuspendDomain", Operation::SuspendDomain),
            DomainChange::Unsuspend => {
                ("DomainService/UnsuspendDomain", Operation::UnsuspendDomain)
            }
            DomainChange::Delete => ("DomainService/DeleteDomain", Operation::DeleteDomain),
        };
        let mut call = self.app.mutation(method, request_id);
        let result = async {
            let domain = validate::domain("domain", domain)?;
            call.about(format!("domain/{domain}"))?;
            let owner = if owner.is_empty() {
                None
            } else {
                Some(validate::username("username", owner)?)
            };
            let route = match &owner {
                Some(owner) => call.route_account(target, owner).await?,
                None => call.route(target).await?,
            };
            route.require(operation)?;
            let done = match change {
                DomainChange::Suspend => route.panel.suspend_domain(&domain).await,
                DomainChange::Unsuspend => route.panel.unsuspend_domain(&domain).await,
                DomainChange::Delete => route.panel.delete_domain(&domain, owner.as_deref()).await,
            };
            done.map_err(|err| route.fail(err))
        }
        .await;
        call.finish(result).await
    }
}

#[tonic::async_trait]
impl DomainService for DomainApi {
    #[instrument(
        name = "DomainService/AddDomain",
        skip_all,
        fields(server_id, panel_kind)
    )]
    async fn add_domain(
        &self,
        request: Request<AddDomainRequest>,
    ) -> Result<Response<AddDomainResponse>, Status> {
        let req = request.into_inner();
        let mut call = self
            .app
            .mutation("DomainService/AddDomain", &req.request_id);
        let result = async {
            let username = validate::username("username", &req.username)?;
            let domain = validate::domain("domain", &req.domain)?;
            call.about(format!("domain/{domain}"))?;
            let document_root = validate::document_root("document_root", &req.document_root)?;
            if let Some(PanelOptions::AdminApi(options)) = &req.panel_options {
                validate::php_version("panel_options.admin_api.php_version", &options.php_version)?;
            }
            let route = call.route_account(req.target.as_ref(), &username).await?;
            route.require(Operation::AddDomain)?;
            check_options_kind(req.panel_options.as_ref(), route.kind)?;
            let new = NewDomain {
                username,
                domain,
                document_root,
                options: req.panel_options,
            };
            let domain = route
                .panel
                .add_domain(&new)
                .await
                .map_err(|err| route.fail(err))?;
            Ok(AddDomainResponse {
                domain: Some(domain),
            })
        }
        .await;
        call.finish(result).await
    }

    #[instrument(
        name = "DomainService/ListDomains",
        skip_all,
        fields(server_id, panel_kind)
    )]
    async fn list_domains(
        &self,
        request: Request<ListDomainsRequest>,
    ) -> Result<Response<ListDomainsResponse>, Status> {
        let req = request.into_inner();
        let mut call = self.app.read("DomainService/ListDomains");
        let result = async {
            let page = offset_page(req.page_size, &req.page_token)?;
            let username = if req.username.is_empty() {
                None
            } else {
                Some(validate::username("username", &req.username)?)
            };
            let route = match &username {
                Some(username) => call.route_account(req.target.as_ref(), username).await?,
                None => call.route(req.target.as_ref()).await?,
            };
            route.require(Operation::ListDomains)?;
            let listed = route
                .panel
                .list_domains(username.as_deref(), page)
                .await
                .map_err(|err| route.fail(err))?;
            Ok(ListDomainsResponse {
                domains: listed.items,
                next_page_token: next_offset_token(page, listed.more),
            })
        }
        .await;
        call.finish(result).await
    }

    #[instrument(
        name = "DomainService/SuspendDomain",
        skip_all,
        fields(server_id, panel_kind)
    )]
    async fn suspend_domain(
        &self,
        request: Request<SuspendDomainRequest>,
    ) -> Result<Response<SuspendDomainResponse>, Status> {
        let req = request.into_inner();
        self.change(
            DomainChange::Suspend,
            req.target.as_ref(),
            &req.domain,
            "",
            &req.request_id,
        )
        .await
        .map(|_| Response::new(SuspendDomainResponse {}))
    }

    #[instrument(
        name = "DomainService/UnsuspendDomain",
        skip_all,
        fields(server_id, panel_kind)
    )]
    async fn unsuspend_domain(
        &self,
        request: Request<UnsuspendDomainRequest>,
    ) -> Result<Response<UnsuspendDomainResponse>, Status> {
        let req = request.into_inner();
        self.change(
            DomainChange::Unsuspend,
            req.target.as_ref(),
            &req.domain,
            "",
            &req.request_id,
        )
        .await
        .map(|_| Response::new(UnsuspendDomainResponse {}))
    }

    #[instrument(
        name = "DomainService/DeleteDomain",
        skip_all,
        fields(server_id, panel_kind)
    )]
    async fn delete_domain(
        &self,
        request: Request<DeleteDomainRequest>,
    ) -> Result<Response<DeleteDomainResponse>, Status> {
        let req = request.into_inner();
        self.change(
            DomainChange::Delete,
            req.target.as_ref(),
            &req.domain,
            &req.username,
            &req.request_id,
        )
        .await
        .map(|_| Response::new(DeleteDomainResponse {}))
    }
}

/// The changes of one domain that share a request shape.
#[derive(Clone, Copy)]
enum DomainChange {
    Suspend,
    Unsuspend,
    Delete,
}
