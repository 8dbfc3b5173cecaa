//! The service report as a PDF, read back the way a customer's PDF viewer
//! and the desk's tools read it: poppler's pdftotext for the words, qpdf for
//! the file's structure, pdftoppm for a picture of page 1 (written under
//! target/ for a look), zbarimg for the QR code. The test command installs
//! poppler-utils, qpdf and zbar-tools.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;
use common::*;
use fieldwork_core::model::*;
use fieldwork_core::report::ReportError;
use fieldwork_core::rules::signoff::report_sha256;
use fieldwork_core::scenario::{qc_checklist, relay_diagnosis, signature};
use fieldwork_core::{Error, Language, Policy, SettingsInput};
use std::path::{Path, PathBuf};
use std::process::Command;

fn font() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/fonts/NotoSansSC-Regular.otf")
}

/// Where the PDFs and page pictures are left for a person to look at.
fn out_dir() -> PathBuf {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/report-pdf");
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run(tool: &str, args: &[&str]) -> String {
    let out = Command::new(tool).args(args).output().unwrap_or_else(|e| {
        panic!("{tool} could not run ({e}): install poppler-utils, qpdf and zbar-tools (scripts/test does)")
    });
    assert!(
        out.status.success(),
        "{tool} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Writes the PDF, checks its structure with qpdf, renders page 1 to PNG,
/// and returns its text as pdftotext reads it.
fn read_back(name: &str, pdf: &[u8]) -> String {
    let path = out_dir().join(format!("{name}.pdf"));
    std::fs::write(&path, pdf).unwrap();
    let p = path.to_str().unwrap();
    let check = run("qpdf", &["--check", p]);
    assert!(
        check.contains("No syntax or stream encoding errors"),
        "{check}"
    );
    let png = out_dir().join(name);
    run(
        "pdftoppm",
        &[
            "-png",
            "-r",
            "60",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            p,
            png.to_str().unwrap(),
        ],
    );
    assert!(out_dir().join(format!("{name}.png")).is_file());
    run("pdftotext", &["-layout", p, "-"])
}

fn pages(text: &str) -> usize {
    text.matches('\u{c}').count().max(1)
}

fn settings(d: &Device, language: &str) {
    d.fw.desk()
        .change_settings(&SettingsInput {
            language: language.into(),
            policy: Policy {
                time_zone: "Asia/Shanghai".into(),
                center_name: "Fieldwork 上海服务中心".into(),
                ..Policy::default()
            },
        })
        .unwrap();
}

/// A visit up to QC passed, with `parts` relay lines, a note and the fee.
fn repaired(d: &Device, customer: &str, parts: usize) -> String {
    catalog(&d.fw);
    d.fw.receive_stock("RLY", parts as i64 + 1).unwrap();
    let id = d.fw.desk().create_order(intake(customer, "SN-77")).unwrap();
    d.fw.desk().assign(&id, "eng-1").unwrap();
    d.fw.accept(&id).unwrap();
    d.fw.en_route(&id).unwrap();
    d.clock.advance_ms(12 * 60_000);
    d.fw.arrive(&id, None).unwrap();
    d.fw.diagnose(&id, relay_diagnosis()).unwrap();
    // Out of warranty: the customer accepts the paid repair first.
    d.fw.decide_warranty(&id, false, false).unwrap();
    d.fw.record_consent(
        &id,
        fieldwork_core::api::ConsentInput {
            kind: ConsentKind::PaidService,
            accepted: true,
            signer_name: customer.into(),
            scope: "estimate 120.00 CNY 估价".into(),
            parts: vec![],
            strokes: signature(2),
        },
    )
    .unwrap();
    d.fw.start_work(&id).unwrap();
    for _ in 0..parts {
        d.fw.use_part(&id, "RLY", 1, true).unwrap();
    }
    d.fw.add_fee(&id, FeeKind::Labour, "relay swap 更换继电器", 9_000)
        .unwrap();
    d.fw.add_note(&id, "replaced relay, tested three cycles 已测试三次")
        .unwrap();
    d.clock.advance_ms(60 * 60_000);
    d.fw.mark_repaired(&id).unwrap();
    d.fw.record_qc(&id, qc_checklist(true)).unwrap();
    id
}

fn visit(language: &str, customer: &str) -> (Device, String) {
    let d = device("eng-1");
    settings(&d, language);
    d.fw.use_report_font(&font()).unwrap();
    let id = repaired(&d, customer, 1);
    d.fw.capture_signature(&id, customer, signature(3)).unwrap();
    (d, id)
}

fn signed_hash(d: &Device, id: &str) -> String {
    match d.fw.order(id).unwrap().order.sign_off {
        Some(SignOff::Signed(s)) => s.report_sha256,
        other => panic!("not signed: {other:?}"),
    }
}

#[test]
fn a_chinese_report_shows_the_customer_fault_parts_total_and_the_signed_hash() {
    let (d, id) = visit("zh-CN", "王小明");
    let pdf = d.fw.service_report_pdf(&id).unwrap();
    let text = read_back("report-zh", &pdf);
    let hash = signed_hash(&d, &id);
    assert_eq!(hash, report_sha256(&d.fw.service_report(&id).unwrap()));
    for want in [
        "服务报告",
        "Fieldwork 上海服务中心",
        "王小明",
        "开机后不制冷",
        "Relay",
        "relay swap 更换继电器",
        "合计",
        &hash[..32],
        &hash[32..],
        "语言 zh-CN",
    ] {
        assert!(
            text.contains(want),
            "{want:?} is not in the PDF's text:\n{text}"
        );
    }
    // Times are the service center's (Beijing), not UTC.
    let view = d.fw.order(&id).unwrap();
    let received = fieldwork_core::local_time::format_local(
        chrono_tz::Asia::Shanghai,
        view.order.created_at_ms,
    );
    assert!(text.contains(&received), "{received} is not in:\n{text}");
    assert!(!text.contains("签名无效") && !text.contains("未签名"));
    // The total as the signed text writes it.
    let fees = view.fees;
    let total = fieldwork_core::l10n::money(Language::ZhCn, &fees.currency, fees.total_minor);
    assert!(text.contains(&total), "{total} is not in:\n{text}");
    // The font asset is 5 MB; a report embeds only the glyphs it uses.
    assert!(pdf.len() < 150_000, "{} bytes", pdf.len());
    // The QR code on the last page scans to the same hash.
    assert_eq!(scan_qr("report-zh", pages(&text)), hash);
}

/// What a phone's camera reads from the QR code on page `page` (zbarimg, on
/// the page rendered at 150 dpi).
fn scan_qr(name: &str, page: usize) -> String {
    let pdf = out_dir().join(format!("{name}.pdf"));
    let png = out_dir().join(format!("{name}-qr"));
    let n = page.to_string();
    run(
        "pdftoppm",
        &[
            "-png",
            "-r",
            "150",
            "-f",
            &n,
            "-l",
            &n,
            "-singlefile",
            pdf.to_str().unwrap(),
            png.to_str().unwrap(),
        ],
    );
    let png = format!("{}.png", png.display());
    run("zbarimg", &["--raw", "-q", &png]).trim().to_string()
}

#[test]
fn an_english_report_reads_in_english_with_the_same_content() {
    let (d, id) = visit("en", "Li Wei");
    let text = read_back("report-en", &d.fw.service_report_pdf(&id).unwrap());
    let hash = signed_hash(&d, &id);
    for want in [
        "Service report",
        "Li Wei",
        "no cooling after start",
        "Relay",
        "Total",
        "Payable by customer",
        &hash[..32],
        "language en",
    ] {
        assert!(text.contains(want), "{want:?} is not in:\n{text}");
    }
    let fees = d.fw.order(&id).unwrap().fees;
    for minor in [fees.total_minor, fees.customer_payable_minor] {
        let amount = fieldwork_core::l10n::money(Language::En, &fees.currency, minor);
        assert!(text.contains(&amount), "{amount} is not in:\n{text}");
    }
    assert!(!text.contains("服务报告"));
}

#[test]
fn a_report_changed_after_signing_says_invalid_on_every_page_in_its_language() {
    for (lang, word) in [("zh-CN", "签名无效"), ("en", "SIGNATURE INVALID")] {
        let d = device("eng-1");
        settings(&d, lang);
        d.fw.use_report_font(&font()).unwrap();
        let id = repaired(&d, "Zhao", 60);
        d.fw.capture_signature(&id, "Zhao", signature(2)).unwrap();
        // A note written after the signature changes the signed content.
        d.fw.add_note(&id, "also cleaned the filter").unwrap();
        let text = read_back(
            &format!("report-invalid-{lang}"),
            &d.fw.service_report_pdf(&id).unwrap(),
        );
        let n = pages(&text);
        assert!(n >= 2, "60 parts lines run onto a second page");
        assert_eq!(
            text.matches(word).count(),
            n,
            "{word} on each of {n} pages:\n{text}"
        );
    }
}

#[test]
fn an_unsigned_report_says_so_on_every_page() {
    let d = device("eng-1");
    settings(&d, "en");
    d.fw.use_report_font(&font()).unwrap();
    let id = repaired(&d, "Chen", 1);
    let text = read_back("report-unsigned", &d.fw.service_report_pdf(&id).unwrap());
    assert_eq!(text.matches("NOT SIGNED").count(), pages(&text));
}

#[test]
fn two_hundred_parts_lines_run_onto_more_pages_with_the_header_and_table_heads_repeated() {
    let d = device("eng-1");
    settings(&d, "zh-CN");
    d.fw.use_report_font(&font()).unwrap();
    let id = repaired(&d, "孙丽", 200);
    d.fw.capture_signature(&id, "孙丽", signature(2)).unwrap();
    let pdf = d.fw.service_report_pdf(&id).unwrap();
    let text = read_back("report-200-parts", &pdf);
    let n = pages(&text);
    assert!(n >= 4, "{n} pages for 200 lines");
    // Each page: the title, the order and "page k of n"; each page the
    // table runs onto: its title and column heads again.
    assert_eq!(text.matches("服务报告").count(), n);
    for k in 1..=n {
        assert!(text.contains(&format!("第 {k} 页，共 {n} 页")), "page {k}");
    }
    assert!(text.matches("配件与费用（续）").count() >= n - 2, "{text}");
    assert_eq!(
        text.matches("单价").count(),
        text.matches("配件与费用").count()
    );
    // Every line is there: 200 relays, each on its own row.
    assert_eq!(text.matches("Relay").count(), 200, "{text}");
}

#[test]
fn characters_the_font_lacks_are_drawn_as_its_fallback_glyph() {
    let d = device("eng-1");
    settings(&d, "zh-CN");
    d.fw.use_report_font(&font()).unwrap();
    // An emoji and a CJK Extension B character (𠀋), both outside the font.
    let name = "李😀𠀋";
    let id = repaired(&d, name, 1);
    d.fw.capture_signature(&id, name, signature(1)).unwrap();
    let pdf = d.fw.service_report_pdf(&id).unwrap();
    let text = read_back("report-fallback", &pdf);
    // The text layer still carries the name as written, so it can be searched.
    assert!(text.contains("李"), "{text}");
}

#[test]
fn the_same_content_gives_the_same_bytes() {
    let (d, id) = visit("zh-CN", "王小明");
    let a = d.fw.service_report_pdf(&id).unwrap();
    let b = d.fw.service_report_pdf(&id).unwrap();
    assert!(a == b, "two renders differ");
    // Reopened (a new process would start the same way): the same bytes.
    let path = d.dir.path().join("fw.db");
    let again =
        fieldwork_core::Fieldwork::open(&path, fieldwork_core::Config::new("eng-1")).unwrap();
    again.use_report_font(&font()).unwrap();
    assert!(
        again.service_report_pdf(&id).unwrap() == a,
        "a reopened store renders other bytes"
    );
    drop(again);
    // Changed content: other bytes.
    d.fw.add_note(&id, "also cleaned the filter").unwrap();
    assert!(d.fw.service_report_pdf(&id).unwrap() != a);
}

#[test]
fn without_a_font_or_with_a_file_that_is_not_one_the_error_says_so() {
    let d = device("eng-1");
    let id = repaired(&d, "Chen", 1);
    let e = d.fw.service_report_pdf(&id).unwrap_err();
    assert!(matches!(e, Error::Report(ReportError::NoFont(_))), "{e:?}");
    assert_eq!(e.code(), "report_font");
    let not_a_font = d.dir.path().join("font.otf");
    std::fs::write(&not_a_font, b"not a font at all").unwrap();
    let e = d.fw.use_report_font(&not_a_font).unwrap_err();
    assert!(matches!(e, Error::Report(ReportError::NotAFont)), "{e:?}");
    let e =
        d.fw.use_report_font(&d.dir.path().join("missing.otf"))
            .unwrap_err();
    assert!(matches!(e, Error::Report(ReportError::NoFont(_))), "{e:?}");
}
