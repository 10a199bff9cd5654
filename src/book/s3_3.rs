//! Section 3.3, attending to different parts of the input with self-attention: the scores ω of the
//! query "journey", three normalizations, one context vector, then every token at once.
//!
//! Each constant is one printed result: the book's text, where it is printed, its Korean label and
//! cell, and how the crate computes it (see [`Printed`]). The helpers above the records are the
//! section's shared setup, written once.

use super::*;

/// 3.3.1: the query x⁽²⁾ ("journey").
pub(super) fn x_2() -> DVector<f32> {
    row(&inputs(), QUERY_INDEX)
}

/// 3.3.1: scores ω₂ⱼ of the query against all six inputs.
fn omega_2() -> Result<DVector<f32>, Error> {
    attn_scores_for(&x_2(), &inputs())
}

/// 3.3.1: z⁽²⁾ with the `torch.softmax` weights.
pub(super) fn context_vec_2() -> Result<String, Error> {
    Ok(context_vec(&softmax(&omega_2()?), &inputs())?.torch_str())
}

/// 3.3.2: the 6×6 attention weights, softmax of each row of X·Xᵀ.
fn attn_weights_3_3() -> DMatrix<f32> {
    softmax_rows(&attn_scores(&inputs()))
}

/// The float32 sum of a weight vector, printed as PyTorch prints `attn_weights.sum()`.
fn total(weights: &DVector<f32>) -> String {
    sum(weights.as_slice()).torch_str()
}

// ---------------------------------------------------------------------------------------------
// The printed results, in the order the notebook prints them
// ---------------------------------------------------------------------------------------------

/// 3.3.1, cell \[28\]: attention scores ω₂ⱼ of the query x⁽²⁾ "journey" against all six inputs (a
/// dot product per input, computed in a loop).
pub const ATTN_SCORES_2: Printed = Printed {
    section: "3.3.1",
    cell: "[28]",
    cell_ko: "[3]",
    label: "attention scores ω₂ⱼ = x⁽ʲ⁾ · x⁽²⁾ of the query \"journey\"",
    label_ko: "쿼리 \"journey\"의 어텐션 점수 ω₂ⱼ = x⁽ʲ⁾ · x⁽²⁾",
    name: "s3_3_1_attn_scores_2",
    book: r"tensor([0.9544, 1.4950, 1.4754, 0.8434, 0.7070, 1.0865])",
    varies: &[],
    compute_with: |_| Ok(omega_2()?.torch_str()),
};

/// 3.3.1, cell \[30\]: ω₂₁ = x⁽¹⁾·x⁽²⁾ by a manual multiply-and-accumulate loop (first of the
/// cell's two identical lines).
pub const ATTN_SCORE_21_LOOP: Printed = Printed {
    section: "3.3.1",
    cell: "[30]",
    cell_ko: "[4]",
    label: "ω₂₁ as an explicit multiply-and-add loop",
    label_ko: "ω₂₁: 곱하고 더하는 반복문으로",
    name: "s3_3_1_attn_score_21_loop",
    book: r"tensor(0.9544)",
    varies: &[],
    compute_with: |_| Ok(dot(&row(&inputs(), 0), &x_2())?.torch_str()),
};

/// 3.3.1, cell \[30\]: the same ω₂₁ by `torch.dot` (second of the cell's two identical lines).
pub const ATTN_SCORE_21_DOT: Printed = Printed {
    section: "3.3.1",
    cell: "[30]",
    cell_ko: "[4]",
    label: "ω₂₁ as a library dot product",
    label_ko: "ω₂₁: 라이브러리의 점곱으로",
    name: "s3_3_1_attn_score_21_dot",
    book: r"tensor(0.9544)",
    varies: &[],
    compute_with: |_| Ok(row(&inputs(), 0).dot(&x_2()).torch_str()),
};

