//! The report's body, section by section, in the order the customer reads
//! it. Every value is written by the same helpers as the signed text
//! ([`ReportFormat`]), so the PDF and the text never disagree on a name, an
//! amount or a time.

use super::PhotoBytes;
use super::layout::{CONTENT_W, Ink, MARGIN, Mark, Measure, PAGE_W, Pages, head_height};
use crate::l10n::{self, Language};
use crate::local_time;
use crate::model::{MediaType, SignOff, Status, Stroke, WorkOrder};
use crate::policy::Policy;
use crate::rules::fees::compute_fees;
use crate::rules::signoff::ReportFormat;
use crate::rules::timeline::first_entered;
use fluent_bundle::FluentValue;

const BODY: f32 = 10.0;
const LINE: f32 = 14.0;
const LABEL_W: f32 = 118.0;
const RIGHT: f32 = PAGE_W - MARGIN;

pub(super) struct Cx<'a> {
    pub(super) order: &'a WorkOrder,
    pub(super) policy: &'a Policy,
    pub(super) format: ReportFormat,
    pub(super) lang: Language,
    pub(super) measure: &'a Measure<'a>,
    pub(super) hash: &'a str,
    pub(super) photos: PhotoBytes<'a>,
    /// Whether photos are drawn (false after one failed to decode).
    pub(super) pictures: bool,
}

impl Cx<'_> {
    fn t(&self, id: &str) -> String {
        l10n::t(self.lang, id)
    }

    fn t_with(&self, id: &str, args: &[(&str, String)]) -> String {
        let args: Vec<l10n::Arg<'_>> = args
            .iter()
            .map(|(k, v)| (*k, FluentValue::from(v.as_str())))
            .collect();
        l10n::text(self.lang, id, &args)
    }

    fn time(&self, ms: Option<i64>) -> String {
        self.format.time(ms, self.policy)
    }

    fn money(&self, minor: i64, currency: &str) -> String {
        self.format.money(minor, currency)
    }
}

pub(super) fn body(cx: &Cx<'_>, p: &mut Pages) {
    let o = cx.order;
    let i = &o.intake;
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());

    heading(p, &cx.t("pdf-customer"));
    row(cx, p, &cx.t("pdf-name"), &i.customer.name);
    row(cx, p, &cx.t("pdf-phone"), &dash(&i.customer.phone));
    row(cx, p, &cx.t("pdf-site"), &i.customer.address);

    heading(p, &cx.t("pdf-product"));
    row(cx, p, &cx.t("pdf-model"), &i.product.model);
    row(cx, p, &cx.t("pdf-serial"), &i.product.serial);
    row(
        cx,
        p,
        &cx.t("pdf-purchased"),
        &dash(&i.product.purchase_date),
    );
    let warranty = match &o.warranty {
        Some(w) => {
            let state = if w.in_warranty && !w.misuse {
                "report-in-warranty"
            } else {
                "report-out-of-warranty"
            };
            format!(
                "{} ({})",
                cx.format.words(state, &[]),
                cx.format.stored(&w.reason)
            )
        }
        None => cx.t("pdf-warranty-undecided"),
    };
    row(cx, p, &cx.t("pdf-warranty"), &warranty);
    if let Some(of) = &o.rework_of {
        row(cx, p, &cx.t("pdf-rework-of"), of);
    }

    heading(p, &cx.t("pdf-fault"));
    row(cx, p, &cx.t("pdf-reported"), &i.fault.symptoms);
    if let Some(d) = &o.diagnosis {
        let v = format!("[{}] {}", d.fault_code, d.findings);
        row(cx, p, &cx.t("pdf-diagnosis"), &v);
    }
    for f in &o.extra_faults {
        row(cx, p, &cx.t("pdf-extra-fault"), &f.description);
    }
    if !o.repair_notes.is_empty() {
        heading(p, &cx.t("pdf-work"));
        for n in &o.repair_notes {
            paragraph(cx, p, &n.text);
        }
    }

    parts(cx, p);
    consents(cx, p);
    qc(cx, p);

    heading(p, &cx.t("pdf-times"));
    row(
        cx,
        p,
        &cx.t("pdf-received"),
        &cx.time(Some(o.created_at_ms)),
    );
    row(
        cx,
        p,
        &cx.t("pdf-arrived"),
        &cx.time(first_entered(o, Status::OnSite)),
    );
    row(
        cx,
        p,
        &cx.t("pdf-repaired"),
        &cx.time(first_entered(o, Status::Repaired)),
    );
    let zone = match cx.format {
        ReportFormat::In(_) => {
            let z = cx.policy.zone();
            cx.t_with(
                "pdf-zone",
                &[
                    ("zone", cx.policy.time_zone.clone()),
                    ("offset", local_time::offset_label(z, o.created_at_ms)),
                ],
            )
        }
        ReportFormat::Original => cx.t_with(
            "pdf-zone",
            &[("zone", "UTC".into()), ("offset", "+00:00".into())],
        ),
    };
    note(cx, p, &zone);

    photos(cx, p);
    sign_off(cx, p);
}

