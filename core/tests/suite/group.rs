//! The server's group commit with requests of every kind in one group:
//! phones pushing their own orders (applied on every core at once), a
//! request that touches an order an earlier one of the same group wrote
//! (applied after it), a forbidden one (nothing of it kept) and unreadable
//! bytes beside a good document (each document answered on its own).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use common::*;
use fieldwork_core::sync::group::{PushRequest, Pushed};
use fieldwork_core::sync::server::PushRefusal;
use fieldwork_core::{Config, Fieldwork, ManualClock, ServerStore};

/// A phone of `engineer` holding `ids` as the server has them.
fn phone_with(server: &ServerStore, engineer: &str, ids: &[String]) -> Device {
    let d = device(engineer);
    for id in ids {
        let bytes = server.export_changes(id, &[]).unwrap();
        d.fw.import_changes(id, &bytes).unwrap();
    }
    d
}

/// What `phone` changed on `id` since the server's copy.
fn changes(server: &ServerStore, phone: &Fieldwork, id: &str) -> (String, Vec<u8>) {
    let since = server.heads(id).unwrap();
    (id.to_string(), phone.export_changes(id, &since).unwrap())
}

fn request(phone: &Fieldwork, engineer: &str, docs: Vec<(String, Vec<u8>)>) -> PushRequest {
    PushRequest {
        device_id: phone.device_id(),
        engineer: engineer.to_string(),
        key: None,
        docs: docs
            .into_iter()
            .map(|(id, bytes)| Pushed::read(id, &bytes))
            .collect(),
        pull: None,
    }
}

fn server_in(dir: &std::path::Path) -> ServerStore {
    ServerStore::open(
        dir.join("server.db"),
        Config {
            clock: ManualClock::new(T0),
            ..Config::new("server")
        },
    )
    .unwrap()
}

/// `n` new orders assigned to `engineer`.
fn orders(server: &ServerStore, engineer: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|k| {
            let id = server
                .desk()
                .create_order(intake(&format!("{engineer} {k}"), &format!("S{k}")))
                .unwrap();
            server.desk().assign(&id, engineer).unwrap();
            id
        })
        .collect()
}

fn notes(server: &ServerStore, id: &str) -> Vec<String> {
    let o = server.order(id).unwrap().order;
    o.repair_notes.into_iter().map(|n| n.text).collect()
}

