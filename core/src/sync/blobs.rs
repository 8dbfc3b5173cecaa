//! Photos on the wire (docs/sync.md, "Blobs"): the phone's upload queue and
//! its lazy downloads. A blob goes after the changes that refer to it, in
//! chunks, resuming from what the server says it holds, so a cut connection
//! or a killed app costs at most the chunk in flight. The server checks the
//! SHA-256 before the blob counts. Downloads happen only when the app asks.

use super::client::{SyncClient, SyncError, SyncEvent, SyncSummary};
use crate::blobs::BlobError;
use crate::store::photos::PendingBlob;
use std::io::Read;
use std::path::PathBuf;

/// Bytes per upload request: the protocol allows 256 KiB to 1 MiB.
pub const UPLOAD_CHUNK: usize = 1024 * 1024;
/// Largest chunk the server takes.
pub const MAX_UPLOAD_CHUNK: usize = 1024 * 1024;
/// Smallest chunk a client should send (except a blob's last).
pub const MIN_UPLOAD_CHUNK: usize = 256 * 1024;

/// What the server holds of one blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    pub have: u64,
    pub complete: bool,
}

fn net(e: reqwest::Error) -> SyncError {
    SyncError::Network(e.without_url().to_string())
}

/// The server's answer about a blob, read from its JSON.
fn held_of(bytes: &[u8]) -> Option<Held> {
    let v: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    Some(Held {
        have: v["have"].as_u64()?,
        complete: v["complete"].as_bool().unwrap_or(false),
    })
}

fn error_of(bytes: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(bytes)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_string))
        .unwrap_or_else(|| "refused".into())
}

enum Sent {
    Done,
    /// The server does not take it now (no order it holds refers to it yet).
    NotNow,
    Refused(String),
}

impl SyncClient {
    fn blob_url(&self, hash: &str) -> String {
        format!("{}/v1/blobs/{hash}", self.url)
    }

    /// Send every photo waiting, one after another; progress goes to the
    /// listener. A network failure stops the queue (the thread retries with
    /// backoff); a refused blob is reported and left.
    pub(super) fn upload_blobs(&self, summary: &mut SyncSummary) -> Result<(), SyncError> {
        let pending = self.fw.pending_uploads()?;
        let mut waiting = pending.len() as u64;
        for blob in &pending {
            if !self.is_online() {
                return Err(SyncError::Offline);
            }
            match self.upload_one(blob, waiting, summary)? {
                Sent::Done => {
                    summary.blobs_uploaded += 1;
                    self.fw.mark_uploaded(&blob.hash)?;
                }
                Sent::NotNow => {}
                Sent::Refused(reason) => {
                    // Bytes that cannot become this blob: sending them again
                    // would fail again. Kept on the phone, marked as done.
                    self.fw.mark_uploaded(&blob.hash)?;
                    self.listener.on_event(SyncEvent::UploadRefused {
                        hash: blob.hash.clone(),
                        reason,
                    });
                }
            }
            waiting -= 1;
        }
        Ok(())
    }

    /// Send the photos waiting now, without a push-and-pull round first:
    /// those whose orders' changes the server has acknowledged (what
    /// `sync_now` does after its rounds). For an app that sends photos only
    /// on Wi-Fi, say, while changes go on any network.
    pub fn send_photos(&self) -> Result<SyncSummary, SyncError> {
        if !self.is_online() {
            return Err(SyncError::Offline);
        }
        let _one = self.round.lock().unwrap_or_else(|p| p.into_inner());
        let started = std::time::Instant::now();
        let mut summary = SyncSummary::default();
        self.upload_blobs(&mut summary)?;
        summary.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        Ok(summary)
    }

    /// What the server holds of `hash` (`None`: it will not take it now).
    pub fn blob_held(&self, hash: &str) -> Result<Option<Held>, SyncError> {
        let r = self
            .http
            .get(format!("{}/upload", self.blob_url(hash)))
            .bearer_auth(&self.token)
            .send()
            .map_err(net)?;
        let status = r.status().as_u16();
        let body = r.bytes().map_err(net)?;
        match status {
            200 => held_of(&body).map(Some).ok_or(SyncError::Protocol(
                super::wire::WireError::Malformed("blob status without have"),
            )),
            401 => Err(SyncError::Unauthorized),
            403 | 404 => Ok(None),
            status => Err(SyncError::Server { status }),
        }
    }

