//! The desk's intents: intake, assignment, follow-up calls, complaints,
//! mail-in tracking and the parts catalog. Each is made through a [`Desk`],
//! which says who acts and in which role, so every change records the
//! dispatcher or supervisor who made it and the role rules apply
//! ([`crate::rules::roles`]).

use super::{Error, Fieldwork, Result, new_id, work::Cx};
use crate::doc_ids::{CATALOG_ID, DocKind, SETTINGS_ID};
use crate::model::*;
use crate::rules::complaints::{self, ComplaintStep};
use crate::rules::lifecycle::current_status;
use crate::rules::roles::DeskRole;
use crate::rules::{RuleError, wrong_status};
use crate::settings::SettingsInput;
use crate::store::write::Rows;
use crate::validate::{self, MAX_CODE_CHARS, MAX_NAME_CHARS, MAX_TEXT_CHARS};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FollowUpInput {
    pub reached: bool,
    pub rating: Option<Rating>,
    pub aspect: Option<String>,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MailInMilestone {
    Shipped,
    ReceiptConfirmed,
    CustomerUpdated,
    SecondContact,
    Returned,
}

/// The desk acting on a store: a named person in a role, or the store's own
/// user ([`Fieldwork::desk`]).
#[derive(Debug, Clone)]
pub struct Desk<'a> {
    fw: &'a Fieldwork,
    person: Option<String>,
    role: DeskRole,
}

impl Fieldwork {
    /// The desk's intents made by `person` in `role`: the server records a
    /// dispatcher's board or API action under the dispatcher's name.
    pub fn as_desk(&self, person: &str, role: DeskRole) -> Desk<'_> {
        Desk {
            fw: self,
            person: Some(person.to_string()),
            role,
        }
    }

    /// The desk's intents made by the store's own user, who holds every desk
    /// role: on a phone there is nobody else, and scripts play both sides.
    pub fn desk(&self) -> Desk<'_> {
        Desk {
            fw: self,
            person: None,
            role: DeskRole::Supervisor,
        }
    }
}

