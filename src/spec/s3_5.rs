//! Section 3.5: causal attention: the checks of the two masking routes, dropout and
//! `CausalAttention`, and the wrong formulas ([`wrong`]) of their misconceptions.

use nalgebra::DMatrix;

use super::facts::{book_batch, causal_facts, causality_facts, first_rows_change, random};
use super::probe::{Ctx, Got, Out, Outcome, Probe};
use super::text::text;
use super::{Implementation, reference};
use crate::inputs::inputs;
use crate::{BernoulliPath, Linear, SelfAttentionV2, TorchRng};

/// Printed as the notebook prints it: the tensor alone.
fn plain(out: &Out) -> String {
    out.torch()
}

/// 3.5.1's `sa_v2`: `SelfAttention_v2(3, 2)` after `torch.manual_seed(789)`.
fn sa_v2_789() -> SelfAttentionV2 {
    SelfAttentionV2::new(3, 2, false, &mut TorchRng::manual_seed(789))
}

/// A generator seeded with `seed` on Bernoulli path `path`.
fn rng(seed: u64, path: BernoulliPath) -> TorchRng {
    TorchRng::manual_seed(seed).with_bernoulli(path)
}

/// The name of a Bernoulli path, for a probe's description.
fn path_name(path: BernoulliPath) -> &'static str {
    match path {
        BernoulliPath::Serial => "PyTorch's default path",
        BernoulliPath::MklLegacy => "the MKL path of PyTorch ≤ 2.6 on Linux",
    }
}

/// The same in Korean.
fn path_name_ko(path: BernoulliPath) -> &'static str {
    match path {
        BernoulliPath::Serial => "파이토치의 기본 방식",
        BernoulliPath::MklLegacy => "리눅스의 파이토치 2.6 이하가 쓰는 MKL 방식",
    }
}

/// Random attention weights `(n × n)`: softmax rows of random scores.
fn random_weights(seed: u64, n: usize) -> DMatrix<f32> {
    reference::attn_weights(&random(seed, n, n, -2.0, 2.0))
}

pub(crate) fn mask_then_renormalize(c: &Ctx) -> Outcome {
    let w = random_weights(16, 4);
    let w2 = w.clone();
    c.probes([
        Probe::new(
            text!(
                "the masked weights of 3.5.1",
                "3.5.1의 마스킹된 어텐션 가중치"
            ),
            |imp: &Implementation| {
                let w = sa_v2_789().attn_weights(&inputs()).expect("3 columns");
                Out::Matrix((imp.mask_then_renormalize)(&w)).into()
            },
        )
        .book("s3_5_1_masked_simple_norm", plain)
        .facts(causal_facts),
        Probe::new(
            text!(
                "route 1 on random (4 × 4) attention weights",
                "무작위 (4 × 4) 어텐션 가중치에 방법 1"
            ),
            move |imp: &Implementation| Out::Matrix((imp.mask_then_renormalize)(&w2)).into(),
        )
        .input(text!("attn_weights", "어텐션 가중치"), &w)
        .facts(causal_facts),
    ])
}

pub(crate) fn causal_attn_weights(c: &Ctx) -> Outcome {
    let mut s = random(17, 4, 4, -3.0, 3.0);
    s[(2, 0)] = s[(2, 1)]; // a tie
    let mut changed = s.clone();
    let noise = random(18, 4, 4, -50.0, 50.0);
    for i in 0..4 {
        for j in (i + 1)..4 {
            changed[(i, j)] = noise[(i, j)];
        }
    }
    let past_kept = (0..4).all(|i| (0..=i).all(|j| changed[(i, j)] == s[(i, j)]));
    assert!(past_kept, "only the scores above the diagonal change");
    let (s2, s3, changed_shown) = (s.clone(), s.clone(), changed.clone());
    c.probes([
        Probe::new(
            text!("the causal weights of 3.5.1 (d_k = 2)", "3.5.1의 코잘 어텐션 가중치(d_k = 2)"),
            |imp: &Implementation| {
                let scores = sa_v2_789().attn_scores(&inputs()).expect("3 columns");
                Out::Matrix((imp.causal_attn_weights)(&scores, 2)).into()
            },
        )
        .book("s3_5_1_causal_attn_weights", plain)
        .facts(causal_facts),
        Probe::new(
            text!("the causal weights of random (4 × 4) scores, d_k = 3", "무작위 (4 × 4) 점수의 코잘 어텐션 가중치, d_k = 3"),
            move |imp: &Implementation| Out::Matrix((imp.causal_attn_weights)(&s2, 3)).into(),
        )
        .input(text!("attn_scores", "어텐션 점수"), &s)
        .facts(causal_facts),
        Probe::new(
            text!(
                "the same scores with every score above the diagonal replaced (the change in your weights)",
                "같은 점수에서 대각선 위의 점수만 바꾼 경우(여러분의 가중치가 바뀐 양)"
            ),
            move |imp: &Implementation| {
                let before = (imp.causal_attn_weights)(&s3, 3);
                let after = (imp.causal_attn_weights)(&changed, 3);
                first_rows_change(&[before], &[after], 4).into()
            },
        )
        .input(text!("changed attn_scores", "바꾼 어텐션 점수"), &changed_shown)
        .facts(causality_facts),
    ])
}

