//! End-to-end scenarios across processes and over the network: the crash
//! test, a server on loopback with devices (harness), `fieldwork` as a real
//! process (process), and the benchmark binary.

pub use fieldwork_core::scenario::{full_visit, intake, play_visit, relay, signature};

pub mod backend;
pub mod board;
pub mod harness;
pub mod process;
pub mod proxy;
