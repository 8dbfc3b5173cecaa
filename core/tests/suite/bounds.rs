//! The bounds on what a chunk may unpack to (docs/sync.md, "Bounds") are
//! chosen from the largest legitimate document: a long visit at every field
//! cap, with three consents and the signature at the most strokes allowed.
//! This measures that visit and holds the bounds to a wide margin above it,
//! so raising a cap without the bounds fails here, not on a phone.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use fieldwork_core::api::ConsentInput;
use fieldwork_core::model::*;
use fieldwork_core::store::chunks::{self, Limits};
use fieldwork_core::validate::{MAX_STROKE_POINTS, MAX_TEXT_CHARS};

/// The most points a signature may have, spread over strokes, with the
/// full precision a tablet reports.
fn largest_signature() -> Vec<Stroke> {
    let per = 100;
    (0..MAX_STROKE_POINTS / per)
        .map(|s| Stroke {
            points: (0..per)
                .map(|i| StrokePoint {
                    x: 1_234.567_890_123 + i as f64 * 0.137_931_034_482_758_6,
                    y: 987.654_321_098 + s as f64 * 0.173_913_043_478_260_87,
                    t_ms: 1_795_000_000_000 + (s * per + i) as i64 * 16,
                })
                .collect(),
        })
        .collect()
}

#[test]
fn the_bounds_hold_the_largest_legitimate_visit_with_a_wide_margin() {
    let d = common::device("eng-a");
    let fw = &d.fw;
    fw.desk()
        .upsert_catalog_part(fieldwork_core::scenario::relay())
        .unwrap();
    fw.receive_stock("RLY", 5).unwrap();
    let id = fw
        .desk()
        .create_order(fieldwork_core::scenario::intake(1))
        .unwrap();
    fw.desk().assign(&id, "eng-a").unwrap();
    fw.accept(&id).unwrap();
    fw.en_route(&id).unwrap();
    fw.arrive(&id, None).unwrap();
    fw.diagnose(&id, fieldwork_core::scenario::relay_diagnosis())
        .unwrap();
    fw.decide_warranty(&id, false, false).unwrap();
    for kind in [
        ConsentKind::PaidService,
        ConsentKind::ExtraParts,
        ConsentKind::FeeList,
    ] {
        fw.record_consent(
            &id,
            ConsentInput {
                kind,
                accepted: true,
                signer_name: "王小明".into(),
                scope: "范围".repeat(100),
                parts: vec![],
                strokes: largest_signature(),
            },
        )
        .unwrap();
    }
    fw.start_work(&id).unwrap();
    fw.use_part(&id, "RLY", 1, true).unwrap();
    for n in 0..50 {
        let text = format!("{n:02}{}", "记".repeat(MAX_TEXT_CHARS - 2));
        fw.add_note(&id, &text).unwrap();
    }
    fw.mark_repaired(&id).unwrap();
    fw.record_qc(&id, fieldwork_core::scenario::qc_checklist(true))
        .unwrap();
    fw.capture_signature(&id, "王小明", largest_signature())
        .unwrap();

    let all = fw.export_changes(&id, &[]).unwrap();
    let read = chunks::read_changes(&all, &Limits::DEFAULT).unwrap();
    let largest_change = read.changes.iter().map(|c| c.bytes.len()).max().unwrap();
    let most_ops = read.changes.iter().map(|c| c.change.len()).max().unwrap() as u64;
    let mut doc = automerge::AutoCommit::load(&all).unwrap();
    let inflated = doc.save_nocompress().len();
    let total_ops: u64 = read.changes.iter().map(|c| c.change.len() as u64).sum();
    println!(
        "largest legitimate change: {largest_change} bytes, {most_ops} ops; document: {} changes, {total_ops} ops, {inflated} bytes uncompressed, {} saved",
        read.changes.len(),
        doc.save().len()
    );
    let l = Limits::DEFAULT;
    assert!(l.change_bytes >= 4 * largest_change, "{largest_change}");
    assert!(l.change_ops >= 100 * most_ops.max(1), "{most_ops}");
    assert!(l.document_bytes >= 4 * inflated, "{inflated}");
    assert!(l.document_ops >= 100 * total_ops, "{total_ops}");
    // And the whole saved document passes the document bounds.
    chunks::read_any(&doc.save(), &l).unwrap();
}
