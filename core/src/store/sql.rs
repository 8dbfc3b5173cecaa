//! The storage trait: the few things the store asks of a SQL database, so the
//! same store code (its queries, its transactions, its change log) runs on the
//! embedded SQLite here and on PostgreSQL in the server (decision 0009).
//!
//! Statements are written once, with `?1`-style numbered parameters, in the
//! SQL both databases share; a backend translates what it must.

use std::fmt;

/// A parameter of a statement, borrowed for the call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Param<'a> {
    Null,
    Int(i64),
    Text(&'a str),
    Blob(&'a [u8]),
}

impl From<i64> for Param<'_> {
    fn from(v: i64) -> Self {
        Param::Int(v)
    }
}

impl From<u32> for Param<'_> {
    fn from(v: u32) -> Self {
        Param::Int(i64::from(v))
    }
}

impl From<bool> for Param<'_> {
    fn from(v: bool) -> Self {
        Param::Int(i64::from(v))
    }
}

impl<'a> From<&'a str> for Param<'a> {
    fn from(v: &'a str) -> Self {
        Param::Text(v)
    }
}

impl<'a> From<&'a String> for Param<'a> {
    fn from(v: &'a String) -> Self {
        Param::Text(v)
    }
}

impl<'a> From<&'a [u8]> for Param<'a> {
    fn from(v: &'a [u8]) -> Self {
        Param::Blob(v)
    }
}

impl<'a> From<&'a Vec<u8>> for Param<'a> {
    fn from(v: &'a Vec<u8>) -> Self {
        Param::Blob(v)
    }
}

impl<'a, T: Into<Param<'a>>> From<Option<T>> for Param<'a> {
    fn from(v: Option<T>) -> Self {
        v.map_or(Param::Null, Into::into)
    }
}

impl<'a> From<&'a Option<String>> for Param<'a> {
    fn from(v: &'a Option<String>) -> Self {
        v.as_deref().map_or(Param::Null, Param::Text)
    }
}

impl From<&Option<i64>> for Param<'_> {
    fn from(v: &Option<i64>) -> Self {
        v.map_or(Param::Null, Param::Int)
    }
}

/// Parameters of a statement: `params![a, b]`.
#[macro_export]
#[doc(hidden)]
macro_rules! sql_params {
    ($($p:expr),* $(,)?) => {
        &[$($crate::store::sql::Param::from($p)),*]
    };
}
pub use sql_params as params;

/// A value read back.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

/// One row of a result, read by column index.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Row(pub Vec<Value>);

impl Row {
    fn at(&self, i: usize) -> Result<&Value, SqlError> {
        self.0
            .get(i)
            .ok_or_else(|| SqlError::new(format!("no column {i}")))
    }

    fn mismatch(&self, i: usize, want: &str) -> SqlError {
        SqlError::new(format!("column {i} is not {want}"))
    }

    pub fn int(&self, i: usize) -> Result<i64, SqlError> {
        self.opt_int(i)?
            .ok_or_else(|| self.mismatch(i, "an integer"))
    }

    pub fn opt_int(&self, i: usize) -> Result<Option<i64>, SqlError> {
        match self.at(i)? {
            Value::Null => Ok(None),
            Value::Int(v) => Ok(Some(*v)),
            _ => Err(self.mismatch(i, "an integer")),
        }
    }

    pub fn bool(&self, i: usize) -> Result<bool, SqlError> {
        Ok(self.int(i)? != 0)
    }

    pub fn text(&self, i: usize) -> Result<String, SqlError> {
        self.opt_text(i)?.ok_or_else(|| self.mismatch(i, "text"))
    }

    pub fn opt_text(&self, i: usize) -> Result<Option<String>, SqlError> {
        match self.at(i)? {
            Value::Null => Ok(None),
            Value::Text(v) => Ok(Some(v.clone())),
            _ => Err(self.mismatch(i, "text")),
        }
    }

    /// Take the bytes out of a column without copying them.
    pub fn take_blob(&mut self, i: usize) -> Result<Vec<u8>, SqlError> {
        match self.0.get_mut(i) {
            Some(Value::Blob(v)) => Ok(std::mem::take(v)),
            _ => Err(self.mismatch(i, "bytes")),
        }
    }
}

