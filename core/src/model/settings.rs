//! The service center's settings document: every version a supervisor
//! saved, appended and never edited, so that an order can be judged under
//! the version in force when it was received (docs/decisions/0012).

use autosurgeon::{Hydrate, Reconcile};

#[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
pub struct SettingsDoc {
    pub versions: Vec<SettingsRecord>,
}

/// One saved version. The policy is kept as its JSON text: a version is
/// written once and read whole, and a field a later release adds reads
/// with its default from an older version.
#[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
pub struct SettingsRecord {
    pub version: i64,
    /// When it was saved; orders received from then on are served under it.
    pub effective_from_ms: i64,
    pub changed_by: String,
    /// The default language: `zh-CN` or `en`.
    pub language: String,
    pub policy_json: String,
}
