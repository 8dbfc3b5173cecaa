//! Sample data the scripts, the demo, the benchmarks and the tests share: a
//! plausible intake, the catalog part they use, a signature and the QC
//! checklist. Plain values of the model, so the rules' own tests can use
//! them without reaching up into the facade.

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

/// The QC checklist of docs/domain.md: appearance, function, performance. A
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
