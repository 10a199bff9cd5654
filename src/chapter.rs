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
//!   crate's modules, and prints the result the way PyTorch would, under a [`Setup`]: the
//!   book's ([`Setup::BOOK`]), or a variant a reader's notebook may have run (another generator
//!   state, `qkv_bias`, sizes, dropout), listed by the entry's [`Knob`]s. [`crate::diagnose`]
//!   searches those variants for the one that prints a reader's tensor.
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
//! assert_eq!(query_2.compute().unwrap(), "tensor([0.4306, 1.4551])");
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
use crate::spec::Text;
use crate::torch::print::{TorchPrint, python_float_repr, strip_autograd_suffix, torch_size};
use crate::torch::reduce::sum;
use crate::torch::row;
use crate::{
    BernoulliPath, CausalAttention, Dropout, Error, Linear, MultiHeadAttention,
    MultiHeadAttentionWrapper, SelfAttentionV1, SelfAttentionV2, TorchRng, book,
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
    /// Computes the result from scratch with the crate's modules under a [`Setup`] (the book's
    /// is [`Setup::BOOK`]) and prints it as PyTorch would.
    pub compute_with: fn(&Setup) -> Result<String, Error>,
    /// What the result depends on besides the six inputs: the [`Knob`]s a different setup can
    /// turn (empty for a result that involves no random numbers and no choice of sizes).
    pub varies: &'static [Knob],
}

impl Printed {
    /// `true` for a result of the exercise solutions, `false` for one of the chapter's 44.
    pub fn is_exercise(&self) -> bool {
        self.section.starts_with("exercise")
    }

    /// The cell as the walkthrough labels it: `"[70]"`, or `"3.1 [8]"` for an exercise
    /// solution's cell (its own notebook numbers from 1).
    pub fn cell_label(&self) -> String {
        match self.section.strip_prefix("exercise ") {
            Some(exercise) => format!("{exercise} {}", self.cell),
            None => self.cell.to_string(),
        }
    }

    /// Where the book prints it, in both languages: `"3.5.1, cell [110]"`, and in Korean the
    /// Korean edition's notebook cell with the English one after it where they differ
    /// (“3.5.1, 셀 \[30\], 영어판 \[110\]”).
    pub fn place(&self) -> Text {
        let ko_cell = crate::walkthrough::ko::cell(&self.cell_label())
            .and_then(|c| c.rsplit(' ').next())
            .unwrap_or(self.cell);
        let ko_cell = if ko_cell == self.cell {
            ko_cell.to_string()
        } else {
            format!("{ko_cell}, 영어판 {}", self.cell)
        };
        Text::new(
            format!("{}, cell {}", self.section, self.cell),
            format!(
                "{}, 셀 {ko_cell}",
                self.section
                    .replace("exercise", "연습문제")
                    .replace("(Korean edition)", "(한국어판)")
            ),
        )
    }

    /// Computes the result as the book does ([`Setup::BOOK`]).
    ///
    /// # Errors
    ///
    /// The [`Error`] of the computation (none for the book's setup).
    pub fn compute(&self) -> Result<String, Error> {
        (self.compute_with)(&Setup::BOOK)
    }

    /// The book's text as this crate prints it: without PyTorch's `grad_fn=<…>` suffix (the crate
    /// has no autograd).
    pub fn expected(&self) -> String {
        strip_autograd_suffix(self.book)
    }

