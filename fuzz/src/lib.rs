//! What the fuzz targets share: the input layout of the targets that take a
//! document id and bytes, and the stores they run against.

use fieldwork_core::{Config, Fieldwork};

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
pub struct Held {
    _dir: tempfile::TempDir,
    pub fw: Fieldwork,
}

impl Held {
    /// The server's store (`server`) or a device's for `eng-a`.
    pub fn open(server: bool) -> Held {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir
            .path()
            .join(if server { "server.db" } else { "device.db" });
        let fw = if server {
            Fieldwork::open_server(&path, Config::new("server"))
        } else {
            Fieldwork::open(&path, Config::new("eng-a"))
        };
        let fw = fw.unwrap_or_else(|e| panic!("a store for the fuzz target: {e}"));
        fw.unsynchronised_for_fixtures()
            .unwrap_or_else(|e| panic!("{e}"));
        Held { _dir: dir, fw }
    }
}
