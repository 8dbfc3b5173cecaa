//! `fieldwork device`: a headless device on the same core, for scripting and
//! support. The store lives in a folder; `device.json` beside it holds the
//! engineer, the server and the device token. Text output, or JSON with `--json`.

use fieldwork_core::api::{ConsentInput, DiagnosisInput};
use fieldwork_core::model::{
    ConsentKind, FaultKind, FeeKind, Location, PhotoKind, Rating, Status, Stroke, StrokePoint,
};
use fieldwork_core::scenario::qc_checklist;
use fieldwork_core::sync::client::{NoListener, SyncClient, enrol};
use fieldwork_core::{Config, Fieldwork, OrderFilter};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const USAGE: &str = "usage: fieldwork device --store DIR [--json] COMMAND
  init ENGINEER                         create the store for ENGINEER
  enrol SERVER_URL CODE                 trade an enrolment code for a token
  sync                                  push and pull until level
  status                                outbox, cursor, server
  list [--all]                          open orders (all with --all)
  show ID                               one order with SLA clocks, fees, signature
  report ID [--pdf FILE]                the service report (as signed); with --pdf, the PDF
                                        the customer keeps, written to FILE
  accept ID | en-route ID | start ID | repaired ID | close ID
  arrive ID [LAT LON]
  diagnose ID CODE hardware|software FINDINGS [SKU,SKU…]
  warranty ID [--proof] [--misuse]
  receive SKU QTY                       parts into the van
  use-part ID SKU QTY
  fee ID labour|logistics|other AMOUNT_MINOR DESCRIPTION
  consent ID paid_service|extra_parts|extra_work|fee_list NAME SCOPE
  note ID TEXT
  attach ID FILE KIND [CAPTION]         a photo or document (KIND: fault, serial_plate,
                                        proof_of_purchase, part, completed_work, other)
  photos ID                             the order's photos, and whether this device holds each
  fetch-photo ID PHOTO                  the photo's file here (fetched from the server if need be)
  remove-photo ID PHOTO
  qc ID pass|fail
  sign ID NAME
  rate ID satisfied|neutral|unsatisfied [SCORE]
  quarantine                            changes the server refused, kept here
  quarantine export FILE                write them for support (JSON, with the changes)
  quarantine discard N                  discard entry N for good";

#[derive(Debug, Serialize, Deserialize)]
struct DeviceFile {
    engineer: String,
    server: Option<String>,
    token: Option<String>,
}

fn file(store: &Path) -> PathBuf {
    store.join("device.json")
}

fn read_file(store: &Path) -> Result<DeviceFile, String> {
    let bytes = std::fs::read(file(store))
        .map_err(|_| format!("no device in {}: run `init` first", store.display()))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("device.json: {e}"))
}

fn write_file(store: &Path, f: &DeviceFile) -> Result<(), String> {
    let bytes = serde_json::to_vec_pretty(f).map_err(|e| e.to_string())?;
    std::fs::write(file(store), bytes).map_err(|e| e.to_string())
}

fn open(store: &Path, engineer: &str) -> Result<Arc<Fieldwork>, String> {
    Fieldwork::open(store.join("device.db"), Config::new(engineer))
        .map(Arc::new)
        .map_err(|e| e.to_string())
}

fn signature() -> Vec<Stroke> {
    vec![Stroke {
        points: (0..16)
            .map(|i| StrokePoint {
                x: f64::from(i) * 6.0,
                y: f64::from(i % 5) * 3.0,
                t_ms: i64::from(i) * 15,
            })
            .collect(),
    }]
}

fn parse<T: for<'de> Deserialize<'de>>(what: &str, s: &str) -> Result<T, String> {
    serde_json::from_value(Value::String(s.to_string())).map_err(|_| format!("unknown {what}: {s}"))
}

fn num<T: std::str::FromStr>(what: &str, s: &str) -> Result<T, String> {
    s.parse().map_err(|_| format!("{what} must be a number"))
}

