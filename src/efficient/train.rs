//! Training through the efficient path: a forward pass that keeps what the backward pass needs
//! (the projections, the context vectors and each query's log-sum-exp, all `O(tokens · d)`),
//! and the backward pass: the output projection's, the attention's (FlashAttention-2's, in
//! `backward.rs`), the QKV projection's. Every matrix product runs on the forward pass's packed
//! micro-kernels (`gemm.rs`).

use nalgebra::{DMatrix, DVector};

use super::backward::{BackwardScratch, HeadGrads, HeadInputs};
use super::gemm::PackedWeights;
use super::kernel::{HeadScratch, LANES, zeroed};
use super::parallel::run_parallel;
use super::{EfficientMha, hidden_values_poison};
use crate::Error;
use crate::gradients::LinearGrads;
use crate::validate::{check_batch, check_gradient_shapes};

/// The weights as the backward pass multiplies by them: `∂x = ∂qkv · [W_q; W_k; W_v]` and
/// `∂context = ∂output · W_out`, so packed untransposed.
#[derive(Debug, Clone)]
pub(super) struct BackwardWeights {
    /// `[W_query; W_key; W_value]`, `(3·d_out × d_in)`, as a product's `Wᵀ`.
    w_qkv: PackedWeights,
    /// `W_out`, `(d_out × d_out)`.
    w_out: PackedWeights,
}

/// The gradients of a loss with respect to the input and every parameter of an
/// [`EfficientMha`], field by field as [`AttentionGrads`](crate::gradients::AttentionGrads)
/// names them (PyTorch's `x.grad` and `module.<layer>.weight.grad`, `.bias.grad`). There is no
/// `attn_scores`: the efficient path never holds the `(tokens × tokens)` scores.
#[derive(Debug, Clone, PartialEq)]
pub struct EfficientGrads {
    /// `∂L/∂x`, one `(tokens × d_in)` matrix per batch item.
    pub x: Vec<DMatrix<f32>>,
    /// The query projection's gradients, summed over the batch.
    pub w_query: LinearGrads,
    /// The key projection's gradients.
    pub w_key: LinearGrads,
    /// The value projection's gradients.
    pub w_value: LinearGrads,
    /// The output projection's gradients.
    pub out_proj: LinearGrads,
}

/// What one batch item's training forward pass keeps.
#[derive(Debug, Clone)]
struct Saved {
    /// `(T × 3·d_out)`: queries, keys, values, as projected.
    qkv: DMatrix<f32>,
    /// `(T × d_out)`: the heads' context vectors side by side.
    context: DMatrix<f32>,
    /// `(heads · T)`: head `h`'s log-sum-exp of query `i` at `h · T + i`.
    lse: Vec<f32>,
}

/// A forward pass of [`EfficientMha`] that keeps what its backward pass needs, like
/// [`gradients::Tape`](crate::gradients::Tape) for the textbook module, in `O(tokens · d)`
/// memory: the projected queries, keys and values, the context vectors, and for every query its
/// log-sum-exp `L = m + ln ℓ` (one number per query and head), from which the backward pass
/// recomputes any attention weight as `exp(s − L)`. Evaluation mode (no dropout).
///
/// ```
/// use ch03_attention::efficient::EfficientMha;
/// use ch03_attention::gradients::Tape;
/// use ch03_attention::inputs::inputs;
/// use ch03_attention::nalgebra::DMatrix;
/// use ch03_attention::{MultiHeadAttention, TorchRng};
///
/// let mha = MultiHeadAttention::new(3, 2, 6, 0.0, 2, true, &mut TorchRng::manual_seed(123)).unwrap();
/// let fast = EfficientMha::from_textbook(&mha);
/// let batch = [inputs()];
/// let tape = fast.forward_tape(&batch).unwrap();
/// assert_eq!(tape.output(), fast.forward(&batch).unwrap().as_slice());
/// let ones = [DMatrix::from_element(6, 2, 1.0_f32)]; // L = Σ outputs
/// let grads = tape.backward(&ones).unwrap();
/// let textbook = Tape::multi_head(&mha, &batch, None).unwrap().backward(&ones).unwrap();
/// assert!((&grads.w_query.weight - &textbook.w_query.weight).amax() < 1e-6);
/// assert!((&grads.x[0] - &textbook.x[0]).amax() < 1e-6);
/// ```
#[derive(Debug, Clone)]
pub struct EfficientTape<'a> {
    module: &'a EfficientMha,
    batch: &'a [DMatrix<f32>],
    tokens: usize,
    saved: Vec<Saved>,
    outputs: Vec<DMatrix<f32>>,
}

