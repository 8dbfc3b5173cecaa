//! A whole visit through the facade, and each rule as a user meets it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use common::*;
use fieldwork_core::api::{ConsentInput, FollowUpInput, MailInMilestone};
use fieldwork_core::model::*;
use fieldwork_core::rules::RuleError;
use fieldwork_core::rules::conflicts::Conflict;
use fieldwork_core::rules::roles::DeskRole;
use fieldwork_core::rules::signoff::SignatureState;
use fieldwork_core::rules::sla::{ClockKind, ClockState};
use fieldwork_core::{Config, Error, Fieldwork, OrderFilter, OrderSort};

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;

fn finish(d: &Device, id: &str) {
    d.fw.use_part(id, "RLY", 1, true).unwrap();
    d.fw.add_fee(id, FeeKind::Labour, "relay swap", 9_000)
        .unwrap();
    d.clock.advance_ms(HOUR);
    d.fw.mark_repaired(id).unwrap();
    assert!(d.fw.record_qc(id, qc_items(true)).unwrap());
    d.fw.capture_signature(id, "Li Wei", vec![stroke()])
        .unwrap();
}

#[test]
fn a_full_visit_ends_signed_with_clocks_met_and_stock_used() {
    let d = device("eng-1");
    catalog(&d.fw);
    d.fw.receive_stock("RLY", 3).unwrap();
    let id = order_in_progress(&d, "Li Wei", "SN-100").unwrap();
    finish(&d, &id);
    d.fw.rate(&id, Rating::Satisfied, Some(5), None).unwrap();

    let v = d.fw.order(&id).unwrap();
    assert_eq!(v.status, Status::SignedOff);
    assert_eq!(v.signature, SignatureState::Valid);
    assert!(v.conflicts.is_empty());
    assert!(v.follow_up_due);
    assert_eq!(
        v.order.events.len(),
        8,
        "dispatched, accepted, en route, on site, in progress, repaired, qc passed, signed off"
    );
    assert!(
        v.order
            .events
            .iter()
            .all(|e| e.by == "eng-1" && e.device == d.fw.device_id())
    );
    for kind in [
        ClockKind::Dispatch,
        ClockKind::Arrival,
        ClockKind::Repair,
        ClockKind::Paperwork,
    ] {
        let c = v.clocks.iter().find(|c| c.kind == kind).unwrap();
        assert_eq!(c.state, ClockState::Met, "{kind:?}");
    }
    assert_eq!(
        v.fees.customer_payable_minor, 0,
        "in warranty, quality fault"
    );
    let stock = d.fw.van_stock().unwrap();
    assert_eq!(stock[0].on_hand, 2);
    assert!(!stock[0].reorder);
    let ledger = d.fw.stock_ledger().unwrap();
    assert_eq!(ledger.len(), 2);
    assert_eq!(
        ledger[1].kind,
        MovementKind::IssuedToOrder {
            order_id: id.clone()
        }
    );

    d.clock.advance_ms(24 * HOUR);
    d.fw.desk()
        .record_follow_up(
            &id,
            FollowUpInput {
                reached: true,
                rating: Some(Rating::Satisfied),
                aspect: None,
                comment: None,
            },
        )
        .unwrap();
    d.fw.transition(&id, Status::Closed, None).unwrap();
    let v = d.fw.order(&id).unwrap();
    assert_eq!(v.status, Status::Closed);
    assert_eq!(
        v.clocks
            .iter()
            .find(|c| c.kind == ClockKind::FollowUp)
            .unwrap()
            .state,
        ClockState::Met
    );
}

#[test]
fn the_store_reopens_with_everything_that_returned() {
    let d = device("eng-1");
    catalog(&d.fw);
    d.fw.receive_stock("RLY", 1).unwrap();
    let id = order_in_progress(&d, "Li Wei", "SN-1").unwrap();
    finish(&d, &id);
    let before = fingerprint(&d.fw);
    let path = d.dir.path().join("fw.db");
    drop(d.fw);
    let fw = Fieldwork::open(
        &path,
        Config {
            clock: d.clock.clone(),
            ..Config::new("eng-1")
        },
    )
    .unwrap();
    assert_eq!(fingerprint(&fw), before);
    assert_eq!(fw.order(&id).unwrap().signature, SignatureState::Valid);
}

