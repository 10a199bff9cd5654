//! The integration tests of the chapter: one file per concept module of the crate, compiled into
//! this one test binary, and the checks that cut across the chapter.
//!
//! Run one concept's tests with a filter, e.g. `cargo test --test suite causal::`. The tests are
//! a few binaries, not one per file: the crate's generic code (nalgebra, insta, proptest) is
//! compiled and linked once per binary, and one binary per file would repeat that some twenty
//! times. They are not one binary either: a cold `cargo test` ends with the test binaries, and
//! three of them compile side by side on two cores where one kept a core idle.
//!
//! | binary | what it checks | in a plain `cargo test` |
//! | --- | --- | --- |
//! | `suite` (this file) | the chapter, sections 3.3–3.6: one module per concept, the checks across them, and the leakage experiment | yes |
//! | `judge`, `isolation` | the practice judge; each exercise in a child process of its own (`harness = false`) | yes |
//! | `beyond` (`tests/beyond.rs`) | beyond the printed results: the leakage experiment rerun in PyTorch, gradients, the KV cache, the efficient path | no |
//! | `tools` (`tests/tools.rs`) | what a learner runs: the walkthrough, `diagnose`, the figures, the study guide's pages | no |
//! | `efficient_alloc` | counts allocations with a global allocator, so no other test may run beside it | no |
//!
//! A plain `cargo test` is what a learner runs after each edit: the chapter's binaries, about
//! 3 s after a one-line change (README, "Build times"). The others are `test = false` in
//! `Cargo.toml`: name one to run it (`cargo test --test beyond kv_cache::`), or run every test
//! binary with the slow tests as CI does, `cargo test --lib --test '*' -- --include-ignored`, and
//! the study guide's examples with `cargo test --doc`.

// Helpers shared by the files below.
mod common;

// One file per concept module of the crate, named after it: `cargo test --test suite <module>::`
// runs that module's tests. In the chapter's order: similarity (3.3.1), normalize (3.3.1), context
// (3.3.1–3.3.2), qkv (3.4), causal (3.5.1, 3.5.3), dropout (3.5.2), multihead (3.6); rustfmt lists
// them alphabetically.
mod causal;
mod context;
mod dropout;
mod multihead;
mod normalize;
mod qkv;
mod similarity;

// Why the mask matters: the leakage experiment of the crate's `leakage` module (its PyTorch rerun
// is in `beyond`).
mod leakage;

// Checks across the chapter: every printed result (`book`), bad input (`bad_input`), edge sizes
// (`edges`), invariants of every module (`invariants`), PyTorch's printing (`print`), generator
// (`torch_rng`), `nn.Linear` (`torch_linear`) and ground truth (`torch_truth`), and that every
// snapshot file is some test's (`snapshots_referenced`).
mod bad_input;
mod book;
mod edges;
mod invariants;
mod print;
mod snapshots_referenced;
mod torch_linear;
mod torch_rng;
mod torch_truth;
