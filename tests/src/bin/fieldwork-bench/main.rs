//! The core's benchmarks: one JSON object per line on stdout
//! (`{"name","value","unit","baseline","ratio"}`), each against a baseline
//! measured in the same run, and the same table written to the Markdown file
//! given with `--markdown PATH`. Run through `scripts/bench`.

mod at_rest;
mod blobs;
mod ffi;
mod fleet;
mod hostile;
mod report;
mod sync;

use fieldwork_core::model::Status;
use fieldwork_core::{Config, Fieldwork, ManualClock, OrderFilter};
use fieldwork_tests::{full_visit, relay};
use rusqlite::Connection;
use std::path::Path;
use std::time::{Duration, Instant};

/// The columns a list shows, read straight from SQLite.
type BareRow = (String, String, bool, Option<String>, String, Option<i64>);

pub(crate) type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

pub(crate) struct Row {
    name: &'static str,
    value: f64,
    unit: &'static str,
    baseline: Option<f64>,
    what: &'static str,
}

const ORDERS: u32 = 5_000;

/// A name or description made at run time, for a [`Row`] (the benchmark
/// runs once and exits).
pub(crate) fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}
const T0: i64 = 1_795_000_000_000;

fn main() {
    if let Err(e) = run() {
        eprintln!("fieldwork-bench: {e}");
        std::process::exit(1);
    }
}

fn run() -> Res<()> {
    let args: Vec<String> = std::env::args().collect();
    let markdown = args
        .iter()
        .position(|a| a == "--markdown")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let only_edit = args.iter().any(|a| a == "--only-edit");
    let only_sync = args.iter().any(|a| a == "--only-sync");
    let only_hostile = args.iter().any(|a| a == "--only-hostile");
    let only_settings = args.iter().any(|a| a == "--only-settings");
    let only_blobs = args.iter().any(|a| a == "--only-blobs");
    let only_report = args.iter().any(|a| a == "--only-report");
    let only_at_rest = args.iter().any(|a| a == "--only-at-rest");
    let dir = tempfile::tempdir()?;
    let mut rows = Vec::new();
    // The server beside this binary, unless told (a build with symbols, to profile).
    let server_exe = match std::env::var_os("FIELDWORK_BENCH_SERVER") {
        Some(exe) => exe.into(),
        None => std::env::current_exe()?
            .parent()
            .ok_or("no folder for the benchmark binary")?
            .join("fieldwork-e2e"),
    };
    if only_hostile {
        for r in hostile::rows(dir.path(), &server_exe)? {
            println!("{}", json(&r));
        }
        return Ok(());
    }
    if args.iter().any(|a| a == "--only-fleet") {
        let rows = fleet::rows(dir.path(), &server_exe)?;
        for r in &rows {
            println!("{}", json(r));
        }
        eprint!("{}", fleet::section(&rows));
        return Ok(());
    }
    if only_blobs {
        for r in blobs::rows(dir.path(), &server_exe)? {
            println!("{}", json(&r));
        }
        return Ok(());
    }
    if only_report {
        for r in report::rows(dir.path())? {
            println!("{}", json(&r));
        }
        return Ok(());
    }
    if args.iter().any(|a| a == "--only-encrypted-edit") {
        println!(
            "{}",
            json(&at_rest::edit_durable_encrypted_vs_plain(dir.path())?)
        );
        return Ok(());
    }
    if only_at_rest {
        let big = dir.path().join("big.db");
        build_fixture(&big)?;
        let mut out = vec![at_rest::edit_durable_encrypted_vs_plain(dir.path())?];
        out.extend(at_rest::encrypted_5000(dir.path(), &big)?);
        out.push(at_rest::verify(dir.path())?);
        for r in out {
            println!("{}", json(&r));
        }
        return Ok(());
    }
    if args.iter().any(|a| a == "--only-decode") {
        let big = dir.path().join("big.db");
        build_fixture(&big)?;
        println!("{}", json(&order_decode(&big)?));
        return Ok(());
    }
    if args.iter().any(|a| a == "--only-list") {
        let big = dir.path().join("big.db");
        build_fixture(&big)?;
        println!("{}", json(&list_urgent(&big)?));
        return Ok(());
    }
    if only_settings {
        let big = dir.path().join("big.db");
        build_fixture(&big)?;
        println!("{}", json(&settings_change_5000(dir.path(), &big)?));
        return Ok(());
    }
    if !only_sync {
        rows.push(edit_durable_vs_upsert(dir.path())?);
    }
    if only_edit {
        println!("{}", json(&rows[0]));
        return Ok(());
    }
    if !only_sync {
        let big = dir.path().join("big.db");
        eprintln!("building a store of {ORDERS} orders with full visits…");
        build_fixture(&big)?;
        rows.push(bytes_per_order(&big)?);
        rows.push(order_decode(&big)?);
        rows.push(open_5000(&big)?);
        eprintln!("at rest: encrypted edits, opening and encrypting 5,000 orders, verifying…");
        rows.push(at_rest::edit_durable_encrypted_vs_plain(dir.path())?);
        rows.extend(at_rest::encrypted_5000(dir.path(), &big)?);
        rows.push(at_rest::verify(dir.path())?);
        rows.push(settings_change_5000(dir.path(), &big)?);
        let list = list_urgent(&big)?;
        let rust_list_ms = list.value;
        rows.push(list);
        eprintln!("report: the PDF of a full visit…");
        rows.extend(report::rows(dir.path())?);
        eprintln!("ffi: library size, and the same list from Kotlin…");
        rows.extend(ffi::rows(&big, rust_list_ms)?);
    }
    eprintln!("sync: catch-up, idle reconnect, priming…");
    rows.extend(sync::catchup(dir.path())?);
    rows.extend(sync::reconnect_and_prime(dir.path())?);
    eprintln!("sync: fleets of 50, 200 and 1,000 phones, and the reference server…");
    rows.extend(fleet::rows(dir.path(), &server_exe)?);
    eprintln!("server: hostile pushes…");
    rows.extend(hostile::rows(dir.path(), &server_exe)?);
    eprintln!("photos: a 20 MB upload, a resumed one, the device's memory…");
    rows.extend(blobs::rows(dir.path(), &server_exe)?);
    for r in &rows {
        println!("{}", json(r));
    }
    if let Some(path) = markdown {
        // The measured-by-hand sections at the end (build and test times)
        // are kept as they are.
        let kept = std::fs::read_to_string(&path)
            .ok()
            .and_then(|old| old.find(HAND_KEPT).map(|at| old[at..].to_string()))
            .unwrap_or_default();
        let mut text = markdown_table(&rows) + &fleet::section(&rows);
        if !kept.is_empty() {
            text.push('\n');
            text.push_str(&kept);
        }
        std::fs::write(&path, text)?;
        eprintln!("wrote {path}");
    }
    Ok(())
}

