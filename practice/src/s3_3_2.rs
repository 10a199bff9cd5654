//! Section 3.3.2: computing attention weights for all input tokens at once.
//!
//! The same three steps as 3.3.1, for every query at once, as matrix products. Replace each
//! `your_code!(…)` line with your code; check with `cargo run -p ch03-practice`.

use ch03_attention::nalgebra::DMatrix;

/// Exercise `attn_scores` (3.3.2): every score at once, `X Xᵀ`: entry `(i, j)` is
/// `x⁽ⁱ⁾ · x⁽ʲ⁾`.
///
/// Shapes: `inputs` `(tokens × d_in)` → `(tokens × tokens)`.
///
/// PyTorch: `attn_scores = inputs @ inputs.T`.
///
/// Hint: nalgebra's `*` is the matrix product and `.transpose()` is `.T`.
pub fn attn_scores(inputs: &DMatrix<f32>) -> DMatrix<f32> {
    your_code!(inputs)
}

/// Exercise `attn_weights` (3.3.2): the softmax of every row (`dim=-1`), so row `i` holds
/// query `i`'s weights over all keys and sums to 1.
///
/// Shapes: `(queries × keys)` → same shape.
///
/// PyTorch: `attn_weights = torch.softmax(attn_scores, dim=-1)`.
///
/// Hint: it is your stable `softmax` of 3.3.1 applied to each row (`row.transpose()` turns a
/// row into a `DVector`); keep it stable (subtract each row's maximum).
pub fn attn_weights(attn_scores: &DMatrix<f32>) -> DMatrix<f32> {
    your_code!(attn_scores)
}

/// Exercise `context_vecs` (3.3.2): every context vector at once, `A X`: row `i` is query
/// `i`'s context vector.
///
/// Shapes: `attn_weights` `(tokens × tokens)`, `inputs` `(tokens × d_in)` →
/// `(tokens × d_in)`.
///
/// PyTorch: `all_context_vecs = attn_weights @ inputs`.
///
/// Hint: one product; check the shape against `context_vec` of 3.3.1 for row 1.
pub fn context_vecs(attn_weights: &DMatrix<f32>, inputs: &DMatrix<f32>) -> DMatrix<f32> {
    your_code!(attn_weights, inputs)
}
