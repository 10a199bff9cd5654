//! The chapter's printed outputs, copied character for character.
//!
//! Each constant below is one thing the chapter prints: a tensor, a scalar, a shape, or a
//! labelled line such as `Sum: tensor(1.0000)`. They come from the outputs stored in the
//! chapter-3 notebook of `rasbt/LLMs-from-scratch` (`ch03/01_main-chapter-code/ch03.ipynb`, whose
//! version cell reports torch 2.4.0). The upstream README says that notebook holds the code as it
//! appears in the chapter, so its outputs stand in for the printed book. Re-running the notebook
//! with PyTorch 2.4.0 on CPU gives the same text for every cell except the two dropout cells of
//! 3.5.2, which depend on how PyTorch was built (see [`DROPOUT_ONES_LINUX_MKL`]).
//!
//! **These are expectations, never inputs.** Nothing in the crate reads a number out of this
//! module to compute with. The crate computes every result itself, prints it the way PyTorch
//! would, and the tests compare that text with the strings here.
//!
//! The text is kept exactly as PyTorch printed it, including the autograd suffixes such as
//! `grad_fn=<MmBackward0>` (sometimes on a line of its own, indented by seven spaces). The crate
//! has no autograd and its printer never writes that suffix, so comparisons first pass the book's
//! text through [`strip_autograd_suffix`](crate::torch::print::strip_autograd_suffix).
//!
//! Besides the 44 items of the chapter notebook, the module holds the outputs of the exercise
//! solutions (3.1, 3.2, 3.3) and, for diagnosis only, what a PyTorch build on the MKL code path
//! prints for the dropout cells instead of the book's values. Which section and cell prints each
//! constant, and how the crate computes it, is listed once, in [`crate::chapter`].
//! Inputs (the six token embeddings) live elsewhere in the crate, not here.

// ---------------------------------------------------------------------------------------------
// ch03.ipynb, in chapter order
// ---------------------------------------------------------------------------------------------

/// 3.3.1, cell \[28\]: attention scores ω₂ⱼ of the query x⁽²⁾ "journey" against all six inputs (a
/// dot product per input, computed in a loop).
pub const ATTN_SCORES_2: &str = r"tensor([0.9544, 1.4950, 1.4754, 0.8434, 0.7070, 1.0865])";

/// 3.3.1, cell \[30\]: ω₂₁ = x⁽¹⁾·x⁽²⁾ by a manual multiply-and-accumulate loop (first of the
/// cell's two identical lines).
pub const ATTN_SCORE_21_LOOP: &str = r"tensor(0.9544)";

/// 3.3.1, cell \[30\]: the same ω₂₁ by `torch.dot` (second of the cell's two identical lines).
pub const ATTN_SCORE_21_DOT: &str = r"tensor(0.9544)";

/// 3.3.1, cell \[33\]: weights α₂ⱼ by naive sum normalization (each score divided by the sum of the
/// scores).
pub const ATTN_WEIGHTS_2_NAIVE_SUM: &str =
    r"Attention weights: tensor([0.1455, 0.2278, 0.2249, 0.1285, 0.1077, 0.1656])";

/// 3.3.1, cell \[33\]: sum of the sum-normalized weights (float32 sum 1.0000001…, hence four
/// decimals).
pub const ATTN_WEIGHTS_2_NAIVE_SUM_TOTAL: &str = r"Sum: tensor(1.0000)";

/// 3.3.1, cell \[35\]: weights α₂ⱼ by the naive softmax exp(ω) / Σ exp(ω).
pub const ATTN_WEIGHTS_2_NAIVE_SOFTMAX: &str =
    r"Attention weights: tensor([0.1385, 0.2379, 0.2333, 0.1240, 0.1082, 0.1581])";

/// 3.3.1, cell \[35\]: sum of the naive-softmax weights (exactly 1.0 in float32, hence
/// `tensor(1.)`).
pub const ATTN_WEIGHTS_2_NAIVE_SOFTMAX_TOTAL: &str = r"Sum: tensor(1.)";