#[test]
fn a_change_after_signing_invalidates_the_signature_visibly() {
    let d = device("eng-1");
    catalog(&d.fw);
    d.fw.receive_stock("RLY", 1).unwrap();
    let id = order_in_progress(&d, "Li Wei", "SN-1").unwrap();
    finish(&d, &id);
    d.fw.add_note(&id, "also cleaned the filter").unwrap();
    let v = d.fw.order(&id).unwrap();
    assert_eq!(v.signature, SignatureState::Invalidated);
    assert!(v.conflicts.contains(&Conflict::SignedReportChanged));
}

#[test]
fn paid_repair_needs_acceptance_then_cannot_be_cancelled_once_parts_are_in() {
    let d = device("eng-1");
    catalog(&d.fw);
    d.fw.receive_stock("RLY", 1).unwrap();
    let id = d.fw.desk().create_order(intake("Li Wei", "SN-2")).unwrap();
    d.fw.desk().assign(&id, "eng-1").unwrap();
    d.fw.accept(&id).unwrap();
    d.fw.en_route(&id).unwrap();
    d.fw.arrive(
        &id,
        Some(Location {
            lat: 31.2,
            lon: 121.4,
            accuracy_m: Some(5.0),
        }),
    )
    .unwrap();
    d.fw.diagnose(&id, diagnosis("E21", FaultKind::Hardware))
        .unwrap();
    let w = d.fw.decide_warranty(&id, false, false).unwrap();
    assert!(!w.in_warranty);
    let err = d.fw.start_work(&id).unwrap_err();
    assert!(
        matches!(err, Error::Rule(RuleError::ConsentRequired { .. })),
        "{err}"
    );
    d.fw.record_consent(
        &id,
        ConsentInput {
            kind: ConsentKind::PaidService,
            accepted: true,
            signer_name: "Li Wei".into(),
            scope: "estimate 120.00 CNY".into(),
            parts: vec![],
            strokes: vec![stroke()],
        },
    )
    .unwrap();
    d.fw.start_work(&id).unwrap();
    d.fw.use_part(&id, "RLY", 1, false).unwrap();
    let err = d.fw.cancel(&id, "customer changed mind").unwrap_err();
    assert!(matches!(err, Error::Rule(RuleError::CannotCancel)), "{err}");
    assert_eq!(d.fw.order(&id).unwrap().status, Status::InProgress);
    assert_eq!(d.fw.order(&id).unwrap().fees.customer_payable_minor, 4_500);
}

#[test]
fn extra_parts_need_the_customers_consent() {
    let d = device("eng-1");
    catalog(&d.fw);
    d.fw.receive_stock("FAN", 1).unwrap();
    let id = order_in_progress(&d, "Li Wei", "SN-3").unwrap();
    let err = d.fw.use_part(&id, "FAN", 1, true).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Rule(RuleError::ConsentRequired {
                kind: "extra parts",
                ..
            })
        ),
        "{err}"
    );
    let consent = |parts: Vec<String>| ConsentInput {
        kind: ConsentKind::ExtraParts,
        accepted: true,
        signer_name: "Li Wei".into(),
        scope: "fan motor".into(),
        parts,
        strokes: vec![stroke()],
    };
    d.fw.record_consent(&id, consent(vec!["CAP".into()]))
        .unwrap();
    assert!(
        d.fw.use_part(&id, "FAN", 1, true).is_err(),
        "consent for another part does not count"
    );
    d.fw.record_consent(&id, consent(vec!["FAN".into()]))
        .unwrap();
    d.fw.use_part(&id, "FAN", 1, true).unwrap();
}

#[test]
fn extra_fault_found_during_repair_waits_for_consent() {
    let d = device("eng-1");
    catalog(&d.fw);
    let id = order_in_progress(&d, "Li Wei", "SN-4").unwrap();
    d.fw.record_extra_fault(&id, "fan bearing worn").unwrap();
    assert!(matches!(
        d.fw.mark_repaired(&id),
        Err(Error::Rule(RuleError::ConsentRequired { .. }))
    ));
    d.fw.record_consent(
        &id,
        ConsentInput {
            kind: ConsentKind::ExtraWork,
            accepted: true,
            signer_name: "Li Wei".into(),
            scope: "replace fan bearing".into(),
            parts: vec![],
            strokes: vec![stroke()],
        },
    )
    .unwrap();
    d.fw.mark_repaired(&id).unwrap();
}

