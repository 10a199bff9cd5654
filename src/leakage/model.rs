//! The tiny next-word model, its forward pass, and its gradients written out by hand.
//!
//! ```text
//! tokens (T)  →  x = tok_emb[token] + pos_emb[t]           (T, d)
//!             →  queries, keys, values = x·W_q, x·W_k, x·W_v   (T, d)
//!             →  attn_weights = softmax(queries·keysᵀ / √d) (T, T)   optional causal mask
//!             →  context_vecs = attn_weights · values       (T, d)
//!             →  hidden = x + context_vecs                  (T, d)   shortcut connection
//!             →  logits = hidden · W_out + b_out            (T, vocab)
//!             →  loss = mean cross-entropy against the next word
//! ```
//!
//! The shortcut (chapter 4 calls it a shortcut connection) lets the output layer read each
//! word's own embedding, so the honest rule, "predict the word that usually follows this one",
//! needs no attention at all; the attention head is free to do whatever the mask allows. Without
//! the shortcut the unmasked model often learns the honest rule through attention first and takes
//! many more steps to find the copying shortcut.

use nalgebra::DMatrix;

use crate::validate::{check_nonzero, zeros};
use crate::{Error, TorchRng};

/// The model's parameters: embeddings, one attention head, and the output layer.
///
/// Gradients have exactly the same shapes, so they are stored in the same struct (see
/// [`TinyModel::loss_and_grads`]). Weights multiply from the right, as in the book's
/// `SelfAttention_v1`: `queries = x @ W_query`.
#[derive(Debug, Clone, PartialEq)]
pub struct TinyModel {
    /// Token embeddings, `(vocab, d)`: row `i` is word `i`'s vector.
    pub tok_emb: DMatrix<f64>,
    /// Learned position embeddings, `(context_length, d)`: row `t` is added at position `t`.
    pub pos_emb: DMatrix<f64>,
    /// Query weights `W_q`, `(d, d)`.
    pub w_query: DMatrix<f64>,
    /// Key weights `W_k`, `(d, d)`.
    pub w_key: DMatrix<f64>,
    /// Value weights `W_v`, `(d, d)`.
    pub w_value: DMatrix<f64>,
    /// Output projection to the vocabulary, `(d, vocab)`.
    pub w_out: DMatrix<f64>,
    /// Output bias, `(1, vocab)`: one row, added to every position's logits.
    pub b_out: DMatrix<f64>,
}

/// Everything one sequence's forward pass computes; the backward pass reuses it.
#[derive(Debug, Clone)]
pub struct Forward {
    /// Token plus position embeddings, `(T, d)`.
    pub x: DMatrix<f64>,
    /// `x · W_q`, `(T, d)`.
    pub queries: DMatrix<f64>,
    /// `x · W_k`, `(T, d)`.
    pub keys: DMatrix<f64>,
    /// `x · W_v`, `(T, d)`.
    pub values: DMatrix<f64>,
    /// Row `t`: how much position `t` attends to each position, `(T, T)`; rows sum to 1.
    pub attn_weights: DMatrix<f64>,
    /// `attn_weights · values`, `(T, d)`.
    pub context_vecs: DMatrix<f64>,
    /// `x + context_vecs`, `(T, d)`: what the output layer reads.
    pub hidden: DMatrix<f64>,
    /// Log-probabilities of the next word at each position, `(T, vocab)`.
    pub log_probs: DMatrix<f64>,
}

