//! The efficient path never allocates anything proportional to tokens², in its forward pass or
//! in training (forward and backward); the textbook path does.
//!
//! A counting global allocator records, during one forward pass, the largest single allocation
//! and the peak of bytes held at once beyond what was held before the call. It is its own test
//! binary, with a single test, so no other test allocates while it measures.

use ch03_attention::efficient::EfficientMha;
use ch03_attention::nalgebra::DMatrix;
use ch03_attention::{MultiHeadAttention, TorchRng};

#[path = "support/counting_alloc.rs"]
mod counting_alloc;

/// What one call allocated: (largest single allocation, peak extra bytes held at once).
fn measure<T>(f: impl FnOnce() -> T) -> (usize, usize) {
    let before = counting_alloc::start();
    let out = f();
    let measured = counting_alloc::since(before);
    drop(out);
    measured
}

/// A module of 2 heads × 8 = 16 dimensions, so that the unavoidable `O(tokens · d)` buffers
/// (queries, keys and values: 1024 × 48 floats = 192 KiB, the output 64 KiB) stay well apart
/// from one `tokens × tokens` matrix of scores (1024² floats = 4 MiB). The tokens are twice the
/// default block size (512), so the kernel's per-thread scratch, which grows with the block, is
/// not mistaken for a `tokens²` buffer either.
fn module_and_input(tokens: usize) -> (MultiHeadAttention, Vec<DMatrix<f32>>) {
    let mut rng = TorchRng::manual_seed(7);
    let mha = MultiHeadAttention::new(16, 16, tokens, 0.0, 2, false, &mut rng).unwrap();
    let x = vec![rng.rand(tokens, 16)];
    (mha, x)
}

#[test]
fn efficient_path_allocates_nothing_proportional_to_tokens_squared() {
    const T: usize = 1024;
    let scores_matrix = T * T * 4; // bytes of one (T × T) f32 matrix: 4 MiB
    let (mha, x) = module_and_input(T);

    // The textbook path materializes (T × T) attention weights, so this test can fail.
    let (largest, peak) = measure(|| mha.forward(&x).unwrap());
    eprintln!("textbook  T={T}: largest allocation {largest} B, peak {peak} B");
    assert!(
        largest >= scores_matrix,
        "textbook largest allocation {largest} B"
    );
    assert!(
        peak >= 2 * scores_matrix,
        "textbook peak {peak} B (2 heads' weights)"
    );

    // The efficient path: no single allocation anywhere near T², and at most a quarter of one
    // T × T matrix in total (Q, K, V, output and each thread's O(T · head_dim) scratch).
    for threads in [1, 2] {
        let fast = EfficientMha::from_textbook(&mha)
            .with_threads(threads)
            .unwrap();
        let (largest, peak) = measure(|| fast.forward(&x).unwrap());
        eprintln!(
            "efficient T={T} threads={threads}: largest allocation {largest} B, peak {peak} B"
        );
        assert!(
            largest <= scores_matrix / 8,
            "efficient largest allocation {largest} B"
        );
        assert!(peak <= scores_matrix / 4, "efficient peak {peak} B");
    }

    // And it grows linearly: twice the tokens, about twice the memory (not four times).
    let fast = EfficientMha::from_textbook(&mha).with_threads(1).unwrap();
    let (_, peak_t) = measure(|| fast.forward(&x).unwrap());
    let (mha_2t, x_2t) = module_and_input(2 * T);
    let fast_2t = EfficientMha::from_textbook(&mha_2t)
        .with_threads(1)
        .unwrap();
    let (_, peak_2t) = measure(|| fast_2t.forward(&x_2t).unwrap());
    eprintln!(
        "efficient peak: {peak_t} B at T={T}, {peak_2t} B at T={}",
        2 * T
    );
    assert!(peak_2t * 10 <= peak_t * 25, "{peak_t} B → {peak_2t} B");

    // Training: the textbook tape keeps every head's (T × T) weights for its backward pass; the
    // efficient tape keeps one log-sum-exp per query and head, and its backward pass recomputes
    // the weights tile by tile.
    let g = vec![DMatrix::from_element(T, 16, 0.5_f32)];
    let (largest, peak) = measure(|| {
        let tape = ch03_attention::gradients::Tape::multi_head(&mha, &x, None).unwrap();
        tape.backward(&g).unwrap()
    });
    eprintln!("textbook training T={T}: largest allocation {largest} B, peak {peak} B");
    assert!(
        largest >= scores_matrix,
        "textbook training largest {largest} B"
    );
    assert!(peak >= 2 * scores_matrix, "textbook training peak {peak} B");
    for threads in [1, 2] {
        let fast = EfficientMha::from_textbook(&mha)
            .with_threads(threads)
            .unwrap();
        let (largest, peak) = measure(|| fast.forward_tape(&x).unwrap().backward(&g).unwrap());
        eprintln!(
            "efficient training T={T} threads={threads}: largest allocation {largest} B, peak {peak} B"
        );
        assert!(
            largest <= scores_matrix / 8,
            "efficient training largest allocation {largest} B"
        );
        assert!(
            peak <= scores_matrix / 2,
            "efficient training peak {peak} B"
        );
    }
}
