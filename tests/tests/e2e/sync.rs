//! Sync end to end: a real server on loopback, real HTTP, devices with their
//! own stores. The scenarios of the sync issue that are built so far.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use fieldwork_core::model::*;
use fieldwork_core::sync::client::{SyncError, SyncEvent};
use fieldwork_tests::backend::Backend;
use fieldwork_tests::harness::{Desk, Device, Server};
use serde_json::json;

fieldwork_tests::conformance!(
    an_offline_visit_reaches_the_dispatcher_when_the_device_is_back_online,
    two_devices_and_the_desk_edit_apart_and_converge,
    engineers_see_only_their_orders_and_revoked_tokens_are_refused,
    a_reassigned_order_moves_to_the_new_engineer_and_old_edits_still_arrive,
    bad_sync_requests_get_400_and_oversized_ones_413,
    the_sync_thread_primes_a_new_phone_with_progress_and_pushes_when_poked,
    a_corrupt_change_in_the_outbox_is_refused_and_does_not_stall_the_rest,
    two_phones_of_one_engineer_share_the_van_stock_made_at_enrolment,
    a_device_cannot_change_what_only_the_desk_decides,
    a_settings_change_reaches_the_phone_which_computes_the_servers_clocks_offline,
);

const T0: i64 = 1_795_000_000_000;

fn setup(b: &Backend) -> (tempfile::TempDir, Server, Desk) {
    fieldwork_tests::harness::with_relay(b).unwrap()
}

fn new_order(desk: &Desk, n: u32, engineer: &str) -> String {
    desk.dispatch(n, engineer).unwrap()
}

fn device(
    dir: &tempfile::TempDir,
    server: &Server,
    desk: &Desk,
    engineer: &str,
    name: &str,
) -> Device {
    let d = dir.path().join(name);
    std::fs::create_dir_all(&d).unwrap();
    Device::enrol(server, desk, engineer, &d, T0).unwrap()
}

fn visit_offline(d: &Device, id: &str) {
    let fw = &d.fw;
    fw.accept(id).unwrap();
    fw.en_route(id).unwrap();
    fw.arrive(
        id,
        Some(Location {
            lat: 31.23,
            lon: 121.47,
            accuracy_m: Some(6.0),
        }),
    )
    .unwrap();
    fw.diagnose(id, fieldwork_core::scenario::relay_diagnosis())
        .unwrap();
    fw.decide_warranty(id, true, false).unwrap();
    fw.record_consent(
        id,
        fieldwork_core::api::ConsentInput {
            kind: ConsentKind::FeeList,
            accepted: true,
            signer_name: "客户".into(),
            scope: "fee list".into(),
            parts: vec![],
            strokes: fieldwork_tests::signature(1),
        },
    )
    .unwrap();
    fw.start_work(id).unwrap();
    fw.use_part(id, "RLY", 1, true).unwrap();
    fw.add_fee(id, FeeKind::Labour, "relay swap", 9_000)
        .unwrap();
    fw.mark_repaired(id).unwrap();
    fw.record_qc(
        id,
        vec![QcItem {
            name: "function".into(),
            passed: true,
            note: None,
        }],
    )
    .unwrap();
    fw.capture_signature(id, "客户", fieldwork_tests::signature(2))
        .unwrap();
    fw.rate(id, Rating::Satisfied, Some(5), Some("很好".into()))
        .unwrap();
}

