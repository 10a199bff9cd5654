//! Section 3.5: causal attention and dropout.

use super::torch_values::SEED_123_LINEAR_QKV;
use super::{Item, Section, seeded_parameter};
use crate::causal::{
    causal_attn_weights, mask_future_with_neg_inf, mask_then_renormalize, simple_mask,
};
use crate::inputs::inputs;
use crate::nalgebra::DMatrix;
use crate::torch::print::{TorchPrint, row_major, torch_size};
use crate::{CausalAttention, Dropout, Error, SelfAttentionV2, TorchRng, book};

pub(super) fn sections() -> Result<Vec<Section>, Error> {
    let x = inputs();
    // 3.5.1 reuses section 3.4.2's sa_v2 (seed 789).
    let sa_v2 = SelfAttentionV2::new(3, 2, false, &mut TorchRng::manual_seed(789));
    let attn_weights = sa_v2.attn_weights(&x)?; // (6, 6), unmasked
    let attn_scores = sa_v2.attn_scores(&x)?; // (6, 6), unscaled
    let (masked_simple, masked_simple_norm) = mask_then_renormalize(&attn_weights);
    let causal_weights = causal_attn_weights(&attn_scores, 2);

    let s351 = Section {
        id: "3.5.1",
        title: "Applying a causal attention mask",
        items: vec![
            Item::book(
                "[98]",
                "sa_v2's attention weights, unmasked",
                attn_weights.torch_str(),
                book::SA_V2_ATTN_WEIGHTS,
            ),
            Item::book(
                "[100]",
                "the simple mask tril(ones(6, 6))",
                simple_mask(6).torch_str(),
                book::SIMPLE_MASK,
            ),
            Item::book(
                "[102]",
                "route 1: weights × mask (rows no longer sum to 1)",
                masked_simple.torch_str(),
                book::MASKED_SIMPLE,
            ),
            Item::book(
                "[105]",
                "route 1: each row divided by its sum",
                masked_simple_norm.torch_str(),
                book::MASKED_SIMPLE_NORM,
            ),
            Item::book(
                "[108]",
                "route 2: future scores set to −∞ (unscaled)",
                mask_future_with_neg_inf(&attn_scores).torch_str(),
                book::MASKED_NEG_INF,
            ),
            Item::book(
                "[110]",
                "route 2: softmax(masked / √d_k): same as route 1",
                causal_weights.torch_str(),
                book::CAUSAL_ATTN_WEIGHTS,
            ),
        ],
    };

    // 3.5.2: torch.manual_seed(123) before each call, Dropout(0.5) in training mode.
    let dropout = Dropout::new(0.5)?;
    let ones = DMatrix::from_element(6, 6, 1.0_f32);
    let dropped_ones = dropout.forward_train(&ones, &mut TorchRng::manual_seed(123));
    let dropped_weights = dropout.forward_train(&causal_weights, &mut TorchRng::manual_seed(123));
    let s352 = Section {
        id: "3.5.2",
        title: "Masking additional attention weights with dropout",
        items: vec![
            Item::book(
                "[115]",
                "Dropout(0.5) on ones(6, 6): kept entries scaled to 1/(1−p) = 2",
                dropped_ones.torch_str(),
                book::DROPOUT_ONES,
            ),
            Item::book(
                "[116]",
                "the same mask on the causal weights (reseeded)",
                dropped_weights.torch_str(),
                book::DROPOUT_ATTN_WEIGHTS,
            ),
        ],
    };

    // 3.5.3: the class, on a batch of two copies of the input.
    let batch = vec![x.clone(), x.clone()]; // (2, 6, 3)
    let ca = CausalAttention::new(3, 2, 6, 0.0, false, &mut TorchRng::manual_seed(123))?;
    let context_vecs = ca.forward(&batch)?; // (2, 6, 2)
    let mut items = vec![Item::book(
        "[120]",
        "batch = two copies of the input",
        torch_size(&batch.torch_shape()),
        book::BATCH_SHAPE,
    )];
    for (layer, (name, bits)) in [ca.w_query(), ca.w_key(), ca.w_value()]
        .iter()
        .zip(SEED_123_LINEAR_QKV)
    {
        items.push(seeded_parameter(
            "[121]",
            name,
            &[2, 3],
            &row_major(layer.weight()),
            bits,
        ));
    }
    items.extend([
        Item::book(
            "[121]",
            "CausalAttention(3, 2, 6, 0.0), seed 123",
            context_vecs.torch_str(),
            book::CAUSAL_CONTEXT_VECS,
        ),
        Item::book(
            "[121]",
            "its shape",
            format!(
                "context_vecs.shape: {}",
                torch_size(&context_vecs.torch_shape())
            ),
            book::CAUSAL_CONTEXT_VECS_SHAPE,
        ),
    ]);
    let s353 = Section {
        id: "3.5.3",
        title: "Implementing a compact causal self-attention class",
        items,
    };
    Ok(vec![s351, s352, s353])
}
