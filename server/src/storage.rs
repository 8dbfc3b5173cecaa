//! Where the server keeps its data: the one storage trait and its two
//! implementations (decision 0009).
//!
//! - [`Embedded`]: SQLite files under `--data` (`server.db` for the
//!   directory, `tenants/ID.db` for each service center, photos under
//!   `blobs/ID/`). One process.
//! - [`Postgres`]: one PostgreSQL database (`--database postgres://…`),
//!   a schema for the directory and one per tenant. Several processes may
//!   share it behind a load balancer; board updates travel between them with
//!   LISTEN/NOTIFY.
//!
//! Both hand out the same [`Backend`] the core's store runs on, so the store,
//! its migrations (numbered per dialect), the change log and the directory's
//! queries are one code path.

use crate::blobs::{BlobStore, FileBlobs, SqlBlobs};
pub use crate::bus::Changed;
use fieldwork_core::store::sql::{Backend, SqlError, SqliteBackend};
use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

/// A task that runs as long as the server serves.
pub type Relay = Pin<Box<dyn Future<Output = ()> + Send>>;

pub trait Storage: Send + Sync + fmt::Debug {
    /// `sqlite` or `postgres`: for the startup line and the benchmarks.
    fn kind(&self) -> &'static str;

    /// A connection to the directory of tenants, people and tokens.
    fn directory(&self) -> Result<Box<dyn Backend>, SqlError>;

    /// A connection to one tenant's store (created on first use).
    fn tenant(&self, tenant: &str) -> Result<Box<dyn Backend>, SqlError>;

    /// Where one tenant's photos are kept (its store opened first, so its
    /// migrations have run).
    fn blobs(&self, tenant: &str) -> Result<Arc<dyn BlobStore>, SqlError>;

    /// Carry this process's board updates (`outgoing`) to the other
    /// processes sharing the storage and deliver theirs to `local`. `None`
    /// where no other process can share it.
    fn relay(
        &self,
        process: String,
        outgoing: tokio::sync::mpsc::UnboundedReceiver<Changed>,
        local: tokio::sync::broadcast::Sender<Changed>,
    ) -> Option<Relay>;
}

/// SQLite files under a data directory.
#[derive(Debug)]
pub struct Embedded {
    data: PathBuf,
}

impl Embedded {
    pub fn new(data: PathBuf) -> Result<Embedded, SqlError> {
        std::fs::create_dir_all(data.join("tenants"))
            .map_err(|e| SqlError::new(format!("cannot create the data directory: {e}")))?;
        Ok(Embedded { data })
    }
}

/// The folder `data` held by this process alone (`server.lock`, an
/// operating-system lock the kernel lets go of when the process dies, even
/// by SIGKILL): one `serve` per folder, and no move while one serves.
#[derive(Debug)]
pub struct FolderLock {
    _file: std::fs::File,
}

impl FolderLock {
    /// Take it, or say who holds it. `option` named the folder and `doing`
    /// is what the caller is about to do, for the message.
    pub fn take(data: &std::path::Path, option: &str, doing: &str) -> Result<FolderLock, String> {
        use std::io::{Read, Seek, Write};
        std::fs::create_dir_all(data).map_err(|e| format!("{}: {e}", data.display()))?;
        let path = data.join("server.lock");
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {
                // Who holds it, for the next one to be told.
                let _ = file.set_len(0);
                let _ = file.rewind();
                let _ = write!(file, "{}", std::process::id());
                let _ = file.sync_all();
                Ok(FolderLock { _file: file })
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut pid = String::new();
                let _ = file.read_to_string(&mut pid);
                let pid = pid.trim();
                let who = if pid.is_empty() {
                    String::new()
                } else {
                    format!(" (process {pid})")
                };
                Err(format!(
                    "{option} {}: a fieldwork server is serving this folder{who}; stop it before you {doing}",
                    data.display()
                ))
            }
            Err(std::fs::TryLockError::Error(e)) => Err(format!("{}: {e}", path.display())),
        }
    }
}

