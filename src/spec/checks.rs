//! One check per exercise, each applied to any implementation of [`Chapter3`].
//!
//! A check calls the code under test only through [`guarded`], so a panic, a `todo!()` or an
//! endless loop becomes a verdict. It then judges, in this order: the shape, NaN or infinity,
//! properties on seeded random shapes, and the book's printed numbers. When a failure looks like
//! a known misconception (the result equals what that mistake computes, or shows its symptom),
//! the message names it in words before the evidence.

use std::time::Duration;

use nalgebra::{DMatrix, DVector};

use super::harness::{Interrupted, guarded};
use super::reference::{apply, concat_columns};
use super::{Chapter3, Exercise, Reference, TIME_LIMIT, Verdict};
use crate::causal::mask_future_with_neg_inf;
use crate::chapter::{self, Mismatch};
use crate::inputs::inputs;
use crate::normalize::softmax_rows;
use crate::torch::matmul;
use crate::torch::print::TorchPrint;
use crate::torch::row;
use crate::{Dropout, Linear, SelfAttentionV2, TorchRng};

/// Shorthand for one entry of [`EXERCISES`].
const fn exercise(
    id: &'static str,
    section: &'static str,
    title: &'static str,
    guide: &'static str,
) -> Exercise {
    Exercise {
        id,
        section,
        title,
        guide,
    }
}

/// Every exercise, in the book's order.
pub const EXERCISES: &[Exercise] = &[
    exercise(
        "dot_scores",
        "3.3.1",
        "one query's scores: x⁽ʲ⁾ · query",
        "similarity",
    ),
    exercise(
        "sum_normalize",
        "3.3.1",
        "weights by dividing by the sum",
        "normalize",
    ),
    exercise(
        "softmax_naive",
        "3.3.1",
        "the softmax as written: exp(ω) / Σ exp(ω)",
        "normalize",
    ),
    exercise(
        "softmax",
        "3.3.1",
        "the stable softmax: subtract the max",
        "normalize",
    ),
    exercise(
        "context_vec",
        "3.3.1",
        "one context vector z = Σ αᵢ x⁽ⁱ⁾",
        "context",
    ),
    exercise(
        "attn_scores",
        "3.3.2",
        "all scores at once: X Xᵀ",
        "similarity",
    ),
    exercise(
        "attn_weights",
        "3.3.2",
        "the softmax of every row",
        "normalize",
    ),
    exercise(
        "context_vecs",
        "3.3.2",
        "all context vectors at once: A X",
        "context",
    ),
    exercise(
        "self_attention_v1",
        "3.4, listing 3.1",
        "SelfAttention_v1: rand weights, forward",
        "qkv",
    ),
    exercise(
        "self_attention_v2",
        "3.4.2, listing 3.2",
        "SelfAttention_v2: nn.Linear projections",
        "qkv",
    ),
    exercise(
        "exercise_3_1",
        "exercise 3.1",
        "v1 weights that compute what v2 does",
        "qkv",
    ),
    exercise(
        "mask_then_renormalize",
        "3.5.1",
        "route 1: zero the future, renormalize",
        "causal",
    ),
    exercise(
        "causal_attn_weights",
        "3.5.1",
        "route 2: −∞ above the diagonal, softmax",
        "causal",
    ),
    exercise(
        "dropout",
        "3.5.2",
        "nn.Dropout: keep 1 − p, scale 1/(1 − p)",
        "dropout",
    ),
    exercise(
        "causal_attention",
        "3.5.3, listing 3.3",
        "CausalAttention's forward pass",
        "causal",
    ),
    exercise(
        "multi_head_wrapper",
        "3.6.1, listing 3.4",
        "the wrapper: heads side by side",
        "multihead",
    ),
    exercise(
        "split_heads",
        "3.6.2",
        "(T × d_out) → heads of contiguous columns",
        "multihead",
    ),
    exercise(
        "multi_head_attention",
        "3.6.2, listing 3.5",
        "MultiHeadAttention: layers, forward",
        "multihead",
    ),
    exercise(
        "exercise_3_2",
        "exercise 3.2",
        "the wrapper with a 2-wide output",
        "multihead",
    ),
    exercise(
        "exercise_3_3",
        "exercise 3.3",
        "parameters of a GPT-2-sized module",
        "multihead",
    ),
];

/// The verdict of exercise `id` for the implementation `I`, or `None` for an unknown id.
pub fn check<I: Chapter3 + 'static>(id: &str) -> Option<Verdict> {
    check_with_limit::<I>(id, TIME_LIMIT)
}

/// The verdicts of every exercise, in [`EXERCISES`] order.
pub fn check_all<I: Chapter3 + 'static>() -> Vec<Verdict> {
    EXERCISES.iter().filter_map(|e| check::<I>(e.id)).collect()
}

/// [`check`] with another time limit for each call of the code under test (the tests of the
/// harness use a short one to show that an endless loop becomes a verdict quickly).
pub fn check_with_limit<I: Chapter3 + 'static>(id: &str, limit: Duration) -> Option<Verdict> {
    let exercise = EXERCISES.iter().find(|e| e.id == id)?;
    let c = Ctx {
        id: exercise.id,
        limit,
    };
    let outcome = match exercise.id {
        "dot_scores" => dot_scores::<I>(&c),
        "sum_normalize" => sum_normalize::<I>(&c),
        "softmax_naive" => softmax_naive::<I>(&c),
        "softmax" => softmax::<I>(&c),
        "context_vec" => context_vec::<I>(&c),
        "attn_scores" => attn_scores::<I>(&c),
        "attn_weights" => attn_weights::<I>(&c),
        "context_vecs" => context_vecs::<I>(&c),
        "self_attention_v1" => self_attention_v1::<I>(&c),
        "self_attention_v2" => self_attention_v2::<I>(&c),
        "exercise_3_1" => exercise_3_1::<I>(&c),
        "mask_then_renormalize" => mask_then_renormalize::<I>(&c),
        "causal_attn_weights" => causal_attn_weights::<I>(&c),
        "dropout" => dropout::<I>(&c),
        "causal_attention" => causal_attention::<I>(&c),
        "multi_head_wrapper" => multi_head_wrapper::<I>(&c),
        "split_heads" => split_heads::<I>(&c),
        "multi_head_attention" => multi_head_attention::<I>(&c),
        "exercise_3_2" => exercise_3_2::<I>(&c),
        "exercise_3_3" => exercise_3_3::<I>(&c),
        _ => unreachable!("every id of EXERCISES has a check"),
    };
    Some(match outcome {
        Ok(()) => Verdict::done(exercise.id),
        Err(Fail::Interrupted(i)) => i.verdict(exercise.id),
        Err(Fail::Wrong(message)) => Verdict::failing(exercise.id, message),
    })
}

// ---------------------------------------------------------------------------------------------
// The machinery every check shares.
// ---------------------------------------------------------------------------------------------

/// Why a check stopped.
enum Fail {
    /// The code under test did not return (todo!(), a panic, too slow).
    Interrupted(Interrupted),
    /// It returned a wrong result: the message.
    Wrong(String),
}

/// A check's outcome.
type Outcome = Result<(), Fail>;

/// The exercise being checked and the time limit of each call.
struct Ctx {
    id: &'static str,
    limit: Duration,
}

/// The relative tolerance of "equal to the reference" (relative to `max(1, |expected|)`).
const TOL: f32 = 1e-5;

/// `(6 × 2)`.
fn dims((r, c): (usize, usize)) -> String {
    format!("({r} × {c})")
}

impl Ctx {
    /// Runs the code under test, guarded.
    fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T, Fail> {
        guarded(f, self.limit).map_err(Fail::Interrupted)
    }

