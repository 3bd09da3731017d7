//! `debug_hiding!`: `Debug` for a settings struct that holds secrets, every
//! field listed in order, the secret ones (marked `hidden`) printed as `***`.

use std::fmt;

/// One field of a settings struct, as `Debug` shows it.
pub(crate) struct Field<'a, T>(pub(crate) &'a T);

impl<T: fmt::Debug> fmt::Debug for Field<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Field<'_, String> {
    /// A secret: `***`.
    pub(crate) fn hidden(&self) -> &'static str {
        "***"
    }
}

impl Field<'_, Option<String>> {
    /// A secret that may be unset: `Some("***")` or `None`.
    pub(crate) fn hidden(&self) -> Option<&'static str> {
        self.0.as_ref().map(|_| "***")
    }
}

/// Implements `Debug` for `$type`, showing the fields listed, in order; a
/// field marked `: hidden` shows as `***`.
///
/// ```text
/// debug_hiding!(SpanelConfig { folder, admin_token: hidden, admin_token_sso, packages });
/// ```
macro_rules! debug_hiding {
    ($type:ident { $($field:ident $(: $hidden:ident)?),+ $(,)? }) => {
        impl std::fmt::Debug for $type {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($type))
                    $(.field(stringify!($field), &$crate::hiding::Field(&self.$field)$(.$hidden())?))+
                    .finish()
            }
        }
    };
}

pub(crate) use debug_hiding;
