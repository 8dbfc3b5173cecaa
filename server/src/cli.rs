//! The `fieldwork` command: `serve` the sync endpoint and dispatcher API,
//! run the `demo`, `admin` the directory of tenants, people and tokens from a
//! terminal, and drive a headless `device`.
//!
//! Parsed with clap: every subcommand answers `--help`, options are long and
//! named, and what deployment scripts set can come from the environment
//! (`FIELDWORK_DATA`, `FIELDWORK_DATABASE_URL`, `FIELDWORK_LISTEN`, …).

use crate::auth::Role;
use crate::logs::LogFormat;
use crate::routes::serve;
use crate::state::AppState;
use crate::storage::{Embedded, Postgres, Storage};
use clap::{Args, Parser, Subcommand};
use fieldwork_core::rules::roles::DeskRole;
use fieldwork_core::{Language, Policy, SettingsInput};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Debug, Parser)]
#[command(
    name = "fieldwork",
    version,
    about = "Fieldwork's server: the phones' sync endpoint, the dispatcher API and board, and its administration",
    arg_required_else_help = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the phones' sync endpoint, the dispatcher API and the board
    Serve(ServeArgs),
    /// A day of a service center, live: a server, a desk and three phones
    Demo(DemoArgs),
    /// Tenants, people, tokens, photos, backups and the move to PostgreSQL, from a terminal
    Admin(AdminArgs),
    /// A headless device on the same core, for scripting and support
    Device(crate::device_cli::DeviceArgs),
}

/// Where the server keeps its data: exactly one of the two.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
struct StorageArgs {
    /// Embedded SQLite files in this folder (one process)
    #[arg(long, env = "FIELDWORK_DATA", value_name = "DIR")]
    data: Option<PathBuf>,
    /// A PostgreSQL database; several processes may share it
    #[arg(
        long,
        env = "FIELDWORK_DATABASE_URL",
        value_name = "postgres://USER@HOST/DB"
    )]
    database: Option<String>,
}

#[derive(Debug, Args)]
struct ServeArgs {
    #[command(flatten)]
    storage: StorageArgs,
    /// The address to serve on; port 0 picks a free one
    #[arg(
        long,
        env = "FIELDWORK_LISTEN",
        value_name = "ADDR",
        default_value = "127.0.0.1:8080"
    )]
    listen: String,
    /// One line per request on stderr, as text or JSON; the level comes from RUST_LOG (default info)
    #[arg(long, env = "FIELDWORK_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Serve Prometheus /metrics on this address only (default: on --listen)
    #[arg(long, env = "FIELDWORK_METRICS_LISTEN", value_name = "ADDR")]
    metrics_listen: Option<String>,
    /// The address people reach the server at; board cookies get Secure when it is https://
    #[arg(long, env = "FIELDWORK_PUBLIC_URL", value_name = "https://…")]
    public_url: Option<String>,
    /// Proxies whose X-Forwarded-Proto is believed, comma-separated
    #[arg(long, env = "FIELDWORK_TRUSTED_PROXY", value_name = "IP,…")]
    trusted_proxy: Option<String>,
    /// On PostgreSQL: the connections this process's tenants share at most
    #[arg(
        long,
        env = "FIELDWORK_DATABASE_CONNECTIONS",
        value_name = "N",
        default_value_t = crate::storage::DEFAULT_DATABASE_CONNECTIONS,
        value_parser = clap::value_parser!(u32).range(1..=10_000)
    )]
    database_connections: u32,
    /// Storage work (the database, documents, photos' bytes) this process does at once; more waits its turn. Each holds a thread, and on PostgreSQL a connection (default: four per core, at least 8)
    #[arg(
        long,
        env = "FIELDWORK_STORAGE_THREADS",
        value_name = "N",
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(2..=4096)
    )]
    storage_threads: Option<usize>,
    /// Documents this process keeps decoded in memory, all tenants together (each decoded order some 16 to 50 KB; at least 16 per tenant)
    #[arg(
        long,
        env = "FIELDWORK_CACHED_DOCUMENTS",
        value_name = "N",
        default_value_t = crate::state::DEFAULT_CACHED_DOCUMENTS,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(16..=10_000_000)
    )]
    cached_documents: usize,
}

#[derive(Debug, Args)]
struct DemoArgs {
    /// Keep the demo's data in this (empty) folder; default: a temporary folder removed at the end
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// The address to serve on; port 0 picks a free one
    #[arg(
        long,
        env = "FIELDWORK_LISTEN",
        value_name = "ADDR",
        default_value = "127.0.0.1:8080"
    )]
    listen: String,
    /// Stop after this many seconds (default: at Ctrl-C)
    #[arg(long = "for", value_name = "SECONDS")]
    run_for: Option<u64>,
}

