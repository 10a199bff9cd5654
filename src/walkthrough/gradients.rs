//! "Gradients": the backward passes against PyTorch's autograd, and the mask's exact zeros,
//! measured (module [`gradients`](crate::gradients)).

use nalgebra::DMatrix;

use super::torch_values::{GRADS_CAUSAL_EVAL, GRADS_CAUSAL_TRAIN, GRADS_MHA_EVAL, GRADS_MHA_TRAIN};
use super::{Item, Section};
use crate::gradients::jacobian::token_blocks;
use crate::gradients::{AttentionGrads, Tape, cosine_upstream};
use crate::inputs::inputs;
use crate::{CausalAttention, Error, MultiHeadAttention, SelfAttentionV2, TorchRng};

/// `f32`'s unit roundoff, `2⁻²⁴`.
const U: f64 = f32::EPSILON as f64 / 2.0;

pub(super) fn sections() -> Result<Vec<Section>, Error> {
    let batch = [inputs(), inputs()];
    let d_output = cosine_upstream(2, 6, 2);
    // Training mode draws the dropout mask right after the parameters, as the script does.
    let mut rng = TorchRng::manual_seed(123);
    let ca = CausalAttention::new(3, 2, 6, 0.5, false, &mut rng)?;
    let causal_eval = Tape::causal(&ca, &batch, None)?.backward(&d_output)?;
    let causal_train = Tape::causal(&ca, &batch, Some(&mut rng))?.backward(&d_output)?;
    let mut rng = TorchRng::manual_seed(123);
    let mha = MultiHeadAttention::new(3, 2, 6, 0.5, 2, false, &mut rng)?;
    let mha_eval = Tape::multi_head(&mha, &batch, None)?.backward(&d_output)?;
    let mha_train = Tape::multi_head(&mha, &batch, Some(&mut rng))?.backward(&d_output)?;
    let grads = [causal_eval, causal_train, mha_eval, mha_train];
    // The longest chain of f32 reductions (tests/gradients.rs): forward d_in + head_dim + 2T
    // (+ d_out for out_proj), backward (d_out) + 2T + head_dim + batch·T + d_out.
    let chain_causal = (3 + 2 + 2 * 6) + (2 * 6 + 2 + 2 * 6 + 2); // (2 + 2 = 2 · 2: reordered)
    let chain_mha = (3 + 1 + 2 * 6 + 2) + (2 + 2 * 6 + 1 + 2 * 6 + 2);
    let cases = [
        (
            "CausalAttention (seed 123), evaluation mode",
            &GRADS_CAUSAL_EVAL[..],
            chain_causal,
        ),
        (
            "CausalAttention, training mode: PyTorch's dropout mask",
            &GRADS_CAUSAL_TRAIN[..],
            chain_causal,
        ),
        (
            "MultiHeadAttention (seed 123, 2 heads), evaluation mode",
            &GRADS_MHA_EVAL[..],
            chain_mha,
        ),
        (
            "MultiHeadAttention, training mode: PyTorch's dropout mask",
            &GRADS_MHA_TRAIN[..],
            chain_mha,
        ),
    ];
    let mut items = Vec::new();
    for ((what, recorded, chain), grads) in cases.into_iter().zip(&grads) {
        let error = error_vs_recorded(grads, recorded);
        let tol = 4.0 * U * f64::from(chain);
        items.push(Item::claim(
            "[autograd]",
            what,
            format!("largest |ours − PyTorch| = {error:.1e} of the gradient's scale"),
            format!("≤ 4·u·N = {tol:.1e} (N = {chain}, u = 2⁻²⁴; PyTorch 2.15.0)"),
            error <= tol,
        ));
    }

    // The mask's exact zeros, on the book's six tokens. Seed 789 gives SelfAttentionV2 and
    // CausalAttention the same three layers: only the mask differs.
    let v2 = SelfAttentionV2::new(3, 2, false, &mut TorchRng::manual_seed(789));
    let ca = CausalAttention::new(3, 2, 6, 0.0, false, &mut TorchRng::manual_seed(789))?;
    let masked_tape = Tape::causal(&ca, std::slice::from_ref(&inputs()), None)?;
    let unmasked_tape = Tape::self_attention_v2(&v2, &inputs())?;
    let blocks = token_blocks(&masked_tape, 0)?;
    let above: Vec<&DMatrix<f32>> = above_diagonal(&blocks);
    let nonzero_bits = above
        .iter()
        .flat_map(|b| b.iter())
        .filter(|v| v.to_bits() != 0)
        .count();
    items.push(Item::claim(
        "[mask]",
        "∂out_t/∂x_u for every later token u > t, under the causal mask",
        format!(
            "{} blocks, {} numbers, {nonzero_bits} with a nonzero bit",
            above.len(),
            above.iter().map(|b| b.len()).sum::<usize>()
        ),
        "every number +0, bit for bit".to_string(),
        nonzero_bits == 0,
    ));
    let unmasked = token_blocks(&unmasked_tape, 0)?;
    let unmasked_above = above_diagonal(&unmasked);
    let zero_blocks = unmasked_above
        .iter()
        .filter(|b| b.iter().all(|v| *v == 0.0))
        .count();
    let smallest = unmasked_above
        .iter()
        .map(|b| b.norm())
        .fold(f32::INFINITY, f32::min);
    items.push(Item::claim(
        "[mask]",
        "the same weights without the mask (SelfAttentionV2): ‖∂out_t/∂x_u‖ for u > t",
        format!(
            "{zero_blocks} of {} blocks zero; smallest norm = {smallest:.4}",
            unmasked_above.len()
        ),
        "none zero: every output depends on every input".to_string(),
        zero_blocks == 0,
    ));
    let d_scores = &masked_tape.backward(&cosine_upstream(1, 6, 2))?.attn_scores[0][0];
    let largest = (0..6)
        .flat_map(|t| ((t + 1)..6).map(move |u| (t, u)))
        .map(|(t, u)| d_scores[(t, u)].abs())
        .fold(0.0_f32, f32::max);
    items.push(Item::claim(
        "[mask]",
        "the gradient reaching the masked scores through the softmax",
        format!("largest |∂L/∂score| above the diagonal = {largest}"),
        "exactly 0 (each is a masked weight, 0, times something)".to_string(),
        largest == 0.0,
    ));
    Ok(vec![Section {
        id: "gradients",
        title: "Gradients: the backward pass, and the mask's exact zeros",
        items,
    }])
}

