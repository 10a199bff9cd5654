//! # Practice: write chapter 3 yourself
//!
//! This package is where you write the functions of chapter 3 ("Coding attention mechanisms")
//! of *Build a Large Language Model (From Scratch)*, and where `ch03-attention`'s specification
//! judges them with the same checks that judge the crate's own implementation.
//!
//! ## The loop
//!
//! 1. `cargo run -p ch03-practice` lists every exercise (✓ done, ✗ failing, · not started) and
//!    points to the next one: a file and a line, e.g. `practice/src/s3_3_1.rs:18`.
//! 2. Open that file and replace the function's `todo!()` with your code. Its doc comment says
//!    what to compute, the book's section or listing, the shapes, the PyTorch line it stands for,
//!    and a hint.
//! 3. Run `cargo run -p ch03-practice` again. A failing exercise shows the first check it fails:
//!    the book's tensor beside yours with the differing entries marked, or the misconception your
//!    result looks like. A passing one says where the reference solution is explained in the
//!    study guide (`cargo doc --open`).
//!
//! `cargo test -p ch03-practice` runs the same checks as tests, one per exercise; `cargo run -p
//! ch03-practice -- --reset ID` puts one exercise's function(s) back to the `todo!()` stub;
//! `--json` prints one JSON object per exercise, for tools.
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
//!
//! You never edit this file: [`Learner`] below only forwards each function of the
//! [`Chapter3`] trait to the file where you write it. [`progress`] is the machinery of the
//! progress command (which exercise lives where, the verdicts, `--reset`).

use ch03_attention::nalgebra::{DMatrix, DVector};
use ch03_attention::spec::Chapter3;
use ch03_attention::{Linear, TorchRng};

// A stub's parameters are unused until its `todo!()` is replaced: without this, each stub would
// warn (and CI's `clippy -D warnings` fail) on the untouched files.
#[allow(unused_variables)]
pub mod exercises;
#[allow(unused_variables)]
pub mod s3_3_1;
#[allow(unused_variables)]
pub mod s3_3_2;
#[allow(unused_variables)]
pub mod s3_4;
#[allow(unused_variables)]
pub mod s3_5;
#[allow(unused_variables)]
pub mod s3_6;

pub mod progress;

/// Your implementation of chapter 3: every function forwards to the file where you write it.
#[derive(Debug, Clone, Copy)]
pub struct Learner;

impl Chapter3 for Learner {
    fn attn_scores_for(query: &DVector<f32>, inputs: &DMatrix<f32>) -> DVector<f32> {
        s3_3_1::attn_scores_for(query, inputs)
    }
    fn sum_normalize(attn_scores: &DVector<f32>) -> DVector<f32> {
        s3_3_1::sum_normalize(attn_scores)
    }
    fn softmax_naive(attn_scores: &DVector<f32>) -> DVector<f32> {
        s3_3_1::softmax_naive(attn_scores)
    }
    fn softmax(attn_scores: &DVector<f32>) -> DVector<f32> {
        s3_3_1::softmax(attn_scores)
    }
    fn context_vec(attn_weights: &DVector<f32>, inputs: &DMatrix<f32>) -> DVector<f32> {
        s3_3_1::context_vec(attn_weights, inputs)
    }

    fn attn_scores(inputs: &DMatrix<f32>) -> DMatrix<f32> {
        s3_3_2::attn_scores(inputs)
    }
    fn attn_weights(attn_scores: &DMatrix<f32>) -> DMatrix<f32> {
        s3_3_2::attn_weights(attn_scores)
    }
    fn context_vecs(attn_weights: &DMatrix<f32>, inputs: &DMatrix<f32>) -> DMatrix<f32> {
        s3_3_2::context_vecs(attn_weights, inputs)
    }

    fn self_attention_v1_weights(
        d_in: usize,
        d_out: usize,
        rng: &mut TorchRng,
    ) -> [DMatrix<f32>; 3] {
        s3_4::self_attention_v1_weights(d_in, d_out, rng)
    }
    fn self_attention_v1(x: &DMatrix<f32>, weights: &[DMatrix<f32>; 3]) -> DMatrix<f32> {
        s3_4::self_attention_v1(x, weights)
    }
    fn self_attention_v2_layers(
        d_in: usize,
        d_out: usize,
        qkv_bias: bool,
        rng: &mut TorchRng,
    ) -> [Linear; 3] {
        s3_4::self_attention_v2_layers(d_in, d_out, qkv_bias, rng)
    }
    fn self_attention_v2(x: &DMatrix<f32>, layers: &[Linear; 3]) -> DMatrix<f32> {
        s3_4::self_attention_v2(x, layers)
    }
    fn v1_weights_from_v2(layers: &[Linear; 3]) -> [DMatrix<f32>; 3] {
        exercises::v1_weights_from_v2(layers)
    }

    fn mask_then_renormalize(attn_weights: &DMatrix<f32>) -> DMatrix<f32> {
        s3_5::mask_then_renormalize(attn_weights)
    }
    fn causal_attn_weights(attn_scores: &DMatrix<f32>, d_k: usize) -> DMatrix<f32> {
        s3_5::causal_attn_weights(attn_scores, d_k)
    }
    fn dropout(x: &DMatrix<f32>, p: f64, training: bool, rng: &mut TorchRng) -> DMatrix<f32> {
        s3_5::dropout(x, p, training, rng)
    }
    fn causal_attention(
        batch: &[DMatrix<f32>],
        layers: &[Linear; 3],
        dropout: f64,
        training: bool,
        rng: &mut TorchRng,
    ) -> Vec<DMatrix<f32>> {
        s3_5::causal_attention(batch, layers, dropout, training, rng)
    }

    fn multi_head_wrapper(batch: &[DMatrix<f32>], heads: &[[Linear; 3]]) -> Vec<DMatrix<f32>> {
        s3_6::multi_head_wrapper(batch, heads)
    }
    fn split_heads(m: &DMatrix<f32>, num_heads: usize) -> Vec<DMatrix<f32>> {
        s3_6::split_heads(m, num_heads)
    }
    fn multi_head_attention_layers(
        d_in: usize,
        d_out: usize,
        qkv_bias: bool,
        rng: &mut TorchRng,
    ) -> [Linear; 4] {
        s3_6::multi_head_attention_layers(d_in, d_out, qkv_bias, rng)
    }
    fn multi_head_attention(
        batch: &[DMatrix<f32>],
        layers: &[Linear; 4],
        num_heads: usize,
    ) -> Vec<DMatrix<f32>> {
        s3_6::multi_head_attention(batch, layers, num_heads)
    }
    fn exercise_3_2() -> Vec<DMatrix<f32>> {
        exercises::exercise_3_2()
    }
    fn num_parameters(d_in: usize, d_out: usize, num_heads: usize, qkv_bias: bool) -> usize {
        exercises::num_parameters(d_in, d_out, num_heads, qkv_bias)
    }
}
