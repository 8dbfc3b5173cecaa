//! The store's conformance suite: what every SQL database the store runs on
//! must do, written once against [`Store`] and run by
//! [`store_conformance_tests!`](crate::store_conformance_tests) on SQLite in
//! the core and on PostgreSQL in the server. Each test is handed a way to
//! open one database; opening it again reaches the same data, as a restart
//! does.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::log;
use super::quarantine::{self, Refused};
use super::sql::Backend;
use super::write::{Rows, Write};
use super::{DocKind, OrderFilter, Store, stock_doc_id};
use crate::model::{Status, WorkOrder};
use crate::policy::Policy;
use automerge::{AutoCommit, ChangeHash};
use std::collections::BTreeMap;

/// Opens one database, the same one at every call.
pub type Open<'a> = &'a dyn Fn() -> Box<dyn Backend>;

/// Where a test's database lives, for as long as the value lives.
pub trait Place {
    /// Open the database (again).
    fn open(&self) -> Box<dyn Backend>;
}

/// An SQLite file in a temporary folder.
#[derive(Debug)]
pub struct SqliteFile(tempfile::TempDir);

impl SqliteFile {
    pub fn new() -> SqliteFile {
        SqliteFile(tempfile::tempdir().unwrap())
    }
}

impl Default for SqliteFile {
    fn default() -> SqliteFile {
        SqliteFile::new()
    }
}

impl Place for SqliteFile {
    fn open(&self) -> Box<dyn Backend> {
        Box::new(super::sql::SqliteBackend::open(&self.0.path().join("store.db")).unwrap())
    }
}

/// Run the suite: one `#[test]` per check, each on a fresh database from
/// `$open` (an expression giving something callable as
/// `Fn() -> Box<dyn Backend>` that opens the same database at every call).
#[macro_export]
macro_rules! store_conformance_tests {
    ($fresh:expr) => {
        $crate::store_conformance_tests!(@each $fresh;
            documents_and_rows_survive_a_restart,
            an_order_written_many_times_is_stored_whole_and_read_back_whole,
            a_server_logs_pushed_changes_and_plans_pulls_by_grant,
            the_outbox_keeps_order_and_forgets_what_was_acknowledged,
            refused_changes_are_kept_in_the_quarantine_until_discarded,
            van_stock_levels_and_meta_are_kept,
            many_documents_written_in_one_call_are_each_stored_logged_and_listed,
        );
    };
    (@each $fresh:expr; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                use $crate::store::conformance::Place as _;
                let place = $fresh;
                $crate::store::conformance::$name(&|| place.open());
            }
        )*
    };
}

fn open(place: Open<'_>, server: bool) -> Store {
    let mut s = Store::open_backend(place(), Policy::default()).unwrap();
    if server {
        s.keep_grants();
    }
    s
}

/// Run `f` holding the database, as every call of the facade does.
fn held<T>(s: &mut Store, f: impl FnOnce(&mut Store) -> T) -> T {
    s.enter().unwrap();
    let out = f(s);
    s.leave();
    out
}

fn order(n: u32, assignee: Option<&str>) -> WorkOrder {
    let mut o = WorkOrder::from_intake(
        format!("wo-conformance-{n}"),
        1_790_000_000_000 + i64::from(n),
        "desk".into(),
        crate::samples::intake(n),
    );
    o.assignee = assignee.map(str::to_string);
    o
}

/// Write `o` as one change made by `origin` (the server logs it; a phone's
/// own change goes to its outbox); returns the document's heads.
fn write(s: &mut Store, o: &WorkOrder, origin: &str) -> Vec<ChangeHash> {
    held(s, |s| {
        if !s.contains(&o.id).unwrap() {
            s.insert_new(&o.id, AutoCommit::new());
        }
        let doc = s.doc(&o.id).unwrap();
        let before = doc.get_heads();
        autosurgeon::reconcile(doc, o).unwrap();
        doc.commit();
        let after = doc.get_heads();
        s.persist(
            &[Write {
                doc_id: &o.id,
                kind: DocKind::WorkOrder,
                heads_before: before,
                rows: Rows::Order { now: o, was: None },
                compact: false,
                origin: Some(origin),
                encoded: None,
            }],
            &[],
        )
        .unwrap();
        after
    })
}

