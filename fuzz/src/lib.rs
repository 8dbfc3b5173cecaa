//! What the fuzz targets share: the input layout of the targets that take a
//! document id and bytes, and the stores they run against.

use fieldwork_core::{Config, Fieldwork, ServerStore};

/// `[n][n bytes of document id][the bytes]`: how the push and import targets
/// read their input (and how `fieldwork-tests`' `fuzz-seeds` writes it).
pub fn split(data: &[u8]) -> Option<(&str, &[u8])> {
    let (&n, rest) = data.split_first()?;
    let n = usize::from(n);
    if rest.len() < n {
        return None;
    }
    let (id, bytes) = rest.split_at(n);
    Some((std::str::from_utf8(id).ok()?, bytes))
}

/// A store in a directory that lives as long as the process, without
/// fsync (the targets look for crashes, not durability).
#[derive(Debug)]
pub struct Held<S> {
    _dir: tempfile::TempDir,
    pub fw: S,
}

fn held<S: std::ops::Deref<Target = Fieldwork>>(
    name: &str,
    open: impl FnOnce(&std::path::Path) -> fieldwork_core::api::Result<S>,
) -> Held<S> {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let fw =
        open(&dir.path().join(name)).unwrap_or_else(|e| panic!("a store for the fuzz target: {e}"));
    fw.unsynchronised_for_fixtures()
        .unwrap_or_else(|e| panic!("{e}"));
    Held { _dir: dir, fw }
}

impl Held<ServerStore> {
    /// The server's store of a tenant.
    pub fn server() -> Held<ServerStore> {
        held("server.db", |p| ServerStore::open(p, Config::new("server")))
    }
}

impl Held<Box<Fieldwork>> {
    /// A device's store, for `eng-a`.
    pub fn device() -> Held<Box<Fieldwork>> {
        held("device.db", |p| {
            Fieldwork::open(p, Config::new("eng-a")).map(Box::new)
        })
    }
}
