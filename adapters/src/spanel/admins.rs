//! SPanel's administrators, created with all pages or per-category
//! permissions.

use panelgate_proto::v1::{PanelAdmin, create_panel_admin_request};
use secrecy::ExposeSecret;

use super::{Spanel, error::Subject, field, mapping, php_query::PhpValue};
use crate::{AdapterError, NewPanelAdmin, Panel, Result};

impl Spanel {
    /// `admin/createadminuser`, then the new administrator as listed.
    pub(super) async fn create_admin(&self, admin: &NewPanelAdmin) -> Result<PanelAdmin> {
        let granted = match &admin.options {
            Some(create_panel_admin_request::PanelOptions::Spanel(options)) => {
                options.permissions.as_ref()
            }
            None => None,
        };
        let permissions = match (admin.full_access, granted) {
            (true, None) => PhpValue::from("all"),
            (false, Some(granted)) => {
                mapping::permissions("panel_options.spanel.permissions", granted)?
            }
            (true, Some(_)) => {
                return Err(AdapterError::invalid(
                    "full_access",
                    "set full_access or panel_options.spanel.permissions, not both",
                ));
            }
            (false, None) => {
                return Err(AdapterError::invalid(
                    "panel_options.spanel.permissions",
                    "required unless full_access is set",
                ));
            }
        };
        let fields = vec![
            field("username", admin.username.as_str()),
            field("password", admin.password.expose_secret()),
            field("permissions", permissions),
        ];
        let subject = Subject::new(&admin.username).with_fields(&[
            ("permission", "panel_options.spanel.permissions"),
            ("password", "password"),
            ("username", "username"),
        ]);
        self.client
            .admin("admin/createadminuser", fields, subject)
            .await?;
        let created = self.list_panel_admins().await?;
        created
            .into_iter()
            .find(|listed| listed.username.eq_ignore_ascii_case(&admin.username))
            .ok_or_else(|| {
                AdapterError::protocol(
                    format!("admin `{}` was created but is not listed", admin.username),
                    "",
                )
            })
    }
}
