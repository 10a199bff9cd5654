//! What `diagnose` says and how: every cause's explanation and fix (English and Korean), the
//! text's layout, the notes, the JSON of a value and of a paste, and the command line's
//! `--lang ko` and exit statuses.

use crate::common;

use ch03_attention::book;
use ch03_attention::book::Setup;
use ch03_attention::diagnose::{self, BadInput, Note};
use ch03_attention::walkthrough::Lang;
use tinyjson::JsonValue;

/// Every cause says what happened and what to do, with its own numbers.
#[test]
fn every_cause_explains_itself() {
    use ch03_attention::diagnose::Cause;
    let causes = [
        (Cause::Book, "book", "nothing differs", "nothing to fix"),
        (
            Cause::BernoulliMkl,
            "bernoulli-mkl",
            "MKL",
            "PyTorch 2.7 or newer",
        ),
        (
            Cause::GeneratorOffset {
                draws: 36,
                seed: 123,
            },
            "generator-offset:36",
            "advanced by 36 draws after torch.manual_seed(123)",
            "run torch.manual_seed(123) again",
        ),
        (
            Cause::SeedMissing {
                found: 123,
                book: 789,
            },
            "seed-missing",
            "seeded with 123, not 789",
            "call torch.manual_seed(789)",
        ),
        (
            Cause::QkvBias,
            "qkv-bias",
            "qkv_bias=True",
            "qkv_bias=False",
        ),
        (
            Cause::DropoutInEval(0.1),
            "dropout-in-eval",
            "dropout 0.1",
            ".eval()",
        ),
        (
            Cause::DropoutOff,
            "dropout-off",
            "evaluation mode",
            ".train()",
        ),
        (
            Cause::DOut { found: 3, book: 2 },
            "d-out:3",
            "d_out is 3; the book uses 2",
            "d_out = 2",
        ),
        (
            Cause::NumHeads { found: 1, book: 2 },
            "num-heads:1",
            "num_heads is 1; the book uses 2",
            "num_heads = 2",
        ),
        (
            Cause::KoreanEx32,
            "korean-ex3.2",
            "Korean edition",
            "both are valid answers",
        ),
    ];
    for (cause, tag, why, fix) in causes {
        assert_eq!(cause.tag(), tag);
        assert!(cause.why().contains(why), "{tag}: {}", cause.why());
        assert!(cause.fix().contains(fix), "{tag}: {}", cause.fix());
    }
    // The knob each cause turns: what a value in the same cell keeps of it.
    use ch03_attention::book::Knob;
    let knobs: Vec<Option<Knob>> = causes.iter().map(|(c, ..)| c.knob()).collect();
    assert_eq!(
        knobs,
        [
            None,
            Some(Knob::Bernoulli),
            Some(Knob::Generator),
            Some(Knob::Generator),
            Some(Knob::QkvBias),
            Some(Knob::ModuleDropout),
            Some(Knob::DropoutOff),
            Some(Knob::DOut),
            Some(Knob::NumHeads),
            Some(Knob::DOut),
        ]
    );
}

/// The text shows each cause's explanation and fix, wrapped to 88 columns, and names the other
/// results that print the same text.
#[test]
fn the_text_shows_causes_fixes_and_alternatives() {
    let d = diagnose::diagnose(book::s3_5::DROPOUT_ONES_LINUX_MKL).unwrap();
    let shown = d.to_string();
    assert!(
        shown.contains("  computed under: bernoulli-mkl\n"),
        "{shown}"
    );
    assert!(
        shown.contains("  ✗ bernoulli-mkl: the dropout mask was drawn"),
        "{shown}"
    );
    assert!(
        shown.contains("    fix: nothing is wrong with your code"),
        "{shown}"
    );
    assert!(shown.lines().all(|l| l.chars().count() <= 88), "{shown}");
    assert!(
        shown.lines().count() > 12,
        "the explanation is wrapped, not one long line"
    );
    // 3.3.1 prints the same weights in two cells ([35] and [37]): the first is named, then the other.
    let weights = "tensor([0.1385, 0.2379, 0.2333, 0.1240, 0.1082, 0.1581])";
    let d = diagnose::diagnose(weights).unwrap();
    let shown = d.to_string();
    assert!(
        shown.contains("✓ identical to the book's printed result"),
        "{shown}"
    );
    assert!(
        shown.contains("the same text is also 3.3.1 cell [37]"),
        "{shown}"
    );
    let json: JsonValue = d.to_json().parse().unwrap();
    let also: &Vec<JsonValue> = json["also"].get().unwrap();
    assert_eq!(also[0]["cell"].get::<String>().unwrap(), "[37]");
    assert!(shown.ends_with(" ms)"), "{shown}");
    assert!(shown.contains(&format!("({} candidates compared in", d.candidates)));
}

