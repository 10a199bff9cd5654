//! The chapter as a specification that judges any implementation, yours or this crate's.
//!
//! An implementation of chapter 3 is a value, [`Implementation`]: one function pointer per
//! function a learner writes, with the book's names and shapes. This crate's own is
//! [`REFERENCE`]; a learner's is built by the practice package from the seven files they edit; a
//! known misconception is the reference with one function replaced
//! (`Implementation { softmax: wrong_softmax, ..REFERENCE }`, see [`CATALOG`]).
//!
//! Each exercise ([`EXERCISES`], one row each: id, section, title, study-guide page, practice
//! file and functions, check) runs its check on an implementation: the book's printed numbers
//! where the book prints them (seeded parts use [`TorchRng`] and
//! [`Linear`] where the book uses `torch.manual_seed` and `nn.Linear`, so a
//! correct solution reproduces them exactly), then small random inputs chosen to separate the
//! plausible wrong formulas (negatives, ties, non-square shapes, batches, several heads,
//! `d_out ≠ d_in`, both Bernoulli paths). A failing verdict shows the book's tensor beside yours
//! with the differing entries marked, and the inputs, the expected and your result of the check
//! that failed. It names a misconception only when recomputing every input the check tried
//! under that misconception reproduces your results; otherwise it states the symptom.
//!
//! Verdicts are in English or Korean ([`Lang`]). [`isolate`] runs each exercise in a child
//! process, so code that overflows its stack, aborts or exits costs only its own exercise.
//!
//! ```
//! use ch03_attention::spec::{self, Lang, REFERENCE, Status};
//! let verdicts = spec::judge_all(&REFERENCE, Lang::En);
//! assert_eq!(verdicts.len(), 21);
//! assert!(verdicts.iter().all(|v| v.status == Status::Done), "{verdicts:#?}");
//! ```

use std::time::Duration;

use nalgebra::{DMatrix, DVector};

use crate::{Linear, TorchRng};

mod catalog;
mod exercises;
mod facts;
pub mod harness;
pub mod isolate;
mod judge;
mod kv;
mod probe;
mod reference;
mod s3_3;
mod s3_4;
mod s3_5;
mod s3_6;
mod show;
mod solutions;
pub mod source;
pub mod text;

pub use catalog::{CATALOG, Misconception};
pub use exercises::{EXERCISES, Exercise, exercise};
pub use harness::{Status, Verdict, guarded};
pub use judge::{Judge, judge, judge_all};
pub use probe::TOL;
pub use text::{Lang, Text};

/// How long one exercise may run before its verdict is "too slow" (an endless loop in the code
/// under test must not hang the judge). The reference needs well under a second for any check.
pub const TIME_LIMIT: Duration = Duration::from_secs(10);

