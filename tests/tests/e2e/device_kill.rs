//! A device process (`fieldwork device … sync`) killed with SIGKILL mid-sync,
//! again and again, then left to finish: the server ends with every change
//! once, and the device's outbox is empty.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use fieldwork_core::{Config, Fieldwork};
use fieldwork_tests::jpeg;
use fieldwork_tests::process::{ServerProcess, admin, data_dir, desk, provision};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

const NOTES: usize = 400;

/// A `fieldwork serve` process, an order for eng-a, and eng-a's phone as
/// the `fieldwork device` command, enrolled and synced.
struct Field {
    exe: &'static Path,
    root: tempfile::TempDir,
    data: std::path::PathBuf,
    server: ServerProcess,
    desk: fieldwork_tests::harness::Desk,
    id: String,
}

impl Field {
    fn start(n: u32) -> Field {
        Self::start_with(n, &["init", "eng-a"])
    }

    /// The same, the device made with `init` as `init_args` say.
    fn start_with(n: u32, init_args: &[&str]) -> Field {
        let exe = Path::new(env!("CARGO_BIN_EXE_fieldwork-e2e"));
        let root = tempfile::tempdir().unwrap();
        let data = data_dir(root.path());
        let token = provision(exe, &data).unwrap();
        let server = ServerProcess::start(exe, &data).unwrap();
        let d = desk(&server.url, &token).unwrap();
        let id = d.dispatch(n, "eng-a").unwrap();
        let f = Field {
            exe,
            root,
            data,
            server,
            desk: d,
            id,
        };
        assert!(f.device(init_args).status.success());
        let code = admin(exe, &f.data, &["enrol-code", "acme", "eng-a"]).unwrap();
        assert!(f.device(&["enrol", &f.server.url, &code]).status.success());
        assert!(f.device(&["sync"]).status.success());
        f
    }

    fn phone(&self) -> std::path::PathBuf {
        self.root.path().join("phone")
    }

    fn device(&self, args: &[&str]) -> std::process::Output {
        Command::new(self.exe)
            .args(["device", "--store"])
            .arg(self.phone())
            .args(args)
            .output()
            .unwrap()
    }

    /// `fieldwork device … sync` as a child to kill.
    fn spawn_sync(&self) -> std::process::Child {
        Command::new(self.exe)
            .args(["device", "--store"])
            .arg(self.phone())
            .arg("sync")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    }
}

#[test]
fn a_device_killed_mid_sync_converges_with_nothing_lost_or_doubled() {
    let f = Field::start(7);
    let (id, phone, d) = (&f.id, f.phone(), &f.desk);
    let device = |args: &[&str]| f.device(args);

    // A day's worth of notes written offline, straight into the phone's store.
    {
        let fw = Fieldwork::open(phone.join("device.db"), Config::new("eng-a")).unwrap();
        for n in 0..NOTES {
            fw.add_note(id, &format!("检查 {n}")).unwrap();
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
        let mut child = f.spawn_sync();
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
        serde_json::to_value(fw.order(id).unwrap().order).unwrap(),
        v["order"]
    );
}

#[test]
fn a_device_killed_mid_upload_resumes_where_the_server_stopped() {
    // An encrypted device: the photo is sealed on the phone, and the upload
    // resumes from the middle of the sealed file.
    let f = Field::start_with(3, &["init", "eng-a", "--encrypted"]);
    let (id, root, data) = (&f.id, f.root.path(), &f.data);
    let device = |args: &[&str]| f.device(args);

    let size = 16_000_000;
    let bytes = jpeg(size, 42);
    let file = root.join("finished.jpg");
    std::fs::write(&file, &bytes).unwrap();
    let attached = device(&[
        "--json",
        "attach",
        id,
        file.to_str().unwrap(),
        "completed_work",
        "after",
        "repair",
    ]);
    assert!(
        attached.status.success(),
        "{}",
        String::from_utf8_lossy(&attached.stderr)
    );
    let attached: serde_json::Value = serde_json::from_slice(&attached.stdout).unwrap();
    let hash = attached["hash"].as_str().unwrap().to_string();
    assert_eq!(attached["waiting"], 1);

    // Kill the syncing process once part of the photo is on the server.
    let partial = data.join("blobs").join("acme").join("partial").join(&hash);
    let mut child = f.spawn_sync();
    let started = std::time::Instant::now();
    let mut held_at_kill = 0;
    while started.elapsed() < Duration::from_secs(60) {
        let held = std::fs::metadata(&partial).map(|m| m.len()).unwrap_or(0);
        if held >= 2 * 1024 * 1024 {
            child.kill().unwrap();
            held_at_kill = held;
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let _ = child.wait();
    assert!(
        held_at_kill > 0 && held_at_kill < size as u64,
        "killed mid-upload (held {held_at_kill} of {size})"
    );

    let status: serde_json::Value =
        serde_json::from_slice(&device(&["--json", "status"]).stdout).unwrap();
    assert_eq!(status["photos_waiting"], 1, "still waiting after the kill");
    let last = device(&["--json", "sync"]);
    assert!(
        last.status.success(),
        "{}",
        String::from_utf8_lossy(&last.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&last.stdout).unwrap();
    assert_eq!(summary["blobs_uploaded"], 1);
    let resent = summary["blob_bytes_up"].as_u64().unwrap();
    assert!(
        resent <= size as u64 - held_at_kill + 1024 * 1024,
        "resumed: sent {resent} after {held_at_kill} were held"
    );
    let whole = data.join("blobs").join("acme").join(&hash[..2]).join(&hash);
    assert_eq!(std::fs::read(&whole).unwrap(), bytes);
    assert!(!partial.exists());
    let status: serde_json::Value =
        serde_json::from_slice(&device(&["--json", "status"]).stdout).unwrap();
    assert_eq!(status["photos_waiting"], 0);

    // On the phone the photo is sealed; `fetch-photo --to` gives its bytes.
    let photo = attached["photo_id"].as_str().unwrap();
    let sealed = std::fs::read(
        f.phone()
            .join("device.db-blobs")
            .join(&hash[..2])
            .join(&hash),
    )
    .unwrap();
    assert!(sealed.starts_with(b"FWS1") && sealed.len() > size);
    let out = root.join("back.jpg");
    let fetched = device(&["fetch-photo", id, photo, "--to", out.to_str().unwrap()]);
    assert!(
        fetched.status.success(),
        "{}",
        String::from_utf8_lossy(&fetched.stderr)
    );
    assert_eq!(std::fs::read(&out).unwrap(), bytes);
}