/// `--json`: one object with the documented fields.
#[test]
fn json_has_the_documented_fields() {
    let d = diagnose::diagnose(book::s3_5::DROPOUT_ONES_LINUX_MKL).unwrap();
    let json: JsonValue = d.to_json().parse().expect("valid JSON");
    assert_eq!(json["matched"].get::<bool>(), Some(&true));
    assert_eq!(json["section"].get::<String>().unwrap(), "3.5.2");
    assert_eq!(json["cell"].get::<String>().unwrap(), "[115]");
    let causes: &Vec<JsonValue> = json["causes"].get().unwrap();
    assert_eq!(causes[0].get::<String>().unwrap(), "bernoulli-mkl");
    assert!(json["closest"].is_null());
}

/// An error with a control character in it (a file name with a newline) is still valid JSON.
#[test]
fn error_json_escapes_control_characters() {
    let e = BadInput::Unreadable("a\nb\u{1}\"c\\".to_string());
    let json: JsonValue = e.to_json().parse().expect("valid JSON");
    assert_eq!(
        json["error"].get::<String>().unwrap(),
        "cannot read the input: a\nb\u{1}\"c\\"
    );
}

/// The notes: a GPU's device and a 16-bit dtype are said when nothing is recognised, and
/// nothing is said when the numbers are recognised.
#[test]
fn device_and_dtype_notes() {
    let unknown =
        "tensor([[0.1111, 0.2222], [0.3333, 0.4444]], device='cuda:0', dtype=torch.float16)";
    let d = diagnose::diagnose(unknown).unwrap();
    assert_eq!(
        d.notes,
        [
            Note::Device("cuda:0".into()),
            Note::Dtype("torch.float16".into())
        ]
    );
    let shown = d.to_string();
    assert!(shown.contains("note: your tensor is on cuda:0"), "{shown}");
    assert!(shown.contains("note: your tensor is torch.float16; this crate computes in float32"));
    let ko = d.render(Lang::Korean);
    assert!(ko.contains("참고: 입력 텐서는 cuda:0에 있습니다"), "{ko}");
    let known = book::s3_4::QUERY_2.book.replace(")", ", device='cuda:0')");
    assert!(diagnose::diagnose(&known).unwrap().notes.is_empty());
    let cpu = "tensor([[0.1111, 0.2222]], device='cpu', dtype=torch.float64)";
    assert!(diagnose::diagnose(cpu).unwrap().notes.is_empty());
}

/// Display columns of a line: two for Hangul syllables.
fn columns(line: &str) -> usize {
    line.chars()
        .map(|c| {
            if ('\u{AC00}'..='\u{D7A3}').contains(&c) {
                2
            } else {
                1
            }
        })
        .sum()
}

