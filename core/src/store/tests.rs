#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::write::{Rows, Write};
use super::*;
use crate::rules::testing::visited_order;
use rusqlite::Connection;

fn schema(conn: &Connection) -> Vec<(String, String, String)> {
    let mut stmt = conn
        .prepare("SELECT type, name, COALESCE(sql, '') FROM sqlite_master ORDER BY type, name")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn a_store_from_a_newer_release_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    drop(Store::open(&path, Policy::default()).unwrap());
    let conn = Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    drop(conn);
    let err = Store::open(&path, Policy::default()).unwrap_err();
    assert!(
        matches!(err, StoreError::NewerSchema { found, supported } if found == SCHEMA_VERSION + 1 && supported == SCHEMA_VERSION)
    );
    assert!(err.to_string().contains("newer Fieldwork"), "{err}");
    // Refusing changed nothing.
    let conn = Connection::open(&path).unwrap();
    let v: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(v, SCHEMA_VERSION + 1);
}

/// Write an order the way a release with schema `version` stored it.
fn write_order_at(store: &mut Store, order: &WorkOrder, version: i64) {
    let mut doc = AutoCommit::new();
    autosurgeon::reconcile(&mut doc, order).unwrap();
    sql::in_transaction(store.db(), |db| -> Result<(), StoreError> {
        db.execute(
            "INSERT INTO documents (doc_id, kind, snapshot, chunk_count) VALUES (?1, 'work_order', ?2, 0)",
            params![&order.id, &doc.save()],
        )?;
        db.execute(
            "INSERT INTO orders (id, status, urgent, assignee, customer_name, created_at_ms, updated_at_ms)
             VALUES (?1, 'signed_off', 0, 'eng', ?2, ?3, ?3)",
            params![&order.id, &order.intake.customer.name, order.created_at_ms],
        )?;
        if version >= 2 {
            // From schema 2 on, releases wrote the rework columns with the row.
            let repaired = crate::rules::timeline::first_entered(order, crate::model::Status::Repaired);
            db.execute(
                "UPDATE orders SET serial = ?2, fault_code = ?3, fault_kind = 'hardware',
                     parts_replaced = 1, repaired_at_ms = ?4 WHERE id = ?1",
                params![
                    &order.id,
                    &order.intake.product.serial,
                    order.diagnosis.as_ref().map(|d| d.fault_code.as_str()),
                    repaired
                ],
            )?;
        }
        Ok(())
    })
    .unwrap();
}

#[test]
fn every_earlier_schema_upgrades_to_exactly_the_fresh_schema_with_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let fresh_path = dir.path().join("fresh.db");
    let mut fresh = Store::open(&fresh_path, Policy::default()).unwrap();
    let fresh_schema = schema(&Connection::open(&fresh_path).unwrap());
    assert_eq!(fresh.schema_version().unwrap(), SCHEMA_VERSION);
    const { assert!(SCHEMA_VERSION >= 2) };
    for old in 1..SCHEMA_VERSION {
        let path = dir.path().join(format!("v{old}.db"));
        let mut store = Store::open_at_version(&path, Policy::default(), old).unwrap();
        assert_eq!(store.schema_version().unwrap(), old);
        let order = visited_order(false);
        write_order_at(&mut store, &order, old);
        drop(store);

        let mut upgraded = Store::open(&path, Policy::default()).unwrap();
        assert_eq!(upgraded.schema_version().unwrap(), SCHEMA_VERSION);
        assert_eq!(
            schema(&Connection::open(&path).unwrap()),
            fresh_schema,
            "upgraded from {old}"
        );
        // The new columns were filled from the document.
        let row = sql::query_opt(
            upgraded.db(),
            "SELECT serial, fault_code, repaired_at_ms FROM orders WHERE id = ?1",
            params![&order.id],
        )
        .unwrap()
        .unwrap();
        let (serial, code, repaired) = (
            row.text(0).unwrap(),
            row.opt_text(1).unwrap(),
            row.opt_int(2).unwrap(),
        );
        assert_eq!(serial, "SN-1");
        assert_eq!(code.as_deref(), Some("E21"));
        assert!(repaired.is_some());
        assert_eq!(upgraded.prior_repairs("SN-1", "other").unwrap().len(), 1);
    }
}

