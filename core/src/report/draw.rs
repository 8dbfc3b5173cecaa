//! Laid-out pages drawn into a PDF with krilla: text through the one font
//! (krilla embeds only the glyphs used), lines and pen strokes as vector
//! paths, photos as images. Nothing here reads a clock or a random source, so
//! the same pages give the same bytes.

use super::layout::{Ink, Mark, Measure, PAGE_H, PAGE_W};
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect, Size};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::{Fill, LineCap, LineJoin, Stroke};
use krilla::surface::Surface;
use krilla::text::Font;
use krilla::{Document, SerializeSettings};

/// The document's title and language, for its metadata.
#[derive(Debug)]
pub(super) struct About {
    pub(super) title: String,
    pub(super) language: String,
}

pub(super) fn pdf(
    pages: &[Vec<Mark>],
    font: Font,
    measure: &Measure<'_>,
    about: About,
) -> Result<Vec<u8>, String> {
    let settings = SerializeSettings {
        // The structure tree would need every mark tagged; a report that is
        // read on paper and searched by its text does without.
        enable_tagging: false,
        ..SerializeSettings::default()
    };
    let mut doc = Document::new_with(settings);
    doc.set_metadata(
        Metadata::new()
            .title(about.title)
            .language(about.language)
            .creator("Fieldwork".into()),
    );
    let size = PageSettings::from_wh(PAGE_W, PAGE_H).ok_or("page size")?;
    for marks in pages {
        let mut page = doc.start_page_with(size.clone());
        let mut surface = page.surface();
        for mark in marks {
            draw(&mut surface, &font, measure, mark);
        }
        surface.finish();
        page.finish();
    }
    doc.finish().map_err(|e| format!("{e:?}"))
}

fn colour(ink: Ink) -> rgb::Color {
    match ink {
        Ink::Black => rgb::Color::new(20, 20, 20),
        Ink::Grey => rgb::Color::new(110, 110, 110),
        Ink::Red => rgb::Color::new(190, 20, 20),
    }
}

fn fill(ink: Ink) -> Fill {
    Fill {
        paint: colour(ink).into(),
        ..Fill::default()
    }
}

fn stroke(ink: Ink, width: f32) -> Stroke {
    Stroke {
        paint: colour(ink).into(),
        width,
        line_cap: LineCap::Round,
        line_join: LineJoin::Round,
        ..Stroke::default()
    }
}

fn draw(surface: &mut Surface<'_>, font: &Font, measure: &Measure<'_>, mark: &Mark) {
    match mark {
        Mark::Text {
            x,
            y,
            size,
            ink,
            text,
        } => {
            if text.is_empty() {
                return;
            }
            surface.set_fill(Some(fill(*ink)));
            surface.set_stroke(None);
            surface.draw_glyphs(
                Point::from_xy(*x, *y),
                &measure.glyphs(text),
                font.clone(),
                text,
                *size,
                false,
            );
        }
        Mark::Line {
            from,
            to,
            width,
            ink,
        } => {
            let mut pb = PathBuilder::new();
            pb.move_to(from.0, from.1);
            pb.line_to(to.0, to.1);
            outline(surface, pb, stroke(*ink, *width));
        }
        Mark::Frame { x, y, w, h, ink } => {
            let mut pb = PathBuilder::new();
            if let Some(r) = Rect::from_xywh(*x, *y, *w, *h) {
                pb.push_rect(r);
            }
            outline(surface, pb, stroke(*ink, 0.8));
        }
        Mark::Strokes { paths } => {
            let mut pb = PathBuilder::new();
            for path in paths {
                let Some(first) = path.first() else { continue };
                pb.move_to(first.0, first.1);
                if path.len() == 1 {
                    // A dot: a zero-length line with round caps.
                    pb.line_to(first.0 + 0.01, first.1);
                }
                for p in &path[1..] {
                    pb.line_to(p.0, p.1);
                }
            }
            outline(surface, pb, stroke(Ink::Black, 1.4));
        }
        Mark::Check { x, y, side, passed } => {
            let mut pb = PathBuilder::new();
            if let Some(r) = Rect::from_xywh(*x, *y, *side, *side) {
                pb.push_rect(r);
            }
            outline(surface, pb, stroke(Ink::Grey, 0.6));
            let (s, x, y) = (*side, *x, *y);
            let mut pb = PathBuilder::new();
            if *passed {
                pb.move_to(x + s * 0.2, y + s * 0.55);
                pb.line_to(x + s * 0.42, y + s * 0.78);
                pb.line_to(x + s * 0.82, y + s * 0.22);
                outline(surface, pb, stroke(Ink::Black, 1.2));
            } else {
                pb.move_to(x + s * 0.25, y + s * 0.25);
                pb.line_to(x + s * 0.75, y + s * 0.75);
                pb.move_to(x + s * 0.75, y + s * 0.25);
                pb.line_to(x + s * 0.25, y + s * 0.75);
                outline(surface, pb, stroke(Ink::Red, 1.2));
            }
        }
        Mark::Qr {
            x,
            y,
            module,
            width,
            dark,
        } => {
            let mut pb = PathBuilder::new();
            for (i, d) in dark.iter().enumerate() {
                if !d {
                    continue;
                }
                let (col, row) = ((i % width) as f32, (i / width) as f32);
                if let Some(r) =
                    Rect::from_xywh(x + col * module, y + row * module, *module, *module)
                {
                    pb.push_rect(r);
                }
            }
            if let Some(path) = pb.finish() {
                surface.set_stroke(None);
                surface.set_fill(Some(fill(Ink::Black)));
                surface.draw_path(&path);
            }
        }
        Mark::Picture { x, y, w, h, image } => {
            let img = image.clone();
            let (pw, ph) = img.size();
            let (pw, ph) = (pw.max(1) as f32, ph.max(1) as f32);
            let scale = (w / pw).min(h / ph);
            let (dw, dh) = (pw * scale, ph * scale);
            let (dx, dy) = (x + (w - dw) / 2.0, y + (h - dh) / 2.0);
            if let Some(size) = Size::from_wh(dw, dh) {
                surface.push_transform(&krilla::geom::Transform::from_translate(dx, dy));
                surface.draw_image(img, size);
                surface.pop();
            }
        }
    }
}

fn outline(surface: &mut Surface<'_>, pb: PathBuilder, stroke: Stroke) {
    if let Some(path) = pb.finish() {
        surface.set_fill(None);
        surface.set_stroke(Some(stroke));
        surface.draw_path(&path);
        surface.set_stroke(None);
    }
}

/// The font as krilla takes it; `None` if it is not a font.
pub(super) fn font(bytes: std::sync::Arc<Vec<u8>>) -> Option<Font> {
    Font::new(krilla::Data::from(bytes), 0)
}
