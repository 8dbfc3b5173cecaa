//! The documents Fieldwork keeps, by id: `wo-…` a work order, `stock-…` an
//! engineer's van stock, `catalog` the parts catalog, `settings` the service
//! center's settings. Ids say their kind, so
//! the store, the sync and the push rules tell documents apart by id alone.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    WorkOrder,
    VanStock,
    Catalog,
    Settings,
}

impl DocKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::WorkOrder => "work_order",
            DocKind::VanStock => "van_stock",
            DocKind::Catalog => "catalog",
            DocKind::Settings => "settings",
        }
    }

    /// Document ids say their kind: `wo-…`, `stock-…`, `catalog`, `settings`.
    pub fn of_id(doc_id: &str) -> Option<DocKind> {
        if doc_id == CATALOG_ID {
            Some(DocKind::Catalog)
        } else if doc_id == SETTINGS_ID {
            Some(DocKind::Settings)
        } else if doc_id.strip_prefix("wo-").is_some_and(valid_id_tail) {
            Some(DocKind::WorkOrder)
        } else if doc_id.strip_prefix("stock-").is_some_and(valid_id_tail) {
            Some(DocKind::VanStock)
        } else {
            None
        }
    }
}

fn valid_id_tail(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
}

pub const CATALOG_ID: &str = "catalog";
pub const SETTINGS_ID: &str = "settings";

pub fn stock_doc_id(engineer: &str) -> String {
    format!("stock-{engineer}")
}
