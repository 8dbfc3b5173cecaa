//! The dispatcher board over HTTP: who may sign in, anti-forgery on every
//! form, bad input refused next to its field with nothing stored, customer
//! text escaped, and one tenant never seeing another's orders — on pages or
//! in the live event stream.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use fieldwork_server::auth::Role;
use fieldwork_tests::backend::Backend;
use fieldwork_tests::board::{
    BoardClient, PASSWORD, chrono_now, order_count, serviced_order, setup, take_order, valid_intake,
};
use fieldwork_tests::harness::{Device, Server};
use std::io::{BufRead, BufReader};
use std::time::Duration;

fieldwork_tests::conformance!(
    only_dispatchers_with_a_password_sign_in_and_sessions_end_at_sign_out,
    the_intake_form_shows_every_problem_next_to_its_field_and_stores_nothing,
    assignment_checks_its_token_and_the_engineer,
    customer_text_is_shown_as_text_never_run,
    one_tenant_never_sees_another_tenants_orders,
    right_to_left_overrides_in_customer_text_stay_in_their_own_run,
    work_refused_from_a_phone_shows_on_the_order_page,
    the_dispatcher_api_tells_the_boards_as_the_board_does,
);

fn only_dispatchers_with_a_password_sign_in_and_sessions_end_at_sign_out(b: &Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (server, desk) = Server::start_on(b).unwrap();
    let d = &server.state.directory;
    d.set_password("acme", "desk", PASSWORD, false).unwrap();
    let mut b = BoardClient::new(&server.url).unwrap();

    // Not signed in: every page sends you to the sign-in form.
    for path in [
        "/board",
        "/board/intake",
        "/board/orders/wo-x",
        "/board/events",
    ] {
        let p = b.get(path).unwrap();
        assert_eq!(
            (p.status, p.location.as_deref()),
            (303, Some("/board/sign-in")),
            "{path}"
        );
    }

    // A wrong password, an unknown person, an unknown tenant: one answer, no session.
    for (tenant, person, password) in [
        ("acme", "desk", "wrong password!"),
        ("acme", "nobody", PASSWORD),
        ("other", "desk", PASSWORD),
    ] {
        let p = b.sign_in(tenant, person, password).unwrap();
        assert_eq!(p.status, 401);
        assert!(p.body.contains("Unknown service center, user or password."));
        assert!(!b.has_cookie("fw_session"));
    }

    // Engineers never get a board password, and a device token opens nothing here.
    let err = d
        .set_password("acme", "eng-a", PASSWORD, false)
        .unwrap_err();
    assert!(err.to_string().contains("only dispatchers and supervisors"));
    assert!(
        d.set_password("acme", "desk", "short", false).is_err(),
        "too short"
    );
    std::fs::create_dir_all(dir.path().join("a")).unwrap();
    let phone = Device::enrol(&server, &desk, "eng-a", &dir.path().join("a"), 0).unwrap();
    let bearer = format!("Bearer {}", phone.token);
    let p = b.get_with("/board", &[("authorization", &bearer)]).unwrap();
    assert_eq!(p.status, 303, "a device token is not a board session");
    b.set_cookie("fw_session", &phone.token);
    assert_eq!(
        b.get("/board").unwrap().status,
        303,
        "nor is it a session cookie"
    );

    // A sign-in post without the form's token is refused.
    let mut forger = BoardClient::new(&server.url).unwrap();
    let p = forger
        .post(
            "/board/sign-in",
            &[
                ("csrf", "x"),
                ("tenant", "acme"),
                ("person", "desk"),
                ("password", PASSWORD),
            ],
        )
        .unwrap();
    assert_eq!(p.status, 403);
    assert!(!forger.has_cookie("fw_session"));

    // The right password: a session cookie the page's scripts cannot read.
    let mut b = BoardClient::new(&server.url).unwrap();
    let p = b.sign_in("acme", "desk", PASSWORD).unwrap();
    assert_eq!((p.status, p.location.as_deref()), (303, Some("/board")));
    let cookie = p
        .set_cookie
        .iter()
        .find(|c| c.starts_with("fw_session="))
        .unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let page = b.get("/board").unwrap();
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Desk · acme"));

    // Sign-out needs the token too; then the session is gone for good.
    let stolen = b.csrf().unwrap();
    assert_eq!(
        b.post("/board/sign-out", &[("csrf", "nope")])
            .unwrap()
            .status,
        403
    );
    assert_eq!(b.get("/board").unwrap().status, 200, "still signed in");
    assert_eq!(
        b.post("/board/sign-out", &[("csrf", &stolen)])
            .unwrap()
            .status,
        303
    );
    assert_eq!(b.get("/board").unwrap().status, 303);
}

