//! # Multi-head attention (3.6)
#![doc = include_str!(concat!(env!("OUT_DIR"), "/docs/multihead.md"))]

use nalgebra::DMatrix;

use crate::causal::causal_attn_weights;
use crate::gradients::pass::{Attended, ItemPass, PerHead, dropout_then_context};
use crate::torch::matmul;
use crate::validate::{check_batch, check_layer_shapes, check_nonzero};
use crate::{CausalAttention, Dropout, Error, Linear, TorchRng};

/// Multi-head attention by stacking, as in section 3.6.1's `MultiHeadAttentionWrapper`:
/// `num_heads` independent [`CausalAttention`] heads whose outputs are concatenated, so each
/// token's output is `d_out · num_heads` wide.
///
/// ```
/// use ch03_attention::{MultiHeadAttentionWrapper, TorchRng};
/// use ch03_attention::inputs::inputs;
///
/// let mut rng = TorchRng::manual_seed(123);
/// let mha = MultiHeadAttentionWrapper::new(3, 2, 6, 0.0, 2, false, &mut rng).unwrap();
/// let context_vecs = mha.forward(&[inputs(), inputs()]).unwrap();
/// assert_eq!(context_vecs[0].shape(), (6, 4)); // 2 heads × d_out 2
/// ```
#[derive(Debug, Clone)]
pub struct MultiHeadAttentionWrapper {
    heads: Vec<CausalAttention>,
}

impl MultiHeadAttentionWrapper {
    /// Builds `num_heads` [`CausalAttention`] heads in order, each drawing its three projections
    /// from `rng` (head 0 first), as `nn.ModuleList([CausalAttention(...) for _ in range(num_heads)])`.
    ///
    /// # Errors
    ///
    /// [`Error::ZeroHeads`] for `num_heads = 0`, and the errors of [`CausalAttention::new`].
    #[allow(clippy::too_many_arguments)] // mirrors the book's constructor one to one
    pub fn new(
        d_in: usize,
        d_out: usize,
        context_length: usize,
        dropout: f64,
        num_heads: usize,
        qkv_bias: bool,
        rng: &mut TorchRng,
    ) -> Result<MultiHeadAttentionWrapper, Error> {
        if num_heads == 0 {
            return Err(Error::ZeroHeads);
        }
        let heads = (0..num_heads)
            .map(|_| CausalAttention::new(d_in, d_out, context_length, dropout, qkv_bias, rng))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(MultiHeadAttentionWrapper { heads })
    }

    /// The heads, in order.
    pub fn heads(&self) -> &[CausalAttention] {
        &self.heads
    }

    /// Trainable parameters of all heads.
    pub fn num_parameters(&self) -> usize {
        self.heads.iter().map(CausalAttention::num_parameters).sum()
    }

    /// Evaluation mode: every head's context vectors, concatenated along the last dimension:
    /// `(tokens × d_out · num_heads)` per batch item.
    ///
    /// # Errors
    ///
    /// The input errors of [`CausalAttention::forward`].
    pub fn forward(&self, batch: &[DMatrix<f32>]) -> Result<Vec<DMatrix<f32>>, Error> {
        let per_head = self.forward_pass(batch, None)?;
        Ok(concat_batch_heads(&per_head, batch.len()))
    }

    /// Training mode: each head draws its own dropout mask from `rng`, head 0 first, exactly as
    /// the heads run one after another in PyTorch.
    ///
    /// # Errors
    ///
    /// As [`forward`](Self::forward).
    pub fn forward_train(
        &self,
        batch: &[DMatrix<f32>],
        rng: &mut TorchRng,
    ) -> Result<Vec<DMatrix<f32>>, Error> {
        let per_head = self.forward_pass(batch, Some(rng))?;
        Ok(concat_batch_heads(&per_head, batch.len()))
    }

    /// Every head's forward pass in order, head 0 first, each drawing its dropout mask from
    /// `rng` in training mode: `(heads, b)` passes. The module's one forward pass, which
    /// [`WrapperTape`](crate::gradients::WrapperTape) records.
    pub(crate) fn forward_pass(
        &self,
        batch: &[DMatrix<f32>],
        mut rng: Option<&mut TorchRng>,
    ) -> Result<Vec<Vec<ItemPass>>, Error> {
        self.heads
            .iter()
            .map(|head| head.forward_pass(batch, rng.as_deref_mut()))
            .collect()
    }
}

