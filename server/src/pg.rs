//! PostgreSQL under the core's store and the server's directory: a
//! [`Backend`] over one connection (one schema per tenant, one for the
//! directory), and the relay that carries board updates between server
//! processes sharing the database (LISTEN/NOTIFY).
//!
//! Several `fieldwork serve` processes may share one database. Each tenant's
//! store takes a session-level advisory lock around every call (see
//! `Store::enter` in the core), so sequence numbers are taken and committed
//! in order, and a retried push is stored once whichever process receives it.

use crate::bus::Changed;
use fieldwork_core::store::sql::{Backend, Dialect, Param, Row, SqlError, Value};
use postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use postgres::{Client, NoTls, Statement};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

/// The channel board updates travel on between processes.
pub const CHANNEL: &str = "fieldwork_changes";

/// Statements kept prepared per connection.
const STATEMENT_CACHE: usize = 128;

/// How long a call waits for another process's lock on the same tenant
/// before it fails (it is then retried by the device or the dispatcher).
const LOCK_TIMEOUT: &str = "30s";

/// One connection to one schema.
pub struct PgBackend {
    url: String,
    schema: String,
    /// The advisory lock key of this schema.
    lock_key: i64,
    /// Whether calls take the lock (a tenant's store) or not (the directory,
    /// whose statements are each safe on their own).
    shared: bool,
    /// Always set; an `Option` only so that dropping it can step off the
    /// server's runtime first (its drop blocks).
    client: Option<Client>,
    statements: HashMap<String, Statement>,
    in_transaction: bool,
    /// This session holds the schema's advisory lock.
    locked: bool,
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
    /// Connect to `url` and work in `schema` (created if missing).
    /// `shared`: calls take the schema's lock (a tenant's store).
    pub fn connect(url: &str, schema: &str, shared: bool) -> Result<PgBackend, SqlError> {
        let client = off_runtime(|| Self::client(url))?;
        let mut db = PgBackend {
            url: url.to_string(),
            schema: schema.to_string(),
            lock_key: lock_key(schema),
            shared,
            client: Some(client),
            statements: HashMap::new(),
            in_transaction: false,
            locked: false,
        };
        // Processes starting together create the schema one at a time.
        db.lock_exclusive()?;
        let made = db.batch(&format!(
            "CREATE SCHEMA IF NOT EXISTS {s};
             SET search_path TO {s};
             CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL);",
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

    /// After the server dropped the connection (a restart, a network cut),
    /// connect again before the next statement; never inside a transaction,
    /// whose work is gone with the connection.
    fn ensure_connected(&mut self) -> Result<(), SqlError> {
        if !self.closed() || self.in_transaction {
            return Ok(());
        }
        let url = self.url.clone();
        let fresh = off_runtime(|| Self::client(&url))?;
        let old = self.client.replace(fresh);
        self.statements.clear();
        off_runtime(move || drop(old));
        let path = format!("SET search_path TO {}", quoted(&self.schema));
        let c = self.conn()?;
        off_runtime(|| c.batch_execute(&path)).map_err(pg_error)
    }

    fn closed(&self) -> bool {
        self.client.as_ref().is_none_or(Client::is_closed)
    }

    fn conn(&mut self) -> Result<&mut Client, SqlError> {
        self.client
            .as_mut()
            .ok_or_else(|| SqlError::new("postgres: no connection"))
    }

    fn batch(&mut self, sql: &str) -> Result<(), SqlError> {
        self.ensure_connected()?;
        let c = self.conn()?;
        off_runtime(|| c.batch_execute(sql)).map_err(pg_error)
    }

    fn statement(&mut self, sql: &str) -> Result<Statement, SqlError> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let translated = translate(sql);
        let c = self.conn()?;
        let stmt = off_runtime(|| c.prepare(&translated)).map_err(pg_error)?;
        if self.statements.len() >= STATEMENT_CACHE {
            self.statements.clear();
        }
        self.statements.insert(sql.to_string(), stmt.clone());
        Ok(stmt)
    }

    /// Prepare (cached) and run one statement. When the server turns out
    /// to have dropped the connection and nothing depends on this session
    /// (no transaction open, no lock held), connect again and retry once:
    /// a PostgreSQL restart costs no request.
    fn run<T>(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
        f: impl Fn(&mut Client, &Statement, &[&(dyn ToSql + Sync)]) -> Result<T, postgres::Error>,
    ) -> Result<T, SqlError> {
        self.ensure_connected()?;
        let b = binds(params);
        let r = refs(&b);
        let first = self.statement(sql).and_then(|stmt| {
            let c = self.conn()?;
            off_runtime(|| f(c, &stmt, &r)).map_err(pg_error)
        });
        match first {
            Err(_) if self.closed() && !self.in_transaction && !self.locked => {
                self.ensure_connected()?;
                let stmt = self.statement(sql)?;
                let c = self.conn()?;
                off_runtime(|| f(c, &stmt, &r)).map_err(pg_error)
            }
            other => other,
        }
    }
}

impl Drop for PgBackend {
    fn drop(&mut self) {
        // Closing the connection blocks on the client's own runtime.
        let client = self.client.take();
        self.statements.clear();
        off_runtime(move || drop(client));
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
        self.batch("BEGIN")?;
        self.in_transaction = true;
        Ok(())
    }

    fn commit(&mut self) -> Result<(), SqlError> {
        self.in_transaction = false;
        self.batch("COMMIT")
    }

