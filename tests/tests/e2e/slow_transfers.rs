//! Phones slow to send or receive photos, on a real `fieldwork serve`
//! process with fewer storage threads than slow transfers: three downloads
//! that stop reading and an upload that stalls mid-chunk hold up no other
//! phone's sync, and the stalled upload resumes from what the server holds.
//! Bare HTTP/1.1 connections play the slow phones; both storages.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use fieldwork_core::model::PhotoKind;
use fieldwork_tests::backend::Backend;
use fieldwork_tests::fleet;
use fieldwork_tests::harness::Desk;
use fieldwork_tests::process::ServerProcess;
use fieldwork_tests::{jpeg, sha256_hex};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

fieldwork_tests::conformance!(phones_slow_to_send_or_receive_photos_hold_up_no_one_elses_sync,);

const T0: i64 = 1_795_000_000_000;

/// The server's own binary, run as a process.
fn exe() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_fieldwork-e2e"))
}

/// A bare HTTP/1.1 connection to the server at `url` that has sent `head`.
fn raw_request(url: &str, head: &str) -> TcpStream {
    let mut s = TcpStream::connect(url.strip_prefix("http://").unwrap()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(head.as_bytes()).unwrap();
    s
}

/// The response's status line and headers, and not a byte of its body.
fn response_head(s: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match s.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            other => panic!("no answer from the server: {other:?}"),
        }
    }
    String::from_utf8(head).unwrap()
}

fn phones_slow_to_send_or_receive_photos_hold_up_no_one_elses_sync(b: &Backend) {
    let root = tempfile::tempdir().unwrap();
    let center = fleet::provision(b, 2, 1).unwrap();
    // Two storage threads: fewer than the slow transfers below.
    let server = ServerProcess::start_with_env(
        exe(),
        &b.args(),
        &[("FIELDWORK_STORAGE_THREADS", std::ffi::OsStr::new("2"))],
    )
    .unwrap();
    let phones = fleet::enrol(&center, std::slice::from_ref(&server.url), root.path(), T0).unwrap();
    let desk = Desk::new(&server.url, &center.token).unwrap();
    let (a, other) = (&phones[0], &phones[1]);
    let (id, other_id) = (&center.engineers[0].1[0], &center.engineers[1].1[0]);
    let file = |name: &str, bytes: &[u8]| {
        let p = root.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    // A photo larger than what a connection buffers, on the server whole.
    let big = jpeg(12 * 1024 * 1024, 8);
    a.fw.attach_photo(id, &file("big.jpg", &big), PhotoKind::CompletedWork, None)
        .unwrap();
    a.sync_until_photos_sent(3).unwrap();
    // A second one the server knows of but holds nothing of yet (the phone
    // holds its photos back, as on a metered network).
    a.sync.set_send_photos(false);
    let second = jpeg(2 * 1024 * 1024, 9);
    a.fw.attach_photo(id, &file("second.jpg", &second), PhotoKind::Fault, None)
        .unwrap();
    a.sync.sync_now().unwrap();
    assert_eq!(a.fw.blobs_waiting().unwrap().count, 1);

    // Three downloads of the big photo that stop reading once it has begun,
    // and an upload of the second that stops after its first 1,000 bytes.
    let downloads: Vec<TcpStream> = (0..3)
        .map(|_| {
            let mut s = raw_request(
                &server.url,
                &format!(
                    "GET /v1/blobs/{} HTTP/1.1\r\nhost: fieldwork\r\nauthorization: Bearer {}\r\n\r\n",
                    sha256_hex(&big),
                    a.token
                ),
            );
            let head = response_head(&mut s);
            assert!(head.starts_with("HTTP/1.1 200"), "{head}");
            s
        })
        .collect();
    let chunk = 1024 * 1024;
    let mut upload = raw_request(
        &server.url,
        &format!(
            "PUT /v1/blobs/{}/upload?offset=0 HTTP/1.1\r\nhost: fieldwork\r\nauthorization: Bearer {}\r\ncontent-type: application/octet-stream\r\ncontent-length: {chunk}\r\n\r\n",
            sha256_hex(&second),
            a.token
        ),
    );
    upload.write_all(&second[..1000]).unwrap();

    // Another engineer's sync goes through meanwhile, to the desk.
    other.fw.add_note(other_id, "on my way").unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let sync = other.sync.clone();
    std::thread::spawn(move || tx.send(sync.sync_now().map(|_| ())));
    rx.recv_timeout(Duration::from_secs(30))
        .expect("the sync waited behind phones slow to send or receive photos")
        .unwrap();
    assert_eq!(desk.notes(other_id).unwrap(), ["on my way"]);

    // The slow upload's chunk ends and is taken.
    upload.write_all(&second[1000..chunk]).unwrap();
    let head = response_head(&mut upload);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    drop(downloads);
    let held: serde_json::Value = fieldwork_core::sync::client::http_client()
        .unwrap()
        .get(format!(
            "{}/v1/blobs/{}/upload",
            server.url,
            sha256_hex(&second)
        ))
        .bearer_auth(&a.token)
        .send()
        .and_then(|r| r.bytes())
        .map(|b| serde_json::from_slice(&b).unwrap())
        .unwrap();
    assert_eq!(held["have"], chunk);
    // The phone sends the rest from there; the desk gets both whole.
    a.sync.set_send_photos(true);
    let sent = a.sync_until_photos_sent(3).unwrap();
    assert_eq!(sent.blob_bytes_up, (second.len() - chunk) as u64);
    let photos = a.fw.order(id).unwrap().order.photos;
    let mut hashes: Vec<String> = photos.iter().map(|p| p.hash.clone()).collect();
    let mut expected = vec![sha256_hex(&big), sha256_hex(&second)];
    hashes.sort();
    expected.sort();
    assert_eq!(hashes, expected);
    for photo in &photos {
        let (status, served) = desk.photo(id, &photo.id).unwrap();
        assert_eq!((status, sha256_hex(&served)), (200, photo.hash.clone()));
    }
}
