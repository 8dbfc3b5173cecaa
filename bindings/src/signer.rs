//! The device key, implemented by the app: the Android Keystore (StrongBox
//! where there is one) or the iOS Secure Enclave. The private key never
//! leaves the platform; the core hands it the canonical payload of each
//! signature, consent and QC record to sign (decision 0017).

use crate::error::{FieldworkError, guard};
use crate::fieldwork::Fieldwork;
use fieldwork_core::attest::{self, SignerError};
use fieldwork_core::model::KeyBacking;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

/// Why the platform's key store did not sign.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum DeviceKeyError {
    /// The key store refused (locked, key invalidated, user cancelled).
    #[error("{reason}")]
    Failed { reason: String },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for DeviceKeyError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        DeviceKeyError::Failed { reason: e.reason }
    }
}

/// The phone's P-256 device key, made once in the platform's key store.
/// Called from the thread that records the signature; it must not call
/// back into `Fieldwork`.
#[uniffi::export(foreign)]
pub trait DeviceSigner: Send + Sync {
    /// The public key: DER SubjectPublicKeyInfo (Kotlin
    /// `PublicKey.getEncoded()`) or SEC1 uncompressed (Swift
    /// `SecKeyCopyExternalRepresentation`).
    fn public_key(&self) -> Result<Vec<u8>, DeviceKeyError>;
    /// ECDSA over SHA-256 of `payload`, DER-encoded (Kotlin
    /// `Signature.getInstance("SHA256withECDSA")`, Swift
    /// `.ecdsaSignatureMessageX962SHA256`).
    fn sign(&self, payload: Vec<u8>) -> Result<Vec<u8>, DeviceKeyError>;
    /// Whether the key is held in secure hardware.
    fn hardware_backed(&self) -> bool;
}

/// The app's signer as the core calls it. A signer that throws or panics
/// fails the one call with [`FieldworkError::Signer`].
struct Platform(Arc<dyn DeviceSigner>);

impl std::fmt::Debug for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Platform(..)")
    }
}

fn caught<T>(f: impl FnOnce() -> Result<T, DeviceKeyError>) -> Result<T, SignerError> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(DeviceKeyError::Failed { reason })) => Err(SignerError(reason)),
        Err(_) => Err(SignerError("the device signer panicked".into())),
    }
}

impl attest::DeviceSigner for Platform {
    fn public_key(&self) -> Result<Vec<u8>, SignerError> {
        caught(|| self.0.public_key())
    }

    fn sign(&self, payload: &[u8]) -> Result<Vec<u8>, SignerError> {
        caught(|| self.0.sign(payload.to_vec()))
    }

    fn backing(&self) -> KeyBacking {
        if self.0.hardware_backed() {
            KeyBacking::Hardware
        } else {
            KeyBacking::Software
        }
    }
}

#[uniffi::export]
impl Fieldwork {
    /// Attest this phone's signatures, consents and QC records with
    /// `signer`. Give it before `enrol`, which registers its public key;
    /// the server then refuses those records unattested.
    pub fn use_device_signer(&self, signer: Arc<dyn DeviceSigner>) -> Result<(), FieldworkError> {
        guard(|| {
            self.core.use_device_signer(Arc::new(Platform(signer)));
            Ok(())
        })
    }

    /// For phones without a hardware key store: a software P-256 key kept
    /// inside the store (encrypted with it), made on first use, marked
    /// software-backed on the board and the report.
    pub fn use_software_device_key(&self) -> Result<(), FieldworkError> {
        guard(|| Ok(self.core.use_software_device_key()?))
    }
}
