//! `cargo run -p uniffi-bindgen -- generate --library <lib> --language kotlin --out-dir <dir>`:
//! the binding generator at exactly the uniffi version the library was built with.
//! `scripts/bindings` wraps it.

fn main() {
    uniffi::uniffi_bindgen_main()
}