    /// Computes the result and compares it with the book's text: `None` when they are identical,
    /// otherwise the [`Mismatch`] (a computation that fails is a mismatch too).
    pub fn check(&self) -> Option<Mismatch> {
        let computed = match self.compute() {
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

/// One thing a printed result depends on that a reader's run may set differently from the
/// book's: the entries' [`varies`](Printed::varies) lists, and what
/// [`crate::diagnose`] turns when it searches for how a printed tensor was produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Knob {
    /// The random number generator: which `torch.manual_seed` ran last, and how many draws
    /// were taken from it before this result drew its numbers ([`Setup::seed`],
    /// [`Setup::offset`]).
    Generator,
    /// Which `bernoulli_` algorithm draws dropout masks ([`Setup::bernoulli`]); matters only
    /// where a mask is drawn.
    Bernoulli,
    /// `qkv_bias=True` in the query, key and value layers ([`Setup::qkv_bias`]).
    QkvBias,
    /// The output width `d_out` ([`Setup::d_out`]).
    DOut,
    /// The number of heads ([`Setup::num_heads`]).
    NumHeads,
    /// Dropout in a module the book builds with rate 0.0: a rate above 0, in training mode
    /// ([`DropoutMode::Train`]).
    ModuleDropout,
    /// Section 3.5.2's dropout layer in evaluation mode ([`DropoutMode::Eval`]).
    DropoutOff,
}

/// The knob sets of the registry's entries, one per kind of computation.
pub mod knobs {
    use super::Knob::{
        self, Bernoulli, DOut, DropoutOff, Generator, ModuleDropout, NumHeads, QkvBias,
    };

    /// 3.4.1's `torch.rand` weights and `SelfAttention_v1`.
    pub const GEN_D: &[Knob] = &[Generator, DOut];
    /// A shape that depends on `d_out` alone.
    pub const D: &[Knob] = &[DOut];
    /// `nn.Linear` query, key and value layers (`SelfAttention_v2`, 3.5.1).
    pub const LINEAR: &[Knob] = &[Generator, DOut, QkvBias];
    /// Section 3.5.2's `nn.Dropout(0.5)` demonstration.
    pub const DROPOUT_DEMO: &[Knob] = &[Generator, Bernoulli, DropoutOff];
    /// `CausalAttention` on the batch.
    pub const CAUSAL: &[Knob] = &[Generator, DOut, QkvBias, ModuleDropout, Bernoulli];
    /// The multi-head modules on the batch.
    pub const HEADS: &[Knob] = &[Generator, DOut, NumHeads, QkvBias, ModuleDropout, Bernoulli];
    /// A multi-head module's output shape.
    pub const D_HEADS: &[Knob] = &[DOut, NumHeads];
}

/// How dropout runs in a [`Setup`].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum DropoutMode {
    /// As the book: `Dropout(0.5)` in training mode in section 3.5.2, rate 0.0 in every module.
    #[default]
    Book,
    /// Training mode with this rate: in 3.5.2 instead of 0.5, in a module instead of 0.0.
    Train(f64),
    /// Evaluation mode (`.eval()`): dropout passes its input through unchanged.
    Eval,
}

/// The circumstances a printed result is computed under: the book's ([`Setup::BOOK`]), or one a
/// reader's notebook may have had instead (another generator state, `qkv_bias=True`, another
/// width, dropout left on, an older PyTorch's dropout algorithm).
///
/// ```
/// use ch03_attention::chapter::{self, Setup};
///
/// let query_2 = chapter::find("s3_4_1_query_2").unwrap();
/// assert_eq!(query_2.compute().unwrap(), "tensor([0.4306, 1.4551])");
/// // The same cell after 18 more draws (W_query, W_key, W_value drawn twice after one seed):
/// let twice = Setup { offset: 18, ..Setup::BOOK };
/// assert_eq!((query_2.compute_with)(&twice).unwrap(), "tensor([1.3730, 1.5279])");
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Setup {
    /// The seed of the last `torch.manual_seed` before the result: `None` for the one the book
    /// calls right before it (123 or 789).
    pub seed: Option<u64>,
    /// How many raw 32-bit draws were taken from the generator between that seed and the
    /// result's own draws (the book: 0).
    pub offset: u32,
    /// The dropout mask's algorithm (the book: [`BernoulliPath::Serial`]).
    pub bernoulli: BernoulliPath,
    /// `qkv_bias` of the query, key and value layers (the book: `false`).
    pub qkv_bias: bool,
    /// The output width, `None` for the book's (2; 1 in exercise 3.2).
    pub d_out: Option<usize>,
    /// The number of heads, `None` for the book's (2).
    pub num_heads: Option<usize>,
    /// How dropout runs.
    pub dropout: DropoutMode,
}

impl Setup {
    /// The book's setup.
    pub const BOOK: Setup = Setup {
        seed: None,
        offset: 0,
        bernoulli: BernoulliPath::Serial,
        qkv_bias: false,
        d_out: None,
        num_heads: None,
        dropout: DropoutMode::Book,
    };