#[test]
fn one_group_answers_each_request_as_if_it_had_been_alone() {
    let dir = tempfile::tempdir().unwrap();
    let server = server_in(dir.path());
    let mine = orders(&server, "eng-a", 6);
    let theirs = orders(&server, "eng-b", 5);

    // Phone A edits five of its orders; phone B all of its own.
    let a = phone_with(&server, "eng-a", &mine);
    for id in &mine[..5] {
        a.fw.accept(id).unwrap();
        a.fw.add_note(id, &format!("A on {id}")).unwrap();
    }
    let b = phone_with(&server, "eng-b", &theirs);
    for id in &theirs {
        b.fw.add_note(id, &format!("B on {id}")).unwrap();
    }
    // A second phone of engineer A writes to an order phone A also pushes.
    let a2 = phone_with(&server, "eng-a", &mine[..1]);
    a2.fw.add_note(&mine[0], "A2 on the first").unwrap();
    // Phone B's engineer writes to an order of A's (forbidden), with one of
    // B's own beside it: nothing of that request may be kept.
    let b2 = phone_with(&server, "eng-b", &[mine[5].clone(), theirs[0].clone()]);
    b2.fw.add_note(&mine[5], "B2 where it may not").unwrap();
    b2.fw.add_note(&theirs[0], "B2 on its own").unwrap();
    // Phone A3: one push of bytes that are not changes, one good.
    let a3 = phone_with(&server, "eng-a", &mine[5..6]);
    a3.fw.add_note(&mine[5], "A3 on the last").unwrap();

    let requests = vec![
        request(
            &a.fw,
            "eng-a",
            mine[..5]
                .iter()
                .map(|id| changes(&server, &a.fw, id))
                .collect(),
        ),
        request(
            &b.fw,
            "eng-b",
            theirs
                .iter()
                .map(|id| changes(&server, &b.fw, id))
                .collect(),
        ),
        request(&a2.fw, "eng-a", vec![changes(&server, &a2.fw, &mine[0])]),
        request(
            &b2.fw,
            "eng-b",
            vec![
                changes(&server, &b2.fw, &theirs[0]),
                changes(&server, &b2.fw, &mine[5]),
            ],
        ),
        request(
            &a3.fw,
            "eng-a",
            vec![
                (mine[1].clone(), b"not automerge at all".to_vec()),
                changes(&server, &a3.fw, &mine[5]),
            ],
        ),
    ];
    let applied = server.apply_as_one_group(requests);

    assert_eq!(applied.len(), 5);
    for r in &applied {
        assert_eq!(r.group, 5, "all five were committed as one group");
    }
    // Phones A and B: every document taken.
    assert_eq!(applied[0].answers.len(), 5);
    assert!(
        applied[0].answers.iter().all(Result::is_ok),
        "{:?}",
        applied[0].answers
    );
    assert_eq!(applied[1].answers.len(), 5);
    assert!(
        applied[1].answers.iter().all(Result::is_ok),
        "{:?}",
        applied[1].answers
    );
    for id in &mine[1..5] {
        assert_eq!(notes(&server, id), vec![format!("A on {id}")]);
        assert_eq!(
            server.order(id).unwrap().status,
            fieldwork_core::model::Status::Accepted
        );
    }
    // A2 after A on the same order: both notes kept.
    assert!(
        applied[2].answers.iter().all(Result::is_ok),
        "{:?}",
        applied[2].answers
    );
    let first = notes(&server, &mine[0]);
    assert_eq!(first.len(), 2, "{first:?}");
    assert!(first.contains(&format!("A on {}", mine[0])));
    assert!(first.contains(&"A2 on the first".to_string()));
    // B2: forbidden on A's order, so its own order's note is not kept either.
    assert_eq!(applied[3].forbidden.len(), 1);
    assert_eq!(applied[3].forbidden[0].0, mine[5]);
    assert!(applied[3].answers.is_empty());
    assert_eq!(
        notes(&server, &theirs[0]),
        vec![format!("B on {}", theirs[0])]
    );
    // A3: the unreadable push refused, the good one beside it taken.
    assert!(
        matches!(applied[4].answers[0], Err(PushRefusal::Refused(_))),
        "{:?}",
        applied[4].answers[0]
    );
    assert!(applied[4].answers[1].is_ok(), "{:?}", applied[4].answers[1]);
    assert_eq!(notes(&server, &mine[5]), vec!["A3 on the last".to_string()]);
    assert_eq!(notes(&server, &mine[1]), vec![format!("A on {}", mine[1])]);

    // Every order is stored whole (a snapshot, no chunks after it), and a
    // server opened afresh on the file reads what the group wrote.
    drop(server);
    let db = rusqlite::Connection::open(dir.path().join("server.db")).unwrap();
    let chunks: i64 = db
        .query_row("SELECT COUNT(*) FROM doc_chunks", [], |r| r.get(0))
        .unwrap();
    assert_eq!(chunks, 0);
    drop(db);
    let server = server_in(dir.path());
    assert_eq!(notes(&server, &mine[0]).len(), 2);
    assert_eq!(notes(&server, &mine[1]), vec![format!("A on {}", mine[1])]);
    assert_eq!(
        notes(&server, &theirs[0]),
        vec![format!("B on {}", theirs[0])]
    );
}

#[test]
fn requests_queued_without_a_thread_each_are_committed_by_one_leader_in_one_group() {
    let dir = tempfile::tempdir().unwrap();
    let server = server_in(dir.path());
    let ids = orders(&server, "eng-a", 3);
    let phones: Vec<Device> = ids
        .iter()
        .map(|id| {
            let d = phone_with(&server, "eng-a", std::slice::from_ref(id));
            d.fw.add_note(id, "on my way").unwrap();
            d
        })
        .collect();
    let (tx, rx) = std::sync::mpsc::channel();
    let mut leads = Vec::new();
    for (d, id) in phones.iter().zip(&ids) {
        let tx = tx.clone();
        let id2 = id.clone();
        leads.push(server.submit(
            request(&d.fw, "eng-a", vec![changes(&server, &d.fw, id)]),
            Box::new(move |a| tx.send((id2, a)).unwrap()),
        ));
    }
    assert_eq!(leads, vec![true, false, false], "the first to queue leads");
    assert!(
        rx.try_recv().is_err(),
        "nothing is answered before a commit"
    );
    assert!(
        !server.lead_one(),
        "one group took all three: nothing waits"
    );
    let answers: Vec<_> = rx.try_iter().collect();
    assert_eq!(answers.len(), 3);
    for (id, a) in &answers {
        assert_eq!(a.group, 3);
        assert!(a.answers.iter().all(Result::is_ok), "{:?}", a.answers);
        assert_eq!(notes(&server, id), vec!["on my way".to_string()]);
    }
    // The lead was given up: the next request to queue leads again.
    let d = &phones[0];
    d.fw.add_note(&ids[0], "arrived").unwrap();
    let tx2 = tx.clone();
    assert!(server.submit(
        request(&d.fw, "eng-a", vec![changes(&server, &d.fw, &ids[0])]),
        Box::new(move |a| tx2.send((String::new(), a)).unwrap()),
    ));
    assert!(!server.lead_one());
    let (_, a) = rx.try_recv().unwrap();
    assert_eq!(a.group, 1);
    assert!(a.answers.iter().all(Result::is_ok));
    assert_eq!(notes(&server, &ids[0]).len(), 2);
}

