//! DomainService: domains of hosting accounts.

use panelgate_adapters::{Entity, NewDomain};
use panelgate_proto::v1::{
    AddDomainRequest, AddDomainResponse, DeleteDomainRequest, DeleteDomainResponse, Domain,
    DomainStatus, ListDomainsRequest, ListDomainsResponse, SuspendDomainRequest,
    SuspendDomainResponse, Target, UnsuspendDomainRequest, UnsuspendDomainResponse,
    add_domain_request::PanelOptions, domain_service_server::DomainService,
};

use super::{check_options_kind, next_offset_token, offset_page};
use crate::{
    app::App,
    call::{Body, Call},
    converge::Create,
    error::GatewayError,
    routing::Route,
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

    async fn add_domain(&self, call: Call, req: AddDomainRequest) -> Body<AddDomainResponse> {
        let username = validate::username("username", &req.username)?;
        let domain = validate::domain("domain", &req.domain)?;
        call.about(format!("domain/{domain}"));
        let document_root = validate::document_root("document_root", &req.document_root)?;
        if let Some(PanelOptions::AdminApi(options)) = &req.panel_options {
            let field = "panel_options.admin_api.php_version";
            validate::php_version(field, &options.php_version)?;
        }
        let route = call.route_account(req.target.as_ref(), &username).await?;
        check_options_kind(req.panel_options.as_ref(), route.kind)?;
        let new = NewDomain {
            username,
            domain,
            document_root,
            options: req.panel_options,
        };
        // An earlier attempt's domain, when the panel cannot say.
        let assumed = || {
            Some(Domain {
                name: new.domain.clone(),
                username: new.username.clone(),
                document_root: new.document_root.clone().unwrap_or_default(),
                status: DomainStatus::Active.into(),
                panel_domain_id: String::new(),
            })
        };
        let uncertain = call.uncertain();
        let domain = call
            .on(&route, async |panel| {
                Create {
                    entity: Entity::Domain,
                    earlier: || panel.earlier_domain(&new),
                    create: || panel.add_domain(&new),
                }
                .run(uncertain, assumed)
                .await
            })
            .await?;
        Ok(AddDomainResponse {
            domain: Some(domain),
            ..Default::default()
        })
    }

    async fn list_domains(&self, call: Call, req: ListDomainsRequest) -> Body<ListDomainsResponse> {
        let page = offset_page(req.page_size, &req.page_token)?;
        let (owner, route) = route_owner(&call, req.target.as_ref(), &req.username).await?;
        let listed = call
            .on(&route, async |panel| {
                panel.list_domains(owner.as_deref(), page).await
            })
            .await?;
        Ok(ListDomainsResponse {
            domains: listed.items,
            next_page_token: next_offset_token(page, listed.more),
        })
    }

    async fn suspend_domain(
        &self,
        call: Call,
        req: SuspendDomainRequest,
    ) -> Body<SuspendDomainResponse> {
        let (domain, _, route) = one_domain(&call, req.target.as_ref(), &req.domain, "").await?;
        call.on(&route, async |panel| panel.suspend_domain(&domain).await)
            .await?;
        Ok(SuspendDomainResponse::default())
    }

    async fn unsuspend_domain(
        &self,
        call: Call,
        req: UnsuspendDomainRequest,
    ) -> Body<UnsuspendDomainResponse> {
        let (domain, _, route) = one_domain(&call, req.target.as_ref(), &req.domain, "").await?;
        call.on(&route, async |panel| panel.unsuspend_domain(&domain).await)
            .await?;
        Ok(UnsuspendDomainResponse::default())
    }

    async fn delete_domain(
        &self,
        call: Call,
        req: DeleteDomainRequest,
    ) -> Body<DeleteDomainResponse> {
        let (domain, owner, route) =
            one_domain(&call, req.target.as_ref(), &req.domain, &req.username).await?;
        call.on(&route, async |panel| {
            panel.delete_domain(&domain, owner.as_deref()).await
        })
        .await?;
        Ok(DeleteDomainResponse::default())
    }
}

/// Routes by the owning account when one is named (empty: none), else by
/// the target; returns the validated owner too.
async fn route_owner(
    call: &Call,
    target: Option<&Target>,
    owner: &str,
) -> Result<(Option<String>, Route), GatewayError> {
    if owner.is_empty() {
        return Ok((None, call.route(target).await?));
    }
    let owner = validate::username("username", owner)?;
    let route = call.route_account(target, &owner).await?;
    Ok((Some(owner), route))
}

/// The one domain SuspendDomain, UnsuspendDomain and DeleteDomain are about,
/// named in the journal, with its owner (if named) and route.
async fn one_domain(
    call: &Call,
    target: Option<&Target>,
    domain: &str,
    owner: &str,
) -> Result<(String, Option<String>, Route), GatewayError> {
    let domain = validate::domain("domain", domain)?;
    call.about(format!("domain/{domain}"));
    let (owner, route) = route_owner(call, target, owner).await?;
    Ok((domain, owner, route))
}

serve!(DomainService for DomainApi {
    add_domain(AddDomainRequest),
    list_domains(ListDomainsRequest),
    suspend_domain(SuspendDomainRequest),
    unsuspend_domain(UnsuspendDomainRequest),
    delete_domain(DeleteDomainRequest),
});
