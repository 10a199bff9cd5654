//! Decoding one token at a time, the efficient way: the KV cache of
//! [`kv_cache`](crate::kv_cache) preallocated for `context_length` tokens (nothing is copied when a
//! token arrives, unlike `torch.cat`), and the new token's one query against it with the online
//! softmax of [`OnlineSoftmax::fold`].
//!
//! The cache of head `h` holds its keys **packed** in groups of 16 tokens, feature by feature
//! (feature `c` of tokens `16g .. 16g + 16` at `(g · head_dim + c) · 16`), so one pass over a
//! group's features gives the 16 tokens' scores in SIMD registers, with no sum across a
//! register; its values token by token (token `t`'s at `t · head_dim`). The 16 lanes are 16
//! independent online softmaxes (lane `l` sees tokens `l, l + 16, …`), each with its running
//! maximum, sum and partial output, merged at the end: `m = maxₗ mₗ`,
//! `ℓ = Σₗ e^{mₗ − m} ℓₗ`, `o = Σₗ e^{mₗ − m} oₗ / ℓ`. The projections are one row times the
//! weights, packed the same way (16 outputs per group).

use nalgebra::DMatrix;

use super::EfficientMha;
use super::kernel::LANES;
use super::online_softmax::{OnlineSoftmax, ScoreScale, fast_exp_with};
use super::simd::{MulAdd, Simd, with_simd};
use crate::Error;

/// Key groups folded into the online softmax at once: 16 groups of 16, 256 tokens.
const BLOCK_GROUPS: usize = 16;

/// A KV cache preallocated for `context_length` tokens, the efficient path's decoder around it,
/// and the weights in the layout one row at a time wants. One sequence; evaluation mode; one
/// thread.
///
/// ```
/// use ch03_attention::efficient::{EfficientDecoder, EfficientMha};
/// use ch03_attention::inputs::inputs;
/// use ch03_attention::{MultiHeadAttention, TorchRng};
///
/// let mha = MultiHeadAttention::new(3, 2, 6, 0.0, 2, false, &mut TorchRng::manual_seed(123)).unwrap();
/// let mut decoder = EfficientDecoder::new(&EfficientMha::from_textbook(&mha)).unwrap();
/// let x = inputs();
/// decoder.prefill(&x.rows(0, 4).into_owned()).unwrap(); // tokens 0 to 3 at once
/// let fifth = decoder.step(&x.rows(4, 1).into_owned()).unwrap(); // (1, 2)
/// assert!((fifth[(0, 0)] - 0.2639).abs() < 5e-5); // the book's 5th row: [0.2639, 0.3928]
/// assert_eq!(decoder.len(), 5);
/// ```
#[derive(Debug, Clone)]
pub struct EfficientDecoder {
    /// The module, for the prefill (its whole-sequence forward pass).
    mha: EfficientMha,
    /// `[W_q | W_k | W_v]ᵀ` packed 16 outputs per group: output `16g + l`'s weight for input
    /// `c` at `(g · d_in + c) · 16 + l`; padded with zero outputs to a whole group.
    w_qkv: Vec<f32>,
    b_qkv: Vec<f32>,
    /// `out_proj`'s weight, packed the same way.
    w_out: Vec<f32>,
    b_out: Vec<f32>,
    /// Per head, `capacity / 16` groups of packed keys: `(heads, groups, head_dim, 16)`.
    keys: Vec<f32>,
    /// Per head, `capacity` values of `head_dim`: `(heads, capacity, head_dim)`.
    values: Vec<f32>,
    /// Tokens the cache has room for: `context_length` rounded up to a multiple of 16.
    capacity: usize,
    len: usize,
    /// The step's working memory: the projected `q | k | v` (padded), the context vector, the
    /// output row, one block of scores, the 16 lanes' partial outputs and softmax state.
    qkv: Vec<f32>,
    context: Vec<f32>,
    out: Vec<f32>,
    scores: Vec<f32>,
    partial: Vec<f32>,
    softmax: OnlineSoftmax,
}

/// `w_t` (`(d_in × n)`, column `o` the weights of output `o`) packed 16 outputs per group.
fn pack_outputs(w_t: &DMatrix<f32>) -> Vec<f32> {
    let (d_in, n) = w_t.shape();
    let mut packed = vec![0.0; n.next_multiple_of(LANES) * d_in];
    for o in 0..n {
        let (g, l) = (o / LANES, o % LANES);
        for (c, w) in w_t.column(o).iter().enumerate() {
            packed[(g * d_in + c) * LANES + l] = *w;
        }
    }
    packed
}

