//! `torch::linear`: `nn.Linear` with PyTorch's default initialization.
//!
//! Initial values are compared bit for bit (tests/torch_rng.rs has the chapter's parameters,
//! tests/torch_truth.rs many more shapes); the forward pass, which is arithmetic rather than
//! random, to a stated tolerance.

use approx::assert_relative_eq;
use ch03_attention::nalgebra::{DMatrix, DVector};
use ch03_attention::{Error, Linear, TorchRng};
use rstest::rstest;

#[rstest]
#[case::book_qkv(3, 2, false, 6)]
#[case::book_out_proj(2, 2, true, 6)]
#[case::gpt2_qkv(768, 2304, true, 768 * 2304 + 2304)]
#[case::one_by_one(1, 1, true, 2)]
fn shapes_and_parameter_counts(
    #[case] d_in: usize,
    #[case] d_out: usize,
    #[case] bias: bool,
    #[case] parameters: usize,
) {
    let lin = Linear::new(d_in, d_out, bias, &mut TorchRng::manual_seed(0));
    assert_eq!(
        lin.weight().shape(),
        (d_out, d_in),
        "weight is (out × in), as in PyTorch"
    );
    assert_eq!((lin.in_features(), lin.out_features()), (d_in, d_out));
    assert_eq!(lin.bias().map(|b| b.len()), bias.then_some(d_out));
    assert_eq!(lin.num_parameters(), parameters);
}

/// Every initial weight lies in (-1/√in, 1/√in), and so does every bias.
#[rstest]
fn initial_values_lie_within_the_bound(#[values(1, 3, 64, 1000)] d_in: usize) {
    let lin = Linear::new(d_in, 16, true, &mut TorchRng::manual_seed(5));
    let bound = 1.0 / (d_in as f32).sqrt();
    assert!(lin.weight().iter().all(|w| w.abs() <= bound));
    assert!(lin.bias().unwrap().iter().all(|b| b.abs() <= bound));
    let spread = lin.weight().amax();
    assert!(
        spread > 0.5 * bound,
        "values use the range: max |w| = {spread}, bound {bound}"
    );
}

/// The weight is `torch.empty(out, in).uniform_(-bound, bound)` with bound = 1/√in (as `f32`),
/// then the bias from the next `out` draws.
#[test]
fn init_is_uniform_weight_then_bias() {
    let lin = Linear::new(5, 7, true, &mut TorchRng::manual_seed(77));
    let mut g = TorchRng::manual_seed(77);
    let bound = 1.0 / 5.0_f64.sqrt();
    assert_eq!(lin.weight(), &g.uniform(7, 5, -bound, bound));
    let bias = g.uniform(7, 1, -bound, bound);
    assert_eq!(lin.bias().unwrap().as_slice(), bias.as_slice());
}

#[test]
fn forward_is_x_times_w_transpose_plus_b() {
    let mut g = TorchRng::manual_seed(3);
    let lin = Linear::new(4, 3, true, &mut g);
    let x = g.rand(6, 4); // (tokens, in)
    let y = lin.forward(&x).unwrap();
    assert_eq!(y.shape(), (6, 3));
    for t in 0..6 {
        for o in 0..3 {
            let want: f64 = (0..4)
                .map(|i| f64::from(x[(t, i)]) * f64::from(lin.weight()[(o, i)]))
                .sum::<f64>()
                + f64::from(lin.bias().unwrap()[o]);
            // f32 sums of 4 products: a few units in the last place at most.
            assert_relative_eq!(
                f64::from(y[(t, o)]),
                want,
                max_relative = 1e-6,
                epsilon = 1e-7
            );
        }
    }
}

/// Sizes above 5 take nalgebra's GEMM path; it must agree with the small-size path.
#[test]
fn forward_at_gemm_sizes() {
    let mut g = TorchRng::manual_seed(11);
    let lin = Linear::new(64, 48, false, &mut g);
    let x = g.rand(32, 64);
    let y = lin.forward(&x).unwrap();
    for t in [0, 17, 31] {
        let want: f32 = (0..64).map(|i| lin.weight()[(32, i)] * x[(t, i)]).sum();
        assert_relative_eq!(y[(t, 32)], want, max_relative = 1e-5);
    }
}

#[test]
fn forward_without_bias_has_no_offset() {
    let lin = Linear::new(3, 2, false, &mut TorchRng::manual_seed(789));
    let y = lin.forward(&DMatrix::zeros(4, 3)).unwrap();
    assert!(y.iter().all(|v| *v == 0.0));
}

#[test]
fn forward_rejects_the_wrong_width() {
    let lin = Linear::new(3, 2, true, &mut TorchRng::manual_seed(1));
    let err = lin.forward(&DMatrix::zeros(6, 4)).unwrap_err();
    assert_eq!(
        err,
        Error::InputWidth {
            layer: "Linear",
            expected: 3,
            got: 4
        }
    );
    assert_eq!(
        err.to_string(),
        "Linear: input has 4 columns per token but d_in is 3"
    );
}

#[test]
fn from_parts_keeps_the_parameters() {
    let w = DMatrix::from_row_slice(2, 3, &[1.0_f32, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let lin = Linear::from_parts(w.clone(), Some(DVector::from_vec(vec![0.5, -0.5]))).unwrap();
    assert_eq!(lin.weight(), &w);
    let y = lin
        .forward(&DMatrix::from_row_slice(1, 3, &[1.0, 1.0, 1.0]))
        .unwrap();
    assert_eq!(y.as_slice(), &[6.5, 14.5]);
    assert!(Linear::from_parts(w, None).unwrap().bias().is_none());
}

#[test]
fn from_parts_rejects_a_bias_of_the_wrong_length() {
    let err = Linear::from_parts(DMatrix::zeros(2, 3), Some(DVector::zeros(3))).unwrap_err();
    assert_eq!(
        err,
        Error::ShapeMismatch {
            op: "Linear bias",
            left: (2, 3),
            right: (3, 1)
        }
    );
}

/// `nn.Linear(0, 4)`: the empty weight draws nothing; the bias bound is 0 (PyTorch's rule for
/// fan-in 0), yet its 4 draws are still taken and give +0.0.
#[test]
fn zero_inputs_give_a_zero_bias_that_still_draws() {
    let mut g = TorchRng::manual_seed(31337);
    let lin = Linear::new(0, 4, true, &mut g);
    assert_eq!(lin.weight().shape(), (4, 0));
    assert!(lin.bias().unwrap().iter().all(|b| b.to_bits() == 0));
    assert_eq!(g.draw_count(), 4);
}
