//! Section 3.5, hiding future words with causal attention: the two masks, dropout, and
//! `CausalAttention` on a batch.
//!
//! Each constant is one printed result: the book's text, where it is printed, its Korean label and
//! cell, and how the crate computes it (see [`Printed`]). The helpers above the records are the
//! section's shared setup, written once.

use super::s3_4::sa_v2_789;
use super::*;

/// 3.5.1: `sa_v2`'s unmasked 6×6 attention weights.
fn sa_v2_attn_weights(s: &Setup) -> Result<DMatrix<f32>, Error> {
    sa_v2_789(s).attn_weights(&inputs())
}

/// 3.5.1: route 2, softmax of the −∞-masked scores over √d_k (d_k = d_out).
fn causal_weights(s: &Setup) -> Result<DMatrix<f32>, Error> {
    let sa_v2 = sa_v2_789(s);
    Ok(causal_attn_weights(
        &sa_v2.attn_scores(&inputs())?,
        s.d_out(2),
    ))
}

/// 3.5.2: `torch.manual_seed(123)`, then `nn.Dropout(0.5)` in training mode on `x` (in
/// evaluation mode under [`DropoutMode::Eval`]: `x` unchanged).
fn dropout_seed_123(s: &Setup, x: &DMatrix<f32>) -> Result<String, Error> {
    let mut rng = s.rng(123);
    let out = match s.dropout {
        DropoutMode::Book => Dropout::new(0.5)?.forward_train(x, &mut rng),
        DropoutMode::Train(p) => Dropout::new(p)?.forward_train(x, &mut rng),
        DropoutMode::Eval => Dropout::new(0.5)?.forward(x),
    };
    Ok(out.torch_str())
}

/// 3.5.3 onwards: `torch.stack((inputs, inputs))`, a batch of two copies, (2, 6, 3).
pub(super) fn batch() -> Vec<DMatrix<f32>> {
    vec![inputs(), inputs()]
}

/// 3.5.3: `CausalAttention(3, 2, 6, 0.0)` after `torch.manual_seed(123)`, on the batch.
///
/// A new `nn.Module` is in training mode, so `ca(batch)` runs dropout in training mode: with
/// the book's rate 0.0 it draws nothing and changes nothing.
fn causal_context_vecs(s: &Setup) -> Result<Vec<DMatrix<f32>>, Error> {
    let mut rng = s.rng(123);
    let ca = CausalAttention::new(3, s.d_out(2), 6, s.module_dropout(), s.qkv_bias, &mut rng)?;
    ca.forward_train(&batch(), &mut rng) // (2, 6, d_out)
}

/// `context_vecs.shape: torch.Size([…])` for a batch of results.
pub(super) fn context_vecs_shape(context_vecs: &[DMatrix<f32>]) -> String {
    format!(
        "context_vecs.shape: {}",
        torch_size(&context_vecs.torch_shape())
    )
}

// ---------------------------------------------------------------------------------------------
// The printed results, in the order the notebook prints them
// ---------------------------------------------------------------------------------------------

/// 3.5.1, cell \[98\]: the unmasked 6×6 scaled attention weights of the seed-789 `sa_v2` layers.
pub const SA_V2_ATTN_WEIGHTS: Printed = Printed {
    section: "3.5.1",
    cell: "[98]",
    cell_ko: "[25]",
    label: "sa_v2's attention weights, unmasked",
    label_ko: "sa_v2의 어텐션 가중치, 마스크 없이",
    name: "s3_5_1_attn_weights",
    book: r"tensor([[0.1921, 0.1646, 0.1652, 0.1550, 0.1721, 0.1510],
        [0.2041, 0.1659, 0.1662, 0.1496, 0.1665, 0.1477],
        [0.2036, 0.1659, 0.1662, 0.1498, 0.1664, 0.1480],
        [0.1869, 0.1667, 0.1668, 0.1571, 0.1661, 0.1564],
        [0.1830, 0.1669, 0.1670, 0.1588, 0.1658, 0.1585],
        [0.1935, 0.1663, 0.1666, 0.1542, 0.1666, 0.1529]],
       grad_fn=<SoftmaxBackward0>)",
    varies: knobs::SEED_WIDTH_BIAS,
    compute_with: |s| Ok(sa_v2_attn_weights(s)?.torch_str()),
};

