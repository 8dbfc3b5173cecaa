//! An engineer's van stock: counters per part and device, and the ledger of
//! movements (decision 0004).

use autosurgeon::{Counter, Hydrate, Reconcile};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum MovementKind {
    Received,
    IssuedToOrder {
        order_id: String,
    },
    /// A bad part returned to the center.
    Returned,
    /// Stocktake: the book said `book`, the shelf held `physical`.
    Adjusted {
        book: i64,
        physical: i64,
    },
}

/// One line of the stock ledger; `delta` is what it did to on-hand.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StockMovement {
    #[key]
    pub id: String,
    pub sku: String,
    pub kind: MovementKind,
    pub delta: i64,
    pub by: String,
    pub device: String,
    pub at_ms: i64,
}

/// On-hand count of one part: a counter, so concurrent decrements add up.
#[derive(Debug, Clone, Reconcile, Hydrate)]
pub struct StockCount {
    pub on_hand: Counter,
}

/// An engineer's van stock: counters plus the movement ledger.
///
/// Each device counts in its own counter per part, keyed `sku@device`. A
/// device is the only writer of its keys, so two phones never create the
/// same key concurrently (Automerge would keep only one of two concurrent
/// creations); on hand for a part is the sum over devices, and concurrent
/// movements all count.
#[derive(Debug, Clone, Reconcile, Hydrate)]
pub struct VanStock {
    pub engineer: String,
    pub counts: BTreeMap<String, StockCount>,
    pub ledger: Vec<StockMovement>,
}

impl VanStock {
    /// The counter key for `sku` moved on `device`.
    pub fn count_key(sku: &str, device: &str) -> String {
        format!("{sku}@{device}")
    }

    /// On hand per part: the sum of every device's counter.
    pub fn levels_of(counts: &BTreeMap<String, StockCount>) -> BTreeMap<String, i64> {
        let mut levels = BTreeMap::new();
        for (key, c) in counts {
            let sku = key.rsplit_once('@').map_or(key.as_str(), |(sku, _)| sku);
            *levels.entry(sku.to_string()).or_insert(0) += c.on_hand.value();
        }
        levels
    }

    pub fn levels(&self) -> BTreeMap<String, i64> {
        VanStock::levels_of(&self.counts)
    }
}