/// `--lang ko`: every part of the report in Korean, wrapped to 88 columns.
#[test]
fn the_report_in_korean() {
    let d = diagnose::diagnose(book::s3_5::DROPOUT_ONES_LINUX_MKL).unwrap();
    let ko = d.render(Lang::Korean);
    for part in [
        "인식함: 3.5.2, 셀 [31], 영어판 [115]: ones(6, 6)에 Dropout(0.5)",
        "계산 조건: bernoulli-mkl",
        "✗ bernoulli-mkl: 드롭아웃 마스크를 인텔 MKL의 베르누이 커널이 뽑았습니다.",
        "해결 방법: 코드에는 문제가 없습니다",
        "책의 출력:",
        "근거: 출력된 숫자 36개(정수), 그중 난수에 따라 달라지는 숫자 36개.",
        "(후보 42개를",
    ] {
        assert!(ko.contains(part), "{part:?} in\n{ko}");
    }
    assert!(ko.lines().all(|l| columns(l) <= 88), "{ko}");
    let score = book::find("s3_4_1_attn_score_22").unwrap();
    let twice = (score.compute_with)(&Setup {
        offset: 18,
        ..Setup::BOOK
    })
    .unwrap();
    let ko = diagnose::diagnose(&twice).unwrap().render(Lang::Korean);
    assert!(ko.starts_with("판단 보류: 설정 "), "{ko}");
    assert!(
        ko.contains("출력된 숫자 하나로는 원인을 말하지 않습니다"),
        "{ko}"
    );
    let ko = diagnose::diagnose("tensor([0.1111, 0.2222])")
        .unwrap()
        .render(Lang::Korean);
    assert!(ko.starts_with("인식하지 못함: "), "{ko}");
    assert!(ko.contains("가장 가까운 결과: "), "{ko}");
    let ko = diagnose::report(&format!(
        "{}\n{}",
        book::s3_6::FIRST_HEAD.book,
        book::s3_6::SECOND_HEAD.book
    ))
    .unwrap()
    .render(Lang::Korean);
    assert!(
        ko.starts_with("붙여 넣은 텍스트에 값이 2개 있습니다."),
        "{ko}"
    );
    assert!(
        ko.contains("── 값 2/2, 6번째 줄: 크기가 [3, 3]인 텐서, 레이블 \"Second head\""),
        "{ko}"
    );
}

/// Every cause says what happened and what to do in Korean too, with its own numbers.
#[test]
fn every_cause_explains_itself_in_korean() {
    use ch03_attention::diagnose::Cause;
    for (cause, why, fix) in [
        (Cause::Book, "다른 점이 없습니다", "고칠 것이 없습니다"),
        (
            Cause::BernoulliMkl,
            "파이토치 2.6 이하",
            "파이토치 2.7 이상",
        ),
        (
            Cause::GeneratorOffset {
                draws: 36,
                seed: 123,
            },
            "난수를 36개 이미 소비했습니다",
            "torch.manual_seed(123) 호출을 다시 실행하고",
        ),
        (
            Cause::SeedMissing {
                found: 123,
                book: 789,
            },
            "시드는 123입니다(책은 789)",
            "torch.manual_seed(789) 호출을 넣으세요",
        ),
        (
            Cause::QkvBias,
            "편향이 있습니다(qkv_bias=True)",
            "qkv_bias=False",
        ),
        (
            Cause::DropoutInEval(0.1),
            "드롭아웃 비율 0.1로",
            ".eval()을 호출하세요",
        ),
        (
            Cause::DropoutOff,
            "평가 모드(.eval())",
            ".train()을 호출하세요",
        ),
        (
            Cause::DOut { found: 3, book: 2 },
            "d_out이 3입니다. 책의 값은 2입니다",
            "d_out = 2로",
        ),
        (
            Cause::NumHeads { found: 1, book: 2 },
            "num_heads가 1입니다. 책의 값은 2입니다",
            "num_heads = 2로",
        ),
        (Cause::KoreanEx32, "한국어판 해답", "둘 다 맞는 답입니다"),
    ] {
        assert!(
            cause.why_in(Lang::Korean).contains(why),
            "{}",
            cause.why_in(Lang::Korean)
        );
        assert!(
            cause.fix_in(Lang::Korean).contains(fix),
            "{}",
            cause.fix_in(Lang::Korean)
        );
    }
}

