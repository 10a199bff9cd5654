//! This crate's own implementation of the chapter's functions: [`REFERENCE`](super::REFERENCE).
//!
//! Every function calls the module that explains it (`similarity`, `normalize`, `context`, `qkv`,
//! `causal`, `dropout`, `multihead`), so the checks that pass on it pass on the crate's code. The
//! few steps the modules keep inside their types (the forward passes over given layers) are
//! written out here with the same arithmetic, so the printed numbers are the crate's to the last
//! bit.

use nalgebra::{DMatrix, DVector};

use crate::causal;
use crate::context;
use crate::multihead::concat_heads;
pub(crate) use crate::multihead::split_heads;
use crate::normalize::{self, softmax_rows};
use crate::similarity;
use crate::torch::matmul;
use crate::{Dropout, Linear, SelfAttentionV1, TorchRng};

/// Causal attention of one input with given projections, before dropout: the weights
/// `(T × T)` and the values `(T × d_out)`.
pub(crate) fn causal_weights_and_values(
    x: &DMatrix<f32>,
    layers: &[Linear; 3],
) -> (DMatrix<f32>, DMatrix<f32>) {
    let keys = layers[1].apply(x); // (T, d_out)
    let queries = layers[0].apply(x); // (T, d_out)
    let values = layers[2].apply(x); // (T, d_out)
    let attn_scores = matmul(&queries, &keys.transpose()); // (T, T)
    (
        causal::causal_attn_weights(&attn_scores, keys.ncols()),
        values,
    )
}

pub(crate) fn attn_scores_for(query: &DVector<f32>, inputs: &DMatrix<f32>) -> DVector<f32> {
    similarity::attn_scores_for(query, inputs).unwrap_or_else(|e| panic!("{e}"))
}

pub(crate) fn sum_normalize(attn_scores: &DVector<f32>) -> DVector<f32> {
    normalize::sum_normalize(attn_scores)
}

pub(crate) fn softmax_naive(attn_scores: &DVector<f32>) -> DVector<f32> {
    normalize::softmax_naive(attn_scores)
}

pub(crate) fn softmax(attn_scores: &DVector<f32>) -> DVector<f32> {
    normalize::softmax(attn_scores)
}

pub(crate) fn context_vec(attn_weights: &DVector<f32>, inputs: &DMatrix<f32>) -> DVector<f32> {
    context::context_vec(attn_weights, inputs).unwrap_or_else(|e| panic!("{e}"))
}

pub(crate) fn attn_scores(inputs: &DMatrix<f32>) -> DMatrix<f32> {
    similarity::attn_scores(inputs)
}

pub(crate) fn attn_weights(attn_scores: &DMatrix<f32>) -> DMatrix<f32> {
    softmax_rows(attn_scores)
}

pub(crate) fn context_vecs(attn_weights: &DMatrix<f32>, inputs: &DMatrix<f32>) -> DMatrix<f32> {
    context::context_vecs(attn_weights, inputs).unwrap_or_else(|e| panic!("{e}"))
}

pub(crate) fn self_attention_v1_weights(
    d_in: usize,
    d_out: usize,
    rng: &mut TorchRng,
) -> [DMatrix<f32>; 3] {
    let v1 = SelfAttentionV1::new(d_in, d_out, rng);
    [
        v1.w_query().clone(),
        v1.w_key().clone(),
        v1.w_value().clone(),
    ]
}

pub(crate) fn self_attention_v1(x: &DMatrix<f32>, weights: &[DMatrix<f32>; 3]) -> DMatrix<f32> {
    let [w_query, w_key, w_value] = weights.clone();
    SelfAttentionV1::from_weights(w_query, w_key, w_value)
        .and_then(|v1| v1.forward(x))
        .unwrap_or_else(|e| panic!("{e}"))
}

pub(crate) fn self_attention_v2_layers(
    d_in: usize,
    d_out: usize,
    qkv_bias: bool,
    rng: &mut TorchRng,
) -> [Linear; 3] {
    let w_query = Linear::new(d_in, d_out, qkv_bias, rng);
    let w_key = Linear::new(d_in, d_out, qkv_bias, rng);
    let w_value = Linear::new(d_in, d_out, qkv_bias, rng);
    [w_query, w_key, w_value]
}

pub(crate) fn self_attention_v2(x: &DMatrix<f32>, layers: &[Linear; 3]) -> DMatrix<f32> {
    let keys = layers[1].apply(x); // (tokens, d_out)
    let queries = layers[0].apply(x); // (tokens, d_out)
    let values = layers[2].apply(x); // (tokens, d_out)
    let attn_scores = matmul(&queries, &keys.transpose()); // (tokens, tokens)
    let d_k = keys.ncols() as f32;
    let attn_weights = softmax_rows(&(attn_scores / d_k.sqrt())); // (tokens, tokens)
    matmul(&attn_weights, &values) // (tokens, d_out)
}

pub(crate) fn v1_weights_from_v2(layers: &[Linear; 3]) -> [DMatrix<f32>; 3] {
    layers.clone().map(|l| l.weight().transpose()) // (d_out × d_in) → (d_in × d_out)
}

pub(crate) fn mask_then_renormalize(attn_weights: &DMatrix<f32>) -> DMatrix<f32> {
    causal::mask_then_renormalize(attn_weights).1
}

pub(crate) fn causal_attn_weights(attn_scores: &DMatrix<f32>, d_k: usize) -> DMatrix<f32> {
    causal::causal_attn_weights(attn_scores, d_k)
}

