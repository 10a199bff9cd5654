#![doc = include_str!(concat!(env!("OUT_DIR"), "/docs/efficient.md"))]

use std::num::NonZeroUsize;

use nalgebra::{DMatrix, DVector};

use crate::parallel::run_parallel;
use crate::validate::check_batch;
use crate::{Error, MultiHeadAttention};

/// Calls `$call` with the widest instruction-set level the CPU has: AVX2 + FMA, then AVX, then
/// the portable code; the same order matrixmultiply (nalgebra's matrix product) picks its
/// kernels in, so both round alike. `$simd` names the level inside `$call`.
macro_rules! with_best_simd {
    (|$simd:ident| $call:expr) => {{
        #[cfg(target_arch = "x86_64")]
        {
            if let Some($simd) = Avx2Fma::detect() {
                $call
            } else if let Some($simd) = Avx::detect() {
                $call
            } else {
                let $simd = Portable;
                $call
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let $simd = Portable;
            $call
        }
    }};
}

/// The query and key block size used unless [`EfficientMha::with_block_size`] says otherwise.
/// Larger blocks mean fewer online-softmax steps (fewer rescales); inside a block the kernel
/// still works 16 queries at a time and stops each group at its last key, so nothing is wasted
/// on the diagonal. 512 measured best on the benchmark machine, 128 and 256 within 3 %.
pub const DEFAULT_BLOCK_SIZE: usize = 512;

// ---------------------------------------------------------------------------------------------
// The building blocks: a fast exponential and the running softmax of one query.
// ---------------------------------------------------------------------------------------------

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
/// (an absolute error under `1.2 · 10⁻³⁸`); `−∞` gives 0. `fast_exp(0.0)` is exactly 1.
///
/// ```
/// use ch03_attention::efficient::fast_exp;
/// assert_eq!(fast_exp(0.0), 1.0);
/// assert!((fast_exp(-1.0) - (-1.0_f32).exp()).abs() < 1e-7);
/// assert_eq!(fast_exp(f32::NEG_INFINITY), 0.0);
/// ```
#[inline(always)]
pub fn fast_exp(x: f32) -> f32 {
    fast_exp_with::<Separate>(x)
}

/// [`fast_exp`] with the multiply-adds of `M`: the AVX2 + FMA kernel uses fused multiply-adds (one
/// rounding each instead of two: half the instructions, and no less accurate).
#[inline(always)]
fn fast_exp_with<M: MulAdd>(x: f32) -> f32 {
    let x = x.max(-88.0); // below this, 2ᵏ would need an exponent field under 0
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
struct ScoreScale {
    divisor: f32,
    /// `1 / divisor` when that is exact.
    exact_inverse: Option<f32>,
}

impl ScoreScale {
    fn new(divisor: f32) -> ScoreScale {
        let power_of_two = divisor.is_normal() && divisor.to_bits() & 0x007f_ffff == 0; // mantissa 0
        ScoreScale {
            divisor,
            exact_inverse: power_of_two.then(|| 1.0 / divisor),
        }
    }

    /// `score / divisor`.
    #[inline(always)]
    fn apply(self, score: f32) -> f32 {
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
struct OnlineSoftmax {
    max: Vec<f32>,
    sum: Vec<f32>,
    rescale: Vec<f32>,
}

impl OnlineSoftmax {
    /// `queries` queries before any key: `m = −∞`, `ℓ = 0`.
    fn new(queries: usize) -> OnlineSoftmax {
        OnlineSoftmax {
            max: vec![f32::NEG_INFINITY; queries],
            sum: vec![0.0; queries],
            rescale: vec![1.0; queries],
        }
    }

    /// Back to the state before any key.
    fn reset(&mut self) {
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
    fn fold<const R: usize, M: MulAdd>(
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
/// [`EfficientMha`] for 16 queries at a time), including [`fast_exp`].
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

// ---------------------------------------------------------------------------------------------
// The block schedule.
// ---------------------------------------------------------------------------------------------

/// How a computed tile of the `(query block × key block)` grid is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TileKind {
    /// Every key of the block is at or before every query of the block: no mask needed.
    Full,
    /// The tile on the diagonal (same query and key block): key `j` is hidden from query `i`
    /// when `j > i`, the only place the causal mask is applied.
    Diagonal,
}

/// One tile the kernel computes: the scores of query block `query_block` against key block
/// `key_block` (each `block_size` tokens).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tile {
    /// Queries `query_block · block_size ..` of the (padded) sequence.
    pub query_block: usize,
    /// Keys `key_block · block_size ..`.
    pub key_block: usize,
    /// Masked inside or not.
    pub kind: TileKind,
}

/// Number of blocks of `block_size` tokens that cover `tokens` tokens (the last one padded).
pub fn num_blocks(tokens: usize, block_size: usize) -> usize {
    tokens.div_ceil(block_size.max(1))
}

/// The tiles the kernel computes for one head, in the order it computes them: for each query
/// block, the key blocks `0 ..= query_block`. Tiles with `key_block > query_block` hold only
/// future keys and are **skipped**: they are not in the list. With `n` blocks that is
/// `n (n + 1) / 2` tiles out of `n²`.
///
/// ```
/// use ch03_attention::efficient::{TileKind, block_schedule};
/// let tiles = block_schedule(10, 4); // 3 blocks of 4 (the last padded): 6 of 9 tiles
/// assert_eq!(tiles.len(), 6);
/// assert_eq!(tiles.iter().filter(|t| t.kind == TileKind::Diagonal).count(), 3);
/// ```
pub fn block_schedule(tokens: usize, block_size: usize) -> Vec<Tile> {
    let n = num_blocks(tokens, block_size);
    (0..n)
        .flat_map(|query_block| {
            (0..=query_block).map(move |key_block| Tile {
                query_block,
                key_block,
                kind: if key_block == query_block {
                    TileKind::Diagonal
                } else {
                    TileKind::Full
                },
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The module.
// ---------------------------------------------------------------------------------------------

/// Multi-head causal attention with the parameters of a [`MultiHeadAttention`], computed the
/// efficient way: one fused QKV product, an online softmax over key blocks (FlashAttention's
/// forward pass), future key blocks skipped, heads in parallel. Evaluation mode only (no
/// dropout). See [the module docs](self) for the algorithm.
///
/// ```
/// use ch03_attention::efficient::EfficientMha;
/// use ch03_attention::inputs::inputs;
/// use ch03_attention::{MultiHeadAttention, TorchRng};
///
/// let mha = MultiHeadAttention::new(3, 2, 6, 0.0, 2, false, &mut TorchRng::manual_seed(123)).unwrap();
/// let fast = EfficientMha::from_textbook(&mha).with_threads(2).unwrap();
/// let batch = [inputs(), inputs()];
/// let (a, b) = (mha.forward(&batch).unwrap(), fast.forward(&batch).unwrap());
/// assert!((&a[0] - &b[0]).amax() < 1e-6);
/// assert!((b[0][(0, 0)] - 0.3190).abs() < 5e-5); // the book: [0.3190, 0.4858]
/// ```
#[derive(Debug, Clone)]
pub struct EfficientMha {
    /// `[W_queryᵀ | W_keyᵀ | W_valueᵀ]`, `(d_in × 3·d_out)`: one product gives Q, K and V.
    w_qkv_t: DMatrix<f32>,
    /// The three projections' biases, end to end (`3·d_out`), if they have one.
    b_qkv: Option<DVector<f32>>,
    /// `out_proj`'s weight, transposed: `(d_out × d_out)`.
    w_out_t: DMatrix<f32>,
    b_out: Option<DVector<f32>>,
    num_heads: usize,
    context_length: usize,
    block_size: usize,
    threads: usize,
}

impl EfficientMha {
    /// The same module as `mha` (same parameters, same function), ready to run the efficient
    /// way. The weights are copied once into the layout the kernel wants (transposed, Q, K and V
    /// side by side). Threads default to the machine's available parallelism, blocks to
    /// [`DEFAULT_BLOCK_SIZE`].
    pub fn from_textbook(mha: &MultiHeadAttention) -> EfficientMha {
        let layers = [mha.w_query(), mha.w_key(), mha.w_value()];
        let d_out = mha.d_out();
        let mut w_qkv_t = DMatrix::zeros(mha.d_in(), 3 * d_out); // (d_in, 3·d_out)
        for (i, layer) in layers.iter().enumerate() {
            w_qkv_t
                .columns_mut(i * d_out, d_out)
                .copy_from(&layer.weight().transpose());
        }
        let b_qkv = layers.iter().any(|l| l.bias().is_some()).then(|| {
            let mut b = DVector::zeros(3 * d_out);
            for (i, layer) in layers.iter().enumerate() {
                if let Some(bias) = layer.bias() {
                    b.rows_mut(i * d_out, d_out).copy_from(bias);
                }
            }
            b
        });
        EfficientMha {
            w_qkv_t,
            b_qkv,
            w_out_t: mha.out_proj().weight().transpose(),
            b_out: mha.out_proj().bias().cloned(),
            num_heads: mha.num_heads(),
            context_length: mha.context_length(),
            block_size: DEFAULT_BLOCK_SIZE,
            threads: std::thread::available_parallelism().map_or(1, NonZeroUsize::get),
        }
    }

    /// Runs on `threads` threads (1 = the calling thread only). The result does not depend on
    /// the number of threads, bit for bit.
    ///
    /// # Errors
    ///
    /// [`Error::ZeroSize`] for 0 threads.
    pub fn with_threads(mut self, threads: usize) -> Result<EfficientMha, Error> {
        if threads == 0 {
            return Err(Error::ZeroSize { what: "threads" });
        }
        self.threads = threads;
        Ok(self)
    }

    /// Uses query and key blocks of `block_size` tokens. The kernel rounds it up to a multiple
    /// of 16 (the queries it handles at once), and an input shorter than a block uses one block
    /// of its own length, rounded up the same way. The result does not depend on it beyond
    /// float rounding: the online softmax visits the same keys in more or fewer steps.
    ///
    /// # Errors
    ///
    /// [`Error::ZeroSize`] for a zero block size.
    pub fn with_block_size(mut self, block_size: usize) -> Result<EfficientMha, Error> {
        if block_size == 0 {
            return Err(Error::ZeroSize { what: "block_size" });
        }
        self.block_size = block_size;
        Ok(self)
    }

    /// Number of threads a forward pass uses.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Query and key block size, in tokens.
    pub fn block_size(&self) -> usize {
        self.block_size
    }

    /// Number of heads.
    pub fn num_heads(&self) -> usize {
        self.num_heads
    }

    /// Width of one head, `d_out / num_heads`.
    pub fn head_dim(&self) -> usize {
        self.d_out() / self.num_heads
    }

    /// Input width.
    pub fn d_in(&self) -> usize {
        self.w_qkv_t.nrows()
    }

    /// Output width.
    pub fn d_out(&self) -> usize {
        self.w_out_t.nrows()
    }

    /// The longest input accepted, as in the textbook module.
    pub fn context_length(&self) -> usize {
        self.context_length
    }

    /// Evaluation mode (no dropout): `(tokens × d_out)` per batch item, the same function as
    /// [`MultiHeadAttention::forward`] (equal up to float rounding; see the module docs).
    ///
    /// # Errors
    ///
    /// Exactly those of [`MultiHeadAttention::forward`], with the same messages:
    /// [`Error::RaggedBatch`], [`Error::InputWidth`], [`Error::TooManyTokens`] (see
    /// [`check_batch`]).
    pub fn forward(&self, batch: &[DMatrix<f32>]) -> Result<Vec<DMatrix<f32>>, Error> {
        check_batch(
            "MultiHeadAttention",
            batch,
            self.d_in(),
            self.context_length,
        )?;
        let tokens = batch.first().map_or(0, DMatrix::nrows);
        if tokens == 0 {
            return Ok(vec![DMatrix::zeros(0, self.d_out()); batch.len()]);
        }
        // Items go in waves just large enough to give every thread a head to work on, so the
        // memory held is one wave's Q, K and V, whatever the batch size.
        let wave = self.threads.div_ceil(self.num_heads).max(1);
        let mut outputs = Vec::with_capacity(batch.len());
        for items in batch.chunks(wave) {
            // 1. Fused projection: qkv = x · [W_q | W_k | W_v]ᵀ (+ b), one product per item.
            let xs: Vec<&[f32]> = items.iter().map(DMatrix::as_slice).collect();
            let mut qkv = self.project_all(&xs, tokens, &self.w_qkv_t, self.b_qkv.as_ref()); // (T, 3·d_out)
            // 2. Attention, one job per (item, head); each writes its context vectors over the
            //    queries it came from, so qkv's first d_out columns become the context.
            self.attend_all(&mut qkv, tokens);
            // 3. Output projection of the context vectors: qkv's first d_out columns.
            let d_out = self.d_out();
            let context: Vec<&[f32]> = qkv
                .iter()
                .map(|m| &m.as_slice()[..tokens * d_out]) // (T, d_out)
                .collect();
            outputs.extend(self.project_all(&context, tokens, &self.w_out_t, self.b_out.as_ref()));
        }
        Ok(outputs) // (T, d_out) per item
    }

    /// `x · w_t (+ bias)` for every item (each `(T × d_in)`, column-major), `(T × w_t.ncols())`
    /// each. One job per block of 128 tokens: it packs its tokens' inputs once and computes
    /// their rows of every output column. In a column-major matrix those rows are a separate
    /// piece of each column, so every job gets its own `&mut` pieces and no input is packed
    /// twice.
    fn project_all(
        &self,
        xs: &[&[f32]],
        tokens: usize,
        w_t: &DMatrix<f32>,
        bias: Option<&DVector<f32>>,
    ) -> Vec<DMatrix<f32>> {
        let cols = w_t.ncols();
        let mut outs: Vec<DMatrix<f32>> = xs.iter().map(|_| zeroed(tokens, cols)).collect();
        let blocks = tokens.div_ceil(TOKEN_BLOCK);
        let mut jobs = Vec::with_capacity(xs.len() * blocks);
        for (x, out) in xs.iter().zip(outs.iter_mut()) {
            let mut pieces: Vec<Vec<&mut [f32]>> = (0..blocks).map(|_| Vec::new()).collect();
            for column in out.as_mut_slice().chunks_mut(tokens) {
                for (piece, rows) in pieces.iter_mut().zip(column.chunks_mut(TOKEN_BLOCK)) {
                    piece.push(rows); // rows t0 .. t0 + 128 of this output column
                }
            }
            let starts = (0..blocks).map(|b| b * TOKEN_BLOCK);
            jobs.extend(starts.zip(pieces).map(|(t0, piece)| (*x, t0, piece)));
        }
        let d_in = w_t.nrows();
        run_parallel(
            self.threads,
            jobs,
            || vec![0.0_f32; d_in * TOKEN_BLOCK.min(tokens.next_multiple_of(LANES))],
            |packed, (x, t0, mut out_rows)| {
                with_best_simd!(|simd| project_block(
                    simd,
                    x,
                    t0,
                    w_t,
                    bias,
                    packed,
                    &mut out_rows
                ));
            },
        );
        outs
    }

    /// Step 2 for every (item, head). In `qkv` (column-major, `(T × 3·d_out)`) head `h`'s
    /// queries, keys and values are each one contiguous stretch of `T · head_dim` numbers, so
    /// the jobs are plain slices: `&mut` queries (overwritten by the context vectors), shared
    /// keys and values.
    fn attend_all(&self, qkv: &mut [DMatrix<f32>], tokens: usize) {
        let d_out = self.d_out();
        let head_len = tokens * self.head_dim();
        let mut jobs = Vec::new();
        for m in qkv.iter_mut() {
            let (queries, keys_values) = m.as_mut_slice().split_at_mut(tokens * d_out);
            let (keys, values) = keys_values.split_at(tokens * d_out);
            jobs.extend(
                queries
                    .chunks_mut(head_len)
                    .zip(keys.chunks(head_len))
                    .zip(values.chunks(head_len))
                    .map(|((q, k), v)| (q, k, v)),
            );
        }
        let block = self.block_size.min(tokens).next_multiple_of(LANES);
        run_parallel(
            self.threads,
            jobs,
            || HeadScratch::new(tokens, self.head_dim(), block),
            |scratch, (q_and_context, k, v)| scratch.attend(q_and_context, k, v),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The kernel: one head, tile by tile.
// ---------------------------------------------------------------------------------------------

/// Queries handled together: two 8-wide SIMD registers' worth. Blocks are rounded up to a
/// multiple of it.
const LANES: usize = 16;

/// One thread's working memory for one head: `O(tokens · head_dim + block · head_dim)`
/// numbers, reused for every head the thread computes. Tokens are padded with zeros to a whole
/// number of blocks; a padded key comes after every real query, so the causal mask already hides
/// it, and padded queries are computed but never stored.
struct HeadScratch {
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
    fn new(tokens: usize, head_dim: usize, block: usize) -> HeadScratch {
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
    fn attend(&mut self, q_and_context: &mut [f32], k: &[f32], v: &[f32]) {
        with_best_simd!(|simd| self.attend_with(simd, q_and_context, k, v));
    }

    fn attend_with(&mut self, simd: impl Simd, q_and_context: &mut [f32], k: &[f32], v: &[f32]) {
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
        for (j, width) in score_tiles(keys) {
            let keys_j = &keys_t[j * d..][..width * d];
            let scores_j = &mut scores[j * LANES..][..width * LANES];
            if width == 6 {
                simd.score_microtile::<6>(queries, keys_j, d, scores_j);
            } else {
                simd.score_microtile::<2>(queries, keys_j, d, scores_j);
            }
        }
        // 2. The causal mask, on the diagonal only: key `j ≥ first` is hidden from the group's
        //    queries before it (`masked_fill(mask, -inf)`, as the book does).
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
        let mut c = 0;
        while c < d {
            let width = if c + 6 <= d {
                6
            } else if c + 2 <= d {
                2
            } else {
                1
            };
            let out_c = &mut out[c * b..][..width * b]; // features c .. c + width
            match width {
                6 => simd.value_microtile::<6>(scores, &values_t[c..], d, rescale, out_c, first),
                2 => simd.value_microtile::<2>(scores, &values_t[c..], d, rescale, out_c, first),
                _ => simd.value_microtile::<1>(scores, &values_t[c..], d, rescale, out_c, first),
            }
            c += width;
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

/// The projections add the `d_in` products of each output in chunks of this many, then add the
/// chunks: the same pieces as matrixmultiply (nalgebra's product, its `KC`) uses, so Q, K and V
/// come out bit for bit as the textbook module's `Linear` layers compute them.
const K_CHUNK: usize = 256;

/// Tokens whose packed inputs are reused for every output column: 128 tokens × 768 features is
/// 384 KiB, which stays in the L2 cache.
const TOKEN_BLOCK: usize = 128;

/// Rows `t0 ..` of `x · w_t (+ bias)`: `x` is `(T × d_in)`, `w_t` `(d_in × n)` (column `o` is
/// the weights of output `o`), both column-major; `out_rows[o]` receives output `o` of the
/// block's tokens (up to 128). `packed` is the thread's scratch for the block's inputs.
///
/// A classic blocked matrix product: the block's inputs are packed in groups of 16 tokens
/// (feature by feature, like the attention's queries), and stay in the L2 cache; then for each
/// group of 6 outputs, whose weights stay in the L1 cache, the score micro-kernel computes 16
/// tokens × 6 outputs, one 256-feature chunk at a time, adds the chunks in order, and writes
/// each output once.
fn project_block(
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
    let (mut chunk_sums, mut sums) = ([0.0_f32; 6 * LANES], [0.0_f32; 6 * LANES]);
    let n = out_rows.len();
    let mut o = 0;
    while o < n {
        let width = if o + 6 <= n {
            6
        } else if o + 2 <= n {
            2
        } else {
            1
        };
        let w = &weights[o * d_in..]; // from output o's weights on
        for (g, group) in packed.chunks_exact(d_in * LANES).take(groups).enumerate() {
            let sums = &mut sums[..width * LANES];
            for k0 in (0..d_in).step_by(K_CHUNK) {
                let kc = K_CHUNK.min(d_in - k0); // features k0 .. k0 + kc
                let tile = &mut chunk_sums[..width * LANES];
                let inputs = &group[k0 * LANES..(k0 + kc) * LANES];
                match width {
                    6 => simd.score_microtile::<6>(inputs, &w[k0..], d_in, tile),
                    2 => simd.score_microtile::<2>(inputs, &w[k0..], d_in, tile),
                    _ => simd.score_microtile::<1>(inputs, &w[k0..], d_in, tile),
                }
                if k0 == 0 {
                    sums.copy_from_slice(tile);
                } else {
                    sums.iter_mut().zip(tile.iter()).for_each(|(s, t)| *s += t);
                }
            }
            for (rows, column_sums) in out_rows[o..o + width]
                .iter_mut()
                .zip(sums.chunks_exact(LANES))
            {
                let dst = &mut rows[g * LANES..];
                dst.iter_mut().zip(column_sums).for_each(|(d, s)| *d = *s);
            }
        }
        o += width;
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
fn score_microtile<M: MulAdd, const C: usize>(
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
fn value_microtile<M: MulAdd, const C: usize>(
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

/// How a micro-kernel multiplies and adds: with one rounding (a fused multiply-add, FMA) or
/// two. The kernels use the kind nalgebra's matrix product (the matrixmultiply crate) uses on
/// the same CPU, so their scores `q · k` come out bit for bit as the textbook module's.
trait MulAdd {
    /// `a · b + c`.
    fn mul_add(a: f32, b: f32, c: f32) -> f32;
}

/// `a · b + c` with one rounding. Only used inside functions compiled with the `fma` feature,
/// where it is one instruction (elsewhere it would be a slow library call).
struct Fused;

impl MulAdd for Fused {
    #[inline(always)]
    fn mul_add(a: f32, b: f32, c: f32) -> f32 {
        a.mul_add(b, c)
    }
}

/// `a · b + c` with two roundings.
struct Separate;

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

/// The instruction set the micro-kernels and the softmax update are compiled for.
///
/// Each is a small standalone function, so the compiler optimizes it on its own: it unrolls the
/// micro-tile's loops completely and keeps the accumulators in SIMD registers (inside one big
/// function, that depends on the size of everything around it).
trait Simd: Copy {
    fn score_microtile<const C: usize>(
        self,
        queries: &[f32],
        keys: &[f32],
        key_stride: usize,
        scores: &mut [f32],
    );
    fn value_microtile<const C: usize>(
        self,
        weights: &[f32],
        values_from_c: &[f32],
        head_dim: usize,
        rescale: &[f32; LANES],
        out: &mut [f32],
        first: usize,
    );
    fn fold(self, softmax: &mut OnlineSoftmax, first: usize, scores: &mut [f32], scale: ScoreScale);
}

/// Baseline code: SSE2 on x86-64 (4 numbers per instruction), whatever the target guarantees
/// elsewhere.
#[derive(Debug, Clone, Copy)]
struct Portable;

impl Simd for Portable {
    fn score_microtile<const C: usize>(
        self,
        queries: &[f32],
        keys: &[f32],
        key_stride: usize,
        scores: &mut [f32],
    ) {
        score_microtile::<PortableMulAdd, C>(queries, keys, key_stride, scores);
    }

    fn value_microtile<const C: usize>(
        self,
        weights: &[f32],
        values_from_c: &[f32],
        head_dim: usize,
        rescale: &[f32; LANES],
        out: &mut [f32],
        first: usize,
    ) {
        value_microtile::<PortableMulAdd, C>(weights, values_from_c, head_dim, rescale, out, first);
    }

    fn fold(
        self,
        softmax: &mut OnlineSoftmax,
        first: usize,
        scores: &mut [f32],
        scale: ScoreScale,
    ) {
        softmax.fold::<LANES, PortableMulAdd>(first, scores, scale);
    }
}

/// Defines one x86-64 instruction-set level for the kernels: a zero-sized type whose value
/// exists only once `detect` has seen the CPU features (which is what makes calling its
/// `#[target_feature]` functions sound), and a module with the portable Rust kernels compiled
/// for those features.
#[cfg(target_arch = "x86_64")]
macro_rules! simd_level {
    ($(#[$doc:meta])* $level:ident, $module:ident, $features:literal, $mul_add:ident, detect: $($detected:tt),+) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        struct $level(());

        impl $level {
            fn detect() -> Option<$level> {
                ($(std::arch::is_x86_feature_detected!($detected))&&+).then_some($level(()))
            }
        }

        impl Simd for $level {
            fn score_microtile<const C: usize>(
                self,
                queries: &[f32],
                keys: &[f32],
                key_stride: usize,
                scores: &mut [f32],
            ) {
                // SAFETY: a value of this type exists only on a CPU with its features (`detect`).
                unsafe { $module::score_microtile::<C>(queries, keys, key_stride, scores) }
            }

            fn value_microtile<const C: usize>(
                self,
                weights: &[f32],
                values_from_c: &[f32],
                head_dim: usize,
                rescale: &[f32; LANES],
                out: &mut [f32],
                first: usize,
            ) {
                // SAFETY: as above.
                unsafe {
                    $module::value_microtile::<C>(weights, values_from_c, head_dim, rescale, out, first)
                }
            }

            fn fold(
                self,
                softmax: &mut OnlineSoftmax,
                first: usize,
                scores: &mut [f32],
                scale: ScoreScale,
            ) {
                // SAFETY: as above.
                unsafe { $module::fold(softmax, first, scores, scale) }
            }
        }

        /// The same Rust code as the portable kernels, compiled for this level's features.
        mod $module {
            use super::{$mul_add, LANES, OnlineSoftmax, ScoreScale};

            #[target_feature(enable = $features)]
            pub(super) fn score_microtile<const C: usize>(
                queries: &[f32],
                keys: &[f32],
                key_stride: usize,
                scores: &mut [f32],
            ) {
                super::score_microtile::<$mul_add, C>(queries, keys, key_stride, scores);
            }

            #[target_feature(enable = $features)]
            pub(super) fn value_microtile<const C: usize>(
                weights: &[f32],
                values_from_c: &[f32],
                head_dim: usize,
                rescale: &[f32; LANES],
                out: &mut [f32],
                first: usize,
            ) {
                super::value_microtile::<$mul_add, C>(
                    weights,
                    values_from_c,
                    head_dim,
                    rescale,
                    out,
                    first,
                );
            }

            #[target_feature(enable = $features)]
            pub(super) fn fold(
                softmax: &mut OnlineSoftmax,
                first: usize,
                scores: &mut [f32],
                scale: ScoreScale,
            ) {
                softmax.fold::<LANES, $mul_add>(first, scores, scale);
            }
        }
    };
}

#[cfg(target_arch = "x86_64")]
simd_level!(
    /// AVX2 and FMA (x86-64 CPUs since 2013): 8 numbers per instruction, fused multiply-adds,
    /// as matrixmultiply's `KernelFmaAvx2`.
    Avx2Fma, avx2_fma, "avx2,fma", Fused, detect: "avx2", "fma"
);

#[cfg(target_arch = "x86_64")]
simd_level!(
    /// AVX without AVX2 (some virtual CPUs report AVX and FMA but not AVX2): 8 numbers per
    /// instruction, multiply and add rounded separately, as matrixmultiply's `KernelAvx`, which
    /// it picks on such a CPU even when FMA is there.
    Avx, avx, "avx", Separate, detect: "avx"
);

/// Where the score micro-tiles of a tile with `keys` keys go, as (first key, width): 6 keys
/// wide while 6 fit, then 2 wide. (The block and the diagonal limit are multiples of 16, so
/// `keys` is even.) Each score is computed the same way in either width; the wide one is faster.
fn score_tiles(keys: usize) -> impl Iterator<Item = (usize, usize)> {
    let wide = keys / 6 * 6;
    let six = (0..wide).step_by(6).map(|j| (j, 6));
    six.chain((wide..keys).step_by(2).map(|j| (j, 2)))
}

/// How many groups of [`LANES`] queries of query block `query_block` (of `block` tokens, a
/// multiple of `LANES`) hold real tokens: all of them but in the last block, which may be mostly
/// padding. Padding queries would only produce outputs that are thrown away.
fn real_query_groups(tokens: usize, query_block: usize, block: usize) -> usize {
    (tokens - query_block * block)
        .div_ceil(LANES)
        .min(block / LANES)
}

/// A `(rows × cols)` matrix of zeros, allocated as zeroed memory (`calloc`). For large sizes the
/// operating system hands out pages that are already zero, and nothing is written until the
/// kernels write their results, on whichever thread computes them. (`DMatrix::zeros` writes
/// every zero first, on one thread: 37 MB for GPT-2's Q, K and V at 4096 tokens.)
fn zeroed(rows: usize, cols: usize) -> DMatrix<f32> {
    DMatrix::from_vec(rows, cols, vec![0.0; rows * cols])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The projections' product equals nalgebra's (matrixmultiply's) bit for bit, through the
    /// 256-feature chunks, partial token groups and partial output groups. (nalgebra switches to
    /// a plain loop when a dimension is 5 or less, so the shapes stay above that.)
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn projection_equals_nalgebras_product_bit_for_bit() {
        let mut rng = crate::TorchRng::manual_seed(42);
        for (tokens, d_in, n) in [(6, 6, 6), (17, 300, 13), (130, 520, 31), (64, 768, 12)] {
            let x = rng.uniform(tokens, d_in, -1.0, 1.0);
            let w_t = rng.uniform(d_in, n + 3, -1.0, 1.0);
            let bias = DVector::from_fn(n + 3, |i, _| i as f32 * 0.25 - 1.0);
            let mut want = &x * w_t.columns(3, n);
            for (mut column, b) in want.column_iter_mut().zip(bias.rows(3, n).iter()) {
                column.add_scalar_mut(*b);
            }
            let w_sub = w_t.columns(3, n).into_owned();
            let b_sub = bias.rows(3, n).into_owned();
            let mha = crate::MultiHeadAttention::new(1, 2, 1, 0.0, 1, false, &mut rng).unwrap();
            let fast = EfficientMha::from_textbook(&mha).with_threads(2).unwrap();
            let got = fast.project_all(&[x.as_slice()], tokens, &w_sub, Some(&b_sub));
            let got = got[0].as_slice();
            let same = got
                .iter()
                .zip(want.iter())
                .all(|(a, b)| a.to_bits() == b.to_bits());
            assert!(same, "({tokens}, {d_in}, {n})");
        }
    }

    /// Six keys at a time while they fit, then two.
    #[test]
    fn score_tiles_cover_the_keys_six_then_two() {
        let tiles = |keys| score_tiles(keys).collect::<Vec<_>>();
        assert_eq!(tiles(0), []);
        assert_eq!(tiles(2), [(0, 2)]);
        assert_eq!(tiles(12), [(0, 6), (6, 6)]);
        assert_eq!(tiles(16), [(0, 6), (6, 6), (12, 2), (14, 2)]);
        assert_eq!(tiles(32).len(), 5 + 1);
    }

    /// Full blocks keep all their groups; the last block only those with real tokens.
    #[test]
    fn real_query_groups_skip_only_padding() {
        assert_eq!(real_query_groups(1000, 0, 512), 32);
        assert_eq!(real_query_groups(1000, 1, 512), 31); // 488 tokens
        assert_eq!(real_query_groups(1000, 15, 64), 3); // 40 tokens
        assert_eq!(real_query_groups(1024, 1, 512), 32);
        assert_eq!(real_query_groups(1, 0, 512), 1);
    }

    /// The portable kernels (what a CPU without AVX runs) agree with every level this CPU runs,
    /// and with the plain definition, for every micro-tile width: heads of 1 to 13 features,
    /// partial blocks, the diagonal.
    #[test]
    fn portable_kernels_agree_with_the_detected_ones() {
        let mut rng = crate::TorchRng::manual_seed(9);
        for (tokens, head_dim, block) in [(1, 1, 16), (37, 13, 16), (100, 8, 32), (64, 3, 64)] {
            let q = rng.uniform(tokens, head_dim, -2.0, 2.0);
            let k = rng.uniform(tokens, head_dim, -2.0, 2.0);
            let v = rng.uniform(tokens, head_dim, -2.0, 2.0);
            let mut detected = q.as_slice().to_vec();
            HeadScratch::new(tokens, head_dim, block).attend(
                &mut detected,
                k.as_slice(),
                v.as_slice(),
            );
            let mut portable = q.as_slice().to_vec();
            HeadScratch::new(tokens, head_dim, block).attend_with(
                Portable,
                &mut portable,
                k.as_slice(),
                v.as_slice(),
            );
            let scale = v.amax();
            // Each x86-64 level this CPU has, called directly; `detected` is the dispatched one.
            let mut levels = vec![detected];
            #[cfg(target_arch = "x86_64")]
            {
                let run = |simd: &dyn Fn(&mut HeadScratch, &mut [f32])| {
                    let mut out = q.as_slice().to_vec();
                    simd(&mut HeadScratch::new(tokens, head_dim, block), &mut out);
                    out
                };
                if let Some(level) = Avx2Fma::detect() {
                    levels.push(run(&|h, out| {
                        h.attend_with(level, out, k.as_slice(), v.as_slice())
                    }));
                }
                if let Some(level) = Avx::detect() {
                    levels.push(run(&|h, out| {
                        h.attend_with(level, out, k.as_slice(), v.as_slice())
                    }));
                }
            }
            for level in &levels {
                for (a, b) in level.iter().zip(&portable) {
                    assert!(
                        (a - b).abs() <= 1e-5 * scale,
                        "{tokens} {head_dim} {block}: {a} {b}"
                    );
                }
            }
            for i in 0..tokens {
                let scores: Vec<f32> = (0..=i)
                    .map(|j| {
                        let dot: f32 = (0..head_dim).map(|c| q[(i, c)] * k[(j, c)]).sum();
                        dot / (head_dim as f32).sqrt()
                    })
                    .collect();
                let weights = crate::normalize::softmax(&DVector::from_vec(scores));
                for c in 0..head_dim {
                    let want: f32 = (0..=i).map(|j| weights[j] * v[(j, c)]).sum();
                    let got = portable[c * tokens + i];
                    assert!((got - want).abs() <= 1e-5 * scale, "query {i} feature {c}");
                }
            }
        }
    }
}
