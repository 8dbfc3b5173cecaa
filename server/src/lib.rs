//! fieldwork-server: the sync endpoint devices talk to and the dispatcher
//! API, over one core store per tenant (embedded SQLite). It computes SLA
//! state and validates pushes with the same `fieldwork_core` rules the
//! devices use.

pub mod app;
pub mod auth;
mod board;
pub mod cli;
pub mod demo;
pub mod device_cli;
pub mod https;
pub mod pg;
pub mod storage;