/// 3.3.1, cell \[33\]: weights α₂ⱼ by naive sum normalization (each score divided by the sum of the
/// scores).
pub const ATTN_WEIGHTS_2_NAIVE_SUM: Printed = Printed {
    section: "3.3.1",
    cell: "[33]",
    cell_ko: "[5]",
    label: "weights by sum normalization",
    label_ko: "합으로 나눈 정규화로 구한 가중치",
    name: "s3_3_1_attn_weights_2_sum_normalized",
    book: r"Attention weights: tensor([0.1455, 0.2278, 0.2249, 0.1285, 0.1077, 0.1656])",
    varies: &[],
    compute_with: |_| {
        let weights = sum_normalize(&omega_2()?);
        Ok(format!("Attention weights: {}", weights.torch_str()))
    },
};

/// 3.3.1, cell \[33\]: sum of the sum-normalized weights (float32 sum 1.0000001…, hence four
/// decimals).
pub const ATTN_WEIGHTS_2_NAIVE_SUM_TOTAL: Printed = Printed {
    section: "3.3.1",
    cell: "[33]",
    cell_ko: "[5]",
    label: "their sum (1.0000001 in f32, so 4 decimals)",
    label_ko: "그 합 (f32로 1.0000001이라 소수 넷째 자리까지 출력)",
    name: "s3_3_1_attn_weights_2_sum_normalized_total",
    book: r"Sum: tensor(1.0000)",
    varies: &[],
    compute_with: |_| Ok(format!("Sum: {}", total(&sum_normalize(&omega_2()?)))),
};

/// 3.3.1, cell \[35\]: weights α₂ⱼ by the naive softmax exp(ω) / Σ exp(ω).
pub const ATTN_WEIGHTS_2_NAIVE_SOFTMAX: Printed = Printed {
    section: "3.3.1",
    cell: "[35]",
    cell_ko: "[6]",
    label: "weights by the naive softmax exp(x)/Σexp(x)",
    label_ko: "단순한 소프트맥스 exp(x)/Σexp(x)로 구한 가중치",
    name: "s3_3_1_attn_weights_2_naive_softmax",
    book: r"Attention weights: tensor([0.1385, 0.2379, 0.2333, 0.1240, 0.1082, 0.1581])",
    varies: &[],
    compute_with: |_| {
        let weights = softmax_naive(&omega_2()?);
        Ok(format!("Attention weights: {}", weights.torch_str()))
    },
};

/// 3.3.1, cell \[35\]: sum of the naive-softmax weights (exactly 1.0 in float32, hence
/// `tensor(1.)`).
pub const ATTN_WEIGHTS_2_NAIVE_SOFTMAX_TOTAL: Printed = Printed {
    section: "3.3.1",
    cell: "[35]",
    cell_ko: "[6]",
    label: "their sum (exactly 1 in f32, so integer form)",
    label_ko: "그 합 (f32로 정확히 1이라 정수 형태로 출력)",
    name: "s3_3_1_attn_weights_2_naive_softmax_total",
    book: r"Sum: tensor(1.)",
    varies: &[],
    compute_with: |_| Ok(format!("Sum: {}", total(&softmax_naive(&omega_2()?)))),
};

/// 3.3.1, cell \[37\]: weights α₂ⱼ by `torch.softmax` (same text as the naive softmax; the float32
/// bits differ).
pub const ATTN_WEIGHTS_2_TORCH_SOFTMAX: Printed = Printed {
    section: "3.3.1",
    cell: "[37]",
    cell_ko: "[7]",
    label: "weights by the stable softmax (torch.softmax)",
    label_ko: "안정적인 소프트맥스(torch.softmax)로 구한 가중치",
    name: "s3_3_1_attn_weights_2_softmax",
    // The book prints the same text as the naive softmax of cell [35].
    book: ATTN_WEIGHTS_2_NAIVE_SOFTMAX.book,
    varies: &[],
    compute_with: |_| {
        let weights = softmax(&omega_2()?);
        Ok(format!("Attention weights: {}", weights.torch_str()))
    },
};

/// 3.3.1, cell \[37\]: sum of the `torch.softmax` weights.
pub const ATTN_WEIGHTS_2_TORCH_SOFTMAX_TOTAL: Printed = Printed {
    section: "3.3.1",
    cell: "[37]",
    cell_ko: "[7]",
    label: "their sum",
    label_ko: "그 합",
    name: "s3_3_1_attn_weights_2_softmax_total",
    book: r"Sum: tensor(1.)",
    varies: &[],
    compute_with: |_| Ok(format!("Sum: {}", total(&softmax(&omega_2()?)))),
};