    /// A failure with the exercise named.
    fn wrong<T>(&self, message: impl AsRef<str>) -> Result<T, Fail> {
        Err(Fail::Wrong(format!("{}: {}", self.id, message.as_ref())))
    }

    /// The shape of a matrix; `hint` names a misconception for a wrong shape.
    fn shape_m(
        &self,
        what: &str,
        m: &DMatrix<f32>,
        want: (usize, usize),
        hint: Option<String>,
    ) -> Outcome {
        if m.shape() == want {
            return Ok(());
        }
        let hint = hint.map_or(String::new(), |h| format!(" — {h}"));
        self.wrong(format!(
            "{what}: expected {}, got {}{hint}",
            dims(want),
            dims(m.shape())
        ))
    }

    /// The length of a vector.
    fn shape_v(&self, what: &str, v: &DVector<f32>, want: usize) -> Outcome {
        if v.len() == want {
            return Ok(());
        }
        self.wrong(format!("{what}: expected ({want}), got ({})", v.len()))
    }

    /// The number of matrices in a batch and the shape of each.
    fn shape_batch(
        &self,
        what: &str,
        b: &[DMatrix<f32>],
        len: usize,
        want: (usize, usize),
    ) -> Outcome {
        if b.len() != len {
            return self.wrong(format!("{what}: expected {len} matrices, got {}", b.len()));
        }
        for (k, m) in b.iter().enumerate() {
            self.shape_m(&format!("{what}, item {k}"), m, want, None)?;
        }
        Ok(())
    }

    /// No NaN or infinity; `hint` explains where one comes from.
    fn finite_m(&self, what: &str, m: &DMatrix<f32>, hint: Option<&str>) -> Outcome {
        let bad = (0..m.nrows())
            .flat_map(|i| (0..m.ncols()).map(move |j| (i, j)))
            .find(|&ij| !m[ij].is_finite());
        match bad {
            None => Ok(()),
            Some((i, j)) => {
                let kind = if m[(i, j)].is_nan() {
                    "NaN"
                } else {
                    "an infinity"
                };
                let hint = hint.map_or(String::new(), |h| format!(" — {h}"));
                self.wrong(format!(
                    "{what}: your result holds {kind} at ({i}, {j}){hint}"
                ))
            }
        }
    }

    /// [`finite_m`](Self::finite_m) for a vector.
    fn finite_v(&self, what: &str, v: &DVector<f32>, hint: Option<&str>) -> Outcome {
        match v.iter().position(|x| !x.is_finite()) {
            None => Ok(()),
            Some(j) => {
                let kind = if v[j].is_nan() { "NaN" } else { "an infinity" };
                let hint = hint.map_or(String::new(), |h| format!(" — {h}"));
                self.wrong(format!("{what}: your result holds {kind} at ({j}){hint}"))
            }
        }
    }

    /// [`finite_m`](Self::finite_m) for every matrix of a batch.
    fn finite_batch(&self, what: &str, b: &[DMatrix<f32>]) -> Outcome {
        for (k, m) in b.iter().enumerate() {
            self.finite_m(&format!("{what}, item {k}"), m, None)?;
        }
        Ok(())
    }

    /// The learner's printed result against the book's text of registry entry `name`. On a
    /// mismatch: the misconception `hint` finds (if any), then the two texts side by side.
    fn book(&self, name: &str, computed: String, hint: impl FnOnce() -> Option<String>) -> Outcome {
        let printed = chapter::find(name).expect("a name of the chapter's registry");
        let expected = printed.expected();
        if computed == expected {
            return Ok(());
        }
        let head = hint().unwrap_or_else(|| "your result differs from the book's".to_string());
        let mismatch = Mismatch {
            printed: *printed,
            computed,
            expected,
        };
        self.wrong(format!("{head}\n{mismatch}"))
    }

    /// A matrix equal to the reference's within [`TOL`]; otherwise the first differing entry,
    /// after the misconception `hint` finds.
    fn equal_m(
        &self,
        what: &str,
        got: &DMatrix<f32>,
        want: &DMatrix<f32>,
        hint: impl FnOnce() -> Option<String>,
    ) -> Outcome {
        self.shape_m(what, got, want.shape(), None)?;
        self.finite_m(what, got, None)?;
        match first_difference(got, want) {
            None => Ok(()),
            Some((i, j)) => {
                let evidence = format!(
                    "{what}: entry ({i}, {j}) is {} where the reference computes {}",
                    got[(i, j)],
                    want[(i, j)]
                );
                match hint() {
                    Some(h) => self.wrong(format!("{h}\n  ({evidence})")),
                    None => self.wrong(evidence),
                }
            }
        }
    }

    /// [`equal_m`](Self::equal_m) for a vector.
    fn equal_v(&self, what: &str, got: &DVector<f32>, want: &DVector<f32>) -> Outcome {
        self.shape_v(what, got, want.len())?;
        self.finite_v(what, got, None)?;
        let (g, w) = (as_column(got), as_column(want));
        self.equal_m(what, &g, &w, || None)
    }

    /// [`equal_m`](Self::equal_m) for every matrix of a batch.
    fn equal_batch(
        &self,
        what: &str,
        got: &[DMatrix<f32>],
        want: &[DMatrix<f32>],
        hint: impl Fn() -> Option<String>,
    ) -> Outcome {
        let shape = want.first().map_or((0, 0), |m| m.shape());
        self.shape_batch(what, got, want.len(), shape)?;
        for (k, (g, w)) in got.iter().zip(want).enumerate() {
            self.equal_m(&format!("{what}, item {k}"), g, w, &hint)?;
        }
        Ok(())
    }
}

/// A vector as a one-column matrix.
fn as_column(v: &DVector<f32>) -> DMatrix<f32> {
    DMatrix::from_column_slice(v.len(), 1, v.as_slice())
}

/// The first entry (row-major) where `got` and `want` differ by more than [`TOL`] relative.
fn first_difference(got: &DMatrix<f32>, want: &DMatrix<f32>) -> Option<(usize, usize)> {
    if got.shape() != want.shape() {
        return Some((0, 0));
    }
    (0..got.nrows())
        .flat_map(|i| (0..got.ncols()).map(move |j| (i, j)))
        .find(|&ij| {
            let (g, w) = (got[ij], want[ij]);
            !((g - w).abs() <= TOL * w.abs().max(1.0) || (g.is_nan() && w.is_nan()))
        })
}

/// `got` equals `want` within [`TOL`].
fn close(got: &DMatrix<f32>, want: &DMatrix<f32>) -> bool {
    first_difference(got, want).is_none()
}

/// Every matrix of `got` equals its partner in `want`.
fn close_batch(got: &[DMatrix<f32>], want: &[DMatrix<f32>]) -> bool {
    got.len() == want.len() && got.iter().zip(want).all(|(g, w)| close(g, w))
}

/// A seeded random `(rows × cols)` matrix with entries in `[lo, hi)`.
fn random(seed: u64, rows: usize, cols: usize, lo: f64, hi: f64) -> DMatrix<f32> {
    TorchRng::manual_seed(seed).uniform(rows, cols, lo, hi)
}

/// A seeded random vector.
fn random_v(seed: u64, n: usize, lo: f64, hi: f64) -> DVector<f32> {
    DVector::from_column_slice(random(seed, n, 1, lo, hi).as_slice())
}

/// The sums of the rows and of the columns.
fn row_col_sums(m: &DMatrix<f32>) -> (Vec<f32>, Vec<f32>) {
    let rows = (0..m.nrows()).map(|i| m.row(i).sum()).collect();
    let cols = (0..m.ncols()).map(|j| m.column(j).sum()).collect();
    (rows, cols)
}

