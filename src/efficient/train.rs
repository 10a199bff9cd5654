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
use crate::validate::check_gradient_shapes;

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
        let tokens = self.checked_tokens(batch)?;
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
    /// item's output gradients `(T × outputs)`, column-major, and its inputs, stacked and packed
    /// by [`PackedWeights::stacked`] (`(items · T × features)`). One packed product summing over
    /// every token of every item: the gradients transposed (token by token) are its "inputs",
    /// the stacked inputs its "weights".
    fn weight_grad(
        &self,
        stacked: &PackedWeights,
        grads: &[&[f32]],
        tokens: usize,
    ) -> DMatrix<f32> {
        let outputs = grads[0].len() / tokens;
        let mut grads_t = vec![0.0; outputs * grads.len() * tokens]; // column b·T + t: token t of item b
        for (b, g) in grads.iter().enumerate() {
            let dst = &mut grads_t[b * tokens * outputs..][..tokens * outputs];
            transpose(g, tokens, outputs, dst);
        }
        let mut product = self.project_all(&[&grads_t], outputs, stacked, None);
        product.pop().expect("one product") // (outputs, features)
    }

    /// `inputs` (each `(T × features)`) stacked and packed as [`weight_grad`](Self::weight_grad)
    /// reads them.
    fn stacked(&self, inputs: &[&[f32]], tokens: usize, features: usize) -> PackedWeights {
        PackedWeights::stacked(inputs, tokens, features, self.w_out_t.nr())
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
            weight: m.weight_grad(&m.stacked(&contexts, t, d_out), &d_ys, t),
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
        let x = m.project_all(&d_qkvs, t, &weights.w_qkv, None); // (T, d_in)
        // Each projection's gradients from its own columns of ∂qkv (one contiguous stretch of
        // T · d_out numbers per item), against the inputs packed once.
        let stacked = m.stacked(&xs, t, d_in);
        let [w_query, w_key, w_value] = [0, 1, 2].map(|i| {
            let columns: Vec<&[f32]> = d_qkvs
                .iter()
                .map(|g| &g[i * t * d_out..][..t * d_out])
                .collect();
            LinearGrads {
                weight: m.weight_grad(&stacked, &columns, t), // (d_out, d_in)
                bias: m.qkv_has_bias[i].then(|| bias_grad(&columns, t, d_out)),
            }
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

/// The bound of the backward pass's tests, shared with `tests/efficient_train.rs`.
#[cfg(test)]
#[path = "../../tests/support/backward_bound.rs"]
mod backward_bound;

#[cfg(test)]
mod tests {
    //! Fast checks of the backward pass against the textbook tape, at every SIMD level: the unit
    //! tests that mutation testing runs (`tests/efficient_train.rs` holds the property tests and
    //! the comparison with PyTorch).

    use super::backward_bound::{Shape, tolerance};
    use super::*;
    use crate::efficient::SimdLevel;
    use crate::gradients::{AttentionGrads, Tape};
    use crate::{MultiHeadAttention, TorchRng};

    /// A module, a batch and an upstream gradient drawn from `seed`.
    struct Case {
        mha: MultiHeadAttention,
        x: Vec<DMatrix<f32>>,
        g: Vec<DMatrix<f32>>,
    }

    /// `(batch, tokens, d_in, heads, head_dim, qkv_bias)`.
    fn case(
        seed: u64,
        (b, t, d_in, heads, head_dim, bias): (usize, usize, usize, usize, usize, bool),
    ) -> Case {
        let mut rng = TorchRng::manual_seed(seed);
        let d_out = heads * head_dim;
        let mha = MultiHeadAttention::new(d_in, d_out, t, 0.0, heads, bias, &mut rng).unwrap();
        let x = (0..b).map(|_| rng.uniform(t, d_in, -2.0, 2.0)).collect();
        let g = (0..b).map(|_| rng.uniform(t, d_out, -1.0, 1.0)).collect();
        Case { mha, x, g }
    }

    fn efficient(c: &Case, level: SimdLevel, threads: usize) -> EfficientMha {
        EfficientMha::from_textbook(&c.mha)
            .with_simd_level(level)
            .and_then(|m| m.with_threads(threads))
            .and_then(|m| m.with_block_size(16))
            .unwrap()
    }

    /// Every gradient, the efficient path's and the tape's side by side.
    fn pairs(e: &EfficientGrads, t: &AttentionGrads) -> Vec<(DMatrix<f32>, DMatrix<f32>)> {
        let mut out: Vec<_> = e.x.iter().cloned().zip(t.x.iter().cloned()).collect();
        let out_proj = t.out_proj.as_ref().expect("MultiHeadAttention");
        let layers = [
            (&e.w_query, &t.w_query),
            (&e.w_key, &t.w_key),
            (&e.w_value, &t.w_value),
            (&e.out_proj, out_proj),
        ];
        for (a, b) in layers {
            out.push((a.weight.clone(), b.weight.clone()));
            assert_eq!(a.bias.is_some(), b.bias.is_some());
            if let (Some(a_b), Some(b_b)) = (&a.bias, &b.bias) {
                // A bias is measured with its weight's scale (the key bias's gradient is
                // rounding alone): one matrix of both.
                let both = |w: &DMatrix<f32>, b: &DVector<f32>| {
                    DMatrix::from_iterator(1, w.len() + b.len(), w.iter().chain(b.iter()).copied())
                };
                out.push((both(&a.weight, a_b), both(&b.weight, b_b)));
            }
        }
        out
    }

    /// The largest `max |efficient − tape| / (scale · bound)` over the gradients at every level.
    fn worst_ratio(c: &Case, threads: usize) -> f64 {
        let tape = Tape::multi_head(&c.mha, &c.x, None)
            .unwrap()
            .backward(&c.g)
            .unwrap();
        let project = |l: &crate::Linear| c.x.iter().map(|x| l.forward(x).unwrap()).collect();
        let tol = tolerance(&Shape {
            batch: c.x.len(),
            tokens: c.x[0].nrows(),
            d_in: c.mha.d_in(),
            d_out: c.mha.d_out(),
            heads: c.mha.num_heads(),
            queries: project(c.mha.w_query()),
            keys: project(c.mha.w_key()),
        });
        let mut worst = 0.0_f64;
        for level in SimdLevel::available() {
            let grads = efficient(c, level, threads).backward(&c.x, &c.g).unwrap();
            for (got, want) in pairs(&grads, &tape) {
                assert_eq!(got.shape(), want.shape());
                let scale = f64::from(want.amax());
                let err = f64::from((&got - &want).amax());
                let ratio = if err == 0.0 { 0.0 } else { err / (scale * tol) };
                worst = worst.max(if ratio.is_nan() { f64::INFINITY } else { ratio });
            }
        }
        worst
    }

    /// Shapes through every micro-tile width (head_dim 1, 3, 8, 16, 21), partial key groups,
    /// several query chunks (150 tokens: chunks of 128 and 22), one token, batches of 1 to 3,
    /// with and without biases, one and two threads: within the bound of the tape.
    #[test]
    fn backward_is_within_the_bound_of_the_tape_at_every_level() {
        let shapes = [
            (1, 1, 3, 1, 1, true),
            (2, 17, 5, 2, 3, false),
            (1, 40, 7, 3, 8, true),
            (3, 33, 6, 2, 16, true),
            (1, 150, 4, 1, 21, false),
        ];
        for (seed, shape) in shapes.into_iter().enumerate() {
            let c = case(seed as u64, shape);
            for threads in [1, 2] {
                let ratio = worst_ratio(&c, threads);
                assert!(ratio <= 1.0, "{shape:?} threads {threads}: {ratio}");
            }
        }
    }

    /// The first token sees only itself: its weight is exactly 1 and the gradient of its score
    /// exactly 0 (`D` is computed with the scores' own multiply-adds), so with one token the
    /// query and key weights get exactly 0, as the tape's do.
    #[test]
    fn one_token_gives_exactly_zero_query_and_key_gradients() {
        let c = case(3, (2, 1, 5, 2, 4, false));
        for level in SimdLevel::available() {
            let grads = efficient(&c, level, 1).backward(&c.x, &c.g).unwrap();
            for w in [&grads.w_query.weight, &grads.w_key.weight] {
                assert!(w.iter().all(|v| *v == 0.0), "{level}: {w}");
            }
            assert!(grads.w_value.weight.iter().any(|v| *v != 0.0));
        }
    }

    /// A non-finite upstream gradient at token `t`: the textbook multiplies it by the masked
    /// weights of 0 of every later key's value, so every later token's `∂x` is NaN there too
    /// (and the earlier tokens' through their keys, as in the tape).
    #[test]
    fn a_non_finite_upstream_gradient_reaches_the_later_values() {
        for (t, value) in [(0, f32::NAN), (3, f32::INFINITY), (6, f32::NEG_INFINITY)] {
            let mut c = case(4, (1, 20, 4, 2, 4, true));
            c.g[0][(t, 1)] = value;
            let tape = Tape::multi_head(&c.mha, &c.x, None)
                .unwrap()
                .backward(&c.g)
                .unwrap();
            for level in SimdLevel::available() {
                let grads = efficient(&c, level, 2).backward(&c.x, &c.g).unwrap();
                let finite = |m: &DMatrix<f32>| m.map(|v| v.is_finite());
                assert_eq!(finite(&grads.x[0]), finite(&tape.x[0]), "{level} token {t}");
                assert!(grads.x[0].row(t + 1).iter().all(|v| v.is_nan()));
            }
        }
    }

    /// The tape's output is the plain forward pass, bit for bit; a level change repacks the
    /// backward pass's weights (a tape from a narrower level still matches the tape).
    #[test]
    fn tape_output_is_forward_and_levels_repack_the_backward_weights() {
        let c = case(5, (2, 24, 6, 2, 4, true));
        let best = efficient(&c, SimdLevel::best(), 2);
        let tape = best.forward_tape(&c.x).unwrap();
        assert_eq!(tape.output(), best.forward(&c.x).unwrap().as_slice());
        let first = tape.backward(&c.g).unwrap();
        assert_eq!(
            best.backward_weights.get().map(|w| w.w_out.nr()),
            Some(best.w_out_t.nr())
        );
        let portable = best.clone().with_simd_level(SimdLevel::Portable).unwrap();
        assert!(
            portable.backward_weights.get().is_none(),
            "packed anew for the level"
        );
        let other = portable.backward(&c.x, &c.g).unwrap();
        let close = |a: &DMatrix<f32>, b: &DMatrix<f32>| (a - b).amax() <= 1e-4 * b.amax();
        assert!(close(&other.w_query.weight, &first.w_query.weight));
        assert!(close(&other.x[1], &first.x[1]));
    }

    /// A NaN in one input token makes every output NaN, in the textbook and in both forward
    /// passes here: the earlier tokens through the masked weight of 0 that the textbook
    /// multiplies by the NaN values (`hidden_values_poison`), the later through their scores.
    /// And the training forward pass projects exactly as `project_qkv` does.
    #[test]
    fn a_nan_input_token_makes_every_output_nan_and_the_tape_keeps_the_projection() {
        let mut c = case(6, (1, 20, 5, 2, 4, true));
        c.x[0][(7, 2)] = f32::NAN;
        assert!(c.mha.forward(&c.x).unwrap()[0].iter().all(|v| v.is_nan()));
        for level in SimdLevel::available() {
            let fast = efficient(&c, level, 2);
            assert!(
                fast.forward(&c.x).unwrap()[0].iter().all(|v| v.is_nan()),
                "{level}"
            );
            let tape = fast.forward_tape(&c.x).unwrap();
            assert!(tape.output()[0].iter().all(|v| v.is_nan()), "{level}");
            let qkv = fast.project_qkv(&c.x).unwrap();
            let bits = |m: &DMatrix<f32>| m.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&qkv[0]), bits(&tape.saved[0].qkv), "{level}");
        }
    }

    /// One value overflowing to ∞ (token 30's value feature 1: one large input times one large
    /// weight, so no `∞ − ∞`, fused or not), its query and key finite: the textbook multiplies
    /// it by every earlier query's masked weight of 0, so every earlier output is NaN. Both
    /// forward passes here give the same NaN and ∞ as the textbook's, entry by entry: the
    /// kernel computes queries 16 to 29 against key 30 (its group of 16 stops at key 31), but
    /// never queries 0 to 15, whose NaNs come from `hidden_values_poison`.
    #[test]
    fn an_overflowing_value_poisons_the_earlier_outputs_as_in_the_textbook() {
        let mut c = case(7, (1, 40, 5, 2, 4, false));
        let m = &c.mha;
        let mut w_value = m.w_value().weight().clone();
        w_value[(1, 0)] = 1e30;
        let layer = |l: &crate::Linear, w: DMatrix<f32>| {
            crate::Linear::from_parts(w, l.bias().cloned()).unwrap()
        };
        let mha = MultiHeadAttention::from_parts(
            layer(m.w_query(), m.w_query().weight().clone()),
            layer(m.w_key(), m.w_key().weight().clone()),
            layer(m.w_value(), w_value),
            layer(m.out_proj(), m.out_proj().weight().clone()),
            0.0,
            2,
            40,
        )
        .unwrap();
        c.x[0][(30, 0)] = 1e10;
        let textbook = mha.forward(&c.x).unwrap();
        let kind = |m: &DMatrix<f32>| {
            m.map(|v| {
                if v.is_nan() {
                    2
                } else {
                    u8::from(v.is_infinite())
                }
            })
        };
        let want = kind(&textbook[0]);
        assert!(want.rows(0, 30).iter().all(|k| *k == 2), "earlier rows NaN");
        for level in SimdLevel::available() {
            let fast = EfficientMha::from_textbook(&mha)
                .with_simd_level(level)
                .unwrap();
            assert_eq!(kind(&fast.forward(&c.x).unwrap()[0]), want, "{level}");
            let tape = fast.forward_tape(&c.x).unwrap();
            assert_eq!(kind(&tape.output()[0]), want, "{level}");
            // The context itself: NaN in feature 1 only, for every token before 30.
            let context = kind(&tape.saved[0].context);
            assert!(
                context.column(1).rows(0, 30).iter().all(|k| *k == 2),
                "{level}"
            );
            assert!(
                context.rows(0, 30).iter().filter(|k| **k == 2).count() == 30,
                "{level}"
            );
        }
    }

    /// No token: empty outputs, and every gradient 0 (with a bias where the layer has one).
    #[test]
    fn no_token_gives_empty_outputs_and_zero_gradients() {
        let c = case(8, (1, 3, 5, 2, 4, true));
        let fast = efficient(&c, SimdLevel::best(), 2);
        let empty = [DMatrix::zeros(0, 5), DMatrix::zeros(0, 5)];
        let tape = fast.forward_tape(&empty).unwrap();
        assert_eq!(tape.output(), &[DMatrix::zeros(0, 8), DMatrix::zeros(0, 8)]);
        let grads = tape
            .backward(&[DMatrix::zeros(0, 8), DMatrix::zeros(0, 8)])
            .unwrap();
        assert_eq!(grads.x, vec![DMatrix::<f32>::zeros(0, 5); 2]);
        assert_eq!(grads.w_value.weight, DMatrix::zeros(8, 5));
        assert_eq!(grads.out_proj.bias, Some(DVector::zeros(8)));
    }

    /// `transpose` and `bias_grad` by hand.
    #[test]
    fn transpose_and_bias_grad_by_hand() {
        let src: Vec<f32> = (0..6).map(|v| v as f32).collect(); // (2 × 3) column-major
        let mut dst = vec![0.0; 6];
        transpose(&src, 2, 3, &mut dst);
        assert_eq!(dst, [0.0, 2.0, 4.0, 1.0, 3.0, 5.0]); // (3 × 2) column-major
        let big: Vec<f32> = (0..40 * 20).map(|v| v as f32).collect();
        let mut big_t = vec![0.0; 40 * 20];
        transpose(&big, 40, 20, &mut big_t);
        let m = DMatrix::from_column_slice(40, 20, &big);
        assert_eq!(DMatrix::from_column_slice(20, 40, &big_t), m.transpose());
        let g = [&src[..], &src[..]]; // two items of (2 tokens × 3)
        assert_eq!(bias_grad(&g, 2, 3).as_slice(), [2.0, 10.0, 18.0]);
    }
}
