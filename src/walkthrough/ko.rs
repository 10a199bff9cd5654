//! The walkthrough in Korean (`cargo run -- --lang ko`), for readers of the Korean edition
//! (밑바닥부터 만들면서 배우는 LLM): section titles as the Korean edition's notebook gives them,
//! every label translated, and the printed labels the Korean notebook uses (“어텐션 가중치:”,
//! “합:” …), and its cells numbered as the Korean notebooks number them ([`CELLS`]: “\[5\] (영어판
//! \[33\])”). The numbers are the same: the Korean notebook prints the same tensors.

// The labels above are quoted, not code spans: only the study guide's `docs/*.md` pages give code
// a font with Hangul (build.rs); `examples/check_docs.rs` reports Hangul in code elsewhere.

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
        // 3.3
        "attention scores ω₂ⱼ = x⁽ʲ⁾ · x⁽²⁾ of the query \"journey\"" => {
            "쿼리 \"journey\"의 어텐션 점수 ω₂ⱼ = x⁽ʲ⁾ · x⁽²⁾"
        }
        "ω₂₁ as an explicit multiply-and-add loop" => "ω₂₁: 곱하고 더하는 반복문으로",
        "ω₂₁ as a library dot product" => "ω₂₁: 라이브러리의 점곱으로",
        "weights by sum normalization" => "합으로 나눈 정규화로 구한 가중치",
        "their sum" => "그 합",
        "their sum (1.0000001 in f32, so 4 decimals)" => {
            "그 합 (f32로 1.0000001이라 소수 넷째 자리까지 출력)"
        }
        "their sum (exactly 1 in f32, so integer form)" => {
            "그 합 (f32로 정확히 1이라 정수 형태로 출력)"
        }
        "weights by the naive softmax exp(x)/Σexp(x)" => {
            "단순한 소프트맥스 exp(x)/Σexp(x)로 구한 가중치"
        }
        "weights by the stable softmax (torch.softmax)" => {
            "안정적인 소프트맥스(torch.softmax)로 구한 가중치"
        }
        "context vector z⁽²⁾ = Σᵢ α₂ᵢ x⁽ⁱ⁾" => "문맥 벡터 z⁽²⁾ = Σᵢ α₂ᵢ x⁽ⁱ⁾",
        "all scores ωᵢⱼ with two loops" => "이중 반복문으로 구한 모든 점수 ωᵢⱼ",
        "all scores as one product X·Xᵀ" => "행렬 곱셈 한 번으로 구한 모든 점수 X·Xᵀ",
        "attention weights: softmax of each row" => "어텐션 가중치: 각 행의 소프트맥스",
        "row 2's printed (rounded) weights, summed as Python floats" => {
            "두 번째 행의 출력된(반올림된) 가중치를 파이썬 float로 더한 값"
        }
        "every row sums to 1" => "모든 행의 합은 1",
        "all context vectors as one product A·X" => "행렬 곱셈 한 번으로 구한 모든 문맥 벡터 A·X",
        "z⁽²⁾ from 3.3.1, equal to row 2 above" => "3.3.1의 z⁽²⁾: 위의 두 번째 행과 같음",
        // 3.4
        "W_query" | "W_query.weight" => "W_query (쿼리 가중치)",
        "W_key" | "W_key.weight" => "W_key (키 가중치)",
        "W_value" | "W_value.weight" => "W_value (값 가중치)",
        "out_proj.weight" => "out_proj.weight (출력 투영 가중치)",
        "out_proj.bias" => "out_proj.bias (출력 투영 편향)",
        "query q⁽²⁾ = x⁽²⁾ W_q" => "쿼리 q⁽²⁾ = x⁽²⁾ W_q",
        "keys = X W_k: one key per token" => "키 = X W_k: 토큰마다 키 하나",
        "values = X W_v" => "값 = X W_v",
        "one score ω₂₂ = q⁽²⁾ · k⁽²⁾" => "점수 하나 ω₂₂ = q⁽²⁾ · k⁽²⁾",
        "all scores of query 2: q⁽²⁾ Kᵀ" => "두 번째 쿼리의 모든 점수: q⁽²⁾ Kᵀ",
        "weights: softmax(ω₂ / √d_k), d_k = 2" => "가중치: softmax(ω₂ / √d_k), d_k = 2",
        "context vector z⁽²⁾ = α₂ V" => "문맥 벡터 z⁽²⁾ = α₂ V",
        "SelfAttentionV1 (seed 123, torch.rand weights)" => {
            "SelfAttentionV1 (시드 123, torch.rand 가중치)"
        }
        "SelfAttentionV2 (seed 789, nn.Linear weights)" => {
            "SelfAttentionV2 (시드 789, nn.Linear 가중치)"
        }
        // 3.5
        "sa_v2's attention weights, unmasked" => "sa_v2의 어텐션 가중치, 마스크 없이",
        "the simple mask tril(ones(6, 6))" => "간단한 마스크 tril(ones(6, 6))",
        "route 1: weights × mask (rows no longer sum to 1)" => {
            "방법 1: 가중치 × 마스크 (행의 합이 더는 1이 아님)"
        }
        "route 1: each row divided by its sum" => "방법 1: 각 행을 그 합으로 나눔",
        "route 2: future scores set to −∞ (unscaled)" => {
            "방법 2: 미래의 점수를 −∞로 (스케일링 전)"
        }
        "route 2: softmax(masked / √d_k): same as route 1" => {
            "방법 2: softmax(마스킹된 점수 / √d_k): 방법 1과 같음"
        }
        "Dropout(0.5) on ones(6, 6): kept entries scaled to 1/(1−p) = 2" => {
            "ones(6, 6)에 Dropout(0.5): 남은 원소는 1/(1−p) = 2배"
        }
        "the same mask on the causal weights (reseeded)" => {
            "코잘 어텐션 가중치에 같은 마스크 (시드 다시 설정)"
        }
        "the same cell on Linux or Colab with PyTorch <= 2.6 (MKL's dropout mask)" => {
            "파이토치 2.6 이하의 리눅스나 Colab에서 같은 셀 (MKL의 드롭아웃 마스크)"
        }
        "`cargo run -- diagnose` on that printout" => "그 출력에 `cargo run -- diagnose` 실행",
        "batch = two copies of the input" => "배치 = 입력 두 벌",
        "CausalAttention(3, 2, 6, 0.0), seed 123" => "CausalAttention(3, 2, 6, 0.0), 시드 123",
        "its shape" => "그 크기",
        // 3.6
        "MultiHeadAttentionWrapper, 2 heads of d_out 2, seed 123" => {
            "MultiHeadAttentionWrapper, d_out 2인 헤드 2개, 시드 123"
        }
        "its shape: d_out · num_heads = 4 wide" => "그 크기: 너비 d_out · num_heads = 4",
        "MultiHeadAttention, 2 heads of head_dim 1, seed 123" => {
            "MultiHeadAttention, head_dim 1인 헤드 2개, 시드 123"
        }
        "its shape: d_out = 2 wide whatever the head count" => {
            "그 크기: 헤드 개수와 상관없이 너비 d_out = 2"
        }
        "a @ a.transpose(2, 3) on a (1, 2, 3, 4) tensor: all heads at once" => {
            "(1, 2, 3, 4) 텐서에 a @ a.transpose(2, 3): 모든 헤드를 한 번에"
        }
        "the same product for head 0 alone" => "첫 번째 헤드만 따로 같은 곱셈",
        "the same product for head 1 alone" => "두 번째 헤드만 따로 같은 곱셈",
        // exercises
        "SelfAttentionV1 holding v2's weights, transposed" => {
            "v2의 가중치를 전치해서 넣은 SelfAttentionV1"
        }
        "SelfAttentionV2 (seed 123): the same output" => "SelfAttentionV2 (시드 123): 같은 출력",
        "wrapper with d_out = 1, 2 heads (corrected, current-code values)" => {
            "d_out = 1, 헤드 2개인 래퍼 (수정된, 현재 코드의 값)"
        }
        "its shape: 2 wide" => "그 크기: 너비 2",
        "the Korean edition's solution: the same wrapper plus an output projection" => {
            "한국어판의 해답: 같은 래퍼에 출력 투영을 더함"
        }
        "parameters of a GPT-2-small attention module (768, 12 heads, 1024)" => {
            "GPT-2 small 크기 어텐션 모듈의 파라미터 개수 (768, 헤드 12개, 1024)"
        }
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

