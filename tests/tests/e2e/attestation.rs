//! Sign-off attested by the phone's device key, end to end: a real server
//! on loopback, phones enrolled with P-256 keys the server pins. An honest
//! visit is accepted and the desk sees each record attested by the device;
//! a tampered attestation, a signature made with another device's key, an
//! attestation replayed onto another order, an unattested signature and
//! anything from a revoked device are each refused, with the reason, and
//! kept in the phone's quarantine.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use fieldwork_core::attest::{DeviceSigner, SignerError, SoftwareSigner};
use fieldwork_core::model::*;
use fieldwork_core::sync::client::SyncError;
use fieldwork_tests::backend::Backend;
use fieldwork_tests::harness::{Desk, Device, Server};
use fieldwork_tests::relay;
use std::sync::{Arc, Mutex};

fieldwork_tests::conformance!(
    an_attested_visit_is_accepted_and_the_desk_sees_which_device_signed,
    a_tampered_a_borrowed_a_replayed_or_a_missing_attestation_is_refused_and_kept,
    a_revoked_device_signs_nothing_more,
    the_board_and_the_pdf_say_which_device_attested_and_what_was_not,
);

const T0: i64 = 1_795_000_000_000;

fn setup(b: &Backend) -> (tempfile::TempDir, Server, Desk) {
    fieldwork_tests::harness::with_relay(b).unwrap()
}

/// A device key that can be made to misbehave, the way a compromised or
/// broken phone would.
#[derive(Debug)]
struct Key {
    own: SoftwareSigner,
    mode: Mutex<Mode>,
}

#[derive(Debug, Clone)]
enum Mode {
    Honest,
    /// Sign, then flip a bit of the signature.
    Tamper,
    /// Sign with another device's key.
    Borrow(Arc<SoftwareSigner>),
    /// Hand back this signature, whatever is asked.
    Replay(Vec<u8>),
}

impl Key {
    fn new() -> Arc<Key> {
        Arc::new(Key {
            own: SoftwareSigner::generate(),
            mode: Mutex::new(Mode::Honest),
        })
    }

    fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }
}

impl DeviceSigner for Key {
    fn public_key(&self) -> Result<Vec<u8>, SignerError> {
        self.own.public_key()
    }

    fn sign(&self, payload: &[u8]) -> Result<Vec<u8>, SignerError> {
        match self.mode.lock().unwrap().clone() {
            Mode::Honest => self.own.sign(payload),
            Mode::Tamper => {
                let mut sig = self.own.sign(payload)?;
                let last = sig.len() - 1;
                sig[last] ^= 0x01;
                Ok(sig)
            }
            Mode::Borrow(other) => other.sign(payload),
            Mode::Replay(sig) => Ok(sig),
        }
    }

    fn backing(&self) -> KeyBacking {
        KeyBacking::Software
    }
}

fn phone(
    dir: &tempfile::TempDir,
    server: &Server,
    desk: &Desk,
    name: &str,
    key: Arc<Key>,
) -> Device {
    let d = dir.path().join(name);
    std::fs::create_dir_all(&d).unwrap();
    Device::enrol_signed(server, desk, "eng-a", &d, T0, key).unwrap()
}

/// On site to QC passed, with a consent on the way.
fn to_qc(d: &Device, id: &str) {
    let fw = &d.fw;
    fw.accept(id).unwrap();
    fw.en_route(id).unwrap();
    fw.arrive(id, None).unwrap();
    fw.diagnose(id, fieldwork_core::scenario::relay_diagnosis())
        .unwrap();
    fw.decide_warranty(id, true, false).unwrap();
    fw.record_consent(
        id,
        fieldwork_core::api::ConsentInput {
            kind: ConsentKind::FeeList,
            accepted: true,
            signer_name: "Wang Fang".into(),
            scope: "fee list".into(),
            parts: vec![],
            strokes: fieldwork_tests::signature(1),
        },
    )
    .unwrap();
    fw.start_work(id).unwrap();
    fw.receive_stock("RLY", 1).unwrap();
    fw.use_part(id, "RLY", 1, true).unwrap();
    fw.mark_repaired(id).unwrap();
    fw.record_qc(id, fieldwork_core::scenario::qc_checklist(true))
        .unwrap();
}