impl EfficientMha {
    /// The forward pass of [`forward`](Self::forward), recorded for
    /// [`EfficientTape::backward`]: the same outputs, bit for bit, and each query's
    /// log-sum-exp. It keeps `4 · T · d_out` numbers and `heads · T` log-sum-exps per item (the
    /// plain forward pass overwrites its queries and keeps nothing).
    ///
    /// # Errors
    ///
    /// Those of [`forward`](Self::forward).
    pub fn forward_tape<'a>(
        &'a self,
        batch: &'a [DMatrix<f32>],
    ) -> Result<EfficientTape<'a>, Error> {
        check_batch(
            "MultiHeadAttention",
            batch,
            self.d_in(),
            self.context_length,
        )?;
        let tokens = batch.first().map_or(0, DMatrix::nrows);
        let d_out = self.d_out();
        let xs: Vec<&[f32]> = batch.iter().map(DMatrix::as_slice).collect();
        let qkv = match tokens {
            0 => vec![DMatrix::zeros(0, 3 * d_out); batch.len()],
            _ => self.project_all(&xs, tokens, &self.w_qkv_t, self.b_qkv.as_ref()), // (T, 3·d_out)
        };
        let mut saved: Vec<Saved> = qkv
            .into_iter()
            .map(|qkv| Saved {
                qkv,
                context: zeroed(tokens, d_out),
                lse: vec![0.0; self.num_heads * tokens],
            })
            .collect();
        if tokens == 0 {
            let outputs = vec![DMatrix::zeros(0, d_out); batch.len()];
            return Ok(EfficientTape {
                module: self,
                batch,
                tokens,
                saved,
                outputs,
            });
        }
        self.attend_all_saving(&mut saved, tokens);
        for item in &mut saved {
            let values = &item.qkv.as_slice()[2 * tokens * d_out..];
            hidden_values_poison(item.context.as_mut_slice(), values, tokens);
        }
        let contexts: Vec<&[f32]> = saved.iter().map(|s| s.context.as_slice()).collect();
        let outputs = self.project_all(&contexts, tokens, &self.w_out_t, self.b_out.as_ref());
        Ok(EfficientTape {
            module: self,
            batch,
            tokens,
            saved,
            outputs,
        })
    }

    /// Evaluation mode's gradients given `d_output = ∂L/∂forward(batch)`:
    /// [`forward_tape`](Self::forward_tape), then [`EfficientTape::backward`]. The same
    /// function as [`MultiHeadAttention::backward`](crate::MultiHeadAttention::backward).
    ///
    /// # Errors
    ///
    /// Those of [`forward`](Self::forward); [`Error::GradientBatch`] or
    /// [`Error::GradientShape`] if `d_output` is not shaped like the output.
    pub fn backward(
        &self,
        batch: &[DMatrix<f32>],
        d_output: &[DMatrix<f32>],
    ) -> Result<EfficientGrads, Error> {
        self.forward_tape(batch)?.backward(d_output)
    }

    /// Step 2 of the training forward pass, one job per (item, head): the context vectors go to
    /// `context`, the log-sum-exps to `lse`, and the queries stay.
    fn attend_all_saving(&self, saved: &mut [Saved], tokens: usize) {
        let d_out = self.d_out();
        let head_len = tokens * self.head_dim();
        let mut jobs = Vec::new();
        for item in saved.iter_mut() {
            let (queries, keys_values) = item.qkv.as_slice().split_at(tokens * d_out);
            let (keys, values) = keys_values.split_at(tokens * d_out);
            let heads = queries
                .chunks(head_len)
                .zip(keys.chunks(head_len))
                .zip(values.chunks(head_len))
                .zip(item.context.as_mut_slice().chunks_mut(head_len))
                .zip(item.lse.chunks_mut(tokens));
            jobs.extend(heads.map(|((((q, k), v), context), lse)| (q, k, v, context, lse)));
        }
        let block = self.block_size.min(tokens).next_multiple_of(LANES);
        run_parallel(
            self.threads,
            jobs,
            || HeadScratch::new(tokens, self.head_dim(), block),
            |scratch, (q, k, v, context, lse)| {
                scratch.attend_saving(self.level, q, k, v, context, lse);
            },
        );
    }

    /// The weights packed for the backward pass, on first use.
    fn backward_weights(&self) -> &BackwardWeights {
        self.backward_weights.get_or_init(|| {
            let nr = self.w_out_t.nr();
            BackwardWeights {
                w_qkv: PackedWeights::new(&self.w_qkv_t.unpacked().transpose(), nr),
                w_out: PackedWeights::new(&self.w_out_t.unpacked().transpose(), nr),
            }
        })
    }

    /// `Σ_items gradᵀ · input`, `(outputs × features)`: a layer's weight gradient, from each
    /// item's inputs `(T × features)` and output gradients `(T × outputs)`, column-major. One
    /// packed product summing over every token of every item: the gradients transposed (token
    /// by token) are its "inputs", the inputs stacked its "weights".
    fn weight_grad(
        &self,
        inputs: &[&[f32]],
        grads: &[&[f32]],
        tokens: usize,
        (outputs, features): (usize, usize),
    ) -> DMatrix<f32> {
        let mut grads_t = vec![0.0; outputs * grads.len() * tokens]; // column b·T + t: token t of item b
        for (b, g) in grads.iter().enumerate() {
            let dst = &mut grads_t[b * tokens * outputs..][..tokens * outputs];
            transpose(g, tokens, outputs, dst);
        }
        let stacked = PackedWeights::stacked(inputs, tokens, features, self.w_out_t.nr());
        let mut product = self.project_all(&[&grads_t], outputs, &stacked, None);
        product.pop().expect("one product") // (outputs, features)
    }
}

