//! A phone's plaintext store encrypted in place by `fieldwork device
//! encrypt`, a real process SIGKILLed at points spread across the
//! migration, many times: afterwards the store is the old one (plain, every
//! order and photo as before) or the new one (encrypted, the same orders
//! and photos, no customer detail in any file), never neither and never a
//! mix; and the next command finishes the job.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use fieldwork_core::at_rest::{StoreFile, StoreKey};
use fieldwork_core::model::PhotoKind;
use fieldwork_core::{Config, Fieldwork, OrderFilter};
use fieldwork_tests::jpeg;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const KILLS: u32 = 24;
const NAME: &str = "Bayar Tsetseg";

fn exe() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_fieldwork-e2e"))
}

fn device(store: &Path, args: &[&str]) -> std::process::Output {
    Command::new(exe())
        .args(["device", "--store"])
        .arg(store)
        .args(args)
        .output()
        .unwrap()
}

/// A plain device store with 150 orders and 6 photos of 1 MB.
fn plain_store(store: &Path) -> (String, Vec<(String, String, Vec<u8>)>) {
    assert!(device(store, &["init", "eng-a"]).status.success());
    let fw = Fieldwork::open(store.join("device.db"), Config::new("eng-a")).unwrap();
    let mut photos = Vec::new();
    for n in 0..150u32 {
        let mut intake = fieldwork_core::samples::intake(n);
        intake.customer.name = format!("{NAME} {n}");
        let id = fw.desk().create_order(intake).unwrap();
        fw.desk().assign(&id, "eng-a").unwrap();
        if n % 25 == 0 {
            let bytes = jpeg(1 << 20, u64::from(n) + 1);
            let file = store.join("in.jpg");
            std::fs::write(&file, &bytes).unwrap();
            let p = fw.attach_photo(&id, &file, PhotoKind::Fault, None).unwrap();
            std::fs::remove_file(&file).unwrap();
            photos.push((id, p.id, bytes));
        }
    }
    (seen(&fw), photos)
}

