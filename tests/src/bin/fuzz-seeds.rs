//! Seeds for the fuzz targets, made from real messages: a device's whole
//! visit (its outbox changes, the order as a whole document, the sync
//! request and response that carry them) and the dispatcher API's bodies.
//! `fuzz-seeds DIR` writes `DIR/<target>/…` (scripts/fuzz runs it).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use fieldwork_core::api::FollowUpInput;
use fieldwork_core::model::Rating;
use fieldwork_core::sync::wire::{
    DocResult, PulledDoc, PushDoc, PushResult, SyncRequest, SyncResponse,
};
use std::path::Path;

/// `[n][n bytes of document id][the bytes]`: the input of the fuzz targets
/// that take a document and bytes (fuzz/src/lib.rs, `split`).
fn join(doc_id: &str, bytes: &[u8]) -> Vec<u8> {
    let id = &doc_id.as_bytes()[..doc_id.len().min(255)];
    let mut out = vec![id.len() as u8];
    out.extend_from_slice(id);
    out.extend_from_slice(bytes);
    out
}

fn write(dir: &Path, target: &str, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let d = dir.join(target);
    std::fs::create_dir_all(&d)?;
    std::fs::write(d.join(name), bytes)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args_os().nth(1).ok_or("usage: fuzz-seeds DIR")?;
    let out = Path::new(&out);
    let home = tempfile::tempdir()?;
    let fw = fieldwork_core::Fieldwork::open(
        home.path().join("device.db"),
        fieldwork_core::Config::new("eng-a"),
    )?;
    fw.desk()
        .upsert_catalog_part(fieldwork_core::scenario::relay())?;
    fw.receive_stock("RLY", 2)?;
    let id = fw
        .desk()
        .create_order(fieldwork_core::scenario::intake(7))?;
    fw.desk().assign(&id, "eng-a")?;
    fieldwork_core::scenario::play_visit(&fw, &id, &|_| {})?;

    let outbox = fw.outbox(usize::MAX)?;
    let mut whole_push = Vec::new();
    for (n, c) in outbox.iter().enumerate() {
        write(
            out,
            "server_push",
            &format!("change-{n:03}"),
            &join(&c.doc_id, &c.bytes),
        )?;
        write(
            out,
            "device_import",
            &format!("change-{n:03}"),
            &join(&c.doc_id, &c.bytes),
        )?;
        if c.doc_id == id {
            whole_push.extend_from_slice(&c.bytes);
        }
    }
    write(out, "server_push", "visit", &join(&id, &whole_push))?;
    let whole = fw.export_changes(&id, &[])?;
    write(out, "device_import", "whole-order", &join(&id, &whole))?;

    let request = SyncRequest {
        cursor: 42,
        push: vec![PushDoc {
            doc_id: id.clone(),
            changes: whole_push.clone(),
        }],
    };
    write(out, "sync_wire", "request", &request.encode())?;
    let response = SyncResponse {
        cursor: 43,
        more: false,
        results: vec![
            PushResult {
                doc_id: id.clone(),
                result: DocResult::Accepted,
            },
            PushResult {
                doc_id: "wo-2".into(),
                result: DocResult::Refused("the desk assigns orders".into()),
            },
            PushResult {
                doc_id: "wo-3".into(),
                result: DocResult::MissingDependencies(vec!["00".repeat(32)]),
            },
        ],
        pulled: vec![PulledDoc {
            doc_id: id.clone(),
            whole: true,
            bytes: whole,
        }],
        removed: vec!["wo-4".into()],
    };
    write(out, "sync_wire", "response", &response.encode())?;

    let body = |n: u8, v: serde_json::Value| {
        let mut b = vec![n];
        b.extend_from_slice(v.to_string().as_bytes());
        b
    };
    let intake = serde_json::to_value(fieldwork_core::scenario::intake(3))?;
    write(out, "api_json", "intake", &body(0, intake))?;
    write(
        out,
        "api_json",
        "assign",
        &body(1, serde_json::json!({ "engineer": "eng-b" })),
    )?;
    let call = FollowUpInput {
        reached: true,
        rating: Some(Rating::Unsatisfied),
        aspect: None,
        comment: Some("noisy".into()),
    };
    write(
        out,
        "api_json",
        "follow-up",
        &body(2, serde_json::to_value(call)?),
    )?;
    write(
        out,
        "api_json",
        "complaint",
        &body(
            3,
            serde_json::json!({ "what": "late", "category": "timeliness", "major": true }),
        ),
    )?;
    let part = serde_json::to_value(fieldwork_core::scenario::relay())?;
    write(out, "api_json", "catalog", &body(4, part))?;
    Ok(())
}
