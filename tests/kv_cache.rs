//! `kv_cache`: decoding with a KV cache equals the full causal forward pass. Bit for bit where
//! the order of the additions is the same (a prefill of the whole sequence; the masked softmax
//! against the softmax of the visible scores); within the derived bound of
//! `tests/support/attention_f64.rs` token by token and in chunks, over shapes, heads, batches and
//! every position. The counterfactual without the mask, measured; the cache's errors.

use ch03_attention::causal::causal_attn_weights;
use ch03_attention::inputs::inputs;
use ch03_attention::kv_cache::{
    cached_attn_weights, self_attention_v2_decoded, unmasked_cache_gap,
};
use ch03_attention::nalgebra::DMatrix;
use ch03_attention::{
    CausalAttention, Error, KvCache, MultiHeadAttention, SelfAttentionV2, TorchRng,
};
use proptest::prelude::*;

use crate::efficient::attention_f64::{self, Bounded};
use crate::efficient::seeded_mha;

/// The f64 reference of `MultiHeadAttention` on one item, with its error bound.
fn mha_reference(mha: &MultiHeadAttention, x: &DMatrix<f32>) -> Bounded {
    let layers =
        [mha.w_query(), mha.w_key(), mha.w_value(), mha.out_proj()].map(|l| (l.weight(), l.bias()));
    attention_f64::multi_head(x, layers, mha.num_heads())
}

/// The f64 reference of `CausalAttention` on one item: the three projections and one head.
fn causal_reference(ca: &CausalAttention, x: &DMatrix<f32>) -> Bounded {
    let x = Bounded::exact(x);
    let [q, k, v] = [ca.w_query(), ca.w_key(), ca.w_value()]
        .map(|l| attention_f64::linear(&x, l.weight(), l.bias()));
    attention_f64::causal_head(&q, &k, &v)
}

/// Feeds `x` (every item of the batch) through `step` in chunks of the given sizes (their sum
/// is the number of tokens) and stacks the outputs: `(tokens × d_out)` per item.
fn decode(
    x: &[DMatrix<f32>],
    chunks: &[usize],
    mut step: impl FnMut(&[DMatrix<f32>]) -> Result<Vec<DMatrix<f32>>, Error>,
) -> Vec<DMatrix<f32>> {
    let mut rows: Vec<Vec<DMatrix<f32>>> = vec![Vec::new(); x.len()];
    let mut first = 0;
    for &n in chunks {
        let chunk: Vec<DMatrix<f32>> = x.iter().map(|m| m.rows(first, n).into_owned()).collect();
        for (item, out) in rows.iter_mut().zip(step(&chunk).unwrap()) {
            assert_eq!(out.nrows(), n, "one output row per new token");
            item.push(out);
        }
        first += n;
    }
    rows.iter()
        .map(|parts| {
            let width = parts[0].ncols();
            let mut m = DMatrix::zeros(first, width);
            let mut r = 0;
            for p in parts {
                m.rows_mut(r, p.nrows()).copy_from(p);
                r += p.nrows();
            }
            m
        })
        .collect()
}

/// One random case: a module's shape, a batch, and how the tokens arrive.
#[derive(Debug, Clone)]
struct Case {
    seed: u64,
    batch: usize,
    tokens: usize,
    d_in: usize,
    heads: usize,
    head_dim: usize,
    qkv_bias: bool,
    /// Chunk sizes, summing to `tokens`: `[1, 1, …]` is token by token, `[k, 1, 1, …]` a
    /// prefill of `k` then decoding.
    chunks: Vec<usize>,
}

impl Case {
    fn mha(&self) -> (MultiHeadAttention, Vec<DMatrix<f32>>) {
        let mut rng = TorchRng::manual_seed(self.seed);
        let mha = seeded_mha(
            self.d_in,
            self.tokens,
            self.heads,
            self.head_dim,
            self.qkv_bias,
            &mut rng,
        );
        (mha, self.batch_from(&mut rng))
    }

