//! A real server on loopback and the people around it, for end-to-end tests:
//! the desk (dispatcher API over HTTP) and engineers' devices (a core store
//! each, enrolled over HTTP, syncing with the core's client).

use fieldwork_core::sync::client::{SyncClient, SyncEvent, SyncListener, SyncSummary};
use fieldwork_core::{Config, Fieldwork, ManualClock};
use fieldwork_server::auth::Role;
use fieldwork_server::routes::serve;
use fieldwork_server::state::AppState;
use serde_json::Value;
use std::path::Path;
use std::sync::{Arc, Mutex};

pub type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

pub const TENANT: &str = "acme";

/// A server on `b` whose catalog holds the relay the scripted visit uses,
/// and a folder for the phones.
pub fn with_relay(b: &crate::backend::Backend) -> Res<(tempfile::TempDir, Server, Desk)> {
    let dir = tempfile::tempdir()?;
    let (server, desk) = Server::start_on(b)?;
    desk.ok(
        "POST",
        "/api/catalog",
        Some(serde_json::to_value(crate::relay())?),
    )?;
    Ok((dir, server, desk))
}

/// `fieldwork serve` in this process: real HTTP on 127.0.0.1, embedded storage.
#[derive(Debug)]
pub struct Server {
    pub url: String,
    pub state: Arc<AppState>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Start on a free port with tenant `acme`, engineers `eng-a` and
    /// `eng-b`, and a dispatcher `desk`.
    pub fn start(data: &Path) -> Res<(Server, Desk)> {
        let state = Arc::new(AppState::open(data.to_path_buf()).map_err(|e| e.to_string())?);
        Self::start_with(state)
    }

    /// The same on a conformance test's storage.
    pub fn start_on(backend: &crate::backend::Backend) -> Res<(Server, Desk)> {
        let state =
            Arc::new(AppState::open_storage(backend.storage()?).map_err(|e| e.to_string())?);
        Self::start_with(state)
    }

    /// The same, reached as `reached` says (HTTPS behind a proxy…).
    pub fn start_reached(
        backend: &crate::backend::Backend,
        reached: fieldwork_server::https::Reached,
    ) -> Res<(Server, Desk)> {
        let mut state = AppState::open_storage(backend.storage()?).map_err(|e| e.to_string())?;
        state.reached = Arc::new(reached);
        Self::start_with(Arc::new(state))
    }

    fn start_with(state: Arc<AppState>) -> Res<(Server, Desk)> {
        let token = provision(&state)?;
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let st = state.clone();
        let thread = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Runtime::new() else {
                return;
            };
            rt.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::bind("127.0.0.1:0").await else {
                    return;
                };
                let _ = addr_tx.send(listener.local_addr().ok());
                let _ = serve(listener, st, async {
                    let _ = stop_rx.await;
                })
                .await;
            });
        });
        let addr = addr_rx.recv()?.ok_or("no address")?;
        let url = format!("http://{addr}");
        let desk = Desk::new(&url, &token)?;
        Ok((
            Server {
                url,
                state,
                stop: Some(stop_tx),
                thread: Some(thread),
            },
            desk,
        ))
    }
}

