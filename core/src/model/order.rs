//! One work order: one Automerge document, from intake to closed.

use super::complaint::Complaint;
use super::intake::{Channel, Intake};
use super::photo::Photo;
use super::signature::{Consent, SignOff};
use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Location {
    pub lat: f64,
    pub lon: f64,
    pub accuracy_m: Option<f64>,
}

/// One lifecycle transition: who, from which device, when by the device's
/// clock, and when by the hybrid logical clock that orders merged events.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    Software,
    Hardware,
}

#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExtraFault {
    #[key]
    pub id: String,
    pub description: String,
    pub by: String,
    pub at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Note {
    #[key]
    pub id: String,
    pub text: String,
    pub by: String,
    pub at_ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PartState {
    /// Fitted from van stock.
    Applied,
    /// Ordered from the center; the order waits for it.
    Ordered,
}

#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FeeKind {
    Labour,
    Logistics,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WarrantyDecision {
    pub in_warranty: bool,
    pub reason: String,
    pub proof_checked: bool,
    pub misuse: bool,
    pub decided_at_ms: i64,
    pub by: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QcItem {
    pub name: String,
    pub passed: bool,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QcRecord {
    #[key]
    pub id: String,
    pub items: Vec<QcItem>,
    pub passed: bool,
    pub inspector: String,
    pub at_ms: i64,
    /// The phone's attestation; `None` from devices enrolled before device
    /// keys existed.
    #[serde(default)]
    pub attestation: Option<super::Attestation>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Reconcile, Hydrate, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Rating {
    Satisfied,
    Neutral,
    Unsatisfied,
}

#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Satisfaction {
    pub rating: Rating,
    /// Optional 1–5 score.
    pub score: Option<i64>,
    pub comment: Option<String>,
    pub at_ms: i64,
}

/// One follow-up call by the desk, reached or not.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

/// Mail-in (RMA) milestones; the due dates come from the policy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MailIn {
    pub shipped_at_ms: Option<i64>,
    pub receipt_confirmed_at_ms: Option<i64>,
    pub customer_updated_at_ms: Option<i64>,
    pub second_contact_at_ms: Option<i64>,
    pub returned_at_ms: Option<i64>,
}

/// A recorded reason that moves the repair clock to its exception limit.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlaException {
    pub reason: String,
    pub by: String,
    pub at_ms: i64,
}

/// One work order: one Automerge document.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// Photos and documents: metadata only; the bytes are blobs named by hash.
    /// (Orders written before photos existed have none.)
    #[autosurgeon(missing = "Vec::new")]
    #[serde(default)]
    pub photos: Vec<Photo>,
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
            photos: vec![],
        }
    }
}
