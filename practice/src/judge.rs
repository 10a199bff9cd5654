//! # Practice: write chapter 3 yourself
//!
//! This program is your code, judged: it is built from the seven files where you write the
//! functions of chapter 3 ("Coding attention mechanisms") of *Build a Large Language Model (From
//! Scratch)*, and `cargo run -p ch03-practice` runs it once per exercise, so the same checks
//! that judge `ch03-attention`'s own implementation judge yours.
//!
//! ## The loop
//!
//! 1. `cargo run -p ch03-practice` lists every exercise (✓ done, ✗ failing, … waiting,
//!    · not started) and points to the next one: a file and a line, e.g.
//!    `practice/src/s3_3_1.rs:18`.
//! 2. Open that file and replace the function's body, `your_code!(…)`, with your code. Its doc
//!    comment says what to compute, the book's section or listing, the shapes, the PyTorch line
//!    it stands for, and a hint.
//! 3. Run `cargo run -p ch03-practice` again (or keep `cargo run -p ch03-practice -- --watch`
//!    running: it judges again every time you save). A failing exercise shows the book's tensor
//!    beside yours with the differing entries marked, and the inputs, the expected result and
//!    yours for the check that failed; when your results are exactly what a known misconception
//!    computes, it names it.
//!
//! `cargo test -p ch03-practice` runs the same checks as tests, one per exercise;
//! `cargo run -p ch03-practice -- --reset ID` puts one exercise's function(s) back to the stub;
//! `--lang ko` prints everything in Korean; `--json` prints one JSON object per exercise.
//!
//! ## Files, in the book's order
//!
//! | file | book |
//! | --- | --- |
//! | [`s3_3_1`] (`src/s3_3_1.rs`) | 3.3.1: scores, normalization, softmax, one context vector |
//! | [`s3_3_2`] (`src/s3_3_2.rs`) | 3.3.2: all scores, weights and context vectors at once |
//! | [`s3_4`] (`src/s3_4.rs`) | 3.4: self-attention with trainable weights (listings 3.1, 3.2) |
//! | [`s3_5`] (`src/s3_5.rs`) | 3.5: causal masks, dropout, `CausalAttention` (listing 3.3) |
//! | [`s3_6`] (`src/s3_6.rs`) | 3.6: multi-head attention (listings 3.4, 3.5) |
//! | [`exercises`] (`src/exercises.rs`) | the chapter's exercises 3.1, 3.2 and 3.3 |
//! | [`kv_cache`] (`src/kv_cache.rs`) | beyond 3.6: one decoding step with a KV cache |
//!
//! You never edit this file: it only hands your functions to the judge
//! ([`ch03_attention::spec`]).

// `your_code!`, the body of every stub, without an import in your files.
#[allow(unused_imports)]
#[macro_use]
extern crate ch03_attention;

use ch03_attention::spec::{Implementation, isolate};

pub mod exercises;
pub mod kv_cache;
pub mod s3_3_1;
pub mod s3_3_2;
pub mod s3_4;
pub mod s3_5;
pub mod s3_6;

/// Your files as this program was built from them: the judge reads them to tell an exercise
/// you have not started from one waiting for a function it calls.
static SOURCES: &[(&str, &str)] = &[
    ("s3_3_1.rs", include_str!("s3_3_1.rs")),
    ("s3_3_2.rs", include_str!("s3_3_2.rs")),
    ("s3_4.rs", include_str!("s3_4.rs")),
    ("s3_5.rs", include_str!("s3_5.rs")),
    ("s3_6.rs", include_str!("s3_6.rs")),
    ("exercises.rs", include_str!("exercises.rs")),
    ("kv_cache.rs", include_str!("kv_cache.rs")),
];

/// Your implementation of chapter 3: every function of the files above.
const YOURS: Implementation = Implementation {
    attn_scores_for: s3_3_1::attn_scores_for,
    sum_normalize: s3_3_1::sum_normalize,
    softmax_naive: s3_3_1::softmax_naive,
    softmax: s3_3_1::softmax,
    context_vec: s3_3_1::context_vec,
    attn_scores: s3_3_2::attn_scores,
    attn_weights: s3_3_2::attn_weights,
    context_vecs: s3_3_2::context_vecs,
    self_attention_v1_weights: s3_4::self_attention_v1_weights,
    self_attention_v1: s3_4::self_attention_v1,
    self_attention_v2_layers: s3_4::self_attention_v2_layers,
    self_attention_v2: s3_4::self_attention_v2,
    v1_weights_from_v2: exercises::v1_weights_from_v2,
    mask_then_renormalize: s3_5::mask_then_renormalize,
    causal_attn_weights: s3_5::causal_attn_weights,
    dropout: s3_5::dropout,
    causal_attention: s3_5::causal_attention,
    multi_head_wrapper: s3_6::multi_head_wrapper,
    split_heads: s3_6::split_heads,
    multi_head_attention_layers: s3_6::multi_head_attention_layers,
    multi_head_attention: s3_6::multi_head_attention,
    exercise_3_2: exercises::exercise_3_2,
    num_parameters: exercises::num_parameters,
    kv_decode_step: kv_cache::kv_decode_step,
};

/// Judges the exercise `--exercise ID` and prints the verdict for `cargo run -p ch03-practice`.
fn main() {
    std::process::exit(isolate::child_main(
        YOURS,
        SOURCES,
        std::env::args().skip(1),
    ));
}
