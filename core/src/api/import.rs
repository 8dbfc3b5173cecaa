//! Changes made elsewhere, applied: on the phone what it pulled from the
//! server, on the server what a phone pushed. Every chunk is read through the
//! store's bounded reader first; the result must still be a valid document
//! of its kind, and a phone's push may not touch what only the desk decides.
//!
//! An import runs in three steps, so the server's group commit can do the
//! middle one for many documents on several cores at once
//! ([`crate::sync::group`]):
//! 1. [`Inner::stage_import`] (the store held): what the database says of
//!    the document, and the document taken out of the store;
//! 2. [`Staged::apply`] (no store, any thread): the changes applied in
//!    memory, the result hydrated and checked;
//! 3. [`Inner::finish_imports`] (the store held): the documents put back
//!    and written together, or dropped if anything was refused.

use super::desk_view::{fields_changed, order_as_is, order_as_was};
use super::work::meta_of;
use super::{Error, Inner, Result};
use crate::attest::{self, PinnedKey};
use crate::doc_ids::DocKind;
use crate::hlc::Hlc;
use crate::model::read::hydrate;
use crate::model::{Catalog, SettingsDoc, VanStock, WorkOrder};
use crate::rules::{RuleError, authority, photos};
use crate::settings::Settings;
use crate::store::chunks::{self, Chunks};
use crate::store::write::{Rows, Write};
use crate::store::{Encoded, StoreError, Taken};
use crate::validate;
use automerge::{AutoCommit, ChangeHash};
use autosurgeon::Hydrate;
use std::collections::{BTreeMap, HashSet};

/// What an import brought.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImportOutcome {
    /// Whether the document changed (false: every change was known already).
    pub changed: bool,
    /// Changes held back because changes they depend on have not arrived.
    pub waiting_for_deps: bool,
    /// On the server: the changes a push depends on that it does not hold.
    /// Then nothing of the push was stored and nothing of it is kept.
    pub missing: Vec<ChangeHash>,
}

impl Inner {
    /// Apply changes made elsewhere; `origin` (the pushing device, on the
    /// server) puts them in the change log.
    pub(crate) fn import(
        &mut self,
        doc_id: &str,
        kind: DocKind,
        bytes: &[u8],
        origin: Option<&str>,
        pinned: Option<&PinnedKey>,
    ) -> Result<ImportOutcome> {
        // Automerge's incremental load skips what it cannot parse, and
        // inflates compressed changes without a limit: read every chunk first,
        // bounded, so truncated, foreign or hostile bytes are refused, and
        // hand Automerge only what passed, uncompressed. A device pushes
        // changes; whole documents come only from the server.
        let read = match origin {
            Some(_) => chunks::read_changes(bytes, &chunks::Limits::DEFAULT),
            None => chunks::read_any(bytes, &chunks::Limits::DEFAULT),
        }
        .map_err(|e| malformed(doc_id, e.to_string()))?;
        let staged = self.stage_import(doc_id, kind, read, origin, pinned)?;
        let prepared = staged.apply(self.store.settings());
        self.finish_import(prepared)
    }

