//! The PyTorch-style printer against real PyTorch output (tests/data/torch_print.json, written by
//! scripts/torch_print_truth.py), plus each rule the book's outputs rely on, spelled out.

use crate::common;

use ch03_attention::nalgebra::DMatrix;
use ch03_attention::torch::print::{
    PrintOptions, TorchPrint, format_tensor, python_float_repr, strip_autograd_suffix, torch_size,
    with_print_options,
};
use rstest::rstest;
use tinyjson::JsonValue;

/// Every case PyTorch printed, reproduced character for character.
#[test]
fn matches_pytorch_print_for_every_recorded_tensor() {
    let json: JsonValue = common::data_file("torch_print.json").parse().unwrap();
    let cases: &Vec<JsonValue> = json["cases"].get().unwrap();
    assert!(
        cases.len() >= 58,
        "the truth file lost cases: {}",
        cases.len()
    );
    let mut failures = Vec::new();
    for case in cases {
        let name: &String = case["name"].get().unwrap();
        let shape: Vec<usize> = case["shape"]
            .get::<Vec<JsonValue>>()
            .unwrap()
            .iter()
            .map(|d| *d.get::<f64>().unwrap() as usize)
            .collect();
        let data: Vec<f32> = case["bits"]
            .get::<Vec<JsonValue>>()
            .unwrap()
            .iter()
            .map(|b| f32::from_bits(u32::from_str_radix(b.get::<String>().unwrap(), 16).unwrap()))
            .collect();
        let want: &String = case["text"].get().unwrap();
        // `torch.set_printoptions(precision=…, sci_mode=…)` when the case was printed under it.
        let fields: &std::collections::HashMap<String, JsonValue> = case.get().unwrap();
        let options = match fields.get("options") {
            Some(o) => PrintOptions {
                precision: *o["precision"].get::<f64>().unwrap() as usize,
                sci_mode: o["sci_mode"].get::<bool>().copied(),
            },
            None => PrintOptions::DEFAULT,
        };
        let got = with_print_options(options, || format_tensor(&shape, &data));
        if &got != want {
            failures.push(format!("{name}:\n{got}\n-- PyTorch --\n{want}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

fn m(rows: usize, cols: usize, v: &[f32]) -> DMatrix<f32> {
    DMatrix::from_row_slice(rows, cols, v)
}

/// The rules, one case each, on small inputs a reader can check by eye.
#[rstest]
#[case::four_decimals(m(1, 2, &[0.5, 0.25]), "tensor([[0.5000, 0.2500]])")]
#[case::integer_form_when_all_integral(m(2, 2, &[2.0, 0.0, 0.0, 2.0]), "tensor([[2., 0.],\n        [0., 2.]])")]
#[case::shared_width_and_leading_space_for_negatives(m(1, 2, &[-0.0739, 0.0713]), "tensor([[-0.0739,  0.0713]])")]
#[case::neg_inf_right_aligned(m(1, 2, &[0.2899, f32::NEG_INFINITY]), "tensor([[0.2899,   -inf]])")]
#[case::nan_keeps_the_format_of_the_rest(m(1, 2, &[f32::NAN, 0.125]), "tensor([[   nan, 0.1250]])")]
#[case::scientific_when_spread_over_1000x(m(1, 2, &[0.001, 2.0]), "tensor([[1.0000e-03, 2.0000e+00]])")]
#[case::zeros_do_not_count_for_the_spread(m(1, 3, &[0.0, 0.001, 0.5]), "tensor([[0.0000, 0.0010, 0.5000]])")]
fn printing_rules(#[case] value: DMatrix<f32>, #[case] text: &str) {
    assert_eq!(value.torch_str(), text);
}

#[test]
fn scalar_sum_prints_one_or_one_point_zero() {
    // The book: softmax weights sum to exactly 1 → `tensor(1.)`; 1 + 1 ulp → `tensor(1.0000)`.
    assert_eq!(1.0_f32.torch_str(), "tensor(1.)");
    assert_eq!(f32::from_bits(0x3f80_0001).torch_str(), "tensor(1.0000)");
}

#[test]
fn batch_of_matrices_has_blank_lines_between_items() {
    let b = vec![m(2, 1, &[1.5, -2.0]), m(2, 1, &[0.25, 3.0])];
    assert_eq!(
        b.torch_str(),
        "tensor([[[ 1.5000],\n         [-2.0000]],\n\n        [[ 0.2500],\n         [ 3.0000]]])"
    );
}

#[test]
fn shapes_print_like_torch_size() {
    assert_eq!(torch_size(&[2, 6, 3]), "torch.Size([2, 6, 3])");
    assert_eq!(torch_size(&[]), "torch.Size([])");
}

#[rstest]
#[case::same_line(
    "tensor([[0.2996, 0.8053]], grad_fn=<MmBackward0>)",
    "tensor([[0.2996, 0.8053]])"
)]
#[case::own_line(
    "tensor([[0.1921]],\n       grad_fn=<SoftmaxBackward0>)",
    "tensor([[0.1921]])"
)]
#[case::none("tensor([2., 0.])", "tensor([2., 0.])")]
#[case::batch(
    "tensor([[[0.3190]],\n\n        [[0.3190]]], grad_fn=<ViewBackward0>)",
    "tensor([[[0.3190]],\n\n        [[0.3190]]])"
)]
fn autograd_suffix_is_removed(#[case] book: &str, #[case] ours: &str) {
    assert_eq!(strip_autograd_suffix(book), ours);
}

