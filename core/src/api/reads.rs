//! Reading: orders listed from the materialised rows, one order with what
//! the rules compute from it, the service report, and a document's heads and
//! changes.

use super::{Error, Fieldwork, Result};
use crate::doc_ids::DocKind;
use crate::l10n::Language;
use crate::model::*;
use crate::policy::Policy;
use crate::rules::conflicts::{Conflict, order_conflicts};
use crate::rules::fees::{FeeSummary, compute_fees};
use crate::rules::lifecycle::current_status;
use crate::rules::mail_in::{Milestone, milestones};
use crate::rules::signoff::{ReportFormat, SignatureState, render_report_in, signature_state_with};
use crate::rules::sla::{SlaClock, clocks};
use crate::settings::Settings;
use crate::store::{OrderFilter, OrderRow};
use crate::validate::{self, MAX_NAME_CHARS};
use automerge::ChangeHash;
use serde::Serialize;
use std::collections::BTreeMap;

/// One order with what the rules compute from it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderView {
    pub order: WorkOrder,
    pub status: Status,
    pub clocks: Vec<SlaClock>,
    pub signature: SignatureState,
    pub fees: FeeSummary,
    pub conflicts: Vec<Conflict>,
    pub mail_in: Vec<Milestone>,
    /// A follow-up call is due (signed off, no call reached yet).
    pub follow_up_due: bool,
}

impl Fieldwork {
    /// The service center's policy for orders received now.
    pub fn policy(&self) -> Policy {
        self.local().store.settings().policy().clone()
    }

    /// The service center's default language, as this process last saw
    /// its settings (no database round trip; for choosing words).
    pub fn language(&self) -> Language {
        self.local().store.settings().language()
    }

    /// The service center's settings: the version in force and every
    /// version before it.
    pub fn settings(&self) -> Result<Settings> {
        Ok(self.lock()?.store.settings().clone())
    }

    /// Orders from the materialised rows; never loads a document.
    pub fn list_orders(&self, filter: &OrderFilter) -> Result<Vec<OrderRow>> {
        for (field, v) in [
            ("assignee", &filter.assignee),
            ("customer", &filter.customer),
        ] {
            validate::optional(field, v.as_deref(), MAX_NAME_CHARS)?;
        }
        let mut g = self.lock()?;
        let now = g.clock.now_ms();
        Ok(g.store.list_orders(filter, now)?)
    }

    /// One order with its SLA clocks, signature validity, fees and conflicts.
    pub fn order(&self, id: &str) -> Result<OrderView> {
        let mut g = self.lock()?;
        let order = g.load_order(id)?;
        let now = g.clock.now_ms();
        let stock: Option<BTreeMap<String, i64>> = match &order.assignee {
            Some(e) => Some(g.store.stock_levels(e)?.into_iter().collect()),
            None => None,
        };
        let policy = g.store.policy_for(&order);
        let status = current_status(&order);
        let sla = clocks(&order, policy, now);
        Ok(OrderView {
            status,
            follow_up_due: status == Status::SignedOff
                && !order.follow_ups.iter().any(|c| c.reached),
            signature: signature_state_with(&order, policy),
            fees: compute_fees(&order, policy),
            conflicts: order_conflicts(&order, stock.as_ref(), policy),
            mail_in: order
                .mail_in
                .as_ref()
                .map(|m| milestones(m, order.created_at_ms, policy, now))
                .unwrap_or_default(),
            clocks: sla,
            order,
        })
    }

    /// The service report: once signed, as it was signed (its language);
    /// before, in the service center's language.
    pub fn service_report(&self, id: &str) -> Result<String> {
        let mut g = self.lock()?;
        let o = g.load_order(id)?;
        let format = match &o.sign_off {
            Some(SignOff::Signed(sig)) => ReportFormat::of_signature(sig.language.as_deref()),
            _ => ReportFormat::In(g.store.settings().language()),
        };
        Ok(render_report_in(&o, g.store.policy_for(&o), format))
    }

    /// The service report in `language`, as the customer reads it before
    /// signing in that language.
    pub fn service_report_in(&self, id: &str, language: Language) -> Result<String> {
        let mut g = self.lock()?;
        let o = g.load_order(id)?;
        Ok(render_report_in(
            &o,
            g.store.policy_for(&o),
            ReportFormat::In(language),
        ))
    }

    /// Current heads of a document, hex encoded.
    pub fn heads(&self, doc_id: &str) -> Result<Vec<String>> {
        let mut g = self.lock()?;
        let doc = g.doc(doc_id)?;
        Ok(doc.get_heads().iter().map(|h| h.to_string()).collect())
    }

    /// The document's changes that are not ancestors of `since` (hex heads of
    /// the receiving side; heads this side has never seen are skipped, so the
    /// receiver's own heads can be passed as they are; empty: everything).
    pub fn export_changes(&self, doc_id: &str, since: &[String]) -> Result<Vec<u8>> {
        let heads = parse_heads(since)?;
        let mut g = self.lock()?;
        let doc = g.doc(doc_id)?;
        let known: Vec<ChangeHash> = heads
            .into_iter()
            .filter(|h| doc.get_change_by_hash(h).is_some())
            .collect();
        Ok(doc.save_after(&known))
    }

    /// Every document id held, of each kind (orders, van stock, catalog).
    pub fn document_ids(&self) -> Result<Vec<String>> {
        let mut g = self.lock()?;
        let mut ids = Vec::new();
        for k in [
            DocKind::WorkOrder,
            DocKind::VanStock,
            DocKind::Catalog,
            DocKind::Settings,
        ] {
            ids.extend(g.store.doc_ids(k)?);
        }
        Ok(ids)
    }

    pub fn integrity_check(&self) -> Result<String> {
        Ok(self.lock()?.store.integrity_check()?)
    }
}

fn parse_heads(heads: &[String]) -> Result<Vec<ChangeHash>> {
    heads
        .iter()
        .map(|h| {
            h.parse::<ChangeHash>()
                .map_err(|_| Error::from(validate::invalid("since", "is not a change hash")))
        })
        .collect()
}
