//! `normalize` (section 3.3.1): attention scores become weights that sum to 1: sum
//! normalization, the naive softmax and the stable one, at full precision against PyTorch and on
//! inputs whose answer is known in closed form. (The printed items and their snapshots are
//! checked from the registry, in tests/book.rs.)

// Reference values are quoted as PyTorch printed them, at 9 significant digits.
#![allow(clippy::excessive_precision)]

use approx::assert_relative_eq;

use ch03_attention::inputs::{QUERY_INDEX, inputs};
use ch03_attention::nalgebra::{DMatrix, DVector};
use ch03_attention::normalize::{row_sums, softmax, softmax_naive, softmax_rows, sum_normalize};
use ch03_attention::similarity::{attn_scores, attn_scores_for};
use ch03_attention::torch::row;
use rstest::rstest;

fn attn_scores_2() -> DVector<f32> {
    attn_scores_for(&row(&inputs(), QUERY_INDEX), &inputs()).unwrap()
}

fn attn_weights() -> DMatrix<f32> {
    softmax_rows(&attn_scores(&inputs()))
}

// Full precision against PyTorch: values printed by PyTorch 2.4.0 (CPU) at 9 significant digits.
// Tolerance: 1e-6 relative. Our f32 arithmetic adds in a different order than PyTorch's kernels
// and uses a different `exp`, each worth a few ulps (1 ulp ≈ 6e-8 relative); 1e-6 allows ~16 ulps
// while still catching any real error, which would show up in the 4th decimal.
const REL: f32 = 1e-6;

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
fn every_row_of_the_weights_is_a_distribution() {
    for s in row_sums(&attn_weights()).iter() {
        assert_relative_eq!(*s, 1.0, max_relative = 1e-6);
    }
    assert!(attn_weights().iter().all(|w| *w > 0.0));
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