/// A database error. Its message names what failed, never the values bound
/// (they may be customers' data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlError {
    pub message: String,
    /// SQLite read a file that is no database it can open: an encrypted
    /// store opened without its key, or with another.
    pub not_a_database: bool,
}

impl SqlError {
    pub fn new(message: impl Into<String>) -> SqlError {
        SqlError {
            message: message.into(),
            not_a_database: false,
        }
    }

    fn not_a_database() -> SqlError {
        SqlError {
            message: "sqlite: file is not a database".into(),
            not_a_database: true,
        }
    }
}

impl fmt::Display for SqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SqlError {}

/// Which SQL a backend speaks, for the few statements that differ (schema
/// migrations above all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A SQL database the store keeps its data in: one connection, used by one
/// thread at a time.
pub trait Backend: Send + fmt::Debug {
    fn dialect(&self) -> Dialect;

    /// Run one statement; returns the rows it changed.
    fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64, SqlError>;

    /// Run one query and read all its rows.
    fn query(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Row>, SqlError>;

    /// Run several statements without parameters (a migration).
    fn execute_batch(&mut self, sql: &str) -> Result<(), SqlError>;

    fn begin(&mut self) -> Result<(), SqlError>;
    fn commit(&mut self) -> Result<(), SqlError>;
    fn rollback(&mut self) -> Result<(), SqlError>;

    /// Whether a transaction is open on this connection: [`in_transaction`]
    /// then nests with a savepoint (the server's group commit applies each
    /// push inside the group's one transaction).
    fn transaction_open(&self) -> bool;

    /// The number of the last migration applied (0 for a new database).
    fn schema_version(&mut self) -> Result<i64, SqlError>;
    /// Record the last migration applied; called inside its transaction.
    fn set_schema_version(&mut self, version: i64) -> Result<(), SqlError>;

    /// Whether other processes write the same data: the store then claims
    /// each document before it reads or writes it ([`Backend::claim`]) and
    /// re-reads what other processes changed.
    fn is_shared(&self) -> bool {
        false
    }

    /// Serialise with the other processes on each of `names` (documents)
    /// until [`Backend::release_claims`]: a second claim of a name waits for
    /// the first to be released. Names are claimed in one fixed order
    /// whatever order they are given in, so two callers claiming the same
    /// set never wait for each other in a circle. A no-op when not shared.
    fn claim(&mut self, _names: &[&str]) -> Result<(), SqlError> {
        Ok(())
    }

    /// Release every claim this connection holds.
    fn release_claims(&mut self) -> Result<(), SqlError> {
        Ok(())
    }

    /// Take the whole store's lock across processes (a no-op when not
    /// shared): only while migrating, never around calls.
    fn lock_exclusive(&mut self) -> Result<(), SqlError> {
        Ok(())
    }

    fn unlock_exclusive(&mut self) -> Result<(), SqlError> {
        Ok(())
    }

    /// The database's own consistency check: "ok" when sound.
    fn integrity_check(&mut self) -> Result<String, SqlError> {
        Ok("ok".into())
    }

    /// Trade durability for speed (benchmark fixtures only).
    fn unsynchronised(&mut self) -> Result<(), SqlError> {
        Ok(())
    }
}

/// Run `f` in a transaction on a boxed backend: its own, or, inside one
/// already open, a savepoint, so that `f`'s writes are kept or undone
/// together either way (and, nested, committed with the outer transaction).
pub fn in_transaction<T, E: From<SqlError>>(
    db: &mut dyn Backend,
    f: impl FnOnce(&mut dyn Backend) -> Result<T, E>,
) -> Result<T, E> {
    if db.transaction_open() {
        db.execute_batch("SAVEPOINT fw_nested")?;
        return match f(db) {
            Ok(v) => {
                db.execute_batch("RELEASE SAVEPOINT fw_nested")?;
                Ok(v)
            }
            Err(e) => {
                // Undo `f` only; the outer transaction goes on.
                db.execute_batch("ROLLBACK TO SAVEPOINT fw_nested; RELEASE SAVEPOINT fw_nested")?;
                Err(e)
            }
        };
    }
    db.begin()?;
    match f(db) {
        Ok(v) => {
            db.commit()?;
            Ok(v)
        }
        Err(e) => {
            let _ = db.rollback();
            Err(e)
        }
    }
}

/// `n` items cut into runs of at most `most` each, every run a power of
/// two long (45 in runs of 32, 8, 4 and 1): multi-row statements then come
/// in a handful of shapes, each prepared once per connection and kept.
pub fn runs(n: usize, most: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
    let most = most.max(1);
    let mut at = 0;
    std::iter::from_fn(move || {
        let left = n - at;
        if left == 0 {
            return None;
        }
        let len = if left >= most {
            most
        } else {
            1 << left.ilog2()
        };
        at += len;
        Some(at - len..at)
    })
}

/// `rows` rows of `columns` placeholders each, numbered from `?1`:
/// `(?1, ?2), (?3, ?4)`, for a multi-row `VALUES`.
pub fn values(rows: usize, columns: usize) -> String {
    let mut sql = String::with_capacity(rows * columns * 5);
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..columns {
            if c > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("?{}", r * columns + c + 1));
        }
        sql.push(')');
    }
    sql
}