fn sign(d: &Device, id: &str) {
    d.fw.capture_signature(id, "Wang Fang", fieldwork_tests::signature(2))
        .unwrap();
}

/// The order as the desk reads it.
fn desk_order(desk: &Desk, id: &str) -> WorkOrder {
    let v = desk.ok("GET", &format!("/api/orders/{id}"), None).unwrap();
    serde_json::from_value(v["order"].clone()).unwrap()
}

fn signature_of(o: &WorkOrder) -> Option<&Signature> {
    match &o.sign_off {
        Some(SignOff::Signed(s)) => Some(s),
        _ => None,
    }
}

fn an_attested_visit_is_accepted_and_the_desk_sees_which_device_signed(b: &Backend) {
    let (dir, server, desk) = setup(b);
    let id = desk.dispatch(1, "eng-a").unwrap();
    let a = phone(&dir, &server, &desk, "a", Key::new());
    a.sync.sync_now().unwrap();
    to_qc(&a, &id);
    sign(&a, &id);
    let s = a.sync.sync_now().unwrap();
    assert_eq!(s.refused_docs, 0, "{s:?}");
    assert!(a.fw.quarantined().unwrap().is_empty());

    let o = desk_order(&desk, &id);
    let device = a.fw.device_id();
    let sig = signature_of(&o).expect("the desk holds the signature");
    let att = sig.attestation.as_ref().expect("attested");
    assert_eq!(
        (att.device.as_str(), att.backing),
        (device.as_str(), KeyBacking::Software)
    );
    for c in &o.consents {
        assert_eq!(
            c.attestation.as_ref().map(|a| a.device.as_str()),
            Some(device.as_str())
        );
    }
    assert!(o.qc.iter().all(|q| q.attestation.is_some()));
    assert_eq!(o.qc.len(), 1);
}

/// Push what `d` made, and what the server and the phone then say.
fn refused(d: &Device, desk: &Desk, id: &str) -> String {
    let s = d.sync.sync_now().unwrap();
    assert_eq!(s.refused_docs, 1, "{s:?}");
    let q = d.fw.quarantined().unwrap();
    let mine: Vec<_> = q.iter().filter(|c| c.doc_id == id).collect();
    assert!(!mine.is_empty(), "kept in the phone's quarantine");
    assert!(
        signature_of(&desk_order(desk, id)).is_none(),
        "not on the desk"
    );
    let refusals = desk
        .ok(
            "GET",
            &format!("/api/devices/{}/refusals", d.fw.device_id()),
            None,
        )
        .unwrap();
    let reason = mine[0].reason.clone();
    assert!(
        refusals.to_string().contains("attestation"),
        "the server keeps the refusal: {refusals}"
    );
    reason
}

fn a_tampered_a_borrowed_a_replayed_or_a_missing_attestation_is_refused_and_kept(b: &Backend) {
    let (dir, server, desk) = setup(b);
    let key = Key::new();
    let a = phone(&dir, &server, &desk, "a", key.clone());
    let orders: Vec<String> = (1..=5)
        .map(|n| desk.dispatch(n, "eng-a").unwrap())
        .collect();
    a.sync.sync_now().unwrap();
    for id in &orders {
        to_qc(&a, id);
    }
    // The honest sign-off of the first order goes through.
    a.sync.sync_now().unwrap();
    sign(&a, &orders[0]);
    assert_eq!(a.sync.sync_now().unwrap().refused_docs, 0);
    let honest = signature_of(&desk_order(&desk, &orders[0]))
        .and_then(|s| s.attestation.clone())
        .unwrap();

    key.set(Mode::Tamper);
    sign(&a, &orders[1]);
    let why = refused(&a, &desk, &orders[1]);
    assert!(why.contains("does not verify"), "{why}");

    key.set(Mode::Borrow(Arc::new(SoftwareSigner::generate())));
    sign(&a, &orders[2]);
    let why = refused(&a, &desk, &orders[2]);
    assert!(why.contains("does not verify"), "{why}");

    // The first order's attestation, on the fourth.
    key.set(Mode::Replay(
        fieldwork_core::at_rest::unhex(&honest.signature).unwrap(),
    ));
    sign(&a, &orders[3]);
    let why = refused(&a, &desk, &orders[3]);
    assert!(why.contains("does not verify"), "{why}");

    // The same phone after an app restart that forgot to give its device
    // key: it registered one, so what it signs unattested is refused.
    let (token, dir_a) = (a.token.clone(), dir.path().join("a"));
    drop(a);
    let (fw, clock) = Device::store("eng-a", &dir_a, T0).unwrap();
    let a = Device::online(fw, clock, &server.url, token).unwrap();
    sign(&a, &orders[4]);
    let why = refused(&a, &desk, &orders[4]);
    assert!(why.contains("not attested"), "{why}");

    // Each refusal holds only its own order back: the honest one stands.
    let first = desk_order(&desk, &orders[0]);
    assert_eq!(
        signature_of(&first).map(|s| s.signer_name.as_str()),
        Some("Wang Fang")
    );
    let q = a.fw.quarantined().unwrap();
    let held: std::collections::BTreeSet<&str> = q.iter().map(|c| c.doc_id.as_str()).collect();
    assert_eq!(held.len(), 4, "{held:?}");
    assert!(!held.contains(orders[0].as_str()));
}

