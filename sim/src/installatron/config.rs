//! The settings of a simulated Installatron Server: its API keys.

use crate::hiding::debug_hiding;

/// Settings of a simulated Installatron Server.
#[derive(Clone)]
pub struct InstallatronConfig {
    /// The `key=` value of `settings.ini`, expected in `X-API-KEY`.
    pub api_key: String,
    /// The `key2=` value, accepted as well when set.
    pub api_key2: Option<String>,
}

impl Default for InstallatronConfig {
    /// Key `panelgate-sim-installatron-key`, no second key.
    fn default() -> Self {
        Self {
            api_key: "panelgate-sim-installatron-key".to_owned(),
            api_key2: None,
        }
    }
}

debug_hiding!(InstallatronConfig {
    api_key: hidden,
    api_key2: hidden
});