/// The blocks `(t, u)` with `u > t`, row by row.
fn above_diagonal(blocks: &[Vec<DMatrix<f32>>]) -> Vec<&DMatrix<f32>> {
    blocks
        .iter()
        .enumerate()
        .flat_map(|(t, row)| row.iter().skip(t + 1))
        .collect()
}

/// The largest `|ours − PyTorch|` over the recorded gradients, each divided by its layer's
/// scale (the largest recorded entry of the layer's weight and bias gradients).
fn error_vs_recorded(grads: &AttentionGrads, recorded: &[(&str, &str)]) -> f64 {
    let ours = |name: &str| -> Vec<f32> {
        let layer = match name.split('.').next() {
            Some("W_query") => &grads.w_query,
            Some("W_key") => &grads.w_key,
            Some("W_value") => &grads.w_value,
            _ => grads
                .out_proj
                .as_ref()
                .expect("recorded only for MultiHeadAttention"),
        };
        match name.ends_with(".bias") {
            true => layer
                .bias
                .as_ref()
                .map_or(Vec::new(), |b| b.as_slice().to_vec()),
            false => layer.weight.transpose().as_slice().to_vec(), // row-major
        }
    };
    let bits = |hex: &str| -> Vec<f32> {
        hex.split(' ')
            .map(|h| f32::from_bits(u32::from_str_radix(h, 16).expect("hex bit pattern")))
            .collect()
    };
    let layer_of = |name: &str| name.split('.').next().unwrap_or("").to_string();
    let mut worst = 0.0_f64;
    for (name, hex) in recorded {
        let scale = recorded
            .iter()
            .filter(|(other, _)| layer_of(other) == layer_of(name))
            .flat_map(|(_, h)| bits(h))
            .fold(0.0_f64, |a, v| a.max(f64::from(v).abs()));
        let error = ours(name).iter().zip(bits(hex)).fold(0.0_f64, |a, (o, t)| {
            a.max((f64::from(*o) - f64::from(t)).abs())
        });
        worst = worst.max(error / scale);
    }
    worst
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradients::LinearGrads;
    use nalgebra::DVector;

    fn linear(weight: &[f32], bias: Option<&[f32]>) -> LinearGrads {
        LinearGrads {
            weight: DMatrix::from_row_slice(weight.len() / 2, 2, weight),
            bias: bias.map(DVector::from_row_slice),
        }
    }

    /// Each error is divided by the scale of its own layer: here the bias of `out_proj` is off
    /// by 0.5 on a layer whose largest recorded entry is 2, so 0.25 (on `W_query`'s scale, 6,
    /// it would be 0.083).
    #[test]
    #[allow(deprecated)] // builds every field, the deprecated alias `inputs` too
    fn errors_are_measured_on_their_layers_scale() {
        let grads = AttentionGrads {
            x: Vec::new(),
            inputs: Vec::new(),
            w_query: linear(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], None),
            w_key: linear(&[0.0, 0.0], None),
            w_value: linear(&[0.0, 0.0], None),
            out_proj: Some(linear(&[2.0, 2.0, 2.0, 2.0], Some(&[0.0, 0.0]))),
            attn_scores: Vec::new(),
        };
        let recorded = [
            (
                "W_query.weight",
                "3f800000 40000000 40400000 40800000 40a00000 40c00000",
            ),
            ("W_key.weight", "00000000 00000000"),
            ("out_proj.weight", "40000000 40000000 40000000 40000000"),
            ("out_proj.bias", "3f000000 00000000"),
        ];
        assert_eq!(error_vs_recorded(&grads, &recorded), 0.25);
        assert_eq!(error_vs_recorded(&grads, &recorded[..2]), 0.0);
    }
}
