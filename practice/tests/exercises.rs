//! `cargo test -p ch03-practice`: the spec's checks on your code, one test per exercise.
//!
//! A test fails with the exercise's verdict: "not started" while its function still calls
//! `todo!()` (expected while you work through the chapter), otherwise the first check it fails.
//! Run one exercise's test with a filter: `cargo test -p ch03-practice softmax`.

use ch03_attention::spec::Status;
use ch03_practice::progress;

macro_rules! exercises {
    ($($id:ident),* $(,)?) => {
        $(
            #[test]
            fn $id() {
                let v = progress::verdict(stringify!($id));
                assert!(
                    v.status == Status::Done,
                    "exercise {} ({}): {}",
                    stringify!($id),
                    progress::status_word(v.status),
                    v.message
                );
            }
        )*

        /// Every exercise the package lists has a test above.
        #[test]
        fn every_exercise_has_a_test() {
            let tested = [$(stringify!($id)),*];
            for e in progress::exercises().0 {
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
);
