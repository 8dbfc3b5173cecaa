//! One full on-site visit against a temporary store, start to finish, and the
//! service report the customer signed. Run: `cargo run -p fieldwork-core --example visit`.

use fieldwork_core::api::{ConsentInput, DiagnosisInput, FollowUpInput};
use fieldwork_core::model::*;
use fieldwork_core::scenario::qc_checklist;
use fieldwork_core::{Config, Fieldwork, ManualClock, OrderFilter};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile_dir()?;
    let path = dir.join("visit.db");
    let clock = ManualClock::new(chrono::Utc::now().timestamp_millis());
    let config = Config {
        clock: clock.clone(),
        ..Config::new("eng-zhang")
    };
    let fw = Fieldwork::open(&path, config)?;
    println!("store: {} (device {})", path.display(), fw.device_id());

    fw.desk().upsert_catalog_part(CatalogPart {
        sku: "RLY-24V".into(),
        name: "Compressor relay 24 V".into(),
        unit_price_minor: 4_500,
        low_stock_threshold: 2,
    })?;
    fw.receive_stock("RLY-24V", 2)?;

    let today = chrono::Utc::now().date_naive();
    let id = fw.desk().create_order(Intake {
        channel: Channel::Phone,
        customer: Customer {
            name: "王小明".into(),
            phone: Some("+86 138 0013 8000".into()),
            email: None,
            address: "上海市浦东新区世纪大道 100 号".into(),
            member: true,
        },
        product: Product {
            model: "AC-900 split unit".into(),
            serial: "AC9-2025-00042".into(),
            purchase_date: Some((today - chrono::Duration::days(200)).to_string()),
            proof_of_purchase: Some("INV-88231".into()),
        },
        fault: Fault {
            symptoms: "开机后不制冷 / no cooling after start".into(),
            frequency: Some("every start".into()),
            since: Some("two days".into()),
            environment: None,
            already_tried: Some("power cycle".into()),
        },
        category: Category::ProductQuality,
        priority: Priority::Urgent,
        promised_by_ms: None,
        site_zone: SiteZone::Urban,
    })?;
    let step = |what: &str| println!("  {what}");
    println!("order {id}");
    fw.desk().assign(&id, "eng-zhang")?;
    step("dispatched to eng-zhang");
    clock.advance_ms(60_000);
    fw.accept(&id)?;
    fw.en_route(&id)?;
    clock.advance_ms(15 * 60_000);
    fw.arrive(
        &id,
        Some(Location {
            lat: 31.2304,
            lon: 121.4737,
            accuracy_m: Some(8.0),
        }),
    )?;
    step("arrived on site after 16 minutes");
    fw.diagnose(
        &id,
        DiagnosisInput {
            fault_code: "E21".into(),
            kind: FaultKind::Hardware,
            findings: "compressor relay contacts burnt".into(),
            planned_parts: vec!["RLY-24V".into()],
            estimate_minor: 0,
            misuse: false,
        },
    )?;
    let w = fw.decide_warranty(&id, true, false)?;
    step(&format!("warranty: {}", w.reason));
    fw.start_work(&id)?;
    fw.use_part(&id, "RLY-24V", 1, true)?;
    fw.add_fee(
        &id,
        FeeKind::Labour,
        "Relay replacement, difficulty 2",
        12_000,
    )?;
    fw.add_note(&id, "Replaced relay, tested 3 cooling cycles")?;
    fw.record_consent(
        &id,
        ConsentInput {
            kind: ConsentKind::FeeList,
            accepted: true,
            signer_name: "王小明".into(),
            scope: "fee list as shown".into(),
            parts: vec![],
            strokes: vec![stroke(0.0)],
        },
    )?;
    clock.advance_ms(90 * 60_000);
    fw.mark_repaired(&id)?;
    let passed = fw.record_qc(&id, qc_checklist(true))?;
    step(&format!("QC passed: {passed}"));
    let report = fw.service_report(&id)?;
    fw.capture_signature(&id, "王小明", vec![stroke(0.0), stroke(20.0)])?;
    fw.rate(&id, Rating::Satisfied, Some(5), Some("快速专业".into()))?;
    clock.advance_ms(24 * 3_600_000);
    fw.desk().record_follow_up(
        &id,
        FollowUpInput {
            reached: true,
            rating: Some(Rating::Satisfied),
            aspect: None,
            comment: Some("no suggestions".into()),
        },
    )?;

    let view = fw.order(&id)?;
    println!("\n{report}");
    println!("status: {}", view.status.as_str());
    println!("signature: {:?}", view.signature);
    for c in &view.clocks {
        println!("SLA {:<10} {:?}", c.kind.as_str(), c.state);
    }
    for s in fw.van_stock()? {
        println!(
            "van stock {}: {} on hand{}",
            s.sku,
            s.on_hand,
            if s.reorder { " (reorder)" } else { "" }
        );
    }
    let open = fw.list_orders(&OrderFilter {
        open_only: true,
        ..OrderFilter::default()
    })?;
    println!("open orders in the store: {}", open.len());
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

fn stroke(y: f64) -> Stroke {
    Stroke {
        points: (0..12)
            .map(|i| StrokePoint {
                x: f64::from(i) * 10.0,
                y: y + f64::from(i % 3) * 4.0,
                t_ms: i64::from(i) * 16,
            })
            .collect(),
    }
}

fn tempfile_dir() -> std::io::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("fieldwork-visit-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