/// A section's title, kept on the page with the first `keep` points of
/// what follows it.
fn heading(p: &mut Pages, title: &str) {
    heading_keep(p, title, 2.0 * LINE);
}

fn heading_keep(p: &mut Pages, title: &str, keep: f32) {
    p.need(30.0 + keep);
    p.y += 24.0;
    p.push(text(MARGIN, p.y, 12.0, Ink::Black, title));
    p.y += 5.0;
    p.push(rule(p.y, 0.5, Ink::Grey));
    p.y += 4.0;
}

/// A label and its value, the value broken over as many lines as it needs.
fn row(cx: &Cx<'_>, p: &mut Pages, label: &str, value: &str) {
    let lines = cx.measure.wrap(value, BODY, CONTENT_W - LABEL_W);
    let labels = cx.measure.wrap(label, 9.0, LABEL_W - 8.0);
    for (n, l) in lines.iter().enumerate() {
        p.need(LINE);
        p.y += LINE;
        if let Some(lab) = labels.get(n) {
            p.push(text(MARGIN, p.y, 9.0, Ink::Grey, lab));
        }
        p.push(text(MARGIN + LABEL_W, p.y, BODY, Ink::Black, l));
    }
}

fn paragraph(cx: &Cx<'_>, p: &mut Pages, value: &str) {
    for l in cx.measure.wrap(value, BODY, CONTENT_W) {
        p.need(LINE);
        p.y += LINE;
        p.push(text(MARGIN, p.y, BODY, Ink::Black, &l));
    }
    p.y += 3.0;
}

fn note(cx: &Cx<'_>, p: &mut Pages, value: &str) {
    for l in cx.measure.wrap(value, 8.5, CONTENT_W) {
        p.need(12.0);
        p.y += 12.0;
        p.push(text(MARGIN, p.y, 8.5, Ink::Grey, &l));
    }
}

// Columns of the parts table: right edges of quantity, unit price, amount.
const QTY_R: f32 = MARGIN + 300.0;
const UNIT_R: f32 = MARGIN + 395.0;
const ITEM_W: f32 = 250.0;

