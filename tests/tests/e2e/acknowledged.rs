//! "Acknowledged means stored", on both storages: a change is reported
//! accepted only when it is in the document the server committed; a change
//! whose dependency the server lacks is never acknowledged nor kept in
//! memory; a compressed change cannot make the server inflate past its
//! bound; refused work moves to the phone's quarantine, the server logs the
//! refusal, and the rest of the outbox keeps flowing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use fieldwork_core::sync::client::SyncEvent;
use fieldwork_core::sync::wire::{DocResult, PushDoc, SyncRequest, SyncResponse};
use fieldwork_tests::backend::Backend;
use fieldwork_tests::harness::{Desk, Device, Server};

fieldwork_tests::conformance!(
    a_change_with_a_corrupted_checksum_is_refused_not_acknowledged,
    a_change_whose_dependency_the_server_lacks_is_neither_acknowledged_nor_kept,
    a_compressed_chunk_bomb_is_refused_at_its_bound,
    a_phone_resends_a_dependency_the_server_lost,
    work_that_depends_on_refused_work_is_quarantined_and_the_rest_flows,
);

const T0: i64 = 1_795_000_000_000;

fn setup(b: &Backend) -> (tempfile::TempDir, Server, Desk, Device, String) {
    let dir = tempfile::tempdir().unwrap();
    let (server, desk) = Server::start_on(b).unwrap();
    let id = desk.dispatch(1, "eng-a").unwrap();
    let d = dir.path().join("a");
    std::fs::create_dir_all(&d).unwrap();
    let a = Device::enrol(&server, &desk, "eng-a", &d, T0).unwrap();
    a.sync.sync_now().unwrap();
    (dir, server, desk, a, id)
}

/// Push `changes` for `doc_id` as device `a`, by hand.
fn push(server: &Server, a: &Device, doc_id: &str, changes: Vec<u8>) -> (u16, Vec<u8>) {
    let http = fieldwork_core::sync::client::http_client().unwrap();
    let body = SyncRequest {
        cursor: 0,
        push: vec![PushDoc {
            doc_id: doc_id.to_string(),
            changes,
        }],
    }
    .encode();
    let r = http
        .post(format!("{}/v1/sync", server.url))
        .bearer_auth(&a.token)
        .body(body)
        .send()
        .unwrap();
    (r.status().as_u16(), r.bytes().unwrap().to_vec())
}

fn result_of(body: &[u8]) -> DocResult {
    let resp = SyncResponse::decode(body).unwrap();
    assert_eq!(resp.results.len(), 1, "{resp:?}");
    resp.results[0].result.clone()
}

/// What the server logged as refused from phones for this order.
fn refusals_on_server(server: &Server, id: &str) -> Vec<fieldwork_core::api::Refusal> {
    server
        .state
        .tenant("acme")
        .unwrap()
        .refusals_of(id)
        .unwrap()
}

fn notes_on_server(desk: &Desk, id: &str) -> Vec<String> {
    desk.notes(id).unwrap()
}

fn a_change_with_a_corrupted_checksum_is_refused_not_acknowledged(b: &Backend) {
    let (_dir, server, desk, a, id) = setup(b);
    a.fw.add_note(&id, "checked on site").unwrap();
    let outbox = a.fw.outbox(usize::MAX).unwrap();
    assert_eq!(outbox.len(), 1);
    let mut bytes = outbox[0].bytes.clone();
    bytes[4] ^= 0x5a; // the first checksum byte
    let (status, body) = push(&server, &a, &id, bytes);
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["doc_id"], id.as_str());
    assert!(v["error"].as_str().unwrap().contains("checksum"), "{v}");
    assert!(notes_on_server(&desk, &id).is_empty());
    // The desk sees the refusal on the order.
    let refusals = refusals_on_server(&server, &id);
    assert_eq!(refusals.len(), 1);
    assert_eq!(refusals[0].device_id, a.fw.device_id());
    assert!(refusals[0].reason.contains("checksum"));
    // The intact change goes through.
    a.sync.sync_now().unwrap();
    assert_eq!(notes_on_server(&desk, &id), ["checked on site"]);
}