    fn upload_one(
        &self,
        blob: &PendingBlob,
        waiting: u64,
        summary: &mut SyncSummary,
    ) -> Result<Sent, SyncError> {
        let blobs = self.fw.blobs()?;
        let io = |e: std::io::Error| {
            SyncError::Store(crate::store::StoreError::Blobs(e.to_string()).into())
        };
        let total = match blobs.open(&blob.hash, 0) {
            Ok(Some(r)) => r.len(),
            // The bytes are gone from this phone: nothing to send, ever.
            Ok(None) => return Ok(Sent::Refused("the photo's file is missing".into())),
            Err(e) => return Err(io(e)),
        };
        let Some(mut held) = self.blob_held(&blob.hash)? else {
            return Ok(Sent::NotNow);
        };
        let mut conflicts = 0;
        while !held.complete {
            if !self.is_online() {
                return Err(SyncError::Offline);
            }
            if held.have > total {
                return Ok(Sent::Refused("the server holds more than the photo".into()));
            }
            let Some(mut file) = blobs.open(&blob.hash, held.have).map_err(io)? else {
                return Ok(Sent::Refused("the photo's file is missing".into()));
            };
            // A fresh buffer per chunk, handed to the request without a copy.
            let mut buf = vec![0u8; UPLOAD_CHUNK];
            let mut n = 0;
            while n < buf.len() {
                let got = file.read(&mut buf[n..]).map_err(io)?;
                if got == 0 {
                    break;
                }
                n += got;
            }
            let r = self
                .http
                .put(format!(
                    "{}/upload?offset={}",
                    self.blob_url(&blob.hash),
                    held.have
                ))
                .bearer_auth(&self.token)
                .header("content-type", "application/octet-stream")
                .body({
                    buf.truncate(n);
                    buf
                })
                .send()
                .map_err(net)?;
            summary.blob_bytes_up += n as u64;
            let status = r.status().as_u16();
            let body = r.bytes().map_err(net)?;
            match status {
                // 409: the server holds a different amount (another attempt
                // got further, or is under way): carry on from there, after a
                // pause if it is still being sent.
                409 => {
                    held = held_of(&body).ok_or(SyncError::Protocol(
                        super::wire::WireError::Malformed("blob answer without have"),
                    ))?;
                    // Another phone sending the same photo right now: leave
                    // it to them, and look again at the next sync.
                    conflicts += 1;
                    if conflicts >= 3 {
                        return Ok(Sent::NotNow);
                    }
                    std::thread::sleep(std::time::Duration::from_millis(200));
                    continue;
                }
                200 => {
                    conflicts = 0;
                    held = held_of(&body).ok_or(SyncError::Protocol(
                        super::wire::WireError::Malformed("blob answer without have"),
                    ))?;
                }
                401 => return Err(SyncError::Unauthorized),
                403 | 404 => return Ok(Sent::NotNow),
                413 | 415 | 422 => return Ok(Sent::Refused(error_of(&body))),
                status => return Err(SyncError::Server { status }),
            }
            self.listener.on_event(SyncEvent::Upload {
                hash: blob.hash.clone(),
                sent: held.have.min(total),
                total,
                waiting,
            });
        }
        Ok(Sent::Done)
    }

    /// The file of photo `photo_id` of order `order_id`, fetched from the
    /// server first if this phone does not hold it. The server gives it only
    /// to an engineer the order is assigned to; the bytes are checked
    /// against their hash before they are kept.
    pub fn fetch_photo(&self, order_id: &str, photo_id: &str) -> Result<PathBuf, SyncError> {
        if let Some(p) = self.fw.photo_file(order_id, photo_id)? {
            return Ok(p);
        }
        if !self.is_online() {
            return Err(SyncError::Offline);
        }
        let hash = self.fw.photo_hash(order_id, photo_id)?;
        let blobs = self.fw.blobs()?;
        let mut r = self
            .http
            .get(self.blob_url(&hash))
            .bearer_auth(&self.token)
            .send()
            .map_err(net)?;
        match r.status().as_u16() {
            200 => {}
            401 => return Err(SyncError::Unauthorized),
            status => return Err(SyncError::Server { status }),
        }
        let store_err =
            |e: BlobError| SyncError::Store(crate::store::StoreError::Blobs(e.to_string()).into());
        let mut w = blobs.writer().map_err(store_err)?;
        let mut buf = vec![0u8; crate::blobs::COPY_CHUNK];
        loop {
            let n = match r.read(&mut buf) {
                Ok(n) => n,
                Err(e) => {
                    w.abandon();
                    return Err(SyncError::Network(e.to_string()));
                }
            };
            if n == 0 {
                break;
            }
            if let Err(e) = std::io::Write::write_all(&mut w, &buf[..n]) {
                w.abandon();
                return Err(store_err(e.into()));
            }
        }
        w.finish(Some(&hash)).map_err(|e| match e {
            BlobError::HashMismatch => SyncError::Protocol(super::wire::WireError::Malformed(
                "the photo's bytes do not match its hash",
            )),
            other => store_err(other),
        })?;
        self.fw.mark_uploaded(&hash)?;
        blobs
            .path(&hash)
            .ok_or(SyncError::Protocol(super::wire::WireError::Malformed(
                "not a blob hash",
            )))
    }
}
