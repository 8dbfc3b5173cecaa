//! The dispatcher API's OpenAPI description, as a client integrating with
//! it reads it from a running server: OpenAPI 3.1, served without a token,
//! naming every operation the server has, each of which refuses a call
//! without the token; its examples are bodies the server takes.
//! (`scripts/api-test` then runs schemathesis against it.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use fieldwork_tests::harness::Server;
use serde_json::Value;

#[test]
fn the_served_description_matches_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let (server, desk) = Server::start(dir.path()).unwrap();
    let http = fieldwork_core::sync::client::http_client().unwrap();
    let r = http
        .get(format!("{}/api/openapi.json", server.url))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "no token needed to read it");
    let doc: Value = serde_json::from_slice(&r.bytes().unwrap()).unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["dispatcher_token"]["scheme"],
        "bearer"
    );

    let mut operations = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            operations.push((method.to_uppercase(), path.clone(), op.clone()));
        }
    }
    let mut names: Vec<String> = operations
        .iter()
        .map(|(m, p, _)| format!("{m} {p}"))
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "GET /api/devices/{id}/refusals",
            "GET /api/orders",
            "GET /api/orders/{id}",
            "GET /api/orders/{id}/photos/{photo_id}",
            "GET /api/orders/{id}/report.pdf",
            "GET /api/settings",
            "POST /api/catalog",
            "POST /api/devices/{id}/revoke",
            "POST /api/engineers/{id}/enrolment-codes",
            "POST /api/orders",
            "POST /api/orders/{id}/assign",
            "POST /api/orders/{id}/complaints",
            "POST /api/orders/{id}/follow-ups",
            "PUT /api/settings",
        ]
    );
    for (method, path, op) in &operations {
        // Each is there on the server, behind the token.
        let url = format!("{}{}", server.url, path.replace('{', "x").replace('}', ""));
        let r = http
            .request(method.parse().unwrap(), &url)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 401, "{method} {path}");
        assert!(
            op["responses"]["401"].is_object(),
            "{method} {path} declares 401"
        );
    }

    // The examples are bodies the server takes.
    let intake = doc
        .pointer("/paths/~1api~1orders/post/requestBody/content/application~1json/example")
        .unwrap();
    let made = desk
        .ok("POST", "/api/orders", Some(intake.clone()))
        .unwrap();
    let id = made["id"].as_str().unwrap();
    let link = doc
        .pointer("/paths/~1api~1orders/post/responses/201/links/get_order")
        .unwrap();
    assert_eq!(link["operationId"], "get_order");
    assert_eq!(link["parameters"]["id"], "$response.body#/id");
    let complaint = doc
        .pointer("/paths/~1api~1orders~1{id}~1complaints/post/requestBody/content/application~1json/example")
        .unwrap();
    desk.ok(
        "POST",
        &format!("/api/orders/{id}/complaints"),
        Some(complaint.clone()),
    )
    .unwrap();
    let part = doc
        .pointer("/paths/~1api~1catalog/post/requestBody/content/application~1json/example")
        .unwrap();
    desk.ok("POST", "/api/catalog", Some(part.clone())).unwrap();
}
