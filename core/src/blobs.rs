//! The blob folder beside a phone's store: photos and documents named by
//! the SHA-256 of their bytes, so the same photo on two orders is kept once.
//! A blob is written to a temporary file while it is hashed, fsynced, and
//! only then renamed to its name (and the folder fsynced), so a blob that
//! has a name is whole; a crash leaves at most a temporary file, removed the
//! next time the folder is opened.

use crate::at_rest::sealed::{BlobKey, OpenReader, SealWriter};
use crate::model::{MediaType, is_blob_hash};
use sha2::{Digest, Sha256};
use std::fs::{self, File};
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};

/// Why a file did not become a blob.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("the file cannot be read: {0}")]
    Unreadable(String),
    #[error("the file is empty")]
    Empty,
    #[error("the file is larger than {max} bytes")]
    TooLarge { max: u64 },
    #[error("the file is not a JPEG, PNG, HEIC, WebP or PDF file")]
    NotAllowed,
    #[error("the bytes do not match their SHA-256")]
    HashMismatch,
    #[error("blob folder: {0}")]
    Io(#[from] io::Error),
}

/// What was stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub hash: String,
    pub size: u64,
    pub media_type: MediaType,
}

/// The folder of one store's blobs: plain files, or, beside an encrypted
/// store, files sealed under its blob key ([`crate::at_rest::sealed`]).
#[derive(Debug, Clone)]
pub struct BlobDir {
    root: PathBuf,
    key: Option<BlobKey>,
}

/// Bytes copied at a time: a 20 MB photo never sits in memory whole.
pub const COPY_CHUNK: usize = 256 * 1024;

impl BlobDir {
    /// The folder beside the database at `db`: `<db>-blobs`, the way SQLite
    /// names its own companions (`-wal`, `-shm`).
    pub fn beside(db: &Path) -> BlobDir {
        let mut name = db.file_name().unwrap_or_default().to_os_string();
        name.push("-blobs");
        BlobDir {
            root: db.with_file_name(name),
            key: None,
        }
    }

    /// The same folder, its blobs sealed under `key` (or plain with none).
    pub fn sealed_with(self, key: Option<BlobKey>) -> BlobDir {
        BlobDir { key, ..self }
    }

