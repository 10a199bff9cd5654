//! The exercise solutions (`exercise-solutions.ipynb`): exercises 3.1, 3.2 (as the English
//! notebook and as the Korean edition compute it) and 3.3.
//!
//! Each constant is one printed result: the book's text, where it is printed, its Korean label and
//! cell, and how the crate computes it (see [`Printed`]). The helpers above the records are the
//! section's shared setup, written once.

use super::s3_5::{batch, context_vecs_shape};
use super::s3_6::wrapper_context_vecs;
use super::*;

/// Exercise 3.2 as the Korean edition's solution computes it: the wrapper with `d_out = 1` and
/// two heads, then an output projection `Linear(2, 2)` with bias, drawn after the heads from the
/// same generator and applied to their concatenation.
fn wrapper_with_out_proj_context_vecs(s: &Setup) -> Result<Vec<DMatrix<f32>>, Error> {
    let mut rng = s.rng(123);
    let (d_out, num_heads) = (s.d_out(1), s.num_heads(2));
    let dropout = s.module_dropout();
    let wrapper =
        MultiHeadAttentionWrapper::new(3, d_out, 6, dropout, num_heads, s.qkv_bias, &mut rng)?;
    let width = d_out * num_heads;
    let out_proj = Linear::try_new(width, width, true, &mut rng)?; // self.out_proj, after the heads
    let concatenated = wrapper.forward_train(&batch(), &mut rng)?; // (2, 6, width)
    concatenated.iter().map(|c| out_proj.forward(c)).collect() // (2, 6, width)
}

/// Exercise 3.1: `SelfAttention_v2(3, 2)` after `torch.manual_seed(123)`.
fn sa_v2_123(s: &Setup) -> SelfAttentionV2 {
    SelfAttentionV2::new(3, s.d_out(2), s.qkv_bias, &mut s.rng(123))
}

// ---------------------------------------------------------------------------------------------
// The printed results, in the order the notebook prints them
// ---------------------------------------------------------------------------------------------

/// Exercise 3.1, exercise-solutions.ipynb cell \[8\]: `SelfAttention_v1` after its weights were set
/// to the transposed seed-123 `SelfAttention_v2` weights (the cell's value, shown as a repr).
pub const EX_3_1_SA_V1: Printed = Printed {
    section: "exercise 3.1",
    cell: "[8]",
    cell_ko: "[6]",
    label: "SelfAttentionV1 holding v2's weights, transposed",
    label_ko: "v2의 가중치를 전치해서 넣은 SelfAttentionV1",
    name: "exercise_3_1_sa_v1",
    book: r"tensor([[-0.5337, -0.1051],
        [-0.5323, -0.1080],
        [-0.5323, -0.1079],
        [-0.5297, -0.1076],
        [-0.5311, -0.1066],
        [-0.5299, -0.1081]], grad_fn=<MmBackward0>)",
    varies: knobs::SEED_WIDTH_BIAS,
    compute_with: |s| {
        Ok(SelfAttentionV1::from_v2(&sa_v2_123(s))?
            .forward(&inputs())?
            .torch_str())
    },
};

/// Exercise 3.1, exercise-solutions.ipynb cell \[9\]: `SelfAttention_v2` (seed 123) on the inputs;
/// identical text to [`EX_3_1_SA_V1`].
pub const EX_3_1_SA_V2: Printed = Printed {
    section: "exercise 3.1",
    cell: "[9]",
    cell_ko: "[7]",
    label: "SelfAttentionV2 (seed 123): the same output",
    label_ko: "SelfAttentionV2 (시드 123): 같은 출력",
    name: "exercise_3_1_sa_v2",
    // The book prints the same text as cell [8]: that is the exercise's point.
    book: EX_3_1_SA_V1.book,
    varies: knobs::SEED_WIDTH_BIAS,
    compute_with: |s| Ok(sa_v2_123(s).forward(&inputs())?.torch_str()),
};

/// Exercise 3.2, corrected output: `MultiHeadAttentionWrapper(3, 1, 6, 0.0, num_heads=2)` (seed
/// 123) on the batch, as the current code prints it with torch 2.4.0 (and as ch03.ipynb showed it
/// after upstream commit d4754f1). Pin this one, not [`EX_3_2_STALE_MARKDOWN`].
pub const EX_3_2_CONTEXT_VECS: Printed = Printed {
    section: "exercise 3.2",
    cell: "[13]",
    cell_ko: "[9]",
    label: "wrapper with d_out = 1, 2 heads (corrected, current-code values)",
    label_ko: "d_out = 1, 헤드 2개인 래퍼 (수정된, 현재 코드의 값)",
    name: "exercise_3_2_context_vecs",
    book: r"tensor([[[-0.5740,  0.2216],
         [-0.7320,  0.0155],
         [-0.7774, -0.0546],
         [-0.6979, -0.0817],
         [-0.6538, -0.0957],
         [-0.6424, -0.1065]],

        [[-0.5740,  0.2216],
         [-0.7320,  0.0155],
         [-0.7774, -0.0546],
         [-0.6979, -0.0817],
         [-0.6538, -0.0957],
         [-0.6424, -0.1065]]], grad_fn=<CatBackward0>)",
    varies: knobs::SEED_WIDTH_HEADS_BIAS_DROPOUT,
    compute_with: |s| Ok(wrapper_context_vecs(s, 1)?.torch_str()),
};

