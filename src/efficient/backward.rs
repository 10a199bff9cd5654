//! The backward pass of one head, FlashAttention-2's way: the attention weights are recomputed
//! tile by tile from the queries, the keys and each query's log-sum-exp (kept by the training
//! forward pass), used at once and forgotten, so nothing of size `tokens × tokens` is ever held.
//!
//! For one head with scaled scores `s_ij = q_i · k_j / √d_h` (key `j ≤ i` only), weights
//! `p_ij = exp(s_ij − L_i)` (`L_i = m_i + ln ℓ_i`, the forward pass's log-sum-exp), context
//! vectors `o_i = Σ_j p_ij v_j` and their gradient `∂o_i` (written `dO` below):
//!
//! ```text
//! D_i    = ∂o_i · o_i                     one number per query (= Σ_j p_ij (∂o_i · v_j))
//! ∂p_ij  = ∂o_i · v_j
//! ∂s_ij  = p_ij (∂p_ij − D_i) / √d_h      the softmax's backward, per entry
//! ∂v_j   = Σ_{i ≥ j} p_ij ∂o_i
//! ∂k_j   = Σ_{i ≥ j} ∂s_ij q_i
//! ∂q_i   = Σ_{j ≤ i} ∂s_ij k_j
//! ```
//!
//! The loop runs over groups of 16 keys (the SIMD lanes): for each, the queries from the group's
//! first key on stream by in chunks, and the group's `∂k` and `∂v` add up in registers while
//! `∂q` of the chunk's queries is updated in memory. Queries before the group's first key would
//! see all 16 keys masked: those tiles are skipped, as the forward pass skips its future blocks.

use super::kernel::LANES;
use super::online_softmax::{ScoreScale, fast_exp_with};
use super::schedule::{by_width, micro_tiles};
use super::simd::{MulAdd, Simd, SimdLevel, with_simd};

/// Queries per chunk: the chunk's weights and score gradients (16 keys × 128 queries, 8 KiB
/// each) stay in the L1 cache while the micro-tiles go over them.
const QUERY_CHUNK: usize = 128;

/// `1` for every lane: the value micro-kernel's rescale, which the backward pass does not need.
const ONES: [f32; LANES] = [1.0; LANES];

/// One head's inputs to the backward pass, each `(T × head_dim)` column-major (as the heads sit
/// in the forward pass's `qkv` and context), and the queries' log-sum-exp.
pub(super) struct HeadInputs<'a> {
    pub(super) queries: &'a [f32],
    pub(super) keys: &'a [f32],
    pub(super) values: &'a [f32],
    /// The head's context vectors `o`, as the forward pass returned them.
    pub(super) context: &'a [f32],
    /// `∂L/∂o`, the head's columns of the context's gradient.
    pub(super) d_context: &'a [f32],
    /// `L_i = m_i + ln ℓ_i`, `T` numbers.
    pub(super) lse: &'a [f32],
}

/// One head's outputs, each `(T × head_dim)` column-major: where `∂q`, `∂k`, `∂v` go (the
/// head's columns of the gradient of `qkv`).
pub(super) struct HeadGrads<'a> {
    pub(super) queries: &'a mut [f32],
    pub(super) keys: &'a mut [f32],
    pub(super) values: &'a mut [f32],
}

/// One thread's working memory for the backward pass of one head, `O(tokens · head_dim)`,
/// reused for every head the thread computes.
pub(super) struct BackwardScratch {
    tokens: usize,
    head_dim: usize,
    /// `tokens` rounded up to a multiple of 16: the padded keys are zeros, masked like any key
    /// after the query.
    padded: usize,
    /// `head_dim` rounded up to a multiple of 16, the row length of `keys_rows` and
    /// `d_queries` (zeros past `head_dim`).
    head_dim_padded: usize,
    scale: ScoreScale,
    /// Keys packed in groups of 16: feature `c` of keys `16g ..` at `(g · head_dim + c) · 16`.
    keys_packed: Vec<f32>,
    /// Values, packed the same way.
    values_packed: Vec<f32>,
    /// Query `i`'s features at `i · head_dim ..`.
    queries_rows: Vec<f32>,
    /// `∂o_i` at `i · head_dim ..`.
    d_context_rows: Vec<f32>,
    /// Key `j`'s features at `j · head_dim_padded ..`.
    keys_rows: Vec<f32>,
    /// `D_i` per query.
    delta: Vec<f32>,
    /// `(16 × chunk)`, column-major: the group's scores against the chunk's queries, then the
    /// weights `p`.
    weights: Vec<f32>,
    /// `(16 × chunk)`: `∂p`, then `∂s`.
    d_scores: Vec<f32>,
    /// `(padded × head_dim)` column-major.
    d_keys: Vec<f32>,
    d_values: Vec<f32>,
    /// Query `i`'s gradient at `i · head_dim_padded ..`.
    d_queries: Vec<f32>,
}

