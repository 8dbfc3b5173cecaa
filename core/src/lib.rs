//! Fieldwork core: the offline-first heart of the engineer's app. Work orders,
//! van stock and the parts catalog as Automerge documents in a local SQLite
//! store; the service-center rules as pure functions; one facade, [`Fieldwork`],
//! that the bindings and the server wrap.
//!
//! The layers, each importing only from those below it (docs/architecture.md):
//!
//! | layer | modules |
//! |---|---|
//! | sync: the device's client and outbox, the server's half | [`sync`] |
//! | the facade: one method per intent, the unit of work | [`api`] |
//! | storage: SQLite (SQLCipher with a key) or the server's PostgreSQL, rows, the change log | [`store`] |
//! | the service report as a PDF | [`report`] |
//! | the service-center rules, input checks, device-key attestations | [`rules`], [`validate`], [`attest`] |
//! | the photo folder, messages, local time, sample data | [`blobs`], [`l10n`], [`local_time`], [`samples`] |
//! | the documents, the policy and settings, ids, clocks; keys and sealed files | [`model`], [`doc_ids`], [`policy`], [`settings`], [`hlc`], [`at_rest`] |
//!
//! [`scenario`] plays a whole visit through the facade for the example, the
//! demo, the tests and the benchmarks.

pub mod doc_ids;
pub mod hlc;
pub mod l10n;
pub mod local_time;
pub mod model;
pub mod policy;
pub mod rules;
pub mod samples;
pub mod settings;
pub mod validate;

pub mod attest;
pub mod report;

pub mod at_rest;
pub mod blobs;
pub mod store;

pub mod api;

pub mod sync;

pub mod scenario;

pub use api::{Config, Error, Fieldwork, ManualClock, SystemClock};
pub use l10n::Language;
pub use policy::Policy;
pub use settings::{Settings, SettingsInput, SettingsVersion};
pub use store::{OrderFilter, OrderRow, OrderSort};
pub use sync::server::ServerStore;