/// Every value within `1e-4` of 1.
fn all_one(sums: &[f32]) -> bool {
    sums.iter().all(|s| (s - 1.0).abs() < 1e-4)
}

/// The book's batch: the six embeddings twice.
fn book_batch() -> Vec<DMatrix<f32>> {
    vec![inputs(), inputs()]
}

/// Named misconceptions, in words (the tests of the catalog look for these words).
mod words {
    pub const NO_SCALE: &str =
        "missing 1/√d_k: the scores must be divided by √d_k (the keys' width) before the softmax";
    pub const WRONG_AXIS: &str = "softmax over the wrong axis: your columns sum to 1 and your rows don't — row i holds query i's weights over the keys, so normalize each row (dim=-1)";
    pub const OVERFLOW: &str = "naive softmax overflowing: exp(1000) is inf in f32 and inf / inf is NaN — subtract the largest score before exp";
    pub const DIAGONAL: &str = "the mask also hides the diagonal: a token may attend to itself, so keep j ≤ i (tril), mask only j > i";
    pub const RENORMALIZE_FIRST: &str = "renormalized before masking: after zeroing the future the rows no longer sum to 1 — divide each row by its sum after the mask";
    pub const MASK_AFTER: &str = "masked after the softmax without renormalizing: set the future scores to −∞ before the softmax, so every row still sums to 1";
    pub const OVER_P: &str = "dropout scaled by 1/p instead of 1/(1 − p): the kept fraction is 1 − p, so kept entries are multiplied by 1/(1 − p) to keep the mean";
    pub const UNSCALED: &str = "dropout not scaled: kept entries must be multiplied by 1/(1 − p), or the mean shrinks to 1 − p";
    pub const IN_EVAL: &str = "dropout active in evaluation: with training = false the input passes unchanged and nothing is drawn";
    pub const ON_SCORES: &str = "dropout applied to the scores before the softmax: the book drops attention weights, after the softmax (self.dropout(attn_weights))";
    pub const X_W: &str = "x · W instead of x · Wᵀ: Linear stores its weight as (d_out × d_in); use layer.forward(x), which computes x Wᵀ + b";
    pub const INTERLEAVED: &str = "heads from interleaved columns: head h owns the contiguous columns h·head_dim .. (h+1)·head_dim (.view(b, T, num_heads, head_dim)), not every num_heads-th column";
    pub const NO_OUT_PROJ: &str = "a missing out_proj: after putting the heads side by side, MultiHeadAttention applies out_proj (Linear(d_out, d_out), with bias)";
    pub const SCALE_D_MODEL: &str = "scaled by √d_model (√d_out) instead of √head_dim: each head's scores are divided by the square root of that head's width, keys.shape[-1]";
    pub const FUTURE: &str = "the future is visible — masked scores must be −∞ before the softmax, not 0 after it (a score of 0 still gets weight exp(0) = 1)";
}

/// Attention with one twist, on given queries, keys and values: the variants a learner's result
/// is compared with to name a misconception.
#[derive(Clone, Copy, PartialEq)]
enum Twist {
    /// The book's computation.
    None,
    /// No division by √d_k.
    NoScale,
    /// Divided by this many √ instead of √d_k.
    ScaleBy(usize),
    /// Softmax along columns.
    WrongAxis,
    /// No causal mask.
    Unmasked,
}

/// `softmax(Q Kᵀ / √d_k) V` (causal or not) with a twist.
fn attend(
    q: &DMatrix<f32>,
    k: &DMatrix<f32>,
    v: &DMatrix<f32>,
    causal: bool,
    twist: Twist,
) -> DMatrix<f32> {
    let mut scores = matmul(q, &k.transpose()); // (T, T)
    if causal && twist != Twist::Unmasked {
        scores = mask_future_with_neg_inf(&scores);
    }
    let scale = match twist {
        Twist::NoScale => 1.0,
        Twist::ScaleBy(d) => (d as f32).sqrt(),
        _ => (k.ncols() as f32).sqrt(),
    };
    let scores = scores / scale;
    let weights = if twist == Twist::WrongAxis {
        softmax_rows(&scores.transpose()).transpose()
    } else {
        softmax_rows(&scores)
    };
    matmul(&weights, v)
}

/// The misconception among `twists` whose result `got` equals, if any.
fn which_twist(
    got: &DMatrix<f32>,
    twists: &[(Twist, &'static str)],
    compute: impl Fn(Twist) -> DMatrix<f32>,
) -> Option<String> {
    twists
        .iter()
        .find(|(t, _)| close(got, &compute(*t)))
        .map(|(_, words)| (*words).to_string())
}

/// The orders `0..n` in which layers could be created, the book's (identity) excluded.
fn other_orders(n: usize) -> Vec<Vec<usize>> {
    fn permute(prefix: Vec<usize>, rest: Vec<usize>, out: &mut Vec<Vec<usize>>) {
        if rest.is_empty() {
            out.push(prefix);
            return;
        }
        for (k, &x) in rest.iter().enumerate() {
            let mut p = prefix.clone();
            p.push(x);
            let mut r = rest.clone();
            r.remove(k);
            permute(p, r, out);
        }
    }
    let mut out = Vec::new();
    permute(Vec::new(), (0..n).collect(), &mut out);
    out.retain(|p| p.iter().enumerate().any(|(k, &x)| k != x));
    out
}

/// If `got` is what creating the parts in another order gives (`make(slot, rng)` draws the part
/// of `slot`), a message naming that order; `names` are the parts in the book's order.
fn creation_order_hint<T: PartialEq>(
    got: &[T],
    seed: u64,
    names: &[&str],
    make: impl Fn(usize, &mut TorchRng) -> T,
) -> Option<String> {
    for order in other_orders(got.len()) {
        let mut rng = TorchRng::manual_seed(seed);
        let mut made: Vec<Option<T>> = (0..got.len()).map(|_| None).collect();
        for &slot in &order {
            made[slot] = Some(make(slot, &mut rng));
        }
        if made.iter().zip(got).all(|(m, g)| m.as_ref() == Some(g)) {
            let yours: Vec<&str> = order.iter().map(|&s| names[s]).collect();
            return Some(format!(
                "projections created in another order than the book's: yours are drawn {}, the \
                 book's {} — with a seeded generator the order decides which numbers each gets",
                yours.join(", "),
                names.join(", ")
            ));
        }
    }
    None
}

/// The first weight above the diagonal that is not exactly 0, with its value.
fn future_weight(w: &DMatrix<f32>) -> Option<(usize, usize, f32)> {
    (0..w.nrows())
        .flat_map(|i| ((i + 1)..w.ncols()).map(move |j| (i, j)))
        .map(|(i, j)| (i, j, w[(i, j)]))
        .find(|&(_, _, x)| x != 0.0)
}

/// "token 0 puts 0.17 of its weight on token 5: the future is visible — …"
fn future_message(i: usize, j: usize, x: f32) -> String {
    format!(
        "token {i} puts {x:.2} of its weight on token {j}: {}",
        words::FUTURE
    )
}

/// The misconception a wrong `(T × T)` causal weight matrix shows, if any.
fn causal_weights_hint(got: &DMatrix<f32>, no_scale: Option<&DMatrix<f32>>) -> Option<String> {
    if let Some((i, j, x)) = future_weight(got) {
        return Some(future_message(i, j, x));
    }
    let n = got.nrows().min(got.ncols());
    if n > 1 && (1..n).all(|i| got[(i, i)] == 0.0) {
        return Some(words::DIAGONAL.to_string());
    }
    if no_scale.is_some_and(|m| close(got, m)) {
        return Some(words::NO_SCALE.to_string());
    }
    let (rows, _) = row_col_sums(got);
    if !all_one(&rows) {
        return Some(words::MASK_AFTER.to_string());
    }
    None
}

// ---------------------------------------------------------------------------------------------
// 3.3.1
// ---------------------------------------------------------------------------------------------

fn dot_scores<I: Chapter3 + 'static>(c: &Ctx) -> Outcome {
    let (x, query) = (inputs(), row(&inputs(), 1));
    let got = c.run(move || I::attn_scores_for(&query, &x))?;
    c.shape_v("the scores of query 2 against the 6 inputs", &got, 6)?;
    c.finite_v("the scores of query 2", &got, None)?;
    c.book("s3_3_1_attn_scores_2", got.torch_str(), || None)?;
    for (seed, tokens, d_in) in [(1, 5, 4), (2, 9, 7)] {
        let x = random(seed, tokens, d_in, -2.0, 2.0);
        let query = random_v(seed + 100, d_in, -2.0, 2.0);
        let want = Reference::attn_scores_for(&query, &x);
        let got = c.run(move || I::attn_scores_for(&query, &x))?;
        c.equal_v(
            &format!("scores on a random ({tokens} × {d_in}) input"),
            &got,
            &want,
        )?;
    }
    Ok(())
}

/// ω₂: the book's scores of query 2.
fn omega_2() -> DVector<f32> {
    Reference::attn_scores_for(&row(&inputs(), 1), &inputs())
}

fn sum_normalize<I: Chapter3 + 'static>(c: &Ctx) -> Outcome {
    let got = c.run(|| I::sum_normalize(&omega_2()))?;
    c.shape_v("the weights of query 2", &got, 6)?;
    c.finite_v("the weights of query 2", &got, None)?;
    let text = format!("Attention weights: {}", got.torch_str());
    c.book("s3_3_1_attn_weights_2_sum_normalized", text, || None)?;
    let scores = random_v(3, 7, 0.1, 3.0);
    let want = Reference::sum_normalize(&scores);
    let got = c.run(move || I::sum_normalize(&scores))?;
    c.equal_v("sum-normalized random positive scores", &got, &want)
}

