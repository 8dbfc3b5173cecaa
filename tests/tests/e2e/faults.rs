//! Devices sync through a proxy that drops, delays, duplicates and truncates
//! messages and resets connections, for many rounds. Once the faults stop,
//! everything converges and nothing is stored twice. The faults come from
//! a seed: set `FIELDWORK_FAULT_SEED` to replay a failure's (it prints it).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use fieldwork_core::sync::client::SyncClient;
use fieldwork_tests::harness::{Device, Server};
use fieldwork_tests::proxy::FaultyProxy;
use std::time::SystemTime;

const T0: i64 = 1_795_000_000_000;
const ROUNDS: usize = 40;

/// On failure, says how to run the same faults again.
struct Replay(u64);

impl Drop for Replay {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "the faults came from seed {0}: replay them with FIELDWORK_FAULT_SEED={0} cargo test -p fieldwork-tests --test e2e faults::",
                self.0
            );
        }
    }
}

#[test]
fn sync_through_a_faulty_network_converges_without_duplicates() {
    let root = tempfile::tempdir().unwrap();
    let (server, desk) = Server::start(&root.path().join("server")).unwrap();
    let seed = match std::env::var("FIELDWORK_FAULT_SEED") {
        Ok(s) => s.trim().parse().expect("FIELDWORK_FAULT_SEED is a number"),
        Err(_) => SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
    };
    let _replay = Replay(seed);
    let proxy = FaultyProxy::start(&server.url, seed, 60, 45).unwrap();
    let mut phones = Vec::new();
    let mut orders = Vec::new();
    for (n, engineer) in ["eng-a", "eng-b"].into_iter().enumerate() {
        let id = desk.dispatch(n as u32, engineer).unwrap();
        let dir = root.path().join(engineer);
        std::fs::create_dir_all(&dir).unwrap();
        let mut phone = Device::enrol(&server, &desk, engineer, &dir, T0).unwrap();
        // From now on the phone talks to the server only through the proxy.
        phone.sync = SyncClient::new(
            phone.fw.clone(),
            &proxy.url,
            &phone.token,
            phone.events.clone(),
        )
        .unwrap();
        phone.sync.set_online(true);
        phones.push(phone);
        orders.push(id);
    }
    let mut written = vec![0usize; phones.len()];
    let (mut ok, mut failed) = (0, 0);
    for round in 0..ROUNDS {
        for (i, (phone, id)) in phones.iter().zip(&orders).enumerate() {
            if phone.fw.order(id).is_ok() {
                phone.fw.add_note(id, &format!("round {round}")).unwrap();
                written[i] += 1;
            }
            match phone.sync.sync_now() {
                Ok(_) => ok += 1,
                Err(e) => {
                    assert!(e.is_retryable(), "{e}");
                    failed += 1;
                }
            }
        }
        if round % 10 == 9 {
            desk.ok(
                "POST",
                &format!("/api/orders/{}/complaints", orders[0]),
                Some(serde_json::json!({ "what": format!("call {round}"), "category": "other" })),
            )
            .unwrap();
        }
    }
    let faults = proxy.faults();
    println!("{ok} syncs went through, {failed} failed; faults injected: {faults:?}");
    assert!(
        failed > 0 && !faults.is_empty(),
        "the network was actually faulty"
    );

    // The faults are over: one sync each brings everyone level.
    proxy.calm();
    for phone in &phones {
        phone.sync.sync_now().unwrap();
    }
    for phone in &phones {
        phone.sync.sync_now().unwrap();
    }
    for ((phone, id), n) in phones.iter().zip(&orders).zip(&written) {
        let server_view = desk.ok("GET", &format!("/api/orders/{id}"), None).unwrap();
        let notes = server_view["order"]["repair_notes"].as_array().unwrap();
        assert!(
            !notes.is_empty() && notes.len() == *n,
            "{id}: {} notes on the server, {n} written",
            notes.len()
        );
        let on_phone = serde_json::to_value(phone.fw.order(id).unwrap().order).unwrap();
        assert_eq!(
            on_phone, server_view["order"],
            "phone and server hold the same document"
        );
        assert_eq!(phone.fw.pending_changes().unwrap(), 0);
    }
    let complaints = desk
        .ok("GET", &format!("/api/orders/{}", orders[0]), None)
        .unwrap()["order"]["complaints"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(complaints, ROUNDS / 10);
}
