//! The PyTorch-compatible pieces the chapter relies on.
//!
//! * [`print`](mod@print): print a tensor exactly as `print(tensor)` does, so results compare with the book
//!   character for character.
//! * [`reduce`]: sums added in PyTorch's order, so a sum of weights lands on the same last bit
//!   (and prints `1.` or `1.0000` as the book does).
//! * [`rng`]: [`TorchRng`], PyTorch's CPU random number generator bit for bit (`manual_seed`,
//!   `rand`, `uniform_`, the dropout masks), and why its numbers match the book.
//! * [`linear`]: [`Linear`], `nn.Linear` with PyTorch's default initialization, drawn from a
//!   [`TorchRng`] in PyTorch's order.
//!
//! * [`row`]: `x[i]`, row `i` of a matrix as a 1-D tensor.
//!
//! Nothing here is attention itself; these are the instruments that let the attention modules be
//! checked against the book's printed numbers.

pub mod linear;
pub mod print;
pub mod reduce;
pub mod rng;

pub use linear::Linear;
pub use rng::{BernoulliPath, TorchRng, UniformKernel};

use nalgebra::{DMatrix, DVector};

/// Row `i` of `m` as an owned column vector: PyTorch's `x[i]` on a 2-D tensor (the book's
/// `inputs[1]` is `row(&inputs(), 1)`).
///
/// An owned copy, not a view: it keeps the arithmetic that follows simple, and sidesteps a
/// nalgebra soundness bug with small strided views (nalgebra issue #1616: a product of a
/// row-strided view with a dimension of 5 or less can write out of bounds).
///
/// # Panics
///
/// If `i` is not a row of `m`; callers index rows they know exist.
pub fn row(m: &DMatrix<f32>, i: usize) -> DVector<f32> {
    DVector::from_iterator(m.ncols(), m.row(i).iter().copied())
}
