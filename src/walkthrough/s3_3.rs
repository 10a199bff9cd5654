//! Section 3.3: attention without trainable weights.

use super::{Item, Section};
use crate::Error;
use crate::book;
use crate::context::{context_vec, context_vecs};
use crate::inputs::{QUERY_INDEX, inputs};
use crate::normalize::{row_sums, softmax, softmax_naive, softmax_rows, sum_normalize};
use crate::similarity::{attn_scores, attn_scores_for, attn_scores_loop, dot};
use crate::torch::print::{TorchPrint, python_float_repr};
use crate::torch::row;

pub(super) fn sections() -> Result<Vec<Section>, Error> {
    let inputs = inputs();
    let query = row(&inputs, QUERY_INDEX); // x⁽²⁾ "journey"

    // 3.3.1, step 1: scores of the query against every token.
    let attn_scores_2 = attn_scores_for(&query, &inputs)?;
    let x_1 = row(&inputs, 0);
    let omega_21_loop = dot(&x_1, &query)?;
    let omega_21_dot = x_1.dot(&query);

    // Step 2: three ways to normalize.
    let sum_norm = sum_normalize(&attn_scores_2);
    let naive = softmax_naive(&attn_scores_2);
    let stable = softmax(&attn_scores_2);
    let total = |w: &nalgebra::DVector<f32>| crate::torch::reduce::sum(w.as_slice()).torch_str();

    // Step 3: the context vector z⁽²⁾.
    let context_vec_2 = context_vec(&stable, &inputs)?;

    let s331 = Section {
        id: "3.3.1",
        title: "A simple self-attention mechanism without trainable weights",
        items: vec![
            Item::book(
                "[28]",
                "attention scores ω₂ⱼ = x⁽ʲ⁾ · x⁽²⁾ of the query \"journey\"",
                attn_scores_2.torch_str(),
                book::ATTN_SCORES_2,
            ),
            Item::book(
                "[30]",
                "ω₂₁ as an explicit multiply-and-add loop",
                omega_21_loop.torch_str(),
                book::ATTN_SCORE_21_LOOP,
            ),
            Item::book(
                "[30]",
                "ω₂₁ as a library dot product",
                omega_21_dot.torch_str(),
                book::ATTN_SCORE_21_DOT,
            ),
            Item::book(
                "[33]",
                "weights by sum normalization",
                format!("Attention weights: {}", sum_norm.torch_str()),
                book::ATTN_WEIGHTS_2_NAIVE_SUM,
            ),
            Item::book(
                "[33]",
                "their sum (1.0000001 in f32, so 4 decimals)",
                format!("Sum: {}", total(&sum_norm)),
                book::ATTN_WEIGHTS_2_NAIVE_SUM_TOTAL,
            ),
            Item::book(
                "[35]",
                "weights by the naive softmax exp(x)/Σexp(x)",
                format!("Attention weights: {}", naive.torch_str()),
                book::ATTN_WEIGHTS_2_NAIVE_SOFTMAX,
            ),
            Item::book(
                "[35]",
                "their sum (exactly 1 in f32, so integer form)",
                format!("Sum: {}", total(&naive)),
                book::ATTN_WEIGHTS_2_NAIVE_SOFTMAX_TOTAL,
            ),
            Item::book(
                "[37]",
                "weights by the stable softmax (torch.softmax)",
                format!("Attention weights: {}", stable.torch_str()),
                book::ATTN_WEIGHTS_2_TORCH_SOFTMAX,
            ),
            Item::book(
                "[37]",
                "their sum",
                format!("Sum: {}", total(&stable)),
                book::ATTN_WEIGHTS_2_TORCH_SOFTMAX_TOTAL,
            ),
            Item::book(
                "[40]",
                "context vector z⁽²⁾ = Σᵢ α₂ᵢ x⁽ⁱ⁾",
                context_vec_2.torch_str(),
                book::CONTEXT_VEC_2,
            ),
        ],
    };

    // 3.3.2: every query at once.
    let scores_loop = attn_scores_loop(&inputs);
    let scores = attn_scores(&inputs);
    let attn_weights = softmax_rows(&scores);
    // Python's `sum([...])` of the six row-2 weights as printed (rounded to 4 decimals).
    let row_2_printed_sum: f64 = row(&attn_weights, QUERY_INDEX)
        .iter()
        .map(|w| {
            format!("{:.4}", f64::from(*w))
                .parse::<f64>()
                .expect("a number")
        })
        .sum();
    let all_context_vecs = context_vecs(&attn_weights, &inputs)?;

    let s332 = Section {
        id: "3.3.2",
        title: "Computing attention weights for all input tokens",
        items: vec![
            Item::book(
                "[47]",
                "all scores ωᵢⱼ with two loops",
                scores_loop.torch_str(),
                book::ATTN_SCORES_LOOP,
            ),
            Item::book(
                "[49]",
                "all scores as one product X·Xᵀ",
                scores.torch_str(),
                book::ATTN_SCORES_MATMUL,
            ),
            Item::book(
                "[51]",
                "attention weights: softmax of each row",
                attn_weights.torch_str(),
                book::ATTN_WEIGHTS,
            ),
            Item::book(
                "[53]",
                "row 2's printed (rounded) weights, summed as Python floats",
                format!("Row 2 sum: {}", python_float_repr(row_2_printed_sum)),
                book::ROW_2_SUM,
            ),
            Item::book(
                "[53]",
                "every row sums to 1",
                format!("All row sums: {}", row_sums(&attn_weights).torch_str()),
                book::ALL_ROW_SUMS,
            ),
            Item::book(
                "[55]",
                "all context vectors as one product A·X",
                all_context_vecs.torch_str(),
                book::ALL_CONTEXT_VECS,
            ),
            Item::book(
                "[57]",
                "z⁽²⁾ from 3.3.1, equal to row 2 above",
                format!("Previous 2nd context vector: {}", context_vec_2.torch_str()),
                book::PREVIOUS_CONTEXT_VEC_2,
            ),
        ],
    };
    Ok(vec![s331, s332])
}
