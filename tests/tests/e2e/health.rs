//! What a load balancer asks: is the process up (`/healthz`), can it serve
//! (`/readyz`: storage answering, schema current). A real server on loopback,
//! both storages; no token needed, nothing about tenants said.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use fieldwork_tests::backend::Backend;
use fieldwork_tests::harness::Server;

fieldwork_tests::conformance!(ready_while_its_storage_answers_with_the_schema_it_knows,);

fn get(url: &str) -> (u16, String) {
    let r = fieldwork_core::sync::client::http_client()
        .unwrap()
        .get(url)
        .send()
        .unwrap();
    (r.status().as_u16(), r.text().unwrap())
}

fn ready_while_its_storage_answers_with_the_schema_it_knows(b: &Backend) {
    let (server, _desk) = Server::start_on(b).unwrap();
    assert_eq!(
        get(&format!("{}/healthz", server.url)),
        (200, "ok\n".into())
    );
    assert_eq!(
        get(&format!("{}/readyz", server.url)),
        (200, "ready\n".into())
    );

    // Another process with a newer Fieldwork migrated the directory further:
    // this one is up, but no longer ready to serve.
    let mut directory = b.storage().unwrap().directory().unwrap();
    let current = directory.schema_version().unwrap();
    directory.set_schema_version(current + 1).unwrap();
    let (status, body) = get(&format!("{}/readyz", server.url));
    assert_eq!(status, 503);
    assert!(body.contains("schema"), "{body}");
    assert_eq!(get(&format!("{}/healthz", server.url)).0, 200);

    directory.set_schema_version(current).unwrap();
    assert_eq!(get(&format!("{}/readyz", server.url)).0, 200);
}

/// What systemd and Kubernetes send to stop a service: the server stops
/// serving and exits cleanly (status 0), rather than being killed by it.
#[test]
fn sigterm_stops_the_server_cleanly() {
    use fieldwork_tests::process::{ServerProcess, provision};
    use std::time::{Duration, Instant};
    let exe = std::path::Path::new(env!("CARGO_BIN_EXE_fieldwork-e2e"));
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    provision(exe, &data).unwrap();
    let mut server = ServerProcess::start(exe, &data).unwrap();
    assert_eq!(get(&format!("{}/readyz", server.url)).0, 200);
    let pid = server.child.id().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(sent.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = server.child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "still running 10 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
}
