//! # Gradients: the backward pass of the chapter's modules, and the mask's exact zeros
#![doc = include_str!(concat!(env!("OUT_DIR"), "/docs/gradients.md"))]

use nalgebra::{DMatrix, DVector};

use crate::multihead::{concat_heads, split_heads};
use crate::torch::matmul;
use crate::validate::check_gradient_shapes;
use crate::validate::check_width;
use crate::{CausalAttention, Error, Linear, MultiHeadAttention, SelfAttentionV2, TorchRng};

pub mod jacobian;
pub(crate) mod pass;
mod wrapper;

use pass::{ItemPass, PerHead};
pub use wrapper::{WrapperGrads, WrapperTape};

/// `∂L/∂weight` and `∂L/∂bias` of one [`Linear`] layer: PyTorch's `layer.weight.grad` and
/// `layer.bias.grad`, shaped like the parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearGrads {
    /// `(out_features × in_features)`, as the weight.
    pub weight: DMatrix<f32>,
    /// `out_features` entries, or `None` for a layer without a bias.
    pub bias: Option<DVector<f32>>,
}

impl LinearGrads {
    /// Zeros shaped like `layer`'s parameters: where the batch's contributions are summed.
    fn zeros_like(layer: &Linear) -> LinearGrads {
        let (rows, cols) = layer.weight().shape();
        LinearGrads {
            weight: DMatrix::zeros(rows, cols),
            bias: layer.bias().map(|b| DVector::zeros(b.len())),
        }
    }
}

/// Everything a backward pass returns: the gradient of the loss with respect to the input and
/// to every weight and bias, as PyTorch's `x.grad` and `module.<layer>.weight.grad` after
/// `out.backward(d_out)`.
#[derive(Debug, Clone, PartialEq)]
pub struct AttentionGrads {
    /// `∂L/∂x`, one `(tokens × d_in)` matrix per batch item: PyTorch's `x.grad`.
    pub x: Vec<DMatrix<f32>>,
    /// The former name of [`x`](Self::x), holding the same matrices.
    #[deprecated(
        since = "0.1.0",
        note = "renamed to `x` (`inputs` read like the book's `inputs()`); same matrices"
    )]
    pub inputs: Vec<DMatrix<f32>>,
    /// The query projection's gradients.
    pub w_query: LinearGrads,
    /// The key projection's gradients.
    pub w_key: LinearGrads,
    /// The value projection's gradients.
    pub w_value: LinearGrads,
    /// The output projection's gradients ([`MultiHeadAttention`] only).
    pub out_proj: Option<LinearGrads>,
    /// `∂L/∂attn_scores` per batch item and head, `(tokens × tokens)`, where `attn_scores` is
    /// the book's tensor as the division by `√head_dim` reads it: `queries · keysᵀ` after the
    /// causal modules' `masked_fill_(mask, −∞)` (which the book applies in place), before the
    /// division. Above the diagonal it holds the gradient of the `−∞` entries the mask wrote,
    /// exactly 0 (the softmax's backward multiplies by their weight, `e^{−∞} = 0`);
    /// [`SelfAttentionV2`] has no mask, and every entry is its score's gradient.
    pub attn_scores: Vec<PerHead>,
}

impl AttentionGrads {
    /// Zeros shaped like the layers' parameters, and no batch item yet.
    #[allow(deprecated)] // fills the deprecated `inputs` alias too
    fn zeros_like(l: &Layers, items: usize) -> AttentionGrads {
        AttentionGrads {
            x: Vec::with_capacity(items),
            inputs: Vec::new(),
            w_query: LinearGrads::zeros_like(l.w_query),
            w_key: LinearGrads::zeros_like(l.w_key),
            w_value: LinearGrads::zeros_like(l.w_value),
            out_proj: l.out_proj.map(LinearGrads::zeros_like),
            attn_scores: Vec::with_capacity(items),
        }
    }

    /// Copies [`x`](Self::x) into the deprecated alias `inputs`, once every item is done.
    #[allow(deprecated)]
    fn fill_alias(mut self) -> AttentionGrads {
        self.inputs = self.x.clone();
        self
    }
}

