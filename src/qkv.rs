//! # Queries, keys and values: self-attention with trainable weights (3.4)
#![doc = include_str!(concat!(env!("OUT_DIR"), "/docs/qkv.md"))]

use nalgebra::{DMatrix, DVector};

use crate::gradients::pass::{Attended, ItemPass, dropout_then_context};
use crate::normalize::{softmax, softmax_rows};
use crate::torch::matmul;
use crate::validate::{check_layer_shapes, check_nonzero, check_width};
use crate::{Error, Linear, TorchRng};

// ---------------------------------------------------------------------------------------------
// 3.4.1, step by step: one query, written out.
// ---------------------------------------------------------------------------------------------

/// Projects one token embedding with a weight matrix: `x · W` (`d_in` → `d_out`).
///
/// With `W = W_query` this is the query `q⁽²⁾ = x⁽²⁾ W_q` of section 3.4.1; with `W_key` or
/// `W_value` it gives that token's key or value.
///
/// # Errors
///
/// [`Error::ShapeMismatch`] if `x` does not have one element per row of `w`.
pub fn project(x: &DVector<f32>, w: &DMatrix<f32>) -> Result<DVector<f32>, Error> {
    if x.len() != w.nrows() {
        return Err(Error::ShapeMismatch {
            op: "project",
            left: (1, x.len()),
            right: w.shape(),
        });
    }
    Ok(w.transpose() * x) // (d_out, d_in) · (d_in) = (d_out)
}

/// Projects every token at once: `X · W`, `(tokens × d_in)` → `(tokens × d_out)`. With
/// `W_key` these are the `keys`, with `W_value` the `values`.
///
/// # Errors
///
/// [`Error::InputWidth`] if `x` does not have one column per row of `w`.
pub fn project_all(x: &DMatrix<f32>, w: &DMatrix<f32>) -> Result<DMatrix<f32>, Error> {
    check_width("project_all", x, w.nrows())?;
    Ok(x * w) // (tokens, d_in) · (d_in, d_out) = (tokens, d_out)
}

/// The scores of one query against every key: `ω = q · Kᵀ`, one per token.
///
/// # Errors
///
/// [`Error::ShapeMismatch`] if the query and the keys have different widths (`d_out`).
pub fn attn_scores_of(query: &DVector<f32>, keys: &DMatrix<f32>) -> Result<DVector<f32>, Error> {
    if query.len() != keys.ncols() {
        return Err(Error::ShapeMismatch {
            op: "attn_scores_of",
            left: (1, query.len()),
            right: keys.shape(),
        });
    }
    Ok(keys * query) // (tokens, d_k) · (d_k) = (tokens)
}

/// Softmax of the scores divided by `√d_k` (section 3.4.1, step 3): the scaled attention
/// weights of one query.
pub fn scaled_softmax(attn_scores: &DVector<f32>, d_k: usize) -> DVector<f32> {
    softmax(&(attn_scores / (d_k as f32).sqrt()))
}

/// The context vector of one query: its attention weights applied to the value vectors,
/// `z = α · V` (section 3.4.1, step 4).
///
/// # Errors
///
/// [`Error::ShapeMismatch`] if there is not one weight per value row.
pub fn weighted_values(
    attn_weights: &DVector<f32>,
    values: &DMatrix<f32>,
) -> Result<DVector<f32>, Error> {
    if attn_weights.len() != values.nrows() {
        return Err(Error::ShapeMismatch {
            op: "weighted_values",
            left: (1, attn_weights.len()),
            right: values.shape(),
        });
    }
    Ok(values.transpose() * attn_weights) // (d_v, tokens) · (tokens) = (d_v)
}

/// Scaled dot-product attention on already-projected queries, keys and values:
/// `softmax(Q Kᵀ / √d_k) V`, returning `(attn_weights, context_vecs)`.
///
/// Used by `SelfAttentionV1`. The caller guarantees matching shapes.
fn scaled_dot_product(
    queries: &DMatrix<f32>,
    keys: &DMatrix<f32>,
    values: &DMatrix<f32>,
) -> (DMatrix<f32>, DMatrix<f32>) {
    let attn_weights = scaled_attn_weights(queries, keys); // (tokens, tokens)
    let context_vecs = matmul(&attn_weights, values); // (tokens, d_out)
    (attn_weights, context_vecs)
}

