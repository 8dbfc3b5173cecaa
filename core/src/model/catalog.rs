//! The service center's parts catalog: one document every phone reads.

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Part of the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Reconcile, Hydrate, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CatalogPart {
    pub sku: String,
    pub name: String,
    pub unit_price_minor: i64,
    /// Below this many on hand a van gets a reorder hint.
    pub low_stock_threshold: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
pub struct Catalog {
    pub parts: BTreeMap<String, CatalogPart>,
}
