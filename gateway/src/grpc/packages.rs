//! PackageService: package lists (cached per server), one package, and
//! package creation, replacement and deletion (each clears the cache).

use panelgate_adapters::{Entity, Listed, NewPackage};
use panelgate_proto::v1::{
    CreatePackageRequest, CreatePackageResponse, DeletePackageRequest, DeletePackageResponse,
    GetPackageRequest, GetPackageResponse, ListPackagesRequest, ListPackagesResponse,
    UpdatePackageRequest, UpdatePackageResponse, create_package_request,
    package_service_server::PackageService, update_package_request,
};

use super::{check_options_kind, next_offset_token, offset_page};
use crate::{
    app::App,
    call::{Body, Call, Stop},
    converge::Create,
    routing::Route,
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

    /// A change's result, once the server's cached list is dropped: even a
    /// failed change may have changed the panel's list (a validate_only call
    /// changed nothing).
    async fn changed<T>(&self, route: &Route, result: Result<T, Stop>) -> Result<T, Stop> {
        if !matches!(result, Err(Stop::Checked(_))) {
            self.app.packages_changed(&route.server.id).await;
        }
        result
    }

    async fn list_packages(
        &self,
        call: Call,
        req: ListPackagesRequest,
    ) -> Body<ListPackagesResponse> {
        let page = offset_page(req.page_size, &req.page_token)?;
        let route = call.route(req.target.as_ref()).await?;
        let all = self.app.packages.list(&route).await?;
        let listed = Listed::slice(&all, page);
        Ok(ListPackagesResponse {
            packages: listed.items,
            next_page_token: next_offset_token(page, listed.more),
        })
    }

    async fn get_package(&self, call: Call, req: GetPackageRequest) -> Body<GetPackageResponse> {
        let wanted = validate::package("package", &req.package)?;
        let route = call.route(req.target.as_ref()).await?;
        let package = call
            .on(&route, async |panel| panel.get_package(&wanted).await)
            .await?;
        Ok(GetPackageResponse {
            package: Some(package),
        })
    }

    async fn create_package(
        &self,
        call: Call,
        req: CreatePackageRequest,
    ) -> Body<CreatePackageResponse> {
        let name = validate::package("name", &req.name)?;
        call.about(format!("package/{name}"));
        let route = call.route(req.target.as_ref()).await?;
        check_options_kind(req.panel_options.as_ref(), route.kind)?;
        let new = NewPackage {
            name,
            limits: req.limits.unwrap_or_default(),
            options: req.panel_options,
        };
        let uncertain = call.uncertain();
        let created = call
            .on(&route, async |panel| {
                Create {
                    entity: Entity::Package,
                    earlier: || panel.earlier_package(&new),
                    create: || panel.create_package(&new),
                }
                .run(uncertain, || None)
                .await
            })
            .await;
        Ok(CreatePackageResponse {
            package: Some(self.changed(&route, created).await?),
            ..Default::default()
        })
    }

    async fn update_package(
        &self,
        call: Call,
        req: UpdatePackageRequest,
    ) -> Body<UpdatePackageResponse> {
        let wanted = validate::package("package", &req.package)?;
        call.about(format!("package/{wanted}"));
        let route = call.route(req.target.as_ref()).await?;
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
        let updated = call
            .on(&route, async |panel| panel.update_package(&new).await)
            .await;
        Ok(UpdatePackageResponse {
            package: Some(self.changed(&route, updated).await?),
            ..Default::default()
        })
    }

    async fn delete_package(
        &self,
        call: Call,
        req: DeletePackageRequest,
    ) -> Body<DeletePackageResponse> {
        let wanted = validate::package("package", &req.package)?;
        call.about(format!("package/{wanted}"));
        let route = call.route(req.target.as_ref()).await?;
        let package = self.app.packages.existing(&route, &wanted).await?;
        let deleted = call
            .on(&route, async |panel| panel.delete_package(&package).await)
            .await;
        self.changed(&route, deleted).await?;
        Ok(DeletePackageResponse::default())
    }
}

serve!(PackageService for PackageApi {
    list_packages(ListPackagesRequest),
    get_package(GetPackageRequest),
    create_package(CreatePackageRequest),
    update_package(UpdatePackageRequest),
    delete_package(DeletePackageRequest),
});
