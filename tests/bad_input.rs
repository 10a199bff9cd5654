//! Bad input, every public entry point: each returns an `Error` naming the numbers involved,
//! never a panic and never a silently wrong answer. One table, one row per case. The settings of
//! the leakage experiment have their own two tables in `leakage.rs`, beside the experiment (every
//! limit of `LeakageConfig::validate`, and the value at each limit that is still accepted).

use ch03_attention::context::{context_vec, context_vecs};
use ch03_attention::efficient::online_attention_row;
use ch03_attention::inputs::inputs;
use ch03_attention::leakage::chain::VOCAB_SIZE;
use ch03_attention::leakage::{Adam, TinyModel, run_leakage_experiment};
use ch03_attention::nalgebra::{DMatrix, DVector};
use ch03_attention::qkv::{
    attn_scores_of, project, project_all, scaling_evidence, weighted_values,
};
use ch03_attention::similarity::{attn_scores_for, cosine_similarity, dot};
use ch03_attention::torch::row;
use ch03_attention::{
    CausalAttention, Dropout, EfficientMha, Error, LeakageConfig, Linear, MultiHeadAttention,
    MultiHeadAttentionWrapper, SelfAttentionV1, SelfAttentionV2, TorchRng,
};
use rstest::rstest;

fn rng() -> TorchRng {
    TorchRng::manual_seed(123)
}

fn z(rows: usize, cols: usize) -> DMatrix<f32> {
    DMatrix::zeros(rows, cols)
}

fn query() -> DVector<f32> {
    row(&inputs(), 1)
}

/// Section 3.4.1's seeded weights.
fn seeded_weights() -> (DMatrix<f32>, DMatrix<f32>, DMatrix<f32>) {
    let mut g = rng();
    (g.rand(3, 2), g.rand(3, 2), g.rand(3, 2))
}

fn keys() -> DMatrix<f32> {
    project_all(&inputs(), &seeded_weights().1).unwrap()
}

fn values() -> DMatrix<f32> {
    project_all(&inputs(), &seeded_weights().2).unwrap()
}

fn causal() -> CausalAttention {
    CausalAttention::new(3, 2, 6, 0.0, false, &mut rng()).unwrap()
}

fn wrapper() -> MultiHeadAttentionWrapper {
    MultiHeadAttentionWrapper::new(3, 2, 6, 0.0, 2, false, &mut rng()).unwrap()
}

fn mha() -> MultiHeadAttention {
    MultiHeadAttention::new(3, 4, 6, 0.0, 2, false, &mut rng()).unwrap()
}

fn efficient() -> EfficientMha {
    EfficientMha::from_textbook(&mha())
}

/// The leakage experiment's model: 6 words, context 4, width 3.
fn tiny_model() -> TinyModel {
    TinyModel::new(VOCAB_SIZE, 4, 3, &mut rng()).unwrap()
}

/// An optimizer built for `tiny_model()` (width 3) asked to update a model of width 2.
fn adam_on_another_model() -> Error {
    let mut other = TinyModel::new(VOCAB_SIZE, 4, 2, &mut rng()).unwrap();
    let grads = other.zeros_like();
    Adam::new(&tiny_model(), 0.01)
        .step(&mut other, &grads)
        .unwrap_err()
}