/// 3.5.1, cell \[100\]: the simple causal mask `torch.tril(torch.ones(6, 6))`.
pub const SIMPLE_MASK: Printed = Printed {
    section: "3.5.1",
    cell: "[100]",
    cell_ko: "[26]",
    label: "the simple mask tril(ones(6, 6))",
    label_ko: "간단한 마스크 tril(ones(6, 6))",
    name: "s3_5_1_simple_mask",
    book: r"tensor([[1., 0., 0., 0., 0., 0.],
        [1., 1., 0., 0., 0., 0.],
        [1., 1., 1., 0., 0., 0.],
        [1., 1., 1., 1., 0., 0.],
        [1., 1., 1., 1., 1., 0.],
        [1., 1., 1., 1., 1., 1.]])",
    varies: &[],
    compute_with: |_| Ok(simple_mask(6).torch_str()),
};

/// 3.5.1, cell \[102\]: the attention weights times the simple mask (entries above the diagonal
/// zeroed; rows no longer sum to 1).
pub const MASKED_SIMPLE: Printed = Printed {
    section: "3.5.1",
    cell: "[102]",
    cell_ko: "[27]",
    label: "route 1: weights × mask (rows no longer sum to 1)",
    label_ko: "방법 1: 가중치 × 마스크 (행의 합이 더는 1이 아님)",
    name: "s3_5_1_masked_simple",
    book: r"tensor([[0.1921, 0.0000, 0.0000, 0.0000, 0.0000, 0.0000],
        [0.2041, 0.1659, 0.0000, 0.0000, 0.0000, 0.0000],
        [0.2036, 0.1659, 0.1662, 0.0000, 0.0000, 0.0000],
        [0.1869, 0.1667, 0.1668, 0.1571, 0.0000, 0.0000],
        [0.1830, 0.1669, 0.1670, 0.1588, 0.1658, 0.0000],
        [0.1935, 0.1663, 0.1666, 0.1542, 0.1666, 0.1529]],
       grad_fn=<MulBackward0>)",
    varies: knobs::SEED_WIDTH_BIAS,
    compute_with: |s| Ok(mask_then_renormalize(&sa_v2_attn_weights(s)?).0.torch_str()),
};

/// 3.5.1, cell \[105\]: the masked weights renormalized, each row divided by its own sum.
pub const MASKED_SIMPLE_NORM: Printed = Printed {
    section: "3.5.1",
    cell: "[105]",
    cell_ko: "[28]",
    label: "route 1: each row divided by its sum",
    label_ko: "방법 1: 각 행을 그 합으로 나눔",
    name: "s3_5_1_masked_simple_norm",
    book: r"tensor([[1.0000, 0.0000, 0.0000, 0.0000, 0.0000, 0.0000],
        [0.5517, 0.4483, 0.0000, 0.0000, 0.0000, 0.0000],
        [0.3800, 0.3097, 0.3103, 0.0000, 0.0000, 0.0000],
        [0.2758, 0.2460, 0.2462, 0.2319, 0.0000, 0.0000],
        [0.2175, 0.1983, 0.1984, 0.1888, 0.1971, 0.0000],
        [0.1935, 0.1663, 0.1666, 0.1542, 0.1666, 0.1529]],
       grad_fn=<DivBackward0>)",
    varies: knobs::SEED_WIDTH_BIAS,
    compute_with: |s| Ok(mask_then_renormalize(&sa_v2_attn_weights(s)?).1.torch_str()),
};

/// 3.5.1, cell \[108\]: the unscaled scores with −∞ above the diagonal (`masked_fill` with a
/// `triu(…, diagonal=1)` mask).
pub const MASKED_NEG_INF: Printed = Printed {
    section: "3.5.1",
    cell: "[108]",
    cell_ko: "[29]",
    label: "route 2: future scores set to −∞ (unscaled)",
    label_ko: "방법 2: 미래의 점수를 −∞로 (스케일링 전)",
    name: "s3_5_1_masked_neg_inf",
    book: r"tensor([[0.2899,   -inf,   -inf,   -inf,   -inf,   -inf],
        [0.4656, 0.1723,   -inf,   -inf,   -inf,   -inf],
        [0.4594, 0.1703, 0.1731,   -inf,   -inf,   -inf],
        [0.2642, 0.1024, 0.1036, 0.0186,   -inf,   -inf],
        [0.2183, 0.0874, 0.0882, 0.0177, 0.0786,   -inf],
        [0.3408, 0.1270, 0.1290, 0.0198, 0.1290, 0.0078]],
       grad_fn=<MaskedFillBackward0>)",
    varies: knobs::SEED_WIDTH_BIAS,
    compute_with: |s| {
        let attn_scores = sa_v2_789(s).attn_scores(&inputs())?; // (6, 6), unscaled
        Ok(mask_future_with_neg_inf(&attn_scores).torch_str())
    },
};

