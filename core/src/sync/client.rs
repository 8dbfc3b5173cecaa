//! The device's sync client. One round trip pushes the outbox and pulls what
//! the server has for this device since its cursor; `sync_now` repeats rounds
//! until both sides are level. A background thread runs rounds while the app
//! says it is online, backing off with jitter after failures, and tells a
//! listener about status, progress, refusals and changed orders.
//!
//! Crash safety: pulled changes are imported (durably) before the cursor
//! moves, and outbox entries are deleted only after the server acknowledged
//! them; a crash at any point repeats work the server and the store both
//! recognise as already done.

use super::wire::{DocResult, PushDoc, SyncRequest, SyncResponse, WireError};
use crate::api::{Error as CoreError, Fieldwork};
use crate::store::log::LoggedChange;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Most outbox bytes pushed in one round.
const PUSH_BYTES: usize = 512 * 1024;
/// Most rounds in one `sync_now`, so a server that always says "more" cannot hold a device forever.
const MAX_ROUNDS: u32 = 1_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncStatus {
    Offline,
    Idle,
    Syncing,
    /// The last attempt failed; the next one is in `in_ms`.
    Retrying {
        attempt: u32,
        in_ms: u64,
    },
    /// The token was refused: enrol the device again.
    Unauthorized,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncEvent {
    Status(SyncStatus),
    /// Pulling: `done` of at least `total` known changes and documents.
    Progress {
        done: u64,
        total: u64,
    },
    /// The server refused a document's changes; they left the outbox for the
    /// quarantine ([`Fieldwork::quarantined`]).
    Refused {
        doc_id: String,
        reason: String,
    },
    /// Orders that changed or left this device.
    OrdersChanged {
        ids: Vec<String>,
    },
    /// Sending a photo: `sent` of `total` bytes of blob `hash` are on the
    /// server; `waiting` photos (this one included) are still to go.
    Upload {
        hash: String,
        sent: u64,
        total: u64,
        waiting: u64,
    },
    /// The server refused a photo's bytes (they do not match their hash, or
    /// are not a photo); it is not sent again.
    UploadRefused {
        hash: String,
        reason: String,
    },
}

/// Told about sync as it happens; called from the sync thread.
pub trait SyncListener: Send + Sync {
    fn on_event(&self, event: SyncEvent);
}

/// A listener that ignores everything.
#[derive(Debug, Default)]
pub struct NoListener;

impl SyncListener for NoListener {
    fn on_event(&self, _: SyncEvent) {}
}

/// What one `sync_now` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncSummary {
    pub pushed_changes: u64,
    pub refused_docs: u64,
    pub pulled_changes: u64,
    pub pulled_docs: u64,
    pub removed_docs: u64,
    pub bytes_up: u64,
    pub bytes_down: u64,
    /// Photos the server now holds whole, and the bytes sent for them.
    pub blobs_uploaded: u64,
    pub blob_bytes_up: u64,
    pub round_trips: u32,
    pub duration_ms: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("offline")]
    Offline,
    #[error("the server refused the device's token")]
    Unauthorized,
    #[error("the server could not be reached: {0}")]
    Network(String),
    #[error("the server answered {status}")]
    Server { status: u16 },
    #[error("the server's answer was not understood: {0}")]
    Protocol(#[from] WireError),
    #[error("enrolment refused: {0}")]
    EnrolmentRefused(String),
    #[error(transparent)]
    Store(#[from] CoreError),
}

impl SyncError {
    /// Worth trying again later without the user doing anything.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            SyncError::Network(_) | SyncError::Server { .. } | SyncError::Protocol(_)
        )
    }
}

/// Backoff after failures: exponential from `base`, capped, with full jitter.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_millis(500),
            max: Duration::from_secs(300),
        }
    }
}

impl Backoff {
    /// The wait before attempt `attempt` (1-based), uniformly in [cap/2, cap].
    pub fn delay(&self, attempt: u32) -> Duration {
        let cap = self
            .base
            .saturating_mul(
                1u32.checked_shl(attempt.saturating_sub(1).min(20))
                    .unwrap_or(u32::MAX),
            )
            .min(self.max);
        let half = cap / 2;
        let jitter = half.mul_f64(rand::random::<f64>());
        half + jitter
    }
}

