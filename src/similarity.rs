//! # Dot products as similarity: attention scores (3.3.1, 3.3.2)
#![doc = include_str!(concat!(env!("OUT_DIR"), "/docs/similarity.md"))]

use nalgebra::{DMatrix, DVector};

use crate::Error;

/// The dot product written out as the book's side note does: multiply element by element and
/// add the products up, one at a time, in `f32`.
///
/// # Errors
///
/// [`Error::ShapeMismatch`] if the vectors have different lengths.
pub fn dot(a: &DVector<f32>, b: &DVector<f32>) -> Result<f32, Error> {
    if a.len() != b.len() {
        return Err(Error::ShapeMismatch {
            op: "dot",
            left: (a.len(), 1),
            right: (b.len(), 1),
        });
    }
    let mut res = 0.0_f32;
    for i in 0..a.len() {
        res += a[i] * b[i];
    }
    Ok(res)
}

/// Attention scores ω of one `query` against every input token: `ω_j = x⁽ʲ⁾ · query`,
/// computed with a loop over the tokens (section 3.3.1, step 1).
///
/// `inputs` is `(tokens × d_in)`; the result has one score per token.
///
/// # Errors
///
/// [`Error::ShapeMismatch`] if `query` does not have `d_in` elements.
pub fn attn_scores_for(query: &DVector<f32>, inputs: &DMatrix<f32>) -> Result<DVector<f32>, Error> {
    if query.len() != inputs.ncols() {
        return Err(Error::ShapeMismatch {
            op: "attn_scores_for",
            left: (1, query.len()),
            right: inputs.shape(),
        });
    }
    let mut attn_scores = DVector::zeros(inputs.nrows()); // (tokens)
    for j in 0..inputs.nrows() {
        attn_scores[j] = dot(&crate::torch::row(inputs, j), query)?;
    }
    Ok(attn_scores)
}

/// All pairwise scores `ω_ij = x⁽ⁱ⁾ · x⁽ʲ⁾` with two nested loops (section 3.3.2, the slow way).
pub fn attn_scores_loop(inputs: &DMatrix<f32>) -> DMatrix<f32> {
    let n = inputs.nrows();
    let mut attn_scores = DMatrix::zeros(n, n); // (tokens, tokens)
    for i in 0..n {
        let x_i = crate::torch::row(inputs, i);
        for j in 0..n {
            let x_j = crate::torch::row(inputs, j);
            attn_scores[(i, j)] = x_i.dot(&x_j);
        }
    }
    attn_scores
}

/// All pairwise scores at once as one matrix product, `Ω = X · Xᵀ` (section 3.3.2).
///
/// Entry `(i, j)` is the same dot product as in [`attn_scores_loop`]; the matrix product just
/// computes all of them together.
pub fn attn_scores(inputs: &DMatrix<f32>) -> DMatrix<f32> {
    inputs * inputs.transpose() // (tokens, d_in) · (d_in, tokens) = (tokens, tokens)
}

/// Cosine similarity `a·b / (‖a‖ ‖b‖)`: the dot product with both lengths divided out, so only
/// the angle between the vectors remains. In `[-1, 1]`.
///
/// Attention scores use the plain dot product, *not* this: a longer vector gets larger scores.
///
/// # Errors
///
/// [`Error::ShapeMismatch`] if the lengths differ; [`Error::ZeroNorm`] if either vector is all
/// zeros (its direction is undefined).
pub fn cosine_similarity(a: &DVector<f32>, b: &DVector<f32>) -> Result<f32, Error> {
    let ab = dot(a, b)?;
    let (na, nb) = (a.norm(), b.norm());
    if na == 0.0 || nb == 0.0 {
        return Err(Error::ZeroNorm {
            op: "cosine_similarity",
        });
    }
    Ok(ab / (na * nb))
}
