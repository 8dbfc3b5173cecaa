//! The change log: the device's outbox and the server's pull log, and the
//! server's grants (which engineer may see which order since when).

use super::StoreError;
use automerge::{AutoCommit, ChangeHash};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

/// Record the changes a write made (those not already behind `heads_before`).
pub(super) fn append(
    tx: &Transaction<'_>,
    doc_id: &str,
    doc: &mut AutoCommit,
    heads_before: &[ChangeHash],
    origin: &str,
) -> Result<(), StoreError> {
    let mut ins = tx.prepare_cached(
        "INSERT OR IGNORE INTO changes (doc_id, hash, bytes, origin) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for change in doc.get_changes(heads_before) {
        ins.execute(params![
            doc_id,
            change.hash().0.as_slice(),
            change.raw_bytes(),
            origin
        ])?;
    }
    Ok(())
}

/// Move the grant of `doc_id` to `assignee` at the current log position.
pub(super) fn regrant(
    tx: &Transaction<'_>,
    doc_id: &str,
    assignee: Option<&str>,
) -> Result<(), StoreError> {
    let previous: Option<String> = tx
        .prepare_cached("SELECT assignee FROM orders WHERE id = ?1")?
        .query_row([doc_id], |r| r.get(0))
        .optional()?
        .flatten();
    if previous.as_deref() == assignee {
        return Ok(());
    }
    let seq = max_seq(tx)?;
    if let Some(prev) = previous {
        tx.prepare_cached(
            "UPDATE grants SET revoked_seq = ?3 WHERE doc_id = ?1 AND engineer = ?2 AND revoked_seq IS NULL",
        )?
        .execute(params![doc_id, prev, seq])?;
    }
    if let Some(eng) = assignee {
        tx.prepare_cached(
            "INSERT INTO grants (doc_id, engineer, granted_seq, revoked_seq) VALUES (?1, ?2, ?3, NULL)
             ON CONFLICT (doc_id, engineer) DO UPDATE SET granted_seq = excluded.granted_seq, revoked_seq = NULL",
        )?
        .execute(params![doc_id, eng, seq])?;
    }
    Ok(())
}

pub fn max_seq(conn: &Connection) -> Result<i64, StoreError> {
    Ok(
        conn.query_row("SELECT COALESCE(MAX(seq), 0) FROM changes", [], |r| {
            r.get(0)
        })?,
    )
}

/// One logged change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedChange {
    pub seq: i64,
    pub doc_id: String,
    pub bytes: Vec<u8>,
}

/// The oldest logged changes, up to about `max_bytes` (at least one).
pub fn oldest(conn: &Connection, max_bytes: usize) -> Result<Vec<LoggedChange>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT seq, doc_id, bytes FROM changes ORDER BY seq")?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    let mut total = 0usize;
    while let Some(r) = rows.next()? {
        let bytes: Vec<u8> = r.get(2)?;
        if !out.is_empty() && total + bytes.len() > max_bytes {
            break;
        }
        total += bytes.len();
        out.push(LoggedChange {
            seq: r.get(0)?,
            doc_id: r.get(1)?,
            bytes,
        });
    }
    Ok(out)
}

pub fn delete(conn: &mut Connection, seqs: &[i64]) -> Result<(), StoreError> {
    let tx = conn.transaction()?;
    {
        let mut del = tx.prepare_cached("DELETE FROM changes WHERE seq = ?1")?;
        for s in seqs {
            del.execute([s])?;
        }
    }
    tx.commit()?;
    Ok(())
}

pub fn pending_for(conn: &Connection, doc_id: &str) -> Result<i64, StoreError> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM changes WHERE doc_id = ?1",
        [doc_id],
        |r| r.get(0),
    )?)
}

pub fn pending(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row("SELECT COUNT(*) FROM changes", [], |r| r.get(0))?)
}

/// What the server sends one engineer's device after `cursor`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PullPlan {
    /// Orders granted after the cursor: sent whole.
    pub whole: Vec<String>,
    /// Changes after the cursor to documents the engineer sees, oldest first.
    pub changes: Vec<LoggedChange>,
    /// Orders taken away after the cursor.
    pub removed: Vec<String>,
    /// The cursor to give the device.
    pub cursor: i64,
    /// More changes are waiting: sync again.
    pub more: bool,
}

