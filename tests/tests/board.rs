//! The dispatcher board over HTTP: who may sign in, anti-forgery on every
//! form, bad input refused next to its field with nothing stored, customer
//! text escaped, and one tenant never seeing another's orders — on pages or
//! in the live event stream.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use fieldwork_server::auth::Role;
use fieldwork_tests::board::BoardClient;
use fieldwork_tests::harness::{Desk, Device, Server};
use std::io::{BufRead, BufReader};
use std::time::Duration;

const PASSWORD: &str = "correct horse battery";

fn setup() -> (tempfile::TempDir, Server, Desk, BoardClient) {
    let dir = tempfile::tempdir().unwrap();
    let (server, desk) = Server::start(&dir.path().join("s")).unwrap();
    server
        .state
        .directory
        .set_password("acme", "desk", PASSWORD, false)
        .unwrap();
    let mut board = BoardClient::new(&server.url).unwrap();
    assert_eq!(board.sign_in("acme", "desk", PASSWORD).unwrap().status, 303);
    (dir, server, desk, board)
}

fn order_count(desk: &Desk) -> usize {
    desk.ok("GET", "/api/orders?limit=500", None)
        .unwrap()
        .as_array()
        .unwrap()
        .len()
}

fn valid_intake<'a>(csrf: &'a str, name: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("channel", "phone"),
        ("customer.name", name),
        ("customer.phone", "+86 21 5555 0101"),
        ("customer.address", "上海市 1 号"),
        ("product.model", "AC-900"),
        ("product.serial", "SN-1"),
        ("fault.symptoms", "no cooling"),
        ("category", "product_quality"),
        ("priority", "urgent"),
    ]
}

#[test]
fn only_dispatchers_with_a_password_sign_in_and_sessions_end_at_sign_out() {
    let dir = tempfile::tempdir().unwrap();
    let (server, desk) = Server::start(&dir.path().join("s")).unwrap();
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

#[test]
fn the_intake_form_shows_every_problem_next_to_its_field_and_stores_nothing() {
    let (_dir, _server, desk, mut b) = setup();
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

#[test]
fn assignment_checks_its_token_and_the_engineer() {
    let (_dir, _server, desk, mut b) = setup();
    let csrf = b.csrf().unwrap();
    let id = b
        .post("/board/intake", &valid_intake(&csrf, "A"))
        .unwrap()
        .location
        .unwrap();
    let id = id.rsplit('/').next().unwrap();
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
    let page = b.get(&format!("/board/orders/{id}")).unwrap();
    assert!(page.body.contains("dispatched"));
}

#[test]
fn customer_text_is_shown_as_text_never_run() {
    let (_dir, _server, _desk, mut b) = setup();
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

#[test]
fn one_tenant_never_sees_another_tenants_orders() {
    let (_dir, server, desk, mut a) = setup();
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