    /// The generator the result draws from: seeded with `book_seed` (or [`seed`](Self::seed)),
    /// then advanced by [`offset`](Self::offset) draws.
    pub fn rng(&self, book_seed: u64) -> TorchRng {
        let mut rng =
            TorchRng::manual_seed(self.seed.unwrap_or(book_seed)).with_bernoulli(self.bernoulli);
        for _ in 0..self.offset {
            rng.next_u32();
        }
        rng
    }

    /// The output width: [`d_out`](Self::d_out), or the book's.
    pub fn d_out(&self, book: usize) -> usize {
        self.d_out.unwrap_or(book)
    }

    /// The number of heads: [`num_heads`](Self::num_heads), or the book's.
    pub fn num_heads(&self, book: usize) -> usize {
        self.num_heads.unwrap_or(book)
    }

    /// The dropout rate of a module the book builds with 0.0.
    pub fn module_dropout(&self) -> f64 {
        match self.dropout {
            DropoutMode::Train(p) => p,
            DropoutMode::Book | DropoutMode::Eval => 0.0,
        }
    }
}

impl Default for Setup {
    fn default() -> Setup {
        Setup::BOOK
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

/// 3.4.1: `torch.manual_seed(123)`, then `W_query`, `W_key`, `W_value` = three
/// `torch.rand(d_in, d_out)`, (3, d_out) each (the book: d_out = 2).
fn seeded_qkv(s: &Setup) -> [DMatrix<f32>; 3] {
    let mut rng = s.rng(123);
    let d_out = s.d_out(2);
    [rng.rand(3, d_out), rng.rand(3, d_out), rng.rand(3, d_out)]
}

/// 3.4.1's projections of the inputs with the seed-123 weights.
struct Projected {
    /// q⁽²⁾ = x⁽²⁾ W_q, (d_out,).
    query_2: DVector<f32>,
    /// K = X W_k, (6, d_out): one key per token.
    keys: DMatrix<f32>,
    /// V = X W_v, (6, d_out).
    values: DMatrix<f32>,
}

/// 3.4.1: q⁽²⁾ = x⁽²⁾ W_q, the keys X W_k and the values X W_v.
fn projected(s: &Setup) -> Result<Projected, Error> {
    let [w_query, w_key, w_value] = seeded_qkv(s);
    Ok(Projected {
        query_2: project(&x_2(), &w_query)?,
        keys: project_all(&inputs(), &w_key)?,
        values: project_all(&inputs(), &w_value)?,
    })
}

/// 3.4.1: softmax(q⁽²⁾ Kᵀ / √d_k), where d_k = `keys.shape[1]` (the book: 2).
fn scaled_weights_2(s: &Setup) -> Result<DVector<f32>, Error> {
    let p = projected(s)?;
    let d_k = p.keys.ncols();
    Ok(scaled_softmax(&attn_scores_of(&p.query_2, &p.keys)?, d_k))
}

/// 3.4.2 and 3.5.1: `SelfAttention_v2(3, 2)` after `torch.manual_seed(789)`.
fn sa_v2_789(s: &Setup) -> SelfAttentionV2 {
    SelfAttentionV2::new(3, s.d_out(2), s.qkv_bias, &mut s.rng(789))
}

/// 3.5.1: `sa_v2`'s unmasked 6×6 attention weights.
fn sa_v2_attn_weights(s: &Setup) -> Result<DMatrix<f32>, Error> {
    sa_v2_789(s).attn_weights(&inputs())
}

/// 3.5.1: route 2, softmax of the −∞-masked scores over √d_k (d_k = d_out).
fn causal_weights(s: &Setup) -> Result<DMatrix<f32>, Error> {
    let sa_v2 = sa_v2_789(s);
    Ok(causal_attn_weights(
        &sa_v2.attn_scores(&inputs())?,
        s.d_out(2),
    ))
}

/// 3.5.2: `torch.manual_seed(123)`, then `nn.Dropout(0.5)` in training mode on `x` (in
/// evaluation mode under [`DropoutMode::Eval`]: `x` unchanged).
fn dropout_seed_123(s: &Setup, x: &DMatrix<f32>) -> Result<String, Error> {
    let mut rng = s.rng(123);
    let out = match s.dropout {
        DropoutMode::Book => Dropout::new(0.5)?.forward_train(x, &mut rng),
        DropoutMode::Train(p) => Dropout::new(p)?.forward_train(x, &mut rng),
        DropoutMode::Eval => Dropout::new(0.5)?.forward(x),
    };
    Ok(out.torch_str())
}

/// 3.5.3 onwards: `torch.stack((inputs, inputs))`, a batch of two copies, (2, 6, 3).
fn batch() -> Vec<DMatrix<f32>> {
    vec![inputs(), inputs()]
}

/// 3.5.3: `CausalAttention(3, 2, 6, 0.0)` after `torch.manual_seed(123)`, on the batch.
///
/// A new `nn.Module` is in training mode, so `ca(batch)` runs dropout in training mode: with
/// the book's rate 0.0 it draws nothing and changes nothing.
fn causal_context_vecs(s: &Setup) -> Result<Vec<DMatrix<f32>>, Error> {
    let mut rng = s.rng(123);
    let ca = CausalAttention::new(3, s.d_out(2), 6, s.module_dropout(), s.qkv_bias, &mut rng)?;
    ca.forward_train(&batch(), &mut rng) // (2, 6, d_out)
}

/// 3.6.1 and exercise 3.2: `MultiHeadAttentionWrapper(3, d_out, 6, 0.0, num_heads=2)` after
/// `torch.manual_seed(123)`, on the batch (3.6.1: d_out = 2; exercise 3.2: d_out = 1).
fn wrapper_context_vecs(s: &Setup, book_d_out: usize) -> Result<Vec<DMatrix<f32>>, Error> {
    let mut rng = s.rng(123);
    let (d_out, num_heads) = (s.d_out(book_d_out), s.num_heads(2));
    let dropout = s.module_dropout();
    let wrapper =
        MultiHeadAttentionWrapper::new(3, d_out, 6, dropout, num_heads, s.qkv_bias, &mut rng)?;
    wrapper.forward_train(&batch(), &mut rng) // (2, 6, num_heads · d_out)
}

/// Exercise 3.2 as the Korean edition's solution computes it: the wrapper with `d_out = 1` and
/// two heads, then an output projection `Linear(2, 2)` with bias, drawn after the heads from the
/// same generator and applied to their concatenation.
fn wrapper_with_out_proj_context_vecs(s: &Setup) -> Result<Vec<DMatrix<f32>>, Error> {
    let mut rng = s.rng(123);
    let (d_out, num_heads) = (s.d_out(1), s.num_heads(2));
    let dropout = s.module_dropout();
    let wrapper =
        MultiHeadAttentionWrapper::new(3, d_out, 6, dropout, num_heads, s.qkv_bias, &mut rng)?;
    let width = d_out * num_heads;
    let out_proj = Linear::try_new(width, width, true, &mut rng)?; // self.out_proj, after the heads
    let concatenated = wrapper.forward_train(&batch(), &mut rng)?; // (2, 6, width)
    concatenated.iter().map(|c| out_proj.forward(c)).collect() // (2, 6, width)
}

/// 3.6.2: `MultiHeadAttention(3, 2, 6, 0.0, num_heads=2)` after `torch.manual_seed(123)`.
fn mha_context_vecs(s: &Setup) -> Result<Vec<DMatrix<f32>>, Error> {
    let mut rng = s.rng(123);
    let (d_out, num_heads) = (s.d_out(2), s.num_heads(2));
    let dropout = s.module_dropout();
    let mha = MultiHeadAttention::new(3, d_out, 6, dropout, num_heads, s.qkv_bias, &mut rng)?;
    mha.forward_train(&batch(), &mut rng) // (2, 6, d_out)
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
fn sa_v2_123(s: &Setup) -> SelfAttentionV2 {
    SelfAttentionV2::new(3, s.d_out(2), s.qkv_bias, &mut s.rng(123))
}

/// 3.4.2 and exercise 3.1: `SelfAttention_v1(3, 2)` after `torch.manual_seed(123)`.
fn sa_v1_123(s: &Setup) -> SelfAttentionV1 {
    SelfAttentionV1::new(3, s.d_out(2), &mut s.rng(123))
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
        varies: &[],
        compute_with: |_| Ok(omega_2()?.torch_str()),
    },
    Printed {
        section: "3.3.1",
        cell: "[30]",
        label: "ω₂₁ as an explicit multiply-and-add loop",
        name: "s3_3_1_attn_score_21_loop",
        book: book::ATTN_SCORE_21_LOOP,
        varies: &[],
        compute_with: |_| Ok(dot(&row(&inputs(), 0), &x_2())?.torch_str()),
    },
    Printed {
        section: "3.3.1",
        cell: "[30]",
        label: "ω₂₁ as a library dot product",
        name: "s3_3_1_attn_score_21_dot",
        book: book::ATTN_SCORE_21_DOT,
        varies: &[],
        compute_with: |_| Ok(row(&inputs(), 0).dot(&x_2()).torch_str()),
    },
    Printed {
        section: "3.3.1",
        cell: "[33]",
        label: "weights by sum normalization",
        name: "s3_3_1_attn_weights_2_sum_normalized",
        book: book::ATTN_WEIGHTS_2_NAIVE_SUM,
        varies: &[],
        compute_with: |_| {
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
        varies: &[],
        compute_with: |_| Ok(format!("Sum: {}", total(&sum_normalize(&omega_2()?)))),
    },
    Printed {
        section: "3.3.1",
        cell: "[35]",
        label: "weights by the naive softmax exp(x)/Σexp(x)",
        name: "s3_3_1_attn_weights_2_naive_softmax",
        book: book::ATTN_WEIGHTS_2_NAIVE_SOFTMAX,
        varies: &[],
        compute_with: |_| {
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
        varies: &[],
        compute_with: |_| Ok(format!("Sum: {}", total(&softmax_naive(&omega_2()?)))),
    },
    Printed {
        section: "3.3.1",
        cell: "[37]",
        label: "weights by the stable softmax (torch.softmax)",
        name: "s3_3_1_attn_weights_2_softmax",
        book: book::ATTN_WEIGHTS_2_TORCH_SOFTMAX,
        varies: &[],
        compute_with: |_| {
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
        varies: &[],
        compute_with: |_| Ok(format!("Sum: {}", total(&softmax(&omega_2()?)))),
    },
    Printed {
        section: "3.3.1",
        cell: "[40]",
        label: "context vector z⁽²⁾ = Σᵢ α₂ᵢ x⁽ⁱ⁾",
        name: "s3_3_1_context_vec_2",
        book: book::CONTEXT_VEC_2,
        varies: &[],
        compute_with: |_| context_vec_2(),
    },
    // 3.3.2: computing attention weights for all input tokens.
    Printed {
        section: "3.3.2",
        cell: "[47]",
        label: "all scores ωᵢⱼ with two loops",
        name: "s3_3_2_attn_scores_loop",
        book: book::ATTN_SCORES_LOOP,
        varies: &[],
        compute_with: |_| Ok(attn_scores_loop(&inputs()).torch_str()),
    },
    Printed {
        section: "3.3.2",
        cell: "[49]",
        label: "all scores as one product X·Xᵀ",
        name: "s3_3_2_attn_scores",
        book: book::ATTN_SCORES_MATMUL,
        varies: &[],
        compute_with: |_| Ok(attn_scores(&inputs()).torch_str()),
    },
    Printed {
        section: "3.3.2",
        cell: "[51]",
        label: "attention weights: softmax of each row",
        name: "s3_3_2_attn_weights",
        book: book::ATTN_WEIGHTS,
        varies: &[],
        compute_with: |_| Ok(attn_weights_3_3().torch_str()),
    },
    Printed {
        section: "3.3.2",
        cell: "[53]",
        label: "row 2's printed (rounded) weights, summed as Python floats",
        name: "s3_3_2_row_2_sum",
        book: book::ROW_2_SUM,
        varies: &[],
        compute_with: |_| {
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
        varies: &[],
        compute_with: |_| {
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
        varies: &[],
        compute_with: |_| Ok(context_vecs(&attn_weights_3_3(), &inputs())?.torch_str()),
    },
    Printed {
        section: "3.3.2",
        cell: "[57]",
        label: "z⁽²⁾ from 3.3.1, equal to row 2 above",
        name: "s3_3_2_previous_context_vec_2",
        book: book::PREVIOUS_CONTEXT_VEC_2,
        varies: &[],
        compute_with: |_| Ok(format!("Previous 2nd context vector: {}", context_vec_2()?)),
    },
    // 3.4.1: computing the attention weights step by step.
    Printed {
        section: "3.4.1",
        cell: "[70]",
        label: "query q⁽²⁾ = x⁽²⁾ W_q",
        name: "s3_4_1_query_2",
        book: book::QUERY_2,
        varies: knobs::GEN_D,
        compute_with: |s| Ok(projected(s)?.query_2.torch_str()),
    },
    Printed {
        section: "3.4.1",
        cell: "[72]",
        label: "keys = X W_k: one key per token",
        name: "s3_4_1_keys_shape",
        book: book::KEYS_SHAPE,
        varies: knobs::D,
        compute_with: |s| {
            let keys = projected(s)?.keys;
            Ok(format!("keys.shape: {}", torch_size(&keys.torch_shape())))
        },
    },
    Printed {
        section: "3.4.1",
        cell: "[72]",
        label: "values = X W_v",
        name: "s3_4_1_values_shape",
        book: book::VALUES_SHAPE,
        varies: knobs::D,
        compute_with: |s| {
            let values = projected(s)?.values;
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
        varies: knobs::GEN_D,
        compute_with: |s| {
            let p = projected(s)?;
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
        varies: knobs::GEN_D,
        compute_with: |s| {
            let p = projected(s)?;
            Ok(attn_scores_of(&p.query_2, &p.keys)?.torch_str())
        },
    },
    Printed {
        section: "3.4.1",
        cell: "[80]",
        label: "weights: softmax(ω₂ / √d_k), d_k = 2",
        name: "s3_4_1_attn_weights_2",
        book: book::ATTN_WEIGHTS_2_SCALED,
        varies: knobs::GEN_D,
        compute_with: |s| Ok(scaled_weights_2(s)?.torch_str()),
    },
    Printed {
        section: "3.4.1",
        cell: "[83]",
        label: "context vector z⁽²⁾ = α₂ V",
        name: "s3_4_1_context_vec_2",
        book: book::CONTEXT_VEC_2_QKV,
        varies: knobs::GEN_D,
        compute_with: |s| {
            let values = projected(s)?.values;
            Ok(weighted_values(&scaled_weights_2(s)?, &values)?.torch_str())
        },
    },
    // 3.4.2: implementing a compact self-attention Python class.
    Printed {
        section: "3.4.2",
        cell: "[86]",
        label: "SelfAttentionV1 (seed 123, torch.rand weights)",
        name: "s3_4_2_sa_v1_output",
        book: book::SA_V1_OUTPUT,
        varies: knobs::GEN_D,
        compute_with: |s| Ok(sa_v1_123(s).forward(&inputs())?.torch_str()),
    },
    Printed {
        section: "3.4.2",
        cell: "[89]",
        label: "SelfAttentionV2 (seed 789, nn.Linear weights)",
        name: "s3_4_2_sa_v2_output",
        book: book::SA_V2_OUTPUT,
        varies: knobs::LINEAR,
        compute_with: |s| Ok(sa_v2_789(s).forward(&inputs())?.torch_str()),
    },
    // 3.5.1: applying a causal attention mask.
    Printed {
        section: "3.5.1",
        cell: "[98]",
        label: "sa_v2's attention weights, unmasked",
        name: "s3_5_1_attn_weights",
        book: book::SA_V2_ATTN_WEIGHTS,
        varies: knobs::LINEAR,
        compute_with: |s| Ok(sa_v2_attn_weights(s)?.torch_str()),
    },
    Printed {
        section: "3.5.1",
        cell: "[100]",
        label: "the simple mask tril(ones(6, 6))",
        name: "s3_5_1_simple_mask",
        book: book::SIMPLE_MASK,
        varies: &[],
        compute_with: |_| Ok(simple_mask(6).torch_str()),
    },
    Printed {
        section: "3.5.1",
        cell: "[102]",
        label: "route 1: weights × mask (rows no longer sum to 1)",
        name: "s3_5_1_masked_simple",
        book: book::MASKED_SIMPLE,
        varies: knobs::LINEAR,
        compute_with: |s| Ok(mask_then_renormalize(&sa_v2_attn_weights(s)?).0.torch_str()),
    },
    Printed {
        section: "3.5.1",
        cell: "[105]",
        label: "route 1: each row divided by its sum",
        name: "s3_5_1_masked_simple_norm",
        book: book::MASKED_SIMPLE_NORM,
        varies: knobs::LINEAR,
        compute_with: |s| Ok(mask_then_renormalize(&sa_v2_attn_weights(s)?).1.torch_str()),
    },
    Printed {
        section: "3.5.1",
        cell: "[108]",
        label: "route 2: future scores set to −∞ (unscaled)",
        name: "s3_5_1_masked_neg_inf",
        book: book::MASKED_NEG_INF,
        varies: knobs::LINEAR,
        compute_with: |s| {
            let attn_scores = sa_v2_789(s).attn_scores(&inputs())?; // (6, 6), unscaled
            Ok(mask_future_with_neg_inf(&attn_scores).torch_str())
        },
    },
    Printed {
        section: "3.5.1",
        cell: "[110]",
        label: "route 2: softmax(masked / √d_k): same as route 1",
        name: "s3_5_1_causal_attn_weights",
        book: book::CAUSAL_ATTN_WEIGHTS,
        varies: knobs::LINEAR,
        compute_with: |s| Ok(causal_weights(s)?.torch_str()),
    },
    // 3.5.2: masking additional attention weights with dropout.
    Printed {
        section: "3.5.2",
        cell: "[115]",
        label: "Dropout(0.5) on ones(6, 6): kept entries scaled to 1/(1−p) = 2",
        name: "s3_5_2_dropout_ones",
        book: book::DROPOUT_ONES,
        varies: knobs::DROPOUT_DEMO,
        compute_with: |s| dropout_seed_123(s, &DMatrix::from_element(6, 6, 1.0)),
    },
    Printed {
        section: "3.5.2",
        cell: "[116]",
        label: "the same mask on the causal weights (reseeded)",
        name: "s3_5_2_dropout_attn_weights",
        book: book::DROPOUT_ATTN_WEIGHTS,
        varies: knobs::DROPOUT_DEMO,
        compute_with: |s| dropout_seed_123(s, &causal_weights(&Setup::BOOK)?),
    },
    // 3.5.3: implementing a compact causal self-attention class.
    Printed {
        section: "3.5.3",
        cell: "[120]",
        label: "batch = two copies of the input",
        name: "s3_5_3_batch_shape",
        book: book::BATCH_SHAPE,
        varies: &[],
        compute_with: |_| Ok(torch_size(&batch().torch_shape())),
    },
    Printed {
        section: "3.5.3",
        cell: "[121]",
        label: "CausalAttention(3, 2, 6, 0.0), seed 123",
        name: "s3_5_3_causal_context_vecs",
        book: book::CAUSAL_CONTEXT_VECS,
        varies: knobs::CAUSAL,
        compute_with: |s| Ok(causal_context_vecs(s)?.torch_str()),
    },
    Printed {
        section: "3.5.3",
        cell: "[121]",
        label: "its shape",
        name: "s3_5_3_causal_context_vecs_shape",
        book: book::CAUSAL_CONTEXT_VECS_SHAPE,
        varies: knobs::D,
        compute_with: |s| Ok(context_vecs_shape(&causal_context_vecs(s)?)),
    },
    // 3.6.1: stacking multiple single-head attention layers.
    Printed {
        section: "3.6.1",
        cell: "[127]",
        label: "MultiHeadAttentionWrapper, 2 heads of d_out 2, seed 123",
        name: "s3_6_1_wrapper_context_vecs",
        book: book::WRAPPER_CONTEXT_VECS,
        varies: knobs::HEADS,
        compute_with: |s| Ok(wrapper_context_vecs(s, 2)?.torch_str()),
    },
    Printed {
        section: "3.6.1",
        cell: "[127]",
        label: "its shape: d_out · num_heads = 4 wide",
        name: "s3_6_1_wrapper_context_vecs_shape",
        book: book::WRAPPER_CONTEXT_VECS_SHAPE,
        varies: knobs::D_HEADS,
        compute_with: |s| Ok(context_vecs_shape(&wrapper_context_vecs(s, 2)?)),
    },
    // 3.6.2: implementing multi-head attention with weight splits.
    Printed {
        section: "3.6.2",
        cell: "[131]",
        label: "MultiHeadAttention, 2 heads of head_dim 1, seed 123",
        name: "s3_6_2_mha_context_vecs",
        book: book::MHA_CONTEXT_VECS,
        varies: knobs::HEADS,
        compute_with: |s| Ok(mha_context_vecs(s)?.torch_str()),
    },
    Printed {
        section: "3.6.2",
        cell: "[131]",
        label: "its shape: d_out = 2 wide whatever the head count",
        name: "s3_6_2_mha_context_vecs_shape",
        book: book::MHA_CONTEXT_VECS_SHAPE,
        varies: knobs::D_HEADS,
        compute_with: |s| Ok(context_vecs_shape(&mha_context_vecs(s)?)),
    },
    Printed {
        section: "3.6.2",
        cell: "[138]",
        label: "a @ a.transpose(2, 3) on a (1, 2, 3, 4) tensor: all heads at once",
        name: "s3_6_2_batched_head_scores",
        book: book::HEADS_SCORES_BATCHED,
        varies: &[],
        compute_with: |_| Ok(head_scores().as_slice().torch_str()),
    },
    Printed {
        section: "3.6.2",
        cell: "[140]",
        label: "the same product for head 0 alone",
        name: "s3_6_2_first_head",
        book: book::FIRST_HEAD,
        varies: &[],
        compute_with: |_| Ok(format!("First head:\n {}", head_scores()[0][0].torch_str())),
    },
    Printed {
        section: "3.6.2",
        cell: "[140]",
        label: "the same product for head 1 alone",
        name: "s3_6_2_second_head",
        book: book::SECOND_HEAD,
        varies: &[],
        compute_with: |_| {
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
        varies: knobs::LINEAR,
        compute_with: |s| {
            Ok(SelfAttentionV1::from_v2(&sa_v2_123(s))?
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
        varies: knobs::LINEAR,
        compute_with: |s| Ok(sa_v2_123(s).forward(&inputs())?.torch_str()),
    },
    Printed {
        section: "exercise 3.2",
        cell: "[13]",
        label: "wrapper with d_out = 1, 2 heads (corrected, current-code values)",
        name: "exercise_3_2_context_vecs",
        book: book::EX_3_2_CONTEXT_VECS,
        varies: knobs::HEADS,
        compute_with: |s| Ok(wrapper_context_vecs(s, 1)?.torch_str()),
    },
    Printed {
        section: "exercise 3.2",
        cell: "[13]",
        label: "its shape: 2 wide",
        name: "exercise_3_2_context_vecs_shape",
        book: book::EX_3_2_CONTEXT_VECS_SHAPE,
        varies: knobs::D_HEADS,
        compute_with: |s| Ok(context_vecs_shape(&wrapper_context_vecs(s, 1)?)),
    },
    Printed {
        section: "exercise 3.2 (Korean edition)",
        cell: "[9]",
        label: "the Korean edition's solution: the same wrapper plus an output projection",
        name: "exercise_3_2_korean_edition_context_vecs",
        book: book::KO_EX_3_2_CONTEXT_VECS,
        varies: knobs::HEADS,
        compute_with: |s| Ok(wrapper_with_out_proj_context_vecs(s)?.torch_str()),
    },
    Printed {
        section: "exercise 3.3",
        cell: "[18]",
        label: "parameters of a GPT-2-small attention module (768, 12 heads, 1024)",
        name: "exercise_3_3_num_parameters",
        book: book::EX_3_3_NUM_PARAMETERS_PRINTED,
        varies: &[],
        compute_with: |_| {
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
            compute_with: |_| Ok("tensor([[1., 0.],\n        [0., 1.]])".to_string()),
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
