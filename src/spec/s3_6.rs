//! Section 3.6: multi-head attention: the checks of the wrapper, the head split and
//! `MultiHeadAttention`, and the wrong formulas ([`wrong`]) of their misconceptions.

use nalgebra::DMatrix;

use super::facts::{book_batch, random};
use super::probe::{Ctx, Got, Out, Outcome, Probe};
use super::text::text;
use super::{Implementation, reference};
use crate::{Linear, TorchRng};

/// Printed as the notebook prints it: the tensor alone.
fn plain(out: &Out) -> String {
    out.torch()
}

/// `n` heads of `Linear(d_in, d_out, bias)` layers, created head by head after `seed`.
pub(crate) fn heads(
    seed: u64,
    n: usize,
    d_in: usize,
    d_out: usize,
    bias: bool,
) -> Vec<[Linear; 3]> {
    let mut g = TorchRng::manual_seed(seed);
    (0..n)
        .map(|_| reference::self_attention_v2_layers(d_in, d_out, bias, &mut g))
        .collect()
}

pub(crate) fn multi_head_wrapper(c: &Ctx) -> Outcome {
    let batch = vec![random(26, 4, 3, -1.0, 1.0), random(27, 4, 3, -1.0, 1.0)];
    let b = batch.clone();
    c.probes([
        Probe::new(
            text!(
                "MultiHeadAttentionWrapper(3, 2, 6, 0.0, num_heads=2) on the book's batch, seed 123",
                "책의 배치에 MultiHeadAttentionWrapper(3, 2, 6, 0.0, num_heads=2), 시드 123"
            ),
            |imp: &Implementation| {
                Out::Batch((imp.multi_head_wrapper)(&book_batch(), &heads(123, 2, 3, 2, false))).into()
            },
        )
        .book("s3_6_1_wrapper_context_vecs", plain),
        Probe::new(
            text!(
                "3 heads of Linear(3, 2, bias=True), seed 25, on a random batch of 2 × (4 × 3)",
                "무작위 2 × (4 × 3) 배치에 Linear(3, 2, bias=True) 헤드 3개, 시드 25"
            ),
            move |imp: &Implementation| {
                Out::Batch((imp.multi_head_wrapper)(&b, &heads(25, 3, 3, 2, true))).into()
            },
        )
        .input(text!("batch", "배치"), &batch),
    ])
}

pub(crate) fn split_heads(c: &Ctx) -> Outcome {
    let cases = [(28, 3, 6, 3), (29, 2, 8, 2), (30, 2, 4, 1)];
    c.probes(cases.map(|(seed, tokens, d_out, num_heads)| {
        let m = random(seed, tokens, d_out, -1.0, 1.0);
        let m2 = m.clone();
        Probe::new(
            text!(
                "a ({t} × {d}) matrix split into {h} heads",
                "({t} × {d}) 행렬을 헤드 {h}개로 나눈 결과",
                t = tokens,
                d = d_out,
                h = num_heads,
            ),
            move |imp: &Implementation| Out::Batch((imp.split_heads)(&m2, num_heads)).into(),
        )
        .input(text!("m", "m"), &m)
    }))
}

/// MultiHeadAttention's layers made after `seed`, and what they drew.
fn mha_layers(
    imp: &Implementation,
    seed: u64,
    d_in: usize,
    d_out: usize,
    bias: bool,
) -> ([Linear; 4], u64) {
    let mut g = TorchRng::manual_seed(seed);
    let layers = (imp.multi_head_attention_layers)(d_in, d_out, bias, &mut g);
    (layers, g.draw_count())
}