/// A buffer of `len` zeros, allocated only if it can be.
fn try_zeros(what: &'static str, rows: usize, cols: usize) -> Result<Vec<f32>, Error> {
    Ok(crate::validate::zeros::<f32>(what, rows, cols)?.data.into())
}

impl EfficientDecoder {
    /// A decoder for `mha` with an empty cache for `mha.context_length()` tokens, allocated
    /// now: `2 · context_length · d_out` numbers (the keys rounded up to 16 tokens).
    ///
    /// # Errors
    ///
    /// [`Error::TooLarge`] if the cache cannot be allocated.
    pub fn new(mha: &EfficientMha) -> Result<EfficientDecoder, Error> {
        let d_out = mha.d_out();
        let capacity = mha.context_length().next_multiple_of(LANES);
        let bias = |b: Option<&nalgebra::DVector<f32>>, n: usize| {
            b.map_or(vec![0.0; n.next_multiple_of(LANES)], |b| {
                let mut v = b.as_slice().to_vec();
                v.resize(n.next_multiple_of(LANES), 0.0);
                v
            })
        };
        Ok(EfficientDecoder {
            w_qkv: pack_outputs(&mha.w_qkv_t.unpacked()),
            b_qkv: bias(mha.b_qkv.as_ref(), 3 * d_out),
            w_out: pack_outputs(&mha.w_out_t.unpacked()),
            b_out: bias(mha.b_out.as_ref(), d_out),
            keys: try_zeros("EfficientDecoder keys", capacity, d_out)?,
            values: try_zeros("EfficientDecoder values", capacity, d_out)?,
            capacity,
            len: 0,
            qkv: vec![0.0; (3 * d_out).next_multiple_of(LANES)],
            context: vec![0.0; d_out],
            out: vec![0.0; d_out.next_multiple_of(LANES)],
            scores: vec![0.0; BLOCK_GROUPS * LANES],
            partial: vec![0.0; LANES * mha.head_dim()],
            softmax: OnlineSoftmax::new(LANES),
            mha: mha.clone(),
        })
    }

    /// Tokens cached.
    pub fn len(&self) -> usize {
        self.len
    }

    /// `true` before the first token and after [`reset`](Self::reset).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Forgets the sequence (the memory stays allocated for the next one).
    pub fn reset(&mut self) {
        self.len = 0;
    }

    /// Bytes of `f32` one cached token costs: its key and its value in every head,
    /// `2 · heads · head_dim · 4`, as [`KvCache::bytes_per_token`](crate::KvCache::bytes_per_token).
    pub fn bytes_per_token(&self) -> usize {
        2 * self.mha.d_out() * std::mem::size_of::<f32>()
    }

    /// Bytes the cache holds allocated: [`bytes_per_token`](Self::bytes_per_token) times
    /// `context_length` rounded up to a multiple of 16.
    pub fn cache_bytes(&self) -> usize {
        (self.keys.len() + self.values.len()) * std::mem::size_of::<f32>()
    }

    /// Checks that `tokens` tokens of width `width` fit.
    fn check(&self, layer: &'static str, width: usize, tokens: usize) -> Result<(), Error> {
        if width != self.mha.d_in() {
            return Err(Error::InputWidth {
                layer,
                expected: self.mha.d_in(),
                got: width,
            });
        }
        if self.len + tokens > self.mha.context_length() {
            return Err(Error::CacheFull {
                cached: self.len,
                new: tokens,
                context_length: self.mha.context_length(),
            });
        }
        Ok(())
    }

    /// Appends `k` and `v` (each `d_out`, heads side by side) as token `self.len`.
    fn append(&mut self, k: &[f32], v: &[f32]) {
        let (d, t) = (self.mha.head_dim(), self.len);
        let (g, l) = (t / LANES, t % LANES);
        let head_keys = self.capacity * d;
        for h in 0..self.mha.num_heads() {
            let group = &mut self.keys[h * head_keys + g * d * LANES..][..d * LANES];
            for (c, k_c) in k[h * d..(h + 1) * d].iter().enumerate() {
                group[c * LANES + l] = *k_c;
            }
            self.values[(h * self.capacity + t) * d..][..d].copy_from_slice(&v[h * d..(h + 1) * d]);
        }
        self.len += 1;
    }