#[rstest]
// Section 3.3 and 3.4 functions
#[case::project(project(&DVector::zeros(4), &seeded_weights().0).unwrap_err(), "project: shapes (1 × 4) and (3 × 2) do not fit together")]
#[case::scores(attn_scores_of(&DVector::zeros(3), &keys()).unwrap_err(), "attn_scores_of: shapes (1 × 3) and (6 × 2) do not fit together")]
#[case::weights(weighted_values(&DVector::zeros(5), &values()).unwrap_err(), "weighted_values: shapes (1 × 5) and (6 × 2) do not fit together")]
#[case::v2_with_bias(SelfAttentionV1::from_v2(&SelfAttentionV2::new(3, 2, true, &mut TorchRng::manual_seed(1))).unwrap_err(), "invalid configuration: SelfAttentionV2 with qkv_bias = true has biases, which SelfAttentionV1 cannot hold")]
#[case::zero_d_k(scaling_evidence(0, 4, 4, &mut TorchRng::manual_seed(1)).unwrap_err(), "d_k must be at least 1, got 0")]
#[case::dot_lengths(dot(&DVector::zeros(3), &DVector::zeros(2)).unwrap_err(), "dot: shapes (3 × 1) and (2 × 1) do not fit together")]
#[case::query_width(attn_scores_for(&DVector::zeros(4), &inputs()).unwrap_err(), "attn_scores_for: shapes (1 × 4) and (6 × 3) do not fit together")]
#[case::weights_per_token(context_vec(&DVector::zeros(5), &inputs()).unwrap_err(), "context_vec: shapes (1 × 5) and (6 × 3) do not fit together")]
#[case::weights_matrix(context_vecs(&DMatrix::zeros(6, 5), &inputs()).unwrap_err(), "context_vecs: shapes (6 × 5) and (6 × 3) do not fit together")]
#[case::zero_vector(cosine_similarity(&DVector::zeros(3), &query()).unwrap_err(), "cosine_similarity: a vector has length (norm) 0, so its direction is undefined")]
// Linear
#[case::linear_width(Linear::new(3, 2, true, &mut rng()).forward(&z(4, 5)).unwrap_err(), "Linear: input has 5 columns per token but d_in is 3")]
#[case::linear_bias_length(Linear::from_parts(z(2, 3), Some(DVector::zeros(4))).unwrap_err(), "Linear bias: shapes (2 × 3) and (4 × 1) do not fit together")]
// Dropout
#[case::dropout_negative(Dropout::new(-0.1).unwrap_err(), "dropout probability must be in [0, 1], got -0.1")]
#[case::dropout_above_one(Dropout::new(1.5).unwrap_err(), "dropout probability must be in [0, 1], got 1.5")]
#[case::dropout_nan(Dropout::new(f64::NAN).unwrap_err(), "dropout probability must be in [0, 1], got NaN")]
#[case::dropout_infinite(Dropout::new(f64::INFINITY).unwrap_err(), "dropout probability must be in [0, 1], got inf")]
// SelfAttentionV1 / V2
#[case::v1_width(SelfAttentionV1::new(3, 2, &mut rng()).forward(&z(6, 4)).unwrap_err(), "SelfAttentionV1: input has 4 columns per token but d_in is 3")]
#[case::v1_weights_shape(SelfAttentionV1::from_weights(z(3, 2), z(3, 2), z(2, 3)).unwrap_err(), "from_weights (W_value): shapes (3 × 2) and (2 × 3) do not fit together")]
#[case::v2_width(SelfAttentionV2::new(3, 2, false, &mut rng()).forward(&z(6, 2)).unwrap_err(), "Linear: input has 2 columns per token but d_in is 3")]
#[case::v2_weights_width(SelfAttentionV2::new(3, 2, false, &mut rng()).attn_weights(&z(6, 1)).unwrap_err(), "Linear: input has 1 columns per token but d_in is 3")]
// CausalAttention
#[case::causal_dropout(CausalAttention::new(3, 2, 6, 1.01, false, &mut rng()).unwrap_err(), "dropout probability must be in [0, 1], got 1.01")]
#[case::causal_zero_d_in(CausalAttention::new(0, 2, 6, 0.0, false, &mut rng()).unwrap_err(), "d_in must be at least 1, got 0")]
#[case::causal_zero_d_out(CausalAttention::new(3, 0, 6, 0.0, false, &mut rng()).unwrap_err(), "d_out must be at least 1, got 0")]
#[case::causal_zero_context(CausalAttention::new(3, 2, 0, 0.0, false, &mut rng()).unwrap_err(), "context_length must be at least 1, got 0")]
#[case::causal_too_many_tokens(causal().forward(&[z(7, 3)]).unwrap_err(), "input has 7 tokens but context_length is 6")]
#[case::causal_width(causal().forward(&[z(6, 4)]).unwrap_err(), "CausalAttention: input has 4 columns per token but d_in is 3")]
#[case::causal_ragged(causal().forward(&[z(6, 3), z(5, 3)]).unwrap_err(), "batch item 1 has shape (5 × 3) but item 0 has shape (6 × 3)")]
#[case::causal_train_ragged(causal().forward_train(&[z(2, 3), z(2, 3), z(2, 2)], &mut rng()).unwrap_err(), "batch item 2 has shape (2 × 2) but item 0 has shape (2 × 3)")]
#[case::causal_weights_too_long(causal().attn_weights(&z(9, 3)).unwrap_err(), "input has 9 tokens but context_length is 6")]
// MultiHeadAttentionWrapper
#[case::wrapper_zero_heads(MultiHeadAttentionWrapper::new(3, 2, 6, 0.0, 0, false, &mut rng()).unwrap_err(), "num_heads must be at least 1, got 0")]
#[case::wrapper_dropout(MultiHeadAttentionWrapper::new(3, 2, 6, -1.0, 2, false, &mut rng()).unwrap_err(), "dropout probability must be in [0, 1], got -1")]
#[case::wrapper_width(wrapper().forward(&[z(6, 2)]).unwrap_err(), "CausalAttention: input has 2 columns per token but d_in is 3")]
#[case::wrapper_too_many_tokens(wrapper().forward_train(&[z(7, 3)], &mut rng()).unwrap_err(), "input has 7 tokens but context_length is 6")]
// MultiHeadAttention
#[case::mha_not_divisible(MultiHeadAttention::new(3, 5, 6, 0.0, 2, false, &mut rng()).unwrap_err(), "d_out (5) must be divisible by num_heads (2)")]
#[case::mha_zero_heads(MultiHeadAttention::new(3, 4, 6, 0.0, 0, false, &mut rng()).unwrap_err(), "num_heads must be at least 1, got 0")]
#[case::mha_dropout_nan(MultiHeadAttention::new(3, 4, 6, f64::NAN, 2, false, &mut rng()).unwrap_err(), "dropout probability must be in [0, 1], got NaN")]
#[case::mha_zero_context(MultiHeadAttention::new(3, 4, 0, 0.0, 2, false, &mut rng()).unwrap_err(), "context_length must be at least 1, got 0")]
#[case::mha_width(mha().forward(&[z(6, 2)]).unwrap_err(), "MultiHeadAttention: input has 2 columns per token but d_in is 3")]
#[case::mha_too_many_tokens(mha().forward(&[z(7, 3)]).unwrap_err(), "input has 7 tokens but context_length is 6")]
#[case::mha_ragged(mha().forward_train(&[z(6, 3), z(6, 4)], &mut rng()).unwrap_err(), "batch item 1 has shape (6 × 4) but item 0 has shape (6 × 3)")]
#[case::mha_heads_weights(mha().heads_attn_weights(&z(6, 5)).unwrap_err(), "MultiHeadAttention: input has 5 columns per token but d_in is 3")]
#[case::mha_parts_out_proj(MultiHeadAttention::from_parts(Linear::new(3, 4, false, &mut rng()), Linear::new(3, 4, false, &mut rng()), Linear::new(3, 4, false, &mut rng()), Linear::new(4, 2, true, &mut rng()), 0.0, 2, 6).unwrap_err(), "MultiHeadAttention (out_proj): shapes (4 × 4) and (2 × 4) do not fit together")]
// EfficientMha: the textbook module's checks and messages (it is the same function)
#[case::efficient_too_many_tokens(efficient().forward(&[z(7, 3)]).unwrap_err(), "input has 7 tokens but context_length is 6")]
#[case::efficient_width(efficient().forward(&[z(6, 2)]).unwrap_err(), "MultiHeadAttention: input has 2 columns per token but d_in is 3")]
#[case::efficient_ragged(efficient().forward(&[z(6, 3), z(5, 3)]).unwrap_err(), "batch item 1 has shape (5 × 3) but item 0 has shape (6 × 3)")]
#[case::efficient_zero_threads(efficient().with_threads(0).unwrap_err(), "threads must be at least 1, got 0")]
#[case::efficient_zero_block(efficient().with_block_size(0).unwrap_err(), "block_size must be at least 1, got 0")]
#[case::online_row_lengths(online_attention_row(&[1.0], &[1.0, 2.0], 1).unwrap_err(), "online_attention_row (scores, values): shapes (1 × 1) and (1 × 2) do not fit together")]
#[case::online_row_zero_block(online_attention_row(&[1.0], &[1.0], 0).unwrap_err(), "block_size must be at least 1, got 0")]
#[case::online_row_empty(online_attention_row(&[], &[], 1).unwrap_err(), "scores must not be empty")]
// The leakage experiment's model and one setting (the rest: leakage.rs)
#[case::tiny_zero_width(TinyModel::new(VOCAB_SIZE, 4, 0, &mut rng()).unwrap_err(), "d must be at least 1, got 0")]
#[case::tiny_zero_context(TinyModel::new(VOCAB_SIZE, 0, 3, &mut rng()).unwrap_err(), "context_length must be at least 1, got 0")]
#[case::tiny_too_many_tokens(tiny_model().forward(&[0, 1, 2, 3, 4], true).unwrap_err(), "input has 5 tokens but context_length is 4")]
#[case::tiny_unknown_word(tiny_model().forward(&[0, 6], false).unwrap_err(), "invalid configuration: token 6 is outside the vocabulary of 6 words")]
#[case::tiny_one_word_sequence(tiny_model().loss(&[vec![0, 1], vec![3]], true).unwrap_err(), "invalid configuration: a sequence needs at least 2 words (an input and its next word), got 1")]
#[case::tiny_empty_sequence(tiny_model().loss_and_grads(&[vec![]], false).unwrap_err(), "invalid configuration: a sequence needs at least 2 words (an input and its next word), got 0")]
#[case::tiny_empty_batch(tiny_model().loss(&[], true).unwrap_err(), "batch must not be empty")]
#[case::adam_other_shapes(
    adam_on_another_model(),
    "Adam::step: shapes (6 × 3) and (6 × 2) do not fit together"
)]
#[case::leakage_context_1(run_leakage_experiment(&LeakageConfig { context_length: 1, ..Default::default() }).unwrap_err(), "invalid configuration: context_length must be at least 2 (position t needs a position t + 1 to leak from), got 1")]
// Sizes that cannot be allocated: an error, never a wrapped product (which in a release build
// gave a matrix claiming more elements than it stored), an overflow panic or an abort.
#[case::rand_2_pow_64_elements(rng().try_uniform(1 << 32, 1 << 32, 0.0, 1.0).unwrap_err(), "torch.rand: a 4294967296 × 4294967296 matrix (18446744073709551616 elements) is too large to allocate")]
#[case::rand_overflow(rng().try_uniform(1 << 33, 1 << 31, 0.0, 1.0).unwrap_err(), "torch.rand: a 8589934592 × 2147483648 matrix (18446744073709551616 elements) is too large to allocate")]
#[case::rand_usize_max_rows(rng().try_uniform(usize::MAX, 2, 0.0, 1.0).unwrap_err(), "torch.rand: a 18446744073709551615 × 2 matrix (36893488147419103230 elements) is too large to allocate")]
#[case::rand_refused_by_the_allocator(rng().try_uniform(1 << 30, 1 << 29, 0.0, 1.0).unwrap_err(), "torch.rand: a 1073741824 × 536870912 matrix (576460752303423488 elements) is too large to allocate")]
#[case::linear_usize_max(Linear::try_new(usize::MAX, 1, false, &mut rng()).unwrap_err(), "Linear weight: a 1 × 18446744073709551615 matrix (18446744073709551615 elements) is too large to allocate")]
#[case::linear_2_pow_40(Linear::try_new(1 << 40, 1 << 30, true, &mut rng()).unwrap_err(), "Linear weight: a 1073741824 × 1099511627776 matrix (1180591620717411303424 elements) is too large to allocate")]
#[case::causal_huge_width(CausalAttention::new(usize::MAX, 2, 6, 0.0, false, &mut rng()).unwrap_err(), "Linear weight: a 2 × 18446744073709551615 matrix (36893488147419103230 elements) is too large to allocate")]
#[case::mha_huge_projection(MultiHeadAttention::new(1 << 33, 1 << 31, 6, 0.0, 1, false, &mut rng()).unwrap_err(), "Linear weight: a 2147483648 × 8589934592 matrix (18446744073709551616 elements) is too large to allocate")]
#[case::tiny_usize_max_vocab(TinyModel::new(usize::MAX, 2, 2, &mut rng()).unwrap_err(), "tok_emb: a 18446744073709551615 × 2 matrix (36893488147419103230 elements) is too large to allocate")]
fn bad_input_is_an_error_naming_the_numbers(#[case] err: Error, #[case] message: &str) {
    assert_eq!(err.to_string(), message);
}

