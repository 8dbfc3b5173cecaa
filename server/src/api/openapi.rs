//! The dispatcher API's description: OpenAPI 3.1 generated with utoipa from
//! the handlers in [`super`] and the types they read and answer (the core's
//! `openapi` feature), served at `/api/openapi.json`.

use axum::Json;
use utoipa::OpenApi;

/// The dispatcher API as OpenAPI 3.1.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Fieldwork dispatcher API",
        description = "Orders, assignment, follow-up calls, complaints, the catalog, settings, enrolment codes and devices of one service center. Every call takes a dispatcher's token: `Authorization: Bearer …` (`fieldwork admin dispatcher` prints one). Errors answer `{\"error\": …}`, with the core's stable `code` and its `args` where a rule refused.",
    ),
    paths(
        super::create_order, super::list_orders, super::get_order, super::get_photo,
        super::get_report_pdf, super::assign, super::follow_up, super::complaint,
        super::catalog_part, super::get_settings, super::put_settings,
        super::enrolment_code, super::revoke_device, super::device_refusals
    ),
    modifiers(&BearerToken),
    security(("dispatcher_token" = [])),
    tags((name = "orders"), (name = "service center"), (name = "devices"))
)]
#[derive(Debug)]
pub struct ApiDoc;

/// The bearer token scheme.
struct BearerToken;

impl utoipa::Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "dispatcher_token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The description as served: [`ApiDoc`], with links from where an order
/// is made to what can be done with it (clients and test generators follow
/// them). Added to the JSON because utoipa 5.5 writes a link's
/// `operationId` as `operation_id`.
pub fn description() -> serde_json::Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    let links: serde_json::Map<String, serde_json::Value> = [
        "get_order",
        "assign",
        "follow_up",
        "complaint",
        "get_report_pdf",
    ]
    .into_iter()
    .map(|op| {
        (
            op.to_string(),
            serde_json::json!({ "operationId": op, "parameters": { "id": "$response.body#/id" } }),
        )
    })
    .collect();
    if let Some(created) = doc
        .pointer_mut("/paths/~1api~1orders/post/responses/201")
        .and_then(serde_json::Value::as_object_mut)
    {
        created.insert("links".into(), links.into());
    }
    // A valid body for each call that takes one, from the samples the demo
    // and the tests use.
    let examples = [
        (
            "/paths/~1api~1orders/post",
            serde_json::to_value(fieldwork_core::samples::intake(1)).unwrap_or_default(),
        ),
        (
            "/paths/~1api~1catalog/post",
            serde_json::to_value(fieldwork_core::samples::relay()).unwrap_or_default(),
        ),
        (
            "/paths/~1api~1orders~1{id}~1assign/post",
            serde_json::json!({ "engineer": "eng-a" }),
        ),
        (
            "/paths/~1api~1orders~1{id}~1follow-ups/post",
            serde_json::json!({ "reached": true, "rating": "satisfied", "aspect": null, "comment": "fixed the first time" }),
        ),
        (
            "/paths/~1api~1orders~1{id}~1complaints/post",
            serde_json::json!({ "what": "the noise came back", "category": "repair_quality", "major": false }),
        ),
    ];
    for (op, example) in examples {
        if let Some(media) = doc
            .pointer_mut(&format!("{op}/requestBody/content/application~1json"))
            .and_then(serde_json::Value::as_object_mut)
        {
            media.insert("example".into(), example);
        }
    }
    doc
}

pub(super) async fn openapi_json() -> Json<serde_json::Value> {
    Json(description())
}
