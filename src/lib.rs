//! # ch03-attention: chapter 3 of *Build a Large Language Model (From Scratch)*, executable
#![doc = include_str!(concat!(env!("OUT_DIR"), "/docs/crate.md"))]
#![warn(missing_docs)]

pub use nalgebra;

// The chapter, one concept per module, in the book's order: the textbook path.
pub mod causal; // 3.5.1, 3.5.3: the causal mask, CausalAttention
pub mod context; // 3.3.1–3.3.2: context vectors
pub mod dropout; // 3.5.2: dropout on the attention weights
pub mod multihead;
pub mod normalize; // 3.3.1: from scores to weights, the softmax
pub mod qkv; // 3.4: queries, keys and values, SelfAttention v1 and v2
pub mod similarity; // 3.3.1: dot products as similarity, attention scores // 3.6: multi-head attention

// Beyond the chapter: why the mask matters, the backward pass, the fast path.
pub mod efficient;
pub mod gradients;
pub mod kv_cache; // what the mask buys at inference: decoding with a KV cache
pub mod leakage;

// The book's printed results, and what reads them.
pub mod book;
pub mod diagnose;
pub mod figures;
pub mod practice;
pub mod spec;
pub mod walkthrough;

// Support: the book's inputs, PyTorch-compatible pieces, errors and checks.
pub mod error;
pub mod inputs;
pub mod json;
pub mod torch;
pub mod validate;

pub use causal::CausalAttention;
pub use dropout::Dropout;
pub use efficient::EfficientMha;
pub use error::Error;
pub use kv_cache::KvCache;
pub use leakage::{LeakageConfig, LeakageReport, RunSummary};
pub use multihead::{MultiHeadAttention, MultiHeadAttentionWrapper};
pub use qkv::{SelfAttentionV1, SelfAttentionV2};
pub use torch::{BernoulliPath, Linear, TorchRng, UniformKernel};

/// The book's printed results under their former name: [`book`].
#[doc(hidden)]
pub use self::book as chapter;