/// NaN or infinite *values* are not an input error: they propagate exactly as in PyTorch, and
/// nothing panics. A NaN in token 2 leaves the attention weights of tokens 0 and 1 finite (the
/// mask works), but their outputs become NaN too: the masked weight is exactly 0, and in the
/// product with the values 0 · NaN = NaN (likewise 0 · ∞). PyTorch 2.15 prints the same NaN
/// matrix. Causality (outputs 0..=t ignore later tokens) therefore holds for finite inputs only.
#[test]
fn nan_and_inf_values_propagate_without_panicking() {
    let mut x = DMatrix::from_element(6, 3, 0.5_f32);
    x[(2, 1)] = f32::NAN;
    let weights = causal().attn_weights(&x).unwrap();
    assert!(weights.rows(0, 2).iter().all(|v| v.is_finite()));
    assert!(weights.rows(2, 4).iter().all(|v| v.is_nan()));
    let out = &causal().forward(std::slice::from_ref(&x)).unwrap()[0];
    assert!(out.iter().all(|v| v.is_nan()));
    x[(2, 1)] = f32::INFINITY;
    let out = &mha().forward(&[x]).unwrap()[0];
    assert!(out.iter().all(|v| v.is_nan()));
}

/// Empty batches are valid and give empty results (no error, no panic).
#[test]
fn empty_batches_give_empty_results() {
    assert!(causal().forward(&[]).unwrap().is_empty());
    assert!(wrapper().forward(&[]).unwrap().is_empty());
    assert!(mha().forward_train(&[], &mut rng()).unwrap().is_empty());
}

