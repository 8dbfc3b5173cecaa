//! The server's check and apply of a device's push (`ServerStore::check_push`
//! and `apply_push`) on any bytes for any document, against one server store
//! that lives for the run. Never a panic; and "acknowledged means stored":
//! when a push is accepted, every change in it is in the stored document.
//! Half the pushes come from a device with a pinned key, so the attestation
//! check runs on whatever records they carry.
#![no_main]

use fieldwork_core::ServerStore;
use fieldwork_core::attest::{DeviceSigner, PinnedKey, SoftwareSigner};
use fieldwork_core::model::KeyBacking;
use fieldwork_core::store::chunks::{self, Limits};
use fieldwork_fuzz::Held;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// A device key pinned for the pushing device: half of the inputs are
/// pushed as from a device with one (every signature, consent and QC
/// record they add is then checked against it), half as from one without.
fn pinned() -> &'static PinnedKey {
    static K: OnceLock<PinnedKey> = OnceLock::new();
    K.get_or_init(|| {
        let signer =
            SoftwareSigner::from_secret(&[7u8; 32]).unwrap_or_else(SoftwareSigner::generate);
        PinnedKey {
            public_key: signer.public_key().unwrap_or_default(),
            backing: KeyBacking::Software,
            revoked: false,
        }
    })
}

fn server() -> &'static Held<ServerStore> {
    static S: OnceLock<Held<ServerStore>> = OnceLock::new();
    S.get_or_init(|| Held::server())
}

/// The device a push claims to come from: the actor of its first change
/// (so the actor check passes and the target reaches what lies behind it).
fn device_of(bytes: &[u8]) -> String {
    const FALLBACK: &str = "00000000-0000-4000-8000-000000000001";
    chunks::read_changes(bytes, &Limits::DEFAULT)
        .ok()
        .and_then(|r| {
            r.changes
                .first()
                .map(|c| c.change.actor_id().to_hex_string())
        })
        .and_then(|hex| uuid_of(&hex))
        .unwrap_or_else(|| FALLBACK.to_string())
}

fn uuid_of(hex: &str) -> Option<String> {
    (hex.len() == 32).then(|| {
        format!(
            "{}-{}-{}-{}-{}",
            &hex[..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..]
        )
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((doc_id, bytes)) = fieldwork_fuzz::split(data) else {
        return;
    };
    let s = server();
    let device = device_of(bytes);
    let _ = s.fw.check_push(&device, "eng-a", doc_id, bytes);
    let key = (doc_id.len() % 2 == 1).then(pinned);
    if s.fw
        .apply_push(&device, "eng-a", doc_id, bytes, key)
        .is_ok()
    {
        let pushed = chunks::read_changes(bytes, &Limits::DEFAULT)
            .unwrap_or_else(|e| panic!("accepted bytes that do not read: {e}"));
        // An empty push acknowledges nothing (found by this target: it is
        // accepted even for a document that does not exist).
        if pushed.changes.is_empty() {
            return;
        }
        let stored =
            s.fw.export_changes(doc_id, &[])
                .unwrap_or_else(|e| panic!("accepted, but the document does not export: {e}"));
        let stored = chunks::read_any(&stored, &Limits::DEFAULT)
            .unwrap_or_else(|e| panic!("the stored document does not read: {e}"));
        for c in &pushed.changes {
            assert!(
                stored.changes.iter().any(|s| s.hash() == c.hash()),
                "acknowledged change {} is not stored",
                c.hash()
            );
        }
    }
});
