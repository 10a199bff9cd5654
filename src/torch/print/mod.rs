//! Printing tensors exactly as PyTorch's `print(tensor)` does.
//!
//! The book shows every result as PyTorch prints it, so this crate prints its results the same
//! way: a snapshot file or a walkthrough line can then be compared with the book by eye, and a
//! test can compare it character for character.
//!
//! The rules (PyTorch's `torch/_tensor_str.py`, default print options):
//!
//! * **One format for the whole tensor.** It is chosen from the non-zero finite values only:
//!   * all of them integral → *integer form*: `2.`, `0.`, `-3.` (a trailing dot marks a float);
//!   * otherwise fixed point with 4 decimals: `0.9544`, `1.0000`, `0.0000`;
//!   * scientific notation `9.1476e-02` when the largest magnitude is over 1000× the smallest,
//!     the largest is above 10⁸, or the smallest is below 10⁻⁴ (integral values never are).
//! * **One shared width**, the longest formatted non-zero finite value; every element is
//!   right-aligned to it, so `-inf` becomes `  -inf` beside `0.2899`.
//! * **Nesting**: rows are separated by `,\n` plus one space of indent per nesting level; 3-D
//!   tensors put a blank line between matrices.
//! * **Line wrapping** of a row at 80 columns (`linewidth`), each element costing width + 2.
//! * **Summarization**: tensors of more than 1000 elements show only the first and last 3 entries
//!   of each dimension, with `...` between.
//!
//! `grad_fn=<…>` suffixes are not printed; the walkthrough compares the book's text before that
//! suffix (see [`strip_autograd_suffix`]).
//!
//! `torch.set_printoptions(precision=…, sci_mode=…)` has its counterpart in
//! [`with_print_options`], which prints with other options inside a closure (on the calling
//! thread only):
//!
//! ```
//! use ch03_attention::torch::print::{PrintOptions, TorchPrint, with_print_options};
//!
//! let x = vec![0.25_f32, 2.0];
//! let six = PrintOptions { precision: 6, sci_mode: None };
//! assert_eq!(with_print_options(six, || x.as_slice().torch_str()), "tensor([0.250000, 2.000000])");
//! let sci = PrintOptions { precision: 4, sci_mode: Some(true) };
//! assert_eq!(with_print_options(sci, || x.as_slice().torch_str()), "tensor([2.5000e-01, 2.0000e+00])");
//! assert_eq!(x.as_slice().torch_str(), "tensor([0.2500, 2.0000])"); // the defaults again
//! ```
//!
//! ```
//! use ch03_attention::nalgebra::DMatrix;
//! use ch03_attention::torch::print::TorchPrint;
//!
//! let m = DMatrix::from_row_slice(2, 2, &[0.25_f32, -1.0, f32::NEG_INFINITY, 2.0]);
//! assert_eq!(m.torch_str(), "tensor([[ 0.2500, -1.0000],\n        [   -inf,  2.0000]])");
//! let ones = DMatrix::from_element(2, 3, 2.0_f32);
//! assert_eq!(ones.torch_str(), "tensor([[2., 2., 2.],\n        [2., 2., 2.]])");
//! ```

use std::cell::{Cell, RefCell};

use nalgebra::{DMatrix, DVector, RowDVector};

use crate::Error;

mod number;
use number::nonfinite;
pub use number::{python_float_repr, sci};

/// The options of `torch.set_printoptions` that change how numbers are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrintOptions {
    /// Decimals after the point (fixed point) or after the first digit (scientific); PyTorch's
    /// default is 4.
    pub precision: usize,
    /// `None`: PyTorch chooses (the rules above); `Some(true)`: always scientific;
    /// `Some(false)`: never.
    pub sci_mode: Option<bool>,
}

impl PrintOptions {
    /// PyTorch's defaults: `precision=4`, `sci_mode=None`.
    pub const DEFAULT: PrintOptions = PrintOptions {
        precision: 4,
        sci_mode: None,
    };
}

impl Default for PrintOptions {
    fn default() -> PrintOptions {
        PrintOptions::DEFAULT
    }
}

thread_local! {
    /// The options in force on this thread (see [`with_print_options`]).
    static OPTIONS: Cell<PrintOptions> = const { Cell::new(PrintOptions::DEFAULT) };
}

/// Runs `f` with `options` in force for every tensor printed on this thread, then puts the
/// previous options back (also when `f` panics): `torch.set_printoptions` for the length of a
/// closure.
pub fn with_print_options<T>(options: PrintOptions, f: impl FnOnce() -> T) -> T {
    /// Restores the previous options when dropped.
    struct Restore(PrintOptions);
    impl Drop for Restore {
        fn drop(&mut self) {
            OPTIONS.with(|o| o.set(self.0));
        }
    }
    let _restore = Restore(OPTIONS.with(|o| o.replace(options)));
    f()
}