/// The first row of a query, if any.
pub fn query_opt(
    db: &mut dyn Backend,
    sql: &str,
    params: &[Param<'_>],
) -> Result<Option<Row>, SqlError> {
    Ok(db.query(sql, params)?.into_iter().next())
}

/// The embedded SQLite backend: a file on the device, or the small server's store.
pub struct SqliteBackend {
    conn: rusqlite::Connection,
}

impl fmt::Debug for SqliteBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteBackend")
            .field("path", &self.conn.path())
            .finish()
    }
}

fn sqlite_error(e: rusqlite::Error) -> SqlError {
    SqlError::new(format!("sqlite: {e}"))
}

impl SqliteBackend {
    /// Open (creating if missing) with the store's pragmas: WAL and
    /// `synchronous=FULL`, so a returned commit survives power loss
    /// (decision 0002). `temp_store=2` avoids temp files, which fail on some
    /// Android devices.
    pub fn open(path: &std::path::Path) -> Result<SqliteBackend, SqlError> {
        Self::open_keyed(path, None)
    }

    /// Open a SQLCipher database with `key` (or a plain one with none).
    /// The key is checked by reading the schema: a wrong key fails here,
    /// before anything is written, with SQLite's "not a database".
    pub fn open_keyed(
        path: &std::path::Path,
        key: Option<&crate::at_rest::StoreKey>,
    ) -> Result<SqliteBackend, SqlError> {
        let conn = rusqlite::Connection::open(path).map_err(sqlite_error)?;
        if let Some(key) = key {
            conn.execute_batch(&format!("PRAGMA key = {};", key.sql_literal()))
                .map_err(sqlite_error)?;
        }
        // A wrong key is an answer (`Locked`), not something for SQLCipher
        // to log on stderr or logcat: quiet while the key is tried.
        let _ = conn.execute_batch("PRAGMA cipher_log_level = NONE;");
        let probed = conn.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(()));
        let _ = conn.execute_batch("PRAGMA cipher_log_level = WARN;");
        probed.map_err(|e| match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::NotADatabase) => SqlError::not_a_database(),
            _ => sqlite_error(e),
        })?;
        let setup = || -> rusqlite::Result<()> {
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "FULL")?;
            conn.pragma_update(None, "foreign_keys", "ON")?;
            conn.pragma_update(None, "temp_store", 2)?;
            conn.busy_timeout(std::time::Duration::from_secs(5))?;
            conn.set_prepared_statement_cache_capacity(64);
            Ok(())
        };
        setup().map_err(sqlite_error)?;
        Ok(SqliteBackend { conn })
    }
}

fn to_sqlite<'a>(p: &Param<'a>) -> rusqlite::types::ToSqlOutput<'a> {
    use rusqlite::types::{ToSqlOutput, ValueRef};
    ToSqlOutput::Borrowed(match *p {
        Param::Null => ValueRef::Null,
        Param::Int(v) => ValueRef::Integer(v),
        Param::Text(v) => ValueRef::Text(v.as_bytes()),
        Param::Blob(v) => ValueRef::Blob(v),
    })
}

