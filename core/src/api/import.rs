//! Changes made elsewhere, applied: on the phone what it pulled from the
//! server, on the server what a phone pushed. Every chunk is read through the
//! store's bounded reader first; the result must still be a valid document
//! of its kind, and a phone's push may not touch what only the desk decides.

use super::work::meta_of;
use super::{Error, Inner, Result};
use crate::attest::{self, PinnedKey};
use crate::doc_ids::DocKind;
use crate::hlc::Hlc;
use crate::model::{Catalog, SettingsDoc, VanStock, WorkOrder};
use crate::rules::{RuleError, authority, photos};
use crate::store::chunks;
use crate::store::{Rows, Write};
use crate::validate;
use automerge::{AutoCommit, ChangeHash};
use autosurgeon::{Hydrate, hydrate};
use std::collections::BTreeMap;

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
        let malformed = |reason: String| Error::MalformedDocument {
            doc_id: doc_id.to_string(),
            reason,
        };
        // Automerge's incremental load skips what it cannot parse, and
        // inflates compressed changes without a limit: read every chunk first,
        // bounded, so truncated, foreign or hostile bytes are refused, and
        // hand Automerge only what passed, uncompressed. A device pushes
        // changes; whole documents come only from the server.
        let read = match origin {
            Some(_) => chunks::read_changes(bytes, &chunks::Limits::DEFAULT),
            None => chunks::read_any(bytes, &chunks::Limits::DEFAULT),
        }
        .map_err(|e| malformed(e.to_string()))?;
        // Claimed first (a shared database): the order kept in memory is
        // compared with only if no other process wrote it since.
        let stale = self.store.reloaded(doc_id)?;
        let cached = self.orders.remove(doc_id).filter(|_| !stale);
        let exists = self.store.contains(doc_id)?;
        // A device's push may not touch what only the desk decides: the
        // order as it was is kept to compare with (decision 0008).
        let desk_view = match (origin, kind, exists) {
            (Some(_), DocKind::WorkOrder, true) => match cached {
                Some(o) => Some(o),
                None => Some(
                    hydrate::<_, WorkOrder>(self.store.doc(doc_id)?)
                        .map_err(|e| malformed(e.to_string()))?,
                ),
            },
            _ => None,
        };
        if !exists {
            self.store
                .insert_new(doc_id, AutoCommit::new().with_actor(self.actor.clone()));
        }
        let doc = self.store.doc(doc_id)?;
        let before = doc.get_heads();
        let loaded = doc.load_incremental(&read.plain);
        let missing = doc.get_missing_deps(&[]);
        let waiting = !missing.is_empty();
        if waiting && origin.is_some() {
            // The server acknowledges only what it stores, and keeps nothing
            // waiting in memory: drop the queued changes with the copy.
            self.store.evict(doc_id);
            return Ok(ImportOutcome {
                changed: false,
                waiting_for_deps: true,
                missing,
            });
        }
        let after = doc.get_heads();
        let result: Result<Rows2> = match loaded {
            Err(e) => Err(malformed(e.to_string())),
            Ok(_) if after == before => Ok(Rows2::Unchanged),
            Ok(_) => check_kind(doc, kind).map_err(malformed),
        };
        let rows = match result {
            Err(e) => {
                self.store.evict(doc_id);
                return Err(e);
            }
            Ok(Rows2::Unchanged) => {
                if !exists {
                    self.store.evict(doc_id);
                }
                return Ok(ImportOutcome {
                    changed: false,
                    waiting_for_deps: waiting,
                    missing: Vec::new(),
                });
            }
            Ok(r) => r,
        };
        if let Rows2::Order(o) = &rows {
            if o.id != doc_id {
                self.store.evict(doc_id);
                return Err(malformed(
                    "the order's id does not match the document id".into(),
                ));
            }
            if let Some(before) = &desk_view
                && let Err(why) = authority::device_may_change(before, o)
            {
                self.store.evict(doc_id);
                return Err(
                    RuleError::Precondition(format!("not allowed from a device: {why}")).into(),
                );
            }
            if origin.is_some()
                && let Err(why) =
                    photos::check_pushed(desk_view.as_ref(), o, self.store.policy_for(o))
            {
                self.store.evict(doc_id);
                return Err(RuleError::Precondition(why).into());
            }
            if let Some(device) = origin
                && let Err(why) = attest::check_pushed(desk_view.as_ref(), o, device, pinned)
            {
                self.store.evict(doc_id);
                return Err(Error::Attestation(why));
            }
            for ev in &o.events {
                if let Some(h) = Hlc::decode(&ev.hlc) {
                    self.hlc.observe(h);
                }
            }
        }
        let clock = self.clock_meta();
        let write_rows = match &rows {
            Rows2::Order(o) => Rows::Order(o),
            Rows2::Stock(engineer, levels) => Rows::Stock { engineer, levels },
            Rows2::Catalog | Rows2::Unchanged => Rows::None,
        };
        self.store.persist(
            &[Write {
                doc_id,
                kind,
                heads_before: before,
                rows: write_rows,
                compact: false,
                origin,
            }],
            &meta_of(&clock),
        )?;
        // Acknowledged means stored: every pushed change is in the
        // document just committed.
        let doc = self.store.doc(doc_id)?;
        let absent: Vec<ChangeHash> = read
            .changes
            .iter()
            .map(chunks::VerifiedChange::hash)
            .filter(|h| doc.get_change_by_hash(h).is_none())
            .collect();
        Ok(ImportOutcome {
            changed: true,
            waiting_for_deps: waiting,
            missing: if origin.is_some() { absent } else { Vec::new() },
        })
    }
}

pub(crate) enum Rows2 {
    Unchanged,
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
