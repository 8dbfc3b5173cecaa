//! Which orders refer to which blobs (the `photos` rows), read for the
//! phone's upload queue and for the server's checks on who may send or
//! fetch a blob: a hash is not a key, an order one may read is.

use super::StoreError;
use super::sql::{Backend, SqlError, params, query_opt};

/// A blob still to be sent to the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingBlob {
    pub hash: String,
    pub size: i64,
}

/// Blobs this device attached to orders, not removed, that its server has
/// not confirmed, referenced only by orders whose changes have all been
/// acknowledged (the server refuses a blob no order it holds refers to).
pub fn pending_uploads(db: &mut dyn Backend, device: &str) -> Result<Vec<PendingBlob>, StoreError> {
    db.query(
        "SELECT hash, MAX(size) FROM photos
         WHERE device = ?1 AND removed = 0
           AND hash NOT IN (SELECT hash FROM blobs_uploaded)
           AND order_id NOT IN (SELECT doc_id FROM changes)
         GROUP BY hash ORDER BY MIN(order_id), hash",
        params![device],
    )?
    .iter()
    .map(|r| {
        Ok(PendingBlob {
            hash: r.text(0)?,
            size: r.int(1)?,
        })
    })
    .collect::<Result<_, SqlError>>()
    .map_err(Into::into)
}

/// Blobs this device attached that are still to be sent, whatever the
/// state of their orders' changes: what the app shows as "waiting".
pub fn waiting(db: &mut dyn Backend, device: &str) -> Result<(i64, i64), StoreError> {
    let row = db.query(
        "SELECT COUNT(*), CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM (
             SELECT hash, MAX(size) AS size FROM photos
             WHERE device = ?1 AND removed = 0
               AND hash NOT IN (SELECT hash FROM blobs_uploaded)
             GROUP BY hash) AS w",
        params![device],
    )?;
    match row.first() {
        Some(r) => Ok((r.int(0)?, r.int(1)?)),
        None => Ok((0, 0)),
    }
}

pub fn mark_uploaded(db: &mut dyn Backend, hash: &str, now_ms: i64) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO blobs_uploaded (hash, at_ms) VALUES (?1, ?2) ON CONFLICT (hash) DO NOTHING",
        params![hash, now_ms],
    )?;
    Ok(())
}

/// Every hash a photo not removed refers to.
pub fn referenced(db: &mut dyn Backend) -> Result<Vec<String>, StoreError> {
    db.query(
        "SELECT DISTINCT hash FROM photos WHERE removed = 0 ORDER BY hash",
        &[],
    )?
    .iter()
    .map(|r| r.text(0))
    .collect::<Result<_, SqlError>>()
    .map_err(Into::into)
}

/// What a phone keeps: blobs a photo not removed refers to, and blobs of
/// orders whose changes (a removal among them) have not reached the server.
pub fn kept_on_device(db: &mut dyn Backend) -> Result<Vec<String>, StoreError> {
    db.query(
        "SELECT DISTINCT hash FROM photos
         WHERE removed = 0 OR order_id IN (SELECT doc_id FROM changes) ORDER BY hash",
        &[],
    )?
    .iter()
    .map(|r| r.text(0))
    .collect::<Result<_, SqlError>>()
    .map_err(Into::into)
}

/// What the photos referring to a blob declare of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    pub size: i64,
    /// The media type (`image/jpeg`…) the attaching phone recognised.
    pub media_type: String,
}

impl Declared {
    /// The declared size in bytes (a negative size, which attaching never
    /// records, reads as empty).
    pub fn size_bytes(&self) -> u64 {
        u64::try_from(self.size).unwrap_or(0)
    }
}

/// What a photo `engineer` may read declares of `hash`, if any: an order
/// assigned to the engineer now refers to it and has not removed it.
pub fn declared_to(
    db: &mut dyn Backend,
    hash: &str,
    engineer: &str,
) -> Result<Option<Declared>, StoreError> {
    let row = query_opt(
        db,
        "SELECT p.size, p.media_type FROM photos p
         JOIN grants g ON g.doc_id = p.order_id
         WHERE p.hash = ?1 AND p.removed = 0 AND g.engineer = ?2 AND g.revoked_seq IS NULL
         ORDER BY p.size DESC LIMIT 1",
        params![hash, engineer],
    )?;
    declared_of(row)
}

/// What photo `photo_id` of order `order_id` declares, removed or not.
pub fn declared_by_photo(
    db: &mut dyn Backend,
    order_id: &str,
    photo_id: &str,
) -> Result<Option<(String, Declared)>, StoreError> {
    let row = query_opt(
        db,
        "SELECT size, media_type, hash FROM photos WHERE order_id = ?1 AND photo_id = ?2",
        params![order_id, photo_id],
    )?;
    Ok(match row {
        Some(r) => Some((
            r.text(2)?,
            Declared {
                size: r.int(0)?,
                media_type: r.text(1)?,
            },
        )),
        None => None,
    })
}

fn declared_of(row: Option<super::sql::Row>) -> Result<Option<Declared>, StoreError> {
    Ok(match row {
        Some(r) => Some(Declared {
            size: r.int(0)?,
            media_type: r.text(1)?,
        }),
        None => None,
    })
}

/// The orders that refer to `hash` (removed or not).
pub fn orders_referring(db: &mut dyn Backend, hash: &str) -> Result<Vec<String>, StoreError> {
    db.query(
        "SELECT DISTINCT order_id FROM photos WHERE hash = ?1 ORDER BY order_id",
        params![hash],
    )?
    .iter()
    .map(|r| r.text(0))
    .collect::<Result<_, SqlError>>()
    .map_err(Into::into)
}