impl TinyModel {
    /// A freshly initialized model, every number drawn from `rng` in this order: `tok_emb` and
    /// `pos_emb` uniform in `[−√3, √3)` (variance 1, like `nn.Embedding`'s standard normal), then
    /// `w_query`, `w_key`, `w_value`, `w_out`, `b_out` uniform in `[−1/√d, 1/√d)` (the bound
    /// `nn.Linear` uses). Drawn in `f32` by `rng.uniform`, kept as `f64`.
    ///
    /// # Errors
    ///
    /// [`Error::ZeroSize`] if `vocab`, `context_length` or `d` is 0.
    pub fn new(
        vocab: usize,
        context_length: usize,
        d: usize,
        rng: &mut TorchRng,
    ) -> Result<TinyModel, Error> {
        check_nonzero(&[
            ("vocab", vocab),
            ("context_length", context_length),
            ("d", d),
        ])?;
        let emb_bound = 3.0_f64.sqrt();
        let bound = 1.0 / (d as f64).sqrt();
        // Drawn in f32 as PyTorch draws them, kept in f64 (both allocations checked).
        let mut draw = |what, rows, cols, b: f64| -> Result<DMatrix<f64>, Error> {
            let mut weights = zeros::<f64>(what, rows, cols)?;
            let drawn = rng.try_uniform_for(what, rows, cols, -b, b)?;
            weights.zip_apply(&drawn, |w, x| *w = f64::from(x));
            Ok(weights)
        };
        Ok(TinyModel {
            tok_emb: draw("tok_emb", vocab, d, emb_bound)?,
            pos_emb: draw("pos_emb", context_length, d, emb_bound)?,
            w_query: draw("w_query", d, d, bound)?,
            w_key: draw("w_key", d, d, bound)?,
            w_value: draw("w_value", d, d, bound)?,
            w_out: draw("w_out", d, vocab, bound)?,
            b_out: draw("b_out", 1, vocab, bound)?,
        })
    }

    /// A model of the same shapes with every number 0: the starting point for summing gradients.
    pub fn zeros_like(&self) -> TinyModel {
        let z = |m: &DMatrix<f64>| DMatrix::zeros(m.nrows(), m.ncols());
        TinyModel {
            tok_emb: z(&self.tok_emb),
            pos_emb: z(&self.pos_emb),
            w_query: z(&self.w_query),
            w_key: z(&self.w_key),
            w_value: z(&self.w_value),
            w_out: z(&self.w_out),
            b_out: z(&self.b_out),
        }
    }

    /// The seven parameter matrices, in a fixed order (the order of the fields).
    pub fn parameters(&self) -> [&DMatrix<f64>; 7] {
        [
            &self.tok_emb,
            &self.pos_emb,
            &self.w_query,
            &self.w_key,
            &self.w_value,
            &self.w_out,
            &self.b_out,
        ]
    }

    /// The seven parameter matrices, mutable, in the same order as [`parameters`](Self::parameters).
    pub fn parameters_mut(&mut self) -> [&mut DMatrix<f64>; 7] {
        [
            &mut self.tok_emb,
            &mut self.pos_emb,
            &mut self.w_query,
            &mut self.w_key,
            &mut self.w_value,
            &mut self.w_out,
            &mut self.b_out,
        ]
    }

    /// Names of the seven matrices, in the order of [`parameters`](Self::parameters).
    pub const PARAMETER_NAMES: [&'static str; 7] = [
        "tok_emb", "pos_emb", "w_query", "w_key", "w_value", "w_out", "b_out",
    ];

    /// How many numbers the model learns.
    pub fn num_parameters(&self) -> usize {
        self.parameters().iter().map(|m| m.len()).sum()
    }

    /// The global norm `√(Σ g²)` over all seven matrices (for gradients: the "gradient norm").
    pub fn norm(&self) -> f64 {
        self.parameters()
            .iter()
            .map(|m| m.norm_squared())
            .sum::<f64>()
            .sqrt()
    }

    fn vocab(&self) -> usize {
        self.tok_emb.nrows()
    }

    fn context_length(&self) -> usize {
        self.pos_emb.nrows()
    }

    fn d(&self) -> usize {
        self.tok_emb.ncols()
    }

    /// Checks that `tokens` is a usable input: 1 to `context_length` words, each in the vocabulary.
    fn check_tokens(&self, tokens: &[usize]) -> Result<(), Error> {
        if tokens.is_empty() {
            return Err(Error::Empty { what: "tokens" });
        }
        if tokens.len() > self.context_length() {
            return Err(Error::TooManyTokens {
                tokens: tokens.len(),
                context_length: self.context_length(),
            });
        }
        match tokens.iter().find(|&&t| t >= self.vocab()) {
            Some(t) => Err(Error::InvalidConfig(format!(
                "token {t} is outside the vocabulary of {} words",
                self.vocab()
            ))),
            None => Ok(()),
        }
    }

