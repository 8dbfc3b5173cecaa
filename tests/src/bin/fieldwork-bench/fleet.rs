//! The 08:00 rush: N phones, 5 orders each, 10 offline edits each (on every
//! order a status change and a note), then one sync each, all at once,
//! against `fieldwork serve` on loopback: on embedded SQLite, and on
//! PostgreSQL with one and with two server processes (phones split evenly,
//! as a load balancer would). At N = 200 the reference automerge-repo sync
//! server runs the same shape of work right after ours
//! (`../shared/peers/automerge-repo`, its README).

use super::{Res, Row, T0, leak};
use crate::sync::rss_kb;
use fieldwork_tests::backend::Backend;
use fieldwork_tests::fleet;
use fieldwork_tests::process::ServerProcess;
use std::path::Path;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

/// The fleet sizes measured.
const SIZES: [usize; 3] = [50, 200, 1000];
const ORDERS_EACH: usize = 5;
/// Per phone: on each of its orders, accepting it and a note.
const EDITS_EACH: usize = 2 * ORDERS_EACH;

/// What one fleet run measured.
struct Run {
    p50_ms: f64,
    p99_ms: f64,
    changes_per_s: f64,
    solo_ms: f64,
    rss_idle_mb: f64,
    rss_peak_mb: f64,
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 * p).ceil() as usize).saturating_sub(1);
    sorted.get(i).map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

/// `phones` phones (and one more, alone first, for the baseline) against
/// `processes` server processes on `backend`.
fn run(dir: &Path, exe: &Path, backend: &Backend, processes: usize, phones: usize) -> Res<Run> {
    let label = format!("{}-{processes}-{phones}", backend.name());
    eprintln!(
        "fleet {label}: provisioning {} orders…",
        (phones + 1) * ORDERS_EACH
    );
    let center = fleet::provision(backend, phones + 1, ORDERS_EACH)?;
    let root = dir.join(format!("fleet-{label}"));
    std::fs::create_dir_all(&root)?;
    let servers = (0..processes)
        .map(|i| {
            ServerProcess::start_logged(
                exe,
                &backend.args(),
                &[],
                &root.join(format!("server-{i}.log")),
            )
        })
        .collect::<Res<Vec<_>>>()?;
    let pids: Vec<u32> = servers.iter().map(|s| s.child.id()).collect();
    let rss_idle_mb = pids.iter().map(|p| rss_kb(*p, "VmRSS:")).sum::<f64>() / 1024.0;
    let urls: Vec<String> = servers.iter().map(|s| s.url.clone()).collect();
    eprintln!("fleet {label}: enrolling {} phones…", phones + 1);
    let mut devices = fleet::enrol(&center, &urls, &root, T0)?;
    for (p, (_, ids)) in devices.iter().zip(&center.engineers) {
        for id in ids {
            p.fw.accept(id)?;
            p.fw.add_note(id, "checked the relay before leaving")?;
        }
    }
    let solo = devices.pop().ok_or("no phones")?;
    let t = Instant::now();
    solo.sync.sync_now()?;
    let solo_ms = t.elapsed().as_secs_f64() * 1e3;

    let before_mb = pids.iter().map(|p| rss_kb(*p, "VmHWM:")).sum::<f64>() / 1024.0;
    eprintln!("fleet {label}: the burst (server peak so far {before_mb:.0} MB)…");
    let start = Arc::new(Barrier::new(devices.len() + 1));
    let workers: Vec<_> = devices
        .iter()
        .map(|p| {
            let (sync, start) = (p.sync.clone(), start.clone());
            std::thread::spawn(move || -> Result<(Instant, Instant, u64), String> {
                start.wait();
                let t = Instant::now();
                let s = sync.sync_now().map_err(|e| e.to_string())?;
                Ok((t, Instant::now(), s.pushed_changes))
            })
        })
        .collect();
    start.wait();
    let mut latencies = Vec::with_capacity(workers.len());
    let mut pushed = 0u64;
    // The burst lasts from the first phone's start to the last phone's
    // answer, each read on its own thread: this thread may be scheduled
    // long after the barrier let the phones go, with two hundred threads
    // on two cores.
    let mut span: Option<(Instant, Instant)> = None;
    for w in workers {
        let (began, ended, n) = w.join().map_err(|_| "a phone thread stopped")??;
        latencies.push(ended - began);
        pushed += n;
        span = Some(span.map_or((began, ended), |(b, e)| (b.min(began), e.max(ended))));
    }
    let wall = span.map_or(0.0, |(b, e)| (e - b).as_secs_f64());
    let rss_peak_mb = pids.iter().map(|p| rss_kb(*p, "VmHWM:")).sum::<f64>() / 1024.0;
    let http = fieldwork_core::sync::client::http_client()?;
    for s in &servers {
        let text = http.get(format!("{}/metrics", s.url)).send()?.text()?;
        let metric = |name: &str| {
            text.lines()
                .find_map(|l| {
                    l.strip_prefix(name)?
                        .strip_prefix(' ')?
                        .trim()
                        .parse::<f64>()
                        .ok()
                })
                .unwrap_or(0.0)
        };
        let (sum, count) = (
            metric("fieldwork_sync_group_size_sum"),
            metric("fieldwork_sync_group_size_count"),
        );
        eprintln!(
            "  {}: {count} pushing requests, {:.1} per group on average (weighted by request)",
            s.url,
            sum / count.max(1.0)
        );
    }
    for s in servers {
        s.kill()?;
    }
    server_side(&root, processes);
    let expected = (phones * EDITS_EACH) as u64;
    if pushed != expected {
        return Err(format!("fleet {label} pushed {pushed} changes, expected {expected}").into());
    }
    latencies.sort();
    let r = Run {
        p50_ms: percentile(&latencies, 0.50),
        p99_ms: percentile(&latencies, 0.99),
        changes_per_s: pushed as f64 / wall,
        solo_ms,
        rss_idle_mb,
        rss_peak_mb,
    };
    eprintln!(
        "fleet {label}: p50 {:.0} ms, p99 {:.0} ms, {:.0} changes/s, peak {:.0} MB",
        r.p50_ms, r.p99_ms, r.changes_per_s, r.rss_peak_mb
    );
    Ok(r)
}