fn softmax_naive<I: Chapter3 + 'static>(c: &Ctx) -> Outcome {
    let got = c.run(|| I::softmax_naive(&omega_2()))?;
    c.shape_v("the weights of query 2", &got, 6)?;
    c.finite_v("the weights of query 2", &got, None)?;
    let text = format!("Attention weights: {}", got.torch_str());
    c.book("s3_3_1_attn_weights_2_naive_softmax", text, || None)?;
    let scores = random_v(4, 8, -3.0, 3.0);
    let want = Reference::softmax(&scores);
    let got = c.run(move || I::softmax_naive(&scores))?;
    c.equal_v("the softmax of random scores in [−3, 3)", &got, &want)
}

fn softmax<I: Chapter3 + 'static>(c: &Ctx) -> Outcome {
    let got = c.run(|| I::softmax(&omega_2()))?;
    c.shape_v("the weights of query 2", &got, 6)?;
    c.finite_v("the weights of query 2", &got, None)?;
    let text = format!("Attention weights: {}", got.torch_str());
    c.book("s3_3_1_attn_weights_2_softmax", text, || None)?;
    let scores = random_v(5, 8, -3.0, 3.0);
    let want = Reference::softmax(&scores);
    let got = c.run(move || I::softmax(&scores))?;
    c.equal_v("the softmax of random scores in [−3, 3)", &got, &want)?;
    for scores in [
        DVector::from_vec(vec![1000.0_f32, 999.0, -1000.0, 0.0, 998.5]),
        DVector::from_vec(vec![-1000.0_f32, -1001.0, -999.0]),
    ] {
        let want = Reference::softmax(&scores);
        let what = format!("the softmax of {}", scores.torch_str());
        let got = c.run(move || I::softmax(&scores))?;
        c.shape_v(&what, &got, want.len())?;
        c.finite_v(&what, &got, Some(words::OVERFLOW))?;
        c.equal_v(&what, &got, &want)?;
    }
    Ok(())
}

fn context_vec<I: Chapter3 + 'static>(c: &Ctx) -> Outcome {
    let weights = Reference::softmax(&omega_2());
    let got = c.run(move || I::context_vec(&weights, &inputs()))?;
    c.shape_v("z⁽²⁾", &got, 3)?;
    c.finite_v("z⁽²⁾", &got, None)?;
    c.book("s3_3_1_context_vec_2", got.torch_str(), || None)?;
    let x = random(6, 7, 4, -2.0, 2.0);
    let weights = Reference::softmax(&random_v(7, 7, -2.0, 2.0));
    let want = Reference::context_vec(&weights, &x);
    let got = c.run(move || I::context_vec(&weights, &x))?;
    c.equal_v("the context vector of random (7 × 4) inputs", &got, &want)
}

// ---------------------------------------------------------------------------------------------
// 3.3.2
// ---------------------------------------------------------------------------------------------

fn attn_scores<I: Chapter3 + 'static>(c: &Ctx) -> Outcome {
    let got = c.run(|| I::attn_scores(&inputs()))?;
    let hint = (got.shape() == (3, 3))
        .then(|| "Xᵀ X instead of X Xᵀ: one score per pair of tokens".to_string());
    c.shape_m("the scores of the 6 tokens", &got, (6, 6), hint)?;
    c.finite_m("the scores", &got, None)?;
    c.book("s3_3_2_attn_scores", got.torch_str(), || None)?;
    let x = random(8, 5, 3, -2.0, 2.0);
    let want = Reference::attn_scores(&x);
    let got = c.run(move || I::attn_scores(&x))?;
    c.equal_m("the scores of random (5 × 3) inputs", &got, &want, || None)
}

/// The wrong-axis misconception, if `got`'s columns sum to 1 and its rows don't.
fn axis_hint(got: &DMatrix<f32>) -> Option<String> {
    let (rows, cols) = row_col_sums(got);
    (all_one(&cols) && !all_one(&rows)).then(|| words::WRONG_AXIS.to_string())
}

fn attn_weights<I: Chapter3 + 'static>(c: &Ctx) -> Outcome {
    let got = c.run(|| I::attn_weights(&Reference::attn_scores(&inputs())))?;
    c.shape_m("the weights of the 6 tokens", &got, (6, 6), None)?;
    c.finite_m("the weights", &got, None)?;
    c.book("s3_3_2_attn_weights", got.torch_str(), || axis_hint(&got))?;
    let scores = random(9, 4, 6, -3.0, 3.0); // 4 queries, 6 keys
    let want = Reference::attn_weights(&scores);
    let got = c.run(move || I::attn_weights(&scores))?;
    c.shape_m("the weights of random (4 × 6) scores", &got, (4, 6), None)?;
    c.finite_m("the weights of random (4 × 6) scores", &got, None)?;
    if let Some(hint) = axis_hint(&got) {
        return c.wrong(hint);
    }
    c.equal_m("the weights of random (4 × 6) scores", &got, &want, || {
        None
    })
}