fn sqlite_params<'a>(params: &'a [Param<'a>]) -> Vec<rusqlite::types::ToSqlOutput<'a>> {
    params.iter().map(to_sqlite).collect()
}

impl Backend for SqliteBackend {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64, SqlError> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(sqlite_error)?;
        let bound = sqlite_params(params);
        let n = stmt
            .execute(rusqlite::params_from_iter(bound.iter()))
            .map_err(sqlite_error)?;
        Ok(n as u64)
    }

    fn query(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Row>, SqlError> {
        use rusqlite::types::ValueRef;
        let mut stmt = self.conn.prepare_cached(sql).map_err(sqlite_error)?;
        let columns = stmt.column_count();
        let bound = sqlite_params(params);
        let mut rows = stmt
            .query(rusqlite::params_from_iter(bound.iter()))
            .map_err(sqlite_error)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(sqlite_error)? {
            let mut row = Vec::with_capacity(columns);
            for i in 0..columns {
                row.push(match r.get_ref(i).map_err(sqlite_error)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(v) => Value::Int(v),
                    ValueRef::Real(v) => Value::Real(v),
                    ValueRef::Text(v) => Value::Text(String::from_utf8_lossy(v).into_owned()),
                    ValueRef::Blob(v) => Value::Blob(v.to_vec()),
                });
            }
            out.push(Row(row));
        }
        Ok(out)
    }

    fn execute_batch(&mut self, sql: &str) -> Result<(), SqlError> {
        self.conn.execute_batch(sql).map_err(sqlite_error)
    }

    fn begin(&mut self) -> Result<(), SqlError> {
        self.conn.execute_batch("BEGIN").map_err(sqlite_error)
    }

    fn commit(&mut self) -> Result<(), SqlError> {
        self.conn.execute_batch("COMMIT").map_err(sqlite_error)
    }

    fn rollback(&mut self) -> Result<(), SqlError> {
        self.conn.execute_batch("ROLLBACK").map_err(sqlite_error)
    }

    fn transaction_open(&self) -> bool {
        !self.conn.is_autocommit()
    }

    fn schema_version(&mut self) -> Result<i64, SqlError> {
        self.conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(sqlite_error)
    }

    fn set_schema_version(&mut self, version: i64) -> Result<(), SqlError> {
        self.conn
            .pragma_update(None, "user_version", version)
            .map_err(sqlite_error)
    }

    fn integrity_check(&mut self) -> Result<String, SqlError> {
        self.conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(sqlite_error)
    }

    fn unsynchronised(&mut self) -> Result<(), SqlError> {
        self.conn
            .pragma_update(None, "synchronous", "OFF")
            .map_err(sqlite_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_cover_every_item_once_in_powers_of_two_at_most_the_limit() {
        for most in [1, 8, 64, 100] {
            for n in 0..300 {
                let mut at = 0;
                for r in runs(n, most) {
                    assert_eq!(r.start, at, "n {n}, most {most}");
                    assert!(
                        !r.is_empty() && r.len() <= most,
                        "n {n}, most {most}: {r:?}"
                    );
                    assert!(
                        r.len() == most || r.len().is_power_of_two(),
                        "n {n}, most {most}: {r:?}"
                    );
                    at = r.end;
                }
                assert_eq!(at, n, "n {n}, most {most}");
            }
        }
        let lengths: Vec<usize> = runs(45, 32).map(|r| r.len()).collect();
        assert_eq!(lengths, [32, 8, 4, 1]);
    }

    #[test]
    fn values_number_the_marks_row_by_row() {
        assert_eq!(values(1, 1), "(?1)");
        assert_eq!(values(2, 3), "(?1, ?2, ?3), (?4, ?5, ?6)");
    }

    #[test]
    fn a_multi_row_statement_of_each_run_writes_every_row_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = SqliteBackend::open(&dir.path().join("runs.db")).unwrap();
        db.execute_batch("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)")
            .unwrap();
        let rows: Vec<(i64, String)> = (0..45).map(|k| (k, format!("v{k}"))).collect();
        for r in runs(rows.len(), 16) {
            let part = &rows[r];
            let params: Vec<Param<'_>> = part
                .iter()
                .flat_map(|(k, v)| [Param::Int(*k), Param::Text(v)])
                .collect();
            db.execute(
                &format!("INSERT INTO t (k, v) VALUES {}", values(part.len(), 2)),
                &params,
            )
            .unwrap();
        }
        let back = db.query("SELECT k, v FROM t ORDER BY k", &[]).unwrap();
        assert_eq!(back.len(), 45);
        for (row, (k, v)) in back.iter().zip(&rows) {
            assert_eq!(row.int(0).unwrap(), *k);
            assert_eq!(&row.text(1).unwrap(), v);
        }
    }
}
