//! The local store: one SQLite file holding each Automerge document as a
//! snapshot plus the incremental chunks appended since (compacted every
//! [`COMPACT_EVERY`] chunks), and materialised rows for lists, written in the
//! same transaction as the document so a list never loads a document.
//!
//! One writer connection; documents recently used stay decoded in memory.

pub mod log;
mod rows;

pub use rows::{OrderFilter, OrderRow, OrderSort};

use crate::model::{VanStock, WorkOrder};
use crate::policy::Policy;
use automerge::{AutoCommit, ChangeHash};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// Numbered migrations; index + 1 is the schema version each one produces.
/// `rebuild` asks for the materialised rows to be recomputed from the documents.
struct Migration {
    sql: &'static str,
    rebuild: bool,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        sql: include_str!("migrations/001_documents_and_orders.sql"),
        rebuild: false,
    },
    Migration {
        sql: include_str!("migrations/002_rework_lookup_and_stock.sql"),
        rebuild: true,
    },
    Migration {
        sql: include_str!("migrations/003_change_log.sql"),
        rebuild: false,
    },
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// After this many incremental chunks a document is saved whole again.
pub const COMPACT_EVERY: i64 = 64;

/// Documents kept decoded in memory.
const CACHE_DOCS: usize = 256;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error(
        "the store was written by a newer Fieldwork (schema {found}, this build knows up to {supported}); update the app"
    )]
    NewerSchema { found: i64, supported: i64 },
    #[error("document {0} not found")]
    NotFound(String),
    #[error("document {doc_id} is unreadable: {reason}")]
    Corrupt { doc_id: String, reason: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    WorkOrder,
    VanStock,
    Catalog,
}

impl DocKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::WorkOrder => "work_order",
            DocKind::VanStock => "van_stock",
            DocKind::Catalog => "catalog",
        }
    }

    /// Document ids say their kind: `wo-…`, `stock-…`, `catalog`.
    pub fn of_id(doc_id: &str) -> Option<DocKind> {
        if doc_id == CATALOG_ID {
            Some(DocKind::Catalog)
        } else if doc_id.strip_prefix("wo-").is_some_and(valid_id_tail) {
            Some(DocKind::WorkOrder)
        } else if doc_id.strip_prefix("stock-").is_some_and(valid_id_tail) {
            Some(DocKind::VanStock)
        } else {
            None
        }
    }
}

fn valid_id_tail(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
}

pub const CATALOG_ID: &str = "catalog";

pub fn stock_doc_id(engineer: &str) -> String {
    format!("stock-{engineer}")
}

/// One document written by [`Store::persist`].
pub(crate) struct Write<'a> {
    pub doc_id: &'a str,
    pub kind: DocKind,
    /// Heads before this call's change; empty for a new document.
    pub heads_before: Vec<ChangeHash>,
    pub rows: Rows<'a>,
    /// Save the document whole now rather than appending a chunk.
    pub compact: bool,
    /// Record this call's changes in the change log, made by this origin
    /// (a device id). A device logs only its own changes (its outbox); the
    /// server logs every change it applies.
    pub origin: Option<&'a str>,
}

/// What a document write also updates.
pub(crate) enum Rows<'a> {
    Order(&'a WorkOrder),
    /// The engineer's on-hand level per SKU.
    Stock {
        engineer: &'a str,
        levels: &'a BTreeMap<String, i64>,
    },
    None,
}

#[derive(Debug)]
pub struct Store {
    conn: Connection,
    cache: HashMap<String, AutoCommit>,
    policy: Policy,
    /// The server's store: it keeps who may see which order (grants).
    keeps_grants: bool,
}

fn set_pragmas(conn: &Connection) -> Result<(), StoreError> {
    // All pragmas in one place. WAL + synchronous=FULL: a returned commit
    // survives power loss (docs/decisions/0002-durability.md). temp_store=2
    // avoids temp files, which fail on some Android devices.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "temp_store", 2)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(())
}

impl Store {
    /// Open (creating if missing) and migrate to [`SCHEMA_VERSION`].
    pub fn open(path: &Path, policy: Policy) -> Result<Store, StoreError> {
        Self::open_at_version(path, policy, SCHEMA_VERSION)
    }

    /// Open and migrate up to `version` only: how tests build the stores an
    /// older release made.
    #[doc(hidden)]
    pub fn open_at_version(path: &Path, policy: Policy, version: i64) -> Result<Store, StoreError> {
        let conn = Connection::open(path)?;
        set_pragmas(&conn)?;
        let mut store = Store {
            conn,
            cache: HashMap::new(),
            policy,
            keeps_grants: false,
        };
        store.migrate(version)?;
        Ok(store)
    }

