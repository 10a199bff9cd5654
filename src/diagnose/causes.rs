//! The causes `diagnose` can name, with their tags, what happened and what to do, in English and
//! in Korean (the Korean edition's terms: 드롭아웃, 편향, 시드, 난수 생성기, 훈련 모드, 평가 모드).

use crate::book::Knob;
use crate::walkthrough::Lang;

/// One way a reader's run differs from the book's, with its documented tag.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cause {
    /// `book`: nothing differs.
    Book,
    /// `bernoulli-mkl`: the dropout mask was drawn by MKL's Bernoulli kernel.
    BernoulliMkl,
    /// `generator-offset:N`: N draws were taken after the seed before the result drew.
    GeneratorOffset {
        /// The draws taken in between.
        draws: u32,
        /// The seed they followed.
        seed: u64,
    },
    /// `seed-missing`: the cell's own `torch.manual_seed` did not run; the generator still
    /// held an earlier cell's seed.
    SeedMissing {
        /// The seed the generator was last set to.
        found: u64,
        /// The seed the book calls before this result.
        book: u64,
    },
    /// `qkv-bias`: the query, key and value layers have biases.
    QkvBias,
    /// `dropout-in-eval`: dropout at this rate was active where the book's module has 0.0.
    DropoutInEval(f64),
    /// `dropout-off`: section 3.5.2's dropout ran in evaluation mode and dropped nothing.
    DropoutOff,
    /// `d-out:N`.
    DOut {
        /// The width found.
        found: usize,
        /// The book's.
        book: usize,
    },
    /// `num-heads:N`.
    NumHeads {
        /// The head count found.
        found: usize,
        /// The book's.
        book: usize,
    },
    /// `korean-ex3.2`: exercise 3.2 as the Korean edition's solution computes it.
    KoreanEx32,
}

impl Cause {
    /// The documented tag, e.g. `generator-offset:36`.
    pub fn tag(&self) -> String {
        match self {
            Cause::Book => "book".into(),
            Cause::BernoulliMkl => "bernoulli-mkl".into(),
            Cause::GeneratorOffset { draws, .. } => format!("generator-offset:{draws}"),
            Cause::SeedMissing { .. } => "seed-missing".into(),
            Cause::QkvBias => "qkv-bias".into(),
            Cause::DropoutInEval(_) => "dropout-in-eval".into(),
            Cause::DropoutOff => "dropout-off".into(),
            Cause::DOut { found, .. } => format!("d-out:{found}"),
            Cause::NumHeads { found, .. } => format!("num-heads:{found}"),
            Cause::KoreanEx32 => "korean-ex3.2".into(),
        }
    }

    /// The knob of the registry this cause turns (`None` for `book`; the Korean edition's
    /// exercise 3.2 is the width of its wrapper's heads).
    pub fn knob(&self) -> Option<Knob> {
        Some(match self {
            Cause::Book => return None,
            Cause::BernoulliMkl => Knob::Bernoulli,
            Cause::GeneratorOffset { .. } | Cause::SeedMissing { .. } => Knob::Generator,
            Cause::QkvBias => Knob::QkvBias,
            Cause::DropoutInEval(_) => Knob::ModuleDropout,
            Cause::DropoutOff => Knob::DropoutOff,
            Cause::DOut { .. } | Cause::KoreanEx32 => Knob::DOut,
            Cause::NumHeads { .. } => Knob::NumHeads,
        })
    }

    /// What happened, in one line.
    pub fn why(&self) -> String {
        self.why_in(Lang::English)
    }

    /// What to do about it, in one line.
    pub fn fix(&self) -> String {
        self.fix_in(Lang::English)
    }

    /// [`why`](Self::why) in `lang`.
    pub fn why_in(&self, lang: Lang) -> String {
        match lang {
            Lang::English => self.why_en(),
            Lang::Korean => self.why_ko(),
        }
    }