/// Declares, from one list, the chapter's functions three ways: the trait [`Chapter3`] (for
/// code written as a type), the value [`Implementation`] (what the checks take), and
/// [`REFERENCE`] (this crate's functions).
macro_rules! chapter_functions {
    ($($(#[doc = $doc:literal])* fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        /// The functions of chapter 3 as a trait, for an implementation written as a type
        /// ([`Implementation::of`] turns it into the value the checks take). Shapes are
        /// written `(rows × cols)`; a batch is a slice of `(tokens × d_in)` matrices of one
        /// shape. Every function returns plain values: a wrong shape is judged by the checks,
        /// not refused by the types.
        ///
        /// **Stable**: solutions written elsewhere are checked against these signatures; they
        /// do not change once published.
        pub trait Chapter3 {
            $($(#[doc = $doc])* fn $name($($arg: $ty),*) -> $ret;)*
        }

        /// An implementation of chapter 3 as a value: one function per exercise function, in
        /// the book's order. Build one with struct update syntax from [`REFERENCE`]:
        /// `Implementation { softmax: my_softmax, ..REFERENCE }`.
        #[derive(Clone, Copy)]
        pub struct Implementation {
            $($(#[doc = $doc])* pub $name: fn($($ty),*) -> $ret,)*
        }

        impl Implementation {
            /// The functions of a type that implements [`Chapter3`].
            pub fn of<T: Chapter3>() -> Implementation {
                Implementation { $($name: T::$name,)* }
            }
        }

        /// This crate's implementation: every check passes on it.
        pub const REFERENCE: Implementation = Implementation { $($name: reference::$name,)* };

        impl Chapter3 for Reference {
            $(fn $name($($arg: $ty),*) -> $ret { (REFERENCE.$name)($($arg),*) })*
        }
    };
}

/// [`REFERENCE`] as a type, for code written against [`Chapter3`].
#[derive(Debug, Clone, Copy)]
pub struct Reference;

chapter_functions! {
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
    fn self_attention_v1_weights(d_in: usize, d_out: usize, rng: &mut TorchRng) -> [DMatrix<f32>; 3];
    /// Exercise `self_attention_v1` (3.4.2, listing 3.1), second half: the forward pass,
    /// `softmax(Q Kᵀ / √d_k) V` with `Q = X W_query` etc. `x` `(tokens × d_in)` →
    /// `(tokens × d_out)`.
    fn self_attention_v1(x: &DMatrix<f32>, weights: &[DMatrix<f32>; 3]) -> DMatrix<f32>;
    /// Exercise `self_attention_v2` (3.4.2, listing 3.2), first half: the three layers
    /// `[W_query, W_key, W_value]`, `nn.Linear(d_in, d_out, bias=qkv_bias)` each, in that order.
    fn self_attention_v2_layers(d_in: usize, d_out: usize, qkv_bias: bool, rng: &mut TorchRng) -> [Linear; 3];
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
    /// kept ones scaled by `1 / (1 − p)`; `p = 0` and `p = 1` draw nothing (the input, and
    /// zeros). In evaluation the input passes unchanged and nothing is drawn. `(rows × cols)` →
    /// same shape.
    fn dropout(x: &DMatrix<f32>, p: f64, training: bool, rng: &mut TorchRng) -> DMatrix<f32>;
    /// Exercise `causal_attention` (3.5.3, listing 3.3): the forward pass of `CausalAttention`
    /// with these `[W_query, W_key, W_value]` layers: causal weights, dropout on them (training
    /// only: one mask over the whole `(batch, T, T)` tensor, item 0 first), times the values.
    /// A batch of `(T × d_in)` → one `(T × d_out)` per item.
    fn causal_attention(batch: &[DMatrix<f32>], layers: &[Linear; 3], dropout: f64, training: bool, rng: &mut TorchRng) -> Vec<DMatrix<f32>>;
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
    fn multi_head_attention_layers(d_in: usize, d_out: usize, qkv_bias: bool, rng: &mut TorchRng) -> [Linear; 4];
    /// Exercise `multi_head_attention` (3.6.2, listing 3.5): the forward pass in evaluation
    /// mode: project, split into heads, causal attention per head, heads side by side again,
    /// `out_proj`. A batch of `(T × d_in)` → one `(T × d_out)` per item.
    fn multi_head_attention(batch: &[DMatrix<f32>], layers: &[Linear; 4], num_heads: usize) -> Vec<DMatrix<f32>>;
    /// Exercise `exercise_3_2`: after `torch.manual_seed(123)` (`TorchRng::manual_seed(123)`),
    /// the wrapper of 3.6.1 with 2 heads whose output is 2 wide, on the book's batch (the six
    /// embeddings twice). → 2 matrices `(6 × 2)`.
    fn exercise_3_2() -> Vec<DMatrix<f32>>;
    /// Exercise `exercise_3_3`: the number of trainable parameters of
    /// `MultiHeadAttention(d_in, d_out, …, num_heads, qkv_bias)` (the mask is not one).
    fn num_parameters(d_in: usize, d_out: usize, num_heads: usize, qkv_bias: bool) -> usize;
    // ------------------------------------------------------------------ beyond: the KV cache
    /// Exercise `kv_decode_step` (beyond 3.6, the KV cache): one decoding step of
    /// `MultiHeadAttention` with the layers `[W_query, W_key, W_value, out_proj]`, evaluation
    /// mode. `token` is the new token `(1 × d_in)`; `keys` and `values` hold each head's cache
    /// `(tokens so far × head_dim)` (0 rows before the first token). Append the new token's key
    /// and value to every head's cache, attend its query to all the cached keys (its own
    /// included), heads side by side, `out_proj`. → `(1 × d_out)`.
    fn kv_decode_step(token: &DMatrix<f32>, layers: &[Linear; 4], num_heads: usize, keys: &mut [DMatrix<f32>], values: &mut [DMatrix<f32>]) -> DMatrix<f32>;
}

/// The verdict of exercise `id` for an implementation written as a type, or `None` for an
/// unknown id: [`judge`] on [`Implementation::of`], in English.
pub fn check<I: Chapter3>(id: &str) -> Option<Verdict> {
    judge(&Implementation::of::<I>(), id, Lang::En)
}

/// The verdicts of every exercise, in [`EXERCISES`] order: [`judge_all`] in English.
pub fn check_all<I: Chapter3>() -> Vec<Verdict> {
    judge_all(&Implementation::of::<I>(), Lang::En)
}

/// [`check`] with another time limit for each call of the code under test (the tests of the
/// judge use a short one to show that an endless loop becomes a verdict quickly).
pub fn check_with_limit<I: Chapter3>(id: &str, limit: Duration) -> Option<Verdict> {
    Judge::new(Implementation::of::<I>(), Lang::En)
        .with_limit(limit)
        .verdict(id)
}
