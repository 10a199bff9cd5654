//! # Causal attention: hiding the future (3.5.1, 3.5.3)
#![doc = include_str!(concat!(env!("OUT_DIR"), "/docs/causal.md"))]

use nalgebra::DMatrix;

use crate::gradients::pass::{Attended, ItemPass, dropout_then_context};
use crate::normalize::softmax_rows;
use crate::torch::matmul;
use crate::torch::reduce::sum;
use crate::validate::{check_batch, check_layer_shapes, check_nonzero, zeros};
use crate::{Dropout, Error, Linear, TorchRng};

// ---------------------------------------------------------------------------------------------
// 3.5.1: the two ways to mask.
// ---------------------------------------------------------------------------------------------

/// The simple mask of section 3.5.1, `torch.tril(torch.ones(n, n))`: 1 on and below the
/// diagonal (what token `i` may see: tokens `0..=i`), 0 above it.
pub fn simple_mask(n: usize) -> DMatrix<f32> {
    tril_ones(n, n)
}

/// `torch.tril(torch.ones(rows, cols))`: row `i` holds 1 in columns `0..=i`, 0 after them.
fn tril_ones(rows: usize, cols: usize) -> DMatrix<f32> {
    DMatrix::from_fn(rows, cols, |i, j| if j <= i { 1.0 } else { 0.0 })
}

/// Route 1: take the softmax weights of *all* tokens, zero the future ones (`weights * mask`),
/// and divide each row by what is left of its sum, so rows sum to 1 again.
///
/// Returns `(masked, renormalized)`: the book prints both.
///
/// The mask takes the input's shape, as `torch.tril` does for a matrix that is not square:
/// row `i` keeps columns `0..=i`, the same cells [`mask_future_with_neg_inf`] leaves alone, so a
/// `(queries × keys)` matrix of any shape is accepted (for a square one the mask is
/// [`simple_mask`]).
pub fn mask_then_renormalize(attn_weights: &DMatrix<f32>) -> (DMatrix<f32>, DMatrix<f32>) {
    let (rows, cols) = attn_weights.shape();
    let masked = attn_weights.component_mul(&tril_ones(rows, cols)); // (queries, keys)
    let mut renormalized = masked.clone();
    for i in 0..masked.nrows() {
        let row: Vec<f32> = masked.row(i).iter().copied().collect();
        let row_sum = sum(&row);
        for j in 0..masked.ncols() {
            renormalized[(i, j)] = masked[(i, j)] / row_sum;
        }
    }
    (masked, renormalized)
}

/// Replaces every score above the diagonal (a future token) with `−∞`:
/// `scores.masked_fill(triu(ones, diagonal=1).bool(), -inf)`.
pub fn mask_future_with_neg_inf(attn_scores: &DMatrix<f32>) -> DMatrix<f32> {
    let mut masked = attn_scores.clone();
    for i in 0..masked.nrows() {
        for j in (i + 1)..masked.ncols() {
            masked[(i, j)] = f32::NEG_INFINITY;
        }
    }
    masked
}

/// Route 2: `−∞` above the diagonal, then the scaled softmax. `exp(−∞) = 0`, so the future
/// tokens get weight exactly 0 and each row is a distribution over the visible tokens only.
///
/// This is the one masked, scaled softmax of the textbook path: [`CausalAttention`] and
/// [`MultiHeadAttention`](crate::MultiHeadAttention) both call it, as the book's classes both
/// write `masked_fill_(mask, -inf)` then `softmax(attn_scores / √d_k, dim=-1)`. The scores are
/// `(queries × keys)`; query `i` sees keys `0..=i`.
pub fn causal_attn_weights(attn_scores: &DMatrix<f32>, d_k: usize) -> DMatrix<f32> {
    let masked = mask_future_with_neg_inf(attn_scores); // (queries, keys)
    softmax_rows(&(masked / (d_k as f32).sqrt())) // (queries, keys)
}

// ---------------------------------------------------------------------------------------------
// 3.5.3: the compact class.
// ---------------------------------------------------------------------------------------------

