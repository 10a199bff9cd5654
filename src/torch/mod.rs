//! The PyTorch-compatible pieces the chapter relies on.
//!
//! * [`print`](mod@print): print a tensor exactly as `print(tensor)` does, so results compare with the book
//!   character for character.
//! * [`reduce`]: sums added in PyTorch's order, so a sum of weights lands on the same last bit
//!   (and prints `1.` or `1.0000` as the book does).
//!
//! Nothing here is attention itself; these are the instruments that let the attention modules be
//! checked against the book's printed numbers.

pub mod print;
pub mod reduce;
