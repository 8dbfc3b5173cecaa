//! The check of a phone's push, short of applying it: the bytes read within
//! the bounds, every change made by the device itself, and the engineer's
//! authority over the document. Shared by [`super::server`] and the group
//! commit ([`super::group`]).

use crate::api::{Inner, device_actor};
use crate::doc_ids::DocKind;
use crate::model::WorkOrder;
use crate::model::read::hydrate;
use crate::rules::authority::{self, PushTarget};
use crate::store::chunks::{self, Chunks};
use crate::store::{StoreError, log};
use automerge::AutoCommit;

/// Why the server did not take a pushed document.
#[derive(Debug, thiserror::Error)]
pub enum PushRefusal {
    /// The device's engineer may not write it (HTTP 403).
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The bytes or the resulting document broke a rule; nothing was stored.
    #[error("refused: {0}")]
    Refused(String),
    /// Changes that depend on changes the server does not hold (hashes in
    /// hex); nothing was stored and nothing waits: the device resends them
    /// with what they depend on.
    #[error("missing {} change(s) these depend on", .0.len())]
    MissingDependencies(Vec<String>),
    #[error("storage: {0}")]
    Store(#[from] StoreError),
}

/// [`ServerStore::check_push`] with the store already held (the group
/// commit's leader holds it for the whole group); with the push's changes
/// as read, for the import.
pub(crate) fn check_push_in(
    g: &mut Inner,
    device_id: &str,
    engineer: &str,
    doc_id: &str,
    bytes: &[u8],
) -> Result<(DocKind, Chunks), PushRefusal> {
    check_read_push_in(g, device_id, engineer, doc_id, read_push(bytes))
}

/// A push's bytes read within the bounds (no store needed: the group
/// commit reads its pushes on every core at once).
pub(crate) fn read_push(bytes: &[u8]) -> Result<Chunks, chunks::ChunkError> {
    chunks::read_changes(bytes, &chunks::Limits::DEFAULT)
}

/// [`check_push_in`] of a push already read by [`read_push`].
pub(crate) fn check_read_push_in(
    g: &mut Inner,
    device_id: &str,
    engineer: &str,
    doc_id: &str,
    read: Result<Chunks, chunks::ChunkError>,
) -> Result<(DocKind, Chunks), PushRefusal> {
    let kind =
        DocKind::of_id(doc_id).ok_or_else(|| PushRefusal::Refused("not a document id".into()))?;

    let read = read.map_err(|e| PushRefusal::Refused(e.to_string()))?;
    let actor =
        device_actor(device_id).map_err(|_| PushRefusal::Refused("unknown device".into()))?;
    if read.changes.iter().any(|c| *c.change.actor_id() != actor) {
        return Err(PushRefusal::Refused(
            "a change was not made by this device".into(),
        ));
    }
    let exists = g.store.contains(doc_id)?;
    let ever_granted =
        kind == DocKind::WorkOrder && exists && log::ever_granted(g.store.db(), doc_id, engineer)?;
    let target = PushTarget {
        kind,
        doc_id,
        exists,
        ever_granted,
    };
    authority::may_push(engineer, target).map_err(|why| PushRefusal::Forbidden(why.into()))?;
    if !exists && kind == DocKind::WorkOrder {
        // A new order made on the device must be assigned to its engineer.
        let mut probe = AutoCommit::new();
        probe
            .load_incremental(&read.plain)
            .map_err(|e| PushRefusal::Refused(e.to_string()))?;
        let order: WorkOrder =
            hydrate(&probe).map_err(|e| PushRefusal::Refused(format!("not a work order: {e}")))?;
        authority::may_create(engineer, &order)
            .map_err(|why| PushRefusal::Forbidden(why.into()))?;
    }
    Ok((kind, read))
}