/// The Korean notebooks' cell numbers, one row per cell the walkthrough labels: (the label as the
/// walkthrough prints it for the English notebooks, the same for the Korean notebooks, the Korean
/// notebook's cell id). `[…]` alone is a cell of `ch03.ipynb`, `3.1 […]` … of
/// `exercise-solutions.ipynb`, both in `ch03/01_main-chapter-code/` of the Korean edition's
/// repository, rickiepark/llm-from-scratch (`ch03.ipynb` at commit 91e344d, the exercises at
/// 183c069). Each number is the `execution_count` of the cell with that id, found by matching its
/// output with the English cell's: the Korean notebook prints the same tensors, under the labels
/// of [`PRINTED_LABELS`]. Three rows are not matched by output: `[68]` → `[16]` creates the 3.4.1
/// weights and prints nothing (the same `torch.manual_seed(123)` and three `torch.rand` calls);
/// exercise 3.2's `[13]` → `[9]` is the same cell, where the Korean edition's solution prints
/// other numbers (its out_proj, see `crate::multihead`) and the same shape; and that solution's
/// own row, which is a Korean cell already. Keyed by the walkthrough's label rather than by the
/// results' names, so that the seeded parameters shown at a cell get its number too.
pub const CELLS: [(&str, &str, &str); 40] = [
    ("[28]", "[3]", "6fb5b2f8-dd2c-4a6d-94ef-a0e9ad163951"),
    ("[30]", "[4]", "9842f39b-1654-410e-88bf-d1b899bf0241"),
    ("[33]", "[5]", "e3ccc99c-33ce-4f11-b7f2-353cf1cbdaba"),
    ("[35]", "[6]", "07b2e58d-a6ed-49f0-a1cd-2463e8d53a20"),
    ("[37]", "[7]", "2d99cac4-45ea-46b3-b3c1-e000ad16e158"),
    ("[40]", "[8]", "8fcb96f0-14e5-4973-a50e-79ea7c6af99f"),
    ("[47]", "[9]", "04004be8-07a1-468b-ab33-32e16a551b45"),
    ("[49]", "[10]", "2cea69d0-9a47-45da-8d5a-47ceef2df673"),
    ("[51]", "[11]", "fa4ef062-de81-47ee-8415-bfe1708c81b8"),
    ("[53]", "[12]", "112b492c-fb6f-4e6d-8df5-518ae83363d5"),
    ("[55]", "[13]", "ba8eafcf-f7f7-4989-b8dc-61b50c4f81dc"),
    ("[57]", "[14]", "2570eb7d-aee1-457a-a61e-7544478219fa"),
    ("[68]", "[16]", "bfd7259a-f26c-4cea-b8fc-282b5cae1e00"),
    ("[70]", "[17]", "73cedd62-01e1-4196-a575-baecc6095601"),
    ("[72]", "[18]", "8c1c3949-fc08-4d19-a41e-1c235b4e631b"),
    ("[75]", "[19]", "64cbc253-a182-4490-a765-246979ea0a28"),
    ("[77]", "[20]", "b14e44b5-d170-40f9-8847-8990804af26d"),
    ("[80]", "[21]", "146f5587-c845-4e30-9894-c7ed3a248153"),
    ("[83]", "[22]", "e138f033-fa7e-4e3a-8764-b53a96b26397"),
    ("[86]", "[23]", "51590326-cdbe-4e62-93b1-17df71c11ee4"),
    ("[89]", "[24]", "73f411e3-e231-464a-89fe-0a9035e5f839"),
    ("[98]", "[25]", "1933940d-0fa5-4b17-a3ce-388e5314a1bb"),
    ("[100]", "[26]", "43f3d2e3-185b-4184-9f98-edde5e6df746"),
    ("[102]", "[27]", "9f531e2e-f4d2-4fea-a87f-4c132e48b9e7"),
    ("[105]", "[28]", "6d392083-fd81-4f70-9bdf-8db985e673d6"),
    ("[108]", "[29]", "a2be2f43-9cf0-44f6-8d8b-68ef2fb3cc39"),
    ("[110]", "[30]", "b1cd6d7f-16f2-43c1-915e-0824f1a4bc52"),
    ("[115]", "[31]", "0de578db-8289-41d6-b377-ef645751e33f"),
    ("[116]", "[32]", "b16c5edb-942b-458c-8e95-25e4e355381e"),
    ("[120]", "[33]", "977a5fa7-a9d5-4e2e-8a32-8e0331ccfe28"),
    ("[121]", "[34]", "60d8c2eb-2d8e-4d2c-99bc-9eef8cc53ca0"),
    ("[127]", "[35]", "b9a66e11-7105-4bb4-be84-041f1a1f3bd2"),
    ("[131]", "[36]", "110b0188-6e9e-4e56-a988-10523c6c8538"),
    ("[138]", "[37]", "e8cfc1ae-78ab-4faa-bc73-98bd054806c9"),
    ("[140]", "[38]", "053760f1-1a02-42f0-b3bf-3d939e407039"),
    ("3.1 [8]", "3.1 [6]", "ddd0f54f-6bce-46cc-a428-17c2a56557d0"),
    ("3.1 [9]", "3.1 [7]", "340908f8-1144-4ddd-a9e1-a1c5c3d592f5"),
    ("3.2 [13]", "3.2 [9]", "_SrNpU7irAfK"),
    (
        "3.2 (Korean edition) [9]",
        "3.2 (한국어판) [9]",
        "_SrNpU7irAfK",
    ),
    ("3.3 [18]", "3.3 [12]", "YwBwKUnntEcW"),
];

/// The Korean notebook's cell for a walkthrough cell label (`"[33]"` → `"[5]"`, `"3.1 [8]"` →
/// `"3.1 [6]"`); `None` for a label that is not a notebook cell (`"[Q1]"`, `"[mask]"` …).
pub fn cell(english: &str) -> Option<&'static str> {
    CELLS
        .iter()
        .find(|(en, _, _)| *en == english)
        .map(|(_, ko, _)| *ko)
}

/// A cell label as the Korean walkthrough prints it: the Korean notebook's number, the English
/// one after it in parentheses where they differ (`"[33]"` → “\[5\] (영어판 \[33\])”).
pub fn cell_label(english: &str) -> String {
    let number = |label: &str| label.rsplit(' ').next().unwrap_or(label).to_string();
    match cell(english) {
        Some(ko) => {
            let en = number(english);
            match number(ko) == en {
                true => ko.to_string(),
                false => format!("{ko} (영어판 {en})"),
            }
        }
        None => english.to_string(),
    }
}