    /// The forward pass over one sequence of word indices (`T` ≤ `context_length`). With
    /// `causal`, position `t` attends only to positions `≤ t` (scores above the diagonal are set
    /// to −∞ before the softmax, as in section 3.5.1).
    ///
    /// # Errors
    ///
    /// [`Error::Empty`], [`Error::TooManyTokens`], or [`Error::InvalidConfig`] for a word
    /// index outside the vocabulary.
    pub fn forward(&self, tokens: &[usize], causal: bool) -> Result<Forward, Error> {
        self.check_tokens(tokens)?;
        let n = tokens.len();
        let x = DMatrix::from_fn(n, self.d(), |t, j| {
            self.tok_emb[(tokens[t], j)] + self.pos_emb[(t, j)]
        }); // (T, d)
        let queries = &x * &self.w_query; // (T, d)
        let keys = &x * &self.w_key; // (T, d)
        let values = &x * &self.w_value; // (T, d)
        let mut attn_scores = &queries * keys.transpose() / (self.d() as f64).sqrt(); // (T, T)
        if causal {
            mask_future(&mut attn_scores);
        }
        let attn_weights = softmax_rows(&attn_scores); // (T, T)
        let context_vecs = &attn_weights * &values; // (T, d)
        let hidden = &x + &context_vecs; // (T, d)
        let mut logits = &hidden * &self.w_out; // (T, vocab)
        for t in 0..n {
            for j in 0..self.vocab() {
                logits[(t, j)] += self.b_out[(0, j)];
            }
        }
        let log_probs = log_softmax_rows(&logits); // (T, vocab)
        Ok(Forward {
            x,
            queries,
            keys,
            values,
            attn_weights,
            context_vecs,
            hidden,
            log_probs,
        })
    }

    /// Mean cross-entropy (nats) of predicting each word from the ones before it, over a batch.
    ///
    /// Each sequence holds `T + 1` words: the model reads words `0..T` and is scored on words
    /// `1..=T`, the next word at every position. The mean is over all `batch × T` predictions.
    ///
    /// # Errors
    ///
    /// [`Error::Empty`] for an empty batch, [`Error::InvalidConfig`] for a sequence shorter than
    /// 2 words, and the errors of [`forward`](Self::forward).
    pub fn loss(&self, batch: &[Vec<usize>], causal: bool) -> Result<f64, Error> {
        let count = count_predictions(batch)?;
        let mut total = 0.0;
        for seq in batch {
            let (inputs, targets) = split(seq)?;
            let f = self.forward(inputs, causal)?;
            total += summed_cross_entropy(&f, targets);
        }
        Ok(total / count as f64)
    }

    /// The [`loss`](Self::loss) and its gradient with respect to every parameter, by
    /// backpropagation written out step by step (each line is the chain rule applied to one line
    /// of [`forward`](Self::forward), in reverse).
    ///
    /// ```
    /// use ch03_attention::TorchRng;
    /// use ch03_attention::leakage::TinyModel;
    /// let mut rng = TorchRng::manual_seed(123);
    /// let model = TinyModel::new(6, 4, 3, &mut rng).unwrap();
    /// let batch = vec![vec![0, 1, 2, 3, 4], vec![5, 0, 1, 1, 2]];
    /// let (loss, grads) = model.loss_and_grads(&batch, true).unwrap();
    /// assert_eq!(loss, model.loss(&batch, true).unwrap());
    /// assert_eq!(grads.w_query.shape(), (3, 3));
    /// // The hand-written gradients match finite differences to ~1e-9.
    /// assert!(model.gradient_check(&batch, true, 1e-3).unwrap() < 1e-6);
    /// ```
    ///
    /// # Errors
    ///
    /// As [`loss`](Self::loss).
    pub fn loss_and_grads(
        &self,
        batch: &[Vec<usize>],
        causal: bool,
    ) -> Result<(f64, TinyModel), Error> {
        let count = count_predictions(batch)?;
        let scale = 1.0 / count as f64; // d(mean)/d(each term)
        let mut grads = self.zeros_like();
        let mut total = 0.0;
        for seq in batch {
            let (inputs, targets) = split(seq)?;
            let f = self.forward(inputs, causal)?;
            total += summed_cross_entropy(&f, targets);
            self.backward(inputs, targets, &f, scale, &mut grads);
        }
        Ok((total / count as f64, grads))
    }

