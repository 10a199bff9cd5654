//! Input checks shared by every module: each runs before any arithmetic and turns a bad shape or
//! size into an [`Error`] that names the values involved, so no nalgebra panic ever reaches a
//! learner.
//!
//! ```
//! use ch03_attention::nalgebra::DMatrix;
//! use ch03_attention::validate::check_batch;
//!
//! let batch = [DMatrix::<f32>::zeros(6, 3), DMatrix::zeros(7, 3)];
//! let err = check_batch("CausalAttention", &batch, 3, 6).unwrap_err();
//! assert_eq!(err.to_string(), "batch item 1 has shape (7 × 3) but item 0 has shape (6 × 3)");
//! ```

use nalgebra::{DMatrix, Scalar};

use crate::{Error, Linear};

/// Checks that `x` has `expected` columns (`d_in`), naming `layer` in the error.
///
/// # Errors
///
/// [`Error::InputWidth`] otherwise.
pub fn check_width(layer: &'static str, x: &DMatrix<f32>, expected: usize) -> Result<(), Error> {
    if x.ncols() == expected {
        Ok(())
    } else {
        Err(Error::InputWidth {
            layer,
            expected,
            got: x.ncols(),
        })
    }
}

/// Checks a batch before any arithmetic: every item `(tokens × d_in)` with one shape, and no
/// more tokens than `context_length`. An empty batch is valid (and gives an empty output).
/// `layer` names the module in the error message.
///
/// # Errors
///
/// [`Error::RaggedBatch`] if an item's shape differs from item 0's; [`Error::InputWidth`] if the
/// items are not `d_in` wide; [`Error::TooManyTokens`] if they have more than `context_length`
/// rows.
pub fn check_batch(
    layer: &'static str,
    batch: &[DMatrix<f32>],
    d_in: usize,
    context_length: usize,
) -> Result<(), Error> {
    let Some(first) = batch.first() else {
        return Ok(());
    };
    if let Some((index, x)) = batch
        .iter()
        .enumerate()
        .find(|(_, x)| x.shape() != first.shape())
    {
        return Err(Error::RaggedBatch {
            index,
            expected: first.shape(),
            got: x.shape(),
        });
    }
    check_width(layer, first, d_in)?;
    if first.nrows() > context_length {
        return Err(Error::TooManyTokens {
            tokens: first.nrows(),
            context_length,
        });
    }
    Ok(())
}

/// Checks layers handed to a module's `from_parts`: each `(name, layer, want)` must have a
/// weight of shape `want`, `(out_features × in_features)` as PyTorch stores it.
///
/// ```
/// use ch03_attention::validate::check_layer_shapes;
/// use ch03_attention::{Linear, TorchRng};
///
/// let w_key = Linear::new(3, 4, false, &mut TorchRng::manual_seed(1)); // 3 → 4
/// let err = check_layer_shapes(&[("CausalAttention (W_key)", &w_key, (2, 3))]).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "CausalAttention (W_key): shapes (2 × 3) and (4 × 3) do not fit together"
/// );
/// ```
///
/// # Errors
///
/// [`Error::ShapeMismatch`] for the first layer that does not fit: `op` is its name, `left` the
/// shape it should have, `right` the shape it has.
pub fn check_layer_shapes(layers: &[(&'static str, &Linear, (usize, usize))]) -> Result<(), Error> {
    for &(op, layer, want) in layers {
        let got = (layer.out_features(), layer.in_features());
        if got != want {
            return Err(Error::ShapeMismatch {
                op,
                left: want,
                right: got,
            });
        }
    }
    Ok(())
}

/// Checks that every named size is at least 1, in the order given.
///
/// ```
/// use ch03_attention::validate::check_nonzero;
/// let err = check_nonzero(&[("d_in", 3), ("d_out", 0)]).unwrap_err();
/// assert_eq!(err.to_string(), "d_out must be at least 1, got 0");
/// ```
///
/// # Errors
///
/// [`Error::ZeroSize`] naming the first size that is 0.
pub fn check_nonzero(sizes: &[(&'static str, usize)]) -> Result<(), Error> {
    match sizes.iter().find(|(_, n)| *n == 0) {
        Some(&(what, _)) => Err(Error::ZeroSize { what }),
        None => Ok(()),
    }
}

/// A `(rows × cols)` matrix of zeros, allocated only if it can be: the element count must fit in
/// `usize` and the allocator must grant the memory. Every matrix whose size comes from a caller
/// (a layer's width, a generator's draw, a model's vocabulary) is made here, so an impossible
/// size is an error naming `what` and the sizes, never an overflow, an abort or a matrix that
/// claims more elements than it stores.
///
/// # Errors
///
/// [`Error::TooLarge`] otherwise.
pub(crate) fn zeros<T: Scalar + Default>(
    what: &'static str,
    rows: usize,
    cols: usize,
) -> Result<DMatrix<T>, Error> {
    let too_large = || Error::TooLarge { what, rows, cols };
    let len = rows.checked_mul(cols).ok_or_else(too_large)?;
    let mut data = Vec::new();
    data.try_reserve_exact(len).map_err(|_| too_large())?;
    data.resize(len, T::default()); // 0.0 for f32 and f64
    Ok(DMatrix::from_vec(rows, cols, data))
}

/// Checks that an upstream gradient `d_out` has the shape of the tensor `like` it belongs to:
/// as many batch items, each of the same shape.
///
/// # Errors
///
/// [`Error::GradientBatch`] for a different number of items, [`Error::GradientShape`] naming the
/// first item whose shape differs.
pub fn check_gradient_shapes(like: &[DMatrix<f32>], d_out: &[DMatrix<f32>]) -> Result<(), Error> {
    if like.len() != d_out.len() {
        return Err(Error::GradientBatch {
            expected: like.len(),
            got: d_out.len(),
        });
    }
    for (index, (a, g)) in like.iter().zip(d_out).enumerate() {
        if a.shape() != g.shape() {
            return Err(Error::GradientShape {
                index,
                expected: a.shape(),
                got: g.shape(),
            });
        }
    }
    Ok(())
}
