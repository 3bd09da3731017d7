//! Following the changes other replicas make (PostgreSQL LISTEN/NOTIFY, see
//! the inventory's `changes`): each one drops what this replica caches of
//! the server it names; after every (re)connection of the listener,
//! everything is dropped, since changes announced meanwhile were missed.

use panelgate_inventory::{Change, ChangeListener, Heard};
use tracing::debug;

use crate::app::App;

/// Applies what `listener` hears to `app`'s caches, forever.
pub async fn follow(app: App, mut listener: ChangeListener) {
    loop {
        match listener.next().await {
            Heard::Change(Change::Server(id)) => {
                debug!(server_id = %id, "server changed on another replica");
                app.server_changed(&id).await;
            }
            Heard::Change(Change::Packages(id)) => {
                debug!(server_id = %id, "packages changed on another replica");
                app.packages.invalidate(&id).await;
            }
            Heard::Resubscribed => app.flush().await,
        }
    }
}
