//! A plaintext store made encrypted in place, crash-safe.
//!
//! The encrypted copy is written beside the store, whole, before anything
//! the store uses is touched:
//!
//! 1. `<store>.encrypting`: the database exported by SQLCipher under the
//!    key, with a new blob key in its meta table; checked and fsynced.
//! 2. `<store>-blobs.encrypting/`: every photo sealed under that blob key.
//! 3. **The commit**: `<store>.encrypting` renamed over `<store>`, one
//!    atomic rename, the folder fsynced.
//! 4. The sealed blob folder takes the plain one's place.
//!
//! [`recover`], which every open runs first, finishes what a crash
//! interrupted: before the commit the copy is dropped (the old store
//! stands, untouched); after it the blob folders are swapped (the new store
//! stands). A crash at any point leaves one store or the other, whole.

use crate::at_rest::sealed::{BlobKey, SealWriter};
use crate::at_rest::{Locked, StoreFile, StoreKey};
use crate::blobs::{BlobDir, sync_dir};
use crate::store::StoreError;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

/// The meta key the blob key is kept under, in the encrypted database.
pub(crate) const META_BLOB_KEY: &str = "blob_key";

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

fn copy_db(path: &Path) -> PathBuf {
    with_suffix(path, ".encrypting")
}

fn blobs_of(path: &Path) -> PathBuf {
    BlobDir::beside(path).root().to_path_buf()
}

fn staged_blobs(path: &Path) -> PathBuf {
    with_suffix(&blobs_of(path), ".encrypting")
}

fn old_blobs(path: &Path) -> PathBuf {
    with_suffix(&blobs_of(path), ".plain")
}

fn io_err(what: &str) -> impl Fn(io::Error) -> StoreError + '_ {
    move |e| StoreError::Files(format!("{what}: {}", e.kind()))
}