impl Desk<'_> {
    /// Who acts.
    pub fn person(&self) -> String {
        self.person.clone().unwrap_or_else(|| self.fw.user())
    }

    fn edit_order<T>(
        &self,
        id: &str,
        intent: &str,
        f: impl FnOnce(&mut WorkOrder, &mut Cx<'_>) -> Result<T>,
    ) -> Result<T> {
        self.fw.edit_order_as(self.person.as_deref(), id, intent, f)
    }

    /// Take in a request; returns the new order's id.
    pub fn create_order(&self, intake: Intake) -> Result<String> {
        let mut g = self.fw.lock_as(self.person.as_deref())?;
        let now = g.clock.now_ms();
        let zone = g.store.settings().policy().zone();
        validate::intake(&intake, now, zone)?;
        let order = WorkOrder::from_intake(new_id("wo"), now, g.acting_user(), intake);
        let id = order.id.clone();
        g.save_order(&order, "intake")?;
        Ok(id)
    }

    /// Assign (or reassign) an engineer; a received order is dispatched.
    pub fn assign(&self, id: &str, engineer: &str) -> Result<()> {
        validate::required("engineer", engineer, MAX_CODE_CHARS)?;
        self.edit_order(id, "assign", |o, cx| {
            if current_status(o).is_terminal() {
                return Err(
                    wrong_status(current_status(o), "a finished order cannot be assigned").into(),
                );
            }
            o.assignee = Some(engineer.to_string());
            if current_status(o) == Status::Received {
                cx.transition(o, Status::Dispatched, None, None)?;
            }
            Ok(())
        })
    }

    /// A follow-up call by the desk, reached or not. A reached call moves a
    /// signed-off order to followed-up; unsatisfied opens a complaint candidate.
    pub fn record_follow_up(&self, id: &str, call: FollowUpInput) -> Result<()> {
        validate::optional("aspect", call.aspect.as_deref(), MAX_TEXT_CHARS)?;
        validate::optional("comment", call.comment.as_deref(), MAX_TEXT_CHARS)?;
        if !call.reached && call.rating.is_some() {
            return Err(validate::invalid(
                "rating",
                "a call that did not reach the customer has no rating",
            )
            .into());
        }
        if matches!(call.rating, Some(Rating::Neutral | Rating::Unsatisfied))
            && call.aspect.as_deref().is_none_or(|a| a.trim().is_empty())
        {
            return Err(validate::invalid(
                "aspect",
                "ask which aspect a neutral or unsatisfied customer means",
            )
            .into());
        }
        self.edit_order(id, "follow-up", |o, cx| {
            cx.require(
                o,
                &[Status::SignedOff, Status::FollowedUp],
                "follow-up calls come after service",
            )?;
            o.follow_ups.push(FollowUpCall {
                id: new_id("fu"),
                at_ms: cx.now,
                by: cx.user.clone(),
                reached: call.reached,
                rating: call.rating,
                aspect: call.aspect.clone(),
                comment: call.comment.clone(),
            });
            if call.rating == Some(Rating::Unsatisfied) {
                cx.complaint_candidate(o, call.aspect.clone().unwrap_or_default());
            }
            if call.reached && current_status(o) == Status::SignedOff {
                cx.transition(o, Status::FollowedUp, None, None)?;
            }
            Ok(())
        })
    }

    pub fn register_complaint(
        &self,
        id: &str,
        what: &str,
        category: ComplaintCategory,
        major: bool,
    ) -> Result<String> {
        validate::required("what", what, MAX_TEXT_CHARS)?;
        self.edit_order(id, "complaint", |o, cx| {
            let cid = new_id("cp");
            o.complaints.push(Complaint {
                category,
                major,
                ..Complaint::new(
                    cid.clone(),
                    cx.now,
                    cx.user.clone(),
                    what.to_string(),
                    ComplaintStage::Registered,
                )
            });
            Ok(cid)
        })
    }

    /// Move a complaint one step along its workflow
    /// ([`crate::rules::complaints`]). Each step is allowed only at its
    /// stage, and picking a resolution only for a supervisor.
    pub fn advance_complaint(
        &self,
        id: &str,
        complaint_id: &str,
        step: ComplaintStep,
    ) -> Result<()> {
        complaints::check_step(&step)?;
        let role = self.role;
        self.edit_order(id, "complaint step", |o, cx| {
            let c = o
                .complaints
                .iter_mut()
                .find(|c| c.id == complaint_id)
                .ok_or_else(|| Error::NotFound {
                    kind: "complaint",
                    id: complaint_id.to_string(),
                })?;
            Ok(complaints::advance(c, step, role, &cx.user, cx.now)?)
        })
    }

    /// Record a mail-in milestone at `at_ms` (not before intake, not in the future).
    pub fn record_mail_in(&self, id: &str, milestone: MailInMilestone, at_ms: i64) -> Result<()> {
        self.edit_order(id, "mail-in", |o, cx| {
            let m = o.mail_in.as_mut().ok_or_else(|| {
                RuleError::Precondition("the order is not a mail-in repair".into())
            })?;
            if at_ms < o.created_at_ms || at_ms > cx.now {
                return Err(validate::invalid("at", "must be between intake and now").into());
            }
            let slot = match milestone {
                MailInMilestone::Shipped => &mut m.shipped_at_ms,
                MailInMilestone::ReceiptConfirmed => &mut m.receipt_confirmed_at_ms,
                MailInMilestone::CustomerUpdated => &mut m.customer_updated_at_ms,
                MailInMilestone::SecondContact => &mut m.second_contact_at_ms,
                MailInMilestone::Returned => &mut m.returned_at_ms,
            };
            *slot = Some(at_ms);
            Ok(())
        })
    }

    /// Save a new version of the service center's settings, in force for
    /// orders received from now on (decision 0012). A supervisor's; the
    /// input is checked whole and nothing is written if any of it is bad.
    /// Returns the new version's number.
    pub fn change_settings(&self, input: &SettingsInput) -> Result<i64> {
        crate::rules::roles::may_change_settings(self.role)?;
        let mut g = self.fw.lock_as(self.person.as_deref())?;
        let version = g.store.settings().next_version();
        let now = g.clock.now_ms();
        let record = input.record(version, now, &g.acting_user())?;
        let mut doc = g.settings_doc()?;
        doc.versions.push(record);
        g.save_doc(SETTINGS_ID, DocKind::Settings, &doc, "settings", Rows::None)?;
        Ok(version)
    }

    pub fn upsert_catalog_part(&self, part: CatalogPart) -> Result<()> {
        validate::required("sku", &part.sku, MAX_CODE_CHARS)?;
        validate::required("name", &part.name, MAX_NAME_CHARS)?;
        validate::amount("unit_price", part.unit_price_minor)?;
        if part.low_stock_threshold < 0 {
            return Err(validate::invalid("low_stock_threshold", "must not be negative").into());
        }
        let mut g = self.fw.lock_as(self.person.as_deref())?;
        let mut catalog = g.catalog()?;
        catalog.parts.insert(part.sku.clone(), part);
        g.save_doc(
            CATALOG_ID,
            DocKind::Catalog,
            &catalog,
            "catalog",
            Rows::None,
        )
    }
}
