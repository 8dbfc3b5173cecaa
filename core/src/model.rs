//! The documents Fieldwork keeps: a work order, an engineer's van stock and the
//! parts catalog, as plain Rust types mapped to Automerge with `autosurgeon`.
//!
//! Every list that replicas append to concurrently (events, parts lines, fees,
//! consents, QC records, calls, complaints, ledger) has an `id` marked `#[key]`
//! so that merges keep both sides' entries. Times are UTC milliseconds since
//! the Unix epoch; money is in minor units (cents, fen) of the tenant's currency.

use autosurgeon::{Counter, Hydrate, Reconcile};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How a request reached the service center.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Reconcile, Hydrate, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Phone,
    Email,
    OnlineChat,
    WalkIn,
    MailIn,
}

/// The complaint / request category the center reports on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Reconcile, Hydrate, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    ProductQuality,
    UsageOperation,
    InstallationCommissioning,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Reconcile, Hydrate, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Normal,
    Urgent,
}

/// Where the site is, for the arrival clock: urban sites get the base limit,
/// others add a recorded travel allowance.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SiteZone {
    Urban,
    OutsideUrban { travel_allowance_min: i64 },
}

#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Customer {
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: String,
    pub member: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Product {
    pub model: String,
    pub serial: String,
    /// Calendar date, `YYYY-MM-DD`.
    pub purchase_date: Option<String>,
    /// Invoice number or a reference to a photo of it.
    pub proof_of_purchase: Option<String>,
}

/// The fault as the customer describes it at intake.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Fault {
    pub symptoms: String,
    pub frequency: Option<String>,
    pub since: Option<String>,
    pub environment: Option<String>,
    pub already_tried: Option<String>,
}

/// Everything a work order holds from the start.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Intake {
    pub channel: Channel,
    pub customer: Customer,
    pub product: Product,
    pub fault: Fault,
    pub category: Category,
    pub priority: Priority,
    /// Resolution time promised to the customer.
    pub promised_by_ms: Option<i64>,
    pub site_zone: SiteZone,
}

/// The lifecycle of docs/domain.md.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Reconcile,
    Hydrate,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Received,
    Dispatched,
    Accepted,
    EnRoute,
    OnSite,
    InProgress,
    AwaitingParts,
    Repaired,
    QcFailed,
    QcPassed,
    SignedOff,
    FollowedUp,
    Closed,
    Cancelled,
    ResolvedRemotely,
}

impl Status {
    pub const ALL: [Status; 15] = [
        Status::Received,
        Status::Dispatched,
        Status::Accepted,
        Status::EnRoute,
        Status::OnSite,
        Status::InProgress,
        Status::AwaitingParts,
        Status::Repaired,
        Status::QcFailed,
        Status::QcPassed,
        Status::SignedOff,
        Status::FollowedUp,
        Status::Closed,
        Status::Cancelled,
        Status::ResolvedRemotely,
    ];

    /// The stable name used in the store, in JSON and on the board.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Received => "received",
            Status::Dispatched => "dispatched",
            Status::Accepted => "accepted",
            Status::EnRoute => "en_route",
            Status::OnSite => "on_site",
            Status::InProgress => "in_progress",
            Status::AwaitingParts => "awaiting_parts",
            Status::Repaired => "repaired",
            Status::QcFailed => "qc_failed",
            Status::QcPassed => "qc_passed",
            Status::SignedOff => "signed_off",
            Status::FollowedUp => "followed_up",
            Status::Closed => "closed",
            Status::Cancelled => "cancelled",
            Status::ResolvedRemotely => "resolved_remotely",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// No further work happens on an order in a terminal state.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Status::Closed | Status::Cancelled | Status::ResolvedRemotely
        )
    }
}

/// A place the app reports (the core never asks for it).
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Location {
    pub lat: f64,
    pub lon: f64,
    pub accuracy_m: Option<f64>,
}

/// One lifecycle transition: who, from which device, when by the device's
/// clock, and when by the hybrid logical clock that orders merged events.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct LifecycleEvent {
    #[key]
    pub id: String,
    pub from: Status,
    pub to: Status,
    pub by: String,
    pub device: String,
    pub at_ms: i64,
    pub hlc: String,
    pub reason: Option<String>,
    pub location: Option<Location>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    Software,
    Hardware,
}