/// Where the part of docs/benchmarks.md that `scripts/bench` does not
/// measure begins: it is kept when the file is written again.
const HAND_KEPT: &str = "## Build and test times";

fn mean(samples: &[Duration]) -> f64 {
    samples.iter().map(Duration::as_secs_f64).sum::<f64>() / samples.len() as f64
}

fn median(samples: &mut [Duration]) -> f64 {
    samples.sort();
    samples[samples.len() / 2].as_secs_f64()
}

fn device(path: &Path) -> Res<(Fieldwork, std::sync::Arc<ManualClock>)> {
    let clock = ManualClock::new(T0);
    let fw = Fieldwork::open(
        path,
        Config {
            clock: clock.clone(),
            ..Config::new("eng-bench")
        },
    )?;
    Ok((fw, clock))
}

fn durable_pragmas(conn: &Connection) -> rusqlite::Result<()> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "temp_store", 2)
}

/// One durable field edit (document change + row, committed) against a bare
/// upsert of one row with the same pragmas, both on the same disk.
fn edit_durable_vs_upsert(dir: &Path) -> Res<Row> {
    const N: usize = 300;
    let (fw, clock) = device(&dir.join("edit.db"))?;
    fw.desk().upsert_catalog_part(relay())?;
    fw.receive_stock("RLY", 1)?;
    let id = full_visit(&fw, &clock, 1)?;
    let mut ours = Vec::with_capacity(N);
    for i in 0..N + 20 {
        let reason = format!("waiting for parts, update {i}");
        let t = Instant::now();
        fw.set_sla_exception(&id, &reason)?;
        if i >= 20 {
            ours.push(t.elapsed());
        }
    }
    let conn = Connection::open(dir.join("bare.db"))?;
    durable_pragmas(&conn)?;
    conn.execute_batch(
        "CREATE TABLE t (id TEXT PRIMARY KEY, reason TEXT NOT NULL, at INTEGER NOT NULL)",
    )?;
    let mut bare = Vec::with_capacity(N);
    for i in 0..N + 20 {
        let t = Instant::now();
        conn.execute(
            "INSERT INTO t (id, reason, at) VALUES ('wo-1', ?1, ?2)
             ON CONFLICT (id) DO UPDATE SET reason = excluded.reason, at = excluded.at",
            rusqlite::params![format!("waiting for parts, update {i}"), i as i64],
        )?;
        if i >= 20 {
            bare.push(t.elapsed());
        }
    }
    Ok(Row {
        name: "core.edit_durable_vs_upsert",
        value: mean(&ours) * 1e3,
        unit: "ms",
        baseline: Some(mean(&bare) * 1e3),
        what: "one durable field edit on a visited order (Automerge change + row, fsynced) vs a bare rusqlite upsert with the same pragmas; mean of 300",
    })
}

