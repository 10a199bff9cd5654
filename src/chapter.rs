//! Every result the chapter prints, declared once: where the book prints it, what it is, the
//! book's text, and how this crate computes it.
//!
//! Chapter 3 prints 44 results (tensors, scalars, shapes, labelled lines such as
//! `Sum: tensor(1.0000)`), and its exercise solutions print six more (five in the English notebook, and exercise 3.2 as the Korean edition computes it). This module lists all of
//! them, in the order you meet them, as [`Printed`] entries. Each entry says
//!
//! - **where**: the book section (`"3.4.1"`, or `"exercise 3.1"`) and the notebook cell
//!   (`"[70]"`);
//! - **what**: a few words on the idea it shows, and a stable snake_case `name`;
//! - **the book's text**, a constant from [`crate::book`], copied from the notebook outputs;
//! - **how to compute it**: a function that starts from the six input embeddings, runs the
//!   crate's modules, and prints the result the way PyTorch would.
//!
//! Everything else reads this list: `cargo run` shows each entry beside the book's text
//! ([`crate::walkthrough`]), the test `tests/book.rs` checks every entry and keeps one insta
//! snapshot per entry (`snapshots/<name>.snap`). To add a printed result, add one entry here.
//!
//! Numbers only ever come from the `compute` functions. The book's text is the expectation: it
//! is compared with, never computed from.
//!
//! ```
//! use ch03_attention::chapter;
//!
//! // 44 results in the chapter itself, 6 in the exercise solutions (one from the Korean edition).
//! assert_eq!(chapter::chapter_items().count(), 44);
//! assert_eq!(chapter::exercises().count(), 6);
//!
//! // Section 3.4.1, cell [70]: the query of the second token, "journey".
//! let query_2 = chapter::find("s3_4_1_query_2").unwrap();
//! assert_eq!((query_2.section, query_2.cell), ("3.4.1", "[70]"));
//! assert_eq!((query_2.compute)().unwrap(), "tensor([0.4306, 1.4551])");
//!
//! // Nothing in the chapter differs from the book.
//! assert!(chapter::check(chapter::printed()).is_empty());
//! ```

use std::fmt;

use crate::causal::{
    causal_attn_weights, mask_future_with_neg_inf, mask_then_renormalize, simple_mask,
};
use crate::context::{context_vec, context_vecs};
use crate::inputs::{QUERY_INDEX, inputs};
use crate::multihead::{batched_head_scores, head_scores_demo_input};
use crate::nalgebra::{DMatrix, DVector};
use crate::normalize::{row_sums, softmax, softmax_naive, softmax_rows, sum_normalize};
use crate::qkv::{attn_scores_of, project, project_all, scaled_softmax, weighted_values};
use crate::similarity::{attn_scores, attn_scores_for, attn_scores_loop, dot};
use crate::torch::print::{TorchPrint, python_float_repr, strip_autograd_suffix, torch_size};
use crate::torch::reduce::sum;
use crate::torch::row;
use crate::{
    CausalAttention, Dropout, Error, Linear, MultiHeadAttention, MultiHeadAttentionWrapper,
    SelfAttentionV1, SelfAttentionV2, TorchRng, book,
};

/// One result the chapter (or an exercise solution) prints.
#[derive(Clone, Copy)]
pub struct Printed {
    /// The book section, e.g. `"3.4.1"`; for an exercise, `"exercise 3.1"`.
    pub section: &'static str,
    /// The notebook cell that prints it, e.g. `"[70]"` (in `ch03.ipynb`; for an exercise, in
    /// `exercise-solutions.ipynb`). A cell that prints two things has two entries.
    pub cell: &'static str,
    /// What it is, in a few words: the idea this printout shows.
    pub label: &'static str,
    /// A stable snake_case id, e.g. `"s3_4_1_query_2"`: the name of its snapshot file.
    pub name: &'static str,
    /// The book's text, verbatim (a constant from [`crate::book`], `grad_fn=<…>` included).
    pub book: &'static str,
    /// Computes the result from scratch with the crate's modules and prints it as PyTorch would.
    pub compute: fn() -> Result<String, Error>,
}

impl Printed {
    /// `true` for a result of the exercise solutions, `false` for one of the chapter's 44.
    pub fn is_exercise(&self) -> bool {
        self.section.starts_with("exercise")
    }

    /// The book's text as this crate prints it: without PyTorch's `grad_fn=<…>` suffix (the crate
    /// has no autograd).
    pub fn expected(&self) -> String {
        strip_autograd_suffix(self.book)
    }

