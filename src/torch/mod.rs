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
//! * [`row`]: `x[i]`, row `i` of a matrix as a 1-D tensor; [`matmul`]: `a @ b`.
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

use crate::Error;

/// Row `i` of `m` as an owned column vector: PyTorch's `x[i]` on a 2-D tensor (the book's
/// `inputs[1]` is `row(&inputs(), 1)`).
///
/// An owned copy, not a view: it keeps the arithmetic that follows simple, and sidesteps a
/// nalgebra soundness bug with small strided views (nalgebra issue #1616: a product of a
/// row-strided view with a dimension of 5 or less can write out of bounds).
///
/// # Panics
///
/// If `i` is not a row of `m`, as `x[i]` raises an `IndexError` in PyTorch, with the message of
/// [`try_row`], which returns it as an [`Error`] instead.
pub fn row(m: &DMatrix<f32>, i: usize) -> DVector<f32> {
    try_row(m, i).unwrap_or_else(|e| panic!("{e}"))
}

/// [`row`], or an error for a row that does not exist.
///
/// ```
/// use ch03_attention::inputs::inputs;
/// use ch03_attention::torch::try_row;
/// assert_eq!(try_row(&inputs(), 1).unwrap()[0], 0.55); // "journey"
/// assert!(try_row(&inputs(), 6).is_err()); // six tokens: rows 0 to 5
/// ```
///
/// # Errors
///
/// [`Error::RowOutOfRange`] if `i ≥ m.nrows()`.
pub fn try_row(m: &DMatrix<f32>, i: usize) -> Result<DVector<f32>, Error> {
    if i >= m.nrows() {
        return Err(Error::RowOutOfRange {
            index: i,
            rows: m.nrows(),
        });
    }
    Ok(DVector::from_iterator(m.ncols(), m.row(i).iter().copied()))
}

/// PyTorch's `a @ b` for two matrices: nalgebra's product, with zeros signed as PyTorch signs
/// them.
///
/// PyTorch adds each entry's products to a sum that starts at `+0`, so an entry whose products
/// are all zeros is `+0` even when some are `−0` (`0 · −0.3 = −0`, and `+0 + −0 = +0`).
/// nalgebra's product for small matrices (a dimension of 5 or less, such as the book's 6 × 2
/// values) starts from the first product instead and keeps a `−0`, which PyTorch's printer would
/// show as `-0.0000`: with dropout, a row of attention weights that lost every entry gives such a
/// row. Adding `+0` to every entry turns `−0` into `+0` and changes nothing else (`x + 0 = x` for
/// every other `x`, NaN included).
///
/// ```
/// use ch03_attention::nalgebra::DMatrix;
/// use ch03_attention::torch::matmul;
/// let dropped = DMatrix::from_row_slice(1, 2, &[0.0_f32, 0.0]); // a row of weights, all dropped
/// let values = DMatrix::from_row_slice(2, 1, &[-0.3_f32, -0.7]);
/// assert!(matmul(&dropped, &values)[(0, 0)].is_sign_positive()); // +0, as in PyTorch
/// ```
///
/// # Panics
///
/// If `a.ncols() != b.nrows()`; the modules check their inputs' widths first.
pub fn matmul(a: &DMatrix<f32>, b: &DMatrix<f32>) -> DMatrix<f32> {
    let mut product = a * b;
    product.apply(|x| *x += 0.0);
    product
}