#[test]
fn a_server_just_started_refuses_what_only_the_desk_decides_and_takes_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let ids = orders(&server_in(dir.path()), "eng-a", 3);
    // Started again: it holds no order in memory, so the order as it was
    // before each push is read back from the document.
    let server = server_in(dir.path());
    let a = phone_with(&server, "eng-a", &ids);
    a.fw.accept(&ids[0]).unwrap();
    a.fw.add_note(&ids[0], "on my way").unwrap();
    // The facade lets a phone call these, but they are the desk's to make.
    a.fw.desk().assign(&ids[1], "eng-b").unwrap();
    a.fw.desk()
        .register_complaint(
            &ids[2],
            "came late",
            fieldwork_core::model::ComplaintCategory::Timeliness,
            false,
        )
        .unwrap();

    let docs = ids.iter().map(|id| changes(&server, &a.fw, id)).collect();
    let applied = server.apply_as_one_group(vec![request(&a.fw, "eng-a", docs)]);
    let answers = &applied[0].answers;
    assert!(answers[0].is_ok(), "{answers:?}");
    let refused = |i: usize, why: &str| matches!(&answers[i], Err(PushRefusal::Refused(r)) if r.contains(why));
    assert!(refused(1, "the desk assigns orders"), "{answers:?}");
    assert!(
        refused(2, "complaints are handled by the desk"),
        "{answers:?}"
    );

    assert_eq!(notes(&server, &ids[0]), vec!["on my way".to_string()]);
    assert_eq!(
        server.order(&ids[0]).unwrap().status,
        fieldwork_core::model::Status::Accepted
    );
    let kept = server.order(&ids[1]).unwrap().order;
    assert_eq!(kept.assignee.as_deref(), Some("eng-a"));
    assert!(server.order(&ids[2]).unwrap().order.complaints.is_empty());
}

/// A group larger than two waves of documents (each wave is applied while
/// the one before it is written): every document's answer lands in its own
/// request at its own place, refusals among them included, and each
/// accepted push is stored.
#[test]
fn a_group_of_several_waves_answers_every_document_in_its_place() {
    several_waves(None);
}

/// The same with a cache of 16 decoded documents, the fewest a store keeps:
/// documents are dropped from memory all through the group, and every one
/// is still stored and answered as with room for all.
#[test]
fn a_group_larger_than_the_document_cache_answers_and_stores_every_document() {
    several_waves(Some(16));
}

fn several_waves(cached_documents: Option<usize>) {
    let dir = tempfile::tempdir().unwrap();
    let server = server_in(dir.path());
    if let Some(n) = cached_documents {
        server.share_cached_documents(std::sync::Arc::new(n.into()));
    }
    let mut requests = Vec::new();
    let mut expected = Vec::new();
    let mut n = 0usize;
    for engineer in ["eng-a", "eng-b", "eng-c"] {
        let ids = orders(&server, engineer, 50);
        for five in ids.chunks(5) {
            // One phone per request, as in the morning's burst.
            let phone = phone_with(&server, engineer, five);
            let mut docs = Vec::new();
            let mut good = Vec::new();
            for id in five {
                phone.fw.add_note(id, &format!("note on {id}")).unwrap();
                n += 1;
                if n.is_multiple_of(7) {
                    docs.push((id.clone(), b"not automerge at all".to_vec()));
                    good.push((id.clone(), false));
                } else {
                    docs.push(changes(&server, &phone.fw, id));
                    good.push((id.clone(), true));
                }
            }
            requests.push(request(&phone.fw, engineer, docs));
            expected.push(good);
        }
    }
    assert_eq!(n, 150, "more than two waves of 64");
    let applied = server.apply_as_one_group(requests);
    assert_eq!(applied.len(), expected.len());
    for (r, good) in applied.iter().zip(&expected) {
        assert_eq!(r.group, expected.len());
        assert_eq!(r.answers.len(), good.len());
        for (answer, (id, ok)) in r.answers.iter().zip(good) {
            if *ok {
                assert!(answer.is_ok(), "{id}: {answer:?}");
                assert_eq!(notes(&server, id), vec![format!("note on {id}")]);
            } else {
                assert!(
                    matches!(answer, Err(PushRefusal::Refused(_))),
                    "{id}: {answer:?}"
                );
                assert!(notes(&server, id).is_empty(), "{id}");
            }
        }
    }
}