/// 3.3.1, cell \[37\]: weights α₂ⱼ by `torch.softmax` (same text as the naive softmax; the float32
/// bits differ).
pub const ATTN_WEIGHTS_2_TORCH_SOFTMAX: &str =
    r"Attention weights: tensor([0.1385, 0.2379, 0.2333, 0.1240, 0.1082, 0.1581])";

/// 3.3.1, cell \[37\]: sum of the `torch.softmax` weights.
pub const ATTN_WEIGHTS_2_TORCH_SOFTMAX_TOTAL: &str = r"Sum: tensor(1.)";

/// 3.3.1, cell \[40\]: context vector z⁽²⁾ = Σᵢ α₂ᵢ x⁽ⁱ⁾ (a loop over the inputs, with the
/// `torch.softmax` weights).
pub const CONTEXT_VEC_2: &str = r"tensor([0.4419, 0.6515, 0.5683])";

/// 3.3.2, cell \[47\]: the 6×6 matrix of all pairwise scores ωᵢⱼ, by a double loop.
pub const ATTN_SCORES_LOOP: &str = r"tensor([[0.9995, 0.9544, 0.9422, 0.4753, 0.4576, 0.6310],
        [0.9544, 1.4950, 1.4754, 0.8434, 0.7070, 1.0865],
        [0.9422, 1.4754, 1.4570, 0.8296, 0.7154, 1.0605],
        [0.4753, 0.8434, 0.8296, 0.4937, 0.3474, 0.6565],
        [0.4576, 0.7070, 0.7154, 0.3474, 0.6654, 0.2935],
        [0.6310, 1.0865, 1.0605, 0.6565, 0.2935, 0.9450]])";

/// 3.3.2, cell \[49\]: the same 6×6 score matrix as one product, `inputs @ inputs.T`.
pub const ATTN_SCORES_MATMUL: &str = r"tensor([[0.9995, 0.9544, 0.9422, 0.4753, 0.4576, 0.6310],
        [0.9544, 1.4950, 1.4754, 0.8434, 0.7070, 1.0865],
        [0.9422, 1.4754, 1.4570, 0.8296, 0.7154, 1.0605],
        [0.4753, 0.8434, 0.8296, 0.4937, 0.3474, 0.6565],
        [0.4576, 0.7070, 0.7154, 0.3474, 0.6654, 0.2935],
        [0.6310, 1.0865, 1.0605, 0.6565, 0.2935, 0.9450]])";

/// 3.3.2, cell \[51\]: the 6×6 attention weights: row-wise softmax (`dim=-1`) of the score matrix.
pub const ATTN_WEIGHTS: &str = r"tensor([[0.2098, 0.2006, 0.1981, 0.1242, 0.1220, 0.1452],
        [0.1385, 0.2379, 0.2333, 0.1240, 0.1082, 0.1581],
        [0.1390, 0.2369, 0.2326, 0.1242, 0.1108, 0.1565],
        [0.1435, 0.2074, 0.2046, 0.1462, 0.1263, 0.1720],
        [0.1526, 0.1958, 0.1975, 0.1367, 0.1879, 0.1295],
        [0.1385, 0.2184, 0.2128, 0.1420, 0.0988, 0.1896]])";

/// 3.3.2, cell \[53\]: Python-float sum of the six printed (rounded) row-2 weights; Python's float
/// repr, not torch's.
pub const ROW_2_SUM: &str = r"Row 2 sum: 1.0";

/// 3.3.2, cell \[53\]: row sums of the 6×6 attention weights (some are 1.0000001 in float32, hence
/// four decimals).
pub const ALL_ROW_SUMS: &str =
    r"All row sums: tensor([1.0000, 1.0000, 1.0000, 1.0000, 1.0000, 1.0000])";