fn a_change_whose_dependency_the_server_lacks_is_neither_acknowledged_nor_kept(b: &Backend) {
    let (_dir, server, desk, a, id) = setup(b);
    a.fw.add_note(&id, "first").unwrap();
    a.fw.add_note(&id, "second").unwrap();
    let outbox = a.fw.outbox(usize::MAX).unwrap();
    assert_eq!(outbox.len(), 2);
    let first_hash = {
        let c = automerge::Change::try_from(outbox[0].bytes.as_slice()).unwrap();
        c.hash().to_string()
    };
    // The second alone: it depends on the first, which the server lacks.
    let (status, body) = push(&server, &a, &id, outbox[1].bytes.clone());
    assert_eq!(status, 200);
    assert_eq!(
        result_of(&body),
        DocResult::MissingDependencies(vec![first_hash]),
        "never reported accepted"
    );
    // Nothing of it waits in the server's memory: when the first arrives,
    // the document holds the first only.
    let (status, body) = push(&server, &a, &id, outbox[0].bytes.clone());
    assert_eq!(status, 200);
    assert_eq!(result_of(&body), DocResult::Accepted);
    assert_eq!(notes_on_server(&desk, &id), ["first"]);
    // The phone's own sync sends both; the first is recognised.
    let s = a.sync.sync_now().unwrap();
    assert_eq!(s.refused_docs, 0, "{s:?}");
    assert_eq!(a.fw.pending_changes().unwrap(), 0);
    assert_eq!(notes_on_server(&desk, &id), ["first", "second"]);
}

fn a_compressed_chunk_bomb_is_refused_at_its_bound(b: &Backend) {
    let (_dir, server, desk, a, id) = setup(b);
    let bomb = fieldwork_tests::chunk_bomb(256 << 20).unwrap();
    assert!(bomb.len() < 512 * 1024, "{} bytes", bomb.len());
    let (status, body) = push(&server, &a, &id, bomb);
    assert_eq!(status, 400);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let limit = fieldwork_core::store::chunks::Limits::DEFAULT.change_bytes;
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains(&format!("unpacks to more than {limit} bytes")),
        "{v}"
    );
    // The server goes on serving.
    a.fw.add_note(&id, "after the bomb").unwrap();
    a.sync.sync_now().unwrap();
    assert_eq!(notes_on_server(&desk, &id), ["after the bomb"]);
}

fn a_phone_resends_a_dependency_the_server_lost(b: &Backend) {
    let (_dir, _server, desk, a, id) = setup(b);
    a.fw.add_note(&id, "first").unwrap();
    // Then more work than one round carries (about 512 KiB), all depending
    // on the first.
    let long = "记".repeat(fieldwork_core::validate::MAX_TEXT_CHARS - 4);
    for n in 0..60 {
        a.fw.add_note(&id, &format!("{n:02}{long}")).unwrap();
    }
    let outbox = a.fw.outbox(usize::MAX).unwrap();
    // As if a server restored from an older backup had acknowledged the
    // first: it is gone from the outbox but not from the server's view.
    a.fw.acknowledge(&[outbox[0].seq]).unwrap();
    let s = a.sync.sync_now().unwrap();
    assert_eq!(s.refused_docs, 0, "{s:?}");
    // Told what is missing, the phone sends it ahead of the rest.
    assert!((3..=6).contains(&s.round_trips), "{s:?}");
    assert_eq!(a.fw.pending_changes().unwrap(), 0);
    assert!(a.fw.quarantined().unwrap().is_empty());
    let notes = notes_on_server(&desk, &id);
    assert_eq!(notes.len(), 61);
    assert_eq!(notes[0], "first");
}