/// Which module a [`Tape`] runs, and the layers it borrows.
#[derive(Debug, Clone, Copy)]
struct Layers<'m> {
    w_query: &'m Linear,
    w_key: &'m Linear,
    w_value: &'m Linear,
    out_proj: Option<&'m Linear>,
    num_heads: usize,
    causal: bool,
}

impl<'m> Layers<'m> {
    /// One causal head: [`CausalAttention`]'s layers.
    fn causal(module: &'m CausalAttention) -> Layers<'m> {
        Layers {
            w_query: module.w_query(),
            w_key: module.w_key(),
            w_value: module.w_value(),
            out_proj: None,
            num_heads: 1,
            causal: true,
        }
    }
}

/// A forward pass that keeps what its backward pass needs, as PyTorch's autograd keeps the
/// tensors of a graph: the input, the projections, the attention weights and the dropout
/// factors it drew. Build one with [`self_attention_v2`](Self::self_attention_v2),
/// [`causal`](Self::causal) or [`multi_head`](Self::multi_head); read the output with
/// [`output`](Self::output); then [`backward`](Self::backward).
///
/// The tape does not repeat the module's steps: it runs the module's own forward pass, which
/// keeps what it computed, so its output *is* the module's `forward` (or `forward_train` from
/// the same generator, drawing the same dropout mask), bit for bit.
///
/// ```
/// use ch03_attention::gradients::Tape;
/// use ch03_attention::inputs::inputs;
/// use ch03_attention::nalgebra::DMatrix;
/// use ch03_attention::{CausalAttention, TorchRng};
///
/// let mut rng = TorchRng::manual_seed(123);
/// let ca = CausalAttention::new(3, 2, 6, 0.0, false, &mut rng).unwrap();
/// let batch = [inputs()];
/// let tape = Tape::causal(&ca, &batch, None).unwrap(); // eval mode
/// assert_eq!(tape.output(), ca.forward(&batch).unwrap());
/// // L = sum of every output: the upstream gradient is all ones.
/// let grads = tape.backward(&[DMatrix::from_element(6, 2, 1.0)]).unwrap();
/// assert_eq!(grads.w_query.weight.shape(), (2, 3));
/// assert_eq!(grads.x[0].shape(), (6, 3)); // ∂L/∂x, PyTorch's x.grad
/// ```
#[derive(Debug, Clone)]
pub struct Tape<'m> {
    layers: Layers<'m>,
    batch: Vec<DMatrix<f32>>, // (b, T, d_in): the input
    items: Vec<ItemPass>,     // the module's forward pass, per batch item
}

