//! The local store: one SQLite file holding each Automerge document as a
//! snapshot plus the incremental chunks appended since (compacted every
//! [`COMPACT_EVERY`] chunks), and materialised rows for lists, written in the
//! same transaction as the document so a list never loads a document.
//!
//! One writer connection; documents recently used stay decoded in memory.
//! The SQL runs on a [`Backend`]: the embedded SQLite here, PostgreSQL in
//! the server. Where several processes share one database, a call claims
//! each document before it reads or writes it ([`Backend::claim`], held
//! until the call ends) and drops its decoded copy if another process wrote
//! the document since (each document's write count, `generation`): writes
//! to different documents go ahead in parallel, one document's in turn.

mod cache;
pub mod chunks;
#[cfg(any(test, feature = "testing"))]
pub mod conformance;
pub mod convert;
mod docs;
mod keyed;
pub mod log;
pub mod photos;
pub mod quarantine;
mod rows;
mod shared;
pub mod sql;

pub use rows::{OrderFilter, OrderRow, OrderSort};

use cache::DocCache;
use docs::{Counted, load_doc, read_stored, write_doc};
pub(crate) use docs::{Encoded, Taken};

use crate::model::{SettingsDoc, VanStock, WorkOrder};
use crate::policy::Policy;
use crate::settings::Settings;
use automerge::{AutoCommit, ChangeHash};
use sql::{Backend, Dialect, SqlError, SqliteBackend, params, query_opt};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

/// Numbered migrations; index + 1 is the schema version each one produces.
/// `rebuild` asks for the materialised rows to be recomputed from the documents.
struct Migration {
    sql: &'static str,
    rebuild: bool,
    /// It rebuilds a table others refer to: SQLite's foreign keys are off
    /// while it runs, and checked before it commits.
    rebuilds_tables: bool,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        sql: include_str!("migrations/001_documents_and_orders.sql"),
        rebuild: false,
        rebuilds_tables: false,
    },
    Migration {
        sql: include_str!("migrations/002_rework_lookup_and_stock.sql"),
        rebuild: true,
        rebuilds_tables: false,
    },
    Migration {
        sql: include_str!("migrations/003_change_log.sql"),
        rebuild: false,
        rebuilds_tables: false,
    },
    Migration {
        sql: include_str!("migrations/004_quarantine_and_refusals.sql"),
        rebuild: false,
        rebuilds_tables: false,
    },
    Migration {
        sql: include_str!("migrations/005_settings_document.sql"),
        rebuild: false,
        rebuilds_tables: true,
    },
    Migration {
        sql: include_str!("migrations/006_photos.sql"),
        rebuild: false,
        rebuilds_tables: false,
    },
];

/// PostgreSQL's migrations, numbered on their own: the same tables in
/// PostgreSQL's types, plus what processes sharing them need (the write
/// generation).
const POSTGRES_MIGRATIONS: &[Migration] = &[
    Migration {
        sql: include_str!("migrations/postgres/001_store.sql"),
        rebuild: false,
        rebuilds_tables: false,
    },
    Migration {
        sql: include_str!("migrations/postgres/002_quarantine_and_refusals.sql"),
        rebuild: false,
        rebuilds_tables: false,
    },
    Migration {
        sql: include_str!("migrations/postgres/003_settings_document.sql"),
        rebuild: false,
        rebuilds_tables: false,
    },
    Migration {
        sql: include_str!("migrations/postgres/004_photos.sql"),
        rebuild: false,
        rebuilds_tables: false,
    },
    Migration {
        sql: include_str!("migrations/postgres/005_positions_from_transactions.sql"),
        rebuild: false,
        rebuilds_tables: false,
    },
    Migration {
        sql: include_str!("migrations/postgres/006_settled_without_false_holds.sql"),
        rebuild: false,
        rebuilds_tables: false,
    },
];

fn migrations(dialect: Dialect) -> &'static [Migration] {
    match dialect {
        Dialect::Sqlite => MIGRATIONS,
        Dialect::Postgres => POSTGRES_MIGRATIONS,
    }
}

