//! The chapter's exercises 3.1, 3.2 and 3.3.
//!
//! Replace each `your_code!(…)` line (or `todo!()`) with your code; check with
//! `cargo run -p ch03-practice`.

use ch03_attention::Linear;
use ch03_attention::nalgebra::DMatrix;

/// Exercise `exercise_3_1` (exercise 3.1, "Comparing `SelfAttention_v1` and `SelfAttention_v2`"):
/// the `SelfAttention_v1` weights that make it compute the same as a `SelfAttention_v2` with
/// these layers.
///
/// Shapes: three `Linear(d_in, d_out)` → `[W_query, W_key, W_value]`, `(d_in × d_out)` each.
///
/// PyTorch: `sa_v1.W_query = nn.Parameter(sa_v2.W_query.weight.T)` (and `W_key`, `W_value`).
///
/// Hint: `nn.Linear` stores its weight `(d_out × d_in)` and computes `x Wᵀ`; `SelfAttention_v1`
/// computes `x W`.
pub fn v1_weights_from_v2(layers: &[Linear; 3]) -> [DMatrix<f32>; 3] {
    your_code!(layers)
}

/// Exercise `exercise_3_2` (exercise 3.2, "Returning two-dimensional embedding vectors"): after
/// `torch.manual_seed(123)`, the multi-head wrapper of 3.6.1 with 2 heads whose output is 2 wide,
/// on the book's batch (the six embeddings twice).
///
/// Shapes: → 2 matrices `(6 × 2)`.
///
/// PyTorch: `torch.manual_seed(123)`; `mha = MultiHeadAttentionWrapper(d_in=3, d_out=1,
/// context_length=6, dropout=0.0, num_heads=2)`; `context_vecs = mha(batch)`.
///
/// Hint: seed with `TorchRng::manual_seed(123)`; the heads' layers are created head by head,
/// `W_query`, `W_key`, `W_value` each; `ch03_attention::inputs::inputs()` is the book's `inputs`.
pub fn exercise_3_2() -> Vec<DMatrix<f32>> {
    todo!()
}

/// Exercise `exercise_3_3` (exercise 3.3, "Initializing GPT-2 size attention modules"): the
/// number of trainable parameters of `MultiHeadAttention(d_in, d_out, …, num_heads, qkv_bias)`.
///
/// Shapes: numbers only (GPT-2 small: `d_in = d_out = 768`, 12 heads).
///
/// PyTorch: `sum(p.numel() for p in mha.parameters())`.
///
/// Hint: the causal mask is a buffer, not a parameter; `num_heads` changes how the weights are
/// split, not how many there are.
pub fn num_parameters(d_in: usize, d_out: usize, num_heads: usize, qkv_bias: bool) -> usize {
    your_code!(d_in, d_out, num_heads, qkv_bias)
}
