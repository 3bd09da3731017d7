//! The inventory calls of every panel: registration with secret credentials,
//! updates, reads and deletion.

use panelgate_proto::v1::{
    CheckServerRequest, DeleteServerRequest, GetServerRequest, ListServersRequest, PanelKind,
    RegisterServerRequest, UpdateServerRequest,
};
use panelgate_tests::gateway::by_name;
use tonic::Code;

use panelgate_tests::secrets::{Secrets, Seen};

use super::super::Api;

use super::{Member, api_token, password};

/// RegisterServer (with a request id, replayed, then reused with another
/// secret), CheckServer, GetServer, ListServers, UpdateServer with the
/// credentials again, and a server registered then deleted, both replayed.
pub(super) async fn inventory_calls(
    api: &Api,
    members: &[Member],
    secrets: &mut Secrets,
    seen: &mut Seen,
    rid: &impl Fn(&str) -> String,
) {
    let mut inventory = api.inventory();
    for member in members {
        let name = &member.server;
        let request = member.register(&rid(&format!("register-{name}")));
        let registered = inventory
            .register_server(request.clone())
            .await
            .expect("register")
            .into_inner();
        seen.reply(format!("{name}: RegisterServer"), &registered);
        seen.stored_reply(format!("{name}: RegisterServer"), &registered);
        let replayed = inventory
            .register_server(request.clone())
            .await
            .expect("replay the registration")
            .into_inner();
        assert_eq!(replayed, registered, "the stored reply is replayed");

        // The same request id with other credentials: refused, not run.
        let other = secrets.make(
            "credentials sent with a reused request id",
            &format!("All-{}-Reused-Creds", member.short),
        );
        let result = inventory
            .register_server(RegisterServerRequest {
                credentials: Some(match member.kind {
                    PanelKind::AdminApi | PanelKind::Openadmin => password(&other),
                    _ => api_token(&other),
                }),
                ..request
            })
            .await;
        seen.failure(
            format!("{name}: RegisterServer (request_id reused)"),
            result,
            Code::FailedPrecondition,
            "REQUEST_ID_REUSED",
        );

        let checked = inventory
            .check_server(CheckServerRequest {
                target: by_name(name),
            })
            .await
            .expect("check")
            .into_inner();
        assert!(checked.healthy, "{name}: the credentials work: {checked:?}");
        seen.reply(format!("{name}: CheckServer"), &checked);
        let got = inventory
            .get_server(GetServerRequest {
                target: by_name(name),
            })
            .await
            .expect("get server")
            .into_inner();
        seen.reply(format!("{name}: GetServer"), &got);

        // The credentials again, with labels, under a request id: replayed.
        let update = UpdateServerRequest {
            target: by_name(name),
            credentials: Some(member.credentials.clone()),
            labels: Some(panelgate_proto::v1::LabelSet {
                labels: [("tier", "gold"), ("region", "eu"), ("rack", "r7")]
                    .map(|(key, value)| (key.to_owned(), value.to_owned()))
                    .into(),
            }),
            request_id: rid(&format!("update-{name}")),
            ..Default::default()
        };
        let updated = inventory
            .update_server(update.clone())
            .await
            .expect("update")
            .into_inner();
        seen.reply(format!("{name}: UpdateServer"), &updated);
        seen.stored_reply(format!("{name}: UpdateServer"), &updated);
        let replayed = inventory
            .update_server(update)
            .await
            .expect("replay the update")
            .into_inner();
        assert_eq!(replayed, updated, "the stored reply is replayed");
    }
    let listed = inventory
        .list_servers(ListServersRequest::default())
        .await
        .expect("list servers")
        .into_inner();
    assert!(listed.servers.len() >= members.len());
    seen.page("ListServers", &listed, &listed.next_page_token);

    // A server with its own secret, registered and deleted, both replayed.
    let doomed_password = secrets.make("password of a deleted server", "All-Doomed-Pass");
    let doomed = Member {
        server: format!("{}-doomed", members[0].server),
        credentials: password(&doomed_password),
        ..members[0].clone()
    };
    let registered = inventory
        .register_server(doomed.register(&rid("register-doomed")))
        .await
        .expect("register the doomed server")
        .into_inner();
    seen.reply("RegisterServer (doomed)", &registered);
    seen.stored_reply("RegisterServer (doomed)", &registered);
    let delete = DeleteServerRequest {
        target: by_name(&doomed.server),
        request_id: rid("delete-doomed"),
    };
    let deleted = inventory
        .delete_server(delete.clone())
        .await
        .expect("delete the doomed server")
        .into_inner();
    seen.reply("DeleteServer", &deleted);
    let replayed = inventory
        .delete_server(delete)
        .await
        .expect("replay the deletion")
        .into_inner();
    seen.reply("DeleteServer (replayed)", &replayed);
}