/// The schema version this build writes (SQLite).
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// After this many incremental chunks a document is saved whole again.
pub const COMPACT_EVERY: i64 = 64;

pub use cache::DEFAULT_CAPACITY as DEFAULT_CACHED_DOCUMENTS;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] SqlError),
    #[error(
        "the store was written by a newer Fieldwork (schema {found}, this build knows up to {supported}); update the app"
    )]
    NewerSchema { found: i64, supported: i64 },
    #[error("document {0} not found")]
    NotFound(String),
    #[error("document {doc_id} is unreadable: {reason}")]
    Corrupt { doc_id: String, reason: String },
    /// The store's files on disk (its database file, the copy an
    /// encryption writes, their folder) could not be read or written.
    #[error("store files: {0}")]
    Files(String),
    /// The blob folder beside the database (photos) failed.
    #[error("blob folder: {0}")]
    Blobs(String),
    /// The store is encrypted and the key given does not open it (or it is
    /// not encrypted and a key was given); nothing was changed.
    #[error("the store is locked: {0}")]
    Locked(#[from] crate::at_rest::Locked),
}

impl StoreError {
    /// As the database layer's error: the database's own, or this one's text.
    pub fn into_sql(self) -> SqlError {
        match self {
            StoreError::Database(e) => e,
            other => SqlError::new(other.to_string()),
        }
    }
}

pub use crate::doc_ids::{CATALOG_ID, DocKind, SETTINGS_ID, stock_doc_id};

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
    /// What to write, encoded ahead ([`Encoded::of`]); encoded here if not.
    pub encoded: Option<&'a Encoded>,
}

/// What a document write also updates.
pub(crate) enum Rows<'a> {
    /// The order as it is now, and as it was before this write when the
    /// caller read it (a device's push): then what the rows held before
    /// (its assignee, its photos) is known and not read back.
    Order {
        now: &'a WorkOrder,
        was: Option<&'a WorkOrder>,
    },
    /// The engineer's on-hand level per SKU.
    Stock {
        engineer: &'a str,
        levels: &'a BTreeMap<String, i64>,
    },
    None,
}

#[derive(Debug)]
pub struct Store {
    db: Box<dyn Backend>,
    cache: DocCache,
    /// The service center's settings, from its document (or the policy the
    /// store was opened with, until one arrives).
    settings: Settings,
    fallback: Policy,
    /// The server's store: it keeps who may see which order (grants).
    keeps_grants: bool,
    /// Shared databases: the write count (`documents.generation`) this
    /// process last saw of each document, `None` for one it is creating.
    seen: HashMap<String, Option<i64>>,
    /// Shared databases: the documents claimed and checked in this call.
    checked: std::collections::HashSet<String>,
    /// Shared databases: documents found written by another process in
    /// this call, until the caller asks ([`Store::reloaded`]).
    reloaded: std::collections::HashSet<String>,
    /// Shared databases: the settings document's write count last loaded.
    settings_seen: Option<i64>,
    /// Opened with a key (SQLCipher).
    encrypted: bool,
    /// Inside [`Store::begin_group`]: the documents written so far.
    group: Option<Vec<String>>,
    /// Run inside every write's transaction, after its rows went in and
    /// before it commits: how tests hold a writer there.
    #[cfg(feature = "testing")]
    before_commit: Option<BeforeCommit>,
}

/// A test's hook run before a write commits ([`Store::before_commit`]).
#[cfg(feature = "testing")]
#[derive(Clone)]
pub struct BeforeCommit(pub std::sync::Arc<dyn Fn() + Send + Sync>);

#[cfg(feature = "testing")]
impl std::fmt::Debug for BeforeCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BeforeCommit")
    }
}

impl Store {
    /// Open (creating if missing) the SQLite file at `path` and migrate to
    /// [`SCHEMA_VERSION`].
    pub fn open(path: &Path, policy: Policy) -> Result<Store, StoreError> {
        Self::open_at_version(path, policy, SCHEMA_VERSION)
    }

    /// Open and migrate up to `version` only: how tests build the stores an
    /// older release made.
    #[doc(hidden)]
    pub fn open_at_version(path: &Path, policy: Policy, version: i64) -> Result<Store, StoreError> {
        Self::open_backend_at(Box::new(SqliteBackend::open(path)?), policy, version)
    }

