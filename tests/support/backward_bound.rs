//! The chains of reductions of the efficient path's backward pass and of the textbook's, from
//! which `tests/efficient_train.rs` (whose module docs derive them) and the unit tests of
//! `src/efficient/train.rs` bound the difference of two `f32` computations of a gradient:
//! `4 · u · (N_efficient + N_textbook) · max |gradient|`. Test support only, included by `#[path]`.

#![allow(dead_code)] // each includer uses a part

use nalgebra::DMatrix;

/// `f32`'s unit roundoff, `2⁻²⁴`.
pub const U: f64 = f32::EPSILON as f64 / 2.0;

/// A `MultiHeadAttention` on a batch: its sizes, and every item's queries and keys
/// (`(tokens × d_out)`, as its `W_query` and `W_key` project them).
pub struct Shape {
    pub batch: usize,
    pub tokens: usize,
    pub d_in: usize,
    pub d_out: usize,
    pub heads: usize,
    pub queries: Vec<DMatrix<f32>>,
    pub keys: Vec<DMatrix<f32>>,
}

/// The largest `|L| = |m + ln ℓ|` over every query of every head: at most the largest scaled
/// score plus `ln T` (the scores computed here in `f64`).
pub fn largest_lse(s: &Shape) -> f64 {
    let head_dim = s.d_out / s.heads;
    let mut largest = 0.0_f64;
    for (q, k) in s.queries.iter().zip(&s.keys) {
        let (q, k) = (q.map(f64::from), k.map(f64::from));
        for h in 0..s.heads {
            let (qh, kh) = (
                q.columns(h * head_dim, head_dim),
                k.columns(h * head_dim, head_dim),
            );
            let scores = qh * kh.transpose() / (head_dim as f64).sqrt();
            largest = largest.max(scores.amax());
        }
    }
    largest + (s.tokens as f64).ln()
}

/// The efficient path's chain `N_efficient` (derived in `tests/efficient_train.rs`).
pub fn efficient_chain(s: &Shape) -> f64 {
    let (b, t) = (s.batch as f64, s.tokens as f64);
    let (d_in, d_out) = (s.d_in as f64, s.d_out as f64);
    let head_dim = d_out / s.heads as f64;
    let forward =
        d_in + head_dim + (largest_lse(s) + 5.0) + (2.0 * t + 4.0) + (2.0 * t + 2.0) + d_out;
    let backward = d_out + 2.0 * head_dim + t + 3.0 * d_out + b * t;
    forward + backward
}

/// The textbook chain of the gradients page (`tests/gradients.rs`), for a `MultiHeadAttention`.
pub fn textbook_chain(s: &Shape) -> f64 {
    let head_dim = s.d_out / s.heads;
    let forward = s.d_in + head_dim + 2 * s.tokens + s.d_out;
    let backward = s.d_out + 2 * s.tokens + head_dim + s.d_out + s.batch * s.tokens;
    (forward + backward) as f64
}

/// `4 · u · (N_efficient + N_textbook)`: the largest difference between the two paths' gradients,
/// relative to the gradient's scale.
pub fn tolerance(s: &Shape) -> f64 {
    4.0 * U * (efficient_chain(s) + textbook_chain(s))
}
