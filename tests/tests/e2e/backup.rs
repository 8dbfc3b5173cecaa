//! `fieldwork admin backup` while a real server process takes a burst of
//! syncs, then `admin restore` into a new folder and a server on it: every
//! change acknowledged before the backup began is there, the photos too,
//! and the phones carry on syncing against the restored server (even those
//! told of changes the backup does not hold). On PostgreSQL the same with
//! pg_dump, pg_restore and `fieldwork admin after-restore`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use fieldwork_core::model::PhotoKind;
use fieldwork_tests::harness::{Desk, Device, Res};
use fieldwork_tests::process::{ServerProcess, admin, desk, provision};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const T0: i64 = 1_795_000_000_000;

fn exe() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_fieldwork-e2e"))
}

fn notes_on(desk: &Desk, id: &str) -> BTreeSet<String> {
    desk.notes(id).unwrap().into_iter().collect()
}

/// A phone's burst: a note on one of its orders, then a sync, again and
/// again until told to stop. Returns each note with when its sync
/// finished (acknowledged).
fn burst(
    phone: &Device,
    orders: &[String],
    who: &str,
    stop: &AtomicBool,
) -> Vec<(String, String, Instant)> {
    let mut acked = Vec::new();
    let mut n = 0;
    while !stop.load(Ordering::SeqCst) {
        let id = &orders[n % orders.len()];
        let text = format!("{who} note {n}");
        phone.fw.add_note(id, &text).unwrap();
        let s = phone.sync.sync_now().unwrap();
        assert_eq!(s.refused_docs, 0, "{s:?}");
        assert_eq!(phone.fw.pending_changes().unwrap(), 0);
        acked.push((id.clone(), text, Instant::now()));
        n += 1;
    }
    acked
}

fn run(args: &[&str]) -> Res<String> {
    let out = Command::new(exe()).args(args).output()?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned().into());
    }
    Ok(String::from_utf8(out.stdout)?)
}

