//! The settings of a simulated Installatron Server: its API keys.

use std::fmt;

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

impl fmt::Debug for InstallatronConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InstallatronConfig")
            .field("api_key", &"***")
            .field("api_key2", &self.api_key2.as_ref().map(|_| "***"))
            .finish()
    }
}
