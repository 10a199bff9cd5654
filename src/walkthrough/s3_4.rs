//! Section 3.4: self-attention with trainable weights. The book's printed results come from the
//! registry ([`crate::book`]); this file adds the seeded weights, compared with PyTorch's bits.

use super::torch_values::{SEED_123_RAND_QKV, SEED_789_LINEAR_QKV};
use super::{Item, Section, seeded_parameter, with_printed};
use crate::torch::print::row_major;
use crate::{Error, SelfAttentionV2, TorchRng};

pub(super) fn sections() -> Result<Vec<Section>, Error> {
    // torch.manual_seed(123); three torch.rand(3, 2), in the order W_query, W_key, W_value.
    let mut rng = TorchRng::manual_seed(123);
    let weights = [rng.rand(3, 2), rng.rand(3, 2), rng.rand(3, 2)];
    let seeded: Vec<Item> = weights
        .iter()
        .zip(SEED_123_RAND_QKV)
        .map(|(w, (name, bits))| seeded_parameter("[68]", name, &[3, 2], &row_major(w), bits))
        .collect();
    let s341 = Section {
        id: "3.4.1",
        title: "Computing the attention weights step by step",
        items: with_printed("3.4.1", seeded)?,
    };

    let sa_v2 = SelfAttentionV2::new(3, 2, false, &mut TorchRng::manual_seed(789));
    let seeded: Vec<Item> = [sa_v2.w_query(), sa_v2.w_key(), sa_v2.w_value()]
        .iter()
        .zip(SEED_789_LINEAR_QKV)
        .map(|(layer, (name, bits))| {
            seeded_parameter("[89]", name, &[2, 3], &row_major(layer.weight()), bits)
        })
        .collect();
    let s342 = Section {
        id: "3.4.2",
        title: "Implementing a compact self-attention Python class",
        items: with_printed("3.4.2", seeded)?,
    };
    Ok(vec![s341, s342])
}
