//! The PDF service report: how long the phone takes to make one for a full
//! visit in Chinese against writing the same report as its canonical text,
//! and how large it is against the font it is set in.

use crate::{Res, Row, T0, device, median};
use fieldwork_core::{Policy, SettingsInput};
use fieldwork_tests::{full_visit, relay};
use std::path::Path;
use std::time::Instant;

const RENDERS: usize = 30;

pub(crate) fn rows(dir: &Path) -> Res<Vec<Row>> {
    let (fw, clock) = device(&dir.join("report.db"))?;
    fw.desk().change_settings(&SettingsInput {
        language: "zh-CN".into(),
        policy: Policy {
            time_zone: "Asia/Shanghai".into(),
            center_name: "上海浦东售后服务中心".into(),
            ..Policy::default()
        },
    })?;
    fw.desk().upsert_catalog_part(relay())?;
    fw.receive_stock("RLY", 1)?;
    clock.set(T0 + 3_600_000);
    let id = full_visit(&fw, &clock, 1)?;
    let font =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/assets/fonts/NotoSansSC-Regular.otf");
    fw.use_report_font(&font)?;

    let mut text_times = Vec::with_capacity(RENDERS);
    let mut text_len = 0;
    for _ in 0..RENDERS {
        let t = Instant::now();
        text_len = fw.service_report(&id)?.len();
        text_times.push(t.elapsed());
    }
    let mut pdf_times = Vec::with_capacity(RENDERS);
    let mut pdf = Vec::new();
    for _ in 0..RENDERS {
        let t = Instant::now();
        pdf = fw.service_report_pdf(&id)?;
        pdf_times.push(t.elapsed());
    }
    eprintln!(
        "report: canonical text {text_len} bytes, PDF {} bytes",
        pdf.len()
    );
    Ok(vec![
        Row {
            name: "report.pdf_ms",
            value: median(&mut pdf_times) * 1e3,
            unit: "ms",
            baseline: Some(median(&mut text_times) * 1e3),
            what: "the PDF service report of a full visit in Chinese on the phone (font read from its file, laid out, subset, written), vs the same report as its canonical text; median of 30 (aim under 50 ms)",
        },
        Row {
            name: "report.pdf_bytes_zh",
            value: pdf.len() as f64,
            unit: "bytes",
            baseline: Some(std::fs::metadata(&font)?.len() as f64),
            what: "that PDF's size, with the signature and no photos, vs the font it is set in (only the glyphs used are embedded; aim under 150 KB)",
        },
    ])
}
