//! The chapter as a specification that judges any implementation, yours or this crate's.
//!
//! [`Chapter3`] lists the functions of chapter 3 a learner writes, one per exercise, with the
//! book's names and shapes. Each exercise has a check ([`EXERCISES`]): the book's printed numbers
//! where the book prints them (seeded parts use [`TorchRng`] and [`Linear`] where the book uses
//! `torch.manual_seed` and `nn.Linear`, so a correct solution reproduces them exactly), and
//! properties on random shapes (rows sum to 1, later tokens leave earlier outputs unchanged, no
//! overflow for large scores, shapes). A failing check says which idea went wrong: the book's
//! tensor beside yours with the differing entries marked, or the name of a known misconception
//! and what was observed.
//!
//! This crate implements the trait itself ([`Reference`]) and its own `cargo test` runs every
//! check against it, so one specification serves both. The practice package `ch03-practice`
//! runs the same checks on the learner's code.
//!
//! ```
//! use ch03_attention::spec::{self, Reference};
//! let verdicts = spec::check_all::<Reference>();
//! assert!(verdicts.len() >= 18);
//! assert!(verdicts.iter().all(|v| v.status == spec::Status::Done), "{verdicts:#?}");
//! ```

use std::time::Duration;

use nalgebra::{DMatrix, DVector};

use crate::{Linear, TorchRng};

mod checks;
pub mod harness;
mod reference;

pub use checks::{EXERCISES, check, check_all, check_with_limit};
pub use harness::{Status, Verdict, guarded};
pub use reference::Reference;

/// How long one check may run before its verdict is "too slow" (an endless loop in the code
/// under test must not hang the harness). The reference needs well under a second for any check.
pub const TIME_LIMIT: Duration = Duration::from_secs(10);

/// The functions of chapter 3, one per exercise, in the book's order. Shapes are written
/// `(rows × cols)`; a batch is a slice of `(tokens × d_in)` matrices of one shape, as the
/// crate's modules take it. Every function returns plain values: a wrong shape is judged by the
/// checks, not refused by the types.
///
/// **Stable**: solutions written elsewhere are checked against these signatures; they do not
/// change once published.
pub trait Chapter3 {
    // ------------------------------------------------------------------ 3.3.1
    /// Exercise `dot_scores` (3.3.1): the attention scores of one query against every input,
    /// `ω_j = x⁽ʲ⁾ · query`. `query` `(d_in)`, `inputs` `(tokens × d_in)` → `(tokens)`.
    fn attn_scores_for(query: &DVector<f32>, inputs: &DMatrix<f32>) -> DVector<f32>;
    /// Exercise `sum_normalize` (3.3.1): each score divided by the sum of all. `(n)` → `(n)`.
    fn sum_normalize(attn_scores: &DVector<f32>) -> DVector<f32>;
    /// Exercise `softmax_naive` (3.3.1): `exp(ω_j) / Σ_k exp(ω_k)`, as written. `(n)` → `(n)`.
    fn softmax_naive(attn_scores: &DVector<f32>) -> DVector<f32>;
    /// Exercise `softmax` (3.3.1): the stable softmax, `exp(ω_j − m) / Σ_k exp(ω_k − m)` with
    /// `m` the largest score; must not overflow for scores in the thousands. `(n)` → `(n)`.
    fn softmax(attn_scores: &DVector<f32>) -> DVector<f32>;
    /// Exercise `context_vec` (3.3.1): `z = Σ_i α_i x⁽ⁱ⁾`. `attn_weights` `(tokens)`, `inputs`
    /// `(tokens × d_in)` → `(d_in)`.
    fn context_vec(attn_weights: &DVector<f32>, inputs: &DMatrix<f32>) -> DVector<f32>;

    // ------------------------------------------------------------------ 3.3.2
    /// Exercise `attn_scores` (3.3.2): all scores at once, `X Xᵀ`. `(tokens × d_in)` →
    /// `(tokens × tokens)`.
    fn attn_scores(inputs: &DMatrix<f32>) -> DMatrix<f32>;
    /// Exercise `attn_weights` (3.3.2): the softmax of every row (`dim=-1`): row `i` is query
    /// `i`'s weights. `(queries × keys)` → same shape.
    fn attn_weights(attn_scores: &DMatrix<f32>) -> DMatrix<f32>;
    /// Exercise `context_vecs` (3.3.2): all context vectors at once, `A X`. `attn_weights`
    /// `(tokens × tokens)`, `inputs` `(tokens × d_in)` → `(tokens × d_in)`.
    fn context_vecs(attn_weights: &DMatrix<f32>, inputs: &DMatrix<f32>) -> DMatrix<f32>;

    // ------------------------------------------------------------------ 3.4
    /// Exercise `self_attention_v1` (3.4.1, listing 3.1), first half: the three weight matrices
    /// `[W_query, W_key, W_value]`, each `(d_in × d_out)`, drawn with `torch.rand` in that order.
    fn self_attention_v1_weights(
        d_in: usize,
        d_out: usize,
        rng: &mut TorchRng,
    ) -> [DMatrix<f32>; 3];
    /// Exercise `self_attention_v1` (3.4.2, listing 3.1), second half: the forward pass,
    /// `softmax(Q Kᵀ / √d_k) V` with `Q = X W_query` etc. `x` `(tokens × d_in)` →
    /// `(tokens × d_out)`.
    fn self_attention_v1(x: &DMatrix<f32>, weights: &[DMatrix<f32>; 3]) -> DMatrix<f32>;
    /// Exercise `self_attention_v2` (3.4.2, listing 3.2), first half: the three layers
    /// `[W_query, W_key, W_value]`, `nn.Linear(d_in, d_out, bias=qkv_bias)` each, in that order.
    fn self_attention_v2_layers(
        d_in: usize,
        d_out: usize,
        qkv_bias: bool,
        rng: &mut TorchRng,
    ) -> [Linear; 3];
    /// Exercise `self_attention_v2` (3.4.2, listing 3.2), second half: the forward pass with
    /// the layers (`Linear::forward` computes `x Wᵀ + b`). `(tokens × d_in)` → `(tokens × d_out)`.
    fn self_attention_v2(x: &DMatrix<f32>, layers: &[Linear; 3]) -> DMatrix<f32>;
    /// Exercise `exercise_3_1`: the `SelfAttention_v1` weights that make it compute the same as a
    /// `SelfAttention_v2` with these layers. → `[W_query, W_key, W_value]`, `(d_in × d_out)` each.
    fn v1_weights_from_v2(layers: &[Linear; 3]) -> [DMatrix<f32>; 3];

