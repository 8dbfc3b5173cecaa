//! The server's half of sync: a tenant's store as only the server opens it.
//! It keeps which engineer may see which order, checks a phone's push
//! (bounds, authorship, push authority) before storing any of it, applies it
//! all or nothing, plans what a phone pulls, creates van stock at
//! enrolment, and logs what it refused. A phone never holds one.

pub use super::push::PushRefusal;
use super::push::check_push_in;
use crate::api::{Config, Fieldwork, Result, check_config};
use crate::attest::PinnedKey;
use crate::doc_ids::{DocKind, stock_doc_id};
use crate::model::VanStock;
use crate::store::Store;
use crate::store::log::{self, PullPlan};
use crate::store::photos::{self, Declared};
use crate::store::quarantine::{self, Refusal};
use crate::store::sql::Backend;
use crate::store::write::Rows;
use crate::validate::{self, MAX_CODE_CHARS};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

/// A tenant's store on the server. Everything a [`Fieldwork`] does (the desk's
/// intents, reads) is reached through it; what only the server may do is here.
#[derive(Debug)]
pub struct ServerStore {
    pub(super) fw: Fieldwork,
    /// Pushes waiting for the next group commit ([`ServerStore::apply_together`]).
    pub(super) queue: super::group::Queue,
}

impl std::ops::Deref for ServerStore {
    type Target = Fieldwork;
    fn deref(&self) -> &Fieldwork {
        &self.fw
    }
}

impl ServerStore {
    /// Open or create a tenant's store on an SQL database (embedded SQLite
    /// or the server's PostgreSQL), migrating it.
    pub fn open_on(db: Box<dyn Backend>, config: Config) -> Result<ServerStore> {
        check_config(&config)?;
        let mut store = Store::open_backend(db, config.policy.clone())?;
        store.keep_grants();
        Ok(ServerStore {
            fw: Fieldwork::with_store(store, config)?,
            queue: super::group::Queue::default(),
        })
    }

    /// Open or create a tenant's store in an SQLite file: tests and fuzzing.
    #[cfg(feature = "testing")]
    pub fn open(path: impl AsRef<std::path::Path>, config: Config) -> Result<ServerStore> {
        check_config(&config)?;
        let mut store = Store::open(path.as_ref(), config.policy.clone())?;
        store.keep_grants();
        Ok(ServerStore {
            fw: Fieldwork::with_store(store, config)?,
            queue: super::group::Queue::default(),
        })
    }

    /// Keep as many of this tenant's documents decoded in memory as
    /// `documents` says (at least 16; the server's tenants share one
    /// budget), the least recently used dropped first.
    pub fn share_cached_documents(&self, documents: Arc<AtomicUsize>) {
        self.fw.local().store.share_cached_documents(documents);
    }

    /// Apply a device's pushes, each document all or nothing, committed
    /// together with whatever other pushes are waiting (group commit), and
    /// plan its pull after the commit. Returns only once the group is
    /// durable: an `Ok` answer is stored.
    pub fn apply_together(&self, request: super::group::PushRequest) -> super::group::Applied {
        super::group::apply_together(&self.fw, &self.queue, request)
    }

    /// Queue a device's sync request for the next group commit without
    /// waiting: `reply` is called with its answer once its group is durable
    /// (on the thread committing it). True if nobody is committing groups
    /// now: then the caller leads, calling [`ServerStore::lead_one`] on a
    /// thread that may block until it returns false. So a server need not
    /// hold a thread per waiting request.
    pub fn submit(&self, request: super::group::PushRequest, reply: super::group::Reply) -> bool {
        self.queue.submit(request, reply)
    }

    /// Commit one group, everything queued now (see [`ServerStore::submit`]).
    /// True if more requests wait: the caller still leads, and must see
    /// that this is called again (on another thread, so that its own answer
    /// need not wait for later groups).
    pub fn lead_one(&self) -> bool {
        super::group::lead_one(&self.fw, &self.queue)
    }

    /// Apply `requests` committed as one group, as if they had all arrived
    /// while the store was busy: each one's answer, in their order (tests).
    #[cfg(feature = "testing")]
    pub fn apply_as_one_group(
        &self,
        requests: Vec<super::group::PushRequest>,
    ) -> Vec<super::group::Applied> {
        super::group::apply_as_one_group(&self.fw, requests)
    }

    /// Apply a device's push of one document, all or nothing. The device
    /// belongs to `engineer`; every change must be made by the device itself,
    /// and every signature, consent and QC record it adds must be attested
    /// by `key`, the device's key pinned at enrolment (`None`: a device
    /// enrolled before keys existed).
    pub fn apply_push(
        &self,
        device_id: &str,
        engineer: &str,
        doc_id: &str,
        bytes: &[u8],
        key: Option<&PinnedKey>,
    ) -> Result<(), PushRefusal> {
        let request = super::group::PushRequest {
            device_id: device_id.to_string(),
            engineer: engineer.to_string(),
            key: key.cloned(),
            docs: vec![super::group::Pushed::read(doc_id.to_string(), bytes)],
            pull: None,
        };
        let mut applied = self.apply_together(request);
        if let Some((_, why)) = applied.forbidden.pop() {
            return Err(PushRefusal::Forbidden(why));
        }
        applied
            .answers
            .pop()
            .unwrap_or_else(|| Err(PushRefusal::Refused("nothing was applied".into())))
    }