/// Tenant `acme` with engineers `eng-a` and `eng-b` and a dispatcher
/// `desk`; returns the dispatcher's token.
pub fn provision(state: &AppState) -> Res<String> {
    let d = &state.directory;
    d.add_tenant(TENANT, "ACME Service")?;
    d.add_person(TENANT, "eng-a", "Zhang Wei", Role::Engineer)?;
    d.add_person(TENANT, "eng-b", "Li Na", Role::Engineer)?;
    d.add_person(TENANT, "desk", "Desk", Role::Dispatcher)?;
    Ok(d.issue_dispatcher_token(TENANT, "desk")?)
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The dispatcher, over the JSON API.
#[derive(Debug)]
pub struct Desk {
    url: String,
    token: String,
    http: reqwest::blocking::Client,
}

impl Desk {
    pub fn new(url: &str, token: &str) -> Res<Desk> {
        Ok(Desk {
            url: url.into(),
            token: token.into(),
            http: fieldwork_core::sync::client::http_client()?,
        })
    }

    /// A request with the desk's token; returns the status and the JSON body (or null).
    /// The dispatcher's bearer token.
    pub fn token(&self) -> &str {
        &self.token
    }

    pub fn call(&self, method: &str, path: &str, body: Option<Value>) -> Res<(u16, Value)> {
        let m = reqwest::Method::from_bytes(method.as_bytes())?;
        let mut req = self
            .http
            .request(m, format!("{}{path}", self.url))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(serde_json::to_vec(&b)?);
        }
        let resp = req.send()?;
        let status = resp.status().as_u16();
        let bytes = resp.bytes()?;
        let json = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        };
        Ok((status, json))
    }

    /// Take in the scripted intake `n` and assign it; returns the order id.
    pub fn dispatch(&self, n: u32, engineer: &str) -> Res<String> {
        let v = self.ok(
            "POST",
            "/api/orders",
            Some(serde_json::to_value(crate::intake(n))?),
        )?;
        let id = v["id"].as_str().ok_or("no id")?.to_string();
        self.ok(
            "POST",
            &format!("/api/orders/{id}/assign"),
            Some(serde_json::json!({ "engineer": engineer })),
        )?;
        Ok(id)
    }

    /// The texts of an order's repair notes, in the order the server holds them.
    pub fn notes(&self, id: &str) -> Res<Vec<String>> {
        let v = self.ok("GET", &format!("/api/orders/{id}"), None)?;
        let notes = v["order"]["repair_notes"]
            .as_array()
            .ok_or("no repair_notes")?
            .iter()
            .map(|n| n["text"].as_str().unwrap_or_default().to_string())
            .collect();
        Ok(notes)
    }

    /// One photo of an order as the API serves it: status and bytes.
    pub fn photo(&self, order: &str, photo: &str) -> Res<(u16, Vec<u8>)> {
        self.bytes(&format!("/api/orders/{order}/photos/{photo}"))
    }

    /// A one-time code `engineer`'s phone enrols with.
    pub fn enrolment_code(&self, engineer: &str) -> Res<String> {
        let v = self.ok(
            "POST",
            &format!("/api/engineers/{engineer}/enrolment-codes"),
            None,
        )?;
        Ok(v["code"].as_str().ok_or("no code")?.to_string())
    }

    /// GET `path` with the desk's token: status and the body's bytes.
    pub fn bytes(&self, path: &str) -> Res<(u16, Vec<u8>)> {
        let r = self
            .http
            .get(format!("{}{path}", self.url))
            .bearer_auth(&self.token)
            .send()?;
        Ok((r.status().as_u16(), r.bytes()?.to_vec()))
    }

    /// Call and insist on a 2xx answer.
    pub fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Res<Value> {
        let (status, json) = self.call(method, path, body)?;
        if !(200..300).contains(&status) {
            return Err(format!("{method} {path}: {status} {json}").into());
        }
        Ok(json)
    }
}

/// Collects what a sync client tells its app.
#[derive(Debug, Default)]
pub struct Recorder(pub Mutex<Vec<SyncEvent>>);

impl SyncListener for Recorder {
    fn on_event(&self, event: SyncEvent) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(event);
    }
}

impl Recorder {
    pub fn events(&self) -> Vec<SyncEvent> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// An engineer's phone: its own store, enrolled, with a sync client.
#[derive(Debug)]
pub struct Device {
    pub fw: Arc<Fieldwork>,
    pub sync: Arc<SyncClient>,
    pub events: Arc<Recorder>,
    pub clock: Arc<ManualClock>,
    pub token: String,
}

impl Device {
    /// A new device for `engineer`, enrolled with a code from the desk, online.
    pub fn enrol(
        server: &Server,
        desk: &Desk,
        engineer: &str,
        dir: &Path,
        now_ms: i64,
    ) -> Res<Device> {
        Device::enrol_at(&server.url, desk, engineer, dir, now_ms)
    }

