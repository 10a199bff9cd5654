//! The machinery last: the instruction-set levels the kernels are compiled for, how the widest
//! one the CPU has is picked at run time, and the two kinds of multiply-add. All of the
//! module's `unsafe` is in this file: calling a `#[target_feature]` function, sound only on a
//! CPU that has the feature, which each call below argues in its `// SAFETY:` comment.

use super::backward::{query_grad_microtile, row_dots, softmax_grad};
use super::decode::{HeadDecode, decode_head, project_row};
use super::gemm::{ProjectionJob, gemm_microtile, project_block};
use super::kernel::{LANES, score_microtile, value_microtile};
use super::online_softmax::{OnlineSoftmax, ScoreScale};

/// Calls `$call` with the widest instruction-set level the CPU has that is not wider than
/// `$level` (a [`SimdLevel`]): AVX-512, then AVX2 + FMA, then AVX + FMA, then AVX, then the
/// portable code. `$simd` names the level inside `$call`. The levels round differently (fused
/// multiply-adds or not); the tests hold each of them to the same error bound against an `f64`
/// reference.
macro_rules! with_simd {
    ($level:expr, |$simd:ident| $call:expr) => {{
        #[allow(unused_variables)] // only x86-64 has levels to choose from
        let level: $crate::efficient::SimdLevel = $level;
        #[cfg(target_arch = "x86_64")]
        {
            use $crate::efficient::SimdLevel;
            use $crate::efficient::simd::{Avx, Avx2Fma, Avx512, AvxFma, Portable};
            if let Some($simd) = Avx512::detect().filter(|_| level >= SimdLevel::Avx512) {
                $call
            } else if let Some($simd) = Avx2Fma::detect().filter(|_| level >= SimdLevel::Avx2Fma) {
                $call
            } else if let Some($simd) = AvxFma::detect().filter(|_| level >= SimdLevel::AvxFma) {
                $call
            } else if let Some($simd) = Avx::detect().filter(|_| level >= SimdLevel::Avx) {
                $call
            } else {
                let $simd = Portable;
                $call
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let $simd = $crate::efficient::simd::Portable;
            $call
        }
    }};
}
pub(super) use with_simd;

/// An instruction-set level of the efficient kernels, from the baseline up. Each is a copy of
/// the same Rust kernels compiled for those instructions; [`EfficientMha`](super::EfficientMha)
/// runs the widest one the CPU has ([`SimdLevel::best`]) unless
/// [`with_simd_level`](super::EfficientMha::with_simd_level) asks for a narrower one.
///
/// ```
/// use ch03_attention::efficient::SimdLevel;
/// let best = SimdLevel::best();
/// assert!(best.is_available());
/// assert_eq!(SimdLevel::available()[0], best); // widest first
/// assert_eq!(SimdLevel::available().last(), Some(&SimdLevel::Portable));
/// assert_eq!(SimdLevel::Avx2Fma.to_string(), "AVX2+FMA");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SimdLevel {
    /// Baseline code: SSE2 on x86-64 (4 numbers per instruction), whatever the target
    /// guarantees elsewhere.
    Portable,
    /// AVX alone: 8 numbers per instruction, multiply and add rounded separately.
    Avx,
    /// AVX and FMA without AVX2: 8 numbers per instruction, fused multiply-adds.
    AvxFma,
    /// AVX2 and FMA: 8 numbers per instruction, fused multiply-adds.
    Avx2Fma,
    /// AVX-512 (F, BW, DQ, VL) with AVX2 and FMA: 16 numbers per instruction, 32 vector
    /// registers.
    Avx512,
}

impl SimdLevel {
    /// Every level, narrowest first.
    pub const ALL: [SimdLevel; 5] = [
        SimdLevel::Portable,
        SimdLevel::Avx,
        SimdLevel::AvxFma,
        SimdLevel::Avx2Fma,
        SimdLevel::Avx512,
    ];

