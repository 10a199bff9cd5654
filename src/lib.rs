#![doc = include_str!(concat!(env!("OUT_DIR"), "/docs/crate.md"))]
#![warn(missing_docs)]

pub use nalgebra;

mod error;
pub use error::Error;

pub mod book;
pub mod figures;
pub mod inputs;
pub mod torch;
pub mod walkthrough;

pub mod context;
pub mod normalize;
pub mod similarity;
