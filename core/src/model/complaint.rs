//! A complaint on an order, from candidate to closed (docs/domain.md,
//! "Complaints"; the workflow is `rules::complaints`).

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ComplaintCategory {
    RepairQuality,
    ServiceAttitude,
    Timeliness,
    Fees,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