    /// Adds one sequence's gradients (each loss term weighted by `scale`) into `grads`.
    fn backward(
        &self,
        inputs: &[usize],
        targets: &[usize],
        f: &Forward,
        scale: f64,
        grads: &mut TinyModel,
    ) {
        // Cross-entropy after softmax: d loss / d logits = probs − one_hot(target).
        let mut d_logits = f.log_probs.map(f64::exp); // (T, vocab)
        for (t, &y) in targets.iter().enumerate() {
            d_logits[(t, y)] -= 1.0;
        }
        d_logits *= scale;

        // logits = hidden · W_out + b_out
        grads.w_out += f.hidden.transpose() * &d_logits; // (d, vocab)
        for t in 0..d_logits.nrows() {
            for j in 0..d_logits.ncols() {
                grads.b_out[(0, j)] += d_logits[(t, j)];
            }
        }
        let d_hidden = &d_logits * self.w_out.transpose(); // (T, d)

        // hidden = x + context_vecs: the gradient flows into both unchanged.
        let d_context = &d_hidden;

        // context_vecs = attn_weights · values
        let d_weights = d_context * f.values.transpose(); // (T, T)
        let d_values = f.attn_weights.transpose() * d_context; // (T, d)

        // attn_weights = softmax(attn_scores); attn_scores = queries · keysᵀ / √d.
        // Masked positions have weight 0, so their score gradient is 0 too.
        let d_scores =
            softmax_rows_backward(&f.attn_weights, &d_weights) / (self.d() as f64).sqrt(); // (T, T)
        let d_queries = &d_scores * &f.keys; // (T, d)
        let d_keys = d_scores.transpose() * &f.queries; // (T, d)

        // queries, keys, values = x · W_q, x · W_k, x · W_v
        let x_t = f.x.transpose(); // (d, T)
        grads.w_query += &x_t * &d_queries;
        grads.w_key += &x_t * &d_keys;
        grads.w_value += &x_t * &d_values;
        let d_x = &d_hidden
            + &d_queries * self.w_query.transpose()
            + &d_keys * self.w_key.transpose()
            + &d_values * self.w_value.transpose(); // (T, d)

        // x[t] = tok_emb[inputs[t]] + pos_emb[t]
        for (t, &token) in inputs.iter().enumerate() {
            for j in 0..d_x.ncols() {
                grads.tok_emb[(token, j)] += d_x[(t, j)];
                grads.pos_emb[(t, j)] += d_x[(t, j)];
            }
        }
    }

    /// The attention weights averaged over many sequences, `(T, T)`: entry `(t, s)` is how much
    /// position `t` attends to position `s` on average.
    ///
    /// # Errors
    ///
    /// [`Error::Empty`] for no sequences, [`Error::ShapeMismatch`] if they differ in length, and
    /// the errors of [`forward`](Self::forward).
    pub fn mean_attn_weights(
        &self,
        sequences: &[Vec<usize>],
        causal: bool,
    ) -> Result<DMatrix<f64>, Error> {
        let first = sequences
            .first()
            .ok_or(Error::Empty { what: "sequences" })?;
        let n = first.len();
        let mut sum = DMatrix::zeros(n, n);
        for seq in sequences {
            if seq.len() != n {
                return Err(Error::ShapeMismatch {
                    op: "mean_attn_weights",
                    left: (1, n),
                    right: (1, seq.len()),
                });
            }
            sum += self.forward(seq, causal)?.attn_weights;
        }
        Ok(sum / sequences.len() as f64)
    }

