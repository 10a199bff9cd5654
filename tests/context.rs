//! `context` (sections 3.3.1–3.3.2): context vectors, one query with a loop and all queries as
//! one matrix product, at full precision against PyTorch; and section 3.3's walkthrough, all ✓.
//! (The printed items and their snapshots are checked from the registry, in tests/book.rs.)

// Reference values are quoted as PyTorch printed them, at 9 significant digits.
#![allow(clippy::excessive_precision)]

use approx::assert_relative_eq;

use ch03_attention::context::{context_vec, context_vecs, simple_self_attention};
use ch03_attention::inputs::{QUERY_INDEX, inputs};
use ch03_attention::nalgebra::{DMatrix, DVector};
use ch03_attention::normalize::{softmax, softmax_rows};
use ch03_attention::similarity::{attn_scores, attn_scores_for};
use ch03_attention::torch::row;

fn query() -> DVector<f32> {
    row(&inputs(), QUERY_INDEX)
}

fn attn_scores_2() -> DVector<f32> {
    attn_scores_for(&query(), &inputs()).unwrap()
}

fn attn_weights() -> DMatrix<f32> {
    softmax_rows(&attn_scores(&inputs()))
}

fn context_vec_2() -> DVector<f32> {
    context_vec(&softmax(&attn_scores_2()), &inputs()).unwrap()
}

/// The walkthrough shows the same 17 items, all ✓.
#[test]
fn walkthrough_3_3_is_all_checkmarks() {
    let sections = ch03_attention::walkthrough::select(Some("3.3")).unwrap();
    let items: Vec<_> = sections.iter().flat_map(|s| &s.items).collect();
    assert_eq!(items.len(), 17);
    for item in items {
        assert!(
            item.matches(),
            "{} {}:\n{}\n!=\n{}",
            item.cell,
            item.what,
            item.computed,
            item.expected_text()
        );
    }
}

// Full precision against PyTorch: values printed by PyTorch 2.4.0 (CPU) at 9 significant digits.
// Tolerance: 1e-6 relative. Our f32 arithmetic adds in a different order than PyTorch's kernels
// and uses a different `exp`, each worth a few ulps (1 ulp ≈ 6e-8 relative); 1e-6 allows ~16 ulps
// while still catching any real error, which would show up in the 4th decimal.
const REL: f32 = 1e-6;

#[test]
fn context_vec_2_full_precision() {
    let expected = [0.441865712, 0.651481986, 0.56830883];
    for (got, want) in context_vec_2().iter().zip(expected) {
        assert_relative_eq!(*got, want, max_relative = REL);
    }
}

/// The loop and the matrix product compute the same context vector up to the last bits
/// (the book notes 0.441865712 vs 0.441865742: 1 ulp apart).
#[test]
fn loop_and_matmul_context_vectors_agree() {
    let all = context_vecs(&attn_weights(), &inputs()).unwrap();
    let z2 = context_vec_2();
    for k in 0..3 {
        assert_relative_eq!(all[(QUERY_INDEX, k)], z2[k], max_relative = REL);
    }
}

/// `simple_self_attention` is 3.3.2's two steps in one call: the same context vectors as
/// softmax(X·Xᵀ)·X computed step by step (the registry's cell [55]), bit for bit.
#[test]
fn simple_self_attention_is_the_two_steps_in_one_call() {
    let x = inputs();
    assert_eq!(
        simple_self_attention(&x),
        context_vecs(&attn_weights(), &x).unwrap()
    );
}
