//! The walkthrough in Korean (`cargo run -- --lang ko`), for readers of the Korean edition
//! (밑바닥부터 만들면서 배우는 LLM): section titles as the Korean edition's notebook gives them,
//! every label translated, and the printed labels the Korean notebook uses (“어텐션 가중치:”,
//! “합:” …), and its cells numbered as the Korean notebooks number them ([`cell_label`]: “\[5\]
//! (영어판 \[33\])”). The numbers are the same: the Korean notebook prints the same tensors. The
//! printed results' own Korean labels and cells are in their records ([`crate::book`]); this module
//! holds the rest: section titles, the labels of the walkthrough's own items, the printed labels.

// The labels above are quoted, not code spans: only the study guide's `docs/*.md` pages give code
// a font with Hangul (build.rs); `cargo xtask check-docs` reports Hangul in code elsewhere.

use crate::book::{self, Printed};

/// The Korean edition's title of a walkthrough section (its notebook's headings).
pub fn title(id: &str) -> Option<&'static str> {
    Some(match id {
        "3.3.1" => "훈련 가능한 가중치가 없는 간단한 셀프 어텐션 메커니즘",
        "3.3.2" => "모든 입력 토큰에 대해 어텐션 가중치 계산하기",
        "3.4.1" => "단계별로 어텐션 가중치 계산하기",
        "3.4.2" => "셀프 어텐션 파이썬 클래스 구현하기",
        "3.5.1" => "코잘 어텐션 마스크 적용하기",
        "3.5.2" => "드롭아웃으로 어텐션 가중치에 추가적으로 마스킹하기",
        "3.5.3" => "코잘 어텐션 클래스 구현하기",
        "3.6.1" => "여러 개의 싱글 헤드 어텐션 층 쌓기",
        "3.6.2" => "가중치 분할로 멀티 헤드 어텐션 구현하기",
        "exercises" => "연습문제 3.1, 3.2, 3.3",
        "kv-cache" => "추론에서 마스크가 주는 것: KV 캐시",
        "why-mask" => "마스크가 필요한 이유",
        "gradients" => "그레이디언트: 역전파와 마스크의 정확한 0",
        _ => return None,
    })
}

/// The Korean label of a walkthrough item, by its English label.
pub fn label(english: &str) -> Option<&'static str> {
    Some(match english {
        // 3.4
        "W_query" | "W_query.weight" => "W_query (쿼리 가중치)",
        "W_key" | "W_key.weight" => "W_key (키 가중치)",
        "W_value" | "W_value.weight" => "W_value (값 가중치)",
        "out_proj.weight" => "out_proj.weight (출력 투영 가중치)",
        "out_proj.bias" => "out_proj.bias (출력 투영 편향)",
        // 3.5
        "the same cell on Linux or Colab with PyTorch <= 2.6 (MKL's dropout mask)" => {
            "파이토치 2.6 이하의 리눅스나 Colab에서 같은 셀 (MKL의 드롭아웃 마스크)"
        }
        "`cargo run -- diagnose` on that printout" => "그 출력에 `cargo run -- diagnose` 실행",
        // why-mask
        "one-hot words: section 3.3's weights softmax(X·Xᵀ) carry no similarity" => {
            "원-핫 단어: 3.3절의 가중치 softmax(X·Xᵀ)에 유사도가 담기지 않음"
        }
        "the mask hides t + 1: masked attention on the next position" => {
            "마스크는 t + 1을 가림: 마스크를 쓴 모델이 다음 위치에 주는 어텐션"
        }
        "\"already knows the answer\", \"only copies\": unmasked attention on t + 1" => {
            "\"이미 답을 안다\", \"복사만 한다\": 마스크 없는 모델이 t + 1에 주는 어텐션"
        }
        "\"the loss is nearly 0\": unmasked training loss, beside the floor H" => {
            "\"손실이 거의 0\": 마스크 없는 모델의 훈련 손실과 하한 H"
        }
        "\"the gradient is nearly 0\": unmasked gradient norm, last steps vs first" => {
            "\"그레이디언트가 거의 0\": 마스크 없는 모델의 그레이디언트 노름, 처음과 마지막"
        }
        "\"it learns nothing\" is wrong, it learned to copy: useless once the future is hidden" => {
            "\"아무것도 학습하지 않는다\"는 틀림: 복사를 학습했고, 미래를 가리면 쓸모없음"
        }
        "not overfitting: unmasked loss on fresh sequences" => {
            "과대적합이 아님: 새 시퀀스에서 마스크 없는 모델의 손실"
        }
        "the masked model learns the honest rule: training loss at the floor H" => {
            "마스크를 쓴 모델은 정직한 규칙을 학습: 훈련 손실이 하한 H에"
        }
        "the masked model works at generation time as it did in training" => {
            "마스크를 쓴 모델은 생성할 때도 훈련 때처럼 동작"
        }
        "hand-written backpropagation vs five-point finite differences (masked and unmasked)" => {
            "직접 쓴 역전파와 5점 유한 차분 비교 (마스크 있음/없음)"
        }
        "the PyTorch rerun (autograd, torch.optim.Adam) agrees at every logged step" => {
            "파이토치로 다시 실행한 결과(autograd, torch.optim.Adam)가 기록된 모든 단계에서 일치"
        }
        // kv-cache
        "the book's MultiHeadAttention (3.6.2) decoded one token at a time" => {
            "책의 MultiHeadAttention(3.6.2)을 토큰 하나씩 디코딩"
        }
        "prefill: the whole batch into an empty cache, against the full forward" => {
            "프리필: 빈 캐시에 배치 전체를 넣은 결과와 전체 정방향 계산 비교"
        }
        "CausalAttention (3.5.3): each step's weights over the cache against row t of the full weights" => {
            "CausalAttention(3.5.3): 각 단계에서 캐시에 대한 가중치와 전체 가중치의 t번째 행 비교"
        }
        "SelfAttentionV2 (seed 789) cached token by token: largest |cached − full| per position" => {
            "SelfAttentionV2(시드 789)를 토큰 하나씩 캐시로 계산: 위치마다 가장 큰 |캐시 − 전체|"
        }
        "what the cache computed for SelfAttentionV2 is CausalAttention's output (same weights)" => {
            "SelfAttentionV2에 캐시로 계산한 값은 CausalAttention의 출력(같은 가중치)"
        }
        "memory per cached token, GPT-2 small's attention (768 features, 12 heads)" => {
            "캐시된 토큰 하나의 메모리, GPT-2 small의 어텐션(특성 768개, 헤드 12개)"
        }
        "a 7th token for a cache of context_length 6" => {
            "context_length가 6인 캐시에 일곱 번째 토큰"
        }
        // gradients
        "CausalAttention (seed 123), evaluation mode" => "CausalAttention (시드 123), 평가 모드",
        "CausalAttention, training mode: PyTorch's dropout mask" => {
            "CausalAttention, 훈련 모드: 파이토치와 같은 드롭아웃 마스크"
        }
        "MultiHeadAttention (seed 123, 2 heads), evaluation mode" => {
            "MultiHeadAttention (시드 123, 헤드 2개), 평가 모드"
        }
        "MultiHeadAttention, training mode: PyTorch's dropout mask" => {
            "MultiHeadAttention, 훈련 모드: 파이토치와 같은 드롭아웃 마스크"
        }
        "∂out_t/∂x_u for every later token u > t, under the causal mask" => {
            "코잘 마스크 아래에서 모든 뒤쪽 토큰 u > t에 대한 ∂out_t/∂x_u"
        }
        "the same weights without the mask (SelfAttentionV2): ‖∂out_t/∂x_u‖ for u > t" => {
            "마스크 없이 같은 가중치(SelfAttentionV2): u > t에 대한 ‖∂out_t/∂x_u‖"
        }
        "the gradient reaching the masked scores through the softmax" => {
            "소프트맥스를 거쳐 마스킹된 점수에 도달하는 그레이디언트"
        }
        _ => return None,
    })
}

