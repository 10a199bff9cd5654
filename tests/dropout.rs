//! `dropout`: `nn.Dropout` in training and evaluation mode, both of PyTorch's mask algorithms.
//!
//! Masks and dropped values are compared bit for bit. The Serial matrices are the book's
//! (reproduced by torch 2.15.0); the MklLegacy ones were recorded with torch 2.4.0 on x86-64 Linux.

use crate::common;

use ch03_attention::nalgebra::DMatrix;
use ch03_attention::torch::print::{TorchPrint, strip_autograd_suffix};
use ch03_attention::{BernoulliPath, Dropout, Error, TorchRng};
use rstest::rstest;

/// Section 3.5.1: causal attention weights (input of the dropout example), row-major.
const CAUSAL_ATTN_WEIGHTS: [u32; 36] = [
    0x3f800000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x3f0d3ac6, 0x3ee58a75,
    0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x3ec28b0f, 0x3e9e92c5, 0x3e9ee22a, 0x00000000,
    0x00000000, 0x00000000, 0x3e8d3b46, 0x3e7beee2, 0x3e7c2836, 0x3e6d725b, 0x00000000, 0x00000000,
    0x3e5ebc5b, 0x3e4b0a29, 0x3e4b28d6, 0x3e414874, 0x3e49c837, 0x00000000, 0x3e461d9f, 0x3e2a5332,
    0x3e2a90d3, 0x3e1de2ff, 0x3e2a8eec, 0x3e1c8c74,
];
/// Book / Serial: manual_seed(123); Dropout(0.5) on ones(6, 6).
const BOOK_DROPOUT_ONES: [u32; 36] = [
    0x40000000, 0x40000000, 0x00000000, 0x40000000, 0x40000000, 0x00000000, 0x00000000, 0x00000000,
    0x00000000, 0x40000000, 0x00000000, 0x40000000, 0x40000000, 0x40000000, 0x40000000, 0x40000000,
    0x00000000, 0x40000000, 0x00000000, 0x40000000, 0x40000000, 0x00000000, 0x00000000, 0x40000000,
    0x00000000, 0x40000000, 0x00000000, 0x40000000, 0x00000000, 0x40000000, 0x00000000, 0x40000000,
    0x40000000, 0x40000000, 0x40000000, 0x00000000,
];
/// Book / Serial: manual_seed(123); Dropout(0.5) on the causal weights.
const BOOK_DROPOUT_WEIGHTS: [u32; 36] = [
    0x40000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000,
    0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x3f428b0f, 0x3f1e92c5, 0x3f1ee22a, 0x00000000,
    0x00000000, 0x00000000, 0x00000000, 0x3efbeee2, 0x3efc2836, 0x00000000, 0x00000000, 0x00000000,
    0x00000000, 0x3ecb0a29, 0x00000000, 0x3ec14874, 0x00000000, 0x00000000, 0x00000000, 0x3eaa5332,
    0x3eaa90d3, 0x3e9de2ff, 0x3eaa8eec, 0x00000000,
];
/// MklLegacy (torch 2.4, x86-64 Linux): Dropout(0.5) on ones(6, 6).
const MKL_DROPOUT_ONES: [u32; 36] = [
    0x40000000, 0x40000000, 0x40000000, 0x40000000, 0x40000000, 0x40000000, 0x00000000, 0x40000000,
    0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x40000000, 0x00000000,
    0x40000000, 0x00000000, 0x40000000, 0x40000000, 0x00000000, 0x00000000, 0x00000000, 0x40000000,
    0x40000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x40000000, 0x00000000, 0x40000000,
    0x00000000, 0x00000000, 0x00000000, 0x00000000,
];
/// MklLegacy (torch 2.4, x86-64 Linux): Dropout(0.5) on the causal weights.
const MKL_DROPOUT_WEIGHTS: [u32; 36] = [
    0x40000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x3f658a75,
    0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x3f1ee22a, 0x00000000,
    0x00000000, 0x00000000, 0x3f0d3b46, 0x3efbeee2, 0x00000000, 0x00000000, 0x00000000, 0x00000000,
    0x3edebc5b, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x00000000, 0x3eaa5332,
    0x00000000, 0x00000000, 0x00000000, 0x00000000,
];

fn from_bits(bits: &[u32; 36]) -> DMatrix<f32> {
    let values: Vec<f32> = bits.iter().map(|b| f32::from_bits(*b)).collect();
    DMatrix::from_row_slice(6, 6, &values)
}