/// Dropout on `x` in a mode, with what it drew.
fn dropout_got(
    imp: &Implementation,
    x: &DMatrix<f32>,
    p: f64,
    training: bool,
    mut g: TorchRng,
) -> Got {
    let out = (imp.dropout)(x, p, training, &mut g);
    Got {
        out: Out::Matrix(out),
        draws: Some(g.draw_count()),
    }
}

pub(crate) fn dropout(c: &Ctx) -> Outcome {
    let x = random(19, 3, 4, -1.0, 1.0);
    let y = random(20, 2, 5, -1.0, 1.0);
    let (xa, xb, xc, xd, ya) = (x.clone(), x.clone(), x.clone(), x.clone(), y.clone());
    let serial = BernoulliPath::Serial;
    let mkl = BernoulliPath::MklLegacy;
    c.probes([
        Probe::new(
            text!("Dropout(0.5) on ones(6, 6) after torch.manual_seed(123)", "torch.manual_seed(123) 다음 ones(6, 6)에 Dropout(0.5)"),
            |imp: &Implementation| {
                dropout_got(imp, &DMatrix::from_element(6, 6, 1.0), 0.5, true, TorchRng::manual_seed(123))
            },
        )
        .book("s3_5_2_dropout_ones", plain),
        Probe::new(
            text!("Dropout(0.5) on the causal weights after torch.manual_seed(123)", "torch.manual_seed(123) 다음 코잘 어텐션 가중치에 Dropout(0.5)"),
            |imp: &Implementation| {
                let w = reference::causal_attn_weights(
                    &sa_v2_789().attn_scores(&inputs()).expect("3 columns"),
                    2,
                );
                dropout_got(imp, &w, 0.5, true, TorchRng::manual_seed(123))
            },
        )
        .book("s3_5_2_dropout_attn_weights", plain),
        Probe::new(
            text!("Dropout(0.5) in evaluation mode (training = false)", "평가 모드(training = false)의 Dropout(0.5)"),
            move |imp: &Implementation| dropout_got(imp, &xa, 0.5, false, TorchRng::manual_seed(1)),
        )
        .input(text!("x", "x"), &x),
        Probe::new(
            text!(
                "Dropout(0.2) in training on random (3 × 4) inputs after torch.manual_seed(2), PyTorch's default path",
                "torch.manual_seed(2) 다음 무작위 (3 × 4) 입력에 훈련 모드 Dropout(0.2), 파이토치의 기본 방식"
            ),
            move |imp: &Implementation| dropout_got(imp, &xb, 0.2, true, rng(2, serial)),
        )
        .input(text!("x", "x"), &x),
        Probe::new(
            text!(
                "Dropout(0.3) in training on random (2 × 5) inputs after torch.manual_seed(3), the MKL path of PyTorch ≤ 2.6 on Linux",
                "torch.manual_seed(3) 다음 무작위 (2 × 5) 입력에 훈련 모드 Dropout(0.3), 리눅스의 파이토치 2.6 이하가 쓰는 MKL 방식"
            ),
            move |imp: &Implementation| dropout_got(imp, &ya, 0.3, true, rng(3, mkl)),
        )
        .input(text!("x", "x"), &y),
        Probe::new(
            text!("Dropout(0.0) in training (PyTorch returns the input and draws nothing)", "훈련 모드의 Dropout(0.0)(파이토치는 입력을 그대로 돌려주고 난수를 뽑지 않습니다)"),
            move |imp: &Implementation| dropout_got(imp, &xc, 0.0, true, TorchRng::manual_seed(4)),
        )
        .input(text!("x", "x"), &x),
        Probe::new(
            text!("Dropout(1.0) in training (PyTorch returns zeros and draws nothing)", "훈련 모드의 Dropout(1.0)(파이토치는 0을 돌려주고 난수를 뽑지 않습니다)"),
            move |imp: &Implementation| dropout_got(imp, &xd, 1.0, true, TorchRng::manual_seed(5)),
        )
        .input(text!("x", "x"), &x),
    ])
}

