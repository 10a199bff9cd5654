//! `torch::rng`: PyTorch's CPU generator, bit for bit.
//!
//! Every expectation here is a PyTorch bit pattern (from the spec's appendix, recorded with torch
//! 2.15.0: AVX2/AVX-512 kernels for "fused", `ATEN_CPU_CAPABILITY=default` for "unfused").
//! Random draws are compared as `u32` bit patterns, never with a tolerance.

use crate::common;

use ch03_attention::nalgebra::DMatrix;
use ch03_attention::torch::print::TorchPrint;
use ch03_attention::{BernoulliPath, Linear, TorchRng, UniformKernel};
use rstest::rstest;

/// Row-major bit patterns of a matrix (PyTorch's memory order).
fn bits(m: &DMatrix<f32>) -> Vec<u32> {
    m.transpose().iter().map(|v| v.to_bits()).collect()
}

/// The fused or unfused column of a `(fused, unfused)` table.
fn pick(table: &[(u32, u32)], kernel: UniformKernel) -> Vec<u32> {
    table
        .iter()
        .map(|&(fused, unfused)| match kernel {
            UniformKernel::Fused => fused,
            UniformKernel::Unfused => unfused,
        })
        .collect()
}

fn seeded(seed: u64, kernel: UniformKernel) -> TorchRng {
    TorchRng::manual_seed(seed).with_kernel(kernel)
}

/// A `Linear(in, out, bias=False)` weight drawn from `g`, row-major bits.
fn linear_bits(d_in: usize, d_out: usize, g: &mut TorchRng) -> Vec<u32> {
    bits(Linear::new(d_in, d_out, false, g).weight())
}