fn context_vecs<I: Chapter3 + 'static>(c: &Ctx) -> Outcome {
    let weights = Reference::attn_weights(&Reference::attn_scores(&inputs()));
    let got = c.run(move || I::context_vecs(&weights, &inputs()))?;
    c.shape_m("the context vectors of the 6 tokens", &got, (6, 3), None)?;
    c.finite_m("the context vectors", &got, None)?;
    c.book("s3_3_2_context_vecs", got.torch_str(), || None)?;
    let weights = Reference::attn_weights(&random(10, 4, 5, -2.0, 2.0));
    let x = random(11, 5, 3, -2.0, 2.0);
    let want = Reference::context_vecs(&weights, &x);
    let got = c.run(move || I::context_vecs(&weights, &x))?;
    c.equal_m("(4 × 5) weights times (5 × 3) inputs", &got, &want, || None)
}

// ---------------------------------------------------------------------------------------------
// 3.4
// ---------------------------------------------------------------------------------------------

/// The names of the projections, in the book's order.
const QKV: [&str; 3] = ["W_query", "W_key", "W_value"];

fn self_attention_v1<I: Chapter3 + 'static>(c: &Ctx) -> Outcome {
    let weights = c.run(|| I::self_attention_v1_weights(3, 2, &mut TorchRng::manual_seed(123)))?;
    for (name, w) in QKV.iter().zip(&weights) {
        c.shape_m(
            &format!("{name} of SelfAttention_v1(3, 2)"),
            w,
            (3, 2),
            None,
        )?;
    }
    let want = Reference::self_attention_v1_weights(3, 2, &mut TorchRng::manual_seed(123));
    if weights != want {
        let hint = creation_order_hint(&weights, 123, &QKV, |_, rng| rng.rand(3, 2));
        let head = hint.unwrap_or_else(|| {
            "the weights differ from three torch.rand(3, 2) drawn after torch.manual_seed(123)"
                .to_string()
        });
        return c.wrong(format!(
            "{head}\n  yours W_query = {}\n  book's W_query = {}",
            weights[0].torch_str(),
            want[0].torch_str()
        ));
    }
    let twists = [
        (Twist::NoScale, words::NO_SCALE),
        (Twist::WrongAxis, words::WRONG_AXIS),
    ];
    // Random shapes first, with the reference's weights, then the book's numbers.
    let x = random(12, 7, 5, -1.0, 1.0);
    let w = Reference::self_attention_v1_weights(5, 4, &mut TorchRng::manual_seed(13));
    let want = Reference::self_attention_v1(&x, &w);
    let (x2, w2) = (x.clone(), w.clone());
    let got = c.run(move || I::self_attention_v1(&x2, &w2))?;
    let [wq, wk, wv] = &w;
    let qkv = |t| attend(&matmul(&x, wq), &matmul(&x, wk), &matmul(&x, wv), false, t);
    c.equal_m(
        "SelfAttention_v1(5, 4) on random (7 × 5) inputs",
        &got,
        &want,
        || which_twist(&got, &twists, qkv),
    )?;
    let got = c.run(move || I::self_attention_v1(&inputs(), &weights))?;
    c.shape_m("the context vectors of the 6 tokens", &got, (6, 2), None)?;
    c.finite_m("the context vectors", &got, None)?;
    c.book("s3_4_2_sa_v1_output", got.torch_str(), || None)
}

/// The shape of a layer: `Linear(d_in, d_out, bias)`.
fn check_layer(c: &Ctx, name: &str, l: &Linear, d_in: usize, d_out: usize, bias: bool) -> Outcome {
    let (got_in, got_out, got_bias) = (l.in_features(), l.out_features(), l.bias().is_some());
    if (got_in, got_out, got_bias) == (d_in, d_out, bias) {
        return Ok(());
    }
    c.wrong(format!(
        "{name} should be Linear({d_in}, {d_out}, bias={}): weight expected {}, got {} ({})",
        if bias { "True" } else { "False" },
        dims((d_out, d_in)),
        dims(l.weight().shape()),
        if got_bias {
            "with a bias"
        } else {
            "without a bias"
        }
    ))
}

fn self_attention_v2<I: Chapter3 + 'static>(c: &Ctx) -> Outcome {
    let layers =
        c.run(|| I::self_attention_v2_layers(3, 2, false, &mut TorchRng::manual_seed(789)))?;
    for (name, l) in QKV.iter().zip(&layers) {
        check_layer(c, name, l, 3, 2, false)?;
    }
    let want = Reference::self_attention_v2_layers(3, 2, false, &mut TorchRng::manual_seed(789));
    if layers != want {
        let hint = creation_order_hint(&layers, 789, &QKV, |_, rng| Linear::new(3, 2, false, rng));
        let head = hint.unwrap_or_else(|| {
            "the layers differ from Linear(3, 2, bias=False) × 3 drawn after torch.manual_seed(789)"
                .to_string()
        });
        return c.wrong(head);
    }
    // Square layers first: `x · W` then gives a result of the right shape, and it can be named.
    let x = random(14, 5, 4, -1.0, 1.0);
    let sq = Reference::self_attention_v2_layers(4, 4, true, &mut TorchRng::manual_seed(15));
    let want = Reference::self_attention_v2(&x, &sq);
    let (x2, sq2) = (x.clone(), sq.clone());
    let got = c.run(move || I::self_attention_v2(&x2, &sq2))?;
    let x_w = |l: &Linear| {
        let mut y = matmul(&x, l.weight());
        if let Some(b) = l.bias() {
            for (mut col, b_j) in y.column_iter_mut().zip(b.iter()) {
                col.add_scalar_mut(*b_j);
            }
        }
        y
    };
    let [lq, lk, lv] = &sq;
    let twisted = |t| attend(&apply(lq, &x), &apply(lk, &x), &apply(lv, &x), false, t);
    c.equal_m(
        "SelfAttention_v2(4, 4, bias) on random (5 × 4) inputs",
        &got,
        &want,
        || {
            if close(
                &got,
                &attend(&x_w(lq), &x_w(lk), &x_w(lv), false, Twist::None),
            ) {
                return Some(words::X_W.to_string());
            }
            which_twist(
                &got,
                &[
                    (Twist::NoScale, words::NO_SCALE),
                    (Twist::WrongAxis, words::WRONG_AXIS),
                ],
                twisted,
            )
        },
    )?;
    let got = c.run(move || I::self_attention_v2(&inputs(), &layers))?;
    c.shape_m("the context vectors of the 6 tokens", &got, (6, 2), None)?;
    c.finite_m("the context vectors", &got, None)?;
    c.book("s3_4_2_sa_v2_output", got.torch_str(), || None)
}

fn exercise_3_1<I: Chapter3 + 'static>(c: &Ctx) -> Outcome {
    let layers = Reference::self_attention_v2_layers(3, 2, false, &mut TorchRng::manual_seed(123));
    let given = layers.clone();
    let weights = c.run(move || I::v1_weights_from_v2(&given))?;
    for (name, w) in QKV.iter().zip(&weights) {
        let hint = (w.shape() == (2, 3)).then(|| {
            "Linear stores its weight as (d_out × d_in); SelfAttention_v1 computes x · W with W \
             (d_in × d_out): transpose it"
                .to_string()
        });
        c.shape_m(&format!("v1's {name}"), w, (3, 2), hint)?;
    }
    let got = Reference::self_attention_v1(&inputs(), &weights);
    c.book("exercise_3_1_sa_v1", got.torch_str(), || {
        let transposed = layers
            .iter()
            .zip(&weights)
            .all(|(l, w)| *w == l.weight().transpose());
        (!transposed).then(|| {
            "v1's weights must be v2's weights transposed (layer.weight().transpose()), in the \
             order W_query, W_key, W_value"
                .to_string()
        })
    })
}

// ---------------------------------------------------------------------------------------------
// 3.5
// ---------------------------------------------------------------------------------------------