/// Causal attention of a batch, with what it drew.
fn causal_got(
    imp: &Implementation,
    batch: &[DMatrix<f32>],
    layers: &[Linear; 3],
    p: f64,
    training: bool,
    mut g: TorchRng,
) -> Got {
    let out = (imp.causal_attention)(batch, layers, p, training, &mut g);
    Got {
        out: Out::Batch(out),
        draws: Some(g.draw_count()),
    }
}

pub(crate) fn causal_attention(c: &Ctx) -> Outcome {
    let layers = reference::self_attention_v2_layers(3, 2, true, &mut TorchRng::manual_seed(20));
    let batch = vec![random(21, 4, 3, -1.0, 1.0), random(22, 4, 3, -1.0, 1.0)];
    let mut changed = batch.clone();
    for m in &mut changed {
        m.rows_mut(2, 2).copy_from(&random(23, 2, 3, -3.0, 3.0));
    }
    let book_layers =
        reference::self_attention_v2_layers(3, 2, false, &mut TorchRng::manual_seed(123));
    let mut probes = vec![
        Probe::new(
            text!(
                "CausalAttention(3, 2, 6, 0.0) on the book's batch, seed 123",
                "책의 배치에 CausalAttention(3, 2, 6, 0.0), 시드 123"
            ),
            move |imp: &Implementation| {
                causal_got(
                    imp,
                    &book_batch(),
                    &book_layers,
                    0.0,
                    false,
                    TorchRng::manual_seed(0),
                )
            },
        )
        .book("s3_5_3_causal_context_vecs", plain),
    ];
    let (b, l) = (batch.clone(), layers.clone());
    probes.push(
        Probe::new(
            text!(
                "CausalAttention(3, 2, qkv_bias=True), layers after torch.manual_seed(20), in evaluation on a random batch of 2 × (4 × 3)",
                "무작위 2 × (4 × 3) 배치에 torch.manual_seed(20) 다음 만든 층의 평가 모드 CausalAttention(3, 2, qkv_bias=True)"
            ),
            move |imp: &Implementation| causal_got(imp, &b, &l, 0.0, false, TorchRng::manual_seed(0)),
        )
        .input(text!("batch", "배치"), &batch),
    );
    let (b, l, ch) = (batch.clone(), layers.clone(), changed);
    probes.push(
        Probe::new(
            text!(
                "CausalAttention(3, 2, qkv_bias=True), layers after torch.manual_seed(20), on the batch above with tokens 2 and 3 replaced: the change in the outputs of tokens 0 and 1",
                "torch.manual_seed(20) 다음 만든 층의 CausalAttention(3, 2, qkv_bias=True)에서 위 배치의 토큰 2와 3만 바꾼 경우: 토큰 0과 1의 출력이 바뀐 양"
            ),
            move |imp: &Implementation| {
                let before = (imp.causal_attention)(&b, &l, 0.0, false, &mut TorchRng::manual_seed(0));
                let after = (imp.causal_attention)(&ch, &l, 0.0, false, &mut TorchRng::manual_seed(0));
                first_rows_change(&before, &after, 2).into()
            },
        )
        .facts(causality_facts),
    );
    let (b, l) = (batch.clone(), layers.clone());
    probes.push(Probe::new(
        text!(
            "CausalAttention(3, 2, qkv_bias=True), layers after torch.manual_seed(20), in evaluation with dropout = 0.5 (nothing is dropped, nothing drawn)",
            "torch.manual_seed(20) 다음 만든 층의 CausalAttention(3, 2, qkv_bias=True), dropout = 0.5인 평가 모드(아무것도 드롭하지 않고 난수도 뽑지 않음)"
        ),
        move |imp: &Implementation| causal_got(imp, &b, &l, 0.5, false, TorchRng::manual_seed(0)),
    ).input(text!("batch", "배치"), &batch));
    for path in [BernoulliPath::Serial, BernoulliPath::MklLegacy] {
        let (b, l) = (batch.clone(), layers.clone());
        probes.push(Probe::new(
            text!(
                "CausalAttention(3, 2, qkv_bias=True), layers after torch.manual_seed(20), in training with dropout 0.5 after torch.manual_seed(24), {path}",
                "torch.manual_seed(20) 다음 만든 층의 CausalAttention(3, 2, qkv_bias=True), 훈련 모드, dropout 0.5, torch.manual_seed(24) 다음, {path}",
                path = super::text::Text::new(path_name(path), path_name_ko(path)),
            ),
            move |imp: &Implementation| causal_got(imp, &b, &l, 0.5, true, rng(24, path)),
        ).input(text!("batch", "배치"), &batch));
    }
    c.probes(probes)
}

