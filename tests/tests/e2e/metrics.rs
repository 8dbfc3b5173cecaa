//! `/metrics` as Prometheus scrapes it from a real `fieldwork serve` process
//! on its own address: requests and latency by route, bytes, changes accepted
//! and refused by reason, live board connections, storage time, photo bytes.
//! Both storages.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use fieldwork_core::model::PhotoKind;
use fieldwork_core::sync::wire::{PushDoc, SyncRequest};
use fieldwork_tests::backend::Backend;
use fieldwork_tests::board::BoardClient;
use fieldwork_tests::harness::Device;
use fieldwork_tests::process::{ServerProcess, desk, provision_on, set_password};
use std::path::Path;
use std::time::{Duration, Instant};

fieldwork_tests::conformance!(a_scrape_tells_what_the_server_did,);

const T0: i64 = 1_795_000_000_000;
const PASSWORD: &str = "correct horse battery";

/// The value of the sample `series` (name and labels as written), or 0.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.trim().parse().unwrap())
        .unwrap_or(0.0)
}

fn scrape(url: &str) -> String {
    let r = fieldwork_core::sync::client::http_client()
        .unwrap()
        .get(format!("{url}/metrics"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    r.text().unwrap()
}

/// The metrics address the server wrote to its log.
fn metrics_url(log: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(at) = text
            .lines()
            .find_map(|l| l.strip_prefix("fieldwork: metrics on "))
        {
            return at.trim().trim_end_matches("/metrics").to_string();
        }
        assert!(Instant::now() < deadline, "no metrics address in:\n{text}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn a_scrape_tells_what_the_server_did(b: &Backend) {
    let exe = Path::new(env!("CARGO_BIN_EXE_fieldwork-e2e"));
    let dir = tempfile::tempdir().unwrap();
    let args = b.args();
    let token = provision_on(exe, &args).unwrap();
    set_password(exe, &args, "desk", PASSWORD).unwrap();
    let log = dir.path().join("server.log");
    let server =
        ServerProcess::start_logged(exe, &args, &["--metrics-listen", "127.0.0.1:0"], &log)
            .unwrap();
    let metrics = metrics_url(&log);
    let desk = desk(&server.url, &token).unwrap();
    // Only on its own address.
    assert_eq!(desk.call("GET", "/metrics", None).unwrap().0, 404);
    desk.ok(
        "POST",
        "/api/catalog",
        Some(serde_json::to_value(fieldwork_tests::relay()).unwrap()),
    )
    .unwrap();
    let id = desk.dispatch(1, "eng-a").unwrap();
    let home = dir.path().join("phone");
    std::fs::create_dir_all(&home).unwrap();
    let phone = Device::enrol_at(&server.url, &desk, "eng-a", &home, T0).unwrap();
    let mut pushed = phone.sync.sync_now().unwrap().pushed_changes;
    phone.fw.receive_stock("RLY", 1).unwrap();
    let photo = dir.path().join("plate.jpg");
    let bytes = fieldwork_tests::jpeg(200_000, 4);
    std::fs::write(&photo, &bytes).unwrap();
    phone
        .fw
        .attach_photo(&id, &photo, PhotoKind::SerialPlate, None)
        .unwrap();
    fieldwork_tests::play_visit(&phone.fw, &id, &|ms| phone.clock.advance_ms(ms)).unwrap();
    pushed += phone.sync.sync_now().unwrap().pushed_changes;
    assert!(pushed > 5);

    // A push whose bytes are not changes: refused as malformed.
    let junk = SyncRequest {
        cursor: 0,
        push: vec![PushDoc {
            doc_id: id.clone(),
            changes: vec![0x85, 0x6f, 0x4a, 0x83, 1, 2, 3],
        }],
    }
    .encode();
    let r = fieldwork_core::sync::client::http_client()
        .unwrap()
        .post(format!("{}/v1/sync", server.url))
        .bearer_auth(&phone.token)
        .header("content-type", "application/x-fieldwork-sync")
        .body(junk)
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = fieldwork_core::sync::client::http_client()
        .unwrap()
        .get(format!("{}/no/such/path", server.url))
        .send()
        .unwrap();
    assert_eq!(r.status(), 404);

    let text = scrape(&metrics);
    assert_eq!(
        sample(
            &text,
            "fieldwork_http_requests_total{method=\"GET\",route=\"(unmatched)\",status=\"404\"}"
        ),
        2.0,
        "paths no route knows (/metrics on the main address, and this one) are counted, without the path"
    );
    assert_eq!(
        sample(&text, "fieldwork_sync_changes_total{result=\"accepted\"}"),
        pushed as f64,
        "{text}"
    );
    assert_eq!(
        sample(&text, "fieldwork_sync_changes_total{result=\"malformed\"}"),
        1.0
    );
    assert!(
        sample(
            &text,
            "fieldwork_http_requests_total{method=\"POST\",route=\"/v1/sync\",status=\"200\"}"
        ) >= 2.0,
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "fieldwork_http_requests_total{method=\"POST\",route=\"/v1/sync\",status=\"400\"}"
        ),
        1.0
    );
    assert!(
        sample(
            &text,
            "fieldwork_http_request_duration_seconds_count{route=\"/v1/sync\"}"
        ) >= 3.0
    );
    assert!(sample(&text, "fieldwork_http_received_bytes_total") > bytes.len() as f64);
    assert!(sample(&text, "fieldwork_http_sent_bytes_total") > 0.0);
    assert!(sample(&text, "fieldwork_storage_work_duration_seconds_count") >= 3.0);
    assert_eq!(
        sample(&text, "fieldwork_blob_received_bytes_total"),
        bytes.len() as f64
    );
    assert!(
        !text.contains(&id) && !text.contains("acme"),
        "no order or tenant in labels"
    );

    // A board open for live updates is counted while it is open.
    assert_eq!(sample(&text, "fieldwork_board_connections"), 0.0);
    let mut board = BoardClient::new(&server.url).unwrap();
    assert_eq!(board.sign_in("acme", "desk", PASSWORD).unwrap().status, 303);
    let live = fieldwork_core::sync::client::http_client()
        .unwrap()
        .get(format!("{}/board/events", server.url))
        .header(
            "cookie",
            format!("fw_session={}", board.cookie("fw_session").unwrap()),
        )
        .send()
        .unwrap();
    assert_eq!(live.status(), 200);
    assert_eq!(
        sample(&scrape(&metrics), "fieldwork_board_connections"),
        1.0
    );
    drop(live);
    let deadline = Instant::now() + Duration::from_secs(10);
    while sample(&scrape(&metrics), "fieldwork_board_connections") != 0.0 {
        assert!(
            Instant::now() < deadline,
            "the closed board is still counted"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