    /// Step 1: what the database says of `doc_id`, and its document taken
    /// out of the store (a new one made if there is none). `read` is the
    /// push as [`chunks`] read it.
    pub(crate) fn stage_import<'a>(
        &mut self,
        doc_id: &'a str,
        kind: DocKind,
        read: Chunks,
        origin: Option<&'a str>,
        pinned: Option<&'a PinnedKey>,
    ) -> Result<Staged<'a>> {
        // Claimed first (a shared database): the order kept in memory is
        // compared with only if no other process wrote it since.
        let stale = self.store.reloaded(doc_id)?;
        let cached = self.orders.remove(doc_id).filter(|_| !stale);
        let exists = self.store.contains(doc_id)?;
        // A device's push may not touch what only the desk decides: the
        // order as it was is kept to compare with (decision 0008).
        let desk_view = match (origin, kind, exists) {
            (Some(_), DocKind::WorkOrder, true) => match cached {
                Some(o) => DeskView::Kept(Box::new(o)),
                None => DeskView::FromDocument,
            },
            _ => DeskView::None,
        };
        let doc = if exists {
            self.store.take_doc(doc_id)?
        } else {
            Taken::Decoded(Box::new(AutoCommit::new().with_actor(self.actor.clone())))
        };
        Ok(Staged {
            incoming: Incoming {
                doc_id,
                kind,
                read,
                origin,
                pinned,
            },
            exists,
            doc,
            desk_view,
        })
    }

    /// Step 3: the document put back and written with its rows and log
    /// entries, or dropped (never kept in memory ahead of the database).
    pub(crate) fn finish_import(&mut self, p: Prepared<'_>) -> Result<ImportOutcome> {
        self.finish_imports(vec![p])
            .pop()
            .unwrap_or_else(|| Err(not_written()))
    }

    /// Step 3 for many documents, each at most once: those that changed are
    /// written together, a statement per table for all of them (on
    /// PostgreSQL a round trip each, not one per document). If that fails,
    /// each is written again on its own, so a document the database refuses
    /// fails alone. One answer per document, in their order.
    pub(crate) fn finish_imports(
        &mut self,
        prepared: Vec<Prepared<'_>>,
    ) -> Vec<Result<ImportOutcome>> {
        let mut answers: Vec<Option<Result<ImportOutcome>>> = Vec::with_capacity(prepared.len());
        let mut changed: Vec<(usize, Changed<'_>)> = Vec::new();
        for p in prepared {
            match self.settle(p) {
                Settled::Done(answer) => answers.push(Some(answer)),
                Settled::Changed(c) => {
                    changed.push((answers.len(), *c));
                    answers.push(None);
                }
            }
        }
        // Each document must still be decoded when it is written: one write
        // takes at most half of what the cache holds.
        let most = (self.store.cached_capacity() / 2).max(1);
        let mut changed = changed.into_iter().peekable();
        while changed.peek().is_some() {
            let (slots, mut batch): (Vec<usize>, Vec<Changed<'_>>) =
                changed.by_ref().take(most).unzip();
            for c in &mut batch {
                if let Some(doc) = c.doc.take() {
                    if c.exists {
                        self.store.put_back(c.doc_id, doc);
                    } else {
                        self.store.insert_new(c.doc_id, doc);
                    }
                }
            }
            let done: Vec<Result<(), StoreError>> = match self.write_changed(&batch) {
                Ok(()) => batch.iter().map(|_| Ok(())).collect(),
                Err(e) if batch.len() == 1 => vec![Err(e)],
                Err(_) => batch
                    .iter()
                    .map(|one| self.write_changed(std::slice::from_ref(one)))
                    .collect(),
            };
            for ((slot, c), done) in slots.into_iter().zip(batch).zip(done) {
                answers[slot] = Some(match done {
                    Ok(()) => Ok(self.written(c)),
                    Err(e) => {
                        // Never kept in memory ahead of the database.
                        self.store.evict(c.doc_id);
                        Err(e.into())
                    }
                });
            }
        }
        answers
            .into_iter()
            .map(|a| a.unwrap_or_else(|| Err(not_written())))
            .collect()
    }

    /// What step 2 came to: answered now, or to be written.
    fn settle<'a>(&mut self, p: Prepared<'a>) -> Settled<'a> {
        let Prepared {
            doc_id,
            kind,
            origin,
            exists,
            doc,
            step,
        } = p;
        match step {
            Err(e) => {
                self.store.evict(doc_id);
                Settled::Done(Err(e))
            }
            Ok(Step::Missing(missing)) => {
                // The server acknowledges only what it stores, and keeps
                // nothing waiting in memory: the queued changes go with the
                // copy.
                self.store.evict(doc_id);
                Settled::Done(Ok(ImportOutcome {
                    changed: false,
                    waiting_for_deps: true,
                    missing,
                }))
            }
            Ok(Step::Unchanged { waiting }) => {
                if exists {
                    self.store.put_back(doc_id, doc);
                } else {
                    self.store.evict(doc_id);
                }
                Settled::Done(Ok(ImportOutcome {
                    changed: false,
                    waiting_for_deps: waiting,
                    missing: Vec::new(),
                }))
            }
            Ok(Step::Changed(edit)) => {
                if let Rows2::Order(o) = &edit.rows {
                    for ev in &o.events {
                        if let Some(h) = Hlc::decode(&ev.hlc) {
                            self.hlc.observe(h);
                        }
                    }
                }
                Settled::Changed(Box::new(Changed {
                    doc_id,
                    kind,
                    origin,
                    exists,
                    doc: Some(doc),
                    edit,
                }))
            }
        }
    }

    /// Write `batch` (its documents back in the store) in one call of the
    /// store; on error the decoded copies are left for the caller.
    fn write_changed(&mut self, batch: &[Changed<'_>]) -> std::result::Result<(), StoreError> {
        let clock = self.clock_meta();
        let writes: Vec<Write<'_>> = batch
            .iter()
            .map(|c| Write {
                doc_id: c.doc_id,
                kind: c.kind,
                heads_before: c.edit.before.clone(),
                rows: match &c.edit.rows {
                    Rows2::Order(o) => Rows::Order {
                        now: o,
                        was: c.edit.was.as_deref(),
                    },
                    Rows2::Stock(engineer, levels) => Rows::Stock { engineer, levels },
                    Rows2::Catalog => Rows::None,
                },
                compact: false,
                origin: c.origin,
                encoded: Some(&c.edit.encoded),
            })
            .collect();
        self.store.try_persist(&writes, &meta_of(&clock))
    }

    /// A changed document written: remembered, and answered.
    fn written(&mut self, c: Changed<'_>) -> ImportOutcome {
        let Edit {
            rows,
            waiting,
            absent,
            ..
        } = c.edit;
        if let Rows2::Order(o) = &rows
            && absent.is_empty()
        {
            // What was just written, so the next push to it (or a read)
            // need not hydrate it again.
            self.remember(o);
        }
        ImportOutcome {
            changed: true,
            waiting_for_deps: waiting,
            missing: if c.origin.is_some() {
                absent
            } else {
                Vec::new()
            },
        }
    }
}

