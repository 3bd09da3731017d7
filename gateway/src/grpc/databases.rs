//! DatabaseService: databases of hosting accounts.

use panelgate_adapters::{Entity, NewDatabase};
use panelgate_proto::v1::{
    CreateDatabaseRequest, CreateDatabaseResponse, Database, Operation,
    database_service_server::DatabaseService,
};
use tonic::{Request, Response, Status};

use super::check_options_kind;
use crate::{
    app::{App, validation},
    converge::Create,
    validate,
};

/// The DatabaseService implementation.
pub struct DatabaseApi {
    app: App,
}

impl DatabaseApi {
    /// Serves databases through `app`.
    pub fn new(app: App) -> Self {
        DatabaseApi { app }
    }
}

#[tonic::async_trait]
impl DatabaseService for DatabaseApi {
    async fn create_database(
        &self,
        request: Request<CreateDatabaseRequest>,
    ) -> Result<Response<CreateDatabaseResponse>, Status> {
        let (mut call, req) = match self
            .app
            .mutation(request, "DatabaseService/CreateDatabase")
            .await
        {
            Ok(started) => started,
            Err(reply) => return reply,
        };
        let result = async {
            let username = validate::username("username", &req.username)?;
            let name = validate::identifier("database_name", &req.database_name, 1..=64)?;
            call.about(format!("database/{username}/{name}"));
            let user = validate::identifier("database_user", &req.database_user, 2..=32)?;
            validate::password("database_password", &req.database_password)?;
            let route = call.route_account(req.target.as_ref(), &username).await?;
            route.require(Operation::CreateDatabase)?;
            check_options_kind(req.panel_options.as_ref(), route.kind)?;
            let new = NewDatabase {
                resuming: call.uncertain(),
                username,
                name,
                user,
                password: req.database_password.clone().into(),
                options: req.panel_options.clone(),
            };
            if req.validate_only {
                let dry_run = route.panel.dry_run();
                if let Some(panel) = &dry_run {
                    panel
                        .create_database(&new)
                        .await
                        .map_err(|err| route.fail(err))?;
                }
                let validation = validation(&dry_run);
                return Ok(CreateDatabaseResponse {
                    validation: Some(validation),
                    ..Default::default()
                });
            }
            let database = Create {
                entity: Entity::Database,
                earlier: || route.panel.earlier_database(&new),
                create: || route.panel.create_database(&new),
            }
            .run(call.uncertain(), || {
                Some(Database {
                    name: new.name.clone(),
                    user: new.user.clone(),
                    username: new.username.clone(),
                })
            })
            .await
            .map_err(|err| route.fail(err))?;
            Ok(CreateDatabaseResponse {
                database: Some(database),
                ..Default::default()
            })
        }
        .await;
        call.finish(result).await
    }
}
