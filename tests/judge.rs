//! The judge (`spec`) judged: the reference passes every exercise; every misconception of the
//! catalog, committed, fails its exercise with its own explanation and no other; results that are
//! wrong in a way no misconception explains are never given a misconception's name; every
//! failing verdict shows the book's printed tensor; every verdict exists in Korean.

use std::time::{Duration, Instant};

use ch03_attention::nalgebra::{DMatrix, DVector};
use ch03_attention::spec::{
    self, CATALOG, EXERCISES, Implementation, Judge, Lang, REFERENCE, Reference, Status, Verdict,
    judge, judge_all,
};
use ch03_attention::{Linear, TorchRng};

/// The verdict of `id` for `imp` in `lang`.
fn verdict(imp: &Implementation, id: &str, lang: Lang) -> Verdict {
    judge(imp, id, lang).expect("a known exercise")
}

#[test]
fn the_reference_passes_every_exercise_in_both_languages() {
    for lang in [Lang::En, Lang::Ko] {
        let verdicts = judge_all(&REFERENCE, lang);
        assert_eq!(verdicts.len(), EXERCISES.len());
        let failing: Vec<&Verdict> = verdicts
            .iter()
            .filter(|v| v.status != Status::Done)
            .collect();
        assert!(failing.is_empty(), "{failing:#?}");
    }
    // The trait form reaches the same verdicts.
    let all = spec::check_all::<Reference>();
    assert_eq!(all.len(), 21);
    assert!(all.iter().all(|v| v.status == Status::Done));
    assert_eq!(
        spec::check::<Reference>("softmax"),
        Some(Verdict::done("softmax"))
    );
    let quick = spec::check_with_limit::<Reference>("softmax", Duration::from_secs(5));
    assert_eq!(quick, Some(Verdict::done("softmax")));
    assert!(spec::check::<Reference>("no_such_exercise").is_none());
    assert!(format!("{:?}", EXERCISES[0]).contains("id: \"dot_scores\""));
    let m = &CATALOG[0];
    assert_eq!(
        format!("{m:?}"),
        format!("Misconception({} in {})", m.id, m.exercise)
    );
}

/// The reference's parameter count is the judge's yardstick for learners' counts on inputs the book
/// never prints (with `qkv_bias=True`): it must agree with the parameters a `MultiHeadAttention`
/// of those sizes really holds, counted by the module itself.
#[test]
fn the_reference_counts_the_parameters_a_module_holds() {
    for (d_in, d_out, heads, bias) in [(3, 2, 2, true), (8, 4, 2, false), (5, 6, 3, true)] {
        let mha = ch03_attention::MultiHeadAttention::new(
            d_in,
            d_out,
            4,
            0.0,
            heads,
            bias,
            &mut TorchRng::manual_seed(1),
        )
        .unwrap();
        assert_eq!(
            (REFERENCE.num_parameters)(d_in, d_out, heads, bias),
            mha.num_parameters(),
            "({d_in}, {d_out}, {heads}, {bias})"
        );
    }
}

/// Each dropout misconception is one mistake, not a broken layer: where the mistake cannot bite
/// (rate 1 in training, where PyTorch returns zeros; rate 0, where it returns the input) it gives
/// PyTorch's values, as the reference does.
#[test]
fn dropout_misconceptions_agree_with_pytorch_at_rates_0_and_1() {
    let x = DMatrix::from_fn(3, 4, |i, j| (i as f32 - 1.0) * 0.5 + j as f32 * 0.25);
    let dropout = CATALOG.iter().filter(|m| m.exercise == "dropout");
    for m in dropout {
        let mut g = TorchRng::manual_seed(1);
        let all = (m.implementation.dropout)(&x, 1.0, true, &mut g);
        assert_eq!(all, DMatrix::zeros(3, 4), "{}: rate 1", m.id);
        let none = (m.implementation.dropout)(&x, 0.0, true, &mut g);
        assert_eq!(none, x, "{}: rate 0", m.id);
    }
    assert_eq!(
        CATALOG.iter().filter(|m| m.exercise == "dropout").count(),
        6
    );
}

