//! The token-by-token Jacobian: how much output token `t` moves when input token `u` does.
//!
//! Output token `t` is a `d_out`-vector and input token `u` a `d_in`-vector, so
//! `∂output_t/∂x_u` is a `(d_out × d_in)` block. Row `c` of every block `(t, ·)` is what one
//! backward pass returns for the upstream gradient that is 1 at output `(t, c)` and 0 elsewhere:
//! `d_out` backward passes per output token give all the blocks.

use nalgebra::DMatrix;

use super::Tape;
use crate::Error;

/// The blocks `∂output_t/∂x_u` of batch item `item`: `blocks[t][u]` is `(d_out × d_in)`, its
/// row `c` the gradient of `output[(t, c)]` with respect to `x[(u, ·)]`.
///
/// Under the causal mask every block with `u > t` is exactly zero, bit for bit: output `t` is
/// computed from tokens `0..=t` only, and the backward pass adds exact zeros (see the module
/// docs of [`gradients`](super)).
///
/// ```
/// use ch03_attention::gradients::{Tape, jacobian::token_blocks};
/// use ch03_attention::inputs::inputs;
/// use ch03_attention::{CausalAttention, TorchRng};
///
/// let ca = CausalAttention::new(3, 2, 6, 0.0, false, &mut TorchRng::manual_seed(123)).unwrap();
/// let tape = Tape::causal(&ca, &[inputs()], None).unwrap();
/// let blocks = token_blocks(&tape, 0).unwrap(); // 6 × 6 blocks of (2 × 3)
/// assert!(blocks[1][2].iter().all(|v| v.to_bits() == 0)); // "journey" ignores "starts"
/// assert!(blocks[2][1].iter().any(|v| *v != 0.0)); // "starts" depends on "journey"
/// ```
///
/// # Errors
///
/// [`Error::InvalidConfig`] if the tape has no batch item `item`.
pub fn token_blocks(tape: &Tape, item: usize) -> Result<Vec<Vec<DMatrix<f32>>>, Error> {
    let output = tape.output();
    let Some(out) = output.get(item) else {
        return Err(Error::InvalidConfig(format!(
            "batch item {item} does not exist: the tape holds {} items",
            output.len()
        )));
    };
    let (tokens, d_out) = out.shape();
    let d_in = tape.layers.d_in();
    let mut blocks = vec![vec![DMatrix::zeros(d_out, d_in); tokens]; tokens];
    for (t, row_of_blocks) in blocks.iter_mut().enumerate() {
        for c in 0..d_out {
            // The upstream gradient of output[(t, c)] alone: one-hot in item `item`.
            let mut d_output: Vec<DMatrix<f32>> = output
                .iter()
                .map(|o| DMatrix::zeros(o.nrows(), o.ncols()))
                .collect();
            d_output[item][(t, c)] = 1.0;
            let d_x = &tape.backward(&d_output)?.x[item]; // (T, d_in)
            for (u, block) in row_of_blocks.iter_mut().enumerate() {
                block.row_mut(c).copy_from(&d_x.row(u));
            }
        }
    }
    Ok(blocks)
}

/// The Frobenius norm of every block of [`token_blocks`], `(tokens × tokens)`: entry `(t, u)` is
/// `‖∂output_t/∂x_u‖`, how strongly output token `t` depends on input token `u`.
///
/// # Errors
///
/// As [`token_blocks`].
pub fn token_norms(tape: &Tape, item: usize) -> Result<DMatrix<f32>, Error> {
    let blocks = token_blocks(tape, item)?;
    let n = blocks.len();
    Ok(DMatrix::from_fn(n, n, |t, u| blocks[t][u].norm()))
}
