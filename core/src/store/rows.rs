//! Materialised rows: what lists and lookups read, computed from documents
//! with the shared rules and written in the document's transaction.

use super::StoreError;
use super::sql::{Backend, Param, Row, SqlError, params};
use crate::model::{FaultKind, PartState, Priority, Status, WorkOrder};
use crate::policy::Policy;
use crate::rules::{lifecycle, rework::PriorRepair, sla, timeline};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One order as lists show it. Never needs the document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderRow {
    pub id: String,
    pub status: Status,
    pub urgent: bool,
    pub assignee: Option<String>,
    pub customer_name: String,
    pub created_at_ms: i64,
    /// Due time of the open SLA clock due soonest.
    pub next_due_at_ms: Option<i64>,
    pub next_due_clock: Option<String>,
    pub updated_at_ms: i64,
    pub serial: String,
    pub fault_code: Option<String>,
    pub is_open: bool,
    /// Whether `next_due_at_ms` has passed at the time of the query.
    pub breached: bool,
}

impl OrderRow {
    pub fn of(order: &WorkOrder, policy: &Policy) -> OrderRow {
        let status = lifecycle::current_status(order);
        // Due times do not depend on "now"; only the state does.
        let clocks = sla::clocks(order, policy, order.created_at_ms);
        let next = sla::next_due(&clocks);
        let updated = order
            .events
            .iter()
            .map(|e| e.at_ms)
            .max()
            .unwrap_or(order.created_at_ms);
        OrderRow {
            id: order.id.clone(),
            status,
            urgent: order.intake.priority == Priority::Urgent,
            assignee: order.assignee.clone(),
            customer_name: order.intake.customer.name.clone(),
            created_at_ms: order.created_at_ms,
            next_due_at_ms: next.map(|c| c.due_at_ms),
            next_due_clock: next.map(|c| c.kind.as_str().to_string()),
            updated_at_ms: updated,
            serial: order.intake.product.serial.clone(),
            fault_code: order
                .diagnosis
                .as_ref()
                .map(|d| crate::rules::rework::normalise_code(&d.fault_code)),
            is_open: !status.is_terminal(),
            breached: false,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OrderSort {
    /// Urgent first, then the SLA clock due soonest.
    #[default]
    Urgency,
    /// Most recently created first.
    Newest,
}

/// What to list. Empty fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct OrderFilter {
    pub statuses: Vec<Status>,
    pub open_only: bool,
    pub urgent_only: bool,
    pub breached_only: bool,
    pub assignee: Option<String>,
    /// Part of the customer's name.
    pub customer: Option<String>,
    pub due_before_ms: Option<i64>,
    pub sort: OrderSort,
    /// At most [`OrderFilter::MAX_LIMIT`]; 0 means the default of 50.
    pub limit: u32,
    pub offset: u32,
}

impl OrderFilter {
    pub const MAX_LIMIT: u32 = 500;
}

/// Write the order's row, including the rework lookup columns, in one
/// statement (a round trip on PostgreSQL), and its photos' rows unless
/// `was`, the order before this write when the caller knows it, has the
/// same photos.
pub(super) fn upsert_order(
    db: &mut dyn Backend,
    order: &WorkOrder,
    was: Option<&WorkOrder>,
    policy: &Policy,
) -> Result<(), StoreError> {
    upsert_orders(db, &[(order, was, policy)])
}

/// An order to write with [`upsert_orders`]: as it is now, as it was
/// before this write when the caller knows it, and the policy it is
/// served under.
pub(super) type OrderWrite<'a> = (&'a WorkOrder, Option<&'a WorkOrder>, &'a Policy);

/// The columns of `orders`, in the order [`upsert_orders`] binds them.
const ORDER_COLUMNS: usize = 15;

/// Write the rows of `orders` (each id once), one INSERT per 64 of them or
/// fewer, and the photos' rows of those whose photos changed.
pub(super) fn upsert_orders(
    db: &mut dyn Backend,
    orders: &[OrderWrite<'_>],
) -> Result<(), StoreError> {
    for run in super::sql::runs(orders.len(), 64) {
        let part = &orders[run];
        let rows: Vec<OrderRow> = part.iter().map(|(o, _, p)| OrderRow::of(o, p)).collect();
        let sql = format!(
            "INSERT INTO orders (id, status, urgent, assignee, customer_name, created_at_ms,
                 next_due_at_ms, next_due_clock, updated_at_ms, serial, fault_code, fault_kind,
                 is_open, parts_replaced, repaired_at_ms)
             VALUES {}
             ON CONFLICT (id) DO UPDATE SET
                 status = excluded.status, urgent = excluded.urgent, assignee = excluded.assignee,
                 customer_name = excluded.customer_name, created_at_ms = excluded.created_at_ms,
                 next_due_at_ms = excluded.next_due_at_ms, next_due_clock = excluded.next_due_clock,
                 updated_at_ms = excluded.updated_at_ms, serial = excluded.serial,
                 fault_code = excluded.fault_code, fault_kind = excluded.fault_kind,
                 parts_replaced = excluded.parts_replaced, repaired_at_ms = excluded.repaired_at_ms,
                 is_open = excluded.is_open",
            super::sql::values(part.len(), ORDER_COLUMNS)
        );
        let mut params: Vec<Param<'_>> = Vec::with_capacity(part.len() * ORDER_COLUMNS);
        for ((order, _, _), r) in part.iter().zip(&rows) {
            let fault_kind = order.diagnosis.as_ref().map(|d| match d.kind {
                FaultKind::Software => "software",
                FaultKind::Hardware => "hardware",
            });
            let parts_replaced = order.parts.iter().any(|p| p.state == PartState::Applied);
            params.extend([
                Param::Text(&r.id),
                Param::Text(r.status.as_str()),
                Param::from(r.urgent),
                Param::from(r.assignee.as_deref()),
                Param::Text(&r.customer_name),
                Param::Int(r.created_at_ms),
                Param::from(r.next_due_at_ms),
                Param::from(r.next_due_clock.as_deref()),
                Param::Int(r.updated_at_ms),
                Param::Text(&r.serial),
                Param::from(r.fault_code.as_deref()),
                Param::from(fault_kind),
                Param::from(r.is_open),
                Param::from(parts_replaced),
                Param::from(timeline::first_entered(order, Status::Repaired)),
            ]);
        }
        db.execute(&sql, &params)?;
    }
    for (order, was, _) in orders {
        if !was.is_some_and(|w| w.photos == order.photos) {
            replace_photos(db, order)?;
        }
    }
    Ok(())
}

/// The order's photos as rows: which blobs it refers to.
fn replace_photos(db: &mut dyn Backend, order: &WorkOrder) -> Result<(), StoreError> {
    db.execute("DELETE FROM photos WHERE order_id = ?1", params![&order.id])?;
    for p in &order.photos {
        db.execute(
            "INSERT INTO photos (order_id, photo_id, hash, size, media_type, device, removed)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                &order.id,
                &p.id,
                &p.hash,
                p.size,
                p.media_type.mime(),
                &p.device,
                p.is_removed(),
            ],
        )?;
    }
    Ok(())
}

