//! Section 3.4: self-attention with trainable weights (listings 3.1 and 3.2).
//!
//! Seeded parts: where the book calls `torch.manual_seed(123)` and then `torch.rand` or
//! `nn.Linear`, you get a [`TorchRng`] already seeded and draw from it in the book's order
//! (`rng.rand(rows, cols)`, `Linear::new(d_in, d_out, bias, rng)`): a correct solution
//! reproduces the book's numbers exactly. Replace each `your_code!(…)` line with your
//! code; check with `cargo run -p ch03-practice`.

use ch03_attention::nalgebra::DMatrix;
use ch03_attention::{Linear, TorchRng};

/// Exercise `self_attention_v1` (3.4.1, listing 3.1), first half: the three weight matrices
/// `[W_query, W_key, W_value]`, drawn with `torch.rand` in that order.
///
/// Shapes: each `(d_in × d_out)`.
///
/// PyTorch: `self.W_query = nn.Parameter(torch.rand(d_in, d_out))`, then `W_key`, then
/// `W_value`.
///
/// Hint: `rng.rand(d_in, d_out)` is `torch.rand(d_in, d_out)`; the order of the three draws
/// matters.
pub fn self_attention_v1_weights(
    d_in: usize,
    d_out: usize,
    rng: &mut TorchRng,
) -> [DMatrix<f32>; 3] {
    your_code!(d_in, d_out, rng)
}

/// Exercise `self_attention_v1` (3.4.2, listing 3.1), second half: the forward pass,
/// `softmax(Q Kᵀ / √d_k) V` with `Q = X W_query`, `K = X W_key`, `V = X W_value`.
///
/// Shapes: `x` `(tokens × d_in)`, `weights` `(d_in × d_out)` each → `(tokens × d_out)`.
///
/// PyTorch: `keys = x @ self.W_key` …; `attn_scores = queries @ keys.T`;
/// `attn_weights = torch.softmax(attn_scores / keys.shape[-1]**0.5, dim=-1)`;
/// `context_vec = attn_weights @ values`.
///
/// Hint: `d_k` is the number of columns of the keys (`d_out`), not the number of tokens.
pub fn self_attention_v1(x: &DMatrix<f32>, weights: &[DMatrix<f32>; 3]) -> DMatrix<f32> {
    your_code!(x, weights)
}

/// Exercise `self_attention_v2` (3.4.2, listing 3.2), first half: the three layers
/// `[W_query, W_key, W_value]`, each `nn.Linear(d_in, d_out, bias=qkv_bias)`, created in that
/// order.
///
/// Shapes: each layer maps `(tokens × d_in)` → `(tokens × d_out)`; its weight is stored
/// `(d_out × d_in)`, as PyTorch stores it.
///
/// PyTorch: `self.W_query = nn.Linear(d_in, d_out, bias=qkv_bias)`, then `W_key`, `W_value`.
///
/// Hint: `Linear::new(d_in, d_out, qkv_bias, rng)` draws exactly what `nn.Linear` draws.
pub fn self_attention_v2_layers(
    d_in: usize,
    d_out: usize,
    qkv_bias: bool,
    rng: &mut TorchRng,
) -> [Linear; 3] {
    your_code!(d_in, d_out, qkv_bias, rng)
}

/// Exercise `self_attention_v2` (3.4.2, listing 3.2), second half: the forward pass with the
/// layers (`Linear::forward` computes `x Wᵀ + b`).
///
/// Shapes: `x` `(tokens × d_in)` → `(tokens × d_out)`.
///
/// PyTorch: `keys = self.W_key(x)`; `queries = self.W_query(x)`; `values = self.W_value(x)`;
/// then as in `SelfAttention_v1`.
///
/// Hint: `layer.forward(x)` returns a `Result`; the shapes here always fit, so `.expect(…)` it.
pub fn self_attention_v2(x: &DMatrix<f32>, layers: &[Linear; 3]) -> DMatrix<f32> {
    your_code!(x, layers)
}
