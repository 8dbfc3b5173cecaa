//! fieldwork-server: the sync endpoint devices talk to, the dispatcher API
//! and the board, over one core store per tenant (embedded SQLite or
//! PostgreSQL). It computes SLA state and validates pushes with the same
//! `fieldwork_core` rules the devices use.
//!
//! The layers, each importing only from those below it (docs/architecture.md):
//!
//! | layer | modules |
//! |---|---|
//! | commands | [`cli`], [`demo`], [`device_cli`], [`backup`], [`migrate`] |
//! | the HTTP surface, composed | [`routes`] |
//! | handlers: device sync, photos, dispatcher API, board, health | [`sync`], [`uploads`], [`api`], `board`, `health`, `report` |
//! | the desk service both the API and the board call | [`desk`] |
//! | state: tenants, errors, authentication, live updates | [`state`], [`https`] |
//! | what the server tells its operators: request logs, metrics | [`logs`], [`metrics`] |
//! | people and devices; storage | [`auth`], [`storage`], [`blobs`], [`pg`], [`pg_relay`], [`pg_tls`], [`bus`] |

pub mod backup;
pub mod cli;
pub mod demo;
pub mod device_cli;
pub mod migrate;

pub mod routes;

pub mod api;
mod board;
mod health;
mod report;
pub mod sync;
pub mod uploads;

pub mod desk;

pub mod https;
pub mod state;

pub mod logs;
pub mod metrics;

pub mod auth;
pub mod blobs;
pub mod bus;
pub mod pg;
pub mod pg_relay;
pub mod pg_tls;
pub mod storage;
