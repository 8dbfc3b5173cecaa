//! Automerge storage chunks read before Automerge sees them, with every
//! amplification bounded: a compressed change is inflated only up to
//! [`Limits::change_bytes`], its checksum is verified against the inflated
//! bytes, and the run-length encoded columns of every change and document are
//! counted without being expanded, so a few bytes cannot declare a billion
//! operations. What passes is handed to Automerge uncompressed, so Automerge
//! itself never inflates a change from outside (docs/sync.md, "Bounds").

use automerge::{Change, ChangeHash};
use sha2::{Digest, Sha256};
use std::io::Read;

const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
const DOCUMENT: u8 = 0;
const CHANGE: u8 = 1;
const COMPRESSED: u8 = 2;

/// How large what a chunk unpacks to may be. The defaults are chosen from the
/// largest legitimate document with a wide margin (docs/sync.md, "Bounds").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest change, uncompressed.
    pub change_bytes: usize,
    /// Most operations one change may hold.
    pub change_ops: u64,
    /// Largest document, its columns inflated.
    pub document_bytes: usize,
    /// Most operations (or changes) one document may hold.
    pub document_ops: u64,
}

impl Limits {
    pub const DEFAULT: Limits = Limits {
        change_bytes: 8 * 1024 * 1024,
        change_ops: 200_000,
        document_bytes: 64 * 1024 * 1024,
        document_ops: 4_000_000,
    };
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::DEFAULT
    }
}

/// Why a run of chunks was refused. Chunks are numbered from 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChunkError {
    #[error("chunk {0}: not an Automerge chunk")]
    NotAChunk(usize),
    #[error("chunk {0}: truncated")]
    Truncated(usize),
    #[error("chunk {0}: checksum does not match its contents")]
    BadChecksum(usize),
    #[error("chunk {n}: unpacks to more than {limit} bytes")]
    TooLarge { n: usize, limit: usize },
    #[error("chunk {n}: declares more than {limit} operations")]
    TooManyOps { n: usize, limit: u64 },
    #[error("chunk {n}: unsupported chunk type {kind}")]
    Unsupported { n: usize, kind: u8 },
    #[error("chunk {n}: a device pushes changes, not whole documents")]
    WholeDocument { n: usize },
    #[error("chunk {n}: {reason}")]
    Unparsable { n: usize, reason: String },
}

/// One verified change: the parsed change and its bytes, uncompressed.
#[derive(Debug, Clone)]
pub struct VerifiedChange {
    pub change: Change,
    pub bytes: Vec<u8>,
}

impl VerifiedChange {
    pub fn hash(&self) -> ChangeHash {
        self.change.hash()
    }
}

/// What [`read_changes`] or [`read_any`] found.
#[derive(Debug, Default)]
pub struct Chunks {
    pub changes: Vec<VerifiedChange>,
    /// Whole documents (never from a device).
    pub documents: usize,
    /// The same chunks with compressed changes written out uncompressed:
    /// what may be handed to Automerge.
    pub plain: Vec<u8>,
}

/// Read the changes a device pushes: change chunks only.
pub fn read_changes(bytes: &[u8], limits: &Limits) -> Result<Chunks, ChunkError> {
    read(bytes, limits, false)
}

/// Read what a device pulls or the server loads: changes and whole documents.
pub fn read_any(bytes: &[u8], limits: &Limits) -> Result<Chunks, ChunkError> {
    read(bytes, limits, true)
}

fn read(mut bytes: &[u8], limits: &Limits, documents: bool) -> Result<Chunks, ChunkError> {
    let mut out = Chunks::default();
    let mut n = 0;
    while !bytes.is_empty() {
        n += 1;
        if bytes.len() < 9 || bytes[..4] != MAGIC {
            return Err(ChunkError::NotAChunk(n));
        }
        let checksum = [bytes[4], bytes[5], bytes[6], bytes[7]];
        let kind = bytes[8];
        let mut r = Reader::new(&bytes[9..], n);
        let len = r.uleb()?;
        let header = 9 + r.pos;
        let end = usize::try_from(len)
            .ok()
            .and_then(|l| header.checked_add(l))
            .filter(|&e| e <= bytes.len())
            .ok_or(ChunkError::Truncated(n))?;
        let data = &bytes[header..end];
        match kind {
            CHANGE => {
                if data.len() > limits.change_bytes {
                    return Err(ChunkError::TooLarge {
                        n,
                        limit: limits.change_bytes,
                    });
                }
                let chunk = &bytes[..end];
                out.changes
                    .push(verify_change(chunk, checksum, data, n, limits)?);
                out.plain.extend_from_slice(chunk);
            }
            COMPRESSED => {
                let inflated = inflate(data, limits.change_bytes, n)?;
                let mut chunk = Vec::with_capacity(inflated.len() + 16);
                chunk.extend_from_slice(&MAGIC);
                chunk.extend_from_slice(&checksum);
                chunk.push(CHANGE);
                write_uleb(&mut chunk, inflated.len() as u64);
                let start = chunk.len();
                chunk.extend_from_slice(&inflated);
                drop(inflated);
                let v = verify_change(&chunk, checksum, &chunk[start..], n, limits)?;
                out.plain.extend_from_slice(&chunk);
                out.changes.push(v);
            }
            DOCUMENT if documents => {
                check_document(data, limits, n)?;
                out.plain.extend_from_slice(&bytes[..end]);
                out.documents += 1;
            }
            DOCUMENT => return Err(ChunkError::WholeDocument { n }),
            other => return Err(ChunkError::Unsupported { n, kind: other }),
        }
        bytes = &bytes[end..];
    }
    Ok(out)
}

