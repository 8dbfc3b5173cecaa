//! fieldwork-server: the sync endpoint and the dispatcher board. Empty until
//! the sync issue; it will compute SLA state and validation with the same
//! `fieldwork_core::rules` the devices use.
