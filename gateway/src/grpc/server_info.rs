//! ServerService: the machine behind a panel (system information, system
//! services, notifications) and the panel's own administrators.

use panelgate_adapters::{Entity, Listed, NewPanelAdmin};
use panelgate_proto::v1::{
    ControlSystemServiceRequest, ControlSystemServiceResponse, CreatePanelAdminRequest,
    CreatePanelAdminResponse, GetServerInfoRequest, GetServerInfoResponse,
    ListNotificationsRequest, ListNotificationsResponse, ListPanelAdminsRequest,
    ListPanelAdminsResponse, Operation, SetSystemServiceMonitoredRequest,
    SetSystemServiceMonitoredResponse, SystemServiceAction, server_service_server::ServerService,
};
use tonic::{Request, Response, Status};

use super::{check_options_kind, next_offset_token, offset_page};
use crate::{
    app::{App, validation},
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
}

#[tonic::async_trait]
impl ServerService for ServerApi {
    async fn get_server_info(
        &self,
        request: Request<GetServerInfoRequest>,
    ) -> Result<Response<GetServerInfoResponse>, Status> {
        let (mut call, req) = self.app.read(request, "ServerService/GetServerInfo");
        let result = async {
            let route = call.route(req.target.as_ref()).await?;
            route.require(Operation::GetServerInfo)?;
            let info = route
                .panel
                .get_server_info()
                .await
                .map_err(|err| route.fail(err))?;
            Ok(GetServerInfoResponse { info: Some(info) })
        }
        .await;
        call.finish(result).await
    }

    async fn control_system_service(
        &self,
        request: Request<ControlSystemServiceRequest>,
    ) -> Result<Response<ControlSystemServiceResponse>, Status> {
        let (mut call, req) = match self
            .app
            .mutation(request, "ServerService/ControlSystemService")
            .await
        {
            Ok(started) => started,
            Err(reply) => return reply,
        };
        let result = async {
            let service = validate::service_name("service", &req.service)?;
            call.about(format!("service/{service}"));
            let action = match req.action() {
                SystemServiceAction::Unspecified => {
                    return Err(GatewayError::invalid(
                        "action",
                        "must be START, STOP or RESTART",
                    ));
                }
                action => action,
            };
            let route = call.route(req.target.as_ref()).await?;
            route.require(Operation::ControlSystemService)?;
            if req.validate_only {
                let dry_run = route.panel.dry_run();
                if let Some(panel) = &dry_run {
                    panel
                        .control_system_service(&service, action)
                        .await
                        .map_err(|err| route.fail(err))?;
                }
                let validation = validation(&dry_run);
                return Ok(ControlSystemServiceResponse {
                    validation: Some(validation),
                });
            }
            route
                .panel
                .control_system_service(&service, action)
                .await
                .map_err(|err| route.fail(err))?;
            Ok(ControlSystemServiceResponse::default())
        }
        .await;
        call.finish(result).await
    }

    async fn set_system_service_monitored(
        &self,
        request: Request<SetSystemServiceMonitoredRequest>,
    ) -> Result<Response<SetSystemServiceMonitoredResponse>, Status> {
        let (mut call, req) = match self
            .app
            .mutation(request, "ServerService/SetSystemServiceMonitored")
            .await
        {
            Ok(started) => started,
            Err(reply) => return reply,
        };
        let result = async {
            let service = validate::service_name("service", &req.service)?;
            call.about(format!("service/{service}"));
            let route = call.route(req.target.as_ref()).await?;
            route.require(Operation::SetSystemServiceMonitored)?;
            if req.validate_only {
                let dry_run = route.panel.dry_run();
                if let Some(panel) = &dry_run {
                    panel
                        .set_system_service_monitored(&service, req.monitored)
                        .await
                        .map_err(|err| route.fail(err))?;
                }
                let validation = validation(&dry_run);
                return Ok(SetSystemServiceMonitoredResponse {
                    validation: Some(validation),
                });
            }
            route
                .panel
                .set_system_service_monitored(&service, req.monitored)
                .await
                .map_err(|err| route.fail(err))?;
            Ok(SetSystemServiceMonitoredResponse::default())
        }
        .await;
        call.finish(result).await
    }

    async fn list_notifications(
        &self,
        request: Request<ListNotificationsRequest>,
    ) -> Result<Response<ListNotificationsResponse>, Status> {
        let (mut call, req) = self.app.read(request, "ServerService/ListNotifications");
        let result = async {
            let page = offset_page(req.page_size, &req.page_token)?;
            let route = call.route(req.target.as_ref()).await?;
            route.require(Operation::ListNotifications)?;
            let all = route
                .panel
                .list_notifications()
                .await
                .map_err(|err| route.fail(err))?;
            let listed = Listed::slice(all, page);
            Ok(ListNotificationsResponse {
                notifications: listed.items,
                next_page_token: next_offset_token(page, listed.more),
            })
        }
        .await;
        call.finish(result).await
    }

    async fn create_panel_admin(
        &self,
        request: Request<CreatePanelAdminRequest>,
    ) -> Result<Response<CreatePanelAdminResponse>, Status> {
        let (mut call, req) = match self
            .app
            .mutation(request, "ServerService/CreatePanelAdmin")
            .await
        {
            Ok(started) => started,
            Err(reply) => return reply,
        };
        let result = async {
            let username = validate::username("username", &req.username)?;
            call.about(format!("panel_admin/{username}"));
            validate::password("password", &req.password)?;
            let route = call.route(req.target.as_ref()).await?;
            route.require(Operation::CreatePanelAdmin)?;
            check_options_kind(req.panel_options.as_ref(), route.kind)?;
            let new = NewPanelAdmin {
                username,
                password: req.password.clone().into(),
                full_access: req.full_access,
                options: req.panel_options.clone(),
            };
            if req.validate_only {
                let dry_run = route.panel.dry_run();
                if let Some(panel) = &dry_run {
                    panel
                        .create_panel_admin(&new)
                        .await
                        .map_err(|err| route.fail(err))?;
                }
                let validation = validation(&dry_run);
                return Ok(CreatePanelAdminResponse {
                    validation: Some(validation),
                    ..Default::default()
                });
            }
            let admin = Create {
                entity: Entity::Account,
                earlier: || route.panel.earlier_panel_admin(&new),
                create: || route.panel.create_panel_admin(&new),
            }
            .run(call.uncertain(), || None)
            .await
            .map_err(|err| route.fail(err))?;
            Ok(CreatePanelAdminResponse {
                admin: Some(admin),
                ..Default::default()
            })
        }
        .await;
        call.finish(result).await
    }

    async fn list_panel_admins(
        &self,
        request: Request<ListPanelAdminsRequest>,
    ) -> Result<Response<ListPanelAdminsResponse>, Status> {
        let (mut call, req) = self.app.read(request, "ServerService/ListPanelAdmins");
        let result = async {
            let page = offset_page(req.page_size, &req.page_token)?;
            let route = call.route(req.target.as_ref()).await?;
            route.require(Operation::ListPanelAdmins)?;
            let all = route
                .panel
                .list_panel_admins()
                .await
                .map_err(|err| route.fail(err))?;
            let listed = Listed::slice(all, page);
            Ok(ListPanelAdminsResponse {
                admins: listed.items,
                next_page_token: next_offset_token(page, listed.more),
            })
        }
        .await;
        call.finish(result).await
    }
}
