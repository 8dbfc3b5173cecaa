//! The core's records and enums as the apps see them.
//!
//! Most are the core's own types, declared here with `#[uniffi::remote]`: the
//! declaration mirrors the core's definition field for field (the compiler
//! checks that it does) and no conversion code is written. The few records
//! that differ at the boundary (`OrderDetail`, `MailInStep`, the sync events)
//! are defined here with a `From` from the core's type.

use fieldwork_core::api::{
    ConsentInput, DiagnosisInput, FollowUpInput, MailInMilestone, OrderView, QuarantinedChange,
    StockLevel,
};
use fieldwork_core::model::{
    Attestation, CatalogPart, Category, Channel, Complaint, ComplaintCategory, ComplaintStage,
    Consent, ConsentKind, Customer, Diagnosis, ExtraFault, Fault, FaultKind, FeeKind, FeeLine,
    FollowUpCall, Intake, KeyBacking, LifecycleEvent, Location, MailIn, MovementKind, Note,
    PartLine, PartState, Photo, Priority, Product, QcItem, QcRecord, Rating, Satisfaction, SignOff,
    Signature, SiteZone, SlaException, Status, StockMovement, Stroke, StrokePoint,
    WarrantyDecision, WorkOrder,
};
use fieldwork_core::rules::conflicts::Conflict;
use fieldwork_core::rules::fees::{FeeItem, FeeSummary};
use fieldwork_core::rules::signoff::SignatureState;
use fieldwork_core::rules::sla::{ClockKind, ClockState, SlaClock};
use fieldwork_core::sync::client::{SyncStatus, SyncSummary};
use fieldwork_core::{OrderFilter, OrderRow, OrderSort};

// ---- Intake -----------------------------------------------------------------

#[uniffi::remote(Enum)]
pub enum Channel {
    Phone,
    Email,
    OnlineChat,
    WalkIn,
    MailIn,
}

#[uniffi::remote(Enum)]
pub enum Category {
    ProductQuality,
    UsageOperation,
    InstallationCommissioning,
    Other,
}

#[uniffi::remote(Enum)]
pub enum Priority {
    Normal,
    Urgent,
}

#[uniffi::remote(Enum)]
pub enum SiteZone {
    Urban,
    OutsideUrban { travel_allowance_min: i64 },
}

#[uniffi::remote(Record)]
pub struct Customer {
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: String,
    pub member: bool,
}

#[uniffi::remote(Record)]
pub struct Product {
    pub model: String,
    pub serial: String,
    pub purchase_date: Option<String>,
    pub proof_of_purchase: Option<String>,
}

#[uniffi::remote(Record)]
pub struct Fault {
    pub symptoms: String,
    pub frequency: Option<String>,
    pub since: Option<String>,
    pub environment: Option<String>,
    pub already_tried: Option<String>,
}

#[uniffi::remote(Record)]
pub struct Intake {
    pub channel: Channel,
    pub customer: Customer,
    pub product: Product,
    pub fault: Fault,
    pub category: Category,
    pub priority: Priority,
    pub promised_by_ms: Option<i64>,
    pub site_zone: SiteZone,
}

// ---- Lifecycle and visit records ---------------------------------------------

#[uniffi::remote(Enum)]
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

#[uniffi::remote(Record)]
pub struct Location {
    pub lat: f64,
    pub lon: f64,
    pub accuracy_m: Option<f64>,
}

