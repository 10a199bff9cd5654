//! "Why the mask matters": the reader's two questions, answered by measurements.

use super::{Item, Section};
use crate::Error;
use crate::TorchRng;
use crate::leakage::chain::{VOCAB_SIZE, sample_sequences};
use crate::leakage::{LeakageReport, TinyModel, default_report, one_hot_attn_weights};

/// The leakage experiment rerun in PyTorch (autograd and `torch.optim.Adam`, float64) by
/// `scripts/leakage_torch.py`: loss and gradient norm at every step of both runs. Expectations
/// only: the computed side of the claim is always the crate's own run.
const TORCH_LEAKAGE: &str = include_str!("../../tests/data/torch_leakage.json");

/// The largest relative difference from PyTorch's rerun allowed at any step, for the loss and the
/// gradient norm (the measured differences, and why this bound, are in `tests/leakage_torch.rs`).
const TORCH_TOLERANCE: f64 = 1e-11;

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
        pytorch_rerun_claim(r),
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

/// The claim that the crate's run is PyTorch's, step by step: every logged loss and gradient norm
/// of both runs within [`TORCH_TOLERANCE`] of `TORCH_LEAKAGE`'s. Each run's worst step is shown as
/// the power of ten just above it, so that the last bits of a machine's matrix kernels do not
/// change the text.
fn pytorch_rerun_claim(r: &LeakageReport) -> Item {
    let version = recorded_text(TORCH_LEAKAGE, "torch_version").unwrap_or("?");
    let runs = [("masked", &r.masked_trace), ("unmasked", &r.unmasked_trace)];
    let mut shown = Vec::new();
    let mut holds = true;
    for (run, trace) in runs {
        let worst = [("loss", &trace.losses), ("grad_norm", &trace.grad_norms)]
            .into_iter()
            .map(|(what, ours)| {
                let theirs = recorded_numbers(TORCH_LEAKAGE, &format!("{run}_{what}"));
                theirs.and_then(|t| max_relative_difference(ours, &t))
            })
            .try_fold(0.0_f64, |w, e| Some(w.max(e?)));
        match worst {
            Some(w) => {
                holds &= w < TORCH_TOLERANCE;
                shown.push(format!("{run} {}", bound_text(w)));
            }
            None => {
                holds = false;
                shown.push(format!("{run}: no PyTorch record of as many steps"));
            }
        }
    }
    Item::claim(
        "[PyTorch]",
        "the PyTorch rerun (autograd, torch.optim.Adam) agrees at every logged step",
        format!(
            "{} steps each, worst relative difference: {}",
            r.config.steps,
            shown.join(", ")
        ),
        format!("< 1e-11 for loss and gradient norm at every step (PyTorch {version})"),
        holds,
    )
}

/// The largest `|ours − theirs| / |theirs|`, or `None` for lists of different lengths or a
/// difference that is not a number (so a NaN never passes for agreement).
fn max_relative_difference(ours: &[f64], theirs: &[f64]) -> Option<f64> {
    if ours.len() != theirs.len() {
        return None;
    }
    ours.iter().zip(theirs).try_fold(0.0_f64, |worst, (a, b)| {
        let e = (a - b).abs() / b.abs();
        (!e.is_nan()).then_some(worst.max(e))
    })
}

/// `x` (≥ 0) bounded by the smallest power of ten above it: `7.5e-13` → `"< 1e-12"`,
/// `1e-12` → `"< 1e-11"`, and `0` → `"= 0"`.
fn bound_text(x: f64) -> String {
    if x == 0.0 {
        return "= 0".to_string();
    }
    format!("< 1e{}", x.log10().floor() as i32 + 1)
}

/// The flat list of numbers under `key` in `json` (`"key": [0.5, 1.25]`, as
/// `scripts/leakage_torch.py` writes it), or `None` if the key is missing or an entry is not a
/// number. A few lines instead of a JSON parser in the library; the tests read the same file with
/// a full one.
fn recorded_numbers(json: &str, key: &str) -> Option<Vec<f64>> {
    let opening = format!("\"{key}\": [");
    let start = json.find(&opening)? + opening.len();
    let end = start + json[start..].find(']')?;
    json[start..end]
        .split(',')
        .map(|x| x.trim().parse().ok())
        .collect()
}

