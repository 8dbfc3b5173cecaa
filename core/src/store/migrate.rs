//! The schema: numbered migrations for each dialect (SQL files, one
//! transaction for all pending steps, the version in the database), and the
//! rebuild of the materialised rows some of them ask for.

use super::sql::{self, Backend, Dialect, SqlError};
use super::{DocKind, Store, StoreError, load_doc, load_settings, rows};
use crate::model::{VanStock, WorkOrder};
use crate::settings::Settings;

/// Numbered migrations; index + 1 is the schema version each one produces.
/// `rebuild` asks for the materialised rows to be recomputed from the documents.
struct Migration {
    sql: &'static str,
    rebuild: bool,
    /// It rebuilds a table others refer to: SQLite's foreign keys are off
    /// while it runs, and checked before it commits.
    rebuilds_tables: bool,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        sql: include_str!("migrations/001_documents_and_orders.sql"),
        rebuild: false,
        rebuilds_tables: false,
    },
    Migration {
        sql: include_str!("migrations/002_rework_lookup_and_stock.sql"),
        rebuild: true,
        rebuilds_tables: false,
    },
    Migration {
        sql: include_str!("migrations/003_change_log.sql"),
        rebuild: false,
        rebuilds_tables: false,
    },
    Migration {
        sql: include_str!("migrations/004_quarantine_and_refusals.sql"),
        rebuild: false,
        rebuilds_tables: false,
    },
    Migration {
        sql: include_str!("migrations/005_settings_document.sql"),
        rebuild: false,
        rebuilds_tables: true,
    },
    Migration {
        sql: include_str!("migrations/006_photos.sql"),
        rebuild: false,
        rebuilds_tables: false,
    },
];

/// PostgreSQL's migrations, numbered on their own: the same tables in
/// PostgreSQL's types, plus what processes sharing them need (the write
/// generation).
const POSTGRES_MIGRATIONS: &[Migration] = &[
    Migration {
        sql: include_str!("migrations/postgres/001_store.sql"),
        rebuild: false,
        rebuilds_tables: false,
    },
    Migration {
        sql: include_str!("migrations/postgres/002_quarantine_and_refusals.sql"),
        rebuild: false,
        rebuilds_tables: false,
    },
    Migration {
        sql: include_str!("migrations/postgres/003_settings_document.sql"),
        rebuild: false,
        rebuilds_tables: false,
    },
    Migration {
        sql: include_str!("migrations/postgres/004_photos.sql"),
        rebuild: false,
        rebuilds_tables: false,
    },
    Migration {
        sql: include_str!("migrations/postgres/005_positions_from_transactions.sql"),
        rebuild: false,
        rebuilds_tables: false,
    },
    Migration {
        sql: include_str!("migrations/postgres/006_settled_without_false_holds.sql"),
        rebuild: false,
        rebuilds_tables: false,
    },
];

fn migrations(dialect: Dialect) -> &'static [Migration] {
    match dialect {
        Dialect::Sqlite => MIGRATIONS,
        Dialect::Postgres => POSTGRES_MIGRATIONS,
    }
}

/// The schema version this build writes (SQLite).
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

impl Store {
    pub(super) fn migrate(&mut self, target: i64) -> Result<(), StoreError> {
        let all = migrations(self.db.dialect());
        let supported = all.len() as i64;
        let found = self.db.schema_version()?;
        if found > supported {
            return Err(StoreError::NewerSchema { found, supported });
        }
        let last = target.min(supported);
        if found >= last {
            return Ok(());
        }
        let pending: Vec<&Migration> = ((found + 1)..=last)
            .filter_map(|v| usize::try_from(v - 1).ok().and_then(|i| all.get(i)))
            .collect();
        // Every pending migration in one transaction, and the rows rebuilt
        // once, at the end, by this build's code against the final schema
        // (a rebuild halfway would write tables a later migration adds).
        // A crash leaves the old schema or the new one.
        let keys_off =
            pending.iter().any(|m| m.rebuilds_tables) && self.db.dialect() == Dialect::Sqlite;
        if keys_off {
            // Only outside a transaction does this take effect.
            self.db.execute_batch("PRAGMA foreign_keys = OFF")?;
        }
        let fallback = &self.fallback;
        let applied = sql::in_transaction(self.db.as_mut(), |db| -> Result<(), StoreError> {
            for m in &pending {
                db.execute_batch(m.sql)?;
            }
            if keys_off && !db.query("PRAGMA foreign_key_check", &[])?.is_empty() {
                return Err(StoreError::Corrupt {
                    doc_id: "schema".into(),
                    reason: format!("migrating to schema {last} would break a reference"),
                });
            }
            if pending.iter().any(|m| m.rebuild) {
                let settings = load_settings(db, fallback)?;
                rebuild_rows(db, &settings)?;
            }
            db.set_schema_version(last)?;
            Ok(())
        });
        if keys_off {
            self.db.execute_batch("PRAGMA foreign_keys = ON")?;
        }
        applied
    }
}

/// Recompute every materialised row from the documents (used by migrations
/// that add columns, and by repair after corruption).
fn rebuild_rows(tx: &mut dyn Backend, settings: &Settings) -> Result<(), StoreError> {
    let ids: Vec<(String, String)> = tx
        .query("SELECT doc_id, kind FROM documents", &[])?
        .iter()
        .map(|r| Ok((r.text(0)?, r.text(1)?)))
        .collect::<Result<_, SqlError>>()?;
    for (id, kind) in ids {
        let Some(doc) = load_doc(tx, &id)? else {
            continue;
        };
        let corrupt = |e: autosurgeon::HydrateError| StoreError::Corrupt {
            doc_id: id.clone(),
            reason: e.to_string(),
        };
        if kind == DocKind::WorkOrder.as_str() {
            let order: WorkOrder = crate::model::read::hydrate(&doc).map_err(corrupt)?;
            rows::upsert_order(tx, &order, None, settings.policy_at(order.created_at_ms))?;
        } else if kind == DocKind::VanStock.as_str() {
            let stock: VanStock = crate::model::read::hydrate(&doc).map_err(corrupt)?;
            rows::replace_stock(tx, &stock.engineer, &stock.levels())?;
        }
    }
    Ok(())
}
