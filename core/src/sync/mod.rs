//! Sync, both halves (docs/sync.md): the protocol messages ([`wire`]); on
//! the phone the outbox and the quarantine of refused work ([`outbox`],
//! [`quarantine`]) and the client that drives them ([`client`]), with its
//! upload queue and lazy downloads of photos ([`blobs`]); on the
//! server the store that checks and applies pushes and plans pulls
//! ([`server`]; the check of a push is `push`), committing pushes that
//! arrive together at once ([`group`]).

pub mod blobs;
pub mod client;
pub mod group;
pub mod outbox;
mod push;
pub mod quarantine;
pub mod server;
pub mod wire;
