//! The service center's settings as the rules read them: its policy (every
//! limit, the currency, the time zone, the calling hours) and its default
//! language, in versions a supervisor saved. Kept in one document synced to
//! every phone like the catalog (`settings`), so phone and server judge an
//! order under the same version offline.
//!
//! The rule for clocks already running (decision 0012): **an order is
//! served under the version in force when it was received.** A change
//! applies to orders received from then on. Before the first saved version
//! the store's own policy applies (`Config::policy`, the defaults of
//! docs/domain.md, on phone and server alike).

use crate::l10n::Language;
use crate::model::{SettingsDoc, SettingsRecord};
use crate::policy::Policy;
use serde::{Deserialize, Serialize};

/// One saved version of the settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SettingsVersion {
    pub version: i64,
    pub effective_from_ms: i64,
    pub changed_by: String,
    pub language: Language,
    pub policy: Policy,
}

/// Every version, oldest first; never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    versions: Vec<SettingsVersion>,
}

impl Settings {
    /// Settings before any version was saved: `policy` in English.
    pub fn unsaved(policy: Policy) -> Settings {
        Settings {
            versions: vec![SettingsVersion {
                version: 0,
                effective_from_ms: i64::MIN,
                changed_by: String::new(),
                language: Language::En,
                policy,
            }],
        }
    }

    /// The document's versions in the order they took effect, after
    /// `fallback` (in force before the first). A version that does not read
    /// or check (never written by Fieldwork) is skipped.
    pub fn from_doc(doc: &SettingsDoc, fallback: &Policy) -> Settings {
        let mut versions: Vec<SettingsVersion> = doc
            .versions
            .iter()
            .filter_map(|r| {
                let policy: Policy = serde_json::from_str(&r.policy_json).ok()?;
                policy.check().ok()?;
                Some(SettingsVersion {
                    version: r.version,
                    effective_from_ms: r.effective_from_ms,
                    changed_by: r.changed_by.clone(),
                    language: Language::parse_setting(&r.language)?,
                    policy,
                })
            })
            .collect();
        versions.sort_by_key(|v| (v.effective_from_ms, v.version));
        let mut all = Settings::unsaved(fallback.clone());
        all.versions.extend(versions);
        all
    }

    /// The version saved last: what applies to an order received now.
    pub fn current(&self) -> &SettingsVersion {
        // `versions` is never empty (both constructors make sure).
        &self.versions[self.versions.len() - 1]
    }

    pub fn policy(&self) -> &Policy {
        &self.current().policy
    }

    pub fn language(&self) -> Language {
        self.current().language
    }

    /// Whether a supervisor ever saved settings (else the store's default).
    pub fn is_saved(&self) -> bool {
        self.current().version > 0
    }

    /// The version in force at `ms`: the one an order received then is
    /// served under.
    pub fn at(&self, ms: i64) -> &SettingsVersion {
        self.versions
            .iter()
            .rev()
            .find(|v| v.effective_from_ms <= ms)
            .unwrap_or(&self.versions[0])
    }

    /// The policy an order received at `received_ms` is served under.
    pub fn policy_at(&self, received_ms: i64) -> &Policy {
        &self.at(received_ms).policy
    }

    /// The versions a supervisor saved, oldest first.
    pub fn history(&self) -> &[SettingsVersion] {
        &self.versions[1..]
    }

    /// The earliest time from which `self` serves orders differently than
    /// `before` did: the earliest effective time among versions `before`
    /// did not have. `None` when nothing new arrived.
    pub fn first_new_since(&self, before: &Settings) -> Option<i64> {
        self.history()
            .iter()
            .filter(|v| {
                !before
                    .history()
                    .iter()
                    .any(|b| b.version == v.version && b.effective_from_ms == v.effective_from_ms)
            })
            .map(|v| v.effective_from_ms)
            .min()
    }

    /// The next version's number.
    pub fn next_version(&self) -> i64 {
        self.versions.iter().map(|v| v.version).max().unwrap_or(0) + 1
    }
}

/// What a supervisor saves: checked whole before anything is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SettingsInput {
    /// `zh-CN` or `en`.
    pub language: String,
    pub policy: Policy,
}

impl SettingsInput {
    /// The record to append, or why not.
    pub(crate) fn record(
        &self,
        version: i64,
        at_ms: i64,
        by: &str,
    ) -> Result<SettingsRecord, crate::validate::Invalid> {
        let language = Language::parse_setting(self.language.trim())
            .ok_or_else(|| crate::validate::invalid("language", "must be zh-CN or en"))?;
        self.policy
            .check()
            .map_err(|reason| crate::validate::invalid("policy", reason))?;
        let policy_json = serde_json::to_string(&self.policy)
            .map_err(|e| crate::validate::invalid("policy", e.to_string()))?;
        Ok(SettingsRecord {
            version,
            effective_from_ms: at_ms,
            changed_by: by.to_string(),
            language: language.tag().to_string(),
            policy_json,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(version: i64, at: i64, dispatch: i64) -> SettingsRecord {
        let input = SettingsInput {
            language: "zh-CN".into(),
            policy: Policy {
                dispatch_limit_min: dispatch,
                ..Policy::default()
            },
        };
        input.record(version, at, "sup").unwrap_or_else(|e| {
            unreachable!("a good input: {e}");
        })
    }

    #[test]
    fn an_order_is_served_under_the_version_in_force_when_it_was_received() {
        let doc = SettingsDoc {
            versions: vec![record(2, 2_000, 120), record(1, 1_000, 200)],
        };
        let s = Settings::from_doc(&doc, &Policy::default());
        assert_eq!(s.current().version, 2);
        assert_eq!(
            s.policy_at(500).dispatch_limit_min,
            4 * 60,
            "before the first: the store's own"
        );
        assert_eq!(s.history().len(), 2);
        assert_eq!(s.policy_at(1_500).dispatch_limit_min, 200);
        assert_eq!(s.policy_at(2_000).dispatch_limit_min, 120);
        assert_eq!(s.language(), Language::ZhCn);
        assert_eq!(s.next_version(), 3);
    }

    #[test]
    fn bad_settings_are_refused_with_the_field() {
        let mut input = SettingsInput {
            language: "tlh".into(),
            policy: Policy::default(),
        };
        let e = input.record(1, 0, "sup").err().map(|e| e.field);
        assert_eq!(e.as_deref(), Some("language"));
        input.language = "en".into();
        for bad in [
            Policy {
                time_zone: "Mars/Olympus".into(),
                ..Policy::default()
            },
            Policy {
                calling_hours: "9-5".into(),
                ..Policy::default()
            },
            Policy {
                calling_hours: "14:00-12:00".into(),
                ..Policy::default()
            },
            Policy {
                warranty_days: -1,
                ..Policy::default()
            },
            Policy {
                repair_exception_limit_min: 60,
                ..Policy::default()
            },
        ] {
            input.policy = bad;
            let e = input.record(1, 0, "sup").err().map(|e| e.field);
            assert_eq!(e.as_deref(), Some("policy"));
        }
    }
}