/// Each parameter-count misconception is exactly its mistake: the reference's count (checked
/// against the module above) less or more the tensors the mistake forgets or adds.
#[test]
fn parameter_misconceptions_are_each_one_mistake() {
    let count = |id: &str, case: (usize, usize, usize, bool)| {
        let m = CATALOG.iter().find(|m| m.id == id).unwrap();
        (m.implementation.num_parameters)(case.0, case.1, case.2, case.3)
    };
    for case @ (d_in, d_out, heads, bias) in [(3, 2, 2, true), (8, 4, 2, false), (5, 6, 3, true)] {
        let reference = (REFERENCE.num_parameters)(d_in, d_out, heads, bias);
        let qkv = 3 * (d_in * d_out + if bias { d_out } else { 0 });
        let out_proj = d_out * d_out + d_out;
        assert_eq!(count("params_without_out_proj", case), reference - out_proj);
        assert_eq!(
            count("params_out_proj_without_bias", case),
            reference - d_out
        );
        assert_eq!(
            count("params_per_head", case),
            reference + (heads - 1) * qkv
        );
        let with_bias = (REFERENCE.num_parameters)(d_in, d_out, heads, true);
        assert_eq!(count("params_qkv_bias_always", case), with_bias);
    }
}

#[test]
fn the_exercise_table_is_complete() {
    let ids: Vec<&str> = EXERCISES.iter().map(|e| e.id).collect();
    assert_eq!(
        ids,
        [
            "dot_scores",
            "sum_normalize",
            "softmax_naive",
            "softmax",
            "context_vec",
            "attn_scores",
            "attn_weights",
            "context_vecs",
            "self_attention_v1",
            "self_attention_v2",
            "exercise_3_1",
            "mask_then_renormalize",
            "causal_attn_weights",
            "dropout",
            "causal_attention",
            "multi_head_wrapper",
            "split_heads",
            "multi_head_attention",
            "exercise_3_2",
            "exercise_3_3",
            "kv_decode_step",
        ]
    );
    let files = [
        "s3_3_1.rs",
        "s3_3_2.rs",
        "s3_4.rs",
        "s3_5.rs",
        "s3_6.rs",
        "exercises.rs",
        "kv_cache.rs",
    ];
    let guides = [
        "similarity",
        "normalize",
        "context",
        "qkv",
        "causal",
        "dropout",
        "multihead",
        "kv_cache",
    ];
    let mut functions: Vec<&str> = EXERCISES
        .iter()
        .flat_map(|e| e.functions.to_vec())
        .collect();
    for e in EXERCISES {
        assert!(
            files.contains(&e.file) && guides.contains(&e.guide),
            "{e:?}"
        );
        for name in e.book {
            assert!(ch03_attention::book::find(name).is_some(), "{name}");
        }
    }
    assert_eq!(functions.len(), 24);
    functions.sort_unstable();
    functions.dedup();
    assert_eq!(functions.len(), 24, "a function in two exercises");
}

#[test]
fn the_catalog_has_at_least_40_misconceptions_and_at_least_two_per_exercise() {
    assert!(CATALOG.len() >= 40, "{}", CATALOG.len());
    let readme = include_str!("../README.md");
    assert!(
        readme.contains(&format!("({} are known,", CATALOG.len())),
        "README's count"
    );
    let mut ids: Vec<&str> = CATALOG.iter().map(|m| m.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), CATALOG.len(), "ids are unique");
    for e in EXERCISES {
        let n = CATALOG.iter().filter(|m| m.exercise == e.id).count();
        assert!(n >= 2, "{} has {n} misconceptions", e.id);
    }
}

/// The explanations of `exercise`'s misconceptions found in `message` (the judge names only
/// those of the exercise it judges).
fn named_in(message: &str, lang: Lang, exercise: &str) -> Vec<&'static str> {
    CATALOG
        .iter()
        .filter(|m| m.exercise == exercise && message.contains(m.text().get(lang)))
        .map(|m| m.id)
        .collect()
}

