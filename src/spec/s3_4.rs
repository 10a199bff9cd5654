//! Section 3.4: self-attention with trainable weights: the checks of `self_attention_v1` and
//! `self_attention_v2`, and the wrong formulas ([`wrong`]) of their misconceptions.

use nalgebra::DMatrix;

use super::facts::random;
use super::probe::{Ctx, Got, Out, Outcome, Probe};
use super::text::text;
use super::{Implementation, reference};
use crate::inputs::inputs;
use crate::{Linear, TorchRng};

/// Weights drawn with a seeded generator, and how many numbers were drawn.
fn drawn<T>(seed: u64, draw: impl FnOnce(&mut TorchRng) -> T) -> (T, u64) {
    let mut rng = TorchRng::manual_seed(seed);
    let made = draw(&mut rng);
    (made, rng.draw_count())
}

/// Printed as the notebook prints it: the tensor alone.
fn plain(out: &Out) -> String {
    out.torch()
}

pub(crate) fn self_attention_v1(c: &Ctx) -> Outcome {
    let x = random(12, 4, 3, -1.0, 1.0);
    let w = reference::self_attention_v1_weights(3, 2, &mut TorchRng::manual_seed(13));
    let (x2, w2) = (x.clone(), w.clone());
    c.probes([
        Probe::new(
            text!(
                "[W_query, W_key, W_value] of SelfAttention_v1(3, 2) after torch.manual_seed(123)",
                "torch.manual_seed(123) 다음 SelfAttention_v1(3, 2)의 [W_query, W_key, W_value]"
            ),
            |imp: &Implementation| {
                let (w, draws) = drawn(123, |g| (imp.self_attention_v1_weights)(3, 2, g));
                Got {
                    out: Out::Batch(w.to_vec()),
                    draws: Some(draws),
                }
            },
        ),
        Probe::new(
            text!(
                "SelfAttention_v1(3, 2) on the 6 inputs",
                "입력 6개에 대한 SelfAttention_v1(3, 2)"
            ),
            |imp: &Implementation| {
                let (w, _) = drawn(123, |g| (imp.self_attention_v1_weights)(3, 2, g));
                Out::Matrix((imp.self_attention_v1)(&inputs(), &w)).into()
            },
        )
        .book("s3_4_2_sa_v1_output", plain),
        Probe::new(
            text!(
                "the forward pass on random (4 × 3) inputs with given (3 × 2) weights",
                "주어진 (3 × 2) 가중치로 무작위 (4 × 3) 입력을 계산한 정방향 결과"
            ),
            move |imp: &Implementation| Out::Matrix((imp.self_attention_v1)(&x2, &w2)).into(),
        )
        .input(text!("x", "x"), &x)
        .input(text!("W_query", "W_query"), &w[0])
        .input(text!("W_key", "W_key"), &w[1])
        .input(text!("W_value", "W_value"), &w[2]),
    ])
}

/// The layers as a result, with the draws it took to make them.
fn layers_got(layers: &[Linear], draws: u64) -> Got {
    Got {
        out: Out::Layers(layers.to_vec()),
        draws: Some(draws),
    }
}

pub(crate) fn self_attention_v2(c: &Ctx) -> Outcome {
    let x = random(14, 4, 3, -1.0, 1.0);
    let square = reference::self_attention_v2_layers(3, 3, true, &mut TorchRng::manual_seed(15));
    let narrow = reference::self_attention_v2_layers(3, 2, true, &mut TorchRng::manual_seed(16));
    let (xa, xb, sq, na) = (x.clone(), x.clone(), square.clone(), narrow.clone());
    c.probes([
        Probe::new(
            text!(
                "[W_query, W_key, W_value] of SelfAttention_v2(3, 2) after torch.manual_seed(789)",
                "torch.manual_seed(789) 다음 SelfAttention_v2(3, 2)의 [W_query, W_key, W_value]"
            ),
            |imp: &Implementation| {
                let (l, draws) = drawn(789, |g| (imp.self_attention_v2_layers)(3, 2, false, g));
                layers_got(&l, draws)
            },
        ),
        Probe::new(
            text!(
                "SelfAttention_v2(3, 3, qkv_bias=True) on random (4 × 3) inputs",
                "무작위 (4 × 3) 입력에 대한 SelfAttention_v2(3, 3, qkv_bias=True)"
            ),
            move |imp: &Implementation| Out::Matrix((imp.self_attention_v2)(&xa, &sq)).into(),
        )
        .input(text!("x", "x"), &x),
        Probe::new(
            text!(
                "SelfAttention_v2(3, 2) on the 6 inputs",
                "입력 6개에 대한 SelfAttention_v2(3, 2)"
            ),
            |imp: &Implementation| {
                let (l, _) = drawn(789, |g| (imp.self_attention_v2_layers)(3, 2, false, g));
                Out::Matrix((imp.self_attention_v2)(&inputs(), &l)).into()
            },
        )
        .book("s3_4_2_sa_v2_output", plain),
        Probe::new(
            text!(
                "SelfAttention_v2(3, 2, qkv_bias=True) on random (4 × 3) inputs",
                "무작위 (4 × 3) 입력에 대한 SelfAttention_v2(3, 2, qkv_bias=True)"
            ),
            move |imp: &Implementation| Out::Matrix((imp.self_attention_v2)(&xb, &na)).into(),
        )
        .input(text!("x", "x"), &x),
    ])
}

