//! The documents Fieldwork keeps: a work order, an engineer's van stock and the
//! parts catalog, as plain Rust types mapped to Automerge with `autosurgeon`.
//!
//! Every list that replicas append to concurrently (events, parts lines, fees,
//! consents, QC records, calls, complaints, ledger) has an `id` marked `#[key]`
//! so that merges keep both sides' entries. Times are UTC milliseconds since
//! the Unix epoch; money is in minor units (cents, fen) of the tenant's currency.
//!
//! One file per part of the documents: `intake`, `order` (the work order),
//! `signature` (strokes, consents, sign-off), `photo` (what an attached photo records), `complaint`, `catalog`,
//! `van_stock` and `settings`. Everything is re-exported here, so `model::WorkOrder` and
//! `model::*` read as one module. [`read`] reads a document into these types
//! reading each of its objects once (use its `hydrate`, not `autosurgeon`'s).

mod catalog;
mod complaint;
mod intake;
mod order;
mod photo;
mod settings;
mod signature;
mod van_stock;

pub mod read;

pub use catalog::*;
pub use complaint::*;
pub use intake::*;
pub use order::*;
pub use photo::*;
pub use settings::*;
pub use signature::*;
pub use van_stock::*;
