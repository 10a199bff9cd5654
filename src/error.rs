//! The crate's one error type.
//!
//! Every public constructor and forward pass that can be handed bad input returns
//! `Result<_, Error>`. Each message says what was wrong in words and names the numbers involved,
//! so a learner who passes a `(6 × 4)` matrix to a layer built for width 3 reads
//! "SelfAttentionV1: input has 4 columns per token but d_in is 3" instead of a panic deep inside
//! nalgebra. Random draws cannot fail and return plain values.

use std::fmt;

/// Everything that can go wrong when building or running a module of this crate.
///
/// The variants carry the offending numbers; [`Display`](fmt::Display) turns them into a sentence.
///
/// ```
/// use ch03_attention::Error;
/// let e = Error::HeadsDoNotDivide { d_out: 5, num_heads: 2 };
/// assert_eq!(e.to_string(), "d_out (5) must be divisible by num_heads (2)");
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// A matrix handed to `layer` has `got` columns where `expected` were required.
    InputWidth {
        /// The module or function that rejected the input, e.g. `"Linear"`.
        layer: &'static str,
        /// The width the layer was built for (`d_in` or `in_features`).
        expected: usize,
        /// The width that arrived.
        got: usize,
    },
    /// Two operands whose shapes do not fit together, e.g. a query of length 3 against keys of
    /// width 2.
    ShapeMismatch {
        /// What was being computed, e.g. `"attn_scores"`.
        op: &'static str,
        /// Shape (rows, cols) of the left operand.
        left: (usize, usize),
        /// Shape (rows, cols) of the right operand.
        right: (usize, usize),
    },
    /// An input sequence is longer than the causal mask that was built for it.
    TooManyTokens {
        /// Tokens in the input.
        tokens: usize,
        /// The module's `context_length`.
        context_length: usize,
    },
    /// The matrices of one batch do not all have the same shape.
    RaggedBatch {
        /// Position in the batch of the first matrix that differs from item 0.
        index: usize,
        /// Shape (tokens, width) of batch item 0.
        expected: (usize, usize),
        /// Shape (tokens, width) of the differing item.
        got: (usize, usize),
    },
    /// The items of a `(batch, heads, rows, cols)` tensor do not all have the same number of
    /// heads.
    RaggedHeads {
        /// Position in the batch of the first item whose head count differs from item 0's.
        index: usize,
        /// Heads of item 0.
        expected: usize,
        /// Heads of the differing item.
        got: usize,
    },
    /// A row index past the last row of a matrix.
    RowOutOfRange {
        /// The requested row.
        index: usize,
        /// How many rows the matrix has.
        rows: usize,
    },
    /// `d_out` cannot be split evenly into `num_heads` heads.
    HeadsDoNotDivide {
        /// Requested output width.
        d_out: usize,
        /// Requested head count.
        num_heads: usize,
    },
    /// A multi-head module was asked for zero heads.
    ZeroHeads,
    /// A dropout probability outside `[0, 1]`, or NaN.
    DropoutRate {
        /// The rejected probability.
        p: f64,
    },
    /// A size parameter that must be positive was zero (e.g. `d_in = 0`).
    ZeroSize {
        /// Name of the parameter, e.g. `"context_length"`.
        what: &'static str,
    },
    /// An input that is empty where at least one element is needed (e.g. softmax of nothing).
    Empty {
        /// What was empty.
        what: &'static str,
    },
    /// A vector of length (norm) zero where a direction is needed, e.g. for cosine similarity.
    ZeroNorm {
        /// The function that needed a direction.
        op: &'static str,
    },
    /// A configuration value outside its allowed range, described in words.
    InvalidConfig(String),
    /// A `(rows × cols)` matrix whose element count overflows `usize`, or that the allocator
    /// refuses.
    TooLarge {
        /// What was being built, e.g. `"Linear weight"`.
        what: &'static str,
        /// Requested rows.
        rows: usize,
        /// Requested columns.
        cols: usize,
    },
    /// A value that must be finite was NaN or infinite.
    NonFinite {
        /// What the value is, e.g. `"line_chart y value"`.
        what: &'static str,
        /// The value.
        value: f64,
    },
    /// An upstream gradient (`∂L/∂output`, handed to a backward pass) with a different number of
    /// batch items than the output it belongs to.
    GradientBatch {
        /// Batch items of the output.
        expected: usize,
        /// Batch items of the gradient.
        got: usize,
    },
    /// An upstream gradient whose batch item `index` has a different shape than that item of
    /// the output it belongs to.
    GradientShape {
        /// Position in the batch of the first item that differs.
        index: usize,
        /// Shape (rows, cols) of the output's item.
        expected: (usize, usize),
        /// Shape (rows, cols) of the gradient's item.
        got: (usize, usize),
    },
    /// A KV cache asked to hold more tokens than the module's `context_length`.
    CacheFull {
        /// Tokens already cached.
        cached: usize,
        /// Tokens that were to be added.
        new: usize,
        /// The module's `context_length`.
        context_length: usize,
    },
    /// A batch whose size differs from that of the sequences a KV cache holds.
    CacheBatch {
        /// Sequences (batch items) in the cache.
        cached: usize,
        /// Items in the batch.
        got: usize,
    },
    /// Elements that do not fill the shape they are given, or matrices that do not form one
    /// tensor.
    NotATensor {
        /// The shape asked for.
        shape: Vec<usize>,
        /// How many elements there are.
        len: usize,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InputWidth {
                layer,
                expected,
                got,
            } => write!(
                f,
                "{layer}: input has {got} columns per token but d_in is {expected}"
            ),
            Error::ShapeMismatch { op, left, right } => write!(
                f,
                "{op}: shapes ({} × {}) and ({} × {}) do not fit together",
                left.0, left.1, right.0, right.1
            ),
            Error::TooManyTokens {
                tokens,
                context_length,
            } => write!(
                f,
                "input has {tokens} tokens but context_length is {context_length}"
            ),
            Error::RaggedBatch {
                index,
                expected,
                got,
            } => write!(
                f,
                "batch item {index} has shape ({} × {}) but item 0 has shape ({} × {})",
                got.0, got.1, expected.0, expected.1
            ),
            Error::RaggedHeads {
                index,
                expected,
                got,
            } => write!(
                f,
                "batch item {index} has {got} heads but item 0 has {expected}"
            ),
            Error::RowOutOfRange { index, rows } => write!(
                f,
                "row {index} does not exist: the matrix has {rows} rows (counted from 0)"
            ),
            Error::HeadsDoNotDivide { d_out, num_heads } => write!(
                f,
                "d_out ({d_out}) must be divisible by num_heads ({num_heads})"
            ),
            Error::ZeroHeads => write!(f, "num_heads must be at least 1, got 0"),
            Error::DropoutRate { p } => write!(
                f,
                "dropout probability must be in [0, 1], got {}",
                readable(*p)
            ),
            Error::ZeroSize { what } => write!(f, "{what} must be at least 1, got 0"),
            Error::Empty { what } => write!(f, "{what} must not be empty"),
            Error::ZeroNorm { op } => write!(
                f,
                "{op}: a vector has length (norm) 0, so its direction is undefined"
            ),
            Error::InvalidConfig(msg) => write!(f, "invalid configuration: {msg}"),
            Error::TooLarge { what, rows, cols } => write!(
                f,
                "{what}: a {rows} × {cols} matrix ({} elements) is too large to allocate",
                *rows as u128 * *cols as u128
            ),
            Error::NonFinite { what, value } => {
                write!(
                    f,
                    "{what} must be a finite number, got {}",
                    readable(*value)
                )
            }
            Error::GradientBatch { expected, got } => write!(
                f,
                "the upstream gradient has {got} batch items but the output has {expected}"
            ),
            Error::GradientShape {
                index,
                expected,
                got,
            } => write!(
                f,
                "the upstream gradient of batch item {index} has shape ({} × {}) but the \
                 output's is ({} × {})",
                got.0, got.1, expected.0, expected.1
            ),
            Error::CacheFull {
                cached,
                new,
                context_length,
            } => write!(
                f,
                "the KV cache holds {cached} tokens and {new} more would exceed context_length \
                 {context_length} (reset the cache to start a new sequence)"
            ),
            Error::CacheBatch { cached, got } => write!(
                f,
                "the KV cache holds {cached} sequences but the batch has {got} items"
            ),
            Error::NotATensor { shape, len } => write!(
                f,
                "a tensor of shape {shape:?} holds {} elements, got {len}",
                shape.iter().map(|&d| d as u128).product::<u128>()
            ),
        }
    }
}

impl std::error::Error for Error {}

/// `x` as a person would write it in a message: plain decimals for everyday magnitudes
/// (`0.5`, `-1.5`, `1000`), scientific notation for the very small or very large
/// (`-2.2250738585072014e-308`, where `{}` would print some 310 digits).
///
/// ```
/// use ch03_attention::error::readable;
/// assert_eq!(readable(0.5), "0.5");
/// assert_eq!(readable(-f64::MIN_POSITIVE), "-2.2250738585072014e-308");
/// assert_eq!(readable(1e300), "1e300");
/// assert_eq!(readable(f64::NAN), "NaN");
/// ```
pub fn readable(x: f64) -> String {
    let magnitude = x.abs();
    if x == 0.0 || !x.is_finite() || (1e-4..1e16).contains(&magnitude) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}
