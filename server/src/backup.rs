//! `fieldwork admin backup` and `restore` for the embedded storage: one file
//! holding the directory, every tenant's store and its photos, taken while
//! the server runs (decision 0015).
//!
//! - Each SQLite file is copied with SQLite's online backup API in a single
//!   step: one read transaction, so each copy is one consistent moment even
//!   while the server writes (WAL lets both go on).
//! - The directory is copied first and names the tenants; each tenant's
//!   store is copied after it, so every change acknowledged before the
//!   backup began is in it.
//! - Photos are copied last. They are named by their SHA-256 and never
//!   change; a photo the copied stores refer to was whole before they were
//!   copied.
//! - The file is a tar archive (`tar tf` lists it): `manifest.json`,
//!   `server.db`, `tenants/ID.db`, `blobs/ID/ab/abcd…`. It is written beside
//!   its name and renamed into place when whole.
//!
//! A restore unpacks into a new folder, checks every database
//! (`PRAGMA integrity_check`) and every photo's hash, and only then moves
//! the folder into place. Each tenant's change log then continues far past
//! anything a phone may have been told (see [`RESTORE_SEQ_GAP`]).

use crate::storage::Embedded;
use fieldwork_core::blobs::{BlobDir, sha256_file};
use fieldwork_core::store::StoreError;
use fieldwork_core::store::log;
use fieldwork_core::store::sql::{Backend, SqlError, SqliteBackend};
use rusqlite::{Connection, OpenFlags};
use serde::{Deserialize, Serialize};
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

/// What a backup file says about itself.
#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    /// Always `fieldwork-backup`.
    pub format: String,
    /// The layout's version; a restore refuses one it does not know.
    pub version: u32,
    /// The Fieldwork release that took it.
    pub fieldwork: String,
    /// When it began (milliseconds since the Unix epoch).
    pub taken_at_ms: i64,
    pub tenants: Vec<TenantCopy>,
    /// Each database file in the backup and its SHA-256: a restore checks
    /// every byte, not only what SQLite's own check reads.
    pub databases: std::collections::BTreeMap<String, String>,
}

/// One tenant in a backup.
#[derive(Debug, Serialize, Deserialize)]
pub struct TenantCopy {
    pub id: String,
    /// Changes in its log, and the last one's sequence number.
    pub changes: i64,
    pub last_seq: i64,
    pub photos: u64,
    pub photo_bytes: u64,
}

const FORMAT: &str = "fieldwork-backup";
const VERSION: u32 = 1;

/// How far a restored tenant's change log jumps ahead. A phone's pull
/// cursor is a sequence number it was given; after a restore it may be
/// ahead of the restored log by the changes made since the backup. New
/// changes are numbered past the gap, so such a phone still pulls every one
/// of them (and what it sent that the backup lacks is asked of it again
/// the next time it builds on it).
pub const RESTORE_SEQ_GAP: i64 = 1 << 32;

type Res<T> = Result<T, String>;

fn io_err(what: &Path) -> impl Fn(io::Error) -> String + '_ {
    move |e| format!("{}: {e}", what.display())
}

fn sql_err(what: &Path) -> impl Fn(rusqlite::Error) -> String + '_ {
    move |e| format!("{}: {e}", what.display())
}