/// The last sequence number of `tenant`'s log as `admin` reported it.
fn last_seq(report: &str, tenant: &str) -> i64 {
    let line = report
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{tenant}:")))
        .unwrap();
    line.split("last ")
        .nth(1)
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn a_backup_taken_during_a_burst_restores_everything_acknowledged_and_phones_carry_on() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let token = provision(exe(), &data).unwrap();
    let server = ServerProcess::start(exe(), &data).unwrap();
    let d = desk(&server.url, &token).unwrap();

    let mut phones = Vec::new();
    for (who, engineer) in [("a", "eng-a"), ("b", "eng-b")] {
        let orders: Vec<String> = (0..2)
            .map(|n| {
                d.dispatch(n + if who == "a" { 0 } else { 10 }, engineer)
                    .unwrap()
            })
            .collect();
        let home = dir.path().join(who);
        std::fs::create_dir_all(&home).unwrap();
        let p = Device::enrol_at(&server.url, &d, engineer, &home, T0).unwrap();
        p.sync.sync_now().unwrap();
        phones.push((who, p, orders));
    }
    // A photo of the first order's nameplate, sent before the backup.
    let photo_bytes = fieldwork_tests::jpeg(300_000, 7);
    let photo_file = dir.path().join("plate.jpg");
    std::fs::write(&photo_file, &photo_bytes).unwrap();
    let (_, a, a_orders) = &phones[0];
    let photo =
        a.fw.attach_photo(&a_orders[0], &photo_file, PhotoKind::SerialPlate, None)
            .unwrap();
    a.sync.sync_now().unwrap();
    assert_eq!(a.fw.blobs_waiting().unwrap().count, 0);

    // The burst, on two threads; the backup in the middle of it.
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = phones
        .into_iter()
        .map(|(who, p, orders)| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let acked = burst(&p, &orders, who, &stop);
                (who, p, orders, acked)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(400));
    let backup = dir.path().join("fieldwork.backup");
    let began = Instant::now();
    let said = admin(exe(), &data, &["backup", "--to", backup.to_str().unwrap()]).unwrap();
    let ended = Instant::now();
    // The phones go on after it for a while: changes the backup lacks.
    std::thread::sleep(Duration::from_millis(400));
    stop.store(true, Ordering::SeqCst);
    let mut phones: Vec<_> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    assert!(
        said.contains("acme:") && said.contains("1 photo(s)"),
        "{said}"
    );
    let in_backup = last_seq(&said, "acme");

    let before: Vec<_> = phones
        .iter()
        .flat_map(|(_, _, _, acked)| acked.iter().filter(|(_, _, at)| *at < began))
        .cloned()
        .collect();
    let after: Vec<_> = phones
        .iter()
        .flat_map(|(_, _, _, acked)| acked.iter().filter(|(_, _, at)| *at > ended))
        .cloned()
        .collect();
    assert!(
        before.len() >= 4,
        "a burst before the backup: {}",
        before.len()
    );
    assert!(!after.is_empty(), "and after it");

    // The machine is lost; the backup is restored on another folder.
    server.kill().unwrap();
    let restored = dir.path().join("restored");
    let said = run(&[
        "admin",
        "--data",
        restored.to_str().unwrap(),
        "restore",
        "--from",
        backup.to_str().unwrap(),
    ])
    .unwrap();
    assert_eq!(last_seq(&said, "acme"), in_backup, "{said}");
    let server = ServerProcess::start(exe(), &restored).unwrap();
    // The desk's token was in the backup too.
    let d = desk(&server.url, &token).unwrap();

    for (id, text, _) in &before {
        assert!(
            notes_on(&d, id).contains(text),
            "{text} was acknowledged before the backup began"
        );
    }
    let (status, bytes) = d.photo(&phones[0].2[0], &photo.id).unwrap();
    assert_eq!(status, 200);
    assert_eq!(bytes, photo_bytes, "the photo came back whole");

    // The phones carry on against the restored server. A phone that pulled
    // changes the backup lacks holds a cursor past the restored log.
    for (_, p, _, _) in &mut phones {
        p.reconnect(&server.url).unwrap();
    }
    let ahead = phones
        .iter()
        .filter(|(_, p, _, _)| p.fw.sync_cursor().unwrap() > in_backup)
        .count();
    assert!(ahead > 0, "some phone was told of changes after the backup");
    for (who, p, orders, _) in &phones {
        // New work from the desk reaches each phone, whatever its cursor.
        let engineer = format!("eng-{who}");
        let new = d
            .dispatch(if *who == "a" { 20 } else { 30 }, &engineer)
            .unwrap();
        let s = p.sync.sync_now().unwrap();
        assert_eq!(s.refused_docs, 0, "{s:?}");
        assert!(
            p.fw.order(&new).is_ok(),
            "{who} got the order dispatched after the restore"
        );
        // And its new work reaches the desk.
        for id in orders {
            p.fw.add_note(id, &format!("{who} after the restore"))
                .unwrap();
        }
        let s = p.sync.sync_now().unwrap();
        assert_eq!(s.refused_docs, 0, "{s:?}");
        assert_eq!(p.fw.pending_changes().unwrap(), 0);
        assert!(p.fw.quarantined().unwrap().is_empty());
        for id in orders {
            assert!(notes_on(&d, id).contains(&format!("{who} after the restore")));
        }
    }
    // Building on notes the restored server lacked, the phones sent them
    // again: in the end nothing acknowledged is missing.
    for (_, _, _, acked) in &phones {
        for (id, text, _) in acked {
            assert!(notes_on(&d, id).contains(text), "{text}");
        }
    }
}

