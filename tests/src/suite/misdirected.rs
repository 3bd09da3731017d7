//! Calls that would go astray: a panel redirecting elsewhere, a base URL
//! under which no panel lives or nobody listens, names that are no single
//! path segment. Every panel answers the documented error, sends nothing
//! elsewhere and changes nothing.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use panelgate_proto::Capability;
use panelgate_proto::v1::{ControlSystemServiceRequest, DeleteAccountRequest, SystemServiceAction};
use panelgate_sim::Fault;
use tokio::net::TcpListener;
use tonic::Code;

use super::{about, capabilities};
use crate::{
    Backend, Panel, PanelFixture,
    errors::{assert_error, assert_invalid},
    gateway::{by_id, by_name},
    operations,
    panel::assert_server_error,
};

/// A panel answering 301, 302, 307 or 308 towards another host: the call is
/// FAILED_PRECONDITION SERVER_MISCONFIGURED naming only the target's origin
/// (no path, no query), and nothing reaches the other host.
pub async fn redirects_are_never_followed<F: PanelFixture>(backend: Backend) {
    let elsewhere = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let origin = format!("http://{}", elsewhere.local_addr().expect("address"));
    let reached = Arc::new(AtomicUsize::new(0));
    let counted = reached.clone();
    let other_host = tokio::spawn(async move {
        while elsewhere.accept().await.is_ok() {
            counted.fetch_add(1, Ordering::SeqCst);
        }
    });
    Panel::<F>::on(backend, |panel| async move {
        panel.create("rex", panel.packages().0).await;
        for status_code in [301, 302, 307, 308] {
            let location = format!("{origin}/steal?token=abc");
            panel.faults().set(Fault::Redirect(status_code, location));
            let before = panel.state();
            for operation in [Capability::GetAccount, Capability::SuspendAccount] {
                let about = about(&panel, "rex");
                let result = operations::call(&panel.gateway, panel.target(), operation, about);
                let status = assert_error(
                    result.await,
                    Code::FailedPrecondition,
                    "SERVER_MISCONFIGURED",
                );
                let message = status.message();
                assert!(message.contains(&origin), "{message}");
                let leaked = message.contains("steal") || message.contains("abc");
                assert!(!leaked, "{message}");
            }
            panel.faults().clear();
            assert_eq!(panel.state(), before, "{status_code}: nothing changed");
        }
        assert_eq!(
            reached.load(Ordering::SeqCst),
            0,
            "no request went elsewhere"
        );
    })
    .await;
    other_host.abort();
}

/// Usernames, package names and service names that could not be one
/// segment of a panel's URL path (`.`, `..`, `a/b`) are INVALID_ARGUMENT
/// naming the field, and the panel hears nothing.
pub async fn names_that_are_not_one_path_segment_make_no_call<F: PanelFixture>(backend: Backend) {
    Panel::<F>::on(backend, |panel| async move {
        let before = panel.requests();
        let mut accounts = panel.gateway.accounts();
        let mut servers = panel.gateway.servers();
        for name in [".", "..", "a/b", "../etc", "a\\b"] {
            assert_invalid(panel.get_account(name).await, "username");
            assert_invalid(panel.suspend(name).await, "username");
            let deleted = accounts.delete_account(DeleteAccountRequest {
                target: panel.target(),
                username: name.into(),
                ..Default::default()
            });
            assert_invalid(deleted.await, "username");
            assert_invalid(panel.get_package(name).await, "package");
            let service = servers.control_system_service(ControlSystemServiceRequest {
                target: panel.target(),
                service: name.into(),
                action: SystemServiceAction::Restart.into(),
                ..Default::default()
            });
            assert_invalid(service.await, "service");
        }
        assert_eq!(panel.requests(), before, "no HTTP call");
    })
    .await;
}

/// A server registered with a base URL under which no panel API lives (the
/// web server answers 404 with a page, or the panel knows no such command):
/// FAILED_PRECONDITION SERVER_MISCONFIGURED pointing at the base URL, never
/// a NOT_FOUND of what the call was about.
pub async fn wrong_base_url_is_misconfigured<F: PanelFixture>(backend: Backend) {
    Panel::<F>::on(backend, |panel| async move {
        let base_url = format!("{}/nowhere/", panel.base_url().trim_end_matches('/'));
        let secret = panel.secret();
        panel
            .register_at(&panel.gateway, "astray", &base_url, &secret)
            .await;
        for operation in [Capability::GetAccount, Capability::SuspendAccount] {
            let about = about(&panel, "kai");
            let result = operations::call(&panel.gateway, by_name("astray"), operation, about);
            let status = assert_error(
                result.await,
                Code::FailedPrecondition,
                "SERVER_MISCONFIGURED",
            );
            let message = status.message();
            assert!(message.contains("base_url"), "{operation:?}: {message}");
        }
    })
    .await;
}

/// A server whose base URL nobody listens on (`gone`): ListPackages by name
/// (where the panel has packages to list) and GetAccount by id are
/// UNAVAILABLE UPSTREAM_UNAVAILABLE naming the server, and CheckServer says so.
pub async fn unreachable_panel_is_unavailable<F: PanelFixture>(backend: Backend) {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a port");
    let base_url = format!("http://{}/", closed.local_addr().expect("address"));
    drop(closed);
    Panel::<F>::on(backend, |panel| async move {
        let secret = panel.secret();
        let id = panel
            .register_at(&panel.gateway, "gone", &base_url, &secret)
            .await;
        let mut calls = vec![(Capability::GetAccount, by_id(&id))];
        if capabilities(&panel)
            .await
            .contains(&Capability::ListPackages)
        {
            calls.push((Capability::ListPackages, by_name("gone")));
        }
        for (operation, target) in calls {
            let about = about(&panel, "dee");
            let result = operations::call(&panel.gateway, target, operation, about).await;
            let reason = "UPSTREAM_UNAVAILABLE";
            assert_server_error(result, Code::Unavailable, reason, "gone", &id, F::KIND);
        }
        let checked = panel.check("gone").await;
        assert!(!checked.healthy);
        assert_eq!(checked.error_reason, "UPSTREAM_UNAVAILABLE");
    })
    .await;
}
