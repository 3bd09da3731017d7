//! PackageService: package lists (cached per server), one package, and
//! package creation, replacement and deletion (each clears the cache).

use panelgate_adapters::{Entity, Listed, NewPackage};
use panelgate_proto::v1::{
    CreatePackageRequest, CreatePackageResponse, DeletePackageRequest, DeletePackageResponse,
    GetPackageRequest, GetPackageResponse, ListPackagesRequest, ListPackagesResponse, Operation,
    UpdatePackageRequest, UpdatePackageResponse, create_package_request,
    package_service_server::PackageService, update_package_request,
};
use tonic::{Request, Response, Status};

use super::{check_options_kind, next_offset_token, offset_page};
use crate::{
    app::{App, validation},
    converge::Create,
    validate,
};

/// The PackageService implementation.
pub struct PackageApi {
    app: App,
}

impl PackageApi {
    /// Serves packages through `app`.
    pub fn new(app: App) -> Self {
        PackageApi { app }
    }
}

#[tonic::async_trait]
impl PackageService for PackageApi {
    async fn list_packages(
        &self,
        request: Request<ListPackagesRequest>,
    ) -> Result<Response<ListPackagesResponse>, Status> {
        let (mut call, req) = self.app.read(request, "PackageService/ListPackages");
        let result = async {
            let page = offset_page(req.page_size, &req.page_token)?;
            let route = call.route(req.target.as_ref()).await?;
            route.require(Operation::ListPackages)?;
            let all = self.app.packages.list(&route).await?;
            let listed = Listed::slice(all.as_ref().clone(), page);
            Ok(ListPackagesResponse {
                packages: listed.items,
                next_page_token: next_offset_token(page, listed.more),
            })
        }
        .await;
        call.finish(result).await
    }

    async fn get_package(
        &self,
        request: Request<GetPackageRequest>,
    ) -> Result<Response<GetPackageResponse>, Status> {
        let (mut call, req) = self.app.read(request, "PackageService/GetPackage");
        let result = async {
            let wanted = validate::package("package", &req.package)?;
            let route = call.route(req.target.as_ref()).await?;
            route.require(Operation::GetPackage)?;
            let package = route
                .panel
                .get_package(&wanted)
                .await
                .map_err(|err| route.fail(err))?;
            Ok(GetPackageResponse {
                package: Some(package),
            })
        }
        .await;
        call.finish(result).await
    }

    async fn create_package(
        &self,
        request: Request<CreatePackageRequest>,
    ) -> Result<Response<CreatePackageResponse>, Status> {
        let (mut call, req) = match self
            .app
            .mutation(request, "PackageService/CreatePackage")
            .await
        {
            Ok(started) => started,
            Err(reply) => return reply,
        };
        let result = async {
            let name = validate::package("name", &req.name)?;
            call.about(format!("package/{name}"));
            let route = call.route(req.target.as_ref()).await?;
            route.require(Operation::CreatePackage)?;
            check_options_kind(req.panel_options.as_ref(), route.kind)?;
            let new = NewPackage {
                name,
                limits: req.limits.unwrap_or_default(),
                options: req.panel_options,
            };
            if req.validate_only {
                let dry_run = route.panel.dry_run();
                if let Some(panel) = &dry_run {
                    panel
                        .create_package(&new)
                        .await
                        .map_err(|err| route.fail(err))?;
                }
                return Ok(CreatePackageResponse {
                    validation: Some(validation(&dry_run)),
                    ..Default::default()
                });
            }
            let created = Create {
                entity: Entity::Package,
                earlier: || route.panel.earlier_package(&new),
                create: || route.panel.create_package(&new),
            }
            .run(call.uncertain(), || None)
            .await;
            // Even a failed create may have changed the panel's list.
            self.app.packages.invalidate(&route.server.id).await;
            let package = created.map_err(|err| route.fail(err))?;
            Ok(CreatePackageResponse {
                package: Some(package),
                ..Default::default()
            })
        }
        .await;
        call.finish(result).await
    }

    async fn update_package(
        &self,
        request: Request<UpdatePackageRequest>,
    ) -> Result<Response<UpdatePackageResponse>, Status> {
        let (mut call, req) = match self
            .app
            .mutation(request, "PackageService/UpdatePackage")
            .await
        {
            Ok(started) => started,
            Err(reply) => return reply,
        };
        let result = async {
            let wanted = validate::package("package", &req.package)?;
            call.about(format!("package/{wanted}"));
            let route = call.route(req.target.as_ref()).await?;
            route.require(Operation::UpdatePackage)?;
            check_options_kind(req.panel_options.as_ref(), route.kind)?;
            let package = self.app.packages.existing(&route, &wanted).await?;
            let new = NewPackage {
                name: package.name,
                limits: req.limits.unwrap_or_default(),
                options: req.panel_options.map(|options| match options {
                    update_package_request::PanelOptions::Spanel(spanel) => {
                        create_package_request::PanelOptions::Spanel(spanel)
                    }
                }),
            };
            if req.validate_only {
                let dry_run = route.panel.dry_run();
                if let Some(panel) = &dry_run {
                    panel
                        .update_package(&new)
                        .await
                        .map_err(|err| route.fail(err))?;
                }
                return Ok(UpdatePackageResponse {
                    validation: Some(validation(&dry_run)),
                    ..Default::default()
                });
            }
            let updated = route.panel.update_package(&new).await;
            self.app.packages.invalidate(&route.server.id).await;
            let package = updated.map_err(|err| route.fail(err))?;
            Ok(UpdatePackageResponse {
                package: Some(package),
                ..Default::default()
            })
        }
        .await;
        call.finish(result).await
    }

    async fn delete_package(
        &self,
        request: Request<DeletePackageRequest>,
    ) -> Result<Response<DeletePackageResponse>, Status> {
        let (mut call, req) = match self
            .app
            .mutation(request, "PackageService/DeletePackage")
            .await
        {
            Ok(started) => started,
            Err(reply) => return reply,
        };
        let result = async {
            let wanted = validate::package("package", &req.package)?;
            call.about(format!("package/{wanted}"));
            let route = call.route(req.target.as_ref()).await?;
            route.require(Operation::DeletePackage)?;
            let package = self.app.packages.existing(&route, &wanted).await?;
            if req.validate_only {
                let dry_run = route.panel.dry_run();
                if let Some(panel) = &dry_run {
                    panel
                        .delete_package(&package)
                        .await
                        .map_err(|err| route.fail(err))?;
                }
                return Ok(DeletePackageResponse {
                    validation: Some(validation(&dry_run)),
                });
            }
            let deleted = route.panel.delete_package(&package).await;
            self.app.packages.invalidate(&route.server.id).await;
            deleted.map_err(|err| route.fail(err))?;
            Ok(DeletePackageResponse::default())
        }
        .await;
        call.finish(result).await
    }
}