#[test]
#[ignore = "slow: a learner's `cargo test` skips it; CI runs it (`cargo test --lib --test '*' -- --include-ignored`)"]
fn each_misconception_committed_is_named_alone_and_fails_only_its_exercise() {
    for m in CATALOG {
        for lang in [Lang::En, Lang::Ko] {
            let v = verdict(&m.implementation, m.exercise, lang);
            assert_eq!(v.status, Status::Failing, "{}: {}", m.id, v.message);
            assert_eq!(
                named_in(&v.message, lang, m.exercise),
                [m.id],
                "{}:\n{}",
                m.id,
                v.message
            );
        }
        for e in EXERCISES.iter().filter(|e| e.id != m.exercise) {
            let v = verdict(&m.implementation, e.id, Lang::En);
            assert_eq!(
                v.status,
                Status::Done,
                "{} changed {}: {}",
                m.id,
                e.id,
                v.message
            );
        }
    }
}

/// A result changed in a way no misconception is: `kind` 1 adds 0.375 to the last number, 2
/// multiplies every number by 1.5, 3 swaps the first two numbers (or adds 1 when they are equal).
trait Perturb {
    fn perturb(self, kind: u8) -> Self;
}

fn perturb_slice(x: &mut [f32], kind: u8) {
    let n = x.len();
    match kind {
        1 => x[n - 1] += 0.375,
        2 => x.iter_mut().for_each(|v| *v *= 1.5),
        _ if n > 1 && x[0] != x[1] => x.swap(0, 1),
        _ => x[0] += 1.0,
    }
}

impl Perturb for DMatrix<f32> {
    fn perturb(mut self, kind: u8) -> Self {
        perturb_slice(self.as_mut_slice(), kind);
        self
    }
}

impl Perturb for DVector<f32> {
    fn perturb(mut self, kind: u8) -> Self {
        perturb_slice(self.as_mut_slice(), kind);
        self
    }
}

impl Perturb for Vec<DMatrix<f32>> {
    fn perturb(mut self, kind: u8) -> Self {
        let last = self.len() - 1;
        self[last] = self[last].clone().perturb(kind);
        self
    }
}

impl Perturb for [DMatrix<f32>; 3] {
    fn perturb(mut self, kind: u8) -> Self {
        self[0] = self[0].clone().perturb(kind);
        self
    }
}

impl<const N: usize> Perturb for [Linear; N] {
    fn perturb(mut self, kind: u8) -> Self {
        let weight = self[0].weight().clone().perturb(kind);
        self[0] = Linear::from_parts(weight, self[0].bias().cloned()).unwrap();
        self
    }
}

impl Perturb for usize {
    fn perturb(self, kind: u8) -> Self {
        match kind {
            1 => self + 7,
            2 => self * 3 / 2,
            _ => self + 1,
        }
    }
}

/// `perturbed::<K>()`: every function of the reference with its result perturbed by kind `K`.
macro_rules! perturbed {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        $(fn $name<const K: u8>($($arg: $ty),*) -> $ret { (REFERENCE.$name)($($arg),*).perturb(K) })*
        fn perturbed<const K: u8>() -> Implementation {
            Implementation { $($name: $name::<K>,)* }
        }
    };
}

