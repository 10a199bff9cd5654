//! Section 3.3: attention without trainable weights: the checks of its eight exercises, and the
//! wrong formulas ([`wrong`]) its misconceptions compute.

use nalgebra::{DMatrix, DVector};

use super::facts::{random, random_v, weight_facts};
use super::probe::{Ctx, Got, Out, Outcome, Probe};
use super::text::text;
use super::{Implementation, reference};
use crate::inputs::inputs;
use crate::torch::row;

/// A vector result.
fn vector(v: DVector<f32>) -> Got {
    Out::Vector(v).into()
}

/// A matrix result.
fn matrix(m: DMatrix<f32>) -> Got {
    Out::Matrix(m).into()
}

/// Printed as the notebook prints it: the tensor alone.
fn plain(out: &Out) -> String {
    out.torch()
}

/// Printed after the notebook's label `Attention weights:`.
fn weights_label(out: &Out) -> String {
    format!("Attention weights: {}", out.torch())
}

/// ω₂: the book's scores of query 2 ("journey").
fn omega_2() -> DVector<f32> {
    reference::attn_scores_for(&row(&inputs(), 1), &inputs())
}

// ------------------------------------------------------------------------------------ 3.3.1

pub(crate) fn dot_scores(c: &Ctx) -> Outcome {
    let (x, q) = (random(1, 4, 3, -2.0, 2.0), random_v(2, 3, -2.0, 2.0));
    let (x2, q2) = (x.clone(), q.clone());
    c.probes([
        Probe::new(
            text!(
                "the scores of query 2 (\"journey\") against the 6 inputs",
                "쿼리 2(\"journey\")와 입력 6개의 어텐션 점수"
            ),
            |imp: &Implementation| vector((imp.attn_scores_for)(&row(&inputs(), 1), &inputs())),
        )
        .book("s3_3_1_attn_scores_2", plain),
        Probe::new(
            text!(
                "the scores of a random query against random (4 × 3) inputs",
                "무작위 쿼리와 무작위 (4 × 3) 입력의 어텐션 점수"
            ),
            move |imp: &Implementation| vector((imp.attn_scores_for)(&q2, &x2)),
        )
        .input(text!("query", "쿼리"), &q)
        .input(text!("inputs", "입력"), &x),
    ])
}

pub(crate) fn sum_normalize(c: &Ctx) -> Outcome {
    let s = random_v(3, 5, 0.1, 3.0);
    let s2 = s.clone();
    c.probes([
        Probe::new(
            text!("the weights of query 2", "쿼리 2의 어텐션 가중치"),
            |imp: &Implementation| vector((imp.sum_normalize)(&omega_2())),
        )
        .book("s3_3_1_attn_weights_2_sum_normalized", weights_label),
        Probe::new(
            text!(
                "random positive scores, normalized",
                "무작위 양수 점수를 정규화한 결과"
            ),
            move |imp: &Implementation| vector((imp.sum_normalize)(&s2)),
        )
        .input(text!("attn_scores", "어텐션 점수"), &s),
    ])
}

pub(crate) fn softmax_naive(c: &Ctx) -> Outcome {
    let s = random_v(4, 6, -3.0, 3.0);
    let s2 = s.clone();
    c.probes([
        Probe::new(
            text!("the weights of query 2", "쿼리 2의 어텐션 가중치"),
            |imp: &Implementation| vector((imp.softmax_naive)(&omega_2())),
        )
        .book("s3_3_1_attn_weights_2_naive_softmax", weights_label),
        Probe::new(
            text!(
                "the softmax of random scores in [−3, 3)",
                "[−3, 3) 범위 무작위 점수의 소프트맥스"
            ),
            move |imp: &Implementation| vector((imp.softmax_naive)(&s2)),
        )
        .input(text!("attn_scores", "어텐션 점수"), &s),
    ])
}

pub(crate) fn softmax(c: &Ctx) -> Outcome {
    let s = random_v(5, 6, -3.0, 3.0);
    let large = DVector::from_vec(vec![1000.0_f32, 999.0, -1000.0, 0.0, 998.5]);
    let small = DVector::from_vec(vec![-1000.0_f32, -1001.0, -999.0]);
    let (s2, large2, small2) = (s.clone(), large.clone(), small.clone());
    c.probes([
        Probe::new(
            text!("the weights of query 2", "쿼리 2의 어텐션 가중치"),
            |imp: &Implementation| vector((imp.softmax)(&omega_2())),
        )
        .book("s3_3_1_attn_weights_2_softmax", weights_label),
        Probe::new(
            text!(
                "the softmax of random scores in [−3, 3)",
                "[−3, 3) 범위 무작위 점수의 소프트맥스"
            ),
            move |imp: &Implementation| vector((imp.softmax)(&s2)),
        )
        .input(text!("attn_scores", "어텐션 점수"), &s),
        Probe::new(
            text!(
                "the softmax of scores near ±1000",
                "±1000 근처 점수의 소프트맥스"
            ),
            move |imp: &Implementation| vector((imp.softmax)(&large2)),
        )
        .input(text!("attn_scores", "어텐션 점수"), &large),
        Probe::new(
            text!(
                "the softmax of scores near −1000",
                "−1000 근처 점수의 소프트맥스"
            ),
            move |imp: &Implementation| vector((imp.softmax)(&small2)),
        )
        .input(text!("attn_scores", "어텐션 점수"), &small),
    ])
}

