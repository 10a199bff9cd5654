//! A learner's `practice/src/s3_3_2.rs`: `attn_weights` is written and calls the learner's
//! `softmax`, which is still its stub.

use ch03_attention::nalgebra::DMatrix;

pub fn attn_weights(attn_scores: &DMatrix<f32>) -> DMatrix<f32> {
    let mut w = attn_scores.clone();
    for i in 0..w.nrows() {
        let row = super::s3_3_1::softmax(&w.row(i).transpose());
        w.row_mut(i).copy_from(&row.transpose());
    }
    w
}