fn build_fixture(path: &Path) -> Res<()> {
    let (fw, clock) = device(path)?;
    fw.unsynchronised_for_fixtures()?;
    fw.desk().upsert_catalog_part(relay())?;
    for _ in 0..ORDERS.div_ceil(1_000) {
        fw.receive_stock("RLY", 1_000)?;
    }
    let started = Instant::now();
    for n in 0..ORDERS {
        full_visit(&fw, &clock, n)?;
        clock.advance_ms(60_000);
    }
    eprintln!(
        "  {ORDERS} visits in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn file_len(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

/// Store size on disk per visited order, against the bytes of the Automerge
/// documents alone (`save()`).
fn bytes_per_order(path: &Path) -> Res<Row> {
    let (fw, _) = device(path)?;
    let ids = fw.list_orders(&OrderFilter {
        limit: OrderFilter::MAX_LIMIT,
        ..OrderFilter::default()
    })?;
    let sample: Vec<_> = ids.iter().take(100).collect();
    let mut doc_bytes = 0usize;
    for r in &sample {
        doc_bytes += fw.export_changes(&r.id, &[])?.len();
    }
    drop(fw); // last connection: checkpoints the WAL
    let conn = Connection::open(path)?;
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); VACUUM;")?;
    drop(conn);
    let wal = path.with_extension("db-wal");
    let total = file_len(path) + file_len(&wal);
    Ok(Row {
        name: "core.bytes_per_order",
        value: total as f64 / f64::from(ORDERS),
        unit: "bytes",
        baseline: Some(doc_bytes as f64 / sample.len() as f64),
        what: "store file size per order after a full visit on a phone that has not synced yet (so its outbox still holds every change), vacuumed, vs the order's Automerge changes alone",
    })
}

/// Decoding an order as the store keeps it, saved whole and uncompressed,
/// against the same order as a snapshot of its first change and one chunk
/// per later change (how orders were stored before, up to 63 chunks).
fn order_decode(path: &Path) -> Res<Row> {
    let (fw, _) = device(path)?;
    let ids = fw.list_orders(&OrderFilter {
        limit: 100,
        ..OrderFilter::default()
    })?;
    let mut whole = Vec::new();
    let mut chunked = Vec::new();
    for r in &ids {
        let mut doc = automerge::AutoCommit::load(&fw.export_changes(&r.id, &[])?)?;
        whole.push(doc.save_nocompress());
        let changes = doc.get_changes(&[]);
        let mut partial = automerge::AutoCommit::new();
        let mut stored = Vec::new();
        for (k, change) in changes.into_iter().enumerate() {
            let before = partial.get_heads();
            partial.apply_changes([change])?;
            if k == 0 {
                stored = partial.save();
            } else {
                stored.extend(partial.save_after(&before));
            }
        }
        chunked.push(stored);
    }
    let per_order_us = |docs: &[Vec<u8>]| -> Res<f64> {
        let mut best = f64::MAX;
        for _ in 0..5 {
            let t = Instant::now();
            for d in docs {
                std::hint::black_box(automerge::AutoCommit::load(d)?);
            }
            best = best.min(t.elapsed().as_secs_f64() * 1e6 / docs.len() as f64);
        }
        Ok(best)
    };
    Ok(Row {
        name: "core.order_decode_us",
        value: per_order_us(&whole)?,
        unit: "µs",
        baseline: Some(per_order_us(&chunked)?),
        what: "decoding an order after a full visit as the store keeps it (saved whole, uncompressed), best of 5 rounds over 100 orders, vs the same orders as a snapshot and one chunk per later change (how they were stored before)",
    })
}

fn open_5000(path: &Path) -> Res<Row> {
    let mut ours = Vec::new();
    let mut bare = Vec::new();
    for _ in 0..10 {
        let t = Instant::now();
        let fw = Fieldwork::open(path, Config::new("eng-bench"))?;
        ours.push(t.elapsed());
        drop(fw);
        let t = Instant::now();
        let conn = Connection::open(path)?;
        durable_pragmas(&conn)?;
        let _: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        bare.push(t.elapsed());
        drop(conn);
    }
    Ok(Row {
        name: "core.open_5000_ms",
        value: median(&mut ours) * 1e3,
        unit: "ms",
        baseline: Some(median(&mut bare) * 1e3),
        what: "open a store of 5,000 visited orders (schema check, device id, clock) vs opening the same file with rusqlite and the same pragmas; median of 10",
    })
}

/// A supervisor saves settings on a store of 5,000 orders: the new version
/// is written and every order's due time recomputed under the version it
/// is served by, in one transaction. Against one catalog upsert (one small
/// document written) on the same store. On a copy of the fixture.
fn settings_change_5000(dir: &Path, big: &Path) -> Res<Row> {
    let path = dir.join("settings.db");
    std::fs::copy(big, &path)?;
    // After the fixture's last visit (its clock ran from T0 on).
    let (fw, clock) = device(&path)?;
    clock.set(T0 + 3_600_000 * 24 * 400);
    let (mut ours, mut base) = (Vec::new(), Vec::new());
    for i in 0..3 {
        let input = fieldwork_core::SettingsInput {
            language: if i % 2 == 0 { "zh-CN" } else { "en" }.into(),
            policy: fieldwork_core::Policy::default(),
        };
        let t = Instant::now();
        fw.desk().change_settings(&input)?;
        ours.push(t.elapsed());
        let mut part = relay();
        part.unit_price_minor += i64::from(i);
        let t = Instant::now();
        fw.desk().upsert_catalog_part(part)?;
        base.push(t.elapsed());
    }
    Ok(Row {
        name: "core.settings_change_5000_ms",
        value: median(&mut ours) * 1e3,
        unit: "ms",
        baseline: Some(median(&mut base) * 1e3),
        what: "save a new settings version on a store of 5,000 visited orders (it applies to orders received from now on, so no row is recomputed) vs one catalog part upsert on the same store; median of 3",
    })
}

fn list_urgent(path: &Path) -> Res<Row> {
    let (fw, clock) = device(path)?;
    clock.set(T0 + 3_600_000 * 24 * 5);
    let filter = OrderFilter {
        open_only: true,
        limit: 50,
        ..OrderFilter::default()
    };
    let first = fw.list_orders(&filter)?;
    if first.len() != 50 || !first[0].urgent || first.iter().any(|r| r.status == Status::Closed) {
        return Err("the urgent list is not what the benchmark expects".into());
    }
    let mut ours = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        let rows = fw.list_orders(&filter)?;
        ours.push(t.elapsed());
        std::hint::black_box(rows);
    }
    let conn = Connection::open(path)?;
    durable_pragmas(&conn)?;
    let mut stmt = conn.prepare(
        "SELECT id, status, urgent, assignee, customer_name, next_due_at_ms FROM orders
         WHERE is_open = 1 ORDER BY urgent DESC, next_due_at_ms IS NULL, next_due_at_ms, created_at_ms, id LIMIT 50",
    )?;
    let mut bare = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        let rows: Vec<BareRow> = stmt
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })?
            .collect::<Result<_, _>>()?;
        bare.push(t.elapsed());
        std::hint::black_box(rows);
    }
    Ok(Row {
        name: "core.list_urgent_50_of_5000_ms",
        value: median(&mut ours) * 1e3,
        unit: "ms",
        baseline: Some(median(&mut bare) * 1e3),
        what: "the 50 most urgent open orders of 5,000 through the facade vs the same indexed query in bare rusqlite; median of 200",
    })
}

fn round(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

fn json(r: &Row) -> String {
    serde_json::json!({
        "name": r.name,
        "value": round(r.value),
        "unit": r.unit,
        "baseline": r.baseline.map(round),
        "ratio": r.baseline.map(|b| round(r.value / b)),
    })
    .to_string()
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    format!(
        "{cpu}, {cores} cores, {} {}",
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

fn markdown_table(rows: &[Row]) -> String {
    let mut s = String::from(
        "# Benchmarks\n\nWritten by `scripts/bench` (do not edit by hand). Each figure is measured \
         against a baseline in the same run; `ratio` = value / baseline.\n\n",
    );
    s.push_str(&format!("Machine: {}. Release build.\n\n", machine()));
    s.push_str("| name | value | unit | baseline | ratio | what |\n|---|---|---|---|---|---|\n");
    for r in rows {
        s.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} |\n",
            r.name,
            round(r.value),
            r.unit,
            r.baseline
                .map(|b| round(b).to_string())
                .unwrap_or_else(|| "-".into()),
            r.baseline
                .map(|b| format!("{:.2}", r.value / b))
                .unwrap_or_else(|| "-".into()),
            r.what
        ));
    }
    s
}
