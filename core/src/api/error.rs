//! Everything a call of the facade can fail with.

use crate::rules::RuleError;
use crate::rules::complaints::StepRefused;
use crate::store::StoreError;
use crate::validate::Invalid;

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
    /// The PDF report could not be made (no usable font).
    #[error(transparent)]
    Report(#[from] crate::report::ReportError),
    /// A pushed signature, consent or QC record is not attested by the
    /// pushing device's key, or its attestation does not verify (server).
    #[error("attestation refused: {0}")]
    Attestation(String),
    /// The device key did not sign (the platform refused); nothing stored.
    #[error(transparent)]
    Signer(#[from] crate::attest::SignerError),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<StepRefused> for Error {
    fn from(e: StepRefused) -> Error {
        match e {
            StepRefused::Invalid(i) => Error::Invalid(i),
            StepRefused::Rule(r) => Error::Rule(r),
        }
    }
}

impl Error {
    /// A stable code the apps switch on and translate (`invalid`,
    /// `not_found`, `wrong_status`…); it never changes with the wording.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Invalid(_) => "invalid",
            Error::NotFound { .. } => "not_found",
            Error::UnknownSku { .. } => "unknown_sku",
            Error::InsufficientStock { .. } => "insufficient_stock",
            Error::Rule(r) => match r {
                RuleError::IllegalTransition { .. } => "illegal_transition",
                RuleError::CannotCancel => "cannot_cancel",
                RuleError::ConsentRequired { .. } => "consent_required",
                RuleError::WrongStatus { .. } => "wrong_status",
                RuleError::QcLocked => "qc_locked",
                RuleError::Precondition(_) => "precondition",
                RuleError::RoleRequired { .. } => "role_required",
            },
            Error::MalformedDocument { .. } => "malformed_document",
            Error::Store(StoreError::Locked(_)) => "locked",
            Error::Store(_) => "storage",
            Error::Report(crate::report::ReportError::Pdf(_)) => "report_pdf",
            Error::Report(_) => "report_font",
            Error::Signer(_) => "signer",
            Error::Attestation(_) => "attestation",
        }
    }

    /// The values the message names, by name (never customer data: ids,
    /// fields, SKUs, counts, statuses).
    pub fn args(&self) -> Vec<(String, String)> {
        let a = |pairs: &[(&str, String)]| {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_string(), v.clone()))
                .collect::<Vec<_>>()
        };
        match self {
            Error::Invalid(i) => {
                let mut out = a(&[
                    ("field", i.field.clone()),
                    ("reason", i.reason.clone()),
                    ("reason_code", i.code.to_string()),
                ]);
                if let Some(n) = i.n {
                    out.push(("n".into(), n.to_string()));
                }
                if let Some(name) = &i.name {
                    out.push(("name".into(), name.clone()));
                }
                out
            }
            Error::NotFound { kind, id } => a(&[("kind", kind.to_string()), ("id", id.clone())]),
            Error::UnknownSku { sku } => a(&[("sku", sku.clone())]),
            Error::InsufficientStock {
                sku,
                on_hand,
                wanted,
            } => a(&[
                ("sku", sku.clone()),
                ("on_hand", on_hand.to_string()),
                ("wanted", wanted.to_string()),
            ]),
            Error::Rule(r) => match r {
                RuleError::IllegalTransition { from, to } => {
                    a(&[("from", from.to_string()), ("to", to.to_string())])
                }
                RuleError::CannotCancel | RuleError::QcLocked => vec![],
                RuleError::ConsentRequired { kind, why } => {
                    a(&[("kind", kind.to_string()), ("why", why.clone())])
                }
                RuleError::WrongStatus { status, why } => {
                    a(&[("status", status.to_string()), ("why", why.clone())])
                }
                RuleError::Precondition(why) => a(&[("why", why.clone())]),
                RuleError::RoleRequired { role, what } => {
                    a(&[("role", role.to_string()), ("what", what.to_string())])
                }
            },
            Error::MalformedDocument { doc_id, reason } => {
                a(&[("doc_id", doc_id.clone()), ("reason", reason.clone())])
            }
            Error::Store(StoreError::Locked(l)) => a(&[("reason_code", l.code().to_string())]),
            Error::Store(e) => a(&[("reason", e.to_string())]),
            Error::Report(e) => a(&[("reason", e.to_string())]),
            Error::Signer(e) => a(&[("reason", e.0.clone())]),
            Error::Attestation(why) => a(&[("reason", why.clone())]),
        }
    }

    /// The message in `lang` (message `error-<code>` with [`Error::args`];
    /// an invalid field's reason in `lang` too).
    pub fn message_in(&self, lang: crate::l10n::Language) -> String {
        use crate::l10n;
        use fluent_bundle::FluentValue;
        let mut args = self.args();
        if let Error::Invalid(i) = self {
            for (k, v) in &mut args {
                if k == "reason" {
                    *v = i.reason_in(lang);
                }
            }
        }
        // Statuses, roles and the rules' own words are said in the language too.
        for (k, v) in &mut args {
            if matches!(k.as_str(), "why" | "what" | "kind") {
                *v = l10n::stored_text(lang, v);
                continue;
            }
            let prefix = match k.as_str() {
                "from" | "to" | "status" => "status",
                "role" => "role",
                _ => continue,
            };
            let id = format!("{prefix}-{}", v.replace('_', "-"));
            if l10n::has(crate::l10n::Language::En, &id) {
                *v = l10n::t(lang, &id);
            }
        }
        let fargs: Vec<l10n::Arg<'_>> = args
            .iter()
            .map(|(k, v)| (k.as_str(), FluentValue::from(v.as_str())))
            .collect();
        let id = format!("error-{}", self.code().replace('_', "-"));
        l10n::text(lang, &id, &fargs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::l10n::Language;

    #[test]
    fn a_rule_refusal_says_itself_in_chinese_with_a_stable_code() {
        let e = Error::Rule(RuleError::WrongStatus {
            status: "dispatched",
            why: "diagnose before starting work".into(),
        });
        assert_eq!(e.code(), "wrong_status");
        assert_eq!(
            e.message_in(Language::En),
            "not allowed while the order is dispatched: diagnose before starting work"
        );
        assert_eq!(e.message_in(Language::En), e.to_string());
        assert_eq!(
            e.message_in(Language::ZhCn),
            "工单处于“已派工”时不允许：开始维修前请先诊断"
        );
        let role = Error::Rule(RuleError::RoleRequired {
            role: "supervisor",
            what: "changes the service center's settings",
        });
        assert_eq!(
            role.message_in(Language::ZhCn),
            "只有主管可以执行此操作（修改服务中心设置）"
        );
        assert_eq!(role.message_in(Language::En), role.to_string());
    }
}