/// SelfAttention_v1, seed 123: `W_query` = torch.rand(3, 2), row-major.
const V1_W_QUERY: [u32; 6] = [
    0x3e979bfc, 0x3f043d6d, 0x3e80dafc, 0x3f304542, 0x3d977ee0, 0x3f5dd462,
];
/// SelfAttention_v1, seed 123: `W_key` = torch.rand(3, 2), row-major.
const V1_W_KEY: [u32; 6] = [
    0x3e0bdb98, 0x3dd1e088, 0x3e3c794c, 0x3f39f86a, 0x3ea168f6, 0x3f2fe639,
];
/// SelfAttention_v1, seed 123: `W_value` = torch.rand(3, 2), row-major.
const V1_W_VALUE: [u32; 6] = [
    0x3d9ae6b0, 0x3e495b84, 0x3ea200c0, 0x3ecdb0e2, 0x3df2d3f0, 0x3f53d02f,
];
/// SelfAttention_v2, seed 789: `W_query.weight` (2 × 3), (fused, unfused) bits.
const V2_W_QUERY: [(u32, u32); 6] = [
    (0x3ea1d27f, 0x3ea1d27e),
    (0x3ee9e2d0, 0x3ee9e2d0),
    (0x3f03079c, 0x3f03079c),
    (0xbe2c5302, 0xbe2c5302),
    (0xbeacfe38, 0xbeacfe38),
    (0xbdbbf3f0, 0xbdbbf3f0),
];
/// SelfAttention_v2, seed 789: `W_key.weight` (2 × 3), (fused, unfused) bits.
const V2_W_KEY: [(u32, u32); 6] = [
    (0x3ecfc5c8, 0x3ecfc5c8),
    (0xbef0daf6, 0xbef0daf6),
    (0x3e727d10, 0x3e727d10),
    (0x3e5a7b3d, 0x3e5a7b3c),
    (0xbe85255c, 0xbe85255c),
    (0xbf02b2f2, 0xbf02b2f2),
];
/// SelfAttention_v2, seed 789: `W_value.weight` (2 × 3), (fused, unfused) bits.
const V2_W_VALUE: [(u32, u32); 6] = [
    (0x3e8150d7, 0x3e8150d8),
    (0xbe10dfae, 0xbe10dfae),
    (0xbe48e3c3, 0xbe48e3c4),
    (0x3f04e439, 0x3f04e43a),
    (0xbdae6c57, 0xbdae6c58),
    (0xbe513b1c, 0xbe513b1c),
];
/// CausalAttention, seed 123: `W_query.weight` (2 × 3), (fused, unfused) bits.
const CAUSAL_W_QUERY: [(u32, u32); 6] = [
    (0xbe711478, 0xbe711478),
    (0x3c9caaef, 0x3c9caae0),
    (0xbe92d05d, 0xbe92d05d),
    (0x3e5ef3ba, 0x3e5ef3bc),
    (0xbefbdecd, 0xbefbdecd),
    (0x3ed8b0b2, 0x3ed8b0b4),
];
/// CausalAttention, seed 123: `W_key.weight` (2 × 3), (fused, unfused) bits.
const CAUSAL_W_KEY: [(u32, u32); 6] = [
    (0xbed6db3d, 0xbed6db3d),
    (0xbeeb045d, 0xbeeb045d),
    (0xbebac9b6, 0xbebac9b6),
    (0x3e85e078, 0x3e85e078),
    (0xbe5a723c, 0xbe5a723c),
    (0x3e5d3cc8, 0x3e5d3cc8),
];
/// CausalAttention, seed 123: `W_value.weight` (2 × 3), (fused, unfused) bits.
const CAUSAL_W_VALUE: [(u32, u32); 6] = [
    (0xbefae322, 0xbefae322),
    (0xbeb3597b, 0xbeb3597c),
    (0xbe5913b2, 0xbe5913b2),
    (0xbde85e18, 0xbde85e18),
    (0xbee18145, 0xbee18145),
    (0x3ec18eef, 0x3ec18eee),
];
/// MultiHeadAttentionWrapper, seed 123: `heads.1.W_query.weight`, (fused, unfused) bits.
const HEAD1_W_QUERY: [(u32, u32); 6] = [
    (0xbe0b6cc9, 0xbe0b6cca),
    (0x3e3dc523, 0x3e3dc524),
    (0x3ed108b3, 0x3ed108b4),
    (0x3ddc4a6b, 0x3ddc4a68),
    (0x3e21aa78, 0x3e21aa78),
    (0x3f0eaab6, 0x3f0eaab6),
];
/// MultiHeadAttentionWrapper, seed 123: `heads.1.W_key.weight`, (fused, unfused) bits.
const HEAD1_W_KEY: [(u32, u32); 6] = [
    (0xbe8551e4, 0xbe8551e4),
    (0x3e3b43f4, 0x3e3b43f4),
    (0xbe8384c9, 0xbe8384c9),
    (0x3ed340b9, 0x3ed340ba),
    (0x3eec15e4, 0x3eec15e4),
    (0xbf0844e0, 0xbf0844e0),
];
/// MultiHeadAttentionWrapper, seed 123: `heads.1.W_value.weight`, (fused, unfused) bits.
const HEAD1_W_VALUE: [(u32, u32); 6] = [
    (0x3efc572e, 0x3efc572c),
    (0x3e8d27a4, 0x3e8d27a4),
    (0x3e80d06f, 0x3e80d06e),
    (0x3e73628a, 0x3e73628c),
    (0x3ef5bc1a, 0x3ef5bc1c),
    (0xbd9c2015, 0xbd9c2018),
];
/// MultiHeadAttention, seed 123: `out_proj.weight` (2 × 2), after 18 draws.
const OUT_PROJ_WEIGHT: [(u32, u32); 4] = [
    (0xbe2ac28e, 0xbe2ac290),
    (0x3e686b80, 0x3e686b80),
    (0x3f0001b4, 0x3f0001b3),
    (0x3e06e663, 0x3e06e664),
];
/// MultiHeadAttention, seed 123: `out_proj.bias`, after the weight.
const OUT_PROJ_BIAS: [(u32, u32); 2] = [(0x3e45ffde, 0x3e45ffdc), (0x3f2ebb01, 0x3f2ebb01)];

// ---------------------------------------------------------------------------------------------
// 1. The raw stream
// ---------------------------------------------------------------------------------------------

#[rstest]
#[case::seed_123(123, &[2991312382, 3062119789, 1228959102, 1840268610, 974319580, 2967327842, 2367878886, 3088727057])]
#[case::seed_789(789, &[1388712499, 568673934, 988903838, 89829586, 3409254273, 1869326156])]
fn first_mt19937_outputs(#[case] seed: u64, #[case] expected: &[u32]) {
    let mut g = TorchRng::manual_seed(seed);
    let got: Vec<u32> = (0..expected.len()).map(|_| g.next_u32()).collect();
    assert_eq!(got, expected);
    assert_eq!(g.draw_count(), expected.len() as u64);
}