fn an_offline_visit_reaches_the_dispatcher_when_the_device_is_back_online(b: &Backend) {
    let (dir, server, desk) = setup(b);
    let id = new_order(&desk, 1, "eng-a");
    let a = device(&dir, &server, &desk, "eng-a", "a");
    let primed = a.sync.sync_now().unwrap();
    assert!(primed.pulled_docs >= 1, "{primed:?}");
    assert_eq!(a.fw.order(&id).unwrap().status, Status::Dispatched);
    assert_eq!(a.fw.catalog().unwrap().len(), 1, "the catalog came down");
    a.fw.receive_stock("RLY", 3).unwrap();

    a.sync.set_online(false);
    assert!(matches!(a.sync.sync_now(), Err(SyncError::Offline)));
    visit_offline(&a, &id);
    assert!(a.fw.pending_changes().unwrap() > 10);

    a.sync.set_online(true);
    let s = a.sync.sync_now().unwrap();
    assert!(s.pushed_changes > 10, "{s:?}");
    assert_eq!(s.refused_docs, 0);
    assert!(s.round_trips <= 2, "{s:?}");
    assert_eq!(
        a.fw.pending_changes().unwrap(),
        0,
        "the outbox is empty once acknowledged"
    );

    let v = desk.ok("GET", &format!("/api/orders/{id}"), None).unwrap();
    assert_eq!(v["status"], "signed_off");
    assert_eq!(v["signature"], "valid");
    assert_eq!(v["order"]["parts"].as_array().unwrap().len(), 1);
    assert_eq!(v["order"]["fees"].as_array().unwrap().len(), 1);
    assert_eq!(v["order"]["satisfaction"]["rating"], "satisfied");
    assert_eq!(v["order"]["satisfaction"]["comment"], "很好");
    assert_eq!(v["order"]["sign_off"]["signer_name"], "客户");
    assert_eq!(v["order"]["events"][3]["location"]["lat"], 31.23);
    let clocks = v["clocks"].as_array().unwrap();
    let state = |k: &str| clocks.iter().find(|c| c["kind"] == k).unwrap()["state"].clone();
    assert_eq!(state("dispatch"), "met");
    assert!(v["conflicts"].as_array().unwrap().is_empty());
    // Nothing moves twice: a second sync is idle and tiny.
    let idle = a.sync.sync_now().unwrap();
    assert_eq!(
        (idle.pushed_changes, idle.pulled_changes, idle.round_trips),
        (0, 0, 1)
    );
    assert!(idle.bytes_up + idle.bytes_down < 100, "{idle:?}");
}

fn two_devices_and_the_desk_edit_apart_and_converge(b: &Backend) {
    let (dir, server, desk) = setup(b);
    let id = new_order(&desk, 2, "eng-a");
    let a1 = device(&dir, &server, &desk, "eng-a", "a1");
    a1.sync.sync_now().unwrap();
    a1.fw.receive_stock("RLY", 5).unwrap();
    for step in [Status::Accepted, Status::EnRoute, Status::OnSite] {
        a1.fw.transition(&id, step, None).unwrap();
    }
    a1.fw
        .diagnose(
            &id,
            fieldwork_core::api::DiagnosisInput {
                fault_code: "E21".into(),
                kind: FaultKind::Hardware,
                findings: "two relays".into(),
                planned_parts: vec!["RLY".into()],
                estimate_minor: 0,
                misuse: false,
            },
        )
        .unwrap();
    a1.fw.decide_warranty(&id, true, false).unwrap();
    a1.fw.start_work(&id).unwrap();
    a1.sync.sync_now().unwrap();
    let a2 = device(&dir, &server, &desk, "eng-a", "a2");
    a2.sync.sync_now().unwrap();
    assert_eq!(
        a2.fw.van_stock().unwrap()[0].on_hand,
        5,
        "the van stock came down to the second phone"
    );

    // Apart: both phones fit a relay, the desk registers a complaint.
    a1.sync.set_online(false);
    a2.sync.set_online(false);
    a1.fw.use_part(&id, "RLY", 1, true).unwrap();
    a2.fw.use_part(&id, "RLY", 2, true).unwrap();
    desk.ok(
        "POST",
        &format!("/api/orders/{id}/complaints"),
        Some(json!({ "what": "slow arrival", "category": "timeliness" })),
    )
    .unwrap();

    a1.sync.set_online(true);
    a2.sync.set_online(true);
    a1.sync.sync_now().unwrap();
    a2.sync.sync_now().unwrap();
    a1.sync.sync_now().unwrap();

    let server_view = desk.ok("GET", &format!("/api/orders/{id}"), None).unwrap();
    let on_a1 = serde_json::to_value(a1.fw.order(&id).unwrap().order).unwrap();
    let on_a2 = serde_json::to_value(a2.fw.order(&id).unwrap().order).unwrap();
    assert_eq!(on_a1, on_a2);
    assert_eq!(on_a1, server_view["order"]);
    assert_eq!(
        on_a1["parts"].as_array().unwrap().len(),
        2,
        "both parts lines"
    );
    assert_eq!(on_a1["complaints"].as_array().unwrap().len(), 1);
    assert_eq!(a1.fw.heads(&id).unwrap(), a2.fw.heads(&id).unwrap());
    for d in [&a1, &a2] {
        assert_eq!(
            d.fw.van_stock().unwrap()[0].on_hand,
            2,
            "5 - 1 - 2: both decrements counted"
        );
    }
}

