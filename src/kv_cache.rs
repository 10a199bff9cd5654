//! # What the mask buys at inference: a KV cache
#![doc = include_str!(concat!(env!("OUT_DIR"), "/docs/kv_cache.md"))]

use nalgebra::DMatrix;

use crate::multihead::{concat_heads, split_heads};
use crate::normalize::softmax_rows;
use crate::torch::matmul;
use crate::validate::check_batch;
use crate::{CausalAttention, Error, MultiHeadAttention, SelfAttentionV2};

/// One matrix per head, head 0 first: a `(heads, rows, cols)` tensor.
type PerHead = Vec<DMatrix<f32>>;

/// The keys and values of every token seen so far, per batch item and per head: what a model
/// that generates one token at a time keeps so that it computes only the new token's row.
///
/// Made for one module by [`CausalAttention::new_cache`] or [`MultiHeadAttention::new_cache`]
/// (it knows the module's heads, `head_dim` and `context_length`), filled by the module's
/// `forward_cached`, emptied by [`reset`](Self::reset). A batch item's keys for head `h` are a
/// `(tokens so far × head_dim)` matrix that grows by one row per token: appended by copying, as
/// PyTorch's `torch.cat([cache_k, k_new], dim=1)` does (the efficient path preallocates instead).
///
/// ```
/// use ch03_attention::{MultiHeadAttention, TorchRng};
/// use ch03_attention::inputs::inputs;
///
/// let mha = MultiHeadAttention::new(3, 2, 6, 0.0, 2, false, &mut TorchRng::manual_seed(123)).unwrap();
/// let mut cache = mha.new_cache();
/// let x = inputs(); // (6, 3)
/// let first_four = mha.forward_cached(&[x.rows(0, 4).into_owned()], &mut cache).unwrap();
/// let fifth = mha.forward_cached(&[x.rows(4, 1).into_owned()], &mut cache).unwrap(); // (1, 2)
/// assert_eq!((cache.len(), fifth[0].shape()), (5, (1, 2)));
/// assert!((fifth[0][(0, 0)] - 0.2639).abs() < 5e-5); // the book's 5th row: [0.2639, 0.3928]
/// # let _ = first_four;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct KvCache {
    /// `keys[b][h]`: item `b`'s keys for head `h`, `(tokens so far × head_dim)`.
    keys: Vec<PerHead>,
    /// `values[b][h]`, the same shape.
    values: Vec<PerHead>,
    num_heads: usize,
    head_dim: usize,
    context_length: usize,
}

impl KvCache {
    /// An empty cache for a module with `num_heads` heads of `head_dim` features that accepts up
    /// to `context_length` tokens. The batch size is fixed by the first call that adds tokens.
    fn empty(num_heads: usize, head_dim: usize, context_length: usize) -> KvCache {
        KvCache {
            keys: Vec::new(),
            values: Vec::new(),
            num_heads,
            head_dim,
            context_length,
        }
    }

    /// Tokens cached so far (per batch item): the position the next token will have.
    pub fn len(&self) -> usize {
        self.keys.first().map_or(0, |heads| heads[0].nrows())
    }

    /// `true` before the first token, and after [`reset`](Self::reset).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets every token (PyTorch's `reset_cache()`): the next call starts a new sequence,
    /// with any batch size.
    pub fn reset(&mut self) {
        self.keys.clear();
        self.values.clear();
    }

    /// Batch items cached (0 while empty).
    pub fn batch_size(&self) -> usize {
        self.keys.len()
    }

    /// Heads of the module the cache was made for.
    pub fn num_heads(&self) -> usize {
        self.num_heads
    }

    /// Features per head.
    pub fn head_dim(&self) -> usize {
        self.head_dim
    }

    /// The most tokens the cache accepts: the module's `context_length`.
    pub fn context_length(&self) -> usize {
        self.context_length
    }

