//! Photos: a 20 MB upload against a plain PUT of the same bytes to the same
//! server process, the bytes it takes to finish after a cut at half way, and
//! the device process's memory while it uploads (streamed, never whole).

use super::sync::rss_kb;
use super::{Res, Row, T0};
use fieldwork_core::model::PhotoKind;
use fieldwork_core::sync::client::{NoListener, SyncClient};
use fieldwork_core::{Config, Fieldwork, ManualClock};
use fieldwork_server::state::AppState;
use fieldwork_tests::harness::Desk;
use fieldwork_tests::jpeg;
use fieldwork_tests::proxy::{Fault, FaultyProxy};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SIZE: usize = 20_000_000;

/// The baseline: the body streamed to a file under the data folder and
/// fsynced, nothing else.
async fn plain_put(
    axum::extract::State(path): axum::extract::State<Arc<std::path::PathBuf>>,
    body: axum::body::Body,
) -> axum::http::StatusCode {
    use futures_util::StreamExt;
    let mut stream = body.into_data_stream();
    let Ok(mut f) = std::fs::File::create(path.as_ref()) else {
        return axum::http::StatusCode::INTERNAL_SERVER_ERROR;
    };
    while let Some(Ok(chunk)) = stream.next().await {
        if f.write_all(&chunk).is_err() {
            return axum::http::StatusCode::INTERNAL_SERVER_ERROR;
        }
    }
    match f.sync_all() {
        Ok(()) => axum::http::StatusCode::NO_CONTENT,
        Err(_) => axum::http::StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The server in this process, with `PUT /bench/plain` beside its routes.
fn serve(data: &Path) -> Res<(String, String)> {
    let state = Arc::new(AppState::open(data.to_path_buf()).map_err(|e| e.to_string())?);
    let token = fieldwork_tests::harness::provision(&state)?;
    let plain = axum::Router::new()
        .route("/bench/plain", axum::routing::put(plain_put))
        .layer(axum::extract::DefaultBodyLimit::disable())
        .with_state(Arc::new(data.join("plain.bin")));
    let app = plain.merge(fieldwork_server::routes::router(state));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Runtime::new() else {
            return;
        };
        rt.block_on(async move {
            let Ok(listener) = tokio::net::TcpListener::bind("127.0.0.1:0").await else {
                return;
            };
            let _ = tx.send(listener.local_addr().ok());
            let _ = axum::serve(listener, app).await;
        });
    });
    let addr = rx.recv()?.ok_or("no address")?;
    Ok((format!("http://{addr}"), token))
}

/// An enrolled phone in this process, its orders pulled: its store, its
/// client and its token.
type Phone = (Arc<Fieldwork>, Arc<SyncClient>, String);

fn phone(dir: &Path, url: &str, desk: &Desk, engineer: &str) -> Res<Phone> {
    std::fs::create_dir_all(dir)?;
    let fw = Arc::new(Fieldwork::open(
        dir.join("device.db"),
        Config {
            clock: ManualClock::new(T0),
            ..Config::new(engineer)
        },
    )?);
    let code = desk.ok(
        "POST",
        &format!("/api/engineers/{engineer}/enrolment-codes"),
        None,
    )?;
    let code = code["code"].as_str().ok_or("no code")?;
    let e = fieldwork_core::sync::client::enrol(&fw, url, code)?;
    let client = SyncClient::new(fw.clone(), url, &e.token, Arc::new(NoListener))?;
    client.set_online(true);
    client.sync_now()?;
    Ok((fw, client, e.token))
}

