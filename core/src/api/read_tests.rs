//! The memoising reader (`model::read`) reads every document as
//! `autosurgeon` reading the document directly does: orders, conflicts,
//! concurrent inserts, orders as they were at earlier heads, counters.
#![allow(clippy::unwrap_used)]
// autosurgeon reading the document directly is what the memo is checked
// against (clippy.toml forbids it elsewhere).
#![allow(clippy::disallowed_methods)]

use crate::model::read::hydrate;
use crate::model::{Note, StockCount, VanStock, WorkOrder};
use crate::rules::testing::*;
use automerge::{ActorId, AutoCommit};
use autosurgeon::{Counter, Hydrate, ReadDoc, reconcile};

fn doc_of<T: autosurgeon::Reconcile>(t: &T, actor: &[u8]) -> AutoCommit {
    let mut doc = AutoCommit::new().with_actor(ActorId::from(actor));
    reconcile(&mut doc, t).unwrap();
    doc
}

/// Read through the memo and straight from the document, the same.
fn both<T: Hydrate + PartialEq + std::fmt::Debug, D: ReadDoc>(doc: &D) -> T {
    let plain: T = autosurgeon::hydrate(doc).unwrap();
    let memo: T = hydrate(doc).unwrap();
    assert_eq!(memo, plain);
    memo
}

#[test]
fn an_order_reads_the_same_through_the_memo() {
    let mut o = visited_order(true);
    follow_up(&mut o);
    candidate_complaint(&mut o);
    assert_eq!(both::<WorkOrder, _>(&doc_of(&o, b"desk")), o);
}

#[test]
fn conflicts_and_concurrent_inserts_resolve_as_the_document_resolves_them() {
    let o = on_site_order();
    let mut desk = doc_of(&o, b"desk");
    let mut phone = desk.fork().with_actor(ActorId::from(b"phone".as_slice()));
    // Both change the same scalar, the same nested field, and append to
    // the same lists.
    let mut a = o.clone();
    a.assignee = Some("eng-b".into());
    a.intake.customer.name = "Desk's spelling".into();
    a.repair_notes.push(note("n-desk"));
    reconcile(&mut desk, &a).unwrap();
    let mut b = o.clone();
    b.assignee = Some("eng-c".into());
    b.intake.customer.name = "Phone's spelling".into();
    b.repair_notes.push(note("n-phone"));
    push_at(
        &mut b,
        crate::model::Status::InProgress,
        T0 + 60_000,
        "phone",
    );
    reconcile(&mut phone, &b).unwrap();
    desk.merge(&mut phone).unwrap();
    let merged: WorkOrder = both(&desk);
    assert_eq!(merged.repair_notes.len(), 2);
    // As the order was before the merge, too.
    let heads = phone.get_heads();
    let _: WorkOrder = both(&desk.fork_at(&heads).unwrap());
}

#[test]
fn counters_read_with_every_increment() {
    let mut stock = VanStock {
        engineer: "eng".into(),
        counts: Default::default(),
        ledger: Vec::new(),
    };
    stock.counts.insert(
        "relay@dev-1".into(),
        StockCount {
            on_hand: Counter::with_value(5),
        },
    );
    let mut one = doc_of(&stock, b"one");
    let mut two = one.fork().with_actor(ActorId::from(b"two".as_slice()));
    for (doc, by) in [(&mut one, -1), (&mut two, -2)] {
        let mut s: VanStock = hydrate(doc).unwrap();
        s.counts
            .get_mut("relay@dev-1")
            .unwrap()
            .on_hand
            .increment(by);
        reconcile(doc, &s).unwrap();
    }
    one.merge(&mut two).unwrap();
    let plain: VanStock = autosurgeon::hydrate(&one).unwrap();
    let memo: VanStock = hydrate(&one).unwrap();
    assert_eq!(memo.levels(), plain.levels());
    assert_eq!(memo.levels()["relay"], 2);
}

fn note(id: &str) -> Note {
    Note {
        id: id.into(),
        text: "relay replaced".into(),
        by: "eng".into(),
        at_ms: T0,
    }
}
