//! The teaching piece: the online softmax of one query, and the fast exponential it uses.
//!
//! [`OnlineSoftmax::fold`] is the recurrence of the module docs (running maximum `m`, running
//! sum `ℓ`, rescale `r`) for a group of queries at once; [`online_attention_row`] runs the same
//! update on one query by hand, as the worked example.

use super::simd::{MulAdd, Separate};
use crate::Error;

/// `ln 2` split in two: `LN2_HI` has only 9 significant bits, so `k · LN2_HI` is exact for every
/// integer `|k| ≤ 128`, and `LN2_LO = ln 2 − LN2_HI` carries the rest.
const LN2_HI: f32 = 355.0 / 512.0;
const LN2_LO: f32 = -2.121_944_4e-4;

/// Adding then subtracting `1.5 · 2²³` rounds an `f32` of magnitude below `2²²` to the nearest
/// integer, with no rounding instruction (which baseline x86-64 lacks). The integer also shows up
/// in the low bits of the sum, which is how [`fast_exp`] builds `2ᵏ`.
const ROUND_MAGIC: f32 = 12_582_912.0;

/// `eˣ` for `x ≤ 0`, written so the compiler can run it on 4 or 8 numbers at once.
///
/// The online softmax only ever exponentiates `score − running max ≤ 0`. Three steps:
///
/// 1. `x = k · ln 2 + r` with `k = round(x / ln 2)`, so `|r| ≤ ln 2 / 2 ≈ 0.347`;
/// 2. `eʳ` by its Taylor series up to `r⁷ / 7!` (the first omitted term is below `1.2 · 10⁻⁸`
///    on that interval), evaluated in Horner form;
/// 3. `eˣ = 2ᵏ · eʳ`, with `2ᵏ` written directly as the bits of an `f32` (exponent field
///    `k + 127`).
///
/// Maximum relative error on `[−87, 0]`: `1.0 · 10⁻⁷`, under 2 units in the last place
/// (`tests/efficient.rs` measures it against an `f64` reference and checks it stays below
/// `2 · 10⁻⁷`). Below `x ≈ −87.3`, where `eˣ` leaves `f32`'s normal range, the result drops to 0
/// (an absolute error under `1.2 · 10⁻³⁸`); `−∞` gives 0. `fast_exp(0.0)` is exactly 1. NaN
/// gives NaN, as `f32::exp` does: a NaN score must not become a weight of 0.
///
/// ```
/// use ch03_attention::efficient::fast_exp;
/// assert_eq!(fast_exp(0.0), 1.0);
/// assert!((fast_exp(-1.0) - (-1.0_f32).exp()).abs() < 1e-7);
/// assert_eq!(fast_exp(f32::NEG_INFINITY), 0.0);
/// assert!(fast_exp(f32::NAN).is_nan());
/// ```
#[inline(always)]
pub fn fast_exp(x: f32) -> f32 {
    fast_exp_with::<Separate>(x)
}

/// [`fast_exp`] with the multiply-adds of `M`: the AVX2 + FMA kernel uses fused multiply-adds (one
/// rounding each instead of two: half the instructions, and no less accurate).
#[inline(always)]
pub(super) fn fast_exp_with<M: MulAdd>(x: f32) -> f32 {
    // Below −88, 2ᵏ would need an exponent field under 0. A comparison, not `x.max(-88.0)`:
    // `max` would turn a NaN score into −88 (a weight of 0); this keeps it NaN, as `exp` does.
    let x = if x < -88.0 { -88.0 } else { x };
    let k_magic = M::mul_add(x, std::f32::consts::LOG2_E, ROUND_MAGIC); // k + 1.5·2²³, exactly
    let k = k_magic - ROUND_MAGIC; // round(x / ln 2), as an f32
    let r = M::mul_add(-k, LN2_LO, M::mul_add(-k, LN2_HI, x)); // x − k·ln 2, |r| ≤ ln 2 / 2
    let mut p = 1.0 / 5040.0; // Horner: 1 + r(1 + r(1/2 + r(1/6 + … + r/5040)))
    for coefficient in [
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
        1.0,
        1.0,
    ] {
        p = M::mul_add(p, r, coefficient);
    }
    // The low bits of `k_magic` hold k (two's complement); k + 127 is 2ᵏ's exponent field.
    let k_int = k_magic.to_bits().wrapping_sub(ROUND_MAGIC.to_bits()) as i32;
    let two_to_k = f32::from_bits(((k_int + 127) as u32) << 23);
    p * two_to_k
}

