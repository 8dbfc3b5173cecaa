//! `fieldwork admin migrate --from-data DIR --to-database URL`: move an
//! embedded server to PostgreSQL when the service center outgrows one
//! machine (decision 0015).
//!
//! Everything is copied as it is, row for row: tenants, people, token,
//! session and enrolment-code hashes, board logins; each tenant's documents,
//! orders, change log with its sequence numbers, grants, refusals and
//! quarantine; and its photos. Phones keep their tokens and pull cursors
//! and carry on syncing against the new server without priming again.
//!
//! Both sides are first opened as the server opens them, so their schemas
//! are at this build's version; then every table the two have in common is
//! copied column by column (parents before children), each tenant in one
//! transaction, the directory last. The folder's lock is taken first: a
//! server still serving it makes the move refuse. The copy is checked by counting. A
//! failed move can be run again: it is refused only once the directory's
//! copy, the last step, has been made.

use crate::state::AppState;
use crate::storage::{Embedded, Postgres, Storage};
use fieldwork_core::model::MediaType;
use fieldwork_core::store::log;
use fieldwork_core::store::sql::{Backend, Param, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

type Res<T> = Result<T, String>;

/// What was moved, per tenant: rows per table, photos and their bytes.
#[derive(Debug, Default)]
pub struct Moved {
    pub directory: BTreeMap<String, u64>,
    pub tenants: BTreeMap<String, TenantMoved>,
}

#[derive(Debug, Default)]
pub struct TenantMoved {
    pub rows: BTreeMap<String, u64>,
    pub last_seq: i64,
    pub photos: u64,
    pub photo_bytes: u64,
}

fn e(what: &str) -> impl Fn(fieldwork_core::store::sql::SqlError) -> String + '_ {
    move |err| format!("{what}: {err}")
}

/// Tables a migration keeps for itself, never copied.
fn bookkeeping(table: &str) -> bool {
    table == "schema_version" || table.starts_with("sqlite_")
}

/// The SQLite side's tables, parents before the tables that refer to them.
fn sqlite_tables(db: &mut dyn Backend) -> Res<Vec<String>> {
    let names: Vec<String> = db
        .query(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
            &[],
        )
        .map_err(e("reading the tables"))?
        .iter()
        .map(|r| r.text(0))
        .collect::<Result<_, _>>()
        .map_err(e("reading the tables"))?;
    let names: Vec<String> = names.into_iter().filter(|n| !bookkeeping(n)).collect();
    let mut parents: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for n in &names {
        let refs = db
            .query(&format!("PRAGMA foreign_key_list(\"{n}\")"), &[])
            .map_err(e(n))?
            .iter()
            .map(|r| r.text(2))
            .collect::<Result<BTreeSet<_>, _>>()
            .map_err(e(n))?;
        parents.insert(n.clone(), refs.into_iter().filter(|p| p != n).collect());
    }
    let mut ordered: Vec<String> = Vec::new();
    while ordered.len() < names.len() {
        let before = ordered.len();
        for n in &names {
            if !ordered.contains(n)
                && parents[n]
                    .iter()
                    .all(|p| ordered.contains(p) || !names.contains(p))
            {
                ordered.push(n.clone());
            }
        }
        if ordered.len() == before {
            return Err("the tables refer to each other in a circle".into());
        }
    }
    Ok(ordered)
}

fn sqlite_columns(db: &mut dyn Backend, table: &str) -> Res<Vec<String>> {
    db.query(&format!("PRAGMA table_info(\"{table}\")"), &[])
        .map_err(e(table))?
        .iter()
        .map(|r| r.text(1))
        .collect::<Result<_, _>>()
        .map_err(e(table))
}

/// The PostgreSQL side's columns of `table` (in its schema), and whether
/// each is an identity column.
fn pg_columns(db: &mut dyn Backend, table: &str) -> Res<Vec<(String, bool)>> {
    db.query(
        "SELECT column_name::text, is_identity::text FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = ?1 ORDER BY ordinal_position",
        &[Param::Text(table)],
    )
    .map_err(e(table))?
    .iter()
    .map(|r| Ok((r.text(0)?, r.text(1)? == "YES")))
    .collect::<Result<_, fieldwork_core::store::sql::SqlError>>()
    .map_err(e(table))
}

/// Rows read from SQLite at a time.
const PAGE: usize = 500;

/// `None` for an ordinary table; for a `WITHOUT ROWID` one, its primary
/// key's columns, to page in order.
fn without_rowid(db: &mut dyn Backend, table: &str) -> Res<Option<String>> {
    let wr = db
        .query(
            "SELECT wr FROM pragma_table_list WHERE schema = 'main' AND name = ?1",
            &[Param::Text(table)],
        )
        .map_err(e(table))?
        .first()
        .map(|r| r.int(0))
        .transpose()
        .map_err(e(table))?
        .unwrap_or(0);
    if wr == 0 {
        return Ok(None);
    }
    let mut key: Vec<(i64, String)> = db
        .query(&format!("PRAGMA table_info(\"{table}\")"), &[])
        .map_err(e(table))?
        .iter()
        .map(|r| Ok((r.int(5)?, r.text(1)?)))
        .collect::<Result<_, fieldwork_core::store::sql::SqlError>>()
        .map_err(e(table))?;
    key.retain(|(pk, _)| *pk > 0);
    key.sort();
    Ok(Some(
        key.into_iter()
            .map(|(_, c)| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", "),
    ))
}

