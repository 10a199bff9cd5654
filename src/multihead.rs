#![doc = include_str!(concat!(env!("OUT_DIR"), "/docs/multihead.md"))]

use std::ops::Range;

use nalgebra::DMatrix;

use crate::efficient::parallel::parallel_map;
use crate::validate::{check_batch, check_nonzero};
use crate::{CausalAttention, Dropout, Error, Linear, TorchRng};

/// One matrix per head, head 0 first.
type PerHead = Vec<DMatrix<f32>>;

/// Multi-head attention by stacking, as in section 3.6.1's `MultiHeadAttentionWrapper`:
/// `num_heads` independent [`CausalAttention`] heads whose outputs are concatenated, so each
/// token's output is `d_out · num_heads` wide.
///
/// ```
/// use ch03_attention::{MultiHeadAttentionWrapper, TorchRng};
/// use ch03_attention::inputs::inputs;
///
/// let mut rng = TorchRng::manual_seed(123);
/// let mha = MultiHeadAttentionWrapper::new(3, 2, 6, 0.0, 2, false, &mut rng).unwrap();
/// let context_vecs = mha.forward(&[inputs(), inputs()]).unwrap();
/// assert_eq!(context_vecs[0].shape(), (6, 4)); // 2 heads × d_out 2
/// ```
#[derive(Debug, Clone)]
pub struct MultiHeadAttentionWrapper {
    heads: Vec<CausalAttention>,
}

impl MultiHeadAttentionWrapper {
    /// Builds `num_heads` [`CausalAttention`] heads in order, each drawing its three projections
    /// from `rng` (head 0 first), as `nn.ModuleList([CausalAttention(...) for _ in range(num_heads)])`.
    ///
    /// # Errors
    ///
    /// [`Error::ZeroHeads`] for `num_heads = 0`, and the errors of [`CausalAttention::new`].
    #[allow(clippy::too_many_arguments)] // mirrors the book's constructor one to one
    pub fn new(
        d_in: usize,
        d_out: usize,
        context_length: usize,
        dropout: f64,
        num_heads: usize,
        qkv_bias: bool,
        rng: &mut TorchRng,
    ) -> Result<MultiHeadAttentionWrapper, Error> {
        if num_heads == 0 {
            return Err(Error::ZeroHeads);
        }
        let heads = (0..num_heads)
            .map(|_| CausalAttention::new(d_in, d_out, context_length, dropout, qkv_bias, rng))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(MultiHeadAttentionWrapper { heads })
    }

    /// The heads, in order.
    pub fn heads(&self) -> &[CausalAttention] {
        &self.heads
    }

    /// Trainable parameters of all heads.
    pub fn num_parameters(&self) -> usize {
        self.heads.iter().map(CausalAttention::num_parameters).sum()
    }

    /// Evaluation mode: every head's context vectors, concatenated along the last dimension:
    /// `(tokens × d_out · num_heads)` per batch item.
    ///
    /// # Errors
    ///
    /// The input errors of [`CausalAttention::forward`].
    pub fn forward(&self, batch: &[DMatrix<f32>]) -> Result<Vec<DMatrix<f32>>, Error> {
        let per_head = self
            .heads
            .iter()
            .map(|h| h.forward(batch))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(concat_heads(&per_head, batch.len()))
    }

    /// Training mode: each head draws its own dropout mask from `rng`, head 0 first, exactly as
    /// the heads run one after another in PyTorch.
    ///
    /// # Errors
    ///
    /// As [`forward`](Self::forward).
    pub fn forward_train(
        &self,
        batch: &[DMatrix<f32>],
        rng: &mut TorchRng,
    ) -> Result<Vec<DMatrix<f32>>, Error> {
        let per_head = self
            .heads
            .iter()
            .map(|h| h.forward_train(batch, rng))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(concat_heads(&per_head, batch.len()))
    }
}

/// `torch.cat([head_0, head_1, …], dim=-1)` for every batch item.
fn concat_heads(per_head: &[Vec<DMatrix<f32>>], batch_len: usize) -> Vec<DMatrix<f32>> {
    (0..batch_len)
        .map(|b| {
            let parts: Vec<&DMatrix<f32>> = per_head.iter().map(|h| &h[b]).collect();
            hstack(&parts)
        })
        .collect()
}

