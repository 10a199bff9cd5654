//! `causal` (sections 3.5.1, 3.5.3): the two masking routes, `CausalAttention` against PyTorch in
//! evaluation and training mode (`nn.Dropout` itself is tested in `tests/dropout.rs`),
//! properties, and bad input. (The section's 11 printed results are checked, and snapshotted,
//! with the rest of the chapter's in `tests/book.rs`.)

// Reference values are quoted as PyTorch printed them, at 9 significant digits.
#![allow(clippy::excessive_precision)]

use crate::common;

use ch03_attention::causal::{
    causal_attn_weights, mask_future_with_neg_inf, mask_then_renormalize, simple_mask,
};
use ch03_attention::inputs::inputs;
use ch03_attention::nalgebra::DMatrix;
use ch03_attention::normalize::softmax_rows;
use ch03_attention::torch::print::{TorchPrint, row_major};
use ch03_attention::{CausalAttention, SelfAttentionV2, TorchRng};
use proptest::prelude::*;
use rstest::rstest;

fn sa_v2() -> SelfAttentionV2 {
    SelfAttentionV2::new(3, 2, false, &mut TorchRng::manual_seed(789))
}

fn attn_weights() -> DMatrix<f32> {
    sa_v2().attn_weights(&inputs()).unwrap()
}

fn attn_scores() -> DMatrix<f32> {
    sa_v2().attn_scores(&inputs()).unwrap()
}

fn causal_weights() -> DMatrix<f32> {
    causal_attn_weights(&attn_scores(), 2)
}

fn book_causal_attention() -> CausalAttention {
    CausalAttention::new(3, 2, 6, 0.0, false, &mut TorchRng::manual_seed(123)).unwrap()
}

fn batch() -> Vec<DMatrix<f32>> {
    vec![inputs(), inputs()]
}

#[test]
fn walkthrough_3_5_is_all_checkmarks() {
    let sections = ch03_attention::walkthrough::select(Some("3.5")).unwrap();
    let items: Vec<_> = sections.iter().flat_map(|s| &s.items).collect();
    let book_items = items
        .iter()
        .filter(|i| i.source == ch03_attention::walkthrough::Source::Book)
        .count();
    assert_eq!(book_items, 11);
    assert!(items.iter().all(|i| i.matches()));
}

/// The two routes compute the same distribution, but not the same bits: route 1 rounds twice
/// (a softmax over all six tokens, then a division by the row sum), route 2 once. On the book's
/// example they differ by at most 2.98e-8 (half a float32 ulp at 1.0), as in PyTorch 2.4 (the
/// reference measured 2.98e-8 there; PyTorch 2.15's vectorized `exp` gives 4.47e-8).
#[test]
fn both_masking_routes_agree_but_are_not_bit_identical() {
    let (_, route_1) = mask_then_renormalize(&attn_weights());
    let route_2 = causal_weights();
    let max_diff = (&route_1 - &route_2).abs().max();
    assert!(max_diff > 0.0, "the routes happen to be bit-identical");
    assert!(max_diff <= 3e-8, "routes differ by {max_diff}");
    // Above the diagonal both are exactly 0.
    for i in 0..6 {
        for j in (i + 1)..6 {
            assert_eq!((route_1[(i, j)], route_2[(i, j)]), (0.0, 0.0));
        }
    }
}

/// A matrix that is not square (more keys than queries, or fewer) is masked as `torch.tril`
/// masks it, not rejected with a panic: both routes keep columns `0..=i` of row `i`, and agree
/// within 1e-7 (a few float32 ulps at 1.0; on the square example above they differ by 2.98e-8).
#[rstest]
#[case::more_keys(3, 5)]
#[case::more_queries(5, 3)]
fn both_routes_mask_a_rectangular_matrix_alike(#[case] queries: usize, #[case] keys: usize) {
    let scores = TorchRng::manual_seed(7).uniform(queries, keys, -2.0, 2.0);
    let (masked, route_1) = mask_then_renormalize(&softmax_rows(&scores));
    let route_2 = softmax_rows(&mask_future_with_neg_inf(&scores));
    assert_eq!(route_1.shape(), (queries, keys));
    for i in 0..queries {
        for j in 0..keys {
            if j > i {
                assert_eq!((masked[(i, j)], route_1[(i, j)]), (0.0, 0.0), "({i}, {j})");
            } else {
                assert!(masked[(i, j)] > 0.0, "({i}, {j}) was masked");
            }
            let diff = (route_1[(i, j)] - route_2[(i, j)]).abs();
            assert!(diff <= 1e-7, "({i}, {j}): routes differ by {diff}");
        }
    }
}

