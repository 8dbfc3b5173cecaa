//! Photos on the phone, offline: attached into the blob folder under their
//! hash, recorded in one change, listed on the signed report, refused when
//! they break the service center's limits, removed by marking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use common::*;
use fieldwork_core::model::*;
use fieldwork_core::rules::conflicts::Conflict;
use fieldwork_core::rules::signoff::SignatureState;
use fieldwork_core::{Error, Language};

fn jpeg(len: usize, seed: u8) -> Vec<u8> {
    let mut v = vec![0xFF, 0xD8, 0xFF, 0xE0];
    v.extend((0..len).map(|i| (i as u8).wrapping_mul(17).wrapping_add(seed)));
    v
}

fn file(d: &Device, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = d.dir.path().join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn signed(d: &Device) -> String {
    catalog(&d.fw);
    d.fw.receive_stock("RLY", 1).unwrap();
    let id = order_in_progress(d, "Li Wei", "SN-1").unwrap();
    d.fw.use_part(&id, "RLY", 1, true).unwrap();
    d.fw.mark_repaired(&id).unwrap();
    assert!(d.fw.record_qc(&id, qc_items(true)).unwrap());
    id
}

#[test]
fn a_photo_is_one_change_kept_whole_under_its_hash_and_listed_on_the_report() {
    let d = device("eng-1");
    let id = signed(&d);
    let pending = d.fw.pending_changes().unwrap();
    let bytes = jpeg(300_000, 1);
    let p =
        d.fw.attach_photo(
            &id,
            &file(&d, "plate.jpg", &bytes),
            PhotoKind::SerialPlate,
            Some("铭牌"),
        )
        .unwrap();
    assert_eq!(d.fw.pending_changes().unwrap(), pending + 1, "one change");
    let kept = d.fw.photo_file(&id, &p.id).unwrap().unwrap();
    assert_eq!(std::fs::read(&kept).unwrap(), bytes);
    assert!(kept.ends_with(format!("{}/{}", &p.hash[..2], p.hash)));
    assert_eq!(
        (p.size, p.media_type, p.by.as_str()),
        (300_004, MediaType::Jpeg, "eng-1")
    );
    assert_eq!(p.device, d.fw.device_id());

    let report = d.fw.service_report(&id).unwrap();
    assert!(
        report.contains(&format!("serial plate: {} (铭牌)", p.hash)),
        "{report}"
    );
    let zh = d.fw.service_report_in(&id, Language::ZhCn).unwrap();
    assert!(zh.contains(&format!("铭牌：{} (铭牌)", p.hash)), "{zh}");
    // Survives reopening the store.
    let reopened = fieldwork_core::Fieldwork::open(
        d.dir.path().join("fw.db"),
        fieldwork_core::Config::new("eng-1"),
    )
    .unwrap();
    assert_eq!(reopened.order(&id).unwrap().order.photos, vec![p]);
}

#[test]
fn adding_or_removing_a_photo_after_signing_invalidates_the_signature() {
    let d = device("eng-1");
    let id = signed(&d);
    let before =
        d.fw.attach_photo(
            &id,
            &file(&d, "a.jpg", &jpeg(1000, 2)),
            PhotoKind::Fault,
            None,
        )
        .unwrap();
    d.fw.capture_signature(&id, "Li Wei", vec![stroke()])
        .unwrap();
    assert_eq!(d.fw.order(&id).unwrap().signature, SignatureState::Valid);

    d.fw.attach_photo(
        &id,
        &file(&d, "b.jpg", &jpeg(1000, 3)),
        PhotoKind::CompletedWork,
        None,
    )
    .unwrap();
    let v = d.fw.order(&id).unwrap();
    assert_eq!(
        v.signature,
        SignatureState::Invalidated,
        "added after signing"
    );
    assert!(v.conflicts.contains(&Conflict::SignedReportChanged));

    let d2 = device("eng-2");
    let id2 = signed(&d2);
    let p = d2
        .fw
        .attach_photo(
            &id2,
            &file(&d2, "c.jpg", &jpeg(1000, 4)),
            PhotoKind::Fault,
            None,
        )
        .unwrap();
    d2.fw
        .capture_signature(&id2, "Li Wei", vec![stroke()])
        .unwrap();
    d2.fw.remove_photo(&id2, &p.id).unwrap();
    assert_eq!(
        d2.fw.order(&id2).unwrap().signature,
        SignatureState::Invalidated,
        "removed after signing"
    );
    let _ = before;
}

#[test]
fn bad_files_and_limits_are_refused_with_nothing_changed() {
    let d = device("eng-1");
    let id = signed(&d);
    let pending = d.fw.pending_changes().unwrap();
    let refused = |path: &std::path::Path| {
        d.fw.attach_photo(&id, path, PhotoKind::Other, None)
            .unwrap_err()
    };
    let code = |e: Error| match e {
        Error::Invalid(i) => i.code,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        code(refused(&file(
            &d,
            "n.txt",
            b"plain text, not a photo at all"
        ))),
        "not_a_photo"
    );
    assert_eq!(code(refused(&file(&d, "e.jpg", b""))), "file_empty");
    assert_eq!(
        code(refused(&d.dir.path().join("missing.jpg"))),
        "file_unreadable"
    );
    let huge = file(&d, "h.jpg", &jpeg(20_000_001, 5));
    let e = refused(&huge);
    assert_eq!(
        e.message_in(Language::En),
        "invalid file: is larger than the limit of 20 MB"
    );
    assert_eq!(code(e), "file_too_large");
    let long = "x".repeat(5_000);
    let e =
        d.fw.attach_photo(
            &id,
            &file(&d, "ok.jpg", &jpeg(10, 6)),
            PhotoKind::Fault,
            Some(&long),
        )
        .unwrap_err();
    assert!(
        matches!(e, Error::Invalid(ref i) if i.field == "caption"),
        "{e:?}"
    );
    assert!(matches!(
        d.fw.attach_photo(
            "wo-missing",
            &file(&d, "m.jpg", &jpeg(10, 7)),
            PhotoKind::Fault,
            None
        ),
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        d.fw.remove_photo(&id, "ph-nope"),
        Err(Error::NotFound { kind: "photo", .. })
    ));
    assert_eq!(d.fw.pending_changes().unwrap(), pending, "nothing recorded");
    assert!(d.fw.order(&id).unwrap().order.photos.is_empty());

    // Thirty per order by default; removed ones do not count.
    for n in 0..30u8 {
        d.fw.attach_photo(
            &id,
            &file(&d, &format!("p{n}.jpg"), &jpeg(64, n)),
            PhotoKind::Part,
            None,
        )
        .unwrap();
    }
    let e =
        d.fw.attach_photo(
            &id,
            &file(&d, "p31.jpg", &jpeg(64, 200)),
            PhotoKind::Part,
            None,
        )
        .unwrap_err();
    assert_eq!(
        e.message_in(Language::ZhCn),
        "photos 无效：该工单已有 30 个照片和文件"
    );
    let blobs = d.dir.path().join("fw.db-blobs");
    let count = |dir: &std::path::Path| -> usize {
        std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name() != "tmp")
            .map(|e| std::fs::read_dir(e.path()).unwrap().count())
            .sum()
    };
    assert_eq!(count(&blobs), 30, "the refused file was not copied");
    let first = d.fw.order(&id).unwrap().order.photos[0].id.clone();
    d.fw.remove_photo(&id, &first).unwrap();
    d.fw.remove_photo(&id, &first).unwrap();
    d.fw.attach_photo(
        &id,
        &file(&d, "p32.jpg", &jpeg(64, 201)),
        PhotoKind::Part,
        None,
    )
    .unwrap();
}

#[test]
fn files_are_recognised_from_their_bytes_not_their_names() {
    let d = device("eng-1");
    let id = signed(&d);
    let png =
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89".to_vec();
    let p =
        d.fw.attach_photo(&id, &file(&d, "looks.jpg", &png), PhotoKind::Other, None)
            .unwrap();
    assert_eq!(p.media_type, MediaType::Png);
    let pdf = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n".to_vec();
    let p =
        d.fw.attach_photo(
            &id,
            &file(&d, "receipt", &pdf),
            PhotoKind::ProofOfPurchase,
            None,
        )
        .unwrap();
    assert_eq!(p.media_type, MediaType::Pdf);
}