    fn causal(&self) -> (CausalAttention, Vec<DMatrix<f32>>) {
        let mut rng = TorchRng::manual_seed(self.seed);
        let d_out = self.heads * self.head_dim;
        let ca = CausalAttention::new(self.d_in, d_out, self.tokens, 0.0, self.qkv_bias, &mut rng)
            .unwrap();
        (ca, self.batch_from(&mut rng))
    }

    fn batch_from(&self, rng: &mut TorchRng) -> Vec<DMatrix<f32>> {
        (0..self.batch)
            .map(|_| rng.uniform(self.tokens, self.d_in, -2.0, 2.0))
            .collect()
    }
}

/// Sizes summing to `tokens`, cut at the given fractions (0 cuts: one chunk; `tokens − 1`
/// cuts: token by token).
fn chunks_from(tokens: usize, cuts: &[usize]) -> Vec<usize> {
    let mut points: Vec<usize> = cuts.iter().map(|c| 1 + c % tokens).collect();
    points.push(tokens);
    points.sort_unstable();
    points.dedup();
    let mut last = 0;
    points
        .into_iter()
        .map(|p| {
            let n = p - last;
            last = p;
            n
        })
        .collect()
}

fn case_strategy() -> impl Strategy<Value = Case> {
    (
        any::<u64>(),
        1..=3_usize,
        1..=12_usize,
        1..=8_usize,
        1..=4_usize,
        1..=8_usize,
        any::<bool>(),
        prop_oneof![
            Just(None),
            prop::collection::vec(any::<usize>(), 0..6).prop_map(Some)
        ],
    )
        .prop_map(
            |(seed, batch, tokens, d_in, heads, head_dim, qkv_bias, cuts)| Case {
                seed,
                batch,
                tokens,
                d_in,
                heads,
                head_dim,
                qkv_bias,
                chunks: match cuts {
                    None => vec![1; tokens], // token by token
                    Some(cuts) => chunks_from(tokens, &cuts),
                },
            },
        )
}

/// The largest `|error| / (1.1 · bound)` over a batch: within the bound when at most 1.
fn ratio(got: &[DMatrix<f32>], reference: &[Bounded]) -> f64 {
    got.iter()
        .zip(reference)
        .map(|(g, r)| r.ratio(g))
        .fold(0.0, f64::max)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// `MultiHeadAttention`: every position decoded (token by token, or in random chunks) is
    /// within the derived bound of the f64 reference, as the full forward is; so the two differ
    /// by at most the sum of their bounds, at every position, that is for every prefix.
    #[test]
    fn mha_decoding_equals_the_full_forward_within_the_bound(case in case_strategy()) {
        let (mha, x) = case.mha();
        let mut cache = mha.new_cache();
        let decoded = decode(&x, &case.chunks, |chunk| mha.forward_cached(chunk, &mut cache));
        let want: Vec<Bounded> = x.iter().map(|x| mha_reference(&mha, x)).collect();
        let full = mha.forward(&x).unwrap();
        prop_assert!(ratio(&decoded, &want) <= 1.0, "decoded: {}", ratio(&decoded, &want));
        prop_assert!(ratio(&full, &want) <= 1.0, "full: {}", ratio(&full, &want));
        prop_assert_eq!(cache.len(), case.tokens);
        prop_assert_eq!(cache.batch_size(), case.batch);
    }

    /// The same for `CausalAttention` (one head of `d_out`).
    #[test]
    fn causal_decoding_equals_the_full_forward_within_the_bound(case in case_strategy()) {
        let (ca, x) = case.causal();
        let mut cache = ca.new_cache();
        let decoded = decode(&x, &case.chunks, |chunk| ca.forward_cached(chunk, &mut cache));
        let want: Vec<Bounded> = x.iter().map(|x| causal_reference(&ca, x)).collect();
        let full = ca.forward(&x).unwrap();
        prop_assert!(ratio(&decoded, &want) <= 1.0, "decoded: {}", ratio(&decoded, &want));
        prop_assert!(ratio(&full, &want) <= 1.0, "full: {}", ratio(&full, &want));
    }

    /// Where the order of the additions is the same, the same bits: a prefill of the whole
    /// sequence on an empty cache runs the full forward's products.
    #[test]
    fn prefill_equals_the_full_forward_bit_for_bit(case in case_strategy()) {
        let (mha, x) = case.mha();
        let mut cache = mha.new_cache();
        prop_assert_eq!(mha.forward_cached(&x, &mut cache).unwrap(), mha.forward(&x).unwrap());
        let (ca, x) = case.causal();
        let mut cache = ca.new_cache();
        prop_assert_eq!(ca.forward_cached(&x, &mut cache).unwrap(), ca.forward(&x).unwrap());
    }

    /// The mask adds exactly nothing: row `t` of the full masked softmax equals, bit for bit,
    /// the softmax of the scores of keys `0..=t` alone (the cache's row), and is exactly 0 after.
    #[test]
    fn the_masked_row_is_the_softmax_of_the_visible_scores(
        seed in any::<u64>(), tokens in 1..=16_usize, d_k in 1..=64_usize,
    ) {
        let scores = TorchRng::manual_seed(seed).uniform(tokens, tokens, -8.0, 8.0);
        let full = causal_attn_weights(&scores, d_k);
        for t in 0..tokens {
            let visible = scores.view((t, 0), (1, t + 1)).into_owned(); // (1, t + 1)
            let row = cached_attn_weights(&visible, d_k, t);
            let full_row = full.view((t, 0), (1, t + 1)).into_owned();
            prop_assert_eq!(row.map(f32::to_bits), full_row.map(f32::to_bits), "row {}", t);
            prop_assert!(full.row(t).iter().skip(t + 1).all(|w| w.to_bits() == 0));
        }
    }
}

