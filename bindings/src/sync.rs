//! Enrolment and the sync session, with the app's listener.

use crate::error::{FieldworkError, guard};
use crate::fieldwork::Fieldwork;
use fieldwork_core::sync::client::{self, SyncClient, SyncStatus, SyncSummary};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

type Result<T> = std::result::Result<T, FieldworkError>;

/// What the server said about an enrolled device.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Enrolment {
    /// The device's token: keep it in the Keystore / Keychain and pass it to
    /// [`SyncSession`].
    pub token: String,
    pub tenant: String,
    pub engineer: String,
}

/// Trade the one-time code a dispatcher issued for this device's token.
#[uniffi::export]
pub fn enrol(fieldwork: Arc<Fieldwork>, server_url: String, code: String) -> Result<Enrolment> {
    guard(|| {
        let e = client::enrol(&fieldwork.core, &server_url, &code)?;
        Ok(Enrolment {
            token: e.token,
            tenant: e.tenant,
            engineer: e.engineer,
        })
    })
}

/// Something the sync thread wants the app to know.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum SyncEvent {
    Status {
        status: SyncStatus,
    },
    /// Pulling orders: `done` of at least `total`.
    Progress {
        done: u64,
        total: u64,
    },
    /// The server refused a document's changes; they were dropped from the
    /// outbox so that the rest can go. `reason` says why.
    Refused {
        doc_id: String,
        reason: String,
    },
    /// These orders changed or left this device: refresh what shows them.
    OrdersChanged {
        ids: Vec<String>,
    },
    /// Sending a photo: `sent` of `total` bytes of blob `hash` are on the
    /// server; `waiting` photos, this one included, are still to go.
    Upload {
        hash: String,
        sent: u64,
        total: u64,
        waiting: u64,
    },
    /// The server refused a photo's bytes; it is not sent again.
    UploadRefused {
        hash: String,
        reason: String,
    },
}

impl From<client::SyncEvent> for SyncEvent {
    fn from(e: client::SyncEvent) -> Self {
        match e {
            client::SyncEvent::Status(status) => SyncEvent::Status { status },
            client::SyncEvent::Progress { done, total } => SyncEvent::Progress { done, total },
            client::SyncEvent::Refused { doc_id, reason } => SyncEvent::Refused { doc_id, reason },
            client::SyncEvent::OrdersChanged { ids } => SyncEvent::OrdersChanged { ids },
            client::SyncEvent::Upload {
                hash,
                sent,
                total,
                waiting,
            } => SyncEvent::Upload {
                hash,
                sent,
                total,
                waiting,
            },
            client::SyncEvent::UploadRefused { hash, reason } => {
                SyncEvent::UploadRefused { hash, reason }
            }
        }
    }
}

/// Implemented by the app to hear about sync. Called on the sync thread (or
/// on the thread calling `sync_now`): hop to the UI thread yourself, and
/// return quickly.
#[uniffi::export(foreign)]
pub trait SyncListener: Send + Sync {
    fn on_event(&self, event: SyncEvent);
}

/// Hands the core's events to the app's listener. A listener that throws
/// cannot take the sync thread down with it.
struct Relay(Arc<dyn SyncListener>);

impl client::SyncListener for Relay {
    fn on_event(&self, event: client::SyncEvent) {
        let listener = &self.0;
        let _ = catch_unwind(AssertUnwindSafe(|| listener.on_event(event.into())));
    }
}

/// The device's connection to its server: a background thread that syncs
/// while the app says it is online, backs off with jitter after failures and
/// tells the listener what happens. Stops when dropped or on `stop()`.
#[derive(Debug, uniffi::Object)]
pub struct SyncSession {
    pub(crate) client: Arc<SyncClient>,
}

#[uniffi::export]
impl SyncSession {
    #[uniffi::constructor]
    pub fn new(
        fieldwork: Arc<Fieldwork>,
        server_url: String,
        token: String,
        listener: Arc<dyn SyncListener>,
    ) -> Result<Arc<SyncSession>> {
        guard(|| {
            let client = SyncClient::new(
                Arc::clone(&fieldwork.core),
                &server_url,
                &token,
                Arc::new(Relay(listener)),
            )?;
            Ok(Arc::new(SyncSession { client }))
        })
    }

    /// Start the background thread (a second call does nothing).
    pub fn start(&self) {
        let _ = self.client.start();
    }

    pub fn stop(&self) {
        self.client.stop();
    }

    /// Tell Fieldwork whether the network is there (from the platform's
    /// connectivity callback). Going online syncs at once.
    pub fn set_online(&self, online: bool) {
        self.client.set_online(online);
    }

    pub fn is_online(&self) -> bool {
        self.client.is_online()
    }

    /// Sync soon: call after a local change.
    pub fn poke(&self) {
        self.client.poke();
    }

    /// Push and pull until level, on the calling thread; returns what moved.
    pub fn sync_now(&self) -> Result<SyncSummary> {
        guard(|| Ok(self.client.sync_now()?))
    }
}

impl Drop for SyncSession {
    fn drop(&mut self) {
        self.client.stop();
    }
}
