//! The change log: the device's outbox and the server's pull log, and the
//! server's grants (which engineer may see which order since when).

use super::StoreError;
use super::sql::{Backend, Dialect, Param, Row, SqlError, params, query_opt, runs, values};
use automerge::ChangeHash;

/// A change to log: its document, its origin (the device), its hash and bytes.
pub(super) type Logged<'a> = (&'a str, &'a str, ChangeHash, &'a [u8]);

/// Log `changes`, the changes writes made, of any documents, in their
/// order: one INSERT per 128 of them or fewer (runs of a power of two, so a connection prepares few
/// distinct statements). One already logged is not logged twice.
pub(super) fn append_all(db: &mut dyn Backend, changes: &[Logged<'_>]) -> Result<(), StoreError> {
    for run in runs(changes.len(), 128) {
        let part = &changes[run];
        let sql = format!(
            "INSERT INTO changes (doc_id, origin, hash, bytes) VALUES {} ON CONFLICT (doc_id, hash) DO NOTHING",
            values(part.len(), 4)
        );
        let mut params = Vec::with_capacity(part.len() * 4);
        for (doc_id, origin, hash, bytes) in part {
            params.push(Param::Text(doc_id));
            params.push(Param::Text(origin));
            params.push(Param::Blob(hash.0.as_slice()));
            params.push(Param::Blob(bytes));
        }
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
        Dialect::Sqlite => {
            "INSERT INTO changes (seq, doc_id, hash, bytes, origin)
             SELECT COALESCE(MIN(seq), 1) - 1, ?1, ?2, ?3, ?4 FROM changes WHERE true
             ON CONFLICT (doc_id, hash) DO NOTHING"
        }
        Dialect::Postgres => {
            "INSERT INTO changes (doc_id, hash, bytes, origin) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (doc_id, hash) DO NOTHING"
        }
    };
    db.execute(sql, params![doc_id, hash, bytes, origin])?;
    Ok(())
}

/// Move the grant of `doc_id` to `assignee` at the current log position,
/// if it moved: from the assignee of `was`, the order as it was before this
/// write, when the caller has it; else from the order's row.
pub(super) fn regrant(
    db: &mut dyn Backend,
    doc_id: &str,
    was: Option<&crate::model::WorkOrder>,
    assignee: Option<&str>,
) -> Result<(), StoreError> {
    let previous = match was {
        Some(was) => was.assignee.clone(),
        None => query_opt(
            db,
            "SELECT assignee FROM orders WHERE id = ?1",
            params![doc_id],
        )?
        .map(|r| r.opt_text(0))
        .transpose()?
        .flatten(),
    };
    if previous.as_deref() == assignee {
        return Ok(());
    }
    let seq = position_now(db)?;
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

/// The column a change's position in the log is read from: on SQLite its
/// sequence number (one writer: numbers are committed in order); on
/// PostgreSQL its transaction's position (migration 5: writers commit in
/// any order there).
fn position(db: &dyn Backend) -> &'static str {
    match db.dialect() {
        Dialect::Sqlite => "seq",
        Dialect::Postgres => "pos",
    }
}

/// The last position written.
pub fn max_seq(db: &mut dyn Backend) -> Result<i64, StoreError> {
    let sql = format!("SELECT COALESCE(MAX({}), 0) FROM changes", position(db));
    count(db, &sql, &[])
}

/// The position of what the current write adds to the log (a grant
/// recorded with the changes of the same transaction).
fn position_now(db: &mut dyn Backend) -> Result<i64, StoreError> {
    match db.dialect() {
        Dialect::Sqlite => max_seq(db),
        Dialect::Postgres => count(db, "SELECT log_position()", &[]),
    }
}

/// The position up to which the log is settled: every change at or below
/// it is committed (or was never written), so a cursor moved there never
/// passes a change that commits later. On SQLite the last position (its one
/// writer commits in order); on PostgreSQL just below the oldest
/// transaction still running anywhere on the database server.
pub fn settled(db: &mut dyn Backend) -> Result<i64, StoreError> {
    match db.dialect() {
        Dialect::Sqlite => max_seq(db),
        Dialect::Postgres => count(db, "SELECT log_settled()", &[]),
    }
}

/// On PostgreSQL, after changes were copied in with their numbers (moving
/// an embedded server's data): those numbers are their positions, and the
/// positions of new changes go on above them. Nothing to do on SQLite.
pub fn positions_from_copied_numbers(db: &mut dyn Backend) -> Result<(), StoreError> {
    if db.dialect() == Dialect::Postgres {
        db.execute("UPDATE changes SET pos = seq", &[])?;
        db.execute(
            "UPDATE log_base SET base = (SELECT COALESCE(MAX(seq), 0) FROM changes)",
            &[],
        )?;
    }
    Ok(())
}

/// Make every position from now on greater than `after` (a restored log
/// continues past a gap): on SQLite the next sequence number; on
/// PostgreSQL the base positions are counted from.
pub fn positions_after(db: &mut dyn Backend, after: i64) -> Result<(), StoreError> {
    match db.dialect() {
        Dialect::Sqlite => {
            // `changes.seq` is AUTOINCREMENT: SQLite goes on from the last
            // number sqlite_sequence holds.
            let n = db.execute(
                "UPDATE sqlite_sequence SET seq = ?1 WHERE name = 'changes'",
                params![after],
            )?;
            if n == 0 {
                db.execute(
                    "INSERT INTO sqlite_sequence (name, seq) VALUES ('changes', ?1)",
                    params![after],
                )?;
            }
        }
        Dialect::Postgres => {
            db.execute(
                "UPDATE log_base SET base = GREATEST(base, ?1)",
                params![after],
            )?;
        }
    }
    Ok(())
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
    let top = settled(db)?;
    plan_pull_upto(db, top, engineer, device, cursor, limit)
}

/// [`plan_pull`] up to `top`, a position [`settled`] returned: the pulls
/// planned one after the other after a group commit share one (any
/// settled position is safe to stop at; a later one only sends more).
pub fn plan_pull_upto(
    db: &mut dyn Backend,
    mut top: i64,
    engineer: &str,
    device: &str,
    cursor: i64,
    limit: usize,
) -> Result<PullPlan, StoreError> {
    // Newly granted orders go whole, about `limit / 10` per pull at most. If
    // more wait, this pull ends at the last grant it sends (grants at the same
    // position stay together) and the device comes back for the rest.
    let whole_limit = (limit / 10).max(1);
    // The engineer's grants that moved in the range, given and taken
    // alike, in one statement (a round trip on PostgreSQL).
    let moved: Vec<(String, i64, Option<i64>)> = db
        .query(
            "SELECT doc_id, granted_seq, revoked_seq FROM grants
              WHERE engineer = ?1
                AND ((revoked_seq IS NULL AND granted_seq > ?2 AND granted_seq <= ?3)
                     OR (revoked_seq > ?2 AND revoked_seq <= ?3))",
            params![engineer, cursor, top],
        )?
        .iter()
        .map(|r| Ok((r.text(0)?, r.int(1)?, r.opt_int(2)?)))
        .collect::<Result<_, SqlError>>()?;
    let mut granted: Vec<(i64, &str)> = Vec::new();
    let mut revoked: Vec<(i64, &str)> = Vec::new();
    for (doc_id, granted_seq, revoked_seq) in &moved {
        match revoked_seq {
            None => granted.push((*granted_seq, doc_id)),
            Some(seq) => revoked.push((*seq, doc_id)),
        }
    }
    granted.sort_unstable();
    revoked.sort_unstable();
    let mut whole = Vec::new();
    let mut last_granted = None;
    let mut more = false;
    for (seq, doc_id) in granted {
        if whole.len() >= whole_limit && last_granted != Some(seq) {
            more = true;
            top = last_granted.unwrap_or(top);
            break;
        }
        whole.push(doc_id.to_string());
        last_granted = Some(seq);
    }
    let removed: Vec<String> = revoked
        .into_iter()
        .filter(|(seq, _)| *seq <= top)
        .map(|(_, doc_id)| doc_id.to_string())
        .collect();
    let mut changes = changes_for(db, engineer, device, cursor, top, Some(limit + 1))?;
    let mut new_cursor = top;
    if changes.len() > limit {
        // A cursor says "everything up to here", so a pull ends where a
        // position ends: the changes one transaction wrote go together.
        let first_left = changes[limit].seq;
        if changes[0].seq == first_left {
            // One position holds more than the limit: all of it, at once.
            changes = changes_for(db, engineer, device, cursor, first_left, None)?;
            new_cursor = first_left;
        } else {
            changes.retain(|c| c.seq < first_left);
            new_cursor = changes.last().map_or(cursor, |c| c.seq);
        }
        more = true;
    }
    Ok(PullPlan {
        whole,
        changes,
        removed,
        cursor: new_cursor,
        more,
    })
}

/// The changes after `cursor` up to `top` to the documents `engineer` sees,
/// not made by `device`, in log order, at most `limit` of them. Each one's
/// `seq` is its position.
fn changes_for(
    db: &mut dyn Backend,
    engineer: &str,
    device: &str,
    cursor: i64,
    top: i64,
    limit: Option<usize>,
) -> Result<Vec<LoggedChange>, StoreError> {
    let stock = super::stock_doc_id(engineer);
    let pos = position(db);
    let limit = limit.map_or(i64::MAX, |l| i64::try_from(l).unwrap_or(i64::MAX));
    let sql = changes_for_sql(pos, limit);
    Ok(db
        .query(&sql, params![cursor, top, device, &stock, engineer])?
        .into_iter()
        .map(LoggedChange::of)
        .collect::<Result<_, _>>()?)
}

/// The statement [`changes_for`] runs: `pos` is the position column.
pub(super) fn changes_for_sql(pos: &str, limit: i64) -> String {
    // Driven by the engineer's documents (grants by engineer, then changes
    // by document and position), so a pull costs what this engineer has, not
    // what the whole tenant has logged since the cursor.
    //
    // The limit is written into the statement, not bound: SQLite compiles a
    // SELECT whose LIMIT is a parameter afresh every time the parameter is
    // bound (its statement status counts a re-prepare per run), and the
    // pull after every push paid for that. The limit is our own number, and
    // each one is a statement of its own in the connection's cache.
    format!(
        "SELECT c.{pos}, c.doc_id, c.bytes, c.seq FROM grants g
           JOIN changes c ON c.doc_id = g.doc_id
          WHERE g.engineer = ?5 AND g.granted_seq <= ?1 AND (g.revoked_seq IS NULL OR g.revoked_seq > ?1)
            AND c.{pos} > ?1 AND c.{pos} <= ?2 AND c.origin <> ?3
         UNION ALL
         SELECT {pos}, doc_id, bytes, seq FROM changes
          WHERE doc_id IN (?4, 'catalog', 'settings') AND {pos} > ?1 AND {pos} <= ?2 AND origin <> ?3
         ORDER BY 1, 4 LIMIT {limit}"
    )
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
