//! The per-head kernel: one head's queries, keys and values in packed copies, computed tile by
//! tile in micro-tiles that live in registers. (The projections' matrix product is in `gemm.rs`.)

use nalgebra::DMatrix;

use super::online_softmax::{OnlineSoftmax, ScoreScale};
use super::schedule::{by_width, micro_tiles, num_blocks, real_query_groups};
use super::simd::{MulAdd, Simd, SimdLevel, with_simd};

/// Queries handled together: two 8-wide SIMD registers' worth. Blocks are rounded up to a
/// multiple of it.
pub(super) const LANES: usize = 16;

/// One thread's working memory for one head: `O(tokens · head_dim + block · head_dim)`
/// numbers, reused for every head the thread computes. Tokens are padded with zeros to a whole
/// number of blocks; a padded key comes after every real query, so the causal mask already hides
/// it, and padded queries are computed but never stored.
pub(super) struct HeadScratch {
    tokens: usize,
    head_dim: usize,
    block: usize,
    /// Division by `√head_dim`, the scaled dot product's divisor.
    scale: ScoreScale,
    /// `(LANES, head_dim · padded / LANES)`, "packed": queries `16g .. 16g + 16` occupy
    /// columns `g · head_dim ..`, column `g · head_dim + c` holding their feature `c`. A
    /// micro-tile reads it front to back.
    queries: DMatrix<f32>,
    /// `(head_dim, padded)`: column `j` is key `j`.
    keys_t: DMatrix<f32>,
    /// `(head_dim, padded)`: column `j` is value `j`.
    values_t: DMatrix<f32>,
    /// `(LANES, block)`: one group of queries against the keys of one block: scores, then
    /// weights `exp(score − m)`. Column `j` is key `j` against the 16 queries.
    scores: DMatrix<f32>,
    /// `(block, head_dim)`: the partial outputs of the current query block, row `q` for query
    /// `q`.
    out: DMatrix<f32>,
    /// Running `m` and `ℓ` of each query of the current block.
    softmax: OnlineSoftmax,
}

impl HeadScratch {
    pub(super) fn new(tokens: usize, head_dim: usize, block: usize) -> HeadScratch {
        let padded = num_blocks(tokens, block) * block;
        HeadScratch {
            tokens,
            head_dim,
            block,
            scale: ScoreScale::new((head_dim as f32).sqrt()),
            queries: zeroed(LANES, head_dim * padded / LANES),
            keys_t: zeroed(head_dim, padded),
            values_t: zeroed(head_dim, padded),
            scores: DMatrix::zeros(LANES, block),
            out: DMatrix::zeros(block, head_dim),
            softmax: OnlineSoftmax::new(block),
        }
    }

    /// One head: `q_and_context`, `k`, `v` are `(T × head_dim)` column-major. The context
    /// vectors replace the queries. Uses the kernels of `level`.
    pub(super) fn attend(
        &mut self,
        level: SimdLevel,
        q_and_context: &mut [f32],
        k: &[f32],
        v: &[f32],
    ) {
        with_simd!(level, |simd| self.attend_with(simd, q_and_context, k, v));
    }

    pub(super) fn attend_with(
        &mut self,
        simd: impl Simd,
        q_and_context: &mut [f32],
        k: &[f32],
        v: &[f32],
    ) {
        self.load(q_and_context, k, v);
        self.run(simd, |scratch, query_block| {
            scratch.store(query_block, q_and_context, None);
        });
    }

    /// One head of the training forward pass ([`EfficientMha::forward_tape`](super::EfficientMha::forward_tape)):
    /// as [`attend`](Self::attend), but the queries stay as they are (the backward pass reads
    /// them), the context vectors go to `context` (`(T × head_dim)`, column-major), and each
    /// query's log-sum-exp `m + ln ℓ` of its scaled scores to `lse` (`T` numbers).
    pub(super) fn attend_saving(
        &mut self,
        level: SimdLevel,
        q: &[f32],
        k: &[f32],
        v: &[f32],
        context: &mut [f32],
        lse: &mut [f32],
    ) {
        self.load(q, k, v);
        with_simd!(level, |simd| self.run(simd, |scratch, query_block| {
            scratch.store(query_block, context, Some(&mut *lse));
        }));
    }

    /// The tiles of one loaded head, query block by query block; `store` takes each finished
    /// block.
    fn run(&mut self, simd: impl Simd, mut store: impl FnMut(&Self, usize)) {
        for query_block in 0..num_blocks(self.tokens, self.block) {
            self.softmax.reset();
            self.out.fill(0.0);
            let groups = real_query_groups(self.tokens, query_block, self.block);
            for key_block in 0..=query_block {
                // Key blocks after the query block are skipped: every key there is in the future.
                for group in 0..groups {
                    self.tile_group(simd, query_block, key_block, group);
                }
            }
            store(self, query_block);
        }
    }