pub fn documents_and_rows_survive_a_restart(place: Open<'_>) {
    let mut s = open(place, false);
    let a = order(1, Some("eng-a"));
    let heads = write(&mut s, &a, "dev-1");
    write(&mut s, &order(2, None), "dev-1");
    drop(s);

    let mut s = open(place, false);
    held(&mut s, |s| {
        assert_eq!(s.doc(&a.id).unwrap().get_heads(), heads);
        let back: WorkOrder = crate::model::read::hydrate(s.doc(&a.id).unwrap()).unwrap();
        assert_eq!(back, a);
        let mine = s
            .list_orders(
                &OrderFilter {
                    assignee: Some("eng-a".into()),
                    ..OrderFilter::default()
                },
                0,
            )
            .unwrap();
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0].id, a.id);
        assert_eq!(mine[0].status, Status::Received);
        let mut ids = s.doc_ids(DocKind::WorkOrder).unwrap();
        ids.sort();
        assert_eq!(ids, ["wo-conformance-1", "wo-conformance-2"]);
    });
}

pub fn an_order_written_many_times_is_stored_whole_and_read_back_whole(place: Open<'_>) {
    let mut s = open(place, false);
    let mut o = order(3, Some("eng-a"));
    let mut heads = Vec::new();
    for i in 0..150 {
        o.intake.fault.symptoms = format!("symptom {i}");
        heads = write(&mut s, &o, "dev-1");
    }
    let chunks = held(&mut s, |s| {
        s.db()
            .query(
                "SELECT COUNT(*) FROM doc_chunks WHERE doc_id = ?1",
                &[super::sql::Param::Text(&o.id)],
            )
            .unwrap()[0]
            .int(0)
            .unwrap()
    });
    // An order is stored whole on every write (docs.rs, `stored_whole`).
    assert_eq!(chunks, 0, "{chunks} chunks left of 150 changes");
    drop(s);
    let mut s = open(place, false);
    held(&mut s, |s| {
        let doc = s.doc(&o.id).unwrap();
        assert_eq!(doc.get_heads(), heads);
        assert_eq!(doc.get_changes(&[]).len(), 150);
        let back: WorkOrder = crate::model::read::hydrate(doc).unwrap();
        assert_eq!(back.intake.fault.symptoms, "symptom 149");
    });
}

pub fn a_server_logs_pushed_changes_and_plans_pulls_by_grant(place: Open<'_>) {
    let mut s = open(place, true);
    let mine = order(4, Some("eng-a"));
    let theirs = order(5, Some("eng-b"));
    write(&mut s, &mine, "dev-a");
    write(&mut s, &theirs, "dev-b");
    held(&mut s, |s| {
        let plan = log::plan_pull(s.db(), "eng-a", "dev-a2", 0, 100).unwrap();
        assert_eq!(plan.whole, [mine.id.as_str()], "granted orders go whole");
        assert!(plan.changes.iter().all(|c| c.doc_id == mine.id));
        assert!(!plan.more);
        assert!(log::granted_now(s.db(), &mine.id, "eng-a").unwrap());
        assert!(!log::granted_now(s.db(), &theirs.id, "eng-a").unwrap());
    });
    // Reassigned away: the next pull removes it, and it was once granted.
    let cursor = held(&mut s, |s| {
        log::plan_pull(s.db(), "eng-a", "dev-a2", 0, 100)
            .unwrap()
            .cursor
    });
    let mut moved = mine.clone();
    moved.assignee = Some("eng-b".into());
    write(&mut s, &moved, "desk");
    drop(s);
    let mut s = open(place, true);
    held(&mut s, |s| {
        let plan = log::plan_pull(s.db(), "eng-a", "dev-a2", cursor, 100).unwrap();
        assert_eq!(plan.removed, [mine.id.as_str()]);
        assert!(log::ever_granted(s.db(), &mine.id, "eng-a").unwrap());
        assert!(!log::granted_now(s.db(), &mine.id, "eng-a").unwrap());
        assert!(log::max_seq(s.db()).unwrap() >= 3);
    });
}

