//! Sealed blob files: a photo's bytes encrypted and authenticated in
//! chunks with XChaCha20-Poly1305, so a 20 MB photo is never in memory
//! whole and an upload can resume from any offset.
//!
//! A file is a 24-byte header — `FWS1` and a random 20-byte nonce prefix —
//! then the chunks, each [`CHUNK`] bytes of plaintext (the last one
//! shorter, never empty) followed by its 16-byte tag. Chunk `i` is sealed
//! under the nonce `prefix ‖ i (u32, big-endian)`, with the header and a
//! last-chunk flag as associated data: chunks cannot be reordered, dropped,
//! or cut off at the end, and a file cannot be spliced from two others
//! (the STREAM construction).

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use zeroize::Zeroize;

/// Plaintext bytes per chunk.
pub const CHUNK: usize = 64 * 1024;
const TAG: usize = 16;
const MAGIC: &[u8; 4] = b"FWS1";
const PREFIX: usize = 20;
/// Bytes before the first chunk.
pub const HEADER: usize = MAGIC.len() + PREFIX;

/// The key blobs are sealed with: random, kept in the encrypted database.
#[derive(Clone)]
pub struct BlobKey([u8; 32]);

impl std::fmt::Debug for BlobKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BlobKey(..)")
    }
}

impl Drop for BlobKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl BlobKey {
    pub fn generate() -> BlobKey {
        let mut k = [0u8; 32];
        rand::fill(&mut k);
        BlobKey(k)
    }

    /// As kept in the database's meta table.
    pub fn to_hex(&self) -> String {
        super::hex(&self.0)
    }

    pub fn from_hex(s: &str) -> Option<BlobKey> {
        let bytes: [u8; 32] = super::unhex(s)?.try_into().ok()?;
        Some(BlobKey(bytes))
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&self.0).into())
    }
}

fn nonce(header: &[u8; HEADER], index: u64) -> io::Result<XNonce> {
    let index = u32::try_from(index).map_err(|_| bad("the file has too many chunks"))?;
    let mut n = [0u8; 24];
    n[..PREFIX].copy_from_slice(&header[MAGIC.len()..]);
    n[PREFIX..].copy_from_slice(&index.to_be_bytes());
    Ok(n.into())
}

fn aad(header: &[u8; HEADER], last: bool) -> [u8; HEADER + 1] {
    let mut a = [0u8; HEADER + 1];
    a[..HEADER].copy_from_slice(header);
    a[HEADER] = u8::from(last);
    a
}

fn bad(why: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, why)
}

/// Whether a file's first bytes are a sealed blob's header.
pub fn is_sealed(head: &[u8]) -> bool {
    head.starts_with(MAGIC)
}

/// The plaintext length of a sealed file of `sealed_len` bytes.
pub fn plain_len(sealed_len: u64) -> io::Result<u64> {
    let body = sealed_len
        .checked_sub(HEADER as u64)
        .ok_or_else(|| bad("the sealed file is cut short"))?;
    let per = (CHUNK + TAG) as u64;
    let chunks = body.div_ceil(per);
    match body.checked_sub(chunks * TAG as u64) {
        Some(n) if n > 0 && (body % per == 0 || body % per > TAG as u64) => Ok(n),
        _ => Err(bad("the sealed file is cut short")),
    }
}

/// Seals what is written to it into `out`, a chunk at a time.
pub struct SealWriter<W: Write> {
    out: W,
    cipher: XChaCha20Poly1305,
    header: [u8; HEADER],
    index: u64,
    buf: Vec<u8>,
}

impl<W: Write> std::fmt::Debug for SealWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealWriter")
            .field("index", &self.index)
            .finish()
    }
}

impl<W: Write> SealWriter<W> {
    pub fn new(key: &BlobKey, mut out: W) -> io::Result<SealWriter<W>> {
        let mut header = [0u8; HEADER];
        header[..MAGIC.len()].copy_from_slice(MAGIC);
        rand::fill(&mut header[MAGIC.len()..]);
        out.write_all(&header)?;
        Ok(SealWriter {
            out,
            cipher: key.cipher(),
            header,
            index: 0,
            buf: Vec::with_capacity(CHUNK),
        })
    }

    fn seal_chunk(&mut self, last: bool) -> io::Result<()> {
        let sealed = self
            .cipher
            .encrypt(
                &nonce(&self.header, self.index)?,
                Payload {
                    msg: &self.buf,
                    aad: &aad(&self.header, last),
                },
            )
            .map_err(|_| bad("the chunk could not be sealed"))?;
        self.buf.zeroize();
        self.buf.clear();
        self.out.write_all(&sealed)?;
        self.index += 1;
        Ok(())
    }

