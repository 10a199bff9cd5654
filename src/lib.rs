#![doc = include_str!(concat!(env!("OUT_DIR"), "/docs/crate.md"))]
#![warn(missing_docs)]

pub use nalgebra;

pub mod error;
pub use error::Error;

pub mod book;
pub mod chapter;
pub mod figures;
pub mod inputs;
pub mod json;
pub mod torch;
pub mod validate;
pub mod walkthrough;

pub mod causal;
pub mod context;
pub mod diagnose;
pub mod efficient;
pub mod gradients;
pub mod kv_cache;
pub mod multihead;
pub mod normalize;
pub mod practice;
pub mod qkv;
pub mod similarity;
pub mod spec;

pub use causal::CausalAttention;
pub use efficient::EfficientMha;
pub use kv_cache::KvCache;
pub use multihead::{MultiHeadAttention, MultiHeadAttentionWrapper};
pub use qkv::{SelfAttentionV1, SelfAttentionV2};

pub mod dropout;
pub use dropout::Dropout;
pub mod leakage;
pub use leakage::{LeakageConfig, LeakageReport, RunSummary};
pub use torch::{BernoulliPath, Linear, TorchRng, UniformKernel};