impl<'m> Tape<'m> {
    /// [`SelfAttentionV2::forward`] on one input `x` (`tokens × d_in`), recorded: one head, no
    /// mask, no dropout. The tape holds one batch item.
    ///
    /// # Errors
    ///
    /// [`Error::InputWidth`] if `x` does not have `d_in` columns.
    pub fn self_attention_v2(
        module: &'m SelfAttentionV2,
        x: &DMatrix<f32>,
    ) -> Result<Tape<'m>, Error> {
        let layers = Layers {
            w_query: module.w_query(),
            w_key: module.w_key(),
            w_value: module.w_value(),
            out_proj: None,
            num_heads: 1,
            causal: false,
        };
        check_width("SelfAttentionV2", x, layers.d_in())?;
        let items = vec![module.forward_pass(x)?];
        Ok(Tape::new(layers, std::slice::from_ref(x), items))
    }

    /// [`CausalAttention::forward`] (`rng` is `None`) or
    /// [`forward_train`](CausalAttention::forward_train) (`Some(rng)`: the dropout mask is
    /// drawn from `rng` exactly as `forward_train` draws it), recorded.
    ///
    /// # Errors
    ///
    /// The input errors of [`CausalAttention::forward`].
    pub fn causal(
        module: &'m CausalAttention,
        batch: &[DMatrix<f32>],
        rng: Option<&mut TorchRng>,
    ) -> Result<Tape<'m>, Error> {
        let items = module.forward_pass(batch, rng)?;
        Ok(Tape::new(Layers::causal(module), batch, items))
    }

    /// [`MultiHeadAttention::forward`] (`rng` is `None`) or
    /// [`forward_train`](MultiHeadAttention::forward_train) (`Some(rng)`), recorded.
    ///
    /// # Errors
    ///
    /// The input errors of [`MultiHeadAttention::forward`].
    pub fn multi_head(
        module: &'m MultiHeadAttention,
        batch: &[DMatrix<f32>],
        rng: Option<&mut TorchRng>,
    ) -> Result<Tape<'m>, Error> {
        let layers = Layers {
            w_query: module.w_query(),
            w_key: module.w_key(),
            w_value: module.w_value(),
            out_proj: Some(module.out_proj()),
            num_heads: module.num_heads(),
            causal: true,
        };
        let items = module.forward_pass(batch, rng)?;
        Ok(Tape::new(layers, batch, items))
    }

    fn new(layers: Layers<'m>, batch: &[DMatrix<f32>], items: Vec<ItemPass>) -> Tape<'m> {
        Tape {
            layers,
            batch: batch.to_vec(),
            items,
        }
    }

    /// The forward pass's output, one `(tokens × d_out)` matrix per batch item.
    pub fn output(&self) -> Vec<DMatrix<f32>> {
        self.items
            .iter()
            .map(|item| item.output().clone())
            .collect()
    }

    /// The attention weights after dropout, per batch item and head (`(tokens × tokens)`):
    /// what multiplied the values.
    pub fn dropped_attn_weights(&self) -> Vec<PerHead> {
        self.items
            .iter()
            .map(|item| item.dropped().clone())
            .collect()
    }

    /// The dropout factors the forward pass drew (`1 / (1 − p)` kept, 0 dropped), per batch
    /// item and head; `None` in evaluation mode.
    pub fn dropout_noise(&self) -> Option<Vec<PerHead>> {
        self.items.iter().map(|item| item.noise.clone()).collect()
    }

    /// The backward pass: given `d_output = ∂L/∂output` (one `(tokens × d_out)` matrix per batch
    /// item, as `out.backward(d_output)` takes it), the gradient with respect to the input and
    /// every weight and bias. Weight gradients are summed over the batch, as PyTorch sums them.
    ///
    /// Each step reverses one line of the forward pass, last line first (see the module docs).
    ///
    /// # Errors
    ///
    /// [`Error::GradientBatch`] or [`Error::GradientShape`] if `d_output` is not shaped like the
    /// output.
    pub fn backward(&self, d_output: &[DMatrix<f32>]) -> Result<AttentionGrads, Error> {
        check_gradient_shapes(&self.output(), d_output)?;
        let mut grads = AttentionGrads::zeros_like(&self.layers, self.items.len());
        for ((item, x), d_out) in self.items.iter().zip(&self.batch).zip(d_output) {
            self.item_backward(item, x, d_out, &mut grads);
        }
        Ok(grads.fill_alias())
    }

    /// One batch item's backward pass, from `∂output` to `∂x`, adding its share of the weight
    /// gradients to `grads`.
    fn item_backward(
        &self,
        item: &ItemPass,
        x: &DMatrix<f32>,
        d_output: &DMatrix<f32>,
        grads: &mut AttentionGrads,
    ) {
        let l = &self.layers;
        // output = out_proj(context_vec) (MultiHeadAttention; the others output context_vec)
        let d_context_vec = match (l.out_proj, grads.out_proj.as_mut()) {
            (Some(out_proj), Some(g)) => linear_backward(out_proj, &item.context_vec, d_output, g),
            _ => d_output.clone(),
        }; // (T, d_out)
        // context_vec = the heads side by side
        let d_context = split_heads(&d_context_vec, l.num_heads); // (heads, T, head_dim)
        let heads: Vec<HeadGrads> = (0..l.num_heads)
            .map(|h| self.head_backward(item, h, &d_context[h]))
            .collect();
        // queries, keys, values = W_query(x), W_key(x), W_value(x), split into heads
        let d_queries = concat_heads(&heads.iter().map(|g| g.queries.clone()).collect::<PerHead>());
        let d_keys = concat_heads(&heads.iter().map(|g| g.keys.clone()).collect::<PerHead>());
        let d_values = concat_heads(&heads.iter().map(|g| g.values.clone()).collect::<PerHead>());
        let d_x_query = linear_backward(l.w_query, x, &d_queries, &mut grads.w_query);
        let d_x_key = linear_backward(l.w_key, x, &d_keys, &mut grads.w_key);
        let d_x_value = linear_backward(l.w_value, x, &d_values, &mut grads.w_value);
        grads.x.push(d_x_query + d_x_key + d_x_value); // (T, d_in)
        grads
            .attn_scores
            .push(heads.into_iter().map(|g| g.attn_scores).collect());
    }

    /// Head `h`'s backward pass, from `∂context_h` to `∂queries_h`, `∂keys_h`, `∂values_h`.
    fn head_backward(&self, item: &ItemPass, h: usize, d_context: &DMatrix<f32>) -> HeadGrads {
        let l = &self.layers;
        // context_h = dropped @ values_h
        let d_dropped = matmul(d_context, &item.values[h].transpose()); // (T, T)
        let d_values = matmul(&item.dropped()[h].transpose(), d_context); // (T, head_dim)
        // dropped = dropout(attn_weights): the noise the forward pass drew
        let d_attn_weights = match &item.noise {
            Some(noise) => d_dropped.component_mul(&noise[h]), // (T, T)
            None => d_dropped,
        };
        // attn_weights = softmax(masked / √head_dim)
        let d_masked = softmax_rows_backward(&item.attn_weights[h], &d_attn_weights) / l.scale();
        // masked = attn_scores.masked_fill(future, −∞): a replaced score gets no gradient
        let d_attn_scores = match l.causal {
            true => zero_future(&d_masked),
            false => d_masked.clone(),
        }; // (T, T)
        // attn_scores = queries_h @ keys_hᵀ
        let d_queries = matmul(&d_attn_scores, &item.keys[h]); // (T, head_dim)
        let d_keys = matmul(&d_attn_scores.transpose(), &item.queries[h]); // (T, head_dim)
        HeadGrads {
            queries: d_queries,
            keys: d_keys,
            values: d_values,
            attn_scores: d_masked,
        }
    }
}

