//! The sync protocol's messages on the wire (docs/sync.md): a tiny binary
//! framing — `FW`, protocol version, then the deflated body — so a catch-up
//! costs little more than the Automerge change bytes themselves. Decoding is
//! strict and bounded: a truncated, oversized or foreign body is an error,
//! never a panic or an unbounded allocation.

use flate2::Compression;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use std::io::{Read, Write};

pub const PROTOCOL: u8 = 1;
const MAGIC: &[u8; 2] = b"FW";
/// Largest body accepted after decompression.
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("not a Fieldwork sync message")]
    NotOurs,
    #[error("protocol version {0} is not supported (this build speaks {PROTOCOL})")]
    Version(u8),
    #[error("message truncated")]
    Truncated,
    #[error("message larger than {MAX_BODY_BYTES} bytes")]
    TooLarge,
    #[error("malformed message: {0}")]
    Malformed(&'static str),
}

/// A device's changes to one document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushDoc {
    pub doc_id: String,
    pub changes: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncRequest {
    /// Log position the device has pulled up to.
    pub cursor: i64,
    pub push: Vec<PushDoc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocResult {
    /// Durable on the server.
    Accepted,
    /// Refused as a whole (nothing of it stored), with the reason.
    Refused(String),
    /// Not stored, and not kept: the changes depend on these changes (hashes
    /// in hex), which the server does not hold. The device sends them too.
    MissingDependencies(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushResult {
    pub doc_id: String,
    pub result: DocResult,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PulledDoc {
    pub doc_id: String,
    /// The whole document (newly assigned) rather than changes since the cursor.
    pub whole: bool,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SyncResponse {
    pub cursor: i64,
    pub results: Vec<PushResult>,
    pub pulled: Vec<PulledDoc>,
    /// Orders no longer assigned to this device's engineer.
    pub removed: Vec<String>,
    /// More to pull: sync again at once.
    pub more: bool,
}

struct Out(Vec<u8>);

impl Out {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn i64(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u32(&mut self, v: usize) {
        self.0
            .extend_from_slice(&u32::try_from(v).unwrap_or(u32::MAX).to_le_bytes());
    }
    fn bytes(&mut self, b: &[u8]) {
        self.u32(b.len());
        self.0.extend_from_slice(b);
    }
    fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }
}

struct In<'a>(&'a [u8]);

impl<'a> In<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if self.0.len() < n {
            return Err(WireError::Truncated);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.take(1)?[0])
    }
    fn i64(&mut self) -> Result<i64, WireError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(i64::from_le_bytes(a))
    }
    fn u32(&mut self) -> Result<usize, WireError> {
        let b = self.take(4)?;
        let mut a = [0u8; 4];
        a.copy_from_slice(b);
        Ok(u32::from_le_bytes(a) as usize)
    }
    fn bytes(&mut self) -> Result<Vec<u8>, WireError> {
        let n = self.u32()?;
        Ok(self.take(n)?.to_vec())
    }
    fn str(&mut self) -> Result<String, WireError> {
        String::from_utf8(self.bytes()?).map_err(|_| WireError::Malformed("text is not UTF-8"))
    }
    /// A count of items that each take at least `min` bytes: bounded by what is left.
    fn count(&mut self, min: usize) -> Result<usize, WireError> {
        let n = self.u32()?;
        if n.saturating_mul(min) > self.0.len() {
            return Err(WireError::Truncated);
        }
        Ok(n)
    }
    fn end(&self) -> Result<(), WireError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(WireError::Malformed("trailing bytes"))
        }
    }
}

fn seal(body: Vec<u8>) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() / 2 + 8);
    out.extend_from_slice(MAGIC);
    out.push(PROTOCOL);
    let mut enc = DeflateEncoder::new(out, Compression::fast());
    // Writing to a Vec cannot fail.
    let _ = enc.write_all(&body);
    enc.finish().unwrap_or_default()
}

fn open(msg: &[u8]) -> Result<Vec<u8>, WireError> {
    if msg.len() < 3 || &msg[..2] != MAGIC {
        return Err(WireError::NotOurs);
    }
    if msg[2] != PROTOCOL {
        return Err(WireError::Version(msg[2]));
    }
    let mut body = Vec::new();
    DeflateDecoder::new(&msg[3..])
        .take(MAX_BODY_BYTES as u64 + 1)
        .read_to_end(&mut body)
        .map_err(|_| WireError::Malformed("bad compression"))?;
    if body.len() > MAX_BODY_BYTES {
        return Err(WireError::TooLarge);
    }
    Ok(body)
}

impl SyncRequest {
    pub fn encode(&self) -> Vec<u8> {
        let mut o = Out(Vec::new());
        o.i64(self.cursor);
        o.u32(self.push.len());
        for p in &self.push {
            o.str(&p.doc_id);
            o.bytes(&p.changes);
        }
        seal(o.0)
    }