/// A wave's documents are written together, a statement per table for all
/// of them. One the database refuses (here a trigger refuses its change
/// log entries) fails alone: the rest of its wave is stored, and it is
/// taken once the database takes it again.
#[test]
fn a_document_the_database_refuses_fails_alone_and_the_rest_of_its_wave_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let server = server_in(dir.path());
    let ids = orders(&server, "eng-a", 10);
    let bad = ids[3].clone();
    let phones: Vec<Device> = ids
        .chunks(5)
        .map(|five| {
            let phone = phone_with(&server, "eng-a", five);
            for id in five {
                phone.fw.add_note(id, &format!("note on {id}")).unwrap();
            }
            phone
        })
        .collect();
    let requests = |server: &ServerStore, only: Option<&str>| {
        phones
            .iter()
            .zip(ids.chunks(5))
            .map(|(phone, five)| {
                let docs = five
                    .iter()
                    .filter(|id| only.is_none_or(|o| o == id.as_str()))
                    .map(|id| changes(server, &phone.fw, id))
                    .collect();
                request(&phone.fw, "eng-a", docs)
            })
            .collect::<Vec<_>>()
    };
    let db = rusqlite::Connection::open(dir.path().join("server.db")).unwrap();
    db.execute_batch(&format!(
        "CREATE TRIGGER refuse_one BEFORE INSERT ON changes WHEN NEW.doc_id = '{bad}'
         BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
    ))
    .unwrap();

    let applied = server.apply_as_one_group(requests(&server, None));
    let answers: Vec<_> = applied.iter().flat_map(|a| a.answers.iter()).collect();
    assert_eq!(answers.len(), 10);
    for (id, answer) in ids.iter().zip(&answers) {
        if *id == bad {
            assert!(
                matches!(answer, Err(PushRefusal::Store(_))),
                "{id}: {answer:?}"
            );
            assert!(notes(&server, id).is_empty(), "nothing of it is kept");
        } else {
            assert!(answer.is_ok(), "{id}: {answer:?}");
            assert_eq!(notes(&server, id), vec![format!("note on {id}")]);
        }
    }

    // Taken once the database takes it; a server opened afresh on the
    // file holds every note.
    db.execute_batch("DROP TRIGGER refuse_one").unwrap();
    let again = server.apply_as_one_group(requests(&server, Some(&bad)));
    assert!(
        again.iter().flat_map(|a| &a.answers).all(Result::is_ok),
        "{again:?}"
    );
    drop(server);
    let server = server_in(dir.path());
    for id in &ids {
        assert_eq!(notes(&server, id), vec![format!("note on {id}")]);
    }
}

/// Apply `r` alone; every document of it must be taken.
fn push_taken(server: &ServerStore, r: PushRequest) {
    let applied = server.apply_together(r);
    assert!(applied.forbidden.is_empty(), "{:?}", applied.forbidden);
    assert!(
        applied.answers.iter().all(Result::is_ok),
        "{:?}",
        applied.answers
    );
}