/// The prefill's equality also holds in the middle of a sequence: chunks laid at the cache's
/// diagonal see exactly their keys (query `first + i` sees keys `0..=first + i`).
#[test]
fn cached_weights_hide_exactly_the_keys_after_each_query() {
    let scores = DMatrix::from_element(2, 5, 1.0_f32);
    let w = cached_attn_weights(&scores, 1, 2); // queries at positions 2 and 3
    let third = 1.0 / 3.0_f32;
    assert_eq!(
        w.row(0).iter().copied().collect::<Vec<_>>(),
        [third, third, third, 0.0, 0.0]
    );
    assert_eq!(
        w.row(1).iter().copied().collect::<Vec<_>>(),
        [0.25; 4].into_iter().chain([0.0]).collect::<Vec<_>>()
    );
    // Divided by √d_k before the softmax: scores 0 and 2 with d_k = 4 are 0 and 1.
    let s = DMatrix::from_row_slice(1, 2, &[0.0_f32, 2.0]);
    let w = cached_attn_weights(&s, 4, 1);
    let e = 1.0_f32.exp();
    assert!((w[(0, 1)] - e / (1.0 + e)).abs() < 1e-7);
}

/// `reset` starts a new sequence: the same outputs as a fresh cache, bit for bit, and another
/// batch size allowed.
#[test]
fn reset_starts_a_new_sequence() {
    let mha =
        MultiHeadAttention::new(3, 4, 6, 0.0, 2, true, &mut TorchRng::manual_seed(1)).unwrap();
    let x = inputs();
    let mut cache = mha.new_cache();
    let first = mha
        .forward_cached(&[x.rows(0, 2).into_owned()], &mut cache)
        .unwrap();
    mha.forward_cached(&[x.rows(2, 3).into_owned()], &mut cache)
        .unwrap();
    assert_eq!(cache.len(), 5);
    cache.reset();
    assert!(cache.is_empty() && cache.batch_size() == 0);
    let two = [x.rows(0, 2).into_owned(), x.rows(0, 2).into_owned()];
    let again = mha.forward_cached(&two, &mut cache).unwrap();
    assert_eq!(again[0], first[0]);
    assert_eq!(again[1], first[0]);
    assert_eq!((cache.len(), cache.batch_size()), (2, 2));
}

