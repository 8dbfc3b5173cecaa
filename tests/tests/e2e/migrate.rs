//! `fieldwork admin migrate --from-data DIR --to-database URL` in the middle
//! of a fleet's day: an embedded server process with phones at work (one of
//! them offline with work in hand) is stopped, moved to PostgreSQL and
//! started there. The desk's orders read the same, its token and the board
//! password still work, the photos came along, and the phones carry on
//! with their tokens and cursors, without priming again.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use fieldwork_core::model::PhotoKind;
use fieldwork_tests::backend::{Backend, PG_ENV};
use fieldwork_tests::board::BoardClient;
use fieldwork_tests::harness::{Desk, Device};
use fieldwork_tests::process::{ServerProcess, desk, provision, set_password};
use serde_json::Value;
use std::ffi::OsString;
use std::path::Path;
use std::process::Command;

const T0: i64 = 1_795_000_000_000;
const PASSWORD: &str = "correct horse battery staple";

fn exe() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_fieldwork-e2e"))
}

fn order(d: &Desk, id: &str) -> Value {
    d.ok("GET", &format!("/api/orders/{id}"), None).unwrap()
}

/// `v` without what depends on the reading's moment (time left on a clock).
fn as_stored(mut v: Value) -> Value {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(m) => {
                m.remove("remaining_ms");
                m.values_mut().for_each(strip);
            }
            Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut v);
    v
}

fn migrate(data: &Path, url: &str) -> std::process::Output {
    Command::new(exe())
        .args(["admin", "migrate", "--from-data"])
        .arg(data)
        .args(["--to-database", url])
        .output()
        .unwrap()
}

#[test]
fn a_server_moved_to_postgresql_mid_day_serves_on_and_the_phones_carry_on() {
    let Some(Backend::Postgres(pg)) = Backend::postgres().unwrap() else {
        eprintln!("{PG_ENV} is not set: the move to PostgreSQL is not tried here");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let token = provision(exe(), &data).unwrap();
    let sqlite = vec![OsString::from("--data"), data.clone().into()];
    set_password(exe(), &sqlite, "desk", PASSWORD).unwrap();
    let server = ServerProcess::start(exe(), &data).unwrap();
    let d = desk(&server.url, &token).unwrap();

    // The morning: orders out, two phones at work, a photo sent.
    let a_orders: Vec<String> = (0..3).map(|n| d.dispatch(n, "eng-a").unwrap()).collect();
    let b_order = d.dispatch(10, "eng-b").unwrap();
    let home = |who: &str| {
        let p = dir.path().join(who);
        std::fs::create_dir_all(&p).unwrap();
        p
    };
    let mut a = Device::enrol_at(&server.url, &d, "eng-a", &home("a"), T0).unwrap();
    let mut b = Device::enrol_at(&server.url, &d, "eng-b", &home("b"), T0).unwrap();
    a.sync.sync_now().unwrap();
    b.sync.sync_now().unwrap();
    for id in &a_orders {
        a.fw.accept(id).unwrap();
        a.fw.add_note(id, "on my way").unwrap();
    }
    let plate = fieldwork_tests::jpeg(200_000, 3);
    let plate_file = dir.path().join("plate.jpg");
    std::fs::write(&plate_file, &plate).unwrap();
    let p =
        a.fw.attach_photo(&a_orders[0], &plate_file, PhotoKind::SerialPlate, None)
            .unwrap();
    a.sync.sync_now().unwrap();
    b.fw.accept(&b_order).unwrap();
    b.sync.sync_now().unwrap();
    assert_eq!(a.fw.blobs_waiting().unwrap().count, 0);
    // The desk reassigns one of a's orders to b: grants and revocations.
    d.ok(
        "POST",
        &format!("/api/orders/{}/assign", a_orders[2]),
        Some(serde_json::json!({ "engineer": "eng-b" })),
    )
    .unwrap();
    a.sync.sync_now().unwrap();
    b.sync.sync_now().unwrap();
    let before: Vec<Value> = a_orders
        .iter()
        .chain([&b_order])
        .map(|id| as_stored(order(&d, id)))
        .collect();
    let listed_before = as_stored(d.ok("GET", "/api/orders", None).unwrap());
    let cursors = (a.fw.sync_cursor().unwrap(), b.fw.sync_cursor().unwrap());

    // b works on while the server is down for the move.
    b.fw.add_note(&b_order, "diagnosed while the server moved")
        .unwrap();

    // The move: stop, copy, start on PostgreSQL.
    drop(server);
    let out = migrate(&data, &pg.url);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains("moved 1 tenant(s)") && said.contains("1 photo(s)"),
        "{said}"
    );
    let postgres = vec![OsString::from("--database"), pg.url.clone().into()];
    let server = ServerProcess::start_on(exe(), &postgres).unwrap();
    let d = desk(&server.url, &token).unwrap();

    // The desk sees the same service center.
    let after: Vec<Value> = a_orders
        .iter()
        .chain([&b_order])
        .map(|id| as_stored(order(&d, id)))
        .collect();
    assert!(after == before, "every order reads the same");
    assert!(as_stored(d.ok("GET", "/api/orders", None).unwrap()) == listed_before);
    assert_eq!(d.photo(&a_orders[0], &p.id).unwrap(), (200, plate.clone()));
    let mut board = BoardClient::new(&server.url).unwrap();
    let signed = board.sign_in("acme", "desk", PASSWORD).unwrap();
    assert_eq!(signed.status, 303, "the board password came along");

    // The phones carry on with their tokens and cursors: nothing primed.
    a.reconnect(&server.url).unwrap();
    b.reconnect(&server.url).unwrap();
    let s = a.sync.sync_now().unwrap();
    assert_eq!((s.pulled_docs, s.pulled_changes), (0, 0), "{s:?}");
    assert_eq!(a.fw.sync_cursor().unwrap(), cursors.0);
    let s = b.sync.sync_now().unwrap();
    assert_eq!((s.pulled_docs, s.refused_docs), (0, 0), "{s:?}");
    assert_eq!(b.fw.pending_changes().unwrap(), 0);
    assert!(
        b.fw.sync_cursor().unwrap() > cursors.1,
        "its own note came back numbered"
    );
    assert!(
        d.notes(&b_order)
            .unwrap()
            .contains(&"diagnosed while the server moved".to_string())
    );

    // New work both ways.
    let new = d.dispatch(20, "eng-a").unwrap();
    let s = a.sync.sync_now().unwrap();
    assert_eq!(s.pulled_docs, 1, "only the new order arrives whole: {s:?}");
    a.fw.accept(&new).unwrap();
    a.fw.add_note(&a_orders[1], "fixed after the move").unwrap();
    a.sync.sync_now().unwrap();
    assert_eq!(order(&d, &new)["status"], "accepted");
    assert!(
        d.notes(&a_orders[1])
            .unwrap()
            .contains(&"fixed after the move".to_string())
    );
    // A second enrolment works too: the directory is whole.
    let c = Device::enrol_at(&server.url, &d, "eng-a", &home("c"), T0).unwrap();
    c.sync.sync_now().unwrap();
    assert!(c.fw.order(&new).is_ok());

    // The same move again is refused: the database serves a tenant now.
    let out = migrate(&data, &pg.url);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already serves 1 tenant(s)"));
}
