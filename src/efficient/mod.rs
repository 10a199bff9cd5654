//! # Efficient attention: the online softmax (beyond the chapter)
#![doc = include_str!(concat!(env!("OUT_DIR"), "/docs/efficient.md"))]

// The files of this module, in reading order (the algorithm first, the machinery last):
// this one (the API and its orchestration), online_softmax.rs, schedule.rs, kernel.rs, gemm.rs
// (the projections' matrix product), train.rs (the training forward pass and the backward pass),
// backward.rs (the attention's backward pass, one head), decode.rs (one token at a time against
// a preallocated KV cache), simd.rs (all of the module's `unsafe`), parallel.rs.
/// The `f64` reference with its error bound, shared with `tests/efficient.rs`.
#[cfg(test)]
#[path = "../../tests/support/attention_f64.rs"]
mod attention_f64;
mod backward;
mod decode;
mod gemm;
mod kernel;
mod online_softmax;
pub(crate) mod parallel;
mod schedule;
mod simd;
mod train;

use std::num::NonZeroUsize;
use std::sync::OnceLock;

use nalgebra::{DMatrix, DVector};

use crate::validate::check_batch;
use crate::{Error, MultiHeadAttention};
use gemm::{PackedWeights, ProjectionJob, TOKEN_BLOCK, packed_len};
use kernel::{HeadScratch, LANES, zeroed};
use parallel::run_parallel;
use simd::{Simd, with_simd};

pub use decode::EfficientDecoder;
pub use online_softmax::{RowStep, fast_exp, online_attention_row};
pub use schedule::{Tile, TileKind, block_schedule, num_blocks};
pub use simd::SimdLevel;
pub use train::{EfficientGrads, EfficientTape};