    /// Computes the result and compares it with the book's text: `None` when they are identical,
    /// otherwise the [`Mismatch`] (a computation that fails is a mismatch too).
    pub fn check(&self) -> Option<Mismatch> {
        let computed = match (self.compute)() {
            Ok(text) => text,
            Err(e) => format!("error: {e}"),
        };
        let expected = self.expected();
        if computed == expected {
            return None;
        }
        Some(Mismatch {
            printed: *self,
            computed,
            expected,
        })
    }
}

impl fmt::Debug for Printed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} ({})",
            self.section, self.cell, self.label, self.name
        )
    }
}

/// A printed result whose computed text differs from the book's.
///
/// Its [`Display`](fmt::Display) says which idea went wrong (section, cell, label) and shows the
/// two texts side by side, the differing lines marked with `✗`:
///
/// ```text
/// ✗ 3.5.1 cell [100]: the simple mask tril(ones(6, 6))  (snapshot s3_5_1_simple_mask)
///     computed                           │ book
///     tensor([[1., 0., 0., 0., 0., 0.],  │ tensor([[1., 0., 0., 0., 0., 0.],
///             [1., 1., 0., 0., 0., 0.],  │         [1., 1., 0., 0., 0., 0.],
///   ✗         [1., 1., 1., 1., 0., 0.]]) │         [1., 1., 1., 0., 0., 0.],
///   ✗                                    │         [1., 1., 1., 1., 0., 0.],
///   ✗                                    │         [1., 1., 1., 1., 1., 0.],
///   ✗                                    │         [1., 1., 1., 1., 1., 1.]])
/// ```
#[derive(Debug, Clone)]
pub struct Mismatch {
    /// The entry that did not match.
    pub printed: Printed,
    /// What the crate computed (or `error: …` when the computation failed).
    pub computed: String,
    /// The book's text, without `grad_fn=<…>`.
    pub expected: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = &self.printed;
        writeln!(
            f,
            "✗ {} cell {}: {}  (snapshot {})",
            p.section, p.cell, p.label, p.name
        )?;
        let left: Vec<&str> = self.computed.lines().collect();
        let right: Vec<&str> = self.expected.lines().collect();
        let width = left
            .iter()
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(0)
            .max("computed".len());
        writeln!(f, "    {:<width$} │ book", "computed")?;
        for k in 0..left.len().max(right.len()) {
            let (a, b) = (left.get(k), right.get(k));
            let mark = if a == b { ' ' } else { '✗' };
            let a = a.copied().unwrap_or("");
            let b = b.copied().unwrap_or("");
            writeln!(f, "  {mark} {a:<width$} │ {b}")?;
        }
        Ok(())
    }
}

/// Every printed result: the chapter's 44 in order, then the exercises'.
pub fn printed() -> &'static [Printed] {
    PRINTED
}

/// The 44 results printed by the chapter itself (`ch03.ipynb`), in order.
pub fn chapter_items() -> impl Iterator<Item = &'static Printed> {
    PRINTED.iter().filter(|p| !p.is_exercise())
}

/// The results printed by the exercise solutions (`exercise-solutions.ipynb`), in order.
pub fn exercises() -> impl Iterator<Item = &'static Printed> {
    PRINTED.iter().filter(|p| p.is_exercise())
}

/// The entries of one section, e.g. `"3.5.1"` or `"exercise 3.2"`, in order.
pub fn in_section(section: &str) -> impl Iterator<Item = &'static Printed> {
    PRINTED.iter().filter(move |p| p.section == section)
}

/// The entry called `name` (its snapshot name), if there is one.
pub fn find(name: &str) -> Option<&'static Printed> {
    PRINTED.iter().find(|p| p.name == name)
}

/// Computes every entry of `entries` and returns all those that differ from the book, in order
/// (empty when everything matches).
pub fn check(entries: &[Printed]) -> Vec<Mismatch> {
    entries.iter().filter_map(Printed::check).collect()
}

// ---------------------------------------------------------------------------------------------
// Shared setup, written once. Each entry below calls these and computes its own result.
// ---------------------------------------------------------------------------------------------

/// 3.3.1: the query x⁽²⁾ ("journey").
fn x_2() -> DVector<f32> {
    row(&inputs(), QUERY_INDEX)
}

/// 3.3.1: scores ω₂ⱼ of the query against all six inputs.
fn omega_2() -> Result<DVector<f32>, Error> {
    attn_scores_for(&x_2(), &inputs())
}

/// 3.3.1: z⁽²⁾ with the `torch.softmax` weights.
fn context_vec_2() -> Result<String, Error> {
    Ok(context_vec(&softmax(&omega_2()?), &inputs())?.torch_str())
}

/// 3.3.2: the 6×6 attention weights, softmax of each row of X·Xᵀ.
fn attn_weights_3_3() -> DMatrix<f32> {
    softmax_rows(&attn_scores(&inputs()))
}

