//! Section 3.3.1: a simple self-attention mechanism without trainable weights, one query.
//!
//! Your code goes in the bodies below: replace each `your_code!(…)` line with your code. The book's inputs are the six
//! embeddings "Your journey starts with one step" (`inputs`, `6 × 3`); `query` is `x⁽²⁾`
//! ("journey", row 1). Check with `cargo run -p ch03-practice`.

use ch03_attention::nalgebra::{DMatrix, DVector};

/// Exercise `dot_scores` (3.3.1): the attention scores of one query against every input,
/// `ω_j = x⁽ʲ⁾ · query`.
///
/// Shapes: `query` `(d_in)`, `inputs` `(tokens × d_in)` → `(tokens)`.
///
/// PyTorch: `attn_scores_2[i] = torch.dot(x_i, query)` for each row `x_i` of `inputs`.
///
/// Hint: one dot product per row; `inputs.row(i)` is a row, and `inputs * query` computes them
/// all at once.
pub fn attn_scores_for(query: &DVector<f32>, inputs: &DMatrix<f32>) -> DVector<f32> {
    your_code!(query, inputs)
}

/// Exercise `sum_normalize` (3.3.1): each score divided by the sum of all scores.
///
/// Shapes: `(n)` → `(n)`.
///
/// PyTorch: `attn_weights_2_tmp = attn_scores_2 / attn_scores_2.sum()`.
///
/// Hint: `DVector` has `.sum()`, and dividing a vector by an `f32` divides every entry.
pub fn sum_normalize(attn_scores: &DVector<f32>) -> DVector<f32> {
    your_code!(attn_scores)
}

/// Exercise `softmax_naive` (3.3.1): the softmax as written, `exp(ω_j) / Σ_k exp(ω_k)`.
///
/// Shapes: `(n)` → `(n)`.
///
/// PyTorch: `torch.exp(x) / torch.exp(x).sum(dim=0)` (the book's `softmax_naive`).
///
/// Hint: `attn_scores.map(f32::exp)` gives the numerators.
pub fn softmax_naive(attn_scores: &DVector<f32>) -> DVector<f32> {
    your_code!(attn_scores)
}

/// Exercise `softmax` (3.3.1): the stable softmax, `exp(ω_j − m) / Σ_k exp(ω_k − m)` with `m`
/// the largest score. It must not overflow for scores in the thousands.
///
/// Shapes: `(n)` → `(n)`.
///
/// PyTorch: `attn_weights_2 = torch.softmax(attn_scores_2, dim=0)`.
///
/// Hint: subtracting the same `m` from every score does not change the result, and makes the
/// largest `exp` exactly 1 (`attn_scores.max()`).
pub fn softmax(attn_scores: &DVector<f32>) -> DVector<f32> {
    your_code!(attn_scores)
}

/// Exercise `context_vec` (3.3.1): the context vector, `z = Σ_i α_i x⁽ⁱ⁾`, the inputs weighted
/// by their attention weights.
///
/// Shapes: `attn_weights` `(tokens)`, `inputs` `(tokens × d_in)` → `(d_in)`.
///
/// PyTorch: `context_vec_2 += attn_weights_2[i] * x_i` for each `i` (a loop in listing form).
///
/// Hint: the sum of weighted rows is a product with the transpose: `inputs.transpose() * w`.
pub fn context_vec(attn_weights: &DVector<f32>, inputs: &DMatrix<f32>) -> DVector<f32> {
    your_code!(attn_weights, inputs)
}
