//! Section 3.4, self-attention with trainable weights: the seeded projections, the scaled
//! dot product and the two `SelfAttention` classes.
//!
//! Each constant is one printed result: the book's text, where it is printed, its Korean label and
//! cell, and how the crate computes it (see [`Printed`]). The helpers above the records are the
//! section's shared setup, written once.

use super::s3_3::x_2;
use super::*;

/// 3.4.1: `torch.manual_seed(123)`, then `W_query`, `W_key`, `W_value` = three
/// `torch.rand(d_in, d_out)`, (3, d_out) each (the book: d_out = 2).
fn seeded_qkv(s: &Setup) -> [DMatrix<f32>; 3] {
    let mut rng = s.rng(123);
    let d_out = s.d_out(2);
    [rng.rand(3, d_out), rng.rand(3, d_out), rng.rand(3, d_out)]
}

/// 3.4.1's projections of the inputs with the seed-123 weights.
struct Projected {
    /// q⁽²⁾ = x⁽²⁾ W_q, (d_out,).
    query_2: DVector<f32>,
    /// K = X W_k, (6, d_out): one key per token.
    keys: DMatrix<f32>,
    /// V = X W_v, (6, d_out).
    values: DMatrix<f32>,
}

/// 3.4.1: q⁽²⁾ = x⁽²⁾ W_q, the keys X W_k and the values X W_v.
fn projected(s: &Setup) -> Result<Projected, Error> {
    let [w_query, w_key, w_value] = seeded_qkv(s);
    Ok(Projected {
        query_2: project(&x_2(), &w_query)?,
        keys: project_all(&inputs(), &w_key)?,
        values: project_all(&inputs(), &w_value)?,
    })
}

/// 3.4.1: softmax(q⁽²⁾ Kᵀ / √d_k), where d_k = `keys.shape[1]` (the book: 2).
fn scaled_weights_2(s: &Setup) -> Result<DVector<f32>, Error> {
    let p = projected(s)?;
    let d_k = p.keys.ncols();
    Ok(scaled_softmax(&attn_scores_of(&p.query_2, &p.keys)?, d_k))
}

/// 3.4.2 and 3.5.1: `SelfAttention_v2(3, 2)` after `torch.manual_seed(789)`.
pub(super) fn sa_v2_789(s: &Setup) -> SelfAttentionV2 {
    SelfAttentionV2::new(3, s.d_out(2), s.qkv_bias, &mut s.rng(789))
}

/// 3.4.2 and exercise 3.1: `SelfAttention_v1(3, 2)` after `torch.manual_seed(123)`.
pub(super) fn sa_v1_123(s: &Setup) -> SelfAttentionV1 {
    SelfAttentionV1::new(3, s.d_out(2), &mut s.rng(123))
}

// ---------------------------------------------------------------------------------------------
// The printed results, in the order the notebook prints them
// ---------------------------------------------------------------------------------------------

/// 3.4.1, cell \[70\]: query q⁽²⁾ = x⁽²⁾ W_q with the seed-123 `torch.rand` weights (no `grad_fn`:
/// `requires_grad=False`).
pub const QUERY_2: Printed = Printed {
    section: "3.4.1",
    cell: "[70]",
    cell_ko: "[17]",
    label: "query q⁽²⁾ = x⁽²⁾ W_q",
    label_ko: "쿼리 q⁽²⁾ = x⁽²⁾ W_q",
    name: "s3_4_1_query_2",
    book: r"tensor([0.4306, 1.4551])",
    varies: knobs::SEED_AND_WIDTH,
    compute_with: |s| Ok(projected(s)?.query_2.torch_str()),
};

/// 3.4.1, cell \[72\]: shape of the keys of all six inputs, `inputs @ W_key`.
pub const KEYS_SHAPE: Printed = Printed {
    section: "3.4.1",
    cell: "[72]",
    cell_ko: "[18]",
    label: "keys = X W_k: one key per token",
    label_ko: "키 = X W_k: 토큰마다 키 하나",
    name: "s3_4_1_keys_shape",
    book: r"keys.shape: torch.Size([6, 2])",
    varies: knobs::WIDTH,
    compute_with: |s| {
        let keys = projected(s)?.keys;
        Ok(format!("keys.shape: {}", torch_size(&keys.torch_shape())))
    },
};

/// 3.4.1, cell \[72\]: shape of the values of all six inputs, `inputs @ W_value`.
pub const VALUES_SHAPE: Printed = Printed {
    section: "3.4.1",
    cell: "[72]",
    cell_ko: "[18]",
    label: "values = X W_v",
    label_ko: "값 = X W_v",
    name: "s3_4_1_values_shape",
    book: r"values.shape: torch.Size([6, 2])",
    varies: knobs::WIDTH,
    compute_with: |s| {
        let values = projected(s)?.values;
        Ok(format!(
            "values.shape: {}",
            torch_size(&values.torch_shape())
        ))
    },
};

