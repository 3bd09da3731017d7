//! DomainService: domains of hosting accounts.

use panelgate_adapters::{Entity, NewDomain};
use panelgate_proto::v1::{
    AddDomainRequest, AddDomainResponse, DeleteDomainRequest, DeleteDomainResponse, Domain,
    DomainStatus, ListDomainsRequest, ListDomainsResponse, Operation, SuspendDomainRequest,
    SuspendDomainResponse, Target, UnsuspendDomainRequest, UnsuspendDomainResponse, Validation,
    add_domain_request::PanelOptions, domain_service_server::DomainService,
};
use tonic::{Request, Response, Status};

use super::{check_options_kind, next_offset_token, offset_page};
use crate::{
    app::{App, Call, validation},
    converge::Create,
    error::GatewayError,
    validate,
};

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
        call: &mut Call,
        change: DomainChange,
        one: OneDomain<'_>,
    ) -> Result<Option<Validation>, GatewayError> {
        let OneDomain {
            target,
            domain,
            owner,
            validate_only,
        } = one;
        let operation = match change {
            DomainChange::Suspend => Operation::SuspendDomain,
            DomainChange::Unsuspend => Operation::UnsuspendDomain,
            DomainChange::Delete => Operation::DeleteDomain,
        };
        let domain = validate::domain("domain", domain)?;
        call.about(format!("domain/{domain}"));
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
        if validate_only {
            let dry_run = route.panel.dry_run();
            if let Some(panel) = &dry_run {
                let checked = match change {
                    DomainChange::Suspend => panel.suspend_domain(&domain).await,
                    DomainChange::Unsuspend => panel.unsuspend_domain(&domain).await,
                    DomainChange::Delete => panel.delete_domain(&domain, owner.as_deref()).await,
                };
                checked.map_err(|err| route.fail(err))?;
            }
            return Ok(Some(validation(&dry_run)));
        }
        let done = match change {
            DomainChange::Suspend => route.panel.suspend_domain(&domain).await,
            DomainChange::Unsuspend => route.panel.unsuspend_domain(&domain).await,
            DomainChange::Delete => route.panel.delete_domain(&domain, owner.as_deref()).await,
        };
        done.map(|()| None).map_err(|err| route.fail(err))
    }
}

#[tonic::async_trait]
impl DomainService for DomainApi {
    async fn add_domain(
        &self,
        request: Request<AddDomainRequest>,
    ) -> Result<Response<AddDomainResponse>, Status> {
        let (mut call, req) = match self.app.mutation(request, "DomainService/AddDomain").await {
            Ok(started) => started,
            Err(reply) => return reply,
        };
        let result = async {
            let username = validate::username("username", &req.username)?;
            let domain = validate::domain("domain", &req.domain)?;
            call.about(format!("domain/{domain}"));
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
            if req.validate_only {
                let dry_run = route.panel.dry_run();
                if let Some(panel) = &dry_run {
                    panel
                        .add_domain(&new)
                        .await
                        .map_err(|err| route.fail(err))?;
                }
                let validation = validation(&dry_run);
                return Ok(AddDomainResponse {
                    validation: Some(validation),
                    ..Default::default()
                });
            }
            let domain = Create {
                entity: Entity::Domain,
                earlier: || route.panel.earlier_domain(&new),
                create: || route.panel.add_domain(&new),
            }
            .run(call.uncertain(), || {
                Some(Domain {
                    name: new.domain.clone(),
                    username: new.username.clone(),
                    document_root: new.document_root.clone().unwrap_or_default(),
                    status: DomainStatus::Active.into(),
                    panel_domain_id: String::new(),
                })
            })
            .await
            .map_err(|err| route.fail(err))?;
            Ok(AddDomainResponse {
                domain: Some(domain),
                ..Default::default()
            })
        }
        .await;
        call.finish(result).await
    }

    async fn list_domains(
        &self,
        request: Request<ListDomainsRequest>,
    ) -> Result<Response<ListDomainsResponse>, Status> {
        let (mut call, req) = self.app.read(request, "DomainService/ListDomains");
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

    async fn suspend_domain(
        &self,
        request: Request<SuspendDomainRequest>,
    ) -> Result<Response<SuspendDomainResponse>, Status> {
        let (mut call, req) = match self
            .app
            .mutation(request, "DomainService/SuspendDomain")
            .await
        {
            Ok(started) => started,
            Err(reply) => return reply,
        };
        let one = OneDomain {
            target: req.target.as_ref(),
            domain: &req.domain,
            owner: "",
            validate_only: req.validate_only,
        };
        let result = self
            .change(&mut call, DomainChange::Suspend, one)
            .await
            .map(|validation| SuspendDomainResponse { validation });
        call.finish(result).await
    }

    async fn unsuspend_domain(
        &self,
        request: Request<UnsuspendDomainRequest>,
    ) -> Result<Response<UnsuspendDomainResponse>, Status> {
        let (mut call, req) = match self
            .app
            .mutation(request, "DomainService/UnsuspendDomain")
            .await
        {
            Ok(started) => started,
            Err(reply) => return reply,
        };
        let one = OneDomain {
            target: req.target.as_ref(),
            domain: &req.domain,
            owner: "",
            validate_only: req.validate_only,
        };
        let result = self
            .change(&mut call, DomainChange::Unsuspend, one)
            .await
            .map(|validation| UnsuspendDomainResponse { validation });
        call.finish(result).await
    }

    async fn delete_domain(
        &self,
        request: Request<DeleteDomainRequest>,
    ) -> Result<Response<DeleteDomainResponse>, Status> {
        let (mut call, req) = match self
            .app
            .mutation(request, "DomainService/DeleteDomain")
            .await
        {
            Ok(started) => started,
            Err(reply) => return reply,
        };
        let one = OneDomain {
            target: req.target.as_ref(),
            domain: &req.domain,
            owner: &req.username,
            validate_only: req.validate_only,
        };
        let result = self
            .change(&mut call, DomainChange::Delete, one)
            .await
            .map(|validation| DeleteDomainResponse { validation });
        call.finish(result).await
    }
}

/// What SuspendDomain, UnsuspendDomain and DeleteDomain name.
struct OneDomain<'a> {
    target: Option<&'a Target>,
    domain: &'a str,
    /// The owning account; empty when not given.
    owner: &'a str,
    validate_only: bool,
}

/// The changes of one domain that share a request shape.
#[derive(Clone, Copy)]
enum DomainChange {
    Suspend,
    Unsuspend,
    Delete,
}
