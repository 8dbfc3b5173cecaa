//! The engineer's visit, as the phone's user: the lifecycle (accept, travel,
//! arrive, work, repaired, cancel), diagnosis, warranty, extra faults,
//! notes, parts from the van or ordered, fees, consents, QC, the customer's
//! signature or refusal, and the satisfaction check.

use super::{Error, Fieldwork, Result, new_id};
use crate::attest;
use crate::l10n::Language;
use crate::model::*;
use crate::rules::fees::decide_warranty;
use crate::rules::lifecycle::current_status;
use crate::rules::signoff::{ReportFormat, render_report_in, report_sha256};
use crate::rules::{RuleError, wrong_status};
use crate::validate::{self, MAX_CODE_CHARS, MAX_NAME_CHARS, MAX_TEXT_CHARS};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DiagnosisInput {
    pub fault_code: String,
    pub kind: FaultKind,
    pub findings: String,
    pub planned_parts: Vec<String>,
    pub estimate_minor: i64,
    pub misuse: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsentInput {
    pub kind: ConsentKind,
    pub accepted: bool,
    pub signer_name: String,
    pub scope: String,
    pub parts: Vec<String>,
    pub strokes: Vec<Stroke>,
}

impl Fieldwork {
    /// Any lifecycle transition, with the rules' guards.
    pub fn transition(&self, id: &str, to: Status, reason: Option<String>) -> Result<()> {
        validate::optional("reason", reason.as_deref(), MAX_TEXT_CHARS)?;
        self.edit_order(id, to.as_str(), |o, cx| cx.transition(o, to, reason, None))
    }

    pub fn accept(&self, id: &str) -> Result<()> {
        self.transition(id, Status::Accepted, None)
    }

    pub fn en_route(&self, id: &str) -> Result<()> {
        self.transition(id, Status::EnRoute, None)
    }

    /// Arrival on site, with the location if the app has one.
    pub fn arrive(&self, id: &str, location: Option<Location>) -> Result<()> {
        if let Some(l) = &location {
            let ok = l.lat.is_finite()
                && l.lon.is_finite()
                && (-90.0..=90.0).contains(&l.lat)
                && (-180.0..=180.0).contains(&l.lon)
                && l.accuracy_m.is_none_or(|a| a.is_finite() && a >= 0.0);
            if !ok {
                return Err(validate::invalid(
                    "location",
                    "latitude, longitude or accuracy out of range",
                )
                .into());
            }
        }
        self.edit_order(id, "arrive", |o, cx| {
            cx.transition(o, Status::OnSite, None, location)
        })
    }

    pub fn start_work(&self, id: &str) -> Result<()> {
        self.transition(id, Status::InProgress, None)
    }

    pub fn mark_repaired(&self, id: &str) -> Result<()> {
        self.transition(id, Status::Repaired, None)
    }

    pub fn cancel(&self, id: &str, reason: &str) -> Result<()> {
        validate::required("reason", reason, MAX_TEXT_CHARS)?;
        self.transition(id, Status::Cancelled, Some(reason.to_string()))
    }

    /// Record the reason (holiday, waiting for parts, customer delay) that
    /// extends the repair clock to its exception limit.
    pub fn set_sla_exception(&self, id: &str, reason: &str) -> Result<()> {
        validate::required("reason", reason, MAX_TEXT_CHARS)?;
        self.edit_order(id, "sla exception", |o, cx| {
            o.sla_exception = Some(SlaException {
                reason: reason.to_string(),
                by: cx.user.clone(),
                at_ms: cx.now,
            });
            Ok(())
        })
    }

    pub fn diagnose(&self, id: &str, d: DiagnosisInput) -> Result<()> {
        validate::required("fault_code", &d.fault_code, MAX_CODE_CHARS)?;
        validate::required("findings", &d.findings, MAX_TEXT_CHARS)?;
        validate::amount("estimate", d.estimate_minor)?;
        let mut g = self.lock()?;
        let catalog = g.catalog()?;
        for sku in &d.planned_parts {
            if !catalog.parts.contains_key(sku) {
                return Err(Error::UnknownSku { sku: sku.clone() });
            }
        }
        let mut o = g.load_order(id)?;
        let status = current_status(&o);
        let on_bench = status == Status::Accepted && o.intake.channel == Channel::MailIn;
        if !(matches!(status, Status::OnSite | Status::InProgress) || on_bench) {
            return Err(wrong_status(
                status,
                "diagnose on site (or on the bench for mail-in units)",
            )
            .into());
        }
        let now = g.clock.now_ms();
        let priors = g.store.prior_repairs(&o.intake.product.serial, &o.id)?;
        o.rework_of = crate::rules::rework::rework_of(
            &priors,
            &o.intake.product.serial,
            &d.fault_code,
            now,
            g.store.policy_for(&o),
        );
        o.diagnosis = Some(Diagnosis {
            fault_code: d.fault_code,
            kind: d.kind,
            findings: d.findings,
            planned_parts: d.planned_parts,
            estimate_minor: d.estimate_minor,
            misuse: d.misuse,
            by: g.acting_user(),
            at_ms: now,
        });
        g.save_order(&o, "diagnose")
    }

    /// Decide the warranty from the purchase date, the proof and misuse.
    pub fn decide_warranty(
        &self,
        id: &str,
        proof_checked: bool,
        misuse: bool,
    ) -> Result<WarrantyDecision> {
        self.edit_order(id, "warranty", |o, cx| {
            let bought = match &o.intake.product.purchase_date {
                Some(d) => Some(validate::date("product.purchase_date", d)?),
                None => None,
            };
            // "Today" at the service center, in its time zone.
            let today = crate::local_time::local_date(cx.policy.zone(), cx.now);
            let misuse = misuse || o.diagnosis.as_ref().is_some_and(|d| d.misuse);
            let out = decide_warranty(bought, proof_checked, misuse, today, cx.policy);
            let decision = WarrantyDecision {
                in_warranty: out.in_warranty,
                reason: out.reason,
                proof_checked,
                misuse,
                decided_at_ms: cx.now,
                by: cx.user.clone(),
            };
            o.warranty = Some(decision.clone());
            Ok(decision)
        })
    }

    pub fn record_extra_fault(&self, id: &str, description: &str) -> Result<()> {
        validate::required("description", description, MAX_TEXT_CHARS)?;
        self.edit_order(id, "extra fault", |o, cx| {
            cx.require(
                o,
                &[Status::InProgress, Status::AwaitingParts],
                "extra faults are found during repair",
            )?;
            o.extra_faults.push(ExtraFault {
                id: new_id("xf"),
                description: description.to_string(),
                by: cx.user.clone(),
                at_ms: cx.now,
            });
            Ok(())
        })
    }

    pub fn add_note(&self, id: &str, text: &str) -> Result<()> {
        validate::required("text", text, MAX_TEXT_CHARS)?;
        self.edit_order(id, "note", |o, cx| {
            if current_status(o).is_terminal() {
                return Err(wrong_status(current_status(o), "the order is finished").into());
            }
            o.repair_notes.push(Note {
                id: new_id("n"),
                text: text.to_string(),
                by: cx.user.clone(),
                at_ms: cx.now,
            });
            Ok(())
        })
    }

    /// Fit `qty` of `sku` from the van: the part line and the stock decrement
    /// are one transaction. Returns the part line's id.
    pub fn use_part(&self, id: &str, sku: &str, qty: i64, quality_fault: bool) -> Result<String> {
        self.add_part(id, sku, qty, quality_fault, PartState::Applied)
    }

    /// Order a part from the center; the order waits for it.
    pub fn order_part(&self, id: &str, sku: &str, qty: i64) -> Result<String> {
        self.add_part(id, sku, qty, true, PartState::Ordered)
    }

    fn add_part(
        &self,
        id: &str,
        sku: &str,
        qty: i64,
        quality_fault: bool,
        state: PartState,
    ) -> Result<String> {
        validate::required("sku", sku, MAX_CODE_CHARS)?;
        validate::quantity("qty", qty)?;
        let mut g = self.lock()?;
        let catalog = g.catalog()?;
        let part = catalog.parts.get(sku).ok_or_else(|| Error::UnknownSku {
            sku: sku.to_string(),
        })?;
        let mut o = g.load_order(id)?;
        let status = current_status(&o);
        if status != Status::InProgress {
            return Err(wrong_status(
                status,
                "parts are used or ordered while the repair is in progress",
            )
            .into());
        }
        let Some(diag) = &o.diagnosis else {
            return Err(RuleError::Precondition("diagnose before using parts".into()).into());
        };
        if !diag.planned_parts.iter().any(|p| p == sku)
            && !o.consents.iter().any(|c| {
                c.kind == ConsentKind::ExtraParts && c.accepted && c.parts.iter().any(|p| p == sku)
            })
        {
            return Err(RuleError::ConsentRequired {
                kind: "extra parts",
                why: format!("{sku} was not in the diagnosis"),
            }
            .into());
        }
        let now = g.clock.now_ms();
        let line_id = new_id("p");
        o.parts.push(PartLine {
            id: line_id.clone(),
            sku: sku.to_string(),
            name: part.name.clone(),
            qty,
            unit_price_minor: part.unit_price_minor,
            state,
            quality_fault,
            doa: false,
            by: g.acting_user(),
            device: g.device_id.clone(),
            at_ms: now,
        });
        match state {
            PartState::Ordered => {
                let mut cx = g.cx(&o);
                cx.transition(
                    &mut o,
                    Status::AwaitingParts,
                    Some(format!("waiting for {sku}")),
                    None,
                )?;
                g.hlc = cx.hlc;
                g.save_order(&o, "order part")?;
            }
            PartState::Applied => {
                let on_hand = g.on_hand(sku)?;
                if on_hand < qty {
                    return Err(Error::InsufficientStock {
                        sku: sku.to_string(),
                        on_hand,
                        wanted: qty,
                    });
                }
                let movement = MovementKind::IssuedToOrder {
                    order_id: o.id.clone(),
                };
                g.save_order_and_stock(&o, sku, -qty, movement, "use part")?;
            }
        }
        Ok(line_id)
    }

    /// Mark a fitted part as dead on arrival.
    pub fn mark_part_doa(&self, id: &str, line_id: &str) -> Result<()> {
        self.edit_order(id, "part doa", |o, _| {
            let line = o
                .parts
                .iter_mut()
                .find(|p| p.id == line_id)
                .ok_or_else(|| Error::NotFound {
                    kind: "part line",
                    id: line_id.to_string(),
                })?;
            line.doa = true;
            Ok(())
        })
    }

    pub fn add_fee(
        &self,
        id: &str,
        kind: FeeKind,
        description: &str,
        amount_minor: i64,
    ) -> Result<String> {
        validate::required("description", description, MAX_TEXT_CHARS)?;
        validate::amount("amount", amount_minor)?;
        self.edit_order(id, "fee", |o, cx| {
            cx.require(
                o,
                &[
                    Status::OnSite,
                    Status::InProgress,
                    Status::AwaitingParts,
                    Status::Repaired,
                    Status::QcFailed,
                    Status::QcPassed,
                ],
                "fees are listed during the visit, before sign-off",
            )?;
            let fee_id = new_id("f");
            o.fees.push(FeeLine {
                id: fee_id.clone(),
                kind,
                description: description.to_string(),
                amount_minor,
                by: cx.user.clone(),
                at_ms: cx.now,
            });
            Ok(fee_id)
        })
    }

    /// Record a customer's consent or refusal, signed on the device.
    pub fn record_consent(&self, id: &str, c: ConsentInput) -> Result<String> {
        validate::required("signer_name", &c.signer_name, MAX_NAME_CHARS)?;
        validate::required("scope", &c.scope, MAX_TEXT_CHARS)?;
        validate::strokes("strokes", &c.strokes, c.accepted)?;
        let mut g = self.lock()?;
        if !c.parts.is_empty() {
            let catalog = g.catalog()?;
            if let Some(sku) = c.parts.iter().find(|s| !catalog.parts.contains_key(*s)) {
                return Err(Error::UnknownSku { sku: sku.clone() });
            }
        }
        let mut o = g.load_order(id)?;
        if current_status(&o).is_terminal() {
            return Err(wrong_status(current_status(&o), "the order is finished").into());
        }
        let consent_id = new_id("c");
        let mut consent = Consent {
            id: consent_id.clone(),
            kind: c.kind,
            accepted: c.accepted,
            signer_name: c.signer_name,
            scope: c.scope,
            parts: c.parts,
            strokes: c.strokes,
            by: g.acting_user(),
            at_ms: g.clock.now_ms(),
            attestation: None,
        };
        let cx = g.cx(&o);
        consent.attestation = cx.attest(&attest::consent_payload(&o.id, &consent, &cx.device))?;
        drop(cx);
        o.consents.push(consent);
        g.save_order(&o, "consent")?;
        Ok(consent_id)
    }

    /// The QC checklist after repair: passes only if every item passed. A pass
    /// locks QC; a fail sends the order back to repair with the failure kept.
    pub fn record_qc(&self, id: &str, items: Vec<QcItem>) -> Result<bool> {
        if items.is_empty() {
            return Err(validate::invalid("items", "the checklist is empty").into());
        }
        for it in &items {
            validate::required("items.name", &it.name, MAX_NAME_CHARS)?;
            validate::optional("items.note", it.note.as_deref(), MAX_TEXT_CHARS)?;
        }
        self.edit_order(id, "qc", |o, cx| {
            if o.qc.iter().any(|q| q.passed) {
                return Err(RuleError::QcLocked.into());
            }
            cx.require(o, &[Status::Repaired], "QC follows the repair")?;
            let passed = items.iter().all(|i| i.passed);
            let mut record = QcRecord {
                id: new_id("qc"),
                items,
                passed,
                inspector: cx.user.clone(),
                at_ms: cx.now,
                attestation: None,
            };
            record.attestation = cx.attest(&attest::qc_payload(&o.id, &record, &cx.device))?;
            o.qc.push(record);
            let to = if passed {
                Status::QcPassed
            } else {
                Status::QcFailed
            };
            cx.transition(o, to, None, None)?;
            Ok(passed)
        })
    }

    /// The customer signs the report as it is now, in the service
    /// center's language; the order is signed off.
    pub fn capture_signature(
        &self,
        id: &str,
        signer_name: &str,
        strokes: Vec<Stroke>,
    ) -> Result<()> {
        self.capture_signature_in(id, signer_name, strokes, self.language())
    }

    /// The customer signs the report as it is now in `language` (the one
    /// they read it in): the language is part of what is signed.
    pub fn capture_signature_in(
        &self,
        id: &str,
        signer_name: &str,
        strokes: Vec<Stroke>,
        language: Language,
    ) -> Result<()> {
        validate::required("signer_name", signer_name, MAX_NAME_CHARS)?;
        validate::strokes("strokes", &strokes, true)?;
        self.edit_order(id, "sign", |o, cx| {
            cx.require(o, &[Status::QcPassed], "the customer signs after QC passed")?;
            let report = render_report_in(o, cx.policy, ReportFormat::In(language));
            let mut signature = Signature {
                signer_name: signer_name.to_string(),
                strokes,
                report_sha256: report_sha256(&report),
                signed_at_ms: cx.now,
                device: cx.device.clone(),
                language: Some(language.tag().to_string()),
                attestation: None,
            };
            signature.attestation = cx.attest(&attest::signature_payload(&o.id, &signature))?;
            o.sign_off = Some(SignOff::Signed(signature));
            cx.transition(o, Status::SignedOff, None, None)
        })
    }

    /// The customer refuses to sign; the reason is recorded and the visit ends.
    pub fn refuse_signature(&self, id: &str, signer_name: &str, reason: &str) -> Result<()> {
        validate::required("signer_name", signer_name, MAX_NAME_CHARS)?;
        validate::required("reason", reason, MAX_TEXT_CHARS)?;
        self.edit_order(id, "refuse sign", |o, cx| {
            cx.require(o, &[Status::QcPassed], "sign-off follows QC")?;
            o.sign_off = Some(SignOff::Refused {
                signer_name: signer_name.to_string(),
                reason: reason.to_string(),
                at_ms: cx.now,
            });
            cx.transition(
                o,
                Status::SignedOff,
                Some("customer refused to sign".into()),
                None,
            )
        })
    }

    /// On-site satisfaction check. An unsatisfied rating opens a complaint candidate.
    pub fn rate(
        &self,
        id: &str,
        rating: Rating,
        score: Option<i64>,
        comment: Option<String>,
    ) -> Result<()> {
        if let Some(s) = score
            && !(1..=5).contains(&s)
        {
            return Err(validate::invalid("score", "must be between 1 and 5").into());
        }
        validate::optional("comment", comment.as_deref(), MAX_TEXT_CHARS)?;
        self.edit_order(id, "rate", |o, cx| {
            cx.require(
                o,
                &[Status::QcPassed, Status::SignedOff],
                "the customer rates at completion",
            )?;
            if o.satisfaction.is_some() {
                return Err(RuleError::Precondition(
                    "the customer has already rated this visit".into(),
                )
                .into());
            }
            o.satisfaction = Some(Satisfaction {
                rating,
                score,
                comment: comment.clone(),
                at_ms: cx.now,
            });
            if rating == Rating::Unsatisfied {
                cx.complaint_candidate(
                    o,
                    comment.unwrap_or_else(|| "unsatisfied at completion".into()),
                );
            }
            Ok(())
        })
    }
}
