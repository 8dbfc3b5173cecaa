//! Sync benchmarks: catch-up against Automerge's own sync protocol, an idle
//! reconnect and priming a new phone (the fleet is `fleet.rs`).

use super::{Res, Row};
use automerge::Automerge;
use automerge::sync::{Message, State, SyncDoc};
use fieldwork_core::scenario::intake;
use fieldwork_core::{Config, Fieldwork};
use fieldwork_tests::harness::{Device, Server, TENANT};
use std::path::Path;
use std::time::Instant;

const T0: i64 = 1_795_000_000_000;

/// Run Automerge's sync protocol between two peers until quiet; returns
/// (bytes both ways, messages each way at most).
fn automerge_sync(
    a: &mut Automerge,
    sa: &mut State,
    b: &mut Automerge,
    sb: &mut State,
) -> Res<(usize, usize)> {
    let (mut bytes, mut rounds) = (0, 0);
    loop {
        let mut moved = false;
        if let Some(m) = a.generate_sync_message(sa) {
            let e = m.encode();
            bytes += e.len();
            b.receive_sync_message(sb, Message::decode(&e)?)?;
            moved = true;
        }
        if let Some(m) = b.generate_sync_message(sb) {
            let e = m.encode();
            bytes += e.len();
            a.receive_sync_message(sa, Message::decode(&e)?)?;
            moved = true;
        }
        if !moved {
            return Ok((bytes, rounds));
        }
        rounds += 1;
    }
}

/// A pair of peers in step, with sync states kept from that session and
/// restored as a careful user would (`encode` / `decode`).
fn peers_in_step(doc: &[u8]) -> Res<(Automerge, State, Automerge, State)> {
    let (mut a, mut b) = (Automerge::load(doc)?, Automerge::load(doc)?);
    let (mut sa, mut sb) = (State::new(), State::new());
    automerge_sync(&mut a, &mut sa, &mut b, &mut sb)?;
    Ok((
        a,
        State::decode(&sa.encode())?,
        b,
        State::decode(&sb.encode())?,
    ))
}

fn device(
    server: &Server,
    desk: &fieldwork_tests::harness::Desk,
    engineer: &str,
    dir: &Path,
) -> Res<Device> {
    std::fs::create_dir_all(dir)?;
    Device::enrol(server, desk, engineer, dir, T0)
}

/// A day offline (20 orders × 10 edits) caught up in one sync, against
/// Automerge's sync protocol bringing the same documents up to date.
pub fn catchup(dir: &Path) -> Res<Vec<Row>> {
    let (server, desk) = Server::start(&dir.join("catchup-server"))?;
    let ids: Vec<String> = (0..20)
        .map(|n| desk.dispatch(n, "eng-a"))
        .collect::<Result<_, _>>()?;
    let phone = device(&server, &desk, "eng-a", &dir.join("catchup-phone"))?;
    phone.sync.sync_now()?;
    let mut baseline = Vec::new();
    for id in &ids {
        let heads = phone.fw.heads(id)?;
        baseline.push((heads, peers_in_step(&phone.fw.export_changes(id, &[])?)?));
    }
    phone.sync.set_online(false);
    for id in &ids {
        for k in 0..10 {
            phone
                .fw
                .add_note(id, &format!("step {k}: checked and adjusted"))?;
        }
    }
    phone.sync.set_online(true);
    let ours = phone.sync.sync_now()?;
    let (mut theirs, mut their_rounds) = (0usize, 0usize);
    for (id, (heads, (mut dev, mut sd, mut srv, mut ss))) in ids.iter().zip(baseline) {
        dev.load_incremental(&phone.fw.export_changes(id, &heads)?)?;
        let (b, r) = automerge_sync(&mut dev, &mut sd, &mut srv, &mut ss)?;
        theirs += b;
        their_rounds = their_rounds.max(r);
    }
    Ok(vec![
        Row {
            name: "sync.catchup_bytes_vs_automerge_sync",
            value: (ours.bytes_up + ours.bytes_down) as f64,
            unit: "bytes",
            baseline: Some(theirs as f64),
            what: "a day offline (20 orders x 10 edits) caught up, bytes both ways, vs automerge::sync with each document's State kept from the last session",
        },
        Row {
            name: "sync.catchup_round_trips",
            value: f64::from(ours.round_trips),
            unit: "round trips",
            baseline: Some(their_rounds as f64),
            what: "round trips for that catch-up, vs the most any one document needed with automerge::sync (it runs one exchange per document)",
        },
    ])
}