/// The causal weights at full precision, as PyTorch 2.4.0 (CPU) prints them with 9 significant
/// digits. Tolerance 1e-6 relative, as for section 3.4.
#[test]
fn causal_weights_full_precision() {
    let w = causal_weights();
    let rows: [&[f32]; 5] = [
        &[0.551678061, 0.448321968],
        &[0.379967183, 0.309713513, 0.310319245],
        &[0.275842845, 0.246028453, 0.246247143, 0.231881544],
        &[
            0.217515394,
            0.198280945,
            0.198397964,
            0.188752949,
            0.197052822,
        ],
        &[
            0.193472371,
            0.16633299,
            0.166568086,
            0.154186234,
            0.166560829,
            0.152879536,
        ],
    ];
    assert_eq!(w[(0, 0)], 1.0);
    for (i, row) in rows.iter().enumerate() {
        for (j, want) in row.iter().enumerate() {
            approx::assert_relative_eq!(w[(i + 1, j)], *want, max_relative = 1e-6);
        }
    }
    let ca = book_causal_attention().forward(&batch()).unwrap();
    let want = [
        -0.451920271,
        0.221604824,
        -0.587435067,
        0.00577611476,
        -0.630023062,
        -0.0631825924,
        -0.567456603,
        -0.0842531323,
        -0.55256182,
        -0.0980681926,
        -0.529900908,
        -0.108067624,
    ];
    assert!(common::max_scaled_error(&row_major(&ca[0]), &want) < 1e-6);
    assert_eq!(ca[0], ca[1]);
}

/// PyTorch ground truth for other seeds and shapes, in evaluation and training mode. Training
/// mode draws one dropout mask over the whole (batch, tokens, tokens) weight tensor; the masks are
/// bit-exact (a different mask would change outputs by whole weights, not by 1e-6) and
/// `next_rand` checks the number of draws. Tolerance 2e-6 on max(1, |value|)-scaled error.
#[test]
fn matches_pytorch_in_evaluation_and_training_mode() {
    let cases = common::torch_cases("causal");
    assert!(cases.len() >= 5);
    assert!(cases.iter().any(|c| c.dropout > 0.0) && cases.iter().any(|c| c.qkv_bias));
    for c in &cases {
        let mut rng = TorchRng::manual_seed(c.seed);
        let ca = CausalAttention::new(
            c.d_in,
            c.d_out,
            c.context_length,
            c.dropout,
            c.qkv_bias,
            &mut rng,
        )
        .unwrap();
        let x: Vec<DMatrix<f32>> = (0..c.batch).map(|_| rng.rand(c.tokens, c.d_in)).collect();
        let eval = ca.forward(&x).unwrap().torch_data();
        let train = ca.forward_train(&x, &mut rng).unwrap().torch_data();
        assert!(
            common::max_scaled_error(&eval, &c.eval) < 2e-6,
            "seed {} eval",
            c.seed
        );
        assert!(
            common::max_scaled_error(&train, &c.train) < 2e-6,
            "seed {} train",
            c.seed
        );
        let next: Vec<u32> = rng.rand(1, 4).iter().map(|v| v.to_bits()).collect();
        let want: Vec<u32> = c.next_rand.iter().map(|v| v.to_bits()).collect();
        assert_eq!(
            next, want,
            "seed {}: generator position after training pass",
            c.seed
        );
    }
}