/// Inflate at most `limit` bytes; more is an error, found before anything
/// is held: a first pass only counts (into a sink, with deflate's 32 KiB
/// window), and only what fits is inflated again into a buffer of exactly
/// its size.
fn inflate(data: &[u8], limit: usize, n: usize) -> Result<Vec<u8>, ChunkError> {
    let not_deflate = || ChunkError::Unparsable {
        n,
        reason: "compressed data is not valid deflate".into(),
    };
    let mut counting = flate2::read::DeflateDecoder::new(data).take(limit as u64 + 1);
    let size = std::io::copy(&mut counting, &mut std::io::sink()).map_err(|_| not_deflate())?;
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    if size > limit {
        return Err(ChunkError::TooLarge { n, limit });
    }
    let mut out = Vec::with_capacity(size);
    flate2::read::DeflateDecoder::new(data)
        .take(size as u64)
        .read_to_end(&mut out)
        .map_err(|_| not_deflate())?;
    Ok(out)
}

/// `chunk` is a whole uncompressed change chunk, `data` its contents.
fn verify_change(
    chunk: &[u8],
    checksum: [u8; 4],
    data: &[u8],
    n: usize,
    limits: &Limits,
) -> Result<VerifiedChange, ChunkError> {
    // The checksum covers the type, the length and the contents.
    let mut h = Sha256::new();
    h.update([CHANGE]);
    let mut len = Vec::new();
    write_uleb(&mut len, data.len() as u64);
    h.update(&len);
    h.update(data);
    if h.finalize()[..4] != checksum {
        return Err(ChunkError::BadChecksum(n));
    }
    count_change_ops(data, limits.change_ops, n)?;
    let change = Change::try_from(chunk).map_err(|e| ChunkError::Unparsable {
        n,
        reason: e.to_string(),
    })?;
    Ok(VerifiedChange {
        change,
        bytes: chunk.to_vec(),
    })
}

/// Walk a change's header to its operation columns and count them.
fn count_change_ops(data: &[u8], limit: u64, n: usize) -> Result<(), ChunkError> {
    let mut r = Reader::new(data, n);
    let deps = r.uleb()?;
    for _ in 0..deps {
        r.take(32)?;
    }
    r.bytes()?; // actor
    r.uleb()?; // seq
    r.uleb()?; // start op
    r.sleb()?; // time
    r.bytes()?; // message
    let others = r.uleb()?;
    for _ in 0..others {
        r.bytes()?;
    }
    let columns = r.columns()?;
    for (spec, len) in columns {
        let col = r.take(len)?;
        if spec & DEFLATE != 0 {
            return Err(ChunkError::Unparsable {
                n,
                reason: "a change's columns may not be compressed".into(),
            });
        }
        count_column(col, spec, limit, n)?;
    }
    Ok(())
}

const DEFLATE: u32 = 0b1000;

/// A document's columns: inflate each compressed one up to what is left of
/// the document's budget, and count every column's items.
fn check_document(data: &[u8], limits: &Limits, n: usize) -> Result<(), ChunkError> {
    let mut r = Reader::new(data, n);
    let actors = r.uleb()?;
    for _ in 0..actors {
        r.bytes()?;
    }
    let heads = r.uleb()?;
    for _ in 0..heads {
        r.take(32)?;
    }
    let change_cols = r.columns()?;
    let op_cols = r.columns()?;
    let mut budget = limits.document_bytes;
    for (spec, len) in change_cols.into_iter().chain(op_cols) {
        let col = r.take(len)?;
        if spec & DEFLATE != 0 {
            let inflated = inflate(col, budget, n)?;
            budget -= inflated.len();
            count_column(&inflated, spec, limits.document_ops, n)?;
        } else {
            budget = budget.checked_sub(col.len()).ok_or(ChunkError::TooLarge {
                n,
                limit: limits.document_bytes,
            })?;
            count_column(col, spec, limits.document_ops, n)?;
        }
    }
    Ok(())
}

