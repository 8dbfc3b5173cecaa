//! Pages as lists of marks: the report is laid out first (text measured with
//! the font's own advances, lines broken, pages started when one is full),
//! and only then drawn with krilla ([`super::draw`]). Laying out first is what
//! lets every page carry "page 2 of 3" and the header and banner of the first.

use skrifa::instance::{LocationRef, Size};
use skrifa::raw::TableProvider;
use skrifa::{FontRef, MetadataProvider};

/// A4 in PDF points.
pub(super) const PAGE_W: f32 = 595.28;
pub(super) const PAGE_H: f32 = 841.89;
pub(super) const MARGIN: f32 = 48.0;
/// Where the body starts below the header (without a banner), and where it
/// must stop above the footer.
pub(super) const BODY_TOP: f32 = 108.0;
pub(super) const BODY_BOTTOM: f32 = PAGE_H - 58.0;
pub(super) const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ink {
    Black,
    Grey,
    Red,
}

/// One thing drawn on a page, in points from the top-left corner.
#[derive(Debug, Clone)]
pub(super) enum Mark {
    /// Text on one line; `y` is the baseline.
    Text {
        x: f32,
        y: f32,
        size: f32,
        ink: Ink,
        text: String,
    },
    Line {
        from: (f32, f32),
        to: (f32, f32),
        width: f32,
        ink: Ink,
    },
    /// A rectangle's outline.
    Frame {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        ink: Ink,
    },
    /// Pen strokes already scaled into page points.
    Strokes { paths: Vec<Vec<(f32, f32)>> },
    /// A tick (passed) or a cross (failed) in a box of side `side`.
    Check {
        x: f32,
        y: f32,
        side: f32,
        passed: bool,
    },
    /// A QR code: `dark` row by row, `width` modules a side.
    Qr {
        x: f32,
        y: f32,
        module: f32,
        width: usize,
        dark: Vec<bool>,
    },
    /// A photo fitted into the box, keeping its shape.
    Picture {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        image: krilla::image::Image,
    },
}

/// Text widths from the font's horizontal metrics; characters the font
/// lacks are measured as its fallback glyph, which is what gets drawn.
pub(super) struct Measure<'a> {
    charmap: skrifa::charmap::Charmap<'a>,
    metrics: skrifa::metrics::GlyphMetrics<'a>,
    per_em: f32,
}

impl std::fmt::Debug for Measure<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Measure")
            .field("per_em", &self.per_em)
            .finish()
    }
}

impl<'a> Measure<'a> {
    pub(super) fn new(font: &'a [u8]) -> Option<Measure<'a>> {
        let f = FontRef::from_index(font, 0).ok()?;
        let per_em = f32::from(f.head().ok()?.units_per_em().max(1));
        Some(Measure {
            charmap: f.charmap(),
            metrics: f.glyph_metrics(Size::unscaled(), LocationRef::default()),
            per_em,
        })
    }

    fn advance(&self, c: char) -> f32 {
        let gid = self.charmap.map(c).unwrap_or(skrifa::GlyphId::NOTDEF);
        self.metrics.advance_width(gid).unwrap_or(self.per_em) / self.per_em
    }

    /// The glyphs `text` is drawn with: one per character, from the font's
    /// character map (the fallback glyph where it has none), advancing by
    /// the font's widths, each tied to its character for the text layer.
    /// The font has no layout features (scripts/font-asset), so this is all
    /// the shaping Latin and Chinese need, and exactly what was measured.
    pub(super) fn glyphs(&self, text: &str) -> Vec<krilla::text::KrillaGlyph> {
        text.char_indices()
            .map(|(at, c)| {
                let gid = self.charmap.map(c).unwrap_or(skrifa::GlyphId::NOTDEF);
                krilla::text::KrillaGlyph {
                    glyph_id: krilla::text::GlyphId::new(gid.to_u32()),
                    text_range: at..at + c.len_utf8(),
                    x_advance: self.metrics.advance_width(gid).unwrap_or(self.per_em) / self.per_em,
                    x_offset: 0.0,
                    y_offset: 0.0,
                    y_advance: 0.0,
                    location: None,
                }
            })
            .collect()
    }

    pub(super) fn width(&self, text: &str, size: f32) -> f32 {
        text.chars().map(|c| self.advance(c)).sum::<f32>() * size
    }

    /// `text` broken into lines no wider than `max`: at spaces, between
    /// ideographs, and inside a word only when it alone is too wide.
    pub(super) fn wrap(&self, text: &str, size: f32, max: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for para in text.split('\n') {
            let mut line = String::new();
            let mut width = 0.0;
            // Byte index in `line` after the last place it may break, and the
            // width up to there.
            let mut last_break: Option<(usize, f32)> = None;
            for c in para.chars() {
                let c = if c.is_control() { ' ' } else { c };
                let w = self.advance(c) * size;
                if width + w > max && !line.is_empty() {
                    match last_break {
                        Some((at, _)) if at > 0 && at < line.len() => {
                            let rest = line.split_off(at);
                            lines.push(line.trim_end().to_string());
                            line = rest.trim_start().to_string();
                        }
                        _ => {
                            lines.push(line.trim_end().to_string());
                            line = String::new();
                        }
                    }
                    width = self.width(&line, size);
                    last_break = None;
                    if c == ' ' && line.is_empty() {
                        continue;
                    }
                }
                line.push(c);
                width += w;
                if c == ' ' || breaks_after(c) {
                    last_break = Some((line.len(), width));
                }
            }
            lines.push(line.trim_end().to_string());
        }
        lines
    }
}

/// Ideographs, kana and full-width punctuation may be broken after.
fn breaks_after(c: char) -> bool {
    matches!(c as u32,
        0x2E80..=0x9FFF | 0xF900..=0xFAFF | 0xFF00..=0xFFEF | 0x20000..=0x3FFFF)
}

/// The pages being filled, and where the next line goes.
#[derive(Debug)]
pub(super) struct Pages {
    pub(super) pages: Vec<Vec<Mark>>,
    pub(super) y: f32,
    /// Where each page's body starts.
    top: f32,
    /// Drawn at the top of each page after the first page of a table that
    /// runs on (its title and column heads), set while the table is laid out.
    pub(super) continued: Option<Vec<Mark>>,
}

impl Pages {
    pub(super) fn new(top: f32) -> Pages {
        Pages {
            pages: vec![Vec::new()],
            y: top,
            top,
            continued: None,
        }
    }

