//! What a load balancer asks: is the process up (`/healthz`), can it serve
//! (`/readyz`: storage answering, schema current). A real server on loopback,
//! both storages; no token needed, nothing about tenants said.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use fieldwork_tests::backend::Backend;
use fieldwork_tests::harness::Server;

fieldwork_tests::conformance!(ready_while_its_storage_answers_with_the_schema_it_knows,);

fn get(url: &str) -> (u16, String) {
    let r = fieldwork_core::sync::client::http_client()
        .unwrap()
        .get(url)
        .send()
        .unwrap();
    (r.status().as_u16(), r.text().unwrap())
}

fn ready_while_its_storage_answers_with_the_schema_it_knows(b: &Backend) {
    let (server, _desk) = Server::start_on(b).unwrap();
    assert_eq!(
        get(&format!("{}/healthz", server.url)),
        (200, "ok\n".into())
    );
    assert_eq!(
        get(&format!("{}/readyz", server.url)),
        (200, "ready\n".into())
    );

    // Another process with a newer Fieldwork migrated the directory further:
    // this one is up, but no longer ready to serve.
    let mut directory = b.storage().unwrap().directory().unwrap();
    let current = directory.schema_version().unwrap();
    directory.set_schema_version(current + 1).unwrap();
    let (status, body) = get(&format!("{}/readyz", server.url));
    assert_eq!(status, 503);
    assert!(body.contains("schema"), "{body}");
    assert_eq!(get(&format!("{}/healthz", server.url)).0, 200);

    directory.set_schema_version(current).unwrap();
    assert_eq!(get(&format!("{}/readyz", server.url)).0, 200);
}