/// An answer that was never given (no import leaves its slot empty).
fn not_written() -> Error {
    Error::Store(StoreError::Database(crate::store::sql::SqlError::new(
        "the import was not written",
    )))
}

/// Step 3's first part: an import answered at once, or one to write.
enum Settled<'a> {
    Done(Result<ImportOutcome>),
    Changed(Box<Changed<'a>>),
}

/// A changed document waiting to be written.
struct Changed<'a> {
    doc_id: &'a str,
    kind: DocKind,
    origin: Option<&'a str>,
    exists: bool,
    /// Until it is handed back to the store, just before its write.
    doc: Option<AutoCommit>,
    edit: Edit,
}

fn malformed(doc_id: &str, reason: String) -> Error {
    Error::MalformedDocument {
        doc_id: doc_id.to_string(),
        reason,
    }
}

/// The order as it was before a device's push, to compare with.
enum DeskView {
    /// Not a device's push to an existing order: nothing to compare.
    None,
    /// The copy kept in memory, current.
    Kept(Box<WorkOrder>),
    /// To be read back from the document once the changes are applied
    /// ([`order_as_was`]).
    FromDocument,
}

/// What is imported into one document, and from whom: what step 2
/// applies and checks.
struct Incoming<'a> {
    doc_id: &'a str,
    kind: DocKind,
    /// The changes as [`chunks`] read them.
    read: Chunks,
    /// The device that pushed them (`None`: not a device's push).
    origin: Option<&'a str>,
    /// That device's pinned key, if it has one.
    pinned: Option<&'a PinnedKey>,
}

