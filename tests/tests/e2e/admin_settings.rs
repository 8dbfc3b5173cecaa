//! `fieldwork admin tenant … --time-zone --language`: a service center is
//! created with its own settings, and bad ones are refused with the option
//! to fix before anything is written.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use fieldwork_tests::harness::Desk;
use fieldwork_tests::process::{ServerProcess, admin};
use std::path::Path;
use std::process::Command;

fn exe() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_fieldwork-e2e"))
}

#[test]
fn a_tenant_is_created_in_its_zone_and_language_and_bad_settings_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("server");
    for (option, value, says) in [
        ("--time-zone", "Asia/Beijing", "time_zone"),
        ("--language", "fr", "--language fr: must be zh-CN or en"),
        ("--calling-hours", "9-5", "calling_hours"),
        ("--currency", "yuan", "currency"),
    ] {
        let out = Command::new(exe())
            .arg("admin")
            .arg("--data")
            .arg(&data)
            .args(["tenant", "sh", "上海服务中心", option, value])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{option} {value} was accepted");
        assert!(err.contains(says), "{option} {value}: {err}");
        assert!(!data.join("server.db").exists(), "nothing written");
    }

    let said = admin(
        exe(),
        &data,
        &[
            "tenant",
            "sh",
            "上海服务中心",
            "--time-zone",
            "Asia/Shanghai",
            "--language",
            "zh-CN",
        ],
    )
    .unwrap();
    assert_eq!(said, "settings version 1");
    admin(exe(), &data, &["dispatcher", "sh", "desk", "前台"]).unwrap();
    let token = admin(exe(), &data, &["dispatcher", "sh", "desk", "前台"]).unwrap();
    let server = ServerProcess::start(exe(), &data).unwrap();
    let desk = Desk::new(&server.url, token.lines().last().unwrap()).unwrap();
    let s = desk.ok("GET", "/api/settings", None).unwrap();
    assert_eq!(s["current"]["policy"]["time_zone"], "Asia/Shanghai");
    assert_eq!(s["current"]["language"], "zh-CN");
    assert_eq!(s["current"]["changed_by"], "admin");
    assert_eq!(s["versions"].as_array().unwrap().len(), 1);
}
