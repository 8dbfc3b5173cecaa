//! `Fieldwork`: the one facade the bindings and the server wrap. One method
//! per user intent; each validates its input, applies the rules, commits one
//! Automerge change and writes it with its rows in one SQLite transaction —
//! or returns a typed error and changes nothing.

use crate::hlc::Hlc;
use crate::model::*;
use crate::policy::Policy;
use crate::rules::conflicts::{Conflict, order_conflicts};
use crate::rules::fees::{FeeSummary, compute_fees, decide_warranty};
use crate::rules::lifecycle::{check_transition, current_status};
use crate::rules::mail_in::{Milestone, milestones};
use crate::rules::signoff::{SignatureState, render_report, report_sha256, signature_state_with};
use crate::rules::sla::{SlaClock, clocks};
use crate::rules::{RuleError, wrong_status};
use crate::store::log::{self, LoggedChange, PullPlan};
use crate::store::sql::Backend;
use crate::store::{
    CATALOG_ID, DocKind, OrderFilter, OrderRow, Rows, Store, StoreError, Write, stock_doc_id,
};
use crate::sync::chunks;
use crate::validate::{self, Invalid, MAX_CODE_CHARS, MAX_NAME_CHARS, MAX_TEXT_CHARS};
use automerge::{ActorId, AutoCommit, ChangeHash, ReadDoc, transaction::CommitOptions};
use autosurgeon::{
    Hydrate, Reconcile, hydrate, hydrate_prop, reconcile, reconcile_insert, reconcile_prop,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

mod quarantine;
pub use crate::store::quarantine::{QuarantinedChange, Refusal};
pub use quarantine::MissingOutcome;

/// Everything a call can fail with. Messages are safe to log: they name
/// fields, ids and rules, never customer data.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("{kind} {id} not found")]
    NotFound { kind: &'static str, id: String },
    #[error("unknown part {sku}: it is not in the catalog")]
    UnknownSku { sku: String },
    #[error("not enough {sku} in the van: {on_hand} on hand, {wanted} wanted")]
    InsufficientStock {
        sku: String,
        on_hand: i64,
        wanted: i64,
    },
    #[error(transparent)]
    Rule(#[from] RuleError),
    #[error("malformed document bytes for {doc_id}: {reason}")]
    MalformedDocument { doc_id: String, reason: String },
    #[error("storage: {0}")]
    Store(#[from] StoreError),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Where "now" comes from; tests and simulations use [`ManualClock`].
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now_ms(&self) -> i64;
}

#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        chrono::Utc::now().timestamp_millis()
    }
}

/// A clock that moves only when told to.
#[derive(Debug, Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn new(now_ms: i64) -> Arc<ManualClock> {
        Arc::new(ManualClock(AtomicI64::new(now_ms)))
    }
    pub fn set(&self, now_ms: i64) {
        self.0.store(now_ms, Ordering::SeqCst);
    }
    pub fn advance_ms(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// How a store is opened.
#[derive(Debug, Clone)]
pub struct Config {
    /// The signed-in user (engineer or desk id) recorded on every event.
    pub user: String,
    pub policy: Policy,
    pub clock: Arc<dyn Clock>,
}

impl Config {
    pub fn new(user: impl Into<String>) -> Config {
        Config {
            user: user.into(),
            policy: Policy::default(),
            clock: Arc::new(SystemClock),
        }
    }
}

/// One order with what the rules compute from it.
#[derive(Debug, Clone, Serialize)]
pub struct OrderView {
    pub order: WorkOrder,
    pub status: Status,
    pub clocks: Vec<SlaClock>,
    pub signature: SignatureState,
    pub fees: FeeSummary,
    pub conflicts: Vec<Conflict>,
    pub mail_in: Vec<Milestone>,
    /// A follow-up call is due (signed off, no call reached yet).
    pub follow_up_due: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiagnosisInput {
    pub fault_code: String,
    pub kind: FaultKind,
    pub findings: String,
    pub planned_parts: Vec<String>,
    pub estimate_minor: i64,
    pub misuse: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsentInput {
    pub kind: ConsentKind,
    pub accepted: bool,
    pub signer_name: String,
    pub scope: String,
    pub parts: Vec<String>,
    pub strokes: Vec<Stroke>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUpInput {
    pub reached: bool,
    pub rating: Option<Rating>,
    pub aspect: Option<String>,
    pub comment: Option<String>,
}

/// One step of the complaint workflow (see [`Fieldwork::advance_complaint`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "step")]
pub enum ComplaintStep {
    /// A candidate (from an unsatisfied rating) becomes a registered complaint.
    Register,
    /// Whether it stands; if not, the explanation given and it closes.
    Judge {
        stands: bool,
        explanation: Option<String>,
    },
    /// Who is responsible (repair quality: the engineer; attitude: staff or
    /// supervisor) and, for a major complaint, the handling team.
    Responsible {
        party: String,
        team: Vec<String>,
    },
    Investigate {
        findings: String,
    },
    Propose {
        resolutions: Vec<String>,
    },
    /// The supervisor picks a proposal (by index).
    Pick {
        index: usize,
    },
    CustomerAccepts {
        signer_name: String,
    },
    Feedback {
        text: String,
    },
    Close {
        category: ComplaintCategory,
    },
}

pub fn complaint_stage_name(s: ComplaintStage) -> &'static str {
    match s {
        ComplaintStage::Candidate => "candidate",
        ComplaintStage::Registered => "registered",
        ComplaintStage::Investigating => "investigating",
        ComplaintStage::ResolutionProposed => "resolution proposed",
        ComplaintStage::CustomerAccepted => "customer accepted",
        ComplaintStage::Closed => "closed",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailInMilestone {
    Shipped,
    ReceiptConfirmed,
    CustomerUpdated,
    SecondContact,
    Returned,
}

/// A van's level of one part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockLevel {
    pub sku: String,
    pub name: Option<String>,
    pub on_hand: i64,
    pub low_stock_threshold: Option<i64>,
    /// On hand is below the part's threshold: reorder.
    pub reorder: bool,
}

/// What an import brought.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImportOutcome {
    /// Whether the document changed (false: every change was known already).
    pub changed: bool,
    /// Changes held back because changes they depend on have not arrived.
    pub waiting_for_deps: bool,
    /// On the server: the changes a push depends on that it does not hold.
    /// Then nothing of the push was stored and nothing of it is kept.
    pub missing: Vec<ChangeHash>,
}

/// The Fieldwork core. Cheap to share (`Arc`), safe to call from many threads:
/// calls are serialised on one connection.
#[derive(Debug)]
pub struct Fieldwork {
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    device_id: String,
    actor: ActorId,
    user: String,
    clock: Arc<dyn Clock>,
    hlc: Hlc,
    /// Orders as last written or read, matching their stored documents:
    /// an edit starts from here and writes only the fields it changed.
    orders: HashMap<String, WorkOrder>,
}

/// [`Inner`] for one call; leaves the store (releasing a shared
/// database's lock) when dropped.
struct Locked<'a> {
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
        if self.entered {
            self.g.store.leave();
        }
    }
}

/// Hydrated orders kept in memory.
const CACHE_ORDERS: usize = 256;

fn new_id(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

const META_DEVICE: &str = "device_id";
const META_HLC: &str = "hlc";
const META_CURSOR: &str = "sync_cursor";
/// Orders whose copy here must be replaced by the server's (comma-separated).
const META_REFETCH: &str = "refetch";

/// Why the server did not take a pushed document.
#[derive(Debug, thiserror::Error)]
pub enum PushRefusal {
    /// The device's engineer may not write it (HTTP 403).
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The bytes or the resulting document broke a rule; nothing was stored.
    #[error("refused: {0}")]
    Refused(String),
    /// Changes that depend on changes the server does not hold (hashes in
    /// hex); nothing was stored and nothing waits: the device resends them
    /// with what they depend on.
    #[error("missing {} change(s) these depend on", .0.len())]
    MissingDependencies(Vec<String>),
    #[error("storage: {0}")]
    Store(#[from] StoreError),
}

/// Refuse a bad configuration before any file or database is touched.
fn check_config(config: &Config) -> Result<()> {
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
        let store = Store::open(path.as_ref(), config.policy.clone())?;
        Self::with_store(store, config)
    }

    /// Open or create a server's store on another SQL database (the
    /// server's PostgreSQL), migrating it: as [`Fieldwork::open_server`].
    pub fn open_server_on(db: Box<dyn Backend>, config: Config) -> Result<Fieldwork> {
        check_config(&config)?;
        let mut store = Store::open_backend(db, config.policy.clone())?;
        store.keep_grants();
        Self::with_store(store, config)
    }

    fn with_store(mut store: Store, config: Config) -> Result<Fieldwork> {
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
            }),
        })
    }

    /// This process's state, without touching the database.
    fn local(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the store half-written
        // (the database rolls back), so a poisoned lock is safe to take over.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The state for a call that reads or writes the store. On a database
    /// several server processes share, this also takes the database's lock
    /// (released when the guard drops) and forgets what others changed.
    fn lock(&self) -> std::result::Result<Locked<'_>, StoreError> {
        let mut locked = Locked {
            g: self.local(),
            entered: false,
        };
        let changed = locked.g.store.enter()?;
        locked.entered = true;
        if changed.any {
            for d in &changed.docs {
                locked.g.orders.remove(d);
            }
            // Stay ahead of the clock other processes recorded.
            if let Some(seen) = locked.g.store.meta(META_HLC)?.and_then(|h| Hlc::decode(&h)) {
                locked.g.hlc.observe(seen);
            }
        }
        Ok(locked)
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

    // ---- intake and desk --------------------------------------------------

    /// Take in a request; returns the new order's id.
    pub fn create_order(&self, intake: Intake) -> Result<String> {
        let mut g = self.lock()?;
        let now = g.clock.now_ms();
        validate::intake(&intake, now)?;
        let order = WorkOrder::from_intake(new_id("wo"), now, g.acting_user(), intake);
        let id = order.id.clone();
        g.save_order(&order, "intake")?;
        Ok(id)
    }

    /// Assign (or reassign) an engineer; a received order is dispatched.
    pub fn assign(&self, id: &str, engineer: &str) -> Result<()> {
        validate::required("engineer", engineer, MAX_CODE_CHARS)?;
        self.edit_order(id, "assign", |o, cx| {
            if current_status(o).is_terminal() {
                return Err(
                    wrong_status(current_status(o), "a finished order cannot be assigned").into(),
                );
            }
            o.assignee = Some(engineer.to_string());
            if current_status(o) == Status::Received {
                cx.transition(o, Status::Dispatched, None, None)?;
            }
            Ok(())
        })
    }

    // ---- lifecycle ------------------------------------------------------

    /// Any lifecycle transition, with the rules' guards.
    pub fn transition(&self, id: &str, to: Status, reason: Option<String>) -> Result<()> {
        validate::optional("reason", reason.as_deref(), MAX_TEXT_CHARS)?;
        self.edit_order(id, to.as_str(), |o, cx| cx.transition(o, to, reason, None))
    }

    pub fn accept(&self, id: &str) -> Result<()> {
        self.transition(id, Status::Accepted, None)
    }

    pub fn en_route(&self, id: &str) -> Result<()> {
        self.transition(id, Status::EnRoute, None)
    }

    /// Arrival on site, with the location if the app has one.
    pub fn arrive(&self, id: &str, location: Option<Location>) -> Result<()> {
        if let Some(l) = &location {
            let ok = l.lat.is_finite()
                && l.lon.is_finite()
                && (-90.0..=90.0).contains(&l.lat)
                && (-180.0..=180.0).contains(&l.lon)
                && l.accuracy_m.is_none_or(|a| a.is_finite() && a >= 0.0);
            if !ok {
                return Err(validate::invalid(
                    "location",
                    "latitude, longitude or accuracy out of range",
                )
                .into());
            }
        }
        self.edit_order(id, "arrive", |o, cx| {
            cx.transition(o, Status::OnSite, None, location)
        })
    }

    pub fn start_work(&self, id: &str) -> Result<()> {
        self.transition(id, Status::InProgress, None)
    }

    pub fn mark_repaired(&self, id: &str) -> Result<()> {
        self.transition(id, Status::Repaired, None)
    }

    pub fn cancel(&self, id: &str, reason: &str) -> Result<()> {
        validate::required("reason", reason, MAX_TEXT_CHARS)?;
        self.transition(id, Status::Cancelled, Some(reason.to_string()))
    }

    /// Record the reason (holiday, waiting for parts, customer delay) that
    /// extends the repair clock to its exception limit.
    pub fn set_sla_exception(&self, id: &str, reason: &str) -> Result<()> {
        validate::required("reason", reason, MAX_TEXT_CHARS)?;
        self.edit_order(id, "sla exception", |o, cx| {
            o.sla_exception = Some(SlaException {
                reason: reason.to_string(),
                by: cx.user.clone(),
                at_ms: cx.now,
            });
            Ok(())
        })
    }

    // ---- the visit -------------------------------------------------------

    pub fn diagnose(&self, id: &str, d: DiagnosisInput) -> Result<()> {
        validate::required("fault_code", &d.fault_code, MAX_CODE_CHARS)?;
        validate::required("findings", &d.findings, MAX_TEXT_CHARS)?;
        validate::amount("estimate", d.estimate_minor)?;
        let mut g = self.lock()?;
        let catalog = g.catalog()?;
        for sku in &d.planned_parts {
            if !catalog.parts.contains_key(sku) {
                return Err(Error::UnknownSku { sku: sku.clone() });
            }
        }
        let mut o = g.load_order(id)?;
        let status = current_status(&o);
        let on_bench = status == Status::Accepted && o.intake.channel == Channel::MailIn;
        if !(matches!(status, Status::OnSite | Status::InProgress) || on_bench) {
            return Err(wrong_status(
                status,
                "diagnose on site (or on the bench for mail-in units)",
            )
            .into());
        }
        let now = g.clock.now_ms();
        let priors = g.store.prior_repairs(&o.intake.product.serial, &o.id)?;
        o.rework_of = crate::rules::rework::rework_of(
            &priors,
            &o.intake.product.serial,
            &d.fault_code,
            now,
            g.store.policy(),
        );
        o.diagnosis = Some(Diagnosis {
            fault_code: d.fault_code,
            kind: d.kind,
            findings: d.findings,
            planned_parts: d.planned_parts,
            estimate_minor: d.estimate_minor,
            misuse: d.misuse,
            by: g.acting_user(),
            at_ms: now,
        });
        g.save_order(&o, "diagnose")
    }

    /// Decide the warranty from the purchase date, the proof and misuse.
    pub fn decide_warranty(
        &self,
        id: &str,
        proof_checked: bool,
        misuse: bool,
    ) -> Result<WarrantyDecision> {
        self.edit_order(id, "warranty", |o, cx| {
            let bought = match &o.intake.product.purchase_date {
                Some(d) => Some(validate::date("product.purchase_date", d)?),
                None => None,
            };
            let today = chrono::DateTime::from_timestamp_millis(cx.now)
                .map(|t| t.date_naive())
                .ok_or_else(|| validate::invalid("clock", "out of range"))?;
            let misuse = misuse || o.diagnosis.as_ref().is_some_and(|d| d.misuse);
            let out = decide_warranty(bought, proof_checked, misuse, today, cx.policy);
            let decision = WarrantyDecision {
                in_warranty: out.in_warranty,
                reason: out.reason,
                proof_checked,
                misuse,
                decided_at_ms: cx.now,
                by: cx.user.clone(),
            };
            o.warranty = Some(decision.clone());
            Ok(decision)
        })
    }

    pub fn record_extra_fault(&self, id: &str, description: &str) -> Result<()> {
        validate::required("description", description, MAX_TEXT_CHARS)?;
        self.edit_order(id, "extra fault", |o, cx| {
            cx.require(
                o,
                &[Status::InProgress, Status::AwaitingParts],
                "extra faults are found during repair",
            )?;
            o.extra_faults.push(ExtraFault {
                id: new_id("xf"),
                description: description.to_string(),
                by: cx.user.clone(),
                at_ms: cx.now,
            });
            Ok(())
        })
    }

    pub fn add_note(&self, id: &str, text: &str) -> Result<()> {
        validate::required("text", text, MAX_TEXT_CHARS)?;
        self.edit_order(id, "note", |o, cx| {
            if current_status(o).is_terminal() {
                return Err(wrong_status(current_status(o), "the order is finished").into());
            }
            o.repair_notes.push(Note {
                id: new_id("n"),
                text: text.to_string(),
                by: cx.user.clone(),
                at_ms: cx.now,
            });
            Ok(())
        })
    }

    /// Fit `qty` of `sku` from the van: the part line and the stock decrement
    /// are one transaction. Returns the part line's id.
    pub fn use_part(&self, id: &str, sku: &str, qty: i64, quality_fault: bool) -> Result<String> {
        self.add_part(id, sku, qty, quality_fault, PartState::Applied)
    }

    /// Order a part from the center; the order waits for it.
    pub fn order_part(&self, id: &str, sku: &str, qty: i64) -> Result<String> {
        self.add_part(id, sku, qty, true, PartState::Ordered)
    }

    fn add_part(
        &self,
        id: &str,
        sku: &str,
        qty: i64,
        quality_fault: bool,
        state: PartState,
    ) -> Result<String> {
        validate::required("sku", sku, MAX_CODE_CHARS)?;
        validate::quantity("qty", qty)?;
        let mut g = self.lock()?;
        let catalog = g.catalog()?;
        let part = catalog.parts.get(sku).ok_or_else(|| Error::UnknownSku {
            sku: sku.to_string(),
        })?;
        let mut o = g.load_order(id)?;
        let status = current_status(&o);
        if status != Status::InProgress {
            return Err(wrong_status(
                status,
                "parts are used or ordered while the repair is in progress",
            )
            .into());
        }
        let Some(diag) = &o.diagnosis else {
            return Err(RuleError::Precondition("diagnose before using parts".into()).into());
        };
        if !diag.planned_parts.iter().any(|p| p == sku)
            && !o.consents.iter().any(|c| {
                c.kind == ConsentKind::ExtraParts && c.accepted && c.parts.iter().any(|p| p == sku)
            })
        {
            return Err(RuleError::ConsentRequired {
                kind: "extra parts",
                why: format!("{sku} was not in the diagnosis"),
            }
            .into());
        }
        let now = g.clock.now_ms();
        let line_id = new_id("p");
        o.parts.push(PartLine {
            id: line_id.clone(),
            sku: sku.to_string(),
            name: part.name.clone(),
            qty,
            unit_price_minor: part.unit_price_minor,
            state,
            quality_fault,
            doa: false,
            by: g.acting_user(),
            device: g.device_id.clone(),
            at_ms: now,
        });
        match state {
            PartState::Ordered => {
                let mut cx = g.cx();
                cx.transition(
                    &mut o,
                    Status::AwaitingParts,
                    Some(format!("waiting for {sku}")),
                    None,
                )?;
                g.hlc = cx.hlc;
                g.save_order(&o, "order part")?;
            }
            PartState::Applied => {
                let on_hand = g.on_hand(sku)?;
                if on_hand < qty {
                    return Err(Error::InsufficientStock {
                        sku: sku.to_string(),
                        on_hand,
                        wanted: qty,
                    });
                }
                let movement = MovementKind::IssuedToOrder {
                    order_id: o.id.clone(),
                };
                g.save_order_and_stock(&o, sku, -qty, movement, "use part")?;
            }
        }
        Ok(line_id)
    }

    /// Mark a fitted part as dead on arrival.
    pub fn mark_part_doa(&self, id: &str, line_id: &str) -> Result<()> {
        self.edit_order(id, "part doa", |o, _| {
            let line = o
                .parts
                .iter_mut()
                .find(|p| p.id == line_id)
                .ok_or_else(|| Error::NotFound {
                    kind: "part line",
                    id: line_id.to_string(),
                })?;
            line.doa = true;
            Ok(())
        })
    }

    pub fn add_fee(
        &self,
        id: &str,
        kind: FeeKind,
        description: &str,
        amount_minor: i64,
    ) -> Result<String> {
        validate::required("description", description, MAX_TEXT_CHARS)?;
        validate::amount("amount", amount_minor)?;
        self.edit_order(id, "fee", |o, cx| {
            cx.require(
                o,
                &[
                    Status::OnSite,
                    Status::InProgress,
                    Status::AwaitingParts,
                    Status::Repaired,
                    Status::QcFailed,
                    Status::QcPassed,
                ],
                "fees are listed during the visit, before sign-off",
            )?;
            let fee_id = new_id("f");
            o.fees.push(FeeLine {
                id: fee_id.clone(),
                kind,
                description: description.to_string(),
                amount_minor,
                by: cx.user.clone(),
                at_ms: cx.now,
            });
            Ok(fee_id)
        })
    }

    /// Record a customer's consent or refusal, signed on the device.
    pub fn record_consent(&self, id: &str, c: ConsentInput) -> Result<String> {
        validate::required("signer_name", &c.signer_name, MAX_NAME_CHARS)?;
        validate::required("scope", &c.scope, MAX_TEXT_CHARS)?;
        validate::strokes("strokes", &c.strokes, c.accepted)?;
        let mut g = self.lock()?;
        if !c.parts.is_empty() {
            let catalog = g.catalog()?;
            if let Some(sku) = c.parts.iter().find(|s| !catalog.parts.contains_key(*s)) {
                return Err(Error::UnknownSku { sku: sku.clone() });
            }
        }
        let mut o = g.load_order(id)?;
        if current_status(&o).is_terminal() {
            return Err(wrong_status(current_status(&o), "the order is finished").into());
        }
        let consent_id = new_id("c");
        o.consents.push(Consent {
            id: consent_id.clone(),
            kind: c.kind,
            accepted: c.accepted,
            signer_name: c.signer_name,
            scope: c.scope,
            parts: c.parts,
            strokes: c.strokes,
            by: g.acting_user(),
            at_ms: g.clock.now_ms(),
        });
        g.save_order(&o, "consent")?;
        Ok(consent_id)
    }

    /// The QC checklist after repair: passes only if every item passed. A pass
    /// locks QC; a fail sends the order back to repair with the failure kept.
    pub fn record_qc(&self, id: &str, items: Vec<QcItem>) -> Result<bool> {
        if items.is_empty() {
            return Err(validate::invalid("items", "the checklist is empty").into());
        }
        for it in &items {
            validate::required("items.name", &it.name, MAX_NAME_CHARS)?;
            validate::optional("items.note", it.note.as_deref(), MAX_TEXT_CHARS)?;
        }
        self.edit_order(id, "qc", |o, cx| {
            if o.qc.iter().any(|q| q.passed) {
                return Err(RuleError::QcLocked.into());
            }
            cx.require(o, &[Status::Repaired], "QC follows the repair")?;
            let passed = items.iter().all(|i| i.passed);
            o.qc.push(QcRecord {
                id: new_id("qc"),
                items,
                passed,
                inspector: cx.user.clone(),
                at_ms: cx.now,
            });
            let to = if passed {
                Status::QcPassed
            } else {
                Status::QcFailed
            };
            cx.transition(o, to, None, None)?;
            Ok(passed)
        })
    }

    /// The service report the customer reads before signing.
    pub fn service_report(&self, id: &str) -> Result<String> {
        let mut g = self.lock()?;
        let o = g.load_order(id)?;
        Ok(render_report(&o, g.store.policy()))
    }

    /// The customer signs the report as it is now; the order is signed off.
    pub fn capture_signature(
        &self,
        id: &str,
        signer_name: &str,
        strokes: Vec<Stroke>,
    ) -> Result<()> {
        validate::required("signer_name", signer_name, MAX_NAME_CHARS)?;
        validate::strokes("strokes", &strokes, true)?;
        self.edit_order(id, "sign", |o, cx| {
            cx.require(o, &[Status::QcPassed], "the customer signs after QC passed")?;
            let report = render_report(o, cx.policy);
            o.sign_off = Some(SignOff::Signed(Signature {
                signer_name: signer_name.to_string(),
                strokes,
                report_sha256: report_sha256(&report),
                signed_at_ms: cx.now,
                device: cx.device.clone(),
            }));
            cx.transition(o, Status::SignedOff, None, None)
        })
    }

    /// The customer refuses to sign; the reason is recorded and the visit ends.
    pub fn refuse_signature(&self, id: &str, signer_name: &str, reason: &str) -> Result<()> {
        validate::required("signer_name", signer_name, MAX_NAME_CHARS)?;
        validate::required("reason", reason, MAX_TEXT_CHARS)?;
        self.edit_order(id, "refuse sign", |o, cx| {
            cx.require(o, &[Status::QcPassed], "sign-off follows QC")?;
            o.sign_off = Some(SignOff::Refused {
                signer_name: signer_name.to_string(),
                reason: reason.to_string(),
                at_ms: cx.now,
            });
            cx.transition(
                o,
                Status::SignedOff,
                Some("customer refused to sign".into()),
                None,
            )
        })
    }

    /// On-site satisfaction check. An unsatisfied rating opens a complaint candidate.
    pub fn rate(
        &self,
        id: &str,
        rating: Rating,
        score: Option<i64>,
        comment: Option<String>,
    ) -> Result<()> {
        if let Some(s) = score
            && !(1..=5).contains(&s)
        {
            return Err(validate::invalid("score", "must be between 1 and 5").into());
        }
        validate::optional("comment", comment.as_deref(), MAX_TEXT_CHARS)?;
        self.edit_order(id, "rate", |o, cx| {
            cx.require(
                o,
                &[Status::QcPassed, Status::SignedOff],
                "the customer rates at completion",
            )?;
            if o.satisfaction.is_some() {
                return Err(RuleError::Precondition(
                    "the customer has already rated this visit".into(),
                )
                .into());
            }
            o.satisfaction = Some(Satisfaction {
                rating,
                score,
                comment: comment.clone(),
                at_ms: cx.now,
            });
            if rating == Rating::Unsatisfied {
                cx.complaint_candidate(
                    o,
                    comment.unwrap_or_else(|| "unsatisfied at completion".into()),
                );
            }
            Ok(())
        })
    }

    /// A follow-up call by the desk, reached or not. A reached call moves a
    /// signed-off order to followed-up; unsatisfied opens a complaint candidate.
    pub fn record_follow_up(&self, id: &str, call: FollowUpInput) -> Result<()> {
        validate::optional("aspect", call.aspect.as_deref(), MAX_TEXT_CHARS)?;
        validate::optional("comment", call.comment.as_deref(), MAX_TEXT_CHARS)?;
        if !call.reached && call.rating.is_some() {
            return Err(validate::invalid(
                "rating",
                "a call that did not reach the customer has no rating",
            )
            .into());
        }
        if matches!(call.rating, Some(Rating::Neutral | Rating::Unsatisfied))
            && call.aspect.as_deref().is_none_or(|a| a.trim().is_empty())
        {
            return Err(validate::invalid(
                "aspect",
                "ask which aspect a neutral or unsatisfied customer means",
            )
            .into());
        }
        self.edit_order(id, "follow-up", |o, cx| {
            cx.require(
                o,
                &[Status::SignedOff, Status::FollowedUp],
                "follow-up calls come after service",
            )?;
            o.follow_ups.push(FollowUpCall {
                id: new_id("fu"),
                at_ms: cx.now,
                by: cx.user.clone(),
                reached: call.reached,
                rating: call.rating,
                aspect: call.aspect.clone(),
                comment: call.comment.clone(),
            });
            if call.rating == Some(Rating::Unsatisfied) {
                cx.complaint_candidate(o, call.aspect.clone().unwrap_or_default());
            }
            if call.reached && current_status(o) == Status::SignedOff {
                cx.transition(o, Status::FollowedUp, None, None)?;
            }
            Ok(())
        })
    }

    pub fn register_complaint(
        &self,
        id: &str,
        what: &str,
        category: ComplaintCategory,
        major: bool,
    ) -> Result<String> {
        validate::required("what", what, MAX_TEXT_CHARS)?;
        self.edit_order(id, "complaint", |o, cx| {
            let cid = new_id("cp");
            o.complaints.push(Complaint {
                category,
                major,
                ..Complaint::new(
                    cid.clone(),
                    cx.now,
                    cx.user.clone(),
                    what.to_string(),
                    ComplaintStage::Registered,
                )
            });
            Ok(cid)
        })
    }

    /// Move a complaint one step along DOMAIN.md's workflow: register (a
    /// candidate) → judge whether it stands (if not: explain and close) →
    /// responsible party → investigation → proposed resolutions → the
    /// supervisor picks one → the customer signs acceptance → feedback →
    /// closed and classified. Each step is allowed only at its stage.
    pub fn advance_complaint(
        &self,
        id: &str,
        complaint_id: &str,
        step: ComplaintStep,
    ) -> Result<()> {
        match &step {
            ComplaintStep::Judge {
                stands: false,
                explanation,
            } => validate::required(
                "explanation",
                explanation.as_deref().unwrap_or(""),
                MAX_TEXT_CHARS,
            )?,
            ComplaintStep::Judge { explanation, .. } => {
                validate::optional("explanation", explanation.as_deref(), MAX_TEXT_CHARS)?
            }
            ComplaintStep::Responsible { party, team } => {
                validate::required("responsible", party, MAX_NAME_CHARS)?;
                for t in team {
                    validate::required("team", t, MAX_NAME_CHARS)?;
                }
            }
            ComplaintStep::Investigate { findings } => {
                validate::required("investigation", findings, MAX_TEXT_CHARS)?
            }
            ComplaintStep::Propose { resolutions } => {
                if resolutions.is_empty() {
                    return Err(validate::invalid("resolutions", "propose at least one").into());
                }
                for r in resolutions {
                    validate::required("resolutions", r, MAX_TEXT_CHARS)?;
                }
            }
            ComplaintStep::Pick { .. } | ComplaintStep::Close { .. } | ComplaintStep::Register => {}
            ComplaintStep::CustomerAccepts { signer_name } => {
                validate::required("signer_name", signer_name, MAX_NAME_CHARS)?
            }
            ComplaintStep::Feedback { text } => {
                validate::required("feedback", text, MAX_TEXT_CHARS)?
            }
        }
        self.edit_order(id, "complaint step", |o, cx| {
            let c = o
                .complaints
                .iter_mut()
                .find(|c| c.id == complaint_id)
                .ok_or_else(|| Error::NotFound {
                    kind: "complaint",
                    id: complaint_id.to_string(),
                })?;
            let at = |stage: ComplaintStage, what: &str| -> Result<()> {
                if c.stage == stage {
                    Ok(())
                } else {
                    Err(RuleError::Precondition(format!(
                        "{what}: the complaint is at stage {}",
                        complaint_stage_name(c.stage)
                    ))
                    .into())
                }
            };
            use ComplaintStage as S;
            match step {
                ComplaintStep::Register => {
                    at(S::Candidate, "only a candidate is registered")?;
                    c.stage = S::Registered;
                    c.registered_at_ms = cx.now;
                    c.by = cx.user.clone();
                }
                ComplaintStep::Judge {
                    stands,
                    explanation,
                } => {
                    at(S::Registered, "judge a registered complaint")?;
                    c.stands = Some(stands);
                    c.explanation = explanation;
                    if stands {
                        c.stage = S::Investigating;
                    } else {
                        c.stage = S::Closed;
                        c.closed_at_ms = Some(cx.now);
                    }
                }
                ComplaintStep::Responsible { party, team } => {
                    at(
                        S::Investigating,
                        "name the responsible party while investigating",
                    )?;
                    if c.major && team.is_empty() {
                        return Err(validate::invalid(
                            "team",
                            "a major complaint needs a handling team",
                        )
                        .into());
                    }
                    c.responsible = Some(party);
                    c.team = team;
                }
                ComplaintStep::Investigate { findings } => {
                    at(S::Investigating, "record findings while investigating")?;
                    c.investigation = Some(findings);
                }
                ComplaintStep::Propose { resolutions } => {
                    at(S::Investigating, "propose resolutions after investigating")?;
                    if c.responsible.is_none() || c.investigation.is_none() {
                        return Err(RuleError::Precondition(
                            "name the responsible party and record the findings first".into(),
                        )
                        .into());
                    }
                    c.proposals = resolutions;
                    c.stage = S::ResolutionProposed;
                }
                ComplaintStep::Pick { index } => {
                    at(S::ResolutionProposed, "pick from the proposed resolutions")?;
                    let chosen = c.proposals.get(index).cloned().ok_or_else(|| {
                        validate::invalid("resolution", "pick one of the proposed resolutions")
                    })?;
                    c.resolution = Some(chosen);
                }
                ComplaintStep::CustomerAccepts { signer_name } => {
                    at(
                        S::ResolutionProposed,
                        "the customer accepts a proposed resolution",
                    )?;
                    if c.resolution.is_none() {
                        return Err(RuleError::Precondition(
                            "the supervisor picks a resolution first".into(),
                        )
                        .into());
                    }
                    c.accepted_by = Some(signer_name);
                    c.stage = S::CustomerAccepted;
                }
                ComplaintStep::Feedback { text } => {
                    at(
                        S::CustomerAccepted,
                        "feedback comes after the customer accepted",
                    )?;
                    c.feedback = Some(text);
                }
                ComplaintStep::Close { category } => {
                    at(S::CustomerAccepted, "close after the customer accepted")?;
                    if c.feedback.is_none() {
                        return Err(RuleError::Precondition(
                            "collect the customer's feedback first".into(),
                        )
                        .into());
                    }
                    c.category = category;
                    c.stage = S::Closed;
                    c.closed_at_ms = Some(cx.now);
                }
            }
            Ok(())
        })
    }

    /// Record a mail-in milestone at `at_ms` (not before intake, not in the future).
    pub fn record_mail_in(&self, id: &str, milestone: MailInMilestone, at_ms: i64) -> Result<()> {
        self.edit_order(id, "mail-in", |o, cx| {
            let m = o.mail_in.as_mut().ok_or_else(|| {
                RuleError::Precondition("the order is not a mail-in repair".into())
            })?;
            if at_ms < o.created_at_ms || at_ms > cx.now {
                return Err(validate::invalid("at", "must be between intake and now").into());
            }
            let slot = match milestone {
                MailInMilestone::Shipped => &mut m.shipped_at_ms,
                MailInMilestone::ReceiptConfirmed => &mut m.receipt_confirmed_at_ms,
                MailInMilestone::CustomerUpdated => &mut m.customer_updated_at_ms,
                MailInMilestone::SecondContact => &mut m.second_contact_at_ms,
                MailInMilestone::Returned => &mut m.returned_at_ms,
            };
            *slot = Some(at_ms);
            Ok(())
        })
    }

    // ---- reading -----------------------------------------------------------

    /// Orders from the materialised rows; never loads a document.
    pub fn list_orders(&self, filter: &OrderFilter) -> Result<Vec<OrderRow>> {
        for (field, v) in [
            ("assignee", &filter.assignee),
            ("customer", &filter.customer),
        ] {
            validate::optional(field, v.as_deref(), MAX_NAME_CHARS)?;
        }
        let mut g = self.lock()?;
        let now = g.clock.now_ms();
        Ok(g.store.list_orders(filter, now)?)
    }

    /// One order with its SLA clocks, signature validity, fees and conflicts.
    pub fn order(&self, id: &str) -> Result<OrderView> {
        let mut g = self.lock()?;
        let order = g.load_order(id)?;
        let now = g.clock.now_ms();
        let stock: Option<BTreeMap<String, i64>> = match &order.assignee {
            Some(e) => Some(g.store.stock_levels(e)?.into_iter().collect()),
            None => None,
        };
        let policy = g.store.policy();
        let status = current_status(&order);
        let sla = clocks(&order, policy, now);
        Ok(OrderView {
            status,
            follow_up_due: status == Status::SignedOff
                && !order.follow_ups.iter().any(|c| c.reached),
            signature: signature_state_with(&order, policy),
            fees: compute_fees(&order, policy),
            conflicts: order_conflicts(&order, stock.as_ref(), policy),
            mail_in: order
                .mail_in
                .as_ref()
                .map(|m| milestones(m, order.created_at_ms, policy, now))
                .unwrap_or_default(),
            clocks: sla,
            order,
        })
    }

    // ---- catalog and van stock -------------------------------------------

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
        let mut g = self.lock()?;
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

    pub fn upsert_catalog_part(&self, part: CatalogPart) -> Result<()> {
        validate::required("sku", &part.sku, MAX_CODE_CHARS)?;
        validate::required("name", &part.name, MAX_NAME_CHARS)?;
        validate::amount("unit_price", part.unit_price_minor)?;
        if part.low_stock_threshold < 0 {
            return Err(validate::invalid("low_stock_threshold", "must not be negative").into());
        }
        let mut g = self.lock()?;
        let mut catalog = g.catalog()?;
        catalog.parts.insert(part.sku.clone(), part);
        g.save_doc(
            CATALOG_ID,
            DocKind::Catalog,
            &catalog,
            "catalog",
            Rows::None,
        )
    }

    pub fn catalog(&self) -> Result<Vec<CatalogPart>> {
        Ok(self.lock()?.catalog()?.parts.into_values().collect())
    }

    /// Parts received into the van.
    pub fn receive_stock(&self, sku: &str, qty: i64) -> Result<()> {
        self.stock_movement(sku, qty, |_| Ok((qty, MovementKind::Received)))
    }

    /// A bad part returned to the center.
    pub fn return_part(&self, sku: &str, qty: i64) -> Result<()> {
        self.stock_movement(sku, qty, |on_hand| {
            if on_hand < qty {
                return Err(Error::InsufficientStock {
                    sku: sku.to_string(),
                    on_hand,
                    wanted: qty,
                });
            }
            Ok((-qty, MovementKind::Returned))
        })
    }

    /// Stocktake: set the book to the `physical` count.
    pub fn stocktake(&self, sku: &str, physical: i64) -> Result<()> {
        if !(0..=validate::MAX_QTY * 100).contains(&physical) {
            return Err(validate::invalid("physical", "must be a count from 0").into());
        }
        self.stock_movement(sku, 1, |book| {
            Ok((physical - book, MovementKind::Adjusted { book, physical }))
        })
    }

    fn stock_movement(
        &self,
        sku: &str,
        qty: i64,
        delta: impl FnOnce(i64) -> Result<(i64, MovementKind)>,
    ) -> Result<()> {
        validate::required("sku", sku, MAX_CODE_CHARS)?;
        validate::quantity("qty", qty)?;
        let mut g = self.lock()?;
        if !g.catalog()?.parts.contains_key(sku) {
            return Err(Error::UnknownSku {
                sku: sku.to_string(),
            });
        }
        let on_hand = g.on_hand(sku)?;
        let (d, kind) = delta(on_hand)?;
        let (id, heads_before, levels) = g.stage_stock_movement(sku, d, kind, "stock")?;
        let engineer = g.acting_user();
        let rows = Rows::Stock {
            engineer: &engineer,
            levels: &levels,
        };
        let hlc = g.meta_hlc();
        let device = g.device_id.clone();
        g.store.persist(
            &[Write {
                doc_id: &id,
                kind: DocKind::VanStock,
                heads_before,
                rows,
                compact: false,
                origin: Some(&device),
            }],
            &[(META_HLC, &hlc)],
        )?;
        Ok(())
    }

    /// The signed-in engineer's van: levels with reorder hints, from rows.
    pub fn van_stock(&self) -> Result<Vec<StockLevel>> {
        let mut g = self.lock()?;
        let catalog = g.catalog()?;
        let engineer = g.acting_user();
        let levels = g.store.stock_levels(&engineer)?;
        Ok(levels
            .into_iter()
            .map(|(sku, on_hand)| {
                let part = catalog.parts.get(&sku);
                StockLevel {
                    name: part.map(|p| p.name.clone()),
                    low_stock_threshold: part.map(|p| p.low_stock_threshold),
                    reorder: part.is_some_and(|p| on_hand < p.low_stock_threshold),
                    on_hand,
                    sku,
                }
            })
            .collect())
    }

    pub fn stock_ledger(&self) -> Result<Vec<StockMovement>> {
        let mut g = self.lock()?;
        let id = stock_doc_id(&g.user);
        if !g.store.contains(&id)? {
            return Ok(vec![]);
        }
        let doc = g.doc(&id)?;
        hydrate_prop(doc, automerge::ROOT, "ledger").map_err(|e| corrupt(&id, e))
    }

    // ---- changes in and out (sync) -----------------------------------------

    /// Current heads of a document, hex encoded.
    pub fn heads(&self, doc_id: &str) -> Result<Vec<String>> {
        let mut g = self.lock()?;
        let doc = g.doc(doc_id)?;
        Ok(doc.get_heads().iter().map(|h| h.to_string()).collect())
    }

    /// The document's changes that are not ancestors of `since` (hex heads of
    /// the receiving side; heads this side has never seen are skipped, so the
    /// receiver's own heads can be passed as they are; empty: everything).
    pub fn export_changes(&self, doc_id: &str, since: &[String]) -> Result<Vec<u8>> {
        let heads = parse_heads(since)?;
        let mut g = self.lock()?;
        let doc = g.doc(doc_id)?;
        let known: Vec<ChangeHash> = heads
            .into_iter()
            .filter(|h| doc.get_change_by_hash(h).is_some())
            .collect();
        Ok(doc.save_after(&known))
    }

    /// Apply changes made elsewhere. Malformed bytes, or a result that is not
    /// a valid document of its kind, are refused and change nothing.
    pub fn import_changes(&self, doc_id: &str, bytes: &[u8]) -> Result<ImportOutcome> {
        let kind = DocKind::of_id(doc_id)
            .ok_or_else(|| validate::invalid("doc_id", "is not a document id"))?;
        let mut g = self.lock()?;
        g.import(doc_id, kind, bytes, None)
    }

    /// Every document id held, of each kind (orders, van stock, catalog).
    pub fn document_ids(&self) -> Result<Vec<String>> {
        let mut g = self.lock()?;
        let mut ids = Vec::new();
        for k in [DocKind::WorkOrder, DocKind::VanStock, DocKind::Catalog] {
            ids.extend(g.store.doc_ids(k)?);
        }
        Ok(ids)
    }

    /// See [`Store::unsynchronised_for_fixtures`]: benchmark fixtures only.
    #[doc(hidden)]
    pub fn unsynchronised_for_fixtures(&self) -> Result<()> {
        Ok(self.lock()?.store.unsynchronised_for_fixtures()?)
    }

    // ---- sync: the device side -------------------------------------------

    /// The oldest changes made here that the server has not acknowledged,
    /// about `max_bytes` of them (at least one).
    pub fn outbox(&self, max_bytes: usize) -> Result<Vec<LoggedChange>> {
        Ok(log::oldest(self.lock()?.store.db(), max_bytes)?)
    }

    /// The server acknowledged (or finally refused) these outbox entries.
    pub fn acknowledge(&self, seqs: &[i64]) -> Result<()> {
        Ok(log::delete(self.lock()?.store.db(), seqs)?)
    }

    /// Changes waiting in the outbox.
    pub fn pending_changes(&self) -> Result<i64> {
        Ok(log::pending(self.lock()?.store.db())?)
    }

    /// How far this device has pulled the server's log.
    pub fn sync_cursor(&self) -> Result<i64> {
        let mut g = self.lock()?;
        Ok(g.store
            .meta(META_CURSOR)?
            .and_then(|c| c.parse().ok())
            .unwrap_or(0))
    }

    pub fn set_sync_cursor(&self, cursor: i64) -> Result<()> {
        Ok(self
            .lock()?
            .store
            .set_meta(META_CURSOR, &cursor.to_string())?)
    }

    /// Orders whose local copy holds changes the server refused: they are
    /// replaced by the server's copy ([`Fieldwork::replace_with_server_copy`]).
    /// Kept in the store, so a crash between dropping and re-fetching a copy
    /// is finished on the next sync.
    pub fn refetch_pending(&self) -> Result<Vec<String>> {
        Ok(self
            .lock()?
            .store
            .meta(META_REFETCH)?
            .map(|v| {
                v.split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Mark (`true`) or unmark an order for re-fetching from the server.
    pub fn set_refetch(&self, doc_id: &str, pending: bool) -> Result<()> {
        let mut list = self.refetch_pending()?;
        list.retain(|d| d != doc_id);
        if pending {
            list.push(doc_id.to_string());
        }
        Ok(self.lock()?.store.set_meta(META_REFETCH, &list.join(","))?)
    }

    /// Replace this device's copy of an order with the server's whole
    /// document `bytes`, unless changes made here still wait in the outbox.
    /// The bytes are checked before anything is dropped. Returns whether the
    /// copy was replaced (and unmarked); if not, it stays marked for later.
    pub fn replace_with_server_copy(&self, doc_id: &str, bytes: &[u8]) -> Result<bool> {
        let malformed = |reason: String| Error::MalformedDocument {
            doc_id: doc_id.to_string(),
            reason,
        };
        let read = chunks::read_any(bytes, &chunks::Limits::DEFAULT)
            .map_err(|e| malformed(e.to_string()))?;
        let mut probe = AutoCommit::new();
        probe
            .load_incremental(&read.plain)
            .map_err(|e| malformed(e.to_string()))?;
        check_kind(&probe, DocKind::WorkOrder).map_err(malformed)?;
        let replaced = {
            let mut g = self.lock()?;
            if log::pending_for(g.store.db(), doc_id)? > 0 {
                false
            } else {
                g.orders.remove(doc_id);
                g.store.forget(doc_id)?;
                g.import(doc_id, DocKind::WorkOrder, bytes, None)?;
                true
            }
        };
        if replaced {
            self.set_refetch(doc_id, false)?;
        }
        Ok(replaced)
    }

    /// Drop an order that was reassigned away, unless changes made here are
    /// still waiting to reach the server. Returns whether it was dropped.
    pub fn forget_if_synced(&self, doc_id: &str) -> Result<bool> {
        let mut g = self.lock()?;
        if log::pending_for(g.store.db(), doc_id)? > 0 {
            return Ok(false);
        }
        g.orders.remove(doc_id);
        g.store.forget(doc_id)?;
        Ok(true)
    }

    // ---- sync: the server side -------------------------------------------

    /// Open the server's store for a tenant: as [`Fieldwork::open`], and it
    /// records which engineer may see which order.
    pub fn open_server(path: impl AsRef<Path>, config: Config) -> Result<Fieldwork> {
        check_config(&config)?;
        let mut store = Store::open(path.as_ref(), config.policy.clone())?;
        store.keep_grants();
        Self::with_store(store, config)
    }

    /// Apply a device's push of one document, all or nothing. The device
    /// belongs to `engineer`; every change must be made by the device itself.
    pub fn apply_push(
        &self,
        device_id: &str,
        engineer: &str,
        doc_id: &str,
        bytes: &[u8],
    ) -> Result<(), PushRefusal> {
        let kind = self.check_push(device_id, engineer, doc_id, bytes)?;
        let mut g = self.lock()?;
        match g.import(doc_id, kind, bytes, Some(device_id)) {
            Ok(outcome) if outcome.missing.is_empty() => Ok(()),
            Ok(outcome) => Err(PushRefusal::MissingDependencies(
                outcome.missing.iter().map(ToString::to_string).collect(),
            )),
            Err(Error::Store(e)) => Err(PushRefusal::Store(e)),
            Err(e) => Err(PushRefusal::Refused(e.to_string())),
        }
    }

    /// Every check of [`Fieldwork::apply_push`] short of applying: the
    /// server checks a whole request before it stores any of it.
    pub fn check_push(
        &self,
        device_id: &str,
        engineer: &str,
        doc_id: &str,
        bytes: &[u8],
    ) -> Result<DocKind, PushRefusal> {
        let kind = DocKind::of_id(doc_id)
            .ok_or_else(|| PushRefusal::Refused("not a document id".into()))?;
        let read = chunks::read_changes(bytes, &chunks::Limits::DEFAULT)
            .map_err(|e| PushRefusal::Refused(e.to_string()))?;
        let actor =
            device_actor(device_id).map_err(|_| PushRefusal::Refused("unknown device".into()))?;
        if read.changes.iter().any(|c| *c.change.actor_id() != actor) {
            return Err(PushRefusal::Refused(
                "a change was not made by this device".into(),
            ));
        }
        let mut g = self.lock()?;
        let exists = g.store.contains(doc_id)?;
        match kind {
            DocKind::Catalog => {
                return Err(PushRefusal::Forbidden(
                    "the catalog is edited by the desk".into(),
                ));
            }
            DocKind::VanStock if doc_id != stock_doc_id(engineer) => {
                return Err(PushRefusal::Forbidden(
                    "another engineer's van stock".into(),
                ));
            }
            DocKind::WorkOrder if exists && !log::ever_granted(g.store.db(), doc_id, engineer)? => {
                return Err(PushRefusal::Forbidden(
                    "the order was never assigned to this engineer".into(),
                ));
            }
            _ => {}
        }
        if !exists && kind == DocKind::WorkOrder {
            // A new order made on the device must be assigned to its engineer.
            let mut probe = AutoCommit::new();
            probe
                .load_incremental(&read.plain)
                .map_err(|e| PushRefusal::Refused(e.to_string()))?;
            let order: WorkOrder = hydrate(&probe)
                .map_err(|e| PushRefusal::Refused(format!("not a work order: {e}")))?;
            if order.assignee.as_deref() != Some(engineer) {
                return Err(PushRefusal::Forbidden(
                    "a new order must be assigned to the engineer who made it".into(),
                ));
            }
        }
        Ok(kind)
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
            self.lock()?.store.db(),
            engineer,
            device_id,
            cursor,
            limit,
        )?)
    }

    /// Whether `engineer` may read `doc_id` now.
    pub fn readable_by(&self, doc_id: &str, engineer: &str) -> Result<bool> {
        let mut g = self.lock()?;
        Ok(match DocKind::of_id(doc_id) {
            Some(DocKind::Catalog) => true,
            Some(DocKind::VanStock) => doc_id == stock_doc_id(engineer),
            Some(DocKind::WorkOrder) => log::granted_now(g.store.db(), doc_id, engineer)?,
            None => false,
        })
    }

    /// The newest position of the change log.
    pub fn log_position(&self) -> Result<i64> {
        Ok(log::max_seq(self.lock()?.store.db())?)
    }

    pub fn integrity_check(&self) -> Result<String> {
        Ok(self.lock()?.store.integrity_check()?)
    }

    fn edit_order<T>(
        &self,
        id: &str,
        intent: &str,
        f: impl FnOnce(&mut WorkOrder, &mut Cx<'_>) -> Result<T>,
    ) -> Result<T> {
        let mut g = self.lock()?;
        let mut o = g.load_order(id)?;
        let mut cx = g.cx();
        let out = f(&mut o, &mut cx)?;
        g.hlc = cx.hlc;
        g.save_order(&o, intent)?;
        Ok(out)
    }
}

fn parse_heads(heads: &[String]) -> Result<Vec<ChangeHash>> {
    heads
        .iter()
        .map(|h| {
            h.parse::<ChangeHash>()
                .map_err(|_| Error::from(validate::invalid("since", "is not a change hash")))
        })
        .collect()
}

/// What an intent's closure may read and the clocks it advances.
struct Cx<'a> {
    now: i64,
    user: String,
    device: String,
    policy: &'a Policy,
    hlc: Hlc,
}

impl Cx<'_> {
    fn transition(
        &mut self,
        o: &mut WorkOrder,
        to: Status,
        reason: Option<String>,
        location: Option<Location>,
    ) -> Result<()> {
        check_transition(o, to)?;
        let from = current_status(o);
        let stamp = self.hlc.tick(self.now);
        o.events.push(LifecycleEvent {
            id: new_id("ev"),
            from,
            to,
            by: self.user.clone(),
            device: self.device.clone(),
            at_ms: self.now,
            hlc: stamp.encode(&self.device),
            reason,
            location,
        });
        Ok(())
    }

    fn require(&self, o: &WorkOrder, allowed: &[Status], why: &str) -> Result<()> {
        let s = current_status(o);
        if allowed.contains(&s) {
            Ok(())
        } else {
            Err(wrong_status(s, why).into())
        }
    }

    fn complaint_candidate(&self, o: &mut WorkOrder, what: String) {
        o.complaints.push(Complaint::new(
            new_id("cp"),
            self.now,
            self.user.clone(),
            what,
            ComplaintStage::Candidate,
        ));
    }
}

thread_local! {
    /// The person a server-side call acts for (see [`Fieldwork::acting_as`]).
    static ACTING_AS: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

impl Fieldwork {
    /// Run `f` with every change it makes recorded as `user`'s rather than
    /// the store's own user: the server records a dispatcher's board or API
    /// action under the dispatcher's name. Only the calling thread is
    /// affected, and only for the length of `f`.
    pub fn acting_as<T>(&self, user: &str, f: impl FnOnce(&Fieldwork) -> T) -> T {
        struct Reset(Option<String>);
        impl Drop for Reset {
            fn drop(&mut self) {
                let previous = self.0.take();
                ACTING_AS.with(|a| *a.borrow_mut() = previous);
            }
        }
        let previous = ACTING_AS.with(|a| a.borrow_mut().replace(user.to_string()));
        let _reset = Reset(previous);
        f(self)
    }
}

impl Inner {
    /// Who this call's changes are recorded as.
    fn acting_user(&self) -> String {
        ACTING_AS
            .with(|a| a.borrow().clone())
            .unwrap_or_else(|| self.user.clone())
    }

    fn cx(&self) -> Cx<'_> {
        Cx {
            now: self.clock.now_ms(),
            user: self.acting_user(),
            device: self.device_id.clone(),
            policy: self.store.policy(),
            hlc: self.hlc,
        }
    }

    fn doc(&mut self, doc_id: &str) -> Result<&mut AutoCommit> {
        let kind = match DocKind::of_id(doc_id) {
            Some(DocKind::WorkOrder) => "order",
            Some(DocKind::VanStock) => "van stock",
            Some(DocKind::Catalog) => "catalog",
            None => return Err(validate::invalid("id", "is not a document id").into()),
        };
        match self.store.doc(doc_id) {
            Err(StoreError::NotFound(_)) => Err(Error::NotFound {
                kind,
                id: doc_id.to_string(),
            }),
            other => Ok(other?),
        }
    }

    fn load_order(&mut self, id: &str) -> Result<WorkOrder> {
        if DocKind::of_id(id) != Some(DocKind::WorkOrder) {
            return Err(Error::NotFound {
                kind: "order",
                id: id.to_string(),
            });
        }
        if let Some(o) = self.orders.get(id) {
            return Ok(o.clone());
        }
        let doc = self.doc(id)?;
        let order: WorkOrder = hydrate(doc).map_err(|e| corrupt(id, e))?;
        self.remember(&order);
        Ok(order)
    }

    fn remember(&mut self, order: &WorkOrder) {
        if self.orders.len() >= CACHE_ORDERS {
            self.orders.clear();
        }
        self.orders.insert(order.id.clone(), order.clone());
    }

    fn catalog(&mut self) -> Result<Catalog> {
        if !self.store.contains(CATALOG_ID)? {
            return Ok(Catalog::default());
        }
        let doc = self.doc(CATALOG_ID)?;
        hydrate(doc).map_err(|e| corrupt(CATALOG_ID, e))
    }

    /// The signed-in engineer's on-hand count of `sku`, from the rows.
    fn on_hand(&mut self, sku: &str) -> Result<i64> {
        Ok(self
            .store
            .stock_levels(&self.user)?
            .into_iter()
            .find(|(s, _)| s == sku)
            .map(|(_, n)| n)
            .unwrap_or(0))
    }

    /// Change the van's counter for `sku` by `delta` and append the ledger
    /// line, touching only those two places of the document (the ledger grows
    /// for years; it is never rewritten). Returns the document id, the heads
    /// before, and the new levels.
    fn stage_stock_movement(
        &mut self,
        sku: &str,
        delta: i64,
        kind: MovementKind,
        intent: &str,
    ) -> Result<(String, Vec<ChangeHash>, BTreeMap<String, i64>)> {
        let id = stock_doc_id(&self.user);
        let movement = StockMovement {
            id: new_id("mv"),
            sku: sku.to_string(),
            kind,
            delta,
            by: self.user.clone(),
            device: self.device_id.clone(),
            at_ms: self.clock.now_ms(),
        };
        let fresh = !self.store.contains(&id)?;
        let engineer = self.user.clone();
        let device = self.device_id.clone();
        let (before, levels) = self.change_doc(&id, intent, |doc| {
            if fresh {
                let empty = VanStock {
                    engineer,
                    counts: BTreeMap::new(),
                    ledger: vec![],
                };
                reconcile(doc, &empty).map_err(|e| e.to_string())?;
            }
            let mut counts: BTreeMap<String, StockCount> =
                hydrate_prop(&*doc, automerge::ROOT, "counts").map_err(|e| e.to_string())?;
            counts
                .entry(VanStock::count_key(sku, &device))
                .or_insert_with(|| StockCount {
                    on_hand: autosurgeon::Counter::with_value(0),
                })
                .on_hand
                .increment(delta);
            reconcile_prop(doc, automerge::ROOT, "counts", &counts).map_err(|e| e.to_string())?;
            let ledger = match doc.get(automerge::ROOT, "ledger") {
                Ok(Some((automerge::Value::Object(automerge::ObjType::List), obj))) => obj,
                _ => return Err("the van stock has no ledger list".into()),
            };
            let len = doc.length(&ledger);
            reconcile_insert(doc, ledger, len, &movement).map_err(|e| e.to_string())?;
            Ok(VanStock::levels_of(&counts))
        })?;
        Ok((id, before, levels))
    }

    /// Make one change to a document (created empty if new) and commit it
    /// named `intent`; returns the heads from before and what `edit` returned.
    /// If `edit` fails the change is rolled back and the cached copy dropped.
    fn change_doc<T>(
        &mut self,
        doc_id: &str,
        intent: &str,
        edit: impl FnOnce(&mut AutoCommit) -> std::result::Result<T, String>,
    ) -> Result<(Vec<ChangeHash>, T)> {
        let now = self.clock.now_ms();
        if !self.store.contains(doc_id)? {
            let doc = AutoCommit::new().with_actor(self.actor.clone());
            self.store.insert_new(doc_id, doc);
        }
        let actor = self.actor.clone();
        let doc = self.store.doc(doc_id)?;
        doc.set_actor(actor);
        let before = doc.get_heads();
        match edit(doc) {
            Ok(out) => {
                doc.commit_with(
                    CommitOptions::default()
                        .with_message(intent.to_string())
                        .with_time(now / 1000),
                );
                Ok((before, out))
            }
            Err(reason) => {
                doc.rollback();
                self.store.evict(doc_id);
                Err(StoreError::Corrupt {
                    doc_id: doc_id.to_string(),
                    reason,
                }
                .into())
            }
        }
    }

    /// Reconcile `value` into its document and commit one change named
    /// `intent`; returns the heads from before (empty for a new document).
    fn stage<T: Reconcile>(
        &mut self,
        doc_id: &str,
        value: &T,
        intent: &str,
    ) -> Result<Vec<ChangeHash>> {
        self.change_doc(doc_id, intent, |doc| {
            reconcile(doc, value).map_err(|e| e.to_string())
        })
        .map(|(before, ())| before)
    }

    fn meta_hlc(&self) -> String {
        self.hlc.encode(&self.device_id)
    }

    /// Commit one change holding the fields of `o` that differ from the
    /// stored order (all of it for a new order).
    fn stage_order(&mut self, o: &WorkOrder, intent: &str) -> Result<Vec<ChangeHash>> {
        let Some(before) = self.orders.remove(&o.id) else {
            return self.stage(&o.id, o, intent);
        };
        self.change_doc(&o.id, intent, |doc| {
            reconcile_changed_fields(doc, &before, o).map_err(|e| e.to_string())
        })
        .map(|(heads, ())| heads)
    }

    fn save_order(&mut self, o: &WorkOrder, intent: &str) -> Result<()> {
        validate::order(o)?;
        // A visit that just ended (signed off, closed, cancelled) is saved
        // whole: its document will rarely change again.
        let settled = |st: Status| st.is_terminal() || st == Status::SignedOff;
        let ended_now = settled(current_status(o))
            && self
                .orders
                .get(&o.id)
                .is_some_and(|b| !settled(current_status(b)));
        let heads_before = self.stage_order(o, intent)?;
        let hlc = self.meta_hlc();
        let write = Write {
            doc_id: &o.id,
            kind: DocKind::WorkOrder,
            heads_before,
            rows: Rows::Order(o),
            compact: ended_now,
            origin: Some(&self.device_id),
        };
        self.store.persist(&[write], &[(META_HLC, &hlc)])?;
        self.remember(o);
        Ok(())
    }

    /// A part fitted from the van: the order and the stock move in one transaction.
    fn save_order_and_stock(
        &mut self,
        o: &WorkOrder,
        sku: &str,
        delta: i64,
        kind: MovementKind,
        intent: &str,
    ) -> Result<()> {
        validate::order(o)?;
        let order_heads = self.stage_order(o, intent)?;
        let (stock_id, stock_heads, levels) =
            match self.stage_stock_movement(sku, delta, kind, intent) {
                Ok(staged) => staged,
                Err(e) => {
                    self.store.evict(&o.id);
                    return Err(e);
                }
            };
        let hlc = self.meta_hlc();
        let engineer = self.user.clone();
        let writes = [
            Write {
                doc_id: &o.id,
                kind: DocKind::WorkOrder,
                heads_before: order_heads,
                rows: Rows::Order(o),
                compact: false,
                origin: Some(&self.device_id),
            },
            Write {
                doc_id: &stock_id,
                kind: DocKind::VanStock,
                heads_before: stock_heads,
                rows: Rows::Stock {
                    engineer: &engineer,
                    levels: &levels,
                },
                compact: false,
                origin: Some(&self.device_id),
            },
        ];
        self.store.persist(&writes, &[(META_HLC, &hlc)])?;
        self.remember(o);
        Ok(())
    }

    fn save_doc<T: Reconcile>(
        &mut self,
        doc_id: &str,
        kind: DocKind,
        value: &T,
        intent: &str,
        rows: Rows<'_>,
    ) -> Result<()> {
        let heads_before = self.stage(doc_id, value, intent)?;
        self.store.persist(
            &[Write {
                doc_id,
                kind,
                heads_before,
                rows,
                compact: false,
                origin: Some(&self.device_id),
            }],
            &[],
        )?;
        Ok(())
    }

    /// Apply changes made elsewhere; `origin` (the pushing device, on the
    /// server) puts them in the change log.
    fn import(
        &mut self,
        doc_id: &str,
        kind: DocKind,
        bytes: &[u8],
        origin: Option<&str>,
    ) -> Result<ImportOutcome> {
        let malformed = |reason: String| Error::MalformedDocument {
            doc_id: doc_id.to_string(),
            reason,
        };
        // Automerge's incremental load skips what it cannot parse, and
        // inflates compressed changes without a limit: read every chunk first,
        // bounded, so truncated, foreign or hostile bytes are refused, and
        // hand Automerge only what passed, uncompressed. A device pushes
        // changes; whole documents come only from the server.
        let read = match origin {
            Some(_) => chunks::read_changes(bytes, &chunks::Limits::DEFAULT),
            None => chunks::read_any(bytes, &chunks::Limits::DEFAULT),
        }
        .map_err(|e| malformed(e.to_string()))?;
        let cached = self.orders.remove(doc_id);
        let exists = self.store.contains(doc_id)?;
        // A device's push may not touch what only the desk decides: the
        // order as it was is kept to compare with (decision 0008).
        let desk_view = match (origin, kind, exists) {
            (Some(_), DocKind::WorkOrder, true) => match cached {
                Some(o) => Some(o),
                None => Some(
                    hydrate::<_, WorkOrder>(self.store.doc(doc_id)?)
                        .map_err(|e| malformed(e.to_string()))?,
                ),
            },
            _ => None,
        };
        if !exists {
            self.store
                .insert_new(doc_id, AutoCommit::new().with_actor(self.actor.clone()));
        }
        let doc = self.store.doc(doc_id)?;
        let before = doc.get_heads();
        let loaded = doc.load_incremental(&read.plain);
        let missing = doc.get_missing_deps(&[]);
        let waiting = !missing.is_empty();
        if waiting && origin.is_some() {
            // The server acknowledges only what it stores, and keeps nothing
            // waiting in memory: drop the queued changes with the copy.
            self.store.evict(doc_id);
            return Ok(ImportOutcome {
                changed: false,
                waiting_for_deps: true,
                missing,
            });
        }
        let after = doc.get_heads();
        let result: Result<Rows2> = match loaded {
            Err(e) => Err(malformed(e.to_string())),
            Ok(_) if after == before => Ok(Rows2::Unchanged),
            Ok(_) => check_kind(doc, kind).map_err(malformed),
        };
        let rows = match result {
            Err(e) => {
                self.store.evict(doc_id);
                return Err(e);
            }
            Ok(Rows2::Unchanged) => {
                if !exists {
                    self.store.evict(doc_id);
                }
                return Ok(ImportOutcome {
                    changed: false,
                    waiting_for_deps: waiting,
                    missing: Vec::new(),
                });
            }
            Ok(r) => r,
        };
        if let Rows2::Order(o) = &rows {
            if o.id != doc_id {
                self.store.evict(doc_id);
                return Err(malformed(
                    "the order's id does not match the document id".into(),
                ));
            }
            if let Some(before) = &desk_view
                && let Err(why) = device_may_change(before, o)
            {
                self.store.evict(doc_id);
                return Err(
                    RuleError::Precondition(format!("not allowed from a device: {why}")).into(),
                );
            }
            for ev in &o.events {
                if let Some(h) = Hlc::decode(&ev.hlc) {
                    self.hlc.observe(h);
                }
            }
        }
        let hlc = self.meta_hlc();
        let write_rows = match &rows {
            Rows2::Order(o) => Rows::Order(o),
            Rows2::Stock(engineer, levels) => Rows::Stock { engineer, levels },
            Rows2::Catalog | Rows2::Unchanged => Rows::None,
        };
        self.store.persist(
            &[Write {
                doc_id,
                kind,
                heads_before: before,
                rows: write_rows,
                compact: false,
                origin,
            }],
            &[(META_HLC, &hlc)],
        )?;
        // Acknowledged means stored: every pushed change is in the
        // document just committed.
        let doc = self.store.doc(doc_id)?;
        let absent: Vec<ChangeHash> = read
            .changes
            .iter()
            .map(chunks::VerifiedChange::hash)
            .filter(|h| doc.get_change_by_hash(h).is_none())
            .collect();
        Ok(ImportOutcome {
            changed: true,
            waiting_for_deps: waiting,
            missing: if origin.is_some() { absent } else { Vec::new() },
        })
    }
}

/// What a device's changes may not do to an order that the server holds:
/// the intake, the assignment, rework links and the desk's follow-up calls
/// are the desk's; complaints are the desk's except the candidates a rating
/// opens; only the desk dispatches.
fn device_may_change(
    before: &WorkOrder,
    after: &WorkOrder,
) -> std::result::Result<(), &'static str> {
    if after.id != before.id
        || after.created_at_ms != before.created_at_ms
        || after.created_by != before.created_by
    {
        return Err("the order's identity is fixed at intake");
    }
    if after.intake != before.intake {
        return Err("the intake is the desk's");
    }
    if after.assignee != before.assignee {
        return Err("the desk assigns orders");
    }
    if after.rework_of != before.rework_of {
        return Err("rework links are set at intake");
    }
    if after.follow_ups != before.follow_ups {
        return Err("follow-up calls are the desk's");
    }
    let kept = before
        .complaints
        .iter()
        .all(|c| after.complaints.iter().any(|a| a == c));
    let added_only_candidates = after
        .complaints
        .iter()
        .filter(|a| !before.complaints.iter().any(|c| c.id == a.id))
        .all(|a| a.stage == ComplaintStage::Candidate);
    if !kept || !added_only_candidates {
        return Err("complaints are handled by the desk");
    }
    let dispatched = |o: &WorkOrder| {
        o.events
            .iter()
            .filter(|e| e.to == Status::Dispatched)
            .count()
    };
    if dispatched(after) != dispatched(before) {
        return Err("the desk dispatches orders");
    }
    Ok(())
}