/// 3.5.1's `sa_v2`: `SelfAttention_v2(3, 2)` after `torch.manual_seed(789)`.
fn sa_v2_789() -> SelfAttentionV2 {
    SelfAttentionV2::new(3, 2, false, &mut TorchRng::manual_seed(789))
}

/// The misconception a wrong route-1 result shows.
fn renormalize_hint(got: &DMatrix<f32>) -> Option<String> {
    if let Some((i, j, x)) = future_weight(got) {
        return Some(future_message(i, j, x));
    }
    let n = got.nrows().min(got.ncols());
    if n > 1 && (1..n).all(|i| got[(i, i)] == 0.0) {
        return Some(words::DIAGONAL.to_string());
    }
    let (rows, _) = row_col_sums(got);
    (!all_one(&rows)).then(|| words::RENORMALIZE_FIRST.to_string())
}

fn mask_then_renormalize<I: Chapter3 + 'static>(c: &Ctx) -> Outcome {
    let weights = sa_v2_789().attn_weights(&inputs()).expect("3 columns");
    let got = c.run(move || I::mask_then_renormalize(&weights))?;
    c.shape_m("the masked weights", &got, (6, 6), None)?;
    let nan_row_0 = (0..6).any(|j| got[(0, j)].is_nan());
    c.finite_m(
        "the masked weights",
        &got,
        nan_row_0.then_some(words::DIAGONAL),
    )?;
    c.book("s3_5_1_masked_simple_norm", got.torch_str(), || {
        renormalize_hint(&got)
    })?;
    let weights = Reference::attn_weights(&random(16, 5, 5, -2.0, 2.0));
    let want = Reference::mask_then_renormalize(&weights);
    let got = c.run(move || I::mask_then_renormalize(&weights))?;
    c.equal_m("route 1 on random (5 × 5) weights", &got, &want, || {
        renormalize_hint(&got)
    })
}

fn causal_attn_weights<I: Chapter3 + 'static>(c: &Ctx) -> Outcome {
    let scores = sa_v2_789().attn_scores(&inputs()).expect("3 columns");
    let no_scale = Reference::causal_attn_weights(&scores, 1);
    let got = c.run(move || I::causal_attn_weights(&scores, 2))?;
    c.shape_m("the causal weights", &got, (6, 6), None)?;
    let nan_row_0 = (0..6).any(|j| got[(0, j)].is_nan());
    c.finite_m(
        "the causal weights",
        &got,
        nan_row_0.then_some(words::DIAGONAL),
    )?;
    let hint = || causal_weights_hint(&got, Some(&no_scale));
    c.book("s3_5_1_causal_attn_weights", got.torch_str(), hint)?;
    // Random scores, then the same scores with the future changed: nothing may move.
    let scores = random(17, 6, 6, -3.0, 3.0);
    let mut changed = scores.clone();
    let noise = random(18, 6, 6, -50.0, 50.0);
    for i in 0..6 {
        for j in (i + 1)..6 {
            changed[(i, j)] = noise[(i, j)];
        }
    }
    let want = Reference::causal_attn_weights(&scores, 3);
    let no_scale = Reference::causal_attn_weights(&scores, 1);
    let s = scores.clone();
    let got = c.run(move || I::causal_attn_weights(&s, 3))?;
    c.equal_m(
        "the causal weights of random (6 × 6) scores, d_k = 3",
        &got,
        &want,
        || causal_weights_hint(&got, Some(&no_scale)),
    )?;
    let got_changed = c.run(move || I::causal_attn_weights(&changed, 3))?;
    c.equal_m(
        "the same scores with every score above the diagonal replaced",
        &got_changed,
        &got,
        || causal_weights_hint(&got_changed, None).or_else(|| Some(words::FUTURE.to_string())),
    )
}

/// The learner's dropout and how many numbers it drew.
fn run_dropout<I: Chapter3 + 'static>(
    c: &Ctx,
    x: &DMatrix<f32>,
    p: f64,
    training: bool,
    seed: u64,
) -> Result<(DMatrix<f32>, u64), Fail> {
    let x = x.clone();
    c.run(move || {
        let mut rng = TorchRng::manual_seed(seed);
        let out = I::dropout(&x, p, training, &mut rng);
        (out, rng.draw_count())
    })
}

fn dropout<I: Chapter3 + 'static>(c: &Ctx) -> Outcome {
    // Evaluation: the identity, nothing drawn.
    let x = random(19, 4, 5, -1.0, 1.0);
    let (got, draws) = run_dropout::<I>(c, &x, 0.5, false, 1)?;
    c.shape_m(
        "Dropout(0.5) in evaluation on a (4 × 5) input",
        &got,
        (4, 5),
        None,
    )?;
    if got != x {
        return c.wrong(format!(
            "{} (your output differs from the input)",
            words::IN_EVAL
        ));
    }
    if draws != 0 {
        return c.wrong(format!(
            "{} (yours drew {draws} random numbers)",
            words::IN_EVAL
        ));
    }
    // Training, p = 0.2 on ones: kept entries are 1.25, the mean stays near 1.
    let ones = DMatrix::from_element(40, 50, 1.0_f32);
    let (got, _) = run_dropout::<I>(c, &ones, 0.2, true, 2)?;
    let what = "Dropout(0.2) in training on ones(40, 50)";
    c.shape_m(what, &got, (40, 50), None)?;
    c.finite_m(what, &got, None)?;
    let kept: Vec<f32> = got.iter().copied().filter(|v| *v != 0.0).collect();
    let all = |v: f32| !kept.is_empty() && kept.iter().all(|k| (k - v).abs() < 1e-4);
    if all(5.0) {
        return c.wrong(format!(
            "{} (kept entries are 5 = 1/0.2, not 1.25)",
            words::OVER_P
        ));
    }
    if all(1.0) && kept.len() < got.len() {
        return c.wrong(format!(
            "{} (kept entries are 1, not 1.25)",
            words::UNSCALED
        ));
    }
    let mean = got.mean();
    if (mean - 1.0).abs() > 0.05 {
        return c.wrong(format!(
            "dropout must keep the mean: on ones the mean of the output is {mean:.3}, not ≈ 1 \
             (keep each entry with probability 1 − p and scale the kept ones by 1/(1 − p))"
        ));
    }
    let want = Reference::dropout(&ones, 0.2, true, &mut TorchRng::manual_seed(2));
    if got != want {
        return c.wrong(format!(
            "{what}: the mask differs from PyTorch's — draw it with rng.bernoulli_mask(len, 1 − p) \
             over the elements in row-major order (row 0 first), keep where true"
        ));
    }
    // The book: ones(6, 6), then the causal weights, each after torch.manual_seed(123).
    let (got, _) = run_dropout::<I>(c, &DMatrix::from_element(6, 6, 1.0), 0.5, true, 123)?;
    c.shape_m("Dropout(0.5) on ones(6, 6)", &got, (6, 6), None)?;
    c.book("s3_5_2_dropout_ones", got.torch_str(), || None)?;
    let weights =
        Reference::causal_attn_weights(&sa_v2_789().attn_scores(&inputs()).expect("3 columns"), 2);
    let (got, _) = run_dropout::<I>(c, &weights, 0.5, true, 123)?;
    c.shape_m("Dropout(0.5) on the causal weights", &got, (6, 6), None)?;
    c.book("s3_5_2_dropout_attn_weights", got.torch_str(), || None)
}

/// Causal attention over a batch with one twist (evaluation mode).
fn causal_twisted(batch: &[DMatrix<f32>], layers: &[Linear; 3], t: Twist) -> Vec<DMatrix<f32>> {
    batch
        .iter()
        .map(|x| {
            let [q, k, v] = [&layers[0], &layers[1], &layers[2]].map(|l| apply(l, x));
            attend(&q, &k, &v, true, t)
        })
        .collect()
}