impl BackwardScratch {
    pub(super) fn new(tokens: usize, head_dim: usize) -> BackwardScratch {
        let padded = tokens.next_multiple_of(LANES);
        let head_dim_padded = head_dim.next_multiple_of(LANES);
        BackwardScratch {
            tokens,
            head_dim,
            padded,
            head_dim_padded,
            scale: ScoreScale::new((head_dim as f32).sqrt()),
            keys_packed: vec![0.0; padded * head_dim],
            values_packed: vec![0.0; padded * head_dim],
            queries_rows: vec![0.0; tokens * head_dim],
            d_context_rows: vec![0.0; tokens * head_dim],
            keys_rows: vec![0.0; padded * head_dim_padded],
            delta: vec![0.0; tokens],
            weights: vec![0.0; LANES * QUERY_CHUNK],
            d_scores: vec![0.0; LANES * QUERY_CHUNK],
            d_keys: vec![0.0; padded * head_dim],
            d_values: vec![0.0; padded * head_dim],
            d_queries: vec![0.0; tokens * head_dim_padded],
        }
    }

    /// One head's backward pass with the kernels of `level`.
    pub(super) fn head(&mut self, level: SimdLevel, inputs: &HeadInputs, grads: HeadGrads) {
        self.load(inputs);
        with_simd!(level, |simd| {
            simd.row_dots(inputs.context, inputs.d_context, &mut self.delta);
            self.run(simd, inputs.lse);
        });
        self.store(grads, inputs);
    }

    /// Copies the head into the layouts above, computes `D`, and zeros the accumulators.
    fn load(&mut self, h: &HeadInputs) {
        let (t, d, dp) = (self.tokens, self.head_dim, self.head_dim_padded);
        for c in 0..d {
            let column = c * t..(c + 1) * t; // feature c of every token
            for (i, ((q, k), (v, g))) in h.queries[column.clone()]
                .iter()
                .zip(&h.keys[column.clone()])
                .zip(h.values[column.clone()].iter().zip(&h.d_context[column]))
                .enumerate()
            {
                self.queries_rows[i * d + c] = *q;
                self.d_context_rows[i * d + c] = *g;
                self.keys_rows[i * dp + c] = *k;
                let packed = (i / LANES * d + c) * LANES + i % LANES;
                self.keys_packed[packed] = *k;
                self.values_packed[packed] = *v;
            }
        }
        self.d_keys.fill(0.0);
        self.d_values.fill(0.0);
        self.d_queries.fill(0.0);
    }

