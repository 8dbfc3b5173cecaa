//! Every public call refuses bad input with a typed error that says what was
//! wrong, and leaves the store exactly as it was.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use common::*;
use fieldwork_core::api::{ConsentInput, DiagnosisInput, MailInMilestone};
use fieldwork_core::model::*;
use fieldwork_core::{Config, Error, Fieldwork, Policy};

/// Run `call`; it must fail with an error matching `check`, and the store must not change.
fn refused<T: std::fmt::Debug>(
    d: &Device,
    call: impl FnOnce(&Fieldwork) -> Result<T, Error>,
    check: impl Fn(&Error) -> bool,
) -> String {
    let before = fingerprint(&d.fw);
    let err = call(&d.fw).expect_err("call should be refused");
    assert!(check(&err), "unexpected error: {err:?}");
    assert_eq!(
        fingerprint(&d.fw),
        before,
        "store changed after refusing: {err}"
    );
    err.to_string()
}

fn invalid(field: &'static str) -> impl Fn(&Error) -> bool {
    move |e| matches!(e, Error::Invalid(i) if i.field == field)
}

fn setup() -> (Device, String) {
    let d = device("eng-1");
    catalog(&d.fw);
    d.fw.receive_stock("RLY", 1).unwrap();
    let id = order_in_progress(&d, "Li Wei", "SN-1").unwrap();
    (d, id)
}

#[test]
fn unknown_ids_are_not_found() {
    let (d, _) = setup();
    let msg = refused(
        &d,
        |fw| fw.accept("wo-doesnotexist"),
        |e| matches!(e, Error::NotFound { kind: "order", .. }),
    );
    assert_eq!(msg, "order wo-doesnotexist not found");
    refused(
        &d,
        |fw| fw.order("not an id"),
        |e| matches!(e, Error::NotFound { .. }),
    );
    refused(
        &d,
        |fw| fw.add_note("'; DROP TABLE orders; --", "x"),
        |e| matches!(e, Error::NotFound { .. }),
    );
    refused(
        &d,
        |fw| fw.export_changes("wo-nothere", &[]),
        |e| matches!(e, Error::NotFound { .. }),
    );
    let (_, id) = setup();
    refused(
        &d,
        |fw| fw.mark_part_doa(&id, "p-nothere"),
        |e| matches!(e, Error::NotFound { .. }),
    );
}

#[test]
fn quantities_must_be_positive_and_bounded() {
    let (d, id) = setup();
    refused(&d, |fw| fw.use_part(&id, "RLY", 0, true), invalid("qty"));
    refused(&d, |fw| fw.use_part(&id, "RLY", -3, true), invalid("qty"));
    refused(
        &d,
        |fw| fw.use_part(&id, "RLY", 1_000_001, true),
        invalid("qty"),
    );
    refused(&d, |fw| fw.receive_stock("RLY", 0), invalid("qty"));
    refused(&d, |fw| fw.stocktake("RLY", -1), invalid("physical"));
    refused(
        &d,
        |fw| fw.add_fee(&id, FeeKind::Labour, "labour", -1),
        invalid("amount"),
    );
    refused(
        &d,
        |fw| fw.add_fee(&id, FeeKind::Labour, "labour", i64::MAX),
        invalid("amount"),
    );
}

#[test]
fn unknown_skus_and_short_stock_are_refused() {
    let (d, id) = setup();
    let msg = refused(
        &d,
        |fw| fw.use_part(&id, "NOPE", 1, true),
        |e| matches!(e, Error::UnknownSku { .. }),
    );
    assert_eq!(msg, "unknown part NOPE: it is not in the catalog");
    refused(
        &d,
        |fw| fw.receive_stock("NOPE", 1),
        |e| matches!(e, Error::UnknownSku { .. }),
    );
    refused(
        &d,
        |fw| fw.use_part(&id, "RLY", 2, true),
        |e| {
            matches!(
                e,
                Error::InsufficientStock {
                    on_hand: 1,
                    wanted: 2,
                    ..
                }
            )
        },
    );
    refused(
        &d,
        |fw| fw.return_part("RLY", 5),
        |e| matches!(e, Error::InsufficientStock { .. }),
    );
    refused(
        &d,
        |fw| {
            fw.diagnose(
                &id,
                DiagnosisInput {
                    planned_parts: vec!["NOPE".into()],
                    ..diagnosis("E1", FaultKind::Software)
                },
            )
        },
        |e| matches!(e, Error::UnknownSku { .. }),
    );
}