#[test]
fn failed_qc_goes_back_to_repair_until_it_passes_then_locks() {
    let d = device("eng-1");
    catalog(&d.fw);
    let id = order_in_progress(&d, "Li Wei", "SN-5").unwrap();
    d.fw.mark_repaired(&id).unwrap();
    assert!(!d.fw.record_qc(&id, qc_items(false)).unwrap());
    assert_eq!(d.fw.order(&id).unwrap().status, Status::QcFailed);
    assert!(
        d.fw.capture_signature(&id, "Li Wei", vec![stroke()])
            .is_err()
    );
    d.fw.start_work(&id).unwrap();
    d.fw.mark_repaired(&id).unwrap();
    assert!(d.fw.record_qc(&id, qc_items(true)).unwrap());
    assert!(matches!(
        d.fw.record_qc(&id, qc_items(true)),
        Err(Error::Rule(RuleError::QcLocked))
    ));
    let v = d.fw.order(&id).unwrap();
    assert_eq!(v.order.qc.len(), 2);
    assert!(!v.order.qc[0].passed && v.order.qc[1].passed);
}

#[test]
fn same_fault_on_the_same_unit_within_the_window_is_free_rework() {
    let d = device("eng-1");
    catalog(&d.fw);
    let first = order_in_progress(&d, "Li Wei", "SN-9").unwrap();
    d.fw.add_note(&first, "reflashed firmware").unwrap();
    d.fw.mark_repaired(&first).unwrap();
    // The same unit, the same fault code, 5 days later: hardware without parts → rework.
    d.clock.advance_ms(5 * 24 * HOUR);
    let again = order_in_progress(&d, "Li Wei", "SN-9").unwrap();
    let v = d.fw.order(&again).unwrap();
    assert_eq!(v.order.rework_of.as_deref(), Some(first.as_str()));
    d.fw.add_fee(&again, FeeKind::Labour, "revisit", 9_000)
        .unwrap();
    assert_eq!(d.fw.order(&again).unwrap().fees.customer_payable_minor, 0);
    // Another 8 days on: outside the 7-day window.
    d.clock.advance_ms(8 * 24 * HOUR);
    let later = order_in_progress(&d, "Li Wei", "SN-9").unwrap();
    let v = d.fw.order(&later).unwrap();
    assert_eq!(
        v.order.rework_of.as_deref(),
        None,
        "prior repairs: {first} at +0, {again} not repaired"
    );
}

#[test]
fn repair_clock_extends_to_eight_hours_with_a_recorded_exception() {
    let d = device("eng-1");
    catalog(&d.fw);
    let id = order_in_progress(&d, "Li Wei", "SN-6").unwrap();
    d.clock.advance_ms(7 * HOUR);
    let repair = |fw: &Fieldwork| {
        fw.order(&id)
            .unwrap()
            .clocks
            .into_iter()
            .find(|c| c.kind == ClockKind::Repair)
            .unwrap()
    };
    assert_eq!(repair(&d.fw).state, ClockState::Breached);
    let breached =
        d.fw.list_orders(&OrderFilter {
            breached_only: true,
            ..OrderFilter::default()
        })
        .unwrap();
    assert_eq!(breached.len(), 1);
    d.fw.set_sla_exception(&id, "waiting for spare parts")
        .unwrap();
    let c = repair(&d.fw);
    assert_eq!(c.state, ClockState::Running);
    assert_eq!(c.due_at_ms - c.started_at_ms, 8 * HOUR);
    assert_eq!(c.exception.as_deref(), Some("waiting for spare parts"));
}