    /// Whether this CPU can run the level (the portable one always).
    pub fn is_available(self) -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            match self {
                SimdLevel::Portable => true,
                SimdLevel::Avx => Avx::detect().is_some(),
                SimdLevel::AvxFma => AvxFma::detect().is_some(),
                SimdLevel::Avx2Fma => Avx2Fma::detect().is_some(),
                SimdLevel::Avx512 => Avx512::detect().is_some(),
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            self == SimdLevel::Portable
        }
    }

    /// The levels this CPU can run, widest first (the portable one last).
    pub fn available() -> Vec<SimdLevel> {
        SimdLevel::ALL
            .into_iter()
            .rev()
            .filter(|level| level.is_available())
            .collect()
    }

    /// The widest level this CPU can run.
    pub fn best() -> SimdLevel {
        SimdLevel::available()[0]
    }
}

impl std::fmt::Display for SimdLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SimdLevel::Portable => "portable",
            SimdLevel::Avx => "AVX",
            SimdLevel::AvxFma => "AVX+FMA",
            SimdLevel::Avx2Fma => "AVX2+FMA",
            SimdLevel::Avx512 => "AVX-512",
        })
    }
}

/// How a micro-kernel multiplies and adds: with one rounding (a fused multiply-add, FMA) or
/// two. Fused wherever the CPU has the instruction: half the instructions, and one rounding
/// instead of two.
pub(super) trait MulAdd {
    /// `a · b + c`.
    fn mul_add(a: f32, b: f32, c: f32) -> f32;
}

/// `a · b + c` with one rounding. Only used inside functions compiled with the `fma` feature,
/// where it is one instruction (elsewhere it would be a slow library call).
pub(super) struct Fused;

impl MulAdd for Fused {
    #[inline(always)]
    fn mul_add(a: f32, b: f32, c: f32) -> f32 {
        a.mul_add(b, c)
    }
}

/// `a · b + c` with two roundings.
pub(super) struct Separate;

impl MulAdd for Separate {
    #[inline(always)]
    fn mul_add(a: f32, b: f32, c: f32) -> f32 {
        a * b + c
    }
}

/// What the portable kernels use: fused on ARM64, where every CPU has the instruction and
/// matrixmultiply uses it; separate elsewhere (baseline x86-64 has no FMA).
#[cfg(target_arch = "aarch64")]
type PortableMulAdd = Fused;
#[cfg(not(target_arch = "aarch64"))]
type PortableMulAdd = Separate;

/// `softmax.fold` as a free function, so that it is listed in [`with_kernels!`] like the others.
#[inline(always)]
fn fold<M: MulAdd>(
    softmax: &mut OnlineSoftmax,
    first: usize,
    scores: &mut [f32],
    scale: ScoreScale,
) {
    softmax.fold::<LANES, M>(first, scores, scale);
}

/// The kernels every level has, each written once here: `$apply` gets this list and writes what
/// it is for ([`Simd`]'s methods, the portable level's, an x86-64 level's). Each entry names a
/// generic kernel of this module, `kernel::<M>` (`kernel::<M, C>` with a width), and its
/// arguments.
macro_rules! with_kernels {
    ($apply:ident ! ($($args:tt)*)) => {
        $apply!(($($args)*)
            /// `C` queries' scores against one group of 16 keys (see
            /// [`score_microtile`](super::kernel::score_microtile)).
            fn score_microtile<const C: usize>(queries: &[f32], keys: &[f32], key_stride: usize, scores: &mut [f32]);
            /// The weighted values of one group of keys, added to `C` feature columns of the
            /// partial outputs (see [`value_microtile`](super::kernel::value_microtile)).
            fn value_microtile<const C: usize>(weights: &[f32], values_from_c: &[f32], head_dim: usize, rescale: &[f32; LANES], out: &mut [f32], first: usize);
            /// The online softmax's update with one tile of scores (see
            /// [`OnlineSoftmax::fold`](super::online_softmax::OnlineSoftmax::fold)).
            fn fold(softmax: &mut OnlineSoftmax, first: usize, scores: &mut [f32], scale: ScoreScale);
            /// One row times weights packed 16 outputs per group (the decoder's projections).
            fn project_row(packed: &[f32], x: &[f32], out: &mut [f32]);
            /// One head of a decoding step (the decoder's attention).
            fn decode_head(head: &HeadDecode, scores: &mut [f32], partial: &mut [f32], softmax: &mut OnlineSoftmax, out: &mut [f32]);
            /// `D_i = ∂o_i · o_i` for every token (see [`row_dots`](super::backward::row_dots)).
            fn row_dots(context: &[f32], d_context: &[f32], delta: &mut [f32]);
            /// The backward pass's weights and score gradients of one tile (see
            /// [`softmax_grad`](super::backward::softmax_grad)).
            fn softmax_grad(weights: &mut [f32], d_scores: &mut [f32], lse: &[f32], delta: &[f32], scale: ScoreScale);
            /// `R` queries' gradients from one group of keys (see
            /// [`query_grad_microtile`](super::backward::query_grad_microtile)).
            fn query_grad_microtile<const R: usize>(d_scores: &[f32], keys: &[f32], stride: usize, d_queries: &mut [f32]);
        );
    };
}