    /// The same against a server at `url`.
    pub fn enrol_at(
        url: &str,
        desk: &Desk,
        engineer: &str,
        dir: &Path,
        now_ms: i64,
    ) -> Res<Device> {
        let code = desk.enrolment_code(engineer)?;
        Device::enrol_with_code(url, engineer, &code, dir, now_ms)
    }

    /// A phone for `engineer` with a device key (`signer`), enrolled by the
    /// core's own client, which registers the key with the server.
    pub fn enrol_signed(
        server: &Server,
        desk: &Desk,
        engineer: &str,
        dir: &Path,
        now_ms: i64,
        signer: Arc<dyn fieldwork_core::attest::DeviceSigner>,
    ) -> Res<Device> {
        let code = desk.enrolment_code(engineer)?;
        let (fw, clock) = Device::store(engineer, dir, now_ms)?;
        fw.use_device_signer(signer);
        let token = fieldwork_core::sync::client::enrol(&fw, &server.url, &code)?.token;
        Device::online(fw, clock, &server.url, token)
    }

    /// A phone for `engineer` enrolled with a one-time `code` the desk gave.
    pub fn enrol_with_code(
        url: &str,
        engineer: &str,
        code: &str,
        dir: &Path,
        now_ms: i64,
    ) -> Res<Device> {
        let (fw, clock) = Device::store(engineer, dir, now_ms)?;
        let http = fieldwork_core::sync::client::http_client()?;
        let resp = http
            .post(format!("{url}/v1/enrol"))
            .header("content-type", "application/json")
            .body(serde_json::to_vec(
                &serde_json::json!({ "code": code, "device_id": fw.device_id() }),
            )?)
            .send()?;
        let v: Value = serde_json::from_slice(&resp.bytes()?)?;
        let token = v["token"]
            .as_str()
            .ok_or_else(|| format!("enrolment refused: {v}"))?
            .to_string();
        Device::online(fw, clock, url, token)
    }

    /// The phone's store in `dir`, on a manual clock at `now_ms`.
    pub fn store(
        engineer: &str,
        dir: &Path,
        now_ms: i64,
    ) -> Res<(Arc<Fieldwork>, Arc<ManualClock>)> {
        let clock = ManualClock::new(now_ms);
        let fw = Arc::new(Fieldwork::open(
            dir.join("device.db"),
            Config {
                clock: clock.clone(),
                ..Config::new(engineer)
            },
        )?);
        Ok((fw, clock))
    }

    /// The phone with its token, syncing with the server at `url`, online.
    pub fn online(
        fw: Arc<Fieldwork>,
        clock: Arc<ManualClock>,
        url: &str,
        token: String,
    ) -> Res<Device> {
        let events = Arc::new(Recorder::default());
        let sync = SyncClient::new(fw.clone(), url, &token, events.clone())?;
        sync.set_online(true);
        Ok(Device {
            fw,
            sync,
            events,
            clock,
            token,
        })
    }

    /// The same phone pointed at a server at another address.
    pub fn reconnect(&mut self, url: &str) -> Res<()> {
        self.sync = SyncClient::new(self.fw.clone(), url, &self.token, self.events.clone())?;
        self.sync.set_online(true);
        Ok(())
    }

    /// Sync up to `tries` times, until no photo waits to be sent (a
    /// network error worth retrying is retried); the photos' part of every
    /// sync, added up.
    pub fn sync_until_photos_sent(&self, tries: usize) -> Res<SyncSummary> {
        let mut total = SyncSummary::default();
        for _ in 0..tries {
            match self.sync.sync_now() {
                Ok(s) => {
                    total.blobs_uploaded += s.blobs_uploaded;
                    total.blob_bytes_up += s.blob_bytes_up;
                    if self.fw.blobs_waiting()?.count == 0 {
                        return Ok(total);
                    }
                }
                Err(e) if e.is_retryable() => {}
                Err(e) => return Err(e.into()),
            }
        }
        Err(format!("photos still waiting after {tries} syncs").into())
    }
}