fn the_intake_form_shows_every_problem_next_to_its_field_and_stores_nothing(b: &Backend) {
    let (_dir, _server, desk, mut b) = setup(b);
    let csrf = b.csrf().unwrap();
    let before = order_count(&desk);

    let p = b
        .post(
            "/board/intake",
            &[
                ("csrf", &csrf),
                ("customer.name", ""),
                ("customer.email", "not-an-email"),
                ("product.purchase_date", "2026-13-45"),
                ("site_zone", "outside_urban"),
                ("travel_allowance_min", "many"),
                ("promised_by", "tomorrow"),
            ],
        )
        .unwrap();
    assert_eq!(p.status, 422);
    assert!(p.body.contains("The order was not saved"));
    for (field, says) in [
        ("customer.name", "is required"),
        ("customer.email", "is not an email address"),
        ("customer.address", "is required"),
        ("product.model", "is required"),
        ("product.serial", "is required"),
        ("product.purchase_date", "date"),
        ("fault.symptoms", "is required"),
        ("travel_allowance_min", "minutes"),
        ("promised_by", "date and time"),
    ] {
        let e = p
            .field_error(field)
            .unwrap_or_else(|| panic!("no message next to {field}"));
        assert!(e.contains(says), "{field}: {e}");
    }
    assert_eq!(p.field_error("customer.phone"), None, "an email was given");
    // What was typed stays in the form.
    assert!(p.body.contains("value=\"not-an-email\""));
    assert_eq!(order_count(&desk), before, "nothing stored");

    // Without the anti-forgery token: refused, nothing stored.
    let mut forged = valid_intake("", "Forged");
    forged.retain(|(k, _)| *k != "csrf");
    assert_eq!(b.post("/board/intake", &forged).unwrap().status, 403);
    assert_eq!(order_count(&desk), before);

    // A valid form: the order exists and the page is the order's.
    let p = b
        .post("/board/intake", &valid_intake(&csrf, "王小明"))
        .unwrap();
    assert_eq!(p.status, 303);
    let id = p.location.unwrap().rsplit('/').next().unwrap().to_string();
    let v = desk.ok("GET", &format!("/api/orders/{id}"), None).unwrap();
    assert_eq!(v["order"]["intake"]["customer"]["name"], "王小明");
    assert_eq!(v["order"]["intake"]["priority"], "urgent");
    assert_eq!(order_count(&desk), before + 1);
}

fn assignment_checks_its_token_and_the_engineer(b: &Backend) {
    let (_dir, _server, desk, mut b) = setup(b);
    let csrf = b.csrf().unwrap();
    let id = take_order(&mut b, &csrf, "A");
    let path = format!("/board/orders/{id}/assign");

    assert_eq!(
        b.post(&path, &[("csrf", "forged"), ("engineer", "eng-a")])
            .unwrap()
            .status,
        403
    );
    let p = b
        .post(&path, &[("csrf", &csrf), ("engineer", "eng-zz")])
        .unwrap();
    assert_eq!(p.status, 422);
    assert!(p.body.contains("no such engineer"));
    let v = desk.ok("GET", &format!("/api/orders/{id}"), None).unwrap();
    assert_eq!(
        v["order"]["assignee"],
        serde_json::Value::Null,
        "not assigned"
    );

    assert_eq!(
        b.post(&path, &[("csrf", &csrf), ("engineer", "eng-a")])
            .unwrap()
            .status,
        303
    );
    let v = desk.ok("GET", &format!("/api/orders/{id}"), None).unwrap();
    assert_eq!(v["order"]["assignee"], "eng-a");
    assert_eq!(v["status"], "dispatched");
    assert_eq!(
        v["order"]["created_by"], "desk",
        "intake names the dispatcher"
    );
    assert_eq!(
        v["order"]["events"][0]["by"], "desk",
        "the timeline names who dispatched"
    );
    let page = b.get(&format!("/board/orders/{id}")).unwrap();
    assert!(page.body.contains("dispatched"));
}

fn customer_text_is_shown_as_text_never_run(b: &Backend) {
    let (_dir, _server, _desk, mut b) = setup(b);
    let csrf = b.csrf().unwrap();
    let evil = "<script>alert(1)</script>";
    let p = b.post("/board/intake", &valid_intake(&csrf, evil)).unwrap();
    let order_path = p.location.unwrap();
    for path in ["/board", order_path.as_str(), "/board?part=rows"] {
        let page = b.get(path).unwrap();
        assert_eq!(page.status, 200, "{path}");
        assert!(
            page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{path} shows it as text"
        );
        assert!(
            !page.body.contains(evil),
            "{path} never carries it as markup"
        );
    }
    let page = b.get(&order_path).unwrap();
    let csp = page.csp.unwrap();
    assert!(csp.contains("default-src 'self'"), "{csp}");
}

