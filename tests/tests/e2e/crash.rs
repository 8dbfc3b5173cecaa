//! A process writing orders is killed with SIGKILL at random moments, many
//! times over the same store. After each kill the reopened store passes
//! `PRAGMA integrity_check` and holds every change whose call had returned.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use fieldwork_core::model::Status;
use fieldwork_core::{Config, Fieldwork, OrderFilter};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

/// What the writer said had returned, per order: (assigned, notes).
type Acked = BTreeMap<String, (bool, u32)>;

fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn killed_writers_lose_nothing_that_returned() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crash.db");
    let mut seed = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    println!("seed {seed}");
    let mut acked = Acked::new();
    let kills = 25;
    for round in 0..kills {
        let mut child = Command::new(env!("CARGO_BIN_EXE_crash-writer"))
            .arg(&db)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        // Wait for the first acknowledged write, then a random 0–150 ms more.
        let first = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("writer started");
        let mut lines = vec![first];
        let delay = Duration::from_millis(xorshift(&mut seed) % 150);
        let until = Instant::now() + delay;
        while let Ok(l) = rx.recv_timeout(until.saturating_duration_since(Instant::now())) {
            lines.push(l);
            if Instant::now() >= until {
                break;
            }
        }
        child.kill().unwrap(); // SIGKILL on Unix
        let status = child.wait().unwrap();
        assert!(
            !status.success(),
            "round {round}: the writer was killed, not finished"
        );
        reader.join().unwrap();
        // Lines still in the pipe were written after their call returned: they count too.
        lines.extend(rx.try_iter());
        for line in lines {
            let parts: Vec<&str> = line.split(' ').collect();
            match parts.as_slice() {
                ["created", id] => {
                    acked.entry(id.to_string()).or_default();
                }
                ["assigned", id] => acked.entry(id.to_string()).or_default().0 = true,
                ["note", id, n] => {
                    let e = acked.entry(id.to_string()).or_default();
                    e.1 = e.1.max(n.parse().unwrap());
                }
                other => panic!("unexpected line {other:?}"),
            }
        }

        let fw = Fieldwork::open(&db, Config::new("checker")).unwrap();
        assert_eq!(fw.integrity_check().unwrap(), "ok", "round {round}");
        let mut rows = Vec::new();
        loop {
            let page = fw
                .list_orders(&OrderFilter {
                    limit: OrderFilter::MAX_LIMIT,
                    offset: rows.len() as u32,
                    ..OrderFilter::default()
                })
                .unwrap();
            if page.is_empty() {
                break;
            }
            rows.extend(page);
        }
        for (id, (assigned, notes)) in &acked {
            let v = fw
                .order(id)
                .unwrap_or_else(|e| panic!("round {round}: acknowledged order {id} lost: {e}"));
            if *assigned {
                assert_eq!(v.status, Status::Dispatched, "round {round}: {id}");
                assert_eq!(v.order.assignee.as_deref(), Some("eng-crash"));
            }
            assert!(
                v.order.repair_notes.len() as u32 >= *notes,
                "round {round}: {id} lost notes"
            );
            let row = rows.iter().find(|r| &r.id == id);
            let row = row.unwrap_or_else(|| panic!("round {round}: row of {id} missing"));
            assert_eq!(row.status, v.status, "row and document agree");
        }
    }
    println!("{} orders acknowledged over {kills} kills", acked.len());
    assert!(
        acked.len() >= kills,
        "every round acknowledged at least one order"
    );
}
