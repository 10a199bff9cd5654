//! The backward pass of section 3.6.1's [`MultiHeadAttentionWrapper`]: `num_heads` independent
//! [`CausalAttention`](crate::CausalAttention) heads, side by side.
//!
//! The wrapper's output is the heads' outputs concatenated, `[head_0(x) … head_{H−1}(x)]`, so
//! the upstream gradient splits the same way: head `h` receives columns `h·d_out .. (h+1)·d_out`
//! of `∂L/∂output`, and its backward pass is `CausalAttention`'s. Every head reads the same `x`,
//! so `∂L/∂x` is the sum of the heads' shares, as autograd sums the gradients of a tensor that is
//! used more than once.

use nalgebra::DMatrix;

use super::{AttentionGrads, Layers, Tape};
use crate::multihead::{concat_heads, split_heads};
use crate::validate::check_gradient_shapes;
use crate::{Error, MultiHeadAttentionWrapper, TorchRng};

/// [`MultiHeadAttentionWrapper`]'s forward pass, recorded: one [`Tape`] per head.
///
/// In training mode every head draws its own dropout mask from the generator, head 0 first, as
/// [`forward_train`](MultiHeadAttentionWrapper::forward_train) draws them; the tape's output is
/// the module's, bit for bit.
///
/// ```
/// use ch03_attention::gradients::WrapperTape;
/// use ch03_attention::inputs::inputs;
/// use ch03_attention::nalgebra::DMatrix;
/// use ch03_attention::{MultiHeadAttentionWrapper, TorchRng};
///
/// let mut rng = TorchRng::manual_seed(123);
/// let mha = MultiHeadAttentionWrapper::new(3, 2, 6, 0.0, 2, false, &mut rng).unwrap();
/// let batch = [inputs()];
/// let tape = WrapperTape::new(&mha, &batch, None).unwrap(); // eval mode
/// assert_eq!(tape.output(), mha.forward(&batch).unwrap()); // (6 × 4): 2 heads × d_out 2
/// let grads = tape.backward(&[DMatrix::from_element(6, 4, 1.0)]).unwrap();
/// assert_eq!(grads.heads.len(), 2);
/// assert_eq!(grads.heads[1].w_value.weight.shape(), (2, 3)); // heads[1].W_value.weight.grad
/// // Every head reads x: ∂L/∂x is the sum of the heads' shares.
/// assert_eq!(grads.x[0], &grads.heads[0].x[0] + &grads.heads[1].x[0]);
/// ```
#[derive(Debug, Clone)]
pub struct WrapperTape<'m> {
    heads: Vec<Tape<'m>>,
}

/// The gradients of a [`MultiHeadAttentionWrapper`]: `∂L/∂x`, and each head's own.
#[derive(Debug, Clone, PartialEq)]
pub struct WrapperGrads {
    /// `∂L/∂x`, one `(tokens × d_in)` matrix per batch item: the sum of the heads' shares.
    pub x: Vec<DMatrix<f32>>,
    /// Head `h`'s gradients: its layers' are PyTorch's `heads[h].W_query.weight.grad` and so on,
    /// and its `x` is the part of `∂L/∂x` that flows through head `h`.
    pub heads: Vec<AttentionGrads>,
}

impl<'m> WrapperTape<'m> {
    /// [`MultiHeadAttentionWrapper::forward`] (`rng` is `None`) or
    /// [`forward_train`](MultiHeadAttentionWrapper::forward_train) (`Some(rng)`), recorded.
    ///
    /// # Errors
    ///
    /// The input errors of [`MultiHeadAttentionWrapper::forward`].
    pub fn new(
        module: &'m MultiHeadAttentionWrapper,
        batch: &[DMatrix<f32>],
        rng: Option<&mut TorchRng>,
    ) -> Result<WrapperTape<'m>, Error> {
        let passes = module.forward_pass(batch, rng)?; // (heads, b)
        let heads = module
            .heads()
            .iter()
            .zip(passes)
            .map(|(head, items)| Tape::new(Layers::causal(head), batch, items))
            .collect();
        Ok(WrapperTape { heads })
    }

    /// Each head's tape, head 0 first: its output, its dropout mask, its own backward pass.
    pub fn heads(&self) -> &[Tape<'m>] {
        &self.heads
    }

    /// The forward pass's output: the heads' outputs side by side, `(tokens × d_out · heads)`
    /// per batch item.
    pub fn output(&self) -> Vec<DMatrix<f32>> {
        let per_head: Vec<Vec<DMatrix<f32>>> = self.heads.iter().map(Tape::output).collect();
        let items = per_head.first().map_or(0, Vec::len);
        (0..items)
            .map(|b| concat_heads(&per_head.iter().map(|h| h[b].clone()).collect::<Vec<_>>()))
            .collect()
    }

    /// The backward pass: given `d_output = ∂L/∂output` (one `(tokens × d_out · heads)` matrix
    /// per batch item), each head's gradients and `∂L/∂x`.
    ///
    /// # Errors
    ///
    /// [`Error::GradientBatch`] or [`Error::GradientShape`] if `d_output` is not shaped like the
    /// output.
    pub fn backward(&self, d_output: &[DMatrix<f32>]) -> Result<WrapperGrads, Error> {
        check_gradient_shapes(&self.output(), d_output)?;
        // torch.cat(heads, dim=-1) backwards: head h's columns of every item, (heads, b, T, d_out)
        let split: Vec<Vec<DMatrix<f32>>> = d_output
            .iter()
            .map(|d| split_heads(d, self.heads.len()))
            .collect();
        let heads = self
            .heads
            .iter()
            .enumerate()
            .map(|(h, tape)| {
                let d_head: Vec<DMatrix<f32>> = split.iter().map(|s| s[h].clone()).collect();
                tape.backward(&d_head)
            })
            .collect::<Result<Vec<AttentionGrads>, Error>>()?;
        // Every head reads x: its gradient is the sum of the heads' shares, head 0 first.
        let x = (0..d_output.len())
            .map(|b| {
                let mut sum = heads[0].x[b].clone(); // (T, d_in)
                for g in &heads[1..] {
                    sum += &g.x[b];
                }
                sum
            })
            .collect();
        Ok(WrapperGrads { x, heads })
    }
}

impl MultiHeadAttentionWrapper {
    /// Evaluation mode's gradients given `d_context_vecs = ∂L/∂forward(batch)`:
    /// [`WrapperTape::new`] without dropout, then [`WrapperTape::backward`]. For training mode,
    /// record a [`WrapperTape`] with the generator.
    ///
    /// # Errors
    ///
    /// The input errors of [`forward`](Self::forward); [`Error::GradientBatch`] or
    /// [`Error::GradientShape`] for a wrong `d_context_vecs`.
    pub fn backward(
        &self,
        batch: &[DMatrix<f32>],
        d_context_vecs: &[DMatrix<f32>],
    ) -> Result<WrapperGrads, Error> {
        WrapperTape::new(self, batch, None)?.backward(d_context_vecs)
    }
}