#[test]
fn an_intake_reports_every_error_at_once_in_the_order_of_the_form() {
    let mut i = intake("", "SN-2");
    i.customer.phone = None;
    i.customer.email = Some("not an address".into());
    i.fault.symptoms = " ".into();
    i.product.purchase_date = Some("2099-01-01".into());
    let all = fieldwork_core::validate::intake_all(&i, T0, chrono_tz::Tz::UTC);
    let fields: Vec<&str> = all.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "customer.name",
            "customer.email",
            "product.purchase_date",
            "fault.symptoms"
        ]
    );
    // The facade refuses with the first of them.
    let e = fieldwork_core::validate::intake(&i, T0, chrono_tz::Tz::UTC).unwrap_err();
    assert_eq!(e, all[0]);
}

#[test]
fn required_fields_and_caps_counted_in_characters() {
    let (d, id) = setup();
    let mut i = intake("  ", "SN-2");
    refused(
        &d,
        |fw| fw.desk().create_order(i.clone()),
        invalid("customer.name"),
    );
    i.customer.name = "王".repeat(201);
    let msg = refused(
        &d,
        |fw| fw.desk().create_order(i.clone()),
        invalid("customer.name"),
    );
    assert_eq!(msg, "invalid customer.name: longer than 200 characters");
    assert!(!msg.contains('王'), "no customer data in messages");
    // 200 Chinese characters (600 bytes) fit: the cap counts characters.
    i.customer.name = "王".repeat(200);
    d.fw.desk().create_order(i.clone()).unwrap();
    i.customer.name = "Li\u{0}Wei".into();
    refused(
        &d,
        |fw| fw.desk().create_order(i.clone()),
        invalid("customer.name"),
    );
    let mut i = intake("Li Wei", "");
    refused(
        &d,
        |fw| fw.desk().create_order(i.clone()),
        invalid("product.serial"),
    );
    i.product.serial = "SN".into();
    i.customer.phone = None;
    refused(
        &d,
        |fw| fw.desk().create_order(i.clone()),
        invalid("customer.phone"),
    );
    i.customer.email = Some("not-an-email".into());
    refused(
        &d,
        |fw| fw.desk().create_order(i.clone()),
        invalid("customer.email"),
    );
    refused(&d, |fw| fw.add_note(&id, ""), invalid("text"));
    refused(
        &d,
        |fw| fw.add_note(&id, &"x".repeat(4_001)),
        invalid("text"),
    );
    refused(&d, |fw| fw.cancel(&id, " "), invalid("reason"));
    refused(&d, |fw| fw.record_qc(&id, vec![]), invalid("items"));
    refused(
        &d,
        |fw| fw.rate(&id, Rating::Satisfied, Some(6), None),
        invalid("score"),
    );
    refused(&d, |fw| fw.desk().assign(&id, ""), invalid("engineer"));
}

#[test]
fn dates_in_an_impossible_order_are_refused() {
    let (d, id) = setup();
    let mut i = intake("Li Wei", "SN-3");
    i.product.purchase_date = Some("2099-01-01".into());
    let msg = refused(
        &d,
        |fw| fw.desk().create_order(i.clone()),
        invalid("product.purchase_date"),
    );
    assert_eq!(msg, "invalid product.purchase_date: is in the future");
    i.product.purchase_date = Some("2026-02-30".into());
    refused(
        &d,
        |fw| fw.desk().create_order(i.clone()),
        invalid("product.purchase_date"),
    );
    i.product.purchase_date = None;
    i.promised_by_ms = Some(T0 - 1);
    refused(
        &d,
        |fw| fw.desk().create_order(i.clone()),
        invalid("promised_by"),
    );
    let mut mail = intake("Li Wei", "SN-4");
    mail.channel = Channel::MailIn;
    let m = d.fw.desk().create_order(mail).unwrap();
    refused(
        &d,
        |fw| {
            fw.desk()
                .record_mail_in(&m, MailInMilestone::Shipped, T0 - 10)
        },
        invalid("at"),
    );
    refused(
        &d,
        |fw| {
            fw.desk()
                .record_mail_in(&m, MailInMilestone::Shipped, i64::MAX)
        },
        invalid("at"),
    );
    refused(
        &d,
        |fw| fw.desk().record_mail_in(&id, MailInMilestone::Shipped, T0),
        |e| matches!(e, Error::Rule(_)),
    );
}