/// 3.5.1, cell \[110\]: softmax of the −∞-masked scores over √d_k: the same text as
/// [`MASKED_SIMPLE_NORM`] (bits differ by up to 2.98e-8).
pub const CAUSAL_ATTN_WEIGHTS: Printed = Printed {
    section: "3.5.1",
    cell: "[110]",
    cell_ko: "[30]",
    label: "route 2: softmax(masked / √d_k): same as route 1",
    label_ko: "방법 2: softmax(마스킹된 점수 / √d_k): 방법 1과 같음",
    name: "s3_5_1_causal_attn_weights",
    book: r"tensor([[1.0000, 0.0000, 0.0000, 0.0000, 0.0000, 0.0000],
        [0.5517, 0.4483, 0.0000, 0.0000, 0.0000, 0.0000],
        [0.3800, 0.3097, 0.3103, 0.0000, 0.0000, 0.0000],
        [0.2758, 0.2460, 0.2462, 0.2319, 0.0000, 0.0000],
        [0.2175, 0.1983, 0.1984, 0.1888, 0.1971, 0.0000],
        [0.1935, 0.1663, 0.1666, 0.1542, 0.1666, 0.1529]],
       grad_fn=<SoftmaxBackward0>)",
    varies: knobs::SEED_WIDTH_BIAS,
    compute_with: |s| Ok(causal_weights(s)?.torch_str()),
};

/// 3.5.2, cell \[115\]: `nn.Dropout(0.5)` after `torch.manual_seed(123)` on `torch.ones(6, 6)`:
/// kept entries scaled to 2 (the book's mask; see [`DROPOUT_ONES_LINUX_MKL`]).
pub const DROPOUT_ONES: Printed = Printed {
    section: "3.5.2",
    cell: "[115]",
    cell_ko: "[31]",
    label: "Dropout(0.5) on ones(6, 6): kept entries scaled to 1/(1−p) = 2",
    label_ko: "ones(6, 6)에 Dropout(0.5): 남은 원소는 1/(1−p) = 2배",
    name: "s3_5_2_dropout_ones",
    book: r"tensor([[2., 2., 0., 2., 2., 0.],
        [0., 0., 0., 2., 0., 2.],
        [2., 2., 2., 2., 0., 2.],
        [0., 2., 2., 0., 0., 2.],
        [0., 2., 0., 2., 0., 2.],
        [0., 2., 2., 2., 2., 0.]])",
    varies: knobs::SEED_AND_DROPOUT,
    compute_with: |s| dropout_seed_123(s, &DMatrix::from_element(6, 6, 1.0)),
};

/// 3.5.2, cell \[116\]: the same dropout, re-seeded with 123, on [`CAUSAL_ATTN_WEIGHTS`]: the same
/// keep-mask, kept weights doubled.
pub const DROPOUT_ATTN_WEIGHTS: Printed = Printed {
    section: "3.5.2",
    cell: "[116]",
    cell_ko: "[32]",
    label: "the same mask on the causal weights (reseeded)",
    label_ko: "코잘 어텐션 가중치에 같은 마스크 (시드 다시 설정)",
    name: "s3_5_2_dropout_attn_weights",
    book: r"tensor([[2.0000, 0.0000, 0.0000, 0.0000, 0.0000, 0.0000],
        [0.0000, 0.0000, 0.0000, 0.0000, 0.0000, 0.0000],
        [0.7599, 0.6194, 0.6206, 0.0000, 0.0000, 0.0000],
        [0.0000, 0.4921, 0.4925, 0.0000, 0.0000, 0.0000],
        [0.0000, 0.3966, 0.0000, 0.3775, 0.0000, 0.0000],
        [0.0000, 0.3327, 0.3331, 0.3084, 0.3331, 0.0000]],
       grad_fn=<MulBackward0>)",
    varies: knobs::SEED_AND_DROPOUT,
    compute_with: |s| dropout_seed_123(s, &causal_weights(&Setup::BOOK)?),
};

/// 3.5.3, cell \[120\]: shape of `batch = torch.stack((inputs, inputs), dim=0)`.
pub const BATCH_SHAPE: Printed = Printed {
    section: "3.5.3",
    cell: "[120]",
    cell_ko: "[33]",
    label: "batch = two copies of the input",
    label_ko: "배치 = 입력 두 벌",
    name: "s3_5_3_batch_shape",
    book: r"torch.Size([2, 6, 3])",
    varies: &[],
    compute_with: |_| Ok(torch_size(&batch().torch_shape())),
};

