//! Section 3.3, attention without trainable weights: full precision, exact goldens and
//! invariants. (The printed items and their snapshots are checked from the registry, in
//! tests/book.rs.)

// Reference values are quoted as PyTorch printed them, at 9 significant digits.
#![allow(clippy::excessive_precision)]

use approx::{assert_abs_diff_eq, assert_relative_eq};

use ch03_attention::context::{context_vec, context_vecs, simple_self_attention};
use ch03_attention::inputs::{QUERY_INDEX, inputs};
use ch03_attention::nalgebra::{DMatrix, DVector};
use ch03_attention::normalize::{row_sums, softmax, softmax_naive, softmax_rows, sum_normalize};
use ch03_attention::similarity::{
    attn_scores, attn_scores_for, attn_scores_loop, cosine_similarity, dot,
};
use ch03_attention::torch::row;
use rstest::rstest;

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
fn attn_scores_2_full_precision() {
    let expected = [
        0.954400063,
        1.49500012,
        1.47540009,
        0.843400002,
        0.707000017,
        1.08650005,
    ];
    for (got, want) in attn_scores_2().iter().zip(expected) {
        assert_relative_eq!(*got, want, max_relative = REL);
    }
}

#[test]
fn softmax_weights_full_precision() {
    let expected = [
        0.13854757,
        0.237891302,
        0.233274028,
        0.123991586,
        0.108181864,
        0.158113614,
    ];
    for (got, want) in softmax(&attn_scores_2()).iter().zip(expected) {
        assert_relative_eq!(*got, want, max_relative = REL);
    }
}

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

// Exact goldens: inputs whose answer is known in closed form.

#[rstest]
#[case::two(2)]
#[case::six(6)]
#[case::thousand(1000)]
fn softmax_of_equal_scores_is_uniform(#[case] n: usize) {
    let w = softmax(&DVector::from_element(n, 3.7));
    for v in w.iter() {
        assert_relative_eq!(*v, 1.0 / n as f32, max_relative = 1e-6);
    }
}

#[test]
fn softmax_of_logs_recovers_the_proportions() {
    // softmax(ln a) = a / Σa: here [1, 2, 3] / 6.
    let w = softmax(&DVector::from_vec(vec![
        1.0_f32.ln(),
        2.0_f32.ln(),
        3.0_f32.ln(),
    ]));
    for (got, want) in w.iter().zip([1.0 / 6.0, 2.0 / 6.0, 3.0 / 6.0]) {
        assert_relative_eq!(*got, want, max_relative = 1e-6);
    }
}

/// The reason for the stable softmax: large scores overflow `exp` in the naive version.
#[rstest]
#[case::large([1000.0, 1001.0], [0.268_941_43, 0.731_058_6])]
#[case::very_negative([-1000.0, -1001.0], [0.731_058_6, 0.268_941_43])]
fn naive_softmax_breaks_where_the_stable_one_does_not(
    #[case] scores: [f32; 2],
    #[case] want: [f32; 2],
) {
    let scores = DVector::from_vec(scores.to_vec());
    let naive = softmax_naive(&scores);
    assert!(
        naive.iter().all(|w| w.is_nan()),
        "naive softmax gave {naive:?}"
    );
    let stable = softmax(&scores);
    for (got, want) in stable.iter().zip(want) {
        assert_relative_eq!(*got, want, max_relative = 1e-6);
    }
}

#[test]
fn sum_normalization_misbehaves_on_negative_scores() {
    let w = sum_normalize(&DVector::from_vec(vec![2.0, -1.0]));
    assert_eq!(w.as_slice(), &[2.0, -1.0]); // sums to 1, but a "weight" of -1 is meaningless
    assert!(
        softmax(&DVector::from_vec(vec![2.0, -1.0]))
            .iter()
            .all(|w| *w > 0.0)
    );
}

#[test]
fn scores_matrix_is_symmetric_and_loop_equals_matmul() {
    let x = inputs();
    let by_matmul = attn_scores(&x);
    assert_eq!(by_matmul, by_matmul.transpose());
    assert!((attn_scores_loop(&x) - &by_matmul).abs().max() < 1e-6);
}

#[test]
fn every_row_of_the_weights_is_a_distribution() {
    for s in row_sums(&attn_weights()).iter() {
        assert_relative_eq!(*s, 1.0, max_relative = 1e-6);
    }
    assert!(attn_weights().iter().all(|w| *w > 0.0));
}

#[test]
fn dot_product_rewards_length_cosine_does_not() {
    let x = inputs();
    let (your, journey, with) = (row(&x, 0), row(&x, 1), row(&x, 3));
    assert!(
        cosine_similarity(&with, &journey).unwrap() > cosine_similarity(&your, &journey).unwrap()
    );
    assert!(dot(&your, &journey).unwrap() > dot(&with, &journey).unwrap());
    // Scaling a vector scales its dot products but not its cosine.
    let long_with = &with * 10.0;
    assert_relative_eq!(
        dot(&long_with, &journey).unwrap(),
        10.0 * dot(&with, &journey).unwrap(),
        max_relative = 1e-6
    );
    assert_relative_eq!(
        cosine_similarity(&long_with, &journey).unwrap(),
        cosine_similarity(&with, &journey).unwrap(),
        max_relative = 1e-6
    );
}

/// The cosine is the cosine of the angle between the vectors, whatever their lengths: 1 for the
/// same direction, 0 for a right angle, −1 for opposite directions, cos 45° = 1/√2 between
/// (1, 0) and (1, 1). Tolerance 1e-6: a few float32 roundings in the norms.
#[rstest]
#[case::same_direction([3.0, 0.0], [2.0, 0.0], 1.0)]
#[case::right_angle([1.0, 0.0], [0.0, 5.0], 0.0)]
#[case::opposite([0.0, 2.0], [0.0, -0.5], -1.0)]
#[case::forty_five_degrees([4.0, 0.0], [1.0, 1.0], std::f32::consts::FRAC_1_SQRT_2)]
fn cosine_similarity_is_the_cosine_of_the_angle(
    #[case] a: [f32; 2],
    #[case] b: [f32; 2],
    #[case] cosine: f32,
) {
    let (a, b) = (DVector::from_row_slice(&a), DVector::from_row_slice(&b));
    assert_abs_diff_eq!(cosine_similarity(&a, &b).unwrap(), cosine, epsilon = 1e-6);
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