/// `manual_seed` keeps only the low 32 bits; checked over 1300 draws (two twists).
#[rstest]
#[case::two_pow_40_plus_5((1 << 40) + 5, 5)]
#[case::two_pow_32(1 << 32, 0)]
#[case::u64_max(u64::MAX, 0xffff_ffff)]
#[case::high_bits_only(0xdead_beef_0000_007b, 123)]
fn wide_seeds_use_their_low_32_bits(#[case] wide: u64, #[case] narrow: u64) {
    let mut a = TorchRng::manual_seed(wide);
    let mut b = TorchRng::manual_seed(narrow);
    for i in 0..1300 {
        assert_eq!(a.next_u32(), b.next_u32(), "draw {i}");
    }
    assert_eq!(
        a.initial_seed(),
        wide,
        "initial_seed keeps all 64 bits, as torch.initial_seed()"
    );
}

#[test]
fn random64_puts_the_first_draw_on_top() {
    let mut words = TorchRng::manual_seed(123);
    let mut pairs = TorchRng::manual_seed(123);
    for _ in 0..700 {
        let high = u64::from(pairs.next_u32());
        let low = u64::from(pairs.next_u32());
        assert_eq!(words.next_u64(), (high << 32) | low);
    }
    assert_eq!(words.draw_count(), 1400);
}

#[test]
fn a_clone_replays_the_stream() {
    let mut g = TorchRng::manual_seed(42).with_kernel(UniformKernel::Unfused);
    g.rand(5, 5);
    let mut copy = g.clone();
    assert_eq!(
        bits(&g.uniform(4, 4, -1.0, 1.0)),
        bits(&copy.uniform(4, 4, -1.0, 1.0))
    );
    assert_eq!(copy.kernel(), UniformKernel::Unfused);
    assert_eq!(copy.bernoulli_path(), BernoulliPath::Serial);
    assert_eq!(copy.draw_count(), 41);
}

// ---------------------------------------------------------------------------------------------
// 2. rand and uniform
// ---------------------------------------------------------------------------------------------

/// `torch.rand` uses the low 24 bits of one draw per element, row-major.
#[test]
fn rand_is_the_low_24_bits_of_each_draw_row_major() {
    let mut raw = TorchRng::manual_seed(7);
    let m = TorchRng::manual_seed(7).rand(40, 30); // 1200 draws, across a twist
    let want: Vec<u32> = (0..1200)
        .map(|_| ((raw.next_u32() & 0x00ff_ffff) as f32 / 16_777_216.0).to_bits())
        .collect();
    assert_eq!(bits(&m), want);
}

/// `rand` is `uniform(0, 1)`, and no kernel changes it.
#[rstest]
fn rand_is_kernel_independent(
    #[values(UniformKernel::Fused, UniformKernel::Unfused)] kernel: UniformKernel,
) {
    let reference = bits(&TorchRng::manual_seed(123).rand(30, 30));
    assert_eq!(bits(&seeded(123, kernel).rand(30, 30)), reference);
    assert_eq!(
        bits(&seeded(123, kernel).uniform(30, 30, 0.0, 1.0)),
        reference
    );
}

/// Section 3.4.1: `SelfAttention_v1(3, 2)` after `manual_seed(123)`.
#[rstest]
fn self_attention_v1_rand_weights(
    #[values(UniformKernel::Fused, UniformKernel::Unfused)] kernel: UniformKernel,
) {
    let mut g = seeded(123, kernel);
    assert_eq!(bits(&g.rand(3, 2)), V1_W_QUERY, "W_query");
    assert_eq!(bits(&g.rand(3, 2)), V1_W_KEY, "W_key");
    assert_eq!(bits(&g.rand(3, 2)), V1_W_VALUE, "W_value");
    assert_eq!(g.draw_count(), 18);
}

/// Fused and unfused agree on a product that needs no rounding and disagree on one that does.
#[test]
fn fused_and_unfused_differ_only_in_rounding() {
    let mut fused = seeded(123, UniformKernel::Fused);
    let mut unfused = seeded(123, UniformKernel::Unfused);
    let a = fused.uniform(100, 100, -0.3, 0.4);
    let b = unfused.uniform(100, 100, -0.3, 0.4);
    let differing = a.iter().zip(b.iter()).filter(|(x, y)| x != y).count();
    assert!(differing > 1000, "only {differing} of 10000 differ");
    let max_gap = a
        .iter()
        .zip(b.iter())
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max);
    assert!(max_gap <= 6e-8, "gap {max_gap}"); // at most one rounding of a product below 0.7
}

