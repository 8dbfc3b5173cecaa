//! fieldwork-ffi: the Fieldwork core for the Android and iOS apps, through
//! uniffi (Kotlin package `app.fieldwork`, Swift module `FieldworkKit`).
//!
//! A thin layer over [`fieldwork_core::Fieldwork`] and its sync client: it
//! declares the core's types for the bindings, converts errors into the one
//! [`FieldworkError`], and holds nothing else. Every call runs under a panic
//! guard, so no panic crosses into the app. Nothing is async: apps call from
//! a background thread, and every object may be used from several at once.

uniffi::setup_scaffolding!("fieldwork");

mod error;
mod fieldwork;
mod photos;
mod signer;
mod sync;
mod types;

pub use error::FieldworkError;
pub use fieldwork::{Fieldwork, encrypt_store};
pub use signer::{DeviceKeyError, DeviceSigner};
pub use sync::{Enrolment, SyncEvent, SyncListener, SyncSession, enrol};
pub use types::{MailInStep, OrderDetail};
