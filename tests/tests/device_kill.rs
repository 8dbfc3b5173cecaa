//! A device process (`fieldwork device … sync`) killed with SIGKILL mid-sync,
//! again and again, then left to finish: the server ends with every change
//! once, and the device's outbox is empty.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use fieldwork_core::{Config, Fieldwork};
use fieldwork_tests::intake;
use fieldwork_tests::process::{ServerProcess, admin, data_dir, desk, provision};
use serde_json::json;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

const NOTES: usize = 400;

#[test]
fn a_device_killed_mid_sync_converges_with_nothing_lost_or_doubled() {
    let exe = Path::new(env!("CARGO_BIN_EXE_fieldwork-e2e"));
    let root = tempfile::tempdir().unwrap();
    let data = data_dir(root.path());
    let token = provision(exe, &data).unwrap();
    let server = ServerProcess::start(exe, &data).unwrap();
    let d = desk(&server.url, &token).unwrap();
    let v = d
        .ok(
            "POST",
            "/api/orders",
            Some(serde_json::to_value(intake(7)).unwrap()),
        )
        .unwrap();
    let id = v["id"].as_str().unwrap().to_string();
    d.ok(
        "POST",
        &format!("/api/orders/{id}/assign"),
        Some(json!({ "engineer": "eng-a" })),
    )
    .unwrap();

    let phone = root.path().join("phone");
    let store = phone.to_str().unwrap();
    let device = |args: &[&str]| {
        Command::new(exe)
            .args(["device", "--store", store])
            .args(args)
            .output()
            .unwrap()
    };
    assert!(device(&["init", "eng-a"]).status.success());
    let code = admin(exe, &data, &["enrol-code", "acme", "eng-a"]).unwrap();
    assert!(device(&["enrol", &server.url, &code]).status.success());
    assert!(device(&["sync"]).status.success());

    // A day's worth of notes written offline, straight into the phone's store.
    {
        let fw = Fieldwork::open(phone.join("device.db"), Config::new("eng-a")).unwrap();
        for n in 0..NOTES {
            fw.add_note(&id, &format!("检查 {n}")).unwrap();
        }
        assert_eq!(fw.pending_changes().unwrap(), NOTES as i64);
    }

    let mut seed = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64
        | 1;
    for _ in 0..8 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let mut child = Command::new(exe)
            .args(["device", "--store", store, "sync"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(seed % 40));
        child.kill().unwrap();
        child.wait().unwrap();
    }
    let last = device(&["--json", "sync"]);
    assert!(
        last.status.success(),
        "{}",
        String::from_utf8_lossy(&last.stderr)
    );

    let status: serde_json::Value =
        serde_json::from_slice(&device(&["--json", "status"]).stdout).unwrap();
    assert_eq!(status["pending_changes"], 0);
    let v = d.ok("GET", &format!("/api/orders/{id}"), None).unwrap();
    let notes = v["order"]["repair_notes"].as_array().unwrap();
    assert_eq!(notes.len(), NOTES, "every note once");
    let fw = Fieldwork::open(phone.join("device.db"), Config::new("eng-a")).unwrap();
    assert_eq!(fw.integrity_check().unwrap(), "ok");
    assert_eq!(
        serde_json::to_value(fw.order(&id).unwrap().order).unwrap(),
        v["order"]
    );
}