    /// Copies one head's queries, keys and values into the layouts above. The padding stays
    /// zero.
    fn load(&mut self, q: &[f32], k: &[f32], v: &[f32]) {
        let (t, d) = (self.tokens, self.head_dim);
        let queries = self.queries.as_mut_slice().chunks_exact_mut(d * LANES);
        let keys_t = self.keys_t.as_mut_slice().chunks_exact_mut(d * LANES);
        let values_t = self.values_t.as_mut_slice().chunks_exact_mut(d * LANES);
        // 16 tokens at a time, so the few cache lines being written stay in the L1 cache while
        // the features go by (feature-major across all tokens would sweep the whole destination
        // once per feature).
        let groups = queries.zip(keys_t).zip(values_t).take(t.div_ceil(LANES)); // not the padding
        for (g, ((q_g, k_g), v_g)) in groups.enumerate() {
            let (first, n) = (g * LANES, LANES.min(t - g * LANES));
            for c in 0..d {
                let feature = c * t + first..c * t + first + n; // feature c of the 16 tokens
                q_g[c * LANES..c * LANES + n].copy_from_slice(&q[feature.clone()]);
                for (j, (k_j, v_j)) in k[feature.clone()].iter().zip(&v[feature]).enumerate() {
                    k_g[j * d + c] = *k_j; // key first + j, feature c
                    v_g[j * d + c] = *v_j;
                }
            }
        }
    }

    /// One group of 16 queries of the query block against one key block: their scores, the
    /// online-softmax update, and the weighted values added to their partial outputs.
    fn tile_group(&mut self, simd: impl Simd, query_block: usize, key_block: usize, group: usize) {
        let (b, d) = (self.block, self.head_dim);
        let diagonal = key_block == query_block;
        let first = group * LANES; // the group's first query, counted within the block
        // On the diagonal tile the group sees the keys up to its last query; the rest of the
        // tile is hidden and not computed at all.
        let keys = if diagonal { first + LANES } else { b };
        let first_key = key_block * b;
        // 1. Scores q · k, (16 × keys), in micro-tiles of 16 queries × 6 keys.
        let query_group = query_block * b / LANES + group; // counted from token 0
        let queries = &self.queries.as_slice()[query_group * d * LANES..][..d * LANES];
        let keys_t = &self.keys_t.as_slice()[first_key * d..][..keys * d];
        let scores = &mut self.scores.as_mut_slice()[..keys * LANES];
        for (j, width) in micro_tiles(keys) {
            let keys_j = &keys_t[j * d..][..width * d];
            let scores_j = &mut scores[j * LANES..][..width * LANES];
            by_width!(width, |C| simd
                .score_microtile::<C>(queries, keys_j, d, scores_j));
        }
        // 2. The causal mask, on the diagonal only: key `j ≥ first` is hidden from the group's
        //    queries before it (`masked_fill(mask, -inf)`, as the book does). Not the textbook's
        //    `causal::causal_attn_weights`: that one masks a whole (T × T) matrix, which this
        //    kernel never builds.
        if diagonal {
            for (hidden, key) in scores.chunks_exact_mut(LANES).skip(first).enumerate() {
                key[..hidden].fill(f32::NEG_INFINITY);
            }
        }
        // 3. Online softmax: scores → exp(score − m), and each query's m, ℓ and rescale.
        simd.fold(&mut self.softmax, first, scores, self.scale);
        // 4. out = out · rescale + weights · V, in micro-tiles of 16 queries × 6 features.
        let values_t = &self.values_t.as_slice()[first_key * d..][..keys * d];
        let rescale: &[f32; LANES] = self.softmax.rescale[first..first + LANES]
            .try_into()
            .expect("a group has LANES queries");
        let out = self.out.as_mut_slice();
        for (c, width) in micro_tiles(d) {
            let out_c = &mut out[c * b..][..width * b]; // features c .. c + width
            by_width!(width, |C| {
                simd.value_microtile::<C>(scores, &values_t[c..], d, rescale, out_c, first)
            });
        }
    }

