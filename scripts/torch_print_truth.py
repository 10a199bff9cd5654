#!/usr/bin/env python3
"""Ground truth for the PyTorch-style printer: what `print(tensor)` shows for many tensors.

Optional tool (cargo test never runs it). Writes tests/data/torch_print.json:
  {"torch_version": ..., "cases": [{"name", "shape", "bits" (float32 bit patterns, row-major, hex),
  "text"}]}
Run: python3 scripts/torch_print_truth.py   (needs torch; see scripts/README.md)
"""
import json
import math
import os

import torch

torch.manual_seed(0)


def case(name, t, precision=None, sci_mode=None):
    """`precision`, `sci_mode`: print under torch.set_printoptions(precision=..., sci_mode=...)
    (recorded as "options"), then back to the defaults."""
    t = t.to(torch.float32).contiguous()
    bits = [format(int(b) & 0xFFFFFFFF, "08x") for b in t.reshape(-1).view(torch.int32).tolist()]
    out = {"name": name, "shape": list(t.shape), "bits": bits}
    if precision is not None or sci_mode is not None:
        torch.set_printoptions(precision=4 if precision is None else precision, sci_mode=sci_mode)
        out["options"] = {"precision": 4 if precision is None else precision, "sci_mode": sci_mode}
    out["text"] = str(t)
    torch.set_printoptions(profile="default")
    torch.set_printoptions(sci_mode=None)
    return out


inf, nan = math.inf, math.nan
cases = [
    case("scalar", torch.tensor(0.9544)),
    case("scalar_one_exact", torch.tensor(1.0)),
    case("scalar_one_plus_ulp", torch.tensor(1.0000001192092896)),
    case("scalar_negative", torch.tensor(-3.25)),
    case("scalar_tiny_sci", torch.tensor(1.5e-7)),
    case("vector_basic", torch.tensor([0.9544, 1.4950, 1.4754])),
    case("vector_negative_mixed", torch.tensor([-0.0739, 0.0713, 1.5])),
    case("vector_integral", torch.tensor([2.0, 0.0, 2.0, -3.0])),
    case("vector_all_zero", torch.zeros(4)),
    case("vector_neg_inf", torch.tensor([0.2899, -inf, -inf])),
    case("vector_inf_nan", torch.tensor([1.5, inf, nan, -2.25])),
    case("vector_integral_with_inf", torch.tensor([1.0, -inf, 3.0])),
    case("vector_only_nonfinite", torch.tensor([nan, inf])),
    case("vector_sci_spread", torch.tensor([0.0001, 1.0, 12.5])),
    case("vector_sci_large", torch.tensor([1.0e9, 2.5])),
    case("vector_sci_tiny", torch.tensor([5.0e-5, 0.5])),
    case("vector_integral_sci", torch.tensor([1.0, 2000.0])),
    case("vector_integral_large", torch.tensor([123456789.0, 1.0])),
    case("vector_wrap_20", torch.rand(20)),
    case("vector_wrap_negative_30", torch.rand(30) - 0.5),
    case("vector_big_values_wrap", torch.rand(15) * 900),
    case("matrix_basic", torch.rand(3, 4)),
    case("matrix_negative", torch.rand(4, 2) - 0.5),
    case("matrix_mask", torch.tril(torch.ones(4, 4))),
    case("matrix_neg_inf", torch.tensor([[0.29, -inf], [0.47, 0.17]])),
    case("matrix_wide_wraps", torch.rand(2, 14)),
    case("matrix_sci", torch.tensor([[-9.1476e-02, 3.4164e-02], [-1.4744e00, -1.3427e-03]])),
    case("batch_3d", torch.rand(2, 3, 2) - 0.5),
    case("batch_4d", torch.rand(1, 2, 3, 4)),
    case("batch_4d_two", torch.rand(2, 2, 2, 2)),
    case("summarized_vector", torch.rand(1500)),
    case("summarized_matrix", torch.rand(40, 40)),
    case("summarized_matrix_narrow", torch.rand(600, 2)),
    case("summarized_batch", torch.rand(3, 30, 20) - 0.5),
    case("threshold_1000_not_summarized", torch.rand(1000)),
    case("threshold_1001_summarized", torch.rand(1001)),
    case("summarized_six_rows_all_shown", torch.rand(6, 200)),
    case("summarized_seven_rows", torch.rand(7, 200)),
    case("summarized_hidden_outlier_1d", torch.cat([torch.rand(1000), torch.tensor([1.0e6]), torch.rand(999)])),
    case("summarized_hidden_outlier_row", torch.rand(40, 40).index_put_((torch.tensor([20]), torch.tensor([20])), torch.tensor(1.0e6))),
    case("summarized_hidden_outlier_column", torch.rand(40, 40).index_put_((torch.tensor([1]), torch.tensor([20])), torch.tensor(1.0e6))),
    case("empty_vector", torch.zeros(0)),
    case("empty_matrix", torch.zeros(0, 3)),
    case("negative_zero", torch.tensor([-0.0, 1.0])),
    case("rounding_ties", torch.tensor([0.00005, 0.00015, 0.12345, 0.5])),
    case("rounds_to_negative_zero", torch.tensor([-0.00004, 0.5, 1.0])),
    # torch.set_printoptions: precision and sci_mode (diagnose reads printouts made under them).
    case("precision_6", torch.rand(2, 3) - 0.5, precision=6),
    case("precision_6_integral", torch.tensor([2.0, 0.0, 2.0]), precision=6),
    case("precision_6_sci", torch.tensor([5.0e-5, 0.5]), precision=6),
    case("precision_2", torch.tensor([0.125, 0.375, -1.5]), precision=2),
    case("precision_0", torch.tensor([0.5, 1.5, 2.25]), precision=0),
    case("sci_mode_true", torch.tensor([[0.5, 2.0], [0.0, 1.0]]), sci_mode=True),
    case("sci_mode_true_negative", torch.tensor([-0.5, 2.0, -inf]), sci_mode=True),
    case("sci_mode_true_integral", torch.tensor([2.0, 0.0, 2.0]), sci_mode=True),
    case("sci_mode_true_all_zero", torch.zeros(3), sci_mode=True),
    case("sci_mode_true_precision_6", torch.rand(2, 2), precision=6, sci_mode=True),
    case("sci_mode_false_tiny", torch.tensor([5.0e-5, 0.5]), sci_mode=False),
    case("sci_mode_false_spread", torch.tensor([1.0, 2000.0, 0.5]), sci_mode=False),
]

out = {"torch_version": torch.__version__, "cases": cases}
path = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "torch_print.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
print(f"wrote {len(cases)} cases to {os.path.normpath(path)}")
