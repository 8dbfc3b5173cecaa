//! The service center's settings as a user meets them: "today" is the
//! service center's, "same day" ends at its midnight, an order keeps the
//! policy it was received under, and bad settings change nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use common::*;
use fieldwork_core::rules::roles::DeskRole;
use fieldwork_core::rules::sla::ClockKind;
use fieldwork_core::{Error, Policy, SettingsInput};

fn at(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .timestamp_millis()
}

fn in_shanghai(d: &Device) {
    d.fw.desk()
        .change_settings(&SettingsInput {
            language: "zh-CN".into(),
            policy: Policy {
                time_zone: "Asia/Shanghai".into(),
                ..Policy::default()
            },
        })
        .unwrap();
}

#[test]
fn at_half_past_midnight_in_beijing_todays_purchase_date_is_not_in_the_future() {
    let d = device("desk");
    // 00:30 on 1 December Beijing time: still 30 November in UTC.
    d.clock.set(at("2026-11-30T16:30:00Z"));
    let mut bought_today = intake("王芳", "SN-1");
    bought_today.product.purchase_date = Some("2026-12-01".into());
    // Under UTC (no settings yet) the date is tomorrow: refused.
    let e = d.fw.desk().create_order(bought_today.clone()).unwrap_err();
    assert!(e.to_string().contains("in the future"), "{e}");
    in_shanghai(&d);
    let id = d.fw.desk().create_order(bought_today).unwrap();
    // The warranty is decided on the same local "today".
    d.fw.desk().assign(&id, "desk").unwrap();
    let mut tomorrow = intake("王芳", "SN-2");
    tomorrow.product.purchase_date = Some("2026-12-02".into());
    let e = d.fw.desk().create_order(tomorrow).unwrap_err();
    assert!(e.to_string().contains("in the future"), "{e}");
}

#[test]
fn the_paperwork_limit_runs_to_local_midnight_when_that_is_later_than_six_hours() {
    let d = device("eng-1");
    catalog(&d.fw);
    d.fw.receive_stock("RLY", 2).unwrap();
    in_shanghai(&d);
    // Work starts at 08:00 Beijing time; repaired at 09:11.
    d.clock.set(at("2026-12-01T00:00:00Z"));
    let id = order_in_progress(&d, "李伟", "SN-3").unwrap();
    d.fw.use_part(&id, "RLY", 1, true).unwrap();
    d.clock.advance_ms(60 * 60_000);
    d.fw.mark_repaired(&id).unwrap();
    let v = d.fw.order(&id).unwrap();
    let paperwork = v
        .clocks
        .iter()
        .find(|c| c.kind == ClockKind::Paperwork)
        .unwrap();
    // Midnight ending 1 December in Shanghai is 16:00 UTC.
    assert_eq!(paperwork.due_at_ms, at("2026-12-01T16:00:00Z"));
}

#[test]
fn a_settings_change_applies_to_orders_received_from_then_on() {
    let d = device("desk");
    let before = d.fw.desk().create_order(intake("A", "SN-A")).unwrap();
    d.clock.advance_ms(60_000);
    let v =
        d.fw.desk()
            .change_settings(&SettingsInput {
                language: "en".into(),
                policy: Policy {
                    dispatch_limit_min: 60,
                    ..Policy::default()
                },
            })
            .unwrap();
    assert_eq!(v, 1);
    d.clock.advance_ms(60_000);
    let after = d.fw.desk().create_order(intake("B", "SN-B")).unwrap();
    let limit = |id: &str| {
        let v = d.fw.order(id).unwrap();
        let c = v
            .clocks
            .iter()
            .find(|c| c.kind == ClockKind::Dispatch)
            .unwrap();
        (c.due_at_ms - c.started_at_ms) / 60_000
    };
    assert_eq!(limit(&before), 4 * 60, "received before: the old 4 h");
    assert_eq!(limit(&after), 60, "received after: the new 1 h");
    // The rows agree (lists sort by them).
    let rows = d.fw.list_orders(&Default::default()).unwrap();
    let row = |id: &str| rows.iter().find(|r| r.id == id).unwrap().next_due_at_ms;
    assert_eq!(
        row(&after).unwrap() - row(&before).unwrap(),
        60_000 - 3 * 3_600_000 + 60_000
    );
    // Reopened, the store still knows.
    let path = d.dir.path().join("fw.db");
    let Device { fw, clock, dir } = d;
    drop(fw);
    let again = fieldwork_core::Fieldwork::open(
        &path,
        fieldwork_core::Config {
            clock: clock.clone(),
            ..fieldwork_core::Config::new("desk")
        },
    )
    .unwrap();
    assert_eq!(again.policy().dispatch_limit_min, 60);
    assert_eq!(again.settings().unwrap().history().len(), 1);
    drop(dir);
}

