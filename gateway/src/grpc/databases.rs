//! DatabaseService: databases of hosting accounts.

use panelgate_adapters::{Entity, NewDatabase};
use panelgate_proto::v1::{
    CreateDatabaseRequest, CreateDatabaseResponse, Database,
    database_service_server::DatabaseService,
};

use super::check_options_kind;
use crate::{
    app::App,
    call::{Body, Call},
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

    async fn create_database(
        &self,
        call: Call,
        req: CreateDatabaseRequest,
    ) -> Body<CreateDatabaseResponse> {
        let username = validate::username("username", &req.username)?;
        let name = validate::identifier("database_name", &req.database_name, 1..=64)?;
        call.about(format!("database/{username}/{name}"));
        let user = validate::identifier("database_user", &req.database_user, 2..=32)?;
        validate::password("database_password", &req.database_password)?;
        let route = call.route_account(req.target.as_ref(), &username).await?;
        check_options_kind(req.panel_options.as_ref(), route.kind)?;
        let uncertain = call.uncertain();
        let new = NewDatabase {
            resuming: uncertain,
            username,
            name,
            user,
            password: req.database_password.clone().into(),
            options: req.panel_options.clone(),
        };
        // An earlier attempt's database, when the panel cannot say.
        let assumed = || {
            Some(Database {
                name: new.name.clone(),
                user: new.user.clone(),
                username: new.username.clone(),
            })
        };
        let database = call
            .on(&route, async |panel| {
                Create {
                    entity: Entity::Database,
                    earlier: || panel.earlier_database(&new),
                    create: || panel.create_database(&new),
                }
                .run(uncertain, assumed)
                .await
            })
            .await?;
        Ok(CreateDatabaseResponse {
            database: Some(database),
            ..Default::default()
        })
    }
}

serve!(DatabaseService for DatabaseApi {
    create_database(CreateDatabaseRequest),
});
