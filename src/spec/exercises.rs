//! The exercise table: one row per exercise, read by everything that needs an exercise (the
//! judge, the practice package's progress list, `--reset`, the tests).

use super::probe::{Ctx, Outcome};
use super::{kv, s3_3, s3_4, s3_5, s3_6, solutions};

/// One exercise.
#[derive(Clone, Copy)]
pub struct Exercise {
    /// Stable id, e.g. `"softmax"`.
    pub id: &'static str,
    /// The book's section or listing, e.g. `"3.3.1"`.
    pub section: &'static str,
    /// One line: what is computed, in English.
    pub title: &'static str,
    /// The same line in Korean.
    pub title_ko: &'static str,
    /// The study guide's module that explains the reference, e.g. `"normalize"`.
    pub guide: &'static str,
    /// The learner's file under `practice/src/`, e.g. `"s3_3_1.rs"`.
    pub file: &'static str,
    /// The functions of that file the exercise judges, in order.
    pub functions: &'static [&'static str],
    /// The printed results of the book (names of [`crate::book`] entries) the exercise
    /// reproduces: every failing verdict shows them beside the learner's.
    pub book: &'static [&'static str],
    /// The check.
    pub(crate) check: fn(&Ctx) -> Outcome,
}

impl std::fmt::Debug for Exercise {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exercise")
            .field("id", &self.id)
            .field("section", &self.section)
            .field("file", &self.file)
            .field("functions", &self.functions)
            .finish_non_exhaustive()
    }
}

/// The row of exercise `id`.
pub fn exercise(id: &str) -> Option<&'static Exercise> {
    EXERCISES.iter().find(|e| e.id == id)
}

