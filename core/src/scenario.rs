//! A scripted day in the field: a plausible intake, the catalog part the
//! scripts use, a signature, and a whole visit. The runnable example, the
//! server's demo, the end-to-end tests and the benchmarks all play this one
//! script, so they exercise the same path an app does.

use crate::Fieldwork;
use crate::api::{DiagnosisInput, ManualClock, Result};
use crate::model::*;

/// A plausible intake; `n` varies the customer, unit and urgency.
pub fn intake(n: u32) -> Intake {
    Intake {
        channel: Channel::Phone,
        customer: Customer {
            name: format!("客户 {n} Customer"),
            phone: Some(format!("+86 21 5555 {:04}", n % 10_000)),
            email: None,
            address: format!("上海市 {n} 号"),
            member: n.is_multiple_of(3),
        },
        product: Product {
            model: "AC-900".into(),
            serial: format!("SN-{n:06}"),
            // Bought a few weeks before T0: still in warranty after the
            // benchmark's 5,000 visits (about 250 simulated days).
            purchase_date: Some("2026-10-01".into()),
            proof_of_purchase: Some(format!("INV-{n}")),
        },
        fault: Fault {
            symptoms: "开机后不制冷 no cooling after start".into(),
            frequency: Some("every start".into()),
            since: Some("two days".into()),
            environment: None,
            already_tried: None,
        },
        category: Category::ProductQuality,
        priority: if n.is_multiple_of(7) {
            Priority::Urgent
        } else {
            Priority::Normal
        },
        promised_by_ms: None,
        site_zone: SiteZone::Urban,
    }
}

/// The catalog part the fixtures use.
pub fn relay() -> CatalogPart {
    CatalogPart {
        sku: "RLY".into(),
        name: "Relay".into(),
        unit_price_minor: 4_500,
        low_stock_threshold: 2,
    }
}

/// A signature of `strokes` strokes of 20 points.
pub fn signature(strokes: usize) -> Vec<Stroke> {
    (0..strokes)
        .map(|s| Stroke {
            points: (0..20)
                .map(|i| StrokePoint {
                    x: f64::from(i) * 7.5,
                    y: s as f64 * 30.0 + f64::from(i % 4),
                    t_ms: i64::from(i) * 16,
                })
                .collect(),
        })
        .collect()
}

/// The QC checklist of DOMAIN.md: appearance, function, performance. A
/// failing inspection fails on function.
pub fn qc_checklist(pass: bool) -> Vec<QcItem> {
    ["appearance", "function", "performance"]
        .into_iter()
        .map(|n| QcItem {
            name: n.into(),
            passed: pass || n != "function",
            note: None,
        })
        .collect()
}

/// The script's diagnosis: hardware fault E21, a burnt relay, one relay planned.
pub fn relay_diagnosis() -> DiagnosisInput {
    DiagnosisInput {
        fault_code: "E21".into(),
        kind: FaultKind::Hardware,
        findings: "relay contacts burnt".into(),
        planned_parts: vec!["RLY".into()],
        estimate_minor: 0,
        misuse: false,
    }
}

/// One full visit, intake to signed and rated, as the signed-in engineer.
/// The van needs one relay in stock.
pub fn full_visit(fw: &Fieldwork, clock: &ManualClock, n: u32) -> Result<String> {
    let id = fw.create_order(intake(n))?;
    fw.assign(&id, &fw.user())?;
    play_visit(fw, &id, &|ms| clock.advance_ms(ms))?;
    Ok(id)
}

/// The engineer's side of a visit to an order already dispatched to them:
/// accept, travel, arrive, diagnose (relay E21), warranty, repair with one
/// relay from the van, fee, QC, signature, rating. `advance` moves time on
/// (a manual clock in tests; nothing with the system clock).
pub fn play_visit(fw: &Fieldwork, id: &str, advance: &dyn Fn(i64)) -> Result<()> {
    let id = id.to_string();
    fw.accept(&id)?;
    fw.en_route(&id)?;
    advance(12 * 60_000);
    fw.arrive(&id, None)?;
    fw.diagnose(&id, relay_diagnosis())?;
    fw.decide_warranty(&id, true, false)?;
    fw.start_work(&id)?;
    fw.use_part(&id, "RLY", 1, true)?;
    fw.add_fee(&id, FeeKind::Labour, "relay swap", 9_000)?;
    fw.add_note(&id, "replaced relay, tested three cycles")?;
    advance(60 * 60_000);
    fw.mark_repaired(&id)?;
    fw.record_qc(&id, qc_checklist(true))?;
    fw.capture_signature(&id, "客户", signature(3))?;
    fw.rate(&id, Rating::Satisfied, Some(5), None)?;
    Ok(())
}