/// The JSON of a paste: the primary value's fields at the top, then every value.
#[test]
fn the_json_of_a_paste() {
    let cell = format!(
        "Out[3]: {}\ncontext_vecs.shape: torch.Size([2, 6, 2])\n",
        book::s3_6::MHA_CONTEXT_VECS.book
    );
    let report = diagnose::report(&cell).unwrap();
    let json: JsonValue = report.to_json().parse().expect("valid JSON");
    assert_eq!(json["status"].get::<String>().unwrap(), "recognised");
    assert_eq!(json["matched"].get::<bool>(), Some(&true));
    assert_eq!(json["cell"].get::<String>().unwrap(), "[131]");
    assert_eq!(json["grad_fn"].get::<String>().unwrap(), "ViewBackward0");
    assert_eq!(*json["primary"].get::<f64>().unwrap(), 0.0);
    assert!(json["chance"].get::<f64>().is_some_and(|c| *c < 1e-30));
    let values: &Vec<JsonValue> = json["values"].get().unwrap();
    assert_eq!(values.len(), 2);
    assert_eq!(*values[1]["line"].get::<f64>().unwrap(), 14.0);
    assert_eq!(
        values[1]["label"].get::<String>().unwrap(),
        "context_vecs.shape"
    );
    assert_eq!(values[1]["cell"].get::<String>().unwrap(), "[131]"); // the primary's cell
    assert!(values[1]["chance"].is_null()); // no random number changes a shape
    // A shape line first: the tensor is still the primary.
    let shape_first = format!(
        "context_vecs.shape: torch.Size([2, 6, 2])\n{}",
        book::s3_6::MHA_CONTEXT_VECS.book
    );
    assert_eq!(diagnose::report(&shape_first).unwrap().primary, 1);
    assert_eq!(
        diagnose::report("torch.Size([2, 6, 2])").unwrap().primary,
        0
    );
    // Ambiguous: matched false, the setups listed.
    let score = book::find("s3_4_1_attn_score_22").unwrap();
    let twice = (score.compute_with)(&Setup {
        offset: 18,
        ..Setup::BOOK
    })
    .unwrap();
    let json: JsonValue = diagnose::diagnose(&twice)
        .unwrap()
        .to_json()
        .parse()
        .unwrap();
    assert_eq!(json["status"].get::<String>().unwrap(), "ambiguous");
    assert_eq!(json["matched"].get::<bool>(), Some(&false));
    assert!(json["section"].is_null());
    assert!(
        !json["ambiguous"]
            .get::<Vec<JsonValue>>()
            .unwrap()
            .is_empty()
    );
    assert!(*json["chance"].get::<f64>().unwrap() > 0.0);
}

