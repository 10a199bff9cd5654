//! Adam, the optimizer almost every LLM is trained with, in a dozen lines.

use super::model::TinyModel;
use crate::Error;

/// Adam with PyTorch's defaults (`betas = (0.9, 0.999)`, `eps = 1e-8`, no weight decay).
///
/// For every number θ with gradient g it keeps two running averages, `m` of g and `v` of g², and
/// steps `θ ← θ − lr · m̂ / (√v̂ + eps)`, where `m̂`, `v̂` correct the averages' bias towards their
/// zero start. The step size is roughly `lr` whatever the gradient's scale.
#[derive(Debug, Clone)]
pub struct Adam {
    learning_rate: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    steps_taken: i32,
    m: TinyModel,
    v: TinyModel,
}

impl Adam {
    /// An optimizer for `model`'s parameters, with both running averages at 0.
    pub fn new(model: &TinyModel, learning_rate: f64) -> Adam {
        Adam {
            learning_rate,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            steps_taken: 0,
            m: model.zeros_like(),
            v: model.zeros_like(),
        }
    }

    /// One update of every parameter of `model` from `grads`.
    ///
    /// # Errors
    ///
    /// [`Error::ShapeMismatch`] if `model` or `grads` has a parameter whose shape differs from
    /// the model the optimizer was built for (nothing is updated then).
    pub fn step(&mut self, model: &mut TinyModel, grads: &TinyModel) -> Result<(), Error> {
        for other in [&*model, grads] {
            for (own, theirs) in self.m.parameters().into_iter().zip(other.parameters()) {
                if own.shape() != theirs.shape() {
                    return Err(Error::ShapeMismatch {
                        op: "Adam::step",
                        left: own.shape(),
                        right: theirs.shape(),
                    });
                }
            }
        }
        self.steps_taken += 1;
        let (b1, b2) = (self.beta1, self.beta2);
        let m_correction = 1.0 - b1.powi(self.steps_taken);
        let v_correction = 1.0 - b2.powi(self.steps_taken);
        let params = model.parameters_mut();
        let ms = self.m.parameters_mut();
        let vs = self.v.parameters_mut();
        for (((theta, g), m), v) in params.into_iter().zip(grads.parameters()).zip(ms).zip(vs) {
            for i in 0..theta.len() {
                m[i] = b1 * m[i] + (1.0 - b1) * g[i];
                v[i] = b2 * v[i] + (1.0 - b2) * g[i] * g[i];
                let m_hat = m[i] / m_correction;
                let v_hat = v[i] / v_correction;
                theta[i] -= self.learning_rate * m_hat / (v_hat.sqrt() + self.eps);
            }
        }
        Ok(())
    }
}