/// The float32 sum of a weight vector, printed as PyTorch prints `attn_weights.sum()`.
fn total(weights: &DVector<f32>) -> String {
    sum(weights.as_slice()).torch_str()
}

/// 3.4.1: `torch.manual_seed(123)`, then `W_query`, `W_key`, `W_value` = three `torch.rand(3, 2)`.
fn seeded_qkv() -> [DMatrix<f32>; 3] {
    let mut rng = TorchRng::manual_seed(123);
    [rng.rand(3, 2), rng.rand(3, 2), rng.rand(3, 2)]
}

/// 3.4.1's projections of the inputs with the seed-123 weights.
struct Projected {
    /// q⁽²⁾ = x⁽²⁾ W_q, (2,).
    query_2: DVector<f32>,
    /// K = X W_k, (6, 2): one key per token.
    keys: DMatrix<f32>,
    /// V = X W_v, (6, 2).
    values: DMatrix<f32>,
}

/// 3.4.1: q⁽²⁾ = x⁽²⁾ W_q, the keys X W_k and the values X W_v.
fn projected() -> Result<Projected, Error> {
    let [w_query, w_key, w_value] = seeded_qkv();
    Ok(Projected {
        query_2: project(&x_2(), &w_query)?,
        keys: project_all(&inputs(), &w_key)?,
        values: project_all(&inputs(), &w_value)?,
    })
}

/// 3.4.1: softmax(q⁽²⁾ Kᵀ / √d_k) with d_k = 2.
fn scaled_weights_2() -> Result<DVector<f32>, Error> {
    let p = projected()?;
    Ok(scaled_softmax(&attn_scores_of(&p.query_2, &p.keys)?, 2))
}

/// 3.4.2 and 3.5.1: `SelfAttention_v2(3, 2)` after `torch.manual_seed(789)`.
fn sa_v2_789() -> SelfAttentionV2 {
    SelfAttentionV2::new(3, 2, false, &mut TorchRng::manual_seed(789))
}

/// 3.5.1: `sa_v2`'s unmasked 6×6 attention weights.
fn sa_v2_attn_weights() -> Result<DMatrix<f32>, Error> {
    sa_v2_789().attn_weights(&inputs())
}

/// 3.5.1: route 2, softmax of the −∞-masked scores over √d_k.
fn causal_weights() -> Result<DMatrix<f32>, Error> {
    Ok(causal_attn_weights(&sa_v2_789().attn_scores(&inputs())?, 2))
}

/// 3.5.2: `torch.manual_seed(123)`, then `nn.Dropout(0.5)` in training mode on `x`.
fn dropout_seed_123(x: &DMatrix<f32>) -> Result<String, Error> {
    let dropout = Dropout::new(0.5)?;
    Ok(dropout
        .forward_train(x, &mut TorchRng::manual_seed(123))
        .torch_str())
}

/// 3.5.3 onwards: `torch.stack((inputs, inputs))`, a batch of two copies, (2, 6, 3).
fn batch() -> Vec<DMatrix<f32>> {
    vec![inputs(), inputs()]
}

/// 3.5.3: `CausalAttention(3, 2, 6, 0.0)` after `torch.manual_seed(123)`, on the batch.
fn causal_context_vecs() -> Result<Vec<DMatrix<f32>>, Error> {
    let ca = CausalAttention::new(3, 2, 6, 0.0, false, &mut TorchRng::manual_seed(123))?;
    ca.forward(&batch()) // (2, 6, 2)
}

/// 3.6.1 and exercise 3.2: `MultiHeadAttentionWrapper(3, d_out, 6, 0.0, num_heads=2)` after
/// `torch.manual_seed(123)`, on the batch.
fn wrapper_context_vecs(d_out: usize) -> Result<Vec<DMatrix<f32>>, Error> {
    let mut rng = TorchRng::manual_seed(123);
    let wrapper = MultiHeadAttentionWrapper::new(3, d_out, 6, 0.0, 2, false, &mut rng)?;
    wrapper.forward(&batch()) // (2, 6, 2 · d_out)
}

/// Exercise 3.2 as the Korean edition's solution computes it: the wrapper with `d_out = 1` and
/// two heads, then an output projection `Linear(2, 2)` with bias, drawn after the heads from the
/// same generator and applied to their concatenation.
fn wrapper_with_out_proj_context_vecs() -> Result<Vec<DMatrix<f32>>, Error> {
    let mut rng = TorchRng::manual_seed(123);
    let wrapper = MultiHeadAttentionWrapper::new(3, 1, 6, 0.0, 2, false, &mut rng)?;
    let out_proj = Linear::try_new(2, 2, true, &mut rng)?; // self.out_proj, after the heads
    let concatenated = wrapper.forward(&batch())?; // (2, 6, 2)
    concatenated.iter().map(|c| out_proj.forward(c)).collect() // (2, 6, 2)
}