/// Places matrices with equal row counts side by side.
fn hstack(parts: &[&DMatrix<f32>]) -> DMatrix<f32> {
    let rows = parts.first().map_or(0, |m| m.nrows());
    let cols = parts.iter().map(|m| m.ncols()).sum();
    let mut out = DMatrix::zeros(rows, cols);
    let mut c0 = 0;
    for m in parts {
        out.view_mut((0, c0), (rows, m.ncols())).copy_from(*m);
        c0 += m.ncols();
    }
    out
}

/// The fewest output features a thread computes when [`MultiHeadAttention`] splits a projection
/// over threads; smaller layers run on one thread. A thread needs enough work to pay for
/// starting it, and every piece stays on nalgebra's one GEMM kernel (below 6 columns nalgebra
/// multiplies with a plain loop, which adds in another order), so splitting changes no bit.
const MIN_OUTPUTS_PER_THREAD: usize = 64;

/// Multi-head attention with weight splits, as in section 3.6.2's `MultiHeadAttention`.
///
/// One `Linear(d_in, d_out)` each for queries, keys and values; their outputs are split into
/// `num_heads` slices of `head_dim = d_out / num_heads` columns, attention runs per head, the
/// heads are put back side by side, and an output projection `Linear(d_out, d_out)` (with bias)
/// mixes them. The output is `d_out` wide whatever the number of heads.
///
/// ```
/// use ch03_attention::{MultiHeadAttention, TorchRng};
/// use ch03_attention::inputs::inputs;
///
/// let mut rng = TorchRng::manual_seed(123);
/// let mha = MultiHeadAttention::new(3, 2, 6, 0.0, 2, false, &mut rng).unwrap();
/// let context_vecs = mha.forward(&[inputs(), inputs()]).unwrap();
/// assert!((context_vecs[0][(0, 0)] - 0.3190).abs() < 5e-5); // the book: [0.3190, 0.4858]
/// ```
#[derive(Debug, Clone)]
pub struct MultiHeadAttention {
    w_query: Linear,
    w_key: Linear,
    w_value: Linear,
    out_proj: Linear,
    dropout: Dropout,
    num_heads: usize,
    /// The longest input accepted. PyTorch's module keeps the mask
    /// `triu(ones(context_length, context_length), 1)` as a buffer (as [`CausalAttention`] does
    /// here); this one applies the same mask inside its softmax (`j > i` is hidden), so it keeps
    /// only the size: 64 MiB less at a context of 4096 tokens.
    context_length: usize,
    /// Threads a forward pass may use (1 unless [`with_threads`](Self::with_threads) says
    /// otherwise).
    threads: usize,
}

impl MultiHeadAttention {
    /// Creates, drawing from `rng` in PyTorch's order: `W_query`, `W_key`, `W_value`
    /// (`Linear(d_in, d_out, qkv_bias)`), then `out_proj` (`Linear(d_out, d_out)`, weight then
    /// bias). For the book's example (3 → 2, 2 heads, no qkv bias) that is 6 + 6 + 6 + 4 + 2 = 24
    /// draws.
    ///
    /// # Errors
    ///
    /// [`Error::ZeroHeads`]; [`Error::HeadsDoNotDivide`] if `d_out % num_heads != 0`;
    /// [`Error::DropoutRate`]; [`Error::ZeroSize`] for a zero `d_in`, `d_out` or
    /// `context_length`.
    #[allow(clippy::too_many_arguments)] // mirrors the book's constructor one to one
    pub fn new(
        d_in: usize,
        d_out: usize,
        context_length: usize,
        dropout: f64,
        num_heads: usize,
        qkv_bias: bool,
        rng: &mut TorchRng,
    ) -> Result<MultiHeadAttention, Error> {
        check_config(d_in, d_out, context_length, dropout, num_heads)?;
        let w_query = Linear::new(d_in, d_out, qkv_bias, rng);
        let w_key = Linear::new(d_in, d_out, qkv_bias, rng);
        let w_value = Linear::new(d_in, d_out, qkv_bias, rng);
        let out_proj = Linear::new(d_out, d_out, true, rng);
        MultiHeadAttention::from_parts(
            w_query,
            w_key,
            w_value,
            out_proj,
            dropout,
            num_heads,
            context_length,
        )
    }

