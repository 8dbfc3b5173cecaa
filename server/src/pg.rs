//! PostgreSQL under the core's store and the server's directory: a
//! [`Backend`] per schema (one per tenant, one for the directory) on
//! connections from a pool the process shares. Board updates between
//! processes travel on their own connection (`pg_relay`).
//!
//! Several `fieldwork serve` processes may share one database, and write
//! one tenant's different orders at the same time: a call claims each
//! document it touches (a session-level advisory lock per document, released
//! when the call ends), so one order's writes are serialised and a retried
//! push is stored once whichever process receives it. The whole schema's
//! lock is taken only to create and migrate it. Positions in the change log
//! come from transaction ids, read below the oldest transaction still
//! running, so a pull never skips a change that commits late (the store's
//! PostgreSQL migration 5).

use fieldwork_core::store::sql::{Backend, Dialect, Param, Row, SqlError, Value};
use postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use postgres::{Client, NoTls, Statement};
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::time::Duration;

/// Statements kept prepared per connection.
const STATEMENT_CACHE: usize = 128;

/// How long a call waits for another process's lock on the same tenant
/// before it fails (it is then retried by the device or the dispatcher).
const LOCK_TIMEOUT: &str = "30s";

/// One PostgreSQL connection of a [`Pool`], and the statements prepared
/// on it.
pub struct Session {
    /// Always set; an `Option` only so that dropping it can step off the
    /// server's runtime first (its drop blocks).
    client: Option<Client>,
    statements: HashMap<String, Statement>,
    /// The schema its `search_path` points at now.
    schema: Option<String>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("schema", &self.schema)
            .finish()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // Closing the connection blocks on the client's own runtime.
        let client = self.client.take();
        self.statements.clear();
        off_runtime(move || drop(client));
    }
}

/// Opens the pool's connections.
#[derive(Debug)]
pub struct Connector {
    url: String,
}

impl r2d2::ManageConnection for Connector {
    type Connection = Session;
    type Error = SqlError;

    fn connect(&self) -> Result<Session, SqlError> {
        Ok(Session {
            client: Some(off_runtime(|| PgBackend::client(&self.url))?),
            statements: HashMap::new(),
            schema: None,
        })
    }

    fn is_valid(&self, session: &mut Session) -> Result<(), SqlError> {
        let client = session
            .client
            .as_mut()
            .ok_or_else(|| SqlError::new("postgres: no connection"))?;
        off_runtime(|| client.batch_execute("")).map_err(pg_error)
    }

    fn has_broken(&self, session: &mut Session) -> bool {
        session.client.as_ref().is_none_or(Client::is_closed)
    }
}

/// The connections a server process shares among its tenants' stores: a
/// store holds one only while a transaction, a lock or its documents'
/// claims need it, and otherwise for one statement at a time.
pub type Pool = r2d2::Pool<Connector>;

/// How long a statement waits for a free connection before it fails.
const POOL_WAIT: Duration = Duration::from_secs(10);

/// A pool of at most `size` connections to `url`. No connection is made
/// until one is needed; one unused for ten minutes is closed.
pub fn pool(url: &str, size: u32) -> Pool {
    r2d2::Pool::builder()
        .max_size(size.max(1))
        .min_idle(Some(0))
        // A closed connection is noticed by the statement that meets it,
        // which then takes another (`PgBackend::run`): no round trip per
        // checkout to test it.
        .test_on_check_out(false)
        .connection_timeout(POOL_WAIT)
        .idle_timeout(Some(Duration::from_secs(600)))
        .build_unchecked(Connector {
            url: url.to_string(),
        })
}

/// Connect to `url` once and close again: whether the database is there
/// and lets this server in, with the reason if not.
pub fn probe(url: &str) -> Result<(), SqlError> {
    let client = off_runtime(|| PgBackend::client(url))?;
    off_runtime(move || drop(client));
    Ok(())
}