perturbed! {
    attn_scores_for(query: &DVector<f32>, inputs: &DMatrix<f32>) -> DVector<f32>;
    sum_normalize(s: &DVector<f32>) -> DVector<f32>;
    softmax_naive(s: &DVector<f32>) -> DVector<f32>;
    softmax(s: &DVector<f32>) -> DVector<f32>;
    context_vec(w: &DVector<f32>, inputs: &DMatrix<f32>) -> DVector<f32>;
    attn_scores(inputs: &DMatrix<f32>) -> DMatrix<f32>;
    attn_weights(s: &DMatrix<f32>) -> DMatrix<f32>;
    context_vecs(w: &DMatrix<f32>, inputs: &DMatrix<f32>) -> DMatrix<f32>;
    self_attention_v1_weights(d_in: usize, d_out: usize, rng: &mut TorchRng) -> [DMatrix<f32>; 3];
    self_attention_v1(x: &DMatrix<f32>, w: &[DMatrix<f32>; 3]) -> DMatrix<f32>;
    self_attention_v2_layers(d_in: usize, d_out: usize, bias: bool, rng: &mut TorchRng) -> [Linear; 3];
    self_attention_v2(x: &DMatrix<f32>, layers: &[Linear; 3]) -> DMatrix<f32>;
    v1_weights_from_v2(layers: &[Linear; 3]) -> [DMatrix<f32>; 3];
    mask_then_renormalize(w: &DMatrix<f32>) -> DMatrix<f32>;
    causal_attn_weights(s: &DMatrix<f32>, d_k: usize) -> DMatrix<f32>;
    dropout(x: &DMatrix<f32>, p: f64, training: bool, rng: &mut TorchRng) -> DMatrix<f32>;
    causal_attention(batch: &[DMatrix<f32>], layers: &[Linear; 3], dropout: f64, training: bool, rng: &mut TorchRng) -> Vec<DMatrix<f32>>;
    multi_head_wrapper(batch: &[DMatrix<f32>], heads: &[[Linear; 3]]) -> Vec<DMatrix<f32>>;
    split_heads(m: &DMatrix<f32>, num_heads: usize) -> Vec<DMatrix<f32>>;
    multi_head_attention_layers(d_in: usize, d_out: usize, bias: bool, rng: &mut TorchRng) -> [Linear; 4];
    multi_head_attention(batch: &[DMatrix<f32>], layers: &[Linear; 4], heads: usize) -> Vec<DMatrix<f32>>;
    exercise_3_2() -> Vec<DMatrix<f32>>;
    num_parameters(d_in: usize, d_out: usize, heads: usize, bias: bool) -> usize;
    kv_decode_step(token: &DMatrix<f32>, layers: &[Linear; 4], heads: usize, keys: &mut [DMatrix<f32>], values: &mut [DMatrix<f32>]) -> DMatrix<f32>;
}

#[test]
fn results_wrong_in_other_ways_fail_with_no_misconception_named_and_the_book_shown() {
    for imp in [perturbed::<1>(), perturbed::<2>(), perturbed::<3>()] {
        for e in EXERCISES {
            let v = verdict(&imp, e.id, Lang::En);
            assert_eq!(v.status, Status::Failing, "{}: {}", e.id, v.message);
            assert!(
                named_in(&v.message, Lang::En, e.id).is_empty(),
                "{}:\n{}",
                e.id,
                v.message
            );
            assert!(
                !v.message.contains("exactly what this mistake computes"),
                "{}",
                v.message
            );
            for name in e.book {
                let book = ch03_attention::book::find(name).unwrap().expected();
                let first_line = book.lines().next().unwrap();
                assert!(
                    v.message.contains(first_line),
                    "{} should show {name}:\n{}",
                    e.id,
                    v.message
                );
            }
        }
    }
}

/// The lines of a message that are sentences (not tables, tensors or the learner's output).
fn sentences(message: &str) -> impl Iterator<Item = &str> {
    message
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.is_empty())
}

#[test]
#[ignore = "slow: a learner's `cargo test` skips it; CI runs it (`cargo test --lib --test '*' -- --include-ignored`)"]
fn every_verdict_is_in_korean_too() {
    let hangul = |l: &str| l.chars().any(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c));
    let mut checked = 0;
    let wrong: Vec<Implementation> = CATALOG
        .iter()
        .map(|m| m.implementation)
        .chain([perturbed::<1>(), perturbed::<2>()])
        .collect();
    for imp in &wrong {
        for e in EXERCISES {
            let (en, ko) = (verdict(imp, e.id, Lang::En), verdict(imp, e.id, Lang::Ko));
            assert_eq!(en.status, ko.status);
            for line in sentences(&ko.message) {
                assert!(
                    hangul(line),
                    "untranslated in {}: {line:?}\n{}",
                    e.id,
                    ko.message
                );
                assert!(!sentences(&en.message).any(|e| e == line), "{line}");
                checked += 1;
            }
        }
    }
    assert!(checked > 300, "{checked}");
}

