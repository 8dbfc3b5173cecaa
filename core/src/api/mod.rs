//! `Fieldwork`: the one facade the bindings and the server wrap. One method
//! per user intent; each validates its input, applies the rules, commits one
//! Automerge change and writes it with its rows in one SQLite transaction —
//! or returns a typed error and changes nothing.
//!
//! The facade is split by intent group:
//!
//! | file | what |
//! |---|---|
//! | [`visit`] | the engineer's visit: lifecycle, diagnosis, warranty, parts, fees, consent, QC, sign-off, rating |
//! | [`desk`] | the desk's intents, by a named dispatcher or supervisor ([`Fieldwork::as_desk`]) |
//! | [`stock`] | the parts catalog and the engineer's van stock |
//! | [`photos`] | photos and documents on an order: attach, remove, the blobs waiting to be sent |
//! | [`reads`] | orders listed and read with what the rules compute, document heads and changes |
//! | `work` | the unit of work every intent goes through: load → change → stage → save |
//! | `import` | changes made elsewhere, checked and applied |
//! | [`error`], [`clock`] | what a call fails with; where "now" comes from |
//!
//! Sync's halves live in the sync module above this one: the phone's
//! outbox and quarantine, and the server's store.

use crate::at_rest::StoreKey;
use crate::hlc::Hlc;
use crate::model::WorkOrder;
use crate::policy::Policy;
use crate::store::{Store, StoreError};
use crate::validate::{self, MAX_CODE_CHARS};
use automerge::ActorId;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

pub mod clock;
pub mod desk;
mod desk_view;
pub mod error;
mod import;
pub mod photos;
pub mod reads;
mod report;
pub mod stock;
pub mod visit;
mod work;

pub use crate::rules::complaints::{ComplaintStep, complaint_stage_name};
pub use crate::store::quarantine::{QuarantinedChange, Refusal};
pub use clock::{Clock, ManualClock, SystemClock};
pub use desk::{Desk, FollowUpInput, MailInMilestone};
pub use error::{Error, Result};
pub use import::ImportOutcome;
pub(crate) use import::{Prepared, Staged, check_kind};

#[cfg(test)]
mod read_tests;
pub use photos::BlobsWaiting;
pub use reads::OrderView;
pub use stock::StockLevel;
pub use visit::{ConsentInput, DiagnosisInput};
pub(crate) use work::{corrupt, new_id};

/// How a store is opened.
#[derive(Debug, Clone)]
pub struct Config {
    /// The signed-in user (engineer or desk id) recorded on every event.
    pub user: String,
    pub policy: Policy,
    pub clock: Arc<dyn Clock>,
    /// The key the store is encrypted with (decision 0016); `None` for a
    /// plain store (the server's, tests').
    pub key: Option<StoreKey>,
}

impl Config {
    pub fn new(user: impl Into<String>) -> Config {
        Config {
            user: user.into(),
            policy: Policy::default(),
            clock: Arc::new(SystemClock),
            key: None,
        }
    }

    /// The same, with the store encrypted under `key`.
    pub fn with_key(self, key: StoreKey) -> Config {
        Config {
            key: Some(key),
            ..self
        }
    }
}

/// The Fieldwork core. Cheap to share (`Arc`), safe to call from many threads:
/// calls are serialised on one connection.
#[derive(Debug)]
pub struct Fieldwork {
    inner: Mutex<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) store: Store,
    pub(crate) device_id: String,
    pub(crate) actor: ActorId,
    pub(crate) user: String,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) hlc: Hlc,
    /// Orders as last written or read, matching their stored documents:
    /// an edit starts from here and writes only the fields it changed.
    pub(crate) orders: HashMap<String, WorkOrder>,
    /// Who this call acts for, when not the store's own user: a dispatcher
    /// at the desk ([`Fieldwork::as_desk`]). Cleared when the call ends.
    pub(crate) acting: Option<String>,
    /// The blob folder beside the store's file (photos); none on the server,
    /// which keeps blobs its own way.
    pub(crate) blobs: Option<crate::blobs::BlobDir>,
    /// The font file PDF reports are set in ([`Fieldwork::use_report_font`]).
    pub(crate) report_font: Option<std::path::PathBuf>,
    /// The device key that attests signatures, consents and QC
    /// ([`Fieldwork::use_device_signer`]).
    pub(crate) signer: Option<Arc<dyn crate::attest::DeviceSigner>>,
}

/// [`Inner`] for one call; leaves the store (releasing what it claimed on
/// a shared database) when dropped.
pub(crate) struct Locked<'a> {
    g: MutexGuard<'a, Inner>,
    entered: bool,
}

impl std::ops::Deref for Locked<'_> {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.g
    }
}

impl std::ops::DerefMut for Locked<'_> {
    fn deref_mut(&mut self) -> &mut Inner {
        &mut self.g
    }
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        self.g.acting = None;
        if self.entered {
            self.g.store.leave();
        }
    }
}

/// Hydrated orders kept in memory.
pub(crate) const CACHE_ORDERS: usize = 256;

pub(crate) const META_DEVICE: &str = "device_id";
pub(crate) const META_HLC: &str = "hlc";
/// The software device key's secret ([`Fieldwork::use_software_device_key`]).
const META_DEVICE_KEY: &str = "device_signing_key";
pub(crate) const META_CURSOR: &str = "sync_cursor";
/// Orders whose copy here must be replaced by the server's (comma-separated).
pub(crate) const META_REFETCH: &str = "refetch";