    /// Every check of [`ServerStore::apply_push`] short of applying: the
    /// server checks a whole request before it stores any of it.
    pub fn check_push(
        &self,
        device_id: &str,
        engineer: &str,
        doc_id: &str,
        bytes: &[u8],
    ) -> Result<DocKind, PushRefusal> {
        let mut g = self.fw.lock()?;
        check_push_in(&mut g, device_id, engineer, doc_id, bytes).map(|(kind, _)| kind)
    }

    /// What `engineer`'s device `device_id` pulls after `cursor`.
    pub fn pull_plan(
        &self,
        engineer: &str,
        device_id: &str,
        cursor: i64,
        limit: usize,
    ) -> Result<PullPlan> {
        Ok(log::plan_pull(
            self.fw.lock()?.store.db(),
            engineer,
            device_id,
            cursor,
            limit,
        )?)
    }

    /// What a photo on an order assigned to `engineer` now declares of blob
    /// `hash`: `None` if no such photo refers to it, so the engineer may
    /// neither send nor fetch it (a hash is not a key).
    pub fn blob_for_engineer(&self, hash: &str, engineer: &str) -> Result<Option<Declared>> {
        if !crate::model::is_blob_hash(hash) {
            return Ok(None);
        }
        Ok(photos::declared_to(
            self.fw.lock()?.store.db(),
            hash,
            engineer,
        )?)
    }

    /// The blob photo `photo_id` of order `order_id` names, and what it
    /// declares (the desk reads any order of its tenant).
    pub fn photo_blob(&self, order_id: &str, photo_id: &str) -> Result<Option<(String, Declared)>> {
        Ok(photos::declared_by_photo(
            self.fw.lock()?.store.db(),
            order_id,
            photo_id,
        )?)
    }

    /// The orders whose photos refer to blob `hash`: their pages change
    /// when it arrives.
    pub fn orders_with_blob(&self, hash: &str) -> Result<Vec<String>> {
        Ok(photos::orders_referring(self.fw.lock()?.store.db(), hash)?)
    }

    /// Every blob a photo not removed refers to, sorted: what the server keeps.
    pub fn referenced_blobs(&self) -> Result<Vec<String>> {
        Ok(photos::referenced(self.fw.lock()?.store.db())?)
    }

    /// Whether `engineer` may read `doc_id` now.
    pub fn readable_by(&self, doc_id: &str, engineer: &str) -> Result<bool> {
        let mut g = self.fw.lock()?;
        Ok(match DocKind::of_id(doc_id) {
            Some(DocKind::Catalog | DocKind::Settings) => true,
            Some(DocKind::VanStock) => doc_id == stock_doc_id(engineer),
            Some(DocKind::WorkOrder) => log::granted_now(g.store.db(), doc_id, engineer)?,
            None => false,
        })
    }

    /// Run `hook` inside each write's transaction, once its changes are in
    /// the log and before it commits (`None`: stop): how a test holds a
    /// writer there while another writes.
    #[cfg(feature = "testing")]
    pub fn before_commit(&self, hook: Option<crate::store::BeforeCommit>) {
        self.fw.local().store.before_commit(hook);
    }

    /// The newest position of the change log.
    #[cfg(feature = "testing")]
    pub fn log_position(&self) -> Result<i64> {
        Ok(log::max_seq(self.fw.lock()?.store.db())?)
    }

    /// Create `engineer`'s van stock document if it does not exist yet. The
    /// server does this once, at enrolment, so every phone of the engineer
    /// starts from the same document (decision 0004): two phones that each
    /// created it would hide one side's counts after a merge.
    pub fn ensure_van_stock(&self, engineer: &str) -> Result<()> {
        validate::required("engineer", engineer, MAX_CODE_CHARS)?;
        let id = stock_doc_id(engineer);
        if DocKind::of_id(&id) != Some(DocKind::VanStock) {
            return Err(validate::invalid("engineer", "is not usable in a document id").into());
        }
        let mut g = self.fw.lock()?;
        if g.store.contains(&id)? {
            return Ok(());
        }
        let empty = VanStock {
            engineer: engineer.to_string(),
            counts: BTreeMap::new(),
            ledger: vec![],
        };
        let levels = BTreeMap::new();
        g.save_doc(
            &id,
            DocKind::VanStock,
            &empty,
            "van stock",
            Rows::Stock {
                engineer,
                levels: &levels,
            },
        )
    }

    /// Record that the server refused `device`'s push of `doc_id`.
    pub fn log_refusal(
        &self,
        device_id: &str,
        engineer: &str,
        doc_id: &str,
        reason: &str,
        bytes: usize,
    ) -> Result<()> {
        let mut g = self.fw.lock()?;
        let at_ms = g.clock.now_ms();
        quarantine::log_refusal(
            g.store.db(),
            &Refusal {
                device_id: device_id.to_string(),
                engineer: engineer.to_string(),
                doc_id: doc_id.to_string(),
                reason: reason.to_string(),
                bytes: i64::try_from(bytes).unwrap_or(i64::MAX),
                at_ms,
            },
        )?;
        Ok(())
    }

    /// The refused pushes of `doc_id`, newest first (at most 100).
    pub fn refusals_of(&self, doc_id: &str) -> Result<Vec<Refusal>> {
        Ok(quarantine::refusals(
            self.fw.lock()?.store.db(),
            quarantine::RefusalsOf::Document(doc_id),
            100,
        )?)
    }

    /// The refused pushes from `device_id`, newest first (at most 500).
    pub fn refusals_from(&self, device_id: &str) -> Result<Vec<Refusal>> {
        Ok(quarantine::refusals(
            self.fw.lock()?.store.db(),
            quarantine::RefusalsOf::Device(device_id),
            500,
        )?)
    }
}