/// 3.3.2, cell \[55\]: all six context vectors at once, `attn_weights @ inputs` (6×3).
pub const ALL_CONTEXT_VECS: &str = r"tensor([[0.4421, 0.5931, 0.5790],
        [0.4419, 0.6515, 0.5683],
        [0.4431, 0.6496, 0.5671],
        [0.4304, 0.6298, 0.5510],
        [0.4671, 0.5910, 0.5266],
        [0.4177, 0.6503, 0.5645]])";

/// 3.3.2, cell \[57\]: z⁽²⁾ from 3.3.1 printed again, to compare with row 2 of
/// [`ALL_CONTEXT_VECS`].
pub const PREVIOUS_CONTEXT_VEC_2: &str =
    r"Previous 2nd context vector: tensor([0.4419, 0.6515, 0.5683])";

/// 3.4.1, cell \[70\]: query q⁽²⁾ = x⁽²⁾ W_q with the seed-123 `torch.rand` weights (no `grad_fn`:
/// `requires_grad=False`).
pub const QUERY_2: &str = r"tensor([0.4306, 1.4551])";

/// 3.4.1, cell \[72\]: shape of the keys of all six inputs, `inputs @ W_key`.
pub const KEYS_SHAPE: &str = r"keys.shape: torch.Size([6, 2])";

/// 3.4.1, cell \[72\]: shape of the values of all six inputs, `inputs @ W_value`.
pub const VALUES_SHAPE: &str = r"values.shape: torch.Size([6, 2])";

/// 3.4.1, cell \[75\]: one score ω₂₂ = q⁽²⁾·k⁽²⁾.
pub const ATTN_SCORE_22: &str = r"tensor(1.8524)";

/// 3.4.1, cell \[77\]: all six scores of query 2, `query_2 @ keys.T`.
pub const ATTN_SCORES_2_QK: &str = r"tensor([1.2705, 1.8524, 1.8111, 1.0795, 0.5577, 1.5440])";

/// 3.4.1, cell \[80\]: scaled-dot-product weights of query 2, softmax(ω₂ / √d_k) with d_k = 2.
pub const ATTN_WEIGHTS_2_SCALED: &str = r"tensor([0.1500, 0.2264, 0.2199, 0.1311, 0.0906, 0.1820])";

/// 3.4.1, cell \[83\]: context vector z⁽²⁾ = α₂ · V (a weighted sum of the value vectors).
pub const CONTEXT_VEC_2_QKV: &str = r"tensor([0.3061, 0.8210])";

/// 3.4.2, cell \[86\]: `SelfAttention_v1(3, 2)` (seed 123, `torch.rand` weights) applied to the
/// inputs; row 2 is [`CONTEXT_VEC_2_QKV`].
pub const SA_V1_OUTPUT: &str = r"tensor([[0.2996, 0.8053],
        [0.3061, 0.8210],
        [0.3058, 0.8203],
        [0.2948, 0.7939],
        [0.2927, 0.7891],
        [0.2990, 0.8040]], grad_fn=<MmBackward0>)";

/// 3.4.2, cell \[89\]: `SelfAttention_v2(3, 2)` (seed 789, `nn.Linear` weights without bias)
/// applied to the inputs.
pub const SA_V2_OUTPUT: &str = r"tensor([[-0.0739,  0.0713],
        [-0.0748,  0.0703],
        [-0.0749,  0.0702],
        [-0.0760,  0.0685],
        [-0.0763,  0.0679],
        [-0.0754,  0.0693]], grad_fn=<MmBackward0>)";

/// 3.5.1, cell \[98\]: the unmasked 6×6 scaled attention weights of the seed-789 `sa_v2` layers.
pub const SA_V2_ATTN_WEIGHTS: &str = r"tensor([[0.1921, 0.1646, 0.1652, 0.1550, 0.1721, 0.1510],
        [0.2041, 0.1659, 0.1662, 0.1496, 0.1665, 0.1477],
        [0.2036, 0.1659, 0.1662, 0.1498, 0.1664, 0.1480],
        [0.1869, 0.1667, 0.1668, 0.1571, 0.1661, 0.1564],
        [0.1830, 0.1669, 0.1670, 0.1588, 0.1658, 0.1585],
        [0.1935, 0.1663, 0.1666, 0.1542, 0.1666, 0.1529]],
       grad_fn=<SoftmaxBackward0>)";