/// What the cache holds: per item and head, one key and one value row per token, the module's
/// own projections split into heads.
#[test]
fn the_cache_holds_each_heads_keys_and_values() {
    let mha =
        MultiHeadAttention::new(3, 4, 6, 0.0, 2, false, &mut TorchRng::manual_seed(2)).unwrap();
    let x = inputs();
    let mut cache = mha.new_cache();
    assert_eq!(
        (cache.num_heads(), cache.head_dim(), cache.context_length()),
        (2, 2, 6)
    );
    for t in 0..3 {
        mha.forward_cached(&[x.rows(t, 1).into_owned()], &mut cache)
            .unwrap();
    }
    let keys = mha.w_key().forward(&x.rows(0, 3).into_owned()).unwrap(); // (3, 4)
    let values = mha.w_value().forward(&x.rows(0, 3).into_owned()).unwrap();
    for h in 0..2 {
        let (k, v) = (&cache.keys()[0][h], &cache.values()[0][h]);
        assert_eq!(k.shape(), (3, 2));
        assert!(
            (k - keys.columns(2 * h, 2)).amax() <= 1e-6,
            "head {h}'s keys"
        );
        assert!(
            (v - values.columns(2 * h, 2)).amax() <= 1e-6,
            "head {h}'s values"
        );
    }
}

#[test]
fn memory_per_token_is_two_heads_head_dim_floats() {
    let ca = CausalAttention::new(3, 5, 4, 0.0, false, &mut TorchRng::manual_seed(0)).unwrap();
    assert_eq!(ca.new_cache().bytes_per_token(), 2 * 5 * 4);
    let mha =
        MultiHeadAttention::new(3, 6, 4, 0.0, 3, false, &mut TorchRng::manual_seed(0)).unwrap();
    assert_eq!(mha.new_cache().bytes_per_token(), 2 * 3 * 2 * 4);
}

// ---------------------------------------------------------------------------------------------
// Errors: named, and nothing appended.
// ---------------------------------------------------------------------------------------------

#[test]
fn a_full_cache_is_an_error_and_appends_nothing() {
    let mha =
        MultiHeadAttention::new(3, 2, 4, 0.0, 2, false, &mut TorchRng::manual_seed(123)).unwrap();
    let mut cache = mha.new_cache();
    let x = inputs();
    mha.forward_cached(&[x.rows(0, 4).into_owned()], &mut cache)
        .unwrap();
    let err = mha
        .forward_cached(&[x.rows(4, 1).into_owned()], &mut cache)
        .unwrap_err();
    assert_eq!(
        err,
        Error::CacheFull {
            cached: 4,
            new: 1,
            context_length: 4
        }
    );
    assert_eq!(
        err.to_string(),
        "the KV cache holds 4 tokens and 1 more would exceed context_length 4 \
         (reset the cache to start a new sequence)"
    );
    assert_eq!(cache.len(), 4);
    assert_eq!(cache.keys()[0][0].nrows(), 4);
    // A chunk longer than context_length is refused by the module's own check first.
    cache.reset();
    let err = mha
        .forward_cached(std::slice::from_ref(&x), &mut cache)
        .unwrap_err();
    assert_eq!(
        err,
        Error::TooManyTokens {
            tokens: 6,
            context_length: 4
        }
    );
    assert!(cache.is_empty());
}

#[test]
fn a_batch_of_another_size_is_an_error() {
    let ca = CausalAttention::new(3, 2, 6, 0.0, false, &mut TorchRng::manual_seed(123)).unwrap();
    let mut cache = ca.new_cache();
    let x = inputs().rows(0, 1).into_owned();
    ca.forward_cached(&[x.clone(), x.clone()], &mut cache)
        .unwrap();
    let err = ca
        .forward_cached(std::slice::from_ref(&x), &mut cache)
        .unwrap_err();
    assert_eq!(err, Error::CacheBatch { cached: 2, got: 1 });
    assert_eq!(
        err.to_string(),
        "the KV cache holds 2 sequences but the batch has 1 items"
    );
    assert_eq!(cache.len(), 1);
    // A width error names the module, as its forward pass does.
    let err = ca
        .forward_cached(&[DMatrix::zeros(1, 4)], &mut cache)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "CausalAttention: input has 4 columns per token but d_in is 3"
    );
}

