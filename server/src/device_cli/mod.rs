//! `fieldwork device`: a headless device on the same core, for scripting and
//! support. The store lives in a folder; `device.json` beside it holds the
//! engineer, the server and the device token. Text output, or JSON with `--json`.

use clap::{Args, Subcommand};
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

mod keys;

/// `fieldwork device`: one store, one command.
#[derive(Debug, Args)]
pub struct DeviceArgs {
    /// The device's folder (its store and device.json)
    #[arg(long, env = "FIELDWORK_STORE", value_name = "DIR")]
    store: PathBuf,
    /// Print JSON instead of text
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: DeviceCommand,
}

#[derive(Debug, Subcommand)]
enum DeviceCommand {
    /// Create the store for ENGINEER
    Init {
        engineer: String,
        /// Encrypt the store from the start (its key in store.key)
        #[arg(long)]
        encrypted: bool,
    },
    /// Encrypt the store and its photos in place (its key in store.key)
    Encrypt,
    /// Encrypt the store under a new key
    Rekey,
    /// Trade an enrolment code for a token
    Enrol { server_url: String, code: String },
    /// Push and pull until level
    Sync,
    /// Outbox, cursor, server
    Status,
    /// Open orders
    List {
        /// Closed and cancelled orders too
        #[arg(long)]
        all: bool,
    },
    /// One order with SLA clocks, fees, signature
    Show { id: String },
    /// The service report (as signed)
    Report {
        id: String,
        /// Write the PDF the customer keeps to FILE
        #[arg(long, value_name = "FILE")]
        pdf: Option<PathBuf>,
    },
    /// Accept an order assigned to this engineer
    Accept { id: String },
    /// On the way to the customer
    EnRoute { id: String },
    /// At the customer's, optionally with where
    Arrive {
        id: String,
        #[arg(requires = "lon", allow_negative_numbers = true)]
        lat: Option<f64>,
        #[arg(allow_negative_numbers = true)]
        lon: Option<f64>,
    },
    /// Work begins
    Start { id: String },
    /// Record the diagnosis
    Diagnose {
        id: String,
        code: String,
        /// hardware or software
        kind: String,
        findings: String,
        /// Parts planned, comma-separated SKUs
        #[arg(value_delimiter = ',')]
        parts: Vec<String>,
    },
    /// Decide warranty coverage
    Warranty {
        id: String,
        /// Proof of purchase was shown
        #[arg(long)]
        proof: bool,
        /// The fault comes from misuse
        #[arg(long)]
        misuse: bool,
    },
    /// Parts into the van
    Receive { sku: String, qty: i64 },
    /// A part from the van used on an order
    UsePart { id: String, sku: String, qty: i64 },
    /// A fee on an order
    Fee {
        id: String,
        /// labour, logistics or other
        kind: String,
        amount_minor: i64,
        description: String,
    },
    /// The customer's consent, signed
    Consent {
        id: String,
        /// paid_service, extra_parts, extra_work or fee_list
        kind: String,
        name: String,
        scope: String,
    },
    /// A note on the order
    Note { id: String, text: String },
    /// Attach a photo or document
    Attach {
        id: String,
        file: PathBuf,
        /// fault, serial_plate, proof_of_purchase, part, completed_work or other
        kind: String,
        caption: Vec<String>,
    },
    /// The order's photos, and whether this device holds each
    Photos { id: String },
    /// The photo's file here (fetched from the server if need be)
    FetchPhoto {
        id: String,
        photo: String,
        /// Write the photo's bytes to FILE (on an encrypted store the file
        /// the store keeps is sealed)
        #[arg(long, value_name = "FILE")]
        to: Option<PathBuf>,
    },
    /// Remove a photo from the order
    RemovePhoto { id: String, photo: String },
    /// Record the quality check
    Qc {
        id: String,
        #[arg(value_parser = ["pass", "fail"])]
        verdict: String,
    },
    /// Repaired, waiting for QC and sign-off
    Repaired { id: String },
    /// The customer signs off
    Sign { id: String, name: String },
    /// The customer's satisfaction
    Rate {
        id: String,
        /// satisfied, neutral or unsatisfied
        rating: String,
        score: Option<i64>,
    },
    /// Close the order
    Close { id: String },
    /// Changes the server refused, kept here
    Quarantine {
        #[command(subcommand)]
        action: Option<QuarantineAction>,
    },
}

#[derive(Debug, Subcommand)]
enum QuarantineAction {
    /// Write them for support (JSON, with the changes)
    Export { file: PathBuf },
    /// Discard entry N for good
    Discard { n: i64 },
}

#[derive(Debug, Serialize, Deserialize)]
struct DeviceFile {
    engineer: String,
    server: Option<String>,
    token: Option<String>,
    /// The server pinned this device's key at enrolment. A device enrolled
    /// by an older `fieldwork device` has none pinned: it keeps signing
    /// nothing until it enrols again, or the server would refuse its
    /// attested records.
    #[serde(default)]
    key_registered: bool,
}

