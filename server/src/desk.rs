//! The desk service: every intent of the desk that both the dispatcher API
//! and the board offer, in one place. It takes the signed-in person and
//! role, checks what the server knows and the core cannot (an engineer
//! belongs to the service center), acts through the core's `Desk` (so the
//! change records who acted and the role rules apply), and tells the
//! boards. Handlers only translate HTTP to these calls and back.

use crate::state::{ApiError, AppState};
use axum::http::StatusCode;
use fieldwork_core::api::{ComplaintStep, FollowUpInput, MailInMilestone};
use fieldwork_core::model::{CatalogPart, ComplaintCategory, Intake};
use fieldwork_core::rules::roles::DeskRole;
use fieldwork_core::validate::{self, Invalid};
use fieldwork_core::{Error as CoreError, Language, ServerStore, SettingsInput, l10n};
use std::sync::Arc;

/// Why a desk intent was not done.
#[derive(Debug)]
pub enum DeskError {
    /// The core refused it: bad input, a rule, an unknown order or part.
    Core(CoreError),
    /// An intake with these errors, every one at once.
    Intake(Vec<Invalid>),
    /// The engineer named is not one of this service center's.
    NoSuchEngineer,
    /// The server could not do it (storage, a stopped worker).
    Server(ApiError),
}

impl DeskError {
    /// What the person at the desk can act on, as a message (in English,
    /// as the API answers); `None` for a server error.
    pub fn message(&self) -> Option<String> {
        self.message_in(Language::En)
    }

    /// The same in `lang`, for the board.
    pub fn message_in(&self, lang: Language) -> Option<String> {
        match self {
            DeskError::Core(
                e @ (CoreError::Invalid(_)
                | CoreError::Rule(_)
                | CoreError::NotFound { .. }
                | CoreError::UnknownSku { .. }
                | CoreError::InsufficientStock { .. }),
            ) => Some(e.message_in(lang)),
            DeskError::NoSuchEngineer => Some(l10n::t(lang, "error-no-such-engineer")),
            DeskError::Intake(errors) => Some(
                errors
                    .iter()
                    .map(|e| CoreError::Invalid(e.clone()).message_in(lang))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            _ => None,
        }
    }
}

impl From<CoreError> for DeskError {
    fn from(e: CoreError) -> DeskError {
        DeskError::Core(e)
    }
}

impl From<ApiError> for DeskError {
    fn from(e: ApiError) -> DeskError {
        DeskError::Server(e)
    }
}

impl From<DeskError> for ApiError {
    fn from(e: DeskError) -> ApiError {
        match e {
            DeskError::Core(e) => e.into(),
            DeskError::NoSuchEngineer => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "no such engineer in this service center",
            ),
            DeskError::Intake(ref all) => {
                // The code and arguments of the first; the message names all.
                let first = all.first().cloned().map(CoreError::Invalid);
                let message = e.message().unwrap_or_default();
                match first {
                    Some(first) => ApiError {
                        message,
                        ..ApiError::from(first)
                    },
                    None => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, message),
                }
            }
            DeskError::Server(e) => e,
        }
    }
}

pub type DeskResult<T> = Result<T, DeskError>;

/// One signed-in person at one service center's desk.
#[derive(Debug)]
pub struct DeskService<'a> {
    st: &'a AppState,
    tenant: String,
    person: String,
    role: DeskRole,
}

impl AppState {
    /// The desk of `tenant`, acted on by `person` in `role`.
    pub fn desk(&self, tenant: &str, person: &str, role: DeskRole) -> DeskService<'_> {
        DeskService {
            st: self,
            tenant: tenant.to_string(),
            person: person.to_string(),
            role,
        }
    }
}

impl DeskService<'_> {
    fn store(&self) -> DeskResult<Arc<ServerStore>> {
        Ok(self.st.tenant(&self.tenant)?)
    }

    /// Act on the store as this person, then tell the boards that `order`
    /// changed.
    fn act<T>(
        &self,
        order: Option<&str>,
        f: impl FnOnce(fieldwork_core::api::Desk<'_>) -> fieldwork_core::api::Result<T>,
    ) -> DeskResult<T> {
        let fw = self.store()?;
        let out = f(fw.as_desk(&self.person, self.role))?;
        if let Some(id) = order {
            self.st.publish(&self.tenant, vec![id.to_string()]);
        }
        Ok(out)
    }

    /// Take in a request; returns the new order's id. A refused intake
    /// names every field to fix.
    pub fn create_order(&self, intake: Intake) -> DeskResult<String> {
        let fw = self.store()?;
        let errors = validate::intake_all(&intake, fw.now_ms(), fw.policy().zone());
        if !errors.is_empty() {
            return Err(DeskError::Intake(errors));
        }
        let id = fw.as_desk(&self.person, self.role).create_order(intake)?;
        self.st.publish(&self.tenant, vec![id.clone()]);
        Ok(id)
    }

    /// Assign (or reassign) one of the service center's engineers.
    pub fn assign(&self, id: &str, engineer: &str) -> DeskResult<()> {
        let known = self
            .st
            .directory
            .is_engineer(&self.tenant, engineer)
            .map_err(ApiError::from)?;
        if !known {
            return Err(DeskError::NoSuchEngineer);
        }
        self.act(Some(id), |d| d.assign(id, engineer))
    }

    pub fn record_follow_up(&self, id: &str, call: FollowUpInput) -> DeskResult<()> {
        self.act(Some(id), |d| d.record_follow_up(id, call))
    }

    pub fn register_complaint(
        &self,
        id: &str,
        what: &str,
        category: ComplaintCategory,
        major: bool,
    ) -> DeskResult<String> {
        self.act(Some(id), |d| {
            d.register_complaint(id, what, category, major)
        })
    }

    pub fn advance_complaint(
        &self,
        id: &str,
        complaint_id: &str,
        step: ComplaintStep,
    ) -> DeskResult<()> {
        self.act(Some(id), |d| d.advance_complaint(id, complaint_id, step))
    }

    pub fn record_mail_in(
        &self,
        id: &str,
        milestone: MailInMilestone,
        at_ms: i64,
    ) -> DeskResult<()> {
        self.act(Some(id), |d| d.record_mail_in(id, milestone, at_ms))
    }

    /// Save a new version of the service center's settings (a
    /// supervisor's); phones get it on their next sync.
    pub fn change_settings(&self, input: &SettingsInput) -> DeskResult<i64> {
        self.act(None, |d| d.change_settings(input))
    }

    pub fn upsert_catalog_part(&self, part: CatalogPart) -> DeskResult<()> {
        self.act(None, |d| d.upsert_catalog_part(part))
    }
}