#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Diagnosis {
    /// Short code naming the fault; rework is "the same code again on the same unit".
    pub fault_code: String,
    pub kind: FaultKind,
    pub findings: String,
    /// SKUs the engineer expects to use; any other part needs the customer's consent.
    pub planned_parts: Vec<String>,
    /// Estimated amount told to the customer before paid work.
    pub estimate_minor: i64,
    pub misuse: bool,
    pub by: String,
    pub at_ms: i64,
}

/// A fault found during repair beyond the diagnosis; work goes on only after consent.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct ExtraFault {
    #[key]
    pub id: String,
    pub description: String,
    pub by: String,
    pub at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Note {
    #[key]
    pub id: String,
    pub text: String,
    pub by: String,
    pub at_ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartState {
    /// Fitted from van stock.
    Applied,
    /// Ordered from the center; the order waits for it.
    Ordered,
}

#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct PartLine {
    #[key]
    pub id: String,
    pub sku: String,
    pub name: String,
    pub qty: i64,
    pub unit_price_minor: i64,
    pub state: PartState,
    /// The part replaces one that failed through a quality fault (company bears it in warranty).
    pub quality_fault: bool,
    /// The new part was dead on arrival.
    pub doa: bool,
    pub by: String,
    pub device: String,
    pub at_ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeeKind {
    Labour,
    Logistics,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct FeeLine {
    #[key]
    pub id: String,
    pub kind: FeeKind,
    pub description: String,
    pub amount_minor: i64,
    pub by: String,
    pub at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct WarrantyDecision {
    pub in_warranty: bool,
    pub reason: String,
    pub proof_checked: bool,
    pub misuse: bool,
    pub decided_at_ms: i64,
    pub by: String,
}

/// One point of a pen stroke, in the signature pad's own units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StrokePoint {
    pub x: f64,
    pub y: f64,
    pub t_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stroke {
    pub points: Vec<StrokePoint>,
}

/// Pen strokes are written once and never edited, so the document holds them
/// as one compact text value (`[[[x,y,t_ms],…],…]`) rather than thousands of
/// nested objects: one value to compare on every later edit of the order.
mod strokes_text {
    use super::{Stroke, StrokePoint};
    use autosurgeon::{Hydrate, HydrateError, Prop, ReadDoc, Reconciler};

    pub(super) fn reconcile<R: Reconciler>(
        strokes: &[Stroke],
        mut reconciler: R,
    ) -> Result<(), R::Error> {
        let packed: Vec<Vec<(f64, f64, i64)>> = strokes
            .iter()
            .map(|s| s.points.iter().map(|p| (p.x, p.y, p.t_ms)).collect())
            .collect();
        // Serialising numbers and arrays cannot fail; non-finite numbers are
        // refused by validation before they get here (they would become null).
        reconciler.str(serde_json::to_string(&packed).unwrap_or_default())
    }

    pub(super) fn hydrate<D: ReadDoc>(
        doc: &D,
        obj: &automerge::ObjId,
        prop: Prop<'_>,
    ) -> Result<Vec<Stroke>, HydrateError> {
        let text = String::hydrate(doc, obj, prop)?;
        let packed: Vec<Vec<(f64, f64, i64)>> = serde_json::from_str(&text).map_err(|e| {
            HydrateError::unexpected("pen strokes", format!("text that does not parse: {e}"))
        })?;
        Ok(packed
            .into_iter()
            .map(|points| Stroke {
                points: points
                    .into_iter()
                    .map(|(x, y, t_ms)| StrokePoint { x, y, t_ms })
                    .collect(),
            })
            .collect())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentKind {
    /// Acceptance of paid service (out of warranty or misuse), before work starts.
    PaidService,
    /// Extra parts beyond the diagnosis.
    ExtraParts,
    /// Extra work for a fault found during repair.
    ExtraWork,
    /// Confirmation of the fee list before it goes to finance.
    FeeList,
}

/// A customer's yes or no, recorded like a signature.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Consent {
    #[key]
    pub id: String,
    pub kind: ConsentKind,
    pub accepted: bool,
    pub signer_name: String,
    /// What was consented to, in words (amount, parts, work).
    pub scope: String,
    /// SKUs covered, for an extra-parts consent.
    pub parts: Vec<String>,
    #[autosurgeon(with = "strokes_text")]
    pub strokes: Vec<Stroke>,
    pub by: String,
    pub at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct QcItem {
    pub name: String,
    pub passed: bool,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct QcRecord {
    #[key]
    pub id: String,
    pub items: Vec<QcItem>,
    pub passed: bool,
    pub inspector: String,
    pub at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Signature {
    pub signer_name: String,
    #[autosurgeon(with = "strokes_text")]
    pub strokes: Vec<Stroke>,
    /// SHA-256 (hex) of the canonical service report the customer saw.
    pub report_sha256: String,
    pub signed_at_ms: i64,
    pub device: String,
}

#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum SignOff {
    Signed(Signature),
    Refused {
        signer_name: String,
        reason: String,
        at_ms: i64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Reconcile, Hydrate, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rating {
    Satisfied,
    Neutral,
    Unsatisfied,
}

#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Satisfaction {
    pub rating: Rating,
    /// Optional 1–5 score.
    pub score: Option<i64>,
    pub comment: Option<String>,
    pub at_ms: i64,
}

/// One follow-up call by the desk, reached or not.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct FollowUpCall {
    #[key]
    pub id: String,
    pub at_ms: i64,
    pub by: String,
    pub reached: bool,
    pub rating: Option<Rating>,
    /// Which aspect a neutral or unsatisfied customer named.
    pub aspect: Option<String>,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComplaintCategory {
    RepairQuality,
    ServiceAttitude,
    Timeliness,
    Fees,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComplaintStage {
    /// Opened from an unsatisfied rating; the desk decides whether to register it.
    Candidate,
    Registered,
    Investigating,
    ResolutionProposed,
    CustomerAccepted,
    Closed,
}

#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct Complaint {
    #[key]
    pub id: String,
    pub registered_at_ms: i64,
    pub by: String,
    pub what: String,
    pub category: ComplaintCategory,
    pub stage: ComplaintStage,
    pub stands: Option<bool>,
    pub responsible: Option<String>,
    pub major: bool,
    /// The handling team of a major complaint (supervisor, engineer, sales lead).
    pub team: Vec<String>,
    /// Why it does not stand, as explained to the customer.
    pub explanation: Option<String>,
    /// What the investigation found.
    pub investigation: Option<String>,
    /// Resolutions proposed; the supervisor picks one into `resolution`.
    pub proposals: Vec<String>,
    pub resolution: Option<String>,
    /// The customer who signed acceptance of the resolution.
    pub accepted_by: Option<String>,
    /// What the customer said afterwards.
    pub feedback: Option<String>,
    pub closed_at_ms: Option<i64>,
}

impl Complaint {
    /// A complaint as first written down.
    pub fn new(
        id: String,
        at_ms: i64,
        by: String,
        what: String,
        stage: ComplaintStage,
    ) -> Complaint {
        Complaint {
            id,
            registered_at_ms: at_ms,
            by,
            what,
            category: ComplaintCategory::Other,
            stage,
            stands: None,
            responsible: None,
            major: false,
            team: vec![],
            explanation: None,
            investigation: None,
            proposals: vec![],
            resolution: None,
            accepted_by: None,
            feedback: None,
            closed_at_ms: None,
        }
    }
}

/// Mail-in (RMA) milestones; the due dates come from the policy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct MailIn {
    pub shipped_at_ms: Option<i64>,
    pub receipt_confirmed_at_ms: Option<i64>,
    pub customer_updated_at_ms: Option<i64>,
    pub second_contact_at_ms: Option<i64>,
    pub returned_at_ms: Option<i64>,
}

/// A recorded reason that moves the repair clock to its exception limit.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct SlaException {
    pub reason: String,
    pub by: String,
    pub at_ms: i64,
}

/// One work order: one Automerge document.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct WorkOrder {
    pub id: String,
    pub created_at_ms: i64,
    pub created_by: String,
    pub intake: Intake,
    pub assignee: Option<String>,
    pub events: Vec<LifecycleEvent>,
    pub diagnosis: Option<Diagnosis>,
    pub extra_faults: Vec<ExtraFault>,
    pub repair_notes: Vec<Note>,
    pub parts: Vec<PartLine>,
    pub fees: Vec<FeeLine>,
    pub warranty: Option<WarrantyDecision>,
    pub consents: Vec<Consent>,
    pub qc: Vec<QcRecord>,
    pub sla_exception: Option<SlaException>,
    pub sign_off: Option<SignOff>,
    pub satisfaction: Option<Satisfaction>,
    pub follow_ups: Vec<FollowUpCall>,
    pub complaints: Vec<Complaint>,
    pub mail_in: Option<MailIn>,
    /// The earlier order this one reworks (same unit, same fault, inside the window).
    pub rework_of: Option<String>,
}

impl WorkOrder {
    /// A new order as intake creates it: nothing has happened to it yet.
    pub fn from_intake(
        id: String,
        created_at_ms: i64,
        created_by: String,
        intake: Intake,
    ) -> WorkOrder {
        WorkOrder {
            id,
            created_at_ms,
            created_by,
            mail_in: (intake.channel == Channel::MailIn).then(MailIn::default),
            intake,
            assignee: None,
            events: vec![],
            diagnosis: None,
            extra_faults: vec![],
            repair_notes: vec![],
            parts: vec![],
            fees: vec![],
            warranty: None,
            consents: vec![],
            qc: vec![],
            sla_exception: None,
            sign_off: None,
            satisfaction: None,
            follow_ups: vec![],
            complaints: vec![],
            rework_of: None,
        }
    }
}

/// Part of the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct CatalogPart {
    pub sku: String,
    pub name: String,
    pub unit_price_minor: i64,
    /// Below this many on hand a van gets a reorder hint.
    pub low_stock_threshold: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
pub struct Catalog {
    pub parts: BTreeMap<String, CatalogPart>,
}

#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum MovementKind {
    Received,
    IssuedToOrder {
        order_id: String,
    },
    /// A bad part returned to the center.
    Returned,
    /// Stocktake: the book said `book`, the shelf held `physical`.
    Adjusted {
        book: i64,
        physical: i64,
    },
}

/// One line of the stock ledger; `delta` is what it did to on-hand.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
pub struct StockMovement {
    #[key]
    pub id: String,
    pub sku: String,
    pub kind: MovementKind,
    pub delta: i64,
    pub by: String,
    pub device: String,
    pub at_ms: i64,
}

/// On-hand count of one part: a counter, so concurrent decrements add up.
#[derive(Debug, Clone, Reconcile, Hydrate)]
pub struct StockCount {
    pub on_hand: Counter,
}

/// An engineer's van stock: counters plus the movement ledger.
///
/// Each device counts in its own counter per part, keyed `sku@device`. A
/// device is the only writer of its keys, so two phones never create the
/// same key concurrently (Automerge would keep only one of two concurrent
/// creations); on hand for a part is the sum over devices, and concurrent
/// movements all count.
#[derive(Debug, Clone, Reconcile, Hydrate)]
pub struct VanStock {
    pub engineer: String,
    pub counts: BTreeMap<String, StockCount>,
    pub ledger: Vec<StockMovement>,
}

impl VanStock {
    /// The counter key for `sku` moved on `device`.
    pub fn count_key(sku: &str, device: &str) -> String {
        format!("{sku}@{device}")
    }

    /// On hand per part: the sum of every device's counter.
    pub fn levels_of(counts: &BTreeMap<String, StockCount>) -> BTreeMap<String, i64> {
        let mut levels = BTreeMap::new();
        for (key, c) in counts {
            let sku = key.rsplit_once('@').map_or(key.as_str(), |(sku, _)| sku);
            *levels.entry(sku.to_string()).or_insert(0) += c.on_hand.value();
        }
        levels
    }

    pub fn levels(&self) -> BTreeMap<String, i64> {
        VanStock::levels_of(&self.counts)
    }
}
