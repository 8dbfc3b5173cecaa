//! The server storages the conformance suite runs on: every test written
//! once as `fn test(b: &Backend)` and run by [`conformance!`] on embedded
//! SQLite and on PostgreSQL.
//!
//! PostgreSQL comes from `FIELDWORK_TEST_PG` (a connection string to a
//! database the tests may create databases from). `scripts/test` sets it to
//! a private cluster it starts for the run (scripts/private-pg.sh), or
//! leaves the one a developer named. Where it is unset (a bare `cargo test`)
//! the PostgreSQL half of each test says it was skipped and does nothing.
//! Each test gets a database of its own, dropped afterwards.

use crate::harness::Res;
use fieldwork_server::storage::{Embedded, Postgres, Storage};
use std::ffi::OsString;
use std::sync::Arc;

/// The variable naming the PostgreSQL the tests use.
pub const PG_ENV: &str = "FIELDWORK_TEST_PG";

#[derive(Debug)]
pub enum Backend {
    Sqlite(tempfile::TempDir),
    Postgres(PgDatabase),
}

impl Backend {
    pub fn sqlite() -> Res<Backend> {
        Ok(Backend::Sqlite(tempfile::tempdir()?))
    }

    /// A fresh database on `FIELDWORK_TEST_PG`; `None` when it is unset.
    pub fn postgres() -> Res<Option<Backend>> {
        match std::env::var(PG_ENV) {
            Ok(url) if !url.trim().is_empty() => {
                Ok(Some(Backend::Postgres(PgDatabase::create(&url)?)))
            }
            _ => Ok(None),
        }
    }

    /// The storage for a server in this process.
    pub fn storage(&self) -> Res<Arc<dyn Storage>> {
        Ok(match self {
            Backend::Sqlite(dir) => Arc::new(Embedded::new(dir.path().join("server"))?),
            Backend::Postgres(db) => Arc::new(Postgres::new(
                &db.url,
                fieldwork_server::storage::DEFAULT_DATABASE_CONNECTIONS,
            )?),
        })
    }

    /// The `fieldwork serve` / `admin` arguments that select it.
    pub fn args(&self) -> Vec<OsString> {
        match self {
            Backend::Sqlite(dir) => vec!["--data".into(), dir.path().join("server").into()],
            Backend::Postgres(db) => vec!["--database".into(), db.url.clone().into()],
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }
}

/// A database of its own for one test, dropped (with its connections) when
/// the test ends.
#[derive(Debug)]
pub struct PgDatabase {
    /// Connection string to it.
    pub url: String,
    admin: String,
    name: String,
}

impl PgDatabase {
    pub fn create(base: &str) -> Res<PgDatabase> {
        let config: postgres::Config = base
            .parse()
            .map_err(|e| format!("{PG_ENV} is not a PostgreSQL connection string: {e}"))?;
        let name = format!("fw_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = postgres::Client::connect(base, postgres::NoTls)
            .map_err(|e| format!("{PG_ENV} is set but PostgreSQL is unreachable there: {e}"))?;
        admin.batch_execute(&format!("CREATE DATABASE {name}"))?;
        Ok(PgDatabase {
            url: with_dbname(&config, &name),
            admin: base.to_string(),
            name,
        })
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.admin, postgres::NoTls) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// The same server and user as `config`, another database, as key=value.
fn with_dbname(config: &postgres::Config, dbname: &str) -> String {
    let mut parts = Vec::new();
    if let Some(postgres::config::Host::Tcp(h)) = config.get_hosts().first() {
        parts.push(format!("host={h}"));
    }
    #[cfg(unix)]
    if let Some(postgres::config::Host::Unix(p)) = config.get_hosts().first() {
        parts.push(format!("host={}", p.display()));
    }
    if let Some(p) = config.get_ports().first() {
        parts.push(format!("port={p}"));
    }
    if let Some(u) = config.get_user() {
        parts.push(format!("user={u}"));
    }
    if let Some(pw) = config.get_password() {
        parts.push(format!("password={}", String::from_utf8_lossy(pw)));
    }
    parts.push(format!("dbname={dbname}"));
    parts.join(" ")
}

/// Run each named test, `fn name(b: &Backend)`, once per storage: in
/// `mod sqlite` and `mod postgres`.
#[macro_export]
macro_rules! conformance {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $name() {
                    let b = $crate::backend::Backend::sqlite().expect("a temporary directory");
                    super::$name(&b);
                }
            )+
        }
        mod postgres {
            $(
                #[test]
                fn $name() {
                    match $crate::backend::Backend::postgres() {
                        Ok(Some(b)) => super::$name(&b),
                        Ok(None) => eprintln!(
                            "skipped on PostgreSQL: {} is not set",
                            $crate::backend::PG_ENV
                        ),
                        Err(e) => panic!("PostgreSQL for the tests: {e}"),
                    }
                }
            )+
        }
    };
}
