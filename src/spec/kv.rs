//! Beyond section 3.6: the KV cache. The check of one decoding step (module
//! [`kv_cache`](crate::kv_cache)): a sequence decoded token by token with the learner's step must
//! give the full causal forward's rows (the book's `MultiHeadAttention` output among them), and
//! the wrong formulas ([`wrong`]) of its misconceptions.

use nalgebra::DMatrix;

use super::facts::{book_batch, random};
use super::probe::{Ctx, Out, Outcome, Probe};
use super::text::text;
use super::{Implementation, reference};
use crate::{Linear, TorchRng};

/// Printed as the notebook prints it: the tensor alone.
fn plain(out: &Out) -> String {
    out.torch()
}

/// The step's signature: token, layers, heads, the caches of keys and values.
type Step = fn(
    &DMatrix<f32>,
    &[Linear; 4],
    usize,
    &mut [DMatrix<f32>],
    &mut [DMatrix<f32>],
) -> DMatrix<f32>;

/// Empty caches: `num_heads` matrices of `(0 × head_dim)` for the keys, the same for the values.
fn empty_caches(layers: &[Linear; 4], num_heads: usize) -> (Vec<DMatrix<f32>>, Vec<DMatrix<f32>>) {
    let head_dim = layers[0].out_features() / num_heads;
    let empty = vec![DMatrix::zeros(0, head_dim); num_heads];
    (empty.clone(), empty)
}

/// Tokens `from..` of `x` decoded one at a time with `step` on the given caches: their output
/// rows, `(tokens − from) × d_out`. A step that returns no row or a row of another width is
/// shown as it is: the rows are stacked as far as they go, the rest left at 0.
fn decode(
    step: Step,
    x: &DMatrix<f32>,
    from: usize,
    layers: &[Linear; 4],
    num_heads: usize,
    caches: (&mut [DMatrix<f32>], &mut [DMatrix<f32>]),
) -> Vec<DMatrix<f32>> {
    let (keys, values) = caches;
    (from..x.nrows())
        .map(|t| step(&x.rows(t, 1).into_owned(), layers, num_heads, keys, values))
        .collect()
}

/// The output rows of one sequence stacked into a `(tokens × d_out)` matrix, or left as the
/// list of rows when they are not all `(1 × d_out)` (the verdict then names the shapes).
fn stacked(rows: Vec<DMatrix<f32>>) -> Out {
    let width = rows.first().map_or(0, DMatrix::ncols);
    if rows.iter().all(|r| r.shape() == (1, width)) {
        Out::Matrix(DMatrix::from_fn(rows.len(), width, |i, j| rows[i][(0, j)]))
    } else {
        Out::Batch(rows)
    }
}

/// A whole sequence decoded from empty caches with `step`.
fn decoded(step: Step, x: &DMatrix<f32>, layers: &[Linear; 4], num_heads: usize) -> Out {
    let (mut keys, mut values) = empty_caches(layers, num_heads);
    stacked(decode(
        step,
        x,
        0,
        layers,
        num_heads,
        (&mut keys, &mut values),
    ))
}