#[test]
fn accessors_report_the_construction_arguments() {
    let ca = CausalAttention::new(3, 2, 10, 0.25, true, &mut TorchRng::manual_seed(1)).unwrap();
    assert_eq!((ca.d_in(), ca.d_out(), ca.context_length()), (3, 2, 10));
    assert_eq!(ca.dropout().p(), 0.25);
    assert_eq!(ca.num_parameters(), 3 * (3 * 2 + 2));
    let mask = ca.mask().unwrap();
    assert_eq!(mask.shape(), (10, 10));
    assert_eq!(mask, simple_mask(10).map(|v| 1.0 - v)); // 1 marks a hidden future position
}

#[test]
fn dropout_zero_draws_nothing_and_equals_evaluation() {
    let ca = book_causal_attention();
    let mut rng = TorchRng::manual_seed(5);
    let train = ca.forward_train(&batch(), &mut rng).unwrap();
    assert_eq!(train, ca.forward(&batch()).unwrap());
    assert_eq!(rng.next_u32(), TorchRng::manual_seed(5).next_u32());
}

#[test]
fn shorter_inputs_use_a_slice_of_the_mask() {
    let ca = CausalAttention::new(3, 2, 10, 0.0, false, &mut TorchRng::manual_seed(123)).unwrap();
    let out = ca.forward(&batch()).unwrap(); // 6 tokens, mask built for 10
    assert_eq!(out, book_causal_attention().forward(&batch()).unwrap());
    assert!(ca.forward(&[]).unwrap().is_empty()); // an empty batch gives an empty result
}

/// A random module and input: sizes and seed chosen by proptest, values from the seeded generator
/// (shifted to [-2, 2) so scores of both signs occur).
fn random_case(
    seed: u64,
    tokens: usize,
    d_in: usize,
    d_out: usize,
) -> (CausalAttention, DMatrix<f32>, TorchRng) {
    let mut rng = TorchRng::manual_seed(seed);
    let ca = CausalAttention::new(d_in, d_out, tokens + 2, 0.0, seed % 2 == 0, &mut rng).unwrap();
    let x = rng.uniform(tokens, d_in, -2.0, 2.0);
    (ca, x, rng)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Changing any token after position t leaves outputs 0..=t bit-identical.
    #[test]
    fn future_tokens_do_not_change_past_outputs(
        seed in 0u64..10_000, tokens in 2usize..12, d_in in 1usize..8, d_out in 1usize..8,
        t_frac in 0.0f64..1.0,
    ) {
        let (ca, x, mut rng) = random_case(seed, tokens, d_in, d_out);
        let t = ((tokens - 1) as f64 * t_frac) as usize; // 0..tokens-1
        let mut changed = x.clone();
        let noise = rng.uniform(tokens, d_in, -5.0, 5.0);
        for i in (t + 1)..tokens {
            for j in 0..d_in {
                changed[(i, j)] = noise[(i, j)];
            }
        }
        let a = &ca.forward(&[x]).unwrap()[0];
        let b = &ca.forward(&[changed]).unwrap()[0];
        for i in 0..=t {
            for j in 0..d_out {
                prop_assert_eq!(a[(i, j)].to_bits(), b[(i, j)].to_bits());
            }
        }
    }

    /// Every row of the weights sums to 1 (within 1e-6) and every weight above the diagonal is
    /// exactly 0.
    #[test]
    fn weights_are_causal_distributions(
        seed in 0u64..10_000, tokens in 1usize..12, d_in in 1usize..8, d_out in 1usize..8,
    ) {
        let (ca, x, _) = random_case(seed, tokens, d_in, d_out);
        let w = ca.attn_weights(&x).unwrap();
        for i in 0..tokens {
            let row_sum: f32 = w.row(i).iter().sum();
            prop_assert!((row_sum - 1.0).abs() <= 1e-6, "row {} sums to {}", i, row_sum);
            for j in (i + 1)..tokens {
                prop_assert_eq!(w[(i, j)], 0.0);
            }
        }
    }

    /// The first k tokens of the input give the first k rows of the output. Equal within 1e-6
    /// rather than bit for bit: nalgebra picks its matrix-product kernel by size (a fused
    /// multiply-add kernel for larger matrices, a plain loop for small ones), so a shorter input
    /// may round differently in the last bit. Changing *later tokens* at the same length (above)
    /// is bit-exact.
    #[test]
    fn a_prefix_of_the_input_gives_the_prefix_of_the_output(
        seed in 0u64..10_000, tokens in 2usize..12, d_in in 1usize..8, d_out in 1usize..8,
        k_frac in 0.0f64..1.0,
    ) {
        let (ca, x, _) = random_case(seed, tokens, d_in, d_out);
        let k = 1 + ((tokens - 1) as f64 * k_frac) as usize; // 1..tokens
        let full = &ca.forward(std::slice::from_ref(&x)).unwrap()[0];
        let prefix = &ca.forward(&[x.rows(0, k).into_owned()]).unwrap()[0];
        for i in 0..k {
            for j in 0..d_out {
                let (a, b) = (full[(i, j)], prefix[(i, j)]);
                prop_assert!((a - b).abs() <= 1e-6 * a.abs().max(1.0), "row {}: {} vs {}", i, a, b);
            }
        }
    }
}