/// The wrong formulas of section 3.5's misconceptions.
pub(crate) mod wrong {
    use super::*;
    use crate::Dropout;
    use crate::normalize::softmax_rows;
    use crate::torch::matmul;

    /// `w` with the entries where `keep(i, j)` is false set to 0.
    fn keep_where(w: &DMatrix<f32>, keep: fn(usize, usize) -> bool) -> DMatrix<f32> {
        DMatrix::from_fn(w.nrows(), w.ncols(), |i, j| {
            if keep(i, j) { w[(i, j)] } else { 0.0 }
        })
    }

    /// Each row divided by its sum.
    fn rows_normalized(mut m: DMatrix<f32>) -> DMatrix<f32> {
        for mut r in m.row_iter_mut() {
            let total = r.sum();
            r /= total;
        }
        m
    }

    /// Route 1 with the diagonal hidden too.
    pub fn strict_mask(w: &DMatrix<f32>) -> DMatrix<f32> {
        rows_normalized(keep_where(w, |i, j| j < i))
    }

    /// Route 1 without renormalizing after the mask (or renormalized before it).
    pub fn not_renormalized(w: &DMatrix<f32>) -> DMatrix<f32> {
        keep_where(w, |i, j| j <= i)
    }

    /// Route 1 with each column divided by its sum.
    pub fn column_sums(w: &DMatrix<f32>) -> DMatrix<f32> {
        let mut m = keep_where(w, |i, j| j <= i);
        for mut c in m.column_iter_mut() {
            let total = c.sum();
            c /= total;
        }
        m
    }

    /// Route 1 keeping the upper triangle (`triu`) instead of the lower.
    pub fn upper_kept(w: &DMatrix<f32>) -> DMatrix<f32> {
        rows_normalized(keep_where(w, |i, j| j >= i))
    }

    /// Scores with `value` where `hide(i, j)`.
    fn masked(s: &DMatrix<f32>, hide: fn(usize, usize) -> bool, value: f32) -> DMatrix<f32> {
        DMatrix::from_fn(s.nrows(), s.ncols(), |i, j| {
            if hide(i, j) { value } else { s[(i, j)] }
        })
    }

    /// Future scores set to 0 (not −∞) before the softmax.
    pub fn zero_before_softmax(s: &DMatrix<f32>, d_k: usize) -> DMatrix<f32> {
        softmax_rows(&(masked(s, |i, j| j > i, 0.0) / (d_k as f32).sqrt()))
    }

    /// The softmax first, then the future weights set to 0, not renormalized.
    pub fn mask_after_softmax(s: &DMatrix<f32>, d_k: usize) -> DMatrix<f32> {
        keep_where(&softmax_rows(&(s / (d_k as f32).sqrt())), |i, j| j <= i)
    }

    /// No division by √d_k.
    pub fn causal_unscaled(s: &DMatrix<f32>, _d_k: usize) -> DMatrix<f32> {
        reference::causal_attn_weights(s, 1)
    }

    /// Divided by d_k instead of √d_k.
    pub fn causal_by_d_k(s: &DMatrix<f32>, d_k: usize) -> DMatrix<f32> {
        softmax_rows(&(masked(s, |i, j| j > i, f32::NEG_INFINITY) / d_k as f32))
    }

    /// The diagonal masked too (`triu(…, diagonal=0)`).
    pub fn causal_strict(s: &DMatrix<f32>, d_k: usize) -> DMatrix<f32> {
        softmax_rows(&(masked(s, |i, j| j >= i, f32::NEG_INFINITY) / (d_k as f32).sqrt()))
    }