    fn rollback(&mut self) -> Result<(), SqlError> {
        self.in_transaction = false;
        if self.closed() {
            // The server already rolled it back with the connection.
            return Ok(());
        }
        self.batch("ROLLBACK")
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

    fn lock_exclusive(&mut self) -> Result<(), SqlError> {
        let key = self.lock_key;
        self.execute("SELECT pg_advisory_lock(?1)", &[Param::Int(key)])?;
        self.locked = true;
        Ok(())
    }

    fn unlock_exclusive(&mut self) -> Result<(), SqlError> {
        let held = std::mem::replace(&mut self.locked, false);
        if self.closed() || !held {
            // The lock went with the connection, or was never taken.
            return Ok(());
        }
        let key = self.lock_key;
        self.execute("SELECT pg_advisory_unlock(?1)", &[Param::Int(key)])?;
        Ok(())
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

// ---- board updates between processes -------------------------------------

#[derive(serde::Serialize, serde::Deserialize)]
struct Note {
    /// The process that sent it: it has told its own boards already.
    p: String,
    t: String,
    ids: Vec<String>,
}

/// NOTIFY payloads must stay under 8000 bytes.
const MAX_NOTE_BYTES: usize = 7_000;

fn notes(process: &str, c: &Changed) -> Vec<String> {
    let mut out = Vec::new();
    let mut ids: Vec<String> = Vec::new();
    let mut size = 0;
    let flush = |ids: &mut Vec<String>, out: &mut Vec<String>| {
        if !ids.is_empty() {
            let note = Note {
                p: process.to_string(),
                t: c.tenant.clone(),
                ids: std::mem::take(ids),
            };
            if let Ok(s) = serde_json::to_string(&note) {
                out.push(s);
            }
        }
    };
    for id in &c.ids {
        if size + id.len() + 4 > MAX_NOTE_BYTES {
            flush(&mut ids, &mut out);
            size = 0;
        }
        size += id.len() + 4;
        ids.push(id.clone());
    }
    flush(&mut ids, &mut out);
    out
}

/// Send this process's board updates to the others and deliver theirs to
/// this process's boards, until the runtime stops. Reconnects after a lost
/// connection (updates in between are lost; boards catch up on their next
/// event or reload).
pub async fn relay(
    url: String,
    process: String,
    mut outgoing: tokio::sync::mpsc::UnboundedReceiver<Changed>,
    local: tokio::sync::broadcast::Sender<Changed>,
) {
    loop {
        let why = match relay_once(&url, &process, &mut outgoing, &local).await {
            Ok(true) => return,
            Ok(false) => "the connection ended".to_string(),
            Err(e) => e,
        };
        eprintln!("fieldwork: board updates between processes paused ({why}); reconnecting");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// One connection's worth of relaying: `Ok(true)` when this process stops
/// publishing (the server shut down), `Ok(false)` when the connection ended.
async fn relay_once(
    url: &str,
    process: &str,
    outgoing: &mut tokio::sync::mpsc::UnboundedReceiver<Changed>,
    local: &tokio::sync::broadcast::Sender<Changed>,
) -> Result<bool, String> {
    let config: tokio_postgres::Config = url.parse().map_err(|e| format!("{e}"))?;
    match crate::pg_tls::connector(config.get_ssl_mode())? {
        Some(tls) => relay_over(&config, tls, process, outgoing, local).await,
        None => relay_over(&config, tokio_postgres::NoTls, process, outgoing, local).await,
    }
    .map_err(|e| e.to_string())
}

async fn relay_over<T>(
    config: &tokio_postgres::Config,
    tls: T,
    process: &str,
    outgoing: &mut tokio::sync::mpsc::UnboundedReceiver<Changed>,
    local: &tokio::sync::broadcast::Sender<Changed>,
) -> Result<bool, tokio_postgres::Error>
where
    T: tokio_postgres::tls::MakeTlsConnect<tokio_postgres::Socket>,
    T::Stream: Send + 'static,
{
    let (client, mut connection) = config.connect(tls).await?;
    let (lost_tx, mut lost) = tokio::sync::oneshot::channel::<()>();
    let deliver = local.clone();
    let me = process.to_string();
    let driver = tokio::spawn(async move {
        loop {
            let msg = std::future::poll_fn(|cx| connection.poll_message(cx)).await;
            match msg {
                Some(Ok(tokio_postgres::AsyncMessage::Notification(n))) => {
                    let Ok(note) = serde_json::from_str::<Note>(n.payload()) else {
                        continue;
                    };
                    if note.p != me {
                        // No board listening is not an error.
                        let _ = deliver.send(Changed {
                            tenant: note.t,
                            ids: note.ids,
                        });
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => break,
            }
        }
        let _ = lost_tx.send(());
    });
    let result = async {
        client.batch_execute(&format!("LISTEN {CHANNEL}")).await?;
        loop {
            tokio::select! {
                _ = &mut lost => return Ok(false),
                next = outgoing.recv() => {
                    let Some(changed) = next else { return Ok(true) };
                    for note in notes(process, &changed) {
                        client
                            .execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &note])
                            .await?;
                    }
                }
            }
        }
    }
    .await;
    driver.abort();
    result
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

    #[test]
    fn notes_stay_under_the_payload_limit_and_carry_every_id() {
        let ids: Vec<String> = (0..2_000).map(|i| format!("wo-{i:032}")).collect();
        let c = Changed {
            tenant: "acme".into(),
            ids: ids.clone(),
        };
        let notes = notes("p1", &c);
        assert!(notes.len() > 1);
        let mut back = Vec::new();
        for n in &notes {
            assert!(n.len() < 8_000, "{}", n.len());
            let note: Note = serde_json::from_str(n).unwrap_or_else(|e| panic!("{e}"));
            back.extend(note.ids);
        }
        assert_eq!(back, ids);
    }
}
