//! "What the mask buys at inference": decoding with a KV cache, measured on the book's modules
//! (module [`kv_cache`](crate::kv_cache)).

use nalgebra::DMatrix;

use super::{Item, Section};
use crate::book;
use crate::inputs::inputs;
use crate::kv_cache::{cached_attn_weights, self_attention_v2_decoded, unmasked_cache_gap};
use crate::torch::matmul;
use crate::torch::print::{TorchPrint, strip_autograd_suffix};
use crate::{CausalAttention, Error, MultiHeadAttention, SelfAttentionV2, TorchRng};

pub(super) fn sections() -> Result<Vec<Section>, Error> {
    let x = inputs();
    let token = |t: usize| x.rows(t, 1).into_owned(); // (1, 3): token t alone
    let mut items = Vec::new();

    // The book's MultiHeadAttention (3.6.2) on the book's batch, decoded one token at a time.
    let mha = MultiHeadAttention::new(3, 2, 6, 0.0, 2, false, &mut TorchRng::manual_seed(123))?;
    let mut cache = mha.new_cache();
    let mut decoded = vec![DMatrix::zeros(6, 2); 2]; // (2, 6, 2)
    for t in 0..6 {
        let rows = mha.forward_cached(&[token(t), token(t)], &mut cache)?; // (2, 1, 2)
        for (item, row) in decoded.iter_mut().zip(rows) {
            item.row_mut(t).copy_from(&row);
        }
    }
    let printed = decoded.as_slice().torch_str();
    let book_text = strip_autograd_suffix(book::s3_6::MHA_CONTEXT_VECS.book);
    items.push(Item::claim(
        "[cache]",
        "the book's MultiHeadAttention (3.6.2) decoded one token at a time",
        printed.clone(),
        book_text.clone(),
        printed == book_text,
    ));

    // Prefill: the whole sequence into an empty cache runs the full forward's products.
    let ca = CausalAttention::new(3, 2, 6, 0.0, false, &mut TorchRng::manual_seed(123))?;
    let batch = [x.clone(), x.clone()];
    let pairs = [
        (
            mha.forward_cached(&batch, &mut mha.new_cache())?,
            mha.forward(&batch)?,
        ),
        (
            ca.forward_cached(&batch, &mut ca.new_cache())?,
            ca.forward(&batch)?,
        ),
    ];
    let numbers: usize = pairs.iter().flat_map(|(a, _)| a).map(DMatrix::len).sum();
    let differing = pairs
        .iter()
        .flat_map(|(a, b)| a.iter().zip(b))
        .flat_map(|(a, b)| a.iter().zip(b.iter()))
        .filter(|(a, b)| a.to_bits() != b.to_bits())
        .count();
    items.push(Item::claim(
        "[cache]",
        "prefill: the whole batch into an empty cache, against the full forward",
        format!("{differing} of {numbers} numbers differ in any bit"),
        "equal bit for bit (the same products)".to_string(),
        differing == 0,
    ));

    // Each step computes one row: the new query's weights over the keys cached so far.
    let full = ca.attn_weights(&x)?;
    let mut cache = ca.new_cache();
    let mut widths = Vec::new();
    let mut largest = 0.0_f32;
    for t in 0..6 {
        ca.forward_cached(&[token(t)], &mut cache)?;
        let query = ca.w_query().forward(&token(t))?; // (1, 2)
        let scores = matmul(&query, &cache.keys()[0][0].transpose()); // (1, t + 1)
        let row = cached_attn_weights(&scores, ca.d_out(), t);
        widths.push(row.ncols().to_string());
        largest = largest.max((row - full.view((t, 0), (1, t + 1))).amax());
    }
    items.push(Item::claim(
        "[cache]",
        "CausalAttention (3.5.3): each step's weights over the cache against row t of the full weights",
        format!(
            "keys cached per step: {}; largest difference {largest:.1e}",
            widths.join(", ")
        ),
        "one more key per step; the same row within 1e-6".to_string(),
        one_row_per_step(&widths, largest),
    ));

    // The counterfactual: SelfAttentionV2 has no mask.
    let v2 = SelfAttentionV2::new(3, 2, false, &mut TorchRng::manual_seed(789));
    let gap = unmasked_cache_gap(&v2, &x)?;
    let shown: Vec<String> = gap.iter().map(|g| format!("{g:.4}")).collect();
    items.push(Item::claim(
        "[no mask]",
        "SelfAttentionV2 (seed 789) cached token by token: largest |cached − full| per position",
        shown.join(" "),
        "at least 0.01 at every position but the last".to_string(),
        stale_but_the_last(&gap),
    ));
    let cached_v2 = self_attention_v2_decoded(&v2, &x)?.torch_str();
    let causal_789 = CausalAttention::new(3, 2, 6, 0.0, false, &mut TorchRng::manual_seed(789))?;
    let causal_text = causal_789.forward(std::slice::from_ref(&x))?[0].torch_str();
    items.push(Item::claim(
        "[no mask]",
        "what the cache computed for SelfAttentionV2 is CausalAttention's output (same weights)",
        cached_v2.clone(),
        causal_text.clone(),
        cached_v2 == causal_text,
    ));

    // Memory and the full cache.
    let gpt2 = MultiHeadAttention::new(
        768,
        768,
        1024,
        0.0,
        12,
        false,
        &mut TorchRng::manual_seed(0),
    )?;
    let bytes = gpt2.new_cache().bytes_per_token();
    items.push(Item::claim(
        "[memory]",
        "memory per cached token, GPT-2 small's attention (768 features, 12 heads)",
        format!(
            "{bytes} bytes per token and layer; {} MiB at 1024 tokens",
            (bytes * 1024) >> 20
        ),
        "2 · 12 heads · 64 · 4 bytes = 6144".to_string(),
        bytes == 2 * 12 * 64 * 4,
    ));
    let mut cache = ca.new_cache();
    ca.forward_cached(std::slice::from_ref(&x), &mut cache)?;
    let error = ca.forward_cached(&[token(0)], &mut cache);
    let message = error
        .as_ref()
        .map_or_else(|e| e.to_string(), |_| "no error".to_string());
    items.push(Item::claim(
        "[full]",
        "a 7th token for a cache of context_length 6",
        format!("{message}; {} tokens cached", cache.len()),
        "an Error naming the numbers; nothing appended".to_string(),
        refused_and_unchanged(&error, cache.len()),
    ));

    Ok(vec![Section {
        id: "kv-cache",
        title: "What the mask buys at inference: a KV cache",
        items,
    }])
}