fn parts(cx: &Cx<'_>, p: &mut Pages) {
    let fees = compute_fees(cx.order, cx.policy);
    let cur = fees.currency.as_str();
    let heads = |title: &str| -> Vec<Mark> {
        let mut m = vec![text(MARGIN, 24.0, 12.0, Ink::Black, title)];
        m.push(rule(29.0, 0.5, Ink::Grey));
        let y = 43.0;
        m.push(text(MARGIN, y, 8.5, Ink::Grey, &cx.t("pdf-col-item")));
        for (right, id) in [
            (QTY_R, "pdf-col-qty"),
            (UNIT_R, "pdf-col-unit"),
            (RIGHT, "pdf-col-amount"),
        ] {
            let s = cx.t(id);
            m.push(text(
                right - cx.measure.width(&s, 8.5),
                y,
                8.5,
                Ink::Grey,
                &s,
            ));
        }
        m.push(rule(47.0, 0.3, Ink::Grey));
        m
    };
    let first = heads(&cx.t("pdf-parts"));
    let height = head_height(&first);
    p.need(height + LINE);
    let top = p.y;
    for m in first {
        p.push(super::layout::shift(m, top));
    }
    p.y += height;
    p.continued = Some(heads(&cx.t("pdf-parts-continued")));
    for it in &fees.items {
        let mut desc = it.description.clone();
        if it.company_borne {
            desc.push_str(&cx.format.words("report-borne", &[]));
        }
        let lines = cx.measure.wrap(&desc, BODY, ITEM_W);
        for (n, l) in lines.iter().enumerate() {
            p.need(LINE);
            p.y += LINE;
            p.push(text(MARGIN, p.y, BODY, Ink::Black, l));
            if n == 0 {
                let qty = it.qty.to_string();
                let unit = cx.money(it.unit_minor, cur);
                let amount = cx.money(it.amount_minor, cur);
                for (right, s) in [(QTY_R, qty), (UNIT_R, unit), (RIGHT, amount)] {
                    let w = cx.measure.width(&s, BODY);
                    p.push(text(right - w, p.y, BODY, Ink::Black, &s));
                }
            }
        }
    }
    p.continued = None;
    p.need(2.0 * LINE + 6.0);
    p.y += 4.0;
    p.push(Mark::Line {
        from: (UNIT_R - 60.0, p.y),
        to: (RIGHT, p.y),
        width: 0.5,
        ink: Ink::Grey,
    });
    for (id, minor) in [
        ("pdf-total", fees.total_minor),
        ("pdf-payable", fees.customer_payable_minor),
    ] {
        p.y += LINE;
        let label = cx.t(id);
        let amount = cx.money(minor, cur);
        let w = cx.measure.width(&amount, BODY);
        p.push(text(RIGHT - w, p.y, BODY, Ink::Black, &amount));
        let lw = cx.measure.width(&label, 9.0);
        p.push(text(UNIT_R - 70.0 - lw, p.y, 9.0, Ink::Grey, &label));
    }
}

fn consents(cx: &Cx<'_>, p: &mut Pages) {
    let o = cx.order;
    if o.consents.is_empty() {
        return;
    }
    heading_keep(p, &cx.t("pdf-consents"), 2.0 * LINE + 50.0);
    for c in &o.consents {
        let kind = l10n::stored_text(cx.lang, crate::rules::consent_name(c.kind));
        let answer = cx.t(if c.accepted {
            "consent-accepted"
        } else {
            "consent-refused"
        });
        row(cx, p, &kind, &format!("{answer}: {}", c.scope));
        let who = cx.t_with(
            "pdf-consent-by",
            &[
                ("name", c.signer_name.clone()),
                ("at", cx.time(Some(c.at_ms))),
            ],
        );
        row(cx, p, "", &who);
        row(cx, p, "", &attested(cx, c.attestation.as_ref()));
        ink_box(p, &c.strokes, MARGIN + LABEL_W, 150.0, 44.0);
    }
}

/// Which enrolled phone's device key attested a record, in words.
fn attested(cx: &Cx<'_>, att: Option<&crate::model::Attestation>) -> String {
    crate::l10n::attestation(cx.lang, att)
}

fn qc(cx: &Cx<'_>, p: &mut Pages) {
    heading(p, &cx.t("pdf-qc"));
    let Some(q) = cx.order.qc.last() else {
        paragraph(cx, p, &cx.t("pdf-qc-not-done"));
        return;
    };
    let result = cx.format.words(
        if q.passed {
            "report-qc-passed"
        } else {
            "report-qc-failed"
        },
        &[],
    );
    row(cx, p, &cx.t("pdf-qc-result"), &result);
    row(cx, p, &cx.t("pdf-qc-inspector"), &q.inspector);
    row(
        cx,
        p,
        &cx.t("pdf-attestation"),
        &attested(cx, q.attestation.as_ref()),
    );
    for item in &q.items {
        let mut label = item.name.clone();
        if let Some(n) = &item.note {
            label = format!("{label} ({n})");
        }
        let lines = cx.measure.wrap(&label, BODY, CONTENT_W - LABEL_W - 16.0);
        for (n, l) in lines.iter().enumerate() {
            p.need(LINE);
            p.y += LINE;
            if n == 0 {
                p.push(Mark::Check {
                    x: MARGIN + LABEL_W,
                    y: p.y - 8.5,
                    side: 9.0,
                    passed: item.passed,
                });
            }
            p.push(text(MARGIN + LABEL_W + 16.0, p.y, BODY, Ink::Black, l));
        }
    }
}

const CELL_GAP: f32 = 12.0;
const CELL_H: f32 = 110.0;