/// The calls whose signatures are PyTorch's return plain values, so an impossible size panics,
/// with the same message as their `try_` twins (never an overflow or a silent empty matrix).
#[rstest]
#[case::rand(|| { rng().rand(1 << 32, 1 << 32); }, "torch.rand: a 4294967296 × 4294967296 matrix")]
#[case::rand_usize_max(|| { rng().rand(usize::MAX, 2); }, "torch.rand: a 18446744073709551615 × 2 matrix")]
#[case::linear(|| { Linear::new(usize::MAX, 1, false, &mut rng()); }, "Linear weight: a 1 × 18446744073709551615 matrix")]
fn impossible_sizes_panic_with_the_sizes(#[case] call: fn(), #[case] start: &str) {
    let message = std::panic::catch_unwind(call).unwrap_err();
    let message = message.downcast_ref::<String>().unwrap();
    assert!(message.starts_with(start), "{message}");
}

/// What no longer crashes: a context length of 2³² (it was a mask buffer of 2⁶⁴ entries, which
/// wrapped to 0 in a release build and was then indexed) and of 100,000 (a 40 GB buffer) cost
/// nothing: the mask is a rule, applied at the input's length.
#[test]
fn huge_context_lengths_build_no_mask() {
    for context_length in [100_000, 1 << 32] {
        let ca = CausalAttention::new(3, 2, context_length, 0.0, false, &mut rng()).unwrap();
        assert_eq!(ca.context_length(), context_length);
        if context_length == 1 << 32 {
            let err = ca.mask().unwrap_err().to_string();
            assert!(err.starts_with("CausalAttention mask: a 4294967296 × 4294967296 matrix"));
        }
        let out = ca.forward(&[inputs(), inputs()]).unwrap();
        assert_eq!(out, causal().forward(&[inputs(), inputs()]).unwrap());
    }
}

