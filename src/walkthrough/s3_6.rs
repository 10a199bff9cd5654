//! Section 3.6 and the exercises: multi-head attention.

use super::torch_values::{SEED_123_LINEAR_QKV, SEED_123_MHA_OUT_PROJ};
use super::{Item, Section, seeded_parameter};
use crate::inputs::inputs;
use crate::multihead::{batched_head_scores, head_scores_demo_input};
use crate::torch::print::{TorchPrint, row_major, torch_size};
use crate::{
    Error, MultiHeadAttention, MultiHeadAttentionWrapper, SelfAttentionV1, SelfAttentionV2,
    TorchRng, book,
};

pub(super) fn sections() -> Result<Vec<Section>, Error> {
    let x = inputs();
    let batch = vec![x.clone(), x.clone()]; // (2, 6, 3)

    let wrapper =
        MultiHeadAttentionWrapper::new(3, 2, 6, 0.0, 2, false, &mut TorchRng::manual_seed(123))?;
    let wrapper_out = wrapper.forward(&batch)?; // (2, 6, 4)
    let s361 = Section {
        id: "3.6.1",
        title: "Stacking multiple single-head attention layers",
        items: vec![
            Item::book(
                "[127]",
                "MultiHeadAttentionWrapper, 2 heads of d_out 2, seed 123",
                wrapper_out.torch_str(),
                book::WRAPPER_CONTEXT_VECS,
            ),
            Item::book(
                "[127]",
                "its shape: d_out · num_heads = 4 wide",
                format!(
                    "context_vecs.shape: {}",
                    torch_size(&wrapper_out.torch_shape())
                ),
                book::WRAPPER_CONTEXT_VECS_SHAPE,
            ),
        ],
    };

    let mha = MultiHeadAttention::new(3, 2, 6, 0.0, 2, false, &mut TorchRng::manual_seed(123))?;
    let mha_out = mha.forward(&batch)?; // (2, 6, 2)
    let mut items = Vec::new();
    for (layer, (name, bits)) in [mha.w_query(), mha.w_key(), mha.w_value()]
        .iter()
        .zip(SEED_123_LINEAR_QKV)
    {
        items.push(seeded_parameter(
            "[131]",
            name,
            &[2, 3],
            &row_major(layer.weight()),
            bits,
        ));
    }
    let out_bias = mha.out_proj().bias().expect("out_proj has a bias");
    let [(w_name, w_bits), (b_name, b_bits)] = SEED_123_MHA_OUT_PROJ;
    items.push(seeded_parameter(
        "[131]",
        w_name,
        &[2, 2],
        &row_major(mha.out_proj().weight()),
        w_bits,
    ));
    items.push(seeded_parameter(
        "[131]",
        b_name,
        &[2],
        out_bias.as_slice(),
        b_bits,
    ));
    let demo = head_scores_demo_input(); // (1, 2, 3, 4)
    let scores = batched_head_scores(&demo); // (1, 2, 3, 3)
    items.extend([
        Item::book(
            "[131]",
            "MultiHeadAttention, 2 heads of head_dim 1, seed 123",
            mha_out.torch_str(),
            book::MHA_CONTEXT_VECS,
        ),
        Item::book(
            "[131]",
            "its shape: d_out = 2 wide whatever the head count",
            format!("context_vecs.shape: {}", torch_size(&mha_out.torch_shape())),
            book::MHA_CONTEXT_VECS_SHAPE,
        ),
        Item::book(
            "[138]",
            "a @ a.transpose(2, 3) on a (1, 2, 3, 4) tensor: all heads at once",
            scores.as_slice().torch_str(),
            book::HEADS_SCORES_BATCHED,
        ),
        Item::book(
            "[140]",
            "the same product for head 0 alone",
            format!("First head:\n {}", scores[0][0].torch_str()),
            book::FIRST_HEAD,
        ),
        Item::book(
            "[140]",
            "the same product for head 1 alone",
            format!("Second head:\n {}", scores[0][1].torch_str()),
            book::SECOND_HEAD,
        ),
    ]);
    let s362 = Section {
        id: "3.6.2",
        title: "Implementing multi-head attention with weight splits",
        items,
    };

    // Exercise 3.1: v2's weights (seed 123), transposed, copied into v1.
    let sa_v2 = SelfAttentionV2::new(3, 2, false, &mut TorchRng::manual_seed(123));
    let sa_v1 = SelfAttentionV1::from_v2(&sa_v2)?;
    // Exercise 3.2: the wrapper with d_out = 1 gives 2-wide context vectors.
    let ex32 =
        MultiHeadAttentionWrapper::new(3, 1, 6, 0.0, 2, false, &mut TorchRng::manual_seed(123))?;
    let ex32_out = ex32.forward(&batch)?;
    // Exercise 3.3: GPT-2 small's attention module.
    let gpt2 = MultiHeadAttention::new(
        768,
        768,
        1024,
        0.0,
        12,
        false,
        &mut TorchRng::manual_seed(123),
    )?;
    let exercises = Section {
        id: "exercises",
        title: "Exercises 3.1, 3.2 and 3.3",
        items: vec![
            Item::book(
                "3.1 [8]",
                "SelfAttentionV1 holding v2's weights, transposed",
                sa_v1.forward(&x)?.torch_str(),
                book::EX_3_1_SA_V1,
            ),
            Item::book(
                "3.1 [9]",
                "SelfAttentionV2 (seed 123): the same output",
                sa_v2.forward(&x)?.torch_str(),
                book::EX_3_1_SA_V2,
            ),
            Item::book(
                "3.2",
                "wrapper with d_out = 1, 2 heads (corrected, current-code values)",
                ex32_out.torch_str(),
                book::EX_3_2_CONTEXT_VECS,
            ),
            Item::book(
                "3.2",
                "its shape: 2 wide",
                format!(
                    "context_vecs.shape: {}",
                    torch_size(&ex32_out.torch_shape())
                ),
                book::EX_3_2_CONTEXT_VECS_SHAPE,
            ),
            Item::book(
                "3.3",
                "parameters of a GPT-2-small attention module (768, 12 heads, 1024)",
                gpt2.num_parameters().to_string(),
                &book::EX_3_3_NUM_PARAMETERS.to_string(),
            ),
        ],
    };
    Ok(vec![s361, s362, exercises])
}