/// The options in force on this thread.
fn options() -> PrintOptions {
    OPTIONS.with(Cell::get)
}

/// A tensor as [`capture`] records it: its shape and its float32 elements in row-major order.
pub type Captured = (Vec<usize>, Vec<f32>);

/// What [`capture`] is recording on this thread: the tensors, and whether their text is
/// skipped.
struct Recording {
    tensors: Vec<Captured>,
    without_text: bool,
}

thread_local! {
    /// The recording in progress on this thread, if any.
    static CAPTURED: RefCell<Option<Recording>> = const { RefCell::new(None) };
}

/// Runs `f` and returns its result with the shape and elements of every tensor it printed (on
/// this thread), in order: the numbers behind the text, exactly. `diagnose` compares them with
/// a reader's printout at the reader's precision.
///
/// ```
/// use ch03_attention::torch::print::{TorchPrint, capture};
///
/// let (text, tensors) = capture(|| format!("Sum: {}", 1.0000001_f32.torch_str()));
/// assert_eq!(text, "Sum: tensor(1.0000)");
/// assert_eq!(tensors, [(vec![], vec![1.0000001_f32])]);
/// ```
pub fn capture<T>(f: impl FnOnce() -> T) -> (T, Vec<Captured>) {
    record(false, f)
}

/// [`capture`], with the tensors' text left out: each tensor prints as `tensor(…)`, which saves
/// the formatting when only the numbers are wanted (`diagnose` computes thousands of results).
///
/// ```
/// use ch03_attention::torch::print::{TorchPrint, capture_without_text};
///
/// let (text, tensors) = capture_without_text(|| format!("Sum: {}", 0.5_f32.torch_str()));
/// assert_eq!(text, "Sum: tensor(…)");
/// assert_eq!(tensors, [(vec![], vec![0.5_f32])]);
/// ```
pub fn capture_without_text<T>(f: impl FnOnce() -> T) -> (T, Vec<Captured>) {
    record(true, f)
}

fn record<T>(without_text: bool, f: impl FnOnce() -> T) -> (T, Vec<Captured>) {
    let recording = Recording {
        tensors: Vec::new(),
        without_text,
    };
    let outer = CAPTURED.with(|c| c.replace(Some(recording)));
    /// Puts the outer recording back when dropped (also when `f` panics).
    struct Restore(Option<Option<Recording>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            if let Some(outer) = self.0.take() {
                CAPTURED.with(|c| c.replace(outer));
            }
        }
    }
    let mut restore = Restore(Some(outer));
    let result = f();
    let outer = restore.0.take().unwrap_or_default();
    let recorded = CAPTURED.with(|c| c.replace(outer));
    (result, recorded.map(|r| r.tensors).unwrap_or_default())
}
/// PyTorch's default `linewidth`.
const LINEWIDTH: usize = 80;
/// PyTorch's default `threshold`: more elements than this are summarized.
const THRESHOLD: usize = 1000;
/// PyTorch's default `edgeitems`: entries kept at each end when summarizing.
const EDGEITEMS: usize = 3;

/// Anything that PyTorch would print as a `tensor(...)`.
pub trait TorchPrint {
    /// Shape of the equivalent PyTorch tensor (empty for a scalar).
    fn torch_shape(&self) -> Vec<usize>;
    /// Elements in row-major (C) order, as PyTorch stores a contiguous tensor.
    fn torch_data(&self) -> Vec<f32>;
    /// Whether the value is one tensor at all: a batch whose matrices differ in shape is not
    /// (PyTorch could not even `torch.stack` it). Single matrices and vectors always are.
    ///
    /// # Errors
    ///
    /// [`Error::RaggedBatch`] for a batch of matrices of different shapes.
    fn torch_check(&self) -> Result<(), Error> {
        Ok(())
    }
    /// The text `print(tensor)` shows, or the reason there is no such tensor.
    ///
    /// # Errors
    ///
    /// As [`torch_check`](Self::torch_check).
    fn try_torch_str(&self) -> Result<String, Error> {
        self.torch_check()?;
        try_format_tensor(&self.torch_shape(), &self.torch_data())
    }
    /// The text `print(tensor)` shows, without any `grad_fn` suffix. A value that is not one
    /// tensor prints as `<not a tensor: …>` with the reason (see
    /// [`try_torch_str`](Self::try_torch_str)): never a panic, and never a tensor that was not
    /// there.
    ///
    /// ```
    /// use ch03_attention::nalgebra::DMatrix;
    /// use ch03_attention::torch::print::TorchPrint;
    /// let ragged = vec![DMatrix::<f32>::zeros(2, 3), DMatrix::zeros(3, 2)];
    /// assert_eq!(
    ///     ragged.torch_str(),
    ///     "<not a tensor: batch item 1 has shape (3 × 2) but item 0 has shape (2 × 3)>"
    /// );
    /// ```
    fn torch_str(&self) -> String {
        self.try_torch_str().unwrap_or_else(not_a_tensor)
    }
}

