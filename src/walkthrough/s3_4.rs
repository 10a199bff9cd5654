//! Section 3.4: self-attention with trainable weights.

use super::torch_values::{SEED_123_RAND_QKV, SEED_789_LINEAR_QKV};
use super::{Item, Section, seeded_parameter};
use crate::inputs::{QUERY_INDEX, inputs};
use crate::qkv::{attn_scores_of, project, project_all, scaled_softmax, weighted_values};
use crate::similarity::dot;
use crate::torch::print::{TorchPrint, row_major, torch_size};
use crate::torch::row;
use crate::{Error, SelfAttentionV1, SelfAttentionV2, TorchRng, book};

pub(super) fn sections() -> Result<Vec<Section>, Error> {
    let x = inputs();
    let x_2 = row(&x, QUERY_INDEX);
    let d_k = 2;

    // torch.manual_seed(123); three torch.rand(3, 2), in the order W_query, W_key, W_value.
    let mut rng = TorchRng::manual_seed(123);
    let w_query = rng.rand(3, 2);
    let w_key = rng.rand(3, 2);
    let w_value = rng.rand(3, 2);

    let query_2 = project(&x_2, &w_query)?;
    let keys = project_all(&x, &w_key)?; // (6, 2)
    let values = project_all(&x, &w_value)?; // (6, 2)
    let key_2 = row(&keys, QUERY_INDEX);
    let attn_score_22 = dot(&query_2, &key_2)?;
    let attn_scores_2 = attn_scores_of(&query_2, &keys)?;
    let attn_weights_2 = scaled_softmax(&attn_scores_2, d_k);
    let context_vec_2 = weighted_values(&attn_weights_2, &values)?;

    let mut items: Vec<Item> = [&w_query, &w_key, &w_value]
        .iter()
        .zip(SEED_123_RAND_QKV)
        .map(|(w, (name, bits))| seeded_parameter("[68]", name, &[3, 2], &row_major(w), bits))
        .collect();
    items.extend([
        Item::book(
            "[70]",
            "query q⁽²⁾ = x⁽²⁾ W_q",
            query_2.torch_str(),
            book::QUERY_2,
        ),
        Item::book(
            "[72]",
            "keys = X W_k: one key per token",
            format!("keys.shape: {}", torch_size(&keys.torch_shape())),
            book::KEYS_SHAPE,
        ),
        Item::book(
            "[72]",
            "values = X W_v",
            format!("values.shape: {}", torch_size(&values.torch_shape())),
            book::VALUES_SHAPE,
        ),
        Item::book(
            "[75]",
            "one score ω₂₂ = q⁽²⁾ · k⁽²⁾",
            attn_score_22.torch_str(),
            book::ATTN_SCORE_22,
        ),
        Item::book(
            "[77]",
            "all scores of query 2: q⁽²⁾ Kᵀ",
            attn_scores_2.torch_str(),
            book::ATTN_SCORES_2_QK,
        ),
        Item::book(
            "[80]",
            "weights: softmax(ω₂ / √d_k), d_k = 2",
            attn_weights_2.torch_str(),
            book::ATTN_WEIGHTS_2_SCALED,
        ),
        Item::book(
            "[83]",
            "context vector z⁽²⁾ = α₂ V",
            context_vec_2.torch_str(),
            book::CONTEXT_VEC_2_QKV,
        ),
    ]);
    let s341 = Section {
        id: "3.4.1",
        title: "Computing the attention weights step by step",
        items,
    };

    let sa_v1 = SelfAttentionV1::new(3, 2, &mut TorchRng::manual_seed(123));
    let sa_v2 = SelfAttentionV2::new(3, 2, false, &mut TorchRng::manual_seed(789));
    let mut items = vec![Item::book(
        "[86]",
        "SelfAttentionV1 (seed 123, torch.rand weights)",
        sa_v1.forward(&x)?.torch_str(),
        book::SA_V1_OUTPUT,
    )];
    for (layer, (name, bits)) in [sa_v2.w_query(), sa_v2.w_key(), sa_v2.w_value()]
        .iter()
        .zip(SEED_789_LINEAR_QKV)
    {
        items.push(seeded_parameter(
            "[89]",
            name,
            &[2, 3],
            &row_major(layer.weight()),
            bits,
        ));
    }
    items.push(Item::book(
        "[89]",
        "SelfAttentionV2 (seed 789, nn.Linear weights)",
        sa_v2.forward(&x)?.torch_str(),
        book::SA_V2_OUTPUT,
    ));
    let s342 = Section {
        id: "3.4.2",
        title: "Implementing a compact self-attention Python class",
        items,
    };
    Ok(vec![s341, s342])
}