fn remove_file_if_there(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

fn remove_dir_if_there(path: &Path) -> io::Result<()> {
    match fs::remove_dir_all(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

fn parent(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Finish or undo an encryption a crash interrupted (see the module).
pub fn recover(path: &Path) -> Result<(), StoreError> {
    let copy = copy_db(path);
    if copy.exists() {
        // Before the commit: the plaintext store is the store.
        for suffix in ["", "-wal", "-shm", "-journal"] {
            remove_file_if_there(&with_suffix(&copy, suffix)).map_err(io_err("the copy"))?;
        }
        remove_dir_if_there(&staged_blobs(path)).map_err(io_err("the sealed blobs"))?;
        return sync_dir(&parent(path)).map_err(io_err("the store's folder"));
    }
    let (staged, live, old) = (staged_blobs(path), blobs_of(path), old_blobs(path));
    if staged.exists() {
        // After the commit: the sealed blobs take the plain ones' place.
        if live.exists() {
            fs::rename(&live, &old).map_err(io_err("the blob folder"))?;
        }
        fs::rename(&staged, &live).map_err(io_err("the blob folder"))?;
        sync_dir(&parent(path)).map_err(io_err("the store's folder"))?;
    }
    remove_dir_if_there(&old).map_err(io_err("the plain blobs"))
}

/// Encrypt the plaintext store at `path` under `key`, with its photos.
/// Run it with the store closed. A store already encrypted under `key` is
/// left as it is; under another key it is [`Locked::WrongKey`].
pub fn encrypt_store(path: &Path, key: &StoreKey) -> Result<(), StoreError> {
    recover(path)?;
    match StoreFile::at(path).map_err(io_err("the store"))? {
        StoreFile::Missing => return Ok(()),
        StoreFile::Encrypted => {
            crate::store::sql::SqliteBackend::open_keyed(path, Some(key)).map_err(|e| {
                if e.not_a_database {
                    StoreError::Locked(Locked::WrongKey)
                } else {
                    e.into()
                }
            })?;
            return Ok(());
        }
        StoreFile::Plain => {}
    }
    let copy = copy_db(path);
    let blob_key = BlobKey::generate();
    export(path, &copy, key, &blob_key)?;
    seal_blobs(path, &blob_key)?;
    // Nothing of the plaintext database may outlive the rename: its WAL
    // was checkpointed into the file and removed when the export closed.
    if fs::metadata(with_suffix(path, "-wal")).is_ok_and(|m| m.len() > 0) {
        return Err(StoreError::Files(
            "the store is still open elsewhere (its WAL is not empty); close it first".into(),
        ));
    }
    remove_file_if_there(&with_suffix(path, "-shm")).map_err(io_err("the store"))?;
    fs::rename(&copy, path).map_err(io_err("the store"))?;
    sync_dir(&parent(path)).map_err(io_err("the store's folder"))?;
    recover(path)
}

fn sqlite(e: rusqlite::Error) -> StoreError {
    StoreError::Database(crate::store::sql::SqlError::new(format!("sqlite: {e}")))
}

/// Step 1: the encrypted copy of the database, checked and durable.
fn export(path: &Path, copy: &Path, key: &StoreKey, blob_key: &BlobKey) -> Result<(), StoreError> {
    {
        let conn = rusqlite::Connection::open(path).map_err(sqlite)?;
        let busy: i64 = conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))
            .map_err(sqlite)?;
        if busy != 0 {
            return Err(StoreError::Files(
                "the store is open elsewhere; close it before encrypting".into(),
            ));
        }
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(sqlite)?;
        let target = copy
            .to_str()
            .ok_or_else(|| StoreError::Files("the store's path is not valid UTF-8".into()))?;
        let raw = key.sql_literal();
        conn.execute(
            "ATTACH DATABASE ?1 AS sealed KEY ?2",
            rusqlite::params![target, raw.trim_matches('"')],
        )
        .map_err(sqlite)?;
        let exported = (|| -> rusqlite::Result<()> {
            conn.query_row("SELECT sqlcipher_export('sealed')", [], |_| Ok(()))?;
            conn.pragma_update(Some("sealed"), "user_version", version)?;
            conn.execute(
                "INSERT INTO sealed.meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                rusqlite::params![META_BLOB_KEY, blob_key.to_hex()],
            )?;
            Ok(())
        })();
        let detached = conn.execute_batch("DETACH DATABASE sealed");
        exported.map_err(sqlite)?;
        detached.map_err(sqlite)?;
    }
    let mut check = crate::store::sql::SqliteBackend::open_keyed(copy, Some(key))?;
    let verdict = crate::store::sql::Backend::integrity_check(&mut check)?;
    drop(check);
    if verdict != "ok" {
        return Err(StoreError::Corrupt {
            doc_id: "store".into(),
            reason: "the encrypted copy failed its integrity check".into(),
        });
    }
    if fs::metadata(with_suffix(copy, "-wal")).is_ok_and(|m| m.len() > 0) {
        return Err(StoreError::Files(
            "the encrypted copy's WAL was not checkpointed".into(),
        ));
    }
    File::open(copy)
        .and_then(|f| f.sync_all())
        .map_err(io_err("the copy"))
}

/// Step 2: every plain blob sealed into the staging folder.
fn seal_blobs(path: &Path, blob_key: &BlobKey) -> Result<(), StoreError> {
    let plain = BlobDir::beside(path);
    let staged = BlobDir::at(staged_blobs(path));
    let hashes = plain.hashes().map_err(io_err("the blob folder"))?;
    for hash in hashes {
        let (Some(from), Some(to)) = (plain.path(&hash), staged.path(&hash)) else {
            continue;
        };
        let shard = parent(&to);
        fs::create_dir_all(&shard).map_err(io_err("the sealed blobs"))?;
        let mut src = File::open(&from).map_err(io_err("a blob"))?;
        let out = File::create(&to).map_err(io_err("a sealed blob"))?;
        let mut w = SealWriter::new(blob_key, out).map_err(io_err("a sealed blob"))?;
        io::copy(&mut src, &mut w).map_err(io_err("a sealed blob"))?;
        w.finish()
            .and_then(|f| f.sync_all())
            .map_err(io_err("a sealed blob"))?;
        sync_dir(&shard).map_err(io_err("the sealed blobs"))?;
    }
    if staged.root().exists() {
        sync_dir(staged.root()).map_err(io_err("the sealed blobs"))?;
    }
    Ok(())
}