/// `torch.cat([head(x) for head in self.heads], dim=-1)` for every batch item: `per_head` is
/// `(heads, b)` passes, the result `(b, T, heads · d_out)`.
fn concat_batch_heads(per_head: &[Vec<ItemPass>], batch_len: usize) -> Vec<DMatrix<f32>> {
    (0..batch_len)
        .map(|b| {
            let outputs: PerHead = per_head.iter().map(|h| h[b].output().clone()).collect();
            concat_heads(&outputs)
        })
        .collect()
}

/// Multi-head attention with weight splits, as in section 3.6.2's `MultiHeadAttention`.
///
/// One `Linear(d_in, d_out)` each for queries, keys and values; their outputs are split into
/// `num_heads` slices of `head_dim = d_out / num_heads` columns, attention runs per head, the
/// heads are put back side by side, and an output projection `Linear(d_out, d_out)` (with bias)
/// mixes them. The output is `d_out` wide whatever the number of heads.
///
/// ```
/// use ch03_attention::{MultiHeadAttention, TorchRng};
/// use ch03_attention::inputs::inputs;
///
/// let mut rng = TorchRng::manual_seed(123);
/// let mha = MultiHeadAttention::new(3, 2, 6, 0.0, 2, false, &mut rng).unwrap();
/// let context_vecs = mha.forward(&[inputs(), inputs()]).unwrap();
/// assert!((context_vecs[0][(0, 0)] - 0.3190).abs() < 5e-5); // the book: [0.3190, 0.4858]
/// ```
#[derive(Debug, Clone)]
pub struct MultiHeadAttention {
    w_query: Linear,
    w_key: Linear,
    w_value: Linear,
    out_proj: Linear,
    dropout: Dropout,
    num_heads: usize,
    /// The longest input accepted. PyTorch's module keeps the mask
    /// `triu(ones(context_length, context_length), 1)` as a buffer (as [`CausalAttention`] does
    /// here); this one applies the same mask inside its softmax (`j > i` is hidden), so it keeps
    /// only the size: 64 MiB less at a context of 4096 tokens.
    context_length: usize,
}

impl MultiHeadAttention {
    /// Creates, drawing from `rng` in PyTorch's order: `W_query`, `W_key`, `W_value`
    /// (`Linear(d_in, d_out, qkv_bias)`), then `out_proj` (`Linear(d_out, d_out)`, weight then
    /// bias). For the book's example (3 → 2, 2 heads, no qkv bias) that is 6 + 6 + 6 + 4 + 2 = 24
    /// draws.
    ///
    /// # Errors
    ///
    /// [`Error::ZeroHeads`]; [`Error::HeadsDoNotDivide`] if `d_out % num_heads != 0`;
    /// [`Error::DropoutRate`]; [`Error::ZeroSize`] for a zero `d_in`, `d_out` or
    /// `context_length`.
    #[allow(clippy::too_many_arguments)] // mirrors the book's constructor one to one
    pub fn new(
        d_in: usize,
        d_out: usize,
        context_length: usize,
        dropout: f64,
        num_heads: usize,
        qkv_bias: bool,
        rng: &mut TorchRng,
    ) -> Result<MultiHeadAttention, Error> {
        check_config(d_in, d_out, context_length, dropout, num_heads)?;
        let w_query = Linear::try_new(d_in, d_out, qkv_bias, rng)?;
        let w_key = Linear::try_new(d_in, d_out, qkv_bias, rng)?;
        let w_value = Linear::try_new(d_in, d_out, qkv_bias, rng)?;
        let out_proj = Linear::try_new(d_out, d_out, true, rng)?;
        MultiHeadAttention::from_parts(
            w_query,
            w_key,
            w_value,
            out_proj,
            dropout,
            num_heads,
            context_length,
        )
    }

    /// Assembles a module from given layers (e.g. to copy weights from elsewhere). The
    /// projections must all be `d_in → d_out`, `out_proj` must be `d_out → d_out`.
    ///
    /// # Errors
    ///
    /// [`Error::ShapeMismatch`] if the layers do not fit together, and the configuration errors
    /// of [`new`](Self::new).
    pub fn from_parts(
        w_query: Linear,
        w_key: Linear,
        w_value: Linear,
        out_proj: Linear,
        dropout: f64,
        num_heads: usize,
        context_length: usize,
    ) -> Result<MultiHeadAttention, Error> {
        let (d_out, d_in) = (w_query.out_features(), w_query.in_features());
        check_config(d_in, d_out, context_length, dropout, num_heads)?;
        check_layer_shapes(&[
            ("MultiHeadAttention (W_key)", &w_key, (d_out, d_in)),
            ("MultiHeadAttention (W_value)", &w_value, (d_out, d_in)),
            ("MultiHeadAttention (out_proj)", &out_proj, (d_out, d_out)),
        ])?;
        Ok(MultiHeadAttention {
            w_query,
            w_key,
            w_value,
            out_proj,
            dropout: Dropout::new(dropout)?,
            num_heads,
            context_length,
        })
    }

