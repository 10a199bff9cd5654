//! Section 3.6, multi-head attention: the wrapper of single heads, then the weight split.
//!
//! Each constant is one printed result: the book's text, where it is printed, its Korean label and
//! cell, and how the crate computes it (see [`Printed`]). The helpers above the records are the
//! section's shared setup, written once.

use super::s3_5::{batch, context_vecs_shape};
use super::*;

/// 3.6.1 and exercise 3.2: `MultiHeadAttentionWrapper(3, d_out, 6, 0.0, num_heads=2)` after
/// `torch.manual_seed(123)`, on the batch (3.6.1: d_out = 2; exercise 3.2: d_out = 1).
pub(super) fn wrapper_context_vecs(
    s: &Setup,
    book_d_out: usize,
) -> Result<Vec<DMatrix<f32>>, Error> {
    let mut rng = s.rng(123);
    let (d_out, num_heads) = (s.d_out(book_d_out), s.num_heads(2));
    let dropout = s.module_dropout();
    let wrapper =
        MultiHeadAttentionWrapper::new(3, d_out, 6, dropout, num_heads, s.qkv_bias, &mut rng)?;
    wrapper.forward_train(&batch(), &mut rng) // (2, 6, num_heads · d_out)
}

/// 3.6.2: `MultiHeadAttention(3, 2, 6, 0.0, num_heads=2)` after `torch.manual_seed(123)`.
fn mha_context_vecs(s: &Setup) -> Result<Vec<DMatrix<f32>>, Error> {
    let mut rng = s.rng(123);
    let (d_out, num_heads) = (s.d_out(2), s.num_heads(2));
    let dropout = s.module_dropout();
    let mha = MultiHeadAttention::new(3, d_out, 6, dropout, num_heads, s.qkv_bias, &mut rng)?;
    mha.forward_train(&batch(), &mut rng) // (2, 6, d_out)
}

/// 3.6.2: `a @ a.transpose(2, 3)` for the (1, 2, 3, 4) demo tensor `a`: (1, 2, 3, 3).
fn head_scores() -> Vec<Vec<DMatrix<f32>>> {
    batched_head_scores(&head_scores_demo_input())
}

// ---------------------------------------------------------------------------------------------
// The printed results, in the order the notebook prints them
// ---------------------------------------------------------------------------------------------

/// 3.6.1, cell \[127\]: `MultiHeadAttentionWrapper(3, 2, 6, 0.0, num_heads=2)` (seed 123) applied
/// to the batch; columns 0–1 are head 0, columns 2–3 head 1.
pub const WRAPPER_CONTEXT_VECS: Printed = Printed {
    section: "3.6.1",
    cell: "[127]",
    cell_ko: "[35]",
    label: "MultiHeadAttentionWrapper, 2 heads of d_out 2, seed 123",
    label_ko: "MultiHeadAttentionWrapper, d_out 2인 헤드 2개, 시드 123",
    name: "s3_6_1_wrapper_context_vecs",
    book: r"tensor([[[-0.4519,  0.2216,  0.4772,  0.1063],
         [-0.5874,  0.0058,  0.5891,  0.3257],
         [-0.6300, -0.0632,  0.6202,  0.3860],
         [-0.5675, -0.0843,  0.5478,  0.3589],
         [-0.5526, -0.0981,  0.5321,  0.3428],
         [-0.5299, -0.1081,  0.5077,  0.3493]],

        [[-0.4519,  0.2216,  0.4772,  0.1063],
         [-0.5874,  0.0058,  0.5891,  0.3257],
         [-0.6300, -0.0632,  0.6202,  0.3860],
         [-0.5675, -0.0843,  0.5478,  0.3589],
         [-0.5526, -0.0981,  0.5321,  0.3428],
         [-0.5299, -0.1081,  0.5077,  0.3493]]], grad_fn=<CatBackward0>)",
    varies: knobs::SEED_WIDTH_HEADS_BIAS_DROPOUT,
    compute_with: |s| Ok(wrapper_context_vecs(s, 2)?.torch_str()),
};

/// 3.6.1, cell \[127\]: shape of [`WRAPPER_CONTEXT_VECS`] (last dimension d_out × num_heads = 4).
pub const WRAPPER_CONTEXT_VECS_SHAPE: Printed = Printed {
    section: "3.6.1",
    cell: "[127]",
    cell_ko: "[35]",
    label: "its shape: d_out · num_heads = 4 wide",
    label_ko: "그 크기: 너비 d_out · num_heads = 4",
    name: "s3_6_1_wrapper_context_vecs_shape",
    book: r"context_vecs.shape: torch.Size([2, 6, 4])",
    varies: knobs::WIDTH_AND_HEADS,
    compute_with: |s| Ok(context_vecs_shape(&wrapper_context_vecs(s, 2)?)),
};