    /// The whole prompt at once: its keys and values go into the cache, and its outputs are
    /// [`EfficientMha::forward`]'s, `(tokens × d_out)`.
    ///
    /// # Errors
    ///
    /// [`Error::InputWidth`]; [`Error::CacheFull`] if the cache has no room for them (nothing
    /// is appended then).
    pub fn prefill(&mut self, x: &DMatrix<f32>) -> Result<DMatrix<f32>, Error> {
        self.check("MultiHeadAttention", x.ncols(), x.nrows())?;
        let tokens = x.nrows();
        if tokens == 0 {
            return Ok(DMatrix::zeros(0, self.mha.d_out()));
        }
        let d_out = self.mha.d_out();
        let mha = &self.mha;
        let qkv = mha.project_all(&[x.as_slice()], tokens, &mha.w_qkv_t, mha.b_qkv.as_ref());
        let qkv = &qkv[0]; // (T, 3·d_out)
        for t in 0..tokens {
            let k: Vec<f32> = (0..d_out).map(|c| qkv[(t, d_out + c)]).collect();
            let v: Vec<f32> = (0..d_out).map(|c| qkv[(t, 2 * d_out + c)]).collect();
            self.append(&k, &v);
        }
        let first = self.len - tokens;
        if first == 0 {
            return Ok(self.mha.forward(std::slice::from_ref(x))?.remove(0));
        }
        // A prompt after cached tokens: its queries one at a time against the cache so far.
        self.len = first;
        let mut out = DMatrix::zeros(tokens, d_out);
        for t in 0..tokens {
            let row = self.step(&x.rows(t, 1).into_owned())?;
            out.row_mut(t).copy_from(&row);
        }
        Ok(out)
    }

    /// One token `(1 × d_in)`: its query, key and value in one product, the key and value
    /// written into the cache in place, the query against every cached key (its own
    /// included), `out_proj`. Returns its output `(1 × d_out)`: the row
    /// [`EfficientMha::forward`] gives this token when it sees the whole sequence.
    ///
    /// # Errors
    ///
    /// [`Error::ShapeMismatch`] if `token` is not one row; [`Error::InputWidth`];
    /// [`Error::CacheFull`] once `context_length` tokens are cached.
    pub fn step(&mut self, token: &DMatrix<f32>) -> Result<DMatrix<f32>, Error> {
        if token.nrows() != 1 {
            return Err(Error::ShapeMismatch {
                op: "EfficientDecoder::step (one token, 1 × d_in)",
                left: (1, self.mha.d_in()),
                right: token.shape(),
            });
        }
        self.check("MultiHeadAttention", token.ncols(), 1)?;
        with_simd!(self.mha.level, |simd| self
            .step_with(simd, token.as_slice()));
        Ok(DMatrix::from_row_slice(
            1,
            self.mha.d_out(),
            &self.out[..self.mha.d_out()],
        ))
    }

    /// [`step`](Self::step)'s arithmetic with the kernels of `simd`; the output is in `out`.
    pub(super) fn step_with(&mut self, simd: impl Simd, x: &[f32]) {
        let (d_out, d, heads) = (self.mha.d_out(), self.mha.head_dim(), self.mha.num_heads());
        // 1. q | k | v = x · [W_q | W_k | W_v]ᵀ + b, one row.
        simd.project_row(&self.w_qkv, x, &mut self.qkv);
        add(&mut self.qkv, &self.b_qkv);
        let (q, kv) = self.qkv.split_at(d_out);
        let (k, v) = (kv[..d_out].to_vec(), kv[d_out..2 * d_out].to_vec());
        let q = q.to_vec();
        // 2. The new key and value, written in place.
        self.append(&k, &v);
        // 3. Each head: the one query against the cache.
        let scale = ScoreScale::new((d as f32).sqrt());
        for h in 0..heads {
            let keys = &self.keys[h * self.capacity * d..][..self.len.next_multiple_of(LANES) * d];
            let values = &self.values[h * self.capacity * d..][..self.len * d];
            let head = HeadDecode {
                query: &q[h * d..(h + 1) * d],
                keys,
                values,
                len: self.len,
                scale,
            };
            simd.decode_head(
                &head,
                &mut self.scores,
                &mut self.partial,
                &mut self.softmax,
                &mut self.context[h * d..(h + 1) * d],
            );
        }
        // 4. out_proj.
        simd.project_row(&self.w_out, &self.context, &mut self.out);
        add(&mut self.out, &self.b_out);
    }
}