/// 3.5.1, cell \[100\]: the simple causal mask `torch.tril(torch.ones(6, 6))`.
pub const SIMPLE_MASK: &str = r"tensor([[1., 0., 0., 0., 0., 0.],
        [1., 1., 0., 0., 0., 0.],
        [1., 1., 1., 0., 0., 0.],
        [1., 1., 1., 1., 0., 0.],
        [1., 1., 1., 1., 1., 0.],
        [1., 1., 1., 1., 1., 1.]])";

/// 3.5.1, cell \[102\]: the attention weights times the simple mask (entries above the diagonal
/// zeroed; rows no longer sum to 1).
pub const MASKED_SIMPLE: &str = r"tensor([[0.1921, 0.0000, 0.0000, 0.0000, 0.0000, 0.0000],
        [0.2041, 0.1659, 0.0000, 0.0000, 0.0000, 0.0000],
        [0.2036, 0.1659, 0.1662, 0.0000, 0.0000, 0.0000],
        [0.1869, 0.1667, 0.1668, 0.1571, 0.0000, 0.0000],
        [0.1830, 0.1669, 0.1670, 0.1588, 0.1658, 0.0000],
        [0.1935, 0.1663, 0.1666, 0.1542, 0.1666, 0.1529]],
       grad_fn=<MulBackward0>)";

/// 3.5.1, cell \[105\]: the masked weights renormalized, each row divided by its own sum.
pub const MASKED_SIMPLE_NORM: &str = r"tensor([[1.0000, 0.0000, 0.0000, 0.0000, 0.0000, 0.0000],
        [0.5517, 0.4483, 0.0000, 0.0000, 0.0000, 0.0000],
        [0.3800, 0.3097, 0.3103, 0.0000, 0.0000, 0.0000],
        [0.2758, 0.2460, 0.2462, 0.2319, 0.0000, 0.0000],
        [0.2175, 0.1983, 0.1984, 0.1888, 0.1971, 0.0000],
        [0.1935, 0.1663, 0.1666, 0.1542, 0.1666, 0.1529]],
       grad_fn=<DivBackward0>)";

/// 3.5.1, cell \[108\]: the unscaled scores with −∞ above the diagonal (`masked_fill` with a
/// `triu(…, diagonal=1)` mask).
pub const MASKED_NEG_INF: &str = r"tensor([[0.2899,   -inf,   -inf,   -inf,   -inf,   -inf],
        [0.4656, 0.1723,   -inf,   -inf,   -inf,   -inf],
        [0.4594, 0.1703, 0.1731,   -inf,   -inf,   -inf],
        [0.2642, 0.1024, 0.1036, 0.0186,   -inf,   -inf],
        [0.2183, 0.0874, 0.0882, 0.0177, 0.0786,   -inf],
        [0.3408, 0.1270, 0.1290, 0.0198, 0.1290, 0.0078]],
       grad_fn=<MaskedFillBackward0>)";

/// 3.5.1, cell \[110\]: softmax of the −∞-masked scores over √d_k: the same text as
/// [`MASKED_SIMPLE_NORM`] (bits differ by up to 2.98e-8).
pub const CAUSAL_ATTN_WEIGHTS: &str = r"tensor([[1.0000, 0.0000, 0.0000, 0.0000, 0.0000, 0.0000],
        [0.5517, 0.4483, 0.0000, 0.0000, 0.0000, 0.0000],
        [0.3800, 0.3097, 0.3103, 0.0000, 0.0000, 0.0000],
        [0.2758, 0.2460, 0.2462, 0.2319, 0.0000, 0.0000],
        [0.2175, 0.1983, 0.1984, 0.1888, 0.1971, 0.0000],
        [0.1935, 0.1663, 0.1666, 0.1542, 0.1666, 0.1529]],
       grad_fn=<SoftmaxBackward0>)";

