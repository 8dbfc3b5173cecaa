//! The `fieldwork` command: `serve` the sync endpoint and dispatcher API, and
//! `admin` the directory of tenants, people and tokens from a terminal.

use crate::auth::Role;
use crate::routes::serve;
use crate::state::AppState;
use crate::storage::{Embedded, Postgres, Storage};
use fieldwork_core::rules::roles::DeskRole;
use fieldwork_core::{Language, Policy, SettingsInput};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

const USAGE: &str = "usage:
  fieldwork serve --data DIR [--listen ADDR]        (default 127.0.0.1:8080; port 0 picks one)
        [--log-format text|json]   (one line per request on stderr; level from RUST_LOG, default info)
        [--metrics-listen ADDR]    (Prometheus /metrics there only; default: on the main address)
        [--public-url https://…] [--trusted-proxy IP,…]   (board cookies get Secure when reached over HTTPS)
  fieldwork serve --database postgres://USER@HOST/DB [--listen ADDR]   (several processes may share one database)
  fieldwork demo [--data DIR] [--listen ADDR] [--for SECONDS]   a day of a service center, live
  fieldwork admin --data DIR tenant ID NAME [--time-zone ZONE] [--language zh-CN|en]
        [--currency CODE] [--calling-hours 09:00-12:00,14:00-20:00] [--center-name NAME]   (admin takes --database instead of --data too)
  fieldwork admin --data DIR engineer TENANT ID NAME
  fieldwork admin --data DIR dispatcher TENANT ID NAME   (prints the dispatcher's token)
  fieldwork admin --data DIR enrol-code TENANT ENGINEER  (prints a one-time device enrolment code)
  fieldwork admin --data DIR password TENANT DISPATCHER [--supervisor]   (board sign-in; reads the password from stdin)
  fieldwork admin --data DIR revoke TENANT DEVICE_ID
  fieldwork admin --data DIR collect-blobs [--grace-hours N]   (photos nothing refers to; `serve` does it hourly after 168 h)
  fieldwork device --store DIR [--json] COMMAND …      (a headless device: `fieldwork device` for its commands)";

/// Run the `fieldwork` command with `args` (without the program name).
pub fn main_with(args: &[String]) -> ExitCode {
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fieldwork: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The server's state on `--data DIR` (embedded SQLite) or `--database URL`
/// (PostgreSQL); exactly one of them.
fn open_state(data: Option<PathBuf>, database: Option<String>) -> Result<AppState, String> {
    let storage: Arc<dyn Storage> = match (data, database) {
        (Some(dir), None) => Arc::new(Embedded::new(dir).map_err(|e| e.to_string())?),
        (None, Some(url)) => Arc::new(Postgres::new(&url).map_err(|e| e.to_string())?),
        (Some(_), Some(_)) => return Err("give --data or --database, not both".into()),
        (None, None) => return Err(USAGE.into()),
    };
    AppState::open_storage(storage).map_err(|e| e.to_string())
}

/// The settings `admin tenant` was given, checked before anything is
/// written; `None` when no settings option was given.
fn tenant_settings(args: &mut Vec<String>) -> Result<Option<SettingsInput>, String> {
    let zone = option(args, "--time-zone");
    let language = option(args, "--language");
    let currency = option(args, "--currency");
    let calling = option(args, "--calling-hours");
    let name = option(args, "--center-name");
    if zone.is_none()
        && language.is_none()
        && currency.is_none()
        && calling.is_none()
        && name.is_none()
    {
        return Ok(None);
    }
    let mut policy = Policy::default();
    if let Some(z) = zone {
        policy.time_zone = z;
    }
    if let Some(c) = currency {
        policy.currency = c;
    }
    if let Some(c) = calling {
        policy.calling_hours = c;
    }
    if let Some(n) = name {
        policy.center_name = n;
    }
    let input = SettingsInput {
        language: language.unwrap_or_else(|| "en".into()),
        policy,
    };
    if Language::parse_setting(&input.language).is_none() {
        return Err(format!(
            "--language {}: must be zh-CN or en",
            input.language
        ));
    }
    input
        .policy
        .check()
        .map_err(|e| format!("{e} (see --time-zone, --currency, --calling-hours)"))?;
    Ok(Some(input))
}

/// Take `--name VALUE` out of `args`.
fn option(args: &mut Vec<String>, name: &str) -> Option<String> {
    let i = args.iter().position(|a| a == name)?;
    if i + 1 >= args.len() {
        return None;
    }
    let v = args.remove(i + 1);
    args.remove(i);
    Some(v)
}

fn run(args: &[String]) -> Result<(), String> {
    let mut args = args.to_vec();
    let Some(cmd) = (!args.is_empty()).then(|| args.remove(0)) else {
        return Err(USAGE.into());
    };
    let data = option(&mut args, "--data").map(PathBuf::from);
    let database = option(&mut args, "--database");
    match cmd.as_str() {
        "serve" => {
            let listen = option(&mut args, "--listen").unwrap_or_else(|| "127.0.0.1:8080".into());
            let format = option(&mut args, "--log-format").unwrap_or_else(|| "text".into());
            crate::logs::init(crate::logs::LogFormat::parse(&format)?, "info");
            let metrics_listen = option(&mut args, "--metrics-listen");
            let reached = crate::https::Reached::new(
                option(&mut args, "--public-url").as_deref(),
                option(&mut args, "--trusted-proxy").as_deref(),
            )?;
            let mut state = open_state(data, database)?;
            state.reached = Arc::new(reached);
            state.metrics_here = metrics_listen.is_none();
            let state = Arc::new(state);
            let rt = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind(&listen)
                    .await
                    .map_err(|e| format!("listen on {listen}: {e}"))?;
                if let Some(addr) = metrics_listen {
                    let metrics = tokio::net::TcpListener::bind(&addr)
                        .await
                        .map_err(|e| format!("--metrics-listen {addr}: {e}"))?;
                    let at = metrics.local_addr().map_err(|e| e.to_string())?;
                    eprintln!("fieldwork: metrics on http://{at}/metrics");
                    tokio::spawn(async move {
                        let _ = axum::serve(metrics, crate::metrics::routes::<()>()).await;
                    });
                }
                let addr = listener.local_addr().map_err(|e| e.to_string())?;
                println!("fieldwork: serving on http://{addr}");
                eprintln!("fieldwork: storage {}", state.storage_kind());
                serve(listener, state, crate::routes::stop_signal())
                    .await
                    .map_err(|e| e.to_string())
            })
        }
        "admin" => {
            let settings = tenant_settings(&mut args)?;
            let grace_hours = option(&mut args, "--grace-hours");
            let state = open_state(data, database)?;
            let d = &state.directory;
            let a: Vec<&str> = args.iter().map(String::as_str).collect();
            let err = |e: crate::auth::AuthError| e.to_string();
            match a.as_slice() {
                ["tenant", id, name] => {
                    d.add_tenant(id, name).map_err(err)?;
                    if let Some(input) = settings {
                        let store = state.tenant(id).map_err(|e| e.message)?;
                        // Recorded as the administrator's, with the time.
                        let v = store
                            .as_desk("admin", DeskRole::Supervisor)
                            .change_settings(&input)
                            .map_err(|e| e.to_string())?;
                        println!("settings version {v}");
                    }
                    Ok(())
                }
                ["engineer", tenant, id, name] => {
                    d.add_person(tenant, id, name, Role::Engineer).map_err(err)
                }
                ["dispatcher", tenant, id, name] => {
                    d.add_person(tenant, id, name, Role::Dispatcher)
                        .map_err(err)?;
                    println!("{}", d.issue_dispatcher_token(tenant, id).map_err(err)?);
                    Ok(())
                }
                ["enrol-code", tenant, engineer] => {
                    println!("{}", d.issue_enrolment_code(tenant, engineer).map_err(err)?);
                    Ok(())
                }
                ["password", tenant, person, flags @ ..] => {
                    let supervisor = match flags {
                        [] => false,
                        ["--supervisor"] => true,
                        _ => return Err(USAGE.into()),
                    };
                    // From stdin, so it is never in the shell's history or `ps`.
                    let mut password = String::new();
                    std::io::stdin()
                        .read_line(&mut password)
                        .map_err(|e| format!("reading the password from stdin: {e}"))?;
                    let password = password.trim_end_matches(['\r', '\n']);
                    d.set_password(tenant, person, password, supervisor)
                        .map_err(err)?;
                    println!("{person} can sign in to the board");
                    Ok(())
                }
                ["collect-blobs"] => {
                    let grace = match grace_hours {
                        Some(h) => std::time::Duration::from_secs(
                            h.parse::<u64>()
                                .map_err(|_| "--grace-hours takes a whole number of hours")?
                                .saturating_mul(3600),
                        ),
                        None => crate::state::BLOB_GRACE,
                    };
                    let n = state.collect_blobs(grace).map_err(|e| e.message)?;
                    println!("collected {n} blob(s)");
                    Ok(())
                }
                ["revoke", tenant, device] => {
                    let n = d.revoke_device(tenant, device).map_err(err)?;
                    println!("revoked {n} token(s)");
                    Ok(())
                }
                _ => Err(USAGE.into()),
            }
        }
        "demo" => {
            let listen = option(&mut args, "--listen").unwrap_or_else(|| "127.0.0.1:8080".into());
            let run_for = match option(&mut args, "--for") {
                Some(s) => Some(std::time::Duration::from_secs(
                    s.parse().map_err(|_| "--for takes seconds")?,
                )),
                None => None,
            };
            crate::demo::run(data, &listen, run_for)
        }
        "device" => {
            println!("{}", crate::device_cli::run(args)?);
            Ok(())
        }
        _ => Err(USAGE.into()),
    }
}
