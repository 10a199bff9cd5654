//! # From scores to weights: sum normalization, naive softmax, stable softmax (3.3.1)
#![doc = include_str!(concat!(env!("OUT_DIR"), "/docs/normalize.md"))]

use nalgebra::{DMatrix, DVector};

use crate::torch::reduce::sum;

/// Sum normalization: divide every score by the sum of the scores (section 3.3.1, step 2).
///
/// The results add up to 1, but only when every score is positive does it give a sensible
/// distribution: a negative score gets a negative "weight", and scores that sum to 0 divide by 0.
pub fn sum_normalize(attn_scores: &DVector<f32>) -> DVector<f32> {
    let total = sum(attn_scores.as_slice());
    attn_scores / total
}

/// The textbook softmax, `exp(xᵢ) / Σⱼ exp(xⱼ)`, exactly as written.
///
/// Correct on paper, fragile in `f32`: `exp(89.0)` already overflows to infinity, so scores of a
/// few hundred give `inf / inf = NaN`; scores below about −104 underflow to 0 and give `0 / 0`.
/// Use [`softmax`] instead.
pub fn softmax_naive(x: &DVector<f32>) -> DVector<f32> {
    let exp = x.map(f32::exp);
    let total = sum(exp.as_slice());
    exp / total
}

/// The numerically stable softmax that `torch.softmax` computes: subtract the largest score
/// first, `exp(xᵢ − m) / Σⱼ exp(xⱼ − m)` with `m = maxⱼ xⱼ`.
///
/// Mathematically identical to [`softmax_naive`] (the factor `exp(−m)` cancels), but every
/// exponent is now ≤ 0, so nothing overflows, and the largest term is exactly `exp(0) = 1`, so the
/// sum is at least 1 and never underflows to 0. An empty input gives an empty output.
///
/// Scores of `-inf` (masked positions, section 3.5) get weight exactly 0, as long as at least
/// one score in the row is finite.
pub fn softmax(x: &DVector<f32>) -> DVector<f32> {
    let m = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exp = x.map(|v| (v - m).exp());
    // Left to right, as PyTorch's softmax kernel adds a short row (unlike `torch.sum`, see
    // `torch::reduce`): this keeps the last bits, and so the printed sums, in step with PyTorch.
    let total: f32 = exp.iter().sum();
    exp / total
}

/// [`softmax`] applied to every row of a matrix: PyTorch's `torch.softmax(m, dim=-1)`.
///
/// Row `i` of attention scores holds query `i`'s scores against every key, so each row of the
/// result is one query's attention weights and sums to 1.
pub fn softmax_rows(m: &DMatrix<f32>) -> DMatrix<f32> {
    let mut out = m.clone();
    for i in 0..m.nrows() {
        let row = softmax(&crate::torch::row(m, i));
        for (j, w) in row.iter().enumerate() {
            out[(i, j)] = *w;
        }
    }
    out
}

/// The sum of each row: PyTorch's `m.sum(dim=-1)`, used to check that attention weights are
/// distributions. Added in PyTorch's order ([`sum`]), so the last bits match.
pub fn row_sums(m: &DMatrix<f32>) -> DVector<f32> {
    DVector::from_iterator(
        m.nrows(),
        (0..m.nrows()).map(|i| sum(crate::torch::row(m, i).as_slice())),
    )
}