pub(crate) fn multi_head_attention(c: &Ctx) -> Outcome {
    let batch = vec![random(31, 4, 3, -1.0, 1.0), random(32, 4, 3, -1.0, 1.0)];
    let two = reference::multi_head_attention_layers(3, 4, true, &mut TorchRng::manual_seed(33));
    let four = reference::multi_head_attention_layers(3, 8, false, &mut TorchRng::manual_seed(34));
    let (b2, b4) = (batch.clone(), batch.clone());
    c.probes([
        Probe::new(
            text!(
                "[W_query, W_key, W_value, out_proj] of MultiHeadAttention(3, 2) after torch.manual_seed(123)",
                "torch.manual_seed(123) 다음 MultiHeadAttention(3, 2)의 [W_query, W_key, W_value, out_proj]"
            ),
            |imp: &Implementation| {
                let (layers, draws) = mha_layers(imp, 123, 3, 2, false);
                Got { out: Out::Layers(layers.to_vec()), draws: Some(draws) }
            },
        ),
        Probe::new(
            text!(
                "MultiHeadAttention(3, 4, qkv_bias=True), 2 heads of 2, layers after torch.manual_seed(33), on a random batch of 2 × (4 × 3)",
                "무작위 2 × (4 × 3) 배치에 torch.manual_seed(33) 다음 만든 층의 MultiHeadAttention(3, 4, qkv_bias=True), 너비 2인 헤드 2개"
            ),
            move |imp: &Implementation| Out::Batch((imp.multi_head_attention)(&b2, &two, 2)).into(),
        )
        .input(text!("batch", "배치"), &batch),
        Probe::new(
            text!(
                "MultiHeadAttention(3, 8), 4 heads of 2, layers after torch.manual_seed(34), on a random batch of 2 × (4 × 3)",
                "무작위 2 × (4 × 3) 배치에 torch.manual_seed(34) 다음 만든 층의 MultiHeadAttention(3, 8), 너비 2인 헤드 4개"
            ),
            move |imp: &Implementation| Out::Batch((imp.multi_head_attention)(&b4, &four, 4)).into(),
        )
        .input(text!("batch", "배치"), &batch),
        Probe::new(
            text!(
                "MultiHeadAttention(3, 2, 6, 0.0, num_heads=2) on the book's batch, with your layers after seed 123",
                "책의 배치에 MultiHeadAttention(3, 2, 6, 0.0, num_heads=2), 시드 123 다음 여러분이 만든 층으로"
            ),
            |imp: &Implementation| {
                let (layers, _) = mha_layers(imp, 123, 3, 2, false);
                Out::Batch((imp.multi_head_attention)(&book_batch(), &layers, 2)).into()
            },
        )
        .book("s3_6_2_mha_context_vecs", plain),
    ])
}

/// The wrong formulas of section 3.6's misconceptions.
pub(crate) mod wrong {
    use super::*;
    use crate::multihead::concat_heads;
    use crate::normalize::softmax_rows;
    use crate::torch::matmul;

    /// Every item's head outputs `(heads, b, T, d)` with one causal head per layer triple.
    fn per_head(b: &[DMatrix<f32>], heads: &[[Linear; 3]]) -> Vec<Vec<DMatrix<f32>>> {
        heads
            .iter()
            .map(|h| reference::causal_attention(b, h, 0.0, false, &mut TorchRng::manual_seed(0)))
            .collect()
    }

    /// The heads side by side, last head first.
    pub fn heads_reversed(b: &[DMatrix<f32>], heads: &[[Linear; 3]]) -> Vec<DMatrix<f32>> {
        let outs = per_head(b, heads);
        (0..b.len())
            .map(|i| concat_heads(&outs.iter().rev().map(|h| h[i].clone()).collect::<Vec<_>>()))
            .collect()
    }

    /// The heads averaged instead of put side by side.
    pub fn heads_averaged(b: &[DMatrix<f32>], heads: &[[Linear; 3]]) -> Vec<DMatrix<f32>> {
        let outs = per_head(b, heads);
        (0..b.len())
            .map(|i| outs.iter().map(|h| &h[i]).sum::<DMatrix<f32>>() / outs.len() as f32)
            .collect()
    }

    /// Only the first head.
    pub fn first_head_only(b: &[DMatrix<f32>], heads: &[[Linear; 3]]) -> Vec<DMatrix<f32>> {
        per_head(b, &heads[..1]).remove(0)
    }

    /// Head `h` takes every `num_heads`-th column, starting at `h`.
    pub fn interleaved(m: &DMatrix<f32>, num_heads: usize) -> Vec<DMatrix<f32>> {
        let head_dim = m.ncols() / num_heads;
        (0..num_heads)
            .map(|h| DMatrix::from_fn(m.nrows(), head_dim, |i, j| m[(i, h + j * num_heads)]))
            .collect()
    }

    /// The heads in reverse order (head 0 takes the last columns).
    pub fn split_reversed(m: &DMatrix<f32>, num_heads: usize) -> Vec<DMatrix<f32>> {
        let mut heads = reference::split_heads(m, num_heads);
        heads.reverse();
        heads
    }

