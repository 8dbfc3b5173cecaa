//! Photos end to end: taken offline on a phone, sent in chunks when the
//! network allows, resumed after cuts, checked by hash on the server, shown
//! to the desk and to no one else. A real server on loopback, real HTTP, on
//! both storages.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use fieldwork_core::model::*;
use fieldwork_core::sync::client::SyncEvent;
use fieldwork_core::{Error, Language, SettingsInput};
use fieldwork_server::auth::Role;
use fieldwork_tests::backend::Backend;
use fieldwork_tests::harness::{Desk, Device, Server, TENANT};
use fieldwork_tests::proxy::{Fault, FaultyProxy};
use fieldwork_tests::{jpeg, sha256_hex};
use std::path::{Path, PathBuf};

fieldwork_tests::conformance!(
    a_photo_taken_offline_reaches_the_desk_whole,
    the_same_photo_on_two_orders_is_stored_once,
    an_upload_cut_mid_chunk_resumes_from_what_the_server_holds,
    uploads_through_a_faulty_network_all_arrive_whole,
    bytes_that_do_not_match_their_hash_are_refused,
    over_the_limit_is_refused_on_the_phone_and_on_the_server_before_any_bytes,
    another_engineer_and_another_tenant_get_nothing_by_the_hash,
    a_photo_survives_compaction_and_a_refetch_and_is_fetched_lazily,
    blobs_nothing_refers_to_are_collected_after_the_grace_period,
    the_sync_thread_retries_a_failed_upload_on_its_own,
    two_phones_sending_the_same_photo_at_once_both_finish,
);

const T0: i64 = 1_795_000_000_000;

struct World {
    dir: tempfile::TempDir,
    server: Server,
    desk: Desk,
}

fn world(b: &Backend) -> World {
    let (server, desk) = Server::start_on(b).unwrap();
    World {
        dir: tempfile::tempdir().unwrap(),
        server,
        desk,
    }
}

impl World {
    fn device(&self, engineer: &str, name: &str) -> Device {
        let d = self.dir.path().join(name);
        std::fs::create_dir_all(&d).unwrap();
        Device::enrol(&self.server, &self.desk, engineer, &d, T0).unwrap()
    }

    /// An order dispatched to `engineer` and pulled by `d`.
    fn order_on(&self, d: &Device, n: u32, engineer: &str) -> String {
        let id = self.desk.dispatch(n, engineer).unwrap();
        d.sync.sync_now().unwrap();
        id
    }

    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    fn held(&self, hash: &str) -> fieldwork_server::blobs::Held {
        self.server.state.blobs(TENANT).unwrap().held(hash).unwrap()
    }

    /// The photo's bytes as the dispatcher API serves them.
    fn desk_photo(&self, desk: &Desk, id: &str, photo: &str) -> (u16, Vec<u8>) {
        let r = fieldwork_core::sync::client::http_client()
            .unwrap()
            .get(format!(
                "{}/api/orders/{id}/photos/{photo}",
                self.server.url
            ))
            .bearer_auth(desk.token())
            .send()
            .unwrap();
        (r.status().as_u16(), r.bytes().unwrap().to_vec())
    }
}

fn blob_files(root: &Path) -> usize {
    let Ok(shards) = std::fs::read_dir(root) else {
        return 0;
    };
    shards
        .flatten()
        .filter(|s| s.file_name() != "partial" && s.file_name() != "tmp")
        .map(|s| std::fs::read_dir(s.path()).map(|e| e.count()).unwrap_or(0))
        .sum()
}

