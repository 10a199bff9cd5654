//! # Dropout on the attention weights (3.5.2)
#![doc = include_str!(concat!(env!("OUT_DIR"), "/docs/dropout.md"))]

use nalgebra::DMatrix;

use crate::{Error, TorchRng};

/// Moved to [`crate::validate`], with the crate's other shape checks; kept here under its old
/// path.
pub use crate::validate::check_gradient_shapes;

/// `torch.nn.Dropout(p)`: in training, zero each element with probability `p` and scale the
/// survivors by `1 / (1 - p)`; in evaluation, do nothing.
///
/// ```
/// use ch03_attention::{Dropout, TorchRng};
/// use ch03_attention::nalgebra::DMatrix;
///
/// let dropout = Dropout::new(0.5).unwrap();
/// let x = DMatrix::from_element(2, 3, 1.0_f32);
/// assert_eq!(dropout.forward(&x), x); // evaluation: identity
/// let y = dropout.forward_train(&x, &mut TorchRng::manual_seed(123));
/// assert_eq!(y.row(0).iter().copied().collect::<Vec<_>>(), [2.0, 2.0, 0.0]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dropout {
    p: f64,
}

impl Dropout {
    /// A dropout layer that zeroes elements with probability `p` during training.
    ///
    /// # Errors
    ///
    /// [`Error::DropoutRate`] if `p` is outside `[0, 1]` or NaN.
    ///
    /// ```
    /// use ch03_attention::Dropout;
    /// let err = Dropout::new(1.5).unwrap_err();
    /// assert_eq!(err.to_string(), "dropout probability must be in [0, 1], got 1.5");
    /// ```
    pub fn new(p: f64) -> Result<Dropout, Error> {
        if (0.0..=1.0).contains(&p) {
            Ok(Dropout { p })
        } else {
            Err(Error::DropoutRate { p })
        }
    }

    /// The probability of zeroing an element.
    pub fn p(&self) -> f64 {
        self.p
    }

    /// The factor kept elements are multiplied by in training: `1 / (1 - p)`, computed in `f32`
    /// from the `f32`-rounded keep probability, as PyTorch does. Infinite for `p = 1`.
    ///
    /// ```
    /// use ch03_attention::Dropout;
    /// assert_eq!(Dropout::new(0.5).unwrap().scale(), 2.0);
    /// assert_eq!(Dropout::new(0.1).unwrap().scale().to_bits(), 0x3f8e_38e4); // 1.1111112
    /// ```
    pub fn scale(&self) -> f32 {
        1.0 / ((1.0 - self.p) as f32)
    }

    /// Evaluation mode (`module.eval()`): the input, unchanged. Draws nothing.
    pub fn forward(&self, x: &DMatrix<f32>) -> DMatrix<f32> {
        x.clone()
    }

    /// Training mode (`module.train()`): a keep-mask is drawn from `rng` over the elements of
    /// `x` in row-major order (see [`TorchRng::bernoulli_mask`]); kept elements are multiplied
    /// by [`scale`](Self::scale), the others by 0.
    ///
    /// As in PyTorch, `p = 0` returns `x` and `p = 1` returns `x * 0`, both without drawing.
    pub fn forward_train(&self, x: &DMatrix<f32>, rng: &mut TorchRng) -> DMatrix<f32> {
        let mut out = self.forward_train_batch(std::slice::from_ref(x), rng);
        out.pop().expect("one matrix in, one out")
    }

    /// `self.dropout(attn_weights)` inside a module, whose mode decides: in evaluation mode
    /// (`rng` is `None`) the batch passes unchanged, as [`forward`](Self::forward) does; in
    /// training mode (`Some(rng)`) one mask is drawn over the whole batch, as
    /// [`forward_train_batch`](Self::forward_train_batch) does.
    pub fn forward_in_mode(
        &self,
        batch: Vec<DMatrix<f32>>,
        rng: Option<&mut TorchRng>,
    ) -> Vec<DMatrix<f32>> {
        match rng {
            Some(rng) => self.forward_train_batch(&batch, rng),
            None => batch,
        }
    }

    /// Training mode over a batch treated as *one* tensor: a single mask is drawn over all
    /// elements, item 0 first, each item in row-major order. This is what `nn.Dropout` does to
    /// a `(batch, tokens, tokens)` tensor of attention weights, so the result differs from
    /// calling [`forward_train`](Self::forward_train) once per item only in how the draws are
    /// grouped: it is the same as applying `forward_train` to the items stacked on top of each
    /// other.
    ///
    /// ```
    /// use ch03_attention::{Dropout, TorchRng};
    /// use ch03_attention::nalgebra::DMatrix;
    ///
    /// let ones = DMatrix::from_element(3, 6, 1.0_f32);
    /// let d = Dropout::new(0.5).unwrap();
    /// let halves = d.forward_train_batch(&[ones.clone(), ones], &mut TorchRng::manual_seed(123));
    /// let whole = d.forward_train(&DMatrix::from_element(6, 6, 1.0), &mut TorchRng::manual_seed(123));
    /// assert_eq!(halves[1], whole.rows(3, 3));
    /// ```
    pub fn forward_train_batch(
        &self,
        batch: &[DMatrix<f32>],
        rng: &mut TorchRng,
    ) -> Vec<DMatrix<f32>> {
        self.forward_train_batch_with_noise(batch, rng).0
    }

