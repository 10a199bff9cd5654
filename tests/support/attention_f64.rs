//! Causal multi-head attention in `f64`, with a bound on the error of any `f32` computation of
//! it. Test support only, never part of the library: `tests/efficient.rs` includes it, and so
//! does the unit test of the SIMD levels (`src/efficient/simd.rs`), through `#[path]`.
//!
//! # The bound
//!
//! `u = 2⁻²⁴` is `f32`'s unit roundoff. Every step is bounded to first order in `u`, whatever the
//! order of the additions and whether multiply-adds are fused or not (Higham, *Accuracy and
//! Stability of Numerical Algorithms*, §3.1: a sum of `n` products computed in any order has
//! `|error| ≤ γₙ Σ|products|`, `γₙ = n·u / (1 − n·u)`):
//!
//! 1. **Projection** `y = x·Wᵀ + b` (`d` inputs): `|δy| ≤ Σ|δx|·|W| + (d + 1)·u·(Σ|x·W| + |b|)`:
//!    the error carried in, then the product's and the bias's roundings.
//! 2. **Score** `s = q·k / √d_h`: `|δs| ≤ (d_h·u·Σ|q·k| + Σ(|δq|·|k| + |q|·|δk|)) / √d_h +
//!    2u·|s|` (the dot product, the errors of `q` and `k`, `√d_h` rounded and the division).
//! 3. **Weights** `p_j = e^{s_j − m} / ℓ`: a score error `δs_j` moves `e^{s_j − m}` by a factor
//!    `e^{δs_j}` and `ℓ` by at most `e^{±Δ}`, `Δ = max_j |δs_j|`, so the relative error of `p_j`
//!    is at most `|δs_j| + Δ`, plus: `u·(|s_j| + |m|)` for rounding the exponent `s_j − m`,
//!    `E_EXP = 2·10⁻⁷` for the exponential (`fast_exp`'s tested bound; the C library's `expf` is
//!    within 1 ulp, `1.2·10⁻⁷`), and `(2n + 4)·u` for the `n`-term sum `ℓ`, the online
//!    softmax's rescales of `ℓ` (at most one per key) and the division.
//! 4. **Context** `o = Σ_j p_j·v_j`: `|δo| ≤ Σ_j p_j·(ρ_j·|v_j| + |δv_j|) + (2n + 2)·u·Σ_j p_j·|v_j|`
//!    (`ρ_j` the weight's relative error above; the `n`-term sum and the rescales of the partial
//!    output). The online softmax multiplies `ℓ` and the partial output by the **same** computed
//!    rescale factor, so its error cancels in `o / ℓ`; only the roundings count.
//! 5. **Output projection**: step 1 again, with `δx = δo`.
//!
//! The KV cache's decoder (`efficient::decode`) sums one query's keys in 16 lanes, each with its
//! own maximum `mₗ`, then merges the lanes with the factors `e^{mₗ − m}`. A factor multiplies its
//! lane's `ℓₗ` and partial output alike, but it differs from lane to lane, so its error does not
//! cancel: it adds the rounding of `mₗ − m` (within the `u·(|s_j| + |m|)` of step 3), `E_EXP` and
//! the merge's roundings. The lanes' sums are shorter than one `n`-term sum: with the merge,
//! `(2⌈n/16⌉ + 21.4)·u` for `n ≥ 16` and `(n + 5.4)·u` below, within step 3's `(2n + 4)·u` for
//! every `n ≥ 2` (one key is exact), so the same bound holds. `tests/kv_cache.rs` checks it with
//! scores beyond ±44, where a wrong sign in that exponent would overflow `f32`.
//!
//! The result is first order: terms in `u²` are dropped. At the sizes tested, `n·u ≤ 10⁻⁴` and
//! `Δ ≤ 0.02`, so `γₙ ≤ 1.0001·n·u`, `e^Δ − 1 ≤ 1.011·Δ` and every product of two error terms is
//! below 2 % of the first-order terms: [`SAFETY_FACTOR`] `= 1.1` covers them. The bound holds for
//! the textbook path and the efficient one alike, each compared with the `f64` result.

#![allow(dead_code)] // each includer uses a part

use nalgebra::{DMatrix, DVector};

/// `f32`'s unit roundoff, `2⁻²⁴`.
pub const U: f64 = f32::EPSILON as f64 / 2.0;

/// Relative error of the exponential: `fast_exp`'s tested bound (`tests/efficient.rs`).
pub const E_EXP: f64 = 2e-7;

/// Covers the dropped second-order terms (see the module docs).
pub const SAFETY_FACTOR: f64 = 1.1;

/// A value and the bound on its error, element by element.
pub struct Bounded {
    /// The `f64` result.
    pub value: DMatrix<f64>,
    /// First-order bound on `|f32 result − value|`, before [`SAFETY_FACTOR`].
    pub bound: DMatrix<f64>,
}

impl Bounded {
    /// An exact input.
    pub fn exact(x: &DMatrix<f32>) -> Bounded {
        let value = x.map(f64::from);
        let bound = DMatrix::zeros(x.nrows(), x.ncols());
        Bounded { value, bound }
    }

