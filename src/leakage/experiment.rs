//! The experiment: the same model trained twice, with and without the causal mask.

use std::fmt;

use nalgebra::DMatrix;

use super::adam::Adam;
use super::chain::{VOCAB_SIZE, entropy_floor, sample_sequences};
use super::model::TinyModel;
use crate::error::readable;
use crate::validate::check_nonzero;
use crate::{Error, TorchRng};

/// Every setting of [`run_leakage_experiment`]. The default runs in about a second.
///
/// ```
/// use ch03_attention::LeakageConfig;
/// let config = LeakageConfig { seed: 1, ..Default::default() };
/// assert_eq!((config.context_length, config.emb_dim, config.batch_size), (16, 16, 32));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct LeakageConfig {
    /// Seed of the [`TorchRng`] that draws the initial weights, the data and the batches.
    pub seed: u64,
    /// Probability that the next word is the sentence's next word (otherwise: uniform).
    pub p_follow: f64,
    /// `T`, the number of positions the model reads (each sequence holds `T + 1` words).
    pub context_length: usize,
    /// `d`, the width of the embeddings, queries, keys and values.
    pub emb_dim: usize,
    /// Sequences per training step.
    pub batch_size: usize,
    /// Number of sequences, never trained on, for the held-out and inference losses.
    pub heldout_size: usize,
    /// Training steps (one Adam update each).
    pub steps: usize,
    /// Adam's learning rate.
    pub learning_rate: f64,
    /// How many of the last steps `train_loss` and `grad_norm_end` average over.
    pub window: usize,
}

impl Default for LeakageConfig {
    fn default() -> Self {
        LeakageConfig {
            seed: 123,
            p_follow: 0.8,
            context_length: 16,
            emb_dim: 16,
            batch_size: 32,
            heldout_size: 512,
            steps: 300,
            learning_rate: 0.03,
            window: 50,
        }
    }
}

impl LeakageConfig {
    /// The largest value each size may take: `(name, limit)`. The experiment is a small
    /// teaching model trained on one CPU core; these bounds are far above anything it needs
    /// (the defaults are 16, 16, 32, 512 and 300) and keep every buffer it allocates, and every
    /// count it computes, well inside memory and `usize`.
    pub const LIMITS: [(&'static str, usize); 5] = [
        ("context_length", 4096),
        ("emb_dim", 4096),
        ("batch_size", 65_536),
        ("heldout_size", 1_000_000),
        ("steps", 1_000_000),
    ];

    /// Checks every setting, naming the first bad one.
    ///
    /// # Errors
    ///
    /// [`Error::ZeroSize`] for a size of 0 (other than `context_length`), and
    /// [`Error::InvalidConfig`] for a `context_length` below 2, a size above its
    /// [`LIMITS`](Self::LIMITS) entry, a `window` longer than `steps`, a learning rate that is
    /// not a positive finite number, or a `p_follow` outside `[0, 1]`.
    pub fn validate(&self) -> Result<(), Error> {
        if self.context_length < 2 {
            return Err(Error::InvalidConfig(format!(
                "context_length must be at least 2 (position t needs a position t + 1 to leak from), got {}",
                self.context_length
            )));
        }
        check_nonzero(&[
            ("emb_dim", self.emb_dim),
            ("batch_size", self.batch_size),
            ("heldout_size", self.heldout_size),
            ("steps", self.steps),
            ("window", self.window),
        ])?;
        let sizes = [
            self.context_length,
            self.emb_dim,
            self.batch_size,
            self.heldout_size,
            self.steps,
        ];
        for ((what, limit), n) in Self::LIMITS.into_iter().zip(sizes) {
            if n > limit {
                return Err(Error::InvalidConfig(format!(
                    "{what} must be at most {limit}, got {n}"
                )));
            }
        }
        if self.window > self.steps {
            return Err(Error::InvalidConfig(format!(
                "window ({}) must not exceed steps ({})",
                self.window, self.steps
            )));
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(Error::InvalidConfig(format!(
                "learning_rate must be a positive finite number, got {}",
                readable(self.learning_rate)
            )));
        }
        if !(0.0..=1.0).contains(&self.p_follow) {
            return Err(Error::InvalidConfig(format!(
                "p_follow must be a probability in [0, 1], got {}",
                readable(self.p_follow)
            )));
        }
        Ok(())
    }
}

/// What one training run measured. Losses are mean cross-entropies in nats per prediction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunSummary {
    /// Mean training loss over the last `window` steps.
    pub train_loss: f64,
    /// Loss on fresh sequences from the same chain, computed the way the model was trained
    /// (masked or not).
    pub heldout_loss: f64,
    /// Loss on the same fresh sequences computed causally: position `t` sees only words `≤ t`,
    /// as when the model generates text. For the masked model this is the same computation as
    /// `heldout_loss`.
    pub inference_loss: f64,
    /// Global gradient norm at the first step (the initial weights, before any update).
    pub grad_norm_start: f64,
    /// Global gradient norm averaged over the last `window` steps.
    pub grad_norm_end: f64,
    /// Mean attention weight that position `t` puts on position `t + 1` (over the held-out
    /// sequences and every `t < T − 1`, computed the way the model was trained).
    pub next_token_attention: f64,
}