    /// Divides the finished query block's outputs by their sums and writes the real (not
    /// padded) queries' context vectors into `context` (`(T × head_dim)`, column-major), and, if
    /// asked, their log-sum-exp `m + ln ℓ` into `lse` (`T` numbers).
    fn store(&self, query_block: usize, context: &mut [f32], lse: Option<&mut [f32]>) {
        let t = self.tokens;
        let i0 = query_block * self.block;
        let n = self.block.min(t - i0);
        for (c, feature) in self.out.as_slice().chunks_exact(self.block).enumerate() {
            let column = &mut context[c * t + i0..c * t + i0 + n];
            for ((dst, o), sum) in column.iter_mut().zip(feature).zip(&self.softmax.sum) {
                *dst = o / sum;
            }
        }
        if let Some(lse) = lse {
            let stats = self.softmax.max.iter().zip(&self.softmax.sum);
            for (dst, (m, sum)) in lse[i0..i0 + n].iter_mut().zip(stats) {
                *dst = m + sum.ln();
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The micro-kernels, and the instruction set they run with.
// ---------------------------------------------------------------------------------------------

/// Scores of 16 queries against `C` keys: `scores[.., k] = Σ_c queries[c][..] · key_k[c]`.
///
/// `queries` is a packed `(16 × d)` block (feature `c` of the 16 queries at `c · 16 ..`); key `k`
/// is `keys[k · key_stride ..][..d]`; `scores` is `(16 × C)` column-major. Each score is added
/// from feature 0 up, as nalgebra's matrix product (matrixmultiply) adds it. `C · 16 / 8`
/// accumulators: 12 SIMD registers for `C = 6` (AVX2 has 16; AVX-512 holds the 16 queries in one
/// register, so 6).
#[inline(always)]
pub(super) fn score_microtile<M: MulAdd, const C: usize>(
    queries: &[f32],
    keys: &[f32],
    key_stride: usize,
    scores: &mut [f32],
) {
    let d = queries.len() / LANES;
    let keys: [&[f32]; C] = std::array::from_fn(|k| &keys[k * key_stride..][..d]);
    let mut acc = [[0.0_f32; LANES]; C];
    for c in 0..d {
        let q_c = &queries[c * LANES..(c + 1) * LANES]; // feature c of the 16 queries
        for (acc_k, key) in acc.iter_mut().zip(&keys) {
            let k_c = key[c];
            for (a, q) in acc_k.iter_mut().zip(q_c) {
                *a = M::mul_add(*q, k_c, *a);
            }
        }
    }
    for (dst, acc_k) in scores.chunks_exact_mut(LANES).zip(&acc) {
        dst.copy_from_slice(acc_k);
    }
}

/// `out[first.., ..C] = out · rescale + Σ_j weights[.., j] · value_j[c..c+C]`, for 16 queries
/// and `C` features, over every key of `weights` (`(16 × keys)` column-major).
///
/// `values_from_c` is the keys' values one after another (`head_dim` numbers each), starting at
/// feature `c` of the first; `out` holds the `C` feature columns of the `(block × head_dim)`
/// partial outputs. The rescale costs one multiplication per output here, where the outputs are
/// touched anyway.
#[inline(always)]
pub(super) fn value_microtile<M: MulAdd, const C: usize>(
    weights: &[f32],
    values_from_c: &[f32],
    head_dim: usize,
    rescale: &[f32; LANES],
    out: &mut [f32],
    first: usize,
) {
    let b = out.len() / C;
    let mut acc = [[0.0_f32; LANES]; C];
    for (w_j, value_j) in weights
        .chunks_exact(LANES)
        .zip(values_from_c.chunks(head_dim))
    {
        // w_j: key j's weights for the 16 queries; value_j[..C]: features c.. of its value.
        for (acc_k, v) in acc.iter_mut().zip(&value_j[..C]) {
            for (a, w) in acc_k.iter_mut().zip(w_j) {
                *a = M::mul_add(*w, *v, *a);
            }
        }
    }
    for (out_k, acc_k) in out.chunks_exact_mut(b).zip(&acc) {
        for ((o, r), a) in out_k[first..first + LANES]
            .iter_mut()
            .zip(rescale)
            .zip(acc_k)
        {
            *o = *o * r + a; // the old output referred to the new maximum, plus this block
        }
    }
}

/// A `(rows × cols)` matrix of zeros, allocated as zeroed memory (`calloc`). For large sizes the
/// operating system hands out pages that are already zero, and nothing is written until the
/// kernels write their results, on whichever thread computes them. (`DMatrix::zeros` writes
/// every zero first, on one thread: 37 MB for GPT-2's Q, K and V at 4096 tokens.)
pub(super) fn zeroed(rows: usize, cols: usize) -> DMatrix<f32> {
    DMatrix::from_vec(rows, cols, vec![0.0; rows * cols])
}