/// The labels the Korean notebook prints in place of the English notebook's.
pub const PRINTED_LABELS: [(&str, &str); 7] = [
    ("Attention weights:", "어텐션 가중치:"),
    ("Sum:", "합:"),
    ("Row 2 sum:", "두 번째 행의 합:"),
    ("All row sums:", "모든 행의 합:"),
    (
        "Previous 2nd context vector:",
        "이전에 계산한 두 번째 문맥 벡터:",
    ),
    ("First head:", "첫 번째 헤드:"),
    ("Second head:", "두 번째 헤드:"),
];

/// `text` as the Korean notebook prints it: an English label at the start of the text (the
/// only place they occur) replaced by the Korean notebook's.
pub fn printed(text: &str) -> String {
    for (en, ko) in PRINTED_LABELS {
        if let Some(rest) = text.strip_prefix(en) {
            return format!("{ko}{rest}");
        }
    }
    text.to_string()
}

/// The Korean notebook's cell for a walkthrough cell label (`"[33]"` → `"[5]"`, `"3.1 [8]"` →
/// `"3.1 [6]"`): the cell of the printed result there ([`Printed::cell_ko`]), or for a cell that
/// prints nothing, [`CELLS_WITHOUT_OUTPUT`]; `None` for a label that is not a notebook cell
/// (`"[Q1]"`, `"[mask]"` …).
pub fn cell(english: &str) -> Option<String> {
    book::printed()
        .iter()
        .find(|p| p.cell_label() == english)
        .map(Printed::cell_label_ko)
        .or_else(|| {
            CELLS_WITHOUT_OUTPUT
                .iter()
                .find(|(en, _)| *en == english)
                .map(|(_, ko)| ko.to_string())
        })
}

/// The one notebook cell the walkthrough shows that prints nothing in the book, and so has no
/// [`Printed`] record to hold its Korean number: `[68]` creates the 3.4.1 weights (the same
/// `torch.manual_seed(123)` and three `torch.rand` calls), which the Korean notebook does in its
/// cell `[16]` (cell id `bfd7259a-f26c-4cea-b8fc-282b5cae1e00` of rickiepark/llm-from-scratch's
/// `ch03/01_main-chapter-code/ch03.ipynb`).
pub const CELLS_WITHOUT_OUTPUT: [(&str, &str); 1] = [("[68]", "[16]")];

/// A cell label as the Korean walkthrough prints it: the Korean notebook's number, the English
/// one after it in parentheses where they differ (`"[33]"` → “\[5\] (영어판 \[33\])”).
pub fn cell_label(english: &str) -> String {
    let number = |label: &str| label.rsplit(' ').next().unwrap_or(label).to_string();
    match cell(english) {
        Some(ko) => {
            let en = number(english);
            match number(&ko) == en {
                true => ko,
                false => format!("{ko} (영어판 {en})"),
            }
        }
        None => english.to_string(),
    }
}