/// 3.6.2, cell \[131\]: `MultiHeadAttention(3, 2, 6, 0.0, num_heads=2)` (seed 123, head_dim 1, with
/// `out_proj`) applied to the batch.
pub const MHA_CONTEXT_VECS: Printed = Printed {
    section: "3.6.2",
    cell: "[131]",
    cell_ko: "[36]",
    label: "MultiHeadAttention, 2 heads of head_dim 1, seed 123",
    label_ko: "MultiHeadAttention, head_dim 1인 헤드 2개, 시드 123",
    name: "s3_6_2_mha_context_vecs",
    book: r"tensor([[[0.3190, 0.4858],
         [0.2943, 0.3897],
         [0.2856, 0.3593],
         [0.2693, 0.3873],
         [0.2639, 0.3928],
         [0.2575, 0.4028]],

        [[0.3190, 0.4858],
         [0.2943, 0.3897],
         [0.2856, 0.3593],
         [0.2693, 0.3873],
         [0.2639, 0.3928],
         [0.2575, 0.4028]]], grad_fn=<ViewBackward0>)",
    varies: knobs::SEED_WIDTH_HEADS_BIAS_DROPOUT,
    compute_with: |s| Ok(mha_context_vecs(s)?.torch_str()),
};

/// 3.6.2, cell \[131\]: shape of [`MHA_CONTEXT_VECS`] (last dimension d_out = 2).
pub const MHA_CONTEXT_VECS_SHAPE: Printed = Printed {
    section: "3.6.2",
    cell: "[131]",
    cell_ko: "[36]",
    label: "its shape: d_out = 2 wide whatever the head count",
    label_ko: "그 크기: 헤드 개수와 상관없이 너비 d_out = 2",
    name: "s3_6_2_mha_context_vecs_shape",
    book: r"context_vecs.shape: torch.Size([2, 6, 2])",
    varies: knobs::WIDTH_AND_HEADS,
    compute_with: |s| Ok(context_vecs_shape(&mha_context_vecs(s)?)),
};

/// 3.6.2, cell \[138\]: batched matmul `a @ a.transpose(2, 3)` of the fixed literal tensor `a` of
/// shape (1, 2, 3, 4).
pub const HEADS_SCORES_BATCHED: Printed = Printed {
    section: "3.6.2",
    cell: "[138]",
    cell_ko: "[37]",
    label: "a @ a.transpose(2, 3) on a (1, 2, 3, 4) tensor: all heads at once",
    label_ko: "(1, 2, 3, 4) 텐서에 a @ a.transpose(2, 3): 모든 헤드를 한 번에",
    name: "s3_6_2_batched_head_scores",
    book: r"tensor([[[[1.3208, 1.1631, 1.2879],
          [1.1631, 2.2150, 1.8424],
          [1.2879, 1.8424, 2.0402]],

         [[0.4391, 0.7003, 0.5903],
          [0.7003, 1.3737, 1.0620],
          [0.5903, 1.0620, 0.9912]]]])",
    varies: &[],
    compute_with: |_| Ok(head_scores().as_slice().torch_str()),
};

/// 3.6.2, cell \[140\]: `a[0, 0] @ a[0, 0].T`, printed as `print("First head:\n", first_res)`,
/// hence the space before `tensor`.
pub const FIRST_HEAD: Printed = Printed {
    section: "3.6.2",
    cell: "[140]",
    cell_ko: "[38]",
    label: "the same product for head 0 alone",
    label_ko: "첫 번째 헤드만 따로 같은 곱셈",
    name: "s3_6_2_first_head",
    book: r"First head:
 tensor([[1.3208, 1.1631, 1.2879],
        [1.1631, 2.2150, 1.8424],
        [1.2879, 1.8424, 2.0402]])",
    varies: &[],
    compute_with: |_| Ok(format!("First head:\n {}", head_scores()[0][0].torch_str())),
};

/// 3.6.2, cell \[140\]: `a[0, 1] @ a[0, 1].T`, printed as `print("\nSecond head:\n", second_res)`;
/// the empty line that call prints first is not part of the constant.
pub const SECOND_HEAD: Printed = Printed {
    section: "3.6.2",
    cell: "[140]",
    cell_ko: "[38]",
    label: "the same product for head 1 alone",
    label_ko: "두 번째 헤드만 따로 같은 곱셈",
    name: "s3_6_2_second_head",
    book: r"Second head:
 tensor([[0.4391, 0.7003, 0.5903],
        [0.7003, 1.3737, 1.0620],
        [0.5903, 1.0620, 0.9912]])",
    varies: &[],
    compute_with: |_| {
        Ok(format!(
            "Second head:\n {}",
            head_scores()[0][1].torch_str()
        ))
    },
};

/// This section's printed results, in order.
pub(super) const PRINTED: &[Printed] = &[
    WRAPPER_CONTEXT_VECS,
    WRAPPER_CONTEXT_VECS_SHAPE,
    MHA_CONTEXT_VECS,
    MHA_CONTEXT_VECS_SHAPE,
    HEADS_SCORES_BATCHED,
    FIRST_HEAD,
    SECOND_HEAD,
];
