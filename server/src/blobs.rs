//! Where the server keeps photos' bytes (decision 0013): files under the
//! data folder for embedded storage, rows in the tenant's schema on
//! PostgreSQL so every process sharing the database serves them. Either way
//! a blob arrives in chunks appended at the offset the server says it holds,
//! and counts only once its SHA-256 and its kind were checked; the embedded
//! store then fsyncs and renames, PostgreSQL commits its `blobs_held` row.

use fieldwork_core::blobs::{BlobDir, hex, sha256_file, sync_dir};
use fieldwork_core::model::MediaType;
use fieldwork_core::store::sql::{Backend, Param, SqlError, params};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the server holds of one blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Held {
    pub have: u64,
    pub complete: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum BlobStoreError {
    /// The chunk does not start where the held bytes end.
    #[error("the server holds {have} bytes of this blob")]
    Offset { have: u64 },
    #[error("the chunk goes past the blob's size")]
    PastEnd,
    #[error("the bytes do not match their SHA-256")]
    HashMismatch,
    #[error("the file is not a JPEG, PNG, HEIC, WebP or PDF file, or not the kind its photo says")]
    NotAllowed,
    #[error("blob storage: {0}")]
    Storage(String),
}

impl From<io::Error> for BlobStoreError {
    fn from(e: io::Error) -> Self {
        BlobStoreError::Storage(e.to_string())
    }
}

impl From<SqlError> for BlobStoreError {
    fn from(e: SqlError) -> Self {
        BlobStoreError::Storage(e.to_string())
    }
}

/// A whole blob, read in parts.
pub type BlobReader = Box<dyn Read + Send>;

/// One tenant's blobs.
pub trait BlobStore: Send + Sync + fmt::Debug {
    fn held(&self, hash: &str) -> Result<Held, BlobStoreError>;

    /// Append the `len` bytes `body` yields at `offset` of blob `hash`,
    /// whose photo says it has `size` bytes of kind `media_type`; the bytes
    /// are stored as they arrive where the storage allows. The chunk that
    /// completes the blob checks the whole.
    fn append(
        &self,
        hash: &str,
        offset: u64,
        body: &mut dyn Read,
        len: u64,
        size: u64,
        media_type: MediaType,
    ) -> Result<Held, BlobStoreError>;

    /// A complete blob's bytes (`None` if it is not held whole).
    fn open(&self, hash: &str) -> Result<Option<BlobReader>, BlobStoreError>;

    /// Delete blobs and partial uploads that `referenced` (sorted) does not
    /// name and that were last written more than `grace` ago. Returns how
    /// many went.
    fn collect(&self, referenced: &[String], grace: Duration) -> Result<u64, BlobStoreError>;
}

/// SHA-256 states of uploads in progress in this process, so the last
/// chunk does not read the whole blob again. A state is kept only while a
/// blob's chunks arrive here in order; otherwise (another process took a
/// chunk, or this one restarted) the whole is hashed at the end.
#[derive(Default)]
struct Running(Mutex<HashMap<String, (Sha256, u64)>>);

impl fmt::Debug for Running {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Running")
    }
}

impl Running {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Sha256, u64)>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `bytes` were stored at `offset` of `hash`.
    fn feed(&self, hash: &str, offset: u64, bytes: &[u8]) {
        let mut m = self.map();
        let state = match m.remove(hash) {
            Some((h, at)) if at == offset => Some(h),
            _ if offset == 0 => Some(Sha256::new()),
            _ => None,
        };
        if let Some(mut h) = state {
            h.update(bytes);
            m.insert(hash.to_string(), (h, offset + bytes.len() as u64));
        }
    }

    /// The digest, if all `size` bytes went through [`Running::feed`].
    fn take(&self, hash: &str, size: u64) -> Option<String> {
        self.map()
            .remove(hash)
            .filter(|(_, at)| *at == size)
            .map(|(h, _)| hex(&h.finalize()))
    }

    fn forget_except(&self, keep: impl Fn(&str) -> bool) {
        self.map().retain(|h, _| keep(h));
    }
}

/// Where an append stands before it writes: `Some` when the blob is whole
/// already (nothing to write), an error when the chunk is not the next one
/// or goes past the blob's end.
pub(crate) fn before_append(
    held: Held,
    offset: u64,
    len: u64,
    size: u64,
) -> Result<Option<Held>, BlobStoreError> {
    if held.complete {
        return Ok(Some(held));
    }
    if offset != held.have {
        return Err(BlobStoreError::Offset { have: held.have });
    }
    if offset.saturating_add(len) > size {
        return Err(BlobStoreError::PastEnd);
    }
    Ok(None)
}

