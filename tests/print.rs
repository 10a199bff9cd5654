//! The PyTorch-style printer against real PyTorch output (tests/data/torch_print.json, written by
//! scripts/torch_print_truth.py), plus each rule the book's outputs rely on, spelled out.

use crate::common;

use ch03_attention::nalgebra::DMatrix;
use ch03_attention::torch::print::{TorchPrint, format_tensor, strip_autograd_suffix, torch_size};
use rstest::rstest;
use tinyjson::JsonValue;

/// Every case PyTorch printed, reproduced character for character.
#[test]
fn matches_pytorch_print_for_every_recorded_tensor() {
    let json: JsonValue = common::data_file("torch_print.json").parse().unwrap();
    let cases: &Vec<JsonValue> = json["cases"].get().unwrap();
    assert!(
        cases.len() >= 38,
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
        let got = format_tensor(&shape, &data);
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
