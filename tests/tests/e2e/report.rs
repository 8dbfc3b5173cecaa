//! The PDF service report at both ends: the phone makes it offline, the desk
//! gets the same bytes from the dispatcher API and a link on the board, with
//! the photos the phone took drawn in it. A real server on loopback, real
//! HTTP, both storages; the PDFs read back with poppler and qpdf.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use fieldwork_core::model::*;
use fieldwork_tests::backend::Backend;
use fieldwork_tests::board::{BoardClient, PASSWORD};
use fieldwork_tests::harness::{Device, Server};
use std::path::{Path, PathBuf};
use std::process::Command;

fieldwork_tests::conformance!(the_desk_gets_the_pdf_the_phone_made_with_its_photos,);

const T0: i64 = 1_795_000_000_000;

fn font() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/assets/fonts/NotoSansSC-Regular.otf")
}

fn tool(name: &str, args: &[&str]) -> String {
    let out = Command::new(name)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{name}: {e} (scripts/test installs poppler-utils and qpdf)"));
    assert!(out.status.success(), "{name} {args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

fn the_desk_gets_the_pdf_the_phone_made_with_its_photos(b: &Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (server, desk) = Server::start_on(b).unwrap();
    desk.ok(
        "POST",
        "/api/catalog",
        Some(serde_json::to_value(fieldwork_tests::relay()).unwrap()),
    )
    .unwrap();
    let id = desk.dispatch(1, "eng-a").unwrap();
    let home = dir.path().join("phone");
    std::fs::create_dir_all(&home).unwrap();
    let phone = Device::enrol(&server, &desk, "eng-a", &home, T0).unwrap();
    phone.sync.sync_now().unwrap();
    phone.fw.receive_stock("RLY", 1).unwrap();

    // Offline at the customer's: two photos, the visit, the signature, the PDF.
    phone.sync.set_online(false);
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("../server/assets");
    phone
        .fw
        .attach_photo(
            &id,
            &fixtures.join("compressor.jpg"),
            PhotoKind::Fault,
            Some("压缩机"),
        )
        .unwrap();
    phone
        .fw
        .attach_photo(
            &id,
            &assets.join("demo-nameplate.png"),
            PhotoKind::SerialPlate,
            None,
        )
        .unwrap();
    fieldwork_tests::play_visit(&phone.fw, &id, &|ms| phone.clock.advance_ms(ms)).unwrap();
    phone.fw.use_report_font(&font()).unwrap();
    let on_phone = phone.fw.service_report_pdf(&id).unwrap();
    // Left under target/ for a look.
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/report-pdf");
    std::fs::create_dir_all(&out).unwrap();
    let path = out.join(format!("report-photos-{}.pdf", b.name()));
    std::fs::write(&path, &on_phone).unwrap();
    let p = path.to_str().unwrap();
    assert!(tool("qpdf", &["--check", p]).contains("No syntax or stream encoding errors"));
    let images = tool("pdfimages", &["-list", p]);
    assert_eq!(
        images.lines().skip(2).count(),
        2,
        "both photos drawn:\n{images}"
    );

    // The device CLI (support, scripts) makes the same file from the same store.
    std::fs::write(
        home.join("device.json"),
        serde_json::json!({ "engineer": "eng-a", "server": server.url, "token": phone.token })
            .to_string(),
    )
    .unwrap();
    let from_cli = dir.path().join("cli.pdf");
    let out = Command::new(env!("CARGO_BIN_EXE_fieldwork-e2e"))
        .args([
            "device",
            "--store",
            home.to_str().unwrap(),
            "report",
            &id,
            "--pdf",
        ])
        .arg(&from_cli)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        std::fs::read(&from_cli).unwrap() == on_phone,
        "the CLI's PDF differs"
    );

    // Back online: the desk's copy is the phone's, byte for byte.
    phone.sync.set_online(true);
    for _ in 0..5 {
        phone.sync.sync_now().unwrap();
        if phone.fw.blobs_waiting().unwrap().count == 0 {
            break;
        }
    }
    let r = fieldwork_core::sync::client::http_client()
        .unwrap()
        .get(format!("{}/api/orders/{id}/report.pdf", server.url))
        .bearer_auth(desk.token())
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/pdf"
    );
    let at_desk = r.bytes().unwrap().to_vec();
    assert!(
        at_desk == on_phone,
        "the desk's PDF differs from the phone's"
    );
    let text = tool("pdftotext", &[p, "-"]);
    let hash = match phone.fw.order(&id).unwrap().order.sign_off {
        Some(SignOff::Signed(s)) => s.report_sha256,
        other => panic!("{other:?}"),
    };
    assert!(
        text.contains(&hash[..32]) && text.contains("压缩机"),
        "{text}"
    );

    // No token, no report; no such order, 404.
    let anon = fieldwork_core::sync::client::http_client()
        .unwrap()
        .get(format!("{}/api/orders/{id}/report.pdf", server.url))
        .send()
        .unwrap();
    assert_eq!(anon.status().as_u16(), 401);
    let (status, _) = desk
        .call("GET", "/api/orders/wo-nope/report.pdf", None)
        .unwrap();
    assert_eq!(status, 404);

    // The board's order page links it, for a signed-in dispatcher only.
    server
        .state
        .directory
        .set_password("acme", "desk", PASSWORD, false)
        .unwrap();
    let mut board = BoardClient::new(&server.url).unwrap();
    let link = format!("/board/orders/{id}/report.pdf");
    assert_ne!(board.get(&link).unwrap().status, 200, "signed out");
    assert_eq!(board.sign_in("acme", "desk", PASSWORD).unwrap().status, 303);
    let page = board.get(&format!("/board/orders/{id}")).unwrap();
    assert!(page.body.contains(&format!("href=\"{link}\"")), "no link");
    let pdf = board.get(&link).unwrap();
    assert_eq!(pdf.status, 200);
    assert!(pdf.body.starts_with("%PDF-"));
}
