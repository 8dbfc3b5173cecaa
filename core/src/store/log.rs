//! The change log: the device's outbox and the server's pull log, and the
//! server's grants (which engineer may see which order since when).

use super::StoreError;
use super::sql::{Backend, Param, Row, SqlError, params, query_opt};
use automerge::{AutoCommit, ChangeHash};

/// Record the changes a write made (those not already behind `heads_before`),
/// in one INSERT (per 256 changes): one round trip on PostgreSQL.
/// A change already logged (a retried push) is not logged twice.
pub(super) fn append(
    db: &mut dyn Backend,
    doc_id: &str,
    doc: &mut AutoCommit,
    heads_before: &[ChangeHash],
    origin: &str,
) -> Result<(), StoreError> {
    const ROWS: usize = 256;
    let changes = doc.get_changes(heads_before);
    for part in changes.chunks(ROWS) {
        let hashes: Vec<[u8; 32]> = part.iter().map(|c| c.hash().0).collect();
        let mut sql = String::from("INSERT INTO changes (doc_id, hash, bytes, origin) VALUES ");
        let mut params = vec![Param::Text(doc_id), Param::Text(origin)];
        for (i, (c, h)) in part.iter().zip(&hashes).enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            let n = params.len();
            sql.push_str(&format!("(?1, ?{}, ?{}, ?2)", n + 1, n + 2));
            params.push(Param::Blob(h.as_slice()));
            params.push(Param::Blob(c.raw_bytes()));
        }
        sql.push_str(" ON CONFLICT (doc_id, hash) DO NOTHING");
        db.execute(&sql, &params)?;
    }
    Ok(())
}

/// Queue a change again (the server lacks it and a later change depends
/// on it), ahead of everything queued, so it goes before its dependents
/// even when they fill a round. Already queued: nothing happens.
pub fn requeue(
    db: &mut dyn Backend,
    doc_id: &str,
    hash: &[u8],
    bytes: &[u8],
    origin: &str,
) -> Result<(), StoreError> {
    let sql = match db.dialect() {
        // A device's store: SQLite takes a sequence number below the oldest.
        super::sql::Dialect::Sqlite => {
            "INSERT INTO changes (seq, doc_id, hash, bytes, origin)
             SELECT COALESCE(MIN(seq), 1) - 1, ?1, ?2, ?3, ?4 FROM changes WHERE true
             ON CONFLICT (doc_id, hash) DO NOTHING"
        }
        super::sql::Dialect::Postgres => {
            "INSERT INTO changes (doc_id, hash, bytes, origin) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (doc_id, hash) DO NOTHING"
        }
    };
    db.execute(sql, params![doc_id, hash, bytes, origin])?;
    Ok(())
}

/// Move the grant of `doc_id` to `assignee` at the current log position.
pub(super) fn regrant(
    db: &mut dyn Backend,
    doc_id: &str,
    assignee: Option<&str>,
) -> Result<(), StoreError> {
    let previous = query_opt(
        db,
        "SELECT assignee FROM orders WHERE id = ?1",
        params![doc_id],
    )?
    .map(|r| r.opt_text(0))
    .transpose()?
    .flatten();
    if previous.as_deref() == assignee {
        return Ok(());
    }
    let seq = max_seq(db)?;
    if let Some(prev) = previous {
        db.execute(
            "UPDATE grants SET revoked_seq = ?3 WHERE doc_id = ?1 AND engineer = ?2 AND revoked_seq IS NULL",
            params![doc_id, &prev, seq],
        )?;
    }
    if let Some(eng) = assignee {
        db.execute(
            "INSERT INTO grants (doc_id, engineer, granted_seq, revoked_seq) VALUES (?1, ?2, ?3, NULL)
             ON CONFLICT (doc_id, engineer) DO UPDATE SET granted_seq = excluded.granted_seq, revoked_seq = NULL",
            params![doc_id, eng, seq],
        )?;
    }
    Ok(())
}

fn count(
    db: &mut dyn Backend,
    sql: &str,
    params: &[super::sql::Param<'_>],
) -> Result<i64, StoreError> {
    Ok(query_opt(db, sql, params)?
        .map(|r| r.int(0))
        .transpose()?
        .unwrap_or(0))
}

pub fn max_seq(db: &mut dyn Backend) -> Result<i64, StoreError> {
    count(db, "SELECT COALESCE(MAX(seq), 0) FROM changes", &[])
}

/// One logged change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedChange {
    pub seq: i64,
    pub doc_id: String,
    pub bytes: Vec<u8>,
}

impl LoggedChange {
    fn of(mut r: Row) -> Result<LoggedChange, SqlError> {
        Ok(LoggedChange {
            seq: r.int(0)?,
            doc_id: r.text(1)?,
            bytes: r.take_blob(2)?,
        })
    }
}