/// The servers' own view of the burst's sync requests (from their logs):
/// how long each took inside the server, for the progress output.
fn server_side(root: &Path, processes: usize) {
    let mut ms: Vec<f64> = Vec::new();
    for i in 0..processes {
        let log = std::fs::read_to_string(root.join(format!("server-{i}.log"))).unwrap_or_default();
        ms.extend(
            log.lines()
                .filter(|l| l.contains("route=/v1/sync"))
                .filter_map(|l| {
                    l.split("latency_ms=")
                        .nth(1)?
                        .split_whitespace()
                        .next()?
                        .parse::<f64>()
                        .ok()
                }),
        );
    }
    ms.sort_by(f64::total_cmp);
    let at = |p: f64| {
        ms.get(((ms.len() as f64 * p).ceil() as usize).saturating_sub(1))
            .copied()
            .unwrap_or(0.0)
    };
    eprintln!(
        "  server side: {} sync requests, p50 {:.0} ms, p99 {:.0} ms",
        ms.len(),
        at(0.5),
        at(0.99)
    );
}

/// What the reference server measured at N phones.
struct Peer {
    p99_ms: f64,
    changes_per_s: f64,
    rss_mb: f64,
    /// It hit its own deadline: its figures cover the clients that finished.
    timed_out: bool,
}