/// `softmax(Q Kᵀ / √d_k)`, row by row: the attention weights of both classes of section 3.4.
fn scaled_attn_weights(queries: &DMatrix<f32>, keys: &DMatrix<f32>) -> DMatrix<f32> {
    let d_k = keys.ncols();
    let attn_scores = matmul(queries, &keys.transpose()); // (tokens, tokens)
    softmax_rows(&(attn_scores / (d_k as f32).sqrt()))
}

// ---------------------------------------------------------------------------------------------
// 3.4.2, the compact classes.
// ---------------------------------------------------------------------------------------------

/// Self-attention with three plain weight matrices, as in section 3.4.2's `SelfAttention_v1`.
///
/// The weights are `(d_in × d_out)` matrices drawn with `torch.rand` (uniform in `[0, 1)`) in
/// the order `W_query`, `W_key`, `W_value`, and are applied as `X · W`.
///
/// ```
/// use ch03_attention::{SelfAttentionV1, TorchRng};
/// use ch03_attention::inputs::inputs;
///
/// let mut rng = TorchRng::manual_seed(123);
/// let sa_v1 = SelfAttentionV1::new(3, 2, &mut rng);
/// let context_vecs = sa_v1.forward(&inputs()).unwrap(); // (6, 2)
/// assert_eq!(context_vecs.shape(), (6, 2));
/// assert!((context_vecs[(0, 0)] - 0.2996).abs() < 5e-5); // the book's first row: [0.2996, 0.8053]
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SelfAttentionV1 {
    w_query: DMatrix<f32>,
    w_key: DMatrix<f32>,
    w_value: DMatrix<f32>,
}

impl SelfAttentionV1 {
    /// Draws `W_query`, `W_key`, `W_value` (each `d_in × d_out`) from `rng`, in that order,
    /// exactly as `nn.Parameter(torch.rand(d_in, d_out))` three times: `3 · d_in · d_out` draws.
    pub fn new(d_in: usize, d_out: usize, rng: &mut TorchRng) -> SelfAttentionV1 {
        let w_query = rng.rand(d_in, d_out);
        let w_key = rng.rand(d_in, d_out);
        let w_value = rng.rand(d_in, d_out);
        SelfAttentionV1 {
            w_query,
            w_key,
            w_value,
        }
    }

    /// Builds the module from given `(d_in × d_out)` weights.
    ///
    /// # Errors
    ///
    /// [`Error::ShapeMismatch`] if the three matrices do not share one shape.
    pub fn from_weights(
        w_query: DMatrix<f32>,
        w_key: DMatrix<f32>,
        w_value: DMatrix<f32>,
    ) -> Result<SelfAttentionV1, Error> {
        for (op, w) in [
            ("from_weights (W_key)", &w_key),
            ("from_weights (W_value)", &w_value),
        ] {
            if w.shape() != w_query.shape() {
                return Err(Error::ShapeMismatch {
                    op,
                    left: w_query.shape(),
                    right: w.shape(),
                });
            }
        }
        Ok(SelfAttentionV1 {
            w_query,
            w_key,
            w_value,
        })
    }

    /// Exercise 3.1: a `SelfAttentionV1` computing exactly what `v2` computes, by copying v2's
    /// `Linear` weights transposed (`(d_out × d_in)` → `(d_in × d_out)`).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] if `v2` has biases (`qkv_bias = true`): v1 has nowhere to put them.
    pub fn from_v2(v2: &SelfAttentionV2) -> Result<SelfAttentionV1, Error> {
        if v2.w_query.bias().is_some() {
            return Err(Error::InvalidConfig(
                "SelfAttentionV2 with qkv_bias = true has biases, which SelfAttentionV1 cannot hold"
                    .into(),
            ));
        }
        SelfAttentionV1::from_weights(
            v2.w_query.weight().transpose(),
            v2.w_key.weight().transpose(),
            v2.w_value.weight().transpose(),
        )
    }

    /// `W_query`, `(d_in × d_out)`.
    pub fn w_query(&self) -> &DMatrix<f32> {
        &self.w_query
    }

    /// `W_key`, `(d_in × d_out)`.
    pub fn w_key(&self) -> &DMatrix<f32> {
        &self.w_key
    }