fn engineers_see_only_their_orders_and_revoked_tokens_are_refused(b: &Backend) {
    let (dir, server, desk) = setup(b);
    let for_a = new_order(&desk, 3, "eng-a");
    let for_b = new_order(&desk, 4, "eng-b");
    let a = device(&dir, &server, &desk, "eng-a", "a");
    let b = device(&dir, &server, &desk, "eng-b", "b");
    a.sync.sync_now().unwrap();
    b.sync.sync_now().unwrap();
    assert!(a.fw.order(&for_b).is_err(), "A never receives B's order");
    assert!(b.fw.order(&for_a).is_err());

    // Reading A's order with B's token: 403.
    let http = fieldwork_core::sync::client::http_client().unwrap();
    let get = |token: &str, id: &str| {
        http.get(format!("{}/v1/docs/{id}", server.url))
            .bearer_auth(token)
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(get(&b.token, &for_a), 403);
    assert_eq!(get(&a.token, &for_a), 200);
    assert_eq!(get("not-a-token", &for_a), 401);

    // B's phone somehow holds A's order and edits it: the push is refused, nothing stored.
    let bytes = a.fw.export_changes(&for_a, &[]).unwrap();
    b.fw.import_changes(&for_a, &bytes).unwrap();
    b.fw.add_note(&for_a, "not mine").unwrap();
    let s = b.sync.sync_now().unwrap();
    assert_eq!(s.refused_docs, 1);
    assert!(
        b.events
            .events()
            .iter()
            .any(|e| matches!(e, SyncEvent::Refused { doc_id, .. } if doc_id == &for_a))
    );
    assert_eq!(
        b.fw.pending_changes().unwrap(),
        0,
        "a refused document does not block the outbox"
    );
    let v = desk
        .ok("GET", &format!("/api/orders/{for_a}"), None)
        .unwrap();
    assert!(v["order"]["repair_notes"].as_array().unwrap().is_empty());

    // No token, a wrong token: 401; a revoked device: 401 from then on.
    let raw = http
        .post(format!("{}/v1/sync", server.url))
        .body(vec![1, 2, 3])
        .send()
        .unwrap();
    assert_eq!(raw.status().as_u16(), 401);
    desk.ok(
        "POST",
        &format!("/api/devices/{}/revoke", a.fw.device_id()),
        None,
    )
    .unwrap();
    assert!(matches!(a.sync.sync_now(), Err(SyncError::Unauthorized)));
}

fn a_reassigned_order_moves_to_the_new_engineer_and_old_edits_still_arrive(b: &Backend) {
    let (dir, server, desk) = setup(b);
    let id = new_order(&desk, 5, "eng-a");
    let a = device(&dir, &server, &desk, "eng-a", "a");
    let b = device(&dir, &server, &desk, "eng-b", "b");
    a.sync.sync_now().unwrap();
    a.fw.add_note(&id, "customer asked to come after 3 pm")
        .unwrap();
    // The desk reassigns while A's note is still on the phone.
    desk.ok(
        "POST",
        &format!("/api/orders/{id}/assign"),
        Some(json!({ "engineer": "eng-b" })),
    )
    .unwrap();
    a.sync.sync_now().unwrap();
    assert!(a.fw.order(&id).is_err(), "the order left A's phone");
    b.sync.sync_now().unwrap();
    let on_b = b.fw.order(&id).unwrap();
    assert_eq!(on_b.order.assignee.as_deref(), Some("eng-b"));
    assert_eq!(
        on_b.order.repair_notes.len(),
        1,
        "A's note made while it was A's order reached B"
    );
}

fn bad_sync_requests_get_400_and_oversized_ones_413(b: &Backend) {
    let (dir, server, desk) = setup(b);
    let a = device(&dir, &server, &desk, "eng-a", "a");
    let http = fieldwork_core::sync::client::http_client().unwrap();
    let post = |body: Vec<u8>| {
        http.post(format!("{}/v1/sync", server.url))
            .bearer_auth(&a.token)
            .body(body)
            .send()
            .unwrap()
    };
    let r = post(b"hello".to_vec());
    assert_eq!(r.status().as_u16(), 400);
    assert!(r.text().unwrap().contains("not a Fieldwork sync message"));
    let good = fieldwork_core::sync::wire::SyncRequest {
        cursor: 0,
        push: vec![],
    }
    .encode();
    assert_eq!(post(good[..good.len() - 2].to_vec()).status().as_u16(), 400);
    // Over the limit: 413. The server answers before it has read the body
    // and closes, so the client may see the connection reset instead of the
    // answer; try a few times and require a 413 to get through.
    let statuses: Vec<Option<u16>> = (0..5)
        .map(|_| {
            http.post(format!("{}/v1/sync", server.url))
                .bearer_auth(&a.token)
                .body(vec![0u8; 8 * 1024 * 1024 + 1024])
                .send()
                .ok()
                .map(|r| r.status().as_u16())
        })
        .collect();
    assert!(statuses.contains(&Some(413)), "{statuses:?}");
    assert!(
        statuses.iter().all(|s| s.is_none() || *s == Some(413)),
        "{statuses:?}"
    );
    // Malformed change bytes inside a well-formed request: 400 naming the
    // document, and nothing of the request is stored.
    let id = desk.dispatch(9, "eng-a").unwrap();
    let req = fieldwork_core::sync::wire::SyncRequest {
        cursor: 0,
        push: vec![
            fieldwork_core::sync::wire::PushDoc {
                doc_id: id.clone(),
                changes: vec![],
            },
            fieldwork_core::sync::wire::PushDoc {
                doc_id: "wo-x".into(),
                changes: vec![0x85, 0x6f, 0x4a, 0x83, 1, 2],
            },
        ],
    };
    let r = post(req.encode());
    assert_eq!(r.status().as_u16(), 400);
    let body: serde_json::Value = serde_json::from_slice(&r.bytes().unwrap()).unwrap();
    assert_eq!(body["doc_id"], "wo-x");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("malformed changes for wo-x")
    );
    // The server goes on serving.
    assert!(a.sync.sync_now().is_ok());
}

