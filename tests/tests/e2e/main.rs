//! Every end-to-end test of Fieldwork in one binary: servers on loopback
//! (both storages), real processes killed with SIGKILL, devices, the board
//! and the dispatcher API. One binary, not one per file, so that the test
//! build links the server and the core once (scripts/test on 2 cores).
//! `cargo test -p fieldwork-tests --test e2e photos::` runs one file's tests.

mod acknowledged;
mod admin_settings;
mod api;
mod attestation;
mod backup;
mod board;
mod board_desk;
mod board_language;
mod board_settings;
mod cli;
mod crash;
mod demo;
mod device_kill;
mod encryption;
mod faults;
mod group_commit;
mod health;
mod logs;
mod metrics;
mod migrate;
mod openapi;
mod pg_tls;
mod photos;
mod processes;
mod report;
mod server_kill;
mod slow_transfers;
mod sync;
