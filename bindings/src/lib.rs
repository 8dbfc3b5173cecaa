//! fieldwork-ffi: the uniffi layer over `fieldwork_core::Fieldwork` for the
//! Android and iOS apps. Empty until the bindings issue: it will convert
//! types and errors and hold nothing else.
