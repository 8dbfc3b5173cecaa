//! The core's integration tests in one binary: a visit end to end, bad
//! input, bounds, replicas converging (proptest), group commits, pulls,
//! photos, settings, the PDF report and encryption at rest. One binary, not
//! one per file, so the test build links the core once.

mod at_rest;
mod bad_input;
mod bounds;
mod common;
mod group;
mod photos;
mod pull;
mod replicas;
mod report_pdf;
mod settings;
mod visit;