/// How a value that is not one tensor prints.
fn not_a_tensor(e: Error) -> String {
    format!("<not a tensor: {e}>")
}

/// The first matrix of `items` whose shape differs from item 0's, as an error.
fn check_same_shapes(shapes: impl Iterator<Item = (usize, usize)>) -> Result<(), Error> {
    let mut shapes = shapes.enumerate();
    let Some((_, expected)) = shapes.next() else {
        return Ok(());
    };
    match shapes.find(|(_, shape)| *shape != expected) {
        Some((index, got)) => Err(Error::RaggedBatch {
            index,
            expected,
            got,
        }),
        None => Ok(()),
    }
}

impl TorchPrint for f32 {
    fn torch_shape(&self) -> Vec<usize> {
        vec![]
    }
    fn torch_data(&self) -> Vec<f32> {
        vec![*self]
    }
}

impl TorchPrint for [f32] {
    fn torch_shape(&self) -> Vec<usize> {
        vec![self.len()]
    }
    fn torch_data(&self) -> Vec<f32> {
        self.to_vec()
    }
}

impl TorchPrint for DVector<f32> {
    fn torch_shape(&self) -> Vec<usize> {
        vec![self.len()]
    }
    fn torch_data(&self) -> Vec<f32> {
        self.iter().copied().collect()
    }
}

impl TorchPrint for RowDVector<f32> {
    fn torch_shape(&self) -> Vec<usize> {
        vec![self.len()]
    }
    fn torch_data(&self) -> Vec<f32> {
        self.iter().copied().collect()
    }
}

impl TorchPrint for DMatrix<f32> {
    fn torch_shape(&self) -> Vec<usize> {
        vec![self.nrows(), self.ncols()]
    }
    fn torch_data(&self) -> Vec<f32> {
        row_major(self)
    }
}

/// A batch: PyTorch's 3-D tensor `(batch, rows, cols)`. All matrices must share one shape.
impl TorchPrint for [DMatrix<f32>] {
    fn torch_check(&self) -> Result<(), Error> {
        check_same_shapes(self.iter().map(DMatrix::shape))
    }
    fn torch_shape(&self) -> Vec<usize> {
        let (r, c) = self.first().map_or((0, 0), |m| m.shape());
        vec![self.len(), r, c]
    }
    fn torch_data(&self) -> Vec<f32> {
        self.iter().flat_map(row_major).collect()
    }
}

impl TorchPrint for Vec<DMatrix<f32>> {
    fn torch_check(&self) -> Result<(), Error> {
        self.as_slice().torch_check()
    }
    fn torch_shape(&self) -> Vec<usize> {
        self.as_slice().torch_shape()
    }
    fn torch_data(&self) -> Vec<f32> {
        self.as_slice().torch_data()
    }
}

/// A batch of heads: PyTorch's 4-D tensor `(batch, heads, rows, cols)`.
impl TorchPrint for [Vec<DMatrix<f32>>] {
    /// Every item must hold as many heads as item 0, all matrices of one shape.
    fn torch_check(&self) -> Result<(), Error> {
        if let Some((index, heads)) = self
            .iter()
            .enumerate()
            .find(|(_, h)| h.len() != self[0].len())
        {
            return Err(Error::RaggedHeads {
                index,
                expected: self[0].len(),
                got: heads.len(),
            });
        }
        check_same_shapes(self.iter().flatten().map(DMatrix::shape))
    }
    fn torch_shape(&self) -> Vec<usize> {
        let inner = self.first().map_or(vec![0, 0, 0], |h| h.torch_shape());
        let mut shape = vec![self.len()];
        shape.extend(inner);
        shape
    }
    fn torch_data(&self) -> Vec<f32> {
        self.iter().flat_map(|h| h.torch_data()).collect()
    }
}

/// The elements of `m` in row-major order.
pub fn row_major(m: &DMatrix<f32>) -> Vec<f32> {
    m.transpose().as_slice().to_vec()
}