    /// Open a store on any backend (the server's PostgreSQL) and migrate it.
    pub fn open_backend(db: Box<dyn Backend>, policy: Policy) -> Result<Store, StoreError> {
        Self::open_backend_at(db, policy, i64::MAX)
    }

    fn open_backend_at(
        db: Box<dyn Backend>,
        policy: Policy,
        version: i64,
    ) -> Result<Store, StoreError> {
        let mut store = Store {
            db,
            cache: DocCache::new(DEFAULT_CACHED_DOCUMENTS),
            settings: Settings::unsaved(policy.clone()),
            fallback: policy,
            keeps_grants: false,
            seen: HashMap::new(),
            checked: std::collections::HashSet::new(),
            reloaded: std::collections::HashSet::new(),
            settings_seen: None,
            encrypted: false,
            group: None,
            #[cfg(feature = "testing")]
            before_commit: None,
        };
        // Processes sharing a database migrate one at a time.
        store.db.lock_exclusive()?;
        let migrated = store.migrate(version);
        store.db.unlock_exclusive()?;
        migrated?;
        store.settings = load_settings(store.db.as_mut(), &store.fallback)?;
        Ok(store)
    }

    fn migrate(&mut self, target: i64) -> Result<(), StoreError> {
        let all = migrations(self.db.dialect());
        let supported = all.len() as i64;
        let found = self.db.schema_version()?;
        if found > supported {
            return Err(StoreError::NewerSchema { found, supported });
        }
        let last = target.min(supported);
        if found >= last {
            return Ok(());
        }
        let pending: Vec<&Migration> = ((found + 1)..=last)
            .filter_map(|v| usize::try_from(v - 1).ok().and_then(|i| all.get(i)))
            .collect();
        // Every pending migration in one transaction, and the rows rebuilt
        // once, at the end, by this build's code against the final schema
        // (a rebuild halfway would write tables a later migration adds).
        // A crash leaves the old schema or the new one.
        let keys_off =
            pending.iter().any(|m| m.rebuilds_tables) && self.db.dialect() == Dialect::Sqlite;
        if keys_off {
            // Only outside a transaction does this take effect.
            self.db.execute_batch("PRAGMA foreign_keys = OFF")?;
        }
        let fallback = &self.fallback;
        let applied = sql::in_transaction(self.db.as_mut(), |db| -> Result<(), StoreError> {
            for m in &pending {
                db.execute_batch(m.sql)?;
            }
            if keys_off && !db.query("PRAGMA foreign_key_check", &[])?.is_empty() {
                return Err(StoreError::Corrupt {
                    doc_id: "schema".into(),
                    reason: format!("migrating to schema {last} would break a reference"),
                });
            }
            if pending.iter().any(|m| m.rebuild) {
                let settings = load_settings(db, fallback)?;
                rebuild_rows(db, &settings)?;
            }
            db.set_schema_version(last)?;
            Ok(())
        });
        if keys_off {
            self.db.execute_batch("PRAGMA foreign_keys = ON")?;
        }
        applied
    }

    /// Turn off fsync for this connection: only for building benchmark
    /// fixtures, never in an app (a power cut could then lose commits).
    #[cfg(feature = "testing")]
    pub fn unsynchronised_for_fixtures(&mut self) -> Result<(), StoreError> {
        Ok(self.db.unsynchronised()?)
    }

    /// Run `hook` inside every write's transaction from now on, after the
    /// write's rows went in and before it commits (`None`: stop).
    #[cfg(feature = "testing")]
    pub fn before_commit(&mut self, hook: Option<BeforeCommit>) {
        self.before_commit = hook;
    }

    /// Make this the server's store: it records grants as orders are assigned.
    pub fn keep_grants(&mut self) {
        self.keeps_grants = true;
    }

    /// Whether other processes share this store's database.
    pub(crate) fn is_shared(&self) -> bool {
        self.db.is_shared()
    }

    pub(crate) fn db(&mut self) -> &mut dyn Backend {
        self.db.as_mut()
    }