/// 3.5.2, cell \[115\]: `nn.Dropout(0.5)` after `torch.manual_seed(123)` on `torch.ones(6, 6)`:
/// kept entries scaled to 2 (the book's mask; see [`DROPOUT_ONES_LINUX_MKL`]).
pub const DROPOUT_ONES: &str = r"tensor([[2., 2., 0., 2., 2., 0.],
        [0., 0., 0., 2., 0., 2.],
        [2., 2., 2., 2., 0., 2.],
        [0., 2., 2., 0., 0., 2.],
        [0., 2., 0., 2., 0., 2.],
        [0., 2., 2., 2., 2., 0.]])";

/// 3.5.2, cell \[116\]: the same dropout, re-seeded with 123, on [`CAUSAL_ATTN_WEIGHTS`]: the same
/// keep-mask, kept weights doubled.
pub const DROPOUT_ATTN_WEIGHTS: &str = r"tensor([[2.0000, 0.0000, 0.0000, 0.0000, 0.0000, 0.0000],
        [0.0000, 0.0000, 0.0000, 0.0000, 0.0000, 0.0000],
        [0.7599, 0.6194, 0.6206, 0.0000, 0.0000, 0.0000],
        [0.0000, 0.4921, 0.4925, 0.0000, 0.0000, 0.0000],
        [0.0000, 0.3966, 0.0000, 0.3775, 0.0000, 0.0000],
        [0.0000, 0.3327, 0.3331, 0.3084, 0.3331, 0.0000]],
       grad_fn=<MulBackward0>)";

/// 3.5.3, cell \[120\]: shape of `batch = torch.stack((inputs, inputs), dim=0)`.
pub const BATCH_SHAPE: &str = r"torch.Size([2, 6, 3])";

/// 3.5.3, cell \[121\]: `CausalAttention(3, 2, 6, 0.0)` (seed 123) applied to the batch.
pub const CAUSAL_CONTEXT_VECS: &str = r"tensor([[[-0.4519,  0.2216],
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
         [-0.5299, -0.1081]]], grad_fn=<UnsafeViewBackward0>)";

/// 3.5.3, cell \[121\]: shape of [`CAUSAL_CONTEXT_VECS`].
pub const CAUSAL_CONTEXT_VECS_SHAPE: &str = r"context_vecs.shape: torch.Size([2, 6, 2])";

/// 3.6.1, cell \[127\]: `MultiHeadAttentionWrapper(3, 2, 6, 0.0, num_heads=2)` (seed 123) applied
/// to the batch; columns 0–1 are head 0, columns 2–3 head 1.
pub const WRAPPER_CONTEXT_VECS: &str = r"tensor([[[-0.4519,  0.2216,  0.4772,  0.1063],
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
         [-0.5299, -0.1081,  0.5077,  0.3493]]], grad_fn=<CatBackward0>)";

/// 3.6.1, cell \[127\]: shape of [`WRAPPER_CONTEXT_VECS`] (last dimension d_out × num_heads = 4).
pub const WRAPPER_CONTEXT_VECS_SHAPE: &str = r"context_vecs.shape: torch.Size([2, 6, 4])";

/// 3.6.2, cell \[131\]: `MultiHeadAttention(3, 2, 6, 0.0, num_heads=2)` (seed 123, head_dim 1, with
/// `out_proj`) applied to the batch.
pub const MHA_CONTEXT_VECS: &str = r"tensor([[[0.3190, 0.4858],
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
         [0.2575, 0.4028]]], grad_fn=<ViewBackward0>)";

/// 3.6.2, cell \[131\]: shape of [`MHA_CONTEXT_VECS`] (last dimension d_out = 2).
pub const MHA_CONTEXT_VECS_SHAPE: &str = r"context_vecs.shape: torch.Size([2, 6, 2])";

