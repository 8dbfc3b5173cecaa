//! The one error the apps see, and the guard that keeps panics on this side.

use fieldwork_core::Error as CoreError;
use fieldwork_core::sync::client::SyncError;
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Everything a Fieldwork call can fail with. The variant says what the app
/// can do about it; `code` says exactly what happened, stably, with `args`
/// (field, reason code, SKU, counts, statuses…) so that the app can say it
/// in its own language; `detail` is the default English message. No
/// message carries customer data.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum FieldworkError {
    /// The input was refused (`args["field"]` names the field,
    /// `args["reason_code"]` the reason); nothing was stored. Show it next
    /// to the field.
    #[error("{detail}")]
    InvalidInput {
        code: String,
        args: HashMap<String, String>,
        detail: String,
    },
    /// The order, line or part does not exist on this device.
    #[error("{detail}")]
    NotFound {
        code: String,
        args: HashMap<String, String>,
        detail: String,
    },
    /// A service-center rule does not allow this now (wrong status, missing
    /// consent, QC locked…); nothing was stored.
    #[error("{detail}")]
    NotAllowed {
        code: String,
        args: HashMap<String, String>,
        detail: String,
    },
    /// The van does not hold enough of the part.
    #[error("{detail}")]
    OutOfStock {
        code: String,
        args: HashMap<String, String>,
        detail: String,
    },
    /// The server refused the device's token or enrolment code: enrol again.
    #[error("{detail}")]
    Unauthorized {
        code: String,
        args: HashMap<String, String>,
        detail: String,
    },
    /// The app said it is offline, or the server could not be reached or
    /// answered with an error. Local work is kept; sync retries by itself.
    #[error("{detail}")]
    Network {
        code: String,
        args: HashMap<String, String>,
        detail: String,
    },
    /// The local database could not be read or written (disk full, a newer
    /// app's schema, a damaged file).
    #[error("{detail}")]
    Storage {
        code: String,
        args: HashMap<String, String>,
        detail: String,
    },
    /// The store is encrypted and the key given does not open it, or it
    /// is not encrypted and a key was given (`code` is `locked`,
    /// `args["reason_code"]` says which: `key_needed`, `wrong_key`,
    /// `not_encrypted`). Nothing was read or changed.
    #[error("{detail}")]
    Locked {
        code: String,
        args: HashMap<String, String>,
        detail: String,
    },
    /// The device key (`DeviceSigner`) did not sign: the Keystore or the
    /// Secure Enclave refused (`args["reason"]` says what it said). Nothing
    /// was recorded; try again once the key is usable.
    #[error("{detail}")]
    Signer {
        code: String,
        args: HashMap<String, String>,
        detail: String,
    },
    /// A bug in Fieldwork. The call had no effect; please report it.
    #[error("{detail}")]
    Internal {
        code: String,
        args: HashMap<String, String>,
        detail: String,
    },
}

impl FieldworkError {
    /// The stable code (`invalid`, `not_found`, `wrong_status`, `offline`…).
    pub fn code(&self) -> &str {
        match self {
            FieldworkError::InvalidInput { code, .. }
            | FieldworkError::NotFound { code, .. }
            | FieldworkError::NotAllowed { code, .. }
            | FieldworkError::OutOfStock { code, .. }
            | FieldworkError::Unauthorized { code, .. }
            | FieldworkError::Network { code, .. }
            | FieldworkError::Storage { code, .. }
            | FieldworkError::Locked { code, .. }
            | FieldworkError::Signer { code, .. }
            | FieldworkError::Internal { code, .. } => code,
        }
    }
}

type Parts = (String, HashMap<String, String>, String);

fn parts(code: &str, args: Vec<(String, String)>, detail: String) -> Parts {
    (code.to_string(), args.into_iter().collect(), detail)
}

impl From<CoreError> for FieldworkError {
    fn from(e: CoreError) -> Self {
        let (code, args, detail) = parts(e.code(), e.args(), e.to_string());
        match e {
            CoreError::Invalid(_) | CoreError::UnknownSku { .. } => {
                FieldworkError::InvalidInput { code, args, detail }
            }
            CoreError::MalformedDocument { .. } => {
                FieldworkError::InvalidInput { code, args, detail }
            }
            CoreError::NotFound { .. } => FieldworkError::NotFound { code, args, detail },
            CoreError::InsufficientStock { .. } => {
                FieldworkError::OutOfStock { code, args, detail }
            }
            CoreError::Rule(_) => FieldworkError::NotAllowed { code, args, detail },
            CoreError::Store(fieldwork_core::store::StoreError::Locked(_)) => {
                FieldworkError::Locked { code, args, detail }
            }
            CoreError::Store(_) => FieldworkError::Storage { code, args, detail },
            // The app handed in a file that is not the font asset, or none.
            CoreError::Report(fieldwork_core::report::ReportError::Pdf(_)) => {
                FieldworkError::Internal { code, args, detail }
            }
            CoreError::Report(_) => FieldworkError::InvalidInput { code, args, detail },
            // The platform's key store refused to sign (locked, key gone):
            // nothing was recorded; the app may ask the user to unlock.
            CoreError::Signer(_) => FieldworkError::Signer { code, args, detail },
            // Only the server refuses attestations; a phone never sees it.
            CoreError::Attestation(_) => FieldworkError::NotAllowed { code, args, detail },
        }
    }
}