/// The pull for `engineer`'s device `device` from `cursor`, at most `limit` changes.
pub fn plan_pull(
    conn: &Connection,
    engineer: &str,
    device: &str,
    cursor: i64,
    limit: usize,
) -> Result<PullPlan, StoreError> {
    let mut top = max_seq(conn)?;
    // Newly granted orders go whole, about `limit / 10` per pull at most. If
    // more wait, this pull ends at the last grant it sends (grants at the same
    // position stay together) and the device comes back for the rest.
    let whole_limit = (limit / 10).max(1);
    let granted: Vec<(String, i64)> = conn
        .prepare_cached(
            "SELECT doc_id, granted_seq FROM grants
              WHERE engineer = ?1 AND granted_seq > ?2 AND granted_seq <= ?3 AND revoked_seq IS NULL
              ORDER BY granted_seq, doc_id",
        )?
        .query_map(params![engineer, cursor, top], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<Result<_, _>>()?;
    let mut whole = Vec::new();
    let mut last_granted = None;
    let mut more = false;
    for (doc_id, seq) in granted {
        if whole.len() >= whole_limit && last_granted != Some(seq) {
            more = true;
            top = last_granted.unwrap_or(top);
            break;
        }
        whole.push(doc_id);
        last_granted = Some(seq);
    }
    let removed: Vec<String> = conn
        .prepare_cached(
            "SELECT doc_id FROM grants WHERE engineer = ?1 AND revoked_seq > ?2 AND revoked_seq <= ?3 ORDER BY revoked_seq",
        )?
        .query_map(params![engineer, cursor, top], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let stock = super::stock_doc_id(engineer);
    // Driven by the engineer's documents (grants by engineer, then changes
    // by document and sequence), so a pull costs what this engineer has, not
    // what the whole tenant has logged since the cursor.
    let mut stmt = conn.prepare_cached(
        "SELECT c.seq, c.doc_id, c.bytes FROM grants g
           JOIN changes c ON c.doc_id = g.doc_id
          WHERE g.engineer = ?5 AND g.granted_seq <= ?1 AND (g.revoked_seq IS NULL OR g.revoked_seq > ?1)
            AND c.seq > ?1 AND c.seq <= ?2 AND c.origin <> ?3
         UNION ALL
         SELECT seq, doc_id, bytes FROM changes
          WHERE doc_id IN (?4, 'catalog') AND seq > ?1 AND seq <= ?2 AND origin <> ?3
         ORDER BY 1 LIMIT ?6",
    )?;
    let changes: Vec<LoggedChange> = stmt
        .query_map(
            params![cursor, top, device, stock, engineer, limit as i64],
            |r| {
                Ok(LoggedChange {
                    seq: r.get(0)?,
                    doc_id: r.get(1)?,
                    bytes: r.get(2)?,
                })
            },
        )?
        .collect::<Result<_, _>>()?;
    let cut = changes.len() >= limit;
    let new_cursor = if cut {
        changes.last().map_or(top, |c| c.seq)
    } else {
        top
    };
    let more = more || cut;
    Ok(PullPlan {
        whole,
        changes,
        removed,
        cursor: new_cursor,
        more,
    })
}

/// Whether `engineer` was ever granted `doc_id` (pushes of what they did
/// while it was theirs are accepted after reassignment).
pub fn ever_granted(conn: &Connection, doc_id: &str, engineer: &str) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM grants WHERE doc_id = ?1 AND engineer = ?2")?
        .query_row(params![doc_id, engineer], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Whether `engineer` may read `doc_id` now.
pub fn granted_now(conn: &Connection, doc_id: &str, engineer: &str) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT 1 FROM grants WHERE doc_id = ?1 AND engineer = ?2 AND revoked_seq IS NULL",
        )?
        .query_row(params![doc_id, engineer], |_| Ok(()))
        .optional()?
        .is_some())
}