/// The string under `key` in `json` (`"key": "text"`), or `None` if the key is missing.
fn recorded_text<'a>(json: &'a str, key: &str) -> Option<&'a str> {
    let opening = format!("\"{key}\": \"");
    let start = json.find(&opening)? + opening.len();
    let end = start + json[start..].find('"')?;
    Some(&json[start..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    const JSON: &str = "{\n \"torch_version\": \"2.15.0\",\n \"a_loss\": [0.5,1.25, 2e-3],\n \
                        \"bad\": [1,x],\n \"empty\": []\n}";

    #[test]
    fn reads_flat_lists_and_strings() {
        assert_eq!(
            recorded_numbers(JSON, "a_loss"),
            Some(vec![0.5, 1.25, 2e-3])
        );
        assert_eq!(recorded_numbers(JSON, "loss"), None); // a key, not the end of one
        assert_eq!(recorded_numbers(JSON, "bad"), None);
        assert_eq!(recorded_numbers(JSON, "empty"), None);
        assert_eq!(recorded_text(JSON, "torch_version"), Some("2.15.0"));
        assert_eq!(recorded_text(JSON, "version"), None);
        assert_eq!(
            recorded_text("\"torch_version\": \"2.15", "torch_version"),
            None
        );
        assert_eq!(recorded_numbers("\"a\": [1, 2", "a"), None);
    }

    #[test]
    fn the_committed_record_has_every_step() {
        let steps = crate::LeakageConfig::default().steps;
        for key in [
            "masked_loss",
            "masked_grad_norm",
            "unmasked_loss",
            "unmasked_grad_norm",
        ] {
            let numbers = recorded_numbers(TORCH_LEAKAGE, key).unwrap();
            assert_eq!(numbers.len(), steps, "{key}");
            assert!(numbers.iter().all(|x| *x > 0.0), "{key}");
        }
        assert!(
            recorded_text(TORCH_LEAKAGE, "torch_version")
                .unwrap()
                .starts_with("2.15")
        );
    }

    #[test]
    fn relative_differences() {
        assert_eq!(max_relative_difference(&[1.0, 4.0], &[2.0, 4.0]), Some(0.5));
        assert_eq!(max_relative_difference(&[3.0, 1.0], &[2.0, 1.0]), Some(0.5));
        assert_eq!(max_relative_difference(&[1.0, 2.0], &[1.0, 2.0]), Some(0.0));
        assert_eq!(max_relative_difference(&[1.0], &[1.0, 2.0]), None);
        assert_eq!(max_relative_difference(&[f64::NAN, 1.0], &[1.0, 1.0]), None);
    }

    #[test]
    fn bounds_as_powers_of_ten() {
        assert_eq!(bound_text(7.5e-13), "< 1e-12");
        assert_eq!(bound_text(2.0e-14), "< 1e-13");
        assert_eq!(bound_text(1e-12), "< 1e-11");
        assert_eq!(bound_text(0.5), "< 1e0");
        assert_eq!(bound_text(0.0), "= 0");
    }

    /// The claim fails when a run disagrees: the masked run's numbers in place of the unmasked.
    #[test]
    fn the_claim_can_fail() {
        let mut r = default_report().unwrap().clone();
        assert!(pytorch_rerun_claim(&r).matches());
        r.unmasked_trace = r.masked_trace.clone();
        let item = pytorch_rerun_claim(&r);
        assert!(!item.matches(), "{}", item.computed);
        r.unmasked_trace.losses.pop();
        let item = pytorch_rerun_claim(&r);
        assert!(!item.matches());
        assert!(
            item.computed
                .ends_with("unmasked: no PyTorch record of as many steps")
        );
    }
}