#[test]
fn a_cache_for_another_module_is_an_error() {
    let mha =
        MultiHeadAttention::new(3, 4, 6, 0.0, 2, false, &mut TorchRng::manual_seed(0)).unwrap();
    let ca = CausalAttention::new(3, 4, 6, 0.0, false, &mut TorchRng::manual_seed(0)).unwrap();
    let mut cache: KvCache = ca.new_cache(); // one head of 4
    let err = mha.forward_cached(&[inputs()], &mut cache).unwrap_err();
    assert_eq!(
        err.to_string(),
        "KV cache (heads × head_dim) for this module: shapes (2 × 2) and (1 × 4) do not fit together"
    );
    let mut cache = mha.new_cache();
    let err = ca.forward_cached(&[inputs()], &mut cache).unwrap_err();
    assert!(
        matches!(
            err,
            Error::ShapeMismatch {
                left: (1, 4),
                right: (2, 2),
                ..
            }
        ),
        "{err}"
    );
    assert!(cache.is_empty());
}

/// No tokens: nothing to attend, nothing appended.
#[test]
fn an_empty_step_changes_nothing() {
    let mha =
        MultiHeadAttention::new(3, 2, 6, 0.0, 2, false, &mut TorchRng::manual_seed(123)).unwrap();
    let mut cache = mha.new_cache();
    assert!(mha.forward_cached(&[], &mut cache).unwrap().is_empty());
    assert!(cache.is_empty());
}

// ---------------------------------------------------------------------------------------------
// The book's example and the counterfactual.
// ---------------------------------------------------------------------------------------------

/// The figure's claim: at each step the new query's weights over the cache are the full
/// forward's row for that token. Tolerance 1e-6: the same masked softmax of the same scores,
/// whose 2-term dot products may be added in another order (at most 1 ulp, 6e-8, on scores
/// below 1), which moves a weight by less than 2e-7.
#[test]
fn each_decoding_step_computes_one_row_of_the_full_weights() {
    let ca = CausalAttention::new(3, 2, 6, 0.0, false, &mut TorchRng::manual_seed(123)).unwrap();
    let x = inputs();
    let full = ca.attn_weights(&x).unwrap();
    let mut cache = ca.new_cache();
    for t in 0..6 {
        let token = x.rows(t, 1).into_owned();
        ca.forward_cached(std::slice::from_ref(&token), &mut cache)
            .unwrap();
        let query = ca.w_query().forward(&token).unwrap();
        let scores = &query * cache.keys()[0][0].transpose();
        let row = cached_attn_weights(&scores, 2, t);
        assert_eq!(row.ncols(), t + 1, "the cache grows by one key per step");
        assert!(
            (row - full.view((t, 0), (1, t + 1))).amax() <= 1e-6,
            "step {t}"
        );
    }
    let svg = ch03_attention::figures::kv_cache_decode().unwrap();
    for step in [2, 4, 6] {
        assert!(svg.contains(&format!(">step {step}: {step} keys cached<")));
    }
}

/// The counterfactual on the book's example, as the guide states it: the gap per position, and
/// relative to the full forward's largest entry per token, 29 % to 58 % everywhere but the
/// last position.
#[test]
fn without_the_mask_the_cache_changes_every_output_but_the_last() {
    let v2 = SelfAttentionV2::new(3, 2, false, &mut TorchRng::manual_seed(789));
    let x = inputs();
    let gap = unmasked_cache_gap(&v2, &x).unwrap();
    let rounded: Vec<f32> = gap.iter().map(|g| (g * 1e4).round() / 1e4).collect();
    assert_eq!(rounded, [0.0427, 0.0243, 0.0251, 0.0223, 0.0419, 0.0]);
    let full = v2.forward(&x).unwrap();
    let size: Vec<f32> = (0..6).map(|t| full.row(t).amax()).collect();
    let (lo, hi) = size
        .iter()
        .fold((f32::INFINITY, 0.0_f32), |(l, h), s| (l.min(*s), h.max(*s)));
    assert_eq!(((lo * 1e4).round(), (hi * 1e4).round()), (739.0, 763.0));
    let relative: Vec<f32> = (0..5).map(|t| gap[t] / size[t]).collect();
    let (lo, hi) = relative
        .iter()
        .fold((f32::INFINITY, 0.0_f32), |(l, h), r| (l.min(*r), h.max(*r)));
    assert_eq!(((lo * 100.0).round(), (hi * 100.0).round()), (29.0, 58.0));
    assert!(
        gap[5] < 1e-6,
        "the last position sees the same keys both ways"
    );
}