#[test]
fn a_misconception_is_named_before_the_evidence_with_the_tables_whole() {
    let m = CATALOG
        .iter()
        .find(|m| m.id == "softmax_over_columns")
        .unwrap();
    let v = Judge::new(m.implementation, Lang::En)
        .with_width(200)
        .verdict("attn_weights")
        .unwrap();
    let lines: Vec<&str> = v.message.lines().collect();
    assert_eq!(
        lines[0],
        "Your results are exactly what this mistake computes on every input tried:"
    );
    assert_eq!(lines[1], m.en);
    assert!(
        lines[2].starts_with(
            "the weights of the 6 tokens: your result differs from the book's (3.3.2, cell ["
        ),
        "{}",
        v.message
    );
    assert!(
        lines[3].starts_with("  book ") && lines[3].ends_with("yours"),
        "{}",
        v.message
    );
    assert!(lines[4].contains(" │ tensor([["), "{}", v.message);
    // At 80 columns the table goes below, whole.
    let narrow = Judge::new(m.implementation, Lang::En)
        .verdict("attn_weights")
        .unwrap();
    assert!(
        narrow
            .message
            .lines()
            .all(|l| l.chars().count() <= 80 || !l.starts_with(' ')),
        "{}",
        narrow.message
    );
    assert!(
        narrow.message.contains("\n  book\n    tensor([["),
        "{}",
        narrow.message
    );
}

#[test]
fn todo_is_not_started_a_panic_is_failing_and_a_loop_times_out() {
    fn todo(_: &DVector<f32>) -> DVector<f32> {
        todo!()
    }
    fn panics(_: &DVector<f32>, _: &DMatrix<f32>) -> DVector<f32> {
        panic!("index out of bounds: the len is 3 but the index is 3")
    }
    fn slow(x: &DMatrix<f32>) -> DMatrix<f32> {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(30) {
            std::thread::sleep(Duration::from_millis(5));
        }
        REFERENCE.attn_scores.to_owned()(x)
    }
    let imp = Implementation {
        softmax: todo,
        context_vec: panics,
        attn_scores: slow,
        ..REFERENCE
    };
    let v = verdict(&imp, "softmax", Lang::En);
    assert_eq!(
        (v.status, v.message.as_str()),
        (
            Status::NotStarted,
            "not started: the function still calls todo!()"
        )
    );
    let v = verdict(&imp, "context_vec", Lang::Ko);
    assert_eq!(v.status, Status::Failing);
    assert!(
        v.message
            .starts_with("여러분의 코드에서 패닉이 일어났습니다 (tests/judge.rs:"),
        "{}",
        v.message
    );
    let lines: Vec<&str> = v.message.lines().collect();
    assert!(
        lines[0].ends_with("): index out of bounds: the len is 3 but the index is 3"),
        "{}",
        v.message
    );
    assert_eq!(lines[1], "일어난 곳: 쿼리 2의 문맥 벡터 z⁽²⁾.");
    // Nothing of the learner's to compare: the book's tensor alone.
    assert_eq!(
        lines[2], "책의 출력(3.3.1, 셀 [8], 영어판 [40]):",
        "{}",
        v.message
    );
    assert_eq!(
        lines[4], "    tensor([0.4419, 0.6515, 0.5683])",
        "{}",
        v.message
    );
    let start = Instant::now();
    let v = Judge::new(imp, Lang::En)
        .with_limit(Duration::from_millis(200))
        .verdict("attn_scores")
        .unwrap();
    assert!(start.elapsed() < Duration::from_secs(5));
    assert_eq!(v.status, Status::Failing);
    assert!(
        v.message
            .starts_with("your code did not return within 0.2 s"),
        "{}",
        v.message
    );
}