fn check_kind(head: &[u8], declared: MediaType) -> Result<(), BlobStoreError> {
    match MediaType::sniff(head) {
        Some(m) if m == declared => Ok(()),
        _ => Err(BlobStoreError::NotAllowed),
    }
}

/// Blobs as files: `<root>/ab/abcd…` whole, `<root>/partial/abcd…` arriving.
#[derive(Debug)]
pub struct FileBlobs {
    dir: BlobDir,
    /// Blobs being appended to now: one append per blob at a time (a
    /// process owns its data folder), different blobs in parallel.
    busy: Mutex<HashSet<String>>,
    running: Running,
}

/// A blob claimed for one append; released when dropped.
struct Claim<'a> {
    busy: &'a Mutex<HashSet<String>>,
    hash: String,
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        self.busy
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.hash);
    }
}

impl FileBlobs {
    pub fn new(root: PathBuf) -> Result<FileBlobs, BlobStoreError> {
        fs::create_dir_all(root.join("partial"))?;
        Ok(FileBlobs {
            dir: BlobDir::at(root),
            busy: Mutex::new(HashSet::new()),
            running: Running::default(),
        })
    }

    fn partial(&self, hash: &str) -> PathBuf {
        self.dir.root().join("partial").join(hash)
    }

    /// `hash` for this append alone, or `None` if another is under way.
    fn claim(&self, hash: &str) -> Option<Claim<'_>> {
        let mut busy = self.busy.lock().unwrap_or_else(|p| p.into_inner());
        busy.insert(hash.to_string()).then(|| Claim {
            busy: &self.busy,
            hash: hash.to_string(),
        })
    }

    /// The partial file holds all `size` bytes: check, fsync, rename.
    fn finish(
        &self,
        hash: &str,
        partial: &std::path::Path,
        file: File,
        size: u64,
        media_type: MediaType,
    ) -> Result<Held, BlobStoreError> {
        file.sync_all()?;
        drop(file);
        let actual = match self.running.take(hash, size) {
            Some(digest) => digest,
            None => sha256_file(partial)?.0,
        };
        let mut head = vec![0u8; MediaType::SNIFF_BYTES];
        let n = File::open(partial)?.read(&mut head)?;
        let verdict = if actual != hash {
            Err(BlobStoreError::HashMismatch)
        } else {
            check_kind(&head[..n], media_type)
        };
        if let Err(e) = verdict {
            let _ = fs::remove_file(partial);
            return Err(e);
        }
        let dest = self.dir.path(hash).ok_or(BlobStoreError::HashMismatch)?;
        let parent = dest.parent().map(PathBuf::from).unwrap_or_default();
        fs::create_dir_all(&parent)?;
        fs::rename(partial, &dest)?;
        sync_dir(&parent)?;
        Ok(Held {
            have: size,
            complete: true,
        })
    }
}

fn len_of(path: &std::path::Path) -> u64 {
    fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn stale(path: &std::path::Path, grace: Duration) -> bool {
    fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age > grace)
}

impl BlobStore for FileBlobs {
    fn held(&self, hash: &str) -> Result<Held, BlobStoreError> {
        if self.dir.contains(hash) {
            let have = self.dir.path(hash).map(|p| len_of(&p)).unwrap_or(0);
            return Ok(Held {
                have,
                complete: true,
            });
        }
        Ok(Held {
            have: len_of(&self.partial(hash)),
            complete: false,
        })
    }

    fn append(
        &self,
        hash: &str,
        offset: u64,
        body: &mut dyn Read,
        len: u64,
        size: u64,
        media_type: MediaType,
    ) -> Result<Held, BlobStoreError> {
        let Some(_claim) = self.claim(hash) else {
            return Err(BlobStoreError::Offset {
                have: self.held(hash)?.have,
            });
        };
        if let Some(whole) = before_append(self.held(hash)?, offset, len, size)? {
            return Ok(whole);
        }
        let partial = self.partial(hash);
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&partial)?;
        // Written and hashed as it arrives: a cut keeps what came.
        let mut buf = vec![0u8; 64 * 1024];
        let (mut have, end) = (offset, offset + len);
        while have < end {
            let want = usize::try_from(end - have)
                .unwrap_or(usize::MAX)
                .min(buf.len());
            let n = match body.read(&mut buf[..want]) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => return Err(BlobStoreError::Storage(format!("the upload was cut: {e}"))),
            };
            if let Err(e) = f.write_all(&buf[..n]) {
                self.running.forget_except(|h| h != hash);
                return Err(e.into());
            }
            self.running.feed(hash, have, &buf[..n]);
            have += n as u64;
        }
        if have < size {
            return Ok(Held {
                have,
                complete: false,
            });
        }
        self.finish(hash, &partial, f, size, media_type)
    }

    fn open(&self, hash: &str) -> Result<Option<BlobReader>, BlobStoreError> {
        match self.dir.path(hash) {
            Some(p) if p.is_file() => Ok(Some(Box::new(File::open(p)?))),
            _ => Ok(None),
        }
    }

    fn collect(&self, referenced: &[String], grace: Duration) -> Result<u64, BlobStoreError> {
        let mut gone = 0;
        let keep = |h: &str| referenced.binary_search_by(|r| r.as_str().cmp(h)).is_ok();
        for hash in self.dir.hashes()? {
            if let Some(p) = self.dir.path(&hash)
                && !keep(&hash)
                && stale(&p, grace)
            {
                self.dir.remove(&hash)?;
                gone += 1;
            }
        }
        if let Ok(entries) = fs::read_dir(self.dir.root().join("partial")) {
            for e in entries.flatten() {
                if stale(&e.path(), grace) {
                    fs::remove_file(e.path())?;
                    gone += 1;
                }
            }
        }
        self.running.forget_except(|h| self.partial(h).exists());
        Ok(gone)
    }
}