#[uniffi::remote(Record)]
pub struct LifecycleEvent {
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

#[uniffi::remote(Enum)]
pub enum FaultKind {
    Software,
    Hardware,
}

#[uniffi::remote(Record)]
pub struct Diagnosis {
    pub fault_code: String,
    pub kind: FaultKind,
    pub findings: String,
    pub planned_parts: Vec<String>,
    pub estimate_minor: i64,
    pub misuse: bool,
    pub by: String,
    pub at_ms: i64,
}

#[uniffi::remote(Record)]
pub struct DiagnosisInput {
    pub fault_code: String,
    pub kind: FaultKind,
    pub findings: String,
    pub planned_parts: Vec<String>,
    pub estimate_minor: i64,
    pub misuse: bool,
}

#[uniffi::remote(Record)]
pub struct ExtraFault {
    pub id: String,
    pub description: String,
    pub by: String,
    pub at_ms: i64,
}

#[uniffi::remote(Record)]
pub struct Note {
    pub id: String,
    pub text: String,
    pub by: String,
    pub at_ms: i64,
}

#[uniffi::remote(Enum)]
pub enum PartState {
    Applied,
    Ordered,
}

#[uniffi::remote(Record)]
pub struct PartLine {
    pub id: String,
    pub sku: String,
    pub name: String,
    pub qty: i64,
    pub unit_price_minor: i64,
    pub state: PartState,
    pub quality_fault: bool,
    pub doa: bool,
    pub by: String,
    pub device: String,
    pub at_ms: i64,
}

#[uniffi::remote(Enum)]
pub enum FeeKind {
    Labour,
    Logistics,
    Other,
}

#[uniffi::remote(Record)]
pub struct FeeLine {
    pub id: String,
    pub kind: FeeKind,
    pub description: String,
    pub amount_minor: i64,
    pub by: String,
    pub at_ms: i64,
}

#[uniffi::remote(Record)]
pub struct WarrantyDecision {
    pub in_warranty: bool,
    pub reason: String,
    pub proof_checked: bool,
    pub misuse: bool,
    pub decided_at_ms: i64,
    pub by: String,
}

#[uniffi::remote(Record)]
pub struct StrokePoint {
    pub x: f64,
    pub y: f64,
    pub t_ms: i64,
}

#[uniffi::remote(Record)]
pub struct Stroke {
    pub points: Vec<StrokePoint>,
}

#[uniffi::remote(Enum)]
pub enum ConsentKind {
    PaidService,
    ExtraParts,
    ExtraWork,
    FeeList,
}

#[uniffi::remote(Record)]
pub struct Consent {
    pub id: String,
    pub kind: ConsentKind,
    pub accepted: bool,
    pub signer_name: String,
    pub scope: String,
    pub parts: Vec<String>,
    pub strokes: Vec<Stroke>,
    pub by: String,
    pub at_ms: i64,
    pub attestation: Option<Attestation>,
}

#[uniffi::remote(Record)]
pub struct ConsentInput {
    pub kind: ConsentKind,
    pub accepted: bool,
    pub signer_name: String,
    pub scope: String,
    pub parts: Vec<String>,
    pub strokes: Vec<Stroke>,
}

#[uniffi::remote(Record)]
pub struct QcItem {
    pub name: String,
    pub passed: bool,
    pub note: Option<String>,
}

#[uniffi::remote(Record)]
pub struct QcRecord {
    pub id: String,
    pub items: Vec<QcItem>,
    pub passed: bool,
    pub inspector: String,
    pub at_ms: i64,
    pub attestation: Option<Attestation>,
}

#[uniffi::remote(Record)]
pub struct Signature {
    pub signer_name: String,
    pub strokes: Vec<Stroke>,
    pub report_sha256: String,
    pub signed_at_ms: i64,
    pub device: String,
    pub language: Option<String>,
    pub attestation: Option<Attestation>,
}

#[uniffi::remote(Enum)]
pub enum KeyBacking {
    Hardware,
    Software,
}

#[uniffi::remote(Record)]
pub struct Attestation {
    pub device: String,
    pub backing: KeyBacking,
    pub signature: String,
}

#[uniffi::remote(Enum)]
pub enum SignOff {
    Signed(Signature),
    Refused {
        signer_name: String,
        reason: String,
        at_ms: i64,
    },
}

#[uniffi::remote(Enum)]
pub enum Rating {
    Satisfied,
    Neutral,
    Unsatisfied,
}

#[uniffi::remote(Record)]
pub struct Satisfaction {
    pub rating: Rating,
    pub score: Option<i64>,
    pub comment: Option<String>,
    pub at_ms: i64,
}

#[uniffi::remote(Record)]
pub struct FollowUpCall {
    pub id: String,
    pub at_ms: i64,
    pub by: String,
    pub reached: bool,
    pub rating: Option<Rating>,
    pub aspect: Option<String>,
    pub comment: Option<String>,
}

#[uniffi::remote(Record)]
pub struct FollowUpInput {
    pub reached: bool,
    pub rating: Option<Rating>,
    pub aspect: Option<String>,
    pub comment: Option<String>,
}

#[uniffi::remote(Enum)]
pub enum ComplaintCategory {
    RepairQuality,
    ServiceAttitude,
    Timeliness,
    Fees,
    Other,
}

#[uniffi::remote(Enum)]
pub enum ComplaintStage {
    Candidate,
    Registered,
    Investigating,
    ResolutionProposed,
    CustomerAccepted,
    Closed,
}

#[uniffi::remote(Record)]
pub struct Complaint {
    pub id: String,
    pub registered_at_ms: i64,
    pub by: String,
    pub what: String,
    pub category: ComplaintCategory,
    pub stage: ComplaintStage,
    pub stands: Option<bool>,
    pub responsible: Option<String>,
    pub major: bool,
    pub team: Vec<String>,
    pub explanation: Option<String>,
    pub investigation: Option<String>,
    pub proposals: Vec<String>,
    pub resolution: Option<String>,
    pub accepted_by: Option<String>,
    pub feedback: Option<String>,
    pub closed_at_ms: Option<i64>,
}

#[uniffi::remote(Record)]
pub struct MailIn {
    pub shipped_at_ms: Option<i64>,
    pub receipt_confirmed_at_ms: Option<i64>,
    pub customer_updated_at_ms: Option<i64>,
    pub second_contact_at_ms: Option<i64>,
    pub returned_at_ms: Option<i64>,
}

#[uniffi::remote(Enum)]
pub enum MailInMilestone {
    Shipped,
    ReceiptConfirmed,
    CustomerUpdated,
    SecondContact,
    Returned,
}

#[uniffi::remote(Record)]
pub struct SlaException {
    pub reason: String,
    pub by: String,
    pub at_ms: i64,
}

#[uniffi::remote(Record)]
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
    pub rework_of: Option<String>,
    pub photos: Vec<Photo>,
}