#[test]
fn a_written_function_waiting_for_an_unwritten_one_is_waiting() {
    // The learner's files, as the judge reads them: `attn_weights` is written and calls
    // `softmax`, which is still its stub (line 4 of s3_3_1.rs).
    static SOURCES: &[(&str, &str)] = &[
        (
            "s3_3_1.rs",
            "use x;\n\npub fn softmax(s: &DVector<f32>) -> DVector<f32> {\n    your_code!(s)\n}\n",
        ),
        (
            "s3_3_2.rs",
            "pub fn attn_weights(s: &DMatrix<f32>) -> DMatrix<f32> {\n    rows(s)\n}\n\npub fn attn_scores(x: &DMatrix<f32>) -> DMatrix<f32> {\n    your_code!(x)\n}\n",
        ),
    ];
    let judge = Judge::new(REFERENCE, Lang::En).with_sources(SOURCES);
    let v = judge.verdict("attn_scores").unwrap();
    assert_eq!(v.status, Status::NotStarted);
    assert_eq!(
        v.message,
        "not started: write `attn_scores` (practice/src/s3_3_2.rs:5)"
    );
    assert_eq!(judge.verdict("softmax").unwrap().status, Status::NotStarted);
    assert_eq!(judge.verdict("attn_weights").unwrap().status, Status::Done); // the reference runs
}

/// Every misconception's verdict, in English and in Korean, as a learner reads it (100
/// columns): a change to a check, a wrong formula or a sentence shows in the snapshot's diff.
#[test]
fn the_catalogs_verdicts_are_pinned() {
    let mut text = String::new();
    for m in CATALOG {
        for lang in [Lang::En, Lang::Ko] {
            let v = Judge::new(m.implementation, lang)
                .with_width(100)
                .verdict(m.exercise)
                .unwrap();
            text.push_str(&format!(
                "== {} ({}, {})\n{}\n\n",
                m.id,
                m.exercise,
                lang.code(),
                v.message
            ));
        }
    }
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_description("every misconception of spec::CATALOG, judged (en, then ko)");
    settings.set_omit_expression(true);
    settings.bind(|| insta::assert_snapshot!("judge_catalog_verdicts", text));
}

#[test]
fn languages_read_their_codes_back() {
    for lang in [Lang::En, Lang::Ko] {
        assert_eq!(Lang::parse(lang.code()), Some(lang));
    }
    assert_eq!(Lang::parse("fr"), None);
    assert_eq!((Lang::En.code(), Lang::Ko.code()), ("en", "ko"));
    let t = spec::Text::new("a", "가");
    assert_eq!(
        t.join(" — ", &spec::Text::same("b")),
        spec::Text::new("a — b", "가 — b")
    );
    assert_eq!(spec::Text::same("x"), spec::Text::new("x", "x"));
}

#[test]
fn the_practice_pages_example_is_a_real_verdict() {
    let m = CATALOG
        .iter()
        .find(|m| m.id == "naive_softmax_overflows")
        .unwrap();
    // As the progress command prints it in an 88-column terminal: tables fit 86 columns,
    // sentences are wrapped at 86, everything indented by 2 (left out on the page).
    let v = Judge::new(m.implementation, Lang::En)
        .with_width(86)
        .verdict("softmax")
        .unwrap();
    let shown = spec::text::wrap_message(&v.message, 86);
    let page = include_str!("../docs/practice.md");
    assert!(page.contains(&format!("```text\n{shown}\n```")), "{shown}");
    for claim in [
        format!("one of the {} of", CATALOG.len()),
        format!("등 {}가지", CATALOG.len()),
    ] {
        assert!(page.contains(&claim), "{claim}");
    }
}

