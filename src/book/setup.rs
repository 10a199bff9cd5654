//! What a printed result is computed under: the book's [`Setup`], or a reader's, and the
//! [`Knob`]s that tell them apart.

use crate::{BernoulliPath, TorchRng};

/// One thing a printed result depends on that a reader's run may set differently from the
/// book's: the records' [`varies`](super::Printed::varies) lists, and what
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
    pub const SEED_AND_WIDTH: &[Knob] = &[Generator, DOut];
    /// A shape that depends on `d_out` alone.
    pub const WIDTH: &[Knob] = &[DOut];
    /// `nn.Linear` query, key and value layers (`SelfAttention_v2`, 3.5.1).
    pub const SEED_WIDTH_BIAS: &[Knob] = &[Generator, DOut, QkvBias];
    /// Section 3.5.2's `nn.Dropout(0.5)` demonstration.
    pub const SEED_AND_DROPOUT: &[Knob] = &[Generator, Bernoulli, DropoutOff];
    /// `CausalAttention` on the batch.
    pub const SEED_WIDTH_BIAS_DROPOUT: &[Knob] =
        &[Generator, DOut, QkvBias, ModuleDropout, Bernoulli];
    /// The multi-head modules on the batch.
    pub const SEED_WIDTH_HEADS_BIAS_DROPOUT: &[Knob] =
        &[Generator, DOut, NumHeads, QkvBias, ModuleDropout, Bernoulli];
    /// A multi-head module's output shape.
    pub const WIDTH_AND_HEADS: &[Knob] = &[DOut, NumHeads];
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
/// use ch03_attention::book::{self, Setup};
///
/// let query_2 = book::find("s3_4_1_query_2").unwrap();
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
