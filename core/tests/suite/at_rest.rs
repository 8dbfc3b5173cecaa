//! The phone's store encrypted at rest: after a whole visit no customer's
//! name, phone number or address is in the store's file, its WAL or its
//! photo files; a wrong key (or none) opens nothing and changes nothing; a
//! rekey; a plaintext store encrypted in place with its photos.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use common::*;
use fieldwork_core::at_rest::StoreKey;
use fieldwork_core::model::*;
use fieldwork_core::{Config, Error, Fieldwork, Language, ManualClock};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const NAME: &str = "Ouyang Mingzhu";
const PHONE: &str = "+86 139 0471 2288";
const ADDRESS: &str = "Xinhua Road 1187, Hohhot";

/// A photo whose bytes are recognisable in any file that holds them.
fn photo_bytes() -> Vec<u8> {
    let mut v = vec![0xFF, 0xD8, 0xFF, 0xE0];
    v.extend(
        (0..300_000u32)
            .flat_map(|i| format!("PHOTO-OF-{NAME}-AT-{ADDRESS}-{i};").into_bytes())
            .take(300_000),
    );
    v
}

fn open(dir: &Path, key: Option<&StoreKey>) -> Result<Fieldwork, Error> {
    let config = Config {
        clock: ManualClock::new(T0),
        ..Config::new("eng-1")
    };
    let config = match key {
        Some(k) => config.with_key(k.clone()),
        None => config,
    };
    Fieldwork::open(dir.join("fw.db"), config)
}

/// A visit that attaches its photo while the order is open.
fn visit_with_photo(fw: &Fieldwork, dir: &Path) -> (String, String) {
    catalog(fw);
    fw.receive_stock("RLY", 2).unwrap();
    let mut i = intake(NAME, "SN-77");
    i.customer.phone = Some(PHONE.into());
    i.customer.address = ADDRESS.into();
    let id = fw.desk().create_order(i).unwrap();
    fw.desk().assign(&id, "eng-1").unwrap();
    fw.accept(&id).unwrap();
    fw.en_route(&id).unwrap();
    fw.arrive(&id, None).unwrap();
    let file = dir.join("incoming.jpg");
    std::fs::write(&file, photo_bytes()).unwrap();
    let p = fw.attach_photo(&id, &file, PhotoKind::Fault, None).unwrap();
    std::fs::remove_file(&file).unwrap();
    fw.diagnose(&id, diagnosis("E21", FaultKind::Hardware))
        .unwrap();
    fw.decide_warranty(&id, true, false).unwrap();
    fw.start_work(&id).unwrap();
    fw.use_part(&id, "RLY", 1, true).unwrap();
    fw.add_note(&id, &format!("called {NAME} on {PHONE} before arriving"))
        .unwrap();
    fw.mark_repaired(&id).unwrap();
    fw.record_qc(&id, qc_items(true)).unwrap();
    fw.capture_signature(&id, NAME, vec![stroke()]).unwrap();
    fw.rate(&id, Rating::Satisfied, Some(5), None).unwrap();
    (id, p.id)
}

/// Every file under `dir` but the test's own, by path.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.clone(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// The files under `dir` that hold any of the customer's details.
fn leaks(dir: &Path) -> Vec<String> {
    let needles: Vec<&[u8]> = vec![
        NAME.as_bytes(),
        PHONE.as_bytes(),
        ADDRESS.as_bytes(),
        b"PHOTO-OF-",
    ];
    files(dir)
        .into_iter()
        .filter(|(_, bytes)| {
            needles
                .iter()
                .any(|n| bytes.windows(n.len()).any(|w| w == *n))
        })
        .map(|(p, _)| p.display().to_string())
        .collect()
}

#[test]
fn after_a_whole_visit_no_customer_detail_is_in_the_store_its_wal_or_its_photos() {
    let dir = tempfile::tempdir().unwrap();
    let key = StoreKey::generate();
    let fw = open(dir.path(), Some(&key)).unwrap();
    let (id, photo) = visit_with_photo(&fw, dir.path());
    // Searched while the store is open: the WAL holds the latest pages.
    let wal = dir.path().join("fw.db-wal");
    assert!(
        std::fs::metadata(&wal).unwrap().len() > 0,
        "the WAL is in use"
    );
    let blobs = files(&dir.path().join("fw.db-blobs"));
    assert_eq!(blobs.len(), 1, "the photo is kept");
    assert_eq!(leaks(dir.path()), Vec::<String>::new());
    // …and the app still reads it all.
    let o = fw.order(&id).unwrap();
    assert_eq!(o.order.intake.customer.name, NAME);
    assert_eq!(fw.photo_bytes(&id, &photo).unwrap().unwrap(), photo_bytes());
    assert!(fw.service_report(&id).unwrap().contains(NAME));
    drop(fw);
    assert_eq!(leaks(dir.path()), Vec::<String>::new(), "after closing");

    // The same visit on a plain store: the search finds them.
    let plain = tempfile::tempdir().unwrap();
    let fw = open(plain.path(), None).unwrap();
    visit_with_photo(&fw, plain.path());
    assert!(leaks(plain.path()).len() >= 2, "{:?}", leaks(plain.path()));
}

fn fingerprint_of(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    files(dir)
}

