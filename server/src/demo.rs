//! `fieldwork demo`: a service center's day on one machine. A server on
//! loopback with embedded storage, a tenant with a dispatcher and three
//! engineers, a day of orders, and three simulated phones that go offline,
//! work their visits (a photo of each unit's nameplate among them) and come
//! back. It prints what the dispatcher sees as
//! the phones sync, then keeps serving until interrupted (or `--for SECONDS`).
//! It prints a sign-in for the dispatcher board, where the day shows live.

use crate::auth::Role;
use crate::routes::serve;
use crate::state::AppState;
use fieldwork_core::model::PhotoKind;
use fieldwork_core::scenario::{intake, play_visit, relay};
use fieldwork_core::sync::client::{NoListener, SyncClient, http_client};
use fieldwork_core::{Config, Fieldwork, OrderFilter, Policy, SettingsInput};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

const TENANT: &str = "demo";
const ENGINEERS: [(&str, &str); 3] = [
    ("eng-zhang", "Zhang Wei"),
    ("eng-li", "Li Na"),
    ("eng-chen", "Chen Jie"),
];
const ORDERS_EACH: u32 = 3;
/// The photo each engineer takes of a unit's nameplate (a small PNG).
const NAMEPLATE: &[u8] = include_bytes!("../assets/demo-nameplate.png");

type Res<T> = Result<T, String>;

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// A folder removed when dropped (`None`: the user's, kept).
struct Scratch {
    path: Option<PathBuf>,
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Some(p) = &self.path {
            let _ = std::fs::remove_dir_all(p);
        }
    }
}

/// Run the demo; `data` defaults to a fresh folder under the temp dir.
pub fn run(data: Option<PathBuf>, listen: &str, run_for: Option<Duration>) -> Res<()> {
    let temporary = data.is_none();
    let data = data.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("fieldwork-demo-{}", std::process::id()))
    });
    if data.join("server.db").exists() {
        return Err(format!(
            "{} already holds a server; give the demo an empty --data folder",
            data.display()
        ));
    }
    // Whatever happens, a temporary folder goes when the demo does (declared
    // first, so it is dropped last, after the runtime and the state).
    let _scratch = Scratch {
        path: temporary.then(|| data.clone()),
    };
    // The address first: a taken port fails before anything is written.
    let rt = tokio::runtime::Runtime::new().map_err(err)?;
    let listener = rt
        .block_on(tokio::net::TcpListener::bind(listen))
        .map_err(|e| crate::routes::listen_error("--listen", listen, &e))?;
    let state = Arc::new(AppState::open(data.clone()).map_err(|e| e.to_string())?);
    let dir = &state.directory;
    dir.add_tenant(TENANT, "Demo Service Center").map_err(err)?;
    for (id, name) in ENGINEERS {
        dir.add_person(TENANT, id, name, Role::Engineer)
            .map_err(err)?;
    }
    dir.add_person(TENANT, "desk", "Service Desk", Role::Dispatcher)
        .map_err(err)?;
    let desk_token = dir.issue_dispatcher_token(TENANT, "desk").map_err(err)?;
    // A fresh board password each run; the desk is also the supervisor here,
    // so the statistics open too.
    let board_password: String = rand::random::<[u8; 8]>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    dir.set_password(TENANT, "desk", &board_password, true)
        .map_err(err)?;

    let url = format!("http://{}", listener.local_addr().map_err(err)?);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = rt.spawn(serve(listener, state.clone(), async {
        let _ = stop_rx.await;
    }));
    println!(
        "fieldwork demo: serving on {url}  (data in {})",
        data.display()
    );
    println!("dispatcher token: {desk_token}");
    println!(
        "dispatcher board: {url}/board  (service center {TENANT}, user desk, password {board_password})"
    );

    // The service center is in Shanghai and works in Chinese; the board
    // follows each browser's language.
    let tenant = state.tenant(TENANT).map_err(|e| e.to_string())?;
    tenant
        .desk()
        .change_settings(&SettingsInput {
            language: "zh-CN".into(),
            policy: Policy {
                time_zone: "Asia/Shanghai".into(),
                center_name: "上海浦东售后服务中心".into(),
                ..Policy::default()
            },
        })
        .map_err(err)?;
    // The desk's morning: catalog and a day of orders.
    tenant.desk().upsert_catalog_part(relay()).map_err(err)?;
    let mut n = 0;
    for (engineer, _) in ENGINEERS {
        for _ in 0..ORDERS_EACH {
            let id = tenant.desk().create_order(intake(n)).map_err(err)?;
            tenant.desk().assign(&id, engineer).map_err(err)?;
            n += 1;
        }
    }
    board(&tenant, "08:00 the desk has dispatched the day's orders")?;

    // Three phones: enrol, prime, go offline, work, come back one by one.
    let phones: Vec<_> = ENGINEERS
        .iter()
        .map(|(engineer, _)| phone(&state, &url, &data, engineer))
        .collect::<Res<_>>()?;
    for (fw, sync) in &phones {
        sync.sync_now().map_err(err)?;
        fw.receive_stock("RLY", i64::from(ORDERS_EACH))
            .map_err(err)?;
        sync.set_online(false);
    }
    println!("\nthe engineers are on site, offline…");
    let nameplate = data.join("nameplate.png");
    std::fs::write(&nameplate, NAMEPLATE).map_err(err)?;
    let workers: Vec<_> = phones
        .iter()
        .map(|(fw, _)| {
            let fw = fw.clone();
            let nameplate = nameplate.clone();
            std::thread::spawn(move || -> Res<usize> {
                let rows = fw
                    .list_orders(&OrderFilter {
                        open_only: true,
                        ..OrderFilter::default()
                    })
                    .map_err(err)?;
                for r in &rows {
                    // A photo of the nameplate first; it is listed on the
                    // report the customer signs, and sent when back online.
                    fw.attach_photo(&r.id, &nameplate, PhotoKind::SerialPlate, Some("nameplate"))
                        .map_err(err)?;
                    play_visit(&fw, &r.id, &|_| ()).map_err(err)?;
                }
                Ok(rows.len())
            })
        })
        .collect();
    for w in workers {
        w.join().map_err(|_| "a phone stopped".to_string())??;
    }
    for ((engineer, _), (_, sync)) in ENGINEERS.iter().zip(&phones) {
        sync.set_online(true);
        let s = sync.sync_now().map_err(err)?;
        board(
            &tenant,
            &format!(
                "{engineer} is back online: pushed {} changes in {} round trip(s), {} bytes up, {} photo(s) sent",
                s.pushed_changes,
                s.round_trips,
                s.bytes_up + s.blob_bytes_up,
                s.blobs_uploaded
            ),
        )?;
    }
    // A follow-up call from the desk, over the API like the board would.
    let first = tenant.list_orders(&OrderFilter::default()).map_err(err)?;
    if let Some(row) = first.first() {
        let resp = http_client()
            .map_err(err)?
            .post(format!("{url}/api/orders/{}/follow-ups", row.id))
            .bearer_auth(&desk_token)
            .header("content-type", "application/json")
            .body(r#"{"reached":true,"rating":"satisfied","aspect":null,"comment":"thanks"}"#)
            .send()
            .map_err(|e| e.without_url().to_string())?;
        println!(
            "\nthe desk records a follow-up call on {}: HTTP {}",
            row.id,
            resp.status().as_u16()
        );
    }
    println!("\nthe server keeps serving on {url} (Ctrl-C to stop)");
    rt.block_on(async {
        match run_for {
            Some(d) => tokio::time::sleep(d).await,
            None => {
                crate::routes::stop_signal().await;
            }
        }
    });
    for (_, sync) in &phones {
        sync.stop();
    }
    let _ = stop_tx.send(());
    let _ = rt.block_on(server);
    drop(phones);
    drop(tenant);
    drop(state);
    println!("fieldwork demo: stopped");
    Ok(())
}

