#![doc = include_str!(concat!(env!("OUT_DIR"), "/docs/linear.md"))]

use std::ops::Range;

use nalgebra::{DMatrix, DVector};

use crate::Error;
use crate::torch::TorchRng;
use crate::validate::check_width;

/// `torch.nn.Linear(in_features, out_features, bias)`: `y = x Wᵀ + b`, initialized exactly as
/// PyTorch initializes it.
///
/// The weight is stored as PyTorch stores it, `(out_features × in_features)`, one row per
/// output.
///
/// ```
/// use ch03_attention::{Linear, TorchRng};
/// use ch03_attention::nalgebra::DMatrix;
///
/// let mut g = TorchRng::manual_seed(789);
/// let w_query = Linear::new(3, 2, false, &mut g); // SelfAttention_v2's W_query
/// assert_eq!(w_query.weight()[(1, 0)].to_bits(), 0xbe2c_5302); // -0.1683
///
/// let x = DMatrix::from_row_slice(1, 3, &[0.55_f32, 0.87, 0.66]); // "journey"
/// let q = w_query.forward(&x).unwrap(); // (1 × 2)
/// assert!((q[(0, 0)] - 0.9091).abs() < 1e-4); // PyTorch: 0.909066915
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Linear {
    weight: DMatrix<f32>,
    bias: Option<DVector<f32>>,
}

impl Linear {
    /// A layer with PyTorch's default initialization, drawn from `rng`: first the whole weight
    /// (row-major, `out_features · in_features` draws), then the bias (`out_features` draws) if
    /// `bias` is true. See [the module docs](self) for the bounds.
    pub fn new(in_features: usize, out_features: usize, bias: bool, rng: &mut TorchRng) -> Linear {
        let bound = kaiming_uniform_bound(in_features);
        let weight = rng.uniform(out_features, in_features, -bound, bound); // (out, in)
        let bias = bias.then(|| {
            let b = bias_bound(in_features);
            DVector::from_column_slice(rng.uniform(out_features, 1, -b, b).as_slice())
        });
        Linear { weight, bias }
    }

    /// A layer with the given parameters, e.g. copied from another model. `weight` is
    /// `(out_features × in_features)`; `bias`, if any, has `out_features` entries.
    ///
    /// # Errors
    ///
    /// [`Error::ShapeMismatch`] if the bias length differs from the weight's row count.
    ///
    /// ```
    /// use ch03_attention::Linear;
    /// use ch03_attention::nalgebra::{DMatrix, DVector};
    ///
    /// let w = DMatrix::from_row_slice(2, 3, &[1.0_f32, 0.0, 0.0, 0.0, 1.0, 0.0]);
    /// assert!(Linear::from_parts(w.clone(), Some(DVector::zeros(2))).is_ok());
    /// let err = Linear::from_parts(w, Some(DVector::zeros(3))).unwrap_err();
    /// assert_eq!(err.to_string(), "Linear bias: shapes (2 × 3) and (3 × 1) do not fit together");
    /// ```
    pub fn from_parts(weight: DMatrix<f32>, bias: Option<DVector<f32>>) -> Result<Linear, Error> {
        if let Some(b) = &bias {
            if b.len() != weight.nrows() {
                return Err(Error::ShapeMismatch {
                    op: "Linear bias",
                    left: weight.shape(),
                    right: (b.len(), 1),
                });
            }
        }
        Ok(Linear { weight, bias })
    }

    /// The weight, `(out_features × in_features)` as in PyTorch.
    pub fn weight(&self) -> &DMatrix<f32> {
        &self.weight
    }

    /// The bias (`out_features` entries), or `None` for a layer built with `bias = false`.
    pub fn bias(&self) -> Option<&DVector<f32>> {
        self.bias.as_ref()
    }

    /// Width of the inputs.
    pub fn in_features(&self) -> usize {
        self.weight.ncols()
    }