/// The step claim: the cache grows by one key per step (1 to 6 keys), and each step's row is
/// the full weights' row `t` within 1e-6.
fn one_row_per_step(widths: &[String], largest: f32) -> bool {
    widths.join(",") == "1,2,3,4,5,6" && largest <= 1e-6
}

/// The counterfactual's claim on the unmasked cache's per-position gaps: at least 0.01 at each
/// of the first five positions, and below 1e-6 at the last (the one that sees every token).
fn stale_but_the_last(gap: &[f32]) -> bool {
    let stale = gap[..5].iter().filter(|g| **g >= 0.01).count();
    stale == 5 && gap[5] < 1e-6
}

/// The full-cache claim: a 7th token is refused with [`Error::CacheFull`], and the cache still
/// holds its 6 tokens.
fn refused_and_unchanged<T>(error: &Result<T, Error>, cached: usize) -> bool {
    matches!(error, Err(Error::CacheFull { .. })) && cached == 6
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each claim fails when either of its two parts does.
    #[test]
    fn the_claims_can_fail() {
        let widths = |w: &str| w.split(',').map(str::to_string).collect::<Vec<_>>();
        assert!(one_row_per_step(&widths("1,2,3,4,5,6"), 1e-6));
        assert!(!one_row_per_step(&widths("6,6,6,6,6,6"), 0.0)); // a cache that does not grow
        assert!(!one_row_per_step(&widths("1,2,3,4,5,6"), 2e-6)); // a row off by 2e-6

        assert!(stale_but_the_last(&[0.01, 0.2, 0.3, 0.4, 0.5, 0.0]));
        assert!(!stale_but_the_last(&[0.01, 0.2, 0.0, 0.4, 0.5, 0.0])); // one position right
        assert!(!stale_but_the_last(&[0.01, 0.2, 0.3, 0.4, 0.5, 0.1])); // the last one wrong
        assert!(!stale_but_the_last(&[0.01, 0.2, 0.3, 0.4, 0.5, 1e-6])); // not below 1e-6

        let full = Error::CacheFull {
            cached: 6,
            new: 1,
            context_length: 6,
        };
        assert!(refused_and_unchanged::<()>(&Err(full.clone()), 6));
        assert!(!refused_and_unchanged(&Ok(()), 6)); // the 7th token taken
        assert!(!refused_and_unchanged::<()>(&Err(full), 7)); // refused, but appended
    }
}