    /// [`fix`](Self::fix) in `lang`.
    pub fn fix_in(&self, lang: Lang) -> String {
        match lang {
            Lang::English => self.fix_en(),
            Lang::Korean => self.fix_ko(),
        }
    }

    fn why_en(&self) -> String {
        match self {
            Cause::Book => "identical to the book's printed result: nothing differs".into(),
            Cause::BernoulliMkl => "the dropout mask was drawn by Intel MKL's Bernoulli \
                kernel, which PyTorch 2.6 and older use on x86-64 Linux and Windows (Google \
                Colab included); the book's machine used PyTorch's own serial kernel"
                .into(),
            Cause::GeneratorOffset { draws, seed } => format!(
                "the generator had advanced by {draws} draws after torch.manual_seed({seed}) \
                 before this result drew its numbers: a cell that draws random numbers ran in \
                 between, typically this cell or the one creating the layer, run again"
            ),
            Cause::SeedMissing { found, book } => format!(
                "the numbers come from a generator seeded with {found}, not {book}: \
                 torch.manual_seed({book}) did not run before this cell, so the generator \
                 continued from an earlier cell's seed"
            ),
            Cause::QkvBias => "the query, key and value layers have biases (qkv_bias=True); \
                the book builds them without, and the biases also take draws from the generator"
                .into(),
            Cause::DropoutInEval(p) => format!(
                "dropout was active: the module was built with dropout {p} and ran in training \
                 mode (a new module is in training mode); the book builds it with 0.0"
            ),
            Cause::DropoutOff => "dropout dropped nothing: the layer was in evaluation mode \
                (.eval()), where it passes its input through; the book's cell runs it in \
                training mode"
                .into(),
            Cause::DOut { found, book } => format!("d_out is {found}; the book uses {book}"),
            Cause::NumHeads { found, book } => {
                format!("num_heads is {found}; the book uses {book}")
            }
            Cause::KoreanEx32 => "this is exercise 3.2 as the Korean edition's solution \
                computes it: the wrapper with d_out = 1, then an output projection \
                Linear(2, 2) with bias; the English solution has no projection"
                .into(),
        }
    }

    fn fix_en(&self) -> String {
        match self {
            Cause::Book => "nothing to fix".into(),
            Cause::BernoulliMkl => "nothing is wrong with your code (the mask is random \
                either way); PyTorch 2.7 or newer prints the book's matrix on every platform"
                .into(),
            Cause::GeneratorOffset { seed, .. } => format!(
                "run torch.manual_seed({seed}) again right before creating the layer (or \
                 re-run the cell that calls it), then this cell once"
            ),
            Cause::SeedMissing { book, .. } => {
                format!("call torch.manual_seed({book}) right before creating the layer")
            }
            Cause::QkvBias => "build the layers with qkv_bias=False (the default)".into(),
            Cause::DropoutInEval(_) => "build the module with dropout 0.0 as the book does, or \
                call .eval() on it before computing outputs you compare"
                .into(),
            Cause::DropoutOff => "call .train() on the dropout layer (a new nn.Dropout is in \
                training mode)"
                .into(),
            Cause::DOut { book, .. } => format!("use d_out = {book}"),
            Cause::NumHeads { book, .. } => format!("use num_heads = {book}"),
            Cause::KoreanEx32 => "both are valid answers; compare with the solution you \
                followed (the English one prints exercise 3.2 without the projection)"
                .into(),
        }
    }