    /// Assembles a module from given layers (e.g. to copy weights from elsewhere). The
    /// projections must all be `d_in → d_out`, `out_proj` must be `d_out → d_out`.
    ///
    /// # Errors
    ///
    /// [`Error::ShapeMismatch`] if the layers do not fit together, and the configuration errors
    /// of [`new`](Self::new).
    pub fn from_parts(
        w_query: Linear,
        w_key: Linear,
        w_value: Linear,
        out_proj: Linear,
        dropout: f64,
        num_heads: usize,
        context_length: usize,
    ) -> Result<MultiHeadAttention, Error> {
        let shape = |l: &Linear| (l.out_features(), l.in_features());
        let (d_out, d_in) = shape(&w_query);
        check_config(d_in, d_out, context_length, dropout, num_heads)?;
        for (op, l, want) in [
            ("MultiHeadAttention (W_key)", &w_key, (d_out, d_in)),
            ("MultiHeadAttention (W_value)", &w_value, (d_out, d_in)),
            ("MultiHeadAttention (out_proj)", &out_proj, (d_out, d_out)),
        ] {
            if shape(l) != want {
                return Err(Error::ShapeMismatch {
                    op,
                    left: want,
                    right: shape(l),
                });
            }
        }
        Ok(MultiHeadAttention {
            w_query,
            w_key,
            w_value,
            out_proj,
            dropout: Dropout::new(dropout)?,
            num_heads,
            context_length,
            threads: 1,
        })
    }

