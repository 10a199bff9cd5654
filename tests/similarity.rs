//! `similarity` (section 3.3.1): dot products as similarity and the attention scores
//! ω = X·Xᵀ, at full precision against PyTorch, with the properties the study guide states
//! (symmetry, the length effect, the cosine). (The printed items and their snapshots are checked
//! from the registry, in tests/book.rs.)

// Reference values are quoted as PyTorch printed them, at 9 significant digits.
#![allow(clippy::excessive_precision)]

use approx::{assert_abs_diff_eq, assert_relative_eq};

use ch03_attention::inputs::{QUERY_INDEX, inputs};
use ch03_attention::nalgebra::DVector;
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
fn scores_matrix_is_symmetric_and_loop_equals_matmul() {
    let x = inputs();
    let by_matmul = attn_scores(&x);
    assert_eq!(by_matmul, by_matmul.transpose());
    assert!((attn_scores_loop(&x) - &by_matmul).abs().max() < 1e-6);
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