pub(super) fn replace_stock(
    db: &mut dyn Backend,
    engineer: &str,
    levels: &BTreeMap<String, i64>,
) -> Result<(), StoreError> {
    db.execute(
        "DELETE FROM stock_levels WHERE engineer = ?1",
        params![engineer],
    )?;
    for (sku, on_hand) in levels {
        db.execute(
            "INSERT INTO stock_levels (engineer, sku, on_hand) VALUES (?1, ?2, ?3)",
            params![engineer, sku, *on_hand],
        )?;
    }
    Ok(())
}

pub(super) fn stock_levels(
    db: &mut dyn Backend,
    engineer: &str,
) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(db
        .query(
            "SELECT sku, on_hand FROM stock_levels WHERE engineer = ?1 ORDER BY sku",
            params![engineer],
        )?
        .iter()
        .map(|r| Ok((r.text(0)?, r.int(1)?)))
        .collect::<Result<_, SqlError>>()?)
}

pub(super) fn prior_repairs(
    db: &mut dyn Backend,
    serial: &str,
    except_id: &str,
) -> Result<Vec<PriorRepair>, StoreError> {
    Ok(db
        .query(
            "SELECT id, serial, fault_code, fault_kind, parts_replaced, repaired_at_ms FROM orders
             WHERE serial = ?1 AND id <> ?2 AND fault_code IS NOT NULL AND repaired_at_ms IS NOT NULL
             ORDER BY repaired_at_ms, id",
            params![serial, except_id],
        )?
        .iter()
        .map(|r| {
            let kind = r.opt_text(3)?;
            Ok(PriorRepair {
                order_id: r.text(0)?,
                serial: r.text(1)?,
                fault_code: r.text(2)?,
                kind: if kind.as_deref() == Some("software") {
                    FaultKind::Software
                } else {
                    FaultKind::Hardware
                },
                parts_replaced: r.bool(4)?,
                repaired_at_ms: r.int(5)?,
            })
        })
        .collect::<Result<_, SqlError>>()?)
}