#[test]
fn unsatisfied_customers_open_complaint_candidates() {
    let d = device("eng-1");
    catalog(&d.fw);
    d.fw.receive_stock("RLY", 1).unwrap();
    let id = order_in_progress(&d, "Li Wei", "SN-7").unwrap();
    finish(&d, &id);
    d.fw.rate(&id, Rating::Unsatisfied, Some(1), Some("late".into()))
        .unwrap();
    let err = d.fw.desk().record_follow_up(
        &id,
        FollowUpInput {
            reached: true,
            rating: Some(Rating::Neutral),
            aspect: None,
            comment: None,
        },
    );
    assert!(matches!(err, Err(Error::Invalid(_))));
    d.fw.desk()
        .record_follow_up(
            &id,
            FollowUpInput {
                reached: false,
                rating: None,
                aspect: None,
                comment: None,
            },
        )
        .unwrap();
    assert_eq!(
        d.fw.order(&id).unwrap().status,
        Status::SignedOff,
        "an unreached call does not complete the follow-up"
    );
    d.fw.desk()
        .record_follow_up(
            &id,
            FollowUpInput {
                reached: true,
                rating: Some(Rating::Unsatisfied),
                aspect: Some("waiting time".into()),
                comment: None,
            },
        )
        .unwrap();
    let v = d.fw.order(&id).unwrap();
    assert_eq!(v.status, Status::FollowedUp);
    assert_eq!(v.order.follow_ups.len(), 2);
    assert_eq!(
        v.order
            .complaints
            .iter()
            .filter(|c| c.stage == ComplaintStage::Candidate)
            .count(),
        2
    );
    d.fw.desk()
        .register_complaint(
            &id,
            "engineer arrived late",
            ComplaintCategory::Timeliness,
            false,
        )
        .unwrap();
    assert_eq!(d.fw.order(&id).unwrap().order.complaints.len(), 3);
}

#[test]
fn complaints_follow_the_workflow_step_by_step_and_refuse_skipped_steps() {
    use fieldwork_core::api::ComplaintStep as Step;
    let d = device("desk");
    catalog(&d.fw);
    d.fw.receive_stock("RLY", 1).unwrap();
    let id = order_in_progress(&d, "Li Wei", "SN-8").unwrap();
    finish(&d, &id);
    d.fw.rate(
        &id,
        Rating::Unsatisfied,
        Some(1),
        Some("relay again".into()),
    )
    .unwrap();
    let cid = d.fw.order(&id).unwrap().order.complaints[0].id.clone();
    let step = |s: Step| d.fw.desk().advance_complaint(&id, &cid, s);
    let stage = || d.fw.order(&id).unwrap().order.complaints[0].stage;

    // Out of order: refused with the reason, nothing written.
    let before = fingerprint(&d.fw);
    for early in [
        Step::Judge {
            stands: true,
            explanation: None,
        },
        Step::Propose {
            resolutions: vec!["replace the unit".into()],
        },
        Step::Close {
            category: ComplaintCategory::RepairQuality,
        },
    ] {
        assert!(matches!(
            step(early),
            Err(Error::Rule(RuleError::Precondition(_)))
        ));
    }
    assert!(matches!(
        step(Step::Propose {
            resolutions: vec![]
        }),
        Err(Error::Invalid(_))
    ));
    assert!(matches!(
        d.fw.desk()
            .advance_complaint(&id, "cp-none", Step::Register),
        Err(Error::NotFound { .. })
    ));
    assert_eq!(fingerprint(&d.fw), before, "refused steps change nothing");

    step(Step::Register).unwrap();
    step(Step::Judge {
        stands: true,
        explanation: None,
    })
    .unwrap();
    assert_eq!(stage(), ComplaintStage::Investigating);
    step(Step::Responsible {
        party: "eng-1".into(),
        team: vec![],
    })
    .unwrap();
    assert!(
        step(Step::Propose {
            resolutions: vec!["a".into()]
        })
        .is_err(),
        "findings come before proposals"
    );
    step(Step::Investigate {
        findings: "relay from a bad batch".into(),
    })
    .unwrap();
    step(Step::Propose {
        resolutions: vec!["free second repair".into(), "replace the unit".into()],
    })
    .unwrap();
    assert!(
        step(Step::CustomerAccepts {
            signer_name: "Li Wei".into()
        })
        .is_err(),
        "the supervisor picks first"
    );
    assert!(matches!(
        step(Step::Pick { index: 7 }),
        Err(Error::Invalid(_))
    ));
    step(Step::Pick { index: 1 }).unwrap();
    step(Step::CustomerAccepts {
        signer_name: "Li Wei".into(),
    })
    .unwrap();
    assert!(
        step(Step::Close {
            category: ComplaintCategory::RepairQuality
        })
        .is_err(),
        "feedback first"
    );
    step(Step::Feedback {
        text: "happy with the new unit".into(),
    })
    .unwrap();
    step(Step::Close {
        category: ComplaintCategory::RepairQuality,
    })
    .unwrap();
    let c = d.fw.order(&id).unwrap().order.complaints[0].clone();
    assert_eq!(c.stage, ComplaintStage::Closed);
    assert_eq!(c.resolution.as_deref(), Some("replace the unit"));
    assert_eq!(c.accepted_by.as_deref(), Some("Li Wei"));
    assert_eq!(c.category, ComplaintCategory::RepairQuality);
    assert!(c.closed_at_ms.is_some());

    // One that does not stand is explained and closed; a major one needs a team.
    let other =
        d.fw.desk()
            .register_complaint(
                &id,
                "wants a new unit for a scratch",
                ComplaintCategory::Other,
                true,
            )
            .unwrap();
    let step2 = |s: Step| d.fw.desk().advance_complaint(&id, &other, s);
    assert!(matches!(
        step2(Step::Judge {
            stands: false,
            explanation: None
        }),
        Err(Error::Invalid(_))
    ));
    let major =
        d.fw.desk()
            .register_complaint(
                &id,
                "rude on the phone",
                ComplaintCategory::ServiceAttitude,
                true,
            )
            .unwrap();
    d.fw.desk()
        .advance_complaint(
            &id,
            &major,
            Step::Judge {
                stands: true,
                explanation: None,
            },
        )
        .unwrap();
    assert!(matches!(
        d.fw.desk().advance_complaint(
            &id,
            &major,
            Step::Responsible {
                party: "supervisor".into(),
                team: vec![]
            }
        ),
        Err(Error::Invalid(_))
    ));
    step2(Step::Judge {
        stands: false,
        explanation: Some("cosmetic scratch noted at intake".into()),
    })
    .unwrap();
    let v = d.fw.order(&id).unwrap();
    let c = v.order.complaints.iter().find(|c| c.id == other).unwrap();
    assert_eq!((c.stage, c.stands), (ComplaintStage::Closed, Some(false)));
}