    pub fn decode(msg: &[u8]) -> Result<SyncRequest, WireError> {
        let body = open(msg)?;
        let mut i = In(&body);
        let cursor = i.i64()?;
        let n = i.count(8)?;
        let mut push = Vec::with_capacity(n);
        for _ in 0..n {
            push.push(PushDoc {
                doc_id: i.str()?,
                changes: i.bytes()?,
            });
        }
        i.end()?;
        Ok(SyncRequest { cursor, push })
    }
}

impl SyncResponse {
    pub fn encode(&self) -> Vec<u8> {
        let mut o = Out(Vec::new());
        o.i64(self.cursor);
        o.u8(u8::from(self.more));
        o.u32(self.results.len());
        for r in &self.results {
            o.str(&r.doc_id);
            match &r.result {
                DocResult::Accepted => o.u8(0),
                DocResult::Refused(reason) => {
                    o.u8(1);
                    o.str(reason);
                }
                DocResult::MissingDependencies(hashes) => {
                    o.u8(2);
                    o.u32(hashes.len());
                    for h in hashes {
                        o.str(h);
                    }
                }
            }
        }
        o.u32(self.pulled.len());
        for p in &self.pulled {
            o.str(&p.doc_id);
            o.u8(u8::from(p.whole));
            o.bytes(&p.bytes);
        }
        o.u32(self.removed.len());
        for r in &self.removed {
            o.str(r);
        }
        seal(o.0)
    }

    pub fn decode(msg: &[u8]) -> Result<SyncResponse, WireError> {
        let body = open(msg)?;
        let mut i = In(&body);
        let cursor = i.i64()?;
        let more = i.u8()? != 0;
        let n = i.count(5)?;
        let mut results = Vec::with_capacity(n);
        for _ in 0..n {
            let doc_id = i.str()?;
            let result = match i.u8()? {
                0 => DocResult::Accepted,
                1 => DocResult::Refused(i.str()?),
                2 => {
                    let n = i.count(4)?;
                    let mut hashes = Vec::with_capacity(n);
                    for _ in 0..n {
                        hashes.push(i.str()?);
                    }
                    DocResult::MissingDependencies(hashes)
                }
                _ => return Err(WireError::Malformed("unknown result")),
            };
            results.push(PushResult { doc_id, result });
        }
        let n = i.count(9)?;
        let mut pulled = Vec::with_capacity(n);
        for _ in 0..n {
            pulled.push(PulledDoc {
                doc_id: i.str()?,
                whole: i.u8()? != 0,
                bytes: i.bytes()?,
            });
        }
        let n = i.count(4)?;
        let mut removed = Vec::with_capacity(n);
        for _ in 0..n {
            removed.push(i.str()?);
        }
        i.end()?;
        Ok(SyncResponse {
            cursor,
            results,
            pulled,
            removed,
            more,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip() {
        let req = SyncRequest {
            cursor: 42,
            push: vec![PushDoc {
                doc_id: "wo-1".into(),
                changes: vec![1, 2, 3],
            }],
        };
        assert_eq!(SyncRequest::decode(&req.encode()).unwrap(), req);
        let resp = SyncResponse {
            cursor: 7,
            results: vec![
                PushResult {
                    doc_id: "wo-1".into(),
                    result: DocResult::Accepted,
                },
                PushResult {
                    doc_id: "wo-2".into(),
                    result: DocResult::Refused("field caps".into()),
                },
                PushResult {
                    doc_id: "wo-3".into(),
                    result: DocResult::MissingDependencies(vec!["ab".repeat(32)]),
                },
            ],
            pulled: vec![PulledDoc {
                doc_id: "wo-3".into(),
                whole: true,
                bytes: vec![9; 100],
            }],
            removed: vec!["wo-4".into()],
            more: true,
        };
        assert_eq!(SyncResponse::decode(&resp.encode()).unwrap(), resp);
    }

    #[test]
    fn bad_messages_are_errors() {
        let good = SyncRequest {
            cursor: 1,
            push: vec![PushDoc {
                doc_id: "wo-1".into(),
                changes: vec![1; 50],
            }],
        }
        .encode();
        assert_eq!(SyncRequest::decode(b"GET /"), Err(WireError::NotOurs));
        let mut v2 = good.clone();
        v2[2] = 9;
        assert_eq!(SyncRequest::decode(&v2), Err(WireError::Version(9)));
        for cut in 3..good.len() {
            assert!(SyncRequest::decode(&good[..cut]).is_err(), "cut at {cut}");
        }
        // A body claiming a billion documents is refused without allocating for them.
        let mut o = Out(Vec::new());
        o.i64(0);
        o.u32(1_000_000_000);
        assert_eq!(SyncRequest::decode(&seal(o.0)), Err(WireError::Truncated));
    }
}
