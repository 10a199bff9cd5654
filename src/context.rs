//! # Context vectors: blending the inputs by their weights (3.3.1, 3.3.2)
#![doc = include_str!(concat!(env!("OUT_DIR"), "/docs/context.md"))]

use nalgebra::{DMatrix, DVector};

use crate::Error;
use crate::normalize::softmax_rows;
use crate::similarity::attn_scores;

/// One context vector, `z = Σᵢ αᵢ x⁽ⁱ⁾`, accumulated token by token (section 3.3.1, step 3).
///
/// `attn_weights` holds one weight per row of `inputs` (`tokens × d_in`); the result has `d_in`
/// elements: the inputs blended in proportion to how much attention each one receives.
///
/// # Errors
///
/// [`Error::ShapeMismatch`] if there is not exactly one weight per input token.
pub fn context_vec(
    attn_weights: &DVector<f32>,
    inputs: &DMatrix<f32>,
) -> Result<DVector<f32>, Error> {
    if attn_weights.len() != inputs.nrows() {
        return Err(Error::ShapeMismatch {
            op: "context_vec",
            left: (1, attn_weights.len()),
            right: inputs.shape(),
        });
    }
    let mut context_vec = DVector::zeros(inputs.ncols()); // (d_in)
    for i in 0..inputs.nrows() {
        context_vec += crate::torch::row(inputs, i) * attn_weights[i];
    }
    Ok(context_vec)
}

/// All context vectors at once, `Z = A · X` (section 3.3.2): row `i` of `attn_weights`
/// (`tokens × tokens`) blends the rows of `inputs` (`tokens × d_in`) into row `i` of the result.
///
/// # Errors
///
/// [`Error::ShapeMismatch`] if `attn_weights` does not have one column per input token.
pub fn context_vecs(
    attn_weights: &DMatrix<f32>,
    inputs: &DMatrix<f32>,
) -> Result<DMatrix<f32>, Error> {
    if attn_weights.ncols() != inputs.nrows() {
        return Err(Error::ShapeMismatch {
            op: "context_vecs",
            left: attn_weights.shape(),
            right: inputs.shape(),
        });
    }
    Ok(attn_weights * inputs) // (tokens, tokens) · (tokens, d_in) = (tokens, d_in)
}

/// Section 3.3 end to end: scores `X·Xᵀ`, row-wise softmax, then `A·X`. Attention with no
/// trainable weights at all: each token's output is a blend of the inputs that resemble it.
pub fn simple_self_attention(inputs: &DMatrix<f32>) -> DMatrix<f32> {
    let attn_weights = softmax_rows(&attn_scores(inputs)); // (tokens, tokens)
    attn_weights * inputs // (tokens, d_in)
}