/// One head's share of a backward pass.
struct HeadGrads {
    queries: DMatrix<f32>,     // (T, head_dim)
    keys: DMatrix<f32>,        // (T, head_dim)
    values: DMatrix<f32>,      // (T, head_dim)
    attn_scores: DMatrix<f32>, // (T, T): after the mask, before the division by √head_dim
}

impl Layers<'_> {
    fn d_in(&self) -> usize {
        self.w_query.in_features()
    }

    /// `√head_dim`, the divisor of the scores.
    fn scale(&self) -> f32 {
        let head_dim = self.w_query.out_features() / self.num_heads;
        (head_dim as f32).sqrt()
    }
}

/// The backward pass of `y = x Wᵀ + b`: adds `∂L/∂W = d_yᵀ x` and `∂L/∂b = Σ_rows d_y` to
/// `grads` and returns `∂L/∂x = d_y W`, `(n × in)`.
fn linear_backward(
    layer: &Linear,
    x: &DMatrix<f32>,
    d_y: &DMatrix<f32>,
    grads: &mut LinearGrads,
) -> DMatrix<f32> {
    grads.weight += matmul(&d_y.transpose(), x); // (out, in)
    if let Some(d_bias) = grads.bias.as_mut() {
        for (j, column) in d_y.column_iter().enumerate() {
            d_bias[j] += column.sum(); // (out)
        }
    }
    matmul(d_y, layer.weight()) // (n, in)
}

/// The backward pass of a row-wise softmax: row by row,
/// `∂L/∂scores = w ∘ (∂L/∂w − (w · ∂L/∂w))`. A weight of exactly 0 (a masked key) gives
/// exactly 0, whatever the upstream gradient.
pub fn softmax_rows_backward(
    attn_weights: &DMatrix<f32>,
    d_attn_weights: &DMatrix<f32>,
) -> DMatrix<f32> {
    let mut d_scores = DMatrix::zeros(attn_weights.nrows(), attn_weights.ncols());
    for i in 0..attn_weights.nrows() {
        let w = attn_weights.row(i);
        let d_w = d_attn_weights.row(i);
        let dot = w.dot(&d_w); // Σ_j w_j · ∂L/∂w_j
        for j in 0..attn_weights.ncols() {
            d_scores[(i, j)] = w[j] * (d_w[j] - dot);
        }
    }
    d_scores
}