/// Slices, row vectors and column vectors all print as 1-D tensors.
#[test]
fn vectors_of_every_kind_print_as_1d_tensors() {
    use ch03_attention::nalgebra::{DVector, RowDVector};
    let values = [0.5_f32, -1.25, 3.0];
    let want = "tensor([ 0.5000, -1.2500,  3.0000])";
    assert_eq!(values[..].torch_str(), want);
    assert_eq!(RowDVector::from_row_slice(&values).torch_str(), want);
    assert_eq!(DVector::from_column_slice(&values).torch_str(), want);
    assert_eq!(values[..].torch_shape(), [3]);
    assert_eq!(RowDVector::from_row_slice(&values).torch_data(), values);
}

/// Python's `repr` of a float, recorded by scripts/python_repr_truth.py: hand-picked values
/// (exact ties such as 578.57501220703125, the fixed/scientific boundaries), random doubles of
/// every magnitude and random float32 values widened to double. Exact text, every case.
#[test]
fn python_float_repr_matches_python_for_every_recorded_double() {
    let json: JsonValue = common::data_file("python_repr.json").parse().unwrap();
    let cases: &Vec<JsonValue> = json["cases"].get().unwrap();
    assert!(
        cases.len() >= 10_000,
        "the truth file lost cases: {}",
        cases.len()
    );
    let mut failures = Vec::new();
    for case in cases {
        let bits: &String = case["bits"].get().unwrap();
        let x = f64::from_bits(u64::from_str_radix(bits, 16).unwrap());
        let want: &String = case["repr"].get().unwrap();
        let got = python_float_repr(x);
        if &got != want {
            failures.push(format!("{bits}: ours {got}, Python {want}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} differ from Python:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// A tie between two shortest strings goes to the even last digit, as in Python.
#[test]
fn python_float_repr_breaks_ties_to_even() {
    assert_eq!(
        // f64::from(578.575_f32) is exactly 578.57501220703125: "…312" and "…313" are equally
        // close to it, and 2 is even.
        python_float_repr(f64::from(578.575_f32)),
        "578.5750122070312"
    );
    assert_eq!(python_float_repr(f64::from(0.1_f32)), "0.10000000149011612");
}

/// A batch whose matrices differ in shape is not one tensor: the printer says so instead of
/// panicking (2×2 beside 3×3) or printing a tensor that was never there (2×3 beside 3×2).
#[rstest]
#[case::different_sizes(vec![DMatrix::zeros(2, 2), DMatrix::zeros(3, 3)], "batch item 1 has shape (3 × 3) but item 0 has shape (2 × 2)")]
#[case::same_size_other_shape(vec![DMatrix::zeros(2, 3), DMatrix::zeros(3, 2)], "batch item 1 has shape (3 × 2) but item 0 has shape (2 × 3)")]
fn ragged_batches_print_the_reason(#[case] batch: Vec<DMatrix<f32>>, #[case] reason: &str) {
    assert_eq!(batch.try_torch_str().unwrap_err().to_string(), reason);
    assert_eq!(batch.torch_str(), format!("<not a tensor: {reason}>"));
    let heads = [batch.clone(), batch];
    assert_eq!(heads.torch_str(), format!("<not a tensor: {reason}>"));
}

/// Four-dimensional batches: every item must have as many heads as the first.
#[test]
fn a_batch_of_heads_needs_the_same_number_of_heads_per_item() {
    let two = vec![DMatrix::<f32>::zeros(1, 1); 2];
    let three = vec![DMatrix::<f32>::zeros(1, 1); 3];
    assert_eq!(
        [two, three].torch_str(),
        "<not a tensor: batch item 1 has 3 heads but item 0 has 2>"
    );
}

/// Elements that do not fill the shape: a reason, not a panic.
#[test]
fn format_tensor_with_the_wrong_element_count_says_so() {
    assert_eq!(
        format_tensor(&[2, 2], &[1.0]),
        "<not a tensor: a tensor of shape [2, 2] holds 4 elements, got 1>"
    );
    assert_eq!(
        format_tensor(&[usize::MAX, 2], &[1.0]),
        format!(
            "<not a tensor: a tensor of shape [{}, 2] holds {} elements, got 1>",
            usize::MAX,
            2 * (usize::MAX as u128)
        )
    );
}
