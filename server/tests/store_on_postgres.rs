//! The core store's conformance suite on PostgreSQL: every check the core
//! runs on SQLite, here on a schema of the PostgreSQL that
//! `FIELDWORK_TEST_PG` names, the way a tenant's store uses it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use fieldwork_core::store::conformance::Place;
use fieldwork_core::store::sql::Backend;
use fieldwork_server::pg::PgBackend;

const PG_ENV: &str = "FIELDWORK_TEST_PG";

/// A schema of its own for one test, dropped when the test ends.
struct Schema {
    url: String,
    name: String,
}

impl Schema {
    /// `None` where `FIELDWORK_TEST_PG` is unset on a developer's machine;
    /// under CI an unset variable fails the test instead of skipping it.
    fn new() -> Option<Schema> {
        match std::env::var(PG_ENV) {
            Ok(url) if !url.trim().is_empty() => Some(Schema {
                url,
                name: format!("fw_conformance_{}", uuid::Uuid::new_v4().simple()),
            }),
            _ if std::env::var_os("CI").is_some() => {
                panic!("{PG_ENV} is unset: CI runs the store's suite on PostgreSQL")
            }
            _ => {
                eprintln!("{PG_ENV} unset: the PostgreSQL store suite did not run");
                None
            }
        }
    }
}

impl Place for Schema {
    fn open(&self) -> Box<dyn Backend> {
        Box::new(PgBackend::connect(&self.url, &self.name, true).unwrap())
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.url, postgres::NoTls) {
            let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
        }
    }
}

macro_rules! or_return {
    () => {
        match Schema::new() {
            Some(s) => s,
            None => return,
        }
    };
}

mod on_postgres {
    use super::*;

    fieldwork_core::store_conformance_tests!(or_return!());
}

/// Two server processes on one tenant, as PostgreSQL sees them: two stores,
/// each on its own connection (session) to the tenant's schema. A write is
/// held inside its transaction (after its changes went into the log, before
/// the commit) while the other store writes and a phone pulls.
mod writers_in_parallel {
    use super::*;
    use fieldwork_core::store::BeforeCommit;
    use fieldwork_core::{Config, ServerStore};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::mpsc::{self, Receiver, Sender};
    use std::sync::{Arc, Mutex};
    use std::thread::{self, JoinHandle};
    use std::time::{Duration, Instant};

    const ENGINEER: &str = "eng-parallel";
    /// The engineer's phone, which pulls.
    const PHONE: &str = "0000000000000000000000000000a001";

    fn process(schema: &Schema) -> Arc<ServerStore> {
        let db = PgBackend::connect(&schema.url, &schema.name, true).unwrap();
        Arc::new(ServerStore::open_on(Box::new(db), Config::new("server")).unwrap())
    }

    /// Two orders assigned to the engineer.
    fn two_orders(s: &ServerStore) -> (String, String) {
        let mut ids = Vec::new();
        for n in 0..2 {
            let id = s
                .desk()
                .create_order(fieldwork_core::samples::intake(n))
                .unwrap();
            s.desk().assign(&id, ENGINEER).unwrap();
            ids.push(id);
        }
        (ids[0].clone(), ids[1].clone())
    }

    /// Hold `s`'s writes inside their transactions: the first receiver
    /// hears each write arrive there; each waits until the sender sends or
    /// is dropped.
    fn hold(s: &ServerStore) -> (Receiver<()>, Sender<()>) {
        let (arrived, arrivals) = mpsc::channel();
        let (release, released) = mpsc::channel::<()>();
        let (arrived, released) = (Mutex::new(arrived), Mutex::new(released));
        s.before_commit(Some(BeforeCommit(Arc::new(move || {
            let _ = arrived.lock().unwrap().send(());
            let _ = released
                .lock()
                .unwrap()
                .recv_timeout(Duration::from_secs(60));
        }))));
        (arrivals, release)
    }

