//! `cargo test -p ch03-practice`: the spec's checks on your code, one test per exercise.
//!
//! Each test runs the judge (`ch03-practice-judge`, built from your files) on one exercise, in a
//! process of its own, as `cargo run -p ch03-practice` does. A test fails with the exercise's
//! verdict: "not started" while its functions are still stubs (expected while you work through
//! the chapter), otherwise what failed. Run one exercise's test with a filter:
//! `cargo test -p ch03-practice softmax`.

use ch03_attention::spec::isolate::Runner;
use ch03_attention::spec::{EXERCISES, Status};

/// The verdict of exercise `id` from the judge built with your code.
fn verdict(id: &'static str) -> ch03_attention::spec::Verdict {
    Runner::new(env!("CARGO_BIN_EXE_ch03-practice-judge")).verdict(id)
}

macro_rules! exercises {
    ($($id:ident),* $(,)?) => {
        $(
            #[test]
            fn $id() {
                let v = verdict(stringify!($id));
                assert!(
                    v.status == Status::Done,
                    "exercise {} ({}):\n{}",
                    stringify!($id),
                    v.status.word(),
                    v.message
                );
            }
        )*

        /// Every exercise has a test above.
        #[test]
        fn every_exercise_has_a_test() {
            let tested = [$(stringify!($id)),*];
            for e in EXERCISES {
                assert!(tested.contains(&e.id), "exercise `{}` has no test", e.id);
            }
        }
    };
}

exercises!(
    dot_scores,
    sum_normalize,
    softmax_naive,
    softmax,
    context_vec,
    attn_scores,
    attn_weights,
    context_vecs,
    self_attention_v1,
    self_attention_v2,
    exercise_3_1,
    mask_then_renormalize,
    causal_attn_weights,
    dropout,
    causal_attention,
    multi_head_wrapper,
    split_heads,
    multi_head_attention,
    exercise_3_2,
    exercise_3_3,
    kv_decode_step,
);
