//! The integration tests of what a learner runs besides the library (see `tests/suite.rs` for how
//! the tests are split into binaries): `cargo test --test tools <module>::` runs one module's tests.

// Helpers shared by the files below.
mod common;

// `cargo run`, the chapter section by section (`walkthrough`); `cargo run -- diagnose`, why a
// printout differs (`diagnose`), on whole cells as PyTorch prints them (`diagnose_pastes`), and its
// report in English, Korean and JSON (`diagnose_report`); the study guide's figures, drawn from
// computed results (`figures`), and its pages (`docs`).
mod diagnose;
mod diagnose_pastes;
mod diagnose_report;
mod docs;
mod figures;
mod walkthrough;