pub(crate) fn dropout(
    x: &DMatrix<f32>,
    p: f64,
    training: bool,
    rng: &mut TorchRng,
) -> DMatrix<f32> {
    let dropout = Dropout::new(p).unwrap_or_else(|e| panic!("{e}"));
    if training {
        dropout.forward_train(x, rng)
    } else {
        dropout.forward(x)
    }
}

pub(crate) fn causal_attention(
    batch: &[DMatrix<f32>],
    layers: &[Linear; 3],
    dropout: f64,
    training: bool,
    rng: &mut TorchRng,
) -> Vec<DMatrix<f32>> {
    let dropout = Dropout::new(dropout).unwrap_or_else(|e| panic!("{e}"));
    let (attn_weights, values): (Vec<_>, Vec<_>) = batch
        .iter()
        .map(|x| causal_weights_and_values(x, layers))
        .unzip(); // (b, T, T), (b, T, d_out)
    let attn_weights = dropout.forward_in_mode(attn_weights, training.then_some(rng));
    attn_weights
        .iter()
        .zip(&values)
        .map(|(w, v)| matmul(w, v)) // (T, d_out)
        .collect()
}

pub(crate) fn multi_head_wrapper(
    batch: &[DMatrix<f32>],
    heads: &[[Linear; 3]],
) -> Vec<DMatrix<f32>> {
    let mut unused = TorchRng::manual_seed(0); // evaluation mode: nothing is drawn
    let per_head: Vec<Vec<DMatrix<f32>>> = heads
        .iter()
        .map(|head| causal_attention(batch, head, 0.0, false, &mut unused))
        .collect(); // (heads, b, T, d_out)
    (0..batch.len())
        .map(|b| concat_heads(&per_head.iter().map(|h| h[b].clone()).collect::<Vec<_>>()))
        .collect() // (b, T, heads · d_out)
}

pub(crate) fn multi_head_attention_layers(
    d_in: usize,
    d_out: usize,
    qkv_bias: bool,
    rng: &mut TorchRng,
) -> [Linear; 4] {
    let w_query = Linear::new(d_in, d_out, qkv_bias, rng);
    let w_key = Linear::new(d_in, d_out, qkv_bias, rng);
    let w_value = Linear::new(d_in, d_out, qkv_bias, rng);
    let out_proj = Linear::new(d_out, d_out, true, rng);
    [w_query, w_key, w_value, out_proj]
}

/// The heads side by side, then `out_proj` (`layers[3]`) unless a twist leaves it out
/// (`out_proj = false`): the end of a multi-head forward pass or decoding step. `(T × d_out)`.
pub(crate) fn heads_out(
    heads: &[DMatrix<f32>],
    layers: &[Linear; 4],
    out_proj: bool,
) -> DMatrix<f32> {
    let context = concat_heads(heads); // (T, d_out)
    if out_proj {
        layers[3].apply(&context)
    } else {
        context
    }
}

pub(crate) fn multi_head_attention(
    batch: &[DMatrix<f32>],
    layers: &[Linear; 4],
    num_heads: usize,
) -> Vec<DMatrix<f32>> {
    batch
        .iter()
        .map(|x| {
            let keys = split_heads(&layers[1].apply(x), num_heads);
            let queries = split_heads(&layers[0].apply(x), num_heads);
            let values = split_heads(&layers[2].apply(x), num_heads);
            let context_vecs: Vec<DMatrix<f32>> = queries
                .iter()
                .zip(&keys)
                .zip(&values)
                .map(|((q, k), v)| {
                    let attn_scores = matmul(q, &k.transpose()); // (T, T)
                    matmul(&causal::causal_attn_weights(&attn_scores, k.ncols()), v) // (T, head_dim)
                })
                .collect();
            layers[3].apply(&concat_heads(&context_vecs)) // (T, d_out)
        })
        .collect()
}

pub(crate) fn exercise_3_2() -> Vec<DMatrix<f32>> {
    let mut rng = TorchRng::manual_seed(123);
    let heads: Vec<[Linear; 3]> = (0..2)
        .map(|_| self_attention_v2_layers(3, 1, false, &mut rng))
        .collect();
    let inputs = crate::inputs::inputs();
    multi_head_wrapper(&[inputs.clone(), inputs], &heads)
}

pub(crate) fn num_parameters(
    d_in: usize,
    d_out: usize,
    _num_heads: usize,
    qkv_bias: bool,
) -> usize {
    let projection = d_in * d_out + if qkv_bias { d_out } else { 0 };
    3 * projection + d_out * d_out + d_out // W_query, W_key, W_value, out_proj (with bias)
}

pub(crate) fn kv_decode_step(
    token: &DMatrix<f32>,
    layers: &[Linear; 4],
    num_heads: usize,
    keys: &mut [DMatrix<f32>],
    values: &mut [DMatrix<f32>],
) -> DMatrix<f32> {
    use crate::kv_cache::{attend_cache, cat_rows};
    let position = keys.first().map_or(0, DMatrix::nrows); // tokens cached before this one
    let new_keys = split_heads(&layers[1].apply(token), num_heads); // (heads, 1, head_dim)
    let queries = split_heads(&layers[0].apply(token), num_heads);
    let new_values = split_heads(&layers[2].apply(token), num_heads);
    let heads: Vec<DMatrix<f32>> = (0..num_heads)
        .map(|h| {
            keys[h] = cat_rows(&keys[h], &new_keys[h]); // (position + 1, head_dim)
            values[h] = cat_rows(&values[h], &new_values[h]);
            attend_cache(&queries[h], &keys[h], &values[h], Some(position)) // (1, head_dim)
        })
        .collect();
    layers[3].apply(&concat_heads(&heads)) // (1, d_out)
}