pub fn the_outbox_keeps_order_and_forgets_what_was_acknowledged(place: Open<'_>) {
    let mut s = open(place, false);
    let mut o = order(6, Some("eng-a"));
    for i in 0..5 {
        o.intake.fault.symptoms = format!("symptom {i}");
        write(&mut s, &o, "dev-a");
    }
    drop(s);
    let mut s = open(place, false);
    held(&mut s, |s| {
        assert_eq!(log::pending(s.db()).unwrap(), 5);
        let out = log::oldest(s.db(), usize::MAX).unwrap();
        let seqs: Vec<i64> = out.iter().map(|c| c.seq).collect();
        let mut sorted = seqs.clone();
        sorted.sort_unstable();
        assert_eq!(seqs, sorted, "oldest first");
        log::delete(s.db(), &seqs[..3]).unwrap();
        assert_eq!(log::pending(s.db()).unwrap(), 2);
        assert_eq!(log::pending_for(s.db(), &o.id).unwrap(), 2);
        assert_eq!(log::oldest(s.db(), 1).unwrap()[0].seq, seqs[3]);
    });
}

pub fn refused_changes_are_kept_in_the_quarantine_until_discarded(place: Open<'_>) {
    let mut s = open(place, false);
    let o = order(7, Some("eng-a"));
    write(&mut s, &o, "dev-a");
    held(&mut s, |s| {
        let entry = log::oldest(s.db(), usize::MAX).unwrap().remove(0);
        let touched = vec!["intake".to_string()];
        quarantine::quarantine(
            s.db(),
            &[Refused {
                seq: entry.seq,
                reason: "the intake is the desk's",
                intent: "intake",
                touched: &touched,
                made_at_ms: 1,
            }],
            2,
        )
        .unwrap();
        assert_eq!(log::pending(s.db()).unwrap(), 0, "it left the outbox");
    });
    drop(s);
    let mut s = open(place, false);
    held(&mut s, |s| {
        let kept = quarantine::list(s.db()).unwrap();
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].reason, "the intake is the desk's");
        assert_eq!(kept[0].touched, ["intake"]);
        assert!(
            !quarantine::bytes_of(s.db(), kept[0].id)
                .unwrap()
                .unwrap()
                .is_empty()
        );
        assert!(quarantine::discard(s.db(), kept[0].id).unwrap());
        assert!(quarantine::list(s.db()).unwrap().is_empty());
    });
}

pub fn van_stock_levels_and_meta_are_kept(place: Open<'_>) {
    let mut s = open(place, false);
    let id = stock_doc_id("eng-a");
    held(&mut s, |s| {
        s.insert_new(&id, AutoCommit::new());
        let doc = s.doc(&id).unwrap();
        let stock = crate::model::VanStock {
            engineer: "eng-a".into(),
            counts: BTreeMap::new(),
            ledger: vec![],
        };
        autosurgeon::reconcile(doc, &stock).unwrap();
        doc.commit();
        let levels = BTreeMap::from([("RLY".to_string(), 3), ("FAN".to_string(), 0)]);
        s.persist(
            &[Write {
                doc_id: &id,
                kind: DocKind::VanStock,
                heads_before: vec![],
                rows: Rows::Stock {
                    engineer: "eng-a",
                    levels: &levels,
                },
                compact: false,
                origin: None,
                encoded: None,
            }],
            &[("sync_cursor", "42")],
        )
        .unwrap();
    });
    drop(s);
    let mut s = open(place, false);
    held(&mut s, |s| {
        let mut levels = s.stock_levels("eng-a").unwrap();
        levels.sort();
        assert_eq!(levels, [("FAN".to_string(), 0), ("RLY".to_string(), 3)]);
        assert!(s.stock_levels("eng-b").unwrap().is_empty());
        assert_eq!(s.meta("sync_cursor").unwrap().as_deref(), Some("42"));
        assert_eq!(s.meta("nothing").unwrap(), None);
        assert!(s.contains(&id).unwrap());
        assert_eq!(s.doc_ids(DocKind::VanStock).unwrap(), [id.as_str()]);
    });
}

