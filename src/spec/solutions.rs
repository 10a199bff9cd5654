//! The chapter's exercises 3.1, 3.2 and 3.3: their checks, and the wrong formulas ([`wrong`]) of
//! their misconceptions.

use nalgebra::{DMatrix, DVector};

use super::probe::{Ctx, Out, Outcome, Probe};
use super::text::text;
use super::{Implementation, reference};
use crate::inputs::inputs;
use crate::{Linear, TorchRng};

/// Printed as the notebook prints it: the tensor alone.
fn plain(out: &Out) -> String {
    out.torch()
}

pub(crate) fn exercise_3_1(c: &Ctx) -> Outcome {
    let book = reference::self_attention_v2_layers(3, 2, false, &mut TorchRng::manual_seed(123));
    let wide = reference::self_attention_v2_layers(4, 3, false, &mut TorchRng::manual_seed(35));
    let (b1, b2) = (book.clone(), book);
    c.probe(Probe::new(
        text!(
            "v1's [W_query, W_key, W_value] from SelfAttention_v2(3, 2)'s layers, seed 123",
            "시드 123 SelfAttention_v2(3, 2)의 층에서 얻은 v1의 [W_query, W_key, W_value]"
        ),
        move |imp: &Implementation| Out::Batch((imp.v1_weights_from_v2)(&b1).to_vec()).into(),
    ))?;
    c.probe(Probe::new(
        text!(
            "v1's weights from SelfAttention_v2(4, 3)'s layers, seed 35",
            "시드 35 SelfAttention_v2(4, 3)의 층에서 얻은 v1의 가중치"
        ),
        move |imp: &Implementation| Out::Batch((imp.v1_weights_from_v2)(&wide).to_vec()).into(),
    ))?;
    if !c.all_right() {
        return Ok(()); // with weights of the wrong shape, the book's forward pass cannot run
    }
    c.probe(
        Probe::new(
            text!(
                "SelfAttention_v1 holding your weights, on the 6 inputs",
                "여러분의 가중치를 넣은 SelfAttention_v1을 입력 6개에 적용한 결과"
            ),
            move |imp: &Implementation| {
                let w = (imp.v1_weights_from_v2)(&b2);
                Out::Matrix(reference::self_attention_v1(&inputs(), &w)).into()
            },
        )
        .book("exercise_3_1_sa_v1", plain),
    )
}

pub(crate) fn exercise_3_2(c: &Ctx) -> Outcome {
    c.probe(
        Probe::new(
            text!(
                "your exercise 3.2: the wrapper's context vectors on the book's batch",
                "여러분의 연습문제 3.2: 책의 배치에 대한 래퍼의 문맥 벡터"
            ),
            |imp: &Implementation| Out::Batch((imp.exercise_3_2)()).into(),
        )
        .book("exercise_3_2_context_vecs", plain),
    )
}

/// Counts as a vector (each well below 2²⁴, so exact in f32).
fn counts(imp: &Implementation, cases: &[(usize, usize, usize, bool)]) -> Out {
    let n: Vec<f32> = cases
        .iter()
        .map(|&(d_in, d_out, heads, bias)| (imp.num_parameters)(d_in, d_out, heads, bias) as f32)
        .collect();
    Out::Vector(DVector::from_vec(n))
}

pub(crate) fn exercise_3_3(c: &Ctx) -> Outcome {
    c.probes([
        Probe::new(
            text!(
                "the parameters of MultiHeadAttention(768, 768, num_heads=12, qkv_bias=False)",
                "MultiHeadAttention(768, 768, num_heads=12, qkv_bias=False)의 파라미터 개수"
            ),
            |imp: &Implementation| Out::Count((imp.num_parameters)(768, 768, 12, false)).into(),
        )
        .book("exercise_3_3_num_parameters", plain),
        Probe::new(
            text!(
                "the parameters of MultiHeadAttention(d_in, d_out, num_heads, qkv_bias) for (3, 2, 2, True), (8, 4, 2, False), (5, 6, 3, True)",
                "(3, 2, 2, True), (8, 4, 2, False), (5, 6, 3, True)일 때 MultiHeadAttention(d_in, d_out, num_heads, qkv_bias)의 파라미터 개수"
            ),
            |imp: &Implementation| {
                counts(imp, &[(3, 2, 2, true), (8, 4, 2, false), (5, 6, 3, true)]).into()
            },
        ),
    ])
}

/// The wrong formulas of the exercises' misconceptions.
pub(crate) mod wrong {
    use super::*;

    /// v2's weights as they are, `(d_out × d_in)`.
    pub fn not_transposed(l: &[Linear; 3]) -> [DMatrix<f32>; 3] {
        [0, 1, 2].map(|i| l[i].weight().clone())
    }

    /// Transposed, but W_query and W_key swapped.
    pub fn query_key_swapped(l: &[Linear; 3]) -> [DMatrix<f32>; 3] {
        [1, 0, 2].map(|i| l[i].weight().transpose())
    }

    /// Exercise 3.2 with heads 2 wide (d_out = 2): the output is 4 wide.
    pub fn heads_too_wide() -> Vec<DMatrix<f32>> {
        wrapper(2)
    }

    /// The book's wrapper of `d_out`-wide heads on the book's batch, seed 123.
    fn wrapper(d_out: usize) -> Vec<DMatrix<f32>> {
        let heads = super::super::s3_6::heads(123, 2, 3, d_out, false);
        let x = inputs();
        reference::multi_head_wrapper(&[x.clone(), x], &heads)
    }

    /// Exercise 3.2 answered with `MultiHeadAttention(3, 2, 6, 0.0, num_heads=2)`.
    pub fn multi_head_attention_instead() -> Vec<DMatrix<f32>> {
        let layers =
            reference::multi_head_attention_layers(3, 2, false, &mut TorchRng::manual_seed(123));
        let x = inputs();
        reference::multi_head_attention(&[x.clone(), x], &layers, 2)
    }

    /// W_query, W_key, W_value counted, out_proj forgotten.
    pub fn params_no_out_proj(d_in: usize, d_out: usize, _h: usize, bias: bool) -> usize {
        3 * (d_in * d_out + if bias { d_out } else { 0 })
    }

    /// out_proj counted without its bias.
    pub fn params_out_proj_no_bias(d_in: usize, d_out: usize, _h: usize, bias: bool) -> usize {
        3 * (d_in * d_out + if bias { d_out } else { 0 }) + d_out * d_out
    }

    /// The biases of W_query, W_key, W_value counted although qkv_bias is false.
    pub fn params_qkv_bias_always(d_in: usize, d_out: usize, _h: usize, _bias: bool) -> usize {
        3 * (d_in * d_out + d_out) + d_out * d_out + d_out
    }

    /// The projections counted once per head.
    pub fn params_per_head(d_in: usize, d_out: usize, h: usize, bias: bool) -> usize {
        h * 3 * (d_in * d_out + if bias { d_out } else { 0 }) + d_out * d_out + d_out
    }
}
