//! `endpoint_table!`: a panel's endpoints declared as one table, one row per
//! endpoint, so that each endpoint's facts (name, path, handler...) are
//! written once.

/// Declares an endpoint enum from a table. Each row names a variant and gives
/// the fields of `$facts` (a struct the simulator defines: the columns) for
/// it. Generates the enum (`Clone, Copy, Debug, PartialEq, Eq, Hash`), `ALL`
/// (every variant, in table order) and `facts()`.
///
/// ```text
/// endpoint_table! {
///     /// One endpoint of the admin API.
///     pub(super) enum Endpoint: Facts {
///         AddUser { name: "add_user", run: views::add_user },
///     }
/// }
/// ```
macro_rules! endpoint_table {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident: $facts:ident {
            $($variant:ident { $($field:ident: $value:expr),+ $(,)? },)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        $vis enum $name {
            $($variant,)+
        }

        impl $name {
            /// Every one, in table order.
            $vis const ALL: &'static [$name] = &[$($name::$variant),+];

            /// What the table says of it.
            $vis fn facts(self) -> $facts {
                match self {
                    $($name::$variant => $facts { $($field: $value),+ },)+
                }
            }
        }
    };
}

pub(crate) use endpoint_table;