/// Count the items a column holds without expanding its runs.
fn count_column(col: &[u8], spec: u32, limit: u64, n: usize) -> Result<(), ChunkError> {
    let mut r = Reader::new(col, n);
    let mut items: u64 = 0;
    let mut add = |k: u64| -> Result<(), ChunkError> {
        items = items.saturating_add(k);
        if items > limit {
            Err(ChunkError::TooManyOps { n, limit })
        } else {
            Ok(())
        }
    };
    match spec & 0b111 {
        // Group, actor, unsigned, delta, string, value metadata: run-length
        // encoded. A positive count repeats one value, a negative one is a
        // literal run, zero is followed by a count of nulls.
        kind @ (0 | 1 | 2 | 3 | 5 | 6) => {
            let value = |r: &mut Reader<'_>| -> Result<(), ChunkError> {
                match kind {
                    3 => r.sleb().map(drop),
                    5 => r.bytes().map(drop),
                    _ => r.uleb().map(drop),
                }
            };
            while !r.done() {
                let count = r.sleb()?;
                if count > 0 {
                    add(count.unsigned_abs())?;
                    value(&mut r)?;
                } else if count < 0 {
                    add(count.unsigned_abs())?;
                    for _ in 0..count.unsigned_abs() {
                        value(&mut r)?;
                    }
                } else {
                    add(r.uleb()?)?;
                }
            }
        }
        // Boolean: alternating run lengths.
        4 => {
            while !r.done() {
                add(r.uleb()?)?;
            }
        }
        // Raw value bytes: as many as there are.
        _ => {}
    }
    Ok(())
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    n: usize,
}

impl<'a> Reader<'a> {
    fn new(data: &'a [u8], n: usize) -> Reader<'a> {
        Reader { data, pos: 0, n }
    }
    fn done(&self) -> bool {
        self.pos >= self.data.len()
    }
    fn take(&mut self, len: u64) -> Result<&'a [u8], ChunkError> {
        let end = usize::try_from(len)
            .ok()
            .and_then(|l| self.pos.checked_add(l))
            .filter(|&e| e <= self.data.len())
            .ok_or(ChunkError::Truncated(self.n))?;
        let s = &self.data[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn byte(&mut self) -> Result<u8, ChunkError> {
        Ok(self.take(1)?[0])
    }
    fn uleb(&mut self) -> Result<u64, ChunkError> {
        let (mut v, mut shift) = (0u64, 0u32);
        loop {
            let b = self.byte()?;
            if shift > 63 || (shift == 63 && b > 1) {
                return Err(self.bad("a number is out of range"));
            }
            v |= u64::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
    }
    fn sleb(&mut self) -> Result<i64, ChunkError> {
        let (mut v, mut shift) = (0i64, 0u32);
        loop {
            let b = self.byte()?;
            if shift > 63 {
                return Err(self.bad("a number is out of range"));
            }
            v |= i64::from(b & 0x7f).wrapping_shl(shift);
            shift += 7;
            if b & 0x80 == 0 {
                if shift < 64 && b & 0x40 != 0 {
                    v |= -1i64 << shift;
                }
                return Ok(v);
            }
        }
    }
    fn bytes(&mut self) -> Result<&'a [u8], ChunkError> {
        let len = self.uleb()?;
        self.take(len)
    }
    fn columns(&mut self) -> Result<Vec<(u32, u64)>, ChunkError> {
        let count = self.uleb()?;
        // Each column takes at least two bytes of metadata.
        if count > (self.data.len() - self.pos) as u64 / 2 {
            return Err(ChunkError::Truncated(self.n));
        }
        let mut cols = Vec::new();
        for _ in 0..count {
            let spec = u32::try_from(self.uleb()?)
                .map_err(|_| self.bad("a column spec is out of range"))?;
            cols.push((spec, self.uleb()?));
        }
        Ok(cols)
    }
    fn bad(&self, reason: &str) -> ChunkError {
        ChunkError::Unparsable {
            n: self.n,
            reason: reason.into(),
        }
    }
}

fn write_uleb(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::transaction::Transactable;
    use automerge::{AutoCommit, ROOT};

    fn one_change(text_len: usize) -> Vec<u8> {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "note", "x".repeat(text_len)).unwrap();
        doc.commit();
        let mut c = doc.get_last_local_change().unwrap().clone();
        c.bytes().to_vec()
    }

    #[test]
    fn a_good_change_passes_and_keeps_its_hash() {
        let bytes = one_change(10);
        let read = read_changes(&bytes, &Limits::DEFAULT).unwrap();
        assert_eq!(read.changes.len(), 1);
        assert_eq!(read.plain, bytes);
    }

    #[test]
    fn a_compressed_change_is_written_out_plain_with_the_same_hash() {
        // Automerge compresses changes of 256 bytes and more.
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "note", "x".repeat(4000)).unwrap();
        doc.commit();
        let mut c = doc.get_last_local_change().unwrap().clone();
        let compressed = c.bytes().to_vec();
        assert_eq!(compressed[8], COMPRESSED);
        let read = read_changes(&compressed, &Limits::DEFAULT).unwrap();
        assert_eq!(read.changes[0].hash(), c.hash());
        assert_eq!(read.plain[8], CHANGE);
        assert!(read.plain.len() > compressed.len());
    }