/// Row-major bit patterns.
fn bits(m: &DMatrix<f32>) -> Vec<u32> {
    m.transpose().iter().map(|v| v.to_bits()).collect()
}

fn seed_123(path: BernoulliPath) -> TorchRng {
    TorchRng::manual_seed(123).with_bernoulli(path)
}

// ---------------------------------------------------------------------------------------------
// Section 3.5.2: the book's two examples, on both paths
// ---------------------------------------------------------------------------------------------

#[rstest]
#[case::serial_is_the_book(BernoulliPath::Serial, &BOOK_DROPOUT_ONES, 72)]
#[case::mkl_legacy_is_old_linux(BernoulliPath::MklLegacy, &MKL_DROPOUT_ONES, 1)]
fn dropout_of_ones(#[case] path: BernoulliPath, #[case] expected: &[u32; 36], #[case] draws: u64) {
    let mut rng = seed_123(path);
    let out = Dropout::new(0.5)
        .unwrap()
        .forward_train(&DMatrix::from_element(6, 6, 1.0), &mut rng);
    assert_eq!(bits(&out), expected);
    assert_eq!(rng.draw_count(), draws);
}

/// The causal attention weights of section 3.5.1, rebuilt from their exact bits, re-seeded with
/// 123: the same mask, each kept weight doubled (exactly: ×2 only changes the exponent).
#[rstest]
#[case::serial_is_the_book(BernoulliPath::Serial, &BOOK_DROPOUT_WEIGHTS)]
#[case::mkl_legacy_is_old_linux(BernoulliPath::MklLegacy, &MKL_DROPOUT_WEIGHTS)]
fn dropout_of_causal_weights(#[case] path: BernoulliPath, #[case] expected: &[u32; 36]) {
    let weights = from_bits(&CAUSAL_ATTN_WEIGHTS);
    let out = Dropout::new(0.5)
        .unwrap()
        .forward_train(&weights, &mut seed_123(path));
    assert_eq!(bits(&out), expected);
}

#[test]
fn the_book_prints() {
    let d = Dropout::new(0.5).unwrap();
    let ones = d.forward_train(
        &DMatrix::from_element(6, 6, 1.0),
        &mut TorchRng::manual_seed(123),
    );
    assert_eq!(
        ones.torch_str(),
        ch03_attention::book::s3_5::DROPOUT_ONES.book
    );
    let weights = d.forward_train(
        &from_bits(&CAUSAL_ATTN_WEIGHTS),
        &mut TorchRng::manual_seed(123),
    );
    assert_eq!(
        weights.torch_str(),
        strip_autograd_suffix(ch03_attention::book::s3_5::DROPOUT_ATTN_WEIGHTS.book)
    );
}

#[test]
fn snapshot_both_platforms() {
    let d = Dropout::new(0.5).unwrap();
    let ones = DMatrix::from_element(6, 6, 1.0_f32);
    let serial = d.forward_train(&ones, &mut seed_123(BernoulliPath::Serial));
    let mkl = d.forward_train(&ones, &mut seed_123(BernoulliPath::MklLegacy));
    let text = format!(
        "Serial (the book; PyTorch >= 2.7, or any build without MKL):\n{}\n\n\
         MklLegacy (PyTorch <= 2.6 with MKL, x86-64 Linux/Windows):\n{}\n",
        serial.torch_str(),
        mkl.torch_str()
    );
    common::snapshot(
        "dropout_ones_6x6_both_paths",
        "torch.manual_seed(123); nn.Dropout(0.5)(torch.ones(6, 6)) on PyTorch's two CPU mask paths",
        &text,
    );
}

// ---------------------------------------------------------------------------------------------
// Training versus evaluation, and the rules at p = 0 and p = 1
// ---------------------------------------------------------------------------------------------

#[test]
fn evaluation_is_the_identity_and_draws_nothing() {
    let x = TorchRng::manual_seed(1).rand(5, 7);
    assert_eq!(Dropout::new(0.5).unwrap().forward(&x), x);
}