    /// A blob folder at `root` (the server's embedded storage).
    pub fn at(root: PathBuf) -> BlobDir {
        BlobDir { root, key: None }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the blob named `hash` lives (whether or not it is there).
    /// `None` for anything that is not a blob hash, so no name can reach
    /// outside the folder.
    pub fn path(&self, hash: &str) -> Option<PathBuf> {
        is_blob_hash(hash).then(|| self.root.join(&hash[..2]).join(hash))
    }

    pub fn contains(&self, hash: &str) -> bool {
        self.path(hash).is_some_and(|p| p.is_file())
    }

    fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// Remove temporary files a crash left behind.
    pub fn clean_tmp(&self) {
        if let Ok(entries) = fs::read_dir(self.tmp_dir()) {
            for e in entries.flatten() {
                let _ = fs::remove_file(e.path());
            }
        }
    }

    /// A writer for a new blob; [`BlobWriter::finish`] names it.
    pub fn writer(&self) -> Result<BlobWriter, BlobError> {
        fs::create_dir_all(self.tmp_dir())?;
        let tmp = self
            .tmp_dir()
            .join(uuid::Uuid::new_v4().simple().to_string());
        let file = File::create(&tmp)?;
        let sink = match &self.key {
            Some(key) => Sink::Sealed(SealWriter::new(key, file)?),
            None => Sink::Plain(file),
        };
        Ok(BlobWriter {
            dir: self.clone(),
            sink,
            tmp,
            hasher: Sha256::new(),
            size: 0,
            head: Vec::with_capacity(MediaType::SNIFF_BYTES),
        })
    }

    /// Copy the file at `src` in, refusing it before a byte is copied if it
    /// is larger than `max` bytes, and after reading its first bytes if it
    /// is not a photo or document of an allowed kind.
    pub fn import_file(&self, src: &Path, max: u64) -> Result<Stored, BlobError> {
        let unreadable = |e: io::Error| BlobError::Unreadable(e.kind().to_string());
        let mut file = File::open(src).map_err(unreadable)?;
        let len = file.metadata().map_err(unreadable)?.len();
        if len > max {
            return Err(BlobError::TooLarge { max });
        }
        if len == 0 {
            return Err(BlobError::Empty);
        }
        let mut w = self.writer()?;
        let mut buf = vec![0u8; COPY_CHUNK];
        loop {
            let n = file.read(&mut buf).map_err(unreadable)?;
            if n == 0 {
                break;
            }
            // The file may grow while it is copied.
            if w.size + n as u64 > max {
                w.abandon();
                return Err(BlobError::TooLarge { max });
            }
            w.write_all(&buf[..n])?;
            if w.size >= MediaType::SNIFF_BYTES as u64 && w.media_type().is_none() {
                w.abandon();
                return Err(BlobError::NotAllowed);
            }
        }
        w.finish(None)
    }

    /// The bytes of blob `hash` from byte `offset` on, unsealed as they are
    /// read; `None` if it is not here.
    pub fn open(&self, hash: &str, offset: u64) -> io::Result<Option<BlobReader>> {
        let Some(path) = self.path(hash) else {
            return Ok(None);
        };
        let mut file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        Ok(Some(match &self.key {
            Some(key) => BlobReader::Sealed(OpenReader::new(key, file, offset)?),
            None => {
                let len = file.metadata()?.len();
                file.seek(io::SeekFrom::Start(offset.min(len)))?;
                BlobReader::Plain { file, len }
            }
        }))
    }

    /// The whole of blob `hash`, checked against its hash; `None` if it is
    /// not here.
    pub fn read(&self, hash: &str) -> io::Result<Option<Vec<u8>>> {
        let Some(mut r) = self.open(hash, 0)? else {
            return Ok(None);
        };
        let mut bytes = Vec::with_capacity(usize::try_from(r.len()).unwrap_or(0));
        r.read_to_end(&mut bytes)?;
        if hex(&Sha256::digest(&bytes)) != hash {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the blob's bytes do not match its hash",
            ));
        }
        Ok(Some(bytes))
    }

    /// Delete a blob (nothing if it is not there).
    pub fn remove(&self, hash: &str) -> io::Result<()> {
        match self.path(hash) {
            Some(p) => match fs::remove_file(p) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            },
            None => Ok(()),
        }
    }

    /// Every blob held, by hash.
    pub fn hashes(&self) -> io::Result<Vec<String>> {
        let mut out = Vec::new();
        let Ok(shards) = fs::read_dir(&self.root) else {
            return Ok(out);
        };
        for shard in shards.flatten() {
            if !shard.file_type()?.is_dir() || shard.file_name() == "tmp" {
                continue;
            }
            for e in fs::read_dir(shard.path())?.flatten() {
                if let Some(name) = e.file_name().to_str()
                    && is_blob_hash(name)
                {
                    out.push(name.to_string());
                }
            }
        }
        out.sort();
        Ok(out)
    }
}

/// A blob's bytes being read (see [`BlobDir::open`]).
#[derive(Debug)]
pub enum BlobReader {
    Plain { file: File, len: u64 },
    Sealed(OpenReader),
}

impl BlobReader {
    /// The blob's whole length (not what is left from the offset).
    pub fn len(&self) -> u64 {
        match self {
            BlobReader::Plain { len, .. } => *len,
            BlobReader::Sealed(r) => r.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Read for BlobReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            BlobReader::Plain { file, .. } => file.read(buf),
            BlobReader::Sealed(r) => r.read(buf),
        }
    }
}

#[derive(Debug)]
enum Sink {
    Plain(File),
    Sealed(SealWriter<File>),
}

/// A blob being written: hashed as it goes (and sealed, beside an
/// encrypted store).
#[derive(Debug)]
pub struct BlobWriter {
    dir: BlobDir,
    sink: Sink,
    tmp: PathBuf,
    hasher: Sha256,
    size: u64,
    head: Vec<u8>,
}

impl BlobWriter {
    /// The type the first bytes say, once there are enough of them.
    pub fn media_type(&self) -> Option<MediaType> {
        MediaType::sniff(&self.head)
    }

    /// Stop, leaving nothing behind.
    pub fn abandon(self) {
        let _ = fs::remove_file(&self.tmp);
    }

