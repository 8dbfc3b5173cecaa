//! The desk's queues on the board over HTTP: follow-up calls, complaints
//! through their workflow (only a supervisor picks), mail-in milestones,
//! the supervisor's statistics and CSV.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use fieldwork_server::auth::Role;
use fieldwork_tests::backend::Backend;
use fieldwork_tests::board::{
    BoardClient, PASSWORD, serviced_order, setup, take_order, valid_intake,
};

fieldwork_tests::conformance!(
    follow_up_calls_are_queued_recorded_and_validated,
    complaints_move_through_the_workflow_and_only_a_supervisor_picks,
    mail_in_repairs_list_their_milestones_and_record_them,
    statistics_are_for_the_supervisor_with_charts_and_csv,
    registering_a_complaint_needs_what_and_a_category,
);

fn follow_up_calls_are_queued_recorded_and_validated(b: &Backend) {
    let (dir, server, desk, mut b) = setup(b);
    let id = serviced_order(&server, &desk, dir.path(), 1).unwrap();
    let queue = b.get("/board/follow-ups").unwrap();
    assert!(
        queue.body.contains(&format!("data-order=\"{id}\"")),
        "the serviced order waits for its call"
    );
    let csrf = b.csrf().unwrap();
    let path = format!("/board/orders/{id}/follow-up");

    assert_eq!(
        b.post(&path, &[("csrf", "x"), ("reached", "yes")])
            .unwrap()
            .status,
        403
    );
    let p = b
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("reached", "yes"),
                ("rating", "unsatisfied"),
            ],
        )
        .unwrap();
    assert_eq!(p.status, 422);
    assert!(p.field_error("aspect").unwrap().contains("which aspect"));
    let p = b
        .post(&path, &[("csrf", &csrf), ("rating", "satisfied")])
        .unwrap();
    assert!(p.field_error("rating").unwrap().contains("did not reach"));
    let v = desk.ok("GET", &format!("/api/orders/{id}"), None).unwrap();
    assert!(
        v["order"]["follow_ups"].as_array().unwrap().is_empty(),
        "nothing stored"
    );

    // Not reached: recorded, still queued.
    assert_eq!(b.post(&path, &[("csrf", &csrf)]).unwrap().status, 303);
    assert!(
        b.get("/board/follow-ups")
            .unwrap()
            .body
            .contains(&format!("data-order=\"{id}\""))
    );
    // Reached and unsatisfied: recorded, off the queue, a complaint candidate.
    let p = b
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("reached", "yes"),
                ("rating", "unsatisfied"),
                ("aspect", "waiting time"),
            ],
        )
        .unwrap();
    assert_eq!(p.status, 303);
    let v = desk.ok("GET", &format!("/api/orders/{id}"), None).unwrap();
    assert_eq!(v["status"], "followed_up");
    assert_eq!(v["order"]["follow_ups"].as_array().unwrap().len(), 2);
    assert_eq!(v["order"]["complaints"][0]["stage"], "candidate");
    assert!(
        !b.get("/board/follow-ups")
            .unwrap()
            .body
            .contains(&format!("data-order=\"{id}\""))
    );
    assert!(
        b.get("/board/complaints")
            .unwrap()
            .body
            .contains("waiting time")
    );
}

