//! `grad_fn=<…>` as evidence: the last operation PyTorch records for each printed result.
//!
//! A reader's `grad_fn` says which operation produced the tensor, so it tells cells apart that
//! print the same numbers: `MultiHeadAttentionWrapper` with one head prints exactly
//! `CausalAttention`'s numbers, but its output ends in `torch.cat` (`CatBackward0`) and
//! `CausalAttention`'s in a batched matrix product (`UnsafeViewBackward0`).
//!
//! The names below are the ones PyTorch prints, checked against PyTorch itself by
//! `scripts/diagnose_fixtures.py` (`tests/data/diagnose_fixtures.json`, key `grad_fns`) and
//! against the book's own texts. Some results print different names in different versions or
//! shapes: `MultiHeadAttention`'s output projection prints `ViewBackward0` in the book,
//! `UnsafeViewBackward0` or `AddBackward0` in PyTorch 2.15 depending on the head size. The 3.4.1
//! results print none in the book (its weights have `requires_grad=False`) and the listed names
//! when the weights require gradients.

use crate::book::{DropoutMode, Printed, Setup};

/// Entry name → the `grad_fn` names its result can print. Entries not listed print none.
const NAMES: &[(&str, &[&str])] = &[
    ("s3_4_1_query_2", &["SqueezeBackward4"]),
    ("s3_4_1_attn_score_22", &["DotBackward0"]),
    ("s3_4_1_attn_scores_2", &["SqueezeBackward4"]),
    ("s3_4_1_attn_weights_2", &["SoftmaxBackward0"]),
    ("s3_4_1_context_vec_2", &["SqueezeBackward4"]),
    ("s3_4_2_sa_v1_output", &["MmBackward0"]),
    ("s3_4_2_sa_v2_output", &["MmBackward0"]),
    ("s3_5_1_attn_weights", &["SoftmaxBackward0"]),
    ("s3_5_1_masked_simple", &["MulBackward0"]),
    ("s3_5_1_masked_simple_norm", &["DivBackward0"]),
    ("s3_5_1_masked_neg_inf", &["MaskedFillBackward0"]),
    ("s3_5_1_causal_attn_weights", &["SoftmaxBackward0"]),
    ("s3_5_2_dropout_attn_weights", &["MulBackward0"]),
    ("s3_5_3_causal_context_vecs", &["UnsafeViewBackward0"]),
    ("s3_6_1_wrapper_context_vecs", &["CatBackward0"]),
    ("s3_6_2_mha_context_vecs", OUT_PROJ),
    ("exercise_3_1_sa_v1", &["MmBackward0"]),
    ("exercise_3_1_sa_v2", &["MmBackward0"]),
    ("exercise_3_2_context_vecs", &["CatBackward0"]),
    (
        "exercise_3_2_korean_edition_context_vecs",
        &["ViewBackward0", "UnsafeViewBackward0"],
    ),
];

/// `MultiHeadAttention`'s `out_proj`, a `Linear` layer applied to the heads' transposed and
/// reshaped output.
const OUT_PROJ: &[&str] = &["ViewBackward0", "UnsafeViewBackward0", "AddBackward0"];

/// The `grad_fn` names `printed` can print under `setup` (empty: none).
///
/// ```
/// use ch03_attention::book::{self, DropoutMode, Setup};
/// use ch03_attention::diagnose::grad_fn;
///
/// let dropped = book::find("s3_5_2_dropout_attn_weights").unwrap();
/// assert_eq!(grad_fn::names(dropped, &Setup::BOOK), ["MulBackward0"]);
/// // In evaluation mode dropout returns its input: the softmax's output itself.
/// let eval = Setup { dropout: DropoutMode::Eval, ..Setup::BOOK };
/// assert_eq!(grad_fn::names(dropped, &eval), ["SoftmaxBackward0"]);
/// ```
pub fn names(printed: &Printed, setup: &Setup) -> &'static [&'static str] {
    if printed.name == "s3_5_2_dropout_attn_weights" && setup.dropout == DropoutMode::Eval {
        return &["SoftmaxBackward0"];
    }
    NAMES
        .iter()
        .find(|(name, _)| *name == printed.name)
        .map_or(&[], |(_, names)| names)
}

/// Whether a reader's `grad_fn` (if any) is one `printed` can print under `setup`. No
/// `grad_fn` is no evidence either way (`.detach()`, `torch.no_grad()`, or no gradients).
pub fn agrees(grad_fn: Option<&str>, printed: &Printed, setup: &Setup) -> bool {
    grad_fn.is_none_or(|g| names(printed, setup).contains(&g))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::book;

    #[test]
    fn every_listed_name_is_an_entry() {
        for (name, _) in NAMES {
            assert!(book::find(name).is_some(), "{name}");
        }
    }

    #[test]
    fn no_grad_fn_agrees_with_everything() {
        let wrapper = book::find("s3_6_1_wrapper_context_vecs").unwrap();
        assert!(agrees(None, wrapper, &Setup::BOOK));
        assert!(agrees(Some("CatBackward0"), wrapper, &Setup::BOOK));
        assert!(!agrees(Some("UnsafeViewBackward0"), wrapper, &Setup::BOOK));
        let mask = book::find("s3_5_1_simple_mask").unwrap();
        assert!(names(mask, &Setup::BOOK).is_empty());
    }
}