#[test]
fn only_a_supervisor_picks_a_complaints_resolution() {
    use fieldwork_core::api::ComplaintStep as Step;
    let d = device("desk");
    let id = d.fw.desk().create_order(intake("Li Wei", "SN-11")).unwrap();
    let cid =
        d.fw.desk()
            .register_complaint(&id, "late", ComplaintCategory::Timeliness, false)
            .unwrap();
    let lin = d.fw.as_desk("desk-lin", DeskRole::Dispatcher);
    for s in [
        Step::Judge {
            stands: true,
            explanation: None,
        },
        Step::Responsible {
            party: "eng-1".into(),
            team: vec![],
        },
        Step::Investigate {
            findings: "40 minutes late".into(),
        },
        Step::Propose {
            resolutions: vec!["apology".into(), "free maintenance".into()],
        },
    ] {
        lin.advance_complaint(&id, &cid, s).unwrap();
    }
    let before = fingerprint(&d.fw);
    let err = lin
        .advance_complaint(&id, &cid, Step::Pick { index: 1 })
        .unwrap_err();
    assert_eq!(err.to_string(), "only a supervisor picks the resolution");
    assert!(matches!(err, Error::Rule(RuleError::RoleRequired { .. })));
    assert_eq!(fingerprint(&d.fw), before, "nothing written");
    d.fw.as_desk("sup-wu", DeskRole::Supervisor)
        .advance_complaint(&id, &cid, Step::Pick { index: 1 })
        .unwrap();
    let c = &d.fw.order(&id).unwrap().order.complaints[0];
    assert_eq!(c.resolution.as_deref(), Some("free maintenance"));
}

#[test]
fn as_desk_names_the_person_for_those_calls_only() {
    let d = device("server");
    let lin = d.fw.as_desk("desk-lin", DeskRole::Dispatcher);
    let id = lin.create_order(intake("A", "SN-9")).unwrap();
    lin.assign(&id, "eng-1").unwrap();
    let o = d.fw.order(&id).unwrap().order;
    assert_eq!(o.created_by, "desk-lin");
    assert_eq!(o.events[0].by, "desk-lin");
    let other = d.fw.desk().create_order(intake("B", "SN-10")).unwrap();
    assert_eq!(
        d.fw.order(&other).unwrap().order.created_by,
        "server",
        "back to the store's user"
    );
}