/// A phone holding 5,000 orders reconnects with nothing new on either side;
/// and a new phone primed with 500 orders.
pub fn reconnect_and_prime(dir: &Path) -> Res<Vec<Row>> {
    let (server, desk) = Server::start(&dir.join("idle-server"))?;
    let tenant = server.state.tenant(TENANT).map_err(|e| e.to_string())?;
    tenant.unsynchronised_for_fixtures()?;
    let mut first500 = Vec::new();
    for n in 0..5_500 {
        let id = tenant.desk().create_order(intake(n))?;
        if n < 500 {
            tenant.desk().assign(&id, "eng-a")?;
            first500.push(id);
        } else {
            tenant.desk().assign(&id, "eng-b")?;
        }
    }
    // Priming 500.
    let phone = device(&server, &desk, "eng-a", &dir.join("prime-phone"))?;
    let t = Instant::now();
    let primed = phone.sync.sync_now()?;
    let prime_ms = t.elapsed().as_secs_f64() * 1e3;
    let local = Fieldwork::open(dir.join("prime-local.db"), Config::new("eng-a"))?;
    let docs: Vec<(String, Vec<u8>)> = first500
        .iter()
        .map(|id| Ok((id.clone(), phone.fw.export_changes(id, &[])?)))
        .collect::<Res<_>>()?;
    let t = Instant::now();
    for (id, bytes) in &docs {
        local.import_changes(id, bytes)?;
    }
    let local_ms = t.elapsed().as_secs_f64() * 1e3;
    let saved: usize = docs.iter().map(|(_, b)| b.len()).sum();

    // Idle reconnect of a phone holding the other 5,000.
    let big = device(&server, &desk, "eng-b", &dir.join("idle-phone"))?;
    big.sync.sync_now()?;
    let held = big.fw.list_orders(&fieldwork_core::OrderFilter {
        limit: 1,
        ..Default::default()
    })?;
    if held.is_empty() {
        return Err("the phone holds no orders".into());
    }
    let idle = big.sync.sync_now()?;
    let mut theirs = 0usize;
    for row in big.fw.list_orders(&fieldwork_core::OrderFilter {
        limit: fieldwork_core::OrderFilter::MAX_LIMIT,
        ..Default::default()
    })? {
        let (mut a, mut sa, mut b, mut sb) = peers_in_step(&big.fw.export_changes(&row.id, &[])?)?;
        theirs += automerge_sync(&mut a, &mut sa, &mut b, &mut sb)?.0;
    }
    let per_doc = theirs as f64 / f64::from(fieldwork_core::OrderFilter::MAX_LIMIT);
    Ok(vec![
        Row {
            name: "sync.idle_reconnect_bytes_5000",
            value: (idle.bytes_up + idle.bytes_down) as f64,
            unit: "bytes",
            baseline: Some(per_doc * 5_000.0),
            what: "a phone holding 5,000 orders reconnects with nothing new, bytes both ways; baseline: automerge::sync's reconnect handshake per document (States kept), measured on 500 of them, times 5,000",
        },
        Row {
            name: "sync.prime_500_ms",
            value: prime_ms,
            unit: "ms",
            baseline: Some(local_ms),
            what: "a new phone primed with 500 assigned orders over HTTP on loopback, vs importing the same 500 documents into a store locally",
        },
        Row {
            name: "sync.prime_500_bytes",
            value: (primed.bytes_up + primed.bytes_down) as f64,
            unit: "bytes",
            baseline: Some(saved as f64),
            what: "bytes on the wire for that priming, vs the 500 documents' Automerge changes alone",
        },
    ])
}

/// A field of a process's /proc status, in kB (`VmRSS:`, `VmHWM:`).
pub(crate) fn rss_kb(pid: u32, field: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0.0)
}