#[derive(Debug, Args)]
struct AdminArgs {
    /// The server's embedded SQLite folder
    #[arg(long, global = true, env = "FIELDWORK_DATA", value_name = "DIR")]
    data: Option<PathBuf>,
    /// The server's PostgreSQL database
    #[arg(
        long,
        global = true,
        env = "FIELDWORK_DATABASE_URL",
        value_name = "postgres://USER@HOST/DB"
    )]
    database: Option<String>,
    #[command(subcommand)]
    command: AdminCommand,
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Add a service center, optionally with its settings
    Tenant(TenantArgs),
    /// Add an engineer to a service center
    Engineer {
        /// The service center's id
        tenant: String,
        /// The engineer's id (what the phone enrols as)
        id: String,
        /// The name the board shows
        name: String,
    },
    /// Add a dispatcher and print their API token
    Dispatcher {
        /// The service center's id
        tenant: String,
        /// The dispatcher's id (what they sign in as)
        id: String,
        /// The name the board shows
        name: String,
    },
    /// Print a one-time code an engineer's phone enrols with
    EnrolCode {
        /// The service center's id
        tenant: String,
        /// The engineer's id
        engineer: String,
    },
    /// Set a dispatcher's board password, read from stdin (never from the command line)
    Password {
        /// The service center's id
        tenant: String,
        /// The dispatcher's id
        dispatcher: String,
        /// The dispatcher supervises: statistics and settings too
        #[arg(long)]
        supervisor: bool,
    },
    /// Revoke every token of one device (a lost or stolen phone)
    Revoke {
        /// The service center's id
        tenant: String,
        /// The device's id (on the board's sync page, or `fieldwork device status`)
        device_id: String,
    },
    /// Delete photos nothing refers to any more (`serve` does this hourly after 168 h)
    CollectBlobs {
        /// Keep what was written within this many hours
        #[arg(long, value_name = "N")]
        grace_hours: Option<u64>,
    },
    /// Back up the directory, every tenant and its photos to one file, while the server runs (--data only; on PostgreSQL use pg_dump)
    Backup {
        /// The backup file to write (a tar archive; replaced only when the new one is whole)
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
    },
    /// Restore a backup into a new --data folder; then serve from it
    Restore {
        /// The backup file `admin backup` wrote
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
    },
    /// After restoring a database from a dump (pg_restore): every tenant's change log continues 2^32 past its last change, so phones told of later changes still pull everything new (`admin restore` does this by itself)
    AfterRestore,
    /// Move a stopped embedded server to an empty PostgreSQL database; phones carry on
    Migrate {
        /// The embedded server's folder (stop the server first)
        #[arg(long, value_name = "DIR")]
        from_data: PathBuf,
        /// The PostgreSQL database to move it into
        #[arg(long, value_name = "postgres://USER@HOST/DB")]
        to_database: String,
    },
}

#[derive(Debug, Args)]
struct TenantArgs {
    /// A short id for the service center (in URLs and on every command)
    id: String,
    /// Its name as people know it
    name: String,
    /// The service center's IANA time zone, e.g. Asia/Shanghai
    #[arg(long, value_name = "ZONE")]
    time_zone: Option<String>,
    /// The service center's language
    #[arg(long, value_name = "zh-CN|en")]
    language: Option<String>,
    /// ISO 4217 currency code, e.g. CNY
    #[arg(long, value_name = "CODE")]
    currency: Option<String>,
    /// When customers may be called, e.g. 09:00-12:00,14:00-20:00
    #[arg(long, value_name = "RANGES")]
    calling_hours: Option<String>,
    /// The name printed on the service report
    #[arg(long, value_name = "NAME")]
    center_name: Option<String>,
}