impl RunSummary {
    /// The six numbers with their names, in the order of the fields.
    ///
    /// ```
    /// use ch03_attention::RunSummary;
    /// let s = RunSummary { train_loss: 0.7, heldout_loss: 0.7, inference_loss: 0.7,
    ///     grad_norm_start: 1.4, grad_norm_end: 0.1, next_token_attention: 0.0 };
    /// assert_eq!(s.fields()[4], ("grad_norm_end", 0.1));
    /// ```
    pub fn fields(&self) -> [(&'static str, f64); 6] {
        [
            ("train_loss", self.train_loss),
            ("heldout_loss", self.heldout_loss),
            ("inference_loss", self.inference_loss),
            ("grad_norm_start", self.grad_norm_start),
            ("grad_norm_end", self.grad_norm_end),
            ("next_token_attention", self.next_token_attention),
        ]
    }
}

/// What one training run recorded along the way, for the figures.
#[derive(Debug, Clone, PartialEq)]
pub struct RunTrace {
    /// Training loss at every step.
    pub losses: Vec<f64>,
    /// Global gradient norm at every step.
    pub grad_norms: Vec<f64>,
    /// The trained model's attention weights averaged over the held-out sequences, `(T, T)`.
    pub attn_weights: DMatrix<f64>,
    /// How far training moved the weights, relative to where they started:
    /// `‖θ_end − θ₀‖ / ‖θ₀‖` over all seven parameter matrices. It answers "the gradient is
    /// small, so the weights barely update" directly.
    pub weight_change: f64,
}

/// The two runs side by side, and the floor no honest predictor can beat.
#[derive(Debug, Clone, PartialEq)]
pub struct LeakageReport {
    /// The chain's conditional entropy `H` (nats), see [`entropy_floor`].
    pub entropy_floor: f64,
    /// Trained with the causal mask.
    pub masked: RunSummary,
    /// Trained without it.
    pub unmasked: RunSummary,
    /// The masked run's curves and attention.
    pub masked_trace: RunTrace,
    /// The unmasked run's curves and attention.
    pub unmasked_trace: RunTrace,
    /// The configuration that produced this report.
    pub config: LeakageConfig,
}

/// Trains the tiny model twice, once with the causal mask and once without, and measures both.
///
/// Each run starts a [`TorchRng`] seeded with `config.seed` and draws, in this order: the initial
/// weights ([`TinyModel::new`]), the held-out sequences, then every training batch as fresh
/// sequences from the chain. So the two runs start from the same weights and see the same
/// batches; the mask is the only difference. No training sequence is ever seen twice.
///
/// ```
/// use ch03_attention::leakage::run_leakage_experiment;
/// use ch03_attention::LeakageConfig;
/// let r = run_leakage_experiment(&LeakageConfig::default()).unwrap();
/// let h = r.entropy_floor; // ≈ 0.7188 nats: the best any honest predictor can do
/// assert!(r.unmasked.train_loss < 0.25 * h);          // "impossible", unless it sees the answer
/// assert!(r.unmasked.inference_loss > h + 0.5);       // and useless when it cannot
/// assert!((r.masked.train_loss - h).abs() < 0.15);    // the honest model sits at the floor
/// ```
///
/// # Errors
///
/// The errors of [`LeakageConfig::validate`].
pub fn run_leakage_experiment(config: &LeakageConfig) -> Result<LeakageReport, Error> {
    config.validate()?;
    let (masked, masked_trace) = train_and_measure(config, true)?;
    let (unmasked, unmasked_trace) = train_and_measure(config, false)?;
    Ok(LeakageReport {
        entropy_floor: entropy_floor(config.p_follow),
        masked,
        unmasked,
        masked_trace,
        unmasked_trace,
        config: config.clone(),
    })
}

/// One run: `config.steps` Adam updates on fresh batches, then the measurements.
fn train_and_measure(
    config: &LeakageConfig,
    causal: bool,
) -> Result<(RunSummary, RunTrace), Error> {
    let mut rng = TorchRng::manual_seed(config.seed);
    let words = config.context_length + 1; // T inputs and the word after the last
    let mut model = TinyModel::new(VOCAB_SIZE, config.context_length, config.emb_dim, &mut rng)?;
    let heldout = sample_sequences(config.heldout_size, words, config.p_follow, &mut rng);

    let initial = model.clone(); // θ₀, to measure how far training moves the weights
    let mut adam = Adam::new(&model, config.learning_rate);
    let mut losses = Vec::with_capacity(config.steps);
    let mut grad_norms = Vec::with_capacity(config.steps);
    for _ in 0..config.steps {
        let batch = sample_sequences(config.batch_size, words, config.p_follow, &mut rng);
        let (loss, grads) = model.loss_and_grads(&batch, causal)?;
        losses.push(loss);
        grad_norms.push(grads.norm());
        adam.step(&mut model, &grads)?;
    }

    // The model reads the first T words of each held-out sequence.
    let heldout_inputs: Vec<Vec<usize>> = heldout
        .iter()
        .map(|s| s[..config.context_length].to_vec())
        .collect();
    let attn_weights = model.mean_attn_weights(&heldout_inputs, causal)?;
    let summary = RunSummary {
        train_loss: mean_of_last(&losses, config.window),
        heldout_loss: model.loss(&heldout, causal)?,
        inference_loss: model.loss(&heldout, true)?,
        grad_norm_start: grad_norms[0],
        grad_norm_end: mean_of_last(&grad_norms, config.window),
        next_token_attention: mean_superdiagonal(&attn_weights),
    };
    let trace = RunTrace {
        losses,
        grad_norms,
        attn_weights,
        weight_change: relative_distance(&model, &initial),
    };
    Ok((summary, trace))
}

/// `‖a − b‖ / ‖b‖`, each norm over all seven parameter matrices.
fn relative_distance(a: &TinyModel, b: &TinyModel) -> f64 {
    let squared: f64 = a
        .parameters()
        .iter()
        .zip(b.parameters())
        .map(|(x, y)| (*x - y).norm_squared())
        .sum();
    squared.sqrt() / b.norm()
}

fn mean_of_last(values: &[f64], n: usize) -> f64 {
    let tail = &values[values.len() - n..];
    tail.iter().sum::<f64>() / tail.len() as f64
}

/// Mean of the entries `(t, t + 1)`: the weight each position puts on the next one.
fn mean_superdiagonal(m: &DMatrix<f64>) -> f64 {
    let n = m.nrows() - 1;
    (0..n).map(|t| m[(t, t + 1)]).sum::<f64>() / n as f64
}

impl fmt::Display for LeakageReport {
    /// The report as a table, 4 decimals: what the snapshot, the docs and `cargo run` show.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.config;
        writeln!(
            f,
            "seed {}, T = {}, d = {}, batch {}, {} steps, lr {}, {} held-out sequences",
            c.seed,
            c.context_length,
            c.emb_dim,
            c.batch_size,
            c.steps,
            c.learning_rate,
            c.heldout_size
        )?;
        writeln!(f, "entropy floor H        {:>9.4}", self.entropy_floor)?;
        writeln!(f, "                          masked  unmasked")?;
        let rows = self.masked.fields().into_iter().zip(self.unmasked.fields());
        for ((name, masked), (_, unmasked)) in rows {
            writeln!(f, "{name:<22} {masked:>9.4} {unmasked:>9.4}")?;
        }
        let (m, u) = (&self.masked_trace, &self.unmasked_trace);
        let first_loss = |t: &RunTrace| t.losses.first().copied().unwrap_or(f64::NAN);
        writeln!(
            f,
            "{:<22} {:>9.4} {:>9.4}",
            "train_loss_first_step",
            first_loss(m),
            first_loss(u)
        )?;
        writeln!(
            f,
            "{:<22} {:>9.4} {:>9.4}",
            "weight_change", m.weight_change, u.weight_change
        )?;
        Ok(())
    }
}
