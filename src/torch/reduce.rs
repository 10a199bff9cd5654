//! Sums added up in PyTorch's order.
//!
//! Floating-point addition is not associative, so the last bit of a sum depends on the order of
//! the additions. Usually that is invisible, but the book prints two sums of attention weights
//! that show it: the naive softmax weights of section 3.3.1 add up to exactly `1.0` in PyTorch
//! (printed `tensor(1.)`), while a plain left-to-right loop over the same six `f32` values gives
//! `1.0000001` (which would print `tensor(1.0000)`).
//!
//! PyTorch's CPU kernel adds a short contiguous row in four interleaved lanes (element `i` goes
//! to lane `i mod 4`) and then combines the lanes in order. [`sum`] does the same, so sums of the
//! chapter's rows (6 elements) match PyTorch to the bit. For long rows PyTorch switches to a
//! vectorized cascade whose order differs again; the value then agrees to rounding error only.
//!
//! ```
//! use ch03_attention::torch::reduce::sum;
//! // The order matters: a 1 added to 1e8 is lost in f32 (the spacing there is 8).
//! let x = [1.0e8_f32, 1.0, 1.0, 1.0, -1.0e8, 1.0];
//! let left_to_right: f32 = x.iter().sum();
//! assert_eq!(left_to_right, 1.0); // three of the ones vanished into 1e8
//! assert_eq!(sum(&x), 4.0);       // lanes [1e8 - 1e8, 1 + 1, 1, 1]: here exact
//! ```

/// The sum of `values`, added in PyTorch's order for short rows: four interleaved
/// accumulators, then `((lane0 + lane1) + lane2) + lane3`.
pub fn sum(values: &[f32]) -> f32 {
    let mut lanes = [0.0_f32; 4];
    for (i, v) in values.iter().enumerate() {
        lanes[i % 4] += v;
    }
    ((lanes[0] + lanes[1]) + lanes[2]) + lanes[3]
}