/// Division by the scaled dot product's `√d_k`, as the textbook divides. When `√d_k` is a power
/// of two (`d_k` = 1, 4, 16, 64, 256, …; GPT-2's heads have 64) multiplying by its inverse gives
/// exactly the same numbers and is several times cheaper than dividing, so that is done instead.
#[derive(Debug, Clone, Copy)]
pub(super) struct ScoreScale {
    divisor: f32,
    /// `1 / divisor` when that is exact.
    exact_inverse: Option<f32>,
}

impl ScoreScale {
    pub(super) fn new(divisor: f32) -> ScoreScale {
        let power_of_two = divisor.is_normal() && divisor.to_bits() & 0x007f_ffff == 0; // mantissa 0
        ScoreScale {
            divisor,
            exact_inverse: power_of_two.then(|| 1.0 / divisor),
        }
    }

    /// `score / divisor`.
    #[inline(always)]
    pub(super) fn apply(self, score: f32) -> f32 {
        match self.exact_inverse {
            Some(inverse) => score * inverse,
            None => score / self.divisor,
        }
    }
}

/// The running statistics of the online softmax for a block of queries, one entry per query:
/// the largest scaled score seen so far (`max`, written `m` in the docs), the sum of
/// `exp(score − m)` over the keys seen so far (`sum`, `ℓ`), and the factor the last update
/// multiplied the old sums by (`rescale`).
#[derive(Debug, Clone)]
pub(super) struct OnlineSoftmax {
    pub(super) max: Vec<f32>,
    pub(super) sum: Vec<f32>,
    pub(super) rescale: Vec<f32>,
}

impl OnlineSoftmax {
    /// `queries` queries before any key: `m = −∞`, `ℓ = 0`.
    pub(super) fn new(queries: usize) -> OnlineSoftmax {
        OnlineSoftmax {
            max: vec![f32::NEG_INFINITY; queries],
            sum: vec![0.0; queries],
            rescale: vec![1.0; queries],
        }
    }

    /// Back to the state before any key.
    pub(super) fn reset(&mut self) {
        self.max.fill(f32::NEG_INFINITY);
        self.sum.fill(0.0);
        self.rescale.fill(1.0);
    }

    /// Folds one block of keys into the statistics of the `R` queries `first .. first + R`.
    ///
    /// `scores` is `(R × keys)`, column-major (one key's scores against the `R` queries are
    /// neighbours), raw dot products, `−∞` where the causal mask hides a key. Each becomes
    /// `exp(score / scale − new m)`, the key's not-yet-normalized weight (exactly 0 for `−∞`),
    /// and the sums grow key by key, first key first. Afterwards `rescale[q] = exp(old m − new
    /// m)`: the factor by which everything accumulated before (the sum, done here, and the
    /// partial output, done by the caller) had to shrink to refer to the new maximum; 1 if the
    /// maximum did not grow, 0 after the first block.
    ///
    /// `R` is a compile-time constant so the `R` running values live in registers and every
    /// step below is one operation on `R` neighbouring numbers: SIMD instructions.
    #[inline(always)]
    pub(super) fn fold<const R: usize, M: MulAdd>(
        &mut self,
        first: usize,
        scores: &mut [f32],
        scale: ScoreScale,
    ) {
        let lanes = first..first + R;
        let mut max: [f32; R] = std::array::from_fn(|q| self.max[first + q]);
        let old_max = max;
        // 1. Scale the scores; each query's new maximum.
        for key in scores.chunks_exact_mut(R) {
            for (s, m) in key.iter_mut().zip(&mut max) {
                *s = scale.apply(*s); // q · k / √d_k
                *m = if *s > *m { *s } else { *m }; // a select, not a branch: SIMD
            }
        }
        // 2. How much the old sums (and partial outputs) shrink: exp(old m − new m).
        let rescale: [f32; R] = std::array::from_fn(|q| fast_exp_with::<M>(old_max[q] - max[q]));
        let mut sum: [f32; R] = std::array::from_fn(|q| self.sum[first + q] * rescale[q]);
        // 3. Scores become weights exp(score − m), added to the sums key by key.
        for key in scores.chunks_exact_mut(R) {
            for ((s, m), l) in key.iter_mut().zip(&max).zip(&mut sum) {
                *s = fast_exp_with::<M>(*s - m); // exp(−∞) = 0: the causal mask
                *l += *s;
            }
        }
        self.max[lanes.clone()].copy_from_slice(&max);
        self.sum[lanes.clone()].copy_from_slice(&sum);
        self.rescale[lanes].copy_from_slice(&rescale);
    }
}

