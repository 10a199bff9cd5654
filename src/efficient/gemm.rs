//! The projections' matrix product, `x · Wᵀ (+ b)`: packed, blocked, and computed in micro-tiles
//! that live in registers (the GotoBLAS scheme, as BLIS describes it).
//!
//! - The **weights** never change, so they are packed once, when the module is built
//!   ([`PackedWeights`]): in panels of `NR` outputs, feature by feature, so a micro-tile reads its
//!   weights front to back, `NR` at a time.
//! - The **inputs** of a job's tokens are packed once per job and per block of [`FEATURE_BLOCK`]
//!   features, in slivers of `MR` tokens (feature `c` of the sliver's tokens side by side): that
//!   block stays in the L2 cache while every output panel goes by, and each panel's weights are
//!   read once per sliver, from the nearest cache.
//! - The **micro-tile** (`MR` tokens × `NR` outputs) adds one feature at a time into `MR · NR`
//!   accumulators held in SIMD registers: `MR / lanes` vector loads and `NR` broadcasts per
//!   `MR · NR / lanes` multiply-adds. Each instruction-set level picks the largest tile its
//!   registers hold ([`super::simd::Simd::project`]).
//!
//! Every output is the sum of its products added from feature 0 up, one multiply-add at a time,
//! whatever the blocking: a tile leaves its partial sums in the output between feature blocks and
//! takes them up again. The bias is added last, as `Linear` adds it. So the result does not
//! depend on the block sizes or on the number of threads.

use nalgebra::DMatrix;

use super::simd::MulAdd;

/// Tokens per job: each job packs its tokens' inputs and computes their rows of every output.
/// A multiple of every level's `MR`.
pub(super) const TOKEN_BLOCK: usize = 128;

/// The most tokens of any level's micro-tile (AVX-512's): the packed inputs are a whole number
/// of slivers of it.
pub(super) const MAX_TILE_TOKENS: usize = 32;

/// Features per packed block: 128 tokens × 768 features is 384 KiB of inputs (the L2 cache),
/// and one panel of 12 outputs × 768 features 36 KiB of weights. GPT-2's 768 features in one
/// block measured 10 % faster than two blocks of 384 (the partial sums go to memory and back
/// between blocks).
pub(super) const FEATURE_BLOCK: usize = 768;

/// A `(d_in × n)` weight matrix `Wᵀ` (column `o`: the weights of output `o`) packed for
/// micro-tiles of `nr` outputs: panel `p` holds outputs `p · nr ..`, feature by feature, each
/// feature's `nr` weights side by side (zeros past the last output).
#[derive(Debug, Clone)]
pub(super) struct PackedWeights {
    d_in: usize,
    outputs: usize,
    nr: usize,
    data: Vec<f32>,
}

impl PackedWeights {
    pub(super) fn new(w_t: &DMatrix<f32>, nr: usize) -> PackedWeights {
        let (d_in, outputs) = w_t.shape();
        PackedWeights::stacked(&[w_t.as_slice()], d_in, outputs, nr)
    }

    /// `items` (each `(rows × outputs)`, column-major) stacked one above the other, packed as a
    /// `(items · rows × outputs)` matrix `Wᵀ`: how the backward pass multiplies by a batch's
    /// inputs or gradients, summing over every token of every item.
    pub(super) fn stacked(
        items: &[&[f32]],
        rows: usize,
        outputs: usize,
        nr: usize,
    ) -> PackedWeights {
        let d_in = items.len() * rows;
        let mut data = vec![0.0; outputs.div_ceil(nr) * d_in * nr];
        for o in 0..outputs {
            let panel = &mut data[o / nr * d_in * nr..][..d_in * nr];
            for (b, item) in items.iter().enumerate() {
                let column = &item[o * rows..(o + 1) * rows]; // output o's weights
                for (c, w) in column.iter().enumerate() {
                    panel[(b * rows + c) * nr + o % nr] = *w;
                }
            }
        }
        PackedWeights {
            d_in,
            outputs,
            nr,
            data,
        }
    }

    /// The same weights packed for micro-tiles of `nr` outputs.
    pub(super) fn repacked(&self, nr: usize) -> PackedWeights {
        PackedWeights::new(&self.unpacked(), nr)
    }

