//! A learner's `practice/src/s3_4.rs`: the weights of `SelfAttention_v1` written, its forward
//! pass still the stub.

use ch03_attention::TorchRng;
use ch03_attention::nalgebra::DMatrix;

pub fn self_attention_v1_weights(
    d_in: usize,
    d_out: usize,
    rng: &mut TorchRng,
) -> [DMatrix<f32>; 3] {
    [(); 3].map(|_| rng.rand(d_in, d_out))
}

pub fn self_attention_v1(x: &DMatrix<f32>, weights: &[DMatrix<f32>; 3]) -> DMatrix<f32> {
    ch03_attention::your_code!(x, weights)
}
