//! The sync protocol's decoder (core/src/sync/wire.rs) on any bytes: an
//! error or a message, never a panic or an unbounded allocation; what it
//! decodes encodes back to the same message.
#![no_main]

use fieldwork_core::sync::wire::{SyncRequest, SyncResponse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = SyncRequest::decode(data) {
        assert_eq!(SyncRequest::decode(&req.encode()).as_ref(), Ok(&req));
    }
    if let Ok(resp) = SyncResponse::decode(data) {
        assert_eq!(SyncResponse::decode(&resp.encode()).as_ref(), Ok(&resp));
    }
});
