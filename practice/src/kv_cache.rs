//! Beyond section 3.6: what the causal mask buys at inference, a KV cache.
//!
//! All functions here run in evaluation mode (no dropout). Replace each `your_code!(…)` line with your
//! code; check with `cargo run -p ch03-practice`.

use ch03_attention::Linear;
use ch03_attention::nalgebra::DMatrix;

/// Exercise `kv_decode_step` (beyond 3.6, the study guide's `kv_cache` page): one decoding step
/// of `MultiHeadAttention` with a KV cache. `keys[h]` and `values[h]` hold head `h`'s keys and
/// values of the tokens seen so far, `(tokens so far × head_dim)` (0 rows before the first
/// token). Append the new token's key and value to every head's cache, then attend its query to
/// every cached key (its own included), put the heads side by side and apply `out_proj`.
///
/// Shapes: `token` `(1 × d_in)`; `layers` `[W_query, W_key, W_value, out_proj]` as in
/// `multi_head_attention`; → `(1 × d_out)`, the row the full forward pass gives this token.
///
/// PyTorch: `keys = torch.cat([self.cache_k, keys_new], dim=1)` (and the values), then
/// `attn_scores = queries @ keys.transpose(2, 3)` for the one new query.
///
/// Hint: the new query comes after every cached key, so no key is hidden: no mask is needed
/// for a single new token. Scale by `√head_dim`. To append a row, build a matrix one row
/// taller and copy (`rows_mut(..).copy_from(..)`).
pub fn kv_decode_step(
    token: &DMatrix<f32>,
    layers: &[Linear; 4],
    num_heads: usize,
    keys: &mut [DMatrix<f32>],
    values: &mut [DMatrix<f32>],
) -> DMatrix<f32> {
    your_code!(token, layers, num_heads, keys, values)
}