/// Orders changed in memory and written by one call, as the server's group
/// commit writes a wave of pushes: ten already stored, a new one, and one
/// changed twice in the same call (its row and grant as the second change
/// left them). Each is stored, listed and logged once per change.
pub fn many_documents_written_in_one_call_are_each_stored_logged_and_listed(place: Open<'_>) {
    let mut s = open(place, true);
    let mut orders: Vec<WorkOrder> = (20..30).map(|n| order(n, Some("eng-a"))).collect();
    for o in &orders {
        write(&mut s, o, "desk");
    }
    let fresh = order(30, Some("eng-b"));
    let mut twice = orders[0].clone();
    twice.assignee = Some("eng-c".into());
    twice.intake.fault.symptoms = "changed twice".into();
    let heads = held(&mut s, |s| {
        s.insert_new(&fresh.id, AutoCommit::new());
        let change = |s: &mut Store, o: &WorkOrder| {
            let doc = s.doc(&o.id).unwrap();
            let before = doc.get_heads();
            autosurgeon::reconcile(doc, o).unwrap();
            doc.commit();
            let encoded = super::Encoded::of(doc, &before, DocKind::WorkOrder);
            (before, encoded)
        };
        let mut done = Vec::new();
        for o in &mut orders {
            o.intake.fault.symptoms = format!("pushed to {}", o.id);
            done.push((o.clone(), change(s, o)));
        }
        done.push((fresh.clone(), change(s, &fresh)));
        done.push((twice.clone(), change(s, &twice)));
        let writes: Vec<Write<'_>> = done
            .iter()
            .map(|(o, (before, encoded))| Write {
                doc_id: &o.id,
                kind: DocKind::WorkOrder,
                heads_before: before.clone(),
                rows: Rows::Order { now: o, was: None },
                compact: false,
                origin: Some("dev-x"),
                encoded: Some(encoded),
            })
            .collect();
        s.persist(&writes, &[]).unwrap();
        done.iter()
            .map(|(o, _)| (o.id.clone(), s.doc(&o.id).unwrap().get_heads()))
            .collect::<BTreeMap<_, _>>()
    });
    drop(s);

    let mut s = open(place, true);
    held(&mut s, |s| {
        for o in orders.iter().skip(1).chain([&fresh, &twice]) {
            let doc = s.doc(&o.id).unwrap();
            assert_eq!(doc.get_heads(), heads[&o.id], "{}", o.id);
            let back: WorkOrder = crate::model::read::hydrate(doc).unwrap();
            assert_eq!(&back, o, "{}", o.id);
        }
        let listed = |s: &mut Store, engineer: &str| -> Vec<String> {
            let filter = OrderFilter {
                assignee: Some(engineer.into()),
                ..OrderFilter::default()
            };
            let mut ids: Vec<String> = s
                .list_orders(&filter, 0)
                .unwrap()
                .into_iter()
                .map(|r| r.id)
                .collect();
            ids.sort();
            ids
        };
        let mut mine: Vec<String> = orders[1..].iter().map(|o| o.id.clone()).collect();
        mine.sort();
        assert_eq!(listed(s, "eng-a"), mine);
        assert_eq!(listed(s, "eng-b"), [fresh.id.as_str()]);
        assert_eq!(listed(s, "eng-c"), [twice.id.as_str()]);
        // Ten pushes, the new order and one more change to the first: each
        // change logged once.
        let logged = s
            .db()
            .query(
                "SELECT COUNT(*), COUNT(DISTINCT hash) FROM changes WHERE origin = ?1",
                &[super::sql::Param::Text("dev-x")],
            )
            .unwrap();
        assert_eq!(logged[0].int(0).unwrap(), 12);
        assert_eq!(logged[0].int(1).unwrap(), 12);
        let plan = log::plan_pull(s.db(), "eng-c", "dev-c", 0, 100).unwrap();
        assert_eq!(plan.whole, [twice.id.as_str()], "the grant moved with it");
    });
}