    fn why_ko(&self) -> String {
        match self {
            Cause::Book => "책에 출력된 결과와 같습니다: 다른 점이 없습니다".into(),
            Cause::BernoulliMkl => "드롭아웃 마스크를 인텔 MKL의 베르누이 커널이 뽑았습니다. \
                파이토치 2.6 이하는 x86-64 리눅스와 윈도(구글 Colab 포함)에서 이 커널을 씁니다. \
                책의 컴퓨터는 파이토치 자체의 직렬 커널을 썼습니다"
                .into(),
            Cause::GeneratorOffset { draws, seed } => format!(
                "torch.manual_seed({seed}) 다음, 이 결과가 난수를 뽑기 전에 난수를 {draws}개 \
                 이미 소비했습니다: 그 사이에 난수를 뽑는 셀이 실행되었습니다. 보통 이 셀이나 \
                 층을 만드는 셀을 다시 실행한 경우입니다"
            ),
            Cause::SeedMissing { found, book } => format!(
                "숫자가 나온 난수 생성기의 시드는 {found}입니다(책은 {book}): 이 셀 전에 \
                 torch.manual_seed({book}) 호출이 실행되지 않아 난수 생성기가 앞 셀의 시드에서 \
                 이어서 진행했습니다"
            ),
            Cause::QkvBias => "쿼리, 키, 값 층에 편향이 있습니다(qkv_bias=True). 책은 편향 \
                없이 만들며, 편향도 난수 생성기에서 난수를 뽑습니다"
                .into(),
            Cause::DropoutInEval(p) => format!(
                "드롭아웃이 적용되었습니다: 모듈을 드롭아웃 비율 {p}로 만들어 훈련 모드로 \
                 실행했습니다(새 모듈은 훈련 모드입니다). 책은 0.0으로 만듭니다"
            ),
            Cause::DropoutOff => "드롭아웃이 아무것도 버리지 않았습니다: 드롭아웃 층이 평가 \
                모드(.eval())여서 입력을 그대로 내보냈습니다. 책의 셀은 훈련 모드로 실행합니다"
                .into(),
            Cause::DOut { found, book } => {
                format!("d_out이 {found}입니다. 책의 값은 {book}입니다")
            }
            Cause::NumHeads { found, book } => {
                format!("num_heads가 {found}입니다. 책의 값은 {book}입니다")
            }
            Cause::KoreanEx32 => "한국어판 해답으로 계산한 연습문제 3.2입니다: d_out = 1인 \
                래퍼 다음에 편향이 있는 출력 투영 Linear(2, 2)가 있습니다. 영어판 해답에는 \
                투영이 없습니다"
                .into(),
        }
    }

    fn fix_ko(&self) -> String {
        match self {
            Cause::Book => "고칠 것이 없습니다".into(),
            Cause::BernoulliMkl => "코드에는 문제가 없습니다(마스크는 어느 쪽이든 랜덤합니다). \
                파이토치 2.7 이상은 모든 플랫폼에서 책과 같은 행렬을 출력합니다"
                .into(),
            Cause::GeneratorOffset { seed, .. } => format!(
                "층을 만들기 바로 전에 torch.manual_seed({seed}) 호출을 다시 실행하고(또는 그 \
                 호출이 있는 셀을 다시 실행하고) 이 셀을 한 번만 실행하세요"
            ),
            Cause::SeedMissing { book, .. } => {
                format!("층을 만들기 바로 전에 torch.manual_seed({book}) 호출을 넣으세요")
            }
            Cause::QkvBias => "qkv_bias=False(기본값)로 층을 만드세요".into(),
            Cause::DropoutInEval(_) => "책처럼 드롭아웃 비율 0.0으로 모듈을 만들거나, 비교할 \
                출력을 계산하기 전에 .eval()을 호출하세요"
                .into(),
            Cause::DropoutOff => "드롭아웃 층에 .train()을 호출하세요(새로 만든 nn.Dropout은 \
                훈련 모드입니다)"
                .into(),
            Cause::DOut { book, .. } => format!("d_out = {book}로 설정하세요"),
            Cause::NumHeads { book, .. } => format!("num_heads = {book}로 설정하세요"),
            Cause::KoreanEx32 => "둘 다 맞는 답입니다. 따라 한 해답과 비교하세요(영어판 \
                해답은 투영 없이 연습문제 3.2를 출력합니다)"
                .into(),
        }
    }
}