/// Reconcile only the top-level fields that changed: an edit then reads and
/// writes one part of the document, not all of it. The destructuring lists
/// every field, so a field added to `WorkOrder` must be added here too.
fn reconcile_changed_fields(
    doc: &mut AutoCommit,
    old: &WorkOrder,
    new: &WorkOrder,
) -> std::result::Result<(), autosurgeon::ReconcileError> {
    // Destructuring with the list makes the compiler check it is complete.
    macro_rules! changed {
        ($($field:ident),* $(,)?) => {
            let WorkOrder { $($field),* } = new;
            $(
                if &old.$field != $field {
                    reconcile_prop(doc, automerge::ROOT, stringify!($field), $field)?;
                }
            )*
        };
    }
    changed!(
        id,
        created_at_ms,
        created_by,
        intake,
        assignee,
        events,
        diagnosis,
        extra_faults,
        repair_notes,
        parts,
        fees,
        warranty,
        consents,
        qc,
        sla_exception,
        sign_off,
        satisfaction,
        follow_ups,
        complaints,
        mail_in,
        rework_of,
    );
    Ok(())
}

/// Check that `bytes` are well-formed Automerge changes within the bounds
/// (what a push carries), with the reason if not.
pub fn check_change_bytes(bytes: &[u8]) -> std::result::Result<(), String> {
    chunks::read_changes(bytes, &chunks::Limits::DEFAULT)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

enum Rows2 {
    Unchanged,
    Order(Box<WorkOrder>),
    Stock(String, BTreeMap<String, i64>),
    Catalog,
}

/// An imported document must still be a valid document of its kind.
fn check_kind(doc: &AutoCommit, kind: DocKind) -> std::result::Result<Rows2, String> {
    fn h<T: Hydrate>(doc: &AutoCommit) -> std::result::Result<T, String> {
        hydrate(doc).map_err(|e| format!("not a valid document of its kind: {e}"))
    }
    Ok(match kind {
        DocKind::WorkOrder => {
            let o: WorkOrder = h(doc)?;
            validate::order(&o).map_err(|e| e.to_string())?;
            Rows2::Order(Box::new(o))
        }
        DocKind::VanStock => {
            let stock: VanStock = h(doc)?;
            let levels = stock.levels();
            Rows2::Stock(stock.engineer, levels)
        }
        DocKind::Catalog => {
            h::<Catalog>(doc)?;
            Rows2::Catalog
        }
    })
}

fn corrupt(doc_id: &str, e: autosurgeon::HydrateError) -> Error {
    StoreError::Corrupt {
        doc_id: doc_id.to_string(),
        reason: e.to_string(),
    }
    .into()
}