    /// [`forward_train_batch`](Self::forward_train_batch), also returning the *noise*: for
    /// every element, the factor it was multiplied by (`1 / (1 − p)` where the mask kept it, 0
    /// where it dropped it). The backward pass multiplies the upstream gradient by the same
    /// factors ([`backward`](Self::backward)), so it needs the mask this forward pass drew.
    ///
    /// Draws exactly what `forward_train_batch` draws: nothing for `p = 0` (the noise is all
    /// ones) or `p = 1` (all zeros), or for an empty batch.
    ///
    /// ```
    /// use ch03_attention::{Dropout, TorchRng};
    /// use ch03_attention::nalgebra::DMatrix;
    ///
    /// let x = DMatrix::from_element(1, 6, 0.25_f32);
    /// let d = Dropout::new(0.5).unwrap();
    /// let (out, noise) = d.forward_train_batch_with_noise(&[x], &mut TorchRng::manual_seed(123));
    /// assert_eq!(noise[0].as_slice(), [2.0, 2.0, 0.0, 2.0, 2.0, 0.0]); // the kept mask times 2
    /// assert_eq!(out[0].as_slice(), [0.5, 0.5, 0.0, 0.5, 0.5, 0.0]);
    /// ```
    pub fn forward_train_batch_with_noise(
        &self,
        batch: &[DMatrix<f32>],
        rng: &mut TorchRng,
    ) -> (Vec<DMatrix<f32>>, Vec<DMatrix<f32>>) {
        let noise = self.draw_noise(batch, rng);
        let out = batch
            .iter()
            .zip(&noise)
            .map(|(x, n)| x.component_mul(n)) // x * noise
            .collect();
        (out, noise)
    }

    /// Training mode's backward pass: `∂L/∂x = ∂L/∂out ∘ noise`, element by element. A dropped
    /// element passes no gradient back; a kept one passes it on multiplied by `1 / (1 − p)`, as
    /// `nn.Dropout`'s autograd does. (Evaluation mode is the identity, and so is its backward.)
    ///
    /// ```
    /// use ch03_attention::Dropout;
    /// use ch03_attention::nalgebra::DMatrix;
    ///
    /// let noise = [DMatrix::from_row_slice(1, 3, &[2.0_f32, 0.0, 2.0])];
    /// let d_out = [DMatrix::from_row_slice(1, 3, &[0.1_f32, 0.2, 0.3])];
    /// let d_x = Dropout::backward(&noise, &d_out).unwrap();
    /// assert_eq!(d_x[0].as_slice(), [0.2, 0.0, 0.6]);
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::GradientBatch`] or [`Error::GradientShape`] if `d_out` does not have the shape
    /// of `noise`.
    pub fn backward(
        noise: &[DMatrix<f32>],
        d_out: &[DMatrix<f32>],
    ) -> Result<Vec<DMatrix<f32>>, Error> {
        check_gradient_shapes(noise, d_out)?;
        Ok(d_out
            .iter()
            .zip(noise)
            .map(|(g, n)| g.component_mul(n)) // d_out * noise
            .collect())
    }

    /// The factor each element of `batch` is multiplied by in training mode, drawing the mask
    /// from `rng` over the whole batch in row-major order, item 0 first.
    fn draw_noise(&self, batch: &[DMatrix<f32>], rng: &mut TorchRng) -> Vec<DMatrix<f32>> {
        let total: usize = batch.iter().map(|x| x.len()).sum();
        let filled = |v: f32| {
            let fill = |x: &DMatrix<f32>| DMatrix::from_element(x.nrows(), x.ncols(), v);
            batch.iter().map(fill).collect()
        };
        if self.p == 0.0 || total == 0 {
            return filled(1.0);
        }
        if self.p == 1.0 {
            return filled(0.0);
        }
        let keep = rng.bernoulli_mask(total, 1.0 - self.p); // row-major over the whole batch
        let scale = self.scale();
        let mut offset = 0;
        let mut noise = Vec::with_capacity(batch.len());
        for x in batch {
            noise.push(mask_noise(x, &keep[offset..offset + x.len()], scale));
            offset += x.len();
        }
        noise
    }
}

/// The noise of one matrix shaped like `x`: `scale` for a kept element and 0 for a dropped one;
/// `keep` is in row-major order.
fn mask_noise(x: &DMatrix<f32>, keep: &[bool], scale: f32) -> DMatrix<f32> {
    let cols = x.ncols();
    DMatrix::from_fn(x.nrows(), cols, |r, c| {
        if keep[r * cols + c] { scale } else { 0.0 }
    })
}