// ---- What the rules compute ---------------------------------------------------

#[uniffi::remote(Enum)]
pub enum ClockKind {
    Dispatch,
    Arrival,
    Repair,
    Paperwork,
    FollowUp,
}

#[uniffi::remote(Enum)]
pub enum ClockState {
    Running,
    AboutToBreach,
    Breached,
    Met,
    MetLate,
    Stopped,
}

#[uniffi::remote(Record)]
pub struct SlaClock {
    pub kind: ClockKind,
    pub started_at_ms: i64,
    pub due_at_ms: i64,
    pub ended_at_ms: Option<i64>,
    pub state: ClockState,
    pub remaining_ms: Option<i64>,
    pub exception: Option<String>,
}

#[uniffi::remote(Enum)]
pub enum SignatureState {
    Unsigned,
    Refused,
    Valid,
    Invalidated,
}

#[uniffi::remote(Record)]
pub struct FeeItem {
    pub description: String,
    pub qty: i64,
    pub unit_minor: i64,
    pub amount_minor: i64,
    pub company_borne: bool,
}

#[uniffi::remote(Record)]
pub struct FeeSummary {
    pub items: Vec<FeeItem>,
    pub labour_minor: i64,
    pub parts_minor: i64,
    pub logistics_minor: i64,
    pub other_minor: i64,
    pub total_minor: i64,
    pub company_borne_minor: i64,
    pub customer_payable_minor: i64,
    pub currency: String,
}

#[uniffi::remote(Enum)]
pub enum Conflict {
    OvertakenTransition {
        event_id: String,
        to: String,
        by: String,
        device: String,
    },
    SignedReportChanged,
    StockOversold {
        sku: String,
        on_hand: i64,
    },
    QcAfterPass {
        record_id: String,
    },
}

/// One mail-in milestone and its due date (3, 7, 15 and 30 days from intake).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct MailInStep {
    pub name: String,
    pub due_at_ms: i64,
    pub done_at_ms: Option<i64>,
    pub overdue: bool,
}