/// Every exercise, in the book's order.
#[rustfmt::skip]
pub const EXERCISES: &[Exercise] = &[
    Exercise { id: "dot_scores", section: "3.3.1",
        title: "one query's scores: x⁽ʲ⁾ · query", title_ko: "쿼리 하나의 어텐션 점수: x⁽ʲ⁾ · 쿼리",
        guide: "similarity", file: "s3_3_1.rs", functions: &["attn_scores_for"], book: &["s3_3_1_attn_scores_2"],
        check: s3_3::dot_scores },
    Exercise { id: "sum_normalize", section: "3.3.1",
        title: "weights by dividing by the sum", title_ko: "합으로 나누어 구한 가중치",
        guide: "normalize", file: "s3_3_1.rs", functions: &["sum_normalize"], book: &["s3_3_1_attn_weights_2_sum_normalized"],
        check: s3_3::sum_normalize },
    Exercise { id: "softmax_naive", section: "3.3.1",
        title: "the softmax as written: exp(ω) / Σ exp(ω)", title_ko: "식 그대로의 소프트맥스: exp(ω) / Σ exp(ω)",
        guide: "normalize", file: "s3_3_1.rs", functions: &["softmax_naive"], book: &["s3_3_1_attn_weights_2_naive_softmax"],
        check: s3_3::softmax_naive },
    Exercise { id: "softmax", section: "3.3.1",
        title: "the stable softmax: subtract the max", title_ko: "안정적인 소프트맥스: 최댓값을 빼기",
        guide: "normalize", file: "s3_3_1.rs", functions: &["softmax"], book: &["s3_3_1_attn_weights_2_softmax"],
        check: s3_3::softmax },
    Exercise { id: "context_vec", section: "3.3.1",
        title: "one context vector z = Σ αᵢ x⁽ⁱ⁾", title_ko: "문맥 벡터 하나 z = Σ αᵢ x⁽ⁱ⁾",
        guide: "context", file: "s3_3_1.rs", functions: &["context_vec"], book: &["s3_3_1_context_vec_2"],
        check: s3_3::context_vec },
    Exercise { id: "attn_scores", section: "3.3.2",
        title: "all scores at once: X Xᵀ", title_ko: "모든 어텐션 점수를 한 번에: X Xᵀ",
        guide: "similarity", file: "s3_3_2.rs", functions: &["attn_scores"], book: &["s3_3_2_attn_scores"],
        check: s3_3::attn_scores },
    Exercise { id: "attn_weights", section: "3.3.2",
        title: "the softmax of every row", title_ko: "행마다 소프트맥스",
        guide: "normalize", file: "s3_3_2.rs", functions: &["attn_weights"], book: &["s3_3_2_attn_weights"],
        check: s3_3::attn_weights },
    Exercise { id: "context_vecs", section: "3.3.2",
        title: "all context vectors at once: A X", title_ko: "모든 문맥 벡터를 한 번에: A X",
        guide: "context", file: "s3_3_2.rs", functions: &["context_vecs"], book: &["s3_3_2_context_vecs"],
        check: s3_3::context_vecs },
    Exercise { id: "self_attention_v1", section: "3.4, listing 3.1",
        title: "SelfAttention_v1: rand weights, forward", title_ko: "SelfAttention_v1: rand 가중치와 정방향 계산",
        guide: "qkv", file: "s3_4.rs", functions: &["self_attention_v1_weights", "self_attention_v1"],
        book: &["s3_4_2_sa_v1_output"],
        check: s3_4::self_attention_v1 },
    Exercise { id: "self_attention_v2", section: "3.4.2, listing 3.2",
        title: "SelfAttention_v2: nn.Linear projections", title_ko: "SelfAttention_v2: nn.Linear 투영",
        guide: "qkv", file: "s3_4.rs", functions: &["self_attention_v2_layers", "self_attention_v2"],
        book: &["s3_4_2_sa_v2_output"],
        check: s3_4::self_attention_v2 },
    Exercise { id: "exercise_3_1", section: "exercise 3.1",
        title: "v1 weights that compute what v2 does", title_ko: "v2와 같은 값을 계산하는 v1 가중치",
        guide: "qkv", file: "exercises.rs", functions: &["v1_weights_from_v2"], book: &["exercise_3_1_sa_v1"],
        check: solutions::exercise_3_1 },
    Exercise { id: "mask_then_renormalize", section: "3.5.1",
        title: "route 1: zero the future, renormalize", title_ko: "방법 1: 미래를 0으로 만들고 다시 정규화",
        guide: "causal", file: "s3_5.rs", functions: &["mask_then_renormalize"], book: &["s3_5_1_masked_simple_norm"],
        check: s3_5::mask_then_renormalize },
    Exercise { id: "causal_attn_weights", section: "3.5.1",
        title: "route 2: −∞ above the diagonal, softmax", title_ko: "방법 2: 대각선 위를 −∞로, 소프트맥스",
        guide: "causal", file: "s3_5.rs", functions: &["causal_attn_weights"], book: &["s3_5_1_causal_attn_weights"],
        check: s3_5::causal_attn_weights },
    Exercise { id: "dropout", section: "3.5.2",
        title: "nn.Dropout: keep 1 − p, scale 1/(1 − p)", title_ko: "nn.Dropout: 1 − p만 남기고 1/(1 − p)배",
        guide: "dropout", file: "s3_5.rs", functions: &["dropout"], book: &["s3_5_2_dropout_ones", "s3_5_2_dropout_attn_weights"],
        check: s3_5::dropout },
    Exercise { id: "causal_attention", section: "3.5.3, listing 3.3",
        title: "CausalAttention's forward pass", title_ko: "CausalAttention의 정방향 계산",
        guide: "causal", file: "s3_5.rs", functions: &["causal_attention"], book: &["s3_5_3_causal_context_vecs"],
        check: s3_5::causal_attention },
    Exercise { id: "multi_head_wrapper", section: "3.6.1, listing 3.4",
        title: "the wrapper: heads side by side", title_ko: "래퍼: 헤드를 나란히 연결",
        guide: "multihead", file: "s3_6.rs", functions: &["multi_head_wrapper"], book: &["s3_6_1_wrapper_context_vecs"],
        check: s3_6::multi_head_wrapper },
    Exercise { id: "split_heads", section: "3.6.2",
        title: "(T × d_out) → heads of contiguous columns", title_ko: "(T × d_out) → 연속한 열로 이루어진 헤드",
        guide: "multihead", file: "s3_6.rs", functions: &["split_heads"], book: &[],
        check: s3_6::split_heads },
    Exercise { id: "multi_head_attention", section: "3.6.2, listing 3.5",
        title: "MultiHeadAttention: layers, forward", title_ko: "MultiHeadAttention: 층과 정방향 계산",
        guide: "multihead", file: "s3_6.rs", functions: &["multi_head_attention_layers", "multi_head_attention"],
        book: &["s3_6_2_mha_context_vecs"],
        check: s3_6::multi_head_attention },
    Exercise { id: "exercise_3_2", section: "exercise 3.2",
        title: "the wrapper with a 2-wide output", title_ko: "출력 너비가 2인 래퍼",
        guide: "multihead", file: "exercises.rs", functions: &["exercise_3_2"], book: &["exercise_3_2_context_vecs"],
        check: solutions::exercise_3_2 },
    Exercise { id: "exercise_3_3", section: "exercise 3.3",
        title: "parameters of a GPT-2-sized module", title_ko: "GPT-2 크기 모듈의 파라미터 개수",
        guide: "multihead", file: "exercises.rs", functions: &["num_parameters"], book: &["exercise_3_3_num_parameters"],
        check: solutions::exercise_3_3 },
    Exercise { id: "kv_decode_step", section: "beyond 3.6: the KV cache",
        title: "one decoding step with a KV cache", title_ko: "KV 캐시로 디코딩 한 단계",
        guide: "kv_cache", file: "kv_cache.rs", functions: &["kv_decode_step"], book: &["s3_6_2_mha_context_vecs"],
        check: kv::kv_decode_step },
];
