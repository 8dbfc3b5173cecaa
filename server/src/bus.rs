//! The live-update bus's message: which orders of a tenant just changed. The
//! boards of this process hear it on a broadcast channel; other processes
//! sharing PostgreSQL hear it through LISTEN/NOTIFY (`pg_relay`).

/// Orders of a tenant that changed (a device synced, a dispatcher acted).
#[derive(Debug, Clone)]
pub struct Changed {
    pub tenant: String,
    pub ids: Vec<String>,
}