    // ------------------------------------------------------------------ 3.5
    /// Exercise `mask_then_renormalize` (3.5.1, route 1): zero the weights above the diagonal
    /// (`attn_weights * tril(ones)`), then divide each row by its new sum. `(T × T)` → `(T × T)`.
    fn mask_then_renormalize(attn_weights: &DMatrix<f32>) -> DMatrix<f32>;
    /// Exercise `causal_attn_weights` (3.5.1, route 2): scores above the diagonal set to `−∞`,
    /// then `softmax(scores / √d_k)` along each row. `(T × T)` → `(T × T)`.
    fn causal_attn_weights(attn_scores: &DMatrix<f32>, d_k: usize) -> DMatrix<f32>;
    /// Exercise `dropout` (3.5.2): `nn.Dropout(p)`. In training, each element is kept with
    /// probability `1 − p` (the mask from `rng.bernoulli_mask(len, 1 − p)`, row-major) and the
    /// kept ones scaled by `1 / (1 − p)`; in evaluation the input passes unchanged and nothing is
    /// drawn. `(rows × cols)` → same shape.
    fn dropout(x: &DMatrix<f32>, p: f64, training: bool, rng: &mut TorchRng) -> DMatrix<f32>;
    /// Exercise `causal_attention` (3.5.3, listing 3.3): the forward pass of `CausalAttention`
    /// with these `[W_query, W_key, W_value]` layers: causal weights, dropout on them (training
    /// only: one mask over the whole `(batch, T, T)` tensor, item 0 first), times the values.
    /// A batch of `(T × d_in)` → one `(T × d_out)` per item.
    fn causal_attention(
        batch: &[DMatrix<f32>],
        layers: &[Linear; 3],
        dropout: f64,
        training: bool,
        rng: &mut TorchRng,
    ) -> Vec<DMatrix<f32>>;

    // ------------------------------------------------------------------ 3.6
    /// Exercise `multi_head_wrapper` (3.6.1, listing 3.4): one causal head per `[W_query, W_key,
    /// W_value]` of `heads`, outputs side by side (`torch.cat(…, dim=-1)`); evaluation mode.
    /// A batch of `(T × d_in)` → one `(T × d_out · heads)` per item.
    fn multi_head_wrapper(batch: &[DMatrix<f32>], heads: &[[Linear; 3]]) -> Vec<DMatrix<f32>>;
    /// Exercise `split_heads` (3.6.2): `(T × d_out)` → `num_heads` matrices `(T × head_dim)`,
    /// head `h` taking columns `h · head_dim ..` (`.view(b, T, heads, head_dim)`).
    fn split_heads(m: &DMatrix<f32>, num_heads: usize) -> Vec<DMatrix<f32>>;
    /// Exercise `multi_head_attention` (3.6.2, listing 3.5): the layers `[W_query, W_key,
    /// W_value, out_proj]` (`Linear(d_in, d_out, qkv_bias)` three times, then `Linear(d_out,
    /// d_out)` with bias), created in that order.
    fn multi_head_attention_layers(
        d_in: usize,
        d_out: usize,
        qkv_bias: bool,
        rng: &mut TorchRng,
    ) -> [Linear; 4];
    /// Exercise `multi_head_attention` (3.6.2, listing 3.5): the forward pass in evaluation
    /// mode: project, split into heads, causal attention per head, heads side by side again,
    /// `out_proj`. A batch of `(T × d_in)` → one `(T × d_out)` per item.
    fn multi_head_attention(
        batch: &[DMatrix<f32>],
        layers: &[Linear; 4],
        num_heads: usize,
    ) -> Vec<DMatrix<f32>>;
    /// Exercise `exercise_3_2`: after `torch.manual_seed(123)` (`TorchRng::manual_seed(123)`),
    /// the wrapper of 3.6.1 with 2 heads whose output is 2 wide, on the book's batch (the six
    /// embeddings twice). → 2 matrices `(6 × 2)`.
    fn exercise_3_2() -> Vec<DMatrix<f32>>;
    /// Exercise `exercise_3_3`: the number of trainable parameters of
    /// `MultiHeadAttention(d_in, d_out, …, num_heads, qkv_bias)` (the mask is not one).
    fn num_parameters(d_in: usize, d_out: usize, num_heads: usize, qkv_bias: bool) -> usize;
}

/// One exercise: its id, where the book has it, and its check.
#[derive(Clone, Copy)]
pub struct Exercise {
    /// Stable id, e.g. `"softmax"`.
    pub id: &'static str,
    /// The book's section or listing, e.g. `"3.3.1"`.
    pub section: &'static str,
    /// One line: what is computed.
    pub title: &'static str,
    /// Where the reference implementation is explained in this crate's study guide, e.g.
    /// `"normalize"` (the module) — shown once the exercise passes.
    pub guide: &'static str,
}
