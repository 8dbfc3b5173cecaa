//! The server process is killed with SIGKILL while devices sync; started
//! again on the same data, it has every change it had acknowledged.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use fieldwork_tests::harness::Device;
use fieldwork_tests::process::{ServerProcess, data_dir, desk, provision};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

const T0: i64 = 1_795_000_000_000;

#[test]
fn a_killed_server_keeps_every_acknowledged_change() {
    let exe = Path::new(env!("CARGO_BIN_EXE_fieldwork-e2e"));
    let root = tempfile::tempdir().unwrap();
    let data = data_dir(root.path());
    let token = provision(exe, &data).unwrap();
    let server = ServerProcess::start(exe, &data).unwrap();
    let d = desk(&server.url, &token).unwrap();
    let mut devices = Vec::new();
    let mut orders = Vec::new();
    for n in 0..3 {
        let id = d.dispatch(n, "eng-a").unwrap();
        let dir = root.path().join(format!("phone-{n}"));
        std::fs::create_dir_all(&dir).unwrap();
        let dev = Device::enrol_at(&server.url, &d, "eng-a", &dir, T0).unwrap();
        dev.sync.sync_now().unwrap();
        orders.push(id);
        devices.push(dev);
    }

    // Three phones write and sync as fast as they can; each remembers how
    // many of its notes a successful sync had covered.
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = devices
        .iter()
        .zip(&orders)
        .map(|(dev, id)| {
            let (fw, sync, id, stop) = (dev.fw.clone(), dev.sync.clone(), id.clone(), stop.clone());
            std::thread::spawn(move || {
                let (mut written, mut acked) = (0usize, 0usize);
                while !stop.load(Ordering::SeqCst) {
                    fw.add_note(&id, &format!("note {written}")).unwrap();
                    written += 1;
                    match sync.sync_now() {
                        Ok(_) => acked = written,
                        Err(_) => break,
                    }
                }
                (written, acked)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(700));
    server.kill().unwrap();
    stop.store(true, Ordering::SeqCst);
    let counts: Vec<(usize, usize)> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    assert!(
        counts.iter().all(|(_, acked)| *acked > 0),
        "every phone synced before the kill: {counts:?}"
    );

    let server = ServerProcess::start(exe, &data).unwrap();
    let d = desk(&server.url, &token).unwrap();
    for ((written, acked), id) in counts.iter().zip(&orders) {
        let v = d.ok("GET", &format!("/api/orders/{id}"), None).unwrap();
        let held = v["order"]["repair_notes"].as_array().unwrap().len();
        assert!(
            held >= *acked,
            "{id}: server holds {held} notes, had acknowledged {acked}"
        );
        assert!(held <= *written);
    }
    // The phones catch up with the restarted server: everything arrives once.
    for (dev, ((written, _), id)) in devices.iter_mut().zip(counts.iter().zip(&orders)) {
        dev.reconnect(&server.url).unwrap();
        dev.sync.sync_now().unwrap();
        assert_eq!(dev.fw.pending_changes().unwrap(), 0);
        let v = d.ok("GET", &format!("/api/orders/{id}"), None).unwrap();
        assert_eq!(
            v["order"]["repair_notes"].as_array().unwrap().len(),
            *written,
            "{id}"
        );
    }
}