    /// Drop a document and everything derived from it (an order reassigned
    /// away from this device, once its outbox is empty).
    pub(crate) fn forget(&mut self, doc_id: &str) -> Result<(), StoreError> {
        self.evict(doc_id);
        sql::in_transaction(self.db.as_mut(), |db| -> Result<(), StoreError> {
            db.execute("DELETE FROM orders WHERE id = ?1", params![doc_id])?;
            db.execute("DELETE FROM photos WHERE order_id = ?1", params![doc_id])?;
            db.execute("DELETE FROM doc_chunks WHERE doc_id = ?1", params![doc_id])?;
            db.execute("DELETE FROM documents WHERE doc_id = ?1", params![doc_id])?;
            Ok(())
        })
    }

    pub fn schema_version(&mut self) -> Result<i64, StoreError> {
        Ok(self.db.schema_version()?)
    }

    /// The settings in force now (for orders received now).
    pub(crate) fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The policy `order` is served under: the one in force when it was
    /// received (decision 0012).
    pub(crate) fn policy_for(&self, order: &WorkOrder) -> &Policy {
        self.settings.policy_at(order.created_at_ms)
    }

    pub fn meta(&mut self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(query_opt(
            self.db.as_mut(),
            "SELECT value FROM meta WHERE key = ?1",
            params![key],
        )?
        .map(|r| r.text(0))
        .transpose()?)
    }

    pub fn set_meta(&mut self, key: &str, value: &str) -> Result<(), StoreError> {
        set_meta(self.db.as_mut(), key, value)
    }

    pub fn contains(&mut self, doc_id: &str) -> Result<bool, StoreError> {
        self.revalidate(doc_id)?;
        if self.cache.contains(doc_id) {
            return Ok(true);
        }
        if let Some(stored) = self.known_stored(doc_id) {
            return Ok(stored);
        }
        Ok(query_opt(
            self.db.as_mut(),
            "SELECT 1 FROM documents WHERE doc_id = ?1",
            params![doc_id],
        )?
        .is_some())
    }

    /// The document, decoded (from the cache or the database).
    pub(crate) fn doc(&mut self, doc_id: &str) -> Result<&mut AutoCommit, StoreError> {
        self.revalidate(doc_id)?;
        if !self.cache.contains(doc_id) {
            let doc = load_doc(self.db.as_mut(), doc_id)?
                .ok_or_else(|| StoreError::NotFound(doc_id.into()))?;
            self.cache.insert(doc_id, doc);
        }
        self.cache
            .get_mut(doc_id)
            .ok_or_else(|| StoreError::NotFound(doc_id.into()))
    }

    /// The document taken out of the cache (as stored, if it was not
    /// there), to be changed away from the store and handed back
    /// with [`Store::put_back`], or dropped with [`Store::evict`].
    pub(crate) fn take_doc(&mut self, doc_id: &str) -> Result<Taken, StoreError> {
        self.revalidate(doc_id)?;
        if let Some(doc) = self.cache.remove(doc_id) {
            return Ok(Taken::Decoded(Box::new(doc)));
        }
        read_stored(self.db.as_mut(), doc_id)?.ok_or_else(|| StoreError::NotFound(doc_id.into()))
    }

    /// Hand back a document [`Store::take_doc`] took.
    pub(crate) fn put_back(&mut self, doc_id: &str, doc: AutoCommit) {
        self.cache.insert(doc_id, doc);
    }

    /// Keep as many documents decoded in memory as `documents` says (at
    /// least 16), whoever changes it: see [`cache`] for what that buys and
    /// costs.
    pub fn share_cached_documents(&mut self, documents: Arc<AtomicUsize>) {
        self.cache.share_capacity(documents);
    }

    /// Put a document that is not in the store yet into the cache, to be
    /// written by [`Store::persist`].
    pub(crate) fn insert_new(&mut self, doc_id: &str, doc: AutoCommit) {
        self.put_back(doc_id, doc);
        if self.db.is_shared() {
            self.seen.insert(doc_id.to_string(), None);
        }
    }