    /// Every group of 16 keys against the queries from its first key on.
    fn run(&mut self, simd: impl Simd, lse: &[f32]) {
        let (t, d, dp) = (self.tokens, self.head_dim, self.head_dim_padded);
        for group in 0..self.padded / LANES {
            let k0 = group * LANES; // the group's first key
            let keys = &self.keys_packed[k0 * d..][..LANES * d];
            let values = &self.values_packed[k0 * d..][..LANES * d];
            let keys_rows = &self.keys_rows[k0 * dp..][..LANES * dp];
            // Queries before k0 see none of the group's keys: skipped.
            for q0 in (k0..t).step_by(QUERY_CHUNK) {
                let n = QUERY_CHUNK.min(t - q0);
                let weights = &mut self.weights[..LANES * n];
                let d_scores = &mut self.d_scores[..LANES * n];
                // 1. Scores k · q and ∂p = v · ∂o, (16 keys × n queries), micro-tile by micro-tile.
                for (j, width) in micro_tiles(n) {
                    let tile = LANES * j..LANES * (j + width);
                    let rows = (q0 + j) * d..;
                    by_width!(width, |C| simd.score_microtile::<C>(
                        keys,
                        &self.queries_rows[rows.clone()],
                        d,
                        &mut weights[tile.clone()],
                    ));
                    by_width!(width, |C| simd.score_microtile::<C>(
                        values,
                        &self.d_context_rows[rows],
                        d,
                        &mut d_scores[tile],
                    ));
                }
                // 2. p = exp(s − L), ∂s = p (∂p − D) / √d_h.
                simd.softmax_grad(
                    weights,
                    d_scores,
                    &lse[q0..q0 + n],
                    &self.delta[q0..q0 + n],
                    self.scale,
                );
                // 3. The causal mask, in the group's own 16 queries only: key k0 + k is hidden
                //    from query k0 + j < k0 + k. Its weight and its score's gradient are 0,
                //    exactly (what the textbook's softmax gives it, and its mask's backward).
                if q0 == k0 {
                    let own = weights
                        .chunks_exact_mut(LANES)
                        .zip(d_scores.chunks_exact_mut(LANES));
                    for (j, (w, g)) in own.enumerate().take(LANES) {
                        w[j + 1..].fill(0.0);
                        g[j + 1..].fill(0.0);
                    }
                }
                // 4. ∂v_j += Σ p_ij ∂o_i and ∂k_j += Σ ∂s_ij q_i over the chunk's queries, in
                //    micro-tiles of 16 keys × 6 features.
                let rows = q0 * d..(q0 + n) * d;
                for (c, width) in micro_tiles(d) {
                    let columns = c * self.padded..(c + width) * self.padded;
                    let (g_rows, q_rows) = (
                        &self.d_context_rows[rows.start + c..rows.end],
                        &self.queries_rows[rows.start + c..rows.end],
                    );
                    by_width!(width, |C| simd.value_microtile::<C>(
                        weights,
                        g_rows,
                        d,
                        &ONES,
                        &mut self.d_values[columns.clone()],
                        k0,
                    ));
                    by_width!(width, |C| simd.value_microtile::<C>(
                        d_scores,
                        q_rows,
                        d,
                        &ONES,
                        &mut self.d_keys[columns],
                        k0,
                    ));
                }
                // 5. ∂q_i += Σ_j ∂s_ij k_j, in micro-tiles of 6 queries × 16 features.
                for (j, width) in micro_tiles(n) {
                    let d_queries = &mut self.d_queries[(q0 + j) * dp..][..width * dp];
                    by_width!(width, |R| simd.query_grad_microtile::<R>(
                        &d_scores[LANES * j..LANES * (j + width)],
                        keys_rows,
                        dp,
                        d_queries,
                    ));
                }
            }
        }
    }

    /// Writes the gradients in the head's column-major layout, then the NaNs of the textbook's
    /// skipped products ([`masked_products_poison`]).
    fn store(&self, grads: HeadGrads, h: &HeadInputs) {
        let (t, d, dp) = (self.tokens, self.head_dim, self.head_dim_padded);
        for c in 0..d {
            let column = c * t..(c + 1) * t;
            for (i, dst) in grads.queries[column.clone()].iter_mut().enumerate() {
                *dst = self.d_queries[i * dp + c];
            }
            grads.keys[column.clone()].copy_from_slice(&self.d_keys[c * self.padded..][..t]);
            grads.values[column].copy_from_slice(&self.d_values[c * self.padded..][..t]);
        }
        masked_products_poison(h.d_context, grads.values, t);
    }
}