    /// The cached keys: `keys()[b][h]` is item `b`'s keys for head `h`, `(len × head_dim)`.
    pub fn keys(&self) -> &[PerHead] {
        &self.keys
    }

    /// The cached values, shaped as [`keys`](Self::keys).
    pub fn values(&self) -> &[PerHead] {
        &self.values
    }

    /// Bytes of `f32` a cached token costs per batch item: its key and its value in every head,
    /// `2 · heads · head_dim · 4` (one layer; a model pays it once per layer).
    pub fn bytes_per_token(&self) -> usize {
        2 * self.num_heads * self.head_dim * std::mem::size_of::<f32>()
    }

    /// Checks that `new` tokens of a `batch`-item batch can be added, before any arithmetic.
    ///
    /// # Errors
    ///
    /// [`Error::CacheBatch`] if the cache holds another batch size; [`Error::CacheFull`] if
    /// the tokens would not fit in `context_length`.
    fn check_room(&self, batch: usize, new: usize) -> Result<(), Error> {
        if !self.is_empty() && batch != self.batch_size() {
            return Err(Error::CacheBatch {
                cached: self.batch_size(),
                got: batch,
            });
        }
        if self.len() + new > self.context_length {
            return Err(Error::CacheFull {
                cached: self.len(),
                new,
                context_length: self.context_length,
            });
        }
        Ok(())
    }

    /// Appends item `b`'s new keys and values (one `(new × head_dim)` matrix per head) below the
    /// cached ones, `torch.cat(…, dim=1)`. Called only after [`check_room`](Self::check_room).
    fn append(&mut self, b: usize, keys: PerHead, values: PerHead) {
        if self.keys.len() == b {
            self.keys.push(keys);
            self.values.push(values);
            return;
        }
        for (cached, new) in self.keys[b].iter_mut().zip(&keys) {
            *cached = cat_rows(cached, new);
        }
        for (cached, new) in self.values[b].iter_mut().zip(&values) {
            *cached = cat_rows(cached, new);
        }
    }
}

/// `torch.cat([top, bottom], dim=0)` for two matrices of one width: a new matrix, both copied.
pub(crate) fn cat_rows(top: &DMatrix<f32>, bottom: &DMatrix<f32>) -> DMatrix<f32> {
    let mut out = DMatrix::zeros(top.nrows() + bottom.nrows(), top.ncols());
    out.rows_mut(0, top.nrows()).copy_from(top);
    out.rows_mut(top.nrows(), bottom.nrows()).copy_from(bottom);
    out
}

/// The causal weights of new queries over every cached key: `attn_scores` is
/// `(new × cached)`, its row `i` the query at position `first + i`, which sees keys
/// `0..=first + i`. The later keys get `−∞`, then `softmax(scores / √d_k)` along each row:
/// [`causal_attn_weights`](crate::causal::causal_attn_weights) with the diagonal moved right by
/// `first` (for `first = 0` and a square matrix, exactly it).
pub fn cached_attn_weights(attn_scores: &DMatrix<f32>, d_k: usize, first: usize) -> DMatrix<f32> {
    let mut masked = attn_scores.clone(); // (new, cached)
    for i in 0..masked.nrows() {
        for j in (first + i + 1)..masked.ncols() {
            masked[(i, j)] = f32::NEG_INFINITY;
        }
    }
    softmax_rows(&(masked / (d_k as f32).sqrt())) // (new, cached)
}

/// One head: the new queries `(new × head_dim)` against the cached keys and values
/// `(cached × head_dim)` (the new tokens' own included, last), the new context vectors
/// `(new × head_dim)`. `first` is the position of the first new query; `None` attends every
/// key, as an unmasked module does.
pub(crate) fn attend_cache(
    queries: &DMatrix<f32>,
    keys: &DMatrix<f32>,
    values: &DMatrix<f32>,
    first: Option<usize>,
) -> DMatrix<f32> {
    let attn_scores = matmul(queries, &keys.transpose()); // (new, cached)
    let d_k = keys.ncols();
    let attn_weights = match first {
        Some(first) => cached_attn_weights(&attn_scores, d_k, first),
        None => softmax_rows(&(attn_scores / (d_k as f32).sqrt())),
    };
    matmul(&attn_weights, values) // (new, head_dim)
}

