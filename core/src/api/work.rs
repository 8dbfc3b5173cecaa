//! The unit of work every intent goes through: load the order (from the
//! cache or its document) → change it in a closure that sees the rules'
//! context ([`Cx`]) → stage one Automerge change holding only the fields that
//! changed → save the change and the order's rows in one transaction.

use super::{CACHE_ORDERS, Error, Fieldwork, Inner, META_HLC, Result};
use crate::attest::DeviceSigner;
use crate::doc_ids::{CATALOG_ID, DocKind, SETTINGS_ID, stock_doc_id};
use crate::hlc::Hlc;
use crate::model::read::{hydrate, hydrate_prop};
use crate::model::*;
use crate::policy::Policy;
use crate::rules::lifecycle::{check_transition, current_status};
use crate::rules::wrong_status;
use crate::store::StoreError;
use crate::store::write::{Rows, Write};
use crate::validate;
use automerge::{AutoCommit, ChangeHash, ReadDoc, transaction::CommitOptions};
use autosurgeon::{Reconcile, reconcile, reconcile_insert, reconcile_prop};
use std::collections::BTreeMap;
use std::sync::Arc;

pub(crate) fn new_id(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

pub(crate) fn corrupt(doc_id: &str, e: autosurgeon::HydrateError) -> super::Error {
    StoreError::Corrupt {
        doc_id: doc_id.to_string(),
        reason: e.to_string(),
    }
    .into()
}

impl Fieldwork {
    /// Load order `id`, let `f` change it, and save it as one change named
    /// `intent`, as the store's own user.
    pub(crate) fn edit_order<T>(
        &self,
        id: &str,
        intent: &str,
        f: impl FnOnce(&mut WorkOrder, &mut Cx<'_>) -> Result<T>,
    ) -> Result<T> {
        self.edit_order_as(None, id, intent, f)
    }

    /// As [`Fieldwork::edit_order`], on behalf of `person`.
    pub(crate) fn edit_order_as<T>(
        &self,
        person: Option<&str>,
        id: &str,
        intent: &str,
        f: impl FnOnce(&mut WorkOrder, &mut Cx<'_>) -> Result<T>,
    ) -> Result<T> {
        let mut g = self.lock_as(person)?;
        let mut o = g.load_order(id)?;
        let mut cx = g.cx(&o);
        let out = f(&mut o, &mut cx)?;
        g.hlc = cx.hlc;
        g.save_order(&o, intent)?;
        Ok(out)
    }
}

/// What an intent's closure may read and the clocks it advances.
pub(crate) struct Cx<'a> {
    pub(crate) now: i64,
    pub(crate) user: String,
    pub(crate) device: String,
    pub(crate) policy: &'a Policy,
    pub(crate) hlc: Hlc,
    /// The device key records are attested with, if the app gave one.
    pub(crate) signer: Option<Arc<dyn DeviceSigner>>,
}

impl Cx<'_> {
    pub(crate) fn transition(
        &mut self,
        o: &mut WorkOrder,
        to: Status,
        reason: Option<String>,
        location: Option<Location>,
    ) -> Result<()> {
        check_transition(o, to, self.policy)?;
        let from = current_status(o);
        let stamp = self.hlc.tick(self.now);
        o.events.push(LifecycleEvent {
            id: new_id("ev"),
            from,
            to,
            by: self.user.clone(),
            device: self.device.clone(),
            at_ms: self.now,
            hlc: stamp.encode(&self.device),
            reason,
            location,
        });
        Ok(())
    }

    pub(crate) fn require(&self, o: &WorkOrder, allowed: &[Status], why: &str) -> Result<()> {
        let s = current_status(o);
        if allowed.contains(&s) {
            Ok(())
        } else {
            Err(wrong_status(s, why).into())
        }
    }

    /// This device's attestation of `payload`; `None` without a device key.
    pub(crate) fn attest(&self, payload: &[u8]) -> Result<Option<Attestation>> {
        self.signer
            .as_deref()
            .map(|s| crate::attest::attest(s, &self.device, payload))
            .transpose()
            .map_err(Error::from)
    }

    pub(crate) fn complaint_candidate(&self, o: &mut WorkOrder, what: String) {
        o.complaints.push(Complaint::new(
            new_id("cp"),
            self.now,
            self.user.clone(),
            what,
            ComplaintStage::Candidate,
        ));
    }
}

impl Inner {
    /// Who this call's changes are recorded as.
    pub(crate) fn acting_user(&self) -> String {
        self.acting.clone().unwrap_or_else(|| self.user.clone())
    }

    /// The context for an intent on `order`, under the policy it is served by.
    pub(crate) fn cx(&self, order: &WorkOrder) -> Cx<'_> {
        Cx {
            now: self.clock.now_ms(),
            user: self.acting_user(),
            device: self.device_id.clone(),
            policy: self.store.policy_for(order),
            hlc: self.hlc,
            signer: self.signer.clone(),
        }
    }

    pub(crate) fn doc(&mut self, doc_id: &str) -> Result<&mut AutoCommit> {
        let kind = match DocKind::of_id(doc_id) {
            Some(DocKind::WorkOrder) => "order",
            Some(DocKind::VanStock) => "van stock",
            Some(DocKind::Catalog) => "catalog",
            Some(DocKind::Settings) => "settings",
            None => return Err(validate::invalid("id", "is not a document id").into()),
        };
        match self.store.doc(doc_id) {
            Err(StoreError::NotFound(_)) => Err(Error::NotFound {
                kind,
                id: doc_id.to_string(),
            }),
            other => Ok(other?),
        }
    }

    pub(crate) fn load_order(&mut self, id: &str) -> Result<WorkOrder> {
        if DocKind::of_id(id) != Some(DocKind::WorkOrder) {
            return Err(Error::NotFound {
                kind: "order",
                id: id.to_string(),
            });
        }
        if self.store.reloaded(id)? {
            // Another server process wrote it since.
            self.orders.remove(id);
        }
        if let Some(o) = self.orders.get(id) {
            return Ok(o.clone());
        }
        let doc = self.doc(id)?;
        let order: WorkOrder = hydrate(doc).map_err(|e| corrupt(id, e))?;
        // What this process adds to the order comes after what it holds,
        // whichever process (or device) recorded that.
        for ev in &order.events {
            if let Some(h) = Hlc::decode(&ev.hlc) {
                self.hlc.observe(h);
            }
        }
        self.remember(&order);
        Ok(order)
    }

    pub(crate) fn remember(&mut self, order: &WorkOrder) {
        if self.orders.len() >= CACHE_ORDERS {
            self.orders.clear();
        }
        self.orders.insert(order.id.clone(), order.clone());
    }

    pub(crate) fn catalog(&mut self) -> Result<Catalog> {
        if !self.store.contains(CATALOG_ID)? {
            return Ok(Catalog::default());
        }
        let doc = self.doc(CATALOG_ID)?;
        hydrate(doc).map_err(|e| corrupt(CATALOG_ID, e))
    }

    pub(crate) fn settings_doc(&mut self) -> Result<SettingsDoc> {
        if !self.store.contains(SETTINGS_ID)? {
            return Ok(SettingsDoc::default());
        }
        let doc = self.doc(SETTINGS_ID)?;
        hydrate(doc).map_err(|e| corrupt(SETTINGS_ID, e))
    }

    /// The signed-in engineer's on-hand count of `sku`, from the rows.
    pub(crate) fn on_hand(&mut self, sku: &str) -> Result<i64> {
        Ok(self
            .store
            .stock_levels(&self.user)?
            .into_iter()
            .find(|(s, _)| s == sku)
            .map(|(_, n)| n)
            .unwrap_or(0))
    }

    /// Change the van's counter for `sku` by `delta` and append the ledger
    /// line, touching only those two places of the document (the ledger grows
    /// for years; it is never rewritten). Returns the document id, the heads
    /// before, and the new levels.
    pub(crate) fn stage_stock_movement(
        &mut self,
        sku: &str,
        delta: i64,
        kind: MovementKind,
        intent: &str,
    ) -> Result<(String, Vec<ChangeHash>, BTreeMap<String, i64>)> {
        let id = stock_doc_id(&self.user);
        let movement = StockMovement {
            id: new_id("mv"),
            sku: sku.to_string(),
            kind,
            delta,
            by: self.user.clone(),
            device: self.device_id.clone(),
            at_ms: self.clock.now_ms(),
        };
        let fresh = !self.store.contains(&id)?;
        let engineer = self.user.clone();
        let device = self.device_id.clone();
        let (before, levels) = self.change_doc(&id, intent, |doc| {
            if fresh {
                let empty = VanStock {
                    engineer,
                    counts: BTreeMap::new(),
                    ledger: vec![],
                };
                reconcile(doc, &empty).map_err(|e| e.to_string())?;
            }
            let mut counts: BTreeMap<String, StockCount> =
                hydrate_prop(&*doc, automerge::ROOT, "counts").map_err(|e| e.to_string())?;
            counts
                .entry(VanStock::count_key(sku, &device))
                .or_insert_with(|| StockCount {
                    on_hand: autosurgeon::Counter::with_value(0),
                })
                .on_hand
                .increment(delta);
            reconcile_prop(doc, automerge::ROOT, "counts", &counts).map_err(|e| e.to_string())?;
            let ledger = match doc.get(automerge::ROOT, "ledger") {
                Ok(Some((automerge::Value::Object(automerge::ObjType::List), obj))) => obj,
                _ => return Err("the van stock has no ledger list".into()),
            };
            let len = doc.length(&ledger);
            reconcile_insert(doc, ledger, len, &movement).map_err(|e| e.to_string())?;
            Ok(VanStock::levels_of(&counts))
        })?;
        Ok((id, before, levels))
    }

    /// Make one change to a document (created empty if new) and commit it
    /// named `intent`; returns the heads from before and what `edit` returned.
    /// If `edit` fails the change is rolled back and the cached copy dropped.
    pub(crate) fn change_doc<T>(
        &mut self,
        doc_id: &str,
        intent: &str,
        edit: impl FnOnce(&mut AutoCommit) -> std::result::Result<T, String>,
    ) -> Result<(Vec<ChangeHash>, T)> {
        let now = self.clock.now_ms();
        if !self.store.contains(doc_id)? {
            let doc = AutoCommit::new().with_actor(self.actor.clone());
            self.store.insert_new(doc_id, doc);
        }
        let actor = self.actor.clone();
        let doc = self.store.doc(doc_id)?;
        doc.set_actor(actor);
        let before = doc.get_heads();
        match edit(doc) {
            Ok(out) => {
                doc.commit_with(
                    CommitOptions::default()
                        .with_message(intent.to_string())
                        .with_time(now / 1000),
                );
                Ok((before, out))
            }
            Err(reason) => {
                doc.rollback();
                self.store.evict(doc_id);
                Err(StoreError::Corrupt {
                    doc_id: doc_id.to_string(),
                    reason,
                }
                .into())
            }
        }
    }

    /// Reconcile `value` into its document and commit one change named
    /// `intent`; returns the heads from before (empty for a new document).
    pub(crate) fn stage<T: Reconcile>(
        &mut self,
        doc_id: &str,
        value: &T,
        intent: &str,
    ) -> Result<Vec<ChangeHash>> {
        self.change_doc(doc_id, intent, |doc| {
            reconcile(doc, value).map_err(|e| e.to_string())
        })
        .map(|(before, ())| before)
    }

    /// The clock to keep in `meta` with a write, so it never runs back
    /// after a restart. None on a database server processes share: every
    /// write there would update that one row, and each process's writes
    /// would wait for the others' commits; there the clock moves past what
    /// the orders it loads hold instead ([`Inner::load_order`]).
    pub(crate) fn clock_meta(&self) -> Option<(&'static str, String)> {
        (!self.store.is_shared()).then(|| (META_HLC, self.hlc.encode(&self.device_id)))
    }

    /// Commit one change holding the fields of `o` that differ from the
    /// stored order (all of it for a new order).
    pub(crate) fn stage_order(&mut self, o: &WorkOrder, intent: &str) -> Result<Vec<ChangeHash>> {
        let Some(before) = self.orders.remove(&o.id) else {
            return self.stage(&o.id, o, intent);
        };
        self.change_doc(&o.id, intent, |doc| {
            reconcile_changed_fields(doc, &before, o).map_err(|e| e.to_string())
        })
        .map(|(heads, ())| heads)
    }

    pub(crate) fn save_order(&mut self, o: &WorkOrder, intent: &str) -> Result<()> {
        validate::order(o)?;
        // A visit that just ended (signed off, closed, cancelled) is saved
        // whole: its document will rarely change again.
        let settled = |st: Status| st.is_terminal() || st == Status::SignedOff;
        let ended_now = settled(current_status(o))
            && self
                .orders
                .get(&o.id)
                .is_some_and(|b| !settled(current_status(b)));
        let heads_before = self.stage_order(o, intent)?;
        let clock = self.clock_meta();
        let write = Write {
            doc_id: &o.id,
            kind: DocKind::WorkOrder,
            heads_before,
            rows: Rows::Order { now: o, was: None },
            compact: ended_now,
            origin: Some(&self.device_id),
            encoded: None,
        };
        self.store.persist(&[write], &meta_of(&clock))?;
        self.remember(o);
        Ok(())
    }

    /// A part fitted from the van: the order and the stock move in one transaction.
    pub(crate) fn save_order_and_stock(
        &mut self,
        o: &WorkOrder,
        sku: &str,
        delta: i64,
        kind: MovementKind,
        intent: &str,
    ) -> Result<()> {
        validate::order(o)?;
        let order_heads = self.stage_order(o, intent)?;
        let (stock_id, stock_heads, levels) =
            match self.stage_stock_movement(sku, delta, kind, intent) {
                Ok(staged) => staged,
                Err(e) => {
                    self.store.evict(&o.id);
                    return Err(e);
                }
            };
        let clock = self.clock_meta();
        let engineer = self.user.clone();
        let writes = [
            Write {
                doc_id: &o.id,
                kind: DocKind::WorkOrder,
                heads_before: order_heads,
                rows: Rows::Order { now: o, was: None },
                compact: false,
                origin: Some(&self.device_id),
                encoded: None,
            },
            Write {
                doc_id: &stock_id,
                kind: DocKind::VanStock,
                heads_before: stock_heads,
                rows: Rows::Stock {
                    engineer: &engineer,
                    levels: &levels,
                },
                compact: false,
                origin: Some(&self.device_id),
                encoded: None,
            },
        ];
        self.store.persist(&writes, &meta_of(&clock))?;
        self.remember(o);
        Ok(())
    }

    pub(crate) fn save_doc<T: Reconcile>(
        &mut self,
        doc_id: &str,
        kind: DocKind,
        value: &T,
        intent: &str,
        rows: Rows<'_>,
    ) -> Result<()> {
        let heads_before = self.stage(doc_id, value, intent)?;
        self.store.persist(
            &[Write {
                doc_id,
                kind,
                heads_before,
                rows,
                compact: false,
                origin: Some(&self.device_id),
                encoded: None,
            }],
            &[],
        )?;
        Ok(())
    }
}