/// `dst = srcᵀ`: `src` is `(rows × cols)` column-major, `dst` `(cols × rows)` column-major. In
/// tiles of 16 × 16, so the lines being read and written stay in the L1 cache.
fn transpose(src: &[f32], rows: usize, cols: usize, dst: &mut [f32]) {
    const TILE: usize = 16;
    for c0 in (0..cols).step_by(TILE) {
        for r0 in (0..rows).step_by(TILE) {
            for c in c0..cols.min(c0 + TILE) {
                for r in r0..rows.min(r0 + TILE) {
                    dst[r * cols + c] = src[c * rows + r];
                }
            }
        }
    }
}

/// `Σ_items Σ_tokens grad`: a bias's gradient, from each item's `(T × n)` column-major gradient.
fn bias_grad(grads: &[&[f32]], tokens: usize, n: usize) -> DVector<f32> {
    DVector::from_fn(n, |o, _| {
        grads
            .iter()
            .map(|g| g[o * tokens..(o + 1) * tokens].iter().sum::<f32>())
            .sum()
    })
}

impl EfficientTape<'_> {
    /// The forward pass's output, one `(tokens × d_out)` matrix per batch item: what
    /// [`EfficientMha::forward`] returns, bit for bit.
    pub fn output(&self) -> &[DMatrix<f32>] {
        &self.outputs
    }

    /// The backward pass: given `d_output = ∂L/∂output` (one `(tokens × d_out)` matrix per batch
    /// item), the gradient with respect to the input and every weight and bias, weight
    /// gradients summed over the batch (as PyTorch sums them):
    ///
    /// 1. the output projection: `∂W_out = Σ ∂outputᵀ · context`, `∂context = ∂output · W_out`;
    /// 2. the attention, head by head, recomputing the weights tile by tile from the saved
    ///    log-sum-exps (FlashAttention-2's backward; see the module docs);
    /// 3. the QKV projection: `∂W = Σ ∂qkvᵀ · x`, `∂x = ∂qkv · [W_q; W_k; W_v]`.
    ///
    /// # Errors
    ///
    /// [`Error::GradientBatch`] or [`Error::GradientShape`] if `d_output` is not shaped like the
    /// output.
    pub fn backward(&self, d_output: &[DMatrix<f32>]) -> Result<EfficientGrads, Error> {
        check_gradient_shapes(&self.outputs, d_output)?;
        let m = self.module;
        let (t, d_in, d_out) = (self.tokens, m.d_in(), m.d_out());
        if t == 0 {
            return Ok(self.no_tokens());
        }
        let weights = m.backward_weights();
        // 1. output = context · W_outᵀ + b_out
        let d_ys: Vec<&[f32]> = d_output.iter().map(DMatrix::as_slice).collect();
        let contexts: Vec<&[f32]> = self.saved.iter().map(|s| s.context.as_slice()).collect();
        let out_proj = LinearGrads {
            weight: m.weight_grad(&contexts, &d_ys, t, (d_out, d_out)),
            bias: m.b_out.as_ref().map(|_| bias_grad(&d_ys, t, d_out)),
        };
        let d_context = m.project_all(&d_ys, t, &weights.w_out, None); // (T, d_out)
        // 2. The attention, one job per (item, head).
        let mut d_qkv: Vec<DMatrix<f32>> =
            self.saved.iter().map(|_| zeroed(t, 3 * d_out)).collect();
        self.attention_backward(&d_context, &mut d_qkv);
        drop(d_context);
        // 3. qkv = x · [W_q | W_k | W_v]ᵀ + b
        let d_qkvs: Vec<&[f32]> = d_qkv.iter().map(DMatrix::as_slice).collect();
        let xs: Vec<&[f32]> = self.batch.iter().map(DMatrix::as_slice).collect();
        let w_qkv = m.weight_grad(&xs, &d_qkvs, t, (3 * d_out, d_in)); // (3·d_out, d_in)
        let b_qkv = bias_grad(&d_qkvs, t, 3 * d_out);
        let x = m.project_all(&d_qkvs, t, &weights.w_qkv, None); // (T, d_in)
        let [w_query, w_key, w_value] = [0, 1, 2].map(|i| LinearGrads {
            weight: w_qkv.rows(i * d_out, d_out).into_owned(),
            bias: m.qkv_has_bias[i].then(|| b_qkv.rows(i * d_out, d_out).into_owned()),
        });
        Ok(EfficientGrads {
            x,
            w_query,
            w_key,
            w_value,
            out_proj,
        })
    }

    /// The gradients when the batch has no token: nothing to sum, every gradient 0.
    fn no_tokens(&self) -> EfficientGrads {
        let m = self.module;
        let (d_in, d_out) = (m.d_in(), m.d_out());
        let layer = |rows, cols, bias: bool| LinearGrads {
            weight: DMatrix::zeros(rows, cols),
            bias: bias.then(|| DVector::zeros(rows)),
        };
        let [w_query, w_key, w_value] = m.qkv_has_bias.map(|b| layer(d_out, d_in, b));
        EfficientGrads {
            x: vec![DMatrix::zeros(0, d_in); self.batch.len()],
            w_query,
            w_key,
            w_value,
            out_proj: layer(d_out, d_out, m.b_out.is_some()),
        }
    }

    /// Step 2 for every (item, head): reads the saved queries, keys, values, context vectors and
    /// log-sum-exps and the context's gradient; writes `∂q`, `∂k`, `∂v` into `d_qkv`, laid out
    /// as the forward pass's `qkv`.
    fn attention_backward(&self, d_context: &[DMatrix<f32>], d_qkv: &mut [DMatrix<f32>]) {
        let m = self.module;
        let (t, d_out, head_dim) = (self.tokens, m.d_out(), m.head_dim());
        let head_len = t * head_dim;
        let mut jobs = Vec::new();
        for ((item, d_c), d_qkv) in self.saved.iter().zip(d_context).zip(d_qkv.iter_mut()) {
            let (q, kv) = item.qkv.as_slice().split_at(t * d_out);
            let (k, v) = kv.split_at(t * d_out);
            let (d_q, d_kv) = d_qkv.as_mut_slice().split_at_mut(t * d_out);
            let (d_k, d_v) = d_kv.split_at_mut(t * d_out);
            let context = item.context.as_slice();
            let heads = d_q
                .chunks_mut(head_len)
                .zip(d_k.chunks_mut(head_len))
                .zip(d_v.chunks_mut(head_len))
                .enumerate();
            for (h, ((queries, keys), values)) in heads {
                let head = h * head_len..(h + 1) * head_len;
                let inputs = HeadInputs {
                    queries: &q[head.clone()],
                    keys: &k[head.clone()],
                    values: &v[head.clone()],
                    context: &context[head.clone()],
                    d_context: &d_c.as_slice()[head],
                    lse: &item.lse[h * t..(h + 1) * t],
                };
                jobs.push((
                    inputs,
                    HeadGrads {
                        queries,
                        keys,
                        values,
                    },
                ));
            }
        }
        run_parallel(
            m.threads,
            jobs,
            || BackwardScratch::new(t, head_dim),
            |scratch, (inputs, grads)| scratch.head(m.level, &inputs, grads),
        );
    }
}