#[test]
fn bad_settings_and_a_dispatcher_change_nothing() {
    let d = device("desk");
    let good = SettingsInput {
        language: "zh-CN".into(),
        policy: Policy::default(),
    };
    let bad = [
        SettingsInput {
            language: "fr".into(),
            ..good.clone()
        },
        SettingsInput {
            policy: Policy {
                time_zone: "Asia/Beijing".into(),
                ..Policy::default()
            },
            ..good.clone()
        },
        SettingsInput {
            policy: Policy {
                follow_up_limit_days: -3,
                ..Policy::default()
            },
            ..good.clone()
        },
        SettingsInput {
            policy: Policy {
                calling_hours: "20:00-09:00".into(),
                ..Policy::default()
            },
            ..good.clone()
        },
    ];
    for input in &bad {
        let e = d.fw.desk().change_settings(input).unwrap_err();
        assert!(matches!(e, Error::Invalid(_)), "{e}");
    }
    let e =
        d.fw.as_desk("dispatcher-1", DeskRole::Dispatcher)
            .change_settings(&good)
            .unwrap_err();
    assert!(e.to_string().contains("supervisor"), "{e}");
    assert!(!d.fw.settings().unwrap().is_saved(), "nothing was saved");
    assert!(
        !d.fw
            .document_ids()
            .unwrap()
            .contains(&"settings".to_string())
    );
}

#[test]
fn a_report_signed_in_chinese_verifies_and_the_english_text_is_another_one() {
    use fieldwork_core::Language;
    use fieldwork_core::model::FeeKind;
    use fieldwork_core::rules::signoff::{SignatureState, report_sha256};
    let d = device("eng-1");
    catalog(&d.fw);
    d.fw.receive_stock("RLY", 2).unwrap();
    in_shanghai(&d);
    d.clock.set(at("2026-12-01T01:00:00Z"));
    let id = order_in_progress(&d, "李伟", "SN-9").unwrap();
    d.fw.use_part(&id, "RLY", 1, true).unwrap();
    d.fw.add_fee(&id, FeeKind::Labour, "更换继电器", 9_000)
        .unwrap();
    d.fw.mark_repaired(&id).unwrap();
    assert!(d.fw.record_qc(&id, qc_items(true)).unwrap());
    let before = d.fw.service_report_in(&id, Language::ZhCn).unwrap();
    d.fw.capture_signature_in(&id, "李伟", vec![stroke()], Language::ZhCn)
        .unwrap();

    let v = d.fw.order(&id).unwrap();
    assert_eq!(v.signature, SignatureState::Valid);
    let signed = d.fw.service_report(&id).unwrap();
    assert_eq!(signed, before, "the customer signed what they read");
    assert!(signed.starts_with("服务报告 wo-"), "{signed}");
    assert!(signed.contains("客户：李伟"));
    assert!(signed.contains("本报告语言：zh-CN"));
    // Times in Beijing time (09:00 local is 01:00 UTC), money in yuan.
    assert!(signed.contains("受理时间：2026-12-01 09:00"), "{signed}");
    assert!(signed.contains("¥90.00"), "{signed}");
    assert!(!signed.contains("UTC"));

    let english = d.fw.service_report_in(&id, Language::En).unwrap();
    assert!(english.contains("Customer: 李伟"));
    assert!(english.contains("Language of this report: en"));
    assert!(english.contains("Received: 2026-12-01 09:00"), "{english}");
    let sig = match v.order.sign_off {
        Some(fieldwork_core::model::SignOff::Signed(s)) => s,
        other => panic!("not signed: {other:?}"),
    };
    assert_eq!(sig.language.as_deref(), Some("zh-CN"));
    assert_eq!(sig.report_sha256, report_sha256(&signed));
    assert_ne!(sig.report_sha256, report_sha256(&english), "another text");
}