/// The binary: `--lang ko`, an ambiguous answer exits 1, a whole cell with every value
/// recognised exits 0.
#[test]
fn the_command_line_in_korean_and_for_cells() {
    let run = |input: &str, args: &[&str]| common::run_diagnose(input.as_bytes(), args);
    let (code, out, _) = run(book::s3_5::DROPOUT_ONES_LINUX_MKL, &["--lang", "ko"]);
    assert_eq!(code, Some(0));
    assert!(
        out.starts_with("인식함: 3.5.2, 셀 [31], 영어판 [115]"),
        "{out}"
    );
    let cell = format!(
        "{}\ncontext_vecs.shape: torch.Size([2, 6, 2])\n",
        book::s3_6::MHA_CONTEXT_VECS.book
    );
    let (code, out, _) = run(&cell, &[]);
    assert_eq!(code, Some(0));
    assert!(
        out.starts_with("2 values in the paste, each diagnosed below:\n"),
        "{out}"
    );
    let score = book::find("s3_4_1_attn_score_22").unwrap();
    let twice = (score.compute_with)(&Setup {
        offset: 18,
        ..Setup::BOOK
    })
    .unwrap();
    let (code, out, _) = run(&twice, &["--json"]);
    assert_eq!(code, Some(1));
    assert!(out.contains("\"status\": \"ambiguous\""), "{out}");
    let (code, _, err) = run("tensor(1.)", &["--lang", "fr"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("--lang takes `ko` or `en`"), "{err}");
    let (code, _, err) = run("tensor(1.)", &["a", "b"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("diagnose takes one FILE"), "{err}");
}

/// The times of a report replaced by `…` (they vary from run to run).
fn without_times(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let words: Vec<&str> = line.split(' ').collect();
        let mut kept = Vec::new();
        for (i, w) in words.iter().enumerate() {
            let next_is_ms = words.get(i + 1).is_some_and(|n| n.starts_with("ms"));
            let numeric = !w.is_empty() && w.chars().all(|c| c.is_ascii_digit());
            kept.push(if next_is_ms && numeric { "…" } else { w });
        }
        out.push_str(&kept.join(" "));
        out.push('\n');
    }
    out
}

/// The `text` block after the marker `<!-- diagnose KIND: NAME… -->` in docs/diagnose.md.
fn docs_block(marker: &str) -> String {
    let page =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/diagnose.md")).unwrap();
    let at = page
        .find(&format!("<!-- diagnose {marker} -->"))
        .unwrap_or_else(|| panic!("no marker {marker}"));
    let fence = page[at..].find("```text\n").unwrap() + at + "```text\n".len();
    let end = page[fence..].find("```\n").unwrap() + fence;
    page[fence..end].to_string()
}

/// The study guide's examples are what `diagnose` prints for PyTorch's own printouts, in
/// English and in Korean (times left out).
#[test]
fn the_docs_examples_are_what_diagnose_prints() {
    assert_eq!(
        docs_block("input: cell_mha_run_twice"),
        common::fixture_text("cell_mha_run_twice")
    );
    for (name, lang, marker) in [
        (
            "cell_mha_run_twice",
            Lang::English,
            "output: cell_mha_run_twice en",
        ),
        (
            "cell_mha_run_twice",
            Lang::Korean,
            "output: cell_mha_run_twice ko",
        ),
        (
            "score_22_run_twice_4_decimals",
            Lang::English,
            "output: score_22_run_twice_4_decimals en",
        ),
    ] {
        let report = diagnose::report(&common::fixture_text(name)).unwrap();
        assert_eq!(
            without_times(&report.render(lang)),
            docs_block(marker),
            "{marker}"
        );
    }
}

/// The parts of the report few pastes reach: a long list of setups, a `grad_fn` on a result
/// that prints none, a shape no result has, and each kind of value, in both languages.
#[test]
#[ignore = "slow: a learner's `cargo test` skips it; CI runs it (`cargo test --lib --test '*' -- --include-ignored`)"]
fn the_rarer_parts_of_the_report() {
    use ch03_attention::diagnose::Status;
    // An ambiguous answer lists at most 10 setups and counts the rest.
    let score = book::find("s3_4_1_attn_score_22").unwrap();
    let twice = (score.compute_with)(&Setup {
        offset: 18,
        ..Setup::BOOK
    })
    .unwrap();
    let mut d = diagnose::diagnose(&twice).unwrap();
    assert_eq!(d.status, Status::Ambiguous);
    let one = d.ambiguous[0].clone();
    d.ambiguous = vec![one; 12];
    let en = d.render(Lang::English);
    assert!(en.contains("  10. 3.4.1 cell [75]"), "{en}");
    assert!(!en.contains("  11. "), "{en}");
    assert!(en.contains("  … and 2 more\n"), "{en}");
    assert!(d.render(Lang::Korean).contains("  … 외 2개\n"));
    // A grad_fn on a result that prints none.
    let ones = book::s3_5::DROPOUT_ONES
        .book
        .replace("]])", "]], grad_fn=<MulBackward0>)");
    let d = diagnose::diagnose(&ones).unwrap();
    let note = Note::GradFn {
        yours: "MulBackward0".into(),
        prints: &[],
    };
    assert_eq!(d.notes, [note]);
    let flat = |t: String| t.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat(d.to_string()).contains("prints (no grad_fn)"), "{d}");
    assert!(flat(d.render(Lang::Korean)).contains("출력하는 것(grad_fn 없음)과 다릅니다"));
    // A grad_fn no result prints, on a text only setups of one number print: still ambiguous,
    // with those setups.
    let odd = twice.replace(")", ", grad_fn=<FooBackward0>)");
    let d = diagnose::diagnose(&odd).unwrap();
    assert_eq!(d.status, Status::Ambiguous);
    assert!(!d.ambiguous.is_empty());
    // A shape no result has, in Korean.
    let d = diagnose::diagnose("tensor([1., 2., 3., 4., 5., 6., 7.])").unwrap();
    assert!(
        d.render(Lang::Korean).starts_with(
            "인식하지 못함: 이 장의 출력 결과 중 다음 크기를 가진 것이 없습니다: [7]."
        )
    );
    // Thirteen differing places, in Korean.
    let changed = book::s3_6::MHA_CONTEXT_VECS.book.replace("0.2", "0.9");
    let ko = diagnose::diagnose(&changed).unwrap().render(Lang::Korean);
    assert!(ko.contains("    … 외 "), "{ko}");
    assert!(ko.contains("조건에서 숫자 24개 중 "), "{ko}");
    // Each kind of value, described in both languages.
    let paste = "Out[1]: array([0.5, 0.25], dtype=float32)\n[0.5, 0.25]\nRow 2 sum: 1.0\n";
    let report = diagnose::report(paste).unwrap();
    let en = report.render(Lang::English);
    assert!(en.contains("line 1: NumPy array of shape [2]"), "{en}");
    assert!(en.contains("line 2: list of shape [2]"), "{en}");
    assert!(
        en.contains("line 3: number 1.0, labelled \"Row 2 sum\""),
        "{en}"
    );
    let ko = report.render(Lang::Korean);
    assert!(ko.contains("1번째 줄: 크기가 [2]인 넘파이 배열"), "{ko}");
    assert!(ko.contains("2번째 줄: 크기가 [2]인 리스트"), "{ko}");
    assert!(
        ko.contains("3번째 줄: 숫자 1.0, 레이블 \"Row 2 sum\""),
        "{ko}"
    );
}

