//! The service report as a PDF the customer keeps: the same content the
//! signature is bound to ([`crate::rules::signoff`]), laid out as a document,
//! in the report's language, with the times in the service center's zone,
//! the customer's signature drawn from its strokes, and the report's SHA-256
//! written out and as a QR code so the desk can check a paper copy.
//!
//! The font is handed in ([`ReportFont`]): the apps carry it as an asset
//! (docs/decisions/0014-pdf-report.md), and only the glyphs a report uses are
//! embedded. The same order, language and photos give the same bytes.

mod draw;
mod layout;
mod sections;

use crate::l10n::{self, Language};
use crate::model::{Photo, WorkOrder};
use crate::policy::Policy;
use crate::rules::signoff::{ReportFormat, SignatureState, render_report_in, report_sha256};
use fluent_bundle::FluentValue;
use layout::{Ink, MARGIN, Mark, Measure, PAGE_H, PAGE_W, Pages};
use std::path::Path;
use std::sync::Arc;

/// Why a PDF could not be made.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReportError {
    /// No font was given, or the file could not be read.
    #[error("the report font is missing: {0}")]
    NoFont(String),
    /// The bytes given as the font are not an OpenType font.
    #[error("the report font is not an OpenType font")]
    NotAFont,
    /// krilla could not write the document.
    #[error("the PDF could not be written: {0}")]
    Pdf(String),
}

const MAX_FONT_BYTES: u64 = 64 * 1024 * 1024;

/// The font reports are set in: an OpenType font covering Latin and
/// Simplified Chinese (the library's own Noto Sans SC subset,
/// `core/assets/fonts/`). Cheap to clone.
#[derive(Clone)]
pub struct ReportFont {
    bytes: Arc<Vec<u8>>,
}

impl std::fmt::Debug for ReportFont {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ReportFont({} bytes)", self.bytes.len())
    }
}

impl ReportFont {
    /// Checks that the bytes are a font krilla and the measurer can read.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<ReportFont, ReportError> {
        let bytes = Arc::new(bytes);
        if Measure::new(&bytes).is_none() || draw::font(bytes.clone()).is_none() {
            return Err(ReportError::NotAFont);
        }
        Ok(ReportFont { bytes })
    }

    /// Reads and checks the font at `path`; a file larger than any font
    /// (64 MB) is refused before it is read.
    pub fn from_file(path: &Path) -> Result<ReportFont, ReportError> {
        let missing = |e: std::io::Error| ReportError::NoFont(e.kind().to_string());
        if std::fs::metadata(path).map_err(missing)?.len() > MAX_FONT_BYTES {
            return Err(ReportError::NotAFont);
        }
        ReportFont::from_bytes(std::fs::read(path).map_err(missing)?)
    }
}

/// A photo's bytes, when the caller has them (the phone's blob folder, the
/// server's blob store); `None` draws a placeholder.
pub type PhotoBytes<'a> = &'a dyn Fn(&Photo) -> Option<Vec<u8>>;

/// The report in `format` (the signature's, once signed) as PDF bytes.
pub fn render_pdf(
    order: &WorkOrder,
    policy: &Policy,
    format: ReportFormat,
    state: SignatureState,
    font: &ReportFont,
    photos: PhotoBytes<'_>,
) -> Result<Vec<u8>, ReportError> {
    let lang = match format {
        ReportFormat::In(l) => l,
        ReportFormat::Original => Language::En,
    };
    let measure = Measure::new(&font.bytes).ok_or(ReportError::NotAFont)?;
    let text = render_report_in(order, policy, format);
    let hash = report_sha256(&text);
    let cx = sections::Cx {
        order,
        policy,
        format,
        lang,
        measure: &measure,
        hash: &hash,
        photos,
        pictures: true,
    };
    match lay_out_and_draw(&cx, state, font) {
        // A photo whose header reads but whose body does not decode fails
        // only when the document is written: the report is made again with
        // the photos as boxes saying so, rather than not at all.
        Err(ReportError::Pdf(_)) if order.photos.iter().any(|p| !p.is_removed()) => {
            let cx = sections::Cx {
                pictures: false,
                ..cx
            };
            lay_out_and_draw(&cx, state, font)
        }
        other => other,
    }
}

