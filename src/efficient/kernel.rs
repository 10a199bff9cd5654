//! The per-head kernel: one head's queries, keys and values in packed copies, computed tile by
//! tile in micro-tiles that live in registers; and the projections' matrix product, built from
//! the same micro-kernel.

use nalgebra::{DMatrix, DVector};

use super::online_softmax::{OnlineSoftmax, ScoreScale};
use super::schedule::{micro_tiles, num_blocks, real_query_groups};
use super::simd::{MulAdd, Simd, with_best_simd};

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
    /// vectors replace the queries. Uses the widest instructions the CPU has.
    pub(super) fn attend(&mut self, q_and_context: &mut [f32], k: &[f32], v: &[f32]) {
        with_best_simd!(|simd| self.attend_with(simd, q_and_context, k, v));
    }

    pub(super) fn attend_with(
        &mut self,
        simd: impl Simd,
        q_and_context: &mut [f32],
        k: &[f32],
        v: &[f32],
    ) {
        self.load(q_and_context, k, v);
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
            self.store(query_block, q_and_context);
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
            simd.score_tile(width, queries, keys_j, d, scores_j);
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
            simd.value_tile(width, scores, &values_t[c..], d, rescale, out_c, first);
        }
    }

    /// Divides the finished query block's outputs by their sums and writes the real (not
    /// padded) queries' context vectors into `context` (`(T × head_dim)`, column-major).
    fn store(&self, query_block: usize, context: &mut [f32]) {
        let t = self.tokens;
        let i0 = query_block * self.block;
        let n = self.block.min(t - i0);
        for (c, feature) in self.out.as_slice().chunks_exact(self.block).enumerate() {
            let column = &mut context[c * t + i0..c * t + i0 + n];
            for ((dst, o), sum) in column.iter_mut().zip(feature).zip(&self.softmax.sum) {
                *dst = o / sum;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The projections: a matrix product built from the same micro-kernel.
// ---------------------------------------------------------------------------------------------

/// Tokens whose packed inputs are reused for every output column: 128 tokens × 768 features is
/// 384 KiB, which stays in the L2 cache.
pub(super) const TOKEN_BLOCK: usize = 128;

/// Rows `t0 ..` of `x · w_t (+ bias)`: `x` is `(T × d_in)`, `w_t` `(d_in × n)` (column `o` is
/// the weights of output `o`), both column-major; `out_rows[o]` receives output `o` of the
/// block's tokens (up to 128). `packed` is the thread's scratch for the block's inputs.
///
/// A classic blocked matrix product: the block's inputs are packed in groups of 16 tokens
/// (feature by feature, like the attention's queries), and stay in the L2 cache; then for each
/// group of 6 outputs, whose weights stay in the L1 cache, the score micro-kernel computes 16
/// tokens × 6 outputs over all `d_in` features in registers, and writes each output once.
pub(super) fn project_block(
    simd: impl Simd,
    x: &[f32],
    t0: usize,
    w_t: &DMatrix<f32>,
    bias: Option<&DVector<f32>>,
    packed: &mut [f32],
    out_rows: &mut [&mut [f32]],
) {
    let d_in = w_t.nrows();
    let tokens = x.len() / d_in;
    let block_tokens = out_rows.first().map_or(0, |rows| rows.len());
    // Pack: group g holds feature c of tokens t0 + 16g .. at (g · d_in + c) · 16; zeros past
    // the last token. Feature by feature, so `x` is read front to back.
    for c in 0..d_in {
        let column = &x[c * tokens + t0..][..block_tokens];
        for (g, part) in column.chunks(LANES).enumerate() {
            let dst = &mut packed[(g * d_in + c) * LANES..][..LANES];
            dst.iter_mut().zip(part).for_each(|(d, v)| *d = *v);
            dst[part.len()..].fill(0.0);
        }
    }
    let groups = block_tokens.div_ceil(LANES);
    let weights = w_t.as_slice();
    let mut sums = [0.0_f32; 6 * LANES];
    for (o, width) in micro_tiles(out_rows.len()) {
        let w = &weights[o * d_in..]; // from output o's weights on
        for (g, group) in packed.chunks_exact(d_in * LANES).take(groups).enumerate() {
            let sums = &mut sums[..width * LANES];
            simd.score_tile(width, group, w, d_in, sums); // (16 tokens × width outputs)
            for (rows, column_sums) in out_rows[o..o + width]
                .iter_mut()
                .zip(sums.chunks_exact(LANES))
            {
                let dst = &mut rows[g * LANES..];
                dst.iter_mut().zip(column_sums).for_each(|(d, s)| *d = *s);
            }
        }
    }
    if let Some(b) = bias {
        for (rows, b_o) in out_rows.iter_mut().zip(b.iter()) {
            rows.iter_mut().for_each(|v| *v += b_o); // as `Linear` adds it, after the product
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
/// accumulators: 12 SIMD registers for `C = 6` (AVX2 has 16). The projections use it too, with
/// tokens for queries and weight rows for keys.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::efficient::EfficientMha;
    use crate::efficient::attention_f64::{Bounded, linear};

    /// The projections' product and nalgebra's (the textbook's `Linear`) are both within
    /// `γ_{d_in + 1} · (Σ|x · w| + |b|)` of the `f64` result (step 1 of
    /// `tests/support/attention_f64.rs`), through partial token groups, partial output groups,
    /// long rows (768 features) and the tiny shapes nalgebra computes with a plain loop.
    #[test]
    fn projection_is_within_the_bound_of_the_f64_product() {
        let mut rng = crate::TorchRng::manual_seed(42);
        let cases = [
            (1, 3, 1),
            (5, 2, 7),
            (6, 6, 6),
            (17, 300, 13),
            (130, 520, 31),
            (64, 768, 12),
        ];
        for (tokens, d_in, n) in cases {
            let x = rng.uniform(tokens, d_in, -1.0, 1.0);
            let weight = rng.uniform(n, d_in, -1.0, 1.0); // (out × in), as `Linear` stores it
            let bias = DVector::from_fn(n, |i, _| i as f32 * 0.25 - 1.0);
            let want = linear(&Bounded::exact(&x), &weight, Some(&bias));
            let mut textbook = &x * weight.transpose();
            for (mut column, b) in textbook.column_iter_mut().zip(bias.iter()) {
                column.add_scalar_mut(*b);
            }
            let mha = crate::MultiHeadAttention::new(1, 2, 1, 0.0, 1, false, &mut rng).unwrap();
            let fast = EfficientMha::from_textbook(&mha).with_threads(2).unwrap();
            let w_t = weight.transpose();
            let efficient = fast.project_all(&[x.as_slice()], tokens, &w_t, Some(&bias));
            for (name, got) in [("efficient", &efficient[0]), ("nalgebra", &textbook)] {
                let ratio = want.ratio(got);
                assert!(ratio <= 1.0, "{name} ({tokens}, {d_in}, {n}): {ratio}");
            }
        }
    }
}