/// 3.4.1, cell \[75\]: one score ω₂₂ = q⁽²⁾·k⁽²⁾.
pub const ATTN_SCORE_22: Printed = Printed {
    section: "3.4.1",
    cell: "[75]",
    cell_ko: "[19]",
    label: "one score ω₂₂ = q⁽²⁾ · k⁽²⁾",
    label_ko: "점수 하나 ω₂₂ = q⁽²⁾ · k⁽²⁾",
    name: "s3_4_1_attn_score_22",
    book: r"tensor(1.8524)",
    varies: knobs::SEED_AND_WIDTH,
    compute_with: |s| {
        let p = projected(s)?;
        let key_2 = row(&p.keys, QUERY_INDEX);
        Ok(dot(&p.query_2, &key_2)?.torch_str())
    },
};

/// 3.4.1, cell \[77\]: all six scores of query 2, `query_2 @ keys.T`.
pub const ATTN_SCORES_2_QK: Printed = Printed {
    section: "3.4.1",
    cell: "[77]",
    cell_ko: "[20]",
    label: "all scores of query 2: q⁽²⁾ Kᵀ",
    label_ko: "두 번째 쿼리의 모든 점수: q⁽²⁾ Kᵀ",
    name: "s3_4_1_attn_scores_2",
    book: r"tensor([1.2705, 1.8524, 1.8111, 1.0795, 0.5577, 1.5440])",
    varies: knobs::SEED_AND_WIDTH,
    compute_with: |s| {
        let p = projected(s)?;
        Ok(attn_scores_of(&p.query_2, &p.keys)?.torch_str())
    },
};

/// 3.4.1, cell \[80\]: scaled-dot-product weights of query 2, softmax(ω₂ / √d_k) with d_k = 2.
pub const ATTN_WEIGHTS_2_SCALED: Printed = Printed {
    section: "3.4.1",
    cell: "[80]",
    cell_ko: "[21]",
    label: "weights: softmax(ω₂ / √d_k), d_k = 2",
    label_ko: "가중치: softmax(ω₂ / √d_k), d_k = 2",
    name: "s3_4_1_attn_weights_2",
    book: r"tensor([0.1500, 0.2264, 0.2199, 0.1311, 0.0906, 0.1820])",
    varies: knobs::SEED_AND_WIDTH,
    compute_with: |s| Ok(scaled_weights_2(s)?.torch_str()),
};

/// 3.4.1, cell \[83\]: context vector z⁽²⁾ = α₂ · V (a weighted sum of the value vectors).
pub const CONTEXT_VEC_2_QKV: Printed = Printed {
    section: "3.4.1",
    cell: "[83]",
    cell_ko: "[22]",
    label: "context vector z⁽²⁾ = α₂ V",
    label_ko: "문맥 벡터 z⁽²⁾ = α₂ V",
    name: "s3_4_1_context_vec_2",
    book: r"tensor([0.3061, 0.8210])",
    varies: knobs::SEED_AND_WIDTH,
    compute_with: |s| {
        let values = projected(s)?.values;
        Ok(weighted_values(&scaled_weights_2(s)?, &values)?.torch_str())
    },
};

/// 3.4.2, cell \[86\]: `SelfAttention_v1(3, 2)` (seed 123, `torch.rand` weights) applied to the
/// inputs; row 2 is [`CONTEXT_VEC_2_QKV`].
pub const SA_V1_OUTPUT: Printed = Printed {
    section: "3.4.2",
    cell: "[86]",
    cell_ko: "[23]",
    label: "SelfAttentionV1 (seed 123, torch.rand weights)",
    label_ko: "SelfAttentionV1 (시드 123, torch.rand 가중치)",
    name: "s3_4_2_sa_v1_output",
    book: r"tensor([[0.2996, 0.8053],
        [0.3061, 0.8210],
        [0.3058, 0.8203],
        [0.2948, 0.7939],
        [0.2927, 0.7891],
        [0.2990, 0.8040]], grad_fn=<MmBackward0>)",
    varies: knobs::SEED_AND_WIDTH,
    compute_with: |s| Ok(sa_v1_123(s).forward(&inputs())?.torch_str()),
};

/// 3.4.2, cell \[89\]: `SelfAttention_v2(3, 2)` (seed 789, `nn.Linear` weights without bias)
/// applied to the inputs.
pub const SA_V2_OUTPUT: Printed = Printed {
    section: "3.4.2",
    cell: "[89]",
    cell_ko: "[24]",
    label: "SelfAttentionV2 (seed 789, nn.Linear weights)",
    label_ko: "SelfAttentionV2 (시드 789, nn.Linear 가중치)",
    name: "s3_4_2_sa_v2_output",
    book: r"tensor([[-0.0739,  0.0713],
        [-0.0748,  0.0703],
        [-0.0749,  0.0702],
        [-0.0760,  0.0685],
        [-0.0763,  0.0679],
        [-0.0754,  0.0693]], grad_fn=<MmBackward0>)",
    varies: knobs::SEED_WIDTH_BIAS,
    compute_with: |s| Ok(sa_v2_789(s).forward(&inputs())?.torch_str()),
};

/// This section's printed results, in order.
pub(super) const PRINTED: &[Printed] = &[
    QUERY_2,
    KEYS_SHAPE,
    VALUES_SHAPE,
    ATTN_SCORE_22,
    ATTN_SCORES_2_QK,
    ATTN_WEIGHTS_2_SCALED,
    CONTEXT_VEC_2_QKV,
    SA_V1_OUTPUT,
    SA_V2_OUTPUT,
];