/// The wrong formulas of section 3.4's misconceptions.
pub(crate) mod wrong {
    use super::*;
    use crate::normalize::softmax_rows;
    use crate::torch::matmul;

    /// `softmax(Q Kᵀ / scale) V`, with the softmax over rows (or over columns).
    fn attend(
        q: &DMatrix<f32>,
        k: &DMatrix<f32>,
        v: &DMatrix<f32>,
        scale: f32,
        columns: bool,
    ) -> DMatrix<f32> {
        let s = matmul(q, &k.transpose()) / scale;
        let w = if columns {
            softmax_rows(&s.transpose()).transpose()
        } else {
            softmax_rows(&s)
        };
        matmul(&w, v)
    }

    /// v1's forward with the scale `scale(tokens, d_k)` and the softmax axis.
    fn v1_with(
        x: &DMatrix<f32>,
        w: &[DMatrix<f32>; 3],
        scale: fn(usize, usize) -> f32,
        columns: bool,
    ) -> DMatrix<f32> {
        let (q, k, v) = (matmul(x, &w[0]), matmul(x, &w[1]), matmul(x, &w[2]));
        attend(&q, &k, &v, scale(x.nrows(), k.ncols()), columns)
    }

    /// `W_key` drawn first, then `W_query`, then `W_value`.
    pub fn v1_keys_first(d_in: usize, d_out: usize, rng: &mut TorchRng) -> [DMatrix<f32>; 3] {
        let w_key = rng.rand(d_in, d_out);
        let w_query = rng.rand(d_in, d_out);
        let w_value = rng.rand(d_in, d_out);
        [w_query, w_key, w_value]
    }

    /// No division by √d_k.
    pub fn v1_unscaled(x: &DMatrix<f32>, w: &[DMatrix<f32>; 3]) -> DMatrix<f32> {
        v1_with(x, w, |_, _| 1.0, false)
    }

    /// The softmax over columns.
    pub fn v1_columns(x: &DMatrix<f32>, w: &[DMatrix<f32>; 3]) -> DMatrix<f32> {
        v1_with(x, w, |_, d_k| (d_k as f32).sqrt(), true)
    }

    /// Divided by √(number of tokens).
    pub fn v1_by_tokens(x: &DMatrix<f32>, w: &[DMatrix<f32>; 3]) -> DMatrix<f32> {
        v1_with(x, w, |t, _| (t as f32).sqrt(), false)
    }

    /// Divided by d_k instead of √d_k.
    pub fn v1_by_d_k(x: &DMatrix<f32>, w: &[DMatrix<f32>; 3]) -> DMatrix<f32> {
        v1_with(x, w, |_, d_k| d_k as f32, false)
    }

    /// `x W + b`: the weight not transposed.
    fn x_w(l: &Linear, x: &DMatrix<f32>) -> DMatrix<f32> {
        let mut y = matmul(x, l.weight());
        if let Some(b) = l.bias() {
            for (mut col, b_j) in y.column_iter_mut().zip(b.iter()) {
                col.add_scalar_mut(*b_j);
            }
        }
        y
    }

    /// v2's forward with `x W` instead of `x Wᵀ`.
    pub fn v2_x_w(x: &DMatrix<f32>, l: &[Linear; 3]) -> DMatrix<f32> {
        let (q, k, v) = (x_w(&l[0], x), x_w(&l[1], x), x_w(&l[2], x));
        let d_k = (k.ncols() as f32).sqrt();
        attend(&q, &k, &v, d_k, false)
    }

    /// v2's forward without the biases.
    pub fn v2_no_bias(x: &DMatrix<f32>, l: &[Linear; 3]) -> DMatrix<f32> {
        let [q, k, v] = [0, 1, 2].map(|i| matmul(x, &l[i].weight().transpose()));
        attend(&q, &k, &v, (k.ncols() as f32).sqrt(), false)
    }

    /// v2's forward without the scaling.
    pub fn v2_unscaled(x: &DMatrix<f32>, l: &[Linear; 3]) -> DMatrix<f32> {
        let [q, k, v] = [0, 1, 2].map(|i| l[i].apply(x));
        attend(&q, &k, &v, 1.0, false)
    }

    /// v2's forward with the softmax over columns.
    pub fn v2_columns(x: &DMatrix<f32>, l: &[Linear; 3]) -> DMatrix<f32> {
        let [q, k, v] = [0, 1, 2].map(|i| l[i].apply(x));
        attend(&q, &k, &v, (k.ncols() as f32).sqrt(), true)
    }

    /// `W_key` created first.
    pub fn v2_keys_first(d_in: usize, d_out: usize, bias: bool, rng: &mut TorchRng) -> [Linear; 3] {
        let w_key = Linear::new(d_in, d_out, bias, rng);
        let w_query = Linear::new(d_in, d_out, bias, rng);
        let w_value = Linear::new(d_in, d_out, bias, rng);
        [w_query, w_key, w_value]
    }
}
