//! Several `fieldwork serve` processes on one PostgreSQL database, as a large
//! service center runs them behind a load balancer: devices sync through
//! different processes, either process's API and board show everything, a
//! retried push is stored once whichever process gets it, and one process
//! killed with SIGKILL mid-sync loses no acknowledged change while the other
//! keeps serving.
//!
//! PostgreSQL only (there is nothing to share on embedded SQLite): skipped
//! with a line saying so where `FIELDWORK_TEST_PG` is unset.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use fieldwork_core::store::log::LoggedChange;
use fieldwork_core::sync::wire::{DocResult, PushDoc, SyncRequest, SyncResponse};
use fieldwork_tests::backend::{Backend, PG_ENV};
use fieldwork_tests::board::BoardClient;
use fieldwork_tests::harness::{Desk, Device};
use fieldwork_tests::process::{ServerProcess, desk, provision_on, set_password};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const T0: i64 = 1_795_000_000_000;
const PASSWORD: &str = "correct horse battery";

fn exe() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_fieldwork-e2e"))
}

fn postgres_or_skip() -> Option<Backend> {
    match Backend::postgres() {
        Ok(Some(b)) => Some(b),
        Ok(None) => {
            eprintln!("skipped: {PG_ENV} is not set, so there is no PostgreSQL to share");
            None
        }
        Err(e) => panic!("PostgreSQL for the tests: {e}"),
    }
}

/// A provisioned database and two server processes on it.
fn two_processes(b: &Backend) -> (ServerProcess, ServerProcess, Desk, Desk) {
    let args = b.args();
    let token = provision_on(exe(), &args).unwrap();
    let p1 = ServerProcess::start_on(exe(), &args).unwrap();
    let p2 = ServerProcess::start_on(exe(), &args).unwrap();
    assert_ne!(p1.url, p2.url);
    let d1 = desk(&p1.url, &token).unwrap();
    let d2 = desk(&p2.url, &token).unwrap();
    d1.ok(
        "POST",
        "/api/catalog",
        Some(serde_json::to_value(fieldwork_tests::relay()).unwrap()),
    )
    .unwrap();
    (p1, p2, d1, d2)
}

fn phone(root: &Path, name: &str, url: &str, desk: &Desk, engineer: &str) -> Device {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    Device::enrol_at(url, desk, engineer, &dir, T0).unwrap()
}

/// The changes logged on the server for the tenant, read from the database.
fn server_log_len(b: &Backend) -> i64 {
    let Backend::Postgres(db) = b else {
        unreachable!("PostgreSQL only")
    };
    let mut c = postgres::Client::connect(&db.url, postgres::NoTls).unwrap();
    c.query_one("SELECT COUNT(*) FROM fw_tenant_acme.changes", &[])
        .unwrap()
        .get(0)
}

/// Push exactly these outbox entries, as a phone retrying after a lost
/// answer would, to the server at `url`.
fn push_again(url: &str, token: &str, cursor: i64, outbox: &[LoggedChange]) -> SyncResponse {
    let mut by_doc: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for c in outbox {
        by_doc
            .entry(c.doc_id.clone())
            .or_default()
            .extend_from_slice(&c.bytes);
    }
    let body = SyncRequest {
        cursor,
        push: by_doc
            .into_iter()
            .map(|(doc_id, changes)| PushDoc { doc_id, changes })
            .collect(),
    }
    .encode();
    let r = fieldwork_core::sync::client::http_client()
        .unwrap()
        .post(format!("{url}/v1/sync"))
        .bearer_auth(token)
        .header("content-type", "application/x-fieldwork-sync")
        .body(body)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    SyncResponse::decode(&r.bytes().unwrap()).unwrap()
}

/// The board's live event stream on `url`, signed in as the desk.
fn board_events(url: &str) -> BufReader<reqwest::blocking::Response> {
    let mut board = BoardClient::new(url).unwrap();
    assert_eq!(board.sign_in("acme", "desk", PASSWORD).unwrap().status, 303);
    let r = fieldwork_core::sync::client::http_client_builder()
        .unwrap()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
        .get(format!("{url}/board/events"))
        .header(
            "cookie",
            format!("fw_session={}", board.cookie("fw_session").unwrap()),
        )
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    BufReader::new(r)
}

/// Read events until one names `id`; panics after `limit`.
fn wait_for_event(events: &mut BufReader<reqwest::blocking::Response>, id: &str, limit: Duration) {
    let start = Instant::now();
    let mut line = String::new();
    while start.elapsed() < limit {
        line.clear();
        match events.read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) if line.starts_with("data:") && line.contains(id) => return,
            Ok(_) => {}
        }
    }
    panic!("no live update for {id} within {limit:?}");
}