/// The backward pass of `masked_fill_(future, −∞)`: the gradient of every replaced score
/// (above the diagonal) is set to `+0`; the others pass unchanged.
fn zero_future(d_masked: &DMatrix<f32>) -> DMatrix<f32> {
    DMatrix::from_fn(d_masked.nrows(), d_masked.ncols(), |i, j| {
        if j > i { 0.0 } else { d_masked[(i, j)] }
    })
}

/// The fixed upstream gradient of the PyTorch ground truth (`scripts/torch_grad_truth.py`):
/// `batch` matrices of `(tokens × width)` whose entry number `i` in row-major order (over the
/// whole batch) is `cos(0.7 i + 0.3)`, computed in `f64` and rounded to `f32`. Of both signs, of
/// order 1, and different for every output, so no gradient is 0 by symmetry.
///
/// ```
/// use ch03_attention::gradients::cosine_upstream;
/// let g = cosine_upstream(2, 3, 2);
/// assert_eq!(g[0][(0, 0)], 0.3_f64.cos() as f32);
/// assert_eq!(g[1][(0, 1)], (0.7 * 7.0 + 0.3_f64).cos() as f32); // entry 7
/// ```
pub fn cosine_upstream(batch: usize, tokens: usize, width: usize) -> Vec<DMatrix<f32>> {
    (0..batch)
        .map(|b| {
            DMatrix::from_fn(tokens, width, |t, c| {
                let i = (b * tokens + t) * width + c;
                (0.7 * i as f64 + 0.3).cos() as f32
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The modules' own backward, in evaluation mode.
// ---------------------------------------------------------------------------------------------

impl SelfAttentionV2 {
    /// The gradients of `L` given `d_context_vecs = ∂L/∂forward(x)`, `(tokens × d_out)`:
    /// [`Tape::self_attention_v2`] then [`Tape::backward`].
    ///
    /// # Errors
    ///
    /// [`Error::InputWidth`] for a wrong `x`; [`Error::GradientShape`] for a wrong
    /// `d_context_vecs`.
    pub fn backward(
        &self,
        x: &DMatrix<f32>,
        d_context_vecs: &DMatrix<f32>,
    ) -> Result<AttentionGrads, Error> {
        Tape::self_attention_v2(self, x)?.backward(std::slice::from_ref(d_context_vecs))
    }
}

impl CausalAttention {
    /// Evaluation mode's gradients given `d_context_vecs = ∂L/∂forward(batch)`: [`Tape::causal`]
    /// without dropout, then [`Tape::backward`]. For training mode, record a [`Tape`] with the
    /// generator, so the backward pass uses the mask the forward pass drew.
    ///
    /// # Errors
    ///
    /// The input errors of [`forward`](Self::forward); [`Error::GradientBatch`] or
    /// [`Error::GradientShape`] for a wrong `d_context_vecs`.
    pub fn backward(
        &self,
        batch: &[DMatrix<f32>],
        d_context_vecs: &[DMatrix<f32>],
    ) -> Result<AttentionGrads, Error> {
        Tape::causal(self, batch, None)?.backward(d_context_vecs)
    }
}

impl MultiHeadAttention {
    /// Evaluation mode's gradients given `d_context_vecs = ∂L/∂forward(batch)`:
    /// [`Tape::multi_head`] without dropout, then [`Tape::backward`].
    ///
    /// # Errors
    ///
    /// As [`CausalAttention::backward`].
    pub fn backward(
        &self,
        batch: &[DMatrix<f32>],
        d_context_vecs: &[DMatrix<f32>],
    ) -> Result<AttentionGrads, Error> {
        Tape::multi_head(self, batch, None)?.backward(d_context_vecs)
    }
}