/// What the textbook's backward computes for hidden (query, key) pairs and this kernel skips.
/// The textbook multiplies whole `(T × T)` matrices whose hidden entries are exactly 0, and
/// `0 · NaN` and `0 · ∞` are NaN; the kernel never visits those entries (that is the point), so
/// the NaNs they would give are written here, as the forward pass's `hidden_values_poison` does
/// for its values. `∂v = pᵀ · ∂o`: `∂v_jc` reads `∂o_ic` of every query `i`, the hidden ones
/// (`i < j`) with weight 0, so it is NaN for every key after the first query whose `∂o_ic` is
/// not finite. A finite gradient costs one scan.
///
/// The textbook's other products with hidden entries give nothing to write:
/// - `∂o · vᵀ`, inside the softmax's backward, reaches the gradients through `D_i`, which reads
///   the context vectors, already NaN where a hidden value is not finite (the forward pass);
/// - `∂sᵀ · q` and `∂s · k` would be NaN where a query or a key is not finite; but a non-finite
///   query or key comes from a non-finite input, weight or bias, which makes every score it
///   touches NaN, hence every context vector (a NaN score, or the forward pass's NaN values), every
///   `D_i`, and every gradient here, NaN already.
fn masked_products_poison(d_context: &[f32], d_values: &mut [f32], t: usize) {
    for (d_o, d_v) in d_context.chunks_exact(t).zip(d_values.chunks_exact_mut(t)) {
        if let Some(first) = d_o.iter().position(|g| !g.is_finite()) {
            d_v[first + 1..].fill(f32::NAN);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The backward pass's own micro-kernels (the scores and the sums over queries reuse the
// forward pass's `score_microtile` and `value_microtile`).
// ---------------------------------------------------------------------------------------------

/// `D_i = ∂o_i · o_i` for every token `i`: `context` and `d_context` are `(T × head_dim)`
/// column-major, `delta` has `T` entries. Feature by feature from feature 0, with the same
/// multiply-adds as the scores' micro-kernel, so that where `o_i = v_i` exactly (the first
/// token, which sees only itself) `D_i` and `∂p_ii = ∂o_i · v_i` are the same number and the
/// score's gradient `p (∂p − D)` is exactly 0, as the textbook's is.
#[inline(always)]
pub(super) fn row_dots<M: MulAdd>(context: &[f32], d_context: &[f32], delta: &mut [f32]) {
    let t = delta.len();
    delta.fill(0.0);
    for (o, g) in context.chunks_exact(t).zip(d_context.chunks_exact(t)) {
        for ((dst, o), g) in delta.iter_mut().zip(o).zip(g) {
            *dst = M::mul_add(*o, *g, *dst);
        }
    }
}

/// Per entry of a `(16 keys × n queries)` tile (column-major, one query's 16 keys side by side):
/// the raw score `s` becomes the weight `p = exp(s / √d_h − L_i)`, and `∂p` becomes
/// `∂s = p (∂p − D_i) / √d_h`.
#[inline(always)]
pub(super) fn softmax_grad<M: MulAdd>(
    weights: &mut [f32],
    d_scores: &mut [f32],
    lse: &[f32],
    delta: &[f32],
    scale: ScoreScale,
) {
    let columns = weights
        .chunks_exact_mut(LANES)
        .zip(d_scores.chunks_exact_mut(LANES));
    for ((w_i, g_i), (l, dd)) in columns.zip(lse.iter().zip(delta)) {
        for (w, g) in w_i.iter_mut().zip(g_i) {
            let p = fast_exp_with::<M>(scale.apply(*w) - l);
            *w = p;
            *g = scale.apply(p * (*g - dd));
        }
    }
}

/// `∂q_r += Σ_k ∂s[r][k] · key_k` for `R` queries: `d_scores` holds the `R` queries' 16 score
/// gradients one query after the other (`(16 × R)`, column-major), `keys` the group's 16 keys
/// one after the other (`stride` numbers each, a multiple of 16), `d_queries` the `R` queries'
/// gradients, `stride` each. Sixteen features at a time, in `R` accumulators.
#[inline(always)]
pub(super) fn query_grad_microtile<M: MulAdd, const R: usize>(
    d_scores: &[f32],
    keys: &[f32],
    stride: usize,
    d_queries: &mut [f32],
) {
    let d_s: [&[f32]; R] = std::array::from_fn(|r| &d_scores[r * LANES..][..LANES]);
    for c0 in (0..stride).step_by(LANES) {
        let mut acc = [[0.0_f32; LANES]; R];
        for (k, key) in keys.chunks_exact(stride).enumerate() {
            let key: &[f32; LANES] = key[c0..c0 + LANES].try_into().expect("16 features");
            for (acc_r, d_s_r) in acc.iter_mut().zip(&d_s) {
                let g = d_s_r[k];
                for (a, x) in acc_r.iter_mut().zip(key) {
                    *a = M::mul_add(g, *x, *a);
                }
            }
        }
        for (row, acc_r) in d_queries.chunks_exact_mut(stride).zip(&acc) {
            for (dst, a) in row[c0..c0 + LANES].iter_mut().zip(acc_r) {
                *dst += a;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feature by feature, every key after the first non-finite `∂o` gets NaN; the keys up to it
    /// keep what the kernel computed (for that key itself the query is visible, and its product
    /// is the textbook's own, `p · ∞`).
    #[test]
    fn the_values_after_the_first_non_finite_gradient_become_nan() {
        let t = 5;
        // Feature 0: ∞ at token 2; feature 1: finite; feature 2: NaN at tokens 0 and 3.
        let mut d_context = vec![0.5_f32; 3 * t];
        d_context[2] = f32::INFINITY;
        d_context[2 * t] = f32::NAN;
        d_context[2 * t + 3] = f32::NAN;
        let mut d_values = vec![1.0_f32; 3 * t];
        masked_products_poison(&d_context, &mut d_values, t);
        let nan = |range: std::ops::Range<usize>| d_values[range].iter().all(|v| v.is_nan());
        assert!(d_values[..3].iter().all(|v| *v == 1.0));
        assert!(nan(3..5));
        assert!(d_values[t..2 * t].iter().all(|v| *v == 1.0));
        assert_eq!(d_values[2 * t], 1.0);
        assert!(nan(2 * t + 1..3 * t));
    }
}