fn a_revoked_device_signs_nothing_more(b: &Backend) {
    let (dir, server, desk) = setup(b);
    let id = desk.dispatch(1, "eng-a").unwrap();
    let a = phone(&dir, &server, &desk, "a", Key::new());
    a.sync.sync_now().unwrap();
    to_qc(&a, &id);
    a.sync.sync_now().unwrap();
    desk.ok(
        "POST",
        &format!("/api/devices/{}/revoke", a.fw.device_id()),
        None,
    )
    .unwrap();
    sign(&a, &id);
    assert!(matches!(a.sync.sync_now(), Err(SyncError::Unauthorized)));
    assert!(signature_of(&desk_order(&desk, &id)).is_none());
    // Its key is revoked with it: even through another way in, what it
    // signed would not verify as a live device's.
    let key = server
        .state
        .directory
        .device_key("acme", &a.fw.device_id())
        .unwrap()
        .unwrap();
    assert!(key.revoked);
}

/// The text of a PDF, as poppler reads it.
fn pdf_text(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.pdf");
    std::fs::write(&path, bytes).unwrap();
    let out = std::process::Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils; scripts/test installs it)");
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

fn the_board_and_the_pdf_say_which_device_attested_and_what_was_not(b: &Backend) {
    let (dir, server, desk, mut board) = fieldwork_tests::board::setup(b);
    desk.ok(
        "POST",
        "/api/catalog",
        Some(serde_json::to_value(relay()).unwrap()),
    )
    .unwrap();
    let (attested, legacy) = (
        desk.dispatch(1, "eng-a").unwrap(),
        desk.dispatch(2, "eng-a").unwrap(),
    );
    let a = phone(&dir, &server, &desk, "a", Key::new());
    // A phone from before device keys: enrolled without one.
    let home = dir.path().join("old");
    std::fs::create_dir_all(&home).unwrap();
    let old = Device::enrol(&server, &desk, "eng-a", &home, T0).unwrap();
    a.sync.sync_now().unwrap();
    old.sync.sync_now().unwrap();
    to_qc(&a, &attested);
    sign(&a, &attested);
    to_qc(&old, &legacy);
    sign(&old, &legacy);
    assert_eq!(a.sync.sync_now().unwrap().refused_docs, 0);
    assert_eq!(
        old.sync.sync_now().unwrap().refused_docs,
        0,
        "accepted, unattested"
    );

    let device = a.fw.device_id();
    let page = board
        .get(&format!("/board/orders/{attested}"))
        .unwrap()
        .body;
    let line = format!("Attested by device {device} (software key)");
    // The consent, the QC record and the customer's signature.
    assert_eq!(page.matches(&line).count(), 3, "{page}");
    assert!(!page.contains("Not attested"));
    let page = board.get(&format!("/board/orders/{legacy}")).unwrap().body;
    assert_eq!(
        page.matches("Not attested by a device key").count(),
        3,
        "{page}"
    );
    assert!(!page.contains("Attested by device"));
    let zh = board
        .get_in(&format!("/board/orders/{attested}"), "zh-CN")
        .unwrap()
        .body;
    assert!(
        zh.contains(&format!("由设备 {device} 证明（软件密钥）")),
        "{zh}"
    );

    let (status, pdf) = desk
        .bytes(&format!("/api/orders/{attested}/report.pdf"))
        .unwrap();
    assert_eq!(status, 200);
    let text = pdf_text(&pdf);
    assert!(text.contains("Attested by device"), "{text}");
    assert!(text.contains(&device[..12]), "{text}");
    let (_, pdf) = desk
        .bytes(&format!("/api/orders/{legacy}/report.pdf"))
        .unwrap();
    assert!(pdf_text(&pdf).contains("Not attested by a device key"));
}

