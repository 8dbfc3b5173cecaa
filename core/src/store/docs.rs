//! How a document sits in the database: a snapshot and the incremental
//! chunks appended since, read back and decoded, written with one more
//! chunk or saved whole again (a work order: every time).

use super::sql::{Backend, Dialect, Param, params, query_opt, runs};
use super::write::Write;
use super::{COMPACT_EVERY, StoreError};
use crate::doc_ids::DocKind;
use automerge::{AutoCommit, ChangeHash};
use std::collections::HashMap;

/// A document's changes since a write's `heads_before`, encoded ahead: on
/// the thread that applied them, so the one writing the group only writes.
#[derive(Debug)]
pub(crate) struct Encoded {
    /// What the document's rows get.
    pub stored: Stored,
    /// Each change's hash and bytes (for the change log).
    pub changes: Vec<(ChangeHash, Vec<u8>)>,
}

/// How an [`Encoded`] write stores the document.
#[derive(Debug)]
pub(crate) enum Stored {
    /// The changes as one incremental chunk, appended (empty: none).
    Chunk(Vec<u8>),
    /// The whole document, uncompressed, in place of the snapshot and
    /// chunks stored before.
    Whole(Vec<u8>),
}

impl Encoded {
    /// The changes since `heads_before`, and the document as a document of
    /// `kind` is stored ([`stored_whole`]).
    #[cfg(any(test, feature = "testing"))]
    pub(crate) fn of(doc: &mut AutoCommit, heads_before: &[ChangeHash], kind: DocKind) -> Encoded {
        let changes = changes_since(doc, heads_before);
        Self::with_changes(doc, heads_before, kind, changes)
    }

    /// The same with the changes since `heads_before` as the caller knows
    /// them (a device's push, verified as it was read), or none when
    /// nothing is logged: not rebuilt from the document's operations.
    pub(crate) fn with_changes(
        doc: &mut AutoCommit,
        heads_before: &[ChangeHash],
        kind: DocKind,
        changes: Vec<(ChangeHash, Vec<u8>)>,
    ) -> Encoded {
        let stored = if stored_whole(kind) && doc.get_heads() != heads_before {
            Stored::Whole(doc.save_nocompress())
        } else {
            Stored::Chunk(doc.save_after(heads_before))
        };
        Encoded { stored, changes }
    }
}

/// Each change of `doc` since `heads_before`: its hash and bytes.
pub(crate) fn changes_since(
    doc: &mut AutoCommit,
    heads_before: &[ChangeHash],
) -> Vec<(ChangeHash, Vec<u8>)> {
    doc.get_changes(heads_before)
        .iter()
        .map(|c| (c.hash(), c.raw_bytes().to_vec()))
        .collect()
}

/// Whether every write of a document of `kind` stores it whole,
/// uncompressed, in place of what was stored: work orders, which are small
/// (a few kilobytes) and read back often (on the server, by every push that
/// finds its order out of the cache). Automerge decodes a saved document
/// about twice as fast as the same document as a snapshot and the chunks
/// appended since, and saves an order uncompressed in about 10 µs
/// (docs/decisions/0001, amended). Van stock, the catalog and the settings grow
/// with every movement or edit, and are appended to.
pub(crate) fn stored_whole(kind: DocKind) -> bool {
    kind == DocKind::WorkOrder
}

