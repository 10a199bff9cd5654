//! Section 3.4, self-attention with trainable weights: full precision, PyTorch ground truth for
//! other seeds and shapes, exercise 3.1 and the √d_k evidence. (The printed items and their
//! snapshots are checked from the registry, in tests/book.rs.)

// Reference values are quoted as PyTorch printed them, at 9 significant digits.
#![allow(clippy::excessive_precision)]

use crate::common;

use approx::assert_relative_eq;
use ch03_attention::inputs::{QUERY_INDEX, inputs};
use ch03_attention::nalgebra::{DMatrix, DVector};
use ch03_attention::qkv::{
    attn_scores_of, project, project_all, scaled_softmax, scaling_evidence, weighted_values,
};
use ch03_attention::similarity::dot;
use ch03_attention::torch::print::{TorchPrint, row_major};
use ch03_attention::torch::row;
use ch03_attention::{SelfAttentionV1, SelfAttentionV2, TorchRng};
use rstest::rstest;

/// Section 3.4.1's weights: `torch.manual_seed(123)`, then three `torch.rand(3, 2)`.
fn seeded_weights() -> (DMatrix<f32>, DMatrix<f32>, DMatrix<f32>) {
    let mut rng = TorchRng::manual_seed(123);
    (rng.rand(3, 2), rng.rand(3, 2), rng.rand(3, 2))
}

fn query_2() -> DVector<f32> {
    project(&row(&inputs(), QUERY_INDEX), &seeded_weights().0).unwrap()
}

fn keys() -> DMatrix<f32> {
    project_all(&inputs(), &seeded_weights().1).unwrap()
}

fn values() -> DMatrix<f32> {
    project_all(&inputs(), &seeded_weights().2).unwrap()
}

fn attn_scores_2() -> DVector<f32> {
    attn_scores_of(&query_2(), &keys()).unwrap()
}

fn attn_weights_2() -> DVector<f32> {
    scaled_softmax(&attn_scores_2(), 2)
}

fn context_vec_2() -> DVector<f32> {
    weighted_values(&attn_weights_2(), &values()).unwrap()
}

fn sa_v1() -> SelfAttentionV1 {
    SelfAttentionV1::new(3, 2, &mut TorchRng::manual_seed(123))
}

fn sa_v2() -> SelfAttentionV2 {
    SelfAttentionV2::new(3, 2, false, &mut TorchRng::manual_seed(789))
}

#[test]
fn walkthrough_3_4_is_all_checkmarks() {
    let sections = ch03_attention::walkthrough::select(Some("3.4")).unwrap();
    let items: Vec<_> = sections.iter().flat_map(|s| &s.items).collect();
    let book_items = items
        .iter()
        .filter(|i| i.source == ch03_attention::walkthrough::Source::Book)
        .count();
    assert_eq!(book_items, 9);
    assert!(items.iter().all(|i| i.matches()));
}

/// 3.4.1's intermediates are the same whether computed step by step or inside the class: the
/// step-by-step weights and `SelfAttentionV1`'s are the same 18 draws.
#[test]
fn step_by_step_weights_are_the_class_weights() {
    let (w_query, w_key, w_value) = seeded_weights();
    let v1 = sa_v1();
    assert_eq!(
        (v1.w_query(), v1.w_key(), v1.w_value()),
        (&w_query, &w_key, &w_value)
    );
    let z = v1.forward(&inputs()).unwrap();
    // Row 2 of the class output is 3.4.1's context vector.
    assert_relative_eq!(z[(1, 0)], context_vec_2()[0], max_relative = 1e-6);
    assert_relative_eq!(z[(1, 1)], context_vec_2()[1], max_relative = 1e-6);
}

// Full precision against PyTorch: values printed by PyTorch 2.4.0 (CPU) at 9 significant digits.
// Tolerance 1e-6
// relative (about 16 float32 ulps): the seeded weights are bit-identical, so only the arithmetic
// differs (summation order, `exp`), each worth a few ulps.
const REL: f32 = 1e-6;

fn assert_all_close(got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        assert_relative_eq!(*g, *w, max_relative = REL);
    }
}

#[test]
fn intermediates_full_precision() {
    assert_all_close(query_2().as_slice(), &[0.430636942, 1.45505822]);
    assert_relative_eq!(
        dot(&query_2(), &row(&keys(), 1)).unwrap(),
        1.85238445,
        max_relative = REL
    );
    assert_all_close(
        attn_scores_2().as_slice(),
        &[
            1.27048302,
            1.85238457,
            1.8111068,
            1.07951725,
            0.557730556,
            1.54397058,
        ],
    );
    assert_all_close(
        attn_weights_2().as_slice(),
        &[
            0.150019482,
            0.22638379,
            0.21987164,
            0.131070063,
            0.0906288922,
            0.182026088,
        ],
    );
    assert_all_close(context_vec_2().as_slice(), &[0.306100219, 0.821030319]);
}