#[test]
fn the_book_is_cited_with_the_korean_notebooks_cell_in_korean() {
    let p = ch03_attention::book::find("s3_5_1_causal_attn_weights").unwrap();
    assert_eq!(p.place().get(Lang::En), "3.5.1, cell [110]");
    assert_eq!(p.place().get(Lang::Ko), "3.5.1, 셀 [30], 영어판 [110]");
    let p = ch03_attention::book::find("exercise_3_1_sa_v1").unwrap();
    assert_eq!(p.place().get(Lang::Ko), "연습문제 3.1, 셀 [6], 영어판 [8]");
    let p = ch03_attention::book::find("exercise_3_2_korean_edition_context_vecs").unwrap();
    assert_eq!(p.place().get(Lang::Ko), "연습문제 3.2 (한국어판), 셀 [9]"); // a Korean cell already
}

/// A learner's files in the middle of the chapter (`tests/learner/`), as the practice judge
/// compiles them: their functions, and their text for the judge to read.
mod learner {
    #[path = "../learner/s3_3_1.rs"]
    pub mod s3_3_1;
    #[path = "../learner/s3_3_2.rs"]
    pub mod s3_3_2;
    #[path = "../learner/s3_4.rs"]
    pub mod s3_4;

    pub static SOURCES: &[(&str, &str)] = &[
        ("s3_3_1.rs", include_str!("learner/s3_3_1.rs")),
        ("s3_3_2.rs", include_str!("learner/s3_3_2.rs")),
        ("s3_4.rs", include_str!("learner/s3_4.rs")),
    ];
}

#[test]
fn a_todo_is_placed_not_started_waiting_unfinished_or_a_helper() {
    fn elsewhere(_: &DMatrix<f32>) -> DMatrix<f32> {
        todo!()
    }
    let imp = Implementation {
        softmax: learner::s3_3_1::softmax,
        softmax_naive: learner::s3_3_1::softmax_naive,
        sum_normalize: learner::s3_3_1::sum_normalize,
        attn_weights: learner::s3_3_2::attn_weights,
        self_attention_v1_weights: learner::s3_4::self_attention_v1_weights,
        self_attention_v1: learner::s3_4::self_attention_v1,
        attn_scores: elsewhere,
        ..REFERENCE
    };
    let judge = Judge::new(imp, Lang::En).with_sources(learner::SOURCES);
    let v = |id: &str| judge.verdict(id).unwrap();
    let at = |file: &str, line: usize| format!("practice/src/{file}:{line}");
    assert_eq!(
        (v("softmax").status, v("softmax").message),
        (
            Status::NotStarted,
            format!("not started: write `softmax` ({})", at("s3_3_1.rs", 6))
        )
    );
    let waiting = v("attn_weights");
    assert_eq!(waiting.status, Status::Waiting);
    assert_eq!(
        waiting.message.lines().next().unwrap(),
        format!(
            "waiting for `softmax` (exercise softmax, {})",
            at("s3_3_1.rs", 7)
        )
    );
    let unfinished = v("softmax_naive");
    assert_eq!(unfinished.status, Status::Failing);
    assert!(
        unfinished.message.starts_with(&format!(
            "your `softmax_naive` still reaches a todo!() ({}): finish it",
            at("s3_3_1.rs", 12)
        )),
        "{}",
        unfinished.message
    );
    let helper = v("sum_normalize");
    assert_eq!(helper.status, Status::Failing);
    assert!(
        helper.message.starts_with(&format!(
            "your function `total` reaches a todo!() ({})",
            at("s3_3_1.rs", 20)
        )),
        "{}",
        helper.message
    );
    let half = v("self_attention_v1");
    assert_eq!(half.status, Status::Failing);
    assert!(
        half.message.starts_with(&format!(
            "`self_attention_v1` is still its stub ({}): this exercise needs \
             `self_attention_v1_weights`, `self_attention_v1` written",
            at("s3_4.rs", 16)
        )),
        "{}",
        half.message
    );
    // A todo!() outside the learner's files is not placed in them.
    assert_eq!(
        v("attn_scores").message,
        "not started: the function still calls todo!()"
    );
    assert_eq!(v("context_vec").status, Status::Done);
}