    /// Make the blob durable under its hash. With `expected`, bytes whose
    /// SHA-256 differs are refused (and dropped).
    pub fn finish(mut self, expected: Option<&str>) -> Result<Stored, BlobError> {
        let hash = hex(&std::mem::take(&mut self.hasher).finalize());
        let fail = |me: BlobWriter, e: BlobError| {
            me.abandon();
            Err(e)
        };
        if self.size == 0 {
            return fail(self, BlobError::Empty);
        }
        if expected.is_some_and(|h| h != hash) {
            return fail(self, BlobError::HashMismatch);
        }
        let Some(media_type) = self.media_type() else {
            return fail(self, BlobError::NotAllowed);
        };
        let Some(dest) = self.dir.path(&hash) else {
            return fail(self, BlobError::HashMismatch);
        };
        let file = match self.sink {
            Sink::Plain(f) => f,
            Sink::Sealed(w) => w.finish()?,
        };
        file.sync_all()?;
        let parent = dest.parent().map(Path::to_path_buf).unwrap_or_default();
        fs::create_dir_all(&parent)?;
        if dest.is_file() {
            // Already held (content-addressed: the same bytes).
            let _ = fs::remove_file(&self.tmp);
        } else {
            fs::rename(&self.tmp, &dest)?;
            sync_dir(&parent)?;
        }
        Ok(Stored {
            hash,
            size: self.size,
            media_type,
        })
    }
}

impl Write for BlobWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = match &mut self.sink {
            Sink::Plain(f) => f.write(buf)?,
            Sink::Sealed(w) => w.write(buf)?,
        };
        self.hasher.update(&buf[..n]);
        let want = MediaType::SNIFF_BYTES.saturating_sub(self.head.len());
        self.head.extend_from_slice(&buf[..n.min(want)]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.sink {
            Sink::Plain(f) => f.flush(),
            Sink::Sealed(w) => w.flush(),
        }
    }
}

pub use crate::at_rest::hex;

/// Make a rename in `dir` durable (a no-op where directories cannot be opened).
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// The SHA-256 of a file, read in chunks.
pub fn sha256_file(path: &Path) -> io::Result<(String, u64)> {
    let mut f = File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; COPY_CHUNK];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        size += n as u64;
    }
    Ok((hex(&h.finalize()), size))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(n: usize, seed: u8) -> Vec<u8> {
        let mut v = vec![0xFF, 0xD8, 0xFF, 0xE0];
        v.extend((0..n).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)));
        v
    }

    #[test]
    fn a_file_is_kept_once_under_its_hash_and_whole() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = BlobDir::beside(&dir.path().join("fw.db"));
        let src = dir.path().join("photo.jpg");
        fs::write(&src, jpeg(700_000, 1)).unwrap();
        let a = blobs.import_file(&src, 1_000_000).unwrap();
        let b = blobs.import_file(&src, 1_000_000).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.media_type, MediaType::Jpeg);
        assert_eq!(blobs.hashes().unwrap(), vec![a.hash.clone()]);
        let (hash, size) = sha256_file(&blobs.path(&a.hash).unwrap()).unwrap();
        assert_eq!((hash, size), (a.hash.clone(), 700_004));
        assert!(blobs.root().ends_with("fw.db-blobs"));
        assert_eq!(fs::read_dir(blobs.root().join("tmp")).unwrap().count(), 0);
    }

    #[test]
    fn refusals_leave_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = BlobDir::at(dir.path().join("blobs"));
        let big = dir.path().join("big.jpg");
        fs::write(&big, jpeg(2_000, 1)).unwrap();
        assert!(matches!(
            blobs.import_file(&big, 1_000),
            Err(BlobError::TooLarge { max: 1_000 })
        ));
        let text = dir.path().join("notes.txt");
        fs::write(&text, "x".repeat(100_000)).unwrap();
        assert!(matches!(
            blobs.import_file(&text, 1_000_000),
            Err(BlobError::NotAllowed)
        ));
        let empty = dir.path().join("empty.jpg");
        fs::write(&empty, b"").unwrap();
        assert!(matches!(
            blobs.import_file(&empty, 10),
            Err(BlobError::Empty)
        ));
        assert!(matches!(
            blobs.import_file(&dir.path().join("missing.jpg"), 10),
            Err(BlobError::Unreadable(_))
        ));
        let mut w = blobs.writer().unwrap();
        w.write_all(&jpeg(100, 2)).unwrap();
        assert!(matches!(
            w.finish(Some(&"0".repeat(64))),
            Err(BlobError::HashMismatch)
        ));
        assert!(blobs.hashes().unwrap().is_empty());
        assert_eq!(fs::read_dir(blobs.root().join("tmp")).unwrap().count(), 0);
        assert_eq!(blobs.path("../../etc/passwd"), None);
    }
}
