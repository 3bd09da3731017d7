//! A batch outlives the gateway running it: process A starts a batch
//! suspending 100 accounts on 4 slow SPanel servers and is SIGKILLed
//! half-way; process B, started on the same PostgreSQL database, takes the
//! unfinished items over once their leases expire and ends the batch, with
//! every account suspended on its panel by exactly one request.

use std::time::{Duration, Instant};

use panelgate_proto::v1::{
    AccountSelection, BatchItemState, BatchOperation, BatchState, GetBatchRequest,
    ListBatchItemsRequest, PanelKind, SearchAccountsRequest, SuspendAccountsRequest, Target,
    account_service_client::AccountServiceClient, batch_service_client::BatchServiceClient,
    inventory_service_client::InventoryServiceClient, target,
};
use tonic::transport::Channel;

use crate::{
    gateway::{Gateway, bearer, postgres},
    sims::SimPanel,
};

const SERVERS: usize = 4;
const PER_SERVER: usize = 25;

async fn batch(channel: Channel, id: &str) -> BatchOperation {
    BatchServiceClient::new(channel)
        .get_batch(bearer(GetBatchRequest { id: id.to_owned() }))
        .await
        .expect("get the batch")
        .into_inner()
        .operation
        .expect("an operation")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_killed_with_its_gateway_is_finished_by_another_exactly_once() {
    let Some(database) = postgres().await else {
        return;
    };
    let mut a = Gateway::start_on(&database.url, "1s");
    let a_channel = a.channel().await;
    let mut panels = Vec::new();
    for n in 0..SERVERS {
        let panel = SimPanel::start(PanelKind::Spanel).await;
        let mut registration = panel.registration();
        let name = format!("bulk-{n}");
        if let Some(server) = registration.server.as_mut() {
            server.name.clone_from(&name);
        }
        InventoryServiceClient::new(a_channel.clone())
            .register_server(bearer(registration))
            .await
            .expect("register a panel");
        for k in 0..PER_SERVER {
            let mut create = panel.create(&format!("kill{n}x{k}"));
            create.target = Some(Target {
                server: Some(target::Server::ServerName(name.clone())),
            });
            AccountServiceClient::new(a_channel.clone())
                .create_account(bearer(create))
                .await
                .expect("create an account");
        }
        panel.faults().set_delay(Duration::from_millis(100));
        panels.push(panel);
    }
    let started = BatchServiceClient::new(a_channel.clone())
        .suspend_accounts(bearer(SuspendAccountsRequest {
            accounts: Some(AccountSelection {
                search: Some(SearchAccountsRequest {
                    username_prefix: "kill".to_owned(),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }))
        .await
        .expect("start the batch")
        .into_inner()
        .operation
        .expect("an operation");
    assert_eq!(
        started.metadata.as_ref().map(|m| m.total),
        Some(100),
        "{started:?}"
    );
    // Kill A once about a third of the items have ended.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let operation = batch(a_channel.clone(), &started.id).await;
        let succeeded = operation.metadata.map_or(0, |m| m.succeeded);
        if succeeded >= 30 {
            assert!(!operation.done, "the batch ended before A was killed");
            break;
        }
        assert!(Instant::now() < deadline, "the batch made no progress on A");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    a.sigkill();

    let b = Gateway::start_on(&database.url, "1s");
    let b_channel = b.channel().await;
    let deadline = Instant::now() + Duration::from_secs(90);
    let done = loop {
        let operation = batch(b_channel.clone(), &started.id).await;
        if operation.done {
            break operation;
        }
        assert!(Instant::now() < deadline, "B did not finish the batch");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let metadata = done.metadata.expect("metadata");
    assert_eq!(metadata.state(), BatchState::Succeeded, "{metadata:?}");
    assert_eq!((metadata.succeeded, metadata.failed), (100, 0));

    let items = BatchServiceClient::new(b_channel.clone())
        .list_batch_items(bearer(ListBatchItemsRequest {
            id: started.id.clone(),
            page_size: 500,
            ..Default::default()
        }))
        .await
        .expect("list the items")
        .into_inner()
        .items;
    assert_eq!(items.len(), 100);
    assert!(
        items
            .iter()
            .all(|item| item.state() == BatchItemState::Succeeded)
    );
    let taken_over = items.iter().filter(|item| item.attempts > 1).count();
    assert!(
        taken_over > 0,
        "no item was running when A was killed: the takeover went untested"
    );
    for (n, panel) in panels.iter().enumerate() {
        let SimPanel::Spanel(sim, _) = panel else {
            unreachable!("SPanel panels only");
        };
        for k in 0..PER_SERVER {
            let username = format!("kill{n}x{k}");
            let account = sim.account(&username).expect("the account");
            assert!(account.suspended, "{username} suspended");
            let requests = sim
                .received()
                .iter()
                .filter(|request| request.action == "accounts/suspendaccount")
                .filter(|request| {
                    String::from_utf8_lossy(&request.body)
                        .split('&')
                        .any(|pair| pair == format!("username={username}"))
                })
                .count();
            assert_eq!(requests, 1, "{username} suspended by exactly one request");
        }
    }
}
