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

// Gradients recorded by PyTorch 2.15.0 (`scripts/torch_grad_truth.py`) for the book's modules,
// seed 123, on the book's inputs stacked twice, with the upstream gradient
// `gradients::cosine_upstream`: `(name, float32 bits)`, row-major.

/// `CausalAttention(3, 2, 6, 0.5)`, evaluation mode.
pub(super) const GRADS_CAUSAL_EVAL: [(&str, &str); 3] = [
    (
        "W_query.weight",
        "bb904111 bcc0b238 bcac96c7 bc04b064 bc879ca2 bc5d58cb",
    ),
    (
        "W_key.weight",
        "bb237541 bc9f1480 3c15aa39 ba7313a1 bb62d6e2 3a4a2b3e",
    ),
    (
        "W_value.weight",
        "bdea1ce5 be37aaa1 be8d8dd1 bee34e60 be972f85 bf4a73d7",
    ),
];

/// `CausalAttention(3, 2, 6, 0.5)`, training mode (dropout drawn after the parameters).
pub(super) const GRADS_CAUSAL_TRAIN: [(&str, &str); 3] = [
    (
        "W_query.weight",
        "bcd334e7 bc828b70 bc93a399 bb329268 3c05a72c 39f37747",
    ),
    (
        "W_key.weight",
        "bcbca4e8 bc7b29b4 3c818010 bb7f5ab4 3c7f3cf6 b9a3f63b",
    ),
    (
        "W_value.weight",
        "3e30016f 3e3e0208 3f86788c 3eab7cef 3ebba79e 3f680b9d",
    ),
];

/// `MultiHeadAttention(3, 2, 6, 0.5, 2)`, evaluation mode.
pub(super) const GRADS_MHA_EVAL: [(&str, &str); 5] = [
    (
        "W_query.weight",
        "ba49b3fe bb888ed8 bb728fc8 bacff782 bbad4dad bb94dc8e",
    ),
    (
        "W_key.weight",
        "ba109347 bb1d6e86 39f63e39 b980e4a8 ba90346e 3a4606db",
    ),
    (
        "W_value.weight",
        "be5048c4 bdf230e1 beb2cfe1 bdac2f44 bd9ce100 be2d01a5",
    ),
    ("out_proj.weight", "3e367058 bc9f93f2 3efab41b bdfb6a96"),
    ("out_proj.bias", "be45a5f0 bf7e3ddc"),
];

/// `MultiHeadAttention(3, 2, 6, 0.5, 2)`, training mode (dropout drawn after the parameters).
pub(super) const GRADS_MHA_TRAIN: [(&str, &str); 5] = [
    (
        "W_query.weight",
        "bca0668d bc7b2678 bc5d38e8 3b4b2188 3b770110 3b2bf5a7",
    ),
    (
        "W_key.weight",
        "bb8420d4 bcbfdb0c 3c3f0aa6 398cf7b7 3a8914d1 39cbf874",
    ),
    (
        "W_value.weight",
        "bd44b493 be3358c5 3e1c39a0 bbe89944 3e71f5ef be9bcef9",
    ),
    ("out_proj.weight", "be945534 bf2a59f2 3c0a99e3 bf02bafb"),
    ("out_proj.bias", "be45a5f0 bf7e3ddc"),
];