/// Run the reference automerge-repo server's fleet (its `run.sh N`) from
/// the folder `FIELDWORK_PEER_AUTOMERGE_REPO` names (scripts/bench copies
/// it there); `None` when it is not set.
fn peer(n: usize) -> Res<Option<Peer>> {
    let Some(folder) = std::env::var_os("FIELDWORK_PEER_AUTOMERGE_REPO") else {
        eprintln!("fleet: FIELDWORK_PEER_AUTOMERGE_REPO is not set: no comparison with the peer");
        return Ok(None);
    };
    eprintln!("fleet: the reference automerge-repo server, N = {n}…");
    let out = std::process::Command::new("bash")
        .arg(Path::new(&folder).join("run.sh"))
        .arg(n.to_string())
        .stderr(std::process::Stdio::inherit())
        .output()?;
    if !out.status.success() {
        return Err(format!("the peer's run.sh failed: {}", out.status).into());
    }
    let mut metrics = std::collections::HashMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(line)
            && let (Some(name), Some(value)) = (v["name"].as_str(), v["value"].as_f64())
        {
            metrics.insert(name.to_string(), value);
        }
    }
    let get = |m: &str| {
        metrics
            .get(&format!("peer.automerge_repo.fleet{n}_{m}"))
            .copied()
            .ok_or_else(|| format!("the peer reported no {m}"))
    };
    Ok(Some(Peer {
        p99_ms: get("p99_ms")?,
        changes_per_s: get("changes_per_s")?,
        rss_mb: get("server_peak_rss_mb")?,
        timed_out: get("timed_out")? != 0.0,
    }))
}

fn rows_for(n: usize, suffix: &str, r: &Run, baseline: Option<&Run>, base_what: &str) -> Vec<Row> {
    let setup = match suffix {
        "" => "embedded SQLite, one server process",
        ".postgres1" => "PostgreSQL on the same machine, one server process",
        _ => "PostgreSQL on the same machine, two server processes (phones split evenly)",
    };
    vec![
        Row {
            name: leak(format!("sync.fleet{n}_p99_ms{suffix}")),
            value: r.p99_ms,
            unit: "ms",
            baseline: Some(baseline.map_or(r.solo_ms, |b| b.p99_ms)),
            what: leak(format!(
                "{n} phones (5 orders, 10 offline edits each) syncing at once, {setup}: p99 from the start of the burst's sync to its acknowledgement, vs {}",
                baseline.map_or("one phone doing the same alone".to_string(), |_| base_what
                    .to_string())
            )),
        },
        Row {
            name: leak(format!("sync.fleet{n}_changes_per_s{suffix}")),
            value: r.changes_per_s,
            unit: "changes/s",
            baseline: Some(
                baseline.map_or(EDITS_EACH as f64 / (r.solo_ms / 1e3), |b| b.changes_per_s),
            ),
            what: leak(format!(
                "changes accepted per second over that burst (from the first phone starting its sync to the last holding its answer), {setup}, vs {}",
                baseline.map_or("one phone alone".to_string(), |_| base_what.to_string())
            )),
        },
        Row {
            name: leak(format!("sync.fleet{n}_server_rss_mb{suffix}")),
            value: r.rss_peak_mb,
            unit: "MB",
            baseline: Some(r.rss_idle_mb),
            what: leak(format!(
                "peak resident memory of the server process(es) through the run, {setup}, vs just after starting"
            )),
        },
    ]
}