/// The oldest logged changes, up to about `max_bytes` (at least one).
pub fn oldest(db: &mut dyn Backend, max_bytes: usize) -> Result<Vec<LoggedChange>, StoreError> {
    // Sizes first, so only what fits is read.
    let sizes = db.query(
        "SELECT seq, length(bytes) FROM changes ORDER BY seq LIMIT 10000",
        &[],
    )?;
    let mut last = None;
    let mut total = 0usize;
    for r in &sizes {
        let len = usize::try_from(r.int(1)?).unwrap_or(usize::MAX);
        if last.is_some() && total.saturating_add(len) > max_bytes {
            break;
        }
        total = total.saturating_add(len);
        last = Some(r.int(0)?);
    }
    let Some(last) = last else {
        return Ok(Vec::new());
    };
    Ok(db
        .query(
            "SELECT seq, doc_id, bytes FROM changes WHERE seq <= ?1 ORDER BY seq",
            params![last],
        )?
        .into_iter()
        .map(LoggedChange::of)
        .collect::<Result<_, _>>()?)
}

pub fn delete(db: &mut dyn Backend, seqs: &[i64]) -> Result<(), StoreError> {
    super::sql::in_transaction(db, |db| -> Result<(), StoreError> {
        for s in seqs {
            db.execute("DELETE FROM changes WHERE seq = ?1", params![*s])?;
        }
        Ok(())
    })
}

pub fn pending_for(db: &mut dyn Backend, doc_id: &str) -> Result<i64, StoreError> {
    count(
        db,
        "SELECT COUNT(*) FROM changes WHERE doc_id = ?1",
        params![doc_id],
    )
}

pub fn pending(db: &mut dyn Backend) -> Result<i64, StoreError> {
    count(db, "SELECT COUNT(*) FROM changes", &[])
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
    db: &mut dyn Backend,
    engineer: &str,
    device: &str,
    cursor: i64,
    limit: usize,
) -> Result<PullPlan, StoreError> {
    let mut top = max_seq(db)?;
    // Newly granted orders go whole, about `limit / 10` per pull at most. If
    // more wait, this pull ends at the last grant it sends (grants at the same
    // position stay together) and the device comes back for the rest.
    let whole_limit = (limit / 10).max(1);
    let granted: Vec<(String, i64)> = db
        .query(
            "SELECT doc_id, granted_seq FROM grants
              WHERE engineer = ?1 AND granted_seq > ?2 AND granted_seq <= ?3 AND revoked_seq IS NULL
              ORDER BY granted_seq, doc_id",
            params![engineer, cursor, top],
        )?
        .iter()
        .map(|r| Ok((r.text(0)?, r.int(1)?)))
        .collect::<Result<_, SqlError>>()?;
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
    let removed: Vec<String> = db
        .query(
            "SELECT doc_id FROM grants WHERE engineer = ?1 AND revoked_seq > ?2 AND revoked_seq <= ?3 ORDER BY revoked_seq, doc_id",
            params![engineer, cursor, top],
        )?
        .iter()
        .map(|r| r.text(0))
        .collect::<Result<_, _>>()?;
    let stock = super::stock_doc_id(engineer);
    // Driven by the engineer's documents (grants by engineer, then changes
    // by document and sequence), so a pull costs what this engineer has, not
    // what the whole tenant has logged since the cursor.
    let changes: Vec<LoggedChange> = db
        .query(
            "SELECT c.seq, c.doc_id, c.bytes FROM grants g
               JOIN changes c ON c.doc_id = g.doc_id
              WHERE g.engineer = ?5 AND g.granted_seq <= ?1 AND (g.revoked_seq IS NULL OR g.revoked_seq > ?1)
                AND c.seq > ?1 AND c.seq <= ?2 AND c.origin <> ?3
             UNION ALL
             SELECT seq, doc_id, bytes FROM changes
              WHERE doc_id IN (?4, 'catalog', 'settings') AND seq > ?1 AND seq <= ?2 AND origin <> ?3
             ORDER BY 1 LIMIT ?6",
            params![cursor, top, device, &stock, engineer, limit as i64],
        )?
        .into_iter()
        .map(LoggedChange::of)
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
pub fn ever_granted(
    db: &mut dyn Backend,
    doc_id: &str,
    engineer: &str,
) -> Result<bool, StoreError> {
    Ok(query_opt(
        db,
        "SELECT 1 FROM grants WHERE doc_id = ?1 AND engineer = ?2",
        params![doc_id, engineer],
    )?
    .is_some())
}

/// Whether `engineer` may read `doc_id` now.
pub fn granted_now(db: &mut dyn Backend, doc_id: &str, engineer: &str) -> Result<bool, StoreError> {
    Ok(query_opt(
        db,
        "SELECT 1 FROM grants WHERE doc_id = ?1 AND engineer = ?2 AND revoked_seq IS NULL",
        params![doc_id, engineer],
    )?
    .is_some())
}
