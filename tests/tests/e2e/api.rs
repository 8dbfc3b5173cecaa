//! The dispatcher API over HTTP: bad input gets a status and a reason and
//! stores nothing; each token opens only its own doors; one tenant never
//! sees another's orders.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use fieldwork_server::auth::Role;
use fieldwork_tests::backend::Backend;
use fieldwork_tests::harness::{Desk, Device, Server};
use fieldwork_tests::intake;
use serde_json::json;

fieldwork_tests::conformance!(
    bad_dispatcher_input_is_refused_with_a_reason_and_stores_nothing,
    tokens_open_only_their_own_doors_and_tenants_stay_apart,
    promised_times_are_taken_as_rfc_3339_with_an_offset_or_epoch_milliseconds,
);

fn count(desk: &Desk) -> usize {
    desk.ok("GET", "/api/orders?limit=500", None)
        .unwrap()
        .as_array()
        .unwrap()
        .len()
}

fn bad_dispatcher_input_is_refused_with_a_reason_and_stores_nothing(b: &Backend) {
    let (_server, desk) = Server::start_on(b).unwrap();
    let id = desk.dispatch(1, "eng-a").unwrap();
    let before = count(&desk);

    let mut bad = serde_json::to_value(intake(2)).unwrap();
    bad["customer"]["name"] = json!("");
    let (status, body) = desk.call("POST", "/api/orders", Some(bad)).unwrap();
    assert_eq!(status, 422);
    assert_eq!(body["error"], "invalid customer.name: is required");
    assert_eq!(body["code"], "invalid");
    assert_eq!(body["args"]["field"], "customer.name");
    assert_eq!(body["args"]["reason_code"], "required");

    // Every error at once, not only the first.
    let mut bad = serde_json::to_value(intake(2)).unwrap();
    bad["customer"]["name"] = json!("");
    bad["product"]["serial"] = json!(" ");
    bad["fault"]["symptoms"] = json!("");
    let (status, body) = desk.call("POST", "/api/orders", Some(bad)).unwrap();
    assert_eq!(status, 422);
    assert_eq!(
        body["error"],
        "invalid customer.name: is required; invalid product.serial: is required; invalid fault.symptoms: is required"
    );

    let mut bad = serde_json::to_value(intake(3)).unwrap();
    bad["product"]["purchase_date"] = json!("2099-01-01");
    let (status, body) = desk.call("POST", "/api/orders", Some(bad)).unwrap();
    assert_eq!(status, 422);
    assert!(body["error"].as_str().unwrap().contains("purchase_date"));

    let (status, _) = desk
        .call("POST", "/api/orders", Some(json!({ "channel": "pigeon" })))
        .unwrap();
    assert_eq!(status, 422, "a body that is not an intake");
    assert_eq!(count(&desk), before, "nothing stored");

    let (status, body) = desk
        .call(
            "POST",
            &format!("/api/orders/{id}/assign"),
            Some(json!({ "engineer": "nobody" })),
        )
        .unwrap();
    assert_eq!(
        (status, body["error"].as_str().unwrap()),
        (422, "no such engineer in this service center")
    );
    let (status, _) = desk
        .call(
            "POST",
            "/api/orders/wo-missing/assign",
            Some(json!({ "engineer": "eng-a" })),
        )
        .unwrap();
    assert_eq!(status, 404);
    let (status, body) = desk.call("GET", "/api/orders?status=lost", None).unwrap();
    assert_eq!(
        (status, body["error"].as_str().unwrap()),
        (422, "unknown status lost")
    );
    let (status, body) = desk
        .call(
            "POST",
            &format!("/api/orders/{id}/follow-ups"),
            Some(
                json!({ "reached": true, "rating": "satisfied", "aspect": null, "comment": null }),
            ),
        )
        .unwrap();
    assert_eq!(status, 409, "no follow-up before the visit: {body}");
    let (status, _) = desk.call("POST", "/api/catalog", Some(json!({ "sku": "X", "name": "X", "unit_price_minor": -1, "low_stock_threshold": 0 }))).unwrap();
    assert_eq!(status, 422);
    let v = desk.ok("GET", &format!("/api/orders/{id}"), None).unwrap();
    assert!(v["order"]["follow_ups"].as_array().unwrap().is_empty());
    assert_eq!(v["order"]["assignee"], "eng-a");
}

