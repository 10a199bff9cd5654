//! The specification (`spec`) judged on known implementations: the crate's reference passes every
//! check; a catalog of wrong implementations, each with one known misconception, fails its exercise
//! with a message that names the misconception; code that is not written, panics, returns a wrong
//! shape or NaN, or never returns gets a verdict, never a crash or a hang.

use std::marker::PhantomData;
use std::time::{Duration, Instant};

use ch03_attention::causal::causal_attn_weights;
use ch03_attention::nalgebra::{DMatrix, DVector};
use ch03_attention::normalize::{softmax_naive, softmax_rows};
use ch03_attention::spec::{
    self, Chapter3, EXERCISES, Reference, Status, Verdict, check, check_all, check_with_limit,
};
use ch03_attention::{Linear, TorchRng};

// ---------------------------------------------------------------------------------------------
// Implementations that differ from the reference in one function.
// ---------------------------------------------------------------------------------------------

/// Declares, from one list of `Chapter3`'s signatures, the trait [`Wrong`] (every function
/// delegated to [`Reference`] by default, so a wrong implementation overrides only the function it
/// gets wrong) and [`Twisted`], which makes a `Wrong` a `Chapter3` (a local wrapper: the trait is
/// the crate's, so it cannot be implemented for every `Wrong` directly).
macro_rules! delegating {
    ($(fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        trait Wrong {
            $(fn $name($($arg: $ty),*) -> $ret { Reference::$name($($arg),*) })*
        }

        struct Twisted<T>(PhantomData<T>);

        impl<T: Wrong> Chapter3 for Twisted<T> {
            $(fn $name($($arg: $ty),*) -> $ret { T::$name($($arg),*) })*
        }
    };
}

delegating! {
    fn attn_scores_for(query: &DVector<f32>, inputs: &DMatrix<f32>) -> DVector<f32>;
    fn sum_normalize(s: &DVector<f32>) -> DVector<f32>;
    fn softmax_naive(s: &DVector<f32>) -> DVector<f32>;
    fn softmax(s: &DVector<f32>) -> DVector<f32>;
    fn context_vec(w: &DVector<f32>, inputs: &DMatrix<f32>) -> DVector<f32>;
    fn attn_scores(inputs: &DMatrix<f32>) -> DMatrix<f32>;
    fn attn_weights(s: &DMatrix<f32>) -> DMatrix<f32>;
    fn context_vecs(w: &DMatrix<f32>, inputs: &DMatrix<f32>) -> DMatrix<f32>;
    fn self_attention_v1_weights(d_in: usize, d_out: usize, rng: &mut TorchRng) -> [DMatrix<f32>; 3];
    fn self_attention_v1(x: &DMatrix<f32>, w: &[DMatrix<f32>; 3]) -> DMatrix<f32>;
    fn self_attention_v2_layers(d_in: usize, d_out: usize, bias: bool, rng: &mut TorchRng) -> [Linear; 3];
    fn self_attention_v2(x: &DMatrix<f32>, layers: &[Linear; 3]) -> DMatrix<f32>;
    fn v1_weights_from_v2(layers: &[Linear; 3]) -> [DMatrix<f32>; 3];
    fn mask_then_renormalize(w: &DMatrix<f32>) -> DMatrix<f32>;
    fn causal_attn_weights(s: &DMatrix<f32>, d_k: usize) -> DMatrix<f32>;
    fn dropout(x: &DMatrix<f32>, p: f64, training: bool, rng: &mut TorchRng) -> DMatrix<f32>;
    fn causal_attention(batch: &[DMatrix<f32>], layers: &[Linear; 3], dropout: f64, training: bool, rng: &mut TorchRng) -> Vec<DMatrix<f32>>;
    fn multi_head_wrapper(batch: &[DMatrix<f32>], heads: &[[Linear; 3]]) -> Vec<DMatrix<f32>>;
    fn split_heads(m: &DMatrix<f32>, num_heads: usize) -> Vec<DMatrix<f32>>;
    fn multi_head_attention_layers(d_in: usize, d_out: usize, bias: bool, rng: &mut TorchRng) -> [Linear; 4];
    fn multi_head_attention(batch: &[DMatrix<f32>], layers: &[Linear; 4], heads: usize) -> Vec<DMatrix<f32>>;
    fn exercise_3_2() -> Vec<DMatrix<f32>>;
    fn num_parameters(d_in: usize, d_out: usize, heads: usize, bias: bool) -> usize;
}

/// The verdict of `exercise` for the wrong implementation `T`.
fn verdict<T: Wrong + 'static>(exercise: &str) -> Verdict {
    check::<Twisted<T>>(exercise).expect("a known exercise")
}