/// The state of the worked example after one key block: see [`online_attention_row`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RowStep {
    /// The first key of the block folded in at this step.
    pub first_key: usize,
    /// The last key of the block.
    pub last_key: usize,
    /// The running maximum `m` after this block.
    pub max: f32,
    /// `exp(previous m − m)`: how much the earlier sum and partial output shrank at this step.
    pub rescale: f32,
    /// The running sum `ℓ = Σ exp(score − m)` after this block.
    pub sum: f32,
    /// The partial output `Σ exp(score − m) · value` over the keys so far, not yet divided by
    /// `ℓ`.
    pub partial_output: f32,
}

impl RowStep {
    /// The output if the keys so far were all the keys: `partial_output / sum`.
    pub fn output(&self) -> f32 {
        self.partial_output / self.sum
    }
}

/// The online softmax for **one query** whose values are single numbers, block by block, as a
/// reader would do it by hand: the state after every block of `block_size` keys. The last step's
/// [`output`](RowStep::output) is `Σⱼ softmax(scores)ⱼ · valuesⱼ`.
///
/// Scores are used as given (no `√d_k`). The update is the kernel's own (the same code runs in
/// [`EfficientMha`](super::EfficientMha) for 16 queries at a time), including [`fast_exp`].
///
/// # Errors
///
/// [`Error::ShapeMismatch`] if `scores` and `values` differ in length; [`Error::ZeroSize`] for a
/// zero `block_size`; [`Error::Empty`] if there are no scores.
///
/// ```
/// use ch03_attention::efficient::online_attention_row;
/// let steps = online_attention_row(&[1.0, 3.0, 2.0, 4.0], &[10.0, 20.0, 30.0, 40.0], 2).unwrap();
/// assert_eq!(steps.len(), 2);
/// assert_eq!(steps[1].max, 4.0);
/// ```
pub fn online_attention_row(
    scores: &[f32],
    values: &[f32],
    block_size: usize,
) -> Result<Vec<RowStep>, Error> {
    if scores.len() != values.len() {
        return Err(Error::ShapeMismatch {
            op: "online_attention_row (scores, values)",
            left: (1, scores.len()),
            right: (1, values.len()),
        });
    }
    if block_size == 0 {
        return Err(Error::ZeroSize { what: "block_size" });
    }
    if scores.is_empty() {
        return Err(Error::Empty { what: "scores" });
    }
    let mut state = OnlineSoftmax::new(1);
    let mut partial_output = 0.0_f32;
    let mut steps = Vec::new();
    for (b, (score_block, value_block)) in scores
        .chunks(block_size)
        .zip(values.chunks(block_size))
        .enumerate()
    {
        let mut weights = score_block.to_vec(); // (1 query × keys) becomes exp(score − m)
        state.fold::<1, Separate>(0, &mut weights, ScoreScale::new(1.0));
        let rescale = state.rescale[0];
        partial_output *= rescale; // refer the old output to the new maximum
        partial_output += weights
            .iter()
            .zip(value_block)
            .map(|(w, v)| w * v)
            .sum::<f32>();
        steps.push(RowStep {
            first_key: b * block_size,
            last_key: b * block_size + score_block.len() - 1,
            max: state.max[0],
            rescale,
            sum: state.sum[0],
            partial_output,
        });
    }
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::efficient::simd::Fused;

    /// The exponential with fused multiply-adds (what the FMA levels run) keeps the bound of
    /// [`fast_exp`] (2e-7 relative on [−87, 0], measured every 1/1024), which the error bound
    /// of the tests assumes for every level.
    #[test]
    fn fused_fast_exp_keeps_the_bound() {
        for i in 0..=87 * 1024 {
            let x = -(i as f32) / 1024.0;
            let want = f64::from(x).exp();
            let error = ((f64::from(fast_exp_with::<Fused>(x)) - want) / want).abs();
            assert!(error < 2e-7, "{x}: {error:e}");
        }
        assert_eq!(fast_exp_with::<Fused>(0.0), 1.0);
    }
}
