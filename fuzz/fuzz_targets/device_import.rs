//! The device's import of what it pulls (`import_changes`: changes or whole
//! documents) and of a server copy after a refusal (`replace_with_server_copy`)
//! on any bytes: a typed error or a valid document, never a panic.
#![no_main]

use fieldwork_core::Fieldwork;
use fieldwork_fuzz::Held;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn device() -> &'static Held<Box<Fieldwork>> {
    static D: OnceLock<Held<Box<Fieldwork>>> = OnceLock::new();
    D.get_or_init(|| Held::device())
}

fuzz_target!(|data: &[u8]| {
    let Some((doc_id, bytes)) = fieldwork_fuzz::split(data) else {
        return;
    };
    let d = device();
    if d.fw.import_changes(doc_id, bytes).is_ok() && doc_id.starts_with("wo-") {
        // What was imported reads back as an order, or the import refused it.
        if let Err(e) = d.fw.order(doc_id) {
            assert!(
                !matches!(e, fieldwork_core::Error::Store(_)),
                "imported, then unreadable: {e}"
            );
        }
    }
    let _ = d.fw.replace_with_server_copy(doc_id, bytes);
});