/// `T` fails `exercise` with a message containing `words`; every other exercise still passes.
fn assert_named<T: Wrong + 'static>(exercise: &str, words: &str) {
    let v = verdict::<T>(exercise);
    assert_eq!(
        v.status,
        Status::Failing,
        "{exercise} should fail:\n{}",
        v.message
    );
    assert!(
        v.message.contains(words),
        "{exercise}: the message should name the misconception ({words:?}):\n{}",
        v.message
    );
    println!("{exercise}:\n{}\n", v.message);
    // No false alarm elsewhere: the other exercises call only the reference's code.
    let others: Vec<Verdict> = EXERCISES
        .iter()
        .filter(|e| e.id != exercise)
        .filter_map(|e| check::<Twisted<T>>(e.id))
        .filter(|v| v.status != Status::Done)
        .collect();
    assert!(
        others.is_empty(),
        "only {exercise} should fail: {others:#?}"
    );
}

/// One wrong implementation: a type overriding what it gets wrong, and a test that its exercise
/// fails with a message naming the misconception.
macro_rules! misconception {
    ($test:ident, $ty:ident, $exercise:literal, $words:literal, { $($f:item)* }) => {
        struct $ty;
        impl Wrong for $ty {
            $($f)*
        }
        #[test]
        fn $test() {
            assert_named::<$ty>($exercise, $words);
        }
    };
}

// ---------------------------------------------------------------------------------------------
// Helpers the wrong implementations share.
// ---------------------------------------------------------------------------------------------

/// `layer(x)`.
fn fwd(l: &Linear, x: &DMatrix<f32>) -> DMatrix<f32> {
    l.forward(x).unwrap()
}

/// `x · W + b` (the `x · W` misconception: W not transposed).
fn x_w(l: &Linear, x: &DMatrix<f32>) -> DMatrix<f32> {
    let mut y = x * l.weight();
    if let Some(b) = l.bias() {
        for (mut col, b_j) in y.column_iter_mut().zip(b.iter()) {
            col.add_scalar_mut(*b_j);
        }
    }
    y
}

/// Heads side by side.
fn concat(parts: &[DMatrix<f32>]) -> DMatrix<f32> {
    let cols = parts.iter().map(|m| m.ncols()).sum();
    let mut out = DMatrix::zeros(parts[0].nrows(), cols);
    let mut c0 = 0;
    for m in parts {
        out.columns_mut(c0, m.ncols()).copy_from(m);
        c0 += m.ncols();
    }
    out
}

/// Multi-head attention with the scale `√scale(head_dim, d_out)` and `out_proj` optional.
fn mha_with(
    batch: &[DMatrix<f32>],
    layers: &[Linear; 4],
    heads: usize,
    scale_dim: impl Fn(usize, usize) -> usize,
    out_proj: bool,
) -> Vec<DMatrix<f32>> {
    batch
        .iter()
        .map(|x| {
            let [q, k, v] = [0, 1, 2].map(|i| Reference::split_heads(&fwd(&layers[i], x), heads));
            let d_out = layers[0].out_features();
            let per_head: Vec<DMatrix<f32>> = (0..heads)
                .map(|h| {
                    let s = &q[h] * k[h].transpose();
                    let w = causal_attn_weights(&s, scale_dim(k[h].ncols(), d_out));
                    w * &v[h]
                })
                .collect();
            let context = concat(&per_head);
            if out_proj {
                fwd(&layers[3], &context)
            } else {
                context
            }
        })
        .collect()
}