fn param(v: &Value) -> Res<Param<'_>> {
    Ok(match v {
        Value::Null => Param::Null,
        Value::Int(i) => Param::Int(*i),
        Value::Text(t) => Param::Text(t),
        Value::Blob(b) => Param::Blob(b),
        Value::Real(_) => return Err("a real number where none is expected".into()),
    })
}

/// Copy every table `from` and `to` share, replacing what `to` holds.
/// Runs inside the caller's transaction on `to`.
fn copy_tables(from: &mut dyn Backend, to: &mut dyn Backend) -> Res<BTreeMap<String, u64>> {
    let tables = sqlite_tables(from)?;
    let mut plan = Vec::new();
    for t in &tables {
        let target = pg_columns(to, t)?;
        if target.is_empty() {
            continue; // kept another way on PostgreSQL (photos' bytes)
        }
        let source = sqlite_columns(from, t)?;
        let shared: Vec<String> = source
            .into_iter()
            .filter(|c| target.iter().any(|(n, _)| n == c))
            .collect();
        let identity: Vec<String> = target
            .iter()
            .filter(|(n, id)| *id && shared.contains(n))
            .map(|(n, _)| n.clone())
            .collect();
        plan.push((t.clone(), shared, identity));
    }
    // Children first out, parents first in.
    for (t, _, _) in plan.iter().rev() {
        to.execute(&format!("DELETE FROM \"{t}\""), &[])
            .map_err(e(t))?;
    }
    let mut copied = BTreeMap::new();
    for (t, columns, identity) in &plan {
        let list = columns
            .iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let marks = (1..=columns.len())
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let overriding = if identity.is_empty() {
            ""
        } else {
            " OVERRIDING SYSTEM VALUE"
        };
        let insert = format!("INSERT INTO \"{t}\" ({list}){overriding} VALUES ({marks})");
        // Read in pages so a long change log is never in memory whole: by
        // rowid, or by primary key for a table without one.
        let keyed = without_rowid(from, t)?;
        let mut after = i64::MIN;
        let mut n = 0u64;
        loop {
            let rows = match &keyed {
                None => from.query(
                    &format!(
                        "SELECT rowid, {list} FROM \"{t}\" WHERE rowid > ?1 ORDER BY rowid LIMIT {PAGE}"
                    ),
                    &[Param::Int(after)],
                ),
                Some(key) => from.query(
                    &format!(
                        "SELECT 0, {list} FROM \"{t}\" ORDER BY {key} LIMIT {PAGE} OFFSET ?1"
                    ),
                    &[Param::Int(i64::try_from(n).unwrap_or(i64::MAX))],
                ),
            }
            .map_err(e(t))?;
            let Some(last) = rows.last() else { break };
            after = last.int(0).map_err(e(t))?;
            for row in &rows {
                let params = row.0[1..].iter().map(param).collect::<Res<Vec<_>>>()?;
                to.execute(&insert, &params).map_err(e(t))?;
                n += 1;
            }
        }
        // Identity columns continue after the highest copied value.
        for c in identity {
            to.query(
                &format!(
                    "SELECT setval(pg_get_serial_sequence('\"{t}\"', '{c}'), \
                     COALESCE((SELECT MAX(\"{c}\") FROM \"{t}\"), 0) + 1, false)"
                ),
                &[],
            )
            .map_err(e(t))?;
        }
        copied.insert(t.clone(), n);
    }
    // The copy is checked by counting both sides.
    for (t, n) in &copied {
        let count = |db: &mut dyn Backend| -> Res<u64> {
            let rows = db
                .query(&format!("SELECT COUNT(*) FROM \"{t}\""), &[])
                .map_err(e(t))?;
            let c = rows.first().map(|r| r.int(0)).transpose().map_err(e(t))?;
            Ok(c.unwrap_or(0).try_into().unwrap_or(0))
        };
        let (a, b) = (count(from)?, count(to)?);
        if a != *n || b != *n {
            return Err(format!(
                "{t}: {a} rows here, {b} there, {n} copied (was the server still running?)"
            ));
        }
    }
    Ok(copied)
}

/// `f` in one transaction on `to`: all of it or none.
fn all_or_none<T>(to: &mut dyn Backend, f: impl FnOnce(&mut dyn Backend) -> Res<T>) -> Res<T> {
    to.begin().map_err(e("begin"))?;
    match f(to) {
        Ok(v) => {
            to.commit().map_err(e("commit"))?;
            Ok(v)
        }
        Err(err) => {
            let _ = to.rollback();
            Err(err)
        }
    }
}

