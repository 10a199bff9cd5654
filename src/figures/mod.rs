//! The study guide's figures, drawn from computed results.
//!
//! Every figure in `docs/figures/` is an SVG produced by [`all`] from this crate's own numbers;
//! `cargo xtask figures` rewrites them, and a test fails if a committed figure is stale.
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

mod chart;
mod heatmap;

pub use chart::{Series, line_chart};
pub use heatmap::{Heatmap, svg};

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
// The figures of "Why the mask matters" (module `leakage`), drawn as line charts.
// ---------------------------------------------------------------------------------------------

/// One point per step: `(step, value)`.
fn per_step(values: &[f64]) -> Vec<(f64, f64)> {
    values
        .iter()
        .enumerate()
        .map(|(step, &v)| (step as f64, v))
        .collect()
}

/// The two training runs of the leakage experiment, one solid line each, step by step: the
/// masked model's `masked` values, then the unmasked model's `unmasked`.
fn both_runs(masked: &[f64], unmasked: &[f64]) -> [Series<'static>; 2] {
    [
        Series {
            label: "masked (causal) model",
            points: per_step(masked),
            colour: MASKED_COLOUR,
            dashed: false,
        },
        Series {
            label: "unmasked model",
            points: per_step(unmasked),
            colour: UNMASKED_COLOUR,
            dashed: false,
        },
    ]
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
    let [masked, unmasked] = both_runs(&r.masked_trace.losses, &r.unmasked_trace.losses);
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
            masked,
            unmasked,
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
        &both_runs(&r.masked_trace.grad_norms, &r.unmasked_trace.grad_norms),
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
    let mut s = heatmap::svg_open(width, height, 11, ("hidden", "#f6d5d5", "#d99a9a"));
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