// ---------------------------------------------------------------------------------------------
// 3. Every seeded parameter of the chapter, in both kernels
// ---------------------------------------------------------------------------------------------

/// Section 3.4.2: `SelfAttention_v2(3, 2)` after `manual_seed(789)`.
#[rstest]
fn self_attention_v2_linear_weights(
    #[values(UniformKernel::Fused, UniformKernel::Unfused)] kernel: UniformKernel,
) {
    let mut g = seeded(789, kernel);
    assert_eq!(
        linear_bits(3, 2, &mut g),
        pick(&V2_W_QUERY, kernel),
        "W_query"
    );
    assert_eq!(linear_bits(3, 2, &mut g), pick(&V2_W_KEY, kernel), "W_key");
    assert_eq!(
        linear_bits(3, 2, &mut g),
        pick(&V2_W_VALUE, kernel),
        "W_value"
    );
    assert_eq!(g.draw_count(), 18);
}

/// The three `Linear(3, 2, bias=False)` that seed 123 gives first: `CausalAttention`'s
/// projections, head 0 of the wrapper, the first three layers of `MultiHeadAttention`.
fn assert_seed_123_qkv(g: &mut TorchRng, kernel: UniformKernel) {
    for (table, name) in [
        (&CAUSAL_W_QUERY, "W_query"),
        (&CAUSAL_W_KEY, "W_key"),
        (&CAUSAL_W_VALUE, "W_value"),
    ] {
        assert_eq!(linear_bits(3, 2, g), pick(table, kernel), "{name}");
    }
}

/// Section 3.5.3: `CausalAttention(3, 2, 6, 0.0)` after `manual_seed(123)`: the mask buffer and
/// the dropout layer draw nothing.
#[rstest]
fn causal_attention_weights(
    #[values(UniformKernel::Fused, UniformKernel::Unfused)] kernel: UniformKernel,
) {
    let mut g = seeded(123, kernel);
    assert_seed_123_qkv(&mut g, kernel);
    assert_eq!(g.draw_count(), 18);
}

/// Section 3.6.1: `MultiHeadAttentionWrapper(3, 2, 6, 0.0, num_heads=2)`: head 0 then head 1,
/// 36 draws; head 0 equals `CausalAttention`.
#[rstest]
fn wrapper_heads(#[values(UniformKernel::Fused, UniformKernel::Unfused)] kernel: UniformKernel) {
    let mut g = seeded(123, kernel);
    let expected = [
        (&CAUSAL_W_QUERY, "heads.0.W_query"),
        (&CAUSAL_W_KEY, "heads.0.W_key"),
        (&CAUSAL_W_VALUE, "heads.0.W_value"),
        (&HEAD1_W_QUERY, "heads.1.W_query"),
        (&HEAD1_W_KEY, "heads.1.W_key"),
        (&HEAD1_W_VALUE, "heads.1.W_value"),
    ];
    for (table, name) in expected {
        assert_eq!(linear_bits(3, 2, &mut g), pick(table, kernel), "{name}");
    }
    assert_eq!(g.draw_count(), 36);
}

/// Section 3.6.2: `MultiHeadAttention(3, 2, 6, 0.0, num_heads=2)`: three `Linear(3, 2)`, then
/// `out_proj = Linear(2, 2)` with bias, weight first (draws 19-22), bias next (23-24).
#[rstest]
fn multi_head_attention_out_proj(
    #[values(UniformKernel::Fused, UniformKernel::Unfused)] kernel: UniformKernel,
) {
    let mut g = seeded(123, kernel);
    assert_seed_123_qkv(&mut g, kernel);
    let out_proj = Linear::new(2, 2, true, &mut g);
    assert_eq!(
        bits(out_proj.weight()),
        pick(&OUT_PROJ_WEIGHT, kernel),
        "out_proj.weight"
    );
    let bias: Vec<u32> = out_proj
        .bias()
        .unwrap()
        .iter()
        .map(|v| v.to_bits())
        .collect();
    assert_eq!(bias, pick(&OUT_PROJ_BIAS, kernel), "out_proj.bias");
    assert_eq!(g.draw_count(), 24);
}

/// The spec's showcase of the two roundings: 15 units in the last place apart.
#[test]
fn the_fma_showcase_is_15_ulps() {
    let fused = Linear::new(3, 2, false, &mut seeded(123, UniformKernel::Fused));
    let unfused = Linear::new(3, 2, false, &mut seeded(123, UniformKernel::Unfused));
    let (a, b) = (
        fused.weight()[(0, 1)].to_bits(),
        unfused.weight()[(0, 1)].to_bits(),
    );
    assert_eq!((a, b), (0x3c9c_aaef, 0x3c9c_aae0));
    assert_eq!(a - b, 15);
}