    /// Width of the outputs.
    pub fn out_features(&self) -> usize {
        self.weight.nrows()
    }

    /// Number of trainable numbers: `out · in`, plus `out` with a bias.
    pub fn num_parameters(&self) -> usize {
        self.weight.len() + self.bias.as_ref().map_or(0, |b| b.len())
    }

    /// Applies the layer to each row of `x` (`n × in_features`): returns `x Wᵀ + b`,
    /// `(n × out_features)`.
    ///
    /// # Errors
    ///
    /// [`Error::InputWidth`] if `x` does not have `in_features` columns.
    pub fn forward(&self, x: &DMatrix<f32>) -> Result<DMatrix<f32>, Error> {
        check_width("Linear", x, self.in_features())?;
        Ok(self.forward_outputs(x, 0..self.out_features()))
    }

    /// Only the outputs in `outputs` (a range of output features): `x W[outputs]ᵀ + b[outputs]`,
    /// `(n × outputs.len())`. These columns are equal, bit for bit, to the same columns of
    /// [`forward`](Self::forward): each output is its own dot product, computed the same way
    /// whichever others are computed with it. Lets a multi-threaded caller split one layer
    /// into independent pieces. `x` must have `in_features` columns.
    pub(crate) fn forward_outputs(&self, x: &DMatrix<f32>, outputs: Range<usize>) -> DMatrix<f32> {
        let w = self.weight.rows(outputs.start, outputs.len()); // (outputs, in)
        // An owned transpose keeps the product on nalgebra's fast GEMM path.
        let mut y = x * w.transpose(); // (n, outputs)
        if let Some(b) = &self.bias {
            let b = b.rows(outputs.start, outputs.len());
            for (mut column, b_j) in y.column_iter_mut().zip(b.iter()) {
                column.add_scalar_mut(*b_j);
            }
        }
        y
    }
}

/// `kaiming_uniform_(weight, a = √5)` with fan-in `in_features`, in PyTorch's `f64` order:
/// `gain = √(2 / (1 + a²))`, `std = gain / √fan_in`, `bound = √3 · std`.
fn kaiming_uniform_bound(in_features: usize) -> f64 {
    let a = 5.0_f64.sqrt();
    let gain = (2.0 / (1.0 + a * a)).sqrt();
    let std = gain / (in_features as f64).sqrt();
    3.0_f64.sqrt() * std
}

/// The bias bound `1 / √fan_in` (0 when there are no inputs, as in PyTorch).
fn bias_bound(in_features: usize) -> f64 {
    if in_features == 0 {
        0.0
    } else {
        1.0 / (in_features as f64).sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Any group of 6 or more outputs equals the same columns of the whole layer, bit for bit
    /// (all shapes above nalgebra's small-matrix fallback, so both go through the same GEMM
    /// kernel).
    #[test]
    fn forward_outputs_equals_the_columns_of_forward() {
        let mut rng = TorchRng::manual_seed(3);
        let layer = Linear::new(300, 131, true, &mut rng);
        let x = rng.uniform(130, 300, -2.0, 2.0);
        let full = layer.forward(&x).unwrap();
        for range in [0..131, 0..64, 64..131, 40..46, 125..131] {
            let part = layer.forward_outputs(&x, range.clone());
            assert_eq!(part, full.columns(range.start, range.len()), "{range:?}");
        }
    }

    #[test]
    fn bounds_have_pytorch_bits() {
        // The f64 kaiming bound and 1/sqrt(in) differ in the last bit, yet agree as f32.
        assert_eq!(kaiming_uniform_bound(3).to_bits(), 0x3fe2_79a7_4590_331c);
        assert_eq!(bias_bound(3).to_bits(), 0x3fe2_79a7_4590_331d);
        assert_eq!((kaiming_uniform_bound(3) as f32).to_bits(), 0x3f13_cd3a);
        assert_eq!((kaiming_uniform_bound(2) as f32).to_bits(), 0x3f35_04f3);
    }
}