/// Causal attention with dropout on the scores (before the mask and the softmax).
fn causal_dropout_on_scores(
    batch: &[DMatrix<f32>],
    l: &[Linear; 3],
    p: f64,
    training: bool,
    rng: &mut TorchRng,
) -> Vec<DMatrix<f32>> {
    let scores: Vec<DMatrix<f32>> = batch
        .iter()
        .map(|x| fwd(&l[0], x) * fwd(&l[1], x).transpose())
        .collect();
    let d = ch03_attention::Dropout::new(p).unwrap();
    let scores = if training {
        d.forward_train_batch(&scores, rng)
    } else {
        scores
    };
    batch
        .iter()
        .zip(&scores)
        .map(|(x, s)| causal_attn_weights(s, l[1].out_features()) * fwd(&l[2], x))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The catalog.
// ---------------------------------------------------------------------------------------------

misconception!(
    v1_without_scaling,
    V1NoScale,
    "self_attention_v1",
    "missing 1/√d_k",
    {
        fn self_attention_v1(x: &DMatrix<f32>, w: &[DMatrix<f32>; 3]) -> DMatrix<f32> {
            let (q, k, v) = (x * &w[0], x * &w[1], x * &w[2]);
            softmax_rows(&(q * k.transpose())) * v
        }
    }
);

misconception!(
    v1_weights_in_another_order,
    V1Order,
    "self_attention_v1",
    "another order than the book's",
    {
        fn self_attention_v1_weights(
            d_in: usize,
            d_out: usize,
            rng: &mut TorchRng,
        ) -> [DMatrix<f32>; 3] {
            let w_key = rng.rand(d_in, d_out);
            let w_query = rng.rand(d_in, d_out);
            let w_value = rng.rand(d_in, d_out);
            [w_query, w_key, w_value]
        }
    }
);

misconception!(
    softmax_over_columns,
    ColumnSoftmax,
    "attn_weights",
    "softmax over the wrong axis",
    {
        fn attn_weights(s: &DMatrix<f32>) -> DMatrix<f32> {
            softmax_rows(&s.transpose()).transpose()
        }
    }
);

misconception!(
    naive_softmax_overflows,
    NaiveAsStable,
    "softmax",
    "naive softmax overflowing",
    {
        fn softmax(s: &DVector<f32>) -> DVector<f32> {
            softmax_naive(s)
        }
    }
);

misconception!(
    mask_with_zero_before_softmax,
    ZeroMask,
    "causal_attn_weights",
    "the future is visible",
    {
        fn causal_attn_weights(s: &DMatrix<f32>, d_k: usize) -> DMatrix<f32> {
            let masked =
                DMatrix::from_fn(
                    s.nrows(),
                    s.ncols(),
                    |i, j| if j > i { 0.0 } else { s[(i, j)] },
                );
            softmax_rows(&(masked / (d_k as f32).sqrt()))
        }
    }
);

misconception!(
    mask_after_softmax,
    MaskAfterSoftmax,
    "causal_attn_weights",
    "masked after the softmax",
    {
        fn causal_attn_weights(s: &DMatrix<f32>, d_k: usize) -> DMatrix<f32> {
            let w = softmax_rows(&(s / (d_k as f32).sqrt()));
            DMatrix::from_fn(
                w.nrows(),
                w.ncols(),
                |i, j| if j > i { 0.0 } else { w[(i, j)] },
            )
        }
    }
);

misconception!(
    causal_without_scaling,
    CausalNoScale,
    "causal_attn_weights",
    "missing 1/√d_k",
    {
        fn causal_attn_weights(s: &DMatrix<f32>, _d_k: usize) -> DMatrix<f32> {
            causal_attn_weights(s, 1)
        }
    }
);

misconception!(
    mask_hides_the_diagonal,
    StrictMask,
    "mask_then_renormalize",
    "hides the diagonal",
    {
        fn mask_then_renormalize(w: &DMatrix<f32>) -> DMatrix<f32> {
            let mut m =
                DMatrix::from_fn(
                    w.nrows(),
                    w.ncols(),
                    |i, j| if j >= i { 0.0 } else { w[(i, j)] },
                );
            for i in 0..m.nrows() {
                let s = m.row(i).sum();
                m.row_mut(i).scale_mut(1.0 / s);
            }
            m
        }
    }
);

misconception!(
    renormalize_then_mask,
    RenormalizeFirst,
    "mask_then_renormalize",
    "renormalized before masking",
    {
        fn mask_then_renormalize(w: &DMatrix<f32>) -> DMatrix<f32> {
            let mut m = w.clone();
            for i in 0..m.nrows() {
                let s = m.row(i).sum();
                m.row_mut(i).scale_mut(1.0 / s);
            }
            DMatrix::from_fn(
                m.nrows(),
                m.ncols(),
                |i, j| if j > i { 0.0 } else { m[(i, j)] },
            )
        }
    }
);

misconception!(
    dropout_scaled_by_one_over_p,
    DropoutOverP,
    "dropout",
    "1/p instead of 1/(1 − p)",
    {
        fn dropout(x: &DMatrix<f32>, p: f64, training: bool, rng: &mut TorchRng) -> DMatrix<f32> {
            let scale = 1.0 / p as f32; // the mistake: 1/p
            Reference::dropout(x, p, training, rng)
                / ch03_attention::Dropout::new(p).unwrap().scale()
                * scale
        }
    }
);

misconception!(
    dropout_not_scaled,
    DropoutUnscaled,
    "dropout",
    "dropout not scaled",
    {
        fn dropout(x: &DMatrix<f32>, p: f64, training: bool, rng: &mut TorchRng) -> DMatrix<f32> {
            if !training {
                return x.clone();
            }
            let keep = rng.bernoulli_mask(x.len(), 1.0 - p);
            DMatrix::from_fn(x.nrows(), x.ncols(), |i, j| {
                if keep[i * x.ncols() + j] {
                    x[(i, j)]
                } else {
                    0.0
                }
            })
        }
    }
);

misconception!(
    dropout_in_evaluation,
    DropoutInEval,
    "dropout",
    "dropout active in evaluation",
    {
        fn dropout(x: &DMatrix<f32>, p: f64, _training: bool, rng: &mut TorchRng) -> DMatrix<f32> {
            Reference::dropout(x, p, true, rng)
        }
    }
);

misconception!(
    dropout_on_the_scores,
    DropoutOnScores,
    "causal_attention",
    "dropout applied to the scores before the softmax",
    {
        fn causal_attention(
            b: &[DMatrix<f32>],
            l: &[Linear; 3],
            p: f64,
            training: bool,
            rng: &mut TorchRng,
        ) -> Vec<DMatrix<f32>> {
            causal_dropout_on_scores(b, l, p, training, rng)
        }
    }
);

misconception!(
    causal_attention_unmasked,
    Unmasked,
    "causal_attention",
    "the future is visible",
    {
        fn causal_attention(
            b: &[DMatrix<f32>],
            l: &[Linear; 3],
            _p: f64,
            _training: bool,
            _rng: &mut TorchRng,
        ) -> Vec<DMatrix<f32>> {
            b.iter()
                .map(|x| Reference::self_attention_v2(x, l))
                .collect()
        }
    }
);

misconception!(
    linear_without_transpose,
    XTimesW,
    "self_attention_v2",
    "x · W instead of x · Wᵀ",
    {
        fn self_attention_v2(x: &DMatrix<f32>, l: &[Linear; 3]) -> DMatrix<f32> {
            let (q, k, v) = (x_w(&l[0], x), x_w(&l[1], x), x_w(&l[2], x));
            let d_k = k.ncols() as f32;
            softmax_rows(&(q * k.transpose() / d_k.sqrt())) * v
        }
    }
);

misconception!(
    v2_layers_in_another_order,
    V2Order,
    "self_attention_v2",
    "another order than the book's",
    {
        fn self_attention_v2_layers(
            d_in: usize,
            d_out: usize,
            b: bool,
            rng: &mut TorchRng,
        ) -> [Linear; 3] {
            let w_key = Linear::new(d_in, d_out, b, rng);
            let w_query = Linear::new(d_in, d_out, b, rng);
            let w_value = Linear::new(d_in, d_out, b, rng);
            [w_query, w_key, w_value]
        }
    }
);

misconception!(
    exercise_3_1_not_transposed,
    NotTransposed,
    "exercise_3_1",
    "transpose it",
    {
        fn v1_weights_from_v2(l: &[Linear; 3]) -> [DMatrix<f32>; 3] {
            [
                l[0].weight().clone(),
                l[1].weight().clone(),
                l[2].weight().clone(),
            ]
        }
    }
);

misconception!(
    heads_from_interleaved_columns,
    Interleaved,
    "split_heads",
    "interleaved columns",
    {
        fn split_heads(m: &DMatrix<f32>, n: usize) -> Vec<DMatrix<f32>> {
            let d = m.ncols() / n;
            (0..n)
                .map(|h| DMatrix::from_fn(m.nrows(), d, |i, j| m[(i, h + j * n)]))
                .collect()
        }
    }
);

misconception!(
    mha_without_out_proj,
    NoOutProj,
    "multi_head_attention",
    "missing out_proj",
    {
        fn multi_head_attention(
            b: &[DMatrix<f32>],
            l: &[Linear; 4],
            n: usize,
        ) -> Vec<DMatrix<f32>> {
            mha_with(b, l, n, |head_dim, _| head_dim, false)
        }
    }
);

misconception!(
    mha_scaled_by_d_model,
    ScaleDModel,
    "multi_head_attention",
    "√d_model (√d_out) instead of √head_dim",
    {
        fn multi_head_attention(
            b: &[DMatrix<f32>],
            l: &[Linear; 4],
            n: usize,
        ) -> Vec<DMatrix<f32>> {
            mha_with(b, l, n, |_, d_out| d_out, true)
        }
    }
);

misconception!(
    mha_layers_in_another_order,
    MhaOrder,
    "multi_head_attention",
    "another order than the book's",
    {
        fn multi_head_attention_layers(
            d_in: usize,
            d_out: usize,
            b: bool,
            rng: &mut TorchRng,
        ) -> [Linear; 4] {
            let out_proj = Linear::new(d_out, d_out, true, rng);
            let w_query = Linear::new(d_in, d_out, b, rng);
            let w_key = Linear::new(d_in, d_out, b, rng);
            let w_value = Linear::new(d_in, d_out, b, rng);
            [w_query, w_key, w_value, out_proj]
        }
    }
);

misconception!(
    parameters_without_out_proj,
    ParamsNoOutProj,
    "exercise_3_3",
    "missing out_proj",
    {
        fn num_parameters(d_in: usize, d_out: usize, _n: usize, b: bool) -> usize {
            3 * (d_in * d_out + if b { d_out } else { 0 })
        }
    }
);

misconception!(
    exercise_3_2_heads_too_wide,
    WideHeads,
    "exercise_3_2",
    "d_out = 1 wide",
    {
        fn exercise_3_2() -> Vec<DMatrix<f32>> {
            let mut rng = TorchRng::manual_seed(123);
            let heads: Vec<[Linear; 3]> = (0..2)
                .map(|_| Reference::self_attention_v2_layers(3, 2, false, &mut rng))
                .collect();
            let inputs = ch03_attention::inputs::inputs();
            Reference::multi_head_wrapper(&[inputs.clone(), inputs], &heads)
        }
    }
);

misconception!(
    causal_dropout_in_evaluation,
    CausalDropoutInEval,
    "causal_attention",
    "dropout active in evaluation",
    {
        fn causal_attention(
            b: &[DMatrix<f32>],
            l: &[Linear; 3],
            p: f64,
            _training: bool,
            rng: &mut TorchRng,
        ) -> Vec<DMatrix<f32>> {
            Reference::causal_attention(b, l, p, true, rng)
        }
    }
);

misconception!(
    mha_heads_from_interleaved_columns,
    MhaInterleaved,
    "multi_head_attention",
    "interleaved columns",
    {
        fn multi_head_attention(
            b: &[DMatrix<f32>],
            l: &[Linear; 4],
            n: usize,
        ) -> Vec<DMatrix<f32>> {
            b.iter()
                .map(|x| {
                    let split = |m: DMatrix<f32>| Interleaved::split_heads(&m, n);
                    let [q, k, v] = [0, 1, 2].map(|i| split(fwd(&l[i], x)));
                    let heads: Vec<DMatrix<f32>> = (0..n)
                        .map(|h| {
                            causal_attn_weights(&(&q[h] * k[h].transpose()), k[h].ncols()) * &v[h]
                        })
                        .collect();
                    fwd(&l[3], &concat(&heads))
                })
                .collect()
        }
    }
);

/// A book-number failure shows the book's cell and both texts side by side, differing lines
/// marked.
#[test]
fn a_book_mismatch_is_shown_side_by_side() {
    struct HalfScores;
    impl Wrong for HalfScores {
        fn attn_scores_for(q: &DVector<f32>, i: &DMatrix<f32>) -> DVector<f32> {
            Reference::attn_scores_for(q, i) / 2.0
        }
    }
    let v = verdict::<HalfScores>("dot_scores");
    assert_eq!(v.status, Status::Failing);
    assert!(
        v.message
            .starts_with("dot_scores: your result differs from the book's\n✗ 3.3.1 cell [28]"),
        "{}",
        v.message
    );
    assert!(v.message.contains("computed"), "{}", v.message);
    assert!(
        v.message
            .contains("│ tensor([0.9544, 1.4950, 1.4754, 0.8434, 0.7070, 1.0865])"),
        "{}",
        v.message
    );
    assert!(
        v.message.lines().any(|l| l.starts_with("  ✗ ")),
        "{}",
        v.message
    );
}

// ---------------------------------------------------------------------------------------------
// The reference, and code that is not written, panics, or never returns.
// ---------------------------------------------------------------------------------------------

#[test]
fn the_reference_passes_every_check() {
    assert!(EXERCISES.len() >= 18);
    let verdicts = check_all::<Reference>();
    assert_eq!(verdicts.len(), EXERCISES.len());
    let failing: Vec<&Verdict> = verdicts
        .iter()
        .filter(|v| v.status != Status::Done)
        .collect();
    assert!(failing.is_empty(), "{failing:#?}");
}

#[test]
fn exercises_are_the_traits_in_order_with_unique_ids() {
    let ids: Vec<&str> = EXERCISES.iter().map(|e| e.id).collect();
    assert_eq!(
        ids,
        [
            "dot_scores",
            "sum_normalize",
            "softmax_naive",
            "softmax",
            "context_vec",
            "attn_scores",
            "attn_weights",
            "context_vecs",
            "self_attention_v1",
            "self_attention_v2",
            "exercise_3_1",
            "mask_then_renormalize",
            "causal_attn_weights",
            "dropout",
            "causal_attention",
            "multi_head_wrapper",
            "split_heads",
            "multi_head_attention",
            "exercise_3_2",
            "exercise_3_3",
        ]
    );
    let modules = [
        "similarity",
        "normalize",
        "context",
        "qkv",
        "causal",
        "dropout",
        "multihead",
    ];
    assert!(EXERCISES.iter().all(|e| modules.contains(&e.guide)));
    assert!(check::<Reference>("no_such_exercise").is_none());
}

#[test]
fn todo_is_not_started_not_a_crash() {
    struct Todo;
    impl Wrong for Todo {
        fn softmax(_: &DVector<f32>) -> DVector<f32> {
            todo!()
        }
    }
    let v = verdict::<Todo>("softmax");
    assert_eq!(v.status, Status::NotStarted, "{v:?}");
    assert!(v.message.contains("todo!()"), "{}", v.message);
    assert_eq!(verdict::<Todo>("softmax_naive").status, Status::Done);
}

#[test]
fn a_panic_is_failing_with_its_message() {
    struct Panics;
    impl Wrong for Panics {
        fn context_vec(_: &DVector<f32>, _: &DMatrix<f32>) -> DVector<f32> {
            panic!("index out of bounds: the len is 3 but the index is 3")
        }
    }
    let v = verdict::<Panics>("context_vec");
    assert_eq!(v.status, Status::Failing);
    assert!(
        v.message
            .contains("your code panicked: index out of bounds"),
        "{}",
        v.message
    );
}

#[test]
fn a_wrong_shape_is_named() {
    struct Transposed;
    impl Wrong for Transposed {
        fn exercise_3_2() -> Vec<DMatrix<f32>> {
            Reference::exercise_3_2()
                .iter()
                .map(|m| m.transpose())
                .collect()
        }
    }
    let v = verdict::<Transposed>("exercise_3_2");
    assert_eq!(v.status, Status::Failing);
    assert!(v.message.starts_with("exercise_3_2: "), "{}", v.message);
    assert!(
        v.message.contains("expected (6 × 2), got (2 × 6)"),
        "{}",
        v.message
    );
}

#[test]
fn nan_is_found() {
    struct Nan;
    impl Wrong for Nan {
        fn sum_normalize(s: &DVector<f32>) -> DVector<f32> {
            s.map(|_| f32::NAN)
        }
    }
    let v = verdict::<Nan>("sum_normalize");
    assert_eq!(v.status, Status::Failing);
    assert!(
        v.message.contains("your result holds NaN at (0)"),
        "{}",
        v.message
    );
}

#[test]
fn an_endless_loop_times_out() {
    struct Loops;
    impl Wrong for Loops {
        fn attn_scores(i: &DMatrix<f32>) -> DMatrix<f32> {
            // "Endless" for the check, but the thread ends by itself after 30 s.
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(30) {
                std::thread::sleep(Duration::from_millis(5));
            }
            Reference::attn_scores(i)
        }
    }
    let start = Instant::now();
    let v = check_with_limit::<Twisted<Loops>>("attn_scores", Duration::from_millis(200)).unwrap();
    assert!(start.elapsed() < Duration::from_secs(5));
    assert_eq!(v.status, Status::Failing);
    assert!(
        v.message.contains("ran for more than 0.2 s"),
        "{}",
        v.message
    );
    assert_eq!(spec::TIME_LIMIT, Duration::from_secs(10));
}

misconception!(
    scores_as_xt_x,
    GramOfFeatures,
    "attn_scores",
    "Xᵀ X instead of X Xᵀ",
    {
        fn attn_scores(inputs: &DMatrix<f32>) -> DMatrix<f32> {
            inputs.transpose() * inputs
        }
    }
);