/// 3.6.2: `MultiHeadAttention(3, 2, 6, 0.0, num_heads=2)` after `torch.manual_seed(123)`.
fn mha_context_vecs() -> Result<Vec<DMatrix<f32>>, Error> {
    let mha = MultiHeadAttention::new(3, 2, 6, 0.0, 2, false, &mut TorchRng::manual_seed(123))?;
    mha.forward(&batch()) // (2, 6, 2)
}

/// 3.6.2: `a @ a.transpose(2, 3)` for the (1, 2, 3, 4) demo tensor `a`: (1, 2, 3, 3).
fn head_scores() -> Vec<Vec<DMatrix<f32>>> {
    batched_head_scores(&head_scores_demo_input())
}

/// `context_vecs.shape: torch.Size([…])` for a batch of results.
fn context_vecs_shape(context_vecs: &[DMatrix<f32>]) -> String {
    format!(
        "context_vecs.shape: {}",
        torch_size(&context_vecs.torch_shape())
    )
}

/// Exercise 3.1: `SelfAttention_v2(3, 2)` after `torch.manual_seed(123)`.
fn sa_v2_123() -> SelfAttentionV2 {
    SelfAttentionV2::new(3, 2, false, &mut TorchRng::manual_seed(123))
}

// ---------------------------------------------------------------------------------------------
// The registry
// ---------------------------------------------------------------------------------------------