impl DeviceFile {
    /// Whether what this device records is attested with its key.
    fn attests(&self) -> bool {
        self.token.is_none() || self.key_registered
    }
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

fn open(store: &Path, engineer: &str, attest: bool) -> Result<Arc<Fieldwork>, String> {
    let config = match keys::current(store)? {
        Some(key) => Config::new(engineer).with_key(key),
        None => Config::new(engineer),
    };
    let fw = Fieldwork::open(keys::db(store), config).map_err(|e| e.to_string())?;
    // The device command's device key: software, kept in the store.
    if attest {
        fw.use_software_device_key().map_err(|e| e.to_string())?;
    }
    Ok(Arc::new(fw))
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

pub fn run(args: DeviceArgs) -> Result<String, String> {
    let DeviceArgs {
        store,
        json: json_out,
        command,
    } = args;
    let out = |text: String, value: Value| if json_out { value.to_string() } else { text };
    if let DeviceCommand::Init {
        engineer,
        encrypted,
    } = &command
        && !file(&store).exists()
    {
        std::fs::create_dir_all(&store).map_err(|e| format!("{}: {e}", store.display()))?;
        if *encrypted {
            keys::encrypt(&store)?;
        }
        let fw = open(&store, engineer, true)?;
        write_file(
            &store,
            &DeviceFile {
                engineer: engineer.clone(),
                server: None,
                token: None,
                key_registered: false,
            },
        )?;
        let id = fw.device_id();
        return Ok(out(
            format!("device {id} for {engineer}"),
            json!({ "device_id": id, "engineer": engineer }),
        ));
    }
    let mut dev = read_file(&store)?;
    if let DeviceCommand::Encrypt = command {
        // Before the store is opened: it is rewritten beside itself.
        keys::encrypt(&store)?;
        return Ok(out("encrypted".into(), json!({ "ok": true })));
    }
    // Enrolling (again) registers the device key, so it signs from then on.
    let attest = dev.attests() || matches!(command, DeviceCommand::Enrol { .. });
    let fw = open(&store, &dev.engineer, attest)?;
    let e = |e: fieldwork_core::Error| e.to_string();
    let done = |what: &str| out(format!("{what}: done"), json!({ "ok": true }));
    Ok(match command {
        DeviceCommand::Init { .. } => {
            return Err(format!(
                "{} already holds {}'s device; give init a new --store folder",
                store.display(),
                dev.engineer
            ));
        }
        DeviceCommand::Encrypt => out("encrypted".into(), json!({ "ok": true })),
        DeviceCommand::Rekey => {
            keys::rekey(&store, &fw)?;
            done("rekey")
        }
        DeviceCommand::Enrol {
            server_url: url,
            code,
        } => {
            let token = enrol(&fw, &url, &code).map_err(|e| e.to_string())?.token;
            dev.server = Some(url.trim_end_matches('/').to_string());
            dev.token = Some(token);
            // Enrolling sent the device key (`open` gave it one): pinned now.
            dev.key_registered = true;
            write_file(&store, &dev)?;
            out(
                format!("enrolled with {url}"),
                json!({ "ok": true, "server": url }),
            )
        }
        DeviceCommand::Sync => {
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
        DeviceCommand::Status => {
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
        DeviceCommand::List { all } => {
            let filter = OrderFilter {
                open_only: !all,
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
        DeviceCommand::Report { id, pdf: None } => {
            let report = fw.service_report(&id).map_err(e)?;
            out(report.clone(), json!({ "report": report }))
        }
        DeviceCommand::Report {
            id,
            pdf: Some(target),
        } => {
            fw.use_report_font(&crate::report::font_file(&store)?)
                .map_err(e)?;
            let pdf = fw.service_report_pdf(&id).map_err(e)?;
            let shown = target.display().to_string();
            std::fs::write(&target, &pdf).map_err(|err| format!("{shown}: {err}"))?;
            out(
                format!("{shown}: {} bytes", pdf.len()),
                json!({ "path": shown, "bytes": pdf.len() }),
            )
        }
        DeviceCommand::Show { id } => {
            let v = fw.order(&id).map_err(e)?;
            let report = fw.service_report(&id).map_err(e)?;
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
        DeviceCommand::Accept { id } => fw.accept(&id).map(|()| done("accept")).map_err(e)?,
        DeviceCommand::EnRoute { id } => fw.en_route(&id).map(|()| done("en route")).map_err(e)?,
        DeviceCommand::Start { id } => fw.start_work(&id).map(|()| done("start")).map_err(e)?,
        DeviceCommand::Repaired { id } => fw
            .mark_repaired(&id)
            .map(|()| done("repaired"))
            .map_err(e)?,
        DeviceCommand::Close { id } => fw
            .transition(&id, Status::Closed, None)
            .map(|()| done("close"))
            .map_err(e)?,
        DeviceCommand::Arrive { id, lat, lon } => {
            let location = lat.zip(lon).map(|(lat, lon)| Location {
                lat,
                lon,
                accuracy_m: None,
            });
            fw.arrive(&id, location)
                .map(|()| done("arrive"))
                .map_err(e)?
        }
        DeviceCommand::Diagnose {
            id,
            code,
            kind,
            findings,
            parts,
        } => {
            let kind: FaultKind = parse("fault kind", &kind)?;
            fw.diagnose(
                &id,
                DiagnosisInput {
                    fault_code: code,
                    kind,
                    findings,
                    planned_parts: parts,
                    estimate_minor: 0,
                    misuse: false,
                },
            )
            .map(|()| done("diagnose"))
            .map_err(e)?
        }
        DeviceCommand::Warranty { id, proof, misuse } => {
            let w = fw.decide_warranty(&id, proof, misuse).map_err(e)?;
            out(
                w.reason.clone(),
                serde_json::to_value(&w).map_err(|e| e.to_string())?,
            )
        }
        DeviceCommand::Receive { sku, qty } => fw
            .receive_stock(&sku, qty)
            .map(|()| done("receive"))
            .map_err(e)?,
        DeviceCommand::UsePart { id, sku, qty } => {
            let line = fw.use_part(&id, &sku, qty, true).map_err(e)?;
            out(format!("part line {line}"), json!({ "line": line }))
        }
        DeviceCommand::Fee {
            id,
            kind,
            amount_minor,
            description,
        } => {
            let kind: FeeKind = parse("fee kind", &kind)?;
            let line = fw
                .add_fee(&id, kind, &description, amount_minor)
                .map_err(e)?;
            out(format!("fee line {line}"), json!({ "line": line }))
        }
        DeviceCommand::Consent {
            id,
            kind,
            name,
            scope,
        } => {
            let kind: ConsentKind = parse("consent kind", &kind)?;
            let input = ConsentInput {
                kind,
                accepted: true,
                signer_name: name,
                scope,
                parts: vec![],
                strokes: signature(),
            };
            let cid = fw.record_consent(&id, input).map_err(e)?;
            out(format!("consent {cid}"), json!({ "consent": cid }))
        }
        DeviceCommand::Note { id, text } => {
            fw.add_note(&id, &text).map(|()| done("note")).map_err(e)?
        }
        DeviceCommand::Attach {
            id,
            file,
            kind,
            caption,
        } => {
            let kind = PhotoKind::parse(&kind).ok_or_else(|| {
                "KIND is one of fault, serial_plate, proof_of_purchase, part, completed_work, other"
                    .to_string()
            })?;
            let caption = (!caption.is_empty()).then(|| caption.join(" "));
            let p = fw
                .attach_photo(&id, &file, kind, caption.as_deref())
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
        DeviceCommand::Photos { id } => {
            let o = fw.order(&id).map_err(e)?.order;
            let mut lines = Vec::new();
            let mut items = Vec::new();
            for p in &o.photos {
                let here = fw.photo_file(&id, &p.id).map_err(e)?.is_some();
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
        DeviceCommand::FetchPhoto { id, photo, to } => {
            let (Some(url), Some(token)) = (&dev.server, &dev.token) else {
                return Err("not enrolled: run `enrol` first".into());
            };
            let client = SyncClient::new(fw.clone(), url, token, Arc::new(NoListener))
                .map_err(|e| e.to_string())?;
            client.set_online(true);
            let path = client.fetch_photo(&id, &photo).map_err(|e| e.to_string())?;
            if let Some(to) = to {
                let bytes = fw
                    .photo_bytes(&id, &photo)
                    .map_err(e)?
                    .ok_or("the photo is not on this device")?;
                std::fs::write(&to, &bytes).map_err(|e| format!("{}: {e}", to.display()))?;
                return Ok(out(
                    format!("{} bytes written to {}", bytes.len(), to.display()),
                    json!({ "path": to.display().to_string(), "bytes": bytes.len() }),
                ));
            }
            out(
                path.display().to_string(),
                json!({ "path": path.display().to_string() }),
            )
        }
        DeviceCommand::RemovePhoto { id, photo } => fw
            .remove_photo(&id, &photo)
            .map(|()| done("remove photo"))
            .map_err(e)?,
        DeviceCommand::Qc { id, verdict } => {
            let ok = fw
                .record_qc(&id, qc_checklist(verdict == "pass"))
                .map_err(e)?;
            out(
                format!("QC {}", if ok { "passed" } else { "failed" }),
                json!({ "passed": ok }),
            )
        }
        DeviceCommand::Sign { id, name } => fw
            .capture_signature(&id, &name, signature())
            .map(|()| done("sign"))
            .map_err(e)?,
        DeviceCommand::Rate { id, rating, score } => {
            let rating: Rating = parse("rating", &rating)?;
            fw.rate(&id, rating, score, None)
                .map(|()| done("rate"))
                .map_err(e)?
        }
        DeviceCommand::Quarantine { action: None } => {
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
        DeviceCommand::Quarantine {
            action: Some(QuarantineAction::Export { file }),
        } => {
            let export = fw.export_quarantine().map_err(e)?;
            std::fs::write(&file, export).map_err(|err| format!("{}: {err}", file.display()))?;
            done("export")
        }
        DeviceCommand::Quarantine {
            action: Some(QuarantineAction::Discard { n }),
        } => fw
            .discard_quarantined(n)
            .map(|()| done("discard"))
            .map_err(e)?,
    })
}
