//! Section 3.6: extending single-head attention to multi-head attention (listings 3.4, 3.5).
//!
//! All functions here run in evaluation mode (no dropout). Replace each `your_code!(…)` line with your
//! code; check with `cargo run -p ch03-practice`.

use ch03_attention::nalgebra::DMatrix;
use ch03_attention::{Linear, TorchRng};

/// Exercise `multi_head_wrapper` (3.6.1, listing 3.4): one causal head per `[W_query, W_key,
/// W_value]` of `heads`, their outputs side by side; evaluation mode.
///
/// Shapes: a batch of `(T × d_in)` → one `(T × d_out · heads)` per item (head `h` in columns
/// `h · d_out ..`).
///
/// PyTorch: `torch.cat([head(x) for head in self.heads], dim=-1)`.
///
/// Hint: your `causal_attention` with `training = false` is one head (any `TorchRng` will do:
/// nothing is drawn); `DMatrix::from_fn` or `columns_mut` put the heads side by side.
pub fn multi_head_wrapper(batch: &[DMatrix<f32>], heads: &[[Linear; 3]]) -> Vec<DMatrix<f32>> {
    your_code!(batch, heads)
}

/// Exercise `split_heads` (3.6.2): `(T × d_out)` → `num_heads` matrices `(T × head_dim)`, head
/// `h` taking columns `h · head_dim .. (h + 1) · head_dim`.
///
/// Shapes: `(T × d_out)` → `num_heads` × `(T × head_dim)`, `head_dim = d_out / num_heads`.
///
/// PyTorch: `keys = keys.view(b, num_tokens, self.num_heads, self.head_dim)` then
/// `keys.transpose(1, 2)`.
///
/// Hint: `m.columns(start, count)` is a view of consecutive columns; `.into_owned()` copies it.
pub fn split_heads(m: &DMatrix<f32>, num_heads: usize) -> Vec<DMatrix<f32>> {
    your_code!(m, num_heads)
}

/// Exercise `multi_head_attention` (3.6.2, listing 3.5), first half: the layers `[W_query,
/// W_key, W_value, out_proj]`: `Linear(d_in, d_out, qkv_bias)` three times, then
/// `Linear(d_out, d_out)` with a bias, created in that order.
///
/// Shapes: the first three map `d_in → d_out`, `out_proj` maps `d_out → d_out`.
///
/// PyTorch: `self.W_query = nn.Linear(d_in, d_out, bias=qkv_bias)` (and `W_key`, `W_value`);
/// `self.out_proj = nn.Linear(d_out, d_out)`.
///
/// Hint: `nn.Linear`'s `bias` defaults to `True`: `out_proj` has one whatever `qkv_bias` is.
pub fn multi_head_attention_layers(
    d_in: usize,
    d_out: usize,
    qkv_bias: bool,
    rng: &mut TorchRng,
) -> [Linear; 4] {
    your_code!(d_in, d_out, qkv_bias, rng)
}

/// Exercise `multi_head_attention` (3.6.2, listing 3.5), second half: the forward pass in
/// evaluation mode: project, split into heads, causal attention per head, heads side by side
/// again, `out_proj`.
///
/// Shapes: a batch of `(T × d_in)` → one `(T × d_out)` per item.
///
/// PyTorch: `context_vec = (attn_weights @ values).transpose(1, 2)`;
/// `context_vec = context_vec.contiguous().view(b, num_tokens, self.d_out)`;
/// `context_vec = self.out_proj(context_vec)`.
///
/// Hint: scale by `√head_dim` (the keys' last dimension after the split), not `√d_out`.
pub fn multi_head_attention(
    batch: &[DMatrix<f32>],
    layers: &[Linear; 4],
    num_heads: usize,
) -> Vec<DMatrix<f32>> {
    your_code!(batch, layers, num_heads)
}
