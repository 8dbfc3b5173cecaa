//! The device's half of "refused work is kept": moving refused outbox
//! entries into the quarantine with what they touched, listing, exporting
//! and deliberately discarding them, and answering a server that lacks a
//! change a push depends on.

use crate::api::{Error, Fieldwork, Result};
use crate::store::chunks;
use crate::store::log::{self, LoggedChange};
use crate::store::quarantine::{self as q, QuarantinedChange, Refused};
use automerge::{ChangeHash, Prop};
use serde::Serialize;

/// What the device did about a push the server could not take because it
/// lacks changes the push depends on.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MissingOutcome {
    /// Changes this device holds and queued again for the server.
    pub requeued: usize,
    /// Outbox entries quarantined because what they depend on was refused or
    /// is held nowhere.
    pub quarantined: usize,
}

/// A quarantined change as exported for support.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
struct Exported<'a> {
    #[serde(flatten)]
    entry: &'a QuarantinedChange,
    /// The change itself, hex.
    bytes: String,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Fieldwork {
    /// Move these outbox entries of `doc_id` into the quarantine, with the
    /// server's reason. They leave the outbox and stay in the store until
    /// [`Fieldwork::discard_quarantined`].
    pub fn quarantine_outbox(&self, entries: &[LoggedChange], reason: &str) -> Result<()> {
        let mut g = self.lock()?;
        let now = g.clock.now_ms();
        let mut described = Vec::with_capacity(entries.len());
        for e in entries {
            described.push(g.describe_change(&e.doc_id, &e.bytes));
        }
        let refused: Vec<Refused<'_>> = entries
            .iter()
            .zip(&described)
            .map(|(e, (intent, touched, made_at_ms))| Refused {
                seq: e.seq,
                reason,
                intent,
                touched,
                made_at_ms: *made_at_ms,
            })
            .collect();
        q::quarantine(g.store.db(), &refused, now)?;
        Ok(())
    }

    /// Everything quarantined on this device, oldest first.
    pub fn quarantined(&self) -> Result<Vec<QuarantinedChange>> {
        Ok(q::list(self.lock()?.store.db())?)
    }

    /// The quarantine as JSON for support: each entry with its change bytes.
    /// It holds what the engineer entered, so it goes to support only.
    pub fn export_quarantine(&self) -> Result<String> {
        let mut g = self.lock()?;
        let entries = q::list(g.store.db())?;
        let mut bytes = Vec::with_capacity(entries.len());
        for e in &entries {
            bytes.push(hex(&q::bytes_of(g.store.db(), e.id)?.unwrap_or_default()));
        }
        let out: Vec<Exported<'_>> = entries
            .iter()
            .zip(bytes)
            .map(|(entry, bytes)| Exported { entry, bytes })
            .collect();
        serde_json::to_string_pretty(&out).map_err(|e| {
            Error::from(crate::store::StoreError::Database(
                crate::store::sql::SqlError::new(e.to_string()),
            ))
        })
    }

    /// Discard one quarantined change for good.
    pub fn discard_quarantined(&self, id: i64) -> Result<()> {
        if q::discard(self.lock()?.store.db(), id)? {
            Ok(())
        } else {
            Err(Error::NotFound {
                kind: "quarantined change",
                id: id.to_string(),
            })
        }
    }

    /// The server lacks `missing` (hashes, hex), on which the pushed
    /// `entries` of one document depend. A dependency this device holds is
    /// queued again; entries whose dependency was refused (it is in the
    /// quarantine) or is held nowhere are quarantined with a reason that
    /// says so. Entries whose dependencies are all requeued stay in the
    /// outbox and go again.
    pub fn resolve_missing(
        &self,
        doc_id: &str,
        entries: &[LoggedChange],
        missing: &[String],
    ) -> Result<MissingOutcome> {
        let mut outcome = MissingOutcome::default();
        let mut lost = None;
        {
            let mut g = self.lock()?;
            for m in missing {
                let Ok(hash) = m.parse::<ChangeHash>() else {
                    lost = Some("the server named a dependency that is not a change hash");
                    continue;
                };
                if q::holds(g.store.db(), doc_id, &hash.0)? {
                    lost = Some("depends on a change the server refused");
                    continue;
                }
                let held = match g.store.contains(doc_id)? {
                    true => g.store.doc(doc_id)?.get_change_by_hash(&hash),
                    false => None,
                };
                match held {
                    Some(mut change) => {
                        let bytes = change.bytes().to_vec();
                        let read = chunks::read_changes(&bytes, &chunks::Limits::DEFAULT).map_err(
                            |e| Error::MalformedDocument {
                                doc_id: doc_id.to_string(),
                                reason: e.to_string(),
                            },
                        )?;
                        let origin = g.device_id.clone();
                        log::requeue(g.store.db(), doc_id, &hash.0, &read.plain, &origin)?;
                        outcome.requeued += 1;
                    }
                    None => {
                        lost = Some("depends on a change neither the server nor this device holds")
                    }
                }
            }
        }
        if let Some(reason) = lost {
            self.quarantine_outbox(entries, reason)?;
            outcome.quarantined = entries.len();
        }
        Ok(outcome)
    }
}

impl crate::api::Inner {
    /// The intent that made a change, the top-level fields it changed, and
    /// when it was made; as much as can be told if the document is gone.
    fn describe_change(&mut self, doc_id: &str, bytes: &[u8]) -> (String, Vec<String>, i64) {
        let Ok(read) = chunks::read_changes(bytes, &chunks::Limits::DEFAULT) else {
            return ("unreadable".into(), Vec::new(), 0);
        };
        let Some(c) = read.changes.first() else {
            return ("empty".into(), Vec::new(), 0);
        };
        let intent = c.change.message().map(str::to_string).unwrap_or_default();
        let made_at_ms = c.change.timestamp().saturating_mul(1000);
        let before = c.change.deps().to_vec();
        let after = [c.hash()];
        let mut touched = Vec::new();
        if let Ok(true) = self.store.contains(doc_id)
            && let Ok(doc) = self.store.doc(doc_id)
            && doc.get_change_by_hash(&after[0]).is_some()
        {
            for patch in doc.diff(&before, &after) {
                let key = match (patch.path.first(), &patch.action) {
                    (Some((_, Prop::Map(k))), _) => Some(k.clone()),
                    (None, automerge::PatchAction::PutMap { key, .. })
                    | (None, automerge::PatchAction::DeleteMap { key }) => Some(key.clone()),
                    (
                        None,
                        automerge::PatchAction::Increment {
                            prop: Prop::Map(k), ..
                        },
                    ) => Some(k.clone()),
                    _ => None,
                };
                if let Some(k) = key
                    && !touched.contains(&k)
                {
                    touched.push(k);
                }
            }
        }
        touched.sort();
        (intent, touched, made_at_ms)
    }
}
