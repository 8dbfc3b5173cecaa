//! The service center's settings on the board: a supervisor changes them,
//! a dispatcher cannot, bad settings are refused with the reason and
//! nothing saved; times show in the service center's zone; the follow-up
//! queue says who may be called now and who must wait out rest hours.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use fieldwork_tests::backend::Backend;
use fieldwork_tests::board::{BoardClient, chrono_now, serviced_order};
use fieldwork_tests::harness::{Server, TENANT};

fieldwork_tests::conformance!(
    a_supervisor_changes_the_settings_and_bad_ones_change_nothing,
    the_follow_up_queue_shows_who_may_be_called_now_in_local_time,
);

const PASSWORD: &str = "correct horse battery";

fn signed_in(server: &Server, person: &str, supervisor: bool) -> BoardClient {
    server
        .state
        .directory
        .set_password(TENANT, person, PASSWORD, supervisor)
        .unwrap();
    let mut b = BoardClient::new(&server.url).unwrap();
    assert_eq!(b.sign_in(TENANT, person, PASSWORD).unwrap().status, 303);
    b
}

/// The settings form as the page shows it, with `changes` applied.
fn form(page: &str, csrf: &str, changes: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut out = vec![("csrf".to_string(), csrf.to_string())];
    for chunk in page.split("<input ").skip(1) {
        let attr = |name: &str| {
            let key = format!("{name}=\"");
            chunk.find(&key).map(|at| {
                chunk[at + key.len()..]
                    .split('"')
                    .next()
                    .unwrap_or("")
                    .to_string()
            })
        };
        if let (Some(n), Some(v)) = (attr("name"), attr("value"))
            && n != "csrf"
        {
            out.push((n, v));
        }
    }
    out.push(("language".into(), "en".into()));
    for (k, v) in changes {
        out.retain(|(n, _)| n != k);
        out.push(((*k).into(), (*v).into()));
    }
    out
}

fn post(b: &mut BoardClient, fields: &[(String, String)]) -> fieldwork_tests::board::Page {
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    b.post("/board/settings", &pairs).unwrap()
}

fn versions(server: &Server) -> usize {
    let store = server.state.tenant(TENANT).unwrap();
    store.settings().unwrap().history().len()
}

fn a_supervisor_changes_the_settings_and_bad_ones_change_nothing(b: &Backend) {
    let (server, _desk) = Server::start_on(b).unwrap();
    let mut sup = signed_in(&server, "desk", true);
    let page = sup.get("/board/settings").unwrap();
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("value=\"UTC\""),
        "the default zone shows"
    );
    let csrf = sup.csrf().unwrap();

    for (field, value, says) in [
        ("time_zone", "Asia/Beijing", "time_zone"),
        ("calling_hours", "9-12", "calling_hours"),
        ("calling_hours", "14:00-12:00", "ends before it starts"),
        ("warranty_days", "-1", "warranty_days must be positive"),
        (
            "repair_exception_limit_min",
            "60",
            "shorter than repair_limit_min",
        ),
        ("dispatch_limit_min", "four hours", "whole number"),
        ("language", "fr", "zh-CN or en"),
    ] {
        let p = post(&mut sup, &form(&page.body, &csrf, &[(field, value)]));
        assert_eq!(p.status, 422, "{field}={value}");
        assert!(p.body.contains(says), "{field}={value}: no {says:?}");
        assert_eq!(versions(&server), 0, "nothing saved for {field}={value}");
    }

    let good = form(
        &page.body,
        &csrf,
        &[
            ("time_zone", "Asia/Shanghai"),
            ("dispatch_limit_min", "180"),
        ],
    );
    let p = post(&mut sup, &good);
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(versions(&server), 1);
    let page = sup.get("/board/settings").unwrap();
    assert!(page.body.contains("value=\"Asia/Shanghai\""));
    assert!(page.body.contains("value=\"180\""));
    assert!(
        page.body.contains("Asia/Shanghai +08:00"),
        "the header names the zone"
    );
    assert!(!page.body.contains(" UTC<"), "no time shown in UTC");

    // A dispatcher reads the settings but cannot change them.
    server
        .state
        .directory
        .add_person(
            TENANT,
            "desk-2",
            "Desk Two",
            fieldwork_server::auth::Role::Dispatcher,
        )
        .unwrap();
    let mut dispatcher = signed_in(&server, "desk-2", false);
    let csrf = dispatcher.csrf().unwrap();
    let read = dispatcher.get("/board/settings").unwrap();
    assert!(read.body.contains("Only a supervisor"));
    let p = post(
        &mut dispatcher,
        &form(&page.body, &csrf, &[("dispatch_limit_min", "60")]),
    );
    assert_eq!(p.status, 422);
    assert!(p.body.contains("only a supervisor"), "{}", p.body);
    assert_eq!(versions(&server), 1);
}

/// Calling hours `HH:00-HH:00` in zone `Etc/GMT-N` (UTC+N) chosen so that
/// local time now is mid-day: far from midnight, whatever the hour in UTC.
fn midday_zone() -> (String, i64) {
    let utc_hour = (chrono_now() / 3_600_000) % 24;
    let offset = (12 - utc_hour + 24 + 12) % 24 - 12; // -12..=11
    let zone = if offset >= 0 {
        format!("Etc/GMT-{offset}")
    } else {
        format!("Etc/GMT+{}", -offset)
    };
    (zone, (utc_hour + offset).rem_euclid(24))
}

fn the_follow_up_queue_shows_who_may_be_called_now_in_local_time(b: &Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (server, desk) = Server::start_on(b).unwrap();
    let id = serviced_order(&server, &desk, dir.path(), 1).unwrap();
    let mut sup = signed_in(&server, "desk", true);
    let page = sup.get("/board/settings").unwrap();
    let csrf = sup.csrf().unwrap();
    let (zone, hour) = midday_zone();
    let around_now = format!("{:02}:00-{:02}:00", hour - 2, hour + 2);
    let p = post(
        &mut sup,
        &form(
            &page.body,
            &csrf,
            &[("time_zone", &zone), ("calling_hours", &around_now)],
        ),
    );
    assert_eq!(p.status, 303, "{}", p.body);
    let queue = sup.get("/board/follow-ups").unwrap();
    assert!(queue.body.contains(&format!("data-order=\"{id}\"")));
    assert!(
        queue.body.contains("data-callable=\"yes\""),
        "within calling hours"
    );

    // Calling hours that ended an hour ago: rest hours now, next call tomorrow.
    let earlier = format!("{:02}:00-{:02}:00", hour - 3, hour - 1);
    let p = post(
        &mut sup,
        &form(
            &page.body,
            &csrf,
            &[("time_zone", &zone), ("calling_hours", &earlier)],
        ),
    );
    assert_eq!(p.status, 303, "{}", p.body);
    let queue = sup.get("/board/follow-ups").unwrap();
    assert!(queue.body.contains("data-callable=\"no\""), "rest hours");
    assert!(!queue.body.contains("data-callable=\"yes\""));
    let next = format!(" {:02}:00", hour - 3);
    assert!(queue.body.contains("wait until "), "says until when");
    assert!(
        queue.body.contains(&next),
        "the next call at {next} local time"
    );
}
