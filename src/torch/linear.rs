//! # `nn.Linear` and PyTorch's default initialization
#![doc = include_str!(concat!(env!("OUT_DIR"), "/docs/linear.md"))]

use nalgebra::{DMatrix, DVector};

use crate::Error;
use crate::torch::{TorchRng, matmul};
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
    ///
    /// # Panics
    ///
    /// If the weight cannot be allocated (see [`TorchRng::uniform`]); the modules of this crate
    /// call [`try_new`](Self::try_new) and return the [`Error`] instead.
    pub fn new(in_features: usize, out_features: usize, bias: bool, rng: &mut TorchRng) -> Linear {
        Linear::try_new(in_features, out_features, bias, rng).unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`new`](Self::new), returning an error for sizes that cannot be allocated (checked before
    /// the weight's first draw).
    ///
    /// ```
    /// use ch03_attention::{Linear, TorchRng};
    /// let err = Linear::try_new(usize::MAX, 2, false, &mut TorchRng::manual_seed(1)).unwrap_err();
    /// assert!(err.to_string().starts_with("Linear weight: a 2 × 18446744073709551615 matrix"));
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::TooLarge`] if the `(out_features × in_features)` weight cannot be allocated.
    pub fn try_new(
        in_features: usize,
        out_features: usize,
        bias: bool,
        rng: &mut TorchRng,
    ) -> Result<Linear, Error> {
        let bound = kaiming_uniform_bound(in_features);
        let weight =
            rng.try_uniform_for("Linear weight", out_features, in_features, -bound, bound)?; // (out, in)
        let bias = match bias {
            true => {
                let b = bias_bound(in_features);
                let values = rng.try_uniform_for("Linear bias", out_features, 1, -b, b)?;
                Some(DVector::from_column_slice(values.as_slice()))
            }
            false => None,
        };
        Ok(Linear { weight, bias })
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
        Ok(self.apply(x))
    }

    /// `x Wᵀ + b` for an `x` known to have `in_features` columns (the unchecked
    /// [`forward`](Self::forward), for callers that built `x` to fit).
    pub(crate) fn apply(&self, x: &DMatrix<f32>) -> DMatrix<f32> {
        // An owned transpose keeps the product on nalgebra's fast GEMM path.
        let mut y = matmul(x, &self.weight.transpose()); // (n, out)
        if let Some(b) = &self.bias {
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

/// The getters `w_query`, `w_key` and `w_value` of a module that keeps its three projections in
/// fields of those names (`SelfAttentionV2`, `CausalAttention`, `MultiHeadAttention`): one
/// definition for the three modules, expanded inside each one's `impl` block.
macro_rules! qkv_projection_getters {
    () => {
        /// The query projection, `d_in → d_out` (in `MultiHeadAttention`, all heads at once).
        pub fn w_query(&self) -> &$crate::Linear {
            &self.w_query
        }

        /// The key projection, `d_in → d_out`.
        pub fn w_key(&self) -> &$crate::Linear {
            &self.w_key
        }

        /// The value projection, `d_in → d_out`.
        pub fn w_value(&self) -> &$crate::Linear {
            &self.w_value
        }
    };
}
pub(crate) use qkv_projection_getters;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_have_pytorch_bits() {
        // The f64 kaiming bound and 1/sqrt(in) differ in the last bit, yet agree as f32.
        assert_eq!(kaiming_uniform_bound(3).to_bits(), 0x3fe2_79a7_4590_331c);
        assert_eq!(bias_bound(3).to_bits(), 0x3fe2_79a7_4590_331d);
        assert_eq!((kaiming_uniform_bound(3) as f32).to_bits(), 0x3f13_cd3a);
        assert_eq!((kaiming_uniform_bound(2) as f32).to_bits(), 0x3f35_04f3);
    }
}