impl CausalAttention {
    /// An empty [`KvCache`] for this module: one head of `d_out` features, up to
    /// `context_length` tokens.
    pub fn new_cache(&self) -> KvCache {
        KvCache::empty(1, self.d_out(), self.context_length())
    }

    /// Evaluation mode, with a cache: `batch` holds the **new** tokens of each item
    /// (`(new × d_in)`, one or more; all of them at once on an empty cache is the prefill).
    /// Their keys and values are appended to `cache`, and each new query attends to every cached
    /// key up to its own position. Returns the new tokens' context vectors, `(new × d_out)` per
    /// item: the rows [`forward`](Self::forward) gives those positions when it sees the whole
    /// sequence (see [the module docs](crate::kv_cache) for how equal).
    ///
    /// # Errors
    ///
    /// The input errors of [`forward`](Self::forward); [`Error::ShapeMismatch`] for a cache
    /// made for another module; [`Error::CacheBatch`] and [`Error::CacheFull`] (then nothing is
    /// appended).
    pub fn forward_cached(
        &self,
        batch: &[DMatrix<f32>],
        cache: &mut KvCache,
    ) -> Result<Vec<DMatrix<f32>>, Error> {
        check_batch("CausalAttention", batch, self.d_in(), self.context_length())?;
        check_cache_shape(cache, 1, self.d_out())?;
        let new = batch.first().map_or(0, DMatrix::nrows);
        cache.check_room(batch.len(), new)?;
        let first = cache.len();
        let mut context_vecs = Vec::with_capacity(batch.len());
        for (b, x) in batch.iter().enumerate() {
            let keys = self.w_key().apply(x); // (new, d_out)
            let queries = self.w_query().apply(x); // (new, d_out)
            let values = self.w_value().apply(x); // (new, d_out)
            cache.append(b, vec![keys], vec![values]); // (first + new, d_out)
            let (k, v) = (&cache.keys[b][0], &cache.values[b][0]);
            context_vecs.push(attend_cache(&queries, k, v, Some(first))); // (new, d_out)
        }
        Ok(context_vecs)
    }
}

impl MultiHeadAttention {
    /// An empty [`KvCache`] for this module: `num_heads` heads of `head_dim` features, up to
    /// `context_length` tokens.
    pub fn new_cache(&self) -> KvCache {
        KvCache::empty(self.num_heads(), self.head_dim(), self.context_length())
    }

    /// Evaluation mode, with a cache: as [`CausalAttention::forward_cached`], per head. The new
    /// tokens' keys and values are split into heads and appended to each head's cache; each new
    /// query attends, head by head, to the cached keys up to its position; the heads are put
    /// side by side and `out_proj` applied. Returns `(new × d_out)` per item.
    ///
    /// # Errors
    ///
    /// As [`CausalAttention::forward_cached`].
    pub fn forward_cached(
        &self,
        batch: &[DMatrix<f32>],
        cache: &mut KvCache,
    ) -> Result<Vec<DMatrix<f32>>, Error> {
        check_batch(
            "MultiHeadAttention",
            batch,
            self.d_in(),
            self.context_length(),
        )?;
        check_cache_shape(cache, self.num_heads(), self.head_dim())?;
        let new = batch.first().map_or(0, DMatrix::nrows);
        cache.check_room(batch.len(), new)?;
        let first = cache.len();
        let mut context_vecs = Vec::with_capacity(batch.len());
        for (b, x) in batch.iter().enumerate() {
            let keys = split_heads(&self.w_key().apply(x), self.num_heads()); // (heads, new, head_dim)
            let queries = split_heads(&self.w_query().apply(x), self.num_heads());
            let values = split_heads(&self.w_value().apply(x), self.num_heads());
            cache.append(b, keys, values); // (heads, first + new, head_dim)
            let heads: PerHead = queries
                .iter()
                .zip(&cache.keys[b])
                .zip(&cache.values[b])
                .map(|((q, k), v)| attend_cache(q, k, v, Some(first)))
                .collect(); // (heads, new, head_dim)
            context_vecs.push(self.out_proj().apply(&concat_heads(&heads))); // (new, d_out)
        }
        Ok(context_vecs)
    }
}