fn locked_reason(e: Error) -> String {
    assert_eq!(e.code(), "locked", "{e}");
    e.args()
        .into_iter()
        .find(|(k, _)| k == "reason_code")
        .map(|(_, v)| v)
        .unwrap()
}

#[test]
fn a_wrong_key_or_none_opens_nothing_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let key = StoreKey::generate();
    let fw = open(dir.path(), Some(&key)).unwrap();
    let (id, _) = visit_with_photo(&fw, dir.path());
    drop(fw);
    let before = fingerprint_of(dir.path());

    let e = open(dir.path(), Some(&StoreKey::generate())).unwrap_err();
    assert_eq!(
        e.message_in(Language::En),
        "the store is locked: the key does not open it"
    );
    assert_eq!(e.message_in(Language::ZhCn), "存储已锁定：该密钥无法打开它");
    assert_eq!(locked_reason(e), "wrong_key");
    assert_eq!(
        locked_reason(open(dir.path(), None).unwrap_err()),
        "key_needed"
    );
    assert_eq!(fingerprint_of(dir.path()), before, "nothing written");

    let fw = open(dir.path(), Some(&key)).unwrap();
    assert_eq!(
        fw.order(&id)
            .unwrap()
            .order
            .intake
            .customer
            .phone
            .as_deref(),
        Some(PHONE)
    );
    drop(fw);

    // A plain store opened as encrypted is refused, not taken over.
    let plain = tempfile::tempdir().unwrap();
    drop(open(plain.path(), None).unwrap());
    let before = fingerprint_of(plain.path());
    assert_eq!(
        locked_reason(open(plain.path(), Some(&key)).unwrap_err()),
        "not_encrypted"
    );
    assert_eq!(fingerprint_of(plain.path()), before);
}

#[test]
fn a_rekeyed_store_opens_with_the_new_key_only_and_keeps_its_photos() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (StoreKey::generate(), StoreKey::generate());
    let fw = open(dir.path(), Some(&old)).unwrap();
    let (id, photo) = visit_with_photo(&fw, dir.path());
    let seen = fingerprint(&fw);
    fw.rekey(&new).unwrap();
    fw.add_note(&id, "after the rekey").unwrap();
    let seen_after = fingerprint(&fw);
    assert_ne!(seen, seen_after);
    drop(fw);

    assert_eq!(
        locked_reason(open(dir.path(), Some(&old)).unwrap_err()),
        "wrong_key"
    );
    let fw = open(dir.path(), Some(&new)).unwrap();
    assert_eq!(fingerprint(&fw), seen_after);
    assert_eq!(fw.photo_bytes(&id, &photo).unwrap().unwrap(), photo_bytes());
    assert_eq!(leaks(dir.path()), Vec::<String>::new());

    // A plain store has nothing to rekey.
    let plain = tempfile::tempdir().unwrap();
    let fw = open(plain.path(), None).unwrap();
    assert_eq!(locked_reason(fw.rekey(&new).unwrap_err()), "not_encrypted");
}

#[test]
fn a_plaintext_store_is_encrypted_in_place_with_its_photos() {
    let dir = tempfile::tempdir().unwrap();
    let fw = open(dir.path(), None).unwrap();
    let (id, photo) = visit_with_photo(&fw, dir.path());
    let seen = fingerprint(&fw);
    let view = format!("{:?}", fw.order(&id).unwrap());
    drop(fw);
    assert!(!leaks(dir.path()).is_empty());

    let key = StoreKey::generate();
    Fieldwork::encrypt_store(dir.path().join("fw.db"), &key).unwrap();
    assert_eq!(leaks(dir.path()), Vec::<String>::new());
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names
            .iter()
            .all(|n| !n.contains("encrypting") && !n.contains(".plain")),
        "nothing left over: {names:?}"
    );

    let fw = open(dir.path(), Some(&key)).unwrap();
    assert_eq!(fingerprint(&fw), seen);
    assert_eq!(format!("{:?}", fw.order(&id).unwrap()), view);
    assert_eq!(fw.photo_bytes(&id, &photo).unwrap().unwrap(), photo_bytes());
    fw.add_note(&id, "written encrypted").unwrap();
    drop(fw);

    // Again: nothing to do. With another key: locked, nothing changed.
    Fieldwork::encrypt_store(dir.path().join("fw.db"), &key).unwrap();
    let before = fingerprint_of(dir.path());
    let e = Fieldwork::encrypt_store(dir.path().join("fw.db"), &StoreKey::generate());
    assert_eq!(locked_reason(e.unwrap_err()), "wrong_key");
    assert_eq!(fingerprint_of(dir.path()), before);
}

#[test]
fn a_photo_file_damaged_on_an_encrypted_store_is_refused_not_shown() {
    let dir = tempfile::tempdir().unwrap();
    let key = StoreKey::generate();
    let fw = open(dir.path(), Some(&key)).unwrap();
    let (id, photo) = visit_with_photo(&fw, dir.path());
    let (path, mut bytes) = files(&dir.path().join("fw.db-blobs"))
        .into_iter()
        .next()
        .unwrap();
    bytes[1000] ^= 0x40;
    std::fs::write(&path, &bytes).unwrap();
    let e = fw.photo_bytes(&id, &photo).unwrap_err();
    assert_eq!(e.code(), "storage", "{e}");
}