#[test]
fn signatures_must_be_real_strokes() {
    let (d, id) = setup();
    d.fw.mark_repaired(&id).unwrap();
    d.fw.record_qc(&id, qc_items(true)).unwrap();
    refused(
        &d,
        |fw| fw.capture_signature(&id, "Li Wei", vec![]),
        invalid("strokes"),
    );
    let nan = Stroke {
        points: vec![StrokePoint {
            x: f64::NAN,
            y: 0.0,
            t_ms: 0,
        }],
    };
    refused(
        &d,
        |fw| fw.capture_signature(&id, "Li Wei", vec![nan.clone()]),
        invalid("strokes"),
    );
    let backwards = Stroke {
        points: vec![
            StrokePoint {
                x: 0.0,
                y: 0.0,
                t_ms: 10,
            },
            StrokePoint {
                x: 1.0,
                y: 1.0,
                t_ms: 5,
            },
        ],
    };
    refused(
        &d,
        |fw| fw.capture_signature(&id, "Li Wei", vec![backwards.clone()]),
        invalid("strokes"),
    );
    refused(
        &d,
        |fw| fw.capture_signature(&id, "", vec![stroke()]),
        invalid("signer_name"),
    );
    refused(
        &d,
        |fw| {
            fw.record_consent(
                &id,
                ConsentInput {
                    kind: ConsentKind::FeeList,
                    accepted: true,
                    signer_name: "Li".into(),
                    scope: "fees".into(),
                    parts: vec![],
                    strokes: vec![nan.clone()],
                },
            )
        },
        invalid("strokes"),
    );
    refused(
        &d,
        |fw| {
            fw.arrive(
                &id,
                Some(Location {
                    lat: 91.0,
                    lon: 0.0,
                    accuracy_m: None,
                }),
            )
        },
        invalid("location"),
    );
}

#[test]
fn illegal_steps_are_refused_with_the_rule() {
    let (d, id) = setup();
    let msg = refused(
        &d,
        |fw| fw.transition(&id, Status::Closed, None),
        |e| matches!(e, Error::Rule(_)),
    );
    assert_eq!(msg, "illegal transition from in_progress to closed");
    refused(
        &d,
        |fw| fw.capture_signature(&id, "Li Wei", vec![stroke()]),
        |e| matches!(e, Error::Rule(_)),
    );
    refused(
        &d,
        |fw| fw.record_qc(&id, qc_items(true)),
        |e| matches!(e, Error::Rule(_)),
    );
}

#[test]
fn malformed_document_bytes_are_refused_on_import() {
    let (d, id) = setup();
    let good = d.fw.export_changes(&id, &[]).unwrap();
    refused(
        &d,
        |fw| fw.import_changes(&id, b"not automerge"),
        |e| matches!(e, Error::MalformedDocument { .. }),
    );
    refused(
        &d,
        |fw| fw.import_changes(&id, &good[..good.len() / 2]),
        |e| matches!(e, Error::MalformedDocument { .. }),
    );
    refused(
        &d,
        |fw| fw.import_changes("wo-new", &good[..10]),
        |e| matches!(e, Error::MalformedDocument { .. }),
    );
    refused(
        &d,
        |fw| fw.import_changes("bad id", &good),
        invalid("doc_id"),
    );
    // A well-formed Automerge document that is not a work order.
    let mut other = automerge::AutoCommit::new();
    automerge::transaction::Transactable::put(&mut other, automerge::ROOT, "hello", "world")
        .unwrap();
    let bytes = other.save();
    refused(
        &d,
        |fw| fw.import_changes("wo-other", &bytes),
        |e| matches!(e, Error::MalformedDocument { .. }),
    );
    // An order document filed under another order's id.
    refused(
        &d,
        |fw| fw.import_changes("wo-elsewhere", &good),
        |e| matches!(e, Error::MalformedDocument { .. }),
    );
    refused(
        &d,
        |fw| fw.export_changes(&id, &["zz".into()]),
        invalid("since"),
    );
    // The good bytes are fine and change nothing new.
    assert!(!d.fw.import_changes(&id, &good).unwrap().changed);
}

#[test]
fn a_bad_policy_or_user_is_refused_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let policy = Policy {
        repair_limit_min: -5,
        ..Policy::default()
    };
    let err = Fieldwork::open(
        dir.path().join("a.db"),
        Config {
            policy,
            ..Config::new("eng")
        },
    )
    .unwrap_err();
    assert!(
        matches!(&err, Error::Invalid(i) if i.field == "policy"),
        "{err}"
    );
    assert!(Fieldwork::open(dir.path().join("b.db"), Config::new("")).is_err());
}

mod arbitrary_bytes {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// Corrupted change bytes never panic; a refusal changes nothing.
        #[test]
        fn corrupted_imports_are_refused_or_harmless(flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6), cut in any::<prop::sample::Index>()) {
            let (d, id) = setup();
            let mut bytes = d.fw.export_changes(&id, &[]).unwrap();
            for (at, b) in &flips {
                let i = at.index(bytes.len());
                bytes[i] ^= b | 1;
            }
            bytes.truncate(cut.index(bytes.len() + 1));
            let before = fingerprint(&d.fw);
            match d.fw.import_changes("wo-fresh", &bytes) {
                Ok(_) => {}
                Err(_) => prop_assert_eq!(&fingerprint(&d.fw), &before),
            }
            match d.fw.import_changes(&id, &bytes) {
                Ok(_) => {}
                Err(_) => prop_assert_eq!(&fingerprint(&d.fw), &before),
            }
            prop_assert_eq!(d.fw.integrity_check().unwrap(), "ok");
            prop_assert_eq!(d.fw.order(&id).unwrap().status, Status::InProgress);
        }
    }
}