fn a_photo_taken_offline_reaches_the_desk_whole(b: &Backend) {
    let w = world(b);
    let a = w.device("eng-a", "a");
    let id = w.order_on(&a, 1, "eng-a");
    let bytes = jpeg(1_500_000, 1);
    a.sync.set_online(false);
    let photo =
        a.fw.attach_photo(
            &id,
            &w.file("fault.jpg", &bytes),
            PhotoKind::Fault,
            Some("burnt relay"),
        )
        .unwrap();
    assert_eq!(photo.hash, sha256_hex(&bytes));
    assert_eq!(photo.media_type, MediaType::Jpeg);
    assert_eq!(a.fw.blobs_waiting().unwrap().count, 1, "one photo waiting");
    assert_eq!(a.fw.blobs_waiting().unwrap().bytes, 1_500_000);
    // The desk sees the photo in the order before its bytes arrive.
    a.sync.set_online(true);
    let s = a.sync.sync_now().unwrap();
    assert_eq!(s.blobs_uploaded, 1);
    assert!(s.blob_bytes_up >= 1_500_000 && s.blob_bytes_up < 1_600_000);
    assert_eq!(a.fw.blobs_waiting().unwrap().count, 0);
    let progress: Vec<(u64, u64)> = a
        .events
        .events()
        .iter()
        .filter_map(|e| match e {
            SyncEvent::Upload { sent, total, .. } => Some((*sent, *total)),
            _ => None,
        })
        .collect();
    assert!(progress.len() >= 2, "progress per chunk: {progress:?}");
    assert!(progress.windows(2).all(|p| p[0].0 < p[1].0));
    assert_eq!(progress.last(), Some(&(1_500_000, 1_500_000)));
    assert!(w.held(&photo.hash).complete);
    let (status, served) = w.desk_photo(&w.desk, &id, &photo.id);
    assert_eq!(status, 200);
    assert_eq!(
        sha256_hex(&served),
        photo.hash,
        "the desk gets exactly the bytes taken"
    );
    let order = w
        .desk
        .ok("GET", &format!("/api/orders/{id}"), None)
        .unwrap();
    assert_eq!(order["order"]["photos"][0]["kind"], "fault");
    assert_eq!(order["order"]["photos"][0]["caption"], "burnt relay");
    // A second sync sends nothing again.
    assert_eq!(a.sync.sync_now().unwrap().blob_bytes_up, 0);
}

fn the_same_photo_on_two_orders_is_stored_once(b: &Backend) {
    let w = world(b);
    let a = w.device("eng-a", "a");
    let first = w.order_on(&a, 1, "eng-a");
    let second = w.order_on(&a, 2, "eng-a");
    let file = w.file("plate.jpg", &jpeg(700_000, 2));
    let p1 =
        a.fw.attach_photo(&first, &file, PhotoKind::SerialPlate, None)
            .unwrap();
    let p2 =
        a.fw.attach_photo(&second, &file, PhotoKind::SerialPlate, None)
            .unwrap();
    assert_eq!(p1.hash, p2.hash);
    assert_ne!(p1.id, p2.id);
    let phone_blobs = w.dir.path().join("a").join("device.db-blobs");
    assert_eq!(blob_files(&phone_blobs), 1, "kept once on the phone");
    assert_eq!(a.fw.blobs_waiting().unwrap().count, 1);
    let s = a.sync.sync_now().unwrap();
    assert_eq!(s.blobs_uploaded, 1, "sent once");
    assert!(s.blob_bytes_up < 800_000);
    if let Backend::Sqlite(dir) = b {
        let root = dir.path().join("server").join("blobs").join(TENANT);
        assert_eq!(blob_files(&root), 1, "kept once on the server");
    }
    for (id, p) in [(&first, &p1), (&second, &p2)] {
        let (status, served) = w.desk_photo(&w.desk, id, &p.id);
        assert_eq!((status, sha256_hex(&served)), (200, p.hash.clone()));
    }
}

fn an_upload_cut_mid_chunk_resumes_from_what_the_server_holds(b: &Backend) {
    let w = world(b);
    let a = w.device("eng-a", "a");
    let id = w.order_on(&a, 1, "eng-a");
    let size = 4 * 1024 * 1024;
    let bytes = jpeg(size, 3);
    a.fw.attach_photo(
        &id,
        &w.file("big.jpg", &bytes),
        PhotoKind::CompletedWork,
        None,
    )
    .unwrap();
    // Through a proxy that cuts the third chunk in half.
    let proxy = FaultyProxy::start(&w.server.url, 7, 0, 0).unwrap();
    let mut a = a;
    a.reconnect(&proxy.url).unwrap();
    // Request 1 is the sync round, 2 the upload's status, 3 and 4 its first
    // two chunks (let through, a little late); the fifth is cut in half.
    for _ in 0..4 {
        proxy.inject_next(Fault::Delay);
    }
    proxy.inject_next(Fault::CutRequest);
    let cut = a.sync.sync_now();
    assert!(cut.is_err(), "the cut connection fails the sync: {cut:?}");
    let held = w.held(&sha256_hex(&bytes));
    assert!(!held.complete);
    assert!(
        held.have >= 512 * 1024 && held.have < size as u64,
        "part of it is on the server: {held:?}"
    );
    let s = a.sync.sync_now().unwrap();
    assert_eq!(s.blobs_uploaded, 1);
    assert_eq!(
        s.blob_bytes_up,
        size as u64 - held.have,
        "only the rest was sent"
    );
    assert!(w.held(&sha256_hex(&bytes)).complete);
    let photo = &a.fw.order(&id).unwrap().order.photos[0];
    let (status, served) = w.desk_photo(&w.desk, &id, &photo.id);
    assert_eq!((status, served == bytes), (200, true));
}

