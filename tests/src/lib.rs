//! End-to-end scenarios across processes. Today: crash safety of the core's
//! store (a writer process killed with SIGKILL). The sync issue adds devices
//! and a server on loopback here.