/// Run the `fieldwork` command with `args` (without the program name).
pub fn main_with(args: &[String]) -> ExitCode {
    let cli = match Cli::try_parse_from(
        std::iter::once("fieldwork".to_string()).chain(args.iter().cloned()),
    ) {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with success; mistakes to stderr.
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fieldwork: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The server's state on `--data DIR` (embedded SQLite) or `--database URL`
/// (PostgreSQL); exactly one of them.
fn open_state(
    data: Option<PathBuf>,
    database: Option<String>,
    connections: u32,
) -> Result<AppState, String> {
    let storage: Arc<dyn Storage> = match (data, database) {
        (Some(dir), None) => Arc::new(
            Embedded::new(dir.clone()).map_err(|e| format!("--data {}: {e}", dir.display()))?,
        ),
        (None, Some(url)) => {
            Arc::new(Postgres::new(&url, connections).map_err(|e| format!("--database: {e}"))?)
        }
        (Some(_), Some(_)) => return Err("give --data or --database, not both".into()),
        (None, None) => {
            return Err(
                "where is the server's data? give --data DIR or --database postgres://… \
                 (or set FIELDWORK_DATA or FIELDWORK_DATABASE_URL)"
                    .into(),
            );
        }
    };
    AppState::open_storage(storage).map_err(|e| e.to_string())
}

/// The settings `admin tenant` was given, checked before anything is
/// written; `None` when no settings option was given.
fn tenant_settings(t: &TenantArgs) -> Result<Option<SettingsInput>, String> {
    if t.time_zone.is_none()
        && t.language.is_none()
        && t.currency.is_none()
        && t.calling_hours.is_none()
        && t.center_name.is_none()
    {
        return Ok(None);
    }
    let mut policy = Policy::default();
    if let Some(z) = &t.time_zone {
        policy.time_zone.clone_from(z);
    }
    if let Some(c) = &t.currency {
        policy.currency.clone_from(c);
    }
    if let Some(c) = &t.calling_hours {
        policy.calling_hours.clone_from(c);
    }
    if let Some(n) = &t.center_name {
        policy.center_name.clone_from(n);
    }
    let input = SettingsInput {
        language: t.language.clone().unwrap_or_else(|| "en".into()),
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

fn run(command: Command) -> Result<(), String> {
    match command {
        Command::Serve(a) => run_serve(a),
        Command::Admin(a) => run_admin(a),
        Command::Demo(a) => crate::demo::run(
            a.data,
            &a.listen,
            a.run_for.map(std::time::Duration::from_secs),
        ),
        Command::Device(a) => {
            println!("{}", crate::device_cli::run(a)?);
            Ok(())
        }
    }
}

fn run_serve(a: ServeArgs) -> Result<(), String> {
    crate::logs::init(a.log_format, "info");
    let reached = crate::https::Reached::new(a.public_url.as_deref(), a.trusted_proxy.as_deref())?;
    // One server per embedded folder, held until this process ends.
    let _folder = match &a.storage.data {
        Some(dir) => Some(crate::storage::FolderLock::take(
            dir,
            "--data",
            "serve it again",
        )?),
        None => None,
    };
    let mut state = open_state(a.storage.data, a.storage.database, a.database_connections)?;
    state.reached = Arc::new(reached);
    state.metrics_here = a.metrics_listen.is_none();
    state.set_cached_documents(a.cached_documents);
    let state = Arc::new(state);
    // Storage work is mostly CPU (Automerge) with waits on the database
    // between: four per core keep the cores busy while some wait; more
    // would only queue in the kernel instead of here, each thread holding
    // its stack and its allocator cache.
    let storage_threads = a.storage_threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map_or(8, |n| n.get() * 4)
            .max(8)
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(storage_threads)
        .build()
        .map_err(|e| e.to_string())?;
    let listen = a.listen;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&listen)
            .await
            .map_err(|e| crate::routes::listen_error("--listen", &listen, &e))?;
        if let Some(addr) = a.metrics_listen {
            let metrics = tokio::net::TcpListener::bind(&addr)
                .await
                .map_err(|e| crate::routes::listen_error("--metrics-listen", &addr, &e))?;
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

fn run_admin(a: AdminArgs) -> Result<(), String> {
    // Settings are checked before anything is opened or written.
    let settings = match &a.command {
        AdminCommand::Tenant(t) => tenant_settings(t)?,
        _ => None,
    };
    match (&a.command, &a.data, &a.database) {
        (AdminCommand::Backup { .. } | AdminCommand::Restore { .. }, None, Some(_)) => {
            return Err(
                "on PostgreSQL, back up with pg_dump --format=custom and restore with \
                        pg_restore (docs/deploy.md); backup and restore here take --data"
                    .into(),
            );
        }
        (AdminCommand::Backup { to }, Some(data), None) => {
            let m = crate::backup::backup(data, to)?;
            println!("{}", backed_up("backed up", to, &m));
            return Ok(());
        }
        (
            AdminCommand::Migrate {
                from_data,
                to_database,
            },
            _,
            _,
        ) => {
            let moved = crate::migrate::migrate(from_data, to_database)?;
            println!("{}", migrated(&moved));
            return Ok(());
        }
        (AdminCommand::Restore { from }, Some(data), None) => {
            let m = crate::backup::restore(from, data)?;
            println!("{}", backed_up("restored", data, &m));
            return Ok(());
        }
        _ => {}
    }
    let state = open_state(
        a.data,
        a.database,
        crate::storage::DEFAULT_DATABASE_CONNECTIONS,
    )?;
    let d = &state.directory;
    let err = |e: crate::auth::AuthError| e.to_string();
    match a.command {
        AdminCommand::Tenant(t) => {
            d.add_tenant(&t.id, &t.name).map_err(err)?;
            if let Some(input) = settings {
                let store = state.tenant(&t.id).map_err(|e| e.message)?;
                // Recorded as the administrator's, with the time.
                let v = store
                    .as_desk("admin", DeskRole::Supervisor)
                    .change_settings(&input)
                    .map_err(|e| e.to_string())?;
                println!("settings version {v}");
            }
            Ok(())
        }
        AdminCommand::Engineer { tenant, id, name } => d
            .add_person(&tenant, &id, &name, Role::Engineer)
            .map_err(err),
        AdminCommand::Dispatcher { tenant, id, name } => {
            d.add_person(&tenant, &id, &name, Role::Dispatcher)
                .map_err(err)?;
            println!("{}", d.issue_dispatcher_token(&tenant, &id).map_err(err)?);
            Ok(())
        }
        AdminCommand::EnrolCode { tenant, engineer } => {
            println!(
                "{}",
                d.issue_enrolment_code(&tenant, &engineer).map_err(err)?
            );
            Ok(())
        }
        AdminCommand::Password {
            tenant,
            dispatcher,
            supervisor,
        } => {
            // From stdin, so it is never in the shell's history or `ps`.
            let mut password = String::new();
            std::io::stdin()
                .read_line(&mut password)
                .map_err(|e| format!("reading the password from stdin: {e}"))?;
            let password = password.trim_end_matches(['\r', '\n']);
            d.set_password(&tenant, &dispatcher, password, supervisor)
                .map_err(err)?;
            println!("{dispatcher} can sign in to the board");
            Ok(())
        }
        AdminCommand::Revoke { tenant, device_id } => {
            let n = d.revoke_device(&tenant, &device_id).map_err(err)?;
            println!("revoked {n} token(s)");
            Ok(())
        }
        AdminCommand::AfterRestore => {
            let tenants = d.tenants().map_err(err)?;
            for (t, last, next) in crate::backup::after_restore(state.storage.as_ref(), &tenants)? {
                println!("{t}: last change {last}; the next is numbered {next}");
            }
            Ok(())
        }
        AdminCommand::Backup { .. }
        | AdminCommand::Restore { .. }
        | AdminCommand::Migrate { .. } => Err("give --data DIR (or set FIELDWORK_DATA)".into()),
        AdminCommand::CollectBlobs { grace_hours } => {
            let grace = grace_hours.map_or(crate::state::BLOB_GRACE, |h| {
                std::time::Duration::from_secs(h.saturating_mul(3600))
            });
            let n = state.collect_blobs(grace).map_err(|e| e.message)?;
            println!("collected {n} blob(s)");
            Ok(())
        }
    }
}

/// One line per tenant: what a backup holds.
fn backed_up(what: &str, at: &std::path::Path, m: &crate::backup::Manifest) -> String {
    let mut out = format!("{what} {}: {} tenant(s)", at.display(), m.tenants.len());
    for t in &m.tenants {
        out.push_str(&format!(
            "\n  {}: {} change(s), last {}; {} photo(s), {} bytes",
            t.id, t.changes, t.last_seq, t.photos, t.photo_bytes
        ));
    }
    out
}

/// What a move copied, per tenant.
fn migrated(m: &crate::migrate::Moved) -> String {
    let people = m.directory.get("people").copied().unwrap_or(0);
    let tokens = m.directory.get("tokens").copied().unwrap_or(0);
    let mut out = format!(
        "moved {} tenant(s), {people} people, {tokens} token(s)",
        m.tenants.len()
    );
    for (id, t) in &m.tenants {
        let rows = |table: &str| t.rows.get(table).copied().unwrap_or(0);
        out.push_str(&format!(
            "\n  {id}: {} order(s), {} change(s), last {}; {} grant(s); {} photo(s), {} bytes",
            rows("orders"),
            rows("changes"),
            t.last_seq,
            rows("grants"),
            t.photos,
            t.photo_bytes
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }
}