#[derive(Debug)]
struct Shared {
    online: bool,
    wake: bool,
    stop: bool,
}

/// A device's connection to its server. Share it in an `Arc`.
pub struct SyncClient {
    pub(super) fw: Arc<Fieldwork>,
    pub(super) http: reqwest::blocking::Client,
    pub(super) url: String,
    pub(super) token: String,
    pub(super) listener: Arc<dyn SyncListener>,
    backoff: Backoff,
    interval: Duration,
    shared: Mutex<Shared>,
    signal: Condvar,
    /// One round at a time, whether from `sync_now` or the thread.
    pub(super) round: Mutex<()>,
    running: AtomicBool,
    /// Send photos after each round (the app may say no on a metered network).
    photos: AtomicBool,
}

impl std::fmt::Debug for SyncClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncClient")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// TLS with rustls and ring (no OpenSSL: it cross-compiles for Android and
/// iOS) and the Mozilla root certificates.
fn tls_config() -> Result<rustls::ClientConfig, SyncError> {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| SyncError::Network(format!("TLS setup: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// The HTTP client Fieldwork uses: rustls with ring, Mozilla roots, timeouts.
/// (A plain `reqwest` client would have no TLS provider in this build.)
pub fn http_client() -> Result<reqwest::blocking::Client, SyncError> {
    http_client_builder()?
        .build()
        .map_err(|e| SyncError::Network(e.to_string()))
}

/// [`http_client`]'s settings, to add to before building.
pub fn http_client_builder() -> Result<reqwest::blocking::ClientBuilder, SyncError> {
    Ok(reqwest::blocking::Client::builder()
        .use_preconfigured_tls(tls_config()?)
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60)))
}

/// Who the server says an enrolled device belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolment {
    /// The device's bearer token: keep it in the platform's secure storage.
    pub token: String,
    pub tenant: String,
    pub engineer: String,
}

/// Trade a one-time enrolment code (from the dispatcher) for this device's
/// token. The code is used up by the server whether or not the app keeps the
/// token.
pub fn enrol(fw: &Fieldwork, server_url: &str, code: &str) -> Result<Enrolment, SyncError> {
    let url = format!("{}/v1/enrol", server_url.trim_end_matches('/'));
    let mut body = serde_json::json!({ "code": code, "device_id": fw.device_id() });
    // The device key, pinned by the server: what this phone signs from now
    // on is verified against it.
    if let Some((public_key, backing)) = fw.device_key()? {
        body["public_key"] = crate::blobs::hex(&public_key).into();
        body["key_backing"] = backing.as_str().into();
    }
    let body = body.to_string();
    let response = http_client()?
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .map_err(|e| SyncError::Network(e.without_url().to_string()))?;
    let status = response.status().as_u16();
    let bytes = response
        .bytes()
        .map_err(|e| SyncError::Network(e.without_url().to_string()))?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    let text = |k: &str| v[k].as_str().map(str::to_string);
    match (status, text("token"), text("tenant"), text("engineer")) {
        (200, Some(token), Some(tenant), Some(engineer)) => Ok(Enrolment {
            token,
            tenant,
            engineer,
        }),
        (401 | 422, ..) => Err(SyncError::EnrolmentRefused(
            text("error").unwrap_or_else(|| "the code is unknown or used".into()),
        )),
        (200, ..) => Err(SyncError::Protocol(WireError::Malformed(
            "enrolment answer without token, tenant and engineer",
        ))),
        (status, ..) => Err(SyncError::Server { status }),
    }
}

