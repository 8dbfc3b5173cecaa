//! The phone's half of sync, below the client: the outbox of changes made
//! here that the server has not acknowledged, the pull cursor, changes
//! pulled from the server, and orders whose copy here is replaced by the
//! server's or dropped once reassigned away.

use crate::api::{Error, Fieldwork, ImportOutcome, META_CURSOR, META_REFETCH, Result, check_kind};
use crate::doc_ids::DocKind;
use crate::store::chunks;
use crate::store::log::{self, LoggedChange};
use crate::validate;
use automerge::AutoCommit;

impl Fieldwork {
    /// Apply changes made elsewhere. Malformed bytes, or a result that is not
    /// a valid document of its kind, are refused and change nothing.
    pub fn import_changes(&self, doc_id: &str, bytes: &[u8]) -> Result<ImportOutcome> {
        let kind = DocKind::of_id(doc_id)
            .ok_or_else(|| validate::invalid("doc_id", "is not a document id"))?;
        let mut g = self.lock()?;
        g.import(doc_id, kind, bytes, None, None)
    }

    /// The oldest changes made here that the server has not acknowledged,
    /// about `max_bytes` of them (at least one).
    pub fn outbox(&self, max_bytes: usize) -> Result<Vec<LoggedChange>> {
        Ok(log::oldest(self.lock()?.store.db(), max_bytes)?)
    }

    /// The server acknowledged (or finally refused) these outbox entries.
    pub fn acknowledge(&self, seqs: &[i64]) -> Result<()> {
        Ok(log::delete(self.lock()?.store.db(), seqs)?)
    }

    /// Changes waiting in the outbox.
    pub fn pending_changes(&self) -> Result<i64> {
        Ok(log::pending(self.lock()?.store.db())?)
    }

    /// How far this device has pulled the server's log.
    pub fn sync_cursor(&self) -> Result<i64> {
        let mut g = self.lock()?;
        Ok(g.store
            .meta(META_CURSOR)?
            .and_then(|c| c.parse().ok())
            .unwrap_or(0))
    }

    pub fn set_sync_cursor(&self, cursor: i64) -> Result<()> {
        Ok(self
            .lock()?
            .store
            .set_meta(META_CURSOR, &cursor.to_string())?)
    }

    /// Orders whose local copy holds changes the server refused: they are
    /// replaced by the server's copy ([`Fieldwork::replace_with_server_copy`]).
    /// Kept in the store, so a crash between dropping and re-fetching a copy
    /// is finished on the next sync.
    pub fn refetch_pending(&self) -> Result<Vec<String>> {
        Ok(self
            .lock()?
            .store
            .meta(META_REFETCH)?
            .map(|v| {
                v.split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Mark (`true`) or unmark an order for re-fetching from the server.
    pub fn set_refetch(&self, doc_id: &str, pending: bool) -> Result<()> {
        let mut list = self.refetch_pending()?;
        list.retain(|d| d != doc_id);
        if pending {
            list.push(doc_id.to_string());
        }
        Ok(self.lock()?.store.set_meta(META_REFETCH, &list.join(","))?)
    }

    /// Replace this device's copy of an order with the server's whole
    /// document `bytes`, unless changes made here still wait in the outbox.
    /// The bytes are checked before anything is dropped. Returns whether the
    /// copy was replaced (and unmarked); if not, it stays marked for later.
    pub fn replace_with_server_copy(&self, doc_id: &str, bytes: &[u8]) -> Result<bool> {
        let malformed = |reason: String| Error::MalformedDocument {
            doc_id: doc_id.to_string(),
            reason,
        };
        let read = chunks::read_any(bytes, &chunks::Limits::DEFAULT)
            .map_err(|e| malformed(e.to_string()))?;
        let mut probe = AutoCommit::new();
        probe
            .load_incremental(&read.plain)
            .map_err(|e| malformed(e.to_string()))?;
        check_kind(&probe, DocKind::WorkOrder).map_err(malformed)?;
        let replaced = {
            let mut g = self.lock()?;
            if log::pending_for(g.store.db(), doc_id)? > 0 {
                false
            } else {
                g.orders.remove(doc_id);
                g.store.forget(doc_id)?;
                g.import(doc_id, DocKind::WorkOrder, bytes, None, None)?;
                true
            }
        };
        if replaced {
            self.set_refetch(doc_id, false)?;
        }
        Ok(replaced)
    }

    /// Drop an order that was reassigned away, unless changes made here are
    /// still waiting to reach the server. Returns whether it was dropped.
    pub fn forget_if_synced(&self, doc_id: &str) -> Result<bool> {
        let mut g = self.lock()?;
        if log::pending_for(g.store.db(), doc_id)? > 0 {
            return Ok(false);
        }
        g.orders.remove(doc_id);
        g.store.forget(doc_id)?;
        Ok(true)
    }

    /// See [`crate::store::Store::unsynchronised_for_fixtures`]: benchmark
    /// and test fixtures only.
    #[cfg(feature = "testing")]
    pub fn unsynchronised_for_fixtures(&self) -> Result<()> {
        Ok(self.lock()?.store.unsynchronised_for_fixtures()?)
    }
}
