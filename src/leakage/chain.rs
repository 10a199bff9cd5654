//! The data: a Markov chain over the chapter's six words, whose best possible loss is known.

use nalgebra::DMatrix;

use crate::TorchRng;

/// Vocabulary size: the six words of "Your journey starts with one step".
pub const VOCAB_SIZE: usize = crate::inputs::TOKENS.len();

/// The word that follows `token` in the sentence, cyclically ("step" → "Your").
///
/// ```
/// use ch03_attention::leakage::chain::successor;
/// assert_eq!(successor(1), 2); // journey → starts
/// assert_eq!(successor(5), 0); // step → Your
/// ```
pub fn successor(token: usize) -> usize {
    (token + 1) % VOCAB_SIZE
}

/// The chain's transition matrix `P`, `(6 × 6)`: row `a` is the distribution of the word after
/// `a`. With probability `p_follow` the next word is the sentence's [`successor`]; otherwise it
/// is drawn uniformly from all six (so the successor can also come up that way).
///
/// ```
/// use ch03_attention::leakage::chain::transition_matrix;
/// let p = transition_matrix(0.8);
/// assert!((p[(0, 1)] - (0.8 + 0.2 / 6.0)).abs() < 1e-15); // Your → journey
/// assert!((p[(0, 3)] - 0.2 / 6.0).abs() < 1e-15);         // Your → with
/// ```
pub fn transition_matrix(p_follow: f64) -> DMatrix<f64> {
    let uniform = (1.0 - p_follow) / VOCAB_SIZE as f64;
    DMatrix::from_fn(VOCAB_SIZE, VOCAB_SIZE, |a, b| {
        if b == successor(a) {
            p_follow + uniform
        } else {
            uniform
        }
    })
}

/// The chain's conditional entropy `H = Σₐ πₐ Σ_b −P_ab ln P_ab` in nats: the average loss of
/// the *best* next-word predictor, one that knows `P` exactly. No model that sees only the past
/// can do better on average.
///
/// Every column of `P` also sums to 1 (each word is the successor of exactly one word), so the
/// stationary distribution `π` is uniform, and since the first word is drawn uniformly, every
/// position's word is uniform too: `H` is the floor at every position, not just in the long run.
///
/// ```
/// use ch03_attention::leakage::chain::entropy_floor;
/// assert!((entropy_floor(0.8) - 0.718_8).abs() < 1e-4);
/// assert_eq!(entropy_floor(1.0), 0.0);                          // fully predictable
/// assert!((entropy_floor(0.0) - 6.0_f64.ln()).abs() < 1e-12);   // pure noise
/// ```
pub fn entropy_floor(p_follow: f64) -> f64 {
    let p = transition_matrix(p_follow);
    let pi = 1.0 / VOCAB_SIZE as f64; // stationary distribution: uniform
    let mut h = 0.0;
    for a in 0..VOCAB_SIZE {
        for b in 0..VOCAB_SIZE {
            let p_ab = p[(a, b)];
            if p_ab > 0.0 {
                h -= pi * p_ab * p_ab.ln();
            }
        }
    }
    h
}

/// A uniform number in `[0, 1)` from the top 53 bits of one 64-bit draw.
fn uniform01(rng: &mut TorchRng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1_u64 << 53) as f64
}

/// A uniform word index in `0..6`.
///
/// No clamp is needed: the largest draw is `1 − 2⁻⁵³`, and `6 · (1 − 2⁻⁵³)` rounds to the `f64`
/// just below 6 (the spacing there is `2⁻⁵⁰`), which truncates to 5.
fn uniform_token(rng: &mut TorchRng) -> usize {
    (uniform01(rng) * VOCAB_SIZE as f64) as usize
}

/// One sequence of `len` word indices: the first uniform, each next one from the chain.
///
/// ```
/// use ch03_attention::TorchRng;
/// use ch03_attention::leakage::chain::sample_sequence;
/// let mut rng = TorchRng::manual_seed(123);
/// let seq = sample_sequence(17, 1.0, &mut rng); // p_follow = 1: the sentence, over and over
/// assert!(seq.windows(2).all(|w| w[1] == (w[0] + 1) % 6));
/// ```
pub fn sample_sequence(len: usize, p_follow: f64, rng: &mut TorchRng) -> Vec<usize> {
    let mut seq = Vec::with_capacity(len);
    if len == 0 {
        return seq;
    }
    seq.push(uniform_token(rng));
    while seq.len() < len {
        let prev = seq[seq.len() - 1];
        // Two draws per word whatever happens, so the stream's position never depends on luck.
        let follow = uniform01(rng) < p_follow;
        let random_word = uniform_token(rng);
        seq.push(if follow { successor(prev) } else { random_word });
    }
    seq
}

/// `n` independent sequences of `len` words each.
pub fn sample_sequences(
    n: usize,
    len: usize,
    p_follow: f64,
    rng: &mut TorchRng,
) -> Vec<Vec<usize>> {
    (0..n)
        .map(|_| sample_sequence(len, p_follow, rng))
        .collect()
}