/// An import after step 1 ([`Inner::stage_import`]): it holds its
/// document, and needs nothing of the store but its settings to go on.
pub(crate) struct Staged<'a> {
    incoming: Incoming<'a>,
    exists: bool,
    doc: Taken,
    desk_view: DeskView,
}

/// What step 2 came to.
enum Step {
    /// A push that depends on changes the server does not hold.
    Missing(Vec<ChangeHash>),
    Unchanged {
        waiting: bool,
    },
    Changed(Edit),
}

/// What an import changed in its document, to be written.
struct Edit {
    before: Vec<ChangeHash>,
    rows: Rows2,
    /// The order as it was before the push, when it was read to compare
    /// with: its rows need not be read back to be replaced.
    was: Option<Box<WorkOrder>>,
    waiting: bool,
    encoded: Encoded,
    /// Pushed changes the document does not hold after all.
    absent: Vec<ChangeHash>,
}

/// An import after step 2 ([`Staged::apply`]), for [`Inner::finish_import`].
pub(crate) struct Prepared<'a> {
    doc_id: &'a str,
    kind: DocKind,
    origin: Option<&'a str>,
    exists: bool,
    doc: AutoCommit,
    step: Result<Step>,
}

impl<'a> Staged<'a> {
    /// Step 2: apply the changes to the document in memory and check the
    /// result against its kind's rules, the desk's fields and `settings`'
    /// photo policy. Touches no store: runs on any thread.
    pub(crate) fn apply(self, settings: &Settings) -> Prepared<'a> {
        let Staged {
            incoming,
            exists,
            doc,
            desk_view,
        } = self;
        let (doc, step) = match doc.decode(incoming.doc_id) {
            Ok(mut doc) => {
                let step = apply_to(&mut doc, &incoming, desk_view, settings);
                (doc, step)
            }
            Err(e) => (AutoCommit::new(), Err(e.into())),
        };
        let Incoming {
            doc_id,
            kind,
            origin,
            ..
        } = incoming;
        Prepared {
            doc_id,
            kind,
            origin,
            exists,
            doc,
            step,
        }
    }
}