/// Peak resident memory (VmHWM) of one `fieldwork device … sync`, in kB.
fn device_sync_hwm(exe: &Path, store: &Path) -> Res<f64> {
    let mut child = Command::new(exe)
        .args(["device", "--store"])
        .arg(store)
        .arg("sync")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let mut hwm: f64 = 0.0;
    loop {
        hwm = hwm.max(rss_kb(child.id(), "VmHWM:"));
        if let Some(status) = child.try_wait()? {
            if !status.success() {
                return Err("the device's sync failed".into());
            }
            return Ok(hwm);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

pub fn rows(dir: &Path, exe: &Path) -> Res<Vec<Row>> {
    let data = dir.join("blob-server");
    let (url, token) = serve(&data)?;
    let desk = Desk::new(&url, &token)?;
    let http = fieldwork_core::sync::client::http_client_builder()?
        .timeout(Duration::from_secs(300))
        .build()?;

    // 1. Upload against a plain PUT, three times each, best of each.
    let mut upload = Vec::new();
    let mut plain = Vec::new();
    for round in 0..3u64 {
        let id = desk.dispatch(100 + round as u32, "eng-a")?;
        let (fw, client, _) = phone(&dir.join(format!("up-{round}")), &url, &desk, "eng-a")?;
        let bytes = jpeg(SIZE, 1 + round);
        let file = dir.join(format!("photo-{round}.jpg"));
        std::fs::write(&file, &bytes)?;
        fw.attach_photo(&id, &file, PhotoKind::CompletedWork, None)?;
        // The order's change first; then the photo alone is timed.
        client.set_send_photos(false);
        client.sync_now()?;
        client.set_send_photos(true);
        let started = Instant::now();
        let s = client.send_photos()?;
        upload.push(started.elapsed());
        if s.blobs_uploaded != 1 {
            return Err("the photo was not uploaded".into());
        }
        let started = Instant::now();
        let r = http.put(format!("{url}/bench/plain")).body(bytes).send()?;
        plain.push(started.elapsed());
        if !r.status().is_success() {
            return Err(format!("plain PUT: {}", r.status()).into());
        }
    }
    let best = |v: &[Duration]| v.iter().min().map(Duration::as_secs_f64).unwrap_or(0.0) * 1e3;

    // 2. Cut at half way, then finish.
    let id = desk.dispatch(200, "eng-b")?;
    let proxy = FaultyProxy::start(&url, 3, 0, 0)?;
    let (fw, direct, token) = phone(&dir.join("cut"), &url, &desk, "eng-b")?;
    let file = dir.join("cut.jpg");
    std::fs::write(&file, jpeg(SIZE, 77))?;
    fw.attach_photo(&id, &file, PhotoKind::Fault, None)?;
    let via_proxy = SyncClient::new(fw.clone(), &proxy.url, &token, Arc::new(NoListener))?;
    via_proxy.set_online(true);
    // The sync round, the status, then chunks: the one that crosses half
    // way is cut.
    let chunk = fieldwork_core::sync::blobs::UPLOAD_CHUNK;
    let before_cut = SIZE / 2 / chunk;
    for _ in 0..(2 + before_cut) {
        proxy.inject_next(Fault::Delay);
    }
    proxy.inject_next(Fault::CutRequest);
    if via_proxy.sync_now().is_ok() {
        return Err("the cut did not happen".into());
    }
    let finish = direct.sync_now()?;
    let resume_ratio = finish.blob_bytes_up as f64 / SIZE as f64;

    // 3. The device process's memory: a sync with nothing to send, then
    // one sending a 20 MB photo.
    let store = dir.join("rss-phone");
    let run = |args: &[&str]| -> Res<()> {
        let out = Command::new(exe)
            .args(["device", "--store"])
            .arg(&store)
            .args(args)
            .output()?;
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned().into())
        }
    };
    let id = desk.dispatch(300, "eng-a")?;
    run(&["init", "eng-a"])?;
    let code = desk.ok("POST", "/api/engineers/eng-a/enrolment-codes", None)?;
    run(&["enrol", &url, code["code"].as_str().ok_or("no code")?])?;
    run(&["sync"])?;
    let idle = device_sync_hwm(exe, &store)?;
    let file = dir.join("rss.jpg");
    std::fs::write(&file, jpeg(SIZE, 99))?;
    run(&[
        "attach",
        &id,
        file.to_str().ok_or("path")?,
        "completed_work",
    ])?;
    let uploading = device_sync_hwm(exe, &store)?;

    Ok(vec![
        Row {
            name: "blob.upload_20mb_vs_plain_put",
            value: best(&upload),
            unit: "ms",
            baseline: Some(best(&plain)),
            what: "a 20 MB photo sent by the sync client (`send_photos`: status, then 1 MiB chunks each written and hashed as it arrives; at the end the SHA-256 and kind checked, fsynced, renamed) vs one plain HTTP PUT of the same bytes to the same server process, written and fsynced; loopback, best of 3 (aim 1.3)",
        },
        Row {
            name: "blob.resume_bytes_ratio",
            value: resume_ratio,
            unit: "of the blob",
            baseline: None,
            what: "bytes sent to finish a 20 MB upload whose connection was cut in the chunk that crosses half way, over the blob's size (aim 0.55)",
        },
        Row {
            name: "blob.device_rss_20mb_mb",
            value: (uploading - idle).max(0.0) / 1024.0,
            unit: "MB",
            baseline: Some(idle / 1024.0),
            what: "peak memory of the device process (`fieldwork device sync`) sending a 20 MB photo, above the same sync with nothing to send, whose peak is the baseline (aim under 8 MB)",
        },
    ])
}