fn last_seq(db: &mut dyn Backend) -> Res<i64> {
    let rows = db
        .query("SELECT COALESCE(MAX(seq), 0) FROM changes", &[])
        .map_err(e("changes"))?;
    rows.first()
        .map_or(Ok(0), |r| r.int(0))
        .map_err(e("changes"))
}

/// The photos `db`'s orders refer to: hash, size, media type.
fn photo_blobs(db: &mut dyn Backend) -> Res<Vec<(String, i64, String)>> {
    db.query(
        "SELECT hash, MAX(size), MAX(media_type) FROM photos GROUP BY hash ORDER BY hash",
        &[],
    )
    .map_err(e("photos"))?
    .iter()
    .map(|r| Ok((r.text(0)?, r.int(1)?, r.text(2)?)))
    .collect::<Result<_, fieldwork_core::store::sql::SqlError>>()
    .map_err(e("photos"))
}

/// Move the embedded server in `data` (stopped) into the PostgreSQL
/// database at `url`, whose directory must not hold tenants yet.
pub fn migrate(data: &Path, url: &str) -> Res<Moved> {
    if !data.join("server.db").is_file() {
        return Err(format!(
            "--from-data {}: no server here (no server.db)",
            data.display()
        ));
    }
    // Held for the whole move: no server may start on it meanwhile.
    let _folder = crate::storage::FolderLock::take(data, "--from-data", "move it")?;
    let source: Arc<dyn Storage> = Arc::new(
        Embedded::new(data.to_path_buf())
            .map_err(|err| format!("--from-data {}: {err}", data.display()))?,
    );
    let target: Arc<dyn Storage> = Arc::new(
        Postgres::new(url, crate::storage::DEFAULT_DATABASE_CONNECTIONS)
            .map_err(|err| format!("--to-database: {err}"))?,
    );
    // Opened as the server opens them: both schemas current.
    let from_state = AppState::open_storage(source.clone()).map_err(|err| err.to_string())?;
    let to_state =
        AppState::open_storage(target.clone()).map_err(|err| format!("--to-database: {err}"))?;
    let existing = to_state
        .directory
        .tenants()
        .map_err(|err| format!("--to-database: {err}"))?;
    if !existing.is_empty() {
        return Err(format!(
            "--to-database already serves {} tenant(s) ({}); move into an empty database",
            existing.len(),
            existing.join(", ")
        ));
    }
    let tenants = from_state
        .directory
        .tenants()
        .map_err(|err| err.to_string())?;
    for t in &tenants {
        from_state.tenant(t).map_err(|err| err.message)?;
        to_state.tenant(t).map_err(|err| err.message)?;
    }
    drop(from_state);
    drop(to_state);

    let mut moved = Moved::default();
    for t in &tenants {
        let mut from = source.tenant(t).map_err(e(t))?;
        let mut to = target.tenant(t).map_err(e(t))?;
        let rows = all_or_none(to.as_mut(), |to| {
            let rows = copy_tables(from.as_mut(), to)?;
            // The devices' cursors are the copied numbers.
            log::positions_from_copied_numbers(to).map_err(|err| format!("{t}: {err}"))?;
            Ok(rows)
        })?;
        let seq = last_seq(from.as_mut())?;
        if last_seq(to.as_mut())? != seq {
            return Err(format!("{t}: the change log did not arrive whole"));
        }
        // The photos, checked against their hash on the way in.
        let (src, dst) = (
            source.blobs(t).map_err(e(t))?,
            target.blobs(t).map_err(e(t))?,
        );
        let mut photos = 0;
        let mut photo_bytes = 0;
        for (hash, size, media) in photo_blobs(from.as_mut())? {
            let Some(mut reader) = src.open(&hash).map_err(|err| format!("{t}: {err}"))? else {
                continue; // never arrived whole: the phone still holds it
            };
            let size = u64::try_from(size).unwrap_or(0);
            let media = MediaType::parse_mime(&media)
                .ok_or_else(|| format!("{t}: photo {hash} has an unknown kind"))?;
            let held = dst
                .append(&hash, 0, &mut reader, size, size, media)
                .map_err(|err| format!("{t}: photo {hash}: {err}"))?;
            if !held.complete {
                return Err(format!("{t}: photo {hash} did not arrive whole"));
            }
            photos += 1;
            photo_bytes += size;
        }
        moved.tenants.insert(
            t.clone(),
            TenantMoved {
                rows,
                last_seq: seq,
                photos,
                photo_bytes,
            },
        );
    }
    // The directory last: until it is there, the move can be run again.
    let mut from = source.directory().map_err(e("directory"))?;
    let mut to = target.directory().map_err(e("directory"))?;
    moved.directory = all_or_none(to.as_mut(), |to| copy_tables(from.as_mut(), to))?;
    Ok(moved)
}