/// 3.6.2, cell \[138\]: batched matmul `a @ a.transpose(2, 3)` of the fixed literal tensor `a` of
/// shape (1, 2, 3, 4).
pub const HEADS_SCORES_BATCHED: &str = r"tensor([[[[1.3208, 1.1631, 1.2879],
          [1.1631, 2.2150, 1.8424],
          [1.2879, 1.8424, 2.0402]],

         [[0.4391, 0.7003, 0.5903],
          [0.7003, 1.3737, 1.0620],
          [0.5903, 1.0620, 0.9912]]]])";

/// 3.6.2, cell \[140\]: `a[0, 0] @ a[0, 0].T`, printed as `print("First head:\n", first_res)`,
/// hence the space before `tensor`.
pub const FIRST_HEAD: &str = r"First head:
 tensor([[1.3208, 1.1631, 1.2879],
        [1.1631, 2.2150, 1.8424],
        [1.2879, 1.8424, 2.0402]])";

/// 3.6.2, cell \[140\]: `a[0, 1] @ a[0, 1].T`, printed as `print("\nSecond head:\n", second_res)`;
/// the empty line that call prints first is not part of the constant.
pub const SECOND_HEAD: &str = r"Second head:
 tensor([[0.4391, 0.7003, 0.5903],
        [0.7003, 1.3737, 1.0620],
        [0.5903, 1.0620, 0.9912]])";

// ---------------------------------------------------------------------------------------------
// Exercise solutions (exercise-solutions.ipynb) and platform-dependent dropout
// ---------------------------------------------------------------------------------------------

/// Exercise 3.1, exercise-solutions.ipynb cell \[8\]: `SelfAttention_v1` after its weights were set
/// to the transposed seed-123 `SelfAttention_v2` weights (the cell's value, shown as a repr).
pub const EX_3_1_SA_V1: &str = r"tensor([[-0.5337, -0.1051],
        [-0.5323, -0.1080],
        [-0.5323, -0.1079],
        [-0.5297, -0.1076],
        [-0.5311, -0.1066],
        [-0.5299, -0.1081]], grad_fn=<MmBackward0>)";

/// Exercise 3.1, exercise-solutions.ipynb cell \[9\]: `SelfAttention_v2` (seed 123) on the inputs;
/// identical text to [`EX_3_1_SA_V1`].
pub const EX_3_1_SA_V2: &str = r"tensor([[-0.5337, -0.1051],
        [-0.5323, -0.1080],
        [-0.5323, -0.1079],
        [-0.5297, -0.1076],
        [-0.5311, -0.1066],
        [-0.5299, -0.1081]], grad_fn=<MmBackward0>)";

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

/// Exercise 3.2, corrected output: `MultiHeadAttentionWrapper(3, 1, 6, 0.0, num_heads=2)` (seed
/// 123) on the batch, as the current code prints it with torch 2.4.0 (and as ch03.ipynb showed it
/// after upstream commit d4754f1). Pin this one, not [`EX_3_2_STALE_MARKDOWN`].
pub const EX_3_2_CONTEXT_VECS: &str = r"tensor([[[-0.5740,  0.2216],
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
         [-0.6424, -0.1065]]], grad_fn=<CatBackward0>)";

/// Exercise 3.2 as the **Korean edition's** solutions notebook computes it
/// (`rickiepark/llm-from-scratch`, `ch03/01_main-chapter-code/exercise-solutions.ipynb`, cell
/// \[9\], run on Colab with torch 2.11.0+cpu): its `MultiHeadAttentionWrapper` adds an output
/// projection, `nn.Linear(d_out * num_heads, d_out * num_heads)` with bias, created after the
/// heads and applied to their concatenation. The heads get the same weights as in
/// [`EX_3_2_CONTEXT_VECS`] (same seed, drawn first); the projection's 6 draws follow. Hence
/// other numbers and `grad_fn=<ViewBackward0>`.
pub const KO_EX_3_2_CONTEXT_VECS: &str = r"tensor([[[0.3394, 0.4247],
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
         [0.2763, 0.3473]]], grad_fn=<ViewBackward0>)";

