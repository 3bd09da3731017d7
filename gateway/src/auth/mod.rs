//! Caller authentication and authorisation: JWT bearer tokens ([`token`]),
//! one scope per RPC ([`scopes`]), enforced by a tower layer ([`layer`]) in
//! front of every service; the inventory groups a token is limited to are
//! enforced where calls are routed.

pub mod bearer;
pub mod layer;
pub mod scopes;
pub mod token;

pub use bearer::Bearer;
pub use layer::{Auth, Authenticate};
pub use token::{Caller, KeyMaterial, Tokens};
