//! One forward pass per module, shared by the module and its [`Tape`](super::Tape).
//!
//! Every attention module's `forward` runs the same second half: dropout on the attention weights
//! (training mode only), the weights times the values per head, the heads side by side. Here that
//! half keeps what it computed, an [`ItemPass`] per batch item, so the module's `forward` returns
//! the output from it and the tape keeps the rest for the backward pass: the tape's output *is*
//! the module's, not a copy of its steps.

use nalgebra::DMatrix;

use crate::multihead::concat_heads;
use crate::torch::matmul;
use crate::{Dropout, TorchRng};

/// One matrix per head, head 0 first: a `(heads, rows, cols)` tensor.
pub(crate) type PerHead = Vec<DMatrix<f32>>;

/// One batch item's forward pass up to the softmax: each head's queries, keys, values and
/// attention weights.
#[derive(Debug, Clone)]
pub(crate) struct Attended {
    pub(crate) queries: PerHead,      // (heads, T, head_dim)
    pub(crate) keys: PerHead,         // (heads, T, head_dim)
    pub(crate) values: PerHead,       // (heads, T, head_dim)
    pub(crate) attn_weights: PerHead, // (heads, T, T)
}

/// One batch item's whole forward pass: what the module computed, kept for the backward pass.
#[derive(Debug, Clone)]
pub(crate) struct ItemPass {
    pub(crate) queries: PerHead,                // (heads, T, head_dim)
    pub(crate) keys: PerHead,                   // (heads, T, head_dim)
    pub(crate) values: PerHead,                 // (heads, T, head_dim)
    pub(crate) attn_weights: PerHead,           // (heads, T, T), before dropout
    pub(crate) dropped: Option<PerHead>,        // (heads, T, T), after dropout: training mode only
    pub(crate) noise: Option<PerHead>,          // (heads, T, T), the dropout factors: training only
    pub(crate) context_vec: DMatrix<f32>,       // (T, d_out): the heads side by side
    pub(crate) projected: Option<DMatrix<f32>>, // (T, d_out): out_proj(context_vec), MHA only
}

impl ItemPass {
    /// The module's output: the output projection's if it has one, else the context vectors.
    pub(crate) fn output(&self) -> &DMatrix<f32> {
        self.projected.as_ref().unwrap_or(&self.context_vec)
    }

    /// [`output`](Self::output), moved out.
    pub(crate) fn into_output(self) -> DMatrix<f32> {
        self.projected.unwrap_or(self.context_vec)
    }

    /// The attention weights that multiplied the values: after dropout in training mode, the
    /// weights themselves in evaluation mode.
    pub(crate) fn dropped(&self) -> &PerHead {
        self.dropped.as_ref().unwrap_or(&self.attn_weights)
    }
}

/// The forward pass after the softmax, for the whole batch: `dropout(attn_weights) @ values`
/// per head, the heads side by side.
///
/// In training mode (`dropout` and `rng` both given) one mask is drawn over the whole
/// `(b, heads, T, T)` weight tensor, item 0 head 0 first, each matrix row-major: where and what
/// `nn.Dropout` draws. Otherwise nothing is drawn and the weights pass unchanged.
pub(crate) fn dropout_then_context(
    batch: Vec<Attended>,
    dropout: Option<&Dropout>,
    rng: Option<&mut TorchRng>,
) -> Vec<ItemPass> {
    // self.dropout(attn_weights), training mode only: one mask over (b · heads, T, T)
    let drawn = match (dropout, rng) {
        (Some(dropout), Some(rng)) => {
            let all_weights: Vec<DMatrix<f32>> = batch
                .iter()
                .flat_map(|item| item.attn_weights.iter().cloned())
                .collect(); // (b · heads, T, T)
            Some(dropout.forward_train_batch_with_noise(&all_weights, rng))
        }
        _ => None,
    };
    let (mut dropped, mut noise) = match drawn {
        Some((dropped, noise)) => (Some(dropped.into_iter()), Some(noise.into_iter())),
        None => (None, None),
    };
    batch
        .into_iter()
        .map(|item| {
            let heads = item.attn_weights.len();
            let dropped: Option<PerHead> = dropped.as_mut().map(|d| d.take(heads).collect());
            let noise: Option<PerHead> = noise.as_mut().map(|n| n.take(heads).collect());
            // (dropped @ values) per head: (heads, T, head_dim); side by side: (T, d_out)
            let weights = dropped.as_ref().unwrap_or(&item.attn_weights);
            let context: PerHead = weights
                .iter()
                .zip(&item.values)
                .map(|(w, v)| matmul(w, v))
                .collect();
            ItemPass {
                context_vec: concat_heads(&context),
                queries: item.queries,
                keys: item.keys,
                values: item.values,
                attn_weights: item.attn_weights,
                dropped,
                noise,
                projected: None,
            }
        })
        .collect()
}
