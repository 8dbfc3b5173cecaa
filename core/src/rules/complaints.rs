//! The complaint workflow of docs/domain.md ("Complaints"): register (a
//! candidate) → judge whether it stands (if not: explain and close) →
//! responsible party → investigation → proposed resolutions → the supervisor
//! picks one → the customer signs acceptance → feedback → closed and
//! classified. Each step is allowed only at its stage, and only for the
//! role that may take it ([`super::roles`]).

use super::RuleError;
use super::roles::{DeskRole, may_pick_resolution};
use crate::model::{Complaint, ComplaintCategory, ComplaintStage};
use crate::validate::{self, Invalid, MAX_NAME_CHARS, MAX_TEXT_CHARS};
use serde::{Deserialize, Serialize};

/// One step of the complaint workflow (see [`advance`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

/// The stage as people read it.
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

/// Why a step was not taken: its input, or the rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepRefused {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error(transparent)]
    Rule(#[from] RuleError),
}

/// Check a step's own input, before any order is read.
pub fn check_step(step: &ComplaintStep) -> Result<(), Invalid> {
    match step {
        ComplaintStep::Judge {
            stands: false,
            explanation,
        } => validate::required(
            "explanation",
            explanation.as_deref().unwrap_or(""),
            MAX_TEXT_CHARS,
        ),
        ComplaintStep::Judge { explanation, .. } => {
            validate::optional("explanation", explanation.as_deref(), MAX_TEXT_CHARS)
        }
        ComplaintStep::Responsible { party, team } => {
            validate::required("responsible", party, MAX_NAME_CHARS)?;
            team.iter()
                .try_for_each(|t| validate::required("team", t, MAX_NAME_CHARS))
        }
        ComplaintStep::Investigate { findings } => {
            validate::required("investigation", findings, MAX_TEXT_CHARS)
        }
        ComplaintStep::Propose { resolutions } => {
            if resolutions.is_empty() {
                return Err(validate::invalid("resolutions", "propose at least one"));
            }
            resolutions
                .iter()
                .try_for_each(|r| validate::required("resolutions", r, MAX_TEXT_CHARS))
        }
        ComplaintStep::Pick { .. } | ComplaintStep::Close { .. } | ComplaintStep::Register => {
            Ok(())
        }
        ComplaintStep::CustomerAccepts { signer_name } => {
            validate::required("signer_name", signer_name, MAX_NAME_CHARS)
        }
        ComplaintStep::Feedback { text } => validate::required("feedback", text, MAX_TEXT_CHARS),
    }
}

/// Take `step` on complaint `c`, by `user` in `role` at `now`.
pub fn advance(
    c: &mut Complaint,
    step: ComplaintStep,
    role: DeskRole,
    user: &str,
    now: i64,
) -> Result<(), StepRefused> {
    if matches!(step, ComplaintStep::Pick { .. }) {
        may_pick_resolution(role)?;
    }
    let at = |c: &Complaint, stage: ComplaintStage, what: &str| -> Result<(), RuleError> {
        if c.stage == stage {
            Ok(())
        } else {
            Err(RuleError::Precondition(format!(
                "{what}: the complaint is at stage {}",
                complaint_stage_name(c.stage)
            )))
        }
    };
    use ComplaintStage as S;
    match step {
        ComplaintStep::Register => {
            at(c, S::Candidate, "only a candidate is registered")?;
            c.stage = S::Registered;
            c.registered_at_ms = now;
            c.by = user.to_string();
        }
        ComplaintStep::Judge {
            stands,
            explanation,
        } => {
            at(c, S::Registered, "judge a registered complaint")?;
            c.stands = Some(stands);
            c.explanation = explanation;
            if stands {
                c.stage = S::Investigating;
            } else {
                c.stage = S::Closed;
                c.closed_at_ms = Some(now);
            }
        }
        ComplaintStep::Responsible { party, team } => {
            at(
                c,
                S::Investigating,
                "name the responsible party while investigating",
            )?;
            if c.major && team.is_empty() {
                return Err(
                    validate::invalid("team", "a major complaint needs a handling team").into(),
                );
            }
            c.responsible = Some(party);
            c.team = team;
        }
        ComplaintStep::Investigate { findings } => {
            at(c, S::Investigating, "record findings while investigating")?;
            c.investigation = Some(findings);
        }
        ComplaintStep::Propose { resolutions } => {
            at(
                c,
                S::Investigating,
                "propose resolutions after investigating",
            )?;
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
            at(
                c,
                S::ResolutionProposed,
                "pick from the proposed resolutions",
            )?;
            let chosen = c.proposals.get(index).cloned().ok_or_else(|| {
                validate::invalid("resolution", "pick one of the proposed resolutions")
            })?;
            c.resolution = Some(chosen);
        }
        ComplaintStep::CustomerAccepts { signer_name } => {
            at(
                c,
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
                c,
                S::CustomerAccepted,
                "feedback comes after the customer accepted",
            )?;
            c.feedback = Some(text);
        }
        ComplaintStep::Close { category } => {
            at(c, S::CustomerAccepted, "close after the customer accepted")?;
            if c.feedback.is_none() {
                return Err(RuleError::Precondition(
                    "collect the customer's feedback first".into(),
                )
                .into());
            }
            c.category = category;
            c.stage = S::Closed;
            c.closed_at_ms = Some(now);
        }
    }
    Ok(())
}