fn the_sync_thread_primes_a_new_phone_with_progress_and_pushes_when_poked(b: &Backend) {
    let (dir, server, desk) = setup(b);
    let ids: Vec<String> = (0..30)
        .map(|n| new_order(&desk, 100 + n, "eng-a"))
        .collect();
    let a = device(&dir, &server, &desk, "eng-a", "a");
    a.sync.set_online(false);
    let thread = a.sync.start().expect("the thread starts once");
    assert!(a.sync.start().is_none(), "and only once");
    a.sync.set_online(true);
    let wait_for = |what: &str, ok: &dyn Fn() -> bool| {
        let until = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while !ok() {
            assert!(
                std::time::Instant::now() < until,
                "timed out waiting for {what}"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    };
    wait_for("priming", &|| {
        a.fw.list_orders(&fieldwork_core::OrderFilter::default())
            .unwrap()
            .len()
            == 30
    });
    wait_for("the orders-changed event", &|| {
        a.events
            .events()
            .iter()
            .any(|e| matches!(e, SyncEvent::OrdersChanged { ids: changed } if changed.len() >= 30))
    });
    let events = a.events.events();
    let progress: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            SyncEvent::Progress { done, total } => Some((*done, *total)),
            _ => None,
        })
        .collect();
    assert!(!progress.is_empty(), "priming reports progress: {events:?}");
    assert_eq!(
        progress.last().unwrap().0,
        progress.last().unwrap().1,
        "progress ends complete"
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, SyncEvent::OrdersChanged { ids: changed } if changed.len() >= 30))
    );

    a.fw.add_note(&ids[0], "pushed by the thread").unwrap();
    a.sync.poke();
    wait_for("the push", &|| a.fw.pending_changes().unwrap() == 0);
    wait_for("the server", &|| {
        desk.ok("GET", &format!("/api/orders/{}", ids[0]), None)
            .unwrap()["order"]["repair_notes"]
            .as_array()
            .unwrap()
            .len()
            == 1
    });
    a.sync.set_online(false);
    assert!(a.events.events().iter().any(|e| matches!(
        e,
        SyncEvent::Status(fieldwork_core::sync::client::SyncStatus::Offline)
    )));
    a.sync.stop();
    thread.join().unwrap();
}

