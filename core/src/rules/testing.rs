//! Builders for rule tests: an order at each stage of a visit.
#![allow(clippy::unwrap_used)]

use crate::hlc::Hlc;
use crate::model::*;
use crate::policy::Policy;

pub const T0: i64 = 1_790_000_000_000;

pub fn new_order() -> WorkOrder {
    let mut intake = crate::samples::intake(0);
    intake.customer.name = "Li Wei".into();
    intake.product.serial = "SN-1".into();
    intake.product.purchase_date = Some("2026-01-01".into());
    intake.priority = Priority::Normal;
    WorkOrder::from_intake("wo-test".into(), T0, "desk".into(), intake)
}

fn next_at(order: &WorkOrder) -> i64 {
    order.events.iter().map(|e| e.at_ms).max().unwrap_or(T0) + 60_000
}

pub fn push_at(order: &mut WorkOrder, to: Status, at: i64, device: &str) {
    let from = crate::rules::lifecycle::current_status(order);
    let n = order.events.len();
    order.events.push(LifecycleEvent {
        id: format!("ev-{n}-{device}"),
        from,
        to,
        by: "eng".into(),
        device: device.into(),
        at_ms: at,
        hlc: Hlc {
            wall_ms: at,
            counter: 0,
        }
        .encode(device),
        reason: None,
        location: None,
    });
}

/// Append a transition after checking it is allowed.
pub fn push(order: &mut WorkOrder, to: Status) {
    crate::rules::lifecycle::check_transition(order, to, &Policy::default()).unwrap();
    let at = next_at(order);
    push_at(order, to, at, "dev-1");
}

pub fn on_site_order() -> WorkOrder {
    let mut o = new_order();
    o.assignee = Some("eng".into());
    for s in [
        Status::Dispatched,
        Status::Accepted,
        Status::EnRoute,
        Status::OnSite,
    ] {
        push(&mut o, s);
    }
    o
}

pub fn diagnose(order: &mut WorkOrder) {
    order.diagnosis = Some(Diagnosis {
        fault_code: "E21".into(),
        kind: FaultKind::Hardware,
        findings: "compressor relay".into(),
        planned_parts: vec!["SKU-1".into()],
        estimate_minor: 10_000,
        misuse: false,
        by: "eng".into(),
        at_ms: next_at(order),
    });
}

pub fn decide(order: &mut WorkOrder, in_warranty: bool) {
    order.warranty = Some(WarrantyDecision {
        in_warranty,
        reason: "test".into(),
        proof_checked: true,
        misuse: false,
        decided_at_ms: next_at(order),
        by: "eng".into(),
    });
}

pub fn consent(order: &mut WorkOrder, kind: ConsentKind, accepted: bool) {
    let n = order.consents.len();
    order.consents.push(Consent {
        id: format!("c-{n}"),
        kind,
        accepted,
        signer_name: "Li Wei".into(),
        scope: "test".into(),
        parts: vec![],
        strokes: vec![],
        by: "eng".into(),
        at_ms: next_at(order) + 1,
        attestation: None,
    });
}

/// On site, diagnosed, warranty decided, (paid consent given), work started.
pub fn working_order(in_warranty: bool) -> WorkOrder {
    let mut o = on_site_order();
    diagnose(&mut o);
    decide(&mut o, in_warranty);
    if !in_warranty {
        consent(&mut o, ConsentKind::PaidService, true);
    }
    push(&mut o, Status::InProgress);
    o
}

pub fn part(order: &mut WorkOrder, sku: &str, state: PartState) {
    let n = order.parts.len();
    order.parts.push(PartLine {
        id: format!("p-{n}-{sku}"),
        sku: sku.into(),
        name: "Relay".into(),
        qty: 2,
        unit_price_minor: 1_250,
        state,
        quality_fault: true,
        doa: false,
        by: "eng".into(),
        device: "dev-1".into(),
        at_ms: next_at(order),
    });
}

pub fn fee(order: &mut WorkOrder, kind: FeeKind, amount: i64) {
    let n = order.fees.len();
    order.fees.push(FeeLine {
        id: format!("f-{n}"),
        kind,
        description: "fee".into(),
        amount_minor: amount,
        by: "eng".into(),
        at_ms: next_at(order),
    });
}

pub fn extra_fault(order: &mut WorkOrder) {
    order.extra_faults.push(ExtraFault {
        id: "xf-1".into(),
        description: "fan bearing worn".into(),
        by: "eng".into(),
        at_ms: next_at(order),
    });
}

pub fn qc(order: &mut WorkOrder, passed: bool) {
    let n = order.qc.len();
    order.qc.push(QcRecord {
        id: format!("qc-{n}"),
        items: vec![QcItem {
            name: "function".into(),
            passed,
            note: None,
        }],
        passed,
        inspector: "eng".into(),
        at_ms: next_at(order),
        attestation: None,
    });
}

pub fn follow_up(order: &mut WorkOrder) {
    order.follow_ups.push(FollowUpCall {
        id: "fu-1".into(),
        at_ms: next_at(order),
        by: "desk".into(),
        reached: true,
        rating: Some(Rating::Satisfied),
        aspect: None,
        comment: None,
    });
}

/// A complaint the engineer noted ("came late"), for the desk to register.
pub fn candidate_complaint(order: &mut WorkOrder) {
    order.complaints.push(Complaint::new(
        "cp-1".into(),
        T0,
        "eng".into(),
        "came late".into(),
        ComplaintStage::Candidate,
    ));
}

/// A complete visit up to a valid sign-off.
pub fn visited_order(in_warranty: bool) -> WorkOrder {
    let mut o = working_order(in_warranty);
    part(&mut o, "SKU-1", PartState::Applied);
    fee(&mut o, FeeKind::Labour, 8_000);
    push(&mut o, Status::Repaired);
    qc(&mut o, true);
    push(&mut o, Status::QcPassed);
    let report = crate::rules::signoff::render_report(&o, &Policy::default());
    o.sign_off = Some(SignOff::Signed(Signature {
        signer_name: "Li Wei".into(),
        strokes: vec![],
        report_sha256: crate::rules::signoff::report_sha256(&report),
        signed_at_ms: next_at(&o),
        device: "dev-1".into(),
        // Signed over the original report (before languages existed).
        language: None,
        attestation: None,
    }));
    push(&mut o, Status::SignedOff);
    o
}