fn apply_to(
    doc: &mut AutoCommit,
    incoming: &Incoming<'_>,
    desk_view: DeskView,
    settings: &Settings,
) -> Result<Step> {
    let Incoming {
        doc_id,
        kind,
        ref read,
        origin,
        pinned,
    } = *incoming;
    let before = doc.get_heads();
    // The order as it was, read now if no copy was kept: reading the whole
    // order as it is costs less than reading the fields a push changed as
    // they were at older heads. If it does not read, it is read back as it
    // was after the push is applied, and refused there.
    let desk_view = match desk_view {
        DeskView::FromDocument => match hydrate::<_, WorkOrder>(&*doc) {
            Ok(was) => DeskView::Kept(Box::new(was)),
            Err(_) => DeskView::FromDocument,
        },
        other => other,
    };
    let pushed: Vec<ChangeHash> = read
        .changes
        .iter()
        .map(chunks::VerifiedChange::hash)
        .collect();
    // A device's push: which of its changes the document does not hold yet
    // (the change graph answers). Those of them it holds once applied are
    // what the change log gets, as pushed and verified, rather than read
    // back out of the document.
    let unknown: HashSet<ChangeHash> = match origin {
        Some(_) => doc.get_missing_deps(&pushed).into_iter().collect(),
        None => HashSet::new(),
    };
    // Which of the order's fields the push changes, from Automerge's patch
    // log, on only while the push is applied: to read the order as it was,
    // or as it is now, from the other and those fields alone.
    let tracked = !matches!(desk_view, DeskView::None);
    if tracked {
        doc.update_diff_cursor();
    }
    let loaded = doc.load_incremental(&read.plain);
    let changed = tracked
        .then(|| {
            let patches = doc.diff_incremental();
            // Automerge keeps a copy of the last diff's patches in the
            // document; a second diff, empty since the first moved the
            // cursor, takes its place, so a document kept in memory does
            // not hold on to its last push's patches.
            doc.diff_incremental();
            doc.reset_diff_cursor();
            fields_changed(&patches)
        })
        .flatten();
    let missing = doc.get_missing_deps(&[]);
    let waiting = !missing.is_empty();
    if waiting && origin.is_some() {
        return Ok(Step::Missing(missing));
    }
    let after = doc.get_heads();
    match loaded {
        Err(e) => return Err(malformed(doc_id, e.to_string())),
        Ok(_) if after == before => return Ok(Step::Unchanged { waiting }),
        Ok(_) => {}
    }
    let hydrated = |e: autosurgeon::HydrateError| malformed(doc_id, e.to_string());
    let (rows, desk_view) = match desk_view {
        DeskView::Kept(was) => {
            let now = order_as_is(doc, &was, changed.as_ref())
                .map_err(|e| malformed(doc_id, format!("not a valid document of its kind: {e}")))?;
            validate::order(&now).map_err(|e| malformed(doc_id, e.to_string()))?;
            (Rows2::Order(Box::new(now)), Some(*was))
        }
        DeskView::FromDocument => {
            let rows = check_kind(doc, kind).map_err(|e| malformed(doc_id, e))?;
            let was = match &rows {
                Rows2::Order(now) => {
                    Some(order_as_was(doc, &before, now, changed.as_ref()).map_err(hydrated)?)
                }
                _ => None,
            };
            (rows, was)
        }
        DeskView::None => (
            check_kind(doc, kind).map_err(|e| malformed(doc_id, e))?,
            None,
        ),
    };
    if let Rows2::Order(o) = &rows {
        if o.id != doc_id {
            return Err(malformed(
                doc_id,
                "the order's id does not match the document id".into(),
            ));
        }
        if let Some(before) = &desk_view
            && let Err(why) = authority::device_may_change(before, o)
        {
            return Err(
                RuleError::Precondition(format!("not allowed from a device: {why}")).into(),
            );
        }
        if origin.is_some()
            && let Err(why) =
                photos::check_pushed(desk_view.as_ref(), o, settings.policy_at(o.created_at_ms))
        {
            return Err(RuleError::Precondition(why).into());
        }
        if let Some(device) = origin
            && let Err(why) = attest::check_pushed(desk_view.as_ref(), o, device, pinned)
        {
            return Err(Error::Attestation(why));
        }
    }
    // What the writer will store, encoded here (on whichever thread this
    // runs), and whether every pushed change is in it: acknowledged means
    // stored, and what is written is exactly this document.
    let absent = lacking(doc, pushed, waiting);
    let logged = match origin {
        Some(_) => added_in_causal_order(&read.changes, |h| {
            unknown.contains(h) && !absent.contains(h)
        }),
        // Only a device's push is logged here.
        None => Vec::new(),
    };
    let encoded = Encoded::with_changes(doc, &before, kind, logged);
    Ok(Step::Changed(Edit {
        before,
        rows,
        was: desk_view.map(Box::new),
        waiting,
        encoded,
        absent,
    }))
}

/// Which of `pushed` the document does not hold, in their order. `queued`:
/// some changes wait in the document for what they depend on.
fn lacking(doc: &mut AutoCommit, pushed: Vec<ChangeHash>, queued: bool) -> Vec<ChangeHash> {
    if queued {
        // Each looked up in the document itself (a queued change is not in
        // it, but the change graph walk would go on to its dependencies).
        return pushed
            .into_iter()
            .filter(|h| doc.get_change_by_hash(h).is_none())
            .collect();
    }
    // Nothing queued: the change graph answers, without rebuilding any
    // change to find out.
    let missing: HashSet<ChangeHash> = doc.get_missing_deps(&pushed).into_iter().collect();
    pushed.into_iter().filter(|h| missing.contains(h)).collect()
}