fn work_that_depends_on_refused_work_is_quarantined_and_the_rest_flows(b: &Backend) {
    let (dir, server, desk, a, id) = setup(b);
    let other = desk.dispatch(2, "eng-a").unwrap();
    a.sync.sync_now().unwrap();
    // A change the server refuses (only the desk assigns), then the
    // engineer's own work on top of it, and work on another order.
    a.fw.desk().assign(&id, "eng-b").unwrap();
    a.fw.add_note(&id, "compressor replaced").unwrap();
    a.fw.add_note(&other, "other order").unwrap();
    let outbox = a.fw.outbox(usize::MAX).unwrap();
    let assign = outbox[0].clone();
    // The refusal reached the phone in an earlier round, alone.
    let (status, body) = push(&server, &a, &id, assign.bytes.clone());
    assert_eq!(status, 200);
    let DocResult::Refused(reason) = result_of(&body) else {
        panic!("the assignment is refused")
    };
    a.fw.quarantine_outbox(&[assign], &reason).unwrap();

    // Now the note goes, depending on the refused change.
    let s = a.sync.sync_now().unwrap();
    assert_eq!(s.refused_docs, 1, "{s:?}");
    assert_eq!(
        a.fw.pending_changes().unwrap(),
        0,
        "the outbox is not stalled"
    );
    assert!(a.events.events().iter().any(|e| matches!(
        e,
        SyncEvent::Refused { doc_id, .. } if doc_id == &id
    )));
    assert_eq!(notes_on_server(&desk, &other), ["other order"]);
    assert!(notes_on_server(&desk, &id).is_empty());

    // Both are kept on the phone, in words.
    let q = a.fw.quarantined().unwrap();
    assert_eq!(q.len(), 2, "{q:?}");
    assert_eq!(q[0].intent, "assign");
    assert!(q[0].reason.contains("the desk assigns orders"), "{q:?}");
    assert!(q[0].touched.contains(&"assignee".to_string()), "{q:?}");
    assert_eq!(q[1].intent, "note");
    assert!(
        q[1].reason
            .contains("depends on a change the server refused")
    );
    assert!(q[1].touched.contains(&"repair_notes".to_string()), "{q:?}");
    assert!(q.iter().all(|c| c.doc_id == id && c.refused_at_ms == T0));

    // Exported for support with the change bytes; the phone's copy is the
    // server's again, and later work flows.
    let export: serde_json::Value =
        serde_json::from_str(&a.fw.export_quarantine().unwrap()).unwrap();
    assert_eq!(export.as_array().unwrap().len(), 2);
    assert!(export[1]["bytes"].as_str().unwrap().len() > 100);
    assert_eq!(
        a.fw.order(&id).unwrap().order.assignee.as_deref(),
        Some("eng-a")
    );
    a.fw.add_note(&id, "done after all").unwrap();
    a.sync.sync_now().unwrap();
    assert_eq!(notes_on_server(&desk, &id), ["done after all"]);

    // The device CLI shows the same, exports it and discards deliberately.
    let home = dir.path().join("a");
    std::fs::write(
        home.join("device.json"),
        serde_json::json!({ "engineer": "eng-a", "server": server.url, "token": a.token })
            .to_string(),
    )
    .unwrap();
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_fieldwork-e2e"))
            .args(["device", "--store", home.to_str().unwrap()])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let text = cli(&["quarantine"]);
    assert!(
        text.contains("assign") && text.contains("the desk assigns orders"),
        "{text}"
    );
    assert!(
        text.contains("depends on a change the server refused"),
        "{text}"
    );
    assert!(text.contains("touched repair_notes"), "{text}");
    let listed: serde_json::Value = serde_json::from_str(&cli(&["--json", "quarantine"])).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2);
    let file = dir.path().join("support.json");
    cli(&["quarantine", "export", file.to_str().unwrap()]);
    let exported: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(exported.as_array().unwrap().len(), 2);
    cli(&["quarantine", "discard", &q[0].id.to_string()]);
    assert!(!cli(&["quarantine"]).contains("the desk assigns orders"));

    // Discarded deliberately, one by one; an unknown entry is NotFound.
    assert!(matches!(
        a.fw.discard_quarantined(q[0].id),
        Err(fieldwork_core::Error::NotFound { .. })
    ));
    assert_eq!(a.fw.quarantined().unwrap().len(), 1);

    // The quarantine survives the app being closed.
    let path = dir.path().join("a").join("device.db");
    drop(a);
    let again =
        fieldwork_core::Fieldwork::open(&path, fieldwork_core::Config::new("eng-a")).unwrap();
    assert_eq!(again.quarantined().unwrap().len(), 1);

    // The server logged its refusal of the assignment for the desk.
    let refusals = refusals_on_server(&server, &id);
    assert_eq!(refusals.len(), 1, "{refusals:?}");
    assert!(refusals[0].reason.contains("the desk assigns orders"));
    // And per device, through the dispatcher API.
    let device = again.device_id();
    let v = desk
        .ok("GET", &format!("/api/devices/{device}/refusals"), None)
        .unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v[0]["doc_id"], id.as_str());
    assert_eq!(v[0]["engineer"], "eng-a");
    let none = desk
        .ok("GET", "/api/devices/no-such-device/refusals", None)
        .unwrap();
    assert_eq!(none.as_array().unwrap().len(), 0);
}