/// Exercise 3.2: shape of [`EX_3_2_CONTEXT_VECS`] (two heads of d_out = 1). The stale markdown
/// shows the same line.
pub const EX_3_2_CONTEXT_VECS_SHAPE: &str = r"context_vecs.shape: torch.Size([2, 6, 2])";

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

/// Exercise 3.3, markdown cell \[18\] of exercise-solutions.ipynb: the number of trainable
/// parameters of a GPT-2-small-sized `MultiHeadAttention(768, 768, 1024, 0.0, num_heads=12)`
/// without QKV bias, 3 × 768² + (768² + 768) for the output projection. The markdown prints it as
/// `2360064` (followed by a `# (2.36 M)` comment). The causal-mask buffer is not a parameter.
pub const EX_3_3_NUM_PARAMETERS: usize = 2_360_064;

/// Exercise 3.3, markdown cell \[18\]: [`EX_3_3_NUM_PARAMETERS`] as the markdown prints it.
pub const EX_3_3_NUM_PARAMETERS_PRINTED: &str = "2360064";

#[cfg(test)]
mod tests {
    use super::*;

    /// The constants no registry entry holds: the stale exercise text and the MKL variants.
    const EXTRAS: &[&str] = &[
        EX_3_2_STALE_MARKDOWN,
        DROPOUT_ONES_LINUX_MKL,
        DROPOUT_WEIGHTS_LINUX_MKL,
    ];

    /// Every tensor-like text of this module: the registry's (chapter and exercises) and the
    /// extras.
    fn all_texts() -> impl Iterator<Item = &'static str> {
        crate::chapter::printed()
            .iter()
            .map(|p| p.book)
            .chain(EXTRAS.iter().copied())
    }

    #[test]
    fn no_trailing_whitespace_and_no_edge_newlines() {
        for text in all_texts() {
            assert!(!text.contains('\r'), "carriage return in {text:?}");
            assert!(
                !text.starts_with('\n') && !text.ends_with('\n'),
                "edge newline in {text:?}"
            );
            for line in text.lines() {
                assert_eq!(line, line.trim_end(), "trailing whitespace in {text:?}");
            }
        }
    }

    #[test]
    fn multi_line_tensors_keep_pytorch_indentation() {
        // PyTorch indents a continuation row so that its brackets line up under those that follow
        // `tensor(` (7 characters) on the first line, and puts a wrapped `grad_fn=` 7 spaces in.
        for text in all_texts() {
            let Some(start) = text
                .lines()
                .position(|l| l.trim_start().starts_with("tensor("))
            else {
                continue;
            };
            let mut lines = text.lines().skip(start);
            let first = lines.next().unwrap().trim_start();
            let depth = first["tensor(".len()..]
                .chars()
                .take_while(|&c| c == '[')
                .count();
            for line in lines {
                let indent = line.len() - line.trim_start().len();
                if line.is_empty() {
                    continue;
                }
                if line.trim_start().starts_with("grad_fn=") {
                    assert_eq!(indent, 7, "{text}");
                    continue;
                }
                let brackets = line.trim_start().chars().take_while(|&c| c == '[').count();
                assert_eq!(indent + brackets, 7 + depth, "{line:?} in\n{text}");
            }
        }
    }

    #[test]
    fn stale_exercise_differs_from_corrected() {
        assert_ne!(EX_3_2_STALE_MARKDOWN, EX_3_2_CONTEXT_VECS);
        assert_eq!(EX_3_1_SA_V1, EX_3_1_SA_V2);
        assert_eq!(EX_3_3_NUM_PARAMETERS, 3 * 768 * 768 + 768 * 768 + 768);
        assert_eq!(
            EX_3_3_NUM_PARAMETERS_PRINTED,
            EX_3_3_NUM_PARAMETERS.to_string()
        );
    }
}