    // `w_query()`, `w_key()`, `w_value()`: the three projections.
    crate::torch::linear::qkv_projection_getters!();

    /// The output projection, `d_out → d_out`, with bias.
    pub fn out_proj(&self) -> &Linear {
        &self.out_proj
    }

    /// The dropout on the attention weights.
    pub fn dropout(&self) -> &Dropout {
        &self.dropout
    }

    /// Number of heads.
    pub fn num_heads(&self) -> usize {
        self.num_heads
    }

    /// Width of one head, `d_out / num_heads`.
    pub fn head_dim(&self) -> usize {
        self.w_query.out_features() / self.num_heads
    }

    /// Input width.
    pub fn d_in(&self) -> usize {
        self.w_query.in_features()
    }

    /// Output width.
    pub fn d_out(&self) -> usize {
        self.w_query.out_features()
    }

    /// The longest input accepted (the size of PyTorch's mask buffer).
    pub fn context_length(&self) -> usize {
        self.context_length
    }

    /// Trainable parameters: three projections plus the output projection (PyTorch's mask buffer
    /// is not a parameter).
    pub fn num_parameters(&self) -> usize {
        [&self.w_query, &self.w_key, &self.w_value, &self.out_proj]
            .iter()
            .map(|l| l.num_parameters())
            .sum()
    }

    /// Evaluation mode (no dropout): `(tokens × d_out)` per batch item.
    ///
    /// # Errors
    ///
    /// [`Error::RaggedBatch`], [`Error::InputWidth`], [`Error::TooManyTokens`] (see
    /// [`check_batch`]).
    pub fn forward(&self, batch: &[DMatrix<f32>]) -> Result<Vec<DMatrix<f32>>, Error> {
        let passes = self.forward_pass(batch, None)?;
        Ok(passes.into_iter().map(ItemPass::into_output).collect())
    }

    /// Training mode: dropout on the attention weights, one mask over the whole
    /// `(batch, heads, tokens, tokens)` tensor in row-major order (item 0 head 0 first), drawn
    /// from `rng` where PyTorch draws it.
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

    /// The attention weights of every head for one input: `num_heads` matrices of
    /// `(tokens × tokens)`, row `i` holding query `i`'s weights over the keys.
    ///
    /// # Errors
    ///
    /// As [`forward`](Self::forward), for a batch of one.
    pub fn heads_attn_weights(&self, x: &DMatrix<f32>) -> Result<Vec<DMatrix<f32>>, Error> {
        let mut passes = self.forward_pass(std::slice::from_ref(x), None)?;
        Ok(passes.remove(0).attn_weights)
    }

    /// The book's `forward`, for the whole batch, keeping what it computed; `rng` is `Some` in
    /// training mode. The module's one forward pass: [`forward`](Self::forward),
    /// [`forward_train`](Self::forward_train) and [`Tape`](crate::gradients::Tape) all run it.
    pub(crate) fn forward_pass(
        &self,
        batch: &[DMatrix<f32>],
        rng: Option<&mut TorchRng>,
    ) -> Result<Vec<ItemPass>, Error> {
        check_batch(
            "MultiHeadAttention",
            batch,
            self.d_in(),
            self.context_length,
        )?;
        let mut attended = Vec::with_capacity(batch.len());
        for x in batch {
            let keys = self.w_key.forward(x)?; // (T, d_out)
            let queries = self.w_query.forward(x)?; // (T, d_out)
            let values = self.w_value.forward(x)?; // (T, d_out)
            // .view(b, T, num_heads, head_dim).transpose(1, 2): (heads, T, head_dim)
            let keys = self.split_heads(&keys);
            let queries = self.split_heads(&queries);
            let values = self.split_heads(&values);
            // attn_scores = queries @ keys.transpose(2, 3): (heads, T, T)
            let attn_scores = queries
                .iter()
                .zip(&keys)
                .map(|(q, k)| matmul(q, &k.transpose()));
            // masked_fill_(mask, -inf), then softmax(attn_scores / √head_dim): (heads, T, T)
            let attn_weights = attn_scores
                .map(|s| causal_attn_weights(&s, self.head_dim()))
                .collect();
            attended.push(Attended {
                queries,
                keys,
                values,
                attn_weights,
            });
        }
        // self.dropout(attn_weights) @ values, one mask over (b, heads, T, T), item 0 head 0
        // first; .transpose(1, 2).contiguous().view(b, T, d_out): the heads side by side
        let mut passes = dropout_then_context(attended, Some(&self.dropout), rng);
        for pass in &mut passes {
            pass.projected = Some(self.out_proj.forward(&pass.context_vec)?); // (T, d_out)
        }
        Ok(passes)
    }

