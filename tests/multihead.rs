//! Section 3.6 and exercises 3.2-3.3: multi-head attention, stacked and weight-split.

use crate::common;

use ch03_attention::inputs::inputs;
use ch03_attention::nalgebra::{DMatrix, DVector};
use ch03_attention::torch::print::{TorchPrint, strip_autograd_suffix};
use ch03_attention::{Linear, MultiHeadAttention, MultiHeadAttentionWrapper, TorchRng, book};
use rstest::rstest;

fn batch() -> Vec<DMatrix<f32>> {
    vec![inputs(), inputs()]
}

fn wrapper(d_out: usize) -> MultiHeadAttentionWrapper {
    MultiHeadAttentionWrapper::new(3, d_out, 6, 0.0, 2, false, &mut TorchRng::manual_seed(123))
        .unwrap()
}

fn mha() -> MultiHeadAttention {
    MultiHeadAttention::new(3, 2, 6, 0.0, 2, false, &mut TorchRng::manual_seed(123)).unwrap()
}

/// Exercise 3.2's markdown in the upstream notebook shows an output from an older, buggy version
/// of the class (softmax over the wrong axis). The current code does not reproduce it, and must not.
#[test]
fn exercise_3_2_stale_markdown_is_not_reproduced() {
    assert_ne!(
        wrapper(1).forward(&batch()).unwrap().torch_str(),
        strip_autograd_suffix(book::solutions::EX_3_2_STALE_MARKDOWN)
    );
}

#[test]
fn walkthrough_shows_every_printed_item_of_the_chapter() {
    let all = ch03_attention::walkthrough::sections().unwrap();
    let chapter_items = all
        .iter()
        .filter(|s| s.id.starts_with("3."))
        .flat_map(|s| &s.items)
        .filter(|i| i.source == ch03_attention::walkthrough::Source::Book)
        .count();
    assert_eq!(chapter_items, 44);
    assert_eq!(chapter_items, ch03_attention::book::chapter_items().count());
    assert!(all.iter().flat_map(|s| &s.items).all(|i| i.matches()));
}

/// Exercise 3.3: GPT-2 small's attention module has exactly 2,360,064 parameters.
#[rstest]
#[case::no_qkv_bias(false, book::solutions::EX_3_3_NUM_PARAMETERS.book.parse().unwrap())]
#[case::with_qkv_bias(true, 2_362_368)]
fn exercise_3_3_gpt2_parameter_count(#[case] qkv_bias: bool, #[case] expected: usize) {
    let gpt2 = MultiHeadAttention::new(
        768,
        768,
        1024,
        0.0,
        12,
        qkv_bias,
        &mut TorchRng::manual_seed(123),
    )
    .unwrap();
    assert_eq!(gpt2.num_parameters(), expected);
    assert_eq!(gpt2.head_dim(), 64);
}

#[test]
fn wrapper_parameter_count() {
    // 2 heads × 3 projections × (3 × 2) weights.
    assert_eq!(wrapper(2).num_parameters(), 36);
    assert_eq!(mha().num_parameters(), 3 * 6 + 4 + 2);
}

/// The wrapper's first head and MultiHeadAttention's first three layers get the same 18 draws.
#[test]
fn head_0_of_the_wrapper_and_the_mha_projections_share_weights() {
    let w = wrapper(2);
    let m = mha();
    assert_eq!(w.heads()[0].w_query().weight(), m.w_query().weight());
    assert_eq!(w.heads()[0].w_key().weight(), m.w_key().weight());
    assert_eq!(w.heads()[0].w_value().weight(), m.w_value().weight());
}

