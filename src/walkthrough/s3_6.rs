//! Section 3.6 and the exercises: multi-head attention. The book's printed results come from the
//! registry ([`crate::book`]); this file adds `MultiHeadAttention`'s seeded parameters,
//! compared with PyTorch's bits.

use super::torch_values::{SEED_123_LINEAR_QKV, SEED_123_MHA_OUT_PROJ};
use super::{Item, Section, seeded_parameter, with_printed};
use crate::book;
use crate::torch::print::row_major;
use crate::{Error, MultiHeadAttention, TorchRng};

pub(super) fn sections() -> Result<Vec<Section>, Error> {
    let s361 = Section {
        id: "3.6.1",
        title: "Stacking multiple single-head attention layers",
        items: with_printed("3.6.1", Vec::new())?,
    };

    // 3.6.2: the module's parameters (seed 123), created in cell [131].
    let mha = MultiHeadAttention::new(3, 2, 6, 0.0, 2, false, &mut TorchRng::manual_seed(123))?;
    let mut seeded: Vec<Item> = [mha.w_query(), mha.w_key(), mha.w_value()]
        .iter()
        .zip(SEED_123_LINEAR_QKV)
        .map(|(layer, (name, bits))| {
            seeded_parameter("[131]", name, &[2, 3], &row_major(layer.weight()), bits)
        })
        .collect();
    let out_bias = mha.out_proj().bias().expect("out_proj has a bias");
    let [(w_name, w_bits), (b_name, b_bits)] = SEED_123_MHA_OUT_PROJ;
    seeded.push(seeded_parameter(
        "[131]",
        w_name,
        &[2, 2],
        &row_major(mha.out_proj().weight()),
        w_bits,
    ));
    seeded.push(seeded_parameter(
        "[131]",
        b_name,
        &[2],
        out_bias.as_slice(),
        b_bits,
    ));
    let s362 = Section {
        id: "3.6.2",
        title: "Implementing multi-head attention with weight splits",
        items: with_printed("3.6.2", seeded)?,
    };

    // The exercises' printed results, in the order of the solutions notebook.
    let exercises = Section {
        id: "exercises",
        title: "Exercises 3.1, 3.2 and 3.3",
        items: book::solution_outputs()
            .map(Item::printed)
            .collect::<Result<_, _>>()?,
    };
    Ok(vec![s361, s362, exercises])
}