impl Storage for Embedded {
    fn kind(&self) -> &'static str {
        "sqlite"
    }

    fn directory(&self) -> Result<Box<dyn Backend>, SqlError> {
        Ok(Box::new(SqliteBackend::open(&self.data.join("server.db"))?))
    }

    fn tenant(&self, tenant: &str) -> Result<Box<dyn Backend>, SqlError> {
        let path = self.data.join("tenants").join(format!("{tenant}.db"));
        Ok(Box::new(SqliteBackend::open(&path)?))
    }

    fn blobs(&self, tenant: &str) -> Result<Arc<dyn BlobStore>, SqlError> {
        let root = self.data.join("blobs").join(tenant);
        Ok(Arc::new(
            FileBlobs::new(root).map_err(|e| SqlError::new(e.to_string()))?,
        ))
    }

    fn relay(
        &self,
        _process: String,
        _outgoing: tokio::sync::mpsc::UnboundedReceiver<Changed>,
        _local: tokio::sync::broadcast::Sender<Changed>,
    ) -> Option<Relay> {
        None
    }
}

/// The directory's connections per process.
const DIRECTORY_CONNECTIONS: u32 = 4;

/// The tenants' connections per process unless configured.
pub const DEFAULT_DATABASE_CONNECTIONS: u32 = 16;

/// One PostgreSQL database, shared by any number of server processes.
pub struct Postgres {
    url: String,
    /// The connections this process's tenants' stores and photos share.
    tenants: crate::pg::Pool,
    /// The directory's own few: signing a request in never waits behind
    /// the tenants' work.
    directory: crate::pg::Pool,
}

impl fmt::Debug for Postgres {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not the URL: it may carry a password.
        f.write_str("Postgres")
    }
}

impl Postgres {
    /// `url`: `postgres://user@host:port/db` or `host=… user=… dbname=…`.
    /// `sslmode=require` connects over TLS (`pg_tls`). Checked here, so a
    /// typo fails at startup rather than on first use. The tenants share at
    /// most `connections` connections (`--database-connections`).
    pub fn new(url: &str, connections: u32) -> Result<Postgres, SqlError> {
        let config = url
            .parse::<postgres::Config>()
            .map_err(|e| SqlError::new(format!("not a PostgreSQL connection string: {e}")))?;
        // With sslmode=require, the trusted certificates are read now.
        crate::pg_tls::connector(config.get_ssl_mode()).map_err(SqlError::new)?;
        // One connection now, so an unreachable database or a refused
        // password stops startup at once with the reason (the pool would
        // keep retrying until its wait ran out).
        crate::pg::probe(url)?;
        Ok(Postgres {
            url: url.into(),
            tenants: crate::pg::pool(url, connections),
            directory: crate::pg::pool(url, DIRECTORY_CONNECTIONS),
        })
    }
}

impl Storage for Postgres {
    fn kind(&self) -> &'static str {
        "postgres"
    }

    fn directory(&self) -> Result<Box<dyn Backend>, SqlError> {
        Ok(Box::new(crate::pg::PgBackend::on(
            &self.directory,
            crate::pg::DIRECTORY_SCHEMA,
            false,
        )?))
    }

    fn tenant(&self, tenant: &str) -> Result<Box<dyn Backend>, SqlError> {
        Ok(Box::new(crate::pg::PgBackend::on(
            &self.tenants,
            &crate::pg::tenant_schema(tenant),
            true,
        )?))
    }

    fn blobs(&self, tenant: &str) -> Result<Arc<dyn BlobStore>, SqlError> {
        // Beside the tenant's store, not behind it: a photo arriving does
        // not wait for sync.
        Ok(Arc::new(SqlBlobs::new(Box::new(crate::pg::PgBackend::on(
            &self.tenants,
            &crate::pg::tenant_schema(tenant),
            false,
        )?))))
    }

    fn relay(
        &self,
        process: String,
        outgoing: tokio::sync::mpsc::UnboundedReceiver<Changed>,
        local: tokio::sync::broadcast::Sender<Changed>,
    ) -> Option<Relay> {
        Some(Box::pin(crate::pg_relay::relay(
            self.url.clone(),
            process,
            outgoing,
            local,
        )))
    }
}