fn row_of(r: &Row, now_ms: i64) -> Result<OrderRow, SqlError> {
    let status = r.text(1)?;
    let next_due = r.opt_int(6)?;
    let is_open = r.bool(11)?;
    Ok(OrderRow {
        id: r.text(0)?,
        status: Status::parse(&status).unwrap_or(Status::Received),
        urgent: r.bool(2)?,
        assignee: r.opt_text(3)?,
        customer_name: r.text(4)?,
        created_at_ms: r.int(5)?,
        next_due_at_ms: next_due,
        next_due_clock: r.opt_text(7)?,
        updated_at_ms: r.int(8)?,
        serial: r.text(9)?,
        fault_code: r.opt_text(10)?,
        is_open,
        breached: is_open && next_due.is_some_and(|d| sla::is_breached(d, now_ms)),
    })
}

fn like_pattern(s: &str) -> String {
    let mut p = String::with_capacity(s.len() + 2);
    p.push('%');
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

pub(super) fn list_orders(
    db: &mut dyn Backend,
    f: &OrderFilter,
    now_ms: i64,
) -> Result<Vec<OrderRow>, StoreError> {
    let like = f.customer.as_deref().map(like_pattern);
    let (sql, args) = list_sql(f, like.as_deref(), now_ms);
    Ok(db
        .query(&sql, &args)?
        .iter()
        .map(|r| row_of(r, now_ms))
        .collect::<Result<_, _>>()?)
}

/// The statement [`list_orders`] runs for `f` (`like`: the customer's
/// pattern), and its parameters.
///
/// The page's size is written into the statement, not bound: SQLite
/// compiles a SELECT whose LIMIT is a parameter afresh every time the
/// parameter is bound (its statement status counts a re-prepare per run),
/// and the list is what an app shows most. The size is our own number, at
/// most [`OrderFilter::MAX_LIMIT`]; the offset stays a parameter (binding it
/// costs nothing), so paging through a list reuses one statement.
pub(super) fn list_sql<'a>(
    f: &'a OrderFilter,
    like: Option<&'a str>,
    now_ms: i64,
) -> (String, Vec<Param<'a>>) {
    let mut sql = String::from(
        "SELECT id, status, urgent, assignee, customer_name, created_at_ms, next_due_at_ms,
                next_due_clock, updated_at_ms, serial, fault_code, is_open
         FROM orders WHERE 1 = 1",
    );
    let mut args: Vec<Param<'a>> = Vec::new();
    if f.open_only {
        sql.push_str(" AND is_open = 1");
    }
    if f.urgent_only {
        sql.push_str(" AND urgent = 1");
    }
    if !f.statuses.is_empty() {
        sql.push_str(" AND status IN (");
        for (i, s) in f.statuses.iter().enumerate() {
            if i > 0 {
                sql.push(',');
            }
            args.push(Param::Text(s.as_str()));
            sql.push_str(&format!("?{}", args.len()));
        }
        sql.push(')');
    }
    if let Some(a) = &f.assignee {
        args.push(Param::Text(a));
        sql.push_str(&format!(" AND assignee = ?{}", args.len()));
    }
    if let Some(c) = like {
        // Lower-cased on both sides: SQLite's LIKE ignores ASCII case and
        // PostgreSQL's does not; this way both match the same names.
        args.push(Param::Text(c));
        sql.push_str(&format!(
            " AND lower(customer_name) LIKE lower(?{}) ESCAPE '\\'",
            args.len()
        ));
    }
    if let Some(d) = f.due_before_ms {
        args.push(Param::Int(d));
        sql.push_str(&format!(" AND next_due_at_ms < ?{}", args.len()));
    }
    if f.breached_only {
        args.push(Param::Int(now_ms));
        sql.push_str(&format!(
            " AND is_open = 1 AND next_due_at_ms < ?{}",
            args.len()
        ));
    }
    sql.push_str(match f.sort {
        OrderSort::Urgency => {
            " ORDER BY urgent DESC, next_due_at_ms IS NULL, next_due_at_ms, created_at_ms, id"
        }
        OrderSort::Newest => " ORDER BY created_at_ms DESC, id",
    });
    let limit = match f.limit {
        0 => 50,
        n => n.min(OrderFilter::MAX_LIMIT),
    };
    args.push(Param::from(f.offset));
    sql.push_str(&format!(" LIMIT {limit} OFFSET ?{}", args.len()));
    (sql, args)
}
