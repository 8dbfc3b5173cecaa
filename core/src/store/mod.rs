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
mod migrate;
pub mod photos;
pub mod quarantine;
mod rows;
mod shared;
pub mod sql;
pub(crate) mod write;

pub use rows::{OrderFilter, OrderRow, OrderSort};

use cache::DocCache;
pub(crate) use docs::{Encoded, Taken};
use docs::{load_doc, read_stored};

use crate::model::{SettingsDoc, WorkOrder};
use crate::policy::Policy;
use crate::settings::Settings;
use automerge::AutoCommit;
use sql::{Backend, SqlError, SqliteBackend, params, query_opt};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

pub use migrate::SCHEMA_VERSION;

/// After this many incremental chunks a document is saved whole again.
pub const COMPACT_EVERY: i64 = 64;

/// Documents one store keeps decoded unless told otherwise: what a phone
/// keeps. A server process does not use it: it shares its own budget, all
/// tenants together, among its tenants' stores
/// (`fieldwork_server::state::DEFAULT_CACHED_DOCUMENTS`, `--cached-documents`).
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

    /// How many documents the store keeps decoded now.
    pub(crate) fn cached_capacity(&self) -> usize {
        self.cache.capacity()
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