fn complaints_move_through_the_workflow_and_only_a_supervisor_picks(b: &Backend) {
    let (dir, server, desk, mut b) = setup(b);
    let id = serviced_order(&server, &desk, dir.path(), 1).unwrap();
    // The follow-up call finds the customer unsatisfied: a complaint candidate.
    desk.ok(
        "POST",
        &format!("/api/orders/{id}/follow-ups"),
        Some(serde_json::json!({ "reached": true, "rating": "unsatisfied", "aspect": "late", "comment": null })),
    )
    .unwrap();
    let v = desk.ok("GET", &format!("/api/orders/{id}"), None).unwrap();
    let cid = v["order"]["complaints"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/board/orders/{id}/complaints/{cid}");
    let csrf = b.csrf().unwrap();
    let stage = || {
        desk.ok("GET", &format!("/api/orders/{id}"), None).unwrap()["order"]["complaints"][0]["stage"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let mut step = |form: &[(&str, &str)]| {
        let mut f = vec![("csrf", csrf.as_str())];
        f.extend_from_slice(form);
        b.post(&path, &f).unwrap()
    };

    assert_eq!(step(&[("step", "register")]).status, 303);
    assert_eq!(stage(), "registered");
    let p = step(&[("step", "judge"), ("stands", "no")]);
    assert_eq!(p.status, 422);
    assert!(p.body.contains("explanation"), "the reason is shown");
    assert_eq!(stage(), "registered", "nothing stored");
    assert_eq!(step(&[("step", "judge"), ("stands", "yes")]).status, 303);
    assert_eq!(
        step(&[("step", "responsible"), ("party", "eng-a")]).status,
        303
    );
    assert_eq!(
        step(&[("step", "investigate"), ("findings", "late by 40 min")]).status,
        303
    );
    assert_eq!(
        step(&[
            ("step", "propose"),
            ("resolutions", "apology call\nfree maintenance visit")
        ])
        .status,
        303
    );
    assert_eq!(stage(), "resolution_proposed");
    let p = step(&[("step", "pick"), ("index", "1")]);
    assert_eq!(p.status, 422);
    assert!(p.body.contains("only a supervisor picks the resolution"));

    // The supervisor signs in and picks.
    server
        .state
        .directory
        .add_person("acme", "sup", "Supervisor Wu", Role::Dispatcher)
        .unwrap();
    server
        .state
        .directory
        .set_password("acme", "sup", PASSWORD, true)
        .unwrap();
    let mut sup = BoardClient::new(&server.url).unwrap();
    sup.sign_in("acme", "sup", PASSWORD).unwrap();
    let sup_csrf = sup.csrf().unwrap();
    let p = sup
        .post(
            &path,
            &[("csrf", &sup_csrf), ("step", "pick"), ("index", "1")],
        )
        .unwrap();
    assert_eq!(p.status, 303);

    assert_eq!(
        step(&[("step", "accept"), ("signer_name", "客户 1")]).status,
        303
    );
    assert_eq!(
        step(&[("step", "close"), ("category", "timeliness")]).status,
        422,
        "feedback first"
    );
    assert_eq!(
        step(&[("step", "feedback"), ("text", "fine now")]).status,
        303
    );
    assert_eq!(
        step(&[("step", "close"), ("category", "timeliness")]).status,
        303
    );
    let c = &desk.ok("GET", &format!("/api/orders/{id}"), None).unwrap()["order"]["complaints"][0];
    assert_eq!(c["stage"], "closed");
    assert_eq!(c["resolution"], "free maintenance visit");
    assert_eq!(c["category"], "timeliness");
}

fn mail_in_repairs_list_their_milestones_and_record_them(b: &Backend) {
    let (_dir, _server, _desk, mut b) = setup(b);
    let csrf = b.csrf().unwrap();
    let mut form = valid_intake(&csrf, "Mail customer");
    form.retain(|(k, _)| *k != "channel");
    form.push(("channel", "mail_in"));
    let id = b.post("/board/intake", &form).unwrap().location.unwrap();
    let id = id.rsplit('/').next().unwrap().to_string();
    let page = b.get("/board/mail-in").unwrap();
    assert!(page.body.contains(&format!("data-order=\"{id}\"")));
    assert!(page.body.contains("ship to repair center"));
    let path = format!("/board/orders/{id}/mail-in");
    let p = b
        .post(&path, &[("csrf", &csrf), ("milestone", "teleported")])
        .unwrap();
    assert_eq!(p.status, 422);
    assert!(p.body.contains("choose a milestone"));
    assert_eq!(
        b.post(&path, &[("csrf", &csrf), ("milestone", "shipped")])
            .unwrap()
            .status,
        303
    );
    let page = b.get("/board/mail-in").unwrap();
    assert!(
        page.body.contains("ship to repair center: done"),
        "the milestone is done"
    );
}

fn statistics_are_for_the_supervisor_with_charts_and_csv(b: &Backend) {
    let (dir, server, desk, mut b) = setup(b);
    serviced_order(&server, &desk, dir.path(), 1).unwrap();
    assert_eq!(
        b.get("/board/stats").unwrap().status,
        403,
        "a dispatcher is not the supervisor"
    );
    assert_eq!(b.get("/board/stats.csv").unwrap().status, 403);

    server
        .state
        .directory
        .set_password("acme", "desk", PASSWORD, true)
        .unwrap();
    let page = b.get("/board/stats").unwrap();
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<svg"), "charts drawn by the server");
    assert!(page.body.contains("sla.dispatch.compliance_pct"));
    let csv = b.get("/board/stats.csv?period=week").unwrap();
    assert_eq!(csv.status, 200);
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(lines[0], "period,figure,label,value");
    let value = |figure: &str| {
        lines
            .iter()
            .find(|l| l.contains(&format!(",\"{figure}\",")))
            .and_then(|l| l.rsplit(',').next())
            .map(str::to_string)
    };
    assert_eq!(value("requests").as_deref(), Some("1"));
    assert_eq!(value("requests.channel.phone").as_deref(), Some("1"));
    assert_eq!(value("satisfaction.on_site_pct").as_deref(), Some("100"));
    assert_eq!(value("parts.used.RLY").as_deref(), Some("1"));
    assert_eq!(value("first_time_fix_pct").as_deref(), Some("100"));
    assert!(value("repair_time.p90_h").is_some());
    assert!(value("arrival.on_time_pct.eng-a").is_some());
}

fn registering_a_complaint_needs_what_and_a_category(b: &Backend) {
    let (_dir, _server, desk, mut b) = setup(b);
    let csrf = b.csrf().unwrap();
    let id = take_order(&mut b, &csrf, "C");
    let path = format!("/board/orders/{id}/complaints");
    let complaints = || {
        desk.ok("GET", &format!("/api/orders/{id}"), None).unwrap()["order"]["complaints"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(
        b.post(
            &path,
            &[("csrf", "x"), ("what", "late"), ("category", "timeliness")]
        )
        .unwrap()
        .status,
        403
    );
    let p = b
        .post(
            &path,
            &[("csrf", &csrf), ("what", " "), ("category", "timeliness")],
        )
        .unwrap();
    assert_eq!(p.status, 422);
    assert!(p.body.contains("what"), "says what is missing");
    let p = b
        .post(
            &path,
            &[("csrf", &csrf), ("what", "late"), ("category", "weather")],
        )
        .unwrap();
    assert_eq!(p.status, 422);
    assert!(p.body.contains("choose a category"));
    assert_eq!(complaints(), 0, "nothing stored");
    let p = b
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("what", "arrived two hours late"),
                ("category", "timeliness"),
                ("major", "yes"),
            ],
        )
        .unwrap();
    assert_eq!(p.status, 303);
    let v = desk.ok("GET", &format!("/api/orders/{id}"), None).unwrap();
    let c = &v["order"]["complaints"][0];
    assert_eq!(
        (c["stage"].as_str(), c["major"].as_bool(), c["by"].as_str()),
        (Some("registered"), Some(true), Some("desk"))
    );
}