    /// `W_value`, `(d_in × d_out)`.
    pub fn w_value(&self) -> &DMatrix<f32> {
        &self.w_value
    }

    /// The `(tokens × tokens)` attention weights `softmax(Q Kᵀ / √d_k)` for input `x`.
    ///
    /// # Errors
    ///
    /// [`Error::InputWidth`] if `x` does not have `d_in` columns.
    pub fn attn_weights(&self, x: &DMatrix<f32>) -> Result<DMatrix<f32>, Error> {
        Ok(self.attend(x)?.0)
    }

    /// The context vectors for input `x` (`tokens × d_in`): `(tokens × d_out)`.
    ///
    /// # Errors
    ///
    /// [`Error::InputWidth`] if `x` does not have `d_in` columns.
    pub fn forward(&self, x: &DMatrix<f32>) -> Result<DMatrix<f32>, Error> {
        Ok(self.attend(x)?.1)
    }

    fn attend(&self, x: &DMatrix<f32>) -> Result<(DMatrix<f32>, DMatrix<f32>), Error> {
        check_width("SelfAttentionV1", x, self.w_query.nrows())?;
        let keys = matmul(x, &self.w_key); // (tokens, d_out)
        let queries = matmul(x, &self.w_query); // (tokens, d_out)
        let values = matmul(x, &self.w_value); // (tokens, d_out)
        Ok(scaled_dot_product(&queries, &keys, &values))
    }
}

/// Self-attention with three `nn.Linear` layers, as in section 3.4.2's `SelfAttention_v2`.
///
/// Same computation as [`SelfAttentionV1`], but each projection is a [`Linear`] layer: its
/// weight is stored `(d_out × d_in)` and applied as `X · Wᵀ (+ b)`, and it is initialized the
/// way PyTorch initializes `nn.Linear` (uniform in `±1/√d_in`), which keeps the scores small
/// and training stable.
///
/// ```
/// use ch03_attention::{SelfAttentionV2, TorchRng};
/// use ch03_attention::inputs::inputs;
///
/// let mut rng = TorchRng::manual_seed(789);
/// let sa_v2 = SelfAttentionV2::new(3, 2, false, &mut rng);
/// let context_vecs = sa_v2.forward(&inputs()).unwrap();
/// assert!((context_vecs[(0, 0)] - -0.0739).abs() < 5e-5); // the book: [-0.0739, 0.0713]
/// ```
#[derive(Debug, Clone)]
pub struct SelfAttentionV2 {
    w_query: Linear,
    w_key: Linear,
    w_value: Linear,
}

impl SelfAttentionV2 {
    /// Creates `W_query`, `W_key`, `W_value` as `Linear(d_in, d_out, qkv_bias)`, in that order,
    /// drawing from `rng` exactly as PyTorch does.
    pub fn new(d_in: usize, d_out: usize, qkv_bias: bool, rng: &mut TorchRng) -> SelfAttentionV2 {
        let w_query = Linear::new(d_in, d_out, qkv_bias, rng);
        let w_key = Linear::new(d_in, d_out, qkv_bias, rng);
        let w_value = Linear::new(d_in, d_out, qkv_bias, rng);
        SelfAttentionV2 {
            w_query,
            w_key,
            w_value,
        }
    }

