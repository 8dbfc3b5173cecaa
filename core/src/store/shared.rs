//! A store on a database other server processes share (PostgreSQL):
//! what a call does instead of taking the whole store (decision 0019). It
//! claims each document before it reads or writes it and drops its decoded
//! copy when another process wrote the document since; it takes the
//! settings again when another process saved them.

use super::sql::{Backend, Param, params, query_opt};
use super::{DEFAULT_CACHED_DOCUMENTS, SETTINGS_ID, Store, StoreError, load_settings};
use std::collections::{BTreeSet, HashMap};

impl Store {
    /// Begin a call. On a database other processes share, take the settings
    /// again if another process saved them since. Every successful `enter`
    /// is followed by [`Store::leave`].
    pub(crate) fn enter(&mut self) -> Result<(), StoreError> {
        if !self.db.is_shared() {
            return Ok(());
        }
        let now = generation_of(self.db.as_mut(), SETTINGS_ID)?;
        if now != self.settings_seen {
            self.settings = load_settings(self.db.as_mut(), &self.fallback)?;
            self.settings_seen = now;
        }
        Ok(())
    }

    /// End a call: release the documents it claimed on a shared database.
    pub(crate) fn leave(&mut self) {
        if self.db.is_shared() {
            self.checked.clear();
            self.reloaded.clear();
            // A broken connection has lost its locks with it.
            let _ = self.db.release_claims();
        }
    }

    /// On a shared database, claim `doc_id` for the rest of the call and
    /// make sure the decoded copy, if any, is what the database holds: if
    /// another process wrote the document since this one last saw it, the
    /// copy is dropped (read again when next asked for). Once per document
    /// per call; nothing to do on a database of its own.
    pub(super) fn revalidate(&mut self, doc_id: &str) -> Result<(), StoreError> {
        if !self.db.is_shared() || self.checked.contains(doc_id) {
            return Ok(());
        }
        self.db.claim(&[doc_id])?;
        let now = generation_of(self.db.as_mut(), doc_id)?;
        self.observed(doc_id, now);
        Ok(())
    }

    /// `doc_id` claimed and found written `now` times (`None`: not stored).
    fn observed(&mut self, doc_id: &str, now: Option<i64>) {
        self.checked.insert(doc_id.to_string());
        if self.seen.get(doc_id) != Some(&now) {
            self.cache.remove(doc_id);
            self.reloaded.insert(doc_id.to_string());
            if self.seen.len() >= self.cache.capacity().max(DEFAULT_CACHED_DOCUMENTS) * 16 {
                self.seen.clear();
            }
            // Loaded next from the database as it is now.
            self.seen.insert(doc_id.to_string(), now);
        }
    }

    /// Whether `doc_id` is stored, as far as this call's claim on it tells
    /// (a shared database; `None`: not known without asking).
    pub(super) fn known_stored(&self, doc_id: &str) -> Option<bool> {
        if !self.db.is_shared() || !self.checked.contains(doc_id) {
            return None;
        }
        self.seen.get(doc_id).map(Option::is_some)
    }

    /// Claim `doc_id` (a shared database) and say whether another process
    /// wrote it since this one last saw it, so that whatever the caller
    /// keeps derived from it (a hydrated order) must go. Says so once, to
    /// the first caller who asks after the store found out, however the
    /// store came to check it; always `false` on a database of its own.
    pub(crate) fn reloaded(&mut self, doc_id: &str) -> Result<bool, StoreError> {
        self.revalidate(doc_id)?;
        Ok(self.reloaded.remove(doc_id))
    }

    /// Claim every one of `doc_ids` at once, in the backend's one order (the
    /// group commit, before it touches any): claimed one by one as reached,
    /// two processes' groups could each hold what the other waits for.
    ///
    /// Each one's write count is read with them, in one statement per 512,
    /// rather than one round trip per document later.
    pub(crate) fn claim_all(&mut self, doc_ids: &[&str]) -> Result<(), StoreError> {
        self.db.claim(doc_ids)?;
        if !self.db.is_shared() {
            return Ok(());
        }
        let todo: BTreeSet<&str> = doc_ids
            .iter()
            .copied()
            .filter(|d| !self.checked.contains(*d))
            .collect();
        let todo: Vec<&str> = todo.into_iter().collect();
        for part in todo.chunks(512) {
            // As many marks as the next power of two, the last id repeated
            // to fill them: a group's size varies, and this way a
            // connection prepares ten shapes of the statement, not one per
            // size (a round trip each on PostgreSQL).
            let marks: Vec<String> = (1..=part.len().next_power_of_two())
                .map(|i| format!("?{i}"))
                .collect();
            let sql = format!(
                "SELECT doc_id, generation FROM documents WHERE doc_id IN ({})",
                marks.join(", ")
            );
            let last = part.last().copied().unwrap_or_default();
            let args: Vec<Param<'_>> = part
                .iter()
                .copied()
                .chain(std::iter::repeat(last))
                .take(marks.len())
                .map(Param::Text)
                .collect();
            let mut found: HashMap<String, i64> = HashMap::new();
            for row in self.db.query(&sql, &args)? {
                found.insert(row.text(0)?, row.int(1)?);
            }
            for d in part {
                self.observed(d, found.get(*d).copied());
            }
        }
        Ok(())
    }
}

/// How many times `doc_id` was written (shared databases), `None` if it
/// is not stored.
pub(super) fn generation_of(db: &mut dyn Backend, doc_id: &str) -> Result<Option<i64>, StoreError> {
    Ok(query_opt(
        db,
        "SELECT generation FROM documents WHERE doc_id = ?1",
        params![doc_id],
    )?
    .map(|r| r.int(0))
    .transpose()?)
}