#[test]
fn pragmas_are_durable_wal_with_foreign_keys() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("p.db"), Policy::default()).unwrap();
    let mut pragma =
        |name: &str| store.db().query(&format!("PRAGMA {name}"), &[]).unwrap()[0].0[0].clone();
    let mode = pragma("journal_mode");
    let sync = pragma("synchronous");
    let fk = pragma("foreign_keys");
    let temp = pragma("temp_store");
    use sql::Value::{Int, Text};
    assert_eq!(
        (mode, sync, fk, temp),
        (Text("wal".into()), Int(2), Int(1), Int(2))
    );
}

/// Write `order`'s content to its document as a document of `kind` (one
/// change), as the store's callers do.
fn stage_as(store: &mut Store, order: &WorkOrder, kind: DocKind) {
    let doc = store.doc(&order.id).unwrap();
    let before = doc.get_heads();
    autosurgeon::reconcile(doc, order).unwrap();
    doc.commit();
    let w = Write {
        doc_id: &order.id,
        kind,
        heads_before: before,
        rows: match kind {
            DocKind::WorkOrder => Rows::Order {
                now: order,
                was: None,
            },
            _ => Rows::None,
        },
        compact: false,
        origin: None,
        encoded: None,
    };
    store.persist(&[w], &[]).unwrap();
}

fn add_note(order: &mut WorkOrder, i: i64) {
    order.repair_notes.push(crate::model::Note {
        id: format!("n{i}"),
        text: format!("note {i}"),
        by: "e".into(),
        at_ms: i,
    });
}

#[test]
fn documents_that_grow_are_appended_as_chunks_and_compacted_without_losing_changes() {
    // The catalog (like van stock) grows with every edit: appended to, and
    // saved whole every COMPACT_EVERY chunks.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    let mut store = Store::open(&path, Policy::default()).unwrap();
    let mut order = visited_order(false);
    store.insert_new(&order.id, AutoCommit::new());
    stage_as(&mut store, &order, DocKind::Catalog);
    let one = |store: &mut Store, sql: &str| store.db().query(sql, &[]).unwrap()[0].int(0).unwrap();
    let mut most = 0;
    for i in 0..(COMPACT_EVERY + 10) {
        add_note(&mut order, i);
        stage_as(&mut store, &order, DocKind::Catalog);
        most = most.max(one(&mut store, "SELECT COUNT(*) FROM doc_chunks"));
    }
    assert_eq!(most, COMPACT_EVERY - 1, "appended up to the compaction");
    let chunks = one(&mut store, "SELECT COUNT(*) FROM doc_chunks");
    let count = one(&mut store, "SELECT chunk_count FROM documents");
    assert_eq!(chunks, count);
    assert!(chunks < COMPACT_EVERY, "compacted: {chunks}");
    drop(store);
    let mut store = Store::open(&path, Policy::default()).unwrap();
    let back: WorkOrder = crate::model::read::hydrate(store.doc(&order.id).unwrap()).unwrap();
    assert_eq!(back, order);
}