fn one_tenant_never_sees_another_tenants_orders(b: &Backend) {
    let (_dir, server, desk, mut a) = setup(b);
    let d = &server.state.directory;
    d.add_tenant("other", "Other Service").unwrap();
    d.add_person("other", "desk2", "Desk 2", Role::Dispatcher)
        .unwrap();
    d.add_person("other", "eng-z", "Zhao", Role::Engineer)
        .unwrap();
    d.set_password("other", "desk2", PASSWORD, false).unwrap();
    let mut b = BoardClient::new(&server.url).unwrap();
    assert_eq!(b.sign_in("other", "desk2", PASSWORD).unwrap().status, 303);

    // B listens for live updates before A's order changes.
    let events = fieldwork_core::sync::client::http_client_builder()
        .unwrap()
        .timeout(Duration::from_secs(3))
        .build()
        .unwrap();
    let session = |c: &BoardClient| c.cookie("fw_session").unwrap();
    let listen = |cookie: String| {
        let r = events
            .get(format!("{}/board/events", server.url))
            .header("cookie", format!("fw_session={cookie}"))
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
        BufReader::new(r)
    };
    let mut a_events = listen(session(&a));
    let mut b_events = listen(session(&b));

    let id = desk.dispatch(1, "eng-a").unwrap();
    let mut line = String::new();
    loop {
        line.clear();
        a_events.read_line(&mut line).unwrap();
        if line.starts_with("data:") {
            break;
        }
    }
    assert!(line.contains(&id), "A hears about its own order: {line}");
    // B hears nothing (only keep-alive comments) until its read times out.
    let mut heard = String::new();
    while b_events.read_line(&mut line).is_ok_and(|n| n > 0) {
        heard.push_str(&line);
        line.clear();
    }
    assert!(
        !heard.contains(&id),
        "B must not hear about A's order: {heard}"
    );

    let board = b.get("/board").unwrap();
    assert!(!board.body.contains(&id));
    assert!(board.body.contains("No orders match."));
    let page = b.get(&format!("/board/orders/{id}")).unwrap();
    assert_eq!(page.status, 404);
    assert!(
        !page.body.contains("Customer"),
        "nothing of the order leaks"
    );
    let csrf = b.csrf().unwrap();
    let p = b
        .post(
            &format!("/board/orders/{id}/assign"),
            &[("csrf", &csrf), ("engineer", "eng-z")],
        )
        .unwrap();
    assert_ne!(p.status, 303);
    let v = desk.ok("GET", &format!("/api/orders/{id}"), None).unwrap();
    assert_eq!(
        v["order"]["assignee"], "eng-a",
        "B could not reassign A's order"
    );
    assert!(
        a.get("/board").unwrap().body.contains(&id),
        "A still sees it"
    );
}

/// An order dispatched to eng-a and visited to sign-off by eng-a's phone.
fn right_to_left_overrides_in_customer_text_stay_in_their_own_run(b: &Backend) {
    let (_dir, _server, _desk, mut b) = setup(b);
    let csrf = b.csrf().unwrap();
    // U+202E RIGHT-TO-LEFT OVERRIDE: unisolated, it would reverse the rest
    // of the row (the status, the clock) as well as the name.
    let name = "\u{202e}Ahmed 9 - refund";
    let order_path = b
        .post("/board/intake", &valid_intake(&csrf, name))
        .unwrap()
        .location
        .unwrap();
    for path in ["/board", order_path.as_str(), "/board?part=rows"] {
        let page = b.get(path).unwrap();
        assert!(
            page.body.contains(&format!("<bdi>{name}</bdi>")),
            "{path} isolates the name"
        );
    }
}

fn work_refused_from_a_phone_shows_on_the_order_page(b: &Backend) {
    let (dir, server, desk, mut b) = setup(b);
    let id = desk.dispatch(1, "eng-a").unwrap();
    let home = dir.path().join("phone");
    std::fs::create_dir_all(&home).unwrap();
    let phone = Device::enrol(&server, &desk, "eng-a", &home, chrono_now()).unwrap();
    phone.sync.sync_now().unwrap();
    let page = b.get(&format!("/board/orders/{id}")).unwrap();
    assert!(!page.body.contains("Refused from phones"));
    // Only the desk assigns: the server refuses the phone's reassignment.
    phone.fw.desk().assign(&id, "eng-b").unwrap();
    phone.sync.sync_now().unwrap();
    assert_eq!(phone.fw.quarantined().unwrap().len(), 1);
    let page = b.get(&format!("/board/orders/{id}")).unwrap();
    assert!(page.body.contains("Refused from phones"), "{}", page.body);
    assert!(page.body.contains("the desk assigns orders"));
    assert!(page.body.contains(&phone.fw.device_id()));
}