pub(crate) fn context_vec(c: &Ctx) -> Outcome {
    let x = random(6, 4, 3, -2.0, 2.0);
    let w = reference::softmax(&random_v(7, 4, -2.0, 2.0));
    let (x2, w2) = (x.clone(), w.clone());
    c.probes([
        Probe::new(
            text!(
                "z⁽²⁾, the context vector of query 2",
                "쿼리 2의 문맥 벡터 z⁽²⁾"
            ),
            |imp: &Implementation| {
                vector((imp.context_vec)(
                    &reference::softmax(&omega_2()),
                    &inputs(),
                ))
            },
        )
        .book("s3_3_1_context_vec_2", plain),
        Probe::new(
            text!(
                "random weights over random (4 × 3) inputs",
                "무작위 (4 × 3) 입력과 무작위 가중치"
            ),
            move |imp: &Implementation| vector((imp.context_vec)(&w2, &x2)),
        )
        .input(text!("attn_weights", "어텐션 가중치"), &w)
        .input(text!("inputs", "입력"), &x),
    ])
}

// ------------------------------------------------------------------------------------ 3.3.2

pub(crate) fn attn_scores(c: &Ctx) -> Outcome {
    let x = random(8, 4, 3, -2.0, 2.0);
    let x2 = x.clone();
    c.probes([
        Probe::new(
            text!("the scores of the 6 tokens", "토큰 6개의 어텐션 점수"),
            |imp: &Implementation| matrix((imp.attn_scores)(&inputs())),
        )
        .book("s3_3_2_attn_scores", plain),
        Probe::new(
            text!(
                "the scores of random (4 × 3) inputs",
                "무작위 (4 × 3) 입력의 어텐션 점수"
            ),
            move |imp: &Implementation| matrix((imp.attn_scores)(&x2)),
        )
        .input(text!("inputs", "입력"), &x),
    ])
}

pub(crate) fn attn_weights(c: &Ctx) -> Outcome {
    let mut s = random(9, 3, 5, -3.0, 3.0); // 3 queries, 5 keys
    s[(1, 3)] = s[(1, 1)]; // a tie
    let s2 = s.clone();
    let large = DMatrix::from_row_slice(2, 3, &[1000.0, 999.0, -1000.0, -1000.0, -1001.0, -999.0]);
    let large2 = large.clone();
    c.probes([
        Probe::new(
            text!("the weights of the 6 tokens", "토큰 6개의 어텐션 가중치"),
            |imp: &Implementation| matrix((imp.attn_weights)(&reference::attn_scores(&inputs()))),
        )
        .book("s3_3_2_attn_weights", plain)
        .facts(weight_facts),
        Probe::new(
            text!(
                "the weights of random (3 × 5) scores (3 queries, 5 keys)",
                "무작위 (3 × 5) 점수(쿼리 3개, 키 5개)의 어텐션 가중치"
            ),
            move |imp: &Implementation| matrix((imp.attn_weights)(&s2)),
        )
        .input(text!("attn_scores", "어텐션 점수"), &s)
        .facts(weight_facts),
        Probe::new(
            text!(
                "the weights of scores near ±1000 (each row must stay stable)",
                "±1000 근처 점수의 어텐션 가중치(행마다 안정적이어야 합니다)"
            ),
            move |imp: &Implementation| matrix((imp.attn_weights)(&large2)),
        )
        .input(text!("attn_scores", "어텐션 점수"), &large),
    ])
}

pub(crate) fn context_vecs(c: &Ctx) -> Outcome {
    let w = reference::attn_weights(&random(10, 4, 4, -2.0, 2.0));
    let x = random(11, 4, 2, -2.0, 2.0);
    let (w2, x2) = (w.clone(), x.clone());
    c.probes([
        Probe::new(
            text!(
                "the context vectors of the 6 tokens",
                "토큰 6개의 문맥 벡터"
            ),
            |imp: &Implementation| {
                let w = reference::attn_weights(&reference::attn_scores(&inputs()));
                matrix((imp.context_vecs)(&w, &inputs()))
            },
        )
        .book("s3_3_2_context_vecs", plain),
        Probe::new(
            text!(
                "random (4 × 4) weights and (4 × 2) inputs",
                "무작위 (4 × 4) 가중치와 (4 × 2) 입력"
            ),
            move |imp: &Implementation| matrix((imp.context_vecs)(&w2, &x2)),
        )
        .input(text!("attn_weights", "어텐션 가중치"), &w)
        .input(text!("inputs", "입력"), &x),
    ])
}