fn tokens_open_only_their_own_doors_and_tenants_stay_apart(b: &Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (server, desk) = Server::start_on(b).unwrap();
    let id = desk.dispatch(1, "eng-a").unwrap();
    let phone_dir = dir.path().join("phone");
    std::fs::create_dir_all(&phone_dir).unwrap();
    let phone = Device::enrol(&server, &desk, "eng-a", &phone_dir, 1_795_000_000_000).unwrap();

    // A device token cannot use the dispatcher API.
    let as_phone = Desk::new(&server.url, &phone.token).unwrap();
    assert_eq!(as_phone.call("GET", "/api/orders", None).unwrap().0, 403);
    // No token or a wrong one: 401.
    assert_eq!(
        Desk::new(&server.url, "wrong")
            .unwrap()
            .call("GET", "/api/orders", None)
            .unwrap()
            .0,
        401
    );
    // An enrolment code works once.
    let code = desk
        .ok("POST", "/api/engineers/eng-a/enrolment-codes", None)
        .unwrap()["code"]
        .as_str()
        .unwrap()
        .to_string();
    let http = fieldwork_core::sync::client::http_client().unwrap();
    let enrol = |code: &str| {
        http.post(format!("{}/v1/enrol", server.url))
            .header("content-type", "application/json")
            .body(
                json!({ "code": code, "device_id": "0123456789abcdef0123456789abcdef" })
                    .to_string(),
            )
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(enrol(&code), 200);
    assert_eq!(enrol(&code), 401, "a used code");

    // A second tenant's desk sees none of the first tenant's orders.
    let d = &server.state.directory;
    d.add_tenant("other", "Other Service").unwrap();
    d.add_person("other", "desk2", "Desk 2", Role::Dispatcher)
        .unwrap();
    let other = Desk::new(
        &server.url,
        &d.issue_dispatcher_token("other", "desk2").unwrap(),
    )
    .unwrap();
    assert_eq!(
        other
            .ok("GET", "/api/orders", None)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        other
            .call("GET", &format!("/api/orders/{id}"), None)
            .unwrap()
            .0,
        404
    );
    assert_eq!(
        other
            .call(
                "POST",
                &format!("/api/orders/{id}/assign"),
                Some(json!({ "engineer": "eng-a" }))
            )
            .unwrap()
            .0,
        422
    );
    assert_eq!(
        desk.ok("GET", "/api/orders", None)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

fn promised_times_are_taken_as_rfc_3339_with_an_offset_or_epoch_milliseconds(b: &Backend) {
    let (_server, desk) = Server::start_on(b).unwrap();
    let settings = desk.ok("GET", "/api/settings", None).unwrap();
    assert_eq!(settings["current"]["policy"]["time_zone"], "UTC");
    assert_eq!(settings["versions"].as_array().unwrap().len(), 0);
    // A dispatcher's token does not change them: refused with the reason.
    let change = json!({ "language": "zh-CN", "policy": { "time_zone": "Asia/Shanghai" } });
    let (status, body) = desk.call("PUT", "/api/settings", Some(change)).unwrap();
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["code"], "role_required");
    assert_eq!(body["args"]["role"], "supervisor");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("only a supervisor")
    );
    let (status, body) = desk
        .call("PUT", "/api/settings", Some(json!({ "language": 7 })))
        .unwrap();
    assert_eq!(status, 422, "{body}");
    let after = desk.ok("GET", "/api/settings", None).unwrap();
    assert_eq!(after, settings, "nothing changed");

    let promised = |v: serde_json::Value| {
        let mut i = serde_json::to_value(intake(5)).unwrap();
        i["promised_by_ms"] = v;
        desk.call("POST", "/api/orders", Some(i)).unwrap()
    };
    // 14:00 in Beijing on 1 January 2099 is 06:00 UTC.
    let (status, body) = promised(json!("2099-01-01T14:00:00+08:00"));
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_string();
    let o = desk.ok("GET", &format!("/api/orders/{id}"), None).unwrap();
    assert_eq!(
        o["order"]["intake"]["promised_by_ms"],
        4_070_930_400_000_i64
    );
    let (status, body) = promised(json!(4_070_930_400_000_i64));
    assert_eq!(status, 201, "{body}");

    let before = count(&desk);
    for bad in [json!("2099-01-01T14:00:00"), json!("next tuesday")] {
        let (status, body) = promised(bad.clone());
        assert_eq!(status, 422, "{bad}: {body}");
        assert!(body.to_string().contains("RFC 3339"), "{bad}: {body}");
    }
    assert_eq!(count(&desk), before, "nothing stored");
}
