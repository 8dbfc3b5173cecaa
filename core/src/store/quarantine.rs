//! Refused work, kept. On a device, the quarantine: outbox entries the
//! server refused move here in one transaction with the reason, and stay
//! until someone discards them deliberately. On the server, the log of
//! refused pushes per device, which the desk sees on the order page.

use super::StoreError;
use super::sql::{Backend, Row, SqlError, in_transaction, params};
use serde::{Deserialize, Serialize};

/// A change the server refused, kept on the device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuarantinedChange {
    pub id: i64,
    pub doc_id: String,
    /// The change's hash, hex.
    pub hash: String,
    /// Why the server refused it (or the device gave up on it).
    pub reason: String,
    /// The intent that made it (`use part`, `arrive`…).
    pub intent: String,
    /// The top-level parts of the document it changed (`parts`, `events`…).
    pub touched: Vec<String>,
    pub made_at_ms: i64,
    pub refused_at_ms: i64,
}

/// One entry to quarantine: an outbox entry and what is known of it.
#[derive(Debug)]
pub struct Refused<'a> {
    pub seq: i64,
    pub reason: &'a str,
    pub intent: &'a str,
    pub touched: &'a [String],
    pub made_at_ms: i64,
}

/// Move outbox entries into the quarantine, all in one transaction: an
/// entry is always in exactly one of the two.
pub fn quarantine(
    db: &mut dyn Backend,
    entries: &[Refused<'_>],
    now_ms: i64,
) -> Result<(), StoreError> {
    in_transaction(db, |db| -> Result<(), StoreError> {
        for e in entries {
            let touched = e.touched.join(",");
            db.execute(
                "INSERT INTO quarantine (doc_id, hash, bytes, reason, intent, touched, made_at_ms, refused_at_ms)
                 SELECT doc_id, hash, bytes, ?2, ?3, ?4, ?5, ?6 FROM changes WHERE seq = ?1
                 ON CONFLICT (doc_id, hash) DO NOTHING",
                params![
                    e.seq,
                    e.reason,
                    e.intent,
                    &touched,
                    e.made_at_ms,
                    now_ms
                ],
            )?;
            db.execute("DELETE FROM changes WHERE seq = ?1", params![e.seq])?;
        }
        Ok(())
    })
}

fn entry(mut r: Row) -> Result<QuarantinedChange, SqlError> {
    let hash = r.take_blob(2)?.iter().map(|b| format!("{b:02x}")).collect();
    Ok(QuarantinedChange {
        id: r.int(0)?,
        doc_id: r.text(1)?,
        hash,
        reason: r.text(3)?,
        intent: r.text(4)?,
        touched: r
            .text(5)?
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        made_at_ms: r.int(6)?,
        refused_at_ms: r.int(7)?,
    })
}

const COLUMNS: &str = "id, doc_id, hash, reason, intent, touched, made_at_ms, refused_at_ms";

/// Everything quarantined, oldest first.
pub fn list(db: &mut dyn Backend) -> Result<Vec<QuarantinedChange>, StoreError> {
    Ok(db
        .query(
            &format!("SELECT {COLUMNS} FROM quarantine ORDER BY id"),
            &[],
        )?
        .into_iter()
        .map(entry)
        .collect::<Result<_, _>>()?)
}

/// One quarantined change with its bytes, for an export.
pub fn bytes_of(db: &mut dyn Backend, id: i64) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(super::sql::query_opt(
        db,
        "SELECT bytes FROM quarantine WHERE id = ?1",
        params![id],
    )?
    .map(|mut r| r.take_blob(0))
    .transpose()?)
}

/// Whether a change (by hash) is in the quarantine.
pub fn holds(db: &mut dyn Backend, doc_id: &str, hash: &[u8]) -> Result<bool, StoreError> {
    Ok(super::sql::query_opt(
        db,
        "SELECT 1 FROM quarantine WHERE doc_id = ?1 AND hash = ?2",
        params![doc_id, hash],
    )?
    .is_some())
}

/// Discard one quarantined change; returns whether it was there.
pub fn discard(db: &mut dyn Backend, id: i64) -> Result<bool, StoreError> {
    Ok(db.execute("DELETE FROM quarantine WHERE id = ?1", params![id])? > 0)
}

/// A refused push, as the server logs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Refusal {
    pub device_id: String,
    pub engineer: String,
    pub doc_id: String,
    pub reason: String,
    /// The size of the refused push of this document, in bytes.
    pub bytes: i64,
    pub at_ms: i64,
}

pub fn log_refusal(db: &mut dyn Backend, r: &Refusal) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO refusals (device_id, engineer, doc_id, reason, bytes, at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            &r.device_id,
            &r.engineer,
            &r.doc_id,
            &r.reason,
            r.bytes,
            r.at_ms
        ],
    )?;
    Ok(())
}

/// Whose refusals to list.
#[derive(Debug, Clone, Copy)]
pub enum RefusalsOf<'a> {
    Document(&'a str),
    Device(&'a str),
}

/// Refusals of pushes to a document or from a device, newest first, at
/// most `limit` (written into the statement: SQLite compiles a SELECT whose
/// LIMIT is bound afresh on every run).
pub fn refusals(
    db: &mut dyn Backend,
    of: RefusalsOf<'_>,
    limit: u32,
) -> Result<Vec<Refusal>, StoreError> {
    let (column, key) = match of {
        RefusalsOf::Document(d) => ("doc_id", d),
        RefusalsOf::Device(d) => ("device_id", d),
    };
    Ok(db
        .query(
            &format!(
                "SELECT device_id, engineer, doc_id, reason, bytes, at_ms FROM refusals
                  WHERE {column} = ?1 ORDER BY id DESC LIMIT {limit}"
            ),
            params![key],
        )?
        .iter()
        .map(|r| {
            Ok(Refusal {
                device_id: r.text(0)?,
                engineer: r.text(1)?,
                doc_id: r.text(2)?,
                reason: r.text(3)?,
                bytes: r.int(4)?,
                at_ms: r.int(5)?,
            })
        })
        .collect::<Result<_, SqlError>>()?)
}
