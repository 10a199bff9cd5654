//! The chapter's running example: six tokens, each embedded in three dimensions.
//!
//! Every section of chapter 3 starts from the same tiny input, the sentence
//! "Your journey starts with one step", one token per word, each token a 3-dimensional
//! embedding vector chosen by hand (no randomness). Row `i` of [`inputs`] is the book's
//! x⁽ⁱ⁺¹⁾: the book counts tokens from 1, Rust indexes from 0, so the running query
//! x⁽²⁾ "journey" is row 1.
//!
//! ```
//! use ch03_attention::inputs::{inputs, TOKENS};
//! let x = inputs();
//! assert_eq!(x.shape(), (6, 3));
//! assert_eq!(TOKENS[1], "journey");
//! assert_eq!(x[(1, 0)], 0.55); // x⁽²⁾ = [0.55, 0.87, 0.66]
//! ```

use nalgebra::DMatrix;

/// The six tokens of the example sentence, in order.
pub const TOKENS: [&str; 6] = ["Your", "journey", "starts", "with", "one", "step"];

/// Index of the running query token x⁽²⁾ "journey" (the book's `inputs[1]`).
pub const QUERY_INDEX: usize = 1;

/// The `(6 × 3)` input embeddings: one row per token of [`TOKENS`], `d_in = 3` columns.
pub fn inputs() -> DMatrix<f32> {
    DMatrix::from_row_slice(
        6,
        3,
        &[
            0.43, 0.15, 0.89, // Your     (x⁽¹⁾)
            0.55, 0.87, 0.66, // journey  (x⁽²⁾)
            0.57, 0.85, 0.64, // starts   (x⁽³⁾)
            0.22, 0.58, 0.33, // with     (x⁽⁴⁾)
            0.77, 0.25, 0.10, // one      (x⁽⁵⁾)
            0.05, 0.80, 0.55, // step     (x⁽⁶⁾)
        ],
    )
}