// ---------------------------------------------------------------------------------------------
// 4. Positions: how many draws each call takes
// ---------------------------------------------------------------------------------------------

/// The draw after `call` equals the draw `used` positions into a fresh stream.
fn assert_uses(used: u64, call: impl FnOnce(&mut TorchRng)) {
    let mut g = TorchRng::manual_seed(31337);
    call(&mut g);
    assert_eq!(g.draw_count(), used);
    let mut fresh = TorchRng::manual_seed(31337);
    for _ in 0..used {
        fresh.next_u32();
    }
    assert_eq!(
        g.next_u32(),
        fresh.next_u32(),
        "the next draw after {used} draws"
    );
}

#[rstest]
#[case::rand_3x2(6, |g: &mut TorchRng| { g.rand(3, 2); })]
#[case::rand_empty(0, |g: &mut TorchRng| { g.rand(0, 5); })]
#[case::uniform_7x9(63, |g: &mut TorchRng| { g.uniform(7, 9, -2.0, 2.0); })]
#[case::next_u64(2, |g: &mut TorchRng| { g.next_u64(); })]
#[case::linear_3_2_no_bias(6, |g: &mut TorchRng| { Linear::new(3, 2, false, g); })]
#[case::linear_3_2_bias(8, |g: &mut TorchRng| { Linear::new(3, 2, true, g); })]
#[case::linear_5_7_bias(42, |g: &mut TorchRng| { Linear::new(5, 7, true, g); })]
#[case::linear_768_64_bias(768 * 64 + 64, |g: &mut TorchRng| { Linear::new(768, 64, true, g); })]
#[case::linear_zero_inputs_bias(4, |g: &mut TorchRng| { Linear::new(0, 4, true, g); })]
#[case::bernoulli_serial_36(72, |g: &mut TorchRng| { g.bernoulli_mask(36, 0.5); })]
fn draws_used(#[case] used: u64, #[case] call: impl FnOnce(&mut TorchRng)) {
    assert_uses(used, call);
}

#[test]
fn mkl_bernoulli_uses_one_draw_whatever_the_length() {
    for len in [1, 36, 801, 10_000] {
        let mut g = TorchRng::manual_seed(31337).with_bernoulli(BernoulliPath::MklLegacy);
        g.bernoulli_mask(len, 0.5);
        assert_eq!(g.draw_count(), 1);
        let mut fresh = TorchRng::manual_seed(31337);
        fresh.next_u32();
        assert_eq!(g.next_u32(), fresh.next_u32(), "len {len}");
    }
}

// ---------------------------------------------------------------------------------------------
// 5. Bernoulli masks: the two paths, from their definitions
// ---------------------------------------------------------------------------------------------

/// Serial: u = (random64 mod 2^53) · 2^-53 against q, strict `<`.
#[test]
fn serial_bernoulli_follows_its_definition() {
    for q in [0.1, 0.5, 0.9, 0.999] {
        let mask = TorchRng::manual_seed(99).bernoulli_mask(1000, q);
        let mut raw = TorchRng::manual_seed(99);
        let want: Vec<bool> = (0..1000)
            .map(|_| ((raw.next_u64() & ((1 << 53) - 1)) as f64 / 2f64.powi(53)) < q)
            .collect();
        assert_eq!(mask, want, "q = {q}");
    }
}

/// MklLegacy: x0 = draw mod (2^31 - 1), then x ← 1132489760·x mod (2^31 - 1); f32 compare.
#[test]
fn mkl_bernoulli_follows_its_definition() {
    let m: u64 = (1 << 31) - 1;
    let seed = u64::from(TorchRng::manual_seed(4).next_u32());
    let mut x = seed % m;
    let mut want = Vec::new();
    for _ in 0..2000 {
        want.push((x as f32) / 2_147_483_648.0 < 0.3_f32);
        x = x * 1_132_489_760 % m;
    }
    let mut g = TorchRng::manual_seed(4).with_bernoulli(BernoulliPath::MklLegacy);
    assert_eq!(g.bernoulli_mask(2000, 0.3), want);
    let kept = want.iter().filter(|k| **k).count();
    assert!((500..700).contains(&kept), "{kept} of 2000 kept at q = 0.3");
}