/// The cache must have been made for a module with these heads and head width.
fn check_cache_shape(cache: &KvCache, num_heads: usize, head_dim: usize) -> Result<(), Error> {
    if (cache.num_heads, cache.head_dim) == (num_heads, head_dim) {
        Ok(())
    } else {
        Err(Error::ShapeMismatch {
            op: "KV cache (heads × head_dim) for this module",
            left: (num_heads, head_dim),
            right: (cache.num_heads, cache.head_dim),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// The counterfactual: a cache without the mask.
// ---------------------------------------------------------------------------------------------

/// What a cache gives a module **without** the causal mask, [`SelfAttentionV2`]: the input fed
/// one token at a time, each new token attending to the tokens cached so far (all there are
/// when it arrives). Row `t` is the context vector of token `t` as the cache computed it, when
/// tokens `t + 1, …` did not exist yet: `(tokens × d_out)`.
///
/// [`SelfAttentionV2::forward`] gives token `t` a context vector over **all** the tokens, later
/// ones included, so the two differ everywhere but at the last position: see
/// [`unmasked_cache_gap`].
///
/// # Errors
///
/// [`Error::InputWidth`] if `x` does not have `d_in` columns.
pub fn self_attention_v2_decoded(
    v2: &SelfAttentionV2,
    x: &DMatrix<f32>,
) -> Result<DMatrix<f32>, Error> {
    let keys = v2.w_key().forward(x)?; // (tokens, d_out): token t's key is cached at step t
    let queries = v2.w_query().forward(x)?;
    let values = v2.w_value().forward(x)?;
    let mut out = DMatrix::zeros(x.nrows(), values.ncols());
    for t in 0..x.nrows() {
        let (k, v) = (keys.rows(0, t + 1), values.rows(0, t + 1)); // the cache after step t
        let q = queries.rows(t, 1).into_owned(); // (1, d_out)
        let row = attend_cache(&q, &k.into_owned(), &v.into_owned(), None); // no mask
        out.row_mut(t).copy_from(&row);
    }
    Ok(out)
}

/// The counterfactual, measured: for each position `t`, the largest `|cached − full|` over the
/// features of token `t`'s context vector, between [`self_attention_v2_decoded`] (what a cache
/// computes) and [`SelfAttentionV2::forward`] (what the module computes on the whole sequence).
/// Only the last position sees the same keys both ways.
///
/// ```
/// use ch03_attention::kv_cache::unmasked_cache_gap;
/// use ch03_attention::inputs::inputs;
/// use ch03_attention::{SelfAttentionV2, TorchRng};
///
/// let v2 = SelfAttentionV2::new(3, 2, false, &mut TorchRng::manual_seed(789));
/// let gap = unmasked_cache_gap(&v2, &inputs()).unwrap();
/// assert!(gap[0] > 0.01);   // token 0: cached alone, but the full forward mixes in all six
/// assert!(gap[5] < 1e-6);   // token 5: the same six keys both ways
/// ```
///
/// # Errors
///
/// As [`self_attention_v2_decoded`].
pub fn unmasked_cache_gap(v2: &SelfAttentionV2, x: &DMatrix<f32>) -> Result<Vec<f32>, Error> {
    let cached = self_attention_v2_decoded(v2, x)?;
    let full = v2.forward(x)?;
    Ok((0..x.nrows())
        .map(|t| (cached.row(t) - full.row(t)).amax())
        .collect())
}