    /// `Wᵀ` again, `(d_in × n)`.
    pub(super) fn unpacked(&self) -> DMatrix<f32> {
        DMatrix::from_fn(self.d_in, self.outputs, |c, o| {
            self.data[o / self.nr * self.d_in * self.nr + c * self.nr + o % self.nr]
        })
    }

    pub(super) fn d_in(&self) -> usize {
        self.d_in
    }

    pub(super) fn outputs(&self) -> usize {
        self.outputs
    }

    pub(super) fn nr(&self) -> usize {
        self.nr
    }
}

/// One job of [`super::EfficientMha::project_all`]: rows `t0 ..` of `x · Wᵀ (+ bias)` for one
/// batch item.
pub(super) struct ProjectionJob<'a> {
    /// The item's inputs, `(T × d_in)` column-major.
    pub(super) x: &'a [f32],
    /// The job's first token.
    pub(super) t0: usize,
    pub(super) weights: &'a PackedWeights,
    pub(super) bias: Option<&'a [f32]>,
    /// `out_rows[o]`: output `o` of the job's tokens (up to [`TOKEN_BLOCK`]), overwritten: what
    /// it holds on entry is never read.
    pub(super) out_rows: Vec<&'a mut [f32]>,
}

/// The length of a thread's `packed` scratch for [`project_block`] (jobs of up to [`TOKEN_BLOCK`]
/// of `tokens` tokens, `d_in` features): the job's tokens rounded up to [`MAX_TILE_TOKENS`], times
/// [`FEATURE_BLOCK`] features (or `d_in`, if fewer).
pub(super) fn packed_len(tokens: usize, d_in: usize) -> usize {
    TOKEN_BLOCK.min(tokens).next_multiple_of(MAX_TILE_TOKENS) * FEATURE_BLOCK.min(d_in)
}

/// [`ProjectionJob`] with micro-tiles of `MR` tokens × `NR` outputs, `tile` being the level's
/// micro-kernel: it adds the products of one packed sliver of inputs (`(features × MR)`) and one
/// packed panel of weights (`(features × NR)`) into the accumulators it is handed. `packed` is
/// the thread's scratch, [`packed_len`] numbers.
pub(super) fn project_block<const MR: usize, const NR: usize>(
    job: ProjectionJob<'_>,
    packed: &mut [f32],
    mut tile: impl FnMut(&[f32], &[f32], &mut [[f32; MR]; NR]),
) {
    let ProjectionJob {
        x,
        t0,
        weights,
        bias,
        mut out_rows,
    } = job;
    assert_eq!(weights.nr, NR, "weights packed for another micro-tile");
    let d_in = weights.d_in;
    let tokens = x.len() / d_in;
    let block_tokens = out_rows.first().map_or(0, |rows| rows.len());
    let slivers = block_tokens.div_ceil(MR);
    for f0 in (0..d_in).step_by(FEATURE_BLOCK) {
        let features = FEATURE_BLOCK.min(d_in - f0);
        let last_block = f0 + features == d_in;
        // Pack: sliver s holds feature f0 + c of tokens t0 + s·MR .. at (s · features + c) · MR;
        // zeros past the last token.
        for (s, sliver) in packed
            .chunks_exact_mut(features * MR)
            .take(slivers)
            .enumerate()
        {
            let first = t0 + s * MR;
            let n = MR.min(t0 + block_tokens - first);
            for (c, dst) in sliver.chunks_exact_mut(MR).enumerate() {
                let src = &x[(f0 + c) * tokens + first..];
                copy_prefix::<MR>(dst, src, n);
            }
        }
        let panels = weights.data.chunks_exact(d_in * NR);
        for (p, panel) in panels.enumerate() {
            let panel = &panel[f0 * NR..][..features * NR];
            let o0 = p * NR;
            let outputs = &mut out_rows[o0..weights.outputs.min(o0 + NR)];
            for (s, sliver) in packed.chunks_exact(features * MR).take(slivers).enumerate() {
                let r0 = s * MR;
                let n = MR.min(block_tokens - r0);
                // The partial sums of the features before this block (none before the first: the
                // outputs are not read then, so a fresh output's first touch is the write below.
                // A read first maps the kernel's shared zero page, which the write then replaces
                // on every core the process runs on: on two threads, projecting 4096 tokens took
                // as long as on one).
                let mut acc = [[0.0_f32; MR]; NR];
                if f0 > 0 {
                    for (a, rows) in acc.iter_mut().zip(outputs.iter()) {
                        copy_prefix::<MR>(a, &rows[r0..], n);
                    }
                }
                tile(sliver, panel, &mut acc);
                for (j, (a, rows)) in acc.iter().zip(outputs.iter_mut()).enumerate() {
                    let dst = &mut rows[r0..r0 + n];
                    match bias {
                        // The bias after the whole product, as `Linear` adds it.
                        Some(b) if last_block => {
                            let b_o = b[o0 + j];
                            dst.iter_mut().zip(a).for_each(|(d, v)| *d = v + b_o);
                        }
                        _ if n == MR => dst.copy_from_slice(a), // a fixed-size copy
                        _ => dst.copy_from_slice(&a[..n]),
                    }
                }
            }
        }
    }
}