#[test]
fn an_order_is_stored_whole_on_every_write_and_chunks_an_older_release_left_are_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.db");
    let mut store = Store::open(&path, Policy::default()).unwrap();
    let mut order = visited_order(false);
    store.insert_new(&order.id, AutoCommit::new());
    stage_as(&mut store, &order, DocKind::WorkOrder);
    // As an older release stored it: a snapshot and two chunks after it.
    let (snapshot, chunks) = {
        let doc = store.doc(&order.id).unwrap();
        let snapshot = doc.save();
        let mut chunks = Vec::new();
        for i in 0..2 {
            let before = doc.get_heads();
            add_note(&mut order, i);
            autosurgeon::reconcile(doc, &order).unwrap();
            doc.commit();
            chunks.push(doc.save_after(&before));
        }
        (snapshot, chunks)
    };
    let db = store.db();
    db.execute(
        "UPDATE documents SET snapshot = ?2, chunk_count = 2 WHERE doc_id = ?1",
        sql::params![&order.id, &snapshot],
    )
    .unwrap();
    for (seq, c) in (1i64..).zip(&chunks) {
        db.execute(
            "INSERT INTO doc_chunks (doc_id, seq, bytes) VALUES (?1, ?2, ?3)",
            sql::params![&order.id, seq, c],
        )
        .unwrap();
    }
    let stored = |store: &mut Store| {
        let db = store.db();
        let chunks = db.query("SELECT COUNT(*) FROM doc_chunks", &[]).unwrap()[0]
            .int(0)
            .unwrap();
        let mut row = db
            .query("SELECT snapshot, chunk_count FROM documents", &[])
            .unwrap()[0]
            .clone();
        let snapshot = row.take_blob(0).unwrap();
        (
            chunks,
            row.int(1).unwrap(),
            AutoCommit::load(&snapshot).unwrap(),
        )
    };
    for i in 2..5 {
        add_note(&mut order, i);
        stage_as(&mut store, &order, DocKind::WorkOrder);
        let (chunks, count, mut whole) = stored(&mut store);
        assert_eq!((chunks, count), (0, 0), "write {i}: stored whole");
        // The snapshot alone is the document: every change, as it is now.
        let heads = store.doc(&order.id).unwrap().get_heads();
        assert_eq!(whole.get_heads(), heads);
        let back: WorkOrder = crate::model::read::hydrate(&whole).unwrap();
        assert_eq!(back, order);
    }
    drop(store);
    let mut store = Store::open(&path, Policy::default()).unwrap();
    let doc = store.doc(&order.id).unwrap();
    assert_eq!(doc.get_changes(&[]).len(), 6);
    let back: WorkOrder = crate::model::read::hydrate(doc).unwrap();
    assert_eq!(back, order);
}

#[test]
fn a_corrupt_document_is_reported_not_panicked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.db");
    let mut store = Store::open(&path, Policy::default()).unwrap();
    store
        .db()
        .execute("INSERT INTO documents (doc_id, kind, snapshot) VALUES ('wo-bad', 'work_order', x'00ff00')", &[])
        .unwrap();
    assert!(matches!(
        store.doc("wo-bad"),
        Err(StoreError::Corrupt { .. })
    ));
}

#[test]
fn document_ids_say_their_kind() {
    assert_eq!(DocKind::of_id("wo-abc"), Some(DocKind::WorkOrder));
    assert_eq!(DocKind::of_id("stock-eng_1"), Some(DocKind::VanStock));
    assert_eq!(DocKind::of_id("catalog"), Some(DocKind::Catalog));
    assert_eq!(DocKind::of_id("wo-"), None);
    assert_eq!(DocKind::of_id("wo-a b"), None);
    assert_eq!(DocKind::of_id("other"), None);
}

#[test]
fn the_settings_migration_keeps_every_chunk_and_reference_and_foreign_keys_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v4.db");
    let mut store = Store::open_at_version(&path, Policy::default(), 4).unwrap();
    let order = visited_order(false);
    write_order_at(&mut store, &order, 4);
    store
        .db()
        .execute(
            "INSERT INTO doc_chunks (doc_id, seq, bytes) VALUES (?1, 1, x'00')",
            params![&order.id],
        )
        .unwrap();
    drop(store);
    let mut upgraded = Store::open(&path, Policy::default()).unwrap();
    let count = |s: &mut Store, sql: &str| s.db().query(sql, &[]).unwrap().len();
    assert_eq!(
        count(&mut upgraded, "SELECT 1 FROM doc_chunks"),
        1,
        "the chunk stayed"
    );
    assert_eq!(count(&mut upgraded, "SELECT 1 FROM orders"), 1);
    assert_eq!(count(&mut upgraded, "PRAGMA foreign_key_check"), 0);
    let fk = upgraded.db().query("PRAGMA foreign_keys", &[]).unwrap()[0].0[0].clone();
    assert_eq!(fk, sql::Value::Int(1), "foreign keys are on again");
    // The references still hold: a chunk of no document is refused.
    let orphan = upgraded.db().execute(
        "INSERT INTO doc_chunks (doc_id, seq, bytes) VALUES ('wo-none', 1, x'00')",
        &[],
    );
    assert!(orphan.is_err());
    // And a settings document may now be stored.
    upgraded
        .db()
        .execute(
            "INSERT INTO documents (doc_id, kind, snapshot) VALUES ('settings', 'settings', x'00')",
            &[],
        )
        .unwrap();
}

