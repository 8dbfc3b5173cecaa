//! Group commit keeps "acknowledged means stored": 50 phones write and sync
//! as fast as they can against one `fieldwork serve`, so their pushes are
//! committed in groups (seen in `/metrics`); the server is killed with
//! SIGKILL in the middle of that burst. Started again on the same storage,
//! it holds every change it acknowledged, and the phones then deliver the
//! rest, each change once. On both storages.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use fieldwork_tests::backend::Backend;
use fieldwork_tests::fleet;
use fieldwork_tests::harness::Desk;
use fieldwork_tests::process::ServerProcess;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

fieldwork_tests::conformance!(
    a_server_killed_during_a_burst_of_50_phones_keeps_every_acknowledged_change
);

const T0: i64 = 1_795_000_000_000;
const PHONES: usize = 50;

fn exe() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_fieldwork-e2e"))
}

/// A value of the server's `/metrics` (0 when absent).
fn metric(url: &str, name: &str) -> f64 {
    let http = fieldwork_core::sync::client::http_client().unwrap();
    let text = http
        .get(format!("{url}/metrics"))
        .send()
        .and_then(|r| r.text())
        .unwrap_or_default();
    text.lines()
        .find_map(|l| {
            l.strip_prefix(name)
                .and_then(|rest| rest.strip_prefix(' '))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(0.0)
}

fn notes_held(desk: &Desk, id: &str) -> usize {
    let v = desk.ok("GET", &format!("/api/orders/{id}"), None).unwrap();
    v["order"]["repair_notes"].as_array().unwrap().len()
}

fn a_server_killed_during_a_burst_of_50_phones_keeps_every_acknowledged_change(b: &Backend) {
    let root = tempfile::tempdir().unwrap();
    let center = fleet::provision(b, PHONES, 1).unwrap();
    let server = ServerProcess::start_on(exe(), &b.args()).unwrap();
    let mut phones =
        fleet::enrol(&center, std::slice::from_ref(&server.url), root.path(), T0).unwrap();
    let orders: Vec<String> = center
        .engineers
        .iter()
        .map(|(_, ids)| ids[0].clone())
        .collect();

    // A lone push is committed alone, at once: no waiting for company.
    let sum = "fieldwork_sync_group_size_sum";
    let count = "fieldwork_sync_group_size_count";
    phones[0].fw.add_note(&orders[0], "alone").unwrap();
    phones[0].sync.sync_now().unwrap();
    assert_eq!(metric(&server.url, count), 1.0);
    assert_eq!(metric(&server.url, sum), 1.0);

    // Each phone writes a note and syncs, again and again; it remembers how
    // many of its notes a successful sync had covered.
    let stop = Arc::new(AtomicBool::new(false));
    let synced = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = phones
        .iter()
        .zip(&orders)
        .map(|(p, id)| {
            let (fw, sync, id) = (p.fw.clone(), p.sync.clone(), id.clone());
            let (stop, synced) = (stop.clone(), synced.clone());
            std::thread::spawn(move || {
                let (mut written, mut acked) = (0usize, 0usize);
                while !stop.load(Ordering::SeqCst) {
                    fw.add_note(&id, &format!("note {written}")).unwrap();
                    written += 1;
                    match sync.sync_now() {
                        Ok(_) => {
                            if acked == 0 {
                                synced.fetch_add(1, Ordering::SeqCst);
                            }
                            acked = written;
                        }
                        Err(_) => break,
                    }
                }
                (written, acked)
            })
        })
        .collect();

    // The kill lands in the burst: every phone has had a push acknowledged,
    // pushes are being committed in groups, and all phones are still going.
    let waited = Instant::now();
    while synced.load(Ordering::SeqCst) < PHONES
        || metric(&server.url, sum) <= metric(&server.url, count)
    {
        assert!(
            waited.elapsed() < Duration::from_secs(120),
            "the burst did not get going: {} phones synced, groups {} / {}",
            synced.load(Ordering::SeqCst),
            metric(&server.url, sum),
            metric(&server.url, count)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(200));
    server.kill().unwrap();
    stop.store(true, Ordering::SeqCst);
    let counts: Vec<(usize, usize)> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    assert!(
        counts.iter().all(|(_, acked)| *acked > 0),
        "every phone synced before the kill: {counts:?}"
    );

    let server = ServerProcess::start_on(exe(), &b.args()).unwrap();
    let desk = Desk::new(&server.url, &center.token).unwrap();
    for (n, ((written, acked), id)) in counts.iter().zip(&orders).enumerate() {
        // The first phone's lone note came before the burst.
        let (written, acked) = if n == 0 {
            (written + 1, acked + 1)
        } else {
            (*written, *acked)
        };
        let held = notes_held(&desk, id);
        assert!(
            held >= acked,
            "{id}: the server holds {held} notes, it had acknowledged {acked}"
        );
        assert!(held <= written, "{id}: {held} notes, {written} written");
    }
    // The phones catch up with the restarted server: everything arrives once.
    for (n, (p, ((written, _), id))) in phones
        .iter_mut()
        .zip(counts.iter().zip(&orders))
        .enumerate()
    {
        p.reconnect(&server.url).unwrap();
        p.sync.sync_now().unwrap();
        assert_eq!(p.fw.pending_changes().unwrap(), 0);
        let written = if n == 0 { written + 1 } else { *written };
        assert_eq!(notes_held(&desk, id), written, "{id}");
    }
    server.kill().unwrap();
}
