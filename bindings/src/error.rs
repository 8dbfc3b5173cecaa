//! The one error the apps see, and the guard that keeps panics on this side.

use fieldwork_core::Error as CoreError;
use fieldwork_core::sync::client::SyncError;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Everything a Fieldwork call can fail with. The variant says what the app
/// can do about it; the message says why, in words an engineer can read. No
/// message carries customer data.
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[uniffi(flat_error)]
pub enum FieldworkError {
    /// The input was refused (the message names the field and the reason);
    /// nothing was stored. Show it next to the field.
    #[error("{0}")]
    InvalidInput(String),
    /// The order, line or part does not exist on this device.
    #[error("{0}")]
    NotFound(String),
    /// A service-center rule does not allow this now (wrong status, missing
    /// consent, QC locked…); nothing was stored.
    #[error("{0}")]
    NotAllowed(String),
    /// The van does not hold enough of the part.
    #[error("{0}")]
    OutOfStock(String),
    /// The server refused the device's token or enrolment code: enrol again.
    #[error("{0}")]
    Unauthorized(String),
    /// The app said it is offline, or the server could not be reached or
    /// answered with an error. Local work is kept; sync retries by itself.
    #[error("{0}")]
    Network(String),
    /// The local database could not be read or written (disk full, a newer
    /// app's schema, a damaged file).
    #[error("{0}")]
    Storage(String),
    /// A bug in Fieldwork. The call had no effect; please report it.
    #[error("{0}")]
    Internal(String),
}

impl From<CoreError> for FieldworkError {
    fn from(e: CoreError) -> Self {
        let message = e.to_string();
        match e {
            CoreError::Invalid(_) | CoreError::UnknownSku { .. } => {
                FieldworkError::InvalidInput(message)
            }
            CoreError::MalformedDocument { .. } => FieldworkError::InvalidInput(message),
            CoreError::NotFound { .. } => FieldworkError::NotFound(message),
            CoreError::InsufficientStock { .. } => FieldworkError::OutOfStock(message),
            CoreError::Rule(_) => FieldworkError::NotAllowed(message),
            CoreError::Store(_) => FieldworkError::Storage(message),
        }
    }
}

impl From<SyncError> for FieldworkError {
    fn from(e: SyncError) -> Self {
        let message = e.to_string();
        match e {
            SyncError::Store(core) => core.into(),
            SyncError::Unauthorized | SyncError::EnrolmentRefused(_) => {
                FieldworkError::Unauthorized(message)
            }
            SyncError::Offline
            | SyncError::Network(_)
            | SyncError::Server { .. }
            | SyncError::Protocol(_) => FieldworkError::Network(message),
        }
    }
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
        Err(FieldworkError::Internal(format!(
            "internal error in Fieldwork: {what}"
        )))
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
            Err(FieldworkError::Internal(m)) => assert!(m.contains("index out of range"), "{m}"),
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
        assert!(matches!(&e, FieldworkError::NotFound(m) if m == "order wo-1 not found"));
        let e: FieldworkError = SyncError::Unauthorized.into();
        assert!(matches!(e, FieldworkError::Unauthorized(_)));
        let e: FieldworkError = SyncError::Offline.into();
        assert!(matches!(e, FieldworkError::Network(_)));
    }
}
