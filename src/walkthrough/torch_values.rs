//! Seeded parameters as PyTorch creates them, as float32 bit patterns (row-major): the
//! expectations for the walkthrough's "PyTorch says" column. The book does not print these; they
//! were recorded from PyTorch 2.4.0 and 2.15.0 on CPU (x86-64 with AVX2 and with AVX-512 kernels:
//! identical bits), written as hex words the way `scripts/torch_truth.py` stores float32 tensors.
//! Expectations only: nothing is computed from them.

/// Seed 123, `torch.rand(3, 2)` three times: section 3.4.1's `W_query`, `W_key`, `W_value`.
pub(super) const SEED_123_RAND_QKV: [(&str, &str); 3] = [
    (
        "W_query",
        "3e979bfc 3f043d6d 3e80dafc 3f304542 3d977ee0 3f5dd462",
    ),
    (
        "W_key",
        "3e0bdb98 3dd1e088 3e3c794c 3f39f86a 3ea168f6 3f2fe639",
    ),
    (
        "W_value",
        "3d9ae6b0 3e495b84 3ea200c0 3ecdb0e2 3df2d3f0 3f53d02f",
    ),
];

/// Seed 789, three `nn.Linear(3, 2, bias=False)`: `SelfAttention_v2`'s weights (2 × 3).
pub(super) const SEED_789_LINEAR_QKV: [(&str, &str); 3] = [
    (
        "W_query.weight",
        "3ea1d27f 3ee9e2d0 3f03079c be2c5302 beacfe38 bdbbf3f0",
    ),
    (
        "W_key.weight",
        "3ecfc5c8 bef0daf6 3e727d10 3e5a7b3d be85255c bf02b2f2",
    ),
    (
        "W_value.weight",
        "3e8150d7 be10dfae be48e3c3 3f04e439 bdae6c57 be513b1c",
    ),
];

/// Seed 123, three `nn.Linear(3, 2, bias=False)`: `CausalAttention`, head 0 of the wrapper, the
/// first three layers of `MultiHeadAttention`.
pub(super) const SEED_123_LINEAR_QKV: [(&str, &str); 3] = [
    (
        "W_query.weight",
        "be711478 3c9caaef be92d05d 3e5ef3ba befbdecd 3ed8b0b2",
    ),
    (
        "W_key.weight",
        "bed6db3d beeb045d bebac9b6 3e85e078 be5a723c 3e5d3cc8",
    ),
    (
        "W_value.weight",
        "befae322 beb3597b be5913b2 bde85e18 bee18145 3ec18eef",
    ),
];

/// Seed 123, `MultiHeadAttention(3, 2, 6, 0.0, 2)`: the output projection (draws 18 to 23).
pub(super) const SEED_123_MHA_OUT_PROJ: [(&str, &str); 2] = [
    ("out_proj.weight", "be2ac28e 3e686b80 3f0001b4 3e06e663"),
    ("out_proj.bias", "3e45ffde 3f2ebb01"),
];
