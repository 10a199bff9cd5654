//! Section 3.5: causal attention and dropout. The book's printed results come from the registry
//! ([`crate::book`]); this file adds `CausalAttention`'s seeded weights, compared with
//! PyTorch's bits.

use super::torch_values::SEED_123_LINEAR_QKV;
use super::{Item, Section, seeded_parameter, with_printed};
use crate::book::{self, Setup};
use crate::torch::print::row_major;
use crate::{BernoulliPath, CausalAttention, Error, TorchRng, diagnose};

pub(super) fn sections() -> Result<Vec<Section>, Error> {
    let s351 = Section {
        id: "3.5.1",
        title: "Applying a causal attention mask",
        items: with_printed("3.5.1", Vec::new())?,
    };
    let mut items = with_printed("3.5.2", Vec::new())?;
    for linux in linux_colab_masks()? {
        let after = items
            .iter()
            .rposition(|i| i.cell == linux.cell)
            .map_or(items.len(), |k| k + 1);
        items.insert(after, linux);
    }
    let s352 = Section {
        id: "3.5.2",
        title: "Masking additional attention weights with dropout",
        items,
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

/// 3.5.2's two dropout cells as PyTorch 2.6 or older prints them on x86-64 Linux or Colab (the
/// MKL mask; readers posted the first in the book's repository, issue #57), computed by the
/// registry's entries under that setup; then `diagnose` naming the cause from the printed text.
fn linux_colab_masks() -> Result<Vec<Item>, Error> {
    let mkl = Setup {
        bernoulli: BernoulliPath::MklLegacy,
        ..Setup::BOOK
    };
    let mut items = Vec::new();
    for (name, linux) in [
        ("s3_5_2_dropout_ones", book::s3_5::DROPOUT_ONES_LINUX_MKL),
        (
            "s3_5_2_dropout_attn_weights",
            book::s3_5::DROPOUT_WEIGHTS_LINUX_MKL,
        ),
    ] {
        let entry = book::find(name).expect("a registry entry");
        items.push(Item::pytorch(
            entry.cell,
            "the same cell on Linux or Colab with PyTorch <= 2.6 (MKL's dropout mask)",
            (entry.compute_with)(&mkl)?,
            linux.to_string(),
        ));
        // The entry and tags diagnose names, compared in one piece with what the claim says.
        let named = diagnose::diagnose(linux).ok().and_then(|d| d.matched);
        let said = named.map(|m| (m.printed.name, m.causes.iter().map(|c| c.tag()).collect()));
        let holds = said == Some((name, vec!["bernoulli-mkl".to_string()]));
        let tags: Vec<String> = said.map(|(_, tags)| tags).unwrap_or_default();
        items.push(Item::claim(
            entry.cell,
            "`cargo run -- diagnose` on that printout",
            format!("diagnose: {}", tags.join(", ")),
            format!(
                "names {} {} and the cause bernoulli-mkl",
                entry.section, entry.cell
            ),
            holds,
        ));
    }
    Ok(items)
}