fn uploads_through_a_faulty_network_all_arrive_whole(b: &Backend) {
    let w = world(b);
    let a = w.device("eng-a", "a");
    let id = w.order_on(&a, 1, "eng-a");
    let mut expected = Vec::new();
    for n in 0..4u64 {
        let bytes = jpeg(300_000 + n as usize * 400_000, 10 + n);
        let p =
            a.fw.attach_photo(
                &id,
                &w.file(&format!("p{n}.jpg"), &bytes),
                PhotoKind::Part,
                None,
            )
            .unwrap();
        expected.push((p.id, sha256_hex(&bytes)));
    }
    let proxy = FaultyProxy::start(&w.server.url, 0x5eed, 12, 40).unwrap();
    let mut a = a;
    a.reconnect(&proxy.url).unwrap();
    a.sync_until_photos_sent(60).unwrap();
    assert!(!proxy.faults().is_empty(), "faults were injected");
    for (photo, hash) in &expected {
        assert!(w.held(hash).complete);
        let (status, served) = w.desk_photo(&w.desk, &id, photo);
        assert_eq!((status, &sha256_hex(&served)), (200, hash));
    }
}

fn bytes_that_do_not_match_their_hash_are_refused(b: &Backend) {
    let w = world(b);
    let a = w.device("eng-a", "a");
    let id = w.order_on(&a, 1, "eng-a");
    let bytes = jpeg(600_000, 4);
    let p =
        a.fw.attach_photo(&id, &w.file("x.jpg", &bytes), PhotoKind::Fault, None)
            .unwrap();
    // The phone's copy is damaged after it was attached.
    let local = a.fw.photo_file(&id, &p.id).unwrap().unwrap();
    let mut damaged = bytes.clone();
    damaged[300_000] ^= 0xFF;
    std::fs::write(&local, &damaged).unwrap();
    a.sync.sync_now().unwrap();
    assert!(
        a.events.events().iter().any(|e| matches!(e,
            SyncEvent::UploadRefused { hash, reason } if hash == &p.hash && reason.contains("SHA-256"))),
        "{:?}",
        a.events.events()
    );
    let held = w.held(&p.hash);
    assert_eq!((held.have, held.complete), (0, false), "nothing of it kept");
    let (status, _) = w.desk_photo(&w.desk, &id, &p.id);
    assert_eq!(status, 404);
    // Over the wire, too: a chunk that is not the photo's.
    let client = fieldwork_core::sync::client::http_client().unwrap();
    let put = |offset: usize, body: Vec<u8>| {
        client
            .put(format!(
                "{}/v1/blobs/{}/upload?offset={offset}",
                w.server.url, p.hash
            ))
            .bearer_auth(&a.token)
            .body(body)
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(put(0, jpeg(600_000, 99)), 422);
    assert_eq!(
        put(0, vec![1, 2, 3]),
        422,
        "a tiny chunk that is not the last"
    );
    assert_eq!(
        put(5, bytes[..300_000].to_vec()),
        409,
        "not where the server is"
    );
    assert!(!w.held(&p.hash).complete);
}

fn over_the_limit_is_refused_on_the_phone_and_on_the_server_before_any_bytes(b: &Backend) {
    let w = world(b);
    // The service center allows 1 MB.
    let store = w.server.state.tenant(TENANT).unwrap();
    let mut policy = store.policy();
    policy.photo_max_mb = 1;
    store
        .desk()
        .change_settings(&SettingsInput {
            language: Language::En.tag().into(),
            policy,
        })
        .unwrap();
    let a = w.device("eng-a", "a");
    let id = w.order_on(&a, 1, "eng-a");
    let big = w.file("big.jpg", &jpeg(1_500_000, 5));
    let err =
        a.fw.attach_photo(&id, &big, PhotoKind::Fault, None)
            .unwrap_err();
    match &err {
        Error::Invalid(i) => {
            assert_eq!((i.field.as_str(), i.code), ("file", "file_too_large"));
            assert_eq!(
                err.message_in(Language::ZhCn),
                "file 无效：超过 1 MB 的上限"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(a.fw.order(&id).unwrap().order.photos.is_empty());
    assert_eq!(
        blob_files(&w.dir.path().join("a").join("device.db-blobs")),
        0
    );
    // Not a photo at all: refused by its bytes, whatever its name says.
    let text = w.file("notes.jpg", &b"just some notes ".repeat(100));
    let err =
        a.fw.attach_photo(&id, &text, PhotoKind::Other, None)
            .unwrap_err();
    assert!(
        matches!(err, Error::Invalid(ref i) if i.code == "not_a_photo"),
        "{err:?}"
    );

    // A phone that has not heard of the limit yet: the server refuses the
    // order's change, so the photo's bytes are never asked for.
    let id_b = w.desk.dispatch(2, "eng-b").unwrap();
    let status = push_oversized_photo(&w, &id_b);
    assert!(status.contains("larger than the limit of 1 MB"), "{status}");
}

/// Push, as eng-b's enrolled phone, a change adding a 30 MB photo to order
/// `id`; returns the server's refusal.
fn push_oversized_photo(w: &World, id: &str) -> String {
    let dir = w.dir.path().join("hand");
    std::fs::create_dir_all(&dir).unwrap();
    let generous = fieldwork_core::Policy {
        photo_max_mb: 100,
        ..fieldwork_core::Policy::default()
    };
    let fw = std::sync::Arc::new(
        fieldwork_core::Fieldwork::open(
            dir.join("device.db"),
            fieldwork_core::Config {
                policy: generous,
                ..fieldwork_core::Config::new("eng-b")
            },
        )
        .unwrap(),
    );
    let code = w.desk.enrolment_code("eng-b").unwrap();
    let enrolment = fieldwork_core::sync::client::enrol(&fw, &w.server.url, &code).unwrap();
    // Pull the order without the settings: import it from the server's copy.
    let bytes = fieldwork_core::sync::client::http_client()
        .unwrap()
        .get(format!("{}/v1/docs/{id}", w.server.url))
        .bearer_auth(&enrolment.token)
        .send()
        .unwrap()
        .bytes()
        .unwrap();
    fw.import_changes(id, &bytes).unwrap();
    let big = dir.join("huge.jpg");
    std::fs::write(&big, jpeg(30_000_000, 6)).unwrap();
    fw.attach_photo(id, &big, PhotoKind::Fault, None).unwrap();
    let recorder = std::sync::Arc::new(fieldwork_tests::harness::Recorder::default());
    let client = fieldwork_core::sync::client::SyncClient::new(
        fw.clone(),
        &w.server.url,
        &enrolment.token,
        recorder.clone(),
    )
    .unwrap();
    client.set_online(true);
    let s = client.sync_now().unwrap();
    assert_eq!(s.blob_bytes_up, 0, "no byte of the photo was sent");
    recorder
        .events()
        .iter()
        .find_map(|e| match e {
            SyncEvent::Refused { doc_id, reason } if doc_id == id => Some(reason.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

fn another_engineer_and_another_tenant_get_nothing_by_the_hash(b: &Backend) {
    let w = world(b);
    let a = w.device("eng-a", "a");
    let bdev = w.device("eng-b", "b");
    let id = w.order_on(&a, 1, "eng-a");
    let bytes = jpeg(400_000, 8);
    let p =
        a.fw.attach_photo(
            &id,
            &w.file("proof.jpg", &bytes),
            PhotoKind::ProofOfPurchase,
            None,
        )
        .unwrap();
    a.sync.sync_now().unwrap();
    assert!(w.held(&p.hash).complete);
    let get = |token: &str, path: &str| {
        fieldwork_core::sync::client::http_client()
            .unwrap()
            .get(format!("{}{path}", w.server.url))
            .bearer_auth(token)
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    let blob = format!("/v1/blobs/{}", p.hash);
    assert_eq!(get(&a.token, &blob), 200, "the engineer of the order");
    assert_eq!(
        get(&bdev.token, &blob),
        404,
        "another engineer, knowing the hash"
    );
    assert_eq!(get(&bdev.token, &format!("{blob}/upload")), 404);
    assert_eq!(
        get(w.desk.token(), &blob),
        403,
        "a desk token is not a device's"
    );
    // Another service center's dispatcher.
    let dir = &w.server.state.directory;
    dir.add_tenant("other", "Other Service").unwrap();
    dir.add_person("other", "desk2", "Desk 2", Role::Dispatcher)
        .unwrap();
    let other = dir.issue_dispatcher_token("other", "desk2").unwrap();
    assert_eq!(
        get(&other, &format!("/api/orders/{id}/photos/{}", p.id)),
        404
    );
    // Once the order is reassigned, its old engineer's phone is refused too.
    w.desk
        .ok(
            "POST",
            &format!("/api/orders/{id}/assign"),
            Some(serde_json::json!({ "engineer": "eng-b" })),
        )
        .unwrap();
    assert_eq!(get(&a.token, &blob), 404);
    assert_eq!(get(&bdev.token, &blob), 200);
}

fn a_photo_survives_compaction_and_a_refetch_and_is_fetched_lazily(b: &Backend) {
    let w = world(b);
    let a = w.device("eng-a", "a");
    let id = w.order_on(&a, 1, "eng-a");
    let bytes = jpeg(900_000, 9);
    let p =
        a.fw.attach_photo(&id, &w.file("f.jpg", &bytes), PhotoKind::Fault, None)
            .unwrap();
    // Enough changes after it that the document is saved whole again.
    for n in 0..(fieldwork_core::store::COMPACT_EVERY + 5) {
        a.fw.add_note(&id, &format!("note {n}")).unwrap();
    }
    a.sync.sync_now().unwrap();
    // The phone's copy replaced by the server's.
    a.fw.set_refetch(&id, true).unwrap();
    a.sync.sync_now().unwrap();
    let order = a.fw.order(&id).unwrap().order;
    assert_eq!(order.photos.len(), 1);
    assert_eq!(order.photos[0].hash, p.hash);
    assert!(a.fw.photo_file(&id, &p.id).unwrap().is_some());

    // Another phone of the same engineer has the order but not the bytes
    // until it asks for them.
    let other = w.device("eng-a", "a2");
    other.sync.sync_now().unwrap();
    assert_eq!(other.fw.order(&id).unwrap().order.photos.len(), 1);
    assert_eq!(other.fw.photo_file(&id, &p.id).unwrap(), None, "lazy");
    let path = other.sync.fetch_photo(&id, &p.id).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    assert_eq!(other.fw.blobs_waiting().unwrap().count, 0, "not sent back");

    // Removed: the order keeps the record; the phone frees the bytes once
    // the removal has reached the server and the file is old enough.
    a.fw.remove_photo(&id, &p.id).unwrap();
    assert!(a.fw.order(&id).unwrap().order.photos[0].is_removed());
    assert_eq!(
        a.fw.collect_blobs().unwrap(),
        0,
        "the removal is not synced yet"
    );
    a.sync.sync_now().unwrap();
    let local = a.fw.photo_file(&id, &p.id).unwrap().unwrap();
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
    std::fs::File::options()
        .write(true)
        .open(&local)
        .unwrap()
        .set_modified(old)
        .unwrap();
    assert_eq!(a.fw.collect_blobs().unwrap(), 1);
    assert_eq!(a.fw.photo_file(&id, &p.id).unwrap(), None);
}

fn blobs_nothing_refers_to_are_collected_after_the_grace_period(b: &Backend) {
    let w = world(b);
    let a = w.device("eng-a", "a");
    let id = w.order_on(&a, 1, "eng-a");
    let kept = jpeg(300_000, 20);
    let dropped = jpeg(300_000, 22);
    a.fw.attach_photo(&id, &w.file("kept.jpg", &kept), PhotoKind::Fault, None)
        .unwrap();
    let gone =
        a.fw.attach_photo(&id, &w.file("gone.jpg", &dropped), PhotoKind::Other, None)
            .unwrap();
    a.sync.sync_now().unwrap();
    a.fw.remove_photo(&id, &gone.id).unwrap();
    a.sync.sync_now().unwrap();
    // Half of a third photo, then the phone goes quiet.
    let half = jpeg(600_000, 24);
    let partial = sha256_hex(&half);
    w.server
        .state
        .blobs(TENANT)
        .unwrap()
        .append(
            &partial,
            0,
            &mut &half[..300_000],
            300_000,
            600_000,
            MediaType::Jpeg,
        )
        .unwrap();
    let state = &w.server.state;
    assert_eq!(
        state
            .collect_blobs(fieldwork_server::state::BLOB_GRACE)
            .unwrap(),
        0,
        "within the grace period nothing goes"
    );
    assert!(w.held(&gone.hash).complete);
    std::thread::sleep(std::time::Duration::from_millis(20));
    assert_eq!(
        state.collect_blobs(std::time::Duration::ZERO).unwrap(),
        2,
        "the removed photo's blob and the abandoned upload"
    );
    assert!(
        w.held(&sha256_hex(&kept)).complete,
        "a photo still on an order stays"
    );
    assert_eq!(w.held(&gone.hash).have, 0);
    assert_eq!(w.held(&partial).have, 0);
    let (status, _) = w.desk_photo(&w.desk, &id, &gone.id);
    assert_eq!(status, 404);
}

fn the_sync_thread_retries_a_failed_upload_on_its_own(b: &Backend) {
    let w = world(b);
    let a = w.device("eng-a", "a");
    let id = w.order_on(&a, 1, "eng-a");
    let proxy = FaultyProxy::start(&w.server.url, 11, 0, 0).unwrap();
    let mut a = a;
    a.reconnect(&proxy.url).unwrap();
    // The network fails the next three requests, whatever they are.
    for _ in 0..3 {
        proxy.inject_next(Fault::DropRequest);
    }
    let bytes = jpeg(1_100_000, 30);
    let p =
        a.fw.attach_photo(&id, &w.file("bg.jpg", &bytes), PhotoKind::Fault, None)
            .unwrap();
    let thread = a.sync.start();
    a.sync.poke();
    // No further local write: the thread backs off and tries again by itself.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while a.fw.blobs_waiting().unwrap().count > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the photo never left: {:?}",
            a.events.events()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    a.sync.stop();
    if let Some(t) = thread {
        t.join().unwrap();
    }
    assert_eq!(proxy.faults().len(), 3);
    assert!(
        a.events.events().iter().any(|e| matches!(
            e,
            SyncEvent::Status(fieldwork_core::sync::client::SyncStatus::Retrying { .. })
        )),
        "it backed off between attempts"
    );
    assert!(w.held(&p.hash).complete);
}

fn two_phones_sending_the_same_photo_at_once_both_finish(b: &Backend) {
    let w = world(b);
    let first = w.device("eng-a", "a1");
    let second = w.device("eng-a", "a2");
    let id = w.desk.dispatch(1, "eng-a").unwrap();
    first.sync.sync_now().unwrap();
    second.sync.sync_now().unwrap();
    let bytes = jpeg(6_000_000, 40);
    let file = w.file("same.jpg", &bytes);
    let p1 = first
        .fw
        .attach_photo(&id, &file, PhotoKind::Part, None)
        .unwrap();
    let p2 = second
        .fw
        .attach_photo(&id, &file, PhotoKind::Part, None)
        .unwrap();
    assert_eq!(p1.hash, p2.hash);
    // Both orders' changes first, then both uploads at the same moment.
    for d in [&first, &second] {
        d.sync.set_send_photos(false);
        d.sync.sync_now().unwrap();
        d.sync.set_send_photos(true);
    }
    let barrier = std::sync::Barrier::new(2);
    std::thread::scope(|s| {
        for d in [&first, &second] {
            let barrier = &barrier;
            s.spawn(move || {
                barrier.wait();
                for _ in 0..10 {
                    let _ = d.sync.send_photos();
                    if d.fw.blobs_waiting().unwrap().count == 0 {
                        return;
                    }
                }
                panic!("still waiting: {:?}", d.events.events());
            });
        }
    });
    assert!(w.held(&p1.hash).complete);
    let (status, served) = w.desk_photo(&w.desk, &id, &p2.id);
    assert_eq!((status, served == bytes), (200, true));
}
