//! Writing documents. One call of [`Store::persist`] writes many documents
//! in one transaction, table by table in three passes, each a statement or
//! a few for all of them (each statement is a round trip on PostgreSQL):
//! the documents themselves, the change log, then the rows lists read.
//! The server's group commit runs many such calls inside one transaction
//! ([`Store::begin_group`]).

use super::cache::DocCache;
use super::docs::{self, Counted, Encoded, write_doc};
use super::sql::{self, Backend, SqlError, params};
use super::{
    DocKind, SETTINGS_ID, Store, StoreError, load_doc, load_settings, log, rows, set_meta,
};
use crate::model::{SettingsDoc, WorkOrder};
use crate::settings::Settings;
use automerge::ChangeHash;
use std::collections::BTreeMap;

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

impl Store {
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
        let mut new_settings: Option<Settings> = None;
        let mut written = Vec::new();
        sql::in_transaction(db.as_mut(), |db| -> Result<(), StoreError> {
            let documents = write_documents(db, cache, writes, fallback)?;
            write_log(db, cache, writes)?;
            write_rows(db, writes, &documents, settings, *keeps_grants)?;
            let Documents {
                mut versions,
                counts,
                ..
            } = documents;
            written = counts;
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
}

/// What the documents' pass leaves for the others.
struct Documents<'a> {
    /// Each settings document written, in order, as the rules read it.
    versions: Vec<Settings>,
    /// Per write: which of `versions` its rows are served under (`None`:
    /// the store's settings before the call).
    in_force: Vec<Option<usize>>,
    /// Shared databases: each document's write count after its write.
    counts: Vec<(&'a str, Option<i64>)>,
}

/// The first pass: each document as it is now, in place of (or after)
/// what was stored, in the writes' order.
fn write_documents<'a>(
    db: &mut dyn Backend,
    cache: &mut DocCache,
    writes: &[Write<'a>],
    fallback: &crate::policy::Policy,
) -> Result<Documents<'a>, StoreError> {
    let shared = db.is_shared();
    let mut out = Documents {
        versions: Vec::new(),
        in_force: Vec::with_capacity(writes.len()),
        counts: Vec::new(),
    };
    // Orders stored whole, in one statement where the database allows.
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
            // This document's own count, not a row every write shares:
            // other processes see it moved and reload.
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
            out.counts.push((w.doc_id, now));
        }
        if w.kind == DocKind::Settings {
            // A settings document written earlier in the call takes effect
            // for the writes after it.
            let parsed: SettingsDoc =
                crate::model::read::hydrate(&*doc).map_err(|e| StoreError::Corrupt {
                    doc_id: w.doc_id.into(),
                    reason: e.to_string(),
                })?;
            out.versions.push(Settings::from_doc(&parsed, fallback));
        }
        out.in_force.push(out.versions.len().checked_sub(1));
    }
    Ok(out)
}

/// The second pass: every logged write's changes in one statement.
fn write_log(
    db: &mut dyn Backend,
    cache: &mut DocCache,
    writes: &[Write<'_>],
) -> Result<(), StoreError> {
    // Changes not encoded ahead are read out of the document.
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
    log::append_all(db, &logged)
}

/// The third pass: grants moved in the writes' order, each order's row
/// written once (as the last write of it left it), stock levels replaced.
fn write_rows(
    db: &mut dyn Backend,
    writes: &[Write<'_>],
    documents: &Documents<'_>,
    settings: &Settings,
    keeps_grants: bool,
) -> Result<(), StoreError> {
    let policy = |i: usize, at_ms: i64| {
        documents.in_force[i]
            .and_then(|v| documents.versions.get(v))
            .unwrap_or(settings)
            .policy_at(at_ms)
    };
    let mut orders: Vec<rows::OrderWrite<'_>> = Vec::new();
    for (i, w) in writes.iter().enumerate() {
        match w.rows {
            Rows::Order { now, was } => {
                if keeps_grants {
                    log::regrant(db, &now.id, was, now.assignee.as_deref())?;
                }
                let later = writes[i + 1..].iter().any(|l| l.doc_id == w.doc_id);
                if later {
                    // Its photos as this write left them; its row as the
                    // last one leaves it.
                    rows::upsert_order(db, now, was, policy(i, now.created_at_ms))?;
                } else {
                    orders.push((now, was, policy(i, now.created_at_ms)));
                }
            }
            Rows::Stock { engineer, levels } => rows::replace_stock(db, engineer, levels)?,
            Rows::None => {}
        }
    }
    rows::upsert_orders(db, &orders)
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
