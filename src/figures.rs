//! The study guide's figures, drawn from computed results.
//!
//! Every figure in `docs/figures/` is an SVG produced by [`all`] from this crate's own numbers;
//! `cargo run --example figures` rewrites them, and a test fails if a committed figure is stale.
//! The drawing code is deliberately plain: a grid of rectangles with the values written in.
//!
//! ```
//! use ch03_attention::figures::{Heatmap, svg};
//! use ch03_attention::nalgebra::DMatrix;
//! let m = DMatrix::from_row_slice(2, 2, &[0.7_f32, 0.3, f32::NAN, 1.0]);
//! let labels = ["a", "b"];
//! let picture = svg(&[Heatmap::new("demo", &m, &labels, &labels)]);
//! assert!(picture.starts_with("<svg") && picture.contains(">0.70<"));
//! ```

use std::fmt::Write as _;

use nalgebra::DMatrix;

use crate::Error;

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
    let mut s = String::new();
    let _ = writeln!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">"##
    );
    s.push_str(r##"<defs><pattern id="masked" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#e6e6e6"/><line x1="0" y1="0" x2="0" y2="6" stroke="#bdbdbd" stroke-width="2"/></pattern></defs>"##);
    s.push('\n');
    s.push_str(r##"<rect width="100%" height="100%" fill="#ffffff"/>"##);
    s.push('\n');
    let mut x0 = 5;
    for p in panels {
        panel(&mut s, p, x0, 5);
        x0 += p.width() + GAP;
    }
    s.push_str("</svg>\n");
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

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Every figure of the study guide: `(file name under docs/figures/, SVG text)`.
///
/// # Errors
///
/// Propagates any [`Error`] from the computations (none is expected on the book's inputs).
pub fn all() -> Result<Vec<(&'static str, String)>, Error> {
    let figures = vec![
        ("similarity_3_3.svg", similarity_3_3()?),
        ("normalize_3_3.svg", normalize_3_3()?),
        ("attn_weights_3_3.svg", attn_weights_3_3()),
        ("attn_weights_3_4.svg", attn_weights_3_4()?),
        ("causal_weights_3_5.svg", causal_weights_3_5()?),
        ("dropout_mask_3_5.svg", dropout_mask_3_5()?),
        ("mha_heads_3_6.svg", mha_heads_3_6()?),
        ("kv_cache_decode.svg", kv_cache_decode()?),
        ("leakage_loss.svg", leakage_loss_curves()?),
        ("leakage_grad_norm.svg", leakage_grad_norms()?),
        ("leakage_attention.svg", leakage_attention()?),
        ("efficient_block_schedule.svg", efficient_block_schedule()),
        ("gradients_jacobian.svg", gradients_jacobian()?),
    ];
    Ok(figures)
}

/// Section 3.3.1's vectors and their dot products: the six embeddings `X` (one row per token),
/// every dot product `Ω = X·Xᵀ` (the attention scores), and for comparison every cosine
/// similarity, which divides the lengths out.
///
/// # Errors
///
/// None expected on the book's inputs; propagates [`crate::similarity::cosine_similarity`]'s.
pub fn similarity_3_3() -> Result<String, Error> {
    use crate::inputs::{TOKENS, inputs};
    use crate::similarity::{attn_scores, cosine_similarity};
    use crate::torch::row;
    let x = inputs();
    let scores = attn_scores(&x);
    let mut cosines = DMatrix::zeros(x.nrows(), x.nrows());
    for i in 0..x.nrows() {
        for j in 0..x.nrows() {
            cosines[(i, j)] = cosine_similarity(&row(&x, i), &row(&x, j))?;
        }
    }
    let dims = ["x₁", "x₂", "x₃"];
    Ok(svg(&[
        Heatmap::new("X: the embeddings", &x, &TOKENS, &dims),
        Heatmap::new("Ω = X·Xᵀ: dot products", &scores, &TOKENS, &TOKENS),
        Heatmap::new("cosine similarity", &cosines, &TOKENS, &TOKENS),
    ]))
}

/// Section 3.3.1's three ways from scores to weights, one row each (dividing by the sum, the
/// softmax as written, the stable softmax), applied to three score vectors: the book's scores
/// of "journey", scores with a negative one, and large scores. NaN (the naive softmax's
/// ∞ / ∞) is written in.
///
/// # Errors
///
/// None expected on the book's inputs; propagates [`crate::similarity::attn_scores_for`]'s.
pub fn normalize_3_3() -> Result<String, Error> {
    use crate::inputs::{QUERY_INDEX, TOKENS, inputs};
    use crate::normalize::{softmax, softmax_naive, sum_normalize};
    use crate::similarity::attn_scores_for;
    use crate::torch::row;
    use nalgebra::DVector;
    let x = inputs();
    let book = attn_scores_for(&row(&x, QUERY_INDEX), &x)?;
    let three = |scores: &DVector<f32>| {
        let rows = [
            sum_normalize(scores),
            softmax_naive(scores),
            softmax(scores),
        ];
        DMatrix::from_fn(3, scores.len(), |i, j| rows[i][j])
    };
    let negative = DVector::from_vec(NEGATIVE_SCORES.to_vec());
    let large = DVector::from_vec(LARGE_SCORES.to_vec());
    let (book, negative, large) = (three(&book), three(&negative), three(&large));
    let methods = ["÷ sum", "naive", "stable"];
    let negative_labels = ["1", "-1", "0.5"];
    let large_labels = ["1000", "1001", "999"];
    Ok(svg(&[
        Heatmap::new("the book's scores ω₂", &book, &methods, &TOKENS),
        Heatmap::new("a negative score", &negative, &methods, &negative_labels).nan_as_text(),
        Heatmap::new("large scores", &large, &methods, &large_labels).nan_as_text(),
    ]))
}

/// The scores of [`normalize_3_3`]'s middle panel: one is negative.
pub const NEGATIVE_SCORES: [f32; 3] = [1.0, -1.0, 0.5];
/// The scores of [`normalize_3_3`]'s right panel: large enough that `exp` overflows in `f32`.
pub const LARGE_SCORES: [f32; 3] = [1000.0, 1001.0, 999.0];

/// Section 3.5.2's dropout mask: `Dropout(0.5)` on a 6×6 matrix of ones right after
/// `torch.manual_seed(123)`, so 2 where an element is kept and 0 where it is dropped; the book's
/// (PyTorch's own kernel) beside the one PyTorch ≤ 2.6 with MKL draws from the same seed.
///
/// # Errors
///
/// None expected (p = 0.5 is valid); propagates [`crate::Dropout::new`]'s.
pub fn dropout_mask_3_5() -> Result<String, Error> {
    use crate::{BernoulliPath, Dropout, TorchRng};
    let ones = DMatrix::from_element(6, 6, 1.0_f32);
    let dropout = Dropout::new(0.5)?;
    let book = dropout.forward_train(&ones, &mut TorchRng::manual_seed(123));
    let mkl = dropout.forward_train(
        &ones,
        &mut TorchRng::manual_seed(123).with_bernoulli(BernoulliPath::MklLegacy),
    );
    let labels = ["1", "2", "3", "4", "5", "6"];
    Ok(svg(&[
        Heatmap::new("the book: kept 2, dropped 0", &book, &labels, &labels),
        Heatmap::new("PyTorch ≤ 2.6 with MKL", &mkl, &labels, &labels),
    ]))
}

/// Section 3.3.2's 6×6 attention weights (softmax of `X·Xᵀ`), tokens on both axes.
pub fn attn_weights_3_3() -> String {
    use crate::inputs::{TOKENS, inputs};
    let weights = crate::normalize::softmax_rows(&crate::similarity::attn_scores(&inputs()));
    svg(&[Heatmap::new(
        "3.3: softmax(X·Xᵀ), no trainable weights",
        &weights,
        &TOKENS,
        &TOKENS,
    )])
}

/// Section 3.3's weights beside `SelfAttentionV2`'s (seed 789): what trainable projections change.
///
/// # Errors
///
/// None expected on the book's inputs; propagates module errors.
pub fn attn_weights_3_4() -> Result<String, Error> {
    use crate::inputs::{TOKENS, inputs};
    let x = inputs();
    let plain = crate::normalize::softmax_rows(&crate::similarity::attn_scores(&x));
    let sa_v2 = crate::SelfAttentionV2::new(3, 2, false, &mut crate::TorchRng::manual_seed(789));
    let trained = sa_v2.attn_weights(&x)?;
    Ok(svg(&[
        Heatmap::new("3.3: softmax(X·Xᵀ)", &plain, &TOKENS, &TOKENS),
        Heatmap::new(
            "3.4: softmax(QKᵀ/√2), SelfAttentionV2 seed 789",
            &trained,
            &TOKENS,
            &TOKENS,
        ),
    ]))
}

/// Section 3.5's causal weights (future positions hatched), and the same after the book's
/// dropout (seed 123, p = 0.5: kept weights doubled, dropped ones 0).
///
/// # Errors
///
/// None expected on the book's inputs; propagates module errors.
pub fn causal_weights_3_5() -> Result<String, Error> {
    use crate::inputs::{TOKENS, inputs};
    let x = inputs();
    let sa_v2 = crate::SelfAttentionV2::new(3, 2, false, &mut crate::TorchRng::manual_seed(789));
    let causal = crate::causal::causal_attn_weights(&sa_v2.attn_scores(&x)?, 2);
    let dropped =
        crate::Dropout::new(0.5)?.forward_train(&causal, &mut crate::TorchRng::manual_seed(123));
    let (causal, dropped) = (hide_future(&causal), hide_future(&dropped));
    Ok(svg(&[
        Heatmap::new("3.5.1: causal attention weights", &causal, &TOKENS, &TOKENS),
        Heatmap::new(
            "3.5.2: after Dropout(0.5), seed 123",
            &dropped,
            &TOKENS,
            &TOKENS,
        ),
    ]))
}

/// The attention weights of each head of the book's `MultiHeadAttention(3, 2, 6, 0.0, 2)`
/// (seed 123), side by side.
///
/// # Errors
///
/// None expected on the book's inputs; propagates module errors.
pub fn mha_heads_3_6() -> Result<String, Error> {
    use crate::inputs::{TOKENS, inputs};
    let mha = crate::MultiHeadAttention::new(
        3,
        2,
        6,
        0.0,
        2,
        false,
        &mut crate::TorchRng::manual_seed(123),
    )?;
    let heads = mha.heads_attn_weights(&inputs())?;
    let heads: Vec<DMatrix<f32>> = heads.iter().map(hide_future).collect();
    let titles = ["3.6.2: head 0 (head_dim 1)", "3.6.2: head 1 (head_dim 1)"];
    let panels: Vec<Heatmap> = heads
        .iter()
        .zip(titles)
        .map(|(m, t)| Heatmap::new(t, m, &TOKENS, &TOKENS))
        .collect();
    Ok(svg(&panels))
}

/// Decoding the book's six tokens with a KV cache, `CausalAttention(3, 2, 6, 0.0)` of section
/// 3.5.3 (seed 123): at steps 2, 4 and 6 the one new query's attention weights over the keys
/// cached so far (the cache grows by one key per step, the new token's own last), and beside
/// them the full causal forward's weights, whose rows 1, 3 and 5 are those rows.
///
/// # Errors
///
/// None expected on the book's inputs; propagates module errors.
pub fn kv_cache_decode() -> Result<String, Error> {
    use crate::inputs::{TOKENS, inputs};
    use crate::kv_cache::cached_attn_weights;
    let x = inputs();
    let ca =
        crate::CausalAttention::new(3, 2, 6, 0.0, false, &mut crate::TorchRng::manual_seed(123))?;
    let mut cache = ca.new_cache();
    let mut steps = Vec::new();
    for t in 0..6 {
        let token = x.rows(t, 1).into_owned(); // (1, d_in): the new token
        ca.forward_cached(std::slice::from_ref(&token), &mut cache)?;
        if t % 2 == 1 {
            let query = ca.w_query().forward(&token)?; // (1, d_out)
            let keys = &cache.keys()[0][0]; // (t + 1, d_out): the cache after this step
            let scores = crate::torch::matmul(&query, &keys.transpose()); // (1, t + 1)
            let title = format!("step {}: {} keys cached", t + 1, t + 1);
            steps.push((t, title, cached_attn_weights(&scores, ca.d_out(), t)));
        }
    }
    let full = hide_future(&ca.attn_weights(&x)?);
    let mut panels: Vec<Heatmap> = steps
        .iter()
        .map(|(t, title, w)| Heatmap::new(title, w, &TOKENS[*t..=*t], &TOKENS[..=*t]))
        .collect();
    panels.push(Heatmap::new(
        "the full causal forward, all rows",
        &full,
        &TOKENS,
        &TOKENS,
    ));
    Ok(svg(&panels))
}

/// The token-by-token Jacobian norms `‖∂out_t/∂x_u‖` on the book's six tokens, with the causal
/// mask (`CausalAttention(3, 2, 6, 0.0)`) beside without it (`SelfAttentionV2(3, 2)`), both
/// built from seed 789, so with the same three weight matrices. Above the diagonal the masked
/// panel's blocks are exactly 0 (see [`gradients::jacobian`](crate::gradients::jacobian)).
///
/// # Errors
///
/// None expected on the book's inputs; propagates module errors.
pub fn gradients_jacobian() -> Result<String, Error> {
    use crate::gradients::{Tape, jacobian::token_norms};
    use crate::inputs::{TOKENS, inputs};
    let x = inputs();
    let sa_v2 = crate::SelfAttentionV2::new(3, 2, false, &mut crate::TorchRng::manual_seed(789));
    let ca =
        crate::CausalAttention::new(3, 2, 6, 0.0, false, &mut crate::TorchRng::manual_seed(789))?;
    let masked = token_norms(&Tape::causal(&ca, std::slice::from_ref(&x), None)?, 0)?;
    let unmasked = token_norms(&Tape::self_attention_v2(&sa_v2, &x)?, 0)?;
    Ok(svg(&[
        Heatmap::new(
            "‖∂out_t/∂x_u‖ with the causal mask",
            &masked,
            &TOKENS,
            &TOKENS,
        ),
        Heatmap::new("‖∂out_t/∂x_u‖ without it", &unmasked, &TOKENS, &TOKENS),
    ]))
}

/// Marks the positions a causal mask hides (above the diagonal) as NaN, which [`svg`] draws
/// hatched.
fn hide_future(m: &DMatrix<f32>) -> DMatrix<f32> {
    DMatrix::from_fn(m.nrows(), m.ncols(), |i, j| {
        if j > i { f32::NAN } else { m[(i, j)] }
    })
}

// ---------------------------------------------------------------------------------------------
// Line charts, and the figures of "Why the mask matters" (module `leakage`).
// ---------------------------------------------------------------------------------------------

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

/// One point per step: `(step, value)`.
fn per_step(values: &[f64]) -> Vec<(f64, f64)> {
    values
        .iter()
        .enumerate()
        .map(|(step, &v)| (step as f64, v))
        .collect()
}

const MASKED_COLOUR: &str = "#2171b5";
const UNMASKED_COLOUR: &str = "#cb181d";
const FLOOR_COLOUR: &str = "#333333";

/// "Why the mask matters": the training loss of both runs of the default leakage experiment
/// (each step's batch), the entropy floor `H`, and the unmasked model's loss when it is evaluated
/// causally, as at generation time.
///
/// # Errors
///
/// The errors of [`crate::leakage::default_report`] (none expected).
pub fn leakage_loss_curves() -> Result<String, Error> {
    let r = crate::leakage::default_report()?;
    let last = (r.config.steps - 1) as f64;
    let flat = |y: f64| vec![(0.0, y), (last, y)];
    let floor_label = format!("entropy floor H = {:.4}", r.entropy_floor);
    let inference_label = format!(
        "unmasked, evaluated causally = {:.4}",
        r.unmasked.inference_loss
    );
    line_chart(
        "Training loss, with and without the causal mask",
        "training step",
        "cross-entropy (nats)",
        &[
            Series {
                label: "masked (causal) model",
                points: per_step(&r.masked_trace.losses),
                colour: MASKED_COLOUR,
                dashed: false,
            },
            Series {
                label: "unmasked model",
                points: per_step(&r.unmasked_trace.losses),
                colour: UNMASKED_COLOUR,
                dashed: false,
            },
            Series {
                label: &floor_label,
                points: flat(r.entropy_floor),
                colour: FLOOR_COLOUR,
                dashed: true,
            },
            Series {
                label: &inference_label,
                points: flat(r.unmasked.inference_loss),
                colour: UNMASKED_COLOUR,
                dashed: true,
            },
        ],
    )
}

/// "Why the mask matters": the global gradient norm of both runs, at every step.
///
/// # Errors
///
/// The errors of [`crate::leakage::default_report`] (none expected).
pub fn leakage_grad_norms() -> Result<String, Error> {
    let r = crate::leakage::default_report()?;
    line_chart(
        "Gradient norm per training step",
        "training step",
        "global gradient norm",
        &[
            Series {
                label: "masked (causal) model",
                points: per_step(&r.masked_trace.grad_norms),
                colour: MASKED_COLOUR,
                dashed: false,
            },
            Series {
                label: "unmasked model",
                points: per_step(&r.unmasked_trace.grad_norms),
                colour: UNMASKED_COLOUR,
                dashed: false,
            },
        ],
    )
}

/// "Why the mask matters": the unmasked model's attention weights, averaged over the held-out
/// sequences. Row `t` (the query position) puts almost all its weight on column `t + 1`: the
/// copying diagonal just above the main one.
///
/// # Errors
///
/// The errors of [`crate::leakage::default_report`] (none expected).
pub fn leakage_attention() -> Result<String, Error> {
    let r = crate::leakage::default_report()?;
    let weights = r.unmasked_trace.attn_weights.map(|w| w as f32);
    let labels: Vec<String> = (0..weights.nrows()).map(|t| t.to_string()).collect();
    let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
    Ok(svg(&[Heatmap::new(
        "Unmasked model: mean attention weights (row: position t, column: position attended)",
        &weights,
        &labels,
        &labels,
    )]))
}

/// The efficient path's block schedule for 10 tokens in blocks of 4 (padded to 12), at token
/// resolution: which (query, key) scores a tile computes, which the causal mask hides inside the
/// diagonal tiles, and which tiles are skipped altogether. The numbers give the order in which
/// [`crate::efficient::block_schedule`] lists (and the kernel computes) the tiles.
pub fn efficient_block_schedule() -> String {
    use crate::efficient::{TileKind, block_schedule, num_blocks};
    const TOKENS: usize = 10;
    const BLOCK: usize = 4;
    const CELL: usize = 28;
    let padded = num_blocks(TOKENS, BLOCK) * BLOCK;
    let (x0, y0) = (46, 62); // top-left corner of the grid
    let grid = padded * CELL;
    let (width, height) = (x0 + grid + 20, y0 + grid + 96);
    let tiles = block_schedule(TOKENS, BLOCK);
    let tile_of = |i: usize, j: usize| {
        tiles
            .iter()
            .position(|t| t.query_block == i / BLOCK && t.key_block == j / BLOCK)
    };
    let mut s = String::new();
    let _ = writeln!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">"##
    );
    s.push_str(r##"<defs><pattern id="hidden" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#f6d5d5"/><line x1="0" y1="0" x2="0" y2="6" stroke="#d99a9a" stroke-width="2"/></pattern></defs>"##);
    s.push('\n');
    s.push_str(r##"<rect width="100%" height="100%" fill="#ffffff"/>"##);
    s.push('\n');
    let _ = writeln!(
        s,
        r##"<text x="{}" y="20" font-size="14" font-weight="bold" text-anchor="middle">{TOKENS} tokens in blocks of {BLOCK} (padded to {padded})</text>"##,
        width / 2
    );
    let _ = writeln!(
        s,
        r##"<text x="{}" y="{}" text-anchor="middle" fill="#333333">keys j →</text><text x="14" y="{}" text-anchor="middle" fill="#333333" transform="rotate(-90 14 {})">queries i →</text>"##,
        x0 + grid / 2,
        y0 - 24,
        y0 + grid / 2,
        y0 + grid / 2
    );
    for k in 0..padded {
        let label = if k < TOKENS {
            k.to_string()
        } else {
            "pad".to_string()
        };
        let _ = writeln!(
            s,
            r##"<text x="{}" y="{}" text-anchor="middle" fill="#555555">{label}</text><text x="{}" y="{}" text-anchor="end" fill="#555555">{label}</text>"##,
            x0 + k * CELL + CELL / 2,
            y0 - 6,
            x0 - 4,
            y0 + k * CELL + CELL / 2 + 4
        );
    }
    for i in 0..padded {
        for j in 0..padded {
            let fill = match tile_of(i, j) {
                None => "#eeeeee",                                  // skipped tile
                Some(_) if i >= TOKENS || j >= TOKENS => "#fbfbfb", // padding
                Some(_) if j > i => "url(#hidden)",                 // masked inside a diagonal tile
                Some(_) => "#4a78b5",                               // computed and used
            };
            let _ = writeln!(
                s,
                r##"<rect x="{}" y="{}" width="{CELL}" height="{CELL}" fill="{fill}" stroke="#ffffff"/>"##,
                x0 + j * CELL,
                y0 + i * CELL
            );
        }
    }
    let tile_px = BLOCK * CELL;
    let blocks = padded / BLOCK;
    for qb in 0..blocks {
        for kb in 0..blocks {
            let (x, y) = (x0 + kb * tile_px, y0 + qb * tile_px);
            let (cx, cy) = (x + tile_px / 2, y + tile_px / 2);
            match tiles
                .iter()
                .position(|t| t.query_block == qb && t.key_block == kb)
            {
                Some(order) => {
                    let kind = match tiles[order].kind {
                        TileKind::Full => "full",
                        TileKind::Diagonal => "diagonal",
                    };
                    let _ = writeln!(
                        s,
                        r##"<rect x="{x}" y="{y}" width="{tile_px}" height="{tile_px}" fill="none" stroke="#1b2a41" stroke-width="2"/><rect x="{}" y="{}" width="64" height="34" rx="5" fill="#ffffff" fill-opacity="0.9"/><text x="{cx}" y="{}" text-anchor="middle" font-size="15" font-weight="bold">{}</text><text x="{cx}" y="{}" text-anchor="middle" fill="#333333">{kind}</text>"##,
                        cx - 32,
                        cy - 17,
                        cy - 1,
                        order + 1,
                        cy + 12
                    );
                }
                None => {
                    let _ = writeln!(
                        s,
                        r##"<rect x="{x}" y="{y}" width="{tile_px}" height="{tile_px}" fill="none" stroke="#bbbbbb" stroke-dasharray="4 3"/><text x="{cx}" y="{}" text-anchor="middle" fill="#888888">skipped</text>"##,
                        cy + 4
                    );
                }
            }
        }
    }
    let legend = [
        ("#4a78b5", "score computed and used (key j ≤ query i)"),
        (
            "url(#hidden)",
            "computed, then hidden by the mask (−∞ → weight 0)",
        ),
        ("#eeeeee", "tile skipped: all its keys are in the future"),
        ("#fbfbfb", "padding to a whole block (never stored)"),
    ];
    for (n, (fill, text)) in legend.iter().enumerate() {
        let y = y0 + grid + 16 + n * 19;
        let _ = writeln!(
            s,
            r##"<rect x="{x0}" y="{y}" width="14" height="14" fill="{fill}" stroke="#999999"/><text x="{}" y="{}" fill="#222222">{text}</text>"##,
            x0 + 22,
            y + 11
        );
    }
    s.push_str("</svg>\n");
    s
}