/// `dst[..n] = src[..n]`, zeros after: a sliver of `MR` tokens of which `n` are real. A whole
/// sliver is a fixed-size copy (a few vector moves); `copy_from_slice` of a length known only at
/// run time would call `memcpy` for every sliver, a measurable share of a projection's time.
#[inline(always)]
fn copy_prefix<const MR: usize>(dst: &mut [f32], src: &[f32], n: usize) {
    if n == MR {
        let dst: &mut [f32; MR] = dst.try_into().expect("a sliver of MR tokens");
        *dst = src[..MR].try_into().expect("MR tokens");
    } else {
        dst[..n].copy_from_slice(&src[..n]);
        dst[n..].fill(0.0);
    }
}

/// The micro-kernel: `acc[j][i] += Σ_c sliver[c][i] · panel[c][j]`, feature `c` from 0 up, for
/// `MR` tokens `i` and `NR` outputs `j`. Written as plain loops over arrays whose sizes are
/// compile-time constants, so that each level's copy (compiled for its instruction set, in
/// `simd.rs`) is unrolled completely and keeps the accumulators in registers.
#[inline(always)]
pub(super) fn gemm_microtile<M: MulAdd, const MR: usize, const NR: usize>(
    sliver: &[f32],
    panel: &[f32],
    acc: &mut [[f32; MR]; NR],
) {
    let mut sums = *acc;
    for (x_c, w_c) in sliver.chunks_exact(MR).zip(panel.chunks_exact(NR)) {
        for (sums_j, w) in sums.iter_mut().zip(w_c) {
            for (s, x) in sums_j.iter_mut().zip(x_c) {
                *s = M::mul_add(*x, *w, *s);
            }
        }
    }
    *acc = sums;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::efficient::attention_f64::{Bounded, linear};
    use crate::efficient::simd::{Simd, with_simd};
    use crate::efficient::{EfficientMha, SimdLevel};
    use nalgebra::DVector;

    /// At every level this CPU can run (forced), the projections' product and nalgebra's (the
    /// textbook's `Linear`) are both within `γ_{d_in + 1} · (Σ|x · w| + |b|)` of the `f64`
    /// result (step 1 of `tests/support/attention_f64.rs`; the bound holds for any order of the
    /// additions, fused or not). The shapes go through partial token slivers and jobs (1, 5, 17,
    /// 130 and 300 tokens against slivers of 8, 16 and 32 and jobs of 128), partial output panels
    /// (1, 7, 13 and 31 outputs against panels of 6 and 12), one feature, and several feature
    /// blocks (800, 1000 and 1600 features against blocks of 768, the last one partial).
    #[test]
    fn projection_is_within_the_bound_of_the_f64_product_at_every_level() {
        let mut rng = crate::TorchRng::manual_seed(42);
        let cases = [
            (1, 3, 1),
            (5, 1, 7),
            (6, 6, 6),
            (17, 300, 13),
            (130, 520, 31),
            (64, 768, 12),
            (300, 800, 25),
            (33, 1000, 24),
            (40, 1600, 5),
        ];
        let levels = SimdLevel::available();
        for (tokens, d_in, n) in cases {
            let x = rng.uniform(tokens, d_in, -1.0, 1.0);
            let weight = rng.uniform(n, d_in, -1.0, 1.0); // (out × in), as `Linear` stores it
            let bias = DVector::from_fn(n, |i, _| i as f32 * 0.25 - 1.0);
            let want = linear(&Bounded::exact(&x), &weight, Some(&bias));
            let mut textbook = &x * weight.transpose();
            for (mut column, b) in textbook.column_iter_mut().zip(bias.iter()) {
                column.add_scalar_mut(*b);
            }
            assert!(
                want.ratio(&textbook) <= 1.0,
                "nalgebra ({tokens}, {d_in}, {n})"
            );
            let mha = crate::MultiHeadAttention::new(1, 2, 1, 0.0, 1, false, &mut rng).unwrap();
            for &level in &levels {
                let fast = EfficientMha::from_textbook(&mha)
                    .with_threads(2)
                    .and_then(|m| m.with_simd_level(level))
                    .unwrap();
                let w_t = PackedWeights::new(&weight.transpose(), fast.w_out_t.nr());
                let got = fast.project_all(&[x.as_slice()], tokens, &w_t, Some(&bias));
                let ratio = want.ratio(&got[0]);
                assert!(ratio <= 1.0, "{level} ({tokens}, {d_in}, {n}): {ratio}");
                // Without a bias: the product alone.
                let want = linear(&Bounded::exact(&x), &weight, None);
                let got = fast.project_all(&[x.as_slice()], tokens, &w_t, None);
                let ratio = want.ratio(&got[0]);
                assert!(
                    ratio <= 1.0,
                    "{level}, no bias ({tokens}, {d_in}, {n}): {ratio}"
                );
            }
        }
    }

    /// A job overwrites its outputs: what they hold on entry is never read, at any level, with
    /// one feature block or several (the second block takes up the first's partial sums).
    #[test]
    fn a_job_overwrites_its_outputs() {
        let mut rng = crate::TorchRng::manual_seed(11);
        let mha = crate::MultiHeadAttention::new(1, 2, 1, 0.0, 1, false, &mut rng).unwrap();
        for (tokens, d_in, n) in [(40, 1000, 13), (33, 64, 7)] {
            let x = rng.uniform(tokens, d_in, -1.0, 1.0);
            let w_t = rng.uniform(d_in, n, -1.0, 1.0);
            for level in SimdLevel::available() {
                let fast = EfficientMha::from_textbook(&mha)
                    .with_simd_level(level)
                    .unwrap();
                let w_t = PackedWeights::new(&w_t, fast.w_out_t.nr());
                let want = fast.project_all(&[x.as_slice()], tokens, &w_t, None);
                let mut out = DMatrix::from_element(tokens, n, f32::NAN);
                let job = ProjectionJob {
                    x: x.as_slice(),
                    t0: 0,
                    weights: &w_t,
                    bias: None,
                    out_rows: out.as_mut_slice().chunks_mut(tokens).collect(),
                };
                let mut packed = vec![0.0; packed_len(tokens, d_in)];
                with_simd!(level, |simd| simd.project(job, &mut packed));
                assert_eq!(out, want[0], "{level} ({tokens}, {d_in}, {n})");
            }
        }
    }

    /// Packing is a pure change of layout: unpacking gives the weights back, for panels that
    /// divide the outputs and panels that do not.
    #[test]
    fn packed_weights_unpack_to_the_weights() {
        let w_t = DMatrix::from_fn(5, 7, |c, o| (c * 7 + o) as f32);
        for nr in [1, 6, 7, 12] {
            let packed = PackedWeights::new(&w_t, nr);
            assert_eq!((packed.d_in(), packed.outputs(), packed.nr()), (5, 7, nr));
            assert_eq!(packed.unpacked(), w_t);
            assert_eq!(packed.repacked(3).unpacked(), w_t);
            assert_eq!(packed.data.len(), 7_usize.div_ceil(nr) * nr * 5);
        }
    }
}