#[test]
fn mail_in_milestones_are_tracked_against_the_policy() {
    let d = device("desk-1");
    let mut i = intake("Li Wei", "SN-8");
    i.channel = Channel::MailIn;
    let id = d.fw.desk().create_order(i).unwrap();
    d.clock.advance_ms(2 * HOUR);
    d.fw.desk()
        .record_mail_in(&id, MailInMilestone::Shipped, T0 + HOUR)
        .unwrap();
    d.clock.advance_ms(8 * 24 * HOUR);
    let v = d.fw.order(&id).unwrap();
    let overdue: Vec<_> = v
        .mail_in
        .iter()
        .filter(|m| m.overdue)
        .map(|m| m.name)
        .collect();
    assert_eq!(
        overdue,
        vec!["confirm receipt and fault", "progress update to customer"]
    );
    assert!(
        d.fw.desk()
            .record_mail_in(&id, MailInMilestone::Returned, T0 - 1)
            .is_err()
    );
}

#[test]
fn lists_filter_and_sort_from_rows() {
    let d = device("desk-1");
    let a = d.fw.desk().create_order(intake("王小明", "S-A")).unwrap();
    d.clock.advance_ms(MIN);
    let mut urgent = intake("Zhao Lei", "S-B");
    urgent.priority = Priority::Urgent;
    let b = d.fw.desk().create_order(urgent).unwrap();
    d.clock.advance_ms(MIN);
    let c =
        d.fw.desk()
            .create_order(intake("Anna 100%_", "S-C"))
            .unwrap();
    d.fw.desk().assign(&c, "eng-2").unwrap();

    let all = d.fw.list_orders(&OrderFilter::default()).unwrap();
    let ids: Vec<&str> = all.iter().map(|r| r.id.as_str()).collect();
    // c is dispatched: its arrival clock (20 min) is due before a's dispatch clock (4 h).
    assert_eq!(
        ids,
        vec![b.as_str(), c.as_str(), a.as_str()],
        "urgent first, then due soonest"
    );
    let f = |filter: OrderFilter| {
        d.fw.list_orders(&filter)
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        f(OrderFilter {
            customer: Some("小明".into()),
            ..Default::default()
        }),
        vec![a.clone()]
    );
    assert_eq!(
        f(OrderFilter {
            customer: Some("100%_".into()),
            ..Default::default()
        }),
        vec![c.clone()]
    );
    assert_eq!(
        f(OrderFilter {
            customer: Some("%".into()),
            ..Default::default()
        }),
        vec![c.clone()]
    );
    assert_eq!(
        f(OrderFilter {
            assignee: Some("eng-2".into()),
            ..Default::default()
        }),
        vec![c.clone()]
    );
    assert_eq!(
        f(OrderFilter {
            statuses: vec![Status::Dispatched],
            ..Default::default()
        }),
        vec![c.clone()]
    );
    assert_eq!(
        f(OrderFilter {
            urgent_only: true,
            ..Default::default()
        }),
        vec![b.clone()]
    );
    assert_eq!(
        f(OrderFilter {
            sort: OrderSort::Newest,
            limit: 1,
            ..Default::default()
        }),
        vec![c.clone()]
    );
    d.clock.advance_ms(5 * HOUR);
    assert_eq!(
        f(OrderFilter {
            breached_only: true,
            ..Default::default()
        }),
        vec![b.clone(), c.clone(), a.clone()]
    );
    let rows = d.fw.list_orders(&OrderFilter::default()).unwrap();
    assert!(rows.iter().all(|r| r.breached));
    assert_eq!(rows[1].next_due_clock.as_deref(), Some("arrival"));
}

#[test]
fn one_store_is_safe_to_call_from_many_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Fieldwork>();
    let d = device("eng-1");
    catalog(&d.fw);
    d.fw.receive_stock("RLY", 40).unwrap();
    let fw = std::sync::Arc::new(d.fw);
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let fw = fw.clone();
            std::thread::spawn(move || {
                let mut ids = Vec::new();
                for i in 0..5 {
                    let id = fw
                        .desk()
                        .create_order(intake(&format!("T{t} C{i}"), &format!("SN-{t}-{i}")))
                        .unwrap();
                    fw.desk().assign(&id, "eng-1").unwrap();
                    fw.add_note(&id, "from a thread").unwrap();
                    ids.push(id);
                }
                ids
            })
        })
        .collect();
    let ids: Vec<String> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    assert_eq!(ids.len(), 20);
    let rows = fw
        .list_orders(&OrderFilter {
            limit: 100,
            ..OrderFilter::default()
        })
        .unwrap();
    assert_eq!(rows.len(), 20);
    for id in &ids {
        let v = fw.order(id).unwrap();
        assert_eq!(v.status, Status::Dispatched);
        assert_eq!(v.order.repair_notes.len(), 1);
    }
}