    /// The past masked instead of the future (`tril` where `triu` belongs).
    pub fn causal_past_masked(s: &DMatrix<f32>, d_k: usize) -> DMatrix<f32> {
        softmax_rows(&(masked(s, |i, j| j < i, f32::NEG_INFINITY) / (d_k as f32).sqrt()))
    }

    /// Dropout scaled by `1/p`.
    pub fn dropout_over_p(
        x: &DMatrix<f32>,
        p: f64,
        training: bool,
        rng: &mut TorchRng,
    ) -> DMatrix<f32> {
        masked_dropout(x, p, training, rng, |p| 1.0 / p as f32, false, 1.0 - p)
    }

    /// Dropout not scaled.
    pub fn dropout_unscaled(
        x: &DMatrix<f32>,
        p: f64,
        training: bool,
        rng: &mut TorchRng,
    ) -> DMatrix<f32> {
        masked_dropout(x, p, training, rng, |_| 1.0, false, 1.0 - p)
    }

    /// Dropout in evaluation mode too.
    pub fn dropout_in_eval(
        x: &DMatrix<f32>,
        p: f64,
        _training: bool,
        rng: &mut TorchRng,
    ) -> DMatrix<f32> {
        reference::dropout(x, p, true, rng)
    }

    /// The mask read column by column.
    pub fn dropout_column_major(
        x: &DMatrix<f32>,
        p: f64,
        training: bool,
        rng: &mut TorchRng,
    ) -> DMatrix<f32> {
        masked_dropout(
            x,
            p,
            training,
            rng,
            |p| 1.0 / (1.0 - p) as f32,
            true,
            1.0 - p,
        )
    }

    /// Elements kept with probability `p` (not `1 − p`).
    pub fn dropout_keeps_p(
        x: &DMatrix<f32>,
        p: f64,
        training: bool,
        rng: &mut TorchRng,
    ) -> DMatrix<f32> {
        masked_dropout(x, p, training, rng, |p| 1.0 / (1.0 - p) as f32, false, p)
    }

    /// A mask drawn even for `p = 0` and `p = 1`.
    pub fn dropout_always_draws(
        x: &DMatrix<f32>,
        p: f64,
        training: bool,
        rng: &mut TorchRng,
    ) -> DMatrix<f32> {
        if !training {
            return x.clone();
        }
        let keep = rng.bernoulli_mask(x.len(), 1.0 - p);
        let scale = Dropout::new(p).expect("p in [0, 1]").scale();
        DMatrix::from_fn(x.nrows(), x.ncols(), |i, j| {
            if keep[i * x.ncols() + j] {
                x[(i, j)] * scale
            } else {
                0.0
            }
        })
    }

    /// Dropout with a mask from `bernoulli_mask(len, keep_prob)` (row-major or column-major),
    /// kept entries times `scale(p)`; `p = 0` and `p = 1` draw nothing, as in PyTorch.
    fn masked_dropout(
        x: &DMatrix<f32>,
        p: f64,
        training: bool,
        rng: &mut TorchRng,
        scale: fn(f64) -> f32,
        column_major: bool,
        keep_prob: f64,
    ) -> DMatrix<f32> {
        if !training || p == 0.0 {
            return x.clone();
        }
        if p == 1.0 {
            return x * 0.0;
        }
        let keep = rng.bernoulli_mask(x.len(), keep_prob);
        let s = scale(p);
        DMatrix::from_fn(x.nrows(), x.ncols(), |i, j| {
            let k = if column_major {
                j * x.nrows() + i
            } else {
                i * x.ncols() + j
            };
            if keep[k] { x[(i, j)] * s } else { 0.0 }
        })
    }

    /// Causal weights and values of one item.
    fn weights_and_values(x: &DMatrix<f32>, l: &[Linear; 3]) -> (DMatrix<f32>, DMatrix<f32>) {
        reference::causal_weights_and_values(x, l)
    }

    /// The signature of exercise `causal_attention` (see [`Implementation`]), which every wrong
    /// formula below has: the batch, the layers `[W_query, W_key, W_value]`, the dropout rate,
    /// the mode and the generator.
    type CausalAttention =
        fn(&[DMatrix<f32>], &[Linear; 3], f64, bool, &mut TorchRng) -> Vec<DMatrix<f32>>;