    /// Multi-head attention with a twist: how the heads are split, the scale, the mask, the
    /// softmax axis, out_proj.
    struct Mha {
        split: fn(&DMatrix<f32>, usize) -> Vec<DMatrix<f32>>,
        scale: fn(usize, usize) -> f32,
        masked: bool,
        columns: bool,
        out_proj: bool,
    }

    const BOOK: Mha = Mha {
        split: reference::split_heads,
        scale: |head_dim, _| (head_dim as f32).sqrt(),
        masked: true,
        columns: false,
        out_proj: true,
    };

    impl Mha {
        fn forward(&self, b: &[DMatrix<f32>], l: &[Linear; 4], n: usize) -> Vec<DMatrix<f32>> {
            b.iter()
                .map(|x| {
                    let [q, k, v] = [0, 1, 2].map(|i| (self.split)(&l[i].apply(x), n));
                    let d_out = l[0].out_features();
                    let heads: Vec<DMatrix<f32>> = (0..n)
                        .map(|h| {
                            let mut s = matmul(&q[h], &k[h].transpose());
                            if self.masked {
                                s = crate::causal::mask_future_with_neg_inf(&s);
                            }
                            let s = s / (self.scale)(k[h].ncols(), d_out);
                            let w = if self.columns {
                                softmax_rows(&s.transpose()).transpose()
                            } else {
                                softmax_rows(&s)
                            };
                            matmul(&w, &v[h])
                        })
                        .collect();
                    reference::heads_out(&heads, l, self.out_proj)
                })
                .collect()
        }
    }

    /// No out_proj.
    pub fn no_out_proj(b: &[DMatrix<f32>], l: &[Linear; 4], n: usize) -> Vec<DMatrix<f32>> {
        Mha {
            out_proj: false,
            ..BOOK
        }
        .forward(b, l, n)
    }

    /// Scaled by √d_out instead of √head_dim.
    pub fn scaled_by_d_out(b: &[DMatrix<f32>], l: &[Linear; 4], n: usize) -> Vec<DMatrix<f32>> {
        Mha {
            scale: |_, d_out| (d_out as f32).sqrt(),
            ..BOOK
        }
        .forward(b, l, n)
    }

    /// Heads from interleaved columns.
    pub fn mha_interleaved(b: &[DMatrix<f32>], l: &[Linear; 4], n: usize) -> Vec<DMatrix<f32>> {
        Mha {
            split: interleaved,
            ..BOOK
        }
        .forward(b, l, n)
    }

    /// No scaling.
    pub fn mha_unscaled(b: &[DMatrix<f32>], l: &[Linear; 4], n: usize) -> Vec<DMatrix<f32>> {
        Mha {
            scale: |_, _| 1.0,
            ..BOOK
        }
        .forward(b, l, n)
    }

    /// No causal mask.
    pub fn mha_unmasked(b: &[DMatrix<f32>], l: &[Linear; 4], n: usize) -> Vec<DMatrix<f32>> {
        Mha {
            masked: false,
            ..BOOK
        }
        .forward(b, l, n)
    }

    /// The softmax over columns.
    pub fn mha_columns(b: &[DMatrix<f32>], l: &[Linear; 4], n: usize) -> Vec<DMatrix<f32>> {
        Mha {
            columns: true,
            ..BOOK
        }
        .forward(b, l, n)
    }

    /// out_proj created first.
    pub fn out_proj_first(
        d_in: usize,
        d_out: usize,
        bias: bool,
        rng: &mut TorchRng,
    ) -> [Linear; 4] {
        let out_proj = Linear::new(d_out, d_out, true, rng);
        let [w_query, w_key, w_value] = reference::self_attention_v2_layers(d_in, d_out, bias, rng);
        [w_query, w_key, w_value, out_proj]
    }

    /// out_proj without its bias.
    pub fn out_proj_without_bias(
        d_in: usize,
        d_out: usize,
        bias: bool,
        rng: &mut TorchRng,
    ) -> [Linear; 4] {
        let [w_query, w_key, w_value] = reference::self_attention_v2_layers(d_in, d_out, bias, rng);
        let out_proj = Linear::new(d_out, d_out, false, rng);
        [w_query, w_key, w_value, out_proj]
    }
}
