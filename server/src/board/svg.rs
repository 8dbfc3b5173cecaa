//! The customer's signature drawn from its recorded pen strokes, as inline SVG.

use fieldwork_core::model::Stroke;
use maud::{Markup, html};

/// One polyline per stroke, scaled into a 300×120 box; nothing for no strokes.
pub(crate) fn signature(strokes: &[Stroke], label: &str) -> Markup {
    let points = strokes.iter().flat_map(|s| s.points.iter());
    let (mut min_x, mut min_y, mut max_x, mut max_y) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for p in points.filter(|p| p.x.is_finite() && p.y.is_finite()) {
        min_x = min_x.min(p.x);
        min_y = min_y.min(p.y);
        max_x = max_x.max(p.x);
        max_y = max_y.max(p.y);
    }
    if min_x > max_x {
        return html! {};
    }
    let (w, h, pad) = (300.0, 120.0, 6.0);
    let scale = ((w - 2.0 * pad) / (max_x - min_x).max(1.0))
        .min((h - 2.0 * pad) / (max_y - min_y).max(1.0));
    let lines: Vec<String> = strokes
        .iter()
        .map(|s| {
            s.points
                .iter()
                .filter(|p| p.x.is_finite() && p.y.is_finite())
                .map(|p| {
                    format!(
                        "{:.1},{:.1}",
                        pad + (p.x - min_x) * scale,
                        pad + (p.y - min_y) * scale
                    )
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    html! {
        svg.signature xmlns="http://www.w3.org/2000/svg" viewBox="0 0 300 120" width="300" height="120" role="img" aria-label=(label) {
            @for l in &lines {
                polyline points=(l) fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" {}
            }
        }
    }
}
