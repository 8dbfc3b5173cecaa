//! `fieldwork demo` — the README's main job — runs a day end to end and
//! stops by itself with `--for`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

#[test]
fn the_demo_converges_and_stops_by_itself() {
    let data = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_fieldwork-e2e"))
        .args(["demo", "--listen", "127.0.0.1:0", "--for", "1", "--data"])
        .arg(data.path().join("demo"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let last_board = text.rsplit("== eng-chen is back online").next().unwrap();
    assert_eq!(last_board.matches("signed_off").count(), 9, "{text}");
    assert_eq!(last_board.matches("signature valid").count(), 9);
    assert!(text.contains("follow-up call") && text.contains("HTTP 204"));
    assert!(text.trim_end().ends_with("fieldwork demo: stopped"));
    assert!(
        text.contains("dispatcher board: http://") && text.contains("user desk, password "),
        "the demo says how to open the board"
    );
}