#[test]
fn a_damaged_or_foreign_backup_restores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    provision(exe(), &data).unwrap();
    let backup = dir.path().join("b.tar");
    admin(exe(), &data, &["backup", "--to", backup.to_str().unwrap()]).unwrap();

    // Flip bytes in the middle of the directory's copy.
    let mut bytes = std::fs::read(&backup).unwrap();
    let at = bytes
        .windows(15)
        .position(|w| w == b"SQLite format 3")
        .unwrap()
        + 4096
        + 100;
    for b in &mut bytes[at..at + 2000] {
        *b ^= 0x5a;
    }
    let damaged = dir.path().join("damaged.tar");
    std::fs::write(&damaged, &bytes).unwrap();
    let foreign = dir.path().join("foreign.tar");
    std::fs::write(&foreign, b"not a backup at all").unwrap();

    for (file, says) in [(&damaged, "damaged"), (&foreign, "not a Fieldwork backup")] {
        let target = dir.path().join("restored");
        let err = run(&[
            "admin",
            "--data",
            target.to_str().unwrap(),
            "restore",
            "--from",
            file.to_str().unwrap(),
        ])
        .unwrap_err()
        .to_string();
        assert!(err.contains(says), "{err}");
        assert!(!target.exists(), "nothing put in place");
    }
    // Neither into a folder that holds a server already.
    let err = run(&[
        "admin",
        "--data",
        data.to_str().unwrap(),
        "restore",
        "--from",
        backup.to_str().unwrap(),
    ])
    .unwrap_err()
    .to_string();
    assert!(err.contains("already holds a server"), "{err}");
    // No staging folder left behind anywhere.
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// Run a PostgreSQL client tool, saying where it comes from if it is missing.
fn pg_tool(tool: &str, args: &[&str]) {
    let out = Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{tool}: {e} (scripts/test installs postgresql-client)"));
    assert!(
        out.status.success(),
        "{tool}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn after_a_pg_restore_the_logs_continue_and_phones_carry_on() {
    use fieldwork_tests::backend::{Backend, PG_ENV, PgDatabase};
    use std::ffi::OsString;
    let Some(Backend::Postgres(first)) = Backend::postgres().unwrap() else {
        eprintln!("{PG_ENV} is not set: pg_dump and pg_restore are not tried here");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let on = |db: &PgDatabase| vec![OsString::from("--database"), db.url.clone().into()];
    let token = fieldwork_tests::process::provision_on(exe(), &on(&first)).unwrap();
    let server = ServerProcess::start_on(exe(), &on(&first)).unwrap();
    let d = desk(&server.url, &token).unwrap();
    let morning = d.dispatch(1, "eng-a").unwrap();
    let home = dir.path().join("a");
    std::fs::create_dir_all(&home).unwrap();
    let mut a = Device::enrol_at(&server.url, &d, "eng-a", &home, T0).unwrap();
    a.sync.sync_now().unwrap();

    // The nightly dump; then the day goes on and the phone hears of it.
    let dump = dir.path().join("fieldwork.dump");
    pg_tool(
        "pg_dump",
        &[
            "--format=custom",
            "--file",
            dump.to_str().unwrap(),
            &first.url,
        ],
    );
    let later = d.dispatch(2, "eng-a").unwrap();
    a.sync.sync_now().unwrap();
    assert!(a.fw.order(&later).is_ok());
    let told = a.fw.sync_cursor().unwrap();
    drop(server);

    // The database is lost; the dump goes into a new one.
    let Some(Backend::Postgres(second)) = Backend::postgres().unwrap() else {
        unreachable!()
    };
    pg_tool(
        "pg_restore",
        &[
            "--no-owner",
            "--dbname",
            &second.url,
            dump.to_str().unwrap(),
        ],
    );
    let said = fieldwork_tests::process::admin_on(exe(), &on(&second), &["after-restore"]).unwrap();
    assert!(said.contains("acme: last change"), "{said}");
    let server = ServerProcess::start_on(exe(), &on(&second)).unwrap();
    let d = desk(&server.url, &token).unwrap();
    assert!(d.ok("GET", &format!("/api/orders/{morning}"), None).is_ok());
    assert!(
        d.call("GET", &format!("/api/orders/{later}"), None)
            .unwrap()
            .0
            == 404,
        "the dump was taken before it"
    );

    // The phone, told of changes the dump lacks, still gets new work.
    a.reconnect(&server.url).unwrap();
    let new = d.dispatch(3, "eng-a").unwrap();
    let s = a.sync.sync_now().unwrap();
    assert_eq!(s.refused_docs, 0, "{s:?}");
    assert!(a.fw.sync_cursor().unwrap() > told);
    assert!(
        a.fw.order(&new).is_ok(),
        "the order dispatched after the restore arrived"
    );
    a.fw.add_note(&morning, "carried on").unwrap();
    a.sync.sync_now().unwrap();
    assert_eq!(a.fw.pending_changes().unwrap(), 0);
}
