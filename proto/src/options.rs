//! Which panel kind each per-panel option message is for, so the gateway can
//! refuse options meant for another kind than the target server's.

use crate::v1::{
    PanelKind, add_domain_request, create_account_request, create_database_request,
    create_package_request, create_panel_admin_request, update_package_request,
};

/// A `panel_options` oneof of a request.
pub trait PanelOptions {
    /// The panel kind these options are for.
    fn panel_kind(&self) -> PanelKind;
}

impl PanelOptions for create_account_request::PanelOptions {
    fn panel_kind(&self) -> PanelKind {
        match self {
            Self::AdminApi(_) => PanelKind::AdminApi,
            Self::Installatron(_) => PanelKind::Installatron,
        }
    }
}

impl PanelOptions for create_package_request::PanelOptions {
    fn panel_kind(&self) -> PanelKind {
        match self {
            Self::AdminApi(_) => PanelKind::AdminApi,
            Self::Openadmin(_) => PanelKind::Openadmin,
            Self::Spanel(_) => PanelKind::Spanel,
        }
    }
}

impl PanelOptions for add_domain_request::PanelOptions {
    fn panel_kind(&self) -> PanelKind {
        match self {
            Self::AdminApi(_) => PanelKind::AdminApi,
            Self::Installatron(_) => PanelKind::Installatron,
        }
    }
}

impl PanelOptions for create_database_request::PanelOptions {
    fn panel_kind(&self) -> PanelKind {
        match self {
            Self::Installatron(_) => PanelKind::Installatron,
        }
    }
}

impl PanelOptions for create_panel_admin_request::PanelOptions {
    fn panel_kind(&self) -> PanelKind {
        match self {
            Self::Spanel(_) => PanelKind::Spanel,
        }
    }
}

impl PanelOptions for update_package_request::PanelOptions {
    fn panel_kind(&self) -> PanelKind {
        match self {
            Self::Spanel(_) => PanelKind::Spanel,
        }
    }
}