/// What the engineer sees: every order as listed.
fn seen(fw: &Fieldwork) -> String {
    let rows = fw
        .list_orders(&OrderFilter {
            limit: 500,
            ..OrderFilter::default()
        })
        .unwrap();
    assert_eq!(rows.len(), 150);
    format!("{rows:?}")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.file_type().unwrap().is_dir() {
            out.extend(all_files(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}

/// Files of the migration in progress, as the kill left them.
fn half_done(store: &Path) -> bool {
    std::fs::read_dir(store).unwrap().flatten().any(|e| {
        let n = e.file_name().to_string_lossy().into_owned();
        n.ends_with(".encrypting") || n.ends_with(".plain")
    })
}

fn read_key(store: &Path) -> Option<StoreKey> {
    let hex = std::fs::read_to_string(store.join("store.key")).ok()?;
    let bytes: Vec<u8> = (0..64)
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    Some(StoreKey::from_bytes(&bytes).unwrap())
}

#[derive(Debug, PartialEq)]
enum Found {
    Old,
    New,
}

/// Which store stands, checked whole: its orders, its photos' bytes, and
/// that its files are all plain or all sealed.
fn which(store: &Path, want: &str, photos: &[(String, String, Vec<u8>)]) -> Found {
    let db = store.join("device.db");
    let (fw, found) = match Fieldwork::open(&db, Config::new("eng-a")) {
        Ok(fw) => (fw, Found::Old),
        Err(e) => {
            assert_eq!(e.code(), "locked", "neither store opens: {e}");
            let key = read_key(store).expect("an encrypted store has its key");
            let fw = Fieldwork::open(&db, Config::new("eng-a").with_key(key))
                .unwrap_or_else(|e| unreachable!("the new store does not open: {e}"));
            (fw, Found::New)
        }
    };
    assert_eq!(
        seen(&fw),
        want,
        "{found:?}: the orders are not as they were"
    );
    for (order, photo, bytes) in photos {
        let back = fw
            .photo_bytes(order, photo)
            .unwrap_or_else(|e| unreachable!("{found:?}: a photo does not read: {e}"));
        assert_eq!(back.as_ref(), Some(bytes), "{found:?}: a photo changed");
    }
    drop(fw);
    // All plain or all sealed: the database by its header, each photo file
    // by its first bytes (a sealed file begins `FWS1`, a JPEG FF D8).
    let db_file = StoreFile::at(&db).unwrap();
    let blobs: Vec<Vec<u8>> = all_files(&store.join("device.db-blobs"))
        .iter()
        .map(|p| std::fs::read(p).unwrap()[..4].to_vec())
        .collect();
    assert_eq!(blobs.len(), photos.len(), "{found:?}: the photo files");
    match found {
        Found::Old => {
            assert_eq!(db_file, StoreFile::Plain);
            assert!(
                blobs.iter().all(|h| h[..2] == [0xFF, 0xD8]),
                "a sealed photo beside the plain store"
            );
        }
        Found::New => {
            assert_eq!(db_file, StoreFile::Encrypted);
            assert!(
                blobs.iter().all(|h| h == b"FWS1"),
                "a plain photo beside the encrypted store"
            );
        }
    }
    found
}

#[test]
fn encrypting_a_store_killed_anywhere_leaves_the_old_store_or_the_new_one() {
    let root = tempfile::tempdir().unwrap();
    let pristine = root.path().join("pristine");
    let (want, photos) = plain_store(&pristine);

    // How long a whole migration takes here, to spread the kills over it.
    let timed = root.path().join("timed");
    copy_dir(&pristine, &timed);
    let t = Instant::now();
    let out = device(&timed, &["encrypt"]);
    eprintln!("one whole migration: {:?}", t.elapsed());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let whole = t.elapsed();
    assert_eq!(which(&timed, &want, &photos), Found::New);

    let (mut old, mut new, mut interrupted, mut finished) = (0, 0, 0, 0);
    for i in 0..KILLS {
        let store = root.path().join(format!("k{i}"));
        copy_dir(&pristine, &store);
        let mut child = Command::new(exe())
            .args(["device", "--store"])
            .arg(&store)
            .arg("encrypt")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // From the start to past the end, evenly, plus a little jitter.
        let at = whole.mul_f64(1.6 * f64::from(i) / f64::from(KILLS))
            + Duration::from_micros(u64::from(i * 7919 % 3000));
        std::thread::sleep(at);
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        interrupted += u32::from(half_done(&store));
        match which(&store, &want, &photos) {
            Found::Old => old += 1,
            Found::New => new += 1,
        }
        assert!(
            !half_done(&store),
            "opening finished or undid the migration"
        );
        // The next command finishes the job (checked on every third: each
        // is a whole migration).
        if i % 3 == 0 && read_key(&store).is_some() {
            let out = device(&store, &["status"]);
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(which(&store, &want, &photos), Found::New);
            finished += 1;
        }
        std::fs::remove_dir_all(&store).unwrap();
    }
    eprintln!(
        "{KILLS} kills over {whole:?}: {old} left the old store, {new} the new one, \
         {interrupted} landed mid-migration"
    );
    assert_eq!(old + new, KILLS);
    assert!(old > 0 && new > 0, "the kills span the migration");
    assert!(
        interrupted >= 3,
        "kills landed mid-migration: {interrupted}"
    );
    assert!(
        finished >= 1,
        "a later command finished an interrupted migration"
    );
}

#[test]
fn the_device_command_keeps_its_key_and_rekeys() {
    let root = tempfile::tempdir().unwrap();
    let store = root.path().join("phone");
    let out = device(&store, &["init", "eng-a", "--encrypted"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let first = read_key(&store).unwrap();
    assert!(Fieldwork::open(store.join("device.db"), Config::new("eng-a")).is_err());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(store.join("store.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "the key file is its owner's alone");
    }
    assert!(device(&store, &["rekey"]).status.success());
    let second = read_key(&store).unwrap();
    assert_ne!(first, second);
    let e = Fieldwork::open(
        store.join("device.db"),
        Config::new("eng-a").with_key(first),
    )
    .unwrap_err();
    assert_eq!(e.code(), "locked");
    let out = device(&store, &["status"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