    fn migrate(&mut self, target: i64) -> Result<(), StoreError> {
        let found: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                found,
                supported: SCHEMA_VERSION,
            });
        }
        for version in (found + 1)..=target {
            let Some(m) = usize::try_from(version - 1)
                .ok()
                .and_then(|i| MIGRATIONS.get(i))
            else {
                break;
            };
            let tx = self.conn.transaction()?;
            tx.execute_batch(m.sql)?;
            if m.rebuild {
                rebuild_rows(&tx, &self.policy)?;
            }
            tx.pragma_update(None, "user_version", version)?;
            tx.commit()?;
        }
        Ok(())
    }

    /// Turn off fsync for this connection: only for building benchmark
    /// fixtures, never in an app (a power cut could then lose commits).
    #[doc(hidden)]
    pub fn unsynchronised_for_fixtures(&self) -> Result<(), StoreError> {
        self.conn.pragma_update(None, "synchronous", "OFF")?;
        Ok(())
    }

    /// Make this the server's store: it records grants as orders are assigned.
    pub fn keep_grants(&mut self) {
        self.keeps_grants = true;
    }

    pub(crate) fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Drop a document and everything derived from it (an order reassigned
    /// away from this device, once its outbox is empty).
    pub(crate) fn forget(&mut self, doc_id: &str) -> Result<(), StoreError> {
        self.evict(doc_id);
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM orders WHERE id = ?1", [doc_id])?;
        tx.execute("DELETE FROM doc_chunks WHERE doc_id = ?1", [doc_id])?;
        tx.execute("DELETE FROM documents WHERE doc_id = ?1", [doc_id])?;
        tx.commit()?;
        Ok(())
    }

    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    pub(crate) fn policy(&self) -> &Policy {
        &self.policy
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    pub fn contains(&self, doc_id: &str) -> Result<bool, StoreError> {
        if self.cache.contains_key(doc_id) {
            return Ok(true);
        }
        Ok(self
            .conn
            .query_row(
                "SELECT 1 FROM documents WHERE doc_id = ?1",
                [doc_id],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// The document, decoded (from the cache or the database).
    pub(crate) fn doc(&mut self, doc_id: &str) -> Result<&mut AutoCommit, StoreError> {
        if !self.cache.contains_key(doc_id) {
            let doc =
                load_doc(&self.conn, doc_id)?.ok_or_else(|| StoreError::NotFound(doc_id.into()))?;
            if self.cache.len() >= CACHE_DOCS {
                self.cache.clear();
            }
            self.cache.insert(doc_id.to_string(), doc);
        }
        self.cache
            .get_mut(doc_id)
            .ok_or_else(|| StoreError::NotFound(doc_id.into()))
    }

    /// Put a document that is not in the store yet into the cache, to be
    /// written by [`Store::persist`].
    pub(crate) fn insert_new(&mut self, doc_id: &str, doc: AutoCommit) {
        if self.cache.len() >= CACHE_DOCS {
            self.cache.clear();
        }
        self.cache.insert(doc_id.to_string(), doc);
    }

    /// Forget the in-memory copy: after a failed write it may hold changes
    /// the database does not.
    pub(crate) fn evict(&mut self, doc_id: &str) {
        self.cache.remove(doc_id);
    }

    /// Write what changed in each cached document since its `heads_before`,
    /// the rows they feed and `meta` entries, in one transaction. On error the
    /// cached copies are dropped, so memory never runs ahead of the database.
    pub(crate) fn persist(
        &mut self,
        writes: &[Write<'_>],
        meta: &[(&str, &str)],
    ) -> Result<(), StoreError> {
        let result = self.persist_inner(writes, meta);
        if result.is_err() {
            for w in writes {
                self.evict(w.doc_id);
            }
        }
        result
    }

    fn persist_inner(
        &mut self,
        writes: &[Write<'_>],
        meta: &[(&str, &str)],
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        for w in writes {
            let doc = self
                .cache
                .get_mut(w.doc_id)
                .ok_or_else(|| StoreError::NotFound(w.doc_id.into()))?;
            write_doc(&tx, w.doc_id, w.kind, doc, &w.heads_before, w.compact)?;
            if let Some(origin) = w.origin {
                log::append(&tx, w.doc_id, doc, &w.heads_before, origin)?;
            }
            match w.rows {
                Rows::Order(order) => {
                    if self.keeps_grants {
                        log::regrant(&tx, &order.id, order.assignee.as_deref())?;
                    }
                    rows::upsert_order(&tx, order, &self.policy)?
                }
                Rows::Stock { engineer, levels } => rows::replace_stock(&tx, engineer, levels)?,
                Rows::None => {}
            }
        }
        for (k, v) in meta {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![k, v],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn list_orders(
        &self,
        filter: &OrderFilter,
        now_ms: i64,
    ) -> Result<Vec<OrderRow>, StoreError> {
        rows::list_orders(&self.conn, filter, now_ms)
    }

    /// Completed repairs of `serial`, for rework detection.
    pub fn prior_repairs(
        &self,
        serial: &str,
        except_id: &str,
    ) -> Result<Vec<crate::rules::rework::PriorRepair>, StoreError> {
        rows::prior_repairs(&self.conn, serial, except_id)
    }

    pub fn stock_levels(&self, engineer: &str) -> Result<Vec<(String, i64)>, StoreError> {
        rows::stock_levels(&self.conn, engineer)
    }

    /// Every document id of a kind, for export and checks.
    pub fn doc_ids(&self, kind: DocKind) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT doc_id FROM documents WHERE kind = ?1 ORDER BY doc_id")?;
        let ids = stmt
            .query_map([kind.as_str()], |r| r.get(0))?
            .collect::<Result<Vec<String>, _>>()?;
        Ok(ids)
    }

    pub fn integrity_check(&self) -> Result<String, StoreError> {
        Ok(self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }
}

/// Append the change since `heads_before` as a chunk, or compact, or insert a new document.
fn write_doc(
    tx: &Transaction<'_>,
    doc_id: &str,
    kind: DocKind,
    doc: &mut AutoCommit,
    heads_before: &[ChangeHash],
    compact: bool,
) -> Result<(), StoreError> {
    let existing: Option<i64> = tx
        .prepare_cached("SELECT chunk_count FROM documents WHERE doc_id = ?1")?
        .query_row([doc_id], |r| r.get(0))
        .optional()?;
    let Some(count) = existing else {
        tx.prepare_cached(
            "INSERT INTO documents (doc_id, kind, snapshot, chunk_count) VALUES (?1, ?2, ?3, 0)",
        )?
        .execute(params![doc_id, kind.as_str(), doc.save()])?;
        return Ok(());
    };
    let chunk = doc.save_after(heads_before);
    if chunk.is_empty() {
        return Ok(());
    }
    if compact || count + 1 >= COMPACT_EVERY {
        tx.prepare_cached("DELETE FROM doc_chunks WHERE doc_id = ?1")?
            .execute([doc_id])?;
        tx.prepare_cached("UPDATE documents SET snapshot = ?2, chunk_count = 0 WHERE doc_id = ?1")?
            .execute(params![doc_id, doc.save()])?;
    } else {
        tx.prepare_cached("INSERT INTO doc_chunks (doc_id, seq, bytes) VALUES (?1, ?2, ?3)")?
            .execute(params![doc_id, count + 1, chunk])?;
        tx.prepare_cached("UPDATE documents SET chunk_count = ?2 WHERE doc_id = ?1")?
            .execute(params![doc_id, count + 1])?;
    }
    Ok(())
}

fn load_doc(conn: &Connection, doc_id: &str) -> Result<Option<AutoCommit>, StoreError> {
    let snapshot: Option<Vec<u8>> = conn
        .query_row(
            "SELECT snapshot FROM documents WHERE doc_id = ?1",
            [doc_id],
            |r| r.get(0),
        )
        .optional()?;
    let Some(snapshot) = snapshot else {
        return Ok(None);
    };
    let corrupt = |e: automerge::AutomergeError| StoreError::Corrupt {
        doc_id: doc_id.into(),
        reason: e.to_string(),
    };
    let mut doc = AutoCommit::load(&snapshot).map_err(corrupt)?;
    let mut stmt =
        conn.prepare_cached("SELECT bytes FROM doc_chunks WHERE doc_id = ?1 ORDER BY seq")?;
    let chunks = stmt.query_map([doc_id], |r| r.get::<_, Vec<u8>>(0))?;
    for chunk in chunks {
        doc.load_incremental(&chunk?).map_err(corrupt)?;
    }
    Ok(Some(doc))
}

/// Recompute every materialised row from the documents (used by migrations
/// that add columns, and by repair after corruption).
fn rebuild_rows(tx: &Transaction<'_>, policy: &Policy) -> Result<(), StoreError> {
    let ids: Vec<(String, String)> = {
        let mut stmt = tx.prepare("SELECT doc_id, kind FROM documents")?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?
    };
    for (id, kind) in ids {
        let Some(doc) = load_doc(tx, &id)? else {
            continue;
        };
        let corrupt = |e: autosurgeon::HydrateError| StoreError::Corrupt {
            doc_id: id.clone(),
            reason: e.to_string(),
        };
        if kind == DocKind::WorkOrder.as_str() {
            let order: WorkOrder = autosurgeon::hydrate(&doc).map_err(corrupt)?;
            rows::upsert_order(tx, &order, policy)?;
        } else if kind == DocKind::VanStock.as_str() {
            let stock: VanStock = autosurgeon::hydrate(&doc).map_err(corrupt)?;
            rows::replace_stock(tx, &stock.engineer, &stock.levels())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