fn photos(cx: &Cx<'_>, p: &mut Pages) {
    let shown: Vec<_> = cx
        .order
        .photos
        .iter()
        .filter(|ph| !ph.is_removed())
        .collect();
    if shown.is_empty() {
        return;
    }
    heading_keep(p, &cx.t("pdf-photos"), CELL_H + 40.0);
    let cell_w = (CONTENT_W - 2.0 * CELL_GAP) / 3.0;
    for chunk in shown.chunks(3) {
        // Captions first, to know the row's height.
        let captions: Vec<Vec<String>> = chunk
            .iter()
            .map(|ph| {
                let kind = cx.t(&format!(
                    "photo-kind-{}",
                    ph.kind.as_str().replace('_', "-")
                ));
                let mut c = kind;
                if let Some(cap) = &ph.caption {
                    c = format!("{c}: {cap}");
                }
                let mut lines = cx.measure.wrap(&c, 8.5, cell_w);
                lines.truncate(3);
                lines.push(ph.hash.chars().take(16).collect());
                lines
            })
            .collect();
        let cap_h = captions.iter().map(|c| c.len()).max().unwrap_or(1) as f32 * 11.0;
        p.need(CELL_H + cap_h + 10.0);
        let top = p.y + 8.0;
        for (n, (ph, caption)) in chunk.iter().zip(&captions).enumerate() {
            let x = MARGIN + n as f32 * (cell_w + CELL_GAP);
            p.push(Mark::Frame {
                x,
                y: top,
                w: cell_w,
                h: CELL_H,
                ink: Ink::Grey,
            });
            match picture(cx, ph) {
                Ok(pic) => p.push(Mark::Picture {
                    x: x + 3.0,
                    y: top + 3.0,
                    w: cell_w - 6.0,
                    h: CELL_H - 6.0,
                    image: pic,
                }),
                Err(why) => {
                    for (k, l) in cx.measure.wrap(&why, 8.5, cell_w - 12.0).iter().enumerate() {
                        p.push(text(
                            x + 6.0,
                            top + 20.0 + 11.0 * k as f32,
                            8.5,
                            Ink::Grey,
                            l,
                        ));
                    }
                }
            }
            for (k, l) in caption.iter().enumerate() {
                let last = k + 1 == caption.len();
                let (size, ink) = if last {
                    (7.0, Ink::Grey)
                } else {
                    (8.5, Ink::Black)
                };
                p.push(text(
                    x,
                    top + CELL_H + 11.0 * (k as f32 + 1.0),
                    size,
                    ink,
                    l,
                ));
            }
        }
        p.y = top + CELL_H + cap_h + 4.0;
    }
}

/// A photo as an image krilla can draw, or why it is not drawn: not on
/// this device, a kind a PDF cannot show (HEIC, a PDF), or bytes that do not
/// decode.
fn picture(cx: &Cx<'_>, ph: &crate::model::Photo) -> Result<krilla::image::Image, String> {
    use krilla::image::Image;
    if !cx.pictures {
        return Err(cx.t("pdf-photo-unreadable"));
    }
    let Some(bytes) = (cx.photos)(ph) else {
        return Err(cx.t("pdf-photo-not-here"));
    };
    let kind = MediaType::sniff(&bytes);
    let data = krilla::Data::from(bytes);
    let image = match kind {
        Some(MediaType::Jpeg) => Image::from_jpeg(data, true),
        Some(MediaType::Png) => Image::from_png(data, true),
        Some(MediaType::Webp) => Image::from_webp(data, true),
        Some(other) => {
            return Err(cx.t_with("pdf-photo-not-shown", &[("type", other.mime().to_string())]));
        }
        None => Err(String::new()),
    };
    image.map_err(|_| cx.t("pdf-photo-unreadable"))
}