/// What a cache computes for the unmasked module is the causal forward with the same weights
/// (seed 789 gives both modules the same three layers): within the derived bound.
#[test]
fn a_cache_turns_the_unmasked_module_into_the_causal_one() {
    for seed in [789, 1, 2] {
        let v2 = SelfAttentionV2::new(3, 2, seed == 1, &mut TorchRng::manual_seed(seed));
        let ca = CausalAttention::new(3, 2, 6, 0.0, seed == 1, &mut TorchRng::manual_seed(seed))
            .unwrap();
        let x = inputs();
        let decoded = self_attention_v2_decoded(&v2, &x).unwrap();
        assert!(
            causal_reference(&ca, &x).ratio(&decoded) <= 1.0,
            "seed {seed}"
        );
    }
}

/// Decoding the book's modules reproduces the book's printed rows (3.5.3 and 3.6.2), to the
/// printed 4 decimals.
#[test]
fn decoding_the_books_modules_prints_the_books_rows() {
    use ch03_attention::torch::print::TorchPrint;
    let x = inputs();
    let ca = CausalAttention::new(3, 2, 6, 0.0, false, &mut TorchRng::manual_seed(123)).unwrap();
    let mha =
        MultiHeadAttention::new(3, 2, 6, 0.0, 2, false, &mut TorchRng::manual_seed(123)).unwrap();
    let (mut c1, mut c2) = (ca.new_cache(), mha.new_cache());
    let steps = vec![1; 6];
    let by_ca = decode(std::slice::from_ref(&x), &steps, |chunk| {
        ca.forward_cached(chunk, &mut c1)
    });
    let by_mha = decode(std::slice::from_ref(&x), &steps, |chunk| {
        mha.forward_cached(chunk, &mut c2)
    });
    assert_eq!(
        by_ca[0].torch_str(),
        ca.forward(std::slice::from_ref(&x)).unwrap()[0].torch_str()
    );
    assert_eq!(
        by_mha[0].torch_str(),
        "tensor([[0.3190, 0.4858],
        [0.2943, 0.3897],
        [0.2856, 0.3593],
        [0.2693, 0.3873],
        [0.2639, 0.3928],
        [0.2575, 0.4028]])"
    );
}