/// [`Simd`]'s methods for the kernels of [`with_kernels!`].
macro_rules! kernel_methods {
    (() $($(#[$doc:meta])* fn $name:ident $(<const $g:ident: usize>)? ($($arg:ident: $ty:ty),*);)*) => {
        $($(#[$doc])* fn $name $(<const $g: usize>)? (self, $($arg: $ty),*);)*
    };
}

/// The portable level's kernels: the generic ones with [`PortableMulAdd`].
macro_rules! portable_kernels {
    (() $($(#[$doc:meta])* fn $name:ident $(<const $g:ident: usize>)? ($($arg:ident: $ty:ty),*);)*) => {
        $(fn $name $(<const $g: usize>)? (self, $($arg: $ty),*) {
            $name::<PortableMulAdd $(, $g)?>($($arg),*);
        })*
    };
}

/// The instruction set the micro-kernels and the softmax update are compiled for.
///
/// Each is a small standalone function, so the compiler optimizes it on its own: it unrolls the
/// micro-tile's loops completely and keeps the accumulators in SIMD registers (inside one big
/// function, that depends on the size of everything around it).
pub(super) trait Simd: Copy {
    /// The level this is.
    #[cfg(test)]
    const LEVEL: SimdLevel;
    /// Outputs per micro-tile of the projections (`NR`): the weights are packed for it.
    const PROJECTION_OUTPUTS: usize;

    /// One job of the projections, in this level's micro-tiles (see
    /// [`project_block`](super::gemm::project_block)).
    fn project(self, job: ProjectionJob<'_>, packed: &mut [f32]);

    with_kernels!(kernel_methods!());
}

/// Baseline code: SSE2 on x86-64 (4 numbers per instruction), whatever the target guarantees
/// elsewhere.
#[derive(Debug, Clone, Copy)]
pub(super) struct Portable;

impl Simd for Portable {
    #[cfg(test)]
    const LEVEL: SimdLevel = SimdLevel::Portable;
    const PROJECTION_OUTPUTS: usize = 6;

    /// 8 tokens × 6 outputs: 12 accumulators of 4 numbers (SSE2 has 16 registers).
    fn project(self, job: ProjectionJob<'_>, packed: &mut [f32]) {
        project_block::<8, 6>(job, packed, gemm_microtile::<PortableMulAdd, 8, 6>);
    }

    with_kernels!(portable_kernels!());
}

/// An x86-64 level's methods for the kernels of [`with_kernels!`]: each calls the level's copy,
/// compiled for its features.
#[cfg(target_arch = "x86_64")]
macro_rules! level_kernels {
    (($module:ident) $($(#[$doc:meta])* fn $name:ident $(<const $g:ident: usize>)? ($($arg:ident: $ty:ty),*);)*) => {
        $(fn $name $(<const $g: usize>)? (self, $($arg: $ty),*) {
            // SAFETY: `$module::$name` is compiled with the level's features, so it may only
            // run on a CPU that has them. `self` proves this one does: the level's field is
            // private to this file, where the only constructor is `detect`, which returns a
            // value only after `is_x86_feature_detected!` has seen every one of them.
            unsafe { $module::$name $(::<$g>)? ($($arg),*) }
        })*
    };
}

/// An x86-64 level's copies of the kernels of [`with_kernels!`]: the generic kernels with the
/// level's multiply-add, compiled for its features.
#[cfg(target_arch = "x86_64")]
macro_rules! compiled_kernels {
    (($features:literal, $mul_add:ident) $($(#[$doc:meta])* fn $name:ident $(<const $g:ident: usize>)? ($($arg:ident: $ty:ty),*);)*) => {
        $(#[target_feature(enable = $features)]
        pub(super) fn $name $(<const $g: usize>)? ($($arg: $ty),*) {
            super::$name::<$mul_add $(, $g)?>($($arg),*);
        })*
    };
}

/// Defines one x86-64 instruction-set level for the kernels: a zero-sized type whose value
/// exists only once `detect` has seen the CPU features (which is what makes calling its
/// `#[target_feature]` functions sound), and a module with the portable Rust kernels compiled
/// for those features.
#[cfg(target_arch = "x86_64")]
macro_rules! simd_level {
    (
        $(#[$doc:meta])* $level:ident, $module:ident, $features:literal, $mul_add:ident,
        tile: $mr:literal x $nr:literal, detect: $($detected:tt),+
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub(super) struct $level(());

        impl $level {
            pub(super) fn detect() -> Option<$level> {
                ($(std::arch::is_x86_feature_detected!($detected))&&+).then_some($level(()))
            }
        }

        impl Simd for $level {
            #[cfg(test)]
            const LEVEL: SimdLevel = SimdLevel::$level;
            const PROJECTION_OUTPUTS: usize = $nr;

            fn project(self, job: ProjectionJob<'_>, packed: &mut [f32]) {
                project_block::<$mr, $nr>(job, packed, |sliver, panel, acc| {
                    // SAFETY: `$module::gemm_microtile` is compiled with `$features`; `self`
                    // exists only once `detect` has seen them all on this CPU (the field is
                    // private to this file, `detect` its only constructor).
                    unsafe { $module::gemm_microtile(sliver, panel, acc) }
                });
            }

            with_kernels!(level_kernels!($module));
        }

        /// The same Rust code as the portable kernels, compiled for this level's features.
        mod $module {
            use super::{$mul_add, HeadDecode, LANES, OnlineSoftmax, ScoreScale};

            #[target_feature(enable = $features)]
            pub(super) fn gemm_microtile(
                sliver: &[f32],
                panel: &[f32],
                acc: &mut [[f32; $mr]; $nr],
            ) {
                super::gemm_microtile::<$mul_add, $mr, $nr>(sliver, panel, acc);
            }

            with_kernels!(compiled_kernels!($features, $mul_add));
        }
    };
}

#[cfg(target_arch = "x86_64")]
simd_level!(
    /// AVX2 and FMA (x86-64 CPUs since 2013): 8 numbers per instruction, fused multiply-adds,
    /// and 8-wide integer operations for the exponential's `2ᵏ`.
    /// The projections' micro-tile: 16 tokens × 6 outputs, 12 accumulators of 8 numbers (of 16
    /// registers).
    Avx2Fma, avx2_fma, "avx2,fma", Fused, tile: 16 x 6, detect: "avx2", "fma"
);

#[cfg(target_arch = "x86_64")]
simd_level!(
    /// AVX-512 (F, BW, DQ, VL) with AVX2 and FMA (x86-64 server CPUs since 2017, AMD's since
    /// Zen 4): 16 numbers per instruction, so one register holds a group's 16 queries, and 32
    /// vector registers. The projections' micro-tile: 32 tokens × 12 outputs, 24 accumulators of
    /// 16 numbers.
    Avx512, avx512, "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma", Fused, tile: 32 x 12,
    detect: "avx512f", "avx512bw", "avx512dq", "avx512vl", "avx2", "fma"
);

#[cfg(target_arch = "x86_64")]
simd_level!(
    /// AVX and FMA without AVX2 (some virtual CPUs report these): 8 numbers per instruction,
    /// fused multiply-adds.
    AvxFma, avx_fma, "avx,fma", Fused, tile: 16 x 6, detect: "avx", "fma"
);

#[cfg(target_arch = "x86_64")]
simd_level!(
    /// AVX alone (the first AVX CPUs, 2011): 8 numbers per instruction, multiply and add
    /// rounded separately.
    Avx, avx, "avx", Separate, tile: 16 x 6, detect: "avx"
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::efficient::attention_f64::{Bounded, causal_head};
    use crate::efficient::kernel::HeadScratch;
    use nalgebra::DMatrix;

    /// One head through the kernels of `level` (the dispatch of the forward pass).
    fn attend(
        level: SimdLevel,
        q: &DMatrix<f32>,
        k: &DMatrix<f32>,
        v: &DMatrix<f32>,
        block: usize,
    ) -> DMatrix<f32> {
        let (tokens, head_dim) = q.shape();
        let mut out = q.as_slice().to_vec();
        HeadScratch::new(tokens, head_dim, block).attend(
            level,
            &mut out,
            k.as_slice(),
            v.as_slice(),
        );
        DMatrix::from_vec(tokens, head_dim, out)
    }

    /// The portable kernels (what a CPU without AVX runs) and every x86-64 level this CPU has,
    /// each forced, are each within the error bound of the `f64` result (steps 2 to 4 of
    /// `tests/support/attention_f64.rs`, with exact queries, keys and values), for every
    /// micro-tile width: heads of 1 to 13 features, partial blocks, the diagonal.
    #[test]
    fn every_level_is_within_the_bound_of_the_f64_result() {
        let mut rng = crate::TorchRng::manual_seed(9);
        for (tokens, head_dim, block) in [(1, 1, 16), (37, 13, 16), (100, 8, 32), (64, 3, 64)] {
            let [q, k, v] = [0; 3].map(|_| rng.uniform(tokens, head_dim, -2.0, 2.0));
            let want = causal_head(
                &Bounded::exact(&q),
                &Bounded::exact(&k),
                &Bounded::exact(&v),
            );
            for level in SimdLevel::available() {
                let ratio = want.ratio(&attend(level, &q, &k, &v, block));
                assert!(
                    ratio <= 1.0,
                    "{level} ({tokens}, {head_dim}, {block}): {ratio}"
                );
            }
        }
    }

    /// The level of the kernels that [`with_simd!`] runs.
    fn dispatched(level: SimdLevel) -> SimdLevel {
        fn level_of<S: Simd>(_: S) -> SimdLevel {
            S::LEVEL
        }
        with_simd!(level, |simd| level_of(simd))
    }

    /// Asking for a level runs that level's kernels, for every level the CPU has; a level it
    /// lacks falls back to the widest narrower one it has. (Forcing a level is how the tests
    /// above reach each one.)
    #[test]
    fn the_dispatch_runs_the_level_asked_for() {
        let available = SimdLevel::available();
        for level in SimdLevel::ALL {
            let fallback = available.iter().copied().find(|a| *a <= level);
            assert_eq!(Some(dispatched(level)), fallback, "{level}");
        }
        for level in &available {
            assert_eq!(dispatched(*level), *level);
        }
        assert_eq!(dispatched(SimdLevel::Portable), SimdLevel::Portable);
        assert_eq!(SimdLevel::best(), available[0]);
        assert!(available.windows(2).all(|w| w[0] > w[1]), "widest first");
        #[cfg(target_arch = "x86_64")]
        {
            assert_eq!(
                SimdLevel::Avx512.is_available(),
                std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512bw")
                    && std::arch::is_x86_feature_detected!("avx512dq")
                    && std::arch::is_x86_feature_detected!("avx512vl")
                    && std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
            );
            assert_eq!(
                SimdLevel::Avx2Fma.is_available(),
                std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
            );
            assert_eq!(
                SimdLevel::AvxFma.is_available(),
                std::arch::is_x86_feature_detected!("avx")
                    && std::arch::is_x86_feature_detected!("fma")
            );
            assert_eq!(
                SimdLevel::Avx.is_available(),
                std::arch::is_x86_feature_detected!("avx")
            );
        }
        assert!(SimdLevel::Portable.is_available());
    }

    /// Each level's name, as the benchmark and the error messages print it.
    #[test]
    fn levels_have_their_names() {
        let names = SimdLevel::ALL.map(|l| l.to_string());
        assert_eq!(names, ["portable", "AVX", "AVX+FMA", "AVX2+FMA", "AVX-512"]);
    }
}