fn sign_off(cx: &Cx<'_>, p: &mut Pages) {
    let o = cx.order;
    heading_keep(p, &cx.t("pdf-signoff"), 200.0);
    match &o.sign_off {
        Some(SignOff::Signed(sig)) => {
            p.need(100.0);
            ink_box(p, &sig.strokes, MARGIN, 240.0, 90.0);
            row(cx, p, &cx.t("pdf-signed-by"), &sig.signer_name);
            row(
                cx,
                p,
                &cx.t("pdf-signed-at"),
                &cx.time(Some(sig.signed_at_ms)),
            );
            row(
                cx,
                p,
                &cx.t("pdf-attestation"),
                &attested(cx, sig.attestation.as_ref()),
            );
            if sig.report_sha256 != cx.hash {
                row(cx, p, &cx.t("pdf-signed-over"), &sig.report_sha256);
            }
        }
        Some(SignOff::Refused {
            signer_name,
            reason,
            at_ms,
        }) => {
            row(cx, p, &cx.t("pdf-refused-by"), signer_name);
            row(cx, p, &cx.t("pdf-refused-why"), reason);
            row(cx, p, &cx.t("pdf-signed-at"), &cx.time(Some(*at_ms)));
        }
        None => paragraph(cx, p, &cx.t("pdf-not-signed")),
    }
    hash_block(cx, p);
}

/// The report's SHA-256 in words and as a QR code, for checking a paper copy.
fn hash_block(cx: &Cx<'_>, p: &mut Pages) {
    let Ok(code) = qrcode::QrCode::new(cx.hash.as_bytes()) else {
        return;
    };
    let width = code.width();
    let side = 88.0;
    let module = side / width as f32;
    p.need(side + 16.0);
    let top = p.y + 10.0;
    let x = RIGHT - side;
    p.push(Mark::Qr {
        x,
        y: top,
        module,
        width,
        dark: code
            .to_colors()
            .iter()
            .map(|c| *c == qrcode::Color::Dark)
            .collect(),
    });
    let mut y = top + 12.0;
    p.push(text(MARGIN, y, 9.0, Ink::Grey, &cx.t("pdf-hash")));
    for half in [
        &cx.hash[..32.min(cx.hash.len())],
        &cx.hash[32.min(cx.hash.len())..],
    ] {
        y += 14.0;
        p.push(text(MARGIN, y, 10.0, Ink::Black, half));
    }
    for l in cx
        .measure
        .wrap(&cx.t("pdf-hash-help"), 8.5, CONTENT_W - side - 20.0)
    {
        y += 12.0;
        p.push(text(MARGIN, y, 8.5, Ink::Grey, &l));
    }
    p.y = top + side;
}

/// Pen strokes scaled into a `w` × `h` box at the cursor, keeping their shape.
fn ink_box(p: &mut Pages, strokes: &[Stroke], x: f32, w: f32, h: f32) {
    let pts = || {
        strokes
            .iter()
            .flat_map(|s| s.points.iter())
            .filter(|pt| pt.x.is_finite() && pt.y.is_finite())
    };
    if pts().next().is_none() {
        return;
    }
    p.need(h + 8.0);
    let top = p.y + 6.0;
    p.push(Mark::Line {
        from: (x, top + h),
        to: (x + w, top + h),
        width: 0.4,
        ink: Ink::Grey,
    });
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for pt in pts() {
        x0 = x0.min(pt.x);
        y0 = y0.min(pt.y);
        x1 = x1.max(pt.x);
        y1 = y1.max(pt.y);
    }
    let pad = 4.0;
    let (bw, bh) = ((x1 - x0).max(1e-6), (y1 - y0).max(1e-6));
    let scale = ((f64::from(w) - 2.0 * pad) / bw).min((f64::from(h) - 2.0 * pad) / bh);
    let (dx, dy) = (
        f64::from(x) + (f64::from(w) - bw * scale) / 2.0,
        f64::from(top) + (f64::from(h) - bh * scale) / 2.0,
    );
    let paths = strokes
        .iter()
        .map(|s| {
            s.points
                .iter()
                .filter(|pt| pt.x.is_finite() && pt.y.is_finite())
                .map(|pt| {
                    (
                        (dx + (pt.x - x0) * scale) as f32,
                        (dy + (pt.y - y0) * scale) as f32,
                    )
                })
                .collect()
        })
        .collect();
    p.push(Mark::Strokes { paths });
    p.y = top + h + 4.0;
}

fn text(x: f32, y: f32, size: f32, ink: Ink, s: &str) -> Mark {
    Mark::Text {
        x,
        y,
        size,
        ink,
        text: s.to_string(),
    }
}

fn rule(y: f32, width: f32, ink: Ink) -> Mark {
    Mark::Line {
        from: (MARGIN, y),
        to: (RIGHT, y),
        width,
        ink,
    }
}