fn a_corrupt_change_in_the_outbox_is_refused_and_does_not_stall_the_rest(b: &Backend) {
    let (dir, server, desk) = setup(b);
    let first = new_order(&desk, 20, "eng-a");
    let second = new_order(&desk, 21, "eng-a");
    let a = device(&dir, &server, &desk, "eng-a", "a");
    a.sync.sync_now().unwrap();
    a.fw.add_note(&first, "this change will rot on disk")
        .unwrap();
    a.fw.add_note(&second, "this one is fine").unwrap();
    // Bit rot in the outbox row of the first order's change.
    let db = rusqlite::Connection::open(dir.path().join("a").join("device.db")).unwrap();
    let n = db
        .execute(
            "UPDATE changes SET bytes = substr(bytes, 1, 20) WHERE doc_id = ?1",
            [&first],
        )
        .unwrap();
    assert_eq!(n, 1);
    drop(db);
    let s = a.sync.sync_now().unwrap();
    assert_eq!(s.refused_docs, 1);
    assert!(a.events.events().iter().any(|e| matches!(e, SyncEvent::Refused { doc_id, reason } if doc_id == &first && reason.contains("malformed"))));
    assert_eq!(a.fw.pending_changes().unwrap(), 0);
    let v = desk
        .ok("GET", &format!("/api/orders/{second}"), None)
        .unwrap();
    assert_eq!(
        v["order"]["repair_notes"].as_array().unwrap().len(),
        1,
        "the healthy change went through"
    );
}

fn two_phones_of_one_engineer_share_the_van_stock_made_at_enrolment(b: &Backend) {
    let (dir, server, desk) = setup(b);
    let a1 = device(&dir, &server, &desk, "eng-a", "a1");
    let a2 = device(&dir, &server, &desk, "eng-a", "a2");
    a1.sync.sync_now().unwrap();
    a2.sync.sync_now().unwrap();
    assert!(
        a1.fw
            .document_ids()
            .unwrap()
            .contains(&"stock-eng-a".to_string()),
        "primed with the van stock"
    );
    // Both phones take parts into the van while apart, before ever sharing a movement.
    a1.sync.set_online(false);
    a2.sync.set_online(false);
    a1.fw.receive_stock("RLY", 3).unwrap();
    a2.fw.receive_stock("RLY", 4).unwrap();
    a1.sync.set_online(true);
    a2.sync.set_online(true);
    a1.sync.sync_now().unwrap();
    a2.sync.sync_now().unwrap();
    a1.sync.sync_now().unwrap();
    for d in [&a1, &a2] {
        assert_eq!(
            d.fw.van_stock().unwrap()[0].on_hand,
            7,
            "both receipts counted"
        );
        assert_eq!(d.fw.stock_ledger().unwrap().len(), 2);
    }
}

fn a_device_cannot_change_what_only_the_desk_decides(b: &Backend) {
    let (dir, server, desk) = setup(b);
    let id = new_order(&desk, 1, "eng-a");
    let a = device(&dir, &server, &desk, "eng-a", "a");
    a.sync.sync_now().unwrap();

    // The facade lets a phone call these, but they are the desk's to make.
    a.fw.desk().assign(&id, "eng-b").unwrap();
    let s = a.sync.sync_now().unwrap();
    assert_eq!(s.refused_docs, 1, "{s:?}");
    assert!(a.events.events().iter().any(|e| matches!(
        e,
        SyncEvent::Refused { doc_id, reason } if doc_id == &id && reason.contains("the desk assigns orders")
    )));
    let v = desk.ok("GET", &format!("/api/orders/{id}"), None).unwrap();
    assert_eq!(
        v["order"]["assignee"], "eng-a",
        "the server kept the desk's assignment"
    );
    assert_eq!(
        a.fw.pending_changes().unwrap(),
        0,
        "the refusal does not stall the outbox"
    );
    // The phone dropped its refused copy for the server's, so it agrees
    // with the server and its next edits are not stuck behind the refusal.
    assert_eq!(
        a.fw.order(&id).unwrap().order.assignee.as_deref(),
        Some("eng-a")
    );
    assert!(a.fw.refetch_pending().unwrap().is_empty());
    a.fw.add_note(&id, "parts ordered").unwrap();
    let s = a.sync.sync_now().unwrap();
    assert_eq!(
        (s.refused_docs, a.fw.pending_changes().unwrap()),
        (0, 0),
        "{s:?}"
    );
    let v = desk.ok("GET", &format!("/api/orders/{id}"), None).unwrap();
    assert_eq!(
        v["order"]["repair_notes"][0]["text"], "parts ordered",
        "the later edit arrived"
    );

    // The engineer's own work on the order still goes through afterwards.
    let b = device(&dir, &server, &desk, "eng-a", "b");
    b.sync.sync_now().unwrap();
    b.fw.accept(&id).unwrap();
    b.fw.add_note(&id, "on my way").unwrap();
    let s = b.sync.sync_now().unwrap();
    assert_eq!(s.refused_docs, 0, "{s:?}");
    let v = desk.ok("GET", &format!("/api/orders/{id}"), None).unwrap();
    assert_eq!(v["status"], "accepted");
    assert_eq!(v["order"]["assignee"], "eng-a");
}

