//! # Why the mask matters: what an unmasked model learns, measured
#![doc = include_str!(concat!(env!("OUT_DIR"), "/docs/leakage.md"))]

use std::sync::OnceLock;

use nalgebra::DMatrix;

use crate::Error;

pub mod adam;
pub mod chain;
mod experiment;
pub mod model;

pub use adam::Adam;
pub use experiment::{LeakageConfig, LeakageReport, RunSummary, RunTrace, run_leakage_experiment};
pub use model::{Forward, TinyModel};

/// The report of [`LeakageConfig::default()`], computed once per process and shared by the
/// walkthrough, the figures and the tests (a run takes about a second).
///
/// # Errors
///
/// The errors of [`run_leakage_experiment`] (none for the default configuration).
pub fn default_report() -> Result<&'static LeakageReport, Error> {
    static REPORT: OnceLock<Result<LeakageReport, Error>> = OnceLock::new();
    REPORT
        .get_or_init(|| run_leakage_experiment(&LeakageConfig::default()))
        .as_ref()
        .map_err(Clone::clone)
}

/// The six words as one-hot vectors: row `i` is 1 in column `i` and 0 elsewhere, `(6 × 6)`.
pub fn one_hot_inputs() -> DMatrix<f32> {
    let n = crate::inputs::TOKENS.len();
    DMatrix::identity(n, n)
}

/// Section 3.3's attention weights, `softmax(X·Xᵀ)` row by row, with one-hot inputs instead of
/// the book's embeddings, `(6 × 6)`.
///
/// Distinct one-hot vectors are orthogonal, so every score is 1 on the diagonal and 0 elsewhere:
/// each row is `e / (e + 5) ≈ 0.3522` on the diagonal and `1 / (e + 5) ≈ 0.1296` everywhere else.
/// The weights say nothing about which words are alike: "journey" is exactly as close to
/// "starts" as to "one".
///
/// ```
/// use ch03_attention::leakage::one_hot_attn_weights;
/// let w = one_hot_attn_weights();
/// let e = std::f32::consts::E;
/// assert!((w[(1, 1)] - e / (e + 5.0)).abs() < 1e-6);
/// assert!((w[(1, 2)] - 1.0 / (e + 5.0)).abs() < 1e-6); // journey → starts
/// assert_eq!(w[(1, 2)], w[(1, 4)]);                     // = journey → one
/// ```
pub fn one_hot_attn_weights() -> DMatrix<f32> {
    let x = one_hot_inputs();
    crate::normalize::softmax_rows(&crate::similarity::attn_scores(&x))
}
