//! The integration tests: one file per module of the crate, compiled into this one test binary.
//!
//! One binary instead of one per file: the crate's generic code (nalgebra, insta, proptest) is
//! compiled and linked once, not once per file, which more than halves the build time of a first
//! `cargo test` spent on the tests. Run a single file's tests with a filter, e.g.
//! `cargo test --test suite causal::`. `tests/efficient_alloc.rs` stays a binary of its own: it
//! installs a counting global allocator, and no other test may allocate while it measures.

// Helpers shared by the files below.
mod common;

// One file per module of the crate, named after it (`similarity`, `normalize`, `context`, `qkv`,
// `causal`, `dropout`, `multihead`, …: `cargo test --test suite <module>::` runs that module's
// tests), plus the files that check across modules (`bad_input`, `book`, `docs`, `edges`,
// `figures`, `invariants`, `print`, `snapshots_referenced`, `torch_truth`, `walkthrough`);
// alphabetical, as rustfmt orders them.
mod bad_input;
mod book;
mod causal;
mod context;
mod diagnose;
mod diagnose_pastes;
mod diagnose_report;
mod docs;
mod dropout;
mod edges;
mod efficient;
mod efficient_train;
mod figures;
mod gradients;
mod invariants;
mod kv_cache;
mod leakage;
mod leakage_torch;
mod multihead;
mod normalize;
mod print;
mod qkv;
mod similarity;
mod snapshots_referenced;
mod torch_linear;
mod torch_rng;
mod torch_truth;
mod walkthrough;
