//! The book's printed results, all of them, from the one registry in `ch03_attention::book`:
//! each is computed from scratch and compared with the book's text, and each has a snapshot
//! (`snapshots/<name>.snap`).
//!
//! Tolerance: none. The comparison is on text, exactly as PyTorch prints it (4 decimals, shared
//! column width), so the book's own rounding is the tolerance. A failure lists every result that
//! differs, each with its section, cell and label, and the computed text beside the book's with
//! the differing lines marked.

use crate::common;

use ch03_attention::book::{self, Printed};
use ch03_attention::inputs::{QUERY_INDEX, inputs};
use ch03_attention::normalize::softmax;
use ch03_attention::qkv::{attn_scores_of, project, project_all};
use ch03_attention::torch::print::TorchPrint;
use ch03_attention::torch::row;
use ch03_attention::{Error, MultiHeadAttention, TorchRng};

/// Every printed result of the chapter (44) and of the exercise solutions (5, and the Korean
/// edition's exercise 3.2) matches the book.
#[test]
fn every_printed_result_matches_the_book() {
    let all = book::printed();
    assert_eq!(all.len(), 50);
    let mismatches = book::check(all);
    assert!(
        mismatches.is_empty(),
        "{} of {} printed results differ from the book:\n\n{}",
        mismatches.len(),
        all.len(),
        mismatches
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// One snapshot per printed result, named after the entry: `cargo insta review` then shows
/// which printed numbers a change moved, by the book's section and cell.
#[test]
fn every_printed_result_has_a_snapshot() {
    for p in book::printed() {
        let computed = p.compute().unwrap_or_else(|e| panic!("{p:?}: {e}"));
        let description = format!("{} cell {}: {}", p.section, p.cell, p.label);
        common::snapshot(p.name, &description, &computed);
    }
}

/// A classic slip: the softmax of 3.4.1 without dividing the scores by √d_k.
fn weights_without_scaling() -> Result<String, Error> {
    let mut rng = TorchRng::manual_seed(123);
    let (w_query, w_key) = (rng.rand(3, 2), rng.rand(3, 2));
    let query_2 = project(&row(&inputs(), QUERY_INDEX), &w_query)?;
    let keys = project_all(&inputs(), &w_key)?;
    Ok(softmax(&attn_scores_of(&query_2, &keys)?).torch_str())
}

/// A computation that fails: 5 output features cannot be split over 2 heads.
fn mha_that_cannot_be_built() -> Result<String, Error> {
    let mha = MultiHeadAttention::new(3, 5, 6, 0.0, 2, false, &mut TorchRng::manual_seed(123))?;
    Ok(mha.forward(&[inputs(), inputs()])?.torch_str())
}

/// The check can fail, and then says what went wrong: every wrong entry is reported (not just
/// the first), by section, cell and label, with the computed text beside the book's and the
/// differing lines marked; a computation that returns an error is reported with its message.
#[test]
fn a_wrong_computation_is_reported_beside_the_book() {
    let entry = |name| *book::find(name).expect("a registry name");
    let unscaled = Printed {
        compute_with: |_| weights_without_scaling(),
        ..entry("s3_4_1_attn_weights_2")
    };
    let broken = Printed {
        compute_with: |_| mha_that_cannot_be_built(),
        ..entry("s3_6_2_mha_context_vecs")
    };
    let mismatches = book::check(&[entry("s3_4_1_query_2"), unscaled, broken]);
    assert_eq!(mismatches.len(), 2, "{mismatches:?}");

    let report = mismatches[0].to_string();
    let lines: Vec<&str> = report.lines().collect();
    assert_eq!(
        lines[0],
        "✗ 3.4.1 cell [80]: weights: softmax(ω₂ / √d_k), d_k = 2  (snapshot s3_4_1_attn_weights_2)"
    );
    assert!(lines[1].trim_end().ends_with("│ book"), "{report}");
    let unscaled_text = weights_without_scaling().unwrap();
    assert_eq!(
        lines[2],
        format!(
            "  ✗ {unscaled_text} │ {}",
            ch03_attention::book::s3_4::ATTN_WEIGHTS_2_SCALED.book
        )
    );

    let report = mismatches[1].to_string();
    assert!(
        report.starts_with("✗ 3.6.2 cell [131]: MultiHeadAttention"),
        "{report}"
    );
    assert!(
        report.contains("  ✗ error: ") && report.contains("divisible by num_heads (2)"),
        "{report}"
    );
    // All 13 lines of the book's text (two 6-row blocks and the blank line between them) are
    // shown, each marked: the error message has one line, and it differs from the first.
    assert_eq!(report.lines().filter(|l| l.starts_with("  ✗ ")).count(), 13);
}

/// A registry entry debug-prints as where and what it is (it holds a function, which has no
/// useful debug form of its own).
#[test]
fn an_entry_debug_prints_its_place() {
    let query_2 = book::find("s3_4_1_query_2").unwrap();
    assert_eq!(
        format!("{query_2:?}"),
        format!("3.4.1 [70] {} (s3_4_1_query_2)", query_2.label)
    );
}