/// PyTorch ground truth for other seeds, shapes and head counts, with and without qkv_bias, in
/// evaluation and training mode. The wrapper draws one dropout mask per head (head 0 first);
/// MultiHeadAttention one mask over (batch, heads, tokens, tokens). Masks are bit-exact,
/// `next_rand` checks the draw count. Tolerance 2e-6 on max(1, |value|)-scaled error.
#[rstest]
#[case::wrapper("wrapper")]
#[case::mha("mha")]
fn matches_pytorch_in_evaluation_and_training_mode(#[case] kind: &str) {
    let cases = common::torch_cases(kind);
    assert!(cases.len() >= 5);
    for c in &cases {
        let mut rng = TorchRng::manual_seed(c.seed);
        let (eval, train) = if kind == "wrapper" {
            let m = MultiHeadAttentionWrapper::new(
                c.d_in,
                c.d_out,
                c.context_length,
                c.dropout,
                c.num_heads,
                c.qkv_bias,
                &mut rng,
            )
            .unwrap();
            let x: Vec<DMatrix<f32>> = (0..c.batch).map(|_| rng.rand(c.tokens, c.d_in)).collect();
            (
                m.forward(&x).unwrap(),
                m.forward_train(&x, &mut rng).unwrap(),
            )
        } else {
            let m = MultiHeadAttention::new(
                c.d_in,
                c.d_out,
                c.context_length,
                c.dropout,
                c.num_heads,
                c.qkv_bias,
                &mut rng,
            )
            .unwrap();
            let x: Vec<DMatrix<f32>> = (0..c.batch).map(|_| rng.rand(c.tokens, c.d_in)).collect();
            (
                m.forward(&x).unwrap(),
                m.forward_train(&x, &mut rng).unwrap(),
            )
        };
        assert_eq!(eval.torch_shape(), c.out_shape, "{kind} seed {}", c.seed);
        assert!(
            common::max_scaled_error(&eval.torch_data(), &c.eval) < 2e-6,
            "{kind} seed {} eval",
            c.seed
        );
        assert!(
            common::max_scaled_error(&train.torch_data(), &c.train) < 2e-6,
            "{kind} seed {} train",
            c.seed
        );
        let next: Vec<u32> = rng.rand(1, 4).iter().map(|v| v.to_bits()).collect();
        let want: Vec<u32> = c.next_rand.iter().map(|v| v.to_bits()).collect();
        assert_eq!(next, want, "{kind} seed {}: generator position", c.seed);
    }
}

/// Stack every head's projection rows into one Linear (head h's rows h·d_h..(h+1)·d_h).
fn stacked(layers: Vec<&Linear>) -> Linear {
    let d_in = layers[0].in_features();
    let rows: usize = layers.iter().map(|l| l.out_features()).sum();
    let mut weight = DMatrix::zeros(rows, d_in);
    let mut bias = DVector::zeros(rows);
    let mut r = 0;
    for l in &layers {
        weight
            .view_mut((r, 0), (l.out_features(), d_in))
            .copy_from(l.weight());
        if let Some(b) = l.bias() {
            bias.rows_mut(r, l.out_features()).copy_from(b);
        }
        r += l.out_features();
    }
    let has_bias = layers[0].bias().is_some();
    Linear::from_parts(weight, has_bias.then_some(bias)).unwrap()
}

/// The two classes compute the same function when MultiHeadAttention's projections are the
/// heads' projections stacked and its output projection is the identity with zero bias.
#[rstest]
#[case::book_sizes(3, 2, 2, 6, 123, false)]
#[case::three_heads(5, 4, 3, 9, 7, true)]
#[case::one_head(4, 6, 1, 5, 8, false)]
#[case::head_dim_one(6, 1, 8, 4, 9, true)]
#[case::wide(16, 8, 4, 12, 10, false)]
fn wrapper_equals_weight_split_with_identity_projection(
    #[case] d_in: usize,
    #[case] head_dim: usize,
    #[case] heads: usize,
    #[case] tokens: usize,
    #[case] seed: u64,
    #[case] qkv_bias: bool,
) {
    let mut rng = TorchRng::manual_seed(seed);
    let w = MultiHeadAttentionWrapper::new(d_in, head_dim, tokens, 0.0, heads, qkv_bias, &mut rng)
        .unwrap();
    let d_out = head_dim * heads;
    let identity =
        Linear::from_parts(DMatrix::identity(d_out, d_out), Some(DVector::zeros(d_out))).unwrap();
    let m = MultiHeadAttention::from_parts(
        stacked(w.heads().iter().map(|h| h.w_query()).collect()),
        stacked(w.heads().iter().map(|h| h.w_key()).collect()),
        stacked(w.heads().iter().map(|h| h.w_value()).collect()),
        identity,
        0.0,
        heads,
        tokens,
    )
    .unwrap();
    let x = vec![
        rng.uniform(tokens, d_in, -1.0, 1.0),
        rng.uniform(tokens, d_in, -1.0, 1.0),
    ];
    let (a, b) = (w.forward(&x).unwrap(), m.forward(&x).unwrap());
    for (a, b) in a.iter().zip(&b) {
        let diff = (a - b).abs().max();
        assert!(diff < 1e-6, "outputs differ by {diff}");
    }
}

/// Not a printed result of the book (its figure is drawn from these weights); the printed
/// ones are snapshotted in `tests/book.rs`.
#[test]
fn snapshot_mha_heads_attn_weights() {
    common::snapshot(
        "s3_6_2_mha_heads_attn_weights",
        "3.6.2: attention weights of each head of the book's MultiHeadAttention",
        &mha().heads_attn_weights(&inputs()).unwrap().torch_str(),
    );
}