/// Causal self-attention with dropout, as in section 3.5.3's `CausalAttention`.
///
/// A batch is a slice of `(tokens × d_in)` matrices of one shape; the output has one
/// `(tokens × d_out)` matrix per item. Token `t` of each item attends only to tokens `0..=t`.
///
/// ```
/// use ch03_attention::{CausalAttention, TorchRng};
/// use ch03_attention::inputs::inputs;
///
/// let mut rng = TorchRng::manual_seed(123);
/// let ca = CausalAttention::new(3, 2, 6, 0.0, false, &mut rng).unwrap();
/// let batch = vec![inputs(), inputs()]; // (2, 6, 3)
/// let context_vecs = ca.forward(&batch).unwrap(); // (2, 6, 2)
/// assert!((context_vecs[0][(0, 0)] - -0.4519).abs() < 5e-5); // the book: [-0.4519, 0.2216]
/// ```
#[derive(Debug, Clone)]
pub struct CausalAttention {
    w_query: Linear,
    w_key: Linear,
    w_value: Linear,
    dropout: Dropout,
    /// The longest input accepted. PyTorch's class keeps the mask
    /// `triu(ones(context_length, context_length), diagonal = 1)` as a buffer and slices it to
    /// the input's length; the rule it encodes (key `j` is hidden from query `i` when `j > i`)
    /// is applied by [`causal_attn_weights`], so only the length is kept.
    context_length: usize,
}

impl CausalAttention {
    /// Creates `W_query`, `W_key`, `W_value` (`Linear(d_in, d_out, qkv_bias)`, in that order,
    /// drawing from `rng` as PyTorch does), a dropout of rate `dropout` for the attention
    /// weights, and the causal mask for up to `context_length` tokens. Only the three layers draw
    /// random numbers.
    ///
    /// # Errors
    ///
    /// [`Error::DropoutRate`] if `dropout` is outside `[0, 1]` or NaN; [`Error::ZeroSize`] if
    /// `d_in`, `d_out` or `context_length` is 0.
    pub fn new(
        d_in: usize,
        d_out: usize,
        context_length: usize,
        dropout: f64,
        qkv_bias: bool,
        rng: &mut TorchRng,
    ) -> Result<CausalAttention, Error> {
        let dropout = Dropout::new(dropout)?;
        check_nonzero(&[
            ("d_in", d_in),
            ("d_out", d_out),
            ("context_length", context_length),
        ])?;
        Ok(CausalAttention {
            w_query: Linear::try_new(d_in, d_out, qkv_bias, rng)?,
            w_key: Linear::try_new(d_in, d_out, qkv_bias, rng)?,
            w_value: Linear::try_new(d_in, d_out, qkv_bias, rng)?,
            dropout,
            context_length,
        })
    }