/// Refuse a bad configuration before any file or database is touched.
pub(crate) fn check_config(config: &Config) -> Result<()> {
    config
        .policy
        .check()
        .map_err(|reason| validate::invalid("policy", reason))?;
    validate::required("user", &config.user, MAX_CODE_CHARS)?;
    Ok(())
}

/// A device's Automerge actor: its device id's bytes.
pub fn device_actor(device_id: &str) -> std::result::Result<ActorId, uuid::Error> {
    Ok(ActorId::from(
        uuid::Uuid::parse_str(device_id)?.as_bytes().as_slice(),
    ))
}

impl Fieldwork {
    /// Open or create the store at `path`.
    pub fn open(path: impl AsRef<Path>, config: Config) -> Result<Fieldwork> {
        check_config(&config)?;
        let mut store =
            Store::open_keyed(path.as_ref(), config.policy.clone(), config.key.as_ref())?;
        let blob_key = store.blob_key()?;
        let fw = Self::with_store(store, config)?;
        let blobs = crate::blobs::BlobDir::beside(path.as_ref()).sealed_with(blob_key);
        blobs.clean_tmp();
        fw.local().blobs = Some(blobs);
        Ok(fw)
    }

    /// Encrypt the plaintext store at `path` (and its photos) under `key`,
    /// in place; run it before opening. Crash-safe: a crash leaves the
    /// plaintext store or the encrypted one, and the next open or call
    /// finishes or undoes what was under way. A store already encrypted
    /// under `key`, or no store at all, is left as it is.
    pub fn encrypt_store(path: impl AsRef<Path>, key: &StoreKey) -> Result<()> {
        Ok(crate::store::convert::encrypt_store(path.as_ref(), key)?)
    }

    /// Attest the customer's signatures, consents and QC records made on
    /// this device with `signer`, the device key the app keeps in the
    /// Keystore or the Secure Enclave (decision 0017). Give it before
    /// enrolling: enrolment registers its public key with the server, which
    /// from then on refuses those records unattested.
    pub fn use_device_signer(&self, signer: Arc<dyn crate::attest::DeviceSigner>) {
        self.local().signer = Some(signer);
    }

    /// For phones without a hardware key store (and the device command): a
    /// software P-256 key kept in the store's meta table, so encrypted with
    /// the store, made on first use. Records are marked software-attested.
    pub fn use_software_device_key(&self) -> Result<()> {
        let signer = {
            let mut g = self.lock()?;
            let kept = g.store.meta(META_DEVICE_KEY)?;
            match kept
                .as_deref()
                .and_then(crate::at_rest::unhex)
                .and_then(|k| crate::attest::SoftwareSigner::from_secret(&k))
            {
                Some(signer) => signer,
                None => {
                    let signer = crate::attest::SoftwareSigner::generate();
                    g.store
                        .set_meta(META_DEVICE_KEY, &crate::blobs::hex(&signer.secret()))?;
                    signer
                }
            }
        };
        self.use_device_signer(Arc::new(signer));
        Ok(())
    }

    /// The device key's public key and where it is kept, if one was given.
    pub fn device_key(&self) -> Result<Option<(Vec<u8>, crate::model::KeyBacking)>> {
        let Some(signer) = self.local().signer.clone() else {
            return Ok(None);
        };
        Ok(Some((signer.public_key()?, signer.backing())))
    }

    /// Encrypt this store under `key` from now on (one transaction); its
    /// photos keep their blob key, which the database holds.
    pub fn rekey(&self, key: &StoreKey) -> Result<()> {
        let mut g = self.lock()?;
        Ok(g.store.rekey(key)?)
    }

    pub(crate) fn with_store(mut store: Store, config: Config) -> Result<Fieldwork> {
        let device_id = match store.meta(META_DEVICE)? {
            Some(d) => d,
            None => {
                let d = uuid::Uuid::new_v4().simple().to_string();
                store.set_meta(META_DEVICE, &d)?;
                d
            }
        };
        let actor = device_actor(&device_id).map_err(|e| StoreError::Corrupt {
            doc_id: "meta".into(),
            reason: format!("device id: {e}"),
        })?;
        let hlc = store
            .meta(META_HLC)?
            .and_then(|h| Hlc::decode(&h))
            .unwrap_or_default();
        Ok(Fieldwork {
            inner: Mutex::new(Inner {
                store,
                device_id,
                actor,
                user: config.user,
                clock: config.clock,
                hlc,
                orders: HashMap::new(),
                acting: None,
                blobs: None,
                report_font: None,
                signer: None,
            }),
        })
    }

    /// This process's state, without touching the database.
    pub(crate) fn local(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the store half-written
        // (the database rolls back), so a poisoned lock is safe to take over.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The state for a call that reads or writes the store. On a database
    /// several server processes share, the documents the call touches are
    /// claimed as it reaches them and released when the guard drops.
    pub(crate) fn lock(&self) -> std::result::Result<Locked<'_>, StoreError> {
        let mut locked = Locked {
            g: self.local(),
            entered: false,
        };
        locked.g.store.enter()?;
        locked.entered = true;
        Ok(locked)
    }

    /// [`Fieldwork::lock`] for a call made on behalf of `person` (the
    /// store's own user if `None`): every change it makes is recorded as
    /// theirs.
    pub(crate) fn lock_as(
        &self,
        person: Option<&str>,
    ) -> std::result::Result<Locked<'_>, StoreError> {
        let mut g = self.lock()?;
        g.acting = person.map(str::to_string);
        Ok(g)
    }

    pub fn device_id(&self) -> String {
        self.local().device_id.clone()
    }

    pub fn user(&self) -> String {
        self.local().user.clone()
    }

    pub fn now_ms(&self) -> i64 {
        self.local().clock.now_ms()
    }
}
