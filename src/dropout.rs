#![doc = include_str!(concat!(env!("OUT_DIR"), "/docs/dropout.md"))]

use nalgebra::DMatrix;

use crate::{Error, TorchRng};

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
        let total: usize = batch.iter().map(|x| x.len()).sum();
        if self.p == 0.0 || total == 0 {
            return batch.to_vec();
        }
        if self.p == 1.0 {
            return batch.iter().map(|x| x * 0.0).collect();
        }
        let keep = rng.bernoulli_mask(total, 1.0 - self.p); // row-major over the whole batch
        let scale = self.scale();
        let mut offset = 0;
        let mut out = Vec::with_capacity(batch.len());
        for x in batch {
            out.push(apply_mask(x, &keep[offset..offset + x.len()], scale));
            offset += x.len();
        }
        out
    }
}

/// `x * noise`, where `noise` is `scale` for a kept element and 0 for a dropped one; `keep` is
/// in row-major order.
fn apply_mask(x: &DMatrix<f32>, keep: &[bool], scale: f32) -> DMatrix<f32> {
    let cols = x.ncols();
    DMatrix::from_fn(x.nrows(), cols, |r, c| {
        let noise = if keep[r * cols + c] { scale } else { 0.0 };
        x[(r, c)] * noise
    })
}