/// The closest result's numbers are written in the reader's notation, or with four decimals
/// where that notation cannot hold them; a `nan` is infinitely far.
#[test]
fn the_closest_in_the_readers_notation() {
    let d = diagnose::diagnose("tensor([2., 1.])").unwrap();
    let c = d.closest.as_ref().unwrap();
    assert!(
        c.differing
            .iter()
            .all(|(_, _, ours)| ours.contains('.') && ours.len() > 2),
        "{d}"
    );
    let d = diagnose::diagnose("tensor([0.4306, nan])").unwrap();
    let c = d.closest.as_ref().unwrap();
    assert_eq!(c.max_abs_diff, f64::INFINITY, "{d}");
    assert_eq!(c.differing.len(), 1, "{d}");
}

/// The Korean notebook's label decides between two results printing the same numbers, as the
/// English one does.
#[test]
fn a_korean_label_decides_like_an_english_one() {
    let korean = "이전에 계산한 두 번째 문맥 벡터: tensor([0.4419, 0.6515, 0.5683])";
    let d = diagnose::diagnose(korean).unwrap();
    assert_eq!(
        d.matched.unwrap().printed.name,
        "s3_3_2_previous_context_vec_2"
    );
}

/// PyTorch prints a tensor whose values are all whole as `1.`: a sum printed `1.0000` is cell
/// [33]'s (1.0000001 in float32), not the softmax cells' exact 1, nor a Python float's `1.0`.
#[test]
fn a_whole_tensor_prints_as_a_whole_number() {
    let d = diagnose::diagnose("합: tensor(1.0000)").unwrap();
    assert_eq!(d.matched.as_ref().unwrap().printed.cell, "[33]");
    assert!(d.also.is_empty(), "{d}");
    let d = diagnose::diagnose("Sum: tensor(1.)").unwrap();
    let cells: Vec<&str> = std::iter::once(d.matched.as_ref().unwrap())
        .chain(&d.also)
        .map(|f| f.printed.cell)
        .collect();
    assert_eq!(cells, ["[35]", "[37]"], "{d}");
    // All zero is whole too: PyTorch prints `0.`.
    let d = diagnose::diagnose("tensor([[0.0000, 0.0000], [0.0000, 0.0000]])").unwrap();
    assert!(d.matched.is_none() || d.matched.unwrap().printed.name != "s3_5_1_simple_mask");
    // Scientific notation prints whole values with decimals (`1.0000e+00`): no such inference.
    let d = diagnose::diagnose("tensor(1.0000e+00)").unwrap();
    assert!(d.matched.is_some(), "{d}");
}