/// One schema, on connections from a [`Pool`].
pub struct PgBackend {
    pool: Pool,
    schema: String,
    /// The advisory lock key of this schema.
    lock_key: i64,
    /// Whether calls claim documents (a tenant's store) or not (the
    /// directory, blobs: their statements are each safe on their own).
    shared: bool,
    /// The connection held while something depends on it.
    session: Option<r2d2::PooledConnection<Connector>>,
    in_transaction: bool,
    /// This session holds the schema's advisory lock.
    locked: bool,
    /// The documents' advisory locks this session holds ([`Backend::claim`]).
    claimed: BTreeSet<i64>,
}

impl fmt::Debug for PgBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not the URL: it may carry a password.
        f.debug_struct("PgBackend")
            .field("schema", &self.schema)
            .field("shared", &self.shared)
            .finish()
    }
}

/// A PostgreSQL error as the store reports it: the condition and its code,
/// never the statement's values or the server's detail (it can quote them).
fn pg_error(e: postgres::Error) -> SqlError {
    if let Some(db) = e.as_db_error() {
        return SqlError::new(format!("postgres {}: {}", db.code().code(), db.message()));
    }
    // The causes say why ("Connection refused", "password authentication
    // failed"); they never carry bound values.
    let mut message = format!("postgres: {e}");
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        message.push_str(&format!(": {c}"));
        cause = c.source();
    }
    SqlError::new(message)
}

/// Run blocking database work from wherever the server calls it: the
/// synchronous client drives its own small runtime, which a worker thread of
/// the server's runtime must first step out of.
fn off_runtime<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

/// The schema a tenant's store lives in. Tenant ids are 1-64 letters,
/// digits, '-' and '_'; PostgreSQL names are at most 63 bytes, so long ids
/// are shortened with a hash to stay distinct.
pub fn tenant_schema(tenant: &str) -> String {
    let name = format!("fw_tenant_{tenant}");
    if name.len() <= 63 {
        return name;
    }
    let digest = Sha256::digest(tenant.as_bytes());
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("fw_tenant_{}_{hex}", &tenant[..30.min(tenant.len())])
}

/// The directory's schema.
pub const DIRECTORY_SCHEMA: &str = "fw_directory";

fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn lock_key(schema: &str) -> i64 {
    let digest = Sha256::digest(schema.as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(b)
}

/// Advisory lock keys as a PostgreSQL array literal, `{k1,k2,…}`.
fn key_array(keys: &BTreeSet<i64>) -> String {
    let listed: Vec<String> = keys.iter().map(i64::to_string).collect();
    format!("{{{}}}", listed.join(","))
}

/// `?1`-style parameters as PostgreSQL's `$1`, outside quoted text.
fn translate(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut quoted = false;
    for c in sql.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                out.push(c);
            }
            '?' if !quoted => out.push('$'),
            _ => out.push(c),
        }
    }
    out
}

/// A parameter bound to whatever type PostgreSQL inferred for its place.
#[derive(Debug)]
struct Bind<'a>(Param<'a>);

