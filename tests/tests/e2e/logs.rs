//! The server's request logs, as an operator reads them: one line per
//! request with the route as declared, the status, the latency, the tenant
//! and the device; and, after a whole visit with photos, the desk's board and
//! API, nothing a customer said, no token, no password, no enrolment code.
//! A real `fieldwork serve` process, its stderr in a file, both storages.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use fieldwork_core::model::PhotoKind;
use fieldwork_tests::backend::Backend;
use fieldwork_tests::board::BoardClient;
use fieldwork_tests::harness::Device;
use fieldwork_tests::process::{ServerProcess, desk, provision_on, set_password};
use serde_json::{Value, json};
use std::path::Path;

fieldwork_tests::conformance!(a_whole_visit_logs_each_request_and_nothing_private,);

const T0: i64 = 1_795_000_000_000;
const PASSWORD: &str = "correct horse battery";
const NAME: &str = "欧阳秘密";
const PHONE: &str = "+86 139 0000 4321";
const ADDRESS: &str = "上海市机密路 88 号";

fn a_whole_visit_logs_each_request_and_nothing_private(b: &Backend) {
    let exe = Path::new(env!("CARGO_BIN_EXE_fieldwork-e2e"));
    let dir = tempfile::tempdir().unwrap();
    let args = b.args();
    let token = provision_on(exe, &args).unwrap();
    set_password(exe, &args, "desk", PASSWORD).unwrap();
    let log = dir.path().join("server.log");
    let server = ServerProcess::start_logged(exe, &args, &["--log-format", "json"], &log).unwrap();
    let desk = desk(&server.url, &token).unwrap();
    desk.ok(
        "POST",
        "/api/catalog",
        Some(serde_json::to_value(fieldwork_tests::relay()).unwrap()),
    )
    .unwrap();
    let mut intake = serde_json::to_value(fieldwork_tests::intake(1)).unwrap();
    intake["customer"] =
        json!({ "name": NAME, "phone": PHONE, "address": ADDRESS, "member": false });
    let id = desk.ok("POST", "/api/orders", Some(intake)).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    desk.ok(
        "POST",
        &format!("/api/orders/{id}/assign"),
        Some(json!({ "engineer": "eng-a" })),
    )
    .unwrap();

    // The phone: enrolled with a one-time code, the visit, a photo, synced.
    let home = dir.path().join("phone");
    std::fs::create_dir_all(&home).unwrap();
    let code = desk.enrolment_code("eng-a").unwrap();
    let phone = Device::enrol_with_code(&server.url, "eng-a", &code, &home, T0).unwrap();
    phone.sync.sync_now().unwrap();
    phone.fw.receive_stock("RLY", 1).unwrap();
    let photo = dir.path().join("plate.jpg");
    std::fs::write(&photo, fieldwork_tests::jpeg(300_000, 3)).unwrap();
    phone
        .fw
        .attach_photo(&id, &photo, PhotoKind::SerialPlate, Some(NAME))
        .unwrap();
    fieldwork_tests::play_visit(&phone.fw, &id, &|ms| phone.clock.advance_ms(ms)).unwrap();
    phone.sync.sync_now().unwrap();

    // The desk reads it on the API and on the board.
    desk.ok("GET", &format!("/api/orders/{id}"), None).unwrap();
    let mut board = BoardClient::new(&server.url).unwrap();
    assert_eq!(board.sign_in("acme", "desk", PASSWORD).unwrap().status, 303);
    assert_eq!(
        board.get(&format!("/board/orders/{id}")).unwrap().status,
        200
    );
    assert_eq!(board.get("/board").unwrap().status, 200);
    // A path no route knows: answered 404, logged without the path.
    assert_eq!(board.get(&format!("/no/such/{PHONE}")).unwrap().status, 404);
    drop(server);

    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let answered: Vec<&Value> = lines
        .iter()
        .filter(|l| l["message"] == "answered")
        .collect();
    let field = |l: &Value, k: &str| l["span"][k].as_str().unwrap_or_default().to_string();
    // One line per request: the phone's syncs, named by tenant and device.
    let syncs: Vec<_> = answered
        .iter()
        .filter(|l| field(l, "route") == "/v1/sync")
        .collect();
    assert!(syncs.len() >= 2, "{text}");
    for l in &syncs {
        assert_eq!(field(l, "method"), "POST");
        assert_eq!(field(l, "tenant"), "acme");
        assert_eq!(field(l, "device"), phone.fw.device_id());
        assert_eq!(l["status"], 200);
        assert!(l["latency_ms"].as_f64().is_some());
    }
    // Routes as declared, never the path with the order's id in it.
    assert!(
        answered
            .iter()
            .any(|l| field(l, "route") == "/api/orders/{id}" && field(l, "tenant") == "acme"),
        "{text}"
    );
    assert!(
        answered
            .iter()
            .any(|l| field(l, "route") == "/board/orders/{id}")
    );
    assert!(
        answered
            .iter()
            .any(|l| field(l, "route").starts_with("/v1/blobs/"))
    );
    assert!(!text.contains(&id), "an order id in a path was logged");
    assert!(
        answered
            .iter()
            .any(|l| field(l, "route") == "(unmatched)" && l["status"] == 404),
        "{text}"
    );

    for secret in [
        NAME,
        PHONE,
        "139 0000",
        ADDRESS,
        "机密路",
        token.as_str(),
        PASSWORD,
        code.as_str(),
        phone.token.as_str(),
    ] {
        assert!(!text.contains(secret), "{secret:?} is in the log:\n{text}");
    }
}