/// `torch.Size([2, 6, 3])`, as PyTorch prints a shape.
pub fn torch_size(shape: &[usize]) -> String {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    format!("torch.Size([{}])", dims.join(", "))
}

/// Removes PyTorch's autograd suffix (`, grad_fn=<MmBackward0>`, on the same line or on a line of
/// its own) from printed text, leaving what this crate prints.
pub fn strip_autograd_suffix(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        let line = match line.find(", grad_fn=<") {
            Some(pos) => {
                let end = line[pos..].find('>').map_or(line.len(), |e| pos + e + 1);
                format!("{}{}", &line[..pos], &line[end..])
            }
            None => line.to_string(),
        };
        // `tensor([[...]],\n       grad_fn=<X>)`: the suffix moved to its own line.
        if let Some(rest) = line.trim_start().strip_prefix("grad_fn=<") {
            if out.ends_with(',') {
                out.pop();
            }
            out.push_str(&rest[rest.find('>').map_or(rest.len(), |e| e + 1)..]);
            continue;
        }
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&line);
    }
    out
}

/// Formats a tensor of the given `shape` whose elements are `data` in row-major order, exactly as
/// `print(torch.tensor(...))` would (`tensor(...)`, without a `grad_fn` suffix). If `data` does
/// not fill `shape`, the text says so: `<not a tensor: …>` (see [`try_format_tensor`]).
pub fn format_tensor(shape: &[usize], data: &[f32]) -> String {
    try_format_tensor(shape, data).unwrap_or_else(not_a_tensor)
}

/// [`format_tensor`], or an error if `data` does not have the `shape`'s number of elements.
///
/// # Errors
///
/// [`Error::NotATensor`] naming the shape and the element count.
pub fn try_format_tensor(shape: &[usize], data: &[f32]) -> Result<String, Error> {
    let fits = shape
        .iter()
        .try_fold(1_usize, |n, &d| n.checked_mul(d))
        .is_some_and(|n| n == data.len());
    if !fits {
        return Err(Error::NotATensor {
            shape: shape.to_vec(),
            len: data.len(),
        });
    }
    let without_text = CAPTURED.with(|c| {
        c.borrow_mut().as_mut().is_some_and(|r| {
            r.tensors.push((shape.to_vec(), data.to_vec()));
            r.without_text
        })
    });
    if without_text {
        return Ok("tensor(…)".to_string());
    }
    const PREFIX: &str = "tensor(";
    if data.is_empty() {
        // (A scalar always has one element, so `shape` has at least one dimension here.)
        // PyTorch: `tensor([])`, or `tensor([], size=(0, 3))` for more dimensions.
        return Ok(if shape.len() == 1 {
            "tensor([])".to_string()
        } else {
            let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
            format!("tensor([], size=({}))", dims.join(", "))
        });
    }
    let summarize = data.len() > THRESHOLD;
    let shown = if summarize {
        summarized_values(shape, data)
    } else {
        data.to_vec()
    };
    let fmt = Formatter::new(&shown);
    let body = if shape.is_empty() {
        fmt.format(data[0])
    } else {
        tensor_body(shape, data, PREFIX.len(), summarize, &fmt)
    };
    Ok(format!("{PREFIX}{body})"))
}

/// The indices of a dimension of length `n` that PyTorch prints, in order; `None` marks the
/// `...` that stands for the middle of a summarized dimension.
fn shown_indices(n: usize, summarize: bool) -> Vec<Option<usize>> {
    if summarize && n > 2 * EDGEITEMS {
        (0..EDGEITEMS)
            .map(Some)
            .chain([None])
            .chain((n - EDGEITEMS..n).map(Some))
            .collect()
    } else {
        (0..n).map(Some).collect()
    }
}

/// The values PyTorch looks at to choose the format of a summarized tensor: only those shown.
fn summarized_values(shape: &[usize], data: &[f32]) -> Vec<f32> {
    if shape.is_empty() {
        return data.to_vec();
    }
    let stride: usize = shape[1..].iter().product();
    shown_indices(shape[0], true)
        .into_iter()
        .flatten()
        .flat_map(|i| summarized_values(&shape[1..], &data[i * stride..(i + 1) * stride]))
        .collect()
}