/// A row index outside the matrix is an error naming both numbers.
#[test]
fn row_outside_the_matrix_is_an_error() {
    assert_eq!(
        ch03_attention::torch::try_row(&inputs(), 6)
            .unwrap_err()
            .to_string(),
        "row 6 does not exist: the matrix has 6 rows (counted from 0)"
    );
}

/// A dropout rate just below 0 is named in a readable form, not as 310 decimal digits.
#[test]
fn tiny_numbers_in_messages_are_readable() {
    assert_eq!(
        Dropout::new(-f64::MIN_POSITIVE).unwrap_err().to_string(),
        "dropout probability must be in [0, 1], got -2.2250738585072014e-308"
    );
}

/// A line chart of a value it cannot draw says so (it looped, growing until memory ran out).
#[rstest]
#[case::infinite_y(f64::INFINITY, "line_chart y must be a finite number, got inf")]
#[case::nan_y(f64::NAN, "line_chart y must be a finite number, got NaN")]
#[case::largest_y(
    f64::MAX,
    "invalid configuration: line_chart y must lie within ±1e300, got 1.7976931348623157e308"
)]
fn line_chart_rejects_values_it_cannot_draw(#[case] y: f64, #[case] message: &str) {
    use ch03_attention::figures::{Series, line_chart};
    let line = Series {
        label: "y",
        points: vec![(0.0, 1.0), (1.0, y)],
        colour: "#000000",
        dashed: false,
    };
    assert_eq!(
        line_chart("t", "x", "y", &[line]).unwrap_err().to_string(),
        message
    );
}

/// Numbers in messages: plain decimals for everyday magnitudes, scientific notation for the
/// very small or large, as a person would write them.
#[test]
fn readable_numbers() {
    use ch03_attention::error::readable;
    let cases = [
        (0.5, "0.5"),
        (-1.5, "-1.5"),
        (0.0, "0"),
        (1e-4, "0.0001"),
        (9.9e-5, "9.9e-5"),
        (1e15, "1000000000000000"),
        (1e16, "1e16"),
        (f64::INFINITY, "inf"),
        (f64::NAN, "NaN"),
    ];
    for (x, text) in cases {
        assert_eq!(readable(x), text, "{x:e}");
    }
}