    /// Runs forward passes on `threads` threads. The heads are independent, so each thread
    /// takes whole heads; each projection is split into up to `threads` groups of output
    /// features (at least 64 each: a layer with fewer outputs is not split). Nothing else
    /// changes: every number is computed by the same operations in the same order,
    /// so the output is identical, bit for bit, whatever the thread count.
    ///
    /// ```
    /// use ch03_attention::{MultiHeadAttention, TorchRng};
    ///
    /// let mut rng = TorchRng::manual_seed(1);
    /// let mha = MultiHeadAttention::new(16, 16, 8, 0.0, 4, true, &mut rng).unwrap();
    /// let x = vec![rng.rand(8, 16)];
    /// let two = mha.clone().with_threads(2).unwrap();
    /// assert_eq!(two.forward(&x).unwrap(), mha.forward(&x).unwrap());
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::ZeroSize`] for 0 threads.
    pub fn with_threads(mut self, threads: usize) -> Result<MultiHeadAttention, Error> {
        if threads == 0 {
            return Err(Error::ZeroSize { what: "threads" });
        }
        self.threads = threads;
        Ok(self)
    }

    /// Number of threads a forward pass uses.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// The query projection, `d_in → d_out` (all heads).
    pub fn w_query(&self) -> &Linear {
        &self.w_query
    }

    /// The key projection.
    pub fn w_key(&self) -> &Linear {
        &self.w_key
    }

    /// The value projection.
    pub fn w_value(&self) -> &Linear {
        &self.w_value
    }

    /// The output projection, `d_out → d_out`, with bias.
    pub fn out_proj(&self) -> &Linear {
        &self.out_proj
    }

    /// The dropout on the attention weights.
    pub fn dropout(&self) -> &Dropout {
        &self.dropout
    }

    /// Number of heads.
    pub fn num_heads(&self) -> usize {
        self.num_heads
    }

    /// Width of one head, `d_out / num_heads`.
    pub fn head_dim(&self) -> usize {
        self.w_query.out_features() / self.num_heads
    }

    /// Input width.
    pub fn d_in(&self) -> usize {
        self.w_query.in_features()
    }

    /// Output width.
    pub fn d_out(&self) -> usize {
        self.w_query.out_features()
    }

    /// The longest input accepted (the size of PyTorch's mask buffer).
    pub fn context_length(&self) -> usize {
        self.context_length
    }

    /// Trainable parameters: three projections plus the output projection (PyTorch's mask buffer
    /// is not a parameter).
    pub fn num_parameters(&self) -> usize {
        [&self.w_query, &self.w_key, &self.w_value, &self.out_proj]
            .iter()
            .map(|l| l.num_parameters())
            .sum()
    }

    /// Evaluation mode (no dropout): `(tokens × d_out)` per batch item.
    ///
    /// # Errors
    ///
    /// [`Error::RaggedBatch`], [`Error::InputWidth`], [`Error::TooManyTokens`] (see
    /// [`check_batch`]).
    pub fn forward(&self, batch: &[DMatrix<f32>]) -> Result<Vec<DMatrix<f32>>, Error> {
        check_batch(
            "MultiHeadAttention",
            batch,
            self.d_in(),
            self.context_length(),
        )?;
        batch
            .iter()
            .map(|x| {
                let (weights_t, values) = self.heads_weights_t_and_values(x)?;
                self.merge(&weights_t, &values)
            })
            .collect()
    }

    /// Training mode: dropout on the attention weights, one mask over the whole
    /// `(batch, heads, tokens, tokens)` tensor in row-major order (item 0 head 0 first), drawn
    /// from `rng` where PyTorch draws it.
    ///
    /// # Errors
    ///
    /// As [`forward`](Self::forward).
    pub fn forward_train(
        &self,
        batch: &[DMatrix<f32>],
        rng: &mut TorchRng,
    ) -> Result<Vec<DMatrix<f32>>, Error> {
        check_batch(
            "MultiHeadAttention",
            batch,
            self.d_in(),
            self.context_length(),
        )?;
        let mut all_weights = Vec::with_capacity(batch.len() * self.num_heads);
        let mut all_values = Vec::with_capacity(batch.len());
        for x in batch {
            let (weights_t, values) = self.heads_weights_t_and_values(x)?;
            // The dropout mask is drawn in the row-major order of (queries × keys) weights, as
            // PyTorch lays them out: turn ours back before dropping.
            all_weights.extend(weights_t.iter().map(|w_t| w_t.transpose())); // (T, T) each
            all_values.push(values);
        }
        let dropped = self.dropout.forward_train_batch(&all_weights, rng); // (b·heads, T, T)
        dropped
            .chunks(self.num_heads)
            .zip(&all_values)
            .map(|(weights, values)| {
                let weights_t: PerHead = weights.iter().map(|w| w.transpose()).collect();
                self.merge(&weights_t, values)
            })
            .collect()
    }

    /// The attention weights of every head for one input: `num_heads` matrices of
    /// `(tokens × tokens)`, row `i` holding query `i`'s weights over the keys.
    ///
    /// # Errors
    ///
    /// As [`forward`](Self::forward), for a batch of one.
    pub fn heads_attn_weights(&self, x: &DMatrix<f32>) -> Result<Vec<DMatrix<f32>>, Error> {
        check_batch(
            "MultiHeadAttention",
            std::slice::from_ref(x),
            self.d_in(),
            self.context_length(),
        )?;
        let (weights_t, _) = self.heads_weights_t_and_values(x)?;
        Ok(weights_t.iter().map(|w_t| w_t.transpose()).collect())
    }

    /// Per head: the causal attention weights, stored **transposed** as `(keys × queries)`
    /// (see [`causal_softmax_columns`]); and the values of all heads, `(T × d_out)`.
    ///
    /// The book's `attn_scores = queries @ keys.transpose(2, 3)` is `(queries × keys)` with
    /// query `i` in row `i`. nalgebra stores matrices column by column, so a row is scattered
    /// through memory and a row-wise softmax over it is several times slower than a column-wise
    /// one. Computing `keys · queriesᵀ` instead gives the same numbers with query `i` in
    /// *column* `i`, contiguous.
    fn heads_weights_t_and_values(
        &self,
        x: &DMatrix<f32>,
    ) -> Result<(PerHead, DMatrix<f32>), Error> {
        let queries = self.project(&self.w_query, x)?; // (T, d_out)
        let keys = self.project(&self.w_key, x)?; // (T, d_out)
        let values = self.project(&self.w_value, x)?; // (T, d_out)
        // Heads are independent: with several threads, each takes whole heads.
        let weights_t = parallel_map(self.threads, 0..self.num_heads, |h| {
            // The book's view(b, T, heads, head_dim).transpose(1, 2): head h owns columns
            // h·head_dim .. (h+1)·head_dim. Copied out as owned (T, head_dim) matrices.
            let q_h = self.head_columns(&queries, h); // (T, head_dim)
            let k_h = self.head_columns(&keys, h); // (T, head_dim)
            let attn_scores_t = k_h * q_h.transpose(); // (T keys, T queries)
            causal_softmax_columns(attn_scores_t, self.head_dim()) // (T keys, T queries)
        });
        Ok((weights_t, values))
    }

    /// `layer.forward(x)`; with several threads, each computes a contiguous group of at least
    /// [`MIN_OUTPUTS_PER_THREAD`] of the layer's output features (see
    /// [`Linear::forward_outputs`]), and the groups are put side by side. (The callers have
    /// checked `x`'s width with [`check_batch`].)
    fn project(&self, layer: &Linear, x: &DMatrix<f32>) -> Result<DMatrix<f32>, Error> {
        let out = layer.out_features();
        let groups = output_groups(out, self.threads);
        if groups.len() <= 1 {
            return layer.forward(x);
        }
        let parts = parallel_map(self.threads, groups, |g| layer.forward_outputs(x, g));
        Ok(hstack(&parts.iter().collect::<Vec<_>>()))
    }

    /// Columns of head `h`, as an owned matrix.
    fn head_columns(&self, m: &DMatrix<f32>, h: usize) -> DMatrix<f32> {
        let d = self.head_dim();
        m.columns(h * d, d).into_owned()
    }

    /// Per head `attn_weights · values_h` `(T, head_dim)`, heads side by side `(T, d_out)`, then
    /// `out_proj`. With the weights stored transposed, each head's context vectors come out
    /// transposed too: `(weights · V_h)ᵀ = V_hᵀ · weightsᵀ`, one plain matrix product.
    fn merge(
        &self,
        weights_t: &[DMatrix<f32>],
        values: &DMatrix<f32>,
    ) -> Result<DMatrix<f32>, Error> {
        let d = self.head_dim();
        let per_head = parallel_map(self.threads, weights_t.iter().enumerate(), |(h, w_t)| {
            let v_h = self.head_columns(values, h); // (T, head_dim)
            v_h.transpose() * w_t // (head_dim, T)
        });
        let mut context_vecs = DMatrix::zeros(values.nrows(), self.d_out()); // (T, d_out)
        for (h, context_h_t) in per_head.iter().enumerate() {
            // torch.cat along the last dimension: head h fills columns h·head_dim ..
            context_vecs.columns_mut(h * d, d).tr_copy_from(context_h_t); // (T, head_dim)
        }
        self.project(&self.out_proj, &context_vecs) // (T, d_out)
    }
}

/// How [`MultiHeadAttention::project`] splits a layer's `out` output features over `threads`
/// threads: `n = min(threads, out / MIN_OUTPUTS_PER_THREAD)` contiguous groups of
/// `⌈out / n⌉` features (the last takes what is left), so a group is never narrower than
/// nalgebra's small-matrix loop; a single group, the whole layer, when `n` is 0 or 1.
fn output_groups(out: usize, threads: usize) -> Vec<Range<usize>> {
    let groups = threads.min(out / MIN_OUTPUTS_PER_THREAD).max(1);
    let per_group = out.div_ceil(groups);
    (0..out)
        .step_by(per_group.max(1))
        .map(|o| o..(o + per_group).min(out))
        .collect()
}

/// The masked, scaled softmax of sections 3.5 and 3.6 on scores stored transposed:
/// `attn_scores_t` is `(keys × queries)`, so column `i` holds query `i`'s scores, contiguous in
/// memory. The result has the same layout: column `i` is query `i`'s attention weights.
///
/// The arithmetic is the book's, element for element: `masked_fill(mask, -inf)` hides key `j`
/// from query `i` when `j > i` (the rows below the diagonal of this transposed layout), then
/// `softmax(scores / √d_k)` subtracts the largest visible score, exponentiates, adds the
/// exponentials from the first key to the last and divides. A hidden key's weight is
/// `exp(−∞) = 0` exactly and adding 0 changes no sum, so we write the zeros directly and spend
/// the exponentials on the visible keys only.
fn causal_softmax_columns(mut attn_scores_t: DMatrix<f32>, d_k: usize) -> DMatrix<f32> {
    let scale = (d_k as f32).sqrt();
    let keys = attn_scores_t.nrows();
    for (i, mut column) in attn_scores_t.column_iter_mut().enumerate() {
        let scores = column.as_mut_slice(); // query i against every key, (T)
        let (visible, future) = scores.split_at_mut((i + 1).min(keys));
        future.fill(0.0); // the causal mask: exp(-inf) = 0
        softmax_in_place(visible, scale);
    }
    attn_scores_t
}

/// `softmax(scores / scale)` in place, with the stable softmax's steps
/// ([`normalize::softmax`](crate::normalize::softmax)): scale, subtract the maximum,
/// exponentiate, add left to right, divide.
fn softmax_in_place(scores: &mut [f32], scale: f32) {
    scores.iter_mut().for_each(|s| *s /= scale);
    let max = max_of(scores);
    let mut total = 0.0_f32;
    for s in scores.iter_mut() {
        *s = (*s - max).exp();
        total += *s; // left to right, as the book's softmax adds a row
    }
    scores.iter_mut().for_each(|s| *s /= total);
}

/// The largest value of `xs` (`−∞` for an empty slice; NaNs are skipped).
///
/// Kept in 8 independent running maxima over interleaved elements, merged at the end: the
/// maximum does not depend on the order it is taken in, and 8 independent lanes written as a
/// plain comparison let the compiler use SIMD `max` instructions (`f32::max`'s NaN rules, or a
/// single chain of maxima, would keep it one number at a time).
fn max_of(xs: &[f32]) -> f32 {
    let larger = |a: f32, b: f32| if b > a { b } else { a };
    let mut lanes = [f32::NEG_INFINITY; 8];
    let chunks = xs.chunks_exact(8);
    let rest = chunks.remainder();
    for chunk in chunks {
        for (lane, x) in lanes.iter_mut().zip(chunk) {
            *lane = larger(*lane, *x);
        }
    }
    lanes
        .iter()
        .chain(rest)
        .copied()
        .fold(f32::NEG_INFINITY, larger)
}

/// The fixed `(1, 2, 3, 4)` tensor of section 3.6.2's batched-product demo (cell \[138\]):
/// one batch item, two heads, three tokens, head_dim 4. Literal values, no randomness.
pub fn head_scores_demo_input() -> Vec<Vec<DMatrix<f32>>> {
    let head_0 = DMatrix::from_row_slice(
        3,
        4,
        &[
            0.2745, 0.6584, 0.2775, 0.8573, //
            0.8993, 0.0390, 0.9268, 0.7388, //
            0.7179, 0.7058, 0.9156, 0.4340,
        ],
    );
    let head_1 = DMatrix::from_row_slice(
        3,
        4,
        &[
            0.0772, 0.3565, 0.1479, 0.5331, //
            0.4066, 0.2318, 0.4545, 0.9737, //
            0.4606, 0.5159, 0.4220, 0.5786,
        ],
    );
    vec![vec![head_0, head_1]]
}

/// `a @ a.transpose(2, 3)` for a `(batch, heads, tokens, head_dim)` tensor: every head's
/// `(tokens × tokens)` score matrix in one call, as the weight-split class computes them.
pub fn batched_head_scores(a: &[Vec<DMatrix<f32>>]) -> Vec<Vec<DMatrix<f32>>> {
    a.iter()
        .map(|heads| heads.iter().map(|h| h * h.transpose()).collect())
        .collect()
}

fn check_config(
    d_in: usize,
    d_out: usize,
    context_length: usize,
    dropout: f64,
    num_heads: usize,
) -> Result<(), Error> {
    Dropout::new(dropout)?;
    check_nonzero(&[
        ("d_in", d_in),
        ("d_out", d_out),
        ("context_length", context_length),
    ])?;
    if num_heads == 0 {
        return Err(Error::ZeroHeads);
    }
    if d_out % num_heads != 0 {
        return Err(Error::HeadsDoNotDivide { d_out, num_heads });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One group below twice [`MIN_OUTPUTS_PER_THREAD`] features; otherwise as many as the
    /// threads allow, equal but for the last, covering every feature once.
    #[test]
    fn output_groups_split_only_wide_layers() {
        assert_eq!(output_groups(0, 4), Vec::<Range<usize>>::new());
        assert_eq!(output_groups(2, 8), vec![0..2]);
        assert_eq!(output_groups(100, 2), vec![0..100]);
        assert_eq!(output_groups(127, 2), vec![0..127]);
        assert_eq!(output_groups(128, 1), vec![0..128]);
        assert_eq!(output_groups(128, 2), vec![0..64, 64..128]);
        assert_eq!(output_groups(200, 8), vec![0..67, 67..134, 134..200]);
        assert_eq!(output_groups(768, 2), vec![0..384, 384..768]);
    }
}
