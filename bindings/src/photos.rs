//! Photos and documents on an order: attach a file the app has written (a
//! camera capture, a scanned proof of purchase), remove one, read a photo's
//! file (fetched from the server when this phone does not hold it), and how
//! many are still to be sent. Uploads run in the sync session's background
//! queue; its listener hears `SyncEvent::Upload` as they go.

use crate::error::{FieldworkError, guard};
use crate::fieldwork::Fieldwork;
use crate::sync::SyncSession;
use fieldwork_core::api::BlobsWaiting;
use fieldwork_core::model::{MediaType, Photo, PhotoKind, PhotoRemoval};

type Result<T> = std::result::Result<T, FieldworkError>;

#[uniffi::remote(Enum)]
pub enum PhotoKind {
    Fault,
    SerialPlate,
    ProofOfPurchase,
    Part,
    CompletedWork,
    Other,
}

#[uniffi::remote(Enum)]
pub enum MediaType {
    Jpeg,
    Png,
    Heic,
    Webp,
    Pdf,
}

#[uniffi::remote(Record)]
pub struct PhotoRemoval {
    pub by: String,
    pub at_ms: i64,
}

#[uniffi::remote(Record)]
pub struct Photo {
    pub id: String,
    pub hash: String,
    pub size: i64,
    pub media_type: MediaType,
    pub kind: PhotoKind,
    pub caption: Option<String>,
    pub by: String,
    pub device: String,
    pub at_ms: i64,
    pub removed: Option<PhotoRemoval>,
}

#[uniffi::remote(Record)]
pub struct BlobsWaiting {
    pub count: u64,
    pub bytes: u64,
}

#[uniffi::export]
impl Fieldwork {
    /// Attach the file at `path` to order `id`. It is copied into the store
    /// (so the app may delete its own copy once this returns) and sent when
    /// the network allows. A file over the service center's size limit, or
    /// not a JPEG, PNG, HEIC, WebP or PDF, is refused with `Invalid` before
    /// anything is copied.
    pub fn attach_photo(
        &self,
        id: String,
        path: String,
        kind: PhotoKind,
        caption: Option<String>,
    ) -> Result<Photo> {
        guard(|| {
            Ok(self.core.attach_photo(
                &id,
                std::path::Path::new(&path),
                kind,
                caption.as_deref(),
            )?)
        })
    }

    /// Remove photo `photo_id` from order `id` (the order keeps that it was
    /// removed, and by whom).
    pub fn remove_photo(&self, id: String, photo_id: String) -> Result<()> {
        guard(|| Ok(self.core.remove_photo(&id, &photo_id)?))
    }

    /// The photo's bytes, to show, if this phone holds them (checked
    /// against their hash; unsealed on an encrypted store); `None` means
    /// fetch it with `SyncSession.fetch_photo`.
    pub fn photo_bytes(&self, id: String, photo_id: String) -> Result<Option<Vec<u8>>> {
        guard(|| Ok(self.core.photo_bytes(&id, &photo_id)?))
    }

    /// The path of the photo's file if this phone holds it; `None` means
    /// fetch it with `SyncSession.fetch_photo`. On an encrypted store the
    /// file is sealed: show `photo_bytes` instead.
    pub fn photo_file(&self, id: String, photo_id: String) -> Result<Option<String>> {
        guard(|| {
            Ok(self
                .core
                .photo_file(&id, &photo_id)?
                .map(|p| p.to_string_lossy().into_owned()))
        })
    }

    /// Photos attached here that the server does not hold yet ("3 photos waiting").
    pub fn blobs_waiting(&self) -> Result<BlobsWaiting> {
        guard(|| Ok(self.core.blobs_waiting()?))
    }
}

#[uniffi::export]
impl SyncSession {
    /// The path of a photo's file, fetched from the server first if this
    /// phone does not hold it (only for orders assigned to this engineer).
    /// Call it from a background thread when the app shows the photo.
    pub fn fetch_photo(&self, order_id: String, photo_id: String) -> Result<String> {
        guard(|| {
            Ok(self
                .client
                .fetch_photo(&order_id, &photo_id)?
                .to_string_lossy()
                .into_owned())
        })
    }
}