/// Copy the SQLite database at `from` to `to` in one step of the online
/// backup API (one read transaction: a consistent copy while others write).
fn copy_database(from: &Path, to: &Path) -> Res<()> {
    let src = Connection::open_with_flags(
        from,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sql_err(from))?;
    // The server may be mid-checkpoint: wait for it rather than fail.
    src.busy_timeout(std::time::Duration::from_secs(30))
        .map_err(sql_err(from))?;
    let mut dst = Connection::open(to).map_err(sql_err(to))?;
    {
        let backup = rusqlite::backup::Backup::new(&src, &mut dst).map_err(sql_err(from))?;
        // All pages in one step (-1): one read transaction on the source.
        // Busy or locked (a writer holds it this instant): wait, try again.
        let mut waits = 0;
        loop {
            match backup.step(-1).map_err(sql_err(from))? {
                rusqlite::backup::StepResult::Done => break,
                _ if waits < 600 => {
                    waits += 1;
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                _ => return Err(format!("{}: stayed busy for 30 s", from.display())),
            }
        }
    }
    // A self-contained file, whatever the source's journal mode.
    dst.pragma_update(None, "journal_mode", "DELETE")
        .map_err(sql_err(to))?;
    Ok(())
}

/// The tenants the (copied) directory at `db` names.
fn tenants_in(db: &Path) -> Res<Vec<String>> {
    let c =
        Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(sql_err(db))?;
    let mut stmt = c
        .prepare("SELECT id FROM tenants ORDER BY id")
        .map_err(sql_err(db))?;
    let ids = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .map_err(sql_err(db))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(sql_err(db))?;
    Ok(ids)
}

/// How many changes the store at `db` holds, and the last one's number.
fn change_log(db: &Path) -> Res<(i64, i64)> {
    let c =
        Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(sql_err(db))?;
    c.query_row(
        "SELECT count(*), coalesce(max(seq), 0) FROM changes",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .map_err(sql_err(db))
}

/// A tenant id is a path component here; the directory never holds
/// another kind, but a backup file might.
fn safe_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A folder beside `near`, removed when dropped unless kept.
struct Staging {
    path: PathBuf,
    keep: bool,
}

impl Staging {
    fn beside(near: &Path, what: &str) -> Res<Staging> {
        let name = near
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let path = near.with_file_name(format!(".{name}.{what}-{}", std::process::id()));
        if path.exists() {
            fs::remove_dir_all(&path).map_err(io_err(&path))?;
        }
        fs::create_dir_all(&path).map_err(io_err(&path))?;
        Ok(Staging { path, keep: false })
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.keep {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

fn sync_parent(path: &Path) {
    if let Some(parent) = path.parent()
        && let Ok(d) = File::open(parent)
    {
        let _ = d.sync_all();
    }
}

/// Back up the embedded server under `data` to the file `to`, while it
/// runs. Returns what the file holds.
pub fn backup(data: &Path, to: &Path) -> Res<Manifest> {
    let directory = data.join("server.db");
    if !directory.is_file() {
        return Err(format!(
            "--data {}: no server here (no server.db)",
            data.display()
        ));
    }
    if to.is_dir() {
        return Err(format!(
            "--to {}: is a folder; name the backup file",
            to.display()
        ));
    }
    let to = if to.is_absolute() {
        to.to_path_buf()
    } else {
        std::env::current_dir().map_err(|e| e.to_string())?.join(to)
    };
    let taken_at_ms = now_ms();
    let stage = Staging::beside(&to, "backup")?;
    let s = &stage.path;

    copy_database(&directory, &s.join("server.db"))?;
    let mut tenants = Vec::new();
    fs::create_dir_all(s.join("tenants")).map_err(io_err(s))?;
    for id in tenants_in(&s.join("server.db"))? {
        if !safe_id(&id) {
            return Err(format!("tenant {id:?}: not a name a file can have"));
        }
        let store = data.join("tenants").join(format!("{id}.db"));
        let copy = s.join("tenants").join(format!("{id}.db"));
        let (changes, last_seq) = if store.is_file() {
            copy_database(&store, &copy)?;
            change_log(&copy)?
        } else {
            // A tenant with no store yet (never used) has nothing to copy.
            (0, 0)
        };
        tenants.push(TenantCopy {
            id,
            changes,
            last_seq,
            photos: 0,
            photo_bytes: 0,
        });
    }
    // Photos last: whole, named by their hash, never changed.
    for t in &mut tenants {
        let dir = BlobDir::at(data.join("blobs").join(&t.id));
        let into = BlobDir::at(s.join("blobs").join(&t.id));
        let mut hashes = dir.hashes().map_err(io_err(dir.root()))?;
        hashes.dedup();
        for hash in hashes {
            let (Some(from), Some(copy)) = (dir.path(&hash), into.path(&hash)) else {
                continue;
            };
            if !from.is_file() {
                continue; // an upload in progress, not a photo yet
            }
            if let Some(p) = copy.parent() {
                fs::create_dir_all(p).map_err(io_err(p))?;
            }
            match fs::copy(&from, &copy) {
                Ok(n) => {
                    t.photos += 1;
                    t.photo_bytes += n;
                }
                // Collected while we copied: nothing refers to it.
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_err(&from)(e)),
            }
        }
    }
    let mut databases = std::collections::BTreeMap::new();
    for name in std::iter::once("server.db".to_string()).chain(
        tenants
            .iter()
            .map(|t| format!("tenants/{}.db", t.id))
            .filter(|n| s.join(n).is_file()),
    ) {
        let (hash, _) = sha256_file(&s.join(&name)).map_err(io_err(s))?;
        databases.insert(name, hash);
    }
    let manifest = Manifest {
        format: FORMAT.into(),
        version: VERSION,
        fieldwork: env!("CARGO_PKG_VERSION").into(),
        taken_at_ms,
        tenants,
        databases,
    };
    let json = serde_json::to_vec_pretty(&manifest).map_err(|e| e.to_string())?;
    fs::write(s.join("manifest.json"), json).map_err(io_err(s))?;

    // Packed beside its name, then renamed: a file named `to` is whole.
    let partial = to.with_file_name(format!(
        ".{}.partial",
        to.file_name().unwrap_or_default().to_string_lossy()
    ));
    let written = (|| -> io::Result<()> {
        let mut tar = tar::Builder::new(File::create(&partial)?);
        tar.mode(tar::HeaderMode::Complete);
        tar.append_path_with_name(s.join("manifest.json"), "manifest.json")?;
        tar.append_path_with_name(s.join("server.db"), "server.db")?;
        tar.append_dir_all("tenants", s.join("tenants"))?;
        if s.join("blobs").is_dir() {
            tar.append_dir_all("blobs", s.join("blobs"))?;
        }
        tar.into_inner()?.sync_all()?;
        fs::rename(&partial, &to)?;
        Ok(())
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&partial);
        return Err(io_err(&to)(e));
    }
    sync_parent(&to);
    Ok(manifest)
}

/// Restore the backup file `from` into `data`, which must not hold a
/// server yet. Nothing is put in place unless all of it checks out.
pub fn restore(from: &Path, data: &Path) -> Res<Manifest> {
    if data.join("server.db").exists() {
        return Err(format!(
            "--data {}: already holds a server; restore into a new folder and serve from it",
            data.display()
        ));
    }
    let file = File::open(from).map_err(io_err(from))?;
    let data_abs = if data.is_absolute() {
        data.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| e.to_string())?
            .join(data)
    };
    let mut stage = Staging::beside(&data_abs, "restore")?;
    let s = stage.path.clone();
    let not_ours = || format!("{}: not a Fieldwork backup", from.display());
    let mut archive = tar::Archive::new(file);
    for entry in archive.entries().map_err(|_| not_ours())? {
        let mut entry = entry.map_err(|_| not_ours())?;
        let path = entry.path().map_err(|_| not_ours())?.into_owned();
        let allowed = match path.components().next() {
            Some(std::path::Component::Normal(first)) => {
                ["manifest.json", "server.db", "tenants", "blobs"]
                    .iter()
                    .any(|a| first == *a)
            }
            _ => false,
        };
        // `unpack_in` also refuses anything that would land outside.
        if !allowed
            || !entry
                .unpack_in(&s)
                .map_err(|e| format!("{}: {e}", from.display()))?
        {
            return Err(format!(
                "{}: unexpected entry {}",
                from.display(),
                path.display()
            ));
        }
    }
    let manifest: Manifest = fs::read(s.join("manifest.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(not_ours)?;
    if manifest.format != FORMAT {
        return Err(not_ours());
    }
    if manifest.version != VERSION {
        return Err(format!(
            "{}: a backup of layout {} (this Fieldwork reads {VERSION})",
            from.display(),
            manifest.version
        ));
    }
    // Every database byte for byte as it was taken, and only those.
    let mut found = vec!["server.db".to_string()];
    for e in fs::read_dir(s.join("tenants")).map_err(|_| not_ours())? {
        let e = e.map_err(|_| not_ours())?;
        found.push(format!("tenants/{}", e.file_name().to_string_lossy()));
    }
    for name in &found {
        let hash = manifest
            .databases
            .get(name)
            .ok_or_else(|| format!("{}: {name} is not in its manifest", from.display()))?;
        let (actual, _) = sha256_file(&s.join(name)).map_err(io_err(&s))?;
        if &actual != hash {
            return Err(format!("{}: {name} is damaged", from.display()));
        }
    }
    if found.len() != manifest.databases.len() {
        return Err(format!("{}: a database is missing", from.display()));
    }
    check_database(&s.join("server.db"))?;
    for t in &manifest.tenants {
        if !safe_id(&t.id) {
            return Err(not_ours());
        }
        let store = s.join("tenants").join(format!("{}.db", t.id));
        if store.is_file() {
            check_database(&store)?;
            let (changes, last_seq) = change_log(&store)?;
            if (changes, last_seq) != (t.changes, t.last_seq) {
                return Err(format!(
                    "{}: tenant {}'s store does not match the manifest",
                    from.display(),
                    t.id
                ));
            }
            let mut db =
                SqliteBackend::open(&store).map_err(|e| format!("{}: {e}", store.display()))?;
            continue_past_gap(&mut db).map_err(|e| format!("{}: {e}", store.display()))?;
        } else if t.changes > 0 {
            return Err(format!(
                "{}: tenant {}'s store is missing",
                from.display(),
                t.id
            ));
        }
        let dir = BlobDir::at(s.join("blobs").join(&t.id));
        let mut photos = 0;
        for hash in dir.hashes().map_err(io_err(dir.root()))? {
            let Some(p) = dir.path(&hash).filter(|p| p.is_file()) else {
                continue;
            };
            if sha256_file(&p).map_err(io_err(&p))?.0 != hash {
                return Err(format!(
                    "{}: photo {hash} of tenant {} is damaged",
                    from.display(),
                    t.id
                ));
            }
            photos += 1;
        }
        if photos != t.photos {
            return Err(format!(
                "{}: tenant {} has {photos} photo(s), the manifest says {}",
                from.display(),
                t.id,
                t.photos
            ));
        }
    }
    // All of it checks out: into place.
    fs::remove_file(s.join("manifest.json")).map_err(io_err(&s))?;
    if data_abs.is_dir() {
        // An empty folder the operator made: move the contents in.
        for e in fs::read_dir(&s).map_err(io_err(&s))? {
            let e = e.map_err(io_err(&s))?;
            let dest = data_abs.join(e.file_name());
            fs::rename(e.path(), &dest).map_err(io_err(&dest))?;
        }
    } else {
        fs::rename(&s, &data_abs).map_err(io_err(&data_abs))?;
        stage.keep = true;
    }
    sync_parent(&data_abs.join("server.db"));
    // Open it once as the server will: migrations and layout in place.
    Embedded::new(data_abs).map_err(|e| e.to_string())?;
    Ok(manifest)
}

fn check_database(db: &Path) -> Res<()> {
    let damaged = |e: rusqlite::Error| format!("{}: damaged ({e})", db.display());
    let c = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(damaged)?;
    let verdict: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(damaged)?;
    if verdict == "ok" {
        Ok(())
    } else {
        Err(format!("{}: damaged ({verdict})", db.display()))
    }
}

/// Continue `db`'s change log [`RESTORE_SEQ_GAP`] past its last change,
/// on either storage. Returns the last change's number and the next one's.
pub fn continue_past_gap(db: &mut dyn Backend) -> Result<(i64, i64), SqlError> {
    let last = log::max_seq(db).map_err(StoreError::into_sql)?;
    let next = last.saturating_add(RESTORE_SEQ_GAP);
    log::positions_after(db, next - 1).map_err(StoreError::into_sql)?;
    Ok((last, next))
}

/// After a database was restored from a dump (`pg_restore`, or SQLite
/// files copied by hand): every tenant's log continues past the gap.
/// Returns, per tenant, the last change's number and the next one's.
pub fn after_restore(
    storage: &dyn crate::storage::Storage,
    tenants: &[String],
) -> Res<Vec<(String, i64, i64)>> {
    tenants
        .iter()
        .map(|t| {
            let mut db = storage.tenant(t).map_err(|e| format!("{t}: {e}"))?;
            let (last, next) = continue_past_gap(db.as_mut()).map_err(|e| format!("{t}: {e}"))?;
            Ok((t.clone(), last, next))
        })
        .collect()
}