/// How the server is reached does not depend on its storage: SQLite only.
#[test]
fn the_session_cookie_is_secure_when_the_board_is_reached_over_https() {
    use fieldwork_server::https::Reached;
    let start = |reached: Reached| {
        let b = Backend::sqlite().unwrap();
        let (server, _desk) = Server::start_reached(&b, reached).unwrap();
        (b, server)
    };
    let sign_in = |server: &Server, headers: &[(&str, &str)]| {
        server
            .state
            .directory
            .set_password("acme", "desk", PASSWORD, false)
            .unwrap();
        let form = BoardClient::new(&server.url)
            .unwrap()
            .get_with("/board/sign-in", headers)
            .unwrap();
        let csrf = form.csrf().unwrap();
        // The post carries the same headers as a proxy would add.
        let http = fieldwork_core::sync::client::http_client_builder()
            .unwrap()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let cookie = form
            .set_cookie
            .iter()
            .find_map(|c| c.split(';').next())
            .unwrap()
            .to_string();
        let mut req = http
            .post(format!("{}/board/sign-in", server.url))
            .header("cookie", cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!(
                "csrf={csrf}&tenant=acme&person=desk&password={}",
                fieldwork_tests::board::encode(PASSWORD)
            ));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let r = req.send().unwrap();
        assert_eq!(r.status().as_u16(), 303);
        let cookies: Vec<String> = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect();
        (
            form,
            cookies
                .into_iter()
                .find(|c| c.starts_with("fw_session="))
                .unwrap_or_default(),
        )
    };
    let https = [("x-forwarded-proto", "https")];

    // Plain HTTP, and a forwarded header from a peer nobody said to trust.
    let (_b, plain) = start(Reached::default());
    let (form, cookie) = sign_in(&plain, &https);
    assert!(!cookie.is_empty());
    assert!(!cookie.contains("Secure"), "{cookie}");
    assert!(form.set_cookie.iter().all(|c| !c.contains("Secure")));

    // Behind a trusted proxy that says HTTPS.
    let proxy = Reached::new(None, Some("127.0.0.1")).unwrap();
    let (_b, behind) = start(proxy);
    let (form, cookie) = sign_in(&behind, &https);
    assert!(cookie.ends_with("; Secure"), "{cookie}");
    assert!(form.set_cookie.iter().all(|c| c.ends_with("; Secure")));
    let (_, cookie) = sign_in(&behind, &[]);
    assert!(
        !cookie.contains("Secure"),
        "the proxy said plain HTTP: {cookie}"
    );

    // A public https URL: always.
    let public = Reached::new(Some("https://board.example.com"), None).unwrap();
    let (_b, public) = start(public);
    let (_, cookie) = sign_in(&public, &[]);
    assert!(cookie.ends_with("; Secure"), "{cookie}");
    assert!(Reached::new(Some("ftp://x"), None).is_err());
    assert!(Reached::new(None, Some("not-an-ip")).is_err());
}

/// One intent, one handler: a follow-up call or a complaint made through
/// the dispatcher API reaches the boards' live updates, as one made on the
/// board does (both go through the server's desk service).
fn the_dispatcher_api_tells_the_boards_as_the_board_does(b: &Backend) {
    let (dir, server, desk, mut board) = setup(b);
    let id = serviced_order(&server, &desk, dir.path(), 1).unwrap();
    let mut heard = server.state.changed.subscribe();
    let mut drain = || {
        let mut ids = Vec::new();
        while let Ok(c) = heard.try_recv() {
            assert_eq!(c.tenant, "acme");
            ids.extend(c.ids);
        }
        ids
    };
    desk.ok(
        "POST",
        &format!("/api/orders/{id}/follow-ups"),
        Some(serde_json::json!({ "reached": true, "rating": "satisfied", "aspect": null, "comment": null })),
    )
    .unwrap();
    assert_eq!(drain(), [id.as_str()], "the API's follow-up call");
    desk.ok(
        "POST",
        &format!("/api/orders/{id}/complaints"),
        Some(serde_json::json!({ "what": "arrived late", "category": "timeliness" })),
    )
    .unwrap();
    assert_eq!(drain(), [id.as_str()], "the API's complaint");
    // The board's own registration is heard the same way.
    let csrf = board.csrf().unwrap();
    let p = board
        .post(
            &format!("/board/orders/{id}/complaints"),
            &[
                ("csrf", &csrf),
                ("what", "rude on the phone"),
                ("category", "service_attitude"),
            ],
        )
        .unwrap();
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(drain(), [id.as_str()], "the board's complaint");
}