    /// Dropout applied to the scores, before the mask and the softmax.
    pub const DROPOUT_ON_SCORES: CausalAttention = |b, l, p, training, rng| {
        let scores: Vec<DMatrix<f32>> = b
            .iter()
            .map(|x| matmul(&l[0].apply(x), &l[1].apply(x).transpose()))
            .collect();
        let scores = Dropout::new(p)
            .expect("p in [0, 1]")
            .forward_in_mode(scores, training.then_some(rng));
        b.iter()
            .zip(&scores)
            .map(|(x, s)| {
                matmul(
                    &reference::causal_attn_weights(s, l[1].out_features()),
                    &l[2].apply(x),
                )
            })
            .collect()
    };

    /// `CausalAttention`'s forward pass with the weights computed by `weights(scores, d_k)`.
    fn with_weights(
        b: &[DMatrix<f32>],
        l: &[Linear; 3],
        p: f64,
        training: bool,
        rng: &mut TorchRng,
        weights: fn(&DMatrix<f32>, usize) -> DMatrix<f32>,
    ) -> Vec<DMatrix<f32>> {
        let (attn_weights, values): (Vec<_>, Vec<_>) = b
            .iter()
            .map(|x| {
                let s = matmul(&l[0].apply(x), &l[1].apply(x).transpose()); // (T, T)
                (weights(&s, l[1].out_features()), l[2].apply(x))
            })
            .unzip();
        let attn_weights = Dropout::new(p)
            .expect("p in [0, 1]")
            .forward_in_mode(attn_weights, training.then_some(rng));
        attn_weights
            .iter()
            .zip(&values)
            .map(|(w, v)| matmul(w, v))
            .collect()
    }

    /// No causal mask.
    pub const UNMASKED: CausalAttention = |b, l, p, training, rng| {
        with_weights(b, l, p, training, rng, |s, d_k| {
            softmax_rows(&(s / (d_k as f32).sqrt()))
        })
    };

    /// Dropout active in evaluation mode too.
    pub const CAUSAL_DROPOUT_IN_EVAL: CausalAttention =
        |b, l, p, _training, rng| reference::causal_attention(b, l, p, true, rng);

    /// No division by √d_k.
    pub const CAUSAL_ATTENTION_UNSCALED: CausalAttention = |b, l, p, training, rng| {
        with_weights(b, l, p, training, rng, |s, _| {
            reference::causal_attn_weights(s, 1)
        })
    };

    /// Dropout applied to the context vectors (after `@ values`).
    pub const DROPOUT_ON_CONTEXT: CausalAttention = |b, l, p, training, rng| {
        let context: Vec<DMatrix<f32>> = b
            .iter()
            .map(|x| {
                let (w, v) = weights_and_values(x, l);
                matmul(&w, &v)
            })
            .collect();
        Dropout::new(p)
            .expect("p in [0, 1]")
            .forward_in_mode(context, training.then_some(rng))
    };

    /// One `(T × T)` mask drawn once and used for every item.
    pub const ONE_MASK_FOR_ALL: CausalAttention = |b, l, p, training, rng| {
        let dropout = Dropout::new(p).expect("p in [0, 1]");
        let (weights, values): (Vec<_>, Vec<_>) =
            b.iter().map(|x| weights_and_values(x, l)).unzip();
        let noise = match (training, weights.first()) {
            (true, Some(w)) => {
                let ones = DMatrix::from_element(w.nrows(), w.ncols(), 1.0_f32);
                Some(dropout.forward_train(&ones, rng))
            }
            _ => None,
        };
        weights
            .iter()
            .zip(&values)
            .map(|(w, v)| {
                let w = noise
                    .as_ref()
                    .map_or_else(|| w.clone(), |n| w.component_mul(n));
                matmul(&w, v)
            })
            .collect()
    };

    /// Dropout drawn item by item (one call per item): the same as one call over the batch on
    /// PyTorch's default path, not on the MKL path, where each call takes one seed draw.
    pub const DROPOUT_PER_ITEM: CausalAttention = |b, l, p, training, rng| {
        let dropout = Dropout::new(p).expect("p in [0, 1]");
        b.iter()
            .map(|x| {
                let (w, v) = weights_and_values(x, l);
                let w = if training {
                    dropout.forward_train(&w, rng)
                } else {
                    w
                };
                matmul(&w, &v)
            })
            .collect()
    };
}