fn add(x: &mut [f32], b: &[f32]) {
    x.iter_mut().zip(b).for_each(|(x, b)| *x += b);
}

/// One head's inputs to a decoding step.
pub(super) struct HeadDecode<'a> {
    /// The new query, `head_dim`.
    pub query: &'a [f32],
    /// The head's packed keys, whole groups up to the last token.
    pub keys: &'a [f32],
    /// The head's values, `len · head_dim`.
    pub values: &'a [f32],
    /// Tokens cached, the new one included.
    pub len: usize,
    /// Division by `√head_dim`.
    pub scale: ScoreScale,
}

/// `out[g · 16 + l] = Σ_c packed[g][c][l] · x[c]`: one row times weights packed 16 outputs per
/// group (the layout of [`pack_outputs`]), four groups at a time for independent accumulators.
#[inline(always)]
pub(super) fn project_row<M: MulAdd>(packed: &[f32], x: &[f32], out: &mut [f32]) {
    let d = x.len();
    let group = d * LANES;
    let mut groups = packed.chunks_exact(4 * group);
    let mut outs = out.chunks_exact_mut(4 * LANES);
    for (p, o) in (&mut groups).zip(&mut outs) {
        let mut acc = [[0.0_f32; LANES]; 4];
        let [p0, p1, p2, p3] = [0, 1, 2, 3].map(|k| &p[k * group..(k + 1) * group]);
        for ((((x_c, w0), w1), w2), w3) in x
            .iter()
            .zip(p0.chunks_exact(LANES))
            .zip(p1.chunks_exact(LANES))
            .zip(p2.chunks_exact(LANES))
            .zip(p3.chunks_exact(LANES))
        {
            for (acc_k, w) in acc.iter_mut().zip([w0, w1, w2, w3]) {
                for (a, w) in acc_k.iter_mut().zip(w) {
                    *a = M::mul_add(*w, *x_c, *a);
                }
            }
        }
        for (o, acc_k) in o.chunks_exact_mut(LANES).zip(&acc) {
            o.copy_from_slice(acc_k);
        }
    }
    let rest = groups.remainder();
    for (p, o) in rest
        .chunks_exact(group)
        .zip(outs.into_remainder().chunks_exact_mut(LANES))
    {
        let mut acc = [0.0_f32; LANES];
        for (x_c, w) in x.iter().zip(p.chunks_exact(LANES)) {
            for (a, w) in acc.iter_mut().zip(w) {
                *a = M::mul_add(*w, *x_c, *a);
            }
        }
        o.copy_from_slice(&acc);
    }
}

