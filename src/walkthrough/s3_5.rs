//! Section 3.5: causal attention and dropout. The book's printed results come from the registry
//! ([`crate::chapter`]); this file adds `CausalAttention`'s seeded weights, compared with
//! PyTorch's bits.

use super::torch_values::SEED_123_LINEAR_QKV;
use super::{Item, Section, seeded_parameter, with_printed};
use crate::torch::print::row_major;
use crate::{CausalAttention, Error, TorchRng};

pub(super) fn sections() -> Result<Vec<Section>, Error> {
    let s351 = Section {
        id: "3.5.1",
        title: "Applying a causal attention mask",
        items: with_printed("3.5.1", Vec::new())?,
    };
    let s352 = Section {
        id: "3.5.2",
        title: "Masking additional attention weights with dropout",
        items: with_printed("3.5.2", Vec::new())?,
    };

    // 3.5.3: the class's weights (seed 123), created in cell [121].
    let ca = CausalAttention::new(3, 2, 6, 0.0, false, &mut TorchRng::manual_seed(123))?;
    let seeded: Vec<Item> = [ca.w_query(), ca.w_key(), ca.w_value()]
        .iter()
        .zip(SEED_123_LINEAR_QKV)
        .map(|(layer, (name, bits))| {
            seeded_parameter("[121]", name, &[2, 3], &row_major(layer.weight()), bits)
        })
        .collect();
    let s353 = Section {
        id: "3.5.3",
        title: "Implementing a compact causal self-attention class",
        items: with_printed("3.5.3", seeded)?,
    };
    Ok(vec![s351, s352, s353])
}