#[test]
fn the_pull_after_a_push_runs_a_statement_compiled_once() {
    // With its LIMIT bound as a parameter, SQLite compiled the pull's query
    // afresh on every run, on the group commit's path after every push.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    drop(Store::open(&path, Policy::default()).unwrap());
    let conn = Connection::open(&path).unwrap();
    for (i, origin) in ["phone-a", "phone-b", "phone-a"].iter().enumerate() {
        conn.execute(
            "INSERT INTO changes (doc_id, hash, bytes, origin) VALUES ('o1', ?1, x'00', ?2)",
            rusqlite::params![vec![u8::try_from(i).unwrap()], origin],
        )
        .unwrap();
    }
    conn.execute(
        "INSERT INTO grants (doc_id, engineer, granted_seq) VALUES ('o1', 'eng', 0)",
        [],
    )
    .unwrap();
    let sql = log::changes_for_sql("seq", 10);
    let mut stmt = conn.prepare(&sql).unwrap();
    let mut pulled = Vec::new();
    for (cursor, device) in [
        (0, "phone-a"),
        (0, "phone-b"),
        (1, "phone-b"),
        (2, "phone-c"),
    ] {
        let seqs: Vec<i64> = stmt
            .query_map(
                rusqlite::params![cursor, 100, device, "stock/eng", "eng"],
                |r| r.get(0),
            )
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        pulled.push(seqs);
    }
    // What each device pulls: the others' changes after its cursor.
    assert_eq!(pulled, vec![vec![2], vec![1, 3], vec![3], vec![3]]);
    assert_eq!(
        stmt.get_status(rusqlite::StatementStatus::RePrepare),
        0,
        "the pull's statement was compiled again"
    );
}

#[test]
fn the_order_list_runs_one_statement_compiled_once_page_after_page() {
    // With its LIMIT bound as a parameter, SQLite compiled the list's query
    // afresh on every run, and the list is the screen an app shows most.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    drop(Store::open(&path, Policy::default()).unwrap());
    let conn = Connection::open(&path).unwrap();
    for i in 0..120 {
        conn.execute(
            "INSERT INTO documents (doc_id, kind, snapshot, chunk_count) VALUES (?1, 'work_order', x'00', 0)",
            [format!("wo-{i:03}")],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO orders (id, status, urgent, assignee, customer_name, created_at_ms, updated_at_ms)
             VALUES (?1, 'received', ?2, 'eng', 'Customer', ?3, ?3)",
            rusqlite::params![format!("wo-{i:03}"), i % 7 == 0, i],
        )
        .unwrap();
    }
    let mut pages: Vec<Vec<String>> = Vec::new();
    let mut compiled = None;
    for page in 0..3u32 {
        let filter = OrderFilter {
            open_only: true,
            limit: 50,
            offset: page * 50,
            ..OrderFilter::default()
        };
        let (sql, args) = super::rows::list_sql(&filter, None, 0);
        // Every page is the same statement: only its offset is bound.
        assert_eq!(*compiled.get_or_insert_with(|| sql.clone()), sql);
        let mut stmt = conn.prepare_cached(&sql).unwrap();
        let bound: Vec<rusqlite::types::Value> = args
            .iter()
            .map(|p| match *p {
                sql::Param::Null => rusqlite::types::Value::Null,
                sql::Param::Int(v) => v.into(),
                sql::Param::Text(v) => v.to_string().into(),
                sql::Param::Blob(v) => v.to_vec().into(),
            })
            .collect();
        let ids: Vec<String> = stmt
            .query_map(rusqlite::params_from_iter(bound), |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        pages.push(ids);
        assert_eq!(
            stmt.get_status(rusqlite::StatementStatus::RePrepare),
            0,
            "the list's statement was compiled again"
        );
    }
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [50, 50, 20]);
    let mut all: Vec<&String> = pages.iter().flatten().collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 120, "the pages cover every order once");
}
