//! Properties that must hold for any input, not just the book's: checked with proptest over
//! random seeds, sizes and magnitudes.

use ch03_attention::nalgebra::{DMatrix, DVector};
use ch03_attention::normalize::{softmax, softmax_rows};
use ch03_attention::{
    CausalAttention, EfficientMha, MultiHeadAttention, MultiHeadAttentionWrapper, SelfAttentionV1,
    SelfAttentionV2, TorchRng,
};
use proptest::prelude::*;

/// Scores of any finite magnitude, up to ±1e30 (and a few at the very edge of f32).
fn finite_scores() -> impl Strategy<Value = Vec<f32>> {
    prop::collection::vec(
        prop_oneof![
            -10.0f32..10.0,
            -1.0e30f32..1.0e30,
            Just(f32::MAX),
            Just(f32::MIN),
            Just(0.0f32),
        ],
        1..40,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// The stable softmax never returns NaN or infinity for finite input, whatever the magnitude,
    /// and always returns a distribution.
    #[test]
    fn softmax_is_a_distribution_for_any_finite_scores(scores in finite_scores()) {
        let w = softmax(&DVector::from_vec(scores));
        prop_assert!(w.iter().all(|v| v.is_finite() && *v >= 0.0), "{:?}", w);
        let total: f32 = w.iter().sum();
        prop_assert!((total - 1.0).abs() <= 1e-5, "sums to {}", total);
    }

    /// Adding the same constant to every score does not change the weights (the stable softmax
    /// subtracts the maximum, so only differences matter). Exactly so whenever the shift is
    /// exact in f32; here within 1e-5 since `x + c` itself rounds.
    #[test]
    fn softmax_is_shift_invariant(
        scores in prop::collection::vec(-20.0f32..20.0, 1..30),
        shift in -1000.0f32..1000.0,
    ) {
        let x = DVector::from_vec(scores);
        let shifted = x.add_scalar(shift);
        let (a, b) = (softmax(&x), softmax(&shifted));
        for (p, q) in a.iter().zip(b.iter()) {
            // Rounding x + c moves each score by up to ulp(1000) ≈ 6e-5, which moves a weight by
            // at most that fraction of itself.
            prop_assert!((p - q).abs() <= 1e-4 * p.max(*q) + 1e-7, "{} vs {}", p, q);
        }
    }

    /// When the shift itself is exact (whole numbers of modest size: every `x + c` and every
    /// difference from the maximum is represented exactly in f32), the weights are identical bit
    /// for bit, not merely close: the stable softmax sees the same differences `xᵢ − m`.
    #[test]
    fn softmax_is_exactly_shift_invariant_for_exact_shifts(
        scores in prop::collection::vec(-50i32..50, 1..30),
        shift in -100_000i32..100_000,
    ) {
        let x = DVector::from_iterator(scores.len(), scores.iter().map(|&v| v as f32));
        let shifted = x.add_scalar(shift as f32);
        let bits = |v: &DVector<f32>| v.iter().map(|w| w.to_bits()).collect::<Vec<_>>();
        prop_assert_eq!(bits(&softmax(&x)), bits(&softmax(&shifted)));
    }

    /// Without a mask, self-attention treats the tokens as a set: permuting the input rows
    /// permutes the output rows the same way (within rounding: sums are added in another order).
    #[test]
    fn unmasked_self_attention_is_permutation_equivariant(
        seed in 0u64..5000, tokens in 1usize..10, d_in in 1usize..6, d_out in 1usize..6,
        rotate in 0usize..10,
    ) {
        let mut rng = TorchRng::manual_seed(seed);
        let sa = SelfAttentionV2::new(d_in, d_out, seed % 2 == 0, &mut rng);
        let x = rng.uniform(tokens, d_in, -2.0, 2.0);
        let perm: Vec<usize> = (0..tokens).map(|i| (i + rotate) % tokens).collect();
        let permuted = DMatrix::from_fn(tokens, d_in, |i, j| x[(perm[i], j)]);
        let (out, out_p) = (sa.forward(&x).unwrap(), sa.forward(&permuted).unwrap());
        for i in 0..tokens {
            for j in 0..d_out {
                let (a, b) = (out[(perm[i], j)], out_p[(i, j)]);
                prop_assert!((a - b).abs() <= 1e-5 * a.abs().max(1.0), "{} vs {}", a, b);
            }
        }
    }

    /// Every module returns finite output for finite input, including large inputs whose scores
    /// would overflow a naive softmax.
    #[test]
    fn every_module_output_is_finite(
        seed in 0u64..5000, tokens in 1usize..8, d_in in 1usize..6, head_dim in 1usize..4,
        heads in 1usize..4, magnitude in prop_oneof![Just(1.0f64), Just(100.0), Just(1.0e4)],
    ) {
        let mut rng = TorchRng::manual_seed(seed);
        let d_out = head_dim * heads;
        let v1 = SelfAttentionV1::new(d_in, d_out, &mut rng);
        let v2 = SelfAttentionV2::new(d_in, d_out, true, &mut rng);
        let ca = CausalAttention::new(d_in, d_out, tokens, 0.1, true, &mut rng).unwrap();
        let w = MultiHeadAttentionWrapper::new(d_in, head_dim, tokens, 0.1, heads, false, &mut rng).unwrap();
        let mha = MultiHeadAttention::new(d_in, d_out, tokens, 0.1, heads, true, &mut rng).unwrap();
        let efficient = EfficientMha::from_textbook(&mha);
        let x = rng.uniform(tokens, d_in, -magnitude, magnitude);
        let batch = [x.clone(), x.clone()];
        let finite = |m: &DMatrix<f32>| m.iter().all(|v| v.is_finite());
        prop_assert!(finite(&v1.forward(&x).unwrap()));
        prop_assert!(finite(&v2.forward(&x).unwrap()));
        for out in [
            ca.forward(&batch).unwrap(),
            ca.forward_train(&batch, &mut rng).unwrap(),
            w.forward(&batch).unwrap(),
            w.forward_train(&batch, &mut rng).unwrap(),
            mha.forward(&batch).unwrap(),
            mha.forward_train(&batch, &mut rng).unwrap(),
            efficient.forward(&batch).unwrap(),
        ] {
            prop_assert!(out.iter().all(finite));
        }
    }

    /// `forward` is deterministic, and `forward_train` with the same seed reproduces itself
    /// bit for bit (the dropout masks come only from the generator).
    #[test]
    fn forward_is_deterministic_and_training_reproducible(
        seed in 0u64..5000, tokens in 1usize..8, d_in in 1usize..6, heads in 1usize..4,
        p in 0.0f64..0.9,
    ) {
        let mut rng = TorchRng::manual_seed(seed);
        let mha = MultiHeadAttention::new(d_in, 2 * heads, tokens, p, heads, false, &mut rng).unwrap();
        let batch = vec![rng.rand(tokens, d_in), rng.rand(tokens, d_in)];
        prop_assert_eq!(mha.forward(&batch).unwrap(), mha.forward(&batch).unwrap());
        let efficient = EfficientMha::from_textbook(&mha);
        prop_assert_eq!(efficient.forward(&batch).unwrap(), efficient.forward(&batch).unwrap());
        let a = mha.forward_train(&batch, &mut TorchRng::manual_seed(seed + 1)).unwrap();
        let b = mha.forward_train(&batch, &mut TorchRng::manual_seed(seed + 1)).unwrap();
        let bits = |v: &Vec<DMatrix<f32>>| v.iter().flat_map(|m| m.iter().map(|x| x.to_bits())).collect::<Vec<_>>();
        prop_assert_eq!(bits(&a), bits(&b));
        let ca = CausalAttention::new(d_in, 3, tokens, p, true, &mut rng).unwrap();
        let c = ca.forward_train(&batch, &mut TorchRng::manual_seed(seed + 2)).unwrap();
        let d = ca.forward_train(&batch, &mut TorchRng::manual_seed(seed + 2)).unwrap();
        prop_assert_eq!(bits(&c), bits(&d));
        let w = MultiHeadAttentionWrapper::new(d_in, 2, tokens, p, heads, false, &mut rng).unwrap();
        prop_assert_eq!(w.forward(&batch).unwrap(), w.forward(&batch).unwrap());
        let e = w.forward_train(&batch, &mut TorchRng::manual_seed(seed + 3)).unwrap();
        let f = w.forward_train(&batch, &mut TorchRng::manual_seed(seed + 3)).unwrap();
        prop_assert_eq!(bits(&e), bits(&f));
    }

    /// Row-wise softmax of a matrix is the softmax of each row.
    #[test]
    fn softmax_rows_is_softmax_of_each_row(rows in 1usize..6, cols in 1usize..9, seed in 0u64..1000) {
        let m = TorchRng::manual_seed(seed).uniform(rows, cols, -30.0, 30.0);
        let w = softmax_rows(&m);
        for i in 0..rows {
            let row = softmax(&DVector::from_iterator(cols, m.row(i).iter().copied()));
            for j in 0..cols {
                prop_assert_eq!(w[(i, j)].to_bits(), row[j].to_bits());
            }
        }
    }
}