/// `fieldwork device` on the way to a signed visit.
fn cli_visit(exe: &std::path::Path, store: &std::path::Path, id: &str) {
    let steps: Vec<Vec<&str>> = vec![
        vec!["receive", "RLY", "1"],
        vec!["accept", id],
        vec!["en-route", id],
        vec!["arrive", id],
        vec!["diagnose", id, "E21", "hardware", "relay burnt", "RLY"],
        vec!["warranty", id, "--proof"],
        vec!["start", id],
        vec!["use-part", id, "RLY", "1"],
        vec!["repaired", id],
        vec!["qc", id, "pass"],
        vec!["sign", id, "Wang Fang"],
        vec!["sync"],
    ];
    for step in steps {
        let out = std::process::Command::new(exe)
            .args(["device", "--store"])
            .arg(store)
            .args(&step)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{step:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The device command signs with its software key once enrolled with it;
/// a device an older `fieldwork device` enrolled (no key pinned) goes on
/// unattested, and attests from its next enrolment.
#[test]
fn the_device_command_attests_and_an_older_device_goes_on_until_it_enrols_again() {
    let exe = std::path::Path::new(env!("CARGO_BIN_EXE_fieldwork-e2e"));
    let dir = tempfile::tempdir().unwrap();
    let (server, desk) = Server::start(&dir.path().join("data")).unwrap();
    desk.ok(
        "POST",
        "/api/catalog",
        Some(serde_json::to_value(relay()).unwrap()),
    )
    .unwrap();
    let device = |store: &std::path::Path, args: &[&str]| {
        let out = std::process::Command::new(exe)
            .args(["device", "--store"])
            .arg(store)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let signed_by = |id: &str| {
        signature_of(&desk_order(&desk, id))
            .map(|s| s.attestation.as_ref().map(|a| a.device.clone()))
    };

    let new = dir.path().join("new");
    device(&new, &["init", "eng-a"]);
    device(
        &new,
        &["enrol", &server.url, &desk.enrolment_code("eng-a").unwrap()],
    );
    let id = desk.dispatch(1, "eng-a").unwrap();
    device(&new, &["sync"]);
    cli_visit(exe, &new, &id);
    let status: serde_json::Value =
        serde_json::from_str(&device(&new, &["--json", "status"])).unwrap();
    let new_id = status["device_id"].as_str().unwrap().to_string();
    assert_eq!(signed_by(&id), Some(Some(new_id)));

    // As an older command left it: a token, no key pinned, no flag.
    let old = dir.path().join("old");
    device(&old, &["init", "eng-a"]);
    let (fw, _) = Device::store("eng-a", &old, T0).unwrap();
    let code = desk.enrolment_code("eng-a").unwrap();
    let token = fieldwork_core::sync::client::enrol(&fw, &server.url, &code)
        .unwrap()
        .token;
    drop(fw);
    let file = serde_json::json!({ "engineer": "eng-a", "server": server.url, "token": token });
    std::fs::write(old.join("device.json"), file.to_string()).unwrap();
    let id = desk.dispatch(2, "eng-a").unwrap();
    device(&old, &["sync"]);
    cli_visit(exe, &old, &id);
    assert_eq!(signed_by(&id), Some(None), "accepted, not attested");

    // Enrolled again: its key is pinned, and it attests.
    device(
        &old,
        &["enrol", &server.url, &desk.enrolment_code("eng-a").unwrap()],
    );
    let id = desk.dispatch(3, "eng-a").unwrap();
    device(&old, &["sync"]);
    cli_visit(exe, &old, &id);
    assert!(matches!(signed_by(&id), Some(Some(_))));
}