impl SyncClient {
    /// A client for `server_url` (`http://` or `https://`, no trailing path)
    /// with the device's bearer token.
    pub fn new(
        fw: Arc<Fieldwork>,
        server_url: &str,
        token: &str,
        listener: Arc<dyn SyncListener>,
    ) -> Result<Arc<SyncClient>, SyncError> {
        let http = http_client()?;
        Ok(Arc::new(SyncClient {
            fw,
            http,
            url: server_url.trim_end_matches('/').to_string(),
            token: token.to_string(),
            listener,
            backoff: Backoff::default(),
            interval: Duration::from_secs(30),
            shared: Mutex::new(Shared {
                online: false,
                wake: false,
                stop: false,
            }),
            signal: Condvar::new(),
            round: Mutex::new(()),
            running: AtomicBool::new(false),
            photos: AtomicBool::new(true),
        }))
    }

    fn shared(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The app says whether the network is there. Going online syncs at once.
    pub fn set_online(&self, online: bool) {
        let mut s = self.shared();
        s.online = online;
        s.wake = online;
        drop(s);
        if !online {
            self.listener
                .on_event(SyncEvent::Status(SyncStatus::Offline));
        }
        self.signal.notify_all();
    }

    pub fn is_online(&self) -> bool {
        self.shared().online
    }

    /// Whether photos go with every sync (the default) or wait for
    /// [`SyncClient::send_photos`] — say, while the phone is on a metered
    /// network. Changes sync either way.
    pub fn set_send_photos(&self, send: bool) {
        self.photos.store(send, Ordering::SeqCst);
    }

    /// Ask the background thread to sync soon (after a local change).
    pub fn poke(&self) {
        self.shared().wake = true;
        self.signal.notify_all();
    }

    /// Start the background thread (once). It stops when [`SyncClient::stop`] is called.
    pub fn start(self: &Arc<Self>) -> Option<std::thread::JoinHandle<()>> {
        if self.running.swap(true, Ordering::SeqCst) {
            return None;
        }
        let me = Arc::clone(self);
        std::thread::Builder::new()
            .name("fieldwork-sync".into())
            .spawn(move || me.run())
            .ok()
    }

    pub fn stop(&self) {
        self.shared().stop = true;
        self.signal.notify_all();
    }

    fn run(&self) {
        let mut attempt = 0u32;
        let mut wait = Duration::ZERO;
        loop {
            {
                let mut s = self.shared();
                let deadline = Instant::now() + wait;
                while !s.stop && !(s.online && (s.wake || Instant::now() >= deadline)) {
                    let left = if s.online {
                        deadline.saturating_duration_since(Instant::now())
                    } else {
                        Duration::from_secs(3600)
                    };
                    s = self
                        .signal
                        .wait_timeout(s, left)
                        .map(|(g, _)| g)
                        .unwrap_or_else(|p| p.into_inner().0);
                }
                if s.stop {
                    self.running.store(false, Ordering::SeqCst);
                    return;
                }
                s.wake = false;
            }
            match self.sync_now() {
                Ok(_) => {
                    attempt = 0;
                    wait = self.interval;
                }
                Err(e) if e.is_retryable() => {
                    attempt += 1;
                    wait = self.backoff.delay(attempt);
                    self.listener
                        .on_event(SyncEvent::Status(SyncStatus::Retrying {
                            attempt,
                            in_ms: u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                        }));
                }
                Err(_) => {
                    // Offline, unauthorized or a local storage error: wait for the app.
                    wait = self.interval;
                }
            }
        }
    }

    /// Push and pull until level; returns what moved.
    pub fn sync_now(&self) -> Result<SyncSummary, SyncError> {
        if !self.is_online() {
            return Err(SyncError::Offline);
        }
        let _one = self.round.lock().unwrap_or_else(|p| p.into_inner());
        let started = Instant::now();
        self.listener
            .on_event(SyncEvent::Status(SyncStatus::Syncing));
        let mut summary = SyncSummary::default();
        let result = (|| {
            for round in 0..MAX_ROUNDS {
                // Going offline stops a sync between rounds, not only before it.
                if round > 0 && !self.is_online() {
                    return Err(SyncError::Offline);
                }
                let more = self.round_trip(&mut summary)?;
                if !more && self.fw.pending_changes()? == 0 {
                    break;
                }
            }
            // Photos go after the changes that refer to them: the server
            // takes a blob only for an order it holds.
            if self.photos.load(Ordering::SeqCst) {
                self.upload_blobs(&mut summary)?;
            }
            // Photos this phone no longer needs (removed, or on orders that
            // left it) free their space once the server has them.
            self.fw.collect_blobs()?;
            Ok(())
        })();
        summary.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match &result {
            Ok(()) => self.listener.on_event(SyncEvent::Status(SyncStatus::Idle)),
            Err(SyncError::Unauthorized) => self
                .listener
                .on_event(SyncEvent::Status(SyncStatus::Unauthorized)),
            Err(_) => {}
        }
        result.map(|()| summary)
    }

    /// One request and its response. Returns whether the server has more.
    fn round_trip(&self, summary: &mut SyncSummary) -> Result<bool, SyncError> {
        let outbox = self.fw.outbox(PUSH_BYTES)?;
        let mut by_doc: BTreeMap<String, (Vec<u8>, Vec<LoggedChange>)> = BTreeMap::new();
        for c in outbox {
            let e = by_doc.entry(c.doc_id.clone()).or_default();
            e.0.extend_from_slice(&c.bytes);
            e.1.push(c);
        }
        let cursor = self.fw.sync_cursor()?;
        let request = SyncRequest {
            cursor,
            push: by_doc
                .iter()
                .map(|(doc_id, (bytes, _))| PushDoc {
                    doc_id: doc_id.clone(),
                    changes: bytes.clone(),
                })
                .collect(),
        };
        let body = request.encode();
        summary.bytes_up += body.len() as u64;
        let response = self
            .http
            .post(format!("{}/v1/sync", self.url))
            .bearer_auth(&self.token)
            .header("content-type", "application/x-fieldwork-sync")
            .body(body)
            .send()
            .map_err(|e| SyncError::Network(e.without_url().to_string()))?;
        let status = response.status().as_u16();
        let bytes = response
            .bytes()
            .map_err(|e| SyncError::Network(e.without_url().to_string()))?;
        summary.bytes_down += bytes.len() as u64;
        summary.round_trips += 1;
        match status {
            200 | 403 => {}
            401 => return Err(SyncError::Unauthorized),
            400 => {
                // The server names a document whose changes it cannot parse:
                // they can never be accepted, so they leave the outbox and the
                // app is told; the rest goes next round.
                let named = serde_json::from_slice::<serde_json::Value>(&bytes)
                    .ok()
                    .and_then(|v| {
                        Some((
                            v["doc_id"].as_str()?.to_string(),
                            v["error"].as_str()?.to_string(),
                        ))
                    });
                if let Some((doc_id, reason)) = named
                    && let Some((_, entries)) = by_doc.get(&doc_id)
                {
                    self.refused(&doc_id, entries, &reason, summary)?;
                    return Ok(true);
                }
                return Err(SyncError::Server { status });
            }
            _ => return Err(SyncError::Server { status }),
        }
        let resp = SyncResponse::decode(&bytes)?;
        // Acknowledged: out of the outbox. Refused: into the quarantine.
        // Missing what they depend on: sent again with it, or quarantined
        // if it was refused or is held nowhere.
        let mut done = Vec::new();
        for r in &resp.results {
            let Some((_, entries)) = by_doc.get(&r.doc_id) else {
                continue;
            };
            match &r.result {
                DocResult::Accepted => {
                    done.extend(entries.iter().map(|e| e.seq));
                    summary.pushed_changes += entries.len() as u64;
                }
                DocResult::Refused(reason) => self.refused(&r.doc_id, entries, reason, summary)?,
                DocResult::MissingDependencies(missing) => {
                    let outcome = self.fw.resolve_missing(&r.doc_id, entries, missing)?;
                    if outcome.quarantined > 0 {
                        summary.refused_docs += 1;
                        self.after_refusal(&r.doc_id)?;
                        self.listener.on_event(SyncEvent::Refused {
                            doc_id: r.doc_id.clone(),
                            reason: format!(
                                "{} change(s) depend on changes the server does not hold and this device cannot send",
                                outcome.quarantined
                            ),
                        });
                    }
                }
            }
        }
        self.fw.acknowledge(&done)?;
        if status == 403 {
            // Only refusals came back; the rest of the outbox goes next round.
            return Ok(true);
        }
        let total = resp.pulled.len() as u64;
        let mut changed = Vec::new();
        for (n, p) in resp.pulled.iter().enumerate() {
            let outcome = self.fw.import_changes(&p.doc_id, &p.bytes)?;
            summary.pulled_docs += u64::from(p.whole);
            summary.pulled_changes += 1;
            if outcome.changed {
                changed.push(p.doc_id.clone());
            }
            if total > 20 && (n % 20 == 0 || n + 1 == resp.pulled.len()) {
                self.listener.on_event(SyncEvent::Progress {
                    done: n as u64 + 1,
                    total,
                });
            }
        }
        for doc_id in &resp.removed {
            if self.fw.forget_if_synced(doc_id)? {
                summary.removed_docs += 1;
                changed.push(doc_id.clone());
            }
        }
        // Only now, with everything imported, does the cursor move.
        self.fw.set_sync_cursor(resp.cursor)?;
        changed.extend(self.refetch()?);
        if !changed.is_empty() {
            changed.sort();
            changed.dedup();
            self.listener
                .on_event(SyncEvent::OrdersChanged { ids: changed });
        }
        Ok(resp.more)
    }
}

impl SyncClient {
    /// The server refused `entries` of `doc_id`: they move to the
    /// quarantine, the app is told, and the copy is re-fetched.
    fn refused(
        &self,
        doc_id: &str,
        entries: &[LoggedChange],
        reason: &str,
        summary: &mut SyncSummary,
    ) -> Result<(), SyncError> {
        self.fw.quarantine_outbox(entries, reason)?;
        summary.refused_docs += 1;
        self.after_refusal(doc_id)?;
        self.listener.on_event(SyncEvent::Refused {
            doc_id: doc_id.to_string(),
            reason: reason.to_string(),
        });
        Ok(())
    }