/// Training mode with dropout on the scores (before the mask and softmax): the misconception.
fn dropout_on_scores(
    batch: &[DMatrix<f32>],
    layers: &[Linear; 3],
    p: f64,
    seed: u64,
) -> Vec<DMatrix<f32>> {
    let scores: Vec<DMatrix<f32>> = batch
        .iter()
        .map(|x| matmul(&apply(&layers[0], x), &apply(&layers[1], x).transpose()))
        .collect();
    let dropped = Dropout::new(p)
        .expect("p in [0, 1]")
        .forward_train_batch(&scores, &mut TorchRng::manual_seed(seed));
    batch
        .iter()
        .zip(&dropped)
        .map(|(x, s)| {
            let d_k = layers[1].out_features();
            let w = crate::causal::causal_attn_weights(s, d_k);
            matmul(&w, &apply(&layers[2], x))
        })
        .collect()
}

/// The learner's causal attention and how many numbers it drew.
fn run_causal<I: Chapter3 + 'static>(
    c: &Ctx,
    batch: &[DMatrix<f32>],
    layers: &[Linear; 3],
    p: f64,
    training: bool,
    seed: u64,
) -> Result<(Vec<DMatrix<f32>>, u64), Fail> {
    let (batch, layers) = (batch.to_vec(), layers.clone());
    c.run(move || {
        let mut rng = TorchRng::manual_seed(seed);
        let out = I::causal_attention(&batch, &layers, p, training, &mut rng);
        (out, rng.draw_count())
    })
}

fn causal_attention<I: Chapter3 + 'static>(c: &Ctx) -> Outcome {
    let causal_twists = [
        (Twist::Unmasked, words::FUTURE),
        (Twist::NoScale, words::NO_SCALE),
        (Twist::WrongAxis, words::WRONG_AXIS),
    ];
    // Random shapes: 2 items of (7 × 5), Linear(5, 4, bias) layers.
    let layers = Reference::self_attention_v2_layers(5, 4, true, &mut TorchRng::manual_seed(20));
    let batch = vec![random(21, 7, 5, -1.0, 1.0), random(22, 7, 5, -1.0, 1.0)];
    let want =
        Reference::causal_attention(&batch, &layers, 0.0, false, &mut TorchRng::manual_seed(0));
    let (got, _) = run_causal::<I>(c, &batch, &layers, 0.0, false, 0)?;
    c.equal_batch(
        "CausalAttention(5, 4) on a random (2, 7, 5) batch",
        &got,
        &want,
        || {
            let item_0 = std::slice::from_ref(&batch[0]);
            which_twist(&got[0], &causal_twists, |t| {
                causal_twisted(item_0, &layers, t).remove(0)
            })
        },
    )?;
    // Later tokens changed: earlier outputs unchanged.
    let mut changed = batch.clone();
    for m in &mut changed {
        let noise = random(23, 3, 5, -3.0, 3.0);
        m.rows_mut(4, 3).copy_from(&noise);
    }
    let (got_changed, _) = run_causal::<I>(c, &changed, &layers, 0.0, false, 0)?;
    c.shape_batch("the batch with tokens 4.. changed", &got_changed, 2, (7, 4))?;
    for (k, (a, b)) in got.iter().zip(&got_changed).enumerate() {
        if !close(&a.rows(0, 4).into_owned(), &b.rows(0, 4).into_owned()) {
            let i = (0..4)
                .find(|&i| !close(&a.rows(i, 1).into_owned(), &b.rows(i, 1).into_owned()))
                .unwrap_or(0);
            return c.wrong(format!(
                "item {k}: token {i}'s output changed when only tokens 4.. changed: {}",
                words::FUTURE
            ));
        }
    }
    // Evaluation with dropout 0.5: the same as without, nothing drawn.
    let (got_eval, draws) = run_causal::<I>(c, &batch, &layers, 0.5, false, 0)?;
    if draws != 0 || !close_batch(&got_eval, &want) {
        return c.wrong(format!(
            "{} (dropout = 0.5, training = false)",
            words::IN_EVAL
        ));
    }
    // Training with dropout 0.5: one mask over the whole (b, T, T) weight tensor, item 0 first.
    let want =
        Reference::causal_attention(&batch, &layers, 0.5, true, &mut TorchRng::manual_seed(24));
    let (got, _) = run_causal::<I>(c, &batch, &layers, 0.5, true, 24)?;
    c.equal_batch(
        "training mode, dropout 0.5, after manual_seed(24)",
        &got,
        &want,
        || {
            if close_batch(&got, &dropout_on_scores(&batch, &layers, 0.5, 24)) {
                return Some(words::ON_SCORES.to_string());
            }
            Some(
            "the dropout mask differs: one mask over the whole (batch, T, T) tensor of attention \
             weights, item 0 first, each in row-major order"
                .to_string(),
        )
        },
    )?;
    // The book: CausalAttention(3, 2, 6, 0.0) after torch.manual_seed(123).
    let layers = Reference::self_attention_v2_layers(3, 2, false, &mut TorchRng::manual_seed(123));
    let (got, _) = run_causal::<I>(c, &book_batch(), &layers, 0.0, false, 0)?;
    c.shape_batch("the context vectors of the book's batch", &got, 2, (6, 2))?;
    c.finite_batch("the context vectors", &got)?;
    c.book("s3_5_3_causal_context_vecs", got.torch_str(), || None)
}

// ---------------------------------------------------------------------------------------------
// 3.6
// ---------------------------------------------------------------------------------------------

fn multi_head_wrapper<I: Chapter3 + 'static>(c: &Ctx) -> Outcome {
    let mut rng = TorchRng::manual_seed(123);
    let heads: Vec<[Linear; 3]> = (0..2)
        .map(|_| Reference::self_attention_v2_layers(3, 2, false, &mut rng))
        .collect();
    let given = heads.clone();
    let got = c.run(move || I::multi_head_wrapper(&book_batch(), &given))?;
    c.shape_batch(
        "the wrapper's context vectors (2 heads of 2)",
        &got,
        2,
        (6, 4),
    )?;
    c.finite_batch("the wrapper's context vectors", &got)?;
    c.book("s3_6_1_wrapper_context_vecs", got.torch_str(), || {
        let reversed: Vec<[Linear; 3]> = heads.iter().rev().cloned().collect();
        let swapped = Reference::multi_head_wrapper(&book_batch(), &reversed);
        close_batch(&got, &swapped).then(|| {
            "the heads are side by side in the wrong order: head 0's columns come first".to_string()
        })
    })?;
    let mut rng = TorchRng::manual_seed(25);
    let heads: Vec<[Linear; 3]> = (0..3)
        .map(|_| Reference::self_attention_v2_layers(4, 2, true, &mut rng))
        .collect();
    let batch = vec![random(26, 5, 4, -1.0, 1.0)];
    let want = Reference::multi_head_wrapper(&batch, &heads);
    let got = c.run(move || I::multi_head_wrapper(&batch, &heads))?;
    c.equal_batch(
        "3 heads of Linear(4, 2, bias) on a random (5 × 4) input",
        &got,
        &want,
        || None,
    )
}

/// Interleaved heads: head `h` takes columns `h, h + H, h + 2H, …` (the misconception).
fn interleaved(m: &DMatrix<f32>, num_heads: usize) -> Vec<DMatrix<f32>> {
    let head_dim = m.ncols() / num_heads;
    (0..num_heads)
        .map(|h| DMatrix::from_fn(m.nrows(), head_dim, |i, j| m[(i, h + j * num_heads)]))
        .collect()
}

