//! Photos and documents on an order, as the phone's user: attach a file
//! (copied into the blob folder under its SHA-256 and fsynced before the
//! order records it), remove one, and what is still to be sent. The bytes
//! travel in the sync client's upload queue (`sync::blobs`).

use super::{Error, Fieldwork, Result, new_id};
use crate::blobs::{BlobDir, BlobError};
use crate::model::{Photo, PhotoKind, PhotoRemoval, WorkOrder, is_blob_hash};
use crate::policy::Policy;
use crate::rules::lifecycle::current_status;
use crate::rules::wrong_status;
use crate::store::StoreError;
use crate::store::photos::{self, PendingBlob};
use crate::validate::{self, MAX_TEXT_CHARS};
use std::path::{Path, PathBuf};

/// Photos this device attached that its server does not hold yet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BlobsWaiting {
    pub count: u64,
    pub bytes: u64,
}

fn too_large(max_mb: i64) -> Error {
    validate::invalid("file", format!("is larger than the limit of {max_mb} MB")).into()
}

fn blob_error(e: BlobError, max_mb: i64) -> Error {
    match e {
        BlobError::TooLarge { .. } => too_large(max_mb),
        BlobError::NotAllowed => {
            validate::invalid("file", "is not a JPEG, PNG, HEIC, WebP or PDF file").into()
        }
        BlobError::Empty => validate::invalid("file", "is empty").into(),
        BlobError::Unreadable(_) => validate::invalid("file", "cannot be read").into(),
        other => StoreError::Blobs(other.to_string()).into(),
    }
}

/// Whether `order` takes one more photo: it is open and below the count.
fn may_attach(order: &WorkOrder, policy: &Policy) -> Result<()> {
    let status = current_status(order);
    if status.is_terminal() {
        return Err(wrong_status(status, "photos are attached to open orders").into());
    }
    let held = order.photos.iter().filter(|p| !p.is_removed()).count();
    if i64::try_from(held).unwrap_or(i64::MAX) >= policy.photos_per_order {
        return Err(validate::invalid(
            "photos",
            format!(
                "the order already holds {} photos and documents",
                policy.photos_per_order
            ),
        )
        .into());
    }
    Ok(())
}

fn no_blobs() -> Error {
    StoreError::Blobs("this store keeps no photos".into()).into()
}

impl Fieldwork {
    fn blob_dir(&self) -> Result<BlobDir> {
        self.local().blobs.clone().ok_or_else(no_blobs)
    }

    /// Attach the file at `file` to order `id`. The file is refused, before a
    /// byte of it is copied, if it is larger than the service center's limit;
    /// and if its first bytes are not a JPEG, PNG, HEIC, WebP or PDF. The
    /// copy is durable before the order records it, in one change.
    pub fn attach_photo(
        &self,
        id: &str,
        file: &Path,
        kind: PhotoKind,
        caption: Option<&str>,
    ) -> Result<Photo> {
        validate::optional("caption", caption, MAX_TEXT_CHARS)?;
        let blobs = self.blob_dir()?;
        // The order's limits (those in force when it was received), checked
        // before copying, and again when the photo is recorded.
        let policy = {
            let mut g = self.lock()?;
            let order = g.load_order(id)?;
            let policy = g.store.policy_for(&order).clone();
            may_attach(&order, &policy)?;
            policy
        };
        let limit = policy.photo_max_bytes();
        let stored = blobs
            .import_file(file, u64::try_from(limit).unwrap_or(0))
            .map_err(|e| blob_error(e, policy.photo_max_mb))?;
        // Copied outside the lock: a 20 MB photo does not hold up other calls.
        // If the order refuses it, the blob is collected with the unreferenced.
        let size = i64::try_from(stored.size).unwrap_or(i64::MAX);
        self.edit_order(id, "attach photo", |o, cx| {
            // Again: the order may have changed while the file was copied.
            may_attach(o, cx.policy)?;
            if size > cx.policy.photo_max_bytes() {
                return Err(too_large(cx.policy.photo_max_mb));
            }
            let photo = Photo {
                id: new_id("ph"),
                hash: stored.hash.clone(),
                size,
                media_type: stored.media_type,
                kind,
                caption: caption.map(str::to_string),
                by: cx.user.clone(),
                device: cx.device.clone(),
                at_ms: cx.now,
                removed: None,
            };
            o.photos.push(photo.clone());
            Ok(photo)
        })
    }