    /// Builds the module from given layers: weights copied from elsewhere, or the module's own
    /// with one weight nudged to watch the loss move (see [the gradients page](crate::gradients)).
    /// All three must map `d_in → d_out`, as `w_query` does; with or without a bias each.
    ///
    /// ```
    /// use ch03_attention::inputs::inputs;
    /// use ch03_attention::{CausalAttention, Linear, TorchRng};
    ///
    /// let book = CausalAttention::new(3, 2, 6, 0.0, false, &mut TorchRng::manual_seed(123)).unwrap();
    /// let (q, k, v) = (book.w_query().clone(), book.w_key().clone(), book.w_value().clone());
    /// let copy = CausalAttention::from_parts(q.clone(), k.clone(), v, 6, 0.0).unwrap();
    /// assert_eq!(copy.forward(&[inputs()]).unwrap(), book.forward(&[inputs()]).unwrap());
    ///
    /// let narrow_value = Linear::new(2, 2, false, &mut TorchRng::manual_seed(1)); // 2 → 2
    /// let err = CausalAttention::from_parts(q, k, narrow_value, 6, 0.0).unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "CausalAttention (W_value): shapes (2 × 3) and (2 × 2) do not fit together"
    /// );
    /// ```
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new) for `dropout`, `context_length` and the sizes of `w_query`;
    /// [`Error::ShapeMismatch`] if `w_key` or `w_value` is not shaped like `w_query`
    /// (`(d_out × d_in)`, as PyTorch stores a weight), naming the layer, the shape it should have
    /// and the shape it has.
    pub fn from_parts(
        w_query: Linear,
        w_key: Linear,
        w_value: Linear,
        context_length: usize,
        dropout: f64,
    ) -> Result<CausalAttention, Error> {
        let dropout = Dropout::new(dropout)?;
        let (d_out, d_in) = (w_query.out_features(), w_query.in_features());
        check_nonzero(&[
            ("d_in", d_in),
            ("d_out", d_out),
            ("context_length", context_length),
        ])?;
        check_layer_shapes(&[
            ("CausalAttention (W_key)", &w_key, (d_out, d_in)),
            ("CausalAttention (W_value)", &w_value, (d_out, d_in)),
        ])?;
        Ok(CausalAttention {
            w_query,
            w_key,
            w_value,
            dropout,
            context_length,
        })
    }

    // `w_query()`, `w_key()`, `w_value()`: the three projections.
    crate::torch::linear::qkv_projection_getters!();

    /// The dropout applied to the attention weights in training.
    pub fn dropout(&self) -> &Dropout {
        &self.dropout
    }

    /// PyTorch's mask buffer, `triu(ones(context_length, context_length), diagonal = 1)`: 1
    /// marks a hidden (future) position. Built on request, from the rule the forward pass
    /// applies.
    ///
    /// # Errors
    ///
    /// [`Error::TooLarge`] if a `(context_length × context_length)` matrix cannot be allocated
    /// (the forward pass never needs it).
    pub fn mask(&self) -> Result<DMatrix<f32>, Error> {
        let n = self.context_length;
        let mut mask = zeros("CausalAttention mask", n, n)?;
        for i in 0..n {
            mask.row_mut(i).columns_mut(i + 1, n - i - 1).fill(1.0);
        }
        Ok(mask)
    }

    /// The longest input the mask covers.
    pub fn context_length(&self) -> usize {
        self.context_length
    }

    /// Input width.
    pub fn d_in(&self) -> usize {
        self.w_query.in_features()
    }

    /// Output width.
    pub fn d_out(&self) -> usize {
        self.w_query.out_features()
    }

    /// Trainable parameters: the three projections (the mask is a buffer, not a parameter).
    pub fn num_parameters(&self) -> usize {
        self.w_query.num_parameters() + self.w_key.num_parameters() + self.w_value.num_parameters()
    }

    /// Evaluation mode (no dropout): the context vectors of every batch item.
    ///
    /// # Errors
    ///
    /// See [`check_batch`]: ragged batches, a wrong width, more tokens than `context_length`.
    pub fn forward(&self, batch: &[DMatrix<f32>]) -> Result<Vec<DMatrix<f32>>, Error> {
        let passes = self.forward_pass(batch, None)?;
        Ok(passes.into_iter().map(ItemPass::into_output).collect())
    }

    /// Training mode: dropout on the attention weights, drawn from `rng` exactly where PyTorch
    /// draws it, one mask over the whole `(batch, tokens, tokens)` weight tensor in row-major
    /// order (item 0's rows first). With `dropout = 0` nothing is drawn and the result equals
    /// [`forward`](Self::forward).
    ///
    /// # Errors
    ///
    /// As [`forward`](Self::forward).
    pub fn forward_train(
        &self,
        batch: &[DMatrix<f32>],
        rng: &mut TorchRng,
    ) -> Result<Vec<DMatrix<f32>>, Error> {
        let passes = self.forward_pass(batch, Some(rng))?;
        Ok(passes.into_iter().map(ItemPass::into_output).collect())
    }

    /// The causal attention weights (before dropout) of one input: `(tokens × tokens)`.
    ///
    /// # Errors
    ///
    /// As [`forward`](Self::forward), for a batch of one.
    pub fn attn_weights(&self, x: &DMatrix<f32>) -> Result<DMatrix<f32>, Error> {
        let mut passes = self.forward_pass(std::slice::from_ref(x), None)?;
        Ok(passes.remove(0).attn_weights.remove(0))
    }

    /// The book's `forward`, for the whole batch, keeping what it computed; `rng` is `Some` in
    /// training mode. The module's one forward pass: [`forward`](Self::forward),
    /// [`forward_train`](Self::forward_train) and [`Tape`](crate::gradients::Tape) all run it.
    pub(crate) fn forward_pass(
        &self,
        batch: &[DMatrix<f32>],
        rng: Option<&mut TorchRng>,
    ) -> Result<Vec<ItemPass>, Error> {
        check_batch("CausalAttention", batch, self.d_in(), self.context_length)?;
        let mut attended = Vec::with_capacity(batch.len());
        for x in batch {
            let keys = self.w_key.forward(x)?; // (T, d_out)
            let queries = self.w_query.forward(x)?; // (T, d_out)
            let values = self.w_value.forward(x)?; // (T, d_out)
            let attn_scores = matmul(&queries, &keys.transpose()); // (T, T)
            let attn_weights = causal_attn_weights(&attn_scores, keys.ncols()); // (T, T)
            attended.push(Attended {
                queries: vec![queries],
                keys: vec![keys],
                values: vec![values],
                attn_weights: vec![attn_weights],
            });
        }
        // self.dropout(attn_weights) @ values: one mask over (b, T, T); (b, T, d_out)
        Ok(dropout_then_context(attended, Some(&self.dropout), rng))
    }
}