/// One head of a decoding step: the query's scores against the packed keys a block of
/// 256 tokens at a time, the online softmax of each of the 16 lanes ([`OnlineSoftmax::fold`]),
/// the weighted values added to the lanes' partial outputs, and the 16 lanes merged into
/// `out` (`head_dim`).
#[inline(always)]
pub(super) fn decode_head<M: MulAdd>(
    head: &HeadDecode,
    scores: &mut [f32],
    partial: &mut [f32],
    softmax: &mut OnlineSoftmax,
    out: &mut [f32],
) {
    let d = head.query.len();
    let groups = head.len.div_ceil(LANES);
    softmax.reset();
    partial.fill(0.0);
    for first_group in (0..groups).step_by(BLOCK_GROUPS) {
        let n = BLOCK_GROUPS.min(groups - first_group);
        let block = &mut scores[..n * LANES];
        // 1. Scores of the block's tokens: lane l of group g is token 16g + l.
        for (g, s) in block.chunks_exact_mut(LANES).enumerate() {
            let keys = &head.keys[(first_group + g) * d * LANES..][..d * LANES];
            let mut acc = [0.0_f32; LANES];
            for (q_c, k_c) in head.query.iter().zip(keys.chunks_exact(LANES)) {
                for (a, k) in acc.iter_mut().zip(k_c) {
                    *a = M::mul_add(*k, *q_c, *a);
                }
            }
            s.copy_from_slice(&acc);
        }
        // Slots after the last token (in its group) are not tokens: −∞, weight exactly 0.
        let last = (first_group + n) * LANES;
        if last > head.len {
            block[n * LANES - (last - head.len)..].fill(f32::NEG_INFINITY);
        }
        // 2. Each lane's online softmax: scores → exp(score − mₗ), mₗ, ℓₗ and the rescale.
        softmax.fold::<LANES, M>(0, block, head.scale);
        // 3. Each lane's partial output: rescaled, plus its tokens' weighted values.
        for (o, r) in partial.chunks_exact_mut(d).zip(&softmax.rescale) {
            o.iter_mut().for_each(|o| *o *= r);
        }
        for (g, w) in block.chunks_exact(LANES).enumerate() {
            let t0 = (first_group + g) * LANES;
            let real = LANES.min(head.len - t0);
            let values = &head.values[t0 * d..][..real * d];
            for ((o, w), v) in partial
                .chunks_exact_mut(d)
                .zip(w)
                .zip(values.chunks_exact(d))
            {
                for (o, v) in o.iter_mut().zip(v) {
                    *o = M::mul_add(*w, *v, *o);
                }
            }
        }
    }
    // 4. The lanes merged: m = max mₗ, ℓ = Σ e^{mₗ − m} ℓₗ, out = Σ e^{mₗ − m} oₗ / ℓ. A lane
    //    that never had a token (fewer than 16 tokens) has mₗ = −∞ and is left out.
    let lanes = head.len.min(LANES);
    let m = softmax.max[..lanes]
        .iter()
        .fold(f32::NEG_INFINITY, |a, b| if *b > a { *b } else { a });
    out.fill(0.0);
    let mut total = 0.0_f32;
    for (l, o) in partial.chunks_exact(d).enumerate().take(lanes) {
        let factor = fast_exp_with::<M>(softmax.max[l] - m);
        total = M::mul_add(softmax.sum[l], factor, total);
        for (dst, o) in out.iter_mut().zip(o) {
            *dst = M::mul_add(*o, factor, *dst);
        }
    }
    out.iter_mut().for_each(|o| *o /= total);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::efficient::attention_f64::multi_head;
    use crate::efficient::simd::Portable;
    use crate::{MultiHeadAttention, TorchRng};

    /// Decodes `x` token by token with the kernels of `simd`: `(T × d_out)`.
    fn decode_with(
        simd: impl Simd,
        decoder: &mut EfficientDecoder,
        x: &DMatrix<f32>,
    ) -> DMatrix<f32> {
        let d_out = decoder.mha.d_out();
        let mut out = DMatrix::zeros(x.nrows(), d_out);
        for t in 0..x.nrows() {
            decoder.step_with(simd, x.row(t).into_owned().as_slice());
            out.row_mut(t).copy_from_slice(&decoder.out[..d_out]);
        }
        out
    }

    /// Every instruction-set level the decoder can run (the portable one, and each x86-64
    /// level this CPU has) is within the error bound of the f64 result
    /// (`tests/support/attention_f64.rs`), at every position: fewer than 16 tokens, a partial
    /// group, two blocks of 256, outputs not a multiple of 16.
    #[test]
    fn every_level_decodes_within_the_bound() {
        for (tokens, d_in, d_out, heads) in [(5, 3, 4, 2), (40, 7, 18, 3), (300, 8, 16, 2)] {
            let mut rng = TorchRng::manual_seed(tokens as u64);
            let mha =
                MultiHeadAttention::new(d_in, d_out, tokens, 0.0, heads, true, &mut rng).unwrap();
            let x = rng.uniform(tokens, d_in, -2.0, 2.0);
            let layers = [mha.w_query(), mha.w_key(), mha.w_value(), mha.out_proj()]
                .map(|l| (l.weight(), l.bias()));
            let want = multi_head(&x, layers, heads);
            let fresh = || EfficientDecoder::new(&EfficientMha::from_textbook(&mha)).unwrap();
            let mut levels = vec![("portable", decode_with(Portable, &mut fresh(), &x))];
            #[cfg(target_arch = "x86_64")]
            {
                use crate::efficient::simd::{Avx, Avx2Fma, Avx512, AvxFma};
                if let Some(level) = Avx512::detect() {
                    levels.push(("avx-512", decode_with(level, &mut fresh(), &x)));
                }
                if let Some(level) = Avx2Fma::detect() {
                    levels.push(("avx2+fma", decode_with(level, &mut fresh(), &x)));
                }
                if let Some(level) = AvxFma::detect() {
                    levels.push(("avx+fma", decode_with(level, &mut fresh(), &x)));
                }
                if let Some(level) = Avx::detect() {
                    levels.push(("avx", decode_with(level, &mut fresh(), &x)));
                }
            }
            for (name, got) in &levels {
                let ratio = want.ratio(got);
                assert!(ratio <= 1.0, "{name} ({tokens} tokens): {ratio}");
            }
        }
    }
}