    /// A note added on another thread; its result arrives on the receiver.
    fn note_later(s: &Arc<ServerStore>, order: &str, text: &str) -> Receiver<String> {
        let (s, order, text) = (s.clone(), order.to_string(), text.to_string());
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let r = s.add_note(&order, &text);
            let _ = tx.send(r.map_or_else(|e| e.to_string(), |()| "ok".into()));
        });
        rx
    }

    fn notes(s: &ServerStore, order: &str) -> Vec<String> {
        let view = s.order(order).unwrap();
        view.order
            .repair_notes
            .into_iter()
            .map(|n| n.text)
            .collect()
    }

    #[test]
    fn a_change_that_commits_late_is_never_skipped_by_a_phones_pull() {
        let schema = or_return!();
        let (a, b) = (process(&schema), process(&schema));
        let (x, y) = two_orders(&a);
        // The phone is up to date: both orders arrived whole.
        let mut cursor = 0;
        loop {
            let plan = b.pull_plan(ENGINEER, PHONE, cursor, 100).unwrap();
            cursor = plan.cursor;
            if !plan.more {
                break;
            }
        }
        // A writes order X and takes its place in the log, then is held
        // before its commit; B writes order Y after it and commits first.
        let (arrivals, release) = hold(&a);
        let late = note_later(&a, &x, "written first, committed last");
        arrivals
            .recv_timeout(Duration::from_secs(30))
            .expect("A's write reached its commit");
        b.add_note(&y, "written second, committed first").unwrap();
        let mut pulled: Vec<String> = Vec::new();
        let first = b.pull_plan(ENGINEER, PHONE, cursor, 100).unwrap();
        pulled.extend(first.changes.iter().map(|c| c.doc_id.clone()));
        cursor = first.cursor;
        assert!(
            !pulled.contains(&x),
            "A has not committed: its change cannot have been pulled"
        );
        drop(release);
        assert_eq!(late.recv_timeout(Duration::from_secs(30)).unwrap(), "ok");
        // The phone syncs again until it holds both (a transaction taking
        // its id just as the log is read counts as a writer a moment).
        let deadline = Instant::now() + Duration::from_secs(30);
        while !(pulled.contains(&x) && pulled.contains(&y)) && Instant::now() < deadline {
            let plan = b.pull_plan(ENGINEER, PHONE, cursor, 100).unwrap();
            assert!(plan.cursor >= cursor, "a cursor never moves back");
            pulled.extend(plan.changes.iter().map(|c| c.doc_id.clone()));
            cursor = plan.cursor;
            thread::sleep(Duration::from_millis(50));
        }
        assert!(
            pulled.contains(&x),
            "the change committed late reached the phone; pulled {pulled:?}"
        );
        assert!(pulled.contains(&y), "pulled {pulled:?}");
    }

    /// Short transactions that take an id, one after another on `threads`
    /// connections of their own, outside the tenant's schema (another
    /// tenant, another application on the same server), until the returned
    /// flag is set.
    fn busy_elsewhere(url: &str, threads: usize) -> (Arc<AtomicBool>, Vec<JoinHandle<u64>>) {
        let stop = Arc::new(AtomicBool::new(false));
        let handles = (0..threads)
            .map(|_| {
                let (url, stop) = (url.to_string(), stop.clone());
                thread::spawn(move || {
                    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
                    let mut n = 0;
                    while !stop.load(Ordering::Relaxed) {
                        c.batch_execute(
                            "BEGIN; SELECT pg_current_xact_id(); SELECT pg_sleep(0.005); COMMIT",
                        )
                        .unwrap();
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        (stop, handles)
    }

    #[test]
    fn transactions_elsewhere_on_the_server_never_hold_back_what_committed_before_a_pull() {
        let schema = or_return!();
        let s = process(&schema);
        let (x, _) = two_orders(&s);
        let mut cursor = 0;
        loop {
            let plan = s.pull_plan(ENGINEER, PHONE, cursor, 100).unwrap();
            cursor = plan.cursor;
            if !plan.more {
                break;
            }
        }
        // The server is busy with others' transactions, beginning and
        // ending all the time, while the desk writes and the phone pulls.
        let (stop, busy) = busy_elsewhere(&schema.url, 8);
        let mut held_back = Vec::new();
        for round in 0..300 {
            s.add_note(&x, &format!("note {round}")).unwrap();
            // The note committed before this pull began: the pull brings it.
            let plan = s.pull_plan(ENGINEER, PHONE, cursor, 100).unwrap();
            if !plan.changes.iter().any(|c| c.doc_id == x) {
                held_back.push(round);
            }
            assert!(plan.cursor >= cursor, "a cursor never moves back");
            cursor = plan.cursor;
        }
        stop.store(true, Ordering::Relaxed);
        let others: u64 = busy.into_iter().map(|h| h.join().unwrap()).sum();
        assert!(
            others > 300,
            "the server was busy meanwhile ({others} other transactions)"
        );
        assert!(
            held_back.is_empty(),
            "{} of 300 pulls missed the note that committed before them (rounds {held_back:?}), \
             held back by {others} transactions elsewhere",
            held_back.len()
        );
    }

    #[test]
    fn two_processes_write_different_orders_at_once_and_one_order_in_turn() {
        let schema = or_return!();
        let (a, b) = (process(&schema), process(&schema));
        let (x, y) = two_orders(&a);
        let (arrivals, release) = hold(&a);
        let from_a = note_later(&a, &x, "from A");
        arrivals
            .recv_timeout(Duration::from_secs(30))
            .expect("A's write reached its commit");
        // A is inside its transaction, holding order X. B writes order Y
        // meanwhile, through its own transaction, and commits: no lock of
        // the whole tenant stands between them.
        let other_order = note_later(&b, &y, "from B");
        assert_eq!(
            other_order
                .recv_timeout(Duration::from_secs(20))
                .ok()
                .as_deref(),
            Some("ok"),
            "B wrote another order while A's transaction was open"
        );
        // The same order waits for A.
        let same_order = note_later(&b, &x, "from B, after A");
        assert!(
            same_order.recv_timeout(Duration::from_secs(1)).is_err(),
            "B's write to order X went ahead while A held it"
        );
        drop(release);
        assert_eq!(from_a.recv_timeout(Duration::from_secs(30)).unwrap(), "ok");
        assert_eq!(
            same_order.recv_timeout(Duration::from_secs(30)).unwrap(),
            "ok"
        );
        a.before_commit(None);
        // Both notes on X, in the order they were written, whichever
        // process reads it (A's copy in memory is refreshed).
        for s in [&a, &b] {
            assert_eq!(notes(s, &x), ["from A", "from B, after A"]);
            assert_eq!(notes(s, &y), ["from B"]);
        }
    }
}

/// A call's documents are claimed in one statement, in one order for every
/// session (sorted by key): a session made to wait for a document holds
/// the claims ordered before it and none after, so two calls claiming
/// overlapping documents never wait on each other in a ring.
mod claims {
    use super::*;
    use std::time::{Duration, Instant};

    /// The backend process of a store's connection (one connection each).
    fn pid_of(db: &mut PgBackend) -> i32 {
        let rows = db.query("SELECT pg_backend_pid()::bigint", &[]).unwrap();
        i32::try_from(rows[0].int(0).unwrap()).unwrap()
    }

    /// Advisory locks of the backend `pid`, as keys, granted or waited for.
    fn locks_of(c: &mut postgres::Client, pid: i32, granted: bool) -> Vec<i64> {
        let rows = c
            .query(
                "SELECT (classid::bigint << 32) | objid::bigint FROM pg_locks
                 WHERE locktype = 'advisory' AND objsubid = 1 AND pid = $1 AND granted = $2",
                &[&pid, &granted],
            )
            .unwrap();
        let mut keys: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
        keys.sort_unstable();
        keys
    }

    #[test]
    fn a_waiting_call_holds_the_claims_before_the_one_it_waits_for_and_none_after() {
        let schema = or_return!();
        let mut watch = postgres::Client::connect(&schema.url, postgres::NoTls).unwrap();
        let names: Vec<String> = (0..12).map(|n| format!("order-{n}")).collect();

        // The keys of the documents, from a session that claims them all.
        let mut first = PgBackend::connect(&schema.url, &schema.name, true).unwrap();
        let pid = pid_of(&mut first);
        let named: Vec<&str> = names.iter().map(String::as_str).collect();
        first.claim(&named).unwrap();
        let all = locks_of(&mut watch, pid, true);
        assert_eq!(all.len(), names.len(), "one claim per document");
        first.release_claims().unwrap();
        assert!(locks_of(&mut watch, pid, true).is_empty(), "all let go");

        // Another session holds the middle one; a call claims them all.
        let middle = all[all.len() / 2];
        watch
            .execute("SELECT pg_advisory_lock($1)", &[&middle])
            .unwrap();
        let mut second = PgBackend::connect(&schema.url, &schema.name, true).unwrap();
        let waiter = pid_of(&mut second);
        let wanted = names.clone();
        let claimer = std::thread::spawn(move || {
            let named: Vec<&str> = wanted.iter().map(String::as_str).collect();
            second.claim(&named).unwrap();
            second.release_claims().unwrap();
        });
        let t = Instant::now();
        while locks_of(&mut watch, waiter, false).is_empty() {
            assert!(
                t.elapsed() < Duration::from_secs(30),
                "the call never waits"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(locks_of(&mut watch, waiter, false), [middle]);
        let before: Vec<i64> = all.iter().copied().filter(|k| *k < middle).collect();
        assert_eq!(
            locks_of(&mut watch, waiter, true),
            before,
            "waiting, it holds exactly the claims ordered before"
        );
        watch
            .execute("SELECT pg_advisory_unlock($1)", &[&middle])
            .unwrap();
        claimer.join().unwrap();
        assert!(
            locks_of(&mut watch, waiter, true).is_empty(),
            "the claims were all let go"
        );
    }
}