    #[test]
    fn a_flipped_checksum_byte_is_refused() {
        let mut bytes = one_change(10);
        bytes[5] ^= 0xff;
        assert_eq!(
            read_changes(&bytes, &Limits::DEFAULT).unwrap_err(),
            ChunkError::BadChecksum(1)
        );
    }

    #[test]
    fn a_deflate_bomb_is_refused_before_it_is_held() {
        let zeros = vec![0u8; 64 * 1024 * 1024];
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        std::io::Write::write_all(&mut e, &zeros).unwrap();
        let payload = e.finish().unwrap();
        let mut chunk = MAGIC.to_vec();
        chunk.extend_from_slice(&[1, 2, 3, 4, COMPRESSED]);
        write_uleb(&mut chunk, payload.len() as u64);
        chunk.extend_from_slice(&payload);
        assert_eq!(
            read_changes(&chunk, &Limits::DEFAULT).unwrap_err(),
            ChunkError::TooLarge {
                n: 1,
                limit: Limits::DEFAULT.change_bytes
            }
        );
    }

    /// A change whose one column says "this value, 2^40 times": a few bytes
    /// that would make Automerge iterate (and, applied, hold) 2^40 operations.
    fn run_length_bomb() -> Vec<u8> {
        let mut data = vec![0u8]; // no dependencies
        data.push(16);
        data.extend_from_slice(&[7u8; 16]); // actor
        data.extend_from_slice(&[1, 1, 0, 0, 0]); // seq, start op, time, message, other actors
        let mut col = Vec::new();
        write_uleb(&mut col, 1 << 40); // a positive count, as sleb needs a spare bit
        col.push(0);
        data.push(1); // one column
        data.push(1); // objActor: id 0, type actor
        write_uleb(&mut data, col.len() as u64);
        data.extend_from_slice(&col);
        let mut h = Sha256::new();
        h.update([CHANGE]);
        let mut len = Vec::new();
        write_uleb(&mut len, data.len() as u64);
        h.update(&len);
        h.update(&data);
        let sum = h.finalize();
        let mut chunk = MAGIC.to_vec();
        chunk.extend_from_slice(&sum[..4]);
        chunk.push(CHANGE);
        chunk.extend_from_slice(&len);
        chunk.extend_from_slice(&data);
        chunk
    }

    #[test]
    fn a_run_length_bomb_is_refused_without_expanding_it() {
        assert_eq!(
            read_changes(&run_length_bomb(), &Limits::DEFAULT).unwrap_err(),
            ChunkError::TooManyOps {
                n: 1,
                limit: Limits::DEFAULT.change_ops
            }
        );
    }

    #[test]
    fn whole_documents_are_read_only_where_they_may_come() {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "note", "x".repeat(4000)).unwrap();
        let saved = doc.save();
        assert_eq!(
            read_changes(&saved, &Limits::DEFAULT).unwrap_err(),
            ChunkError::WholeDocument { n: 1 }
        );
        let read = read_any(&saved, &Limits::DEFAULT).unwrap();
        assert_eq!(read.documents, 1);
        let tight = Limits {
            document_bytes: 100,
            ..Limits::DEFAULT
        };
        assert!(matches!(
            read_any(&saved, &tight).unwrap_err(),
            ChunkError::TooLarge { .. }
        ));
    }
}