    /// This copy holds what the server refused: fetch the server's.
    fn after_refusal(&self, doc_id: &str) -> Result<(), SyncError> {
        if crate::store::DocKind::of_id(doc_id) == Some(crate::store::DocKind::WorkOrder) {
            self.fw.set_refetch(doc_id, true)?;
        }
        Ok(())
    }

    /// Replace the copies marked after a refusal with the server's; returns
    /// the orders that changed. An order the server no longer gives this
    /// engineer is left to the pull's removals.
    fn refetch(&self) -> Result<Vec<String>, SyncError> {
        let mut changed = Vec::new();
        for doc_id in self.fw.refetch_pending()? {
            let response = self
                .http
                .get(format!("{}/v1/docs/{doc_id}", self.url))
                .bearer_auth(&self.token)
                .send()
                .map_err(|e| SyncError::Network(e.without_url().to_string()))?;
            match response.status().as_u16() {
                200 => {
                    let bytes = response
                        .bytes()
                        .map_err(|e| SyncError::Network(e.without_url().to_string()))?;
                    if self.fw.replace_with_server_copy(&doc_id, &bytes)? {
                        changed.push(doc_id);
                    }
                }
                401 => return Err(SyncError::Unauthorized),
                403 | 404 => self.fw.set_refetch(&doc_id, false)?,
                status => return Err(SyncError::Server { status }),
            }
        }
        Ok(changed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_exponentially_to_its_cap_with_jitter() {
        let b = Backoff {
            base: Duration::from_millis(100),
            max: Duration::from_secs(10),
        };
        for attempt in 1..30 {
            let cap = Duration::from_millis(100 * (1u64 << (attempt - 1).min(20)))
                .min(Duration::from_secs(10));
            let d = b.delay(attempt);
            assert!(
                d >= cap / 2 && d <= cap,
                "attempt {attempt}: {d:?} not in [{:?}, {cap:?}]",
                cap / 2
            );
        }
    }
}