    /// Remove photo `photo_id` from order `id`. The order keeps that it was
    /// there and who removed it; the bytes go once nothing refers to them.
    /// Removing it again changes nothing.
    pub fn remove_photo(&self, id: &str, photo_id: &str) -> Result<()> {
        let mut g = self.lock()?;
        let mut o = g.load_order(id)?;
        let Some(p) = o.photos.iter().position(|p| p.id == photo_id) else {
            return Err(Error::NotFound {
                kind: "photo",
                id: photo_id.to_string(),
            });
        };
        if o.photos[p].is_removed() {
            return Ok(());
        }
        let status = current_status(&o);
        if status.is_terminal() {
            return Err(wrong_status(status, "photos are attached to open orders").into());
        }
        let cx = g.cx(&o);
        let (by, at_ms) = (cx.user, cx.now);
        o.photos[p].removed = Some(PhotoRemoval { by, at_ms });
        g.save_order(&o, "remove photo")
    }

    /// The bytes of photo `photo_id` of order `id`, checked against its
    /// hash (unsealed on an encrypted store); `None` if they are not on
    /// this device (fetch them with the sync client).
    pub fn photo_bytes(&self, id: &str, photo_id: &str) -> Result<Option<Vec<u8>>> {
        let hash = self.photo_hash(id, photo_id)?;
        let blobs = self.blob_dir()?;
        Ok(blobs
            .read(&hash)
            .map_err(|e| StoreError::Blobs(e.to_string()))?)
    }

    /// The file of photo `photo_id` of order `id` on this device, if its
    /// bytes are here (`None`: fetch it with the sync client). On an
    /// encrypted store the file is sealed: show [`Fieldwork::photo_bytes`].
    pub fn photo_file(&self, id: &str, photo_id: &str) -> Result<Option<PathBuf>> {
        let hash = self.photo_hash(id, photo_id)?;
        let blobs = self.blob_dir()?;
        Ok(blobs.path(&hash).filter(|p| p.is_file()))
    }

    /// The hash photo `photo_id` of order `id` names.
    pub(crate) fn photo_hash(&self, id: &str, photo_id: &str) -> Result<String> {
        let mut g = self.lock()?;
        let o = g.load_order(id)?;
        o.photos
            .iter()
            .find(|p| p.id == photo_id && is_blob_hash(&p.hash))
            .map(|p| p.hash.clone())
            .ok_or_else(|| Error::NotFound {
                kind: "photo",
                id: photo_id.to_string(),
            })
    }

    /// Photos this device attached that the server does not hold yet.
    pub fn blobs_waiting(&self) -> Result<BlobsWaiting> {
        let mut g = self.lock()?;
        let device = g.device_id.clone();
        let (count, bytes) = photos::waiting(g.store.db(), &device)?;
        Ok(BlobsWaiting {
            count: u64::try_from(count).unwrap_or(0),
            bytes: u64::try_from(bytes).unwrap_or(0),
        })
    }

    /// What the upload queue sends next: this device's blobs whose orders'
    /// changes the server has acknowledged.
    pub(crate) fn pending_uploads(&self) -> Result<Vec<PendingBlob>> {
        let mut g = self.lock()?;
        let device = g.device_id.clone();
        Ok(photos::pending_uploads(g.store.db(), &device)?)
    }

    /// The server holds `hash` whole.
    pub(crate) fn mark_uploaded(&self, hash: &str) -> Result<()> {
        let mut g = self.lock()?;
        let now = g.clock.now_ms();
        Ok(photos::mark_uploaded(g.store.db(), hash, now)?)
    }

    pub(crate) fn blobs(&self) -> Result<BlobDir> {
        self.blob_dir()
    }

    /// Free the phone's space: delete blobs that no photo here refers to any
    /// more, once that removal has reached the server, and that are older than
    /// an hour (an attach copies its file before the order records it).
    /// Returns how many went.
    pub fn collect_blobs(&self) -> Result<u64> {
        let Some(blobs) = self.local().blobs.clone() else {
            return Ok(0);
        };
        let mut g = self.lock()?;
        let referenced = photos::kept_on_device(g.store.db())?;
        let young = |hash: &str| {
            blobs
                .path(hash)
                .and_then(|p| std::fs::metadata(p).ok())
                .and_then(|m| m.modified().ok())
                .and_then(|t| t.elapsed().ok())
                .is_none_or(|age| age < std::time::Duration::from_secs(3600))
        };
        let mut removed = 0;
        let held = blobs
            .hashes()
            .map_err(|e| StoreError::Blobs(e.to_string()))?;
        for hash in held {
            if referenced.binary_search(&hash).is_ok() || young(&hash) {
                continue;
            }
            blobs
                .remove(&hash)
                .map_err(|e| StoreError::Blobs(e.to_string()))?;
            removed += 1;
        }
        Ok(removed)
    }
}