    /// Room for `h` more points on this page, or a new page.
    pub(super) fn need(&mut self, h: f32) {
        if self.y + h > BODY_BOTTOM && self.y > self.top {
            self.pages.push(Vec::new());
            self.y = self.top;
            if let Some(head) = &self.continued {
                let head = head.clone();
                let h = head_height(&head);
                for m in head {
                    self.push(shift(m, self.y));
                }
                self.y += h;
            }
        }
    }

    pub(super) fn push(&mut self, mark: Mark) {
        if let Some(page) = self.pages.last_mut() {
            page.push(mark);
        }
    }
}

/// The height of marks laid out from y = 0.
pub(super) fn head_height(marks: &[Mark]) -> f32 {
    marks
        .iter()
        .map(|m| match m {
            Mark::Text { y, size, .. } => y + size * 0.4,
            Mark::Line { from, to, .. } => from.1.max(to.1) + 4.0,
            _ => 0.0,
        })
        .fold(0.0, f32::max)
}

/// A mark laid out from y = 0, moved down by `dy`.
pub(super) fn shift(mark: Mark, dy: f32) -> Mark {
    match mark {
        Mark::Text {
            x,
            y,
            size,
            ink,
            text,
        } => Mark::Text {
            x,
            y: y + dy,
            size,
            ink,
            text,
        },
        Mark::Line {
            from,
            to,
            width,
            ink,
        } => Mark::Line {
            from: (from.0, from.1 + dy),
            to: (to.0, to.1 + dy),
            width,
            ink,
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn font() -> Vec<u8> {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("assets/fonts/NotoSansSC-Regular.otf");
        std::fs::read(p).unwrap_or_default()
    }

    #[test]
    fn the_font_asset_has_a_glyph_for_every_character_a_report_writes() {
        let bytes = font();
        let m = Measure::new(&bytes).expect("the font asset reads");
        let text = "服务报告 故障继电器，凭证：¥1,234.50 （续）第 1 页 Service report Ünïcode №";
        let missing: Vec<char> = text
            .chars()
            .zip(m.glyphs(text))
            .filter(|(_, g)| g.glyph_id.to_u32() == 0)
            .map(|(c, _)| c)
            .collect();
        assert!(missing.is_empty(), "drawn as boxes: {missing:?}");
        // Outside it on purpose: the fallback glyph, never a panic.
        assert!(m.glyphs("😀𠀋").iter().all(|g| g.glyph_id.to_u32() == 0));
    }

    #[test]
    fn lines_break_at_spaces_between_ideographs_and_inside_only_overlong_words() {
        let bytes = font();
        let m = Measure::new(&bytes).expect("the font asset reads");
        let lines = m.wrap("replaced the relay and tested three cycles", 10.0, 80.0);
        assert!(lines.len() > 1 && lines.iter().all(|l| m.width(l, 10.0) <= 80.0));
        assert_eq!(
            lines.join(" "),
            "replaced the relay and tested three cycles"
        );
        let zh = m.wrap("开机后无法制冷压缩机异响需要更换继电器", 10.0, 50.0);
        assert!(zh.len() >= 4 && zh.concat() == "开机后无法制冷压缩机异响需要更换继电器");
        let long = m.wrap(&"A".repeat(200), 10.0, 100.0);
        assert!(long.len() > 1 && long.concat().len() == 200);
        assert_eq!(m.wrap("", 10.0, 100.0), vec![String::new()]);
    }
}