/// 3.3.1, cell \[40\]: context vector z⁽²⁾ = Σᵢ α₂ᵢ x⁽ⁱ⁾ (a loop over the inputs, with the
/// `torch.softmax` weights).
pub const CONTEXT_VEC_2: Printed = Printed {
    section: "3.3.1",
    cell: "[40]",
    cell_ko: "[8]",
    label: "context vector z⁽²⁾ = Σᵢ α₂ᵢ x⁽ⁱ⁾",
    label_ko: "문맥 벡터 z⁽²⁾ = Σᵢ α₂ᵢ x⁽ⁱ⁾",
    name: "s3_3_1_context_vec_2",
    book: r"tensor([0.4419, 0.6515, 0.5683])",
    varies: &[],
    compute_with: |_| context_vec_2(),
};

/// 3.3.2, cell \[47\]: the 6×6 matrix of all pairwise scores ωᵢⱼ, by a double loop.
pub const ATTN_SCORES_LOOP: Printed = Printed {
    section: "3.3.2",
    cell: "[47]",
    cell_ko: "[9]",
    label: "all scores ωᵢⱼ with two loops",
    label_ko: "이중 반복문으로 구한 모든 점수 ωᵢⱼ",
    name: "s3_3_2_attn_scores_loop",
    book: r"tensor([[0.9995, 0.9544, 0.9422, 0.4753, 0.4576, 0.6310],
        [0.9544, 1.4950, 1.4754, 0.8434, 0.7070, 1.0865],
        [0.9422, 1.4754, 1.4570, 0.8296, 0.7154, 1.0605],
        [0.4753, 0.8434, 0.8296, 0.4937, 0.3474, 0.6565],
        [0.4576, 0.7070, 0.7154, 0.3474, 0.6654, 0.2935],
        [0.6310, 1.0865, 1.0605, 0.6565, 0.2935, 0.9450]])",
    varies: &[],
    compute_with: |_| Ok(attn_scores_loop(&inputs()).torch_str()),
};

/// 3.3.2, cell \[49\]: the same 6×6 score matrix as one product, `inputs @ inputs.T`.
pub const ATTN_SCORES_MATMUL: Printed = Printed {
    section: "3.3.2",
    cell: "[49]",
    cell_ko: "[10]",
    label: "all scores as one product X·Xᵀ",
    label_ko: "행렬 곱셈 한 번으로 구한 모든 점수 X·Xᵀ",
    name: "s3_3_2_attn_scores",
    // The book prints the same text as the loop of cell [47].
    book: ATTN_SCORES_LOOP.book,
    varies: &[],
    compute_with: |_| Ok(attn_scores(&inputs()).torch_str()),
};

/// 3.3.2, cell \[51\]: the 6×6 attention weights: row-wise softmax (`dim=-1`) of the score matrix.
pub const ATTN_WEIGHTS: Printed = Printed {
    section: "3.3.2",
    cell: "[51]",
    cell_ko: "[11]",
    label: "attention weights: softmax of each row",
    label_ko: "어텐션 가중치: 각 행의 소프트맥스",
    name: "s3_3_2_attn_weights",
    book: r"tensor([[0.2098, 0.2006, 0.1981, 0.1242, 0.1220, 0.1452],
        [0.1385, 0.2379, 0.2333, 0.1240, 0.1082, 0.1581],
        [0.1390, 0.2369, 0.2326, 0.1242, 0.1108, 0.1565],
        [0.1435, 0.2074, 0.2046, 0.1462, 0.1263, 0.1720],
        [0.1526, 0.1958, 0.1975, 0.1367, 0.1879, 0.1295],
        [0.1385, 0.2184, 0.2128, 0.1420, 0.0988, 0.1896]])",
    varies: &[],
    compute_with: |_| Ok(attn_weights_3_3().torch_str()),
};

