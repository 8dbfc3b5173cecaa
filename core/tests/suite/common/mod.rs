//! Helpers shared by the core's integration tests: a store in a temp dir,
//! an intake, and an order walked to a given step.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use fieldwork_core::api::{DiagnosisInput, Result};
use fieldwork_core::model::*;
use fieldwork_core::{Config, Fieldwork, ManualClock, OrderFilter};
use std::sync::Arc;

pub const T0: i64 = 1_795_000_000_000; // 2026-11-18

pub struct Device {
    pub fw: Fieldwork,
    pub clock: Arc<ManualClock>,
    pub dir: tempfile::TempDir,
}

pub fn device(user: &str) -> Device {
    device_with_clock(user, ManualClock::new(T0))
}

/// A device whose clock is shared with others (replicas in one test).
pub fn device_with_clock(user: &str, clock: Arc<ManualClock>) -> Device {
    let dir = tempfile::tempdir().unwrap();
    let fw = Fieldwork::open(
        dir.path().join("fw.db"),
        Config {
            clock: clock.clone(),
            ..Config::new(user)
        },
    )
    .unwrap();
    Device { fw, clock, dir }
}

/// The scripted intake with this customer name and unit serial.
pub fn intake(name: &str, serial: &str) -> Intake {
    let mut i = fieldwork_core::scenario::intake(0);
    i.customer.name = name.into();
    i.product.serial = serial.into();
    i.priority = Priority::Normal;
    i
}

pub fn catalog(fw: &Fieldwork) {
    for (sku, name, price, threshold) in [
        ("RLY", "Relay", 4_500, 2),
        ("FAN", "Fan motor", 22_000, 1),
        ("CAP", "Capacitor", 1_800, 3),
    ] {
        fw.desk()
            .upsert_catalog_part(CatalogPart {
                sku: sku.into(),
                name: name.into(),
                unit_price_minor: price,
                low_stock_threshold: threshold,
            })
            .unwrap();
    }
}

pub fn diagnosis(code: &str, kind: FaultKind) -> DiagnosisInput {
    DiagnosisInput {
        fault_code: code.into(),
        kind,
        findings: "relay contacts burnt".into(),
        planned_parts: vec!["RLY".into()],
        estimate_minor: 0,
        misuse: false,
    }
}

pub fn stroke() -> Stroke {
    Stroke {
        points: (0..5)
            .map(|i| StrokePoint {
                x: f64::from(i),
                y: f64::from(i * i),
                t_ms: i64::from(i) * 10,
            })
            .collect(),
    }
}

pub fn qc_items(pass: bool) -> Vec<QcItem> {
    fieldwork_core::scenario::qc_checklist(pass)
}

/// A new order assigned to the device's user and walked on site, diagnosed
/// (hardware fault E21), in warranty, work started.
pub fn order_in_progress(d: &Device, name: &str, serial: &str) -> Result<String> {
    let id = d.fw.desk().create_order(intake(name, serial))?;
    d.fw.desk().assign(&id, &d.fw.user())?;
    d.clock.advance_ms(60_000);
    d.fw.accept(&id)?;
    d.fw.en_route(&id)?;
    d.clock.advance_ms(10 * 60_000);
    d.fw.arrive(&id, None)?;
    d.fw.diagnose(&id, diagnosis("E21", FaultKind::Hardware))?;
    d.fw.decide_warranty(&id, true, false)?;
    d.fw.start_work(&id)?;
    Ok(id)
}

/// Everything a user could see of a store: every document's heads and the rows.
pub fn fingerprint(fw: &Fieldwork) -> String {
    let mut s = String::new();
    for id in fw.document_ids().unwrap() {
        s.push_str(&format!("{id}:{:?}\n", fw.heads(&id).unwrap()));
    }
    let rows = fw
        .list_orders(&OrderFilter {
            limit: 500,
            ..OrderFilter::default()
        })
        .unwrap();
    s.push_str(&format!("{rows:?}\n{:?}\n", fw.van_stock().unwrap()));
    s
}

/// Copy every document from `from` into `to`.
pub fn sync_all(from: &Fieldwork, to: &Fieldwork) {
    for id in from.document_ids().unwrap() {
        let since = to.heads(&id).unwrap_or_default();
        let bytes = from.export_changes(&id, &since).unwrap();
        to.import_changes(&id, &bytes).unwrap();
    }
}
