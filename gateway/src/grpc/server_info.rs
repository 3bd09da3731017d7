//! ServerService: the machine behind a panel (system information, system
//! services, notifications) and the panel's own administrators.

use panelgate_adapters::{Entity, Listed, NewPanelAdmin};
use panelgate_proto::v1::{
    ControlSystemServiceRequest, ControlSystemServiceResponse, CreatePanelAdminRequest,
    CreatePanelAdminResponse, GetServerInfoRequest, GetServerInfoResponse,
    ListNotificationsRequest, ListNotificationsResponse, ListPanelAdminsRequest,
    ListPanelAdminsResponse, SetSystemServiceMonitoredRequest, SetSystemServiceMonitoredResponse,
    SystemServiceAction, server_service_server::ServerService,
};

use super::{check_options_kind, next_offset_token, offset_page};
use crate::{
    app::App,
    call::{Body, Call},
    converge::Create,
    error::GatewayError,
    validate,
};

/// The ServerService implementation.
pub struct ServerApi {
    app: App,
}

impl ServerApi {
    /// Serves server information through `app`.
    pub fn new(app: App) -> Self {
        ServerApi { app }
    }

    async fn get_server_info(
        &self,
        call: Call,
        req: GetServerInfoRequest,
    ) -> Body<GetServerInfoResponse> {
        let route = call.route(req.target.as_ref()).await?;
        let info = call
            .on(&route, async |panel| panel.get_server_info().await)
            .await?;
        Ok(GetServerInfoResponse { info: Some(info) })
    }

    async fn control_system_service(
        &self,
        call: Call,
        req: ControlSystemServiceRequest,
    ) -> Body<ControlSystemServiceResponse> {
        let service = service(&call, &req.service)?;
        let action = match req.action() {
            SystemServiceAction::Unspecified => {
                let why = "must be START, STOP or RESTART";
                return Err(GatewayError::invalid("action", why).into());
            }
            action => action,
        };
        let route = call.route(req.target.as_ref()).await?;
        call.on(&route, async |panel| {
            panel.control_system_service(&service, action).await
        })
        .await?;
        Ok(ControlSystemServiceResponse::default())
    }

    async fn set_system_service_monitored(
        &self,
        call: Call,
        req: SetSystemServiceMonitoredRequest,
    ) -> Body<SetSystemServiceMonitoredResponse> {
        let service = service(&call, &req.service)?;
        let route = call.route(req.target.as_ref()).await?;
        call.on(&route, async |panel| {
            panel
                .set_system_service_monitored(&service, req.monitored)
                .await
        })
        .await?;
        Ok(SetSystemServiceMonitoredResponse::default())
    }

    async fn list_notifications(
        &self,
        call: Call,
        req: ListNotificationsRequest,
    ) -> Body<ListNotificationsResponse> {
        let page = offset_page(req.page_size, &req.page_token)?;
        let route = call.route(req.target.as_ref()).await?;
        let all = call
            .on(&route, async |panel| panel.list_notifications().await)
            .await?;
        let listed = Listed::slice(&all, page);
        Ok(ListNotificationsResponse {
            notifications: listed.items,
            next_page_token: next_offset_token(page, listed.more),
        })
    }

    async fn create_panel_admin(
        &self,
        call: Call,
        req: CreatePanelAdminRequest,
    ) -> Body<CreatePanelAdminResponse> {
        let username = validate::username("username", &req.username)?;
        call.about(format!("panel_admin/{username}"));
        validate::password("password", &req.password)?;
        let route = call.route(req.target.as_ref()).await?;
        check_options_kind(req.panel_options.as_ref(), route.kind)?;
        let new = NewPanelAdmin {
            username,
            password: req.password.clone().into(),
            full_access: req.full_access,
            options: req.panel_options.clone(),
        };
        let uncertain = call.uncertain();
        let admin = call
            .on(&route, async |panel| {
                Create {
                    entity: Entity::Account,
                    earlier: || panel.earlier_panel_admin(&new),
                    create: || panel.create_panel_admin(&new),
                }
                .run(uncertain, || None)
                .await
            })
            .await?;
        Ok(CreatePanelAdminResponse {
            admin: Some(admin),
            ..Default::default()
        })
    }

    async fn list_panel_admins(
        &self,
        call: Call,
        req: ListPanelAdminsRequest,
    ) -> Body<ListPanelAdminsResponse> {
        let page = offset_page(req.page_size, &req.page_token)?;
        let route = call.route(req.target.as_ref()).await?;
        let all = call
            .on(&route, async |panel| panel.list_panel_admins().await)
            .await?;
        let listed = Listed::slice(&all, page);
        Ok(ListPanelAdminsResponse {
            admins: listed.items,
            next_page_token: next_offset_token(page, listed.more),
        })
    }
}

/// The system service a call is about, validated and named in the journal.
fn service(call: &Call, service: &str) -> Result<String, GatewayError> {
    let service = validate::service_name("service", service)?;
    call.about(format!("service/{service}"));
    Ok(service)
}

serve!(ServerService for ServerApi {
    get_server_info(GetServerInfoRequest),
    control_system_service(ControlSystemServiceRequest),
    set_system_service_monitored(SetSystemServiceMonitoredRequest),
    list_notifications(ListNotificationsRequest),
    create_panel_admin(CreatePanelAdminRequest),
    list_panel_admins(ListPanelAdminsRequest),
});
