//! The line chart: series on shared axes with round-numbered ticks and a legend.

use std::fmt::Write as _;

use super::escape;
use crate::Error;

/// One line of a [`line_chart`]: points `(x, y)` joined in order.
#[derive(Debug, Clone)]
pub struct Series<'a> {
    /// Legend text.
    pub label: &'a str,
    /// The points, in drawing order.
    pub points: Vec<(f64, f64)>,
    /// Stroke colour, e.g. `"#08306b"`.
    pub colour: &'a str,
    /// Dashed (for reference lines such as a floor) instead of solid.
    pub dashed: bool,
}

const CHART_W: f64 = 640.0;
const CHART_H: f64 = 300.0;
const CHART_LEFT: f64 = 60.0;
const CHART_TOP: f64 = 40.0;
const LEGEND_W: f64 = 260.0;

/// Draws series as lines on shared axes: x from 0 (or the smallest x, if negative) to the largest
/// x, y from 0 to a round number above the largest y, with the legend to the right of the plot.
///
/// ```
/// use ch03_attention::figures::{line_chart, Series};
/// let line = Series { label: "y = x", points: vec![(0.0, 0.0), (4.0, 4.0)], colour: "#000000", dashed: false };
/// let picture = line_chart("demo", "x", "y", &[line]).unwrap();
/// assert!(picture.starts_with("<svg") && picture.contains(">y = x<"));
/// ```
///
/// # Errors
///
/// [`Error::NonFinite`] for a NaN or infinite coordinate, and [`Error::InvalidConfig`] for one
/// beyond ±10³⁰⁰ (the axes' round numbers above it would not be finite).
pub fn line_chart(
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
) -> Result<String, Error> {
    for &(x, y) in series.iter().flat_map(|s| &s.points) {
        for (what, v) in [("line_chart x", x), ("line_chart y", y)] {
            if !v.is_finite() {
                return Err(Error::NonFinite { what, value: v });
            }
            if v.abs() > CHART_LIMIT {
                return Err(Error::InvalidConfig(format!(
                    "{what} must lie within ±1e300, got {}",
                    crate::error::readable(v)
                )));
            }
        }
    }
    let xs = || series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
    let x_min = xs().fold(0.0_f64, f64::min);
    let x_max = xs().fold(f64::NEG_INFINITY, f64::max);
    let y_top = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .fold(0.0_f64, f64::max);
    let (x_min, x_max) = if x_min < x_max {
        (x_min, x_max)
    } else {
        (0.0, 1.0)
    };
    let y_step = nice_step(y_top.max(1e-12));
    let y_max = (y_top / y_step).ceil().max(1.0) * y_step;
    let px = |x: f64| CHART_LEFT + (x - x_min) / (x_max - x_min) * CHART_W;
    let py = |y: f64| CHART_TOP + CHART_H - y / y_max * CHART_H;
    let (width, height) = (CHART_LEFT + CHART_W + LEGEND_W, CHART_TOP + CHART_H + 50.0);

    let mut s = String::new();
    let _ = writeln!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">"##
    );
    s.push_str("<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n");
    let _ = writeln!(
        s,
        r##"<text x="{}" y="22" font-size="14" font-weight="bold" text-anchor="middle">{}</text>"##,
        CHART_LEFT + CHART_W / 2.0,
        escape(title)
    );
    // Grid lines and tick labels.
    for y in ticks(0.0, y_max + y_step / 2.0, y_step) {
        let _ = writeln!(
            s,
            r##"<line x1="{CHART_LEFT}" y1="{0:.1}" x2="{1}" y2="{0:.1}" stroke="#e0e0e0"/><text x="{2}" y="{3:.1}" text-anchor="end" fill="#333333">{4}</text>"##,
            py(y),
            CHART_LEFT + CHART_W,
            CHART_LEFT - 6.0,
            py(y) + 4.0,
            tick_text(y, y_step)
        );
    }
    let x_step = nice_step(x_max - x_min);
    for x in ticks(
        (x_min / x_step).ceil() * x_step,
        x_max + x_step * 1e-9,
        x_step,
    ) {
        let _ = writeln!(
            s,
            r##"<text x="{:.1}" y="{}" text-anchor="middle" fill="#333333">{}</text>"##,
            px(x),
            CHART_TOP + CHART_H + 18.0,
            tick_text(x, x_step)
        );
    }
    let _ = writeln!(
        s,
        r##"<rect x="{CHART_LEFT}" y="{CHART_TOP}" width="{CHART_W}" height="{CHART_H}" fill="none" stroke="#333333"/>"##
    );
    let _ = writeln!(
        s,
        r##"<text x="{}" y="{}" text-anchor="middle" fill="#333333">{}</text>"##,
        CHART_LEFT + CHART_W / 2.0,
        CHART_TOP + CHART_H + 40.0,
        escape(x_label)
    );
    let _ = writeln!(
        s,
        r##"<text x="14" y="{0}" text-anchor="middle" fill="#333333" transform="rotate(-90 14 {0})">{1}</text>"##,
        CHART_TOP + CHART_H / 2.0,
        escape(y_label)
    );
    // The lines, then the legend.
    for line in series {
        let points: Vec<String> = line
            .points
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", px(x), py(y)))
            .collect();
        let dash = if line.dashed {
            r#" stroke-dasharray="6 4""#
        } else {
            ""
        };
        let _ = writeln!(
            s,
            r##"<polyline points="{}" fill="none" stroke="{}" stroke-width="2"{dash}/>"##,
            points.join(" "),
            line.colour
        );
    }
    for (k, line) in series.iter().enumerate() {
        let y = CHART_TOP + 16.0 + 20.0 * k as f64;
        let x = CHART_LEFT + CHART_W + 16.0;
        let dash = if line.dashed {
            r#" stroke-dasharray="6 4""#
        } else {
            ""
        };
        let _ = writeln!(
            s,
            r##"<line x1="{x}" y1="{y}" x2="{}" y2="{y}" stroke="{}" stroke-width="2"{dash}/><text x="{}" y="{}" fill="#111111">{}</text>"##,
            x + 24.0,
            line.colour,
            x + 30.0,
            y + 4.0,
            escape(line.label)
        );
    }
    s.push_str("</svg>\n");
    Ok(s)
}

/// The largest coordinate [`line_chart`] draws.
const CHART_LIMIT: f64 = 1e300;

/// Tick positions `first, first + step, …` up to `last`. A [`nice_step`] cuts an axis into at
/// most 6 intervals, so at most 7 ticks are real; the count is capped at 12 all the same, so no
/// rounding (or a step that underflowed to 0) can make the list endless.
fn ticks(first: f64, last: f64, step: f64) -> Vec<f64> {
    (0..12)
        .map(|k| first + f64::from(k) * step)
        .take_while(|v| *v <= last)
        .collect()
}

/// A round step (1, 2 or 5 times a power of ten) that cuts `range` into at most 6 intervals.
fn nice_step(range: f64) -> f64 {
    let raw = range / 6.0;
    let power = 10_f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0]
        .iter()
        .map(|m| m * power)
        .find(|step| *step >= raw)
        .unwrap_or(10.0 * power)
}

/// A tick label with as many decimals as the step needs.
fn tick_text(v: f64, step: f64) -> String {
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    format!("{v:.decimals$}")
}