fn lay_out_and_draw(
    cx: &sections::Cx<'_>,
    state: SignatureState,
    font: &ReportFont,
) -> Result<Vec<u8>, ReportError> {
    let (order, lang) = (cx.order, cx.lang);
    let banner = banner(order, state, lang);
    let banner_lines = banner
        .as_deref()
        .map(|b| cx.measure.wrap(b, 11.0, layout::CONTENT_W - 16.0).len())
        .unwrap_or(0);
    let top = layout::BODY_TOP
        + if banner_lines > 0 {
            18.0 + 15.0 * banner_lines as f32
        } else {
            0.0
        };
    let mut pages = Pages::new(top);
    sections::body(cx, &mut pages);
    let count = pages.pages.len();
    for (i, page) in pages.pages.iter_mut().enumerate() {
        let mut frame = frame(cx, banner.as_deref(), i + 1, count);
        frame.append(page);
        *page = frame;
    }
    let font_pdf = draw::font(font.bytes.clone()).ok_or(ReportError::NotAFont)?;
    let about = draw::About {
        title: format!("{} {}", l10n::t(lang, "pdf-title"), order.id),
        language: lang.tag().to_string(),
    };
    draw::pdf(&pages.pages, font_pdf, cx.measure, about).map_err(ReportError::Pdf)
}

/// What every page says when the signature does not hold for this report.
fn banner(order: &WorkOrder, state: SignatureState, lang: Language) -> Option<String> {
    match state {
        SignatureState::Valid => None,
        SignatureState::Unsigned => Some(l10n::t(lang, "pdf-banner-unsigned")),
        SignatureState::Invalidated => Some(l10n::t(lang, "pdf-banner-invalid")),
        SignatureState::Refused => {
            let reason = match &order.sign_off {
                Some(crate::model::SignOff::Refused { reason, .. }) => reason.clone(),
                _ => String::new(),
            };
            Some(l10n::text(
                lang,
                "pdf-banner-refused",
                &[("reason", FluentValue::from(reason))],
            ))
        }
    }
}

/// The header (service center, title, order, page) and footer (hash,
/// language) of page `page` of `count`, with the banner if there is one.
fn frame(cx: &sections::Cx<'_>, banner: Option<&str>, page: usize, count: usize) -> Vec<Mark> {
    let lang = cx.lang;
    let mut m = Vec::new();
    let mut y = MARGIN + 10.0;
    let center = cx.policy.center_name.trim();
    if !center.is_empty() {
        m.push(text(MARGIN, y, 10.0, Ink::Grey, center));
    }
    let page_label = l10n::text(
        lang,
        "pdf-page",
        &[
            ("page", FluentValue::from(page)),
            ("pages", FluentValue::from(count)),
        ],
    );
    let w = cx.measure.width(&page_label, 9.0);
    m.push(text(PAGE_W - MARGIN - w, y, 9.0, Ink::Grey, &page_label));
    y += 24.0;
    m.push(text(
        MARGIN,
        y,
        18.0,
        Ink::Black,
        &l10n::t(lang, "pdf-title"),
    ));
    let order = l10n::text(
        lang,
        "pdf-order",
        &[("id", FluentValue::from(cx.order.id.as_str()))],
    );
    let w = cx.measure.width(&order, 11.0);
    m.push(text(PAGE_W - MARGIN - w, y, 11.0, Ink::Black, &order));
    y += 10.0;
    m.push(Mark::Line {
        from: (MARGIN, y),
        to: (PAGE_W - MARGIN, y),
        width: 1.0,
        ink: Ink::Black,
    });
    if let Some(b) = banner {
        let lines = cx.measure.wrap(b, 11.0, layout::CONTENT_W - 16.0);
        let top = y + 8.0;
        let h = 10.0 + 15.0 * lines.len() as f32;
        m.push(Mark::Frame {
            x: MARGIN,
            y: top,
            w: layout::CONTENT_W,
            h,
            ink: Ink::Red,
        });
        for (i, l) in lines.iter().enumerate() {
            m.push(text(
                MARGIN + 8.0,
                top + 16.0 + 15.0 * i as f32,
                11.0,
                Ink::Red,
                l,
            ));
        }
    }
    let foot = PAGE_H - MARGIN + 10.0;
    m.push(Mark::Line {
        from: (MARGIN, foot - 14.0),
        to: (PAGE_W - MARGIN, foot - 14.0),
        width: 0.5,
        ink: Ink::Grey,
    });
    let footer = l10n::text(
        lang,
        "pdf-footer",
        &[
            ("hash", FluentValue::from(cx.hash)),
            ("tag", FluentValue::from(lang.tag())),
        ],
    );
    m.push(text(MARGIN, foot, 7.5, Ink::Grey, &footer));
    m
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
