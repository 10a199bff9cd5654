//! The integration tests beyond the chapter's printed results (see `tests/suite.rs` for how the
//! tests are split into binaries): `cargo test --test beyond <module>::` runs one module's tests.

// Helpers shared by the files below.
mod common;

// Why the mask matters, the experiment rerun in PyTorch (`leakage_torch`; the experiment itself is
// the suite's `leakage`); the backward passes against autograd (`gradients`); decoding with cached
// keys and values (`kv_cache`); the efficient path against the textbook one (`efficient`), and its
// backward pass against the tape and autograd (`efficient_train`).
mod efficient;
mod efficient_train;
mod gradients;
mod kv_cache;
mod leakage_torch;