/// The wrong formulas of section 3.3's misconceptions.
pub(crate) mod wrong {
    use super::*;
    use crate::normalize::softmax_rows;

    /// Cosine similarity instead of the dot product.
    pub fn cosine_scores(q: &DVector<f32>, x: &DMatrix<f32>) -> DVector<f32> {
        DVector::from_fn(x.nrows(), |j, _| {
            let r = x.row(j).transpose();
            r.dot(q) / (r.norm() * q.norm())
        })
    }

    /// Each input with itself: the query left out.
    pub fn self_scores(_q: &DVector<f32>, x: &DMatrix<f32>) -> DVector<f32> {
        DVector::from_fn(x.nrows(), |j, _| x.row(j).dot(&x.row(j)))
    }

    /// Divided by the largest score.
    pub fn by_max(s: &DVector<f32>) -> DVector<f32> {
        s / s.max()
    }

    /// Divided by the number of scores.
    pub fn by_count(s: &DVector<f32>) -> DVector<f32> {
        s / s.len() as f32
    }

    /// Divided by the Euclidean norm.
    pub fn by_norm(s: &DVector<f32>) -> DVector<f32> {
        s / s.norm()
    }

    /// `exp(x) / Σ x`.
    pub fn exp_over_sum(s: &DVector<f32>) -> DVector<f32> {
        s.map(f32::exp) / s.sum()
    }

    /// `exp(x)`, not normalized.
    pub fn exp_only(s: &DVector<f32>) -> DVector<f32> {
        s.map(f32::exp)
    }

    /// The naive softmax where the stable one is asked for.
    pub fn naive(s: &DVector<f32>) -> DVector<f32> {
        reference::softmax_naive(s)
    }

    /// `exp(x − m) / Σ exp(x)`: the maximum subtracted in the numerator only.
    pub fn max_in_numerator_only(s: &DVector<f32>) -> DVector<f32> {
        let m = s.max();
        s.map(|x| (x - m).exp()) / s.map(f32::exp).sum()
    }

    /// The smallest score subtracted instead of the largest.
    pub fn minus_min(s: &DVector<f32>) -> DVector<f32> {
        let e = s.add_scalar(-s.min()).map(f32::exp);
        let total = e.sum();
        e / total
    }

    /// The inputs summed, the weights ignored.
    pub fn unweighted_sum(_w: &DVector<f32>, x: &DMatrix<f32>) -> DVector<f32> {
        x.row_sum().transpose()
    }

    /// The mean of the inputs.
    pub fn mean_of_inputs(_w: &DVector<f32>, x: &DMatrix<f32>) -> DVector<f32> {
        x.row_mean().transpose()
    }

    /// `Xᵀ X`: one score per pair of features.
    pub fn gram_of_features(x: &DMatrix<f32>) -> DMatrix<f32> {
        x.transpose() * x
    }

    /// `X Xᵀ / √d_in`: section 3.4's scaling, which 3.3 does not have.
    pub fn scaled_scores(x: &DMatrix<f32>) -> DMatrix<f32> {
        reference::attn_scores(x) / (x.ncols() as f32).sqrt()
    }

    /// The softmax of every column.
    pub fn column_softmax(s: &DMatrix<f32>) -> DMatrix<f32> {
        softmax_rows(&s.transpose()).transpose()
    }

    /// The naive softmax of every row: exp(1000) overflows.
    pub fn naive_rows(s: &DMatrix<f32>) -> DMatrix<f32> {
        let e = s.map(f32::exp);
        let mut m = e.clone();
        for (mut r, total) in m.row_iter_mut().zip(e.row_iter().map(|r| r.sum())) {
            r /= total;
        }
        m
    }

    /// Each row divided by its sum (3.3.1's first normalization), no softmax.
    pub fn rows_sum_normalized(s: &DMatrix<f32>) -> DMatrix<f32> {
        let mut m = s.clone();
        for mut r in m.row_iter_mut() {
            let total = r.sum();
            r /= total;
        }
        m
    }

    /// One softmax over every entry of the matrix.
    pub fn softmax_of_all(s: &DMatrix<f32>) -> DMatrix<f32> {
        let m = s.max();
        let e = s.map(|x| (x - m).exp());
        let total = e.sum();
        e / total
    }

    /// Row i weighting its own input: `z⁽ⁱ⁾ = Σⱼ αᵢⱼ x⁽ⁱ⁾` (a loop that indexes `x[i]` where
    /// `x[j]` belongs).
    pub fn own_input_weighted(w: &DMatrix<f32>, x: &DMatrix<f32>) -> DMatrix<f32> {
        let mut z = x.clone();
        for (i, mut r) in z.row_iter_mut().enumerate() {
            r *= w.row(i).sum();
        }
        z
    }

    /// `Aᵀ X`.
    pub fn transposed_weights(w: &DMatrix<f32>, x: &DMatrix<f32>) -> DMatrix<f32> {
        w.transpose() * x
    }
}