/// Reconcile only the top-level fields that changed: an edit then reads and
/// writes one part of the document, not all of it. The destructuring lists
/// every field, so a field added to `WorkOrder` must be added here too.
fn reconcile_changed_fields(
    doc: &mut AutoCommit,
    old: &WorkOrder,
    new: &WorkOrder,
) -> std::result::Result<(), autosurgeon::ReconcileError> {
    // Destructuring with the list makes the compiler check it is complete.
    macro_rules! changed {
        ($($field:ident),* $(,)?) => {
            let WorkOrder { $($field),* } = new;
            $(
                if &old.$field != $field {
                    reconcile_prop(doc, automerge::ROOT, stringify!($field), $field)?;
                }
            )*
        };
    }
    changed!(
        id,
        created_at_ms,
        created_by,
        intake,
        assignee,
        events,
        diagnosis,
        extra_faults,
        repair_notes,
        parts,
        fees,
        warranty,
        consents,
        qc,
        sla_exception,
        sign_off,
        satisfaction,
        follow_ups,
        complaints,
        mail_in,
        rework_of,
        photos,
    );
    Ok(())
}

/// The `meta` entries of a write: the clock, where it is kept.
pub(crate) fn meta_of<'a>(
    clock: &'a Option<(&'static str, String)>,
) -> Vec<(&'static str, &'a str)> {
    clock.iter().map(|(k, v)| (*k, v.as_str())).collect()
}