#[test]
fn bernoulli_rates_are_about_right() {
    for path in [BernoulliPath::Serial, BernoulliPath::MklLegacy] {
        let mut g = TorchRng::manual_seed(1).with_bernoulli(path);
        for q in [0.1, 0.5, 0.9] {
            let kept = g.bernoulli_mask(100_000, q).iter().filter(|k| **k).count() as f64;
            assert!(
                (kept / 100_000.0 - q).abs() < 0.01,
                "{path:?} q = {q}: {kept}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 6. Snapshots: the chapter's parameters as PyTorch prints them
// ---------------------------------------------------------------------------------------------

#[test]
fn snapshot_chapter_parameters() {
    let mut text = String::new();
    let mut g = TorchRng::manual_seed(123);
    for name in ["W_query", "W_key", "W_value"] {
        text += &format!(
            "SelfAttention_v1 (seed 123) {name}:\n{}\n\n",
            g.rand(3, 2).torch_str()
        );
    }
    let mut g = TorchRng::manual_seed(789);
    for name in ["W_query", "W_key", "W_value"] {
        let w = Linear::new(3, 2, false, &mut g);
        text += &format!(
            "SelfAttention_v2 (seed 789) {name}.weight:\n{}\n\n",
            w.weight().torch_str()
        );
    }
    let mut g = TorchRng::manual_seed(123);
    for name in ["W_query", "W_key", "W_value"] {
        let w = Linear::new(3, 2, false, &mut g);
        text += &format!(
            "CausalAttention (seed 123) {name}.weight:\n{}\n\n",
            w.weight().torch_str()
        );
    }
    let out_proj = Linear::new(2, 2, true, &mut g);
    text += &format!(
        "MultiHeadAttention (seed 123) out_proj.weight:\n{}\n\nout_proj.bias:\n{}\n",
        out_proj.weight().torch_str(),
        out_proj.bias().unwrap().torch_str()
    );
    common::snapshot(
        "rng_chapter_parameters",
        "Every seeded parameter of chapter 3, printed as PyTorch prints it (fused kernel)",
        &text,
    );
}

/// The builder options are reported back, and default to what produced the book.
#[test]
fn builder_options_are_reported() {
    use ch03_attention::{BernoulliPath, UniformKernel};
    let g = TorchRng::manual_seed(1);
    assert_eq!(
        (g.kernel(), g.bernoulli_path()),
        (UniformKernel::Fused, BernoulliPath::Serial)
    );
    let g = g
        .with_kernel(UniformKernel::Unfused)
        .with_bernoulli(BernoulliPath::MklLegacy);
    assert_eq!(
        (g.kernel(), g.bernoulli_path()),
        (UniformKernel::Unfused, BernoulliPath::MklLegacy)
    );
}

/// A trial succeeds only if the uniform is *strictly* below the keep probability (the spec
/// verified `u == q` gives 0 on both paths). Set the probability to exactly the uniform the next
/// draw will produce, and that trial must fail.
#[test]
fn bernoulli_threshold_is_strict_on_both_paths() {
    use ch03_attention::BernoulliPath;
    // Serial: u = (random64 & (2^53 - 1)) / 2^53, an exact double.
    let mut peek = TorchRng::manual_seed(7);
    let u = (peek.next_u64() & ((1 << 53) - 1)) as f64 / 9_007_199_254_740_992.0;
    assert_eq!(TorchRng::manual_seed(7).bernoulli_mask(1, u), [false]);
    assert_eq!(
        TorchRng::manual_seed(7).bernoulli_mask(1, f64::from_bits(u.to_bits() + 1)),
        [true]
    );
    // MKL: x0 = draw mod (2^31 - 1); u = f32(x0) / 2^31, compared with f32(keep_prob).
    let x0 = u64::from(TorchRng::manual_seed(7).next_u32()) % 2_147_483_647;
    let u = (x0 as f32) / 2_147_483_648.0;
    let mut mkl = TorchRng::manual_seed(7).with_bernoulli(BernoulliPath::MklLegacy);
    assert_eq!(mkl.bernoulli_mask(1, f64::from(u)), [false]);
    let mut mkl = TorchRng::manual_seed(7).with_bernoulli(BernoulliPath::MklLegacy);
    assert_eq!(
        mkl.bernoulli_mask(1, f64::from(f32::from_bits(u.to_bits() + 1))),
        [true]
    );
}