    /// Seal the last chunk; the file is whole once this returns. Sealing
    /// nothing at all is refused: a blob is never empty.
    pub fn finish(mut self) -> io::Result<W> {
        if self.buf.is_empty() {
            return Err(bad("an empty blob cannot be sealed"));
        }
        self.seal_chunk(true)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

impl<W: Write> Write for SealWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        // A full chunk is sealed only once more bytes arrive: the last
        // chunk is known to be last when it is sealed.
        if self.buf.len() == CHUNK {
            self.seal_chunk(false)?;
        }
        let n = data.len().min(CHUNK - self.buf.len());
        self.buf.extend_from_slice(&data[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Reads a sealed file's plaintext from any offset, checking every chunk.
pub struct OpenReader {
    file: File,
    cipher: XChaCha20Poly1305,
    header: [u8; HEADER],
    sealed_len: u64,
    plain_len: u64,
    /// The next chunk to open.
    index: u64,
    chunk: Vec<u8>,
    at: usize,
}

impl std::fmt::Debug for OpenReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenReader")
            .field("plain_len", &self.plain_len)
            .finish()
    }
}

impl OpenReader {
    /// Open `file` for reading from plaintext byte `offset`.
    pub fn new(key: &BlobKey, mut file: File, offset: u64) -> io::Result<OpenReader> {
        let sealed_len = file.metadata()?.len();
        let mut header = [0u8; HEADER];
        file.read_exact(&mut header)
            .map_err(|_| bad("not a sealed blob"))?;
        if !is_sealed(&header) {
            return Err(bad("not a sealed blob"));
        }
        let plain_len = plain_len(sealed_len)?;
        let mut r = OpenReader {
            file,
            cipher: key.cipher(),
            header,
            sealed_len,
            plain_len,
            index: offset / CHUNK as u64,
            chunk: Vec::new(),
            at: 0,
        };
        if offset >= plain_len {
            r.index = u64::MAX;
            return Ok(r);
        }
        r.file.seek(SeekFrom::Start(
            HEADER as u64 + r.index * (CHUNK + TAG) as u64,
        ))?;
        r.open_next()?;
        r.at = (offset % CHUNK as u64) as usize;
        Ok(r)
    }

    /// The plaintext's length.
    pub fn len(&self) -> u64 {
        self.plain_len
    }

    pub fn is_empty(&self) -> bool {
        self.plain_len == 0
    }

    fn open_next(&mut self) -> io::Result<()> {
        let start = HEADER as u64 + self.index * (CHUNK + TAG) as u64;
        let end = (start + (CHUNK + TAG) as u64).min(self.sealed_len);
        let last = end == self.sealed_len;
        let mut sealed = vec![0u8; usize::try_from(end - start).unwrap_or(0)];
        self.file.read_exact(&mut sealed)?;
        self.chunk.zeroize();
        self.chunk = self
            .cipher
            .decrypt(
                &nonce(&self.header, self.index)?,
                Payload {
                    msg: &sealed,
                    aad: &aad(&self.header, last),
                },
            )
            .map_err(|_| bad("the sealed blob is damaged or not this store's"))?;
        self.at = 0;
        self.index = if last { u64::MAX } else { self.index + 1 };
        Ok(())
    }
}

impl Read for OpenReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.at == self.chunk.len() {
            if self.index == u64::MAX {
                return Ok(0);
            }
            self.open_next()?;
        }
        let n = out.len().min(self.chunk.len() - self.at);
        out[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

impl Drop for OpenReader {
    fn drop(&mut self) {
        self.chunk.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seal(key: &BlobKey, plain: &[u8], path: &std::path::Path) {
        let mut w = SealWriter::new(key, File::create(path).unwrap()).unwrap();
        // Odd write sizes, across chunk edges.
        for piece in plain.chunks(10_007) {
            w.write_all(piece).unwrap();
        }
        w.finish().unwrap().sync_all().unwrap();
    }

    fn open_all(key: &BlobKey, path: &std::path::Path, offset: u64) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        OpenReader::new(key, File::open(path)?, offset)?.read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn bytes_come_back_from_any_offset_and_never_show_in_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let key = BlobKey::generate();
        for len in [1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 77] {
            let plain: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let path = dir.path().join(format!("b{len}"));
            seal(&key, &plain, &path);
            let sealed = std::fs::read(&path).unwrap();
            assert_eq!(plain_len(sealed.len() as u64).unwrap(), len as u64);
            assert!(
                len < 64
                    || !sealed
                        .windows(64)
                        .any(|w| plain.windows(64).next() == Some(w)),
                "no run of the plaintext in the file"
            );
            let offsets = [0, 1, CHUNK as u64, len as u64 - 1, len as u64];
            for offset in offsets.into_iter().filter(|o| *o <= len as u64) {
                let back = open_all(&key, &path, offset).unwrap();
                assert_eq!(back, plain[offset as usize..], "len {len} offset {offset}");
            }
        }
    }

    #[test]
    fn a_changed_cut_or_foreign_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let key = BlobKey::generate();
        let plain = vec![7u8; 2 * CHUNK + 5];
        let path = dir.path().join("b");
        seal(&key, &plain, &path);
        let sealed = std::fs::read(&path).unwrap();

        let mut flipped = sealed.clone();
        flipped[HEADER + CHUNK + 40] ^= 1;
        std::fs::write(&path, &flipped).unwrap();
        assert!(open_all(&key, &path, 0).is_err(), "a flipped bit");

        // Cut at a chunk's end: every chunk left is whole, but the last one
        // was not sealed as last.
        std::fs::write(&path, &sealed[..HEADER + 2 * (CHUNK + TAG)]).unwrap();
        assert!(open_all(&key, &path, 0).is_err(), "cut at a chunk edge");

        std::fs::write(&path, &sealed).unwrap();
        assert!(
            open_all(&BlobKey::generate(), &path, 0).is_err(),
            "another key"
        );
        assert_eq!(open_all(&key, &path, 0).unwrap(), plain);
        std::fs::write(&path, b"\xff\xd8\xff plain jpeg").unwrap();
        assert!(open_all(&key, &path, 0).is_err(), "not sealed");
    }

    #[test]
    fn a_blob_key_survives_its_hex_form() {
        let k = BlobKey::generate();
        assert_eq!(BlobKey::from_hex(&k.to_hex()).unwrap().0, k.0);
        assert!(BlobKey::from_hex("zz").is_none());
        assert!(BlobKey::from_hex(&"é".repeat(32)).is_none());
        assert_eq!(format!("{k:?}"), "BlobKey(..)");
    }
}
