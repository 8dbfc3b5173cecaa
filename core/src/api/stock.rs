//! The parts catalog as the phone reads it, and the engineer's van stock:
//! receiving, returning, stocktakes, levels with reorder hints, the ledger.
//! Every movement is one change to the van's document (decision 0004).

use super::work::meta_of;
use super::{Error, Fieldwork, Result, corrupt};
use crate::doc_ids::{DocKind, stock_doc_id};
use crate::model::read::hydrate_prop;
use crate::model::*;
use crate::store::write::{Rows, Write};
use crate::validate::{self, MAX_CODE_CHARS};
use serde::{Deserialize, Serialize};

/// A van's level of one part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StockLevel {
    pub sku: String,
    pub name: Option<String>,
    pub on_hand: i64,
    pub low_stock_threshold: Option<i64>,
    /// On hand is below the part's threshold: reorder.
    pub reorder: bool,
}

impl Fieldwork {
    pub fn catalog(&self) -> Result<Vec<CatalogPart>> {
        Ok(self.lock()?.catalog()?.parts.into_values().collect())
    }

    /// Parts received into the van.
    pub fn receive_stock(&self, sku: &str, qty: i64) -> Result<()> {
        self.stock_movement(sku, qty, |_| Ok((qty, MovementKind::Received)))
    }

    /// A bad part returned to the center.
    pub fn return_part(&self, sku: &str, qty: i64) -> Result<()> {
        self.stock_movement(sku, qty, |on_hand| {
            if on_hand < qty {
                return Err(Error::InsufficientStock {
                    sku: sku.to_string(),
                    on_hand,
                    wanted: qty,
                });
            }
            Ok((-qty, MovementKind::Returned))
        })
    }

    /// Stocktake: set the book to the `physical` count.
    pub fn stocktake(&self, sku: &str, physical: i64) -> Result<()> {
        if !(0..=validate::MAX_QTY * 100).contains(&physical) {
            return Err(validate::invalid("physical", "must be a count from 0").into());
        }
        self.stock_movement(sku, 1, |book| {
            Ok((physical - book, MovementKind::Adjusted { book, physical }))
        })
    }

    fn stock_movement(
        &self,
        sku: &str,
        qty: i64,
        delta: impl FnOnce(i64) -> Result<(i64, MovementKind)>,
    ) -> Result<()> {
        validate::required("sku", sku, MAX_CODE_CHARS)?;
        validate::quantity("qty", qty)?;
        let mut g = self.lock()?;
        if !g.catalog()?.parts.contains_key(sku) {
            return Err(Error::UnknownSku {
                sku: sku.to_string(),
            });
        }
        let on_hand = g.on_hand(sku)?;
        let (d, kind) = delta(on_hand)?;
        let (id, heads_before, levels) = g.stage_stock_movement(sku, d, kind, "stock")?;
        let engineer = g.acting_user();
        let rows = Rows::Stock {
            engineer: &engineer,
            levels: &levels,
        };
        let clock = g.clock_meta();
        let device = g.device_id.clone();
        g.store.persist(
            &[Write {
                doc_id: &id,
                kind: DocKind::VanStock,
                heads_before,
                rows,
                compact: false,
                origin: Some(&device),
                encoded: None,
            }],
            &meta_of(&clock),
        )?;
        Ok(())
    }

    /// The signed-in engineer's van: levels with reorder hints, from rows.
    pub fn van_stock(&self) -> Result<Vec<StockLevel>> {
        let mut g = self.lock()?;
        let catalog = g.catalog()?;
        let engineer = g.acting_user();
        let levels = g.store.stock_levels(&engineer)?;
        Ok(levels
            .into_iter()
            .map(|(sku, on_hand)| {
                let part = catalog.parts.get(&sku);
                StockLevel {
                    name: part.map(|p| p.name.clone()),
                    low_stock_threshold: part.map(|p| p.low_stock_threshold),
                    reorder: part.is_some_and(|p| on_hand < p.low_stock_threshold),
                    on_hand,
                    sku,
                }
            })
            .collect())
    }

    pub fn stock_ledger(&self) -> Result<Vec<StockMovement>> {
        let mut g = self.lock()?;
        let id = stock_doc_id(&g.user);
        if !g.store.contains(&id)? {
            return Ok(vec![]);
        }
        let doc = g.doc(&id)?;
        hydrate_prop(doc, automerge::ROOT, "ledger").map_err(|e| corrupt(&id, e))
    }
}
