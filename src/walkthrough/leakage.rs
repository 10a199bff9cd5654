//! "Why the mask matters": the reader's two questions, answered by measurements.

use super::{Item, Section};
use crate::Error;
use crate::TorchRng;
use crate::leakage::chain::{VOCAB_SIZE, sample_sequences};
use crate::leakage::{TinyModel, default_report, one_hot_attn_weights};

pub(super) fn sections() -> Result<Vec<Section>, Error> {
    let r = default_report()?;
    let h = r.entropy_floor;
    let (m, u) = (&r.masked, &r.unmasked);
    let e = std::f64::consts::E;
    let one_hot = one_hot_attn_weights();
    let (diag, off) = (e / (e + 5.0), 1.0 / (e + 5.0));
    let one_hot_holds = (0..6).all(|i| {
        (0..6).all(|j| {
            let want = if i == j { diag } else { off };
            (f64::from(one_hot[(i, j)]) - want).abs() < 1e-6
        })
    });
    let grad_error = gradient_check_error()?;

    let items = vec![
        Item::claim(
            "[Q1]",
            "one-hot words: section 3.3's weights softmax(X·Xᵀ) carry no similarity",
            format!(
                "diagonal {:.4}, every other weight {:.4}",
                one_hot[(0, 0)],
                one_hot[(0, 1)]
            ),
            format!("e/(e+5) = {diag:.4} and 1/(e+5) = {off:.4} in every row"),
            one_hot_holds,
        ),
        Item::claim(
            "[Q2]",
            "\"already knows the answer\", \"only copies\": unmasked attention on t + 1",
            format!(
                "unmasked next_token_attention = {:.4}",
                u.next_token_attention
            ),
            "> 0.8".to_string(),
            u.next_token_attention > 0.8,
        ),
        Item::claim(
            "[Q2]",
            "\"the loss is nearly 0\": unmasked training loss, beside the floor H",
            format!("unmasked train_loss = {:.4}", u.train_loss),
            format!(
                "< 0.25·H = {:.4} (impossible without seeing the answer)",
                0.25 * h
            ),
            u.train_loss < 0.25 * h,
        ),
        Item::claim(
            "[Q2]",
            "not overfitting: unmasked loss on fresh sequences",
            format!("unmasked heldout_loss = {:.4}", u.heldout_loss),
            format!("< 0.25·H = {:.4}, as low as in training", 0.25 * h),
            u.heldout_loss < 0.25 * h,
        ),
        Item::claim(
            "[Q2]",
            "\"the gradient is nearly 0\": unmasked gradient norm, last steps vs first",
            format!(
                "unmasked grad_norm_end = {:.4} (start {:.4})",
                u.grad_norm_end, u.grad_norm_start
            ),
            format!("< 0.1 × start = {:.4}", 0.1 * u.grad_norm_start),
            u.grad_norm_end < 0.1 * u.grad_norm_start,
        ),
        Item::claim(
            "[Q2]",
            "\"it learns nothing\" is wrong, it learned to copy: useless once the future is hidden",
            format!("unmasked inference_loss = {:.4}", u.inference_loss),
            format!("> H + 0.5 = {:.4}", h + 0.5),
            u.inference_loss > h + 0.5,
        ),
        Item::claim(
            "[Q2]",
            "the masked model learns the honest rule: training loss at the floor H",
            format!("masked train_loss = {:.4}", m.train_loss),
            format!("within 0.15 of H = {h:.4}"),
            (m.train_loss - h).abs() < 0.15,
        ),
        Item::claim(
            "[Q2]",
            "the masked model works at generation time as it did in training",
            format!(
                "masked inference_loss = {:.4}, heldout_loss = {:.4}",
                m.inference_loss, m.heldout_loss
            ),
            "equal within 0.05".to_string(),
            (m.inference_loss - m.heldout_loss).abs() < 0.05,
        ),
        Item::claim(
            "[Q2]",
            "the mask hides t + 1: masked attention on the next position",
            format!(
                "masked next_token_attention = {:.4}",
                m.next_token_attention
            ),
            "exactly 0".to_string(),
            m.next_token_attention == 0.0,
        ),
        Item::claim(
            "[∇]",
            "hand-written backpropagation vs five-point finite differences (masked and unmasked)",
            format!("max relative error = {grad_error:.1e}"),
            "< 1e-6".to_string(),
            grad_error < 1e-6,
        ),
    ];
    Ok(vec![Section {
        id: "why-mask",
        title: "Why the mask matters",
        items,
    }])
}

/// The worst disagreement between the hand-written gradients and finite differences on a small
/// random model (T = 5, d = 4) and batch, with and without the mask.
fn gradient_check_error() -> Result<f64, Error> {
    let mut rng = TorchRng::manual_seed(123);
    let model = TinyModel::new(VOCAB_SIZE, 5, 4, &mut rng)?;
    let batch = sample_sequences(3, 6, 0.8, &mut rng);
    let masked = model.gradient_check(&batch, true, 1e-3)?;
    let unmasked = model.gradient_check(&batch, false, 1e-3)?;
    Ok(masked.max(unmasked))
}