/// 3.3.2, cell \[53\]: Python-float sum of the six printed (rounded) row-2 weights; Python's float
/// repr, not torch's.
pub const ROW_2_SUM: Printed = Printed {
    section: "3.3.2",
    cell: "[53]",
    cell_ko: "[12]",
    label: "row 2's printed (rounded) weights, summed as Python floats",
    label_ko: "두 번째 행의 출력된(반올림된) 가중치를 파이썬 float로 더한 값",
    name: "s3_3_2_row_2_sum",
    book: r"Row 2 sum: 1.0",
    varies: &[],
    compute_with: |_| {
        // Python's `sum([...])` of the six row-2 weights as printed (rounded to 4 decimals).
        let row_2_printed_sum: f64 = row(&attn_weights_3_3(), QUERY_INDEX)
            .iter()
            .map(|w| {
                format!("{:.4}", f64::from(*w))
                    .parse::<f64>()
                    .expect("a formatted number parses")
            })
            .sum();
        Ok(format!(
            "Row 2 sum: {}",
            python_float_repr(row_2_printed_sum)
        ))
    },
};

/// 3.3.2, cell \[53\]: row sums of the 6×6 attention weights (some are 1.0000001 in float32, hence
/// four decimals).
pub const ALL_ROW_SUMS: Printed = Printed {
    section: "3.3.2",
    cell: "[53]",
    cell_ko: "[12]",
    label: "every row sums to 1",
    label_ko: "모든 행의 합은 1",
    name: "s3_3_2_all_row_sums",
    book: r"All row sums: tensor([1.0000, 1.0000, 1.0000, 1.0000, 1.0000, 1.0000])",
    varies: &[],
    compute_with: |_| {
        let sums = row_sums(&attn_weights_3_3());
        Ok(format!("All row sums: {}", sums.torch_str()))
    },
};

/// 3.3.2, cell \[55\]: all six context vectors at once, `attn_weights @ inputs` (6×3).
pub const ALL_CONTEXT_VECS: Printed = Printed {
    section: "3.3.2",
    cell: "[55]",
    cell_ko: "[13]",
    label: "all context vectors as one product A·X",
    label_ko: "행렬 곱셈 한 번으로 구한 모든 문맥 벡터 A·X",
    name: "s3_3_2_context_vecs",
    book: r"tensor([[0.4421, 0.5931, 0.5790],
        [0.4419, 0.6515, 0.5683],
        [0.4431, 0.6496, 0.5671],
        [0.4304, 0.6298, 0.5510],
        [0.4671, 0.5910, 0.5266],
        [0.4177, 0.6503, 0.5645]])",
    varies: &[],
    compute_with: |_| Ok(context_vecs(&attn_weights_3_3(), &inputs())?.torch_str()),
};

/// 3.3.2, cell \[57\]: z⁽²⁾ from 3.3.1 printed again, to compare with row 2 of
/// [`ALL_CONTEXT_VECS`].
pub const PREVIOUS_CONTEXT_VEC_2: Printed = Printed {
    section: "3.3.2",
    cell: "[57]",
    cell_ko: "[14]",
    label: "z⁽²⁾ from 3.3.1, equal to row 2 above",
    label_ko: "3.3.1의 z⁽²⁾: 위의 두 번째 행과 같음",
    name: "s3_3_2_previous_context_vec_2",
    book: r"Previous 2nd context vector: tensor([0.4419, 0.6515, 0.5683])",
    varies: &[],
    compute_with: |_| Ok(format!("Previous 2nd context vector: {}", context_vec_2()?)),
};

/// This section's printed results, in order.
pub(super) const PRINTED: &[Printed] = &[
    ATTN_SCORES_2,
    ATTN_SCORE_21_LOOP,
    ATTN_SCORE_21_DOT,
    ATTN_WEIGHTS_2_NAIVE_SUM,
    ATTN_WEIGHTS_2_NAIVE_SUM_TOTAL,
    ATTN_WEIGHTS_2_NAIVE_SOFTMAX,
    ATTN_WEIGHTS_2_NAIVE_SOFTMAX_TOTAL,
    ATTN_WEIGHTS_2_TORCH_SOFTMAX,
    ATTN_WEIGHTS_2_TORCH_SOFTMAX_TOTAL,
    CONTEXT_VEC_2,
    ATTN_SCORES_LOOP,
    ATTN_SCORES_MATMUL,
    ATTN_WEIGHTS,
    ROW_2_SUM,
    ALL_ROW_SUMS,
    ALL_CONTEXT_VECS,
    PREVIOUS_CONTEXT_VEC_2,
];
