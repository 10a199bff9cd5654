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
//! Nothing here is attention itself; these are the instruments that let the attention modules be
//! checked against the book's printed numbers.

pub mod linear;
pub mod print;
pub mod reduce;
pub mod rng;

pub use linear::Linear;
pub use rng::{BernoulliPath, TorchRng, UniformKernel};