/// The query and key block size used unless [`EfficientMha::with_block_size`] says otherwise.
/// Larger blocks mean fewer online-softmax steps (fewer rescales); inside a block the kernel
/// still works 16 queries at a time and stops each group at its last key, so nothing is wasted
/// on the diagonal. 512 measured best on the benchmark machine, 128 and 256 within 3 %.
pub const DEFAULT_BLOCK_SIZE: usize = 512;

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
    /// Packed for the micro-tiles of `level`, as is `w_out_t`.
    w_qkv_t: PackedWeights,
    /// The three projections' biases, end to end (`3·d_out`), if they have one.
    b_qkv: Option<DVector<f32>>,
    /// `out_proj`'s weight, transposed: `(d_out × d_out)`.
    w_out_t: PackedWeights,
    b_out: Option<DVector<f32>>,
    /// Which of `W_query`, `W_key`, `W_value` have a bias (their gradients have one too).
    qkv_has_bias: [bool; 3],
    /// The weights as the backward pass multiplies by them, packed on its first use.
    backward_weights: OnceLock<train::BackwardWeights>,
    num_heads: usize,
    context_length: usize,
    block_size: usize,
    threads: usize,
    level: SimdLevel,
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
        let level = SimdLevel::best();
        let nr = with_simd!(level, |simd| projection_outputs(simd));
        EfficientMha {
            w_qkv_t: PackedWeights::new(&w_qkv_t, nr),
            b_qkv,
            w_out_t: PackedWeights::new(&mha.out_proj().weight().transpose(), nr),
            b_out: mha.out_proj().bias().cloned(),
            qkv_has_bias: layers.map(|l| l.bias().is_some()),
            backward_weights: OnceLock::new(),
            num_heads: mha.num_heads(),
            context_length: mha.context_length(),
            block_size: DEFAULT_BLOCK_SIZE,
            threads: std::thread::available_parallelism().map_or(1, NonZeroUsize::get),
            level,
        }
    }

    /// Runs the kernels compiled for `level` instead of the widest level the CPU has (the
    /// default, [`SimdLevel::best`]): to compare the levels, or to rule one out. The result
    /// differs only by float rounding (fused multiply-adds or not).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] if this CPU cannot run `level`.
    pub fn with_simd_level(mut self, level: SimdLevel) -> Result<EfficientMha, Error> {
        if !level.is_available() {
            return Err(Error::InvalidConfig(format!(
                "this CPU cannot run the {level} kernels (it can run: {})",
                SimdLevel::available()
                    .iter()
                    .map(SimdLevel::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let nr = with_simd!(level, |simd| projection_outputs(simd));
        self.w_qkv_t = self.w_qkv_t.repacked(nr);
        self.w_out_t = self.w_out_t.repacked(nr);
        self.backward_weights = OnceLock::new(); // packed for the old level's micro-tiles
        self.level = level;
        Ok(self)
    }

    /// The instruction-set level the kernels run with.
    pub fn simd_level(&self) -> SimdLevel {
        self.level
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
        self.w_qkv_t.d_in()
    }

    /// Output width.
    pub fn d_out(&self) -> usize {
        self.w_out_t.outputs()
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
        let tokens = self.checked_tokens(batch)?;
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
            let d_out = self.d_out();
            for m in qkv.iter_mut() {
                let (context, keys_values) = m.as_mut_slice().split_at_mut(tokens * d_out);
                hidden_values_poison(context, &keys_values[tokens * d_out..], tokens);
            }
            // 3. Output projection of the context vectors: qkv's first d_out columns.
            let context: Vec<&[f32]> = qkv
                .iter()
                .map(|m| &m.as_slice()[..tokens * d_out]) // (T, d_out)
                .collect();
            outputs.extend(self.project_all(&context, tokens, &self.w_out_t, self.b_out.as_ref()));
        }
        Ok(outputs) // (T, d_out) per item
    }

    /// The batch checked as [`MultiHeadAttention::forward`] checks it (same errors, same
    /// messages); its token count.
    fn checked_tokens(&self, batch: &[DMatrix<f32>]) -> Result<usize, Error> {
        let (d_in, context_length) = (self.d_in(), self.context_length);
        check_batch("MultiHeadAttention", batch, d_in, context_length)?;
        Ok(batch.first().map_or(0, DMatrix::nrows))
    }

    /// Step 1 alone, the fused projection: `(T × 3·d_out)` per item, each token's queries, keys
    /// and values side by side (`[x·W_queryᵀ | x·W_keyᵀ | x·W_valueᵀ]`, plus the biases if the
    /// module has them). It is 3/4 of a forward pass's arithmetic at GPT-2's sizes and 1024
    /// tokens; `benches/bench_mha.rs` times it on its own.
    ///
    /// ```
    /// use ch03_attention::efficient::EfficientMha;
    /// use ch03_attention::inputs::inputs;
    /// use ch03_attention::{MultiHeadAttention, TorchRng};
    ///
    /// let mha = MultiHeadAttention::new(3, 2, 6, 0.0, 1, false, &mut TorchRng::manual_seed(123)).unwrap();
    /// let qkv = EfficientMha::from_textbook(&mha).project_qkv(&[inputs()]).unwrap();
    /// assert_eq!(qkv[0].shape(), (6, 6));
    /// let keys = inputs() * mha.w_key().weight().transpose();
    /// assert!((qkv[0].columns(2, 2) - keys).amax() < 1e-6);
    /// ```
    ///
    /// # Errors
    ///
    /// Those of [`EfficientMha::forward`].
    pub fn project_qkv(&self, batch: &[DMatrix<f32>]) -> Result<Vec<DMatrix<f32>>, Error> {
        let tokens = self.checked_tokens(batch)?;
        let xs: Vec<&[f32]> = batch.iter().map(DMatrix::as_slice).collect();
        Ok(self.project_all(&xs, tokens, &self.w_qkv_t, self.b_qkv.as_ref()))
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
        w_t: &PackedWeights,
        bias: Option<&DVector<f32>>,
    ) -> Vec<DMatrix<f32>> {
        let cols = w_t.outputs();
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
        // One job's inputs, one feature block at a time.
        let scratch_len = packed_len(tokens, w_t.d_in());
        let bias = bias.map(DVector::as_slice);
        run_parallel(
            self.threads,
            jobs,
            || vec![0.0_f32; scratch_len],
            |packed, (x, t0, out_rows)| {
                let job = ProjectionJob {
                    x,
                    t0,
                    weights: w_t,
                    bias,
                    out_rows,
                };
                with_simd!(self.level, |simd| simd.project(job, packed));
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
            |scratch, (q_and_context, k, v)| scratch.attend(self.level, q_and_context, k, v),
        );
    }
}

/// What the textbook computes for hidden keys and this kernel skips: in `attn_weights @ values`
/// every value is multiplied by a weight, a hidden key's by exactly 0, and `0 · NaN` and `0 · ∞`
/// are NaN. So if feature `c` of token `j`'s value is NaN or infinite, feature `c` of the context
/// vector of every earlier query `i < j` is NaN, in PyTorch and in the textbook path. The kernel
/// never reads a hidden key's value (that is the point of skipping it), so those NaNs are written
/// here: for each feature, every query before the first non-finite value. (Queries from that
/// token on have read it as a visible key and already hold what the arithmetic gives.)
///
/// `context` and `values` are one item's `(T × d_out)` context vectors and values,
/// column-major. A finite input costs one scan of the values.
fn hidden_values_poison(context: &mut [f32], values: &[f32], tokens: usize) {
    for (context_c, values_c) in context.chunks_mut(tokens).zip(values.chunks(tokens)) {
        if let Some(first) = values_c.iter().position(|v| !v.is_finite()) {
            context_c[..first].fill(f32::NAN);
        }
    }
}

/// The outputs per projection micro-tile of `simd`'s level, which the weights are packed for.
fn projection_outputs<S: Simd>(_simd: S) -> usize {
    S::PROJECTION_OUTPUTS
}