/// Run `fieldwork device …`; returns the text to print (already JSON with `--json`).
pub fn run(mut args: Vec<String>) -> Result<String, String> {
    let json_out = if let Some(i) = args.iter().position(|a| a == "--json") {
        args.remove(i);
        true
    } else {
        false
    };
    let store = match args.iter().position(|a| a == "--store") {
        Some(i) if i + 1 < args.len() => {
            let v = args.remove(i + 1);
            args.remove(i);
            PathBuf::from(v)
        }
        _ => return Err(USAGE.into()),
    };
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = |text: String, value: Value| if json_out { value.to_string() } else { text };
    if let ["init", engineer] = a.as_slice() {
        std::fs::create_dir_all(&store).map_err(|e| e.to_string())?;
        let fw = open(&store, engineer)?;
        write_file(
            &store,
            &DeviceFile {
                engineer: engineer.to_string(),
                server: None,
                token: None,
            },
        )?;
        let id = fw.device_id();
        return Ok(out(
            format!("device {id} for {engineer}"),
            json!({ "device_id": id, "engineer": engineer }),
        ));
    }
    let mut dev = read_file(&store)?;
    let fw = open(&store, &dev.engineer)?;
    let e = |e: fieldwork_core::Error| e.to_string();
    let done = |what: &str| out(format!("{what}: done"), json!({ "ok": true }));
    Ok(match a.as_slice() {
        ["enrol", url, code] => {
            let token = enrol(&fw, url, code).map_err(|e| e.to_string())?.token;
            dev.server = Some(url.trim_end_matches('/').to_string());
            dev.token = Some(token);
            write_file(&store, &dev)?;
            out(
                format!("enrolled with {url}"),
                json!({ "ok": true, "server": url }),
            )
        }
        ["sync"] => {
            let (Some(url), Some(token)) = (&dev.server, &dev.token) else {
                return Err("not enrolled: run `enrol` first".into());
            };
            let client = SyncClient::new(fw.clone(), url, token, Arc::new(NoListener))
                .map_err(|e| e.to_string())?;
            client.set_online(true);
            let s = client.sync_now().map_err(|e| e.to_string())?;
            out(
                format!(
                    "pushed {} changes, pulled {} ({} whole orders), refused {}, {} photo(s) sent, {} B up, {} B down, {} round trips, {} ms",
                    s.pushed_changes,
                    s.pulled_changes,
                    s.pulled_docs,
                    s.refused_docs,
                    s.blobs_uploaded,
                    s.bytes_up + s.blob_bytes_up,
                    s.bytes_down,
                    s.round_trips,
                    s.duration_ms
                ),
                json!({
                    "pushed_changes": s.pushed_changes, "pulled_changes": s.pulled_changes, "pulled_docs": s.pulled_docs,
                    "refused_docs": s.refused_docs, "removed_docs": s.removed_docs, "bytes_up": s.bytes_up,
                    "bytes_down": s.bytes_down, "round_trips": s.round_trips, "duration_ms": s.duration_ms,
                    "blobs_uploaded": s.blobs_uploaded, "blob_bytes_up": s.blob_bytes_up
                }),
            )
        }
        ["status"] => {
            let pending = fw.pending_changes().map_err(e)?;
            let cursor = fw.sync_cursor().map_err(e)?;
            let photos = fw.blobs_waiting().map_err(e)?;
            out(
                format!(
                    "device {} ({}), {pending} changes and {} photo(s) waiting, cursor {cursor}, server {}",
                    fw.device_id(),
                    dev.engineer,
                    photos.count,
                    dev.server.as_deref().unwrap_or("none")
                ),
                json!({ "device_id": fw.device_id(), "engineer": dev.engineer, "pending_changes": pending, "photos_waiting": photos.count, "photo_bytes_waiting": photos.bytes, "cursor": cursor, "server": dev.server }),
            )
        }
        ["list", rest @ ..] => {
            let filter = OrderFilter {
                open_only: !rest.contains(&"--all"),
                limit: OrderFilter::MAX_LIMIT,
                ..OrderFilter::default()
            };
            let rows = fw.list_orders(&filter).map_err(e)?;
            // Due times in the service center's zone.
            let zone = fw.policy().zone();
            let text = rows
                .iter()
                .map(|r| {
                    format!(
                        "{} {:<14} {}{}{}",
                        r.id,
                        r.status.as_str(),
                        if r.urgent { "URGENT " } else { "" },
                        r.next_due_clock
                            .as_deref()
                            .zip(r.next_due_at_ms)
                            .map(|(c, at)| {
                                let when = fieldwork_core::local_time::format_local(zone, at);
                                format!("next: {c} due {when} ")
                            })
                            .unwrap_or_default(),
                        if r.breached { "BREACHED" } else { "" }
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            out(
                text,
                serde_json::to_value(&rows).map_err(|e| e.to_string())?,
            )
        }
        ["report", id] => out(
            fw.service_report(id).map_err(e)?,
            json!({ "report": fw.service_report(id).map_err(e)? }),
        ),
        ["report", id, "--pdf", target] => {
            fw.use_report_font(&crate::report::font_file(&store)?)
                .map_err(e)?;
            let pdf = fw.service_report_pdf(id).map_err(e)?;
            std::fs::write(target, &pdf).map_err(|err| format!("{target}: {err}"))?;
            out(
                format!("{target}: {} bytes", pdf.len()),
                json!({ "path": target, "bytes": pdf.len() }),
            )
        }
        ["show", id] => {
            let v = fw.order(id).map_err(e)?;
            let report = fw.service_report(id).map_err(e)?;
            out(
                format!(
                    "{report}status: {}\nsignature: {:?}\nconflicts: {}",
                    v.status.as_str(),
                    v.signature,
                    v.conflicts.len()
                ),
                serde_json::to_value(&v).map_err(|e| e.to_string())?,
            )
        }
        ["accept", id] => fw.accept(id).map(|()| done("accept")).map_err(e)?,
        ["en-route", id] => fw.en_route(id).map(|()| done("en route")).map_err(e)?,
        ["start", id] => fw.start_work(id).map(|()| done("start")).map_err(e)?,
        ["repaired", id] => fw.mark_repaired(id).map(|()| done("repaired")).map_err(e)?,
        ["close", id] => fw
            .transition(id, Status::Closed, None)
            .map(|()| done("close"))
            .map_err(e)?,
        ["arrive", id, rest @ ..] => {
            let location = match rest {
                [lat, lon] => Some(Location {
                    lat: num("latitude", lat)?,
                    lon: num("longitude", lon)?,
                    accuracy_m: None,
                }),
                [] => None,
                _ => return Err(USAGE.into()),
            };
            fw.arrive(id, location)
                .map(|()| done("arrive"))
                .map_err(e)?
        }
        ["diagnose", id, code, kind, findings, rest @ ..] => {
            let kind: FaultKind = parse("fault kind", kind)?;
            let planned_parts = rest
                .first()
                .map(|p| p.split(',').map(str::to_string).collect())
                .unwrap_or_default();
            fw.diagnose(
                id,
                DiagnosisInput {
                    fault_code: code.to_string(),
                    kind,
                    findings: findings.to_string(),
                    planned_parts,
                    estimate_minor: 0,
                    misuse: false,
                },
            )
            .map(|()| done("diagnose"))
            .map_err(e)?
        }
        ["warranty", id, flags @ ..] => {
            let w = fw
                .decide_warranty(id, flags.contains(&"--proof"), flags.contains(&"--misuse"))
                .map_err(e)?;
            out(
                w.reason.clone(),
                serde_json::to_value(&w).map_err(|e| e.to_string())?,
            )
        }
        ["receive", sku, qty] => fw
            .receive_stock(sku, num("qty", qty)?)
            .map(|()| done("receive"))
            .map_err(e)?,
        ["use-part", id, sku, qty] => {
            let line = fw.use_part(id, sku, num("qty", qty)?, true).map_err(e)?;
            out(format!("part line {line}"), json!({ "line": line }))
        }
        ["fee", id, kind, amount, description] => {
            let kind: FeeKind = parse("fee kind", kind)?;
            let line = fw
                .add_fee(id, kind, description, num("amount", amount)?)
                .map_err(e)?;
            out(format!("fee line {line}"), json!({ "line": line }))
        }
        ["consent", id, kind, name, scope] => {
            let kind: ConsentKind = parse("consent kind", kind)?;
            let input = ConsentInput {
                kind,
                accepted: true,
                signer_name: name.to_string(),
                scope: scope.to_string(),
                parts: vec![],
                strokes: signature(),
            };
            let cid = fw.record_consent(id, input).map_err(e)?;
            out(format!("consent {cid}"), json!({ "consent": cid }))
        }
        ["note", id, text] => fw.add_note(id, text).map(|()| done("note")).map_err(e)?,
        ["attach", id, file, kind, caption @ ..] => {
            let kind = PhotoKind::parse(kind).ok_or_else(|| {
                "KIND is one of fault, serial_plate, proof_of_purchase, part, completed_work, other"
                    .to_string()
            })?;
            let caption = (!caption.is_empty()).then(|| caption.join(" "));
            let p = fw
                .attach_photo(id, Path::new(file), kind, caption.as_deref())
                .map_err(e)?;
            let waiting = fw.blobs_waiting().map_err(e)?;
            out(
                format!(
                    "photo {} ({}, {} bytes), {} photo(s) waiting to be sent",
                    p.id,
                    p.media_type.mime(),
                    p.size,
                    waiting.count
                ),
                json!({ "photo_id": p.id, "hash": p.hash, "size": p.size, "media_type": p.media_type.mime(), "waiting": waiting.count }),
            )
        }
        ["photos", id] => {
            let o = fw.order(id).map_err(e)?.order;
            let mut lines = Vec::new();
            let mut items = Vec::new();
            for p in &o.photos {
                let here = fw.photo_file(id, &p.id).map_err(e)?.is_some();
                lines.push(format!(
                    "{} {} {} {}{}",
                    p.id,
                    p.kind.as_str(),
                    p.hash,
                    if here { "here" } else { "on the server" },
                    if p.is_removed() { " (removed)" } else { "" }
                ));
                items.push(json!({ "photo_id": p.id, "kind": p.kind.as_str(), "hash": p.hash, "size": p.size, "here": here, "removed": p.is_removed() }));
            }
            out(lines.join("\n"), json!(items))
        }
        ["fetch-photo", id, photo] => {
            let (Some(url), Some(token)) = (&dev.server, &dev.token) else {
                return Err("not enrolled: run `enrol` first".into());
            };
            let client = SyncClient::new(fw.clone(), url, token, Arc::new(NoListener))
                .map_err(|e| e.to_string())?;
            client.set_online(true);
            let path = client.fetch_photo(id, photo).map_err(|e| e.to_string())?;
            out(
                path.display().to_string(),
                json!({ "path": path.display().to_string() }),
            )
        }
        ["remove-photo", id, photo] => fw
            .remove_photo(id, photo)
            .map(|()| done("remove photo"))
            .map_err(e)?,
        ["qc", id, verdict] => {
            let passed = match *verdict {
                "pass" => true,
                "fail" => false,
                _ => return Err(USAGE.into()),
            };
            let ok = fw.record_qc(id, qc_checklist(passed)).map_err(e)?;
            out(
                format!("QC {}", if ok { "passed" } else { "failed" }),
                json!({ "passed": ok }),
            )
        }
        ["sign", id, name] => fw
            .capture_signature(id, name, signature())
            .map(|()| done("sign"))
            .map_err(e)?,
        ["rate", id, rating, rest @ ..] => {
            let rating: Rating = parse("rating", rating)?;
            let score = rest.first().map(|s| num("score", s)).transpose()?;
            fw.rate(id, rating, score, None)
                .map(|()| done("rate"))
                .map_err(e)?
        }
        ["quarantine"] => {
            let q = fw.quarantined().map_err(e)?;
            let text = if q.is_empty() {
                "nothing quarantined".to_string()
            } else {
                q.iter()
                    .map(|c| {
                        let when = fieldwork_core::local_time::format_local(
                            fw.policy().zone(),
                            c.refused_at_ms,
                        );
                        format!(
                            "{:>4} {} {} refused {when}: {}\n     touched {}; {}",
                            c.id,
                            c.doc_id,
                            c.intent,
                            c.reason,
                            if c.touched.is_empty() {
                                "nothing known".to_string()
                            } else {
                                c.touched.join(", ")
                            },
                            c.hash
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            out(text, serde_json::to_value(&q).map_err(|e| e.to_string())?)
        }
        ["quarantine", "export", file] => {
            let export = fw.export_quarantine().map_err(e)?;
            std::fs::write(file, export).map_err(|err| format!("{file}: {err}"))?;
            done("export")
        }
        ["quarantine", "discard", n] => fw
            .discard_quarantined(num("entry", n)?)
            .map(|()| done("discard"))
            .map_err(e)?,
        _ => return Err(USAGE.into()),
    })
}