/// Append the change since `heads_before` as a chunk, or compact, or insert
/// a new document; or, encoded whole, put it in place of what was stored.
pub(super) fn write_doc(
    db: &mut dyn Backend,
    w: &Write<'_>,
    doc: &mut AutoCommit,
) -> Result<Counted, StoreError> {
    let (doc_id, kind) = (w.doc_id, w.kind);
    let chunk = match w.encoded.map(|e| &e.stored) {
        Some(Stored::Whole(whole)) => return write_whole(db, w, whole),
        Some(Stored::Chunk(chunk)) => std::borrow::Cow::Borrowed(chunk.as_slice()),
        None if stored_whole(kind) && doc.get_heads() != w.heads_before => {
            return write_whole(db, w, &doc.save_nocompress());
        }
        None => std::borrow::Cow::Owned(doc.save_after(&w.heads_before)),
    };
    // The usual write in two statements (each a round trip on PostgreSQL):
    // one more chunk on a stored document not yet due to be saved whole.
    if !chunk.is_empty() && !w.compact {
        let appended = db.query(
            "UPDATE documents SET chunk_count = chunk_count + 1
             WHERE doc_id = ?1 AND chunk_count + 1 < ?2 RETURNING chunk_count",
            params![doc_id, COMPACT_EVERY],
        )?;
        if let Some(row) = appended.first() {
            db.execute(
                "INSERT INTO doc_chunks (doc_id, seq, bytes) VALUES (?1, ?2, ?3)",
                params![doc_id, row.int(0)?, chunk.as_ref()],
            )?;
            return Ok(Counted::No);
        }
    }
    let existing = query_opt(
        db,
        "SELECT chunk_count FROM documents WHERE doc_id = ?1",
        params![doc_id],
    )?;
    if existing.is_none() {
        db.execute(
            "INSERT INTO documents (doc_id, kind, snapshot, chunk_count) VALUES (?1, ?2, ?3, 0)",
            params![doc_id, kind.as_str(), &doc.save()],
        )?;
        return Ok(Counted::No);
    }
    if chunk.is_empty() {
        return Ok(Counted::No);
    }
    // Due (or asked) to be saved whole.
    db.execute("DELETE FROM doc_chunks WHERE doc_id = ?1", params![doc_id])?;
    db.execute(
        "UPDATE documents SET snapshot = ?2, chunk_count = 0 WHERE doc_id = ?1",
        params![doc_id, &doc.save()],
    )?;
    Ok(Counted::No)
}

/// Store `whole` as the document: one statement when nothing but a
/// snapshot is stored (the usual case once it was written whole), else the
/// chunks dropped with it, or a new document's row. On a shared database
/// that one statement also counts the write ([`Counted::Now`]).
fn write_whole(db: &mut dyn Backend, w: &Write<'_>, whole: &[u8]) -> Result<Counted, StoreError> {
    if db.is_shared() {
        let replaced = db.query(
            "UPDATE documents SET snapshot = ?2, generation = generation + 1
             WHERE doc_id = ?1 AND chunk_count = 0 RETURNING generation",
            params![w.doc_id, whole],
        )?;
        if let Some(row) = replaced.first() {
            return Ok(Counted::Now(row.int(0)?));
        }
    } else if db.execute(
        "UPDATE documents SET snapshot = ?2 WHERE doc_id = ?1 AND chunk_count = 0",
        params![w.doc_id, whole],
    )? > 0
    {
        return Ok(Counted::No);
    }
    let exists = query_opt(
        db,
        "SELECT 1 FROM documents WHERE doc_id = ?1",
        params![w.doc_id],
    )?
    .is_some();
    if exists {
        db.execute(
            "DELETE FROM doc_chunks WHERE doc_id = ?1",
            params![w.doc_id],
        )?;
        db.execute(
            "UPDATE documents SET snapshot = ?2, chunk_count = 0 WHERE doc_id = ?1",
            params![w.doc_id, whole],
        )?;
    } else {
        db.execute(
            "INSERT INTO documents (doc_id, kind, snapshot, chunk_count) VALUES (?1, ?2, ?3, 0)",
            params![w.doc_id, w.kind.as_str(), whole],
        )?;
    }
    Ok(Counted::No)
}

