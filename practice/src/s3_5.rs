//! Section 3.5: hiding future words with causal attention (listing 3.3).
//!
//! Two routes to the causal mask (3.5.1), dropout (3.5.2), and the `CausalAttention` class
//! (3.5.3). Replace each `your_code!(…)` line with your code; check with
//! `cargo run -p ch03-practice`.

use ch03_attention::nalgebra::DMatrix;
use ch03_attention::{Linear, TorchRng};

/// Exercise `mask_then_renormalize` (3.5.1, route 1): zero the weights above the diagonal,
/// then divide each row by its new sum so it sums to 1 again.
///
/// Shapes: `(T × T)` → `(T × T)`.
///
/// PyTorch: `mask_simple = torch.tril(torch.ones(T, T))`; `masked_simple = attn_weights *
/// mask_simple`; `masked_simple_norm = masked_simple / masked_simple.sum(dim=-1, keepdim=True)`.
///
/// Hint: entry `(i, j)` is above the diagonal when `j > i`.
pub fn mask_then_renormalize(attn_weights: &DMatrix<f32>) -> DMatrix<f32> {
    your_code!(attn_weights)
}

/// Exercise `causal_attn_weights` (3.5.1, route 2): scores above the diagonal set to `−∞`,
/// then `softmax(scores / √d_k)` along each row.
///
/// Shapes: `attn_scores` `(T × T)` → `(T × T)`.
///
/// PyTorch: `mask = torch.triu(torch.ones(T, T), diagonal=1)`;
/// `masked = attn_scores.masked_fill(mask.bool(), -torch.inf)`;
/// `attn_weights = torch.softmax(masked / keys.shape[-1]**0.5, dim=-1)`.
///
/// Hint: `f32::NEG_INFINITY` exponentiates to exactly 0, so no renormalizing is needed.
pub fn causal_attn_weights(attn_scores: &DMatrix<f32>, d_k: usize) -> DMatrix<f32> {
    your_code!(attn_scores, d_k)
}

/// Exercise `dropout` (3.5.2): `nn.Dropout(p)`. In training, each element is kept with
/// probability `1 − p` and the kept ones are scaled by `1 / (1 − p)`; in evaluation the input
/// passes unchanged and nothing is drawn.
///
/// Shapes: `(rows × cols)` → same shape.
///
/// PyTorch: `dropout = torch.nn.Dropout(0.5)`; `dropout(example)` (training mode).
///
/// As in PyTorch, `p = 0` returns the input and `p = 1` returns zeros, both without drawing
/// anything from `rng`.
///
/// Hint: `rng.bernoulli_mask(rows * cols, 1.0 - p)` gives the keep mask in **row-major**
/// order (PyTorch's), while nalgebra stores matrices column-major: index it as `i * cols + j`.
pub fn dropout(x: &DMatrix<f32>, p: f64, training: bool, rng: &mut TorchRng) -> DMatrix<f32> {
    your_code!(x, p, training, rng)
}

/// Exercise `causal_attention` (3.5.3, listing 3.3): the forward pass of `CausalAttention` with
/// these `[W_query, W_key, W_value]` layers: causal weights, dropout on them (training only:
/// one mask over the whole `(batch, T, T)` tensor, item 0 first), times the values.
///
/// Shapes: a batch of `(T × d_in)` → one `(T × d_out)` per item.
///
/// PyTorch: `attn_scores = queries @ keys.transpose(1, 2)`;
/// `attn_scores.masked_fill_(self.mask.bool()[:T, :T], -torch.inf)`;
/// `attn_weights = self.dropout(torch.softmax(attn_scores / keys.shape[-1]**0.5, dim=-1))`;
/// `context_vec = attn_weights @ values`.
///
/// Hint: reuse your `causal_attn_weights` and `dropout`. To draw one mask for the whole batch,
/// stack the items' weights into one `(batch · T × T)` matrix (item 0's rows first), call your
/// `dropout` on it once, and split it again: on PyTorch's MKL path (Linux, PyTorch ≤ 2.6) one
/// call per item draws a different mask.
pub fn causal_attention(
    batch: &[DMatrix<f32>],
    layers: &[Linear; 3],
    dropout: f64,
    training: bool,
    rng: &mut TorchRng,
) -> Vec<DMatrix<f32>> {
    your_code!(batch, layers, dropout, training, rng)
}