    /// `max |got − value| / (SAFETY_FACTOR · bound)`: at most 1 when `got` is within the bound.
    /// An element with bound 0 must be exact.
    pub fn ratio(&self, got: &DMatrix<f32>) -> f64 {
        let mut worst = 0.0_f64;
        for ((g, v), b) in got.iter().zip(self.value.iter()).zip(self.bound.iter()) {
            let err = (f64::from(*g) - v).abs();
            let ratio = if err == 0.0 {
                0.0
            } else {
                err / (SAFETY_FACTOR * b)
            };
            if ratio.is_nan() {
                return f64::INFINITY; // a NaN or infinite output
            }
            worst = worst.max(ratio);
        }
        worst
    }
}

/// Step 1: `x · weightᵀ + bias`, `weight` as PyTorch stores it, `(out × in)`.
pub fn linear(x: &Bounded, weight: &DMatrix<f32>, bias: Option<&DVector<f32>>) -> Bounded {
    let w = weight.map(f64::from);
    let d = w.ncols() as f64;
    let b = bias.map_or(DVector::zeros(w.nrows()), |b| b.map(f64::from));
    let mut value = &x.value * w.transpose();
    let mut abs = x.value.abs() * w.abs().transpose();
    for ((mut v, mut a), b) in value
        .column_iter_mut()
        .zip(abs.column_iter_mut())
        .zip(b.iter())
    {
        v.add_scalar_mut(*b);
        a.add_scalar_mut(b.abs());
    }
    let bound = &x.bound * w.abs().transpose() + abs * ((d + 1.0) * U);
    Bounded { value, bound }
}

/// Steps 2 to 4 for one head: `q`, `k`, `v` are `(T × d_h)`; the result is the `(T × d_h)`
/// context vectors, query `i` attending to keys `0..=i`.
pub fn causal_head(q: &Bounded, k: &Bounded, v: &Bounded) -> Bounded {
    let (t, d) = (q.value.nrows(), q.value.ncols());
    let sqrt_d = (d as f64).sqrt();
    let mut value = DMatrix::zeros(t, d);
    let mut bound = DMatrix::zeros(t, d);
    for i in 0..t {
        let n = (i + 1) as f64;
        let (mut s, mut es) = (vec![0.0; i + 1], vec![0.0; i + 1]);
        for j in 0..=i {
            let (mut dot, mut abs, mut carried) = (0.0, 0.0, 0.0);
            for c in 0..d {
                let (qc, kc) = (q.value[(i, c)], k.value[(j, c)]);
                dot += qc * kc;
                abs += (qc * kc).abs();
                carried += q.bound[(i, c)] * kc.abs() + qc.abs() * k.bound[(j, c)];
            }
            s[j] = dot / sqrt_d;
            es[j] = (d as f64 * U * abs + carried) / sqrt_d + 2.0 * U * s[j].abs();
        }
        let m = s.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let delta = es.iter().copied().fold(0.0, f64::max);
        let e: Vec<f64> = s.iter().map(|s| (s - m).exp()).collect();
        let l: f64 = e.iter().sum();
        for c in 0..d {
            let (mut o, mut eo, mut abs) = (0.0, 0.0, 0.0);
            for j in 0..=i {
                let p = e[j] / l;
                let rho = es[j] + delta + U * (s[j].abs() + m.abs()) + E_EXP + (2.0 * n + 4.0) * U;
                let vj = v.value[(j, c)];
                o += p * vj;
                abs += p * vj.abs();
                eo += p * (rho * vj.abs() + v.bound[(j, c)]);
            }
            value[(i, c)] = o;
            bound[(i, c)] = eo + (2.0 * n + 2.0) * U * abs;
        }
    }
    Bounded { value, bound }
}

/// The whole module for one batch item: projections, every head, heads side by side, output
/// projection. `layers` are `[w_query, w_key, w_value, out_proj]` as `(weight, bias)`.
pub fn multi_head(
    x: &DMatrix<f32>,
    layers: [(&DMatrix<f32>, Option<&DVector<f32>>); 4],
    num_heads: usize,
) -> Bounded {
    let x = Bounded::exact(x);
    let [q, k, v] = [0, 1, 2].map(|l| linear(&x, layers[l].0, layers[l].1));
    let (t, d_out) = (q.value.nrows(), q.value.ncols());
    let head_dim = d_out / num_heads;
    let mut context = Bounded {
        value: DMatrix::zeros(t, d_out),
        bound: DMatrix::zeros(t, d_out),
    };
    let columns = |m: &Bounded, h: usize| Bounded {
        value: m.value.columns(h * head_dim, head_dim).into_owned(),
        bound: m.bound.columns(h * head_dim, head_dim).into_owned(),
    };
    for h in 0..num_heads {
        let head = causal_head(&columns(&q, h), &columns(&k, h), &columns(&v, h));
        context
            .value
            .columns_mut(h * head_dim, head_dim)
            .copy_from(&head.value);
        context
            .bound
            .columns_mut(h * head_dim, head_dim)
            .copy_from(&head.bound);
    }
    linear(&context, layers[3].0, layers[3].1)
}