pub(crate) fn kv_decode_step(c: &Ctx) -> Outcome {
    let book_layers =
        reference::multi_head_attention_layers(3, 2, false, &mut TorchRng::manual_seed(123));
    let four = reference::multi_head_attention_layers(3, 8, true, &mut TorchRng::manual_seed(36));
    let x4 = random(37, 5, 3, -1.0, 1.0);
    let three = reference::multi_head_attention_layers(4, 6, false, &mut TorchRng::manual_seed(38));
    let x3 = random(39, 6, 4, -1.0, 1.0);
    let (x4_shown, x3_shown) = (x4.clone(), x3.clone());
    c.probes([
        Probe::new(
            text!(
                "MultiHeadAttention(3, 2, 6, 0.0, num_heads=2) after torch.manual_seed(123), the book's batch decoded one token at a time",
                "torch.manual_seed(123) 다음 만든 MultiHeadAttention(3, 2, 6, 0.0, num_heads=2)으로 책의 배치를 토큰 하나씩 디코딩"
            ),
            move |imp: &Implementation| {
                let items: Vec<DMatrix<f32>> = book_batch()
                    .iter()
                    .map(|x| match decoded(imp.kv_decode_step, x, &book_layers, 2) {
                        Out::Matrix(m) => m,
                        _ => DMatrix::zeros(0, 0), // rows of the wrong shape: not a tensor
                    })
                    .collect();
                Out::Batch(items).into()
            },
        )
        .book("s3_6_2_mha_context_vecs", plain),
        Probe::new(
            text!(
                "MultiHeadAttention(3, 8, qkv_bias=True), 4 heads of 2, layers after torch.manual_seed(36), 5 random tokens decoded one at a time",
                "torch.manual_seed(36) 다음 만든 층의 MultiHeadAttention(3, 8, qkv_bias=True), 너비 2인 헤드 4개로 무작위 토큰 5개를 하나씩 디코딩"
            ),
            move |imp: &Implementation| decoded(imp.kv_decode_step, &x4, &four, 4).into(),
        )
        .input(text!("tokens", "토큰"), &x4_shown),
        Probe::new(
            text!(
                "MultiHeadAttention(4, 6), 3 heads of 2, layers after torch.manual_seed(38): tokens 0 to 2 cached by the reference, then tokens 3 to 5 decoded by your step",
                "torch.manual_seed(38) 다음 만든 층의 MultiHeadAttention(4, 6), 너비 2인 헤드 3개: 토큰 0–2는 기준 구현이 캐시에 넣고, 토큰 3–5는 여러분의 단계로 디코딩"
            ),
            move |imp: &Implementation| {
                let (mut keys, mut values) = empty_caches(&three, 3);
                let first = x3.rows(0, 3).into_owned();
                let step: Step = reference::kv_decode_step;
                decode(step, &first, 0, &three, 3, (&mut keys, &mut values));
                stacked(decode(imp.kv_decode_step, &x3, 3, &three, 3, (&mut keys, &mut values))).into()
            },
        )
        .input(text!("tokens", "토큰"), &x3_shown),
    ])
}

/// The wrong formulas of the KV cache's misconceptions.
pub(crate) mod wrong {
    use super::*;
    use crate::kv_cache::{attend_cache, cat_rows};
    use crate::normalize::softmax_rows;
    use crate::torch::matmul;

    /// A decoding step with a twist: when the new key and value join the cache, how the scores
    /// are masked and scaled, and whether out_proj is applied.
    struct StepWith {
        append_first: bool,
        square_mask: bool,
        scale_by_d_out: bool,
        out_proj: bool,
    }

    const BOOK: StepWith = StepWith {
        append_first: true,
        square_mask: false,
        scale_by_d_out: false,
        out_proj: true,
    };

    impl StepWith {
        fn step(
            &self,
            token: &DMatrix<f32>,
            l: &[Linear; 4],
            n: usize,
            keys: &mut [DMatrix<f32>],
            values: &mut [DMatrix<f32>],
        ) -> DMatrix<f32> {
            let position = keys[0].nrows();
            let [q, k, v] = [0, 1, 2].map(|i| reference::split_heads(&l[i].apply(token), n));
            let d_out = l[0].out_features();
            let heads: Vec<DMatrix<f32>> = (0..n)
                .map(|h| {
                    let append = |keys: &mut [DMatrix<f32>], values: &mut [DMatrix<f32>]| {
                        keys[h] = cat_rows(&keys[h], &k[h]);
                        values[h] = cat_rows(&values[h], &v[h]);
                    };
                    if self.append_first {
                        append(keys, values);
                    }
                    let out = if self.square_mask || self.scale_by_d_out {
                        let scores = matmul(&q[h], &keys[h].transpose()); // (1, cached)
                        let w = if self.square_mask {
                            crate::causal::causal_attn_weights(&scores, q[h].ncols())
                        } else {
                            softmax_rows(&(scores / (d_out as f32).sqrt()))
                        };
                        matmul(&w, &values[h])
                    } else {
                        attend_cache(&q[h], &keys[h], &values[h], Some(position))
                    };
                    if !self.append_first {
                        append(keys, values);
                    }
                    out
                })
                .collect();
            reference::heads_out(&heads, l, self.out_proj)
        }
    }

    /// The wrong steps, one per twist: each is [`BOOK`] with one field changed.
    macro_rules! twisted_steps {
        ($($(#[$doc:meta])* $name:ident: $field:ident = $value:expr;)*) => {$(
            $(#[$doc])*
            pub const $name: Step =
                |t, l, n, k, v| StepWith { $field: $value, ..BOOK }.step(t, l, n, k, v);
        )*};
    }

    twisted_steps! {
        /// The new key and value appended after attending.
        APPENDED_AFTER_ATTENDING: append_first = false;
        /// The full forward's causal mask applied to the one new row.
        SQUARE_MASK_ON_ONE_ROW: square_mask = true;
        /// Scaled by √d_out instead of √head_dim.
        SCALED_BY_D_OUT: scale_by_d_out = true;
        /// No out_proj.
        NO_OUT_PROJ: out_proj = false;
    }
}