/// Blobs as rows in the tenant's schema on PostgreSQL (`blob_parts`,
/// `blobs_held`), on a connection of their own.
pub struct SqlBlobs {
    db: Arc<Mutex<Box<dyn Backend>>>,
    running: Running,
}

impl fmt::Debug for SqlBlobs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SqlBlobs")
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl SqlBlobs {
    pub fn new(db: Box<dyn Backend>) -> SqlBlobs {
        SqlBlobs {
            db: Arc::new(Mutex::new(db)),
            running: Running::default(),
        }
    }

    fn db(&self) -> std::sync::MutexGuard<'_, Box<dyn Backend>> {
        lock(&self.db)
    }

    fn held_on(db: &mut dyn Backend, hash: &str) -> Result<Held, BlobStoreError> {
        if let Some(r) = db
            .query("SELECT size FROM blobs_held WHERE hash = ?1", params![hash])?
            .first()
        {
            return Ok(Held {
                have: u64::try_from(r.int(0)?).unwrap_or(0),
                complete: true,
            });
        }
        let have = db
            .query(
                "SELECT CAST(COALESCE(SUM(octet_length(bytes)), 0) AS BIGINT)
                 FROM blob_parts WHERE hash = ?1",
                params![hash],
            )?
            .first()
            .map(|r| r.int(0))
            .transpose()?
            .unwrap_or(0);
        Ok(Held {
            have: u64::try_from(have).unwrap_or(0),
            complete: false,
        })
    }

    /// The part starting at `at` (parts are contiguous).
    fn part(db: &mut dyn Backend, hash: &str, at: i64) -> Result<Option<Vec<u8>>, BlobStoreError> {
        match db
            .query(
                "SELECT bytes FROM blob_parts WHERE hash = ?1 AND at_byte = ?2",
                params![hash, at],
            )?
            .first_mut()
        {
            Some(r) => Ok(Some(r.take_blob(0)?)),
            None => Ok(None),
        }
    }

    /// SHA-256 and first bytes of the parts held.
    fn digest(db: &mut dyn Backend, hash: &str) -> Result<(String, Vec<u8>), BlobStoreError> {
        let mut h = Sha256::new();
        let mut head = Vec::new();
        let mut at = 0i64;
        while let Some(bytes) = Self::part(db, hash, at)? {
            if head.len() < MediaType::SNIFF_BYTES {
                let want = MediaType::SNIFF_BYTES - head.len();
                head.extend_from_slice(&bytes[..bytes.len().min(want)]);
            }
            h.update(&bytes);
            at += bytes.len() as i64;
            if bytes.is_empty() {
                break;
            }
        }
        Ok((hex(&h.finalize()), head))
    }
}

impl BlobStore for SqlBlobs {
    fn held(&self, hash: &str) -> Result<Held, BlobStoreError> {
        Self::held_on(self.db().as_mut(), hash)
    }