fn phone(
    state: &AppState,
    url: &str,
    data: &std::path::Path,
    engineer: &str,
) -> Res<(Arc<Fieldwork>, Arc<SyncClient>)> {
    let folder = data.join("phones").join(engineer);
    std::fs::create_dir_all(&folder).map_err(err)?;
    let fw =
        Arc::new(Fieldwork::open(folder.join("device.db"), Config::new(engineer)).map_err(err)?);
    let code = state
        .directory
        .issue_enrolment_code(TENANT, engineer)
        .map_err(err)?;
    let resp = http_client()
        .map_err(err)?
        .post(format!("{url}/v1/enrol"))
        .header("content-type", "application/json")
        .body(serde_json::json!({ "code": code, "device_id": fw.device_id() }).to_string())
        .send()
        .map_err(|e| e.without_url().to_string())?;
    let v: serde_json::Value = serde_json::from_slice(&resp.bytes().map_err(err)?).map_err(err)?;
    let token = v["token"].as_str().ok_or("enrolment refused")?;
    let sync = SyncClient::new(fw.clone(), url, token, Arc::new(NoListener)).map_err(err)?;
    sync.set_online(true);
    Ok((fw, sync))
}

/// What the dispatcher's board would show now.
fn board(tenant: &Fieldwork, headline: &str) -> Res<()> {
    println!("\n== {headline}");
    let rows = tenant
        .list_orders(&OrderFilter {
            limit: 100,
            ..OrderFilter::default()
        })
        .map_err(err)?;
    for r in rows {
        let v = tenant.order(&r.id).map_err(err)?;
        println!(
            "  {}  {:<11} {:<6} {:<14} signature {:<8} next clock {}",
            &r.id[..11.min(r.id.len())],
            r.assignee.as_deref().unwrap_or("-"),
            if r.urgent { "URGENT" } else { "" },
            r.status.as_str(),
            format!("{:?}", v.signature).to_lowercase(),
            r.next_due_clock.as_deref().unwrap_or("none"),
        );
    }
    Ok(())
}