/// 3.5.3, cell \[121\]: `CausalAttention(3, 2, 6, 0.0)` (seed 123) applied to the batch.
pub const CAUSAL_CONTEXT_VECS: Printed = Printed {
    section: "3.5.3",
    cell: "[121]",
    cell_ko: "[34]",
    label: "CausalAttention(3, 2, 6, 0.0), seed 123",
    label_ko: "CausalAttention(3, 2, 6, 0.0), 시드 123",
    name: "s3_5_3_causal_context_vecs",
    book: r"tensor([[[-0.4519,  0.2216],
         [-0.5874,  0.0058],
         [-0.6300, -0.0632],
         [-0.5675, -0.0843],
         [-0.5526, -0.0981],
         [-0.5299, -0.1081]],

        [[-0.4519,  0.2216],
         [-0.5874,  0.0058],
         [-0.6300, -0.0632],
         [-0.5675, -0.0843],
         [-0.5526, -0.0981],
         [-0.5299, -0.1081]]], grad_fn=<UnsafeViewBackward0>)",
    varies: knobs::SEED_WIDTH_BIAS_DROPOUT,
    compute_with: |s| Ok(causal_context_vecs(s)?.torch_str()),
};

/// 3.5.3, cell \[121\]: shape of [`CAUSAL_CONTEXT_VECS`].
pub const CAUSAL_CONTEXT_VECS_SHAPE: Printed = Printed {
    section: "3.5.3",
    cell: "[121]",
    cell_ko: "[34]",
    label: "its shape",
    label_ko: "그 크기",
    name: "s3_5_3_causal_context_vecs_shape",
    book: r"context_vecs.shape: torch.Size([2, 6, 2])",
    varies: knobs::WIDTH,
    compute_with: |s| Ok(context_vecs_shape(&causal_context_vecs(s)?)),
};

// ---------------------------------------------------------------------------------------------
// Not the book's: the same two cells as another PyTorch build prints them (for `diagnose`)
// ---------------------------------------------------------------------------------------------

/// 3.5.2, cell \[115\] as a PyTorch build on the MKL path prints it: **not printed by the book.**
///
/// Linux x86-64 PyTorch builds with MKL (torch ≤ 2.6), running on an Intel CPU, draw the dropout
/// mask through MKL's Bernoulli generator instead of the default serial generator, so the same
/// seed gives a different mask. A reader reported exactly this matrix in
/// rasbt/LLMs-from-scratch#57 (see also PyTorch issue #121595), and PyTorch 2.4.0 on such a build
/// reproduces it; newer PyTorch sources changed this code path again. This crate draws the same
/// mask with [`BernoulliPath::MklLegacy`](crate::BernoulliPath::MklLegacy). The book's output is
/// [`DROPOUT_ONES`], produced by the default path; this one is for diagnosis only.
pub const DROPOUT_ONES_LINUX_MKL: &str = r"tensor([[2., 2., 2., 2., 2., 2.],
        [0., 2., 0., 0., 0., 0.],
        [0., 0., 2., 0., 2., 0.],
        [2., 2., 0., 0., 0., 2.],
        [2., 0., 0., 0., 0., 2.],
        [0., 2., 0., 0., 0., 0.]])";

/// 3.5.2, cell \[116\] as a PyTorch build on the MKL path prints it: **not printed by the book.**
///
/// The companion of [`DROPOUT_ONES_LINUX_MKL`] (same mask, applied to [`CAUSAL_ATTN_WEIGHTS`];
/// rasbt/LLMs-from-scratch#57). The book's output is [`DROPOUT_ATTN_WEIGHTS`].
pub const DROPOUT_WEIGHTS_LINUX_MKL: &str = r"tensor([[2.0000, 0.0000, 0.0000, 0.0000, 0.0000, 0.0000],
        [0.0000, 0.8966, 0.0000, 0.0000, 0.0000, 0.0000],
        [0.0000, 0.0000, 0.6206, 0.0000, 0.0000, 0.0000],
        [0.5517, 0.4921, 0.0000, 0.0000, 0.0000, 0.0000],
        [0.4350, 0.0000, 0.0000, 0.0000, 0.0000, 0.0000],
        [0.0000, 0.3327, 0.0000, 0.0000, 0.0000, 0.0000]],
       grad_fn=<MulBackward0>)";

/// This section's printed results, in order.
pub(super) const PRINTED: &[Printed] = &[
    SA_V2_ATTN_WEIGHTS,
    SIMPLE_MASK,
    MASKED_SIMPLE,
    MASKED_SIMPLE_NORM,
    MASKED_NEG_INF,
    CAUSAL_ATTN_WEIGHTS,
    DROPOUT_ONES,
    DROPOUT_ATTN_WEIGHTS,
    BATCH_SHAPE,
    CAUSAL_CONTEXT_VECS,
    CAUSAL_CONTEXT_VECS_SHAPE,
];