/// Every fleet figure, and the peer's beside ours at N = 200.
pub fn rows(dir: &Path, exe: &Path) -> Res<Vec<Row>> {
    let mut rows = Vec::new();
    let mut sqlite = Vec::new();
    let sizes: Vec<usize> = match std::env::var("FIELDWORK_FLEET_SIZES") {
        Ok(v) => v.split(',').filter_map(|n| n.trim().parse().ok()).collect(),
        Err(_) => SIZES.to_vec(),
    };
    for &n in &sizes {
        let r = run(dir, exe, &Backend::sqlite()?, 1, n)?;
        if n == 200 {
            rows.push(Row {
                name: "sync.fleet200_p50_ms",
                value: r.p50_ms,
                unit: "ms",
                baseline: Some(r.solo_ms),
                what: "the 200-phone burst on embedded SQLite: p50, vs one phone alone",
            });
            if let Some(p) = peer(n)? {
                rows.extend(peer_rows(&r, &p));
            }
        }
        rows.extend(rows_for(n, "", &r, None, ""));
        sqlite.push(r);
    }
    if Backend::postgres()?.is_none() || std::env::var_os("FIELDWORK_FLEET_SQLITE_ONLY").is_some() {
        eprintln!("fleet: FIELDWORK_TEST_PG is not set: no PostgreSQL fleet figures");
        return Ok(rows);
    }
    for (&n, lite) in sizes.iter().zip(&sqlite) {
        let pg = Backend::postgres()?.ok_or("FIELDWORK_TEST_PG went away")?;
        let one = run(dir, exe, &pg, 1, n)?;
        drop(pg);
        let pg = Backend::postgres()?.ok_or("FIELDWORK_TEST_PG went away")?;
        let two = run(dir, exe, &pg, 2, n)?;
        drop(pg);
        rows.extend(rows_for(
            n,
            ".postgres1",
            &one,
            Some(lite),
            "the embedded SQLite figure",
        ));
        rows.extend(rows_for(
            n,
            ".postgres2",
            &two,
            Some(&one),
            "PostgreSQL with one process",
        ));
    }
    Ok(rows)
}

fn peer_rows(ours: &Run, peer: &Peer) -> Vec<Row> {
    let partial = if peer.timed_out {
        " (the peer hit its own 300 s deadline in this run: its figures cover the clients that finished)"
    } else {
        ""
    };
    let mut rows = vec![
        Row {
            name: "peer.fleet200_p99_vs_automerge_repo",
            value: ours.p99_ms,
            unit: "ms",
            baseline: Some(peer.p99_ms),
            what: "200 phones' burst (5 documents, 10 edits each): our p99 (embedded SQLite, fsync on every commit, until the phone holds the acknowledgement) vs the reference automerge-repo sync server's p99 (until its server first holds the edits; it does not fsync), same run (aim: ratio <= 0.1)",
        },
        Row {
            name: "peer.fleet200_changes_per_s_vs_automerge_repo",
            value: ours.changes_per_s,
            unit: "changes/s",
            baseline: Some(peer.changes_per_s),
            what: "changes per second through that burst, ours vs the reference server's, same run",
        },
        Row {
            name: "peer.fleet200_rss_vs_automerge_repo",
            value: ours.rss_peak_mb,
            unit: "MB",
            baseline: Some(peer.rss_mb),
            what: "the server's peak resident memory (VmHWM) through the run, ours vs the reference server's, same run (aim: ratio <= 1)",
        },
    ];
    for r in &mut rows {
        r.what = leak(format!("{}{partial}", r.what));
    }
    rows
}

/// The small table of cost against N, for docs/benchmarks.md.
pub fn section(rows: &[Row]) -> String {
    let find = |name: String| rows.iter().find(|r| r.name == name).map(|r| r.value);
    let mut s = String::from(
        "\n## The fleet against N\n\nN phones, 5 orders and 10 offline edits each, one sync each, all at once (from the rows above).\n\n| N | storage | p99 ms | changes/s | server peak MB |\n|---|---|---|---|---|\n",
    );
    for n in SIZES {
        for (suffix, storage) in [
            ("", "SQLite, 1 process"),
            (".postgres1", "PostgreSQL, 1 process"),
            (".postgres2", "PostgreSQL, 2 processes"),
        ] {
            let cell = |m: &str| {
                find(format!("sync.fleet{n}_{m}{suffix}"))
                    .map_or("-".to_string(), |v| format!("{v:.0}"))
            };
            s.push_str(&format!(
                "| {n} | {storage} | {} | {} | {} |\n",
                cell("p99_ms"),
                cell("changes_per_s"),
                cell("server_rss_mb")
            ));
        }
    }
    s.push_str(include_str!("fleet_notes.md"));
    s
}