fn tensor_body(
    shape: &[usize],
    data: &[f32],
    indent: usize,
    summarize: bool,
    fmt: &Formatter,
) -> String {
    let shown = shown_indices(shape[0], summarize);
    if shape.len() == 1 {
        let items: Vec<String> = shown
            .iter()
            .map(|i| i.map_or(" ...".to_string(), |i| fmt.format(data[i])))
            .collect();
        let element_len = fmt.width + 2;
        let per_line = (LINEWIDTH.saturating_sub(indent) / element_len).max(1);
        let lines: Vec<String> = items.chunks(per_line).map(|c| c.join(", ")).collect();
        return format!(
            "[{}]",
            lines.join(&format!(",\n{}", " ".repeat(indent + 1)))
        );
    }
    let stride: usize = shape[1..].iter().product();
    let slices: Vec<String> = shown
        .iter()
        .map(|i| {
            i.map_or("...".to_string(), |i| {
                let part = &data[i * stride..(i + 1) * stride];
                tensor_body(&shape[1..], part, indent + 1, summarize, fmt)
            })
        })
        .collect();
    let sep = format!(
        ",{}{}",
        "\n".repeat(shape.len() - 1),
        " ".repeat(indent + 1)
    );
    format!("[{}]", slices.join(&sep))
}

/// PyTorch's `_Formatter` for floating-point tensors.
struct Formatter {
    int_mode: bool,
    sci_mode: bool,
    width: usize,
    precision: usize,
}

impl Formatter {
    fn new(values: &[f32]) -> Self {
        let finite: Vec<f64> = values
            .iter()
            .filter(|v| v.is_finite() && **v != 0.0)
            .map(|&v| f64::from(v))
            .collect();
        let options = options();
        let precision = options.precision;
        let mut f = Formatter {
            int_mode: true,
            sci_mode: false,
            width: 1,
            precision,
        };
        if finite.is_empty() {
            return f; // all zero or non-finite: PyTorch stops here, whatever `sci_mode` says
        }
        let min = finite.iter().fold(f64::INFINITY, |a, v| a.min(v.abs()));
        let max = finite.iter().fold(0.0_f64, |a, v| a.max(v.abs()));
        f.int_mode = finite.iter().all(|v| *v == v.ceil());
        // (Integral values are at least 1 in magnitude, so `min < 1e-4` only ever applies to
        // the fixed-point case.)
        let chosen = max / min > 1000.0 || max > 1.0e8 || min < 1.0e-4;
        f.sci_mode = options.sci_mode.unwrap_or(chosen);
        f.width = finite
            .iter()
            .map(|&v| {
                if f.sci_mode {
                    sci(v, precision).len()
                } else if f.int_mode {
                    format!("{v:.0}").len() + 1
                } else {
                    format!("{v:.precision$}").len()
                }
            })
            .max()
            .unwrap_or(1);
        f
    }

    fn format(&self, value: f32) -> String {
        let v = f64::from(value);
        let text = if !v.is_finite() {
            nonfinite(v)
        } else if self.sci_mode {
            sci(v, self.precision)
        } else if self.int_mode {
            format!("{v:.0}.")
        } else {
            let precision = self.precision;
            format!("{v:.precision$}")
        };
        format!("{text:>width$}", width = self.width)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A capture inside a capture records its own tensors, then the outer one goes on; a panic
    /// inside a capture leaves no recording behind; options come back after a panic too.
    #[test]
    fn captures_nest_and_unwind() {
        let ((inner, after), outer) = capture(|| {
            let inner = capture_without_text(|| 1.0_f32.torch_str());
            (inner, 2.0_f32.torch_str())
        });
        assert_eq!(inner, ("tensor(…)".to_string(), vec![(vec![], vec![1.0])]));
        assert_eq!(after, "tensor(2.)");
        assert_eq!(outer, [(vec![], vec![2.0])]);
        let panicked =
            std::panic::catch_unwind(|| capture_without_text(|| -> String { panic!("inside") }));
        assert!(panicked.is_err());
        assert_eq!(1.0_f32.torch_str(), "tensor(1.)"); // text again: nothing is recording
        let six = PrintOptions {
            precision: 6,
            sci_mode: None,
        };
        let panicked =
            std::panic::catch_unwind(|| with_print_options(six, || -> String { panic!("inside") }));
        assert!(panicked.is_err());
        assert_eq!(0.5_f32.torch_str(), "tensor(0.5000)");
    }

    #[test]
    fn suffix_on_own_line_is_removed() {
        let book =
            "tensor([[1.0000, 0.0000],\n        [0.5517, 0.4483]],\n       grad_fn=<DivBackward0>)";
        assert_eq!(
            strip_autograd_suffix(book),
            "tensor([[1.0000, 0.0000],\n        [0.5517, 0.4483]])"
        );
        assert_eq!(
            strip_autograd_suffix("tensor([[0.2996, 0.8053]], grad_fn=<MmBackward0>)"),
            "tensor([[0.2996, 0.8053]])"
        );
    }
}