    /// Largest relative difference between the hand-written gradient and a numerical one, over
    /// every number of every parameter.
    ///
    /// The numerical gradient is the five-point central difference
    /// `(8 (L(θ + h) − L(θ − h)) − (L(θ + 2h) − L(θ − 2h))) / 12h`, whose error shrinks like `h⁴`
    /// (`h = 1e-3` leaves about `1e-12`; the plain `(L(θ + h) − L(θ − h)) / 2h` needs a smaller
    /// `h`, where rounding in `L` then limits it to about `1e-10`, too coarse for the smallest
    /// gradients). The relative error of one number is `|a − n| / max(|a| + |n|, 1e-12)`; entries
    /// whose gradient is exactly 0 both ways (an unused word's embedding) count as 0.
    ///
    /// # Errors
    ///
    /// As [`loss`](Self::loss).
    pub fn gradient_check(&self, batch: &[Vec<usize>], causal: bool, h: f64) -> Result<f64, Error> {
        let (_, grads) = self.loss_and_grads(batch, causal)?;
        let mut probe = self.clone();
        let mut worst: f64 = 0.0;
        for (k, analytic) in grads.parameters().into_iter().enumerate() {
            for i in 0..analytic.len() {
                let original = probe.parameters()[k][i];
                let mut loss_at = |offset: f64| {
                    probe.parameters_mut()[k][i] = original + offset;
                    probe.loss(batch, causal)
                };
                // Differences first: a parameter the loss ignores then gives exactly 0.
                let near = loss_at(h)? - loss_at(-h)?;
                let far = loss_at(2.0 * h)? - loss_at(-2.0 * h)?;
                let numeric = (8.0 * near - far) / (12.0 * h);
                probe.parameters_mut()[k][i] = original;
                let a = analytic[i];
                let err = (a - numeric).abs() / (a.abs() + numeric.abs()).max(1e-12);
                worst = worst.max(err);
            }
        }
        Ok(worst)
    }
}

/// `Σₜ −ln p(targets[t])`: one sequence's cross-entropy, summed over its positions.
fn summed_cross_entropy(f: &Forward, targets: &[usize]) -> f64 {
    targets
        .iter()
        .enumerate()
        .map(|(t, &y)| -f.log_probs[(t, y)])
        .sum()
}

/// Splits one sequence of `T + 1` words into the model's input (`0..T`) and its targets
/// (`1..=T`), the next word at every position.
fn split(seq: &[usize]) -> Result<(&[usize], &[usize]), Error> {
    if seq.len() < 2 {
        return Err(Error::InvalidConfig(format!(
            "a sequence needs at least 2 words (an input and its next word), got {}",
            seq.len()
        )));
    }
    Ok((&seq[..seq.len() - 1], &seq[1..]))
}

/// Number of next-word predictions in a batch (`Σ (len − 1)`).
fn count_predictions(batch: &[Vec<usize>]) -> Result<usize, Error> {
    if batch.is_empty() {
        return Err(Error::Empty { what: "batch" });
    }
    Ok(batch.iter().map(|s| s.len().saturating_sub(1)).sum())
}

/// Sets every score above the diagonal (a future position) to −∞.
///
/// The `f64` twin of [`causal::mask_future_with_neg_inf`](crate::causal::mask_future_with_neg_inf):
/// this model trains in `f64` so that its finite-difference gradient checks are meaningful.
fn mask_future(attn_scores: &mut DMatrix<f64>) {
    for t in 0..attn_scores.nrows() {
        for s in t + 1..attn_scores.ncols() {
            attn_scores[(t, s)] = f64::NEG_INFINITY;
        }
    }
}

/// Stable softmax of each row (`f64`): `exp(x − max) / Σ exp(x − max)`; −∞ gets weight 0.
fn softmax_rows(m: &DMatrix<f64>) -> DMatrix<f64> {
    log_softmax_rows(m).map(f64::exp)
}

/// `log(softmax)` of each row, computed as `x − max − ln Σ exp(x − max)` so that it never
/// takes the logarithm of an underflowed 0.
fn log_softmax_rows(m: &DMatrix<f64>) -> DMatrix<f64> {
    let mut out = m.clone();
    for t in 0..m.nrows() {
        let max = m.row(t).iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let log_sum = m.row(t).iter().map(|v| (v - max).exp()).sum::<f64>().ln();
        for j in 0..m.ncols() {
            out[(t, j)] = m[(t, j)] - max - log_sum;
        }
    }
    out
}

/// Backward pass of a row-wise softmax: for each row, `d_scores = w ∘ (d_w − (d_w · w))`.
fn softmax_rows_backward(weights: &DMatrix<f64>, d_weights: &DMatrix<f64>) -> DMatrix<f64> {
    let mut d_scores = DMatrix::zeros(weights.nrows(), weights.ncols());
    for t in 0..weights.nrows() {
        let dot: f64 = (0..weights.ncols())
            .map(|s| weights[(t, s)] * d_weights[(t, s)])
            .sum();
        for s in 0..weights.ncols() {
            d_scores[(t, s)] = weights[(t, s)] * (d_weights[(t, s)] - dot);
        }
    }
    d_scores
}