/// Exercise 3.2: shape of [`EX_3_2_CONTEXT_VECS`] (two heads of d_out = 1). The stale markdown
/// shows the same line.
pub const EX_3_2_CONTEXT_VECS_SHAPE: Printed = Printed {
    section: "exercise 3.2",
    cell: "[13]",
    cell_ko: "[9]",
    label: "its shape: 2 wide",
    label_ko: "그 크기: 너비 2",
    name: "exercise_3_2_context_vecs_shape",
    book: r"context_vecs.shape: torch.Size([2, 6, 2])",
    varies: knobs::WIDTH_AND_HEADS,
    compute_with: |s| Ok(context_vecs_shape(&wrapper_context_vecs(s, 1)?)),
};

/// Exercise 3.2 as the **Korean edition's** solutions notebook computes it
/// (`rickiepark/llm-from-scratch`, `ch03/01_main-chapter-code/exercise-solutions.ipynb`, cell
/// \[9\], run on Colab with torch 2.11.0+cpu): its `MultiHeadAttentionWrapper` adds an output
/// projection, `nn.Linear(d_out * num_heads, d_out * num_heads)` with bias, created after the
/// heads and applied to their concatenation. The heads get the same weights as in
/// [`EX_3_2_CONTEXT_VECS`] (same seed, drawn first); the projection's 6 draws follow. Hence
/// other numbers and `grad_fn=<ViewBackward0>`.
pub const KO_EX_3_2_CONTEXT_VECS: Printed = Printed {
    section: "exercise 3.2 (Korean edition)",
    cell: "[9]",
    cell_ko: "[9]",
    label: "the Korean edition's solution: the same wrapper plus an output projection",
    label_ko: "한국어판의 해답: 같은 래퍼에 출력 투영을 더함",
    name: "exercise_3_2_korean_edition_context_vecs",
    book: r"tensor([[[0.3394, 0.4247],
         [0.3189, 0.3186],
         [0.3106, 0.2866],
         [0.2912, 0.3228],
         [0.2807, 0.3430],
         [0.2763, 0.3473]],

        [[0.3394, 0.4247],
         [0.3189, 0.3186],
         [0.3106, 0.2866],
         [0.2912, 0.3228],
         [0.2807, 0.3430],
         [0.2763, 0.3473]]], grad_fn=<ViewBackward0>)",
    varies: knobs::SEED_WIDTH_HEADS_BIAS_DROPOUT,
    compute_with: |s| Ok(wrapper_with_out_proj_context_vecs(s)?.torch_str()),
};

/// Exercise 3.3, markdown cell \[18\]: [`EX_3_3_NUM_PARAMETERS`] as the markdown prints it.
pub const EX_3_3_NUM_PARAMETERS: Printed = Printed {
    section: "exercise 3.3",
    cell: "[18]",
    cell_ko: "[12]",
    label: "parameters of a GPT-2-small attention module (768, 12 heads, 1024)",
    label_ko: "GPT-2 small 크기 어텐션 모듈의 파라미터 개수 (768, 헤드 12개, 1024)",
    name: "exercise_3_3_num_parameters",
    book: "2360064",
    varies: &[],
    compute_with: |_| {
        let mut rng = TorchRng::manual_seed(123);
        let gpt2 = MultiHeadAttention::new(768, 768, 1024, 0.0, 12, false, &mut rng)?;
        Ok(gpt2.num_parameters().to_string())
    },
};

// ---------------------------------------------------------------------------------------------
// Not computed: the solution notebook's markdown
// ---------------------------------------------------------------------------------------------

/// Exercise 3.2, **stale** output, shown in markdown cell \[13\] of exercise-solutions.ipynb: an
/// upstream erratum, kept only to document it. **Do not match it.**
///
/// The solution's code is not executed in that notebook; this text was pasted in from an older
/// ch03.ipynb run, when `CausalAttention` took its softmax over `dim=1` (the query axis of a
/// 3-D score tensor, a bug fixed upstream by commit d4754f1). The current code prints
/// [`EX_3_2_CONTEXT_VECS`] instead. Only the tensor is here; the markdown's shape line equals
/// [`EX_3_2_CONTEXT_VECS_SHAPE`].
pub const EX_3_2_STALE_MARKDOWN: &str = r"tensor([[[-9.1476e-02,  3.4164e-02],
         [-2.6796e-01, -1.3427e-03],
         [-4.8421e-01, -4.8909e-02],
         [-6.4808e-01, -1.0625e-01],
         [-8.8380e-01, -1.7140e-01],
         [-1.4744e+00, -3.4327e-01]],

        [[-9.1476e-02,  3.4164e-02],
         [-2.6796e-01, -1.3427e-03],
         [-4.8421e-01, -4.8909e-02],
         [-6.4808e-01, -1.0625e-01],
         [-8.8380e-01, -1.7140e-01],
         [-1.4744e+00, -3.4327e-01]]], grad_fn=<CatBackward0>)";

/// This section's printed results, in order.
pub(super) const PRINTED: &[Printed] = &[
    EX_3_1_SA_V1,
    EX_3_1_SA_V2,
    EX_3_2_CONTEXT_VECS,
    EX_3_2_CONTEXT_VECS_SHAPE,
    KO_EX_3_2_CONTEXT_VECS,
    EX_3_3_NUM_PARAMETERS,
];