impl ToSql for Bind<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        let mismatch = || -> Box<dyn std::error::Error + Sync + Send> {
            format!("a parameter does not fit a {ty} column").into()
        };
        match self.0 {
            Param::Null => Ok(IsNull::Yes),
            Param::Int(v) => match *ty {
                Type::INT8 => v.to_sql(ty, out),
                Type::INT4 => i32::try_from(v)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(v)?.to_sql(ty, out),
                Type::BOOL => (v != 0).to_sql(ty, out),
                _ => Err(mismatch()),
            },
            Param::Text(s) if <&str as ToSql>::accepts(ty) => s.to_sql(ty, out),
            Param::Blob(b) if <&[u8] as ToSql>::accepts(ty) => b.to_sql(ty, out),
            _ => Err(mismatch()),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

fn read_row(row: &postgres::Row) -> Result<Row, SqlError> {
    let bad = |e: postgres::Error| SqlError::new(format!("postgres: {e}"));
    let mut values = Vec::with_capacity(row.len());
    for (i, col) in row.columns().iter().enumerate() {
        let v = match *col.type_() {
            Type::INT8 => row
                .try_get::<_, Option<i64>>(i)
                .map_err(bad)?
                .map_or(Value::Null, Value::Int),
            Type::INT4 => row
                .try_get::<_, Option<i32>>(i)
                .map_err(bad)?
                .map_or(Value::Null, |v| Value::Int(v.into())),
            Type::INT2 => row
                .try_get::<_, Option<i16>>(i)
                .map_err(bad)?
                .map_or(Value::Null, |v| Value::Int(v.into())),
            Type::BOOL => row
                .try_get::<_, Option<bool>>(i)
                .map_err(bad)?
                .map_or(Value::Null, |v| Value::Int(v.into())),
            Type::FLOAT8 => row
                .try_get::<_, Option<f64>>(i)
                .map_err(bad)?
                .map_or(Value::Null, Value::Real),
            Type::BYTEA => row
                .try_get::<_, Option<Vec<u8>>>(i)
                .map_err(bad)?
                .map_or(Value::Null, Value::Blob),
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => row
                .try_get::<_, Option<String>>(i)
                .map_err(bad)?
                .map_or(Value::Null, Value::Text),
            ref other => {
                return Err(SqlError::new(format!(
                    "column {i} has type {other}, which the store does not read"
                )));
            }
        };
        values.push(v);
    }
    Ok(Row(values))
}

impl PgBackend {
    /// Connect to `url` on a connection of its own and work in `schema`
    /// (created if missing). `shared`: calls claim documents (a tenant's
    /// store).
    pub fn connect(url: &str, schema: &str, shared: bool) -> Result<PgBackend, SqlError> {
        Self::on(&pool(url, 1), schema, shared)
    }

    /// Work in `schema` (created if missing) on connections from `pool`.
    pub fn on(pool: &Pool, schema: &str, shared: bool) -> Result<PgBackend, SqlError> {
        let mut db = PgBackend {
            pool: pool.clone(),
            schema: schema.to_string(),
            lock_key: lock_key(schema),
            shared,
            session: None,
            in_transaction: false,
            locked: false,
            claimed: BTreeSet::new(),
        };
        // Processes starting together create the schema one at a time.
        db.lock_exclusive()?;
        let made = db.batch(&format!(
            "CREATE SCHEMA IF NOT EXISTS {s};
             CREATE TABLE IF NOT EXISTS {s}.schema_version (version BIGINT NOT NULL);",
            s = quoted(schema)
        ));
        let unlocked = db.unlock_exclusive();
        made?;
        unlocked?;
        Ok(db)
    }

    fn client(url: &str) -> Result<Client, SqlError> {
        let mut config: postgres::Config = url.parse().map_err(pg_error)?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        config.application_name("fieldwork");
        let mut client =
            match crate::pg_tls::connector(config.get_ssl_mode()).map_err(SqlError::new)? {
                Some(tls) => config.connect(tls),
                None => config.connect(NoTls),
            }
            .map_err(pg_error)?;
        client
            .batch_execute(&format!("SET lock_timeout = '{LOCK_TIMEOUT}'"))
            .map_err(pg_error)?;
        Ok(client)
    }

    /// Something on this connection outlives one statement: a transaction,
    /// the schema's lock, documents' claims.
    fn pinned(&self) -> bool {
        self.in_transaction || self.locked || !self.claimed.is_empty()
    }

    /// The connection, taken from the pool if none is held, pointed at
    /// this schema.
    fn session(&mut self) -> Result<&mut Session, SqlError> {
        if self.session.is_none() {
            let pool = &self.pool;
            let s = off_runtime(|| pool.get()).map_err(|e| {
                SqlError::new(format!("postgres: no connection to the database: {e}"))
            })?;
            // Held before it is used, so a connection found closed is seen
            // as such (`closed`) and replaced.
            self.session = Some(s);
        }
        let schema = &self.schema;
        let s = self
            .session
            .as_deref_mut()
            .ok_or_else(|| SqlError::new("postgres: no connection"))?;
        if s.schema.as_deref() != Some(schema.as_str()) {
            let path = format!("SET search_path TO {}", quoted(schema));
            let client = s
                .client
                .as_mut()
                .ok_or_else(|| SqlError::new("postgres: no connection"))?;
            off_runtime(|| client.batch_execute(&path)).map_err(pg_error)?;
            s.schema = Some(schema.clone());
        }
        Ok(s)
    }

    /// Give the connection back to the pool unless something still needs it.
    fn done(&mut self) {
        if !self.pinned() {
            self.session = None;
        }
    }

    fn closed(&self) -> bool {
        self.session
            .as_ref()
            .is_none_or(|s| s.client.as_ref().is_none_or(Client::is_closed))
    }

    /// Close the held connection rather than give it back: it may still
    /// hold locks (closing it releases them).
    fn discard(&mut self) {
        if let Some(mut s) = self.session.take() {
            // Without its client the pool counts it broken and drops it.
            let client = s.client.take();
            off_runtime(move || drop(client));
        }
    }

    /// A connection is held and turned out closed: worth another.
    fn broken(&self) -> bool {
        self.session.is_some() && self.closed()
    }

    /// Statements without parameters, on the held connection (kept).
    fn batch_pinned(&mut self, sql: &str) -> Result<(), SqlError> {
        let s = self.session()?;
        let c = s
            .client
            .as_mut()
            .ok_or_else(|| SqlError::new("postgres: no connection"))?;
        off_runtime(|| c.batch_execute(sql)).map_err(pg_error)
    }

    /// How many connections a statement may find closed in a row before
    /// it fails: after a database restart every idle one in the pool is.
    fn attempts(&self) -> u32 {
        self.pool.max_size() + 1
    }

    /// [`PgBackend::batch_pinned`], again on another connection while this
    /// one turns out closed and `fresh`: nothing held on it before.
    fn batch_fresh(&mut self, sql: &str, fresh: bool) -> Result<(), SqlError> {
        let mut left = self.attempts();
        loop {
            match self.batch_pinned(sql) {
                Err(_) if fresh && self.broken() && left > 1 => {
                    // The pool drops a broken connection when it comes back.
                    self.session = None;
                    left -= 1;
                }
                other => return other,
            }
        }
    }

    fn batch(&mut self, sql: &str) -> Result<(), SqlError> {
        let fresh = !self.pinned();
        let r = self.batch_fresh(sql, fresh);
        self.done();
        r
    }

    /// Prepare (cached per connection) and run one statement on the held
    /// connection.
    fn run_once<T>(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
        f: &impl Fn(&mut Client, &Statement, &[&(dyn ToSql + Sync)]) -> Result<T, postgres::Error>,
    ) -> Result<T, SqlError> {
        let s = self.session()?;
        let Session {
            client, statements, ..
        } = s;
        let c = client
            .as_mut()
            .ok_or_else(|| SqlError::new("postgres: no connection"))?;
        let stmt = match statements.get(sql) {
            Some(stmt) => stmt.clone(),
            None => {
                let translated = translate(sql);
                let stmt = off_runtime(|| c.prepare(&translated)).map_err(pg_error)?;
                if statements.len() >= STATEMENT_CACHE {
                    statements.clear();
                }
                statements.insert(sql.to_string(), stmt.clone());
                stmt
            }
        };
        off_runtime(|| f(c, &stmt, params)).map_err(pg_error)
    }

    /// Run one statement. When the server turns out to have dropped the
    /// connection and nothing depends on it (no transaction open, no lock
    /// or claim held), take another and retry (after a PostgreSQL restart
    /// every idle connection in the pool is closed): a restart costs no
    /// request.
    fn run<T>(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
        f: impl Fn(&mut Client, &Statement, &[&(dyn ToSql + Sync)]) -> Result<T, postgres::Error>,
    ) -> Result<T, SqlError> {
        let b = binds(params);
        let r = refs(&b);
        let mut left = self.attempts();
        let result = loop {
            match self.run_once(sql, &r, &f) {
                Err(_) if self.broken() && !self.pinned() && left > 1 => {
                    // The pool drops a broken connection when it comes back.
                    self.session = None;
                    left -= 1;
                }
                other => break other,
            }
        };
        self.done();
        result
    }
}

impl Drop for PgBackend {
    fn drop(&mut self) {
        // Never hand the pool a connection inside a transaction or holding
        // locks: undo them, or close it.
        let mut clean = true;
        if self.in_transaction && !self.closed() {
            clean &= self.batch_pinned("ROLLBACK").is_ok();
        }
        if !self.claimed.is_empty() {
            clean &= self.release_claims().is_ok();
        }
        if std::mem::take(&mut self.locked) {
            let key = self.lock_key;
            clean &= self
                .batch_pinned(&format!("SELECT pg_advisory_unlock({key})"))
                .is_ok();
        }
        if clean {
            self.session = None;
        } else {
            self.discard();
        }
    }
}

fn binds<'a>(params: &'a [Param<'a>]) -> Vec<Bind<'a>> {
    params.iter().map(|p| Bind(*p)).collect()
}

fn refs<'a>(binds: &'a [Bind<'a>]) -> Vec<&'a (dyn ToSql + Sync)> {
    binds.iter().map(|b| b as &(dyn ToSql + Sync)).collect()
}

impl Backend for PgBackend {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64, SqlError> {
        self.run(sql, params, |c, stmt, r| c.execute(stmt, r))
    }

    fn query(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Row>, SqlError> {
        let rows = self.run(sql, params, |c, stmt, r| c.query(stmt, r))?;
        rows.iter().map(read_row).collect()
    }

    fn execute_batch(&mut self, sql: &str) -> Result<(), SqlError> {
        self.batch(sql)
    }

    fn begin(&mut self) -> Result<(), SqlError> {
        let fresh = !self.pinned();
        // Marked first: the connection stays with this store from BEGIN on.
        self.in_transaction = true;
        let r = if self.shared {
            // Known as one that may write the tenant's log before it has a
            // transaction id: pulls read only below it (the store's
            // PostgreSQL migrations 5 and 6, `log_settled`). Shared: writers do not
            // wait for one another.
            let schema = self.schema.replace('\'', "''");
            self.batch_fresh(
                &format!(
                    "BEGIN; SELECT pg_advisory_xact_lock_shared(hashtextextended('fieldwork log writers ' || '{schema}', 0));"
                ),
                fresh,
            )
        } else {
            self.batch_fresh("BEGIN", fresh)
        };
        if r.is_err() {
            self.in_transaction = false;
            self.done();
        }
        r
    }

    fn commit(&mut self) -> Result<(), SqlError> {
        let r = self.batch_pinned("COMMIT");
        self.in_transaction = false;
        self.done();
        r
    }

    fn rollback(&mut self) -> Result<(), SqlError> {
        let r = if self.closed() {
            // The server already rolled it back with the connection.
            Ok(())
        } else {
            self.batch_pinned("ROLLBACK")
        };
        self.in_transaction = false;
        self.done();
        r
    }

    fn transaction_open(&self) -> bool {
        self.in_transaction
    }

    fn schema_version(&mut self) -> Result<i64, SqlError> {
        let rows = self.query("SELECT COALESCE(MAX(version), 0) FROM schema_version", &[])?;
        rows.first().map_or(Ok(0), |r| r.int(0))
    }

    fn set_schema_version(&mut self, version: i64) -> Result<(), SqlError> {
        self.execute("DELETE FROM schema_version", &[])?;
        self.execute(
            "INSERT INTO schema_version (version) VALUES (?1)",
            &[Param::Int(version)],
        )?;
        Ok(())
    }

    fn is_shared(&self) -> bool {
        self.shared
    }

    fn claim(&mut self, names: &[&str]) -> Result<(), SqlError> {
        if !self.shared {
            return Ok(());
        }
        // Sorted by key: every session takes a set of locks in one order.
        let keys: BTreeSet<i64> = names
            .iter()
            .map(|n| lock_key(&format!("{}\0{n}", self.schema)))
            .filter(|k| !self.claimed.contains(k))
            .collect();
        if keys.is_empty() {
            return Ok(());
        }
        // One statement, the locks taken in the keys' order (PostgreSQL
        // calls a volatile function in the select list after the sort);
        // the keys are numbers this process computed.
        let sql = format!(
            "SELECT pg_advisory_lock(k) FROM unnest('{}'::bigint[]) WITH ORDINALITY AS t(k, i) ORDER BY i",
            key_array(&keys)
        );
        let fresh = !self.pinned();
        // Counted as held before they are taken, so the connection stays.
        self.claimed.extend(keys);
        let r = self.batch_fresh(&sql, fresh);
        if r.is_err() {
            // Some may have been taken before the failure: let them all go.
            let _ = self.release_claims();
        }
        r
    }

    fn release_claims(&mut self) -> Result<(), SqlError> {
        let held = std::mem::take(&mut self.claimed);
        if held.is_empty() || self.closed() {
            // Nothing held, or the locks went with the connection.
            self.done();
            return Ok(());
        }
        let sql = format!(
            "SELECT pg_advisory_unlock(k) FROM unnest('{}'::bigint[]) AS k",
            key_array(&held)
        );
        let r = self.batch_pinned(&sql);
        if r.is_err() {
            // Never hand the pool a connection that may still hold them.
            self.discard();
        }
        self.done();
        r
    }

    fn lock_exclusive(&mut self) -> Result<(), SqlError> {
        let key = self.lock_key;
        let fresh = !self.pinned();
        self.locked = true;
        let r = self.batch_fresh(&format!("SELECT pg_advisory_lock({key})"), fresh);
        if r.is_err() {
            self.locked = false;
            self.done();
        }
        r
    }

    fn unlock_exclusive(&mut self) -> Result<(), SqlError> {
        let held = std::mem::replace(&mut self.locked, false);
        if self.closed() || !held {
            // The lock went with the connection, or was never taken.
            return Ok(());
        }
        let key = self.lock_key;
        let r = self.batch_pinned(&format!("SELECT pg_advisory_unlock({key})"));
        if r.is_err() {
            self.discard();
        }
        self.done();
        r
    }

    fn integrity_check(&mut self) -> Result<String, SqlError> {
        // PostgreSQL checks its own pages; what can go wrong here is a
        // chunk without its document.
        let orphans = self.query(
            "SELECT COUNT(*) FROM doc_chunks c LEFT JOIN documents d ON d.doc_id = c.doc_id WHERE d.doc_id IS NULL",
            &[],
        )?;
        match orphans.first().map(|r| r.int(0)).transpose()? {
            Some(0) | None => Ok("ok".into()),
            Some(n) => Ok(format!("{n} chunks without their document")),
        }
    }

    fn unsynchronised(&mut self) -> Result<(), SqlError> {
        self.batch("SET synchronous_commit = off")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_parameters_become_dollars_outside_quotes() {
        assert_eq!(
            translate("SELECT a FROM t WHERE b = ?1 AND c LIKE ?2 ESCAPE '\\' AND d = '?3'"),
            "SELECT a FROM t WHERE b = $1 AND c LIKE $2 ESCAPE '\\' AND d = '?3'"
        );
    }

    #[test]
    fn schemas_stay_distinct_and_within_postgres_limits() {
        let long_a = "a".repeat(64);
        let long_b = format!("{}b", "a".repeat(63));
        assert_eq!(tenant_schema("acme"), "fw_tenant_acme");
        assert!(tenant_schema(&long_a).len() <= 63);
        assert_ne!(tenant_schema(&long_a), tenant_schema(&long_b));
    }
}
