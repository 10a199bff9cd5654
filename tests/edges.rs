//! The edges, against PyTorch's printed text (tests/data/torch_edges.json, written by
//! scripts/torch_edge_truth.py): a row of attention weights dropped whole (PyTorch prints `0.`,
//! never `-0.`), a NaN in the input (it reaches every output, through `0 · NaN`, in the textbook
//! and the efficient path alike), and scores that overflow `f32` (`+∞` makes its row NaN, `−∞`
//! acts as a masked key). Text, not values: a value comparison cannot tell `0.` from `-0.`.

use crate::common;

use ch03_attention::efficient::EfficientMha;
use ch03_attention::inputs::inputs;
use ch03_attention::nalgebra::{DMatrix, DVector};
use ch03_attention::torch::print::TorchPrint;
use ch03_attention::{
    CausalAttention, Linear, MultiHeadAttention, MultiHeadAttentionWrapper, TorchRng,
};
use tinyjson::JsonValue;

/// PyTorch's text for the case `name`.
fn pytorch(name: &str) -> String {
    let json: JsonValue = common::data_file("torch_edges.json").parse().unwrap();
    let cases: &Vec<JsonValue> = json["cases"].get().unwrap();
    let case = cases
        .iter()
        .find(|c| c["name"].get::<String>().unwrap() == name)
        .unwrap_or_else(|| panic!("no case {name} in torch_edges.json"));
    case["text"].get::<String>().unwrap().clone()
}

/// Ours beside PyTorch's, as text.
fn assert_prints_like_pytorch(name: &str, ours: &str) {
    let theirs = pytorch(name);
    assert!(
        ours == theirs,
        "{name}: the crate prints\n{ours}\nPyTorch prints\n{theirs}"
    );
}

fn book_batch() -> Vec<DMatrix<f32>> {
    vec![inputs(), inputs()]
}

/// 3.5.3's example in training mode: dropout drawn right after the layers, from the same
/// generator. With p = 0.5 some rows of weights lose every entry; with p = 1 all do. Their
/// context vectors are `+0`, printed `0.`, as PyTorch's (nalgebra's small product alone would
/// give `-0.`: see `torch::matmul`).
#[test]
fn fully_dropped_rows_print_zero_not_minus_zero() {
    for (name, p) in [("dropout_causal_p0.5", 0.5), ("dropout_causal_p1", 1.0)] {
        let mut rng = TorchRng::manual_seed(123);
        let ca = CausalAttention::new(3, 2, 6, p, false, &mut rng).unwrap();
        let out = ca.forward_train(&book_batch(), &mut rng).unwrap();
        assert!(
            out.iter()
                .flatten()
                .all(|v| !(*v == 0.0 && v.is_sign_negative()))
        );
        assert_prints_like_pytorch(name, &out.torch_str());
    }
    let mut rng = TorchRng::manual_seed(123);
    let w = MultiHeadAttentionWrapper::new(3, 2, 6, 0.5, 2, false, &mut rng).unwrap();
    let out = w.forward_train(&book_batch(), &mut rng).unwrap();
    assert_prints_like_pytorch("dropout_wrapper_p0.5", &out.torch_str());
    let mut rng = TorchRng::manual_seed(123);
    let m = MultiHeadAttention::new(3, 2, 6, 0.5, 2, false, &mut rng).unwrap();
    let out = m.forward_train(&book_batch(), &mut rng).unwrap();
    assert_prints_like_pytorch("dropout_mha_p0.5", &out.torch_str());
}

/// `T` tokens of 0.5 with a NaN in the last token's first feature.
fn nan_input(tokens: usize) -> DMatrix<f32> {
    let mut x = DMatrix::from_element(tokens, 2, 0.5_f32);
    x[(tokens - 1, 0)] = f32::NAN;
    x
}

/// A NaN in the last token reaches every output, earlier tokens included: their weight on it is
/// exactly 0, and `0 · NaN = NaN`. The attention weights themselves are NaN only in the rows that
/// see the token (PyTorch's `masked_fill` replaces the hidden NaN scores by `−∞`). The efficient
/// path, which never reads a hidden key, gives the same text, at 16 tokens (one block of queries)
/// and at 17 (a second one).
#[test]
fn a_nan_token_reaches_every_output_in_both_paths() {
    for tokens in [16, 17] {
        let x = nan_input(tokens);
        let ca = CausalAttention::new(2, 2, tokens, 0.0, false, &mut TorchRng::manual_seed(123))
            .unwrap();
        assert_prints_like_pytorch(
            &format!("nan_causal_{tokens}_out"),
            &ca.forward(std::slice::from_ref(&x)).unwrap().torch_str(),
        );
        assert_prints_like_pytorch(
            &format!("nan_causal_{tokens}_weights"),
            &ca.attn_weights(&x).unwrap().torch_str(),
        );
        for (kind, heads) in [("mha", 1), ("mha2", 2)] {
            let mha = MultiHeadAttention::new(
                2,
                2,
                tokens,
                0.0,
                heads,
                false,
                &mut TorchRng::manual_seed(123),
            )
            .unwrap();
            let name = format!("nan_{kind}_{tokens}_out");
            let textbook = mha.forward(std::slice::from_ref(&x)).unwrap();
            assert!(textbook[0].iter().all(|v| v.is_nan()), "{name}");
            assert_prints_like_pytorch(&name, &textbook.torch_str());
            for threads in [1, 2] {
                let efficient = EfficientMha::from_textbook(&mha)
                    .with_threads(threads)
                    .unwrap()
                    .forward(std::slice::from_ref(&x))
                    .unwrap();
                assert_prints_like_pytorch(&name, &efficient.torch_str());
            }
            assert_prints_like_pytorch(
                &format!("nan_{kind}_{tokens}_weights"),
                &mha.heads_attn_weights(&x).unwrap().torch_str(),
            );
        }
    }
}

/// One feature per token, every projection weight 0.5, out_proj the identity: each product
/// `q_c · k_c` of the two tokens of magnitude 10²⁰ is beyond `f32`'s range with one sign, so the
/// scores are `±∞` whatever the order of the additions or fused multiply-adds. A visible `+∞`
/// makes its row NaN (`∞ − ∞` in the softmax); a visible `−∞` gets weight 0 like a masked key.
/// The textbook path, the efficient path and PyTorch print the same text.
#[test]
fn overflowing_scores_give_pytorchs_rows() {
    let half = || Linear::from_parts(DMatrix::from_element(2, 1, 0.5), None).unwrap();
    let identity = Linear::from_parts(DMatrix::identity(2, 2), Some(DVector::zeros(2))).unwrap();
    let mha = MultiHeadAttention::from_parts(half(), half(), half(), identity, 0.0, 1, 6).unwrap();
    let x = DMatrix::from_column_slice(6, 1, &[1.0, -1e20, 2.0, 1e20, 3.0, 0.5]);
    let textbook = mha.forward(std::slice::from_ref(&x)).unwrap();
    assert_prints_like_pytorch("overflow_mha_out", &textbook.torch_str());
    let efficient = EfficientMha::from_textbook(&mha)
        .forward(std::slice::from_ref(&x))
        .unwrap();
    assert_prints_like_pytorch("overflow_mha_out", &efficient.torch_str());
    assert_prints_like_pytorch(
        "overflow_mha_weights",
        &mha.heads_attn_weights(&x).unwrap().torch_str(),
    );
}
