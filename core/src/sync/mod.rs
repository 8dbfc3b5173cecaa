//! Sync: the protocol messages ([`wire`]) and the device's client ([`client`]).
//! The protocol is written up in docs/sync.md.

pub mod chunks;
pub mod client;
pub mod wire;
