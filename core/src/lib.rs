//! Fieldwork core: the offline-first heart of the engineer's app. Work orders,
//! van stock and the parts catalog as Automerge documents in a local SQLite
//! store; the service-center rules as pure functions; one facade, [`Fieldwork`],
//! that the bindings and the server wrap.

pub mod hlc;
pub mod model;
pub mod policy;
pub mod rules;

pub use policy::Policy;
pub mod api;
pub mod scenario;
pub mod store;
pub mod sync;
pub mod validate;

pub use api::{Config, Error, Fieldwork, ManualClock, SystemClock};
pub use store::{OrderFilter, OrderRow, OrderSort};