    /// Forget the in-memory copy: after a failed write it may hold changes
    /// the database does not.
    pub(crate) fn evict(&mut self, doc_id: &str) {
        self.cache.remove(doc_id);
        self.seen.remove(doc_id);
        self.checked.remove(doc_id);
    }

    /// Write what changed in each cached document since its `heads_before`,
    /// the rows they feed and `meta` entries, in one transaction. On error the
    /// cached copies are dropped, so memory never runs ahead of the database.
    pub(crate) fn persist(
        &mut self,
        writes: &[Write<'_>],
        meta: &[(&str, &str)],
    ) -> Result<(), StoreError> {
        let result = self.try_persist(writes, meta);
        if result.is_err() {
            for w in writes {
                self.evict(w.doc_id);
            }
        }
        result
    }

    /// [`Store::persist`], except that on error the cached copies are
    /// kept: the caller writes them again or evicts them.
    pub(crate) fn try_persist(
        &mut self,
        writes: &[Write<'_>],
        meta: &[(&str, &str)],
    ) -> Result<(), StoreError> {
        self.persist_inner(writes, meta)
    }

    /// How many documents the store keeps decoded now.
    pub(crate) fn cached_capacity(&self) -> usize {
        self.cache.capacity()
    }

    /// Begin a group of writes committed together: every [`Store::persist`]
    /// until [`Store::end_group`] runs inside one transaction, each undone
    /// on its own if it fails (a savepoint), and all made durable by one
    /// commit (the server's group commit, one fsync for many pushes).
    pub(crate) fn begin_group(&mut self) -> Result<(), StoreError> {
        self.db.begin()?;
        self.group = Some(Vec::new());
        Ok(())
    }

    /// Commit the group. If the commit fails nothing of the group is kept,
    /// and the decoded copies of what it wrote are dropped (memory never
    /// runs ahead of the database); the error carries those documents, for
    /// the caller's own copies.
    pub(crate) fn end_group(&mut self) -> Result<(), (SqlError, Vec<String>)> {
        let touched = self.group.take().unwrap_or_default();
        let Err(e) = self.db.commit() else {
            return Ok(());
        };
        let _ = self.db.rollback();
        for d in &touched {
            self.evict(d);
        }
        if touched.iter().any(|d| d == SETTINGS_ID) {
            // The settings it wrote are gone with it.
            match load_settings(self.db.as_mut(), &self.fallback) {
                Ok(s) => self.settings = s,
                Err(_) => self.cache.clear(),
            }
        }
        Err((e, touched))
    }

    fn persist_inner(
        &mut self,
        writes: &[Write<'_>],
        meta: &[(&str, &str)],
    ) -> Result<(), StoreError> {
        if let Some(group) = &mut self.group {
            group.extend(writes.iter().map(|w| w.doc_id.to_string()));
        }
        let Store {
            db,
            cache,
            settings,
            fallback,
            keeps_grants,
            seen,
            checked: _,
            reloaded: _,
            settings_seen,
            encrypted: _,
            group: _,
            #[cfg(feature = "testing")]
            before_commit,
        } = self;
        let shared = db.is_shared();
        let mut new_settings: Option<Settings> = None;
        let mut written = Vec::new();
        sql::in_transaction(db.as_mut(), |db| -> Result<(), StoreError> {
            // Each table is written for all the documents at once, in
            // their order (the server's group commit writes a wave of
            // pushed orders in one call): a statement per table and few
            // dozen rows rather than one per document, each a round trip on
            // PostgreSQL. First the documents, and which settings each
            // write's rows are served under (a settings document written
            // earlier in the call takes effect for those after it).
            let mut versions: Vec<Settings> = Vec::new();
            let mut in_force: Vec<Option<usize>> = Vec::with_capacity(writes.len());
            let mut replaced = docs::replace_whole(db, writes)?;
            for w in writes {
                let doc = cache
                    .get_mut(w.doc_id)
                    .ok_or_else(|| StoreError::NotFound(w.doc_id.into()))?;
                let counted = match replaced.remove(w.doc_id) {
                    Some(counted) => counted,
                    None => write_doc(db, w, doc)?,
                };
                if shared {
                    // This document's own count, not a row every write
                    // shares: other processes see it moved and reload.
                    let now = match counted {
                        Counted::Now(n) => Some(n),
                        Counted::No => db
                            .query(
                                "UPDATE documents SET generation = generation + 1 WHERE doc_id = ?1 RETURNING generation",
                                params![w.doc_id],
                            )?
                            .first()
                            .map(|r| r.int(0))
                            .transpose()?,
                    };
                    written.push((w.doc_id, now));
                }
                if w.kind == DocKind::Settings {
                    let parsed: SettingsDoc =
                        crate::model::read::hydrate(&*doc).map_err(|e| StoreError::Corrupt {
                            doc_id: w.doc_id.into(),
                            reason: e.to_string(),
                        })?;
                    versions.push(Settings::from_doc(&parsed, fallback));
                }
                in_force.push(versions.len().checked_sub(1));
            }
            // The change log, every document's changes in one statement.
            let own = writes
                .iter()
                .map(|w| match (w.origin, w.encoded) {
                    (Some(_), None) => cache
                        .get_mut(w.doc_id)
                        .map(|doc| Some(docs::changes_since(doc, &w.heads_before)))
                        .ok_or_else(|| StoreError::NotFound(w.doc_id.into())),
                    _ => Ok(None),
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            let mut logged: Vec<log::Logged<'_>> = Vec::new();
            for (w, own) in writes.iter().zip(&own) {
                let (Some(origin), Some(changes)) =
                    (w.origin, w.encoded.map(|e| &e.changes).or(own.as_ref()))
                else {
                    continue;
                };
                logged.extend(
                    changes
                        .iter()
                        .map(|(h, b)| (w.doc_id, origin, *h, b.as_slice())),
                );
            }
            log::append_all(db, &logged)?;
            // The rows: grants moved in the writes' order, each order's row
            // written once (as the last write of it left it).
            let policy = |i: usize, at_ms: i64| {
                in_force[i]
                    .and_then(|v| versions.get(v))
                    .unwrap_or(&*settings)
                    .policy_at(at_ms)
            };
            let mut orders: Vec<rows::OrderWrite<'_>> = Vec::new();
            for (i, w) in writes.iter().enumerate() {
                match w.rows {
                    Rows::Order { now, was } => {
                        if *keeps_grants {
                            let previous = was.map(|w| w.assignee.as_deref());
                            log::regrant(db, &now.id, previous, now.assignee.as_deref())?;
                        }
                        let later = writes[i + 1..].iter().any(|l| l.doc_id == w.doc_id);
                        if later {
                            // Its photos as this write left them; its row
                            // as the last one leaves it.
                            rows::upsert_order(db, now, was, policy(i, now.created_at_ms))?;
                        } else {
                            orders.push((now, was, policy(i, now.created_at_ms)));
                        }
                    }
                    Rows::Stock { engineer, levels } => rows::replace_stock(db, engineer, levels)?,
                    Rows::None => {}
                }
            }
            rows::upsert_orders(db, &orders)?;
            new_settings = versions.pop();
            if let Some(s) = &new_settings {
                // Only orders received since the earliest version this store
                // had not seen are served differently now: recompute those.
                // A version saved here takes effect now, so none (decision 0012).
                if let Some(since) = s.first_new_since(settings) {
                    rebuild_order_rows_since(db, s, since)?;
                }
            }
            for (k, v) in meta {
                set_meta(db, k, v)?;
            }
            #[cfg(feature = "testing")]
            if let Some(hook) = before_commit {
                (hook.0)();
            }
            Ok(())
        })?;
        for (doc_id, now) in written {
            // Claimed for this call: nobody else wrote it in between.
            seen.insert(doc_id.to_string(), now);
            if doc_id == SETTINGS_ID {
                *settings_seen = now;
            }
        }
        if let Some(s) = new_settings {
            *settings = s;
        }
        Ok(())
    }

    pub fn list_orders(
        &mut self,
        filter: &OrderFilter,
        now_ms: i64,
    ) -> Result<Vec<OrderRow>, StoreError> {
        rows::list_orders(self.db.as_mut(), filter, now_ms)
    }

    /// Completed repairs of `serial`, for rework detection.
    pub fn prior_repairs(
        &mut self,
        serial: &str,
        except_id: &str,
    ) -> Result<Vec<crate::rules::rework::PriorRepair>, StoreError> {
        rows::prior_repairs(self.db.as_mut(), serial, except_id)
    }

    pub fn stock_levels(&mut self, engineer: &str) -> Result<Vec<(String, i64)>, StoreError> {
        rows::stock_levels(self.db.as_mut(), engineer)
    }

    /// Every document id of a kind, for export and checks.
    pub fn doc_ids(&mut self, kind: DocKind) -> Result<Vec<String>, StoreError> {
        Ok(self
            .db
            .query(
                "SELECT doc_id FROM documents WHERE kind = ?1 ORDER BY doc_id",
                params![kind.as_str()],
            )?
            .iter()
            .map(|r| r.text(0))
            .collect::<Result<_, _>>()?)
    }

    pub fn integrity_check(&mut self) -> Result<String, StoreError> {
        Ok(self.db.integrity_check()?)
    }
}

fn set_meta(db: &mut dyn Backend, key: &str, value: &str) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

/// Recompute every materialised row from the documents (used by migrations
/// that add columns, and by repair after corruption).
fn rebuild_rows(tx: &mut dyn Backend, settings: &Settings) -> Result<(), StoreError> {
    let ids: Vec<(String, String)> = tx
        .query("SELECT doc_id, kind FROM documents", &[])?
        .iter()
        .map(|r| Ok((r.text(0)?, r.text(1)?)))
        .collect::<Result<_, SqlError>>()?;
    for (id, kind) in ids {
        let Some(doc) = load_doc(tx, &id)? else {
            continue;
        };
        let corrupt = |e: autosurgeon::HydrateError| StoreError::Corrupt {
            doc_id: id.clone(),
            reason: e.to_string(),
        };
        if kind == DocKind::WorkOrder.as_str() {
            let order: WorkOrder = crate::model::read::hydrate(&doc).map_err(corrupt)?;
            rows::upsert_order(tx, &order, None, settings.policy_at(order.created_at_ms))?;
        } else if kind == DocKind::VanStock.as_str() {
            let stock: VanStock = crate::model::read::hydrate(&doc).map_err(corrupt)?;
            rows::replace_stock(tx, &stock.engineer, &stock.levels())?;
        }
    }
    Ok(())
}

/// Recompute the rows of orders received at or after `since_ms` (found in
/// the rows, not the documents), under the settings they are served by.
fn rebuild_order_rows_since(
    tx: &mut dyn Backend,
    settings: &Settings,
    since_ms: i64,
) -> Result<(), StoreError> {
    let ids: Vec<String> = tx
        .query(
            "SELECT id FROM orders WHERE created_at_ms >= ?1",
            params![since_ms],
        )?
        .iter()
        .map(|r| r.text(0))
        .collect::<Result<_, SqlError>>()?;
    for id in ids {
        let Some(doc) = load_doc(tx, &id)? else {
            continue;
        };
        let order: WorkOrder =
            crate::model::read::hydrate(&doc).map_err(|e| StoreError::Corrupt {
                doc_id: id.clone(),
                reason: e.to_string(),
            })?;
        rows::upsert_order(tx, &order, None, settings.policy_at(order.created_at_ms))?;
    }
    Ok(())
}

/// The settings document as the rules read it, or `fallback` without one.
fn load_settings(db: &mut dyn Backend, fallback: &Policy) -> Result<Settings, StoreError> {
    let Some(doc) = load_doc(db, SETTINGS_ID)? else {
        return Ok(Settings::unsaved(fallback.clone()));
    };
    let parsed: SettingsDoc =
        crate::model::read::hydrate(&doc).map_err(|e| StoreError::Corrupt {
            doc_id: SETTINGS_ID.into(),
            reason: e.to_string(),
        })?;
    Ok(Settings::from_doc(&parsed, fallback))
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod conformance_on_sqlite {
    crate::store_conformance_tests!(crate::store::conformance::SqliteFile::new());
}