/// p = 0 returns the input, p = 1 returns input * 0; neither draws (the next draw is the first).
#[rstest]
#[case::p_zero(0.0)]
#[case::p_one(1.0)]
fn p_zero_and_p_one_draw_nothing(
    #[case] p: f64,
    #[values(BernoulliPath::Serial, BernoulliPath::MklLegacy)] path: BernoulliPath,
) {
    let mut x = TorchRng::manual_seed(9).uniform(4, 5, -1.0, 1.0);
    x[(0, 0)] = f32::INFINITY;
    let mut rng = seed_123(path);
    let out = Dropout::new(p).unwrap().forward_train(&x, &mut rng);
    assert_eq!(rng.draw_count(), 0);
    assert_eq!(
        rng.next_u32(),
        2_991_312_382,
        "still at the first draw after manual_seed(123)"
    );
    if p == 0.0 {
        assert_eq!(bits(&out), bits(&x));
    } else {
        assert!(out[(0, 0)].is_nan(), "inf * 0 is NaN, as in PyTorch");
        let negative = (0..4)
            .flat_map(|r| (0..5).map(move |c| (r, c)))
            .find(|&(r, c)| x[(r, c)] < 0.0)
            .unwrap();
        assert_eq!(
            out[negative].to_bits(),
            (-0.0_f32).to_bits(),
            "negative * 0 is -0"
        );
    }
}

#[rstest]
#[case::negative(-0.1, "dropout probability must be in [0, 1], got -0.1")]
#[case::above_one(1.5, "dropout probability must be in [0, 1], got 1.5")]
#[case::nan(f64::NAN, "dropout probability must be in [0, 1], got NaN")]
fn rates_outside_0_1_are_rejected(#[case] p: f64, #[case] message: &str) {
    let err = Dropout::new(p).unwrap_err();
    assert!(matches!(err, Error::DropoutRate { p: got } if got.to_bits() == p.to_bits()));
    assert_eq!(err.to_string(), message);
}

#[rstest]
#[case::p_0_1(0.1, 0x3f8e_38e4)]
#[case::p_0_5(0.5, 0x4000_0000)]
#[case::p_0_2(0.2, 0x3fa0_0000)]
#[case::p_0_9(0.9, 0x4120_0000)]
fn scale_is_one_over_f32_keep_probability(#[case] p: f64, #[case] scale_bits: u32) {
    let d = Dropout::new(p).unwrap();
    assert_eq!(d.scale().to_bits(), scale_bits);
    assert_eq!(d.scale(), 1.0 / (1.0 - p) as f32);
}

/// Kept elements are x·scale (one f32 multiply), dropped ones x·0.
#[test]
fn kept_values_are_scaled_in_f32() {
    let x = TorchRng::manual_seed(2).rand(10, 10);
    let d = Dropout::new(0.1).unwrap();
    let out = d.forward_train(&x, &mut TorchRng::manual_seed(3));
    let keep = TorchRng::manual_seed(3).bernoulli_mask(100, 0.9);
    for r in 0..10 {
        for c in 0..10 {
            let want = if keep[r * 10 + c] {
                x[(r, c)] * d.scale()
            } else {
                0.0
            };
            assert_eq!(out[(r, c)].to_bits(), want.to_bits(), "({r}, {c})");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// One mask over a batch
// ---------------------------------------------------------------------------------------------

/// A batch is masked as one row-major tensor: the same as stacking its items vertically.
#[rstest]
fn a_batch_shares_one_row_major_mask(
    #[values(BernoulliPath::Serial, BernoulliPath::MklLegacy)] path: BernoulliPath,
) {
    let mut g = TorchRng::manual_seed(8);
    let items: Vec<DMatrix<f32>> = (0..3).map(|_| g.rand(4, 5)).collect();
    let stacked = DMatrix::from_fn(12, 5, |r, c| items[r / 4][(r % 4, c)]);
    let d = Dropout::new(0.3).unwrap();
    let mut g1 = TorchRng::manual_seed(44).with_bernoulli(path);
    let mut g2 = g1.clone();
    let batch = d.forward_train_batch(&items, &mut g1);
    let whole = d.forward_train(&stacked, &mut g2);
    for (i, item) in batch.iter().enumerate() {
        assert_eq!(
            bits(item),
            bits(&whole.rows(4 * i, 4).into_owned()),
            "item {i}"
        );
    }
    assert_eq!(g1.draw_count(), g2.draw_count());
}

#[test]
fn an_empty_batch_draws_nothing() {
    let mut rng = TorchRng::manual_seed(1);
    let out = Dropout::new(0.5)
        .unwrap()
        .forward_train_batch(&[DMatrix::zeros(0, 6)], &mut rng);
    assert_eq!(out[0].shape(), (0, 6));
    assert_eq!(rng.draw_count(), 0);
}