/// `CausalAttention::from_parts` keeps the layers, the context length and the dropout rate it
/// is given: the module's own parts give the module back, bit for bit in both modes, and bad
/// parts are errors naming what is wrong.
#[test]
fn from_parts_keeps_the_given_parts() {
    use ch03_attention::{Error, Linear};
    let book = CausalAttention::new(3, 2, 6, 0.5, true, &mut TorchRng::manual_seed(123)).unwrap();
    let (q, k, v) = (
        book.w_query().clone(),
        book.w_key().clone(),
        book.w_value().clone(),
    );
    let copy = CausalAttention::from_parts(q.clone(), k.clone(), v.clone(), 6, 0.5).unwrap();
    assert_eq!(copy.w_query(), &q);
    assert_eq!(copy.w_key(), &k);
    assert_eq!(copy.w_value(), &v);
    assert_eq!(copy.context_length(), 6);
    assert_eq!(copy.dropout().p(), 0.5);
    assert_eq!(
        copy.forward(&batch()).unwrap(),
        book.forward(&batch()).unwrap()
    );
    let train = |m: &CausalAttention| m.forward_train(&batch(), &mut TorchRng::manual_seed(9));
    assert_eq!(train(&copy).unwrap(), train(&book).unwrap());
    // A shorter context length is a shorter mask: 6 tokens no longer fit in 5.
    let short = CausalAttention::from_parts(q.clone(), k.clone(), v.clone(), 5, 0.5).unwrap();
    assert_eq!(
        short.forward(&batch()).unwrap_err(),
        Error::TooManyTokens {
            tokens: 6,
            context_length: 5
        }
    );
    let layer = |rows, cols| Linear::from_parts(DMatrix::zeros(rows, cols), None).unwrap();
    let err = CausalAttention::from_parts(q.clone(), layer(4, 3), v.clone(), 6, 0.0).unwrap_err();
    assert_eq!(
        err.to_string(),
        "CausalAttention (W_key): shapes (2 × 3) and (4 × 3) do not fit together"
    );
    let err = CausalAttention::from_parts(q.clone(), k.clone(), layer(2, 2), 6, 0.0).unwrap_err();
    assert_eq!(
        err.to_string(),
        "CausalAttention (W_value): shapes (2 × 3) and (2 × 2) do not fit together"
    );
    let err = CausalAttention::from_parts(q.clone(), k.clone(), v.clone(), 0, 0.0).unwrap_err();
    assert_eq!(
        err,
        Error::ZeroSize {
            what: "context_length"
        }
    );
    let err = CausalAttention::from_parts(layer(2, 0), k.clone(), v.clone(), 6, 0.0).unwrap_err();
    assert_eq!(err, Error::ZeroSize { what: "d_in" });
    let err = CausalAttention::from_parts(layer(0, 3), k.clone(), v.clone(), 6, 0.0).unwrap_err();
    assert_eq!(err, Error::ZeroSize { what: "d_out" });
    let err = CausalAttention::from_parts(q, k, v, 6, 1.5).unwrap_err();
    assert!(matches!(err, Error::DropoutRate { .. }), "{err}");
}
