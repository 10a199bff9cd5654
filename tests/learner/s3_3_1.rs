//! A learner's `practice/src/s3_3_1.rs` in the middle of the chapter, for the judge's tests of
//! "not started", "waiting" and "still reaches a todo!()": the line numbers matter.

use ch03_attention::nalgebra::DVector;

pub fn softmax(attn_scores: &DVector<f32>) -> DVector<f32> {
    ch03_attention::your_code!(attn_scores)
}

pub fn softmax_naive(attn_scores: &DVector<f32>) -> DVector<f32> {
    let e = attn_scores.map(f32::exp);
    todo!("divide {e} by its sum")
}

pub fn sum_normalize(attn_scores: &DVector<f32>) -> DVector<f32> {
    attn_scores / total(attn_scores)
}

pub fn total(attn_scores: &DVector<f32>) -> f32 {
    ch03_attention::your_code!(attn_scores)
}