/// One order with everything the rules work out from it, as of now.
#[derive(Debug, Clone, uniffi::Record)]
pub struct OrderDetail {
    pub order: WorkOrder,
    pub status: Status,
    /// The SLA clocks, running and ended.
    pub clocks: Vec<SlaClock>,
    /// Whether the customer's signature still matches the report.
    pub signature: SignatureState,
    pub fees: FeeSummary,
    /// What merging with other devices' changes left to look at.
    pub conflicts: Vec<Conflict>,
    pub mail_in: Vec<MailInStep>,
    /// A follow-up call is due (signed off, no call reached yet).
    pub follow_up_due: bool,
}

impl From<OrderView> for OrderDetail {
    fn from(v: OrderView) -> Self {
        OrderDetail {
            order: v.order,
            status: v.status,
            clocks: v.clocks,
            signature: v.signature,
            fees: v.fees,
            conflicts: v.conflicts,
            mail_in: v
                .mail_in
                .into_iter()
                .map(|m| MailInStep {
                    name: m.name.to_string(),
                    due_at_ms: m.due_at_ms,
                    done_at_ms: m.done_at_ms,
                    overdue: m.overdue,
                })
                .collect(),
            follow_up_due: v.follow_up_due,
        }
    }
}

// ---- Lists, stock, catalog ---------------------------------------------------

#[uniffi::remote(Record)]
pub struct OrderRow {
    pub id: String,
    pub status: Status,
    pub urgent: bool,
    pub assignee: Option<String>,
    pub customer_name: String,
    pub created_at_ms: i64,
    pub next_due_at_ms: Option<i64>,
    pub next_due_clock: Option<String>,
    pub updated_at_ms: i64,
    pub serial: String,
    pub fault_code: Option<String>,
    pub is_open: bool,
    pub breached: bool,
}

#[uniffi::remote(Enum)]
pub enum OrderSort {
    Urgency,
    Newest,
}

#[uniffi::remote(Record)]
pub struct OrderFilter {
    #[uniffi(default)]
    pub statuses: Vec<Status>,
    #[uniffi(default)]
    pub open_only: bool,
    #[uniffi(default)]
    pub urgent_only: bool,
    #[uniffi(default)]
    pub breached_only: bool,
    #[uniffi(default)]
    pub assignee: Option<String>,
    #[uniffi(default)]
    pub customer: Option<String>,
    #[uniffi(default)]
    pub due_before_ms: Option<i64>,
    pub sort: OrderSort,
    #[uniffi(default)]
    pub limit: u32,
    #[uniffi(default)]
    pub offset: u32,
}

#[uniffi::remote(Record)]
pub struct CatalogPart {
    pub sku: String,
    pub name: String,
    pub unit_price_minor: i64,
    pub low_stock_threshold: i64,
}

#[uniffi::remote(Record)]
pub struct StockLevel {
    pub sku: String,
    pub name: Option<String>,
    pub on_hand: i64,
    pub low_stock_threshold: Option<i64>,
    pub reorder: bool,
}

#[uniffi::remote(Enum)]
pub enum MovementKind {
    Received,
    IssuedToOrder { order_id: String },
    Returned,
    Adjusted { book: i64, physical: i64 },
}

#[uniffi::remote(Record)]
pub struct StockMovement {
    pub id: String,
    pub sku: String,
    pub kind: MovementKind,
    pub delta: i64,
    pub by: String,
    pub device: String,
    pub at_ms: i64,
}

// ---- Sync ----------------------------------------------------------------------

#[uniffi::remote(Record)]
pub struct SyncSummary {
    pub pushed_changes: u64,
    pub refused_docs: u64,
    pub pulled_changes: u64,
    pub pulled_docs: u64,
    pub removed_docs: u64,
    pub bytes_up: u64,
    pub bytes_down: u64,
    pub blobs_uploaded: u64,
    pub blob_bytes_up: u64,
    pub round_trips: u32,
    pub duration_ms: u64,
}

#[uniffi::remote(Enum)]
pub enum SyncStatus {
    Offline,
    Idle,
    Syncing,
    Retrying { attempt: u32, in_ms: u64 },
    Unauthorized,
}

/// A change the server refused, kept on the phone until discarded.
#[uniffi::remote(Record)]
pub struct QuarantinedChange {
    pub id: i64,
    pub doc_id: String,
    pub hash: String,
    pub reason: String,
    pub intent: String,
    pub touched: Vec<String>,
    pub made_at_ms: i64,
    pub refused_at_ms: i64,
}