#[test]
fn class_outputs_full_precision() {
    let v1 = [
        0.299582064,
        0.805314124,
        0.306100219,
        0.821030319,
        0.305781096,
        0.820295751,
        0.294765949,
        0.793866336,
        0.292706072,
        0.789084315,
        0.299010038,
        0.804036796,
    ];
    assert_all_close(&row_major(&sa_v1().forward(&inputs()).unwrap()), &v1);
    let v2 = [
        -0.0738902465,
        0.0712899044,
        -0.0748107135,
        0.0703092963,
        -0.0748561919,
        0.0702416524,
        -0.0760016292,
        0.0684501082,
        -0.0763276145,
        0.067942813,
        -0.0754442886,
        0.0693049207,
    ];
    assert_all_close(&row_major(&sa_v2().forward(&inputs()).unwrap()), &v2);
}

/// PyTorch ground truth (tests/data/torch_attention.json, scripts/torch_attention_truth.py):
/// other seeds, widths and lengths, with and without qkv_bias. The input is drawn from the same
/// generator right after the module, so the generator's position after construction is checked
/// too (a wrong draw count would change the input), and `next_rand` checks it at the end.
/// Tolerance 2e-6 on max(1, |value|)-scaled error: same reasoning as above, at larger widths.
#[rstest]
#[case::v1("v1")]
#[case::v2("v2")]
fn matches_pytorch_for_other_seeds_and_shapes(#[case] kind: &str) {
    let cases = common::torch_cases(kind);
    assert!(cases.len() >= 4, "{kind}: {} cases", cases.len());
    for c in &cases {
        let mut rng = TorchRng::manual_seed(c.seed);
        let out = match kind {
            "v1" => {
                let m = SelfAttentionV1::new(c.d_in, c.d_out, &mut rng);
                let x = rng.rand(c.tokens, c.d_in);
                m.forward(&x).unwrap()
            }
            _ => {
                let m = SelfAttentionV2::new(c.d_in, c.d_out, c.qkv_bias, &mut rng);
                let x = rng.rand(c.tokens, c.d_in);
                m.forward(&x).unwrap()
            }
        };
        let err = common::max_scaled_error(&row_major(&out), &c.eval);
        assert!(
            err < 2e-6,
            "{kind} seed {} ({}→{}): error {err}",
            c.seed,
            c.d_in,
            c.d_out
        );
        let next: Vec<u32> = rng.rand(1, 4).iter().map(|v| v.to_bits()).collect();
        let want: Vec<u32> = c.next_rand.iter().map(|v| v.to_bits()).collect();
        assert_eq!(next, want, "{kind} seed {}: generator position", c.seed);
    }
}

/// Exercise 3.1: v2's weights, transposed, make v1 compute exactly what v2 computes.
#[rstest]
#[case::book(3, 2, 123)]
#[case::wider(8, 5, 7)]
#[case::square(4, 4, 99)]
fn exercise_3_1_weight_transfer_gives_equal_outputs(
    #[case] d_in: usize,
    #[case] d_out: usize,
    #[case] seed: u64,
) {
    let mut rng = TorchRng::manual_seed(seed);
    let v2 = SelfAttentionV2::new(d_in, d_out, false, &mut rng);
    let x = rng.rand(7, d_in);
    let v1 = SelfAttentionV1::from_v2(&v2).unwrap();
    assert_eq!(v1.forward(&x).unwrap(), v2.forward(&x).unwrap());
}