/// The pushed changes `added` picks (each once), each after those of them
/// it depends on and otherwise in the order pushed: a device pulling the
/// log a page at a time never gets a change before one it needs.
fn added_in_causal_order(
    pushed: &[chunks::VerifiedChange],
    added: impl Fn(&ChangeHash) -> bool,
) -> Vec<(ChangeHash, Vec<u8>)> {
    let mut pending: HashSet<ChangeHash> = HashSet::new();
    let mut left: Vec<&chunks::VerifiedChange> = pushed
        .iter()
        .filter(|c| added(&c.hash()) && pending.insert(c.hash()))
        .collect();
    let mut out = Vec::with_capacity(left.len());
    while !left.is_empty() {
        let before = left.len();
        left.retain(|c| {
            if c.change.deps().iter().any(|d| pending.contains(d)) {
                return true;
            }
            pending.remove(&c.hash());
            out.push((c.hash(), c.bytes.clone()));
            false
        });
        if left.len() == before {
            // Hashes cannot depend on each other in a ring; were they to,
            // the rest go as pushed rather than not at all.
            out.extend(left.drain(..).map(|c| (c.hash(), c.bytes.clone())));
        }
    }
    out
}

pub(crate) enum Rows2 {
    Order(Box<WorkOrder>),
    Stock(String, BTreeMap<String, i64>),
    Catalog,
}

/// An imported document must still be a valid document of its kind.
pub(crate) fn check_kind(doc: &AutoCommit, kind: DocKind) -> std::result::Result<Rows2, String> {
    fn h<T: Hydrate>(doc: &AutoCommit) -> std::result::Result<T, String> {
        hydrate(doc).map_err(|e| format!("not a valid document of its kind: {e}"))
    }
    Ok(match kind {
        DocKind::WorkOrder => {
            let o: WorkOrder = h(doc)?;
            validate::order(&o).map_err(|e| e.to_string())?;
            Rows2::Order(Box::new(o))
        }
        DocKind::VanStock => {
            let stock: VanStock = h(doc)?;
            let levels = stock.levels();
            Rows2::Stock(stock.engineer, levels)
        }
        DocKind::Catalog => {
            h::<Catalog>(doc)?;
            Rows2::Catalog
        }
        DocKind::Settings => {
            h::<SettingsDoc>(doc)?;
            Rows2::Catalog
        }
    })
}

#[cfg(test)]
mod tests {
    use super::lacking;
    use automerge::transaction::Transactable;
    use automerge::{AutoCommit, ChangeHash, ROOT};

    /// A document with one change per note, and those changes' hashes.
    fn notes(doc: &mut AutoCommit, texts: &[&str]) -> Vec<ChangeHash> {
        texts
            .iter()
            .map(|t| {
                doc.put(ROOT, *t, true).unwrap();
                doc.commit().unwrap()
            })
            .collect()
    }

    #[test]
    fn the_changes_a_document_lacks_are_named_in_order_whether_or_not_some_wait() {
        let mut theirs = AutoCommit::new();
        let held = notes(&mut theirs, &["a", "b"]);
        let mut ours = theirs.fork();
        let not_held = notes(&mut theirs, &["c", "d"]);
        let pushed = vec![not_held[1], held[0], not_held[0], held[1]];

        // Nothing waits in `ours`: the change graph answers.
        assert_eq!(
            lacking(&mut ours, pushed.clone(), false),
            vec![not_held[1], not_held[0]]
        );

        // "d" arrives without "c", on which it depends: it waits, and the
        // answer is the same, found by looking each change up.
        let d = theirs.get_change_by_hash(&not_held[1]).unwrap();
        ours.apply_changes([d]).unwrap();
        assert!(!ours.get_missing_deps(&[]).is_empty(), "d waits for c");
        assert_eq!(
            lacking(&mut ours, pushed, true),
            vec![not_held[1], not_held[0]]
        );
    }
}