/// A supervisor shortens the repair limit and moves the service center to
/// Shanghai. The phone syncs, goes offline, and computes every clock as the
/// server does: the order received before the change keeps the old limit
/// (decision 0012), the one received after has the new.
fn a_settings_change_reaches_the_phone_which_computes_the_servers_clocks_offline(b: &Backend) {
    use fieldwork_core::rules::roles::DeskRole;
    use fieldwork_core::rules::sla::ClockKind;
    let (dir, server, desk) = setup(b);
    let before = new_order(&desk, 0, "eng-a");
    std::thread::sleep(std::time::Duration::from_millis(5));
    let input = fieldwork_core::SettingsInput {
        language: "zh-CN".into(),
        policy: fieldwork_core::Policy {
            repair_limit_min: 120,
            repair_exception_limit_min: 180,
            time_zone: "Asia/Shanghai".into(),
            ..fieldwork_core::Policy::default()
        },
    };
    let refused = server
        .state
        .desk(
            fieldwork_tests::harness::TENANT,
            "desk",
            DeskRole::Dispatcher,
        )
        .change_settings(&input);
    assert!(
        refused.is_err(),
        "a dispatcher does not change the settings"
    );
    let version = server
        .state
        .desk(
            fieldwork_tests::harness::TENANT,
            "desk",
            DeskRole::Supervisor,
        )
        .change_settings(&input)
        .unwrap();
    assert_eq!(version, 1);
    std::thread::sleep(std::time::Duration::from_millis(5));
    let after = new_order(&desk, 1, "eng-a");

    let phone = device(&dir, &server, &desk, "eng-a", "phone");
    phone.sync.sync_now().unwrap();
    let store = server
        .state
        .tenant(fieldwork_tests::harness::TENANT)
        .unwrap();
    let repair_due = |fw: &fieldwork_core::Fieldwork, id: &str| {
        let v = fw.order(id).unwrap();
        let c = v
            .clocks
            .iter()
            .find(|c| c.kind == ClockKind::Repair)
            .unwrap();
        c.due_at_ms - c.started_at_ms
    };
    let server_view = [repair_due(&store, &before), repair_due(&store, &after)];
    drop(server);

    // Offline now: the phone has only what it synced.
    let settings = phone.fw.settings().unwrap();
    assert_eq!(settings.current().version, 1);
    assert_eq!(settings.current().changed_by, "desk");
    assert_eq!(phone.fw.policy().time_zone, "Asia/Shanghai");
    assert_eq!(phone.fw.policy().repair_limit_min, 120);
    let phone_view = [
        repair_due(&phone.fw, &before),
        repair_due(&phone.fw, &after),
    ];
    assert_eq!(
        phone_view,
        [6 * 3_600_000, 2 * 3_600_000],
        "old order keeps 6 h"
    );
    assert_eq!(
        phone_view, server_view,
        "the phone computes what the server does"
    );
    // The rows the phone lists from agree with the document.
    let rows = phone
        .fw
        .list_orders(&fieldwork_core::OrderFilter::default())
        .unwrap();
    let due_after = rows.iter().find(|r| r.id == after).unwrap().next_due_at_ms;
    let v = phone.fw.order(&after).unwrap();
    let next = fieldwork_core::rules::sla::next_due(&v.clocks).map(|c| c.due_at_ms);
    assert_eq!(due_after, next);
}