#[test]
fn devices_on_two_processes_see_one_service_center() {
    let Some(b) = postgres_or_skip() else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let (p1, p2, d1, d2) = two_processes(&b);
    set_password(exe(), &b.args(), "desk", PASSWORD).unwrap();

    // Orders taken in on either process; each phone syncs through its own.
    let a_id = d1.dispatch(1, "eng-a").unwrap();
    let b_id = d2.dispatch(2, "eng-b").unwrap();
    let a = phone(root.path(), "a", &p1.url, &d1, "eng-a");
    let bp = phone(root.path(), "b", &p2.url, &d2, "eng-b");
    a.sync.sync_now().unwrap();
    bp.sync.sync_now().unwrap();
    assert!(
        a.fw.order(&a_id).is_ok(),
        "A's order reached A through process 1"
    );
    assert!(
        bp.fw.order(&b_id).is_ok(),
        "B's order reached B through process 2"
    );
    assert!(a.fw.order(&b_id).is_err(), "A never sees B's order");

    // A dispatcher on process 2 watches the board while A syncs through 1.
    let mut events = board_events(&p2.url);
    a.fw.accept(&a_id).unwrap();
    a.fw.en_route(&a_id).unwrap();
    a.fw.arrive(&a_id, None).unwrap();
    a.fw.add_note(&a_id, "access through the plant room")
        .unwrap();
    a.sync.sync_now().unwrap();
    wait_for_event(&mut events, &a_id, Duration::from_secs(5));
    bp.fw.accept(&b_id).unwrap();
    bp.sync.sync_now().unwrap();

    // Either process's API shows both phones' work.
    for d in [&d1, &d2] {
        for (id, dev) in [(&a_id, &a), (&b_id, &bp)] {
            let v = d.ok("GET", &format!("/api/orders/{id}"), None).unwrap();
            assert_eq!(v["status"], dev.fw.order(id).unwrap().status.as_str());
        }
        let list = d.ok("GET", "/api/orders", None).unwrap();
        assert_eq!(list.as_array().unwrap().len(), 2);
    }

    // The same push retried, once to each process: stored once.
    a.fw.add_note(&a_id, "retried note").unwrap();
    let outbox = a.fw.outbox(usize::MAX).unwrap();
    assert!(!outbox.is_empty());
    let before = server_log_len(&b);
    let cursor = a.fw.sync_cursor().unwrap();
    for url in [&p1.url, &p2.url] {
        let r = push_again(url, &a.token, cursor, &outbox);
        assert!(
            r.results.iter().all(|x| x.result == DocResult::Accepted),
            "{r:?}"
        );
    }
    assert_eq!(server_log_len(&b), before + outbox.len() as i64);
    a.sync.sync_now().unwrap();
    assert_eq!(a.fw.pending_changes().unwrap(), 0);
    assert_eq!(server_log_len(&b), before + outbox.len() as i64);
    let v = d2.ok("GET", &format!("/api/orders/{a_id}"), None).unwrap();
    let notes: Vec<&str> = v["order"]["repair_notes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["text"].as_str())
        .collect();
    assert_eq!(
        notes.iter().filter(|t| **t == "retried note").count(),
        1,
        "{notes:?}"
    );

    // Dispatchers on both processes assign at once; B's phone, pulling
    // through one process, gets every order: no sequence number skipped.
    let (d1b, d2b) = (Arc::new(d1), Arc::new(d2));
    let workers: Vec<_> = [d1b.clone(), d2b.clone()]
        .into_iter()
        .enumerate()
        .map(|(k, d)| {
            std::thread::spawn(move || {
                (0..10)
                    .map(|n| d.dispatch(100 + k as u32 * 10 + n, "eng-b").unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut assigned: Vec<String> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    bp.sync.sync_now().unwrap();
    assigned.push(b_id.clone());
    for id in &assigned {
        assert!(bp.fw.order(id).is_ok(), "{id} reached B's phone");
    }
}

#[test]
fn a_process_killed_mid_sync_loses_nothing_acknowledged_and_the_other_serves_on() {
    let Some(b) = postgres_or_skip() else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let (p1, p2, d1, d2) = two_processes(&b);
    let mut phones = Vec::new();
    let mut orders = Vec::new();
    for n in 0..3 {
        let id = d1.dispatch(n, "eng-a").unwrap();
        let p = phone(root.path(), &format!("a{n}"), &p1.url, &d1, "eng-a");
        p.sync.sync_now().unwrap();
        orders.push(id);
        phones.push(p);
    }
    let other_id = d2.dispatch(9, "eng-b").unwrap();
    let other = phone(root.path(), "b", &p2.url, &d2, "eng-b");
    other.sync.sync_now().unwrap();

    // Every phone writes and syncs as fast as it can: three through process
    // 1, one through process 2; each remembers how many notes a successful
    // sync had covered.
    let stop_1 = Arc::new(AtomicBool::new(false));
    let stop_2 = Arc::new(AtomicBool::new(false));
    let worker = |dev: &Device, id: &str, stop: Arc<AtomicBool>| {
        let (fw, sync, id) = (dev.fw.clone(), dev.sync.clone(), id.to_string());
        std::thread::spawn(move || {
            let (mut written, mut acked, mut failed) = (0usize, 0usize, 0usize);
            while !stop.load(Ordering::SeqCst) {
                fw.add_note(&id, &format!("note {written}")).unwrap();
                written += 1;
                match sync.sync_now() {
                    Ok(_) => acked = written,
                    Err(_) => {
                        failed += 1;
                        break;
                    }
                }
            }
            (written, acked, failed)
        })
    };
    let on_1: Vec<_> = phones
        .iter()
        .zip(&orders)
        .map(|(p, id)| worker(p, id, stop_1.clone()))
        .collect();
    let on_2 = worker(&other, &other_id, stop_2.clone());
    std::thread::sleep(Duration::from_millis(800));
    p1.kill().unwrap();
    stop_1.store(true, Ordering::SeqCst);
    let counts: Vec<(usize, usize, usize)> = on_1.into_iter().map(|w| w.join().unwrap()).collect();
    // Process 2 keeps serving its phone after the kill.
    std::thread::sleep(Duration::from_millis(800));
    stop_2.store(true, Ordering::SeqCst);
    let (other_written, other_acked, other_failed) = on_2.join().unwrap();
    assert_eq!(other_failed, 0, "process 2 never failed its phone");
    assert_eq!(other_acked, other_written);
    assert!(
        counts.iter().all(|(_, acked, _)| *acked > 0),
        "every phone synced before the kill: {counts:?}"
    );

    // Process 2 holds everything process 1 had acknowledged.
    for ((written, acked, _), id) in counts.iter().zip(&orders) {
        let v = d2.ok("GET", &format!("/api/orders/{id}"), None).unwrap();
        let held = v["order"]["repair_notes"].as_array().unwrap().len();
        assert!(
            held >= *acked,
            "{id}: the database holds {held} notes, process 1 had acknowledged {acked}"
        );
        assert!(held <= *written);
    }
    // The load balancer sends process 1's phones to process 2: everything
    // arrives, once.
    for (p, ((written, _, _), id)) in phones.iter_mut().zip(counts.iter().zip(&orders)) {
        p.reconnect(&p2.url).unwrap();
        p.sync.sync_now().unwrap();
        assert_eq!(p.fw.pending_changes().unwrap(), 0);
        let v = d2.ok("GET", &format!("/api/orders/{id}"), None).unwrap();
        assert_eq!(
            v["order"]["repair_notes"].as_array().unwrap().len(),
            *written,
            "{id}"
        );
    }
    let v = d2
        .ok("GET", &format!("/api/orders/{other_id}"), None)
        .unwrap();
    assert_eq!(
        v["order"]["repair_notes"].as_array().unwrap().len(),
        other_written
    );
}

#[test]
fn postgres_dropping_the_servers_connections_costs_no_request() {
    let Some(b) = postgres_or_skip() else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let (p1, _p2, d1, _d2) = two_processes(&b);
    let id = d1.dispatch(1, "eng-a").unwrap();
    let a = phone(root.path(), "a", &p1.url, &d1, "eng-a");
    a.sync.sync_now().unwrap();

    // As a PostgreSQL restart or failover would: every server connection cut.
    let Backend::Postgres(db) = &b else {
        unreachable!("PostgreSQL only")
    };
    let mut admin = postgres::Client::connect(&db.url, postgres::NoTls).unwrap();
    let cut: i64 = admin
        .query_one(
            "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
             WHERE datname = current_database() AND application_name = 'fieldwork'",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(cut >= 2, "the servers' connections were cut ({cut})");

    a.fw.accept(&id).unwrap();
    let s = a.sync.sync_now().unwrap();
    assert!(s.pushed_changes > 0);
    assert_eq!(a.fw.pending_changes().unwrap(), 0);
    let v = d1.ok("GET", &format!("/api/orders/{id}"), None).unwrap();
    assert_eq!(v["status"], "accepted");
}

#[test]
fn a_bad_or_unreachable_database_stops_startup_with_the_reason() {
    let run = |url: &str| {
        let out = std::process::Command::new(exe())
            .args(["serve", "--listen", "127.0.0.1:0", "--database", url])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{url}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let typo = run("postgress//nobody");
    assert!(
        typo.contains("not a PostgreSQL connection string"),
        "{typo}"
    );
    // Nothing listens on port 1 of loopback.
    let down = run("postgres://postgres:secret-word@127.0.0.1:1/test");
    assert!(down.contains("Connection refused"), "{down}");
    assert!(
        !down.contains("secret-word"),
        "the password stays out: {down}"
    );
    assert!(!down.contains("panicked"), "{down}");
}