/// `cargo run -- kv-cache`: seven measured claims, all holding, each labelled in Korean too
/// (`--lang ko`), and the section listed by `--list`.
#[test]
fn the_walkthrough_section_holds_and_speaks_korean() {
    use ch03_attention::walkthrough::{Lang, ko, render_in, section_ids, select, tally};
    assert!(section_ids().contains(&"kv-cache"));
    let sections = select(Some("kv-cache")).unwrap();
    assert_eq!(sections.len(), 1);
    let t = &tally(&sections)[0];
    assert_eq!((t.chapter.as_str(), t.claims), ("kv-cache", (7, 7)));
    assert!(render_in(&sections, Lang::English).ends_with("kv-cache: 7 of 7 claims hold\n"));
    let korean = render_in(&sections, Lang::Korean);
    assert!(korean.contains("== kv-cache 추론에서 마스크가 주는 것: KV 캐시 ("));
    assert!(
        korean.ends_with("kv-cache: 7개 중 7개 주장이 성립\n"),
        "{korean}"
    );
    for item in &sections[0].items {
        assert!(
            ko::label(item.what).is_some(),
            "no Korean label: {}",
            item.what
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The efficient decoder: the same function, within the same bound.
// ---------------------------------------------------------------------------------------------

/// `EfficientDecoder`: a prefill of `prefill` tokens then the rest one at a time; every output
/// row within the derived bound of the f64 reference (the online softmax's 16 lanes and their
/// merge add the same products in another order, with rescales like the forward kernel's).
fn efficient_ratio(case: &Case, prefill: usize) -> f64 {
    let (mha, x) = case.mha();
    efficient_ratio_of(&mha, &x[0], prefill)
}

/// [`efficient_ratio`] for a given module and sequence `x` (`tokens × d_in`).
fn efficient_ratio_of(mha: &MultiHeadAttention, x: &DMatrix<f32>, prefill: usize) -> f64 {
    use ch03_attention::efficient::{EfficientDecoder, EfficientMha};
    let mut decoder = EfficientDecoder::new(&EfficientMha::from_textbook(mha)).unwrap();
    let tokens = x.nrows();
    let prefill = prefill.min(tokens);
    let mut out = DMatrix::zeros(tokens, mha.d_out());
    out.rows_mut(0, prefill)
        .copy_from(&decoder.prefill(&x.rows(0, prefill).into_owned()).unwrap());
    for t in prefill..tokens {
        let row = decoder.step(&x.rows(t, 1).into_owned()).unwrap();
        out.row_mut(t).copy_from(&row);
    }
    assert_eq!(decoder.len(), tokens);
    mha_reference(mha, x).ratio(&out)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Any shape, up to 40 tokens (fewer than 16, a partial group, several groups), decoded
    /// from any prefill length.
    #[test]
    fn the_efficient_decoder_equals_the_full_forward_within_the_bound(
        case in case_strategy(), tokens in 1..=40_usize, prefill in 0..=40_usize,
    ) {
        let case = Case { tokens, batch: 1, ..case };
        let ratio = efficient_ratio(&case, prefill);
        prop_assert!(ratio <= 1.0, "{ratio}");
    }
}

/// Long sequences: several blocks of 256 keys, the last one partial, GPT-2's head width.
#[test]
#[ignore = "slow: a learner's `cargo test` skips it; CI runs it (`cargo test --lib --test '*' -- --include-ignored`)"]
fn the_efficient_decoder_over_several_blocks() {
    for (tokens, prefill, heads, head_dim) in [(600, 590, 2, 64), (513, 500, 3, 8)] {
        let case = Case {
            seed: tokens as u64,
            batch: 1,
            tokens,
            d_in: 16,
            heads,
            head_dim,
            qkv_bias: true,
            chunks: Vec::new(),
        };
        let ratio = efficient_ratio(&case, prefill);
        assert!(ratio <= 1.0, "{tokens} tokens: {ratio}");
    }
}

/// The largest scaled score `m = maxⱼ q_t · k_j / √head_dim` (`j ≤ t`) of every position `t` and
/// head, from the f64 reference's projections: `(tokens × heads)`.
fn largest_scaled_scores(mha: &MultiHeadAttention, x: &DMatrix<f32>) -> DMatrix<f64> {
    let x = attention_f64::Bounded::exact(x);
    let [q, k] =
        [mha.w_query(), mha.w_key()].map(|l| attention_f64::linear(&x, l.weight(), l.bias()).value);
    let (heads, d) = (mha.num_heads(), mha.head_dim());
    DMatrix::from_fn(x.value.nrows(), heads, |t, h| {
        let q_t = q.view((t, h * d), (1, d));
        (0..=t)
            .map(|j| q_t.dot(&k.view((j, h * d), (1, d))) / (d as f64).sqrt())
            .fold(f64::NEG_INFINITY, f64::max)
    })
}

/// Large magnitudes, from an empty cache and after a prefill: inputs uniform in ±30 give scaled
/// scores in the hundreds, of either sign, and every decoded row stays within the derived bound
/// (which grows with the scores), as the full forward does in `tests/efficient.rs`
/// (`within_the_bound_at_large_magnitudes`).
///
/// This is where the merge of the 16 lanes shows. It weighs lane `l` by `e^{mₗ − m}`
/// (`m = maxₗ mₗ`), at most 1 whatever the scores. Any other common factor, `e^{mₗ + m}` say,
/// cancels in `Σ oₗ / Σ ℓₗ` only while it is a number `f32` holds, and `e^{2m}` is not once
/// `|m| > 44.4` (`e^{88.7}` is `f32`'s largest; below `m = −44`, every lane's factor is 0 and the
/// row is 0 / 0). So the test also checks that its decoding steps reach `m ≥ 50`, and `m ≤ −50`
/// (a head and position whose every score is below −50).
#[test]
fn the_efficient_decoder_is_within_the_bound_at_large_magnitudes() {
    let (mut highest, mut lowest) = (f64::NEG_INFINITY, f64::INFINITY);
    for (seed, tokens, d_in, heads, head_dim, prefill) in [
        (1, 40, 8, 2, 8, 0),
        (2, 24, 5, 3, 5, 0),
        (3, 40, 12, 4, 3, 17),
        (4, 300, 8, 1, 16, 250),
    ] {
        let mut rng = TorchRng::manual_seed(seed);
        let mha = seeded_mha(d_in, tokens, heads, head_dim, seed % 2 == 0, &mut rng);
        let x = rng.uniform(tokens, d_in, -30.0, 30.0);
        let ratio = efficient_ratio_of(&mha, &x, prefill);
        assert!(ratio <= 1.0, "seed {seed}: {ratio}");
        let m = largest_scaled_scores(&mha, &x);
        let decoded = m.rows(prefill, tokens - prefill); // the steps: the prefill runs the forward
        highest = highest.max(decoded.max());
        lowest = lowest.min(decoded.min());
    }
    assert!(
        highest >= 50.0 && lowest <= -50.0,
        "m from {lowest} to {highest}"
    );
}

#[test]
fn the_efficient_decoder_preallocates_and_refuses_past_context_length() {
    use ch03_attention::efficient::{EfficientDecoder, EfficientMha};
    let mha =
        MultiHeadAttention::new(3, 4, 20, 0.0, 2, false, &mut TorchRng::manual_seed(5)).unwrap();
    let mut decoder = EfficientDecoder::new(&EfficientMha::from_textbook(&mha)).unwrap();
    assert_eq!(decoder.bytes_per_token(), mha.new_cache().bytes_per_token());
    assert_eq!(decoder.cache_bytes(), 32 * decoder.bytes_per_token()); // 20 rounded up to 32
    assert!(decoder.is_empty());
    let x = TorchRng::manual_seed(6).uniform(20, 3, -1.0, 1.0);
    decoder.prefill(&x).unwrap();
    assert!(!decoder.is_empty());
    let err = decoder.step(&x.rows(0, 1).into_owned()).unwrap_err();
    assert_eq!(
        err,
        Error::CacheFull {
            cached: 20,
            new: 1,
            context_length: 20
        }
    );
    let err = decoder.step(&x.rows(0, 2).into_owned()).unwrap_err();
    assert!(
        matches!(err, Error::ShapeMismatch { right: (2, 3), .. }),
        "{err}"
    );
    let err = decoder.step(&DMatrix::zeros(1, 4)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "MultiHeadAttention: input has 4 columns per token but d_in is 3"
    );
    // After a reset the same tokens give the same bits.
    decoder.reset();
    let a = decoder.step(&x.rows(0, 1).into_owned()).unwrap();
    decoder.reset();
    assert_eq!(decoder.step(&x.rows(0, 1).into_owned()).unwrap(), a);
    // A prefill after cached tokens continues the sequence.
    let mut fresh = EfficientDecoder::new(&EfficientMha::from_textbook(&mha)).unwrap();
    let whole = fresh.prefill(&x.rows(0, 5).into_owned()).unwrap();
    decoder.reset();
    decoder.prefill(&x.rows(0, 2).into_owned()).unwrap();
    let rest = decoder.prefill(&x.rows(2, 3).into_owned()).unwrap();
    assert!((rest - whole.rows(2, 3)).amax() <= 1e-6);
    assert!(decoder.prefill(&DMatrix::zeros(0, 3)).unwrap().is_empty());
}