impl From<SyncError> for FieldworkError {
    fn from(e: SyncError) -> Self {
        let detail = e.to_string();
        let (code, args, detail) = match &e {
            SyncError::Store(_) => ("storage", vec![], detail),
            SyncError::Unauthorized => ("unauthorized", vec![], detail),
            SyncError::EnrolmentRefused(_) => ("enrolment_refused", vec![], detail),
            SyncError::Offline => ("offline", vec![], detail),
            SyncError::Network(_) => ("network", vec![], detail),
            SyncError::Server { .. } => ("server", vec![], detail),
            SyncError::Protocol(_) => ("protocol", vec![], detail),
        };
        let (code, args, detail) = parts(code, args, detail);
        match e {
            SyncError::Store(core) => core.into(),
            SyncError::Unauthorized | SyncError::EnrolmentRefused(_) => {
                FieldworkError::Unauthorized { code, args, detail }
            }
            SyncError::Offline
            | SyncError::Network(_)
            | SyncError::Server { .. }
            | SyncError::Protocol(_) => FieldworkError::Network { code, args, detail },
        }
    }
}

/// The app's key as the core takes it: exactly 32 bytes.
pub(crate) fn store_key(key: &[u8]) -> Result<fieldwork_core::at_rest::StoreKey, FieldworkError> {
    fieldwork_core::at_rest::StoreKey::from_bytes(key).map_err(|e| FieldworkError::InvalidInput {
        code: "invalid".into(),
        args: HashMap::from([
            ("field".to_string(), "key".to_string()),
            ("reason_code".to_string(), "key_length".to_string()),
            ("n".to_string(), e.0.to_string()),
        ]),
        detail: e.to_string(),
    })
}

/// Run one call with panics caught: a panic becomes [`FieldworkError::Internal`]
/// instead of unwinding into the app. The core's state stays consistent after
/// a panic: its lock recovers from poisoning, and a half-made change is never
/// committed to the store.
pub(crate) fn guard<T>(
    call: impl FnOnce() -> Result<T, FieldworkError>,
) -> Result<T, FieldworkError> {
    catch_unwind(AssertUnwindSafe(call)).unwrap_or_else(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        Err(FieldworkError::Internal {
            code: "internal".into(),
            args: HashMap::new(),
            detail: format!("internal error in Fieldwork: {what}"),
        })
    })
}

/// Panics inside the guard (feature `panic-probe`, test builds only): the
/// binding tests call it to see a panic arrive as [`FieldworkError::Internal`].
#[cfg(feature = "panic-probe")]
#[uniffi::export]
#[allow(clippy::panic)]
pub fn panic_probe() -> Result<(), FieldworkError> {
    guard(|| panic!("panic probe"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::panic)]
    fn a_panic_becomes_an_internal_error() {
        let r: Result<(), _> = guard(|| panic!("index out of range"));
        match r {
            Err(FieldworkError::Internal { detail, .. }) => {
                assert!(detail.contains("index out of range"), "{detail}")
            }
            other => unreachable!("expected Internal, got {other:?}"),
        }
        assert_eq!(guard(|| Ok(7)).ok(), Some(7));
    }

    #[test]
    fn core_errors_map_to_the_variant_an_app_acts_on() {
        let e: FieldworkError = CoreError::NotFound {
            kind: "order",
            id: "wo-1".into(),
        }
        .into();
        assert!(matches!(&e, FieldworkError::NotFound { code, args, detail }
                if code == "not_found" && args["id"] == "wo-1" && detail == "order wo-1 not found"));
        let e: FieldworkError = SyncError::Unauthorized.into();
        assert!(matches!(e, FieldworkError::Unauthorized { .. }));
        assert_eq!(e.code(), "unauthorized");
        let e: FieldworkError = SyncError::Offline.into();
        assert!(matches!(e, FieldworkError::Network { .. }));
        assert_eq!(e.code(), "offline");
    }
}
