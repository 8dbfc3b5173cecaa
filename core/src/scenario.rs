//! A scripted day in the field: a plausible intake, the catalog part the
//! scripts use, a signature, and a whole visit. The runnable example, the
//! server's demo, the end-to-end tests and the benchmarks all play this one
//! script, so they exercise the same path an app does.

use crate::Fieldwork;
use crate::api::{DiagnosisInput, ManualClock, Result};
use crate::model::*;
pub use crate::samples::{intake, qc_checklist, relay, signature};

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
    let id = fw.desk().create_order(intake(n))?;
    fw.desk().assign(&id, &fw.user())?;
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