    fn append(
        &self,
        hash: &str,
        offset: u64,
        body: &mut dyn Read,
        len: u64,
        size: u64,
        media_type: MediaType,
    ) -> Result<Held, BlobStoreError> {
        if let Some(whole) = before_append(self.held(hash)?, offset, len, size)? {
            return Ok(whole);
        }
        // A part is one row: the chunk arrives whole before it is stored.
        let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
        body.take(len)
            .read_to_end(&mut bytes)
            .map_err(|e| BlobStoreError::Storage(format!("the upload was cut: {e}")))?;
        if (bytes.len() as u64) < len {
            return Err(BlobStoreError::Storage("the upload was cut".into()));
        }
        let mut g = self.db();
        let db = g.as_mut();
        if let Some(whole) = before_append(Self::held_on(db, hash)?, offset, len, size)? {
            return Ok(whole);
        }
        let bytes = bytes.as_slice();
        let at = i64::try_from(offset).map_err(|_| BlobStoreError::PastEnd)?;
        // Two processes appending the same offset: one row wins, the other
        // is told how much is held now.
        let inserted = db.execute(
            "INSERT INTO blob_parts (hash, at_byte, bytes, written_at_ms) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (hash, at_byte) DO NOTHING",
            &[
                Param::Text(hash),
                Param::Int(at),
                Param::Blob(bytes),
                Param::Int(now_ms()),
            ],
        )?;
        if inserted == 0 {
            return Err(BlobStoreError::Offset {
                have: Self::held_on(db, hash)?.have,
            });
        }
        self.running.feed(hash, offset, bytes);
        let have = offset + bytes.len() as u64;
        if have < size {
            return Ok(Held {
                have,
                complete: false,
            });
        }
        let (actual, head) = match self.running.take(hash, size) {
            Some(digest) => {
                let first = Self::part(db, hash, 0)?.unwrap_or_default();
                (
                    digest,
                    first[..first.len().min(MediaType::SNIFF_BYTES)].to_vec(),
                )
            }
            None => Self::digest(db, hash)?,
        };
        let verdict = if actual != hash {
            Err(BlobStoreError::HashMismatch)
        } else {
            check_kind(&head, media_type)
        };
        if let Err(e) = verdict {
            db.execute("DELETE FROM blob_parts WHERE hash = ?1", params![hash])?;
            return Err(e);
        }
        db.execute(
            "INSERT INTO blobs_held (hash, size, media_type, stored_at_ms) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (hash) DO NOTHING",
            params![
                hash,
                i64::try_from(size).unwrap_or(i64::MAX),
                media_type.mime(),
                now_ms()
            ],
        )?;
        Ok(Held {
            have,
            complete: true,
        })
    }

    fn open(&self, hash: &str) -> Result<Option<BlobReader>, BlobStoreError> {
        if !self.held(hash)?.complete {
            return Ok(None);
        }
        // A reader that fetches one part at a time on its own connection's
        // lock, so a 20 MB photo is never in memory whole.
        Ok(Some(Box::new(PartReader {
            db: Arc::clone(&self.db),
            hash: hash.to_string(),
            at: 0,
            buf: Vec::new(),
            pos: 0,
        })))
    }

    fn collect(&self, referenced: &[String], grace: Duration) -> Result<u64, BlobStoreError> {
        let mut g = self.db();
        let db = g.as_mut();
        let cutoff = now_ms() - i64::try_from(grace.as_millis()).unwrap_or(i64::MAX);
        let keep = |h: &str| referenced.binary_search_by(|r| r.as_str().cmp(h)).is_ok();
        let mut gone = 0;
        let candidates: Vec<String> = db
            .query(
                "SELECT hash FROM blobs_held WHERE stored_at_ms < ?1
                 UNION SELECT hash FROM blob_parts
                   WHERE hash NOT IN (SELECT hash FROM blobs_held)
                   GROUP BY hash HAVING MAX(written_at_ms) < ?1",
                params![cutoff],
            )?
            .iter()
            .map(|r| r.text(0))
            .collect::<Result<_, SqlError>>()?;
        for hash in candidates {
            let complete = !db
                .query("SELECT 1 FROM blobs_held WHERE hash = ?1", params![&hash])?
                .is_empty();
            if complete && keep(&hash) {
                continue;
            }
            db.execute("DELETE FROM blobs_held WHERE hash = ?1", params![&hash])?;
            self.running.forget_except(|h| h != hash);
            db.execute("DELETE FROM blob_parts WHERE hash = ?1", params![&hash])?;
            gone += 1;
        }
        Ok(gone)
    }
}

fn lock(db: &Mutex<Box<dyn Backend>>) -> std::sync::MutexGuard<'_, Box<dyn Backend>> {
    db.lock().unwrap_or_else(|p| p.into_inner())
}

/// A held blob read part by part, each fetched when the last is used up.
struct PartReader {
    db: Arc<Mutex<Box<dyn Backend>>>,
    hash: String,
    at: i64,
    buf: Vec<u8>,
    pos: usize,
}

impl Read for PartReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.buf.len() {
            let part = SqlBlobs::part(lock(&self.db).as_mut(), &self.hash, self.at)
                .map_err(|e| io::Error::other(e.to_string()))?;
            match part {
                Some(bytes) if !bytes.is_empty() => {
                    self.at += bytes.len() as i64;
                    self.buf = bytes;
                    self.pos = 0;
                }
                _ => return Ok(0),
            }
        }
        let n = (self.buf.len() - self.pos).min(out.len());
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}
