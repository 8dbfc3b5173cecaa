//! The core store's conformance suite on PostgreSQL: every check the core
//! runs on SQLite, here on a schema of the PostgreSQL that
//! `FIELDWORK_TEST_PG` names, the way a tenant's store uses it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use fieldwork_core::store::conformance::Place;
use fieldwork_core::store::sql::Backend;
use fieldwork_server::pg::PgBackend;

const PG_ENV: &str = "FIELDWORK_TEST_PG";

/// A schema of its own for one test, dropped when the test ends.
struct Schema {
    url: String,
    name: String,
}

impl Schema {
    /// `None` where `FIELDWORK_TEST_PG` is unset on a developer's machine;
    /// under CI an unset variable fails the test instead of skipping it.
    fn new() -> Option<Schema> {
        match std::env::var(PG_ENV) {
            Ok(url) if !url.trim().is_empty() => Some(Schema {
                url,
                name: format!("fw_conformance_{}", uuid::Uuid::new_v4().simple()),
            }),
            _ if std::env::var_os("CI").is_some() => {
                panic!("{PG_ENV} is unset: CI runs the store's suite on PostgreSQL")
            }
            _ => {
                eprintln!("{PG_ENV} unset: the PostgreSQL store suite did not run");
                None
            }
        }
    }
}

impl Place for Schema {
    fn open(&self) -> Box<dyn Backend> {
        Box::new(PgBackend::connect(&self.url, &self.name, true).unwrap())
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.url, postgres::NoTls) {
            let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
        }
    }
}

mod on_postgres {
    use super::*;

    macro_rules! or_return {
        () => {
            match Schema::new() {
                Some(s) => s,
                None => return,
            }
        };
    }

    fieldwork_core::store_conformance_tests!(or_return!());
}