/// On PostgreSQL, the documents of `writes` stored whole (a work order,
/// every time) whose stored row is a snapshot alone, replaced and counted
/// in one statement per 64 of them rather than one each: how each was
/// counted, by id. Those it leaves out (a document written twice in the
/// call, a new one, one with chunks) are for [`write_doc`]. Nothing on
/// SQLite, where a statement is no round trip.
pub(super) fn replace_whole(
    db: &mut dyn Backend,
    writes: &[Write<'_>],
) -> Result<HashMap<String, Counted>, StoreError> {
    let mut done = HashMap::new();
    if db.dialect() != Dialect::Postgres {
        return Ok(done);
    }
    let mut times: HashMap<&str, usize> = HashMap::new();
    for w in writes {
        *times.entry(w.doc_id).or_default() += 1;
    }
    let whole: Vec<(&str, &[u8])> = writes
        .iter()
        .filter_map(|w| match w.encoded.map(|e| &e.stored) {
            Some(Stored::Whole(bytes)) if times.get(w.doc_id) == Some(&1) => {
                Some((w.doc_id, bytes.as_slice()))
            }
            _ => None,
        })
        .collect();
    for run in runs(whole.len(), 64) {
        let part = &whole[run];
        let rows: Vec<String> = (0..part.len())
            .map(|i| format!("(?{}::text, ?{}::bytea)", 2 * i + 1, 2 * i + 2))
            .collect();
        let sql = format!(
            "UPDATE documents AS d SET snapshot = v.snapshot, generation = d.generation + 1
             FROM (VALUES {}) AS v (doc_id, snapshot)
             WHERE d.doc_id = v.doc_id AND d.chunk_count = 0
             RETURNING d.doc_id, d.generation",
            rows.join(", ")
        );
        let params: Vec<Param<'_>> = part
            .iter()
            .flat_map(|(doc_id, bytes)| [Param::Text(doc_id), Param::Blob(bytes)])
            .collect();
        for row in db.query(&sql, &params)? {
            done.insert(row.text(0)?, Counted::Now(row.int(1)?));
        }
    }
    Ok(done)
}

/// Whether a document's write also counted it (a shared database's
/// `generation`, which tells other processes it moved).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Counted {
    /// Not counted: the caller counts it if the database is shared.
    No,
    /// Counted in the same statement: the count now.
    Now(i64),
}

pub(super) fn load_doc(
    db: &mut dyn Backend,
    doc_id: &str,
) -> Result<Option<AutoCommit>, StoreError> {
    read_stored(db, doc_id)?
        .map(|stored| stored.decode(doc_id))
        .transpose()
}

/// A document's rows as stored: its snapshot and the chunks since.
pub(super) fn read_stored(db: &mut dyn Backend, doc_id: &str) -> Result<Option<Taken>, StoreError> {
    // One statement (a round trip on PostgreSQL): the snapshot first, then
    // the chunks in order.
    let mut rows = db
        .query(
            "SELECT 0 AS part, 0 AS seq, snapshot FROM documents WHERE doc_id = ?1
             UNION ALL SELECT 1, seq, bytes FROM doc_chunks WHERE doc_id = ?1
             ORDER BY part, seq",
            params![doc_id],
        )?
        .into_iter();
    let Some(mut first) = rows.next().filter(|r| r.int(0).is_ok_and(|p| p == 0)) else {
        return Ok(None);
    };
    let snapshot = first.take_blob(2)?;
    let chunks = rows
        .map(|mut r| r.take_blob(2))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(Taken::Stored { snapshot, chunks }))
}

/// A document taken out of the store ([`super::Store::take_doc`]).
pub(crate) enum Taken {
    /// It was decoded in memory.
    Decoded(Box<AutoCommit>),
    /// As stored, to be decoded by whoever changes it (on any thread).
    Stored {
        snapshot: Vec<u8>,
        chunks: Vec<Vec<u8>>,
    },
}

impl Taken {
    /// The document, decoded.
    pub(crate) fn decode(self, doc_id: &str) -> Result<AutoCommit, StoreError> {
        let (snapshot, chunks) = match self {
            Taken::Decoded(doc) => return Ok(*doc),
            Taken::Stored { snapshot, chunks } => (snapshot, chunks),
        };
        let corrupt = |e: automerge::AutomergeError| StoreError::Corrupt {
            doc_id: doc_id.into(),
            reason: e.to_string(),
        };
        // Read with the same bounds as anything from outside: a stored
        // document that would unpack past them is refused as corrupt, not
        // loaded.
        let bounded = |bytes: &[u8]| {
            crate::store::chunks::read_any(bytes, &crate::store::chunks::Limits::DEFAULT)
                .map(|read| read.plain)
                .map_err(|e| StoreError::Corrupt {
                    doc_id: doc_id.into(),
                    reason: e.to_string(),
                })
        };
        // The snapshot and the chunks since, loaded in one call: Automerge
        // then applies the chunks' changes as one batch, which costs far
        // less than applying each chunk on its own.
        let mut all = bounded(&snapshot)?;
        for chunk in &chunks {
            all.extend_from_slice(&bounded(chunk)?);
        }
        AutoCommit::load(&all).map_err(corrupt)
    }
}