/// The photos the server lists for `id` (its rows, read from its file).
fn photo_rows(dir: &std::path::Path, id: &str) -> Vec<String> {
    let db = rusqlite::Connection::open(dir.join("server.db")).unwrap();
    let mut q = db
        .prepare("SELECT photo_id FROM photos WHERE order_id = ?1 ORDER BY photo_id")
        .unwrap();
    q.query_map([id], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn a_push_that_leaves_photos_and_assignee_alone_keeps_their_rows_and_the_desk_still_moves_grants() {
    // A device's push is compared with the order as it was; its rows are
    // then replaced from that, not read back: what they list must not drift.
    let dir = tempfile::tempdir().unwrap();
    let server = server_in(dir.path());
    let ids = orders(&server, "eng-a", 1);
    let id = &ids[0];
    let a = phone_with(&server, "eng-a", &ids);
    a.fw.accept(id).unwrap();
    let plate = a.dir.path().join("plate.jpg");
    std::fs::write(&plate, [0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3]).unwrap();
    let photo =
        a.fw.attach_photo(
            id,
            &plate,
            fieldwork_core::model::PhotoKind::SerialPlate,
            None,
        )
        .unwrap();
    let pull = |phone: &Fieldwork, engineer: &str, cursor: i64| {
        let r = PushRequest {
            pull: Some(fieldwork_core::sync::group::Pull { cursor, limit: 100 }),
            ..request(phone, engineer, Vec::new())
        };
        server.apply_together(r).pulled.unwrap().unwrap()
    };
    // Where engineer A's phone stands once it holds the order.
    let cursor = pull(&a.fw, "eng-a", 0).cursor;
    let push = || {
        let r = request(&a.fw, "eng-a", vec![changes(&server, &a.fw, id)]);
        push_taken(&server, r);
    };
    push();
    assert_eq!(
        photo_rows(dir.path(), id),
        [photo.id.as_str()],
        "the photo pushed is listed"
    );

    // A note: the photos as they were, still listed.
    a.fw.add_note(id, "checked the relay").unwrap();
    push();
    assert_eq!(photo_rows(dir.path(), id), [photo.id.as_str()]);
    assert_eq!(notes(&server, id), ["checked the relay"]);
    // Its assignee as it was: the grant did not move, so A's phone is not
    // sent the order whole again.
    let since = pull(&a.fw, "eng-a", cursor);
    assert!(since.whole.is_empty(), "{:?}", since.whole);

    // The desk moves the order: engineer B's phone gets it whole, A's
    // loses it.
    server.desk().assign(id, "eng-b").unwrap();
    assert_eq!(pull(&device("eng-b").fw, "eng-b", 0).whole, [id.as_str()]);
    let a_pull = pull(&a.fw, "eng-a", 0);
    assert!(a_pull.whole.is_empty(), "{:?}", a_pull.whole);
    assert_eq!(a_pull.removed, [id.as_str()]);
    assert_eq!(photo_rows(dir.path(), id), [photo.id.as_str()]);
}

#[test]
fn a_push_repeating_what_the_server_holds_logs_each_new_change_once_after_what_it_needs() {
    let dir = tempfile::tempdir().unwrap();
    let server = server_in(dir.path());
    let ids = orders(&server, "eng-a", 1);
    let id = &ids[0];
    let phone = phone_with(&server, "eng-a", &ids);
    let push = |bytes: Vec<u8>| {
        push_taken(
            &server,
            request(&phone.fw, "eng-a", vec![(id.clone(), bytes)]),
        );
    };
    phone.fw.add_note(id, "first").unwrap();
    let (_, first) = changes(&server, &phone.fw, id);
    push(first.clone());
    // A second phone of the engineer holds the order as it is now.
    let cursor = server.log_position().unwrap();
    let other = phone_with(&server, "eng-a", &ids);

    // Two more notes, pushed out of order, with the first (which the
    // server holds) again between them, as a phone retrying a lost answer
    // might.
    let at_second = phone.fw.heads(id).unwrap();
    phone.fw.add_note(id, "second").unwrap();
    let second = phone.fw.export_changes(id, &at_second).unwrap();
    let at_third = phone.fw.heads(id).unwrap();
    phone.fw.add_note(id, "third").unwrap();
    let third = phone.fw.export_changes(id, &at_third).unwrap();
    push([third, first, second].concat());
    assert_eq!(notes(&server, id), ["first", "second", "third"]);

    // The other phone pulls one change at a time: two changes, the first
    // not again, and never one before the change it needs.
    let (mut at, mut pulled) = (cursor, 0);
    loop {
        let plan = server
            .pull_plan("eng-a", &other.fw.device_id(), at, 1)
            .unwrap();
        for c in &plan.changes {
            let outcome = other.fw.import_changes(&c.doc_id, &c.bytes).unwrap();
            assert!(outcome.changed, "change {} was new to the phone", c.seq);
            assert!(
                !outcome.waiting_for_deps,
                "change {} came before one it needs",
                c.seq
            );
            pulled += 1;
        }
        at = plan.cursor;
        if !plan.more {
            break;
        }
        assert!(pulled < 10, "the pull goes on");
    }
    assert_eq!(pulled, 2, "the two new notes, each once");
    let held: Vec<String> = other
        .fw
        .order(id)
        .unwrap()
        .order
        .repair_notes
        .into_iter()
        .map(|n| n.text)
        .collect();
    assert_eq!(held, ["first", "second", "third"]);
}