    /// Builds the module from given layers: weights copied from elsewhere, or the module's own
    /// with one weight nudged to watch the output move. All three must map `d_in → d_out`, as
    /// `w_query` does; with or without a bias each.
    ///
    /// ```
    /// use ch03_attention::inputs::inputs;
    /// use ch03_attention::{Linear, SelfAttentionV2, TorchRng};
    ///
    /// let book = SelfAttentionV2::new(3, 2, false, &mut TorchRng::manual_seed(789));
    /// let copy = SelfAttentionV2::from_parts(
    ///     book.w_query().clone(),
    ///     book.w_key().clone(),
    ///     book.w_value().clone(),
    /// )
    /// .unwrap();
    /// assert_eq!(copy.forward(&inputs()).unwrap(), book.forward(&inputs()).unwrap());
    ///
    /// let wide_key = Linear::new(3, 4, false, &mut TorchRng::manual_seed(1)); // 3 → 4, not 3 → 2
    /// let err = SelfAttentionV2::from_parts(book.w_query().clone(), wide_key, book.w_value().clone())
    ///     .unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "SelfAttentionV2 (W_key): shapes (2 × 3) and (4 × 3) do not fit together"
    /// );
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::ZeroSize`] if `w_query` has no input or no output; [`Error::ShapeMismatch`] if
    /// `w_key` or `w_value` is not shaped like `w_query` (`(d_out × d_in)`, as PyTorch stores a
    /// weight), naming the layer, the shape it should have and the shape it has.
    pub fn from_parts(
        w_query: Linear,
        w_key: Linear,
        w_value: Linear,
    ) -> Result<SelfAttentionV2, Error> {
        let (d_out, d_in) = (w_query.out_features(), w_query.in_features());
        check_nonzero(&[("d_in", d_in), ("d_out", d_out)])?;
        check_layer_shapes(&[
            ("SelfAttentionV2 (W_key)", &w_key, (d_out, d_in)),
            ("SelfAttentionV2 (W_value)", &w_value, (d_out, d_in)),
        ])?;
        Ok(SelfAttentionV2 {
            w_query,
            w_key,
            w_value,
        })
    }

    // `w_query()`, `w_key()`, `w_value()`: the three projections.
    crate::torch::linear::qkv_projection_getters!();

    /// The unscaled scores `Q Kᵀ` for input `x`: `(tokens × tokens)`. Section 3.5.1 masks these.
    ///
    /// # Errors
    ///
    /// [`Error::InputWidth`] if `x` does not have `d_in` columns.
    pub fn attn_scores(&self, x: &DMatrix<f32>) -> Result<DMatrix<f32>, Error> {
        let queries = self.w_query.forward(x)?; // (tokens, d_out)
        let keys = self.w_key.forward(x)?; // (tokens, d_out)
        Ok(matmul(&queries, &keys.transpose())) // (tokens, tokens)
    }

    /// The `(tokens × tokens)` attention weights `softmax(Q Kᵀ / √d_k)` for input `x`.
    ///
    /// # Errors
    ///
    /// [`Error::InputWidth`] if `x` does not have `d_in` columns.
    pub fn attn_weights(&self, x: &DMatrix<f32>) -> Result<DMatrix<f32>, Error> {
        Ok(self.forward_pass(x)?.attn_weights.remove(0))
    }

    /// The context vectors for input `x` (`tokens × d_in`): `(tokens × d_out)`.
    ///
    /// # Errors
    ///
    /// [`Error::InputWidth`] if `x` does not have `d_in` columns.
    pub fn forward(&self, x: &DMatrix<f32>) -> Result<DMatrix<f32>, Error> {
        Ok(self.forward_pass(x)?.into_output())
    }

    /// The book's `forward`, keeping what it computed (one head, no dropout): the module's one
    /// forward pass, which [`Tape`](crate::gradients::Tape) records.
    pub(crate) fn forward_pass(&self, x: &DMatrix<f32>) -> Result<ItemPass, Error> {
        let keys = self.w_key.forward(x)?; // (tokens, d_out)
        let queries = self.w_query.forward(x)?; // (tokens, d_out)
        let values = self.w_value.forward(x)?; // (tokens, d_out)
        let attn_weights = scaled_attn_weights(&queries, &keys); // (tokens, tokens)
        let attended = Attended {
            queries: vec![queries],
            keys: vec![keys],
            values: vec![values],
            attn_weights: vec![attn_weights],
        };
        // attn_weights @ values: (tokens, d_out)
        let mut pass = dropout_then_context(vec![attended], None, None);
        Ok(pass.remove(0))
    }
}

// ---------------------------------------------------------------------------------------------
// Why divide by √d_k: measured.
// ---------------------------------------------------------------------------------------------

/// What scaling by `√d_k` does to random scores, measured over many trials (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct ScalingEvidence {
    /// Dimension of queries and keys.
    pub d_k: usize,
    /// Empirical variance of `q · k` for random `q`, `k` with unit-variance components
    /// (theory: `d_k`).
    pub score_variance: f64,
    /// Empirical variance of `q · k / √d_k` (theory: 1).
    pub scaled_score_variance: f64,
    /// Mean entropy (nats) of `softmax(scores)` over `n_keys` keys; `ln(n_keys)` is uniform, 0 one-hot.
    pub entropy_unscaled: f64,
    /// Mean entropy of `softmax(scores / √d_k)`.
    pub entropy_scaled: f64,
    /// Mean largest weight of `softmax(scores)` (1 = one-hot).
    pub max_weight_unscaled: f64,
    /// Mean largest weight of `softmax(scores / √d_k)`.
    pub max_weight_scaled: f64,
    /// Mean Frobenius norm of the softmax Jacobian `diag(p) − p pᵀ` without scaling: how much the
    /// weights respond to the scores, i.e. how much gradient flows back through the softmax.
    pub jacobian_norm_unscaled: f64,
    /// The same with scaling.
    pub jacobian_norm_scaled: f64,
}

/// Draws `trials` random queries, each scored against `n_keys` random keys of dimension `d_k`,
/// with every component uniform in `[−√3, √3)` (mean 0, variance 1), and measures the scores and
/// the softmax of the scores with and without the `1/√d_k` scaling.
///
/// # Errors
///
/// [`Error::ZeroSize`] if `d_k`, `n_keys` or `trials` is 0.
pub fn scaling_evidence(
    d_k: usize,
    n_keys: usize,
    trials: usize,
    rng: &mut TorchRng,
) -> Result<ScalingEvidence, Error> {
    check_nonzero(&[("d_k", d_k), ("n_keys", n_keys), ("trials", trials)])?;
    let half_width = 3.0_f64.sqrt();
    let scale = (d_k as f64).sqrt();
    let mut scores_all = Vec::with_capacity(trials * n_keys);
    let (mut h_u, mut h_s, mut m_u, mut m_s, mut j_u, mut j_s) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    for _ in 0..trials {
        let query = rng.uniform(d_k, 1, -half_width, half_width); // (d_k, 1)
        let keys = rng.uniform(n_keys, d_k, -half_width, half_width); // (n_keys, d_k)
        let scores = &keys * &query; // (n_keys, 1)
        let scores = DVector::from_iterator(n_keys, scores.iter().copied());
        scores_all.extend(scores.iter().map(|s| f64::from(*s)));
        let unscaled = softmax(&scores);
        let scaled = softmax(&(&scores / scale as f32));
        h_u += entropy(&unscaled);
        h_s += entropy(&scaled);
        m_u += f64::from(unscaled.max());
        m_s += f64::from(scaled.max());
        j_u += softmax_jacobian_norm(&unscaled);
        j_s += softmax_jacobian_norm(&scaled);
    }
    let t = trials as f64;
    let var = variance(&scores_all);
    Ok(ScalingEvidence {
        d_k,
        score_variance: var,
        scaled_score_variance: var / (scale * scale),
        entropy_unscaled: h_u / t,
        entropy_scaled: h_s / t,
        max_weight_unscaled: m_u / t,
        max_weight_scaled: m_s / t,
        jacobian_norm_unscaled: j_u / t,
        jacobian_norm_scaled: j_s / t,
    })
}

/// Shannon entropy `−Σ p ln p` in nats (terms with `p = 0` contribute 0).
pub fn entropy(p: &DVector<f32>) -> f64 {
    p.iter()
        .map(|&v| f64::from(v))
        .filter(|&v| v > 0.0)
        .map(|v| -v * v.ln())
        .sum()
}

/// Frobenius norm of the softmax Jacobian `∂p/∂ω = diag(p) − p pᵀ`.
///
/// It is 0 for a one-hot `p` (the weights no longer move when the scores do, so no gradient
/// reaches the scores) and largest for a spread-out `p`.
pub fn softmax_jacobian_norm(p: &DVector<f32>) -> f64 {
    let mut sum_sq = 0.0;
    for i in 0..p.len() {
        for j in 0..p.len() {
            let (pi, pj) = (f64::from(p[i]), f64::from(p[j]));
            // Entry (i, j) is pᵢ(1 − pᵢ) on the diagonal and −pᵢpⱼ off it; only its square
            // enters the norm, so the sign of the off-diagonal entries can be left out.
            let magnitude = if i == j { pi - pi * pj } else { pi * pj };
            sum_sq += magnitude * magnitude;
        }
    }
    sum_sq.sqrt()
}

fn variance(xs: &[f64]) -> f64 {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n
}
