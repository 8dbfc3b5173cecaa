//! The device's store key, kept in `store.key` beside the store: the
//! command line's stand-in for the Android Keystore or the iOS Keychain
//! (readable by its owner only).
//!
//! A new key is written to `store.key.new` before the store is changed
//! and renamed into place after, so a crash in between leaves a key that
//! opens the store: opening tries `store.key`, then `store.key.new`.

use fieldwork_core::Fieldwork;
use fieldwork_core::at_rest::{Locked, StoreKey};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

fn key_file(store: &Path) -> PathBuf {
    store.join("store.key")
}

fn new_key_file(store: &Path) -> PathBuf {
    store.join("store.key.new")
}

pub(super) fn db(store: &Path) -> PathBuf {
    store.join("device.db")
}

fn read(path: &Path) -> Result<Option<StoreKey>, String> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    fieldwork_core::at_rest::unhex(text.trim())
        .and_then(|b| StoreKey::from_bytes(&b).ok())
        .map(Some)
        .ok_or_else(|| format!("{}: not a store key (64 hex digits)", path.display()))
}

/// Write `key` to `path` durably, readable by its owner only.
fn write(path: &Path, key: &StoreKey) -> Result<(), String> {
    let err = |e: std::io::Error| format!("{}: {e}", path.display());
    let tmp = path.with_extension("tmp");
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(&tmp).map_err(err)?;
    f.write_all(fieldwork_core::blobs::hex(key.expose()).as_bytes())
        .map_err(err)?;
    f.sync_all().map_err(err)?;
    fs::rename(&tmp, path).map_err(err)?;
    fieldwork_core::blobs::sync_dir(path.parent().unwrap_or(Path::new("."))).map_err(err)
}

/// The key that opens the device's store now, if it is encrypted;
/// finishing an `encrypt` or `rekey` a crash interrupted.
pub(super) fn current(store: &Path) -> Result<Option<StoreKey>, String> {
    let Some(key) = read(&key_file(store))? else {
        return Ok(None);
    };
    match Fieldwork::encrypt_store(db(store), &key) {
        Ok(()) => {
            let _ = fs::remove_file(new_key_file(store));
            Ok(Some(key))
        }
        Err(fieldwork_core::Error::Store(fieldwork_core::store::StoreError::Locked(
            Locked::WrongKey,
        ))) => {
            // A rekey committed, and the new key was not yet in place.
            let Some(new) = read(&new_key_file(store))? else {
                return Err("store.key does not open the store".into());
            };
            Fieldwork::encrypt_store(db(store), &new).map_err(|e| e.to_string())?;
            fs::rename(new_key_file(store), key_file(store))
                .map_err(|e| format!("store.key: {e}"))?;
            Ok(Some(new))
        }
        Err(e) => Err(e.to_string()),
    }
}

/// Encrypt the store under a new key (or finish an encryption a crash
/// interrupted, with the key it began with).
pub(super) fn encrypt(store: &Path) -> Result<(), String> {
    if read(&key_file(store))?.is_none() {
        let key = StoreKey::generate();
        write(&key_file(store), &key)?;
    }
    current(store).map(|_| ())
}

/// A new key for an encrypted store.
pub(super) fn rekey(store: &Path, fw: &Fieldwork) -> Result<(), String> {
    let key = StoreKey::generate();
    write(&new_key_file(store), &key)?;
    fw.rekey(&key).map_err(|e| e.to_string())?;
    fs::rename(new_key_file(store), key_file(store)).map_err(|e| format!("store.key: {e}"))?;
    fieldwork_core::blobs::sync_dir(store).map_err(|e| format!("{}: {e}", store.display()))
}