/// Why √d_k, measured: the score variance grows like d_k; unscaled, the softmax turns one-hot
/// and its Jacobian (the gradient it passes back) collapses; scaled, nothing changes with d_k.
#[test]
fn scaling_by_sqrt_d_k_keeps_softmax_trainable() {
    let mut rng = TorchRng::manual_seed(2024);
    let mut table = String::from(
        "d_k | Var(q·k) | Var(q·k/√d_k) | entropy unscaled | entropy scaled | max weight unscaled | max weight scaled | Jacobian norm unscaled | Jacobian norm scaled\n",
    );
    let mut rows = Vec::new();
    for d_k in [2, 16, 64, 768] {
        let e = scaling_evidence(d_k, 16, 200, &mut rng).unwrap();
        // Var(q·k) = d_k in theory; 3200 samples estimate it within a few percent.
        assert!((e.score_variance / d_k as f64 - 1.0).abs() < 0.15, "{e:?}");
        assert!((e.scaled_score_variance - 1.0).abs() < 0.15, "{e:?}");
        table.push_str(&format!(
            "{:>3} | {:>8.2} | {:>13.3} | {:>16.3} | {:>14.3} | {:>19.3} | {:>17.3} | {:>22.4} | {:>20.4}\n",
            e.d_k,
            e.score_variance,
            e.scaled_score_variance,
            e.entropy_unscaled,
            e.entropy_scaled,
            e.max_weight_unscaled,
            e.max_weight_scaled,
            e.jacobian_norm_unscaled,
            e.jacobian_norm_scaled
        ));
        rows.push(e);
    }
    let (small, large) = (&rows[0], &rows[3]);
    // Unscaled at d_k = 768: nearly one-hot, and almost no gradient passes the softmax.
    assert!(large.max_weight_unscaled > 0.9, "{large:?}");
    assert!(
        large.entropy_unscaled < 0.25 * large.entropy_scaled,
        "{large:?}"
    );
    assert!(
        large.jacobian_norm_unscaled < 0.25 * large.jacobian_norm_scaled,
        "{large:?}"
    );
    // Scaled: the same distribution shape at every d_k (entropy within 10%).
    assert!((large.entropy_scaled / small.entropy_scaled - 1.0).abs() < 0.1);
    common::snapshot(
        "qkv_scaling_evidence",
        "Why divide by √d_k: 16 keys per query, 200 queries per d_k, components uniform with variance 1, seed 2024",
        &table,
    );
}

/// Section 3.4.1's seeded weights (not printed by the book; its printed results are snapshotted
/// from the registry, see tests/book.rs).
#[test]
fn snapshots_3_4() {
    common::snapshot(
        "s3_4_1_seeded_weights",
        "3.4.1 cell [68]: torch.manual_seed(123); W_query, W_key, W_value = torch.rand(3, 2) x3",
        &{
            let (q, k, v) = seeded_weights();
            format!(
                "W_query = {}\nW_key = {}\nW_value = {}",
                q.torch_str(),
                k.torch_str(),
                v.torch_str()
            )
        },
    );
}

/// `SelfAttentionV2::from_parts` keeps the layers it is given: the module's own layers give the
/// module back (the same output, bit for bit), another layer gives another output, and layers
/// that do not fit are an error naming the layer and both shapes.
#[test]
fn v2_from_parts_keeps_the_given_layers() {
    use ch03_attention::{Error, Linear};
    let book = SelfAttentionV2::new(3, 2, true, &mut TorchRng::manual_seed(789));
    let (q, k, v) = (
        book.w_query().clone(),
        book.w_key().clone(),
        book.w_value().clone(),
    );
    let copy = SelfAttentionV2::from_parts(q.clone(), k.clone(), v.clone()).unwrap();
    assert_eq!(copy.w_query(), &q);
    assert_eq!(copy.w_key(), &k);
    assert_eq!(copy.w_value(), &v);
    assert_eq!(
        copy.forward(&inputs()).unwrap(),
        book.forward(&inputs()).unwrap()
    );
    // Values through the identity-like layer: another output.
    let other = Linear::from_parts(DMatrix::from_element(2, 3, 0.5), None).unwrap();
    let changed = SelfAttentionV2::from_parts(q.clone(), k.clone(), other).unwrap();
    assert_ne!(
        changed.forward(&inputs()).unwrap(),
        book.forward(&inputs()).unwrap()
    );
    let layer = |rows, cols| Linear::from_parts(DMatrix::zeros(rows, cols), None).unwrap();
    for (key, value, message) in [
        (
            layer(2, 4),
            v.clone(),
            "SelfAttentionV2 (W_key): shapes (2 × 3) and (2 × 4) do not fit together",
        ),
        (
            k.clone(),
            layer(3, 3),
            "SelfAttentionV2 (W_value): shapes (2 × 3) and (3 × 3) do not fit together",
        ),
    ] {
        let err = SelfAttentionV2::from_parts(q.clone(), key, value).unwrap_err();
        assert_eq!(err.to_string(), message);
    }
    for (query, what) in [(layer(0, 3), "d_out"), (layer(2, 0), "d_in")] {
        let err = SelfAttentionV2::from_parts(query, k.clone(), v.clone()).unwrap_err();
        assert_eq!(err, Error::ZeroSize { what });
    }
}