fn split_heads<I: Chapter3 + 'static>(c: &Ctx) -> Outcome {
    for (seed, tokens, d_out, num_heads) in [(27, 5, 12, 3), (28, 3, 8, 4), (29, 4, 6, 1)] {
        let m = random(seed, tokens, d_out, -1.0, 1.0);
        let want = Reference::split_heads(&m, num_heads);
        let given = m.clone();
        let got = c.run(move || I::split_heads(&given, num_heads))?;
        let what = format!("a ({tokens} × {d_out}) matrix split into {num_heads} heads");
        c.shape_batch(&what, &got, num_heads, (tokens, d_out / num_heads))?;
        if got != want {
            if got == interleaved(&m, num_heads) {
                return c.wrong(words::INTERLEAVED);
            }
            let h = (0..num_heads).find(|&h| got[h] != want[h]).unwrap_or(0);
            return c.wrong(format!(
                "{what}: head {h} should be columns {} .. {} of the input",
                h * d_out / num_heads,
                (h + 1) * d_out / num_heads
            ));
        }
    }
    Ok(())
}

/// Multi-head attention with a twist (interleaved heads, no out_proj, √d_out, …).
fn mha_twisted(
    batch: &[DMatrix<f32>],
    layers: &[Linear; 4],
    num_heads: usize,
    twist: Twist,
    interleave: bool,
    out_proj: bool,
) -> Vec<DMatrix<f32>> {
    let split = |m: DMatrix<f32>| {
        if interleave {
            interleaved(&m, num_heads)
        } else {
            Reference::split_heads(&m, num_heads)
        }
    };
    batch
        .iter()
        .map(|x| {
            let q = split(apply(&layers[0], x));
            let k = split(apply(&layers[1], x));
            let v = split(apply(&layers[2], x));
            let heads: Vec<DMatrix<f32>> = (0..num_heads)
                .map(|h| attend(&q[h], &k[h], &v[h], true, twist))
                .collect();
            let context = concat_columns(&heads);
            if out_proj {
                apply(&layers[3], &context)
            } else {
                context
            }
        })
        .collect()
}

/// The misconception a wrong multi-head result shows.
fn mha_hint(
    got: &[DMatrix<f32>],
    batch: &[DMatrix<f32>],
    layers: &[Linear; 4],
    num_heads: usize,
) -> Option<String> {
    let d_out = layers[3].out_features();
    let variants = [
        (Twist::ScaleBy(d_out), false, true, words::SCALE_D_MODEL),
        (Twist::None, false, false, words::NO_OUT_PROJ),
        (Twist::None, true, true, words::INTERLEAVED),
        (Twist::NoScale, false, true, words::NO_SCALE),
        (Twist::Unmasked, false, true, words::FUTURE),
        (Twist::WrongAxis, false, true, words::WRONG_AXIS),
    ];
    variants
        .iter()
        .find(|(t, inter, proj, _)| {
            close_batch(
                got,
                &mha_twisted(batch, layers, num_heads, *t, *inter, *proj),
            )
        })
        .map(|(.., words)| (*words).to_string())
}

/// The names of MultiHeadAttention's layers, in the book's order.
const MHA_LAYERS: [&str; 4] = ["W_query", "W_key", "W_value", "out_proj"];

fn multi_head_attention<I: Chapter3 + 'static>(c: &Ctx) -> Outcome {
    let layers =
        c.run(|| I::multi_head_attention_layers(3, 2, false, &mut TorchRng::manual_seed(123)))?;
    for (name, l) in QKV.iter().zip(&layers) {
        check_layer(c, name, l, 3, 2, false)?;
    }
    check_layer(c, "out_proj", &layers[3], 2, 2, true)?;
    let want = Reference::multi_head_attention_layers(3, 2, false, &mut TorchRng::manual_seed(123));
    if layers != want {
        let make = |slot: usize, rng: &mut TorchRng| {
            if slot < 3 {
                Linear::new(3, 2, false, rng)
            } else {
                Linear::new(2, 2, true, rng)
            }
        };
        let head = creation_order_hint(&layers, 123, &MHA_LAYERS, make).unwrap_or_else(|| {
            "the layers differ from Linear(3, 2) × 3 then Linear(2, 2) with bias, drawn after \
             torch.manual_seed(123)"
                .to_string()
        });
        return c.wrong(head);
    }
    // Random shapes: 4 heads of 2, d_in 6, qkv bias, a batch of 2 × (7 × 6).
    let rand_layers =
        Reference::multi_head_attention_layers(6, 8, true, &mut TorchRng::manual_seed(30));
    let batch = vec![random(31, 7, 6, -1.0, 1.0), random(32, 7, 6, -1.0, 1.0)];
    let want = Reference::multi_head_attention(&batch, &rand_layers, 4);
    let (b2, l2) = (batch.clone(), rand_layers.clone());
    let got = c.run(move || I::multi_head_attention(&b2, &l2, 4))?;
    let what = "MultiHeadAttention(6, 8, heads = 4, qkv_bias) on a random (2, 7, 6) batch";
    c.equal_batch(what, &got, &want, || {
        mha_hint(&got, &batch, &rand_layers, 4)
    })?;
    // The book: MultiHeadAttention(3, 2, 6, 0.0, num_heads=2), seed 123, with your layers.
    let given = layers.clone();
    let got = c.run(move || I::multi_head_attention(&book_batch(), &given, 2))?;
    c.shape_batch("the context vectors of the book's batch", &got, 2, (6, 2))?;
    c.finite_batch("the context vectors", &got)?;
    c.book("s3_6_2_mha_context_vecs", got.torch_str(), || {
        mha_hint(&got, &book_batch(), &layers, 2)
    })
}

fn exercise_3_2<I: Chapter3 + 'static>(c: &Ctx) -> Outcome {
    let got = c.run(I::exercise_3_2)?;
    if got.len() == 2 && got.iter().all(|m| m.shape() == (6, 4)) {
        return c.wrong(
            "each head must be d_out = 1 wide: two heads side by side are then 2 wide (yours are 4)",
        );
    }
    c.shape_batch("the wrapper's context vectors", &got, 2, (6, 2))?;
    c.finite_batch("the wrapper's context vectors", &got)?;
    c.book("exercise_3_2_context_vecs", got.torch_str(), || None)
}

fn exercise_3_3<I: Chapter3 + 'static>(c: &Ctx) -> Outcome {
    let got = c.run(|| I::num_parameters(768, 768, 12, false))?;
    c.book("exercise_3_3_num_parameters", got.to_string(), || {
        let hint = match got {
            1_769_472 => words::NO_OUT_PROJ,
            2_359_296 => {
                "out_proj's bias is missing: out_proj = Linear(d_out, d_out) has d_out biases"
            }
            2_362_368 => "qkv_bias = false: the three projections have no bias",
            3_408_640 => "the mask is a buffer, not a trainable parameter",
            _ => return None,
        };
        Some(hint.to_string())
    })?;
    for (d_in, d_out, heads, bias) in [(3, 2, 2, true), (8, 4, 2, false), (5, 6, 3, true)] {
        let want = Reference::num_parameters(d_in, d_out, heads, bias);
        let got = c.run(move || I::num_parameters(d_in, d_out, heads, bias))?;
        if got != want {
            return c.wrong(format!(
                "MultiHeadAttention({d_in}, {d_out}, num_heads={heads}, qkv_bias={bias}) has \
                 {want} parameters, you count {got}: three Linear(d_in, d_out, qkv_bias) and \
                 out_proj = Linear(d_out, d_out) with bias"
            ));
        }
    }
    Ok(())
}