    /// `(T, d_out)` → `(heads, T, head_dim)` for this module's heads: [`split_heads`].
    fn split_heads(&self, m: &DMatrix<f32>) -> PerHead {
        split_heads(m, self.num_heads)
    }
}

/// `(T, d_out)` → `(heads, T, head_dim)`, `head_dim = d_out / num_heads`: head `h` owns columns
/// `h·head_dim .. (h+1)·head_dim`, copied out as owned matrices (nalgebra must not multiply small
/// strided views: its issue #1616). Shared with the backward pass ([`crate::gradients`]).
pub(crate) fn split_heads(m: &DMatrix<f32>, num_heads: usize) -> PerHead {
    let d = m.ncols() / num_heads;
    (0..num_heads)
        .map(|h| m.columns(h * d, d).into_owned())
        .collect()
}

/// `(heads, T, head_dim)` → `(T, heads · head_dim)`: the heads side by side, head 0 first
/// (PyTorch's `torch.cat(heads, dim=-1)`, or `.transpose(1, 2).contiguous().view(b, T, d_out)`).
pub(crate) fn concat_heads(heads: &[DMatrix<f32>]) -> DMatrix<f32> {
    let rows = heads.first().map_or(0, |m| m.nrows());
    let cols = heads.iter().map(|m| m.ncols()).sum();
    let mut out = DMatrix::zeros(rows, cols);
    let mut c0 = 0;
    for m in heads {
        out.columns_mut(c0, m.ncols()).copy_from(m);
        c0 += m.ncols();
    }
    out
}

/// The fixed `(1, 2, 3, 4)` tensor of section 3.6.2's batched-product demo (cell \[138\]):
/// one batch item, two heads, three tokens, head_dim 4. Literal values, no randomness.
pub fn head_scores_demo_input() -> Vec<Vec<DMatrix<f32>>> {
    let head_0 = DMatrix::from_row_slice(
        3,
        4,
        &[
            0.2745, 0.6584, 0.2775, 0.8573, //
            0.8993, 0.0390, 0.9268, 0.7388, //
            0.7179, 0.7058, 0.9156, 0.4340,
        ],
    );
    let head_1 = DMatrix::from_row_slice(
        3,
        4,
        &[
            0.0772, 0.3565, 0.1479, 0.5331, //
            0.4066, 0.2318, 0.4545, 0.9737, //
            0.4606, 0.5159, 0.4220, 0.5786,
        ],
    );
    vec![vec![head_0, head_1]]
}

/// `a @ a.transpose(2, 3)` for a `(batch, heads, tokens, head_dim)` tensor: every head's
/// `(tokens × tokens)` score matrix in one call, as the weight-split class computes them.
pub fn batched_head_scores(a: &[Vec<DMatrix<f32>>]) -> Vec<Vec<DMatrix<f32>>> {
    a.iter()
        .map(|heads| heads.iter().map(|h| h * h.transpose()).collect())
        .collect()
}

fn check_config(
    d_in: usize,
    d_out: usize,
    context_length: usize,
    dropout: f64,
    num_heads: usize,
) -> Result<(), Error> {
    Dropout::new(dropout)?;
    check_nonzero(&[
        ("d_in", d_in),
        ("d_out", d_out),
        ("context_length", context_length),
    ])?;
    if num_heads == 0 {
        return Err(Error::ZeroHeads);
    }
    if d_out % num_heads != 0 {
        return Err(Error::HeadsDoNotDivide { d_out, num_heads });
    }
    Ok(())
}