/// Every printed result, in the order the chapter and then the exercise solutions print them.
static PRINTED: &[Printed] = &[
    // 3.3.1: a simple self-attention mechanism without trainable weights.
    Printed {
        section: "3.3.1",
        cell: "[28]",
        label: "attention scores ω₂ⱼ = x⁽ʲ⁾ · x⁽²⁾ of the query \"journey\"",
        name: "s3_3_1_attn_scores_2",
        book: book::ATTN_SCORES_2,
        compute: || Ok(omega_2()?.torch_str()),
    },
    Printed {
        section: "3.3.1",
        cell: "[30]",
        label: "ω₂₁ as an explicit multiply-and-add loop",
        name: "s3_3_1_attn_score_21_loop",
        book: book::ATTN_SCORE_21_LOOP,
        compute: || Ok(dot(&row(&inputs(), 0), &x_2())?.torch_str()),
    },
    Printed {
        section: "3.3.1",
        cell: "[30]",
        label: "ω₂₁ as a library dot product",
        name: "s3_3_1_attn_score_21_dot",
        book: book::ATTN_SCORE_21_DOT,
        compute: || Ok(row(&inputs(), 0).dot(&x_2()).torch_str()),
    },
    Printed {
        section: "3.3.1",
        cell: "[33]",
        label: "weights by sum normalization",
        name: "s3_3_1_attn_weights_2_sum_normalized",
        book: book::ATTN_WEIGHTS_2_NAIVE_SUM,
        compute: || {
            let weights = sum_normalize(&omega_2()?);
            Ok(format!("Attention weights: {}", weights.torch_str()))
        },
    },
    Printed {
        section: "3.3.1",
        cell: "[33]",
        label: "their sum (1.0000001 in f32, so 4 decimals)",
        name: "s3_3_1_attn_weights_2_sum_normalized_total",
        book: book::ATTN_WEIGHTS_2_NAIVE_SUM_TOTAL,
        compute: || Ok(format!("Sum: {}", total(&sum_normalize(&omega_2()?)))),
    },
    Printed {
        section: "3.3.1",
        cell: "[35]",
        label: "weights by the naive softmax exp(x)/Σexp(x)",
        name: "s3_3_1_attn_weights_2_naive_softmax",
        book: book::ATTN_WEIGHTS_2_NAIVE_SOFTMAX,
        compute: || {
            let weights = softmax_naive(&omega_2()?);
            Ok(format!("Attention weights: {}", weights.torch_str()))
        },
    },
    Printed {
        section: "3.3.1",
        cell: "[35]",
        label: "their sum (exactly 1 in f32, so integer form)",
        name: "s3_3_1_attn_weights_2_naive_softmax_total",
        book: book::ATTN_WEIGHTS_2_NAIVE_SOFTMAX_TOTAL,
        compute: || Ok(format!("Sum: {}", total(&softmax_naive(&omega_2()?)))),
    },
    Printed {
        section: "3.3.1",
        cell: "[37]",
        label: "weights by the stable softmax (torch.softmax)",
        name: "s3_3_1_attn_weights_2_softmax",
        book: book::ATTN_WEIGHTS_2_TORCH_SOFTMAX,
        compute: || {
            let weights = softmax(&omega_2()?);
            Ok(format!("Attention weights: {}", weights.torch_str()))
        },
    },
    Printed {
        section: "3.3.1",
        cell: "[37]",
        label: "their sum",
        name: "s3_3_1_attn_weights_2_softmax_total",
        book: book::ATTN_WEIGHTS_2_TORCH_SOFTMAX_TOTAL,
        compute: || Ok(format!("Sum: {}", total(&softmax(&omega_2()?)))),
    },
    Printed {
        section: "3.3.1",
        cell: "[40]",
        label: "context vector z⁽²⁾ = Σᵢ α₂ᵢ x⁽ⁱ⁾",
        name: "s3_3_1_context_vec_2",
        book: book::CONTEXT_VEC_2,
        compute: context_vec_2,
    },
    // 3.3.2: computing attention weights for all input tokens.
    Printed {
        section: "3.3.2",
        cell: "[47]",
        label: "all scores ωᵢⱼ with two loops",
        name: "s3_3_2_attn_scores_loop",
        book: book::ATTN_SCORES_LOOP,
        compute: || Ok(attn_scores_loop(&inputs()).torch_str()),
    },
    Printed {
        section: "3.3.2",
        cell: "[49]",
        label: "all scores as one product X·Xᵀ",
        name: "s3_3_2_attn_scores",
        book: book::ATTN_SCORES_MATMUL,
        compute: || Ok(attn_scores(&inputs()).torch_str()),
    },
    Printed {
        section: "3.3.2",
        cell: "[51]",
        label: "attention weights: softmax of each row",
        name: "s3_3_2_attn_weights",
        book: book::ATTN_WEIGHTS,
        compute: || Ok(attn_weights_3_3().torch_str()),
    },
    Printed {
        section: "3.3.2",
        cell: "[53]",
        label: "row 2's printed (rounded) weights, summed as Python floats",
        name: "s3_3_2_row_2_sum",
        book: book::ROW_2_SUM,
        compute: || {
            // Python's `sum([...])` of the six row-2 weights as printed (rounded to 4 decimals).
            let row_2_printed_sum: f64 = row(&attn_weights_3_3(), QUERY_INDEX)
                .iter()
                .map(|w| {
                    format!("{:.4}", f64::from(*w))
                        .parse::<f64>()
                        .expect("a formatted number parses")
                })
                .sum();
            Ok(format!(
                "Row 2 sum: {}",
                python_float_repr(row_2_printed_sum)
            ))
        },
    },
    Printed {
        section: "3.3.2",
        cell: "[53]",
        label: "every row sums to 1",
        name: "s3_3_2_all_row_sums",
        book: book::ALL_ROW_SUMS,
        compute: || {
            let sums = row_sums(&attn_weights_3_3());
            Ok(format!("All row sums: {}", sums.torch_str()))
        },
    },
    Printed {
        section: "3.3.2",
        cell: "[55]",
        label: "all context vectors as one product A·X",
        name: "s3_3_2_context_vecs",
        book: book::ALL_CONTEXT_VECS,
        compute: || Ok(context_vecs(&attn_weights_3_3(), &inputs())?.torch_str()),
    },
    Printed {
        section: "3.3.2",
        cell: "[57]",
        label: "z⁽²⁾ from 3.3.1, equal to row 2 above",
        name: "s3_3_2_previous_context_vec_2",
        book: book::PREVIOUS_CONTEXT_VEC_2,
        compute: || Ok(format!("Previous 2nd context vector: {}", context_vec_2()?)),
    },
    // 3.4.1: computing the attention weights step by step.
    Printed {
        section: "3.4.1",
        cell: "[70]",
        label: "query q⁽²⁾ = x⁽²⁾ W_q",
        name: "s3_4_1_query_2",
        book: book::QUERY_2,
        compute: || Ok(projected()?.query_2.torch_str()),
    },
    Printed {
        section: "3.4.1",
        cell: "[72]",
        label: "keys = X W_k: one key per token",
        name: "s3_4_1_keys_shape",
        book: book::KEYS_SHAPE,
        compute: || {
            let keys = projected()?.keys;
            Ok(format!("keys.shape: {}", torch_size(&keys.torch_shape())))
        },
    },
    Printed {
        section: "3.4.1",
        cell: "[72]",
        label: "values = X W_v",
        name: "s3_4_1_values_shape",
        book: book::VALUES_SHAPE,
        compute: || {
            let values = projected()?.values;
            Ok(format!(
                "values.shape: {}",
                torch_size(&values.torch_shape())
            ))
        },
    },
    Printed {
        section: "3.4.1",
        cell: "[75]",
        label: "one score ω₂₂ = q⁽²⁾ · k⁽²⁾",
        name: "s3_4_1_attn_score_22",
        book: book::ATTN_SCORE_22,
        compute: || {
            let p = projected()?;
            let key_2 = row(&p.keys, QUERY_INDEX);
            Ok(dot(&p.query_2, &key_2)?.torch_str())
        },
    },
    Printed {
        section: "3.4.1",
        cell: "[77]",
        label: "all scores of query 2: q⁽²⁾ Kᵀ",
        name: "s3_4_1_attn_scores_2",
        book: book::ATTN_SCORES_2_QK,
        compute: || {
            let p = projected()?;
            Ok(attn_scores_of(&p.query_2, &p.keys)?.torch_str())
        },
    },
    Printed {
        section: "3.4.1",
        cell: "[80]",
        label: "weights: softmax(ω₂ / √d_k), d_k = 2",
        name: "s3_4_1_attn_weights_2",
        book: book::ATTN_WEIGHTS_2_SCALED,
        compute: || Ok(scaled_weights_2()?.torch_str()),
    },
    Printed {
        section: "3.4.1",
        cell: "[83]",
        label: "context vector z⁽²⁾ = α₂ V",
        name: "s3_4_1_context_vec_2",
        book: book::CONTEXT_VEC_2_QKV,
        compute: || {
            let values = projected()?.values;
            Ok(weighted_values(&scaled_weights_2()?, &values)?.torch_str())
        },
    },
    // 3.4.2: implementing a compact self-attention Python class.
    Printed {
        section: "3.4.2",
        cell: "[86]",
        label: "SelfAttentionV1 (seed 123, torch.rand weights)",
        name: "s3_4_2_sa_v1_output",
        book: book::SA_V1_OUTPUT,
        compute: || {
            let sa_v1 = SelfAttentionV1::new(3, 2, &mut TorchRng::manual_seed(123));
            Ok(sa_v1.forward(&inputs())?.torch_str())
        },
    },
    Printed {
        section: "3.4.2",
        cell: "[89]",
        label: "SelfAttentionV2 (seed 789, nn.Linear weights)",
        name: "s3_4_2_sa_v2_output",
        book: book::SA_V2_OUTPUT,
        compute: || Ok(sa_v2_789().forward(&inputs())?.torch_str()),
    },
    // 3.5.1: applying a causal attention mask.
    Printed {
        section: "3.5.1",
        cell: "[98]",
        label: "sa_v2's attention weights, unmasked",
        name: "s3_5_1_attn_weights",
        book: book::SA_V2_ATTN_WEIGHTS,
        compute: || Ok(sa_v2_attn_weights()?.torch_str()),
    },
    Printed {
        section: "3.5.1",
        cell: "[100]",
        label: "the simple mask tril(ones(6, 6))",
        name: "s3_5_1_simple_mask",
        book: book::SIMPLE_MASK,
        compute: || Ok(simple_mask(6).torch_str()),
    },
    Printed {
        section: "3.5.1",
        cell: "[102]",
        label: "route 1: weights × mask (rows no longer sum to 1)",
        name: "s3_5_1_masked_simple",
        book: book::MASKED_SIMPLE,
        compute: || Ok(mask_then_renormalize(&sa_v2_attn_weights()?).0.torch_str()),
    },
    Printed {
        section: "3.5.1",
        cell: "[105]",
        label: "route 1: each row divided by its sum",
        name: "s3_5_1_masked_simple_norm",
        book: book::MASKED_SIMPLE_NORM,
        compute: || Ok(mask_then_renormalize(&sa_v2_attn_weights()?).1.torch_str()),
    },
    Printed {
        section: "3.5.1",
        cell: "[108]",
        label: "route 2: future scores set to −∞ (unscaled)",
        name: "s3_5_1_masked_neg_inf",
        book: book::MASKED_NEG_INF,
        compute: || {
            let attn_scores = sa_v2_789().attn_scores(&inputs())?; // (6, 6), unscaled
            Ok(mask_future_with_neg_inf(&attn_scores).torch_str())
        },
    },
    Printed {
        section: "3.5.1",
        cell: "[110]",
        label: "route 2: softmax(masked / √d_k): same as route 1",
        name: "s3_5_1_causal_attn_weights",
        book: book::CAUSAL_ATTN_WEIGHTS,
        compute: || Ok(causal_weights()?.torch_str()),
    },
    // 3.5.2: masking additional attention weights with dropout.
    Printed {
        section: "3.5.2",
        cell: "[115]",
        label: "Dropout(0.5) on ones(6, 6): kept entries scaled to 1/(1−p) = 2",
        name: "s3_5_2_dropout_ones",
        book: book::DROPOUT_ONES,
        compute: || dropout_seed_123(&DMatrix::from_element(6, 6, 1.0)),
    },
    Printed {
        section: "3.5.2",
        cell: "[116]",
        label: "the same mask on the causal weights (reseeded)",
        name: "s3_5_2_dropout_attn_weights",
        book: book::DROPOUT_ATTN_WEIGHTS,
        compute: || dropout_seed_123(&causal_weights()?),
    },
    // 3.5.3: implementing a compact causal self-attention class.
    Printed {
        section: "3.5.3",
        cell: "[120]",
        label: "batch = two copies of the input",
        name: "s3_5_3_batch_shape",
        book: book::BATCH_SHAPE,
        compute: || Ok(torch_size(&batch().torch_shape())),
    },
    Printed {
        section: "3.5.3",
        cell: "[121]",
        label: "CausalAttention(3, 2, 6, 0.0), seed 123",
        name: "s3_5_3_causal_context_vecs",
        book: book::CAUSAL_CONTEXT_VECS,
        compute: || Ok(causal_context_vecs()?.torch_str()),
    },
    Printed {
        section: "3.5.3",
        cell: "[121]",
        label: "its shape",
        name: "s3_5_3_causal_context_vecs_shape",
        book: book::CAUSAL_CONTEXT_VECS_SHAPE,
        compute: || Ok(context_vecs_shape(&causal_context_vecs()?)),
    },
    // 3.6.1: stacking multiple single-head attention layers.
    Printed {
        section: "3.6.1",
        cell: "[127]",
        label: "MultiHeadAttentionWrapper, 2 heads of d_out 2, seed 123",
        name: "s3_6_1_wrapper_context_vecs",
        book: book::WRAPPER_CONTEXT_VECS,
        compute: || Ok(wrapper_context_vecs(2)?.torch_str()),
    },
    Printed {
        section: "3.6.1",
        cell: "[127]",
        label: "its shape: d_out · num_heads = 4 wide",
        name: "s3_6_1_wrapper_context_vecs_shape",
        book: book::WRAPPER_CONTEXT_VECS_SHAPE,
        compute: || Ok(context_vecs_shape(&wrapper_context_vecs(2)?)),
    },
    // 3.6.2: implementing multi-head attention with weight splits.
    Printed {
        section: "3.6.2",
        cell: "[131]",
        label: "MultiHeadAttention, 2 heads of head_dim 1, seed 123",
        name: "s3_6_2_mha_context_vecs",
        book: book::MHA_CONTEXT_VECS,
        compute: || Ok(mha_context_vecs()?.torch_str()),
    },
    Printed {
        section: "3.6.2",
        cell: "[131]",
        label: "its shape: d_out = 2 wide whatever the head count",
        name: "s3_6_2_mha_context_vecs_shape",
        book: book::MHA_CONTEXT_VECS_SHAPE,
        compute: || Ok(context_vecs_shape(&mha_context_vecs()?)),
    },
    Printed {
        section: "3.6.2",
        cell: "[138]",
        label: "a @ a.transpose(2, 3) on a (1, 2, 3, 4) tensor: all heads at once",
        name: "s3_6_2_batched_head_scores",
        book: book::HEADS_SCORES_BATCHED,
        compute: || Ok(head_scores().as_slice().torch_str()),
    },
    Printed {
        section: "3.6.2",
        cell: "[140]",
        label: "the same product for head 0 alone",
        name: "s3_6_2_first_head",
        book: book::FIRST_HEAD,
        compute: || Ok(format!("First head:\n {}", head_scores()[0][0].torch_str())),
    },
    Printed {
        section: "3.6.2",
        cell: "[140]",
        label: "the same product for head 1 alone",
        name: "s3_6_2_second_head",
        book: book::SECOND_HEAD,
        compute: || {
            Ok(format!(
                "Second head:\n {}",
                head_scores()[0][1].torch_str()
            ))
        },
    },
    // Exercises (exercise-solutions.ipynb).
    Printed {
        section: "exercise 3.1",
        cell: "[8]",
        label: "SelfAttentionV1 holding v2's weights, transposed",
        name: "exercise_3_1_sa_v1",
        book: book::EX_3_1_SA_V1,
        compute: || {
            Ok(SelfAttentionV1::from_v2(&sa_v2_123())?
                .forward(&inputs())?
                .torch_str())
        },
    },
    Printed {
        section: "exercise 3.1",
        cell: "[9]",
        label: "SelfAttentionV2 (seed 123): the same output",
        name: "exercise_3_1_sa_v2",
        book: book::EX_3_1_SA_V2,
        compute: || Ok(sa_v2_123().forward(&inputs())?.torch_str()),
    },
    Printed {
        section: "exercise 3.2",
        cell: "[13]",
        label: "wrapper with d_out = 1, 2 heads (corrected, current-code values)",
        name: "exercise_3_2_context_vecs",
        book: book::EX_3_2_CONTEXT_VECS,
        compute: || Ok(wrapper_context_vecs(1)?.torch_str()),
    },
    Printed {
        section: "exercise 3.2",
        cell: "[13]",
        label: "its shape: 2 wide",
        name: "exercise_3_2_context_vecs_shape",
        book: book::EX_3_2_CONTEXT_VECS_SHAPE,
        compute: || Ok(context_vecs_shape(&wrapper_context_vecs(1)?)),
    },
    Printed {
        section: "exercise 3.2 (Korean edition)",
        cell: "[9]",
        label: "the Korean edition's solution: the same wrapper plus an output projection",
        name: "exercise_3_2_korean_edition_context_vecs",
        book: book::KO_EX_3_2_CONTEXT_VECS,
        compute: || Ok(wrapper_with_out_proj_context_vecs()?.torch_str()),
    },
    Printed {
        section: "exercise 3.3",
        cell: "[18]",
        label: "parameters of a GPT-2-small attention module (768, 12 heads, 1024)",
        name: "exercise_3_3_num_parameters",
        book: book::EX_3_3_NUM_PARAMETERS_PRINTED,
        compute: || {
            let mut rng = TorchRng::manual_seed(123);
            let gpt2 = MultiHeadAttention::new(768, 768, 1024, 0.0, 12, false, &mut rng)?;
            Ok(gpt2.num_parameters().to_string())
        },
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chapter_has_44_printed_items() {
        assert_eq!(chapter_items().count(), 44);
        assert_eq!(exercises().count(), 6);
        assert_eq!(printed().len(), 50);
    }

    #[test]
    fn items_per_section() {
        let expected = [
            ("3.3.1", 10),
            ("3.3.2", 7),
            ("3.4.1", 7),
            ("3.4.2", 2),
            ("3.5.1", 6),
            ("3.5.2", 2),
            ("3.5.3", 3),
            ("3.6.1", 2),
            ("3.6.2", 5),
            ("exercise 3.1", 2),
            ("exercise 3.2", 2),
            ("exercise 3.2 (Korean edition)", 1),
            ("exercise 3.3", 1),
        ];
        for (section, count) in expected {
            assert_eq!(in_section(section).count(), count, "section {section}");
        }
        let total: usize = expected.iter().map(|(_, n)| n).sum();
        assert_eq!(
            total,
            printed().len(),
            "an entry outside the listed sections"
        );
        let shapes = chapter_items()
            .filter(|p| p.book.contains("torch.Size("))
            .count();
        assert_eq!(shapes, 6);
    }

    /// Chapter first, then exercises; within each, sections and cells never go backwards.
    #[test]
    fn items_are_in_chapter_order() {
        let cell = |c: &str| -> u32 { c.trim_matches(['[', ']']).parse().unwrap() };
        for pair in printed().windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            assert!(a.is_exercise() <= b.is_exercise(), "{a:?} before {b:?}");
            if a.is_exercise() == b.is_exercise() {
                assert!(a.section <= b.section, "{a:?} before {b:?}");
                if a.section == b.section {
                    assert!(cell(a.cell) <= cell(b.cell), "{a:?} before {b:?}");
                }
            }
        }
    }

    #[test]
    fn names_are_unique_snake_case() {
        let mut names: Vec<&str> = printed().iter().map(|p| p.name).collect();
        for name in &names {
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{name}"
            );
            assert_eq!(find(name).map(|p| p.name), Some(*name));
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), printed().len(), "duplicate names");
    }

    /// A mismatch names the entry and marks exactly the lines that differ.
    #[test]
    fn mismatch_marks_the_differing_lines() {
        let wrong = Printed {
            compute: || Ok("tensor([[1., 0.],\n        [0., 1.]])".to_string()),
            book: "tensor([[1., 0.],\n        [1., 1.]])",
            ..*find("s3_5_1_simple_mask").unwrap()
        };
        let m = wrong.check().expect("the texts differ");
        let text = m.to_string();
        assert!(text.starts_with(
            "✗ 3.5.1 cell [100]: the simple mask tril(ones(6, 6))  (snapshot s3_5_1_simple_mask)\n"
        ));
        let lines: Vec<&str> = text.lines().collect();
        let width = "        [0., 1.]])".len(); // the longest computed line
        assert_eq!(lines[1], format!("    {:<width$} │ book", "computed"));
        let same = "tensor([[1., 0.],";
        assert_eq!(lines[2], format!("    {same:<width$} │ {same}"));
        let (ours, books) = ("        [0., 1.]])", "        [1., 1.]])");
        assert_eq!(lines[3], format!("  ✗ {ours:<width$} │ {books}"));
        assert_eq!(lines.len(), 4);
    }
}
