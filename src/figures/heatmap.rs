//! The heatmap: a matrix drawn as a grid of rectangles with the values written in, several
//! panels side by side in one SVG.

use std::fmt::Write as _;

use nalgebra::DMatrix;

use super::escape;

const CELL_W: usize = 58;
const CELL_H: usize = 30;
const LABEL_W: usize = 70;
const TITLE_H: usize = 28;
const HEADER_H: usize = 22;
const GAP: usize = 30;

/// One panel: a matrix drawn as a grid, darker for larger magnitudes. NaN cells are drawn as masked
/// (grey, hatched, no number): use NaN for positions a causal mask hides. A panel where NaN is a
/// computed result instead (a softmax that overflowed) writes it in: [`Heatmap::nan_as_text`].
#[derive(Debug, Clone)]
pub struct Heatmap<'a> {
    title: &'a str,
    matrix: &'a DMatrix<f32>,
    row_labels: &'a [&'a str],
    col_labels: &'a [&'a str],
    nan_text: bool,
}

impl<'a> Heatmap<'a> {
    /// A panel titled `title`; rows are labelled by `row_labels` (queries), columns by
    /// `col_labels` (keys). Missing labels are left blank.
    pub fn new(
        title: &'a str,
        matrix: &'a DMatrix<f32>,
        row_labels: &'a [&'a str],
        col_labels: &'a [&'a str],
    ) -> Self {
        Heatmap {
            title,
            matrix,
            row_labels,
            col_labels,
            nan_text: false,
        }
    }

    /// Draws NaN cells as a plain grey cell with "NaN" written in, not as masked.
    ///
    /// ```
    /// use ch03_attention::figures::{Heatmap, svg};
    /// use ch03_attention::nalgebra::DMatrix;
    /// let m = DMatrix::from_row_slice(1, 2, &[f32::NAN, 1.0_f32]);
    /// let picture = svg(&[Heatmap::new("overflow", &m, &[], &[]).nan_as_text()]);
    /// assert!(picture.contains(">NaN<") && !picture.contains("url(#masked)"));
    /// ```
    #[must_use]
    pub fn nan_as_text(mut self) -> Self {
        self.nan_text = true;
        self
    }

    fn width(&self) -> usize {
        LABEL_W + self.matrix.ncols() * CELL_W
    }

    fn height(&self) -> usize {
        TITLE_H + HEADER_H + self.matrix.nrows() * CELL_H
    }
}

/// Draws the panels side by side in one SVG document. Colours scale from white (0) to dark blue
/// (the largest finite value of each panel); values are written with two decimals.
pub fn svg(panels: &[Heatmap]) -> String {
    let width =
        panels.iter().map(|p| p.width()).sum::<usize>() + GAP * panels.len().saturating_sub(1) + 10;
    let height = panels.iter().map(|p| p.height()).max().unwrap_or(0) + 10;
    let mut s = svg_open(width, height, 12, ("masked", "#e6e6e6", "#bdbdbd"));
    let mut x0 = 5;
    for p in panels {
        panel(&mut s, p, x0, 5);
        x0 += p.width() + GAP;
    }
    s.push_str("</svg>\n");
    s
}

/// The opening of an SVG picture of `width × height` with text at `font_size`: its white
/// background and a hatch pattern `(id, fill, stroke)` (diagonal strokes over a fill) that its
/// shapes can be filled with, as `url(#id)`.
pub(crate) fn svg_open(
    width: usize,
    height: usize,
    font_size: usize,
    (id, fill, stroke): (&str, &str, &str),
) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="{font_size}">"##
    );
    let _ = writeln!(
        s,
        r##"<defs><pattern id="{id}" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="{fill}"/><line x1="0" y1="0" x2="0" y2="6" stroke="{stroke}" stroke-width="2"/></pattern></defs>"##
    );
    s.push_str(r##"<rect width="100%" height="100%" fill="#ffffff"/>"##);
    s.push('\n');
    s
}

fn panel(s: &mut String, p: &Heatmap, x0: usize, y0: usize) {
    let m = p.matrix;
    let vmax = m
        .iter()
        .filter(|v| v.is_finite())
        .fold(0.0_f32, |a, v| a.max(v.abs()));
    let _ = writeln!(
        s,
        r##"<text x="{}" y="{}" font-size="14" font-weight="bold" text-anchor="middle">{}</text>"##,
        x0 + p.width() / 2,
        y0 + 18,
        escape(p.title)
    );
    let grid_x = x0 + LABEL_W;
    let grid_y = y0 + TITLE_H + HEADER_H;
    for (j, label) in p.col_labels.iter().enumerate().take(m.ncols()) {
        let _ = writeln!(
            s,
            r##"<text x="{}" y="{}" text-anchor="middle" fill="#333333">{}</text>"##,
            grid_x + j * CELL_W + CELL_W / 2,
            grid_y - 7,
            escape(label)
        );
    }
    for i in 0..m.nrows() {
        let y = grid_y + i * CELL_H;
        if let Some(label) = p.row_labels.get(i) {
            let _ = writeln!(
                s,
                r##"<text x="{}" y="{}" text-anchor="end" fill="#333333">{}</text>"##,
                grid_x - 8,
                y + CELL_H / 2 + 4,
                escape(label)
            );
        }
        for j in 0..m.ncols() {
            let x = grid_x + j * CELL_W;
            let v = m[(i, j)];
            if v.is_nan() && p.nan_text {
                let _ = writeln!(
                    s,
                    r##"<rect x="{x}" y="{y}" width="{CELL_W}" height="{CELL_H}" fill="#dddddd" stroke="#ffffff"/><text x="{}" y="{}" text-anchor="middle" fill="#111111">NaN</text>"##,
                    x + CELL_W / 2,
                    y + CELL_H / 2 + 4
                );
                continue;
            }
            if v.is_nan() {
                let _ = writeln!(
                    s,
                    r##"<rect x="{x}" y="{y}" width="{CELL_W}" height="{CELL_H}" fill="url(#masked)" stroke="#ffffff"/>"##
                );
                continue;
            }
            let t = if vmax > 0.0 {
                (v.abs() / vmax).min(1.0)
            } else {
                0.0
            };
            let (fill, ink) = colour(t);
            let _ = writeln!(
                s,
                r##"<rect x="{x}" y="{y}" width="{CELL_W}" height="{CELL_H}" fill="{fill}" stroke="#ffffff"/><text x="{}" y="{}" text-anchor="middle" fill="{ink}">{}</text>"##,
                x + CELL_W / 2,
                y + CELL_H / 2 + 4,
                cell_text(v)
            );
        }
    }
}

/// Two decimals, with `-inf`/`inf` spelled out.
fn cell_text(v: f32) -> String {
    if v.is_infinite() {
        if v < 0.0 { "−∞" } else { "∞" }.to_string()
    } else {
        format!("{v:.2}")
    }
}

/// White → dark blue, with white ink on the darker half.
fn colour(t: f32) -> (String, &'static str) {
    let lerp = |a: f32, b: f32| (a + (b - a) * t).round() as u8;
    let fill = format!(
        "#{:02x}{:02x}{:02x}",
        lerp(247.0, 8.0),
        lerp(251.0, 48.0),
        lerp(255.0, 107.0)
    );
    (fill, if t > 0.55 { "#ffffff" } else { "#111111" })
}
