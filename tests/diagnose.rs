//! `cargo run -- diagnose`: every variant named from its printed tensor, the Linux matrix
//! published in rasbt/LLMs-from-scratch issue #57, and bad input never panicking. PyTorch's own
//! printouts and whole cells are in `diagnose_pastes.rs`.

use std::io::Read;

use crate::common;

use ch03_attention::book;
use ch03_attention::book::{DropoutMode, Setup};
use ch03_attention::diagnose::{self, BadInput, Diagnosis, MAX_INPUT_BYTES};
use ch03_attention::torch::BernoulliPath;
use proptest::prelude::*;
use rstest::rstest;
use tinyjson::JsonValue;

/// The tags of the match, or a message showing what the diagnosis said instead.
fn tags(d: &Diagnosis) -> Vec<String> {
    let m = d
        .matched
        .as_ref()
        .unwrap_or_else(|| panic!("not recognised:\n{d}"));
    m.causes.iter().map(|c| c.tag()).collect()
}

/// Whether the diagnosis names the entry `name`: as its match, or as a result printing the same
/// text under an equally simple setup (3.5.1's two routes print the same weights).
fn names(d: &Diagnosis, name: &str) -> bool {
    let m = d
        .matched
        .as_ref()
        .unwrap_or_else(|| panic!("not recognised:\n{d}"));
    m.printed.name == name || d.also.iter().any(|a| a.printed.name == name)
}

/// Computes the entry `name` under `setup`, prints it, and diagnoses the text.
fn round_trip(name: &str, setup: Setup, section: Option<&str>) -> Diagnosis {
    let entry = book::find(name).expect("a registry name");
    let text = (entry.compute_with)(&setup).expect("the variant computes");
    diagnose::diagnose_in(&text, section).expect("our own printout reads")
}

/// Every variant, produced by the crate, printed, fed back, and named: the entry and the tags.
#[rstest]
#[case::book("s3_6_2_mha_context_vecs", Setup::BOOK, None, &["book"])]
#[case::mkl_mask(
    "s3_5_2_dropout_ones",
    Setup { bernoulli: BernoulliPath::MklLegacy, ..Setup::BOOK },
    None,
    &["bernoulli-mkl"],
)]
#[case::mkl_weights(
    "s3_5_2_dropout_attn_weights",
    Setup { bernoulli: BernoulliPath::MklLegacy, ..Setup::BOOK },
    None,
    &["bernoulli-mkl"],
)]
#[case::offset_dropout(
    "s3_5_2_dropout_ones",
    Setup { offset: 72, ..Setup::BOOK },
    None,
    &["generator-offset:72"],
)]
#[case::offset_wrapper(
    "s3_6_1_wrapper_context_vecs",
    Setup { offset: 36, ..Setup::BOOK },
    None,
    &["generator-offset:36"],
)]
#[case::offset_far(
    "s3_5_3_causal_context_vecs",
    Setup { offset: diagnose::MAX_OFFSET, ..Setup::BOOK },
    None,
    &["generator-offset:300"],
)]
#[case::seed_missing(
    "s3_5_3_causal_context_vecs",
    Setup { seed: Some(789), ..Setup::BOOK },
    None,
    &["seed-missing"],
)]
#[case::seed_missing_after_draws(
    "s3_5_1_causal_attn_weights",
    Setup { seed: Some(123), offset: 18, ..Setup::BOOK },
    Some("3.5"),
    &["seed-missing", "generator-offset:18"],
)]
#[case::qkv_bias(
    "s3_6_2_mha_context_vecs",
    Setup { qkv_bias: true, ..Setup::BOOK },
    None,
    &["qkv-bias"],
)]
#[case::dropout_in_eval(
    "s3_5_3_causal_context_vecs",
    Setup { dropout: DropoutMode::Train(0.1), ..Setup::BOOK },
    None,
    &["dropout-in-eval"],
)]
#[case::dropout_in_eval_mkl(
    "s3_6_2_mha_context_vecs",
    Setup {
        dropout: DropoutMode::Train(0.5),
        bernoulli: BernoulliPath::MklLegacy,
        ..Setup::BOOK
    },
    None,
    &["dropout-in-eval", "bernoulli-mkl"],
)]
#[case::dropout_off(
    "s3_5_2_dropout_attn_weights",
    Setup { dropout: DropoutMode::Eval, ..Setup::BOOK },
    Some("3.5.2"),
    &["dropout-off"],
)]
#[case::d_out(
    "s3_4_1_attn_weights_2",
    Setup { d_out: Some(3), ..Setup::BOOK },
    None,
    &["d-out:3"],
)]
#[case::num_heads(
    "s3_6_2_mha_context_vecs",
    Setup { num_heads: Some(1), ..Setup::BOOK },
    None,
    &["num-heads:1"],
)]
#[case::d_out_and_heads(
    "s3_6_2_mha_context_vecs",
    Setup { d_out: Some(4), num_heads: Some(4), ..Setup::BOOK },
    None,
    &["d-out:4", "num-heads:4"],
)]
#[case::korean("exercise_3_2_korean_edition_context_vecs", Setup::BOOK, None, &["korean-ex3.2"])]
#[case::korean_twice(
    "exercise_3_2_korean_edition_context_vecs",
    Setup { offset: 18, ..Setup::BOOK },
    None,
    &["korean-ex3.2", "generator-offset:18"],
)]
fn each_variant_is_named(
    #[case] name: &str,
    #[case] setup: Setup,
    #[case] section: Option<&str>,
    #[case] expected: &[&str],
) {
    let d = round_trip(name, setup, section);
    assert!(names(&d, name), "{d}");
    assert_eq!(tags(&d), expected, "{d}");
}

/// The book's printed text of every entry is recognised as itself (or as an earlier entry
/// printing the same value), under the book's setup; the Korean edition's exercise 3.2 is
/// named as such.
#[test]
#[ignore = "slow: a learner's `cargo test` skips it; CI runs it (`cargo test --lib --test '*' -- --include-ignored`)"]
fn every_book_text_is_the_book() {
    for p in book::printed() {
        let d = diagnose::diagnose(p.book).unwrap();
        let korean = p.name == "exercise_3_2_korean_edition_context_vecs";
        let expected = if korean { "korean-ex3.2" } else { "book" };
        assert_eq!(tags(&d), [expected], "{p:?}\n{d}");
        let m = d.matched.as_ref().unwrap();
        let same_text = diagnose::parse(&m.printed.expected()).unwrap().value
            == diagnose::parse(&p.expected()).unwrap().value;
        assert!(names(&d, p.name) || same_text, "{p:?} diagnosed as\n{d}");
    }
}

/// `diagnose` reads a computed result's numbers from the one tensor it prints (or, for a shape
/// or a Python number, from its text): no entry prints two tensors, under any size it tries.
#[test]
fn every_entry_prints_at_most_one_tensor() {
    use ch03_attention::torch::print::capture;
    for p in book::printed() {
        for d_out in [None, Some(1), Some(3)] {
            let setup = Setup {
                d_out,
                ..Setup::BOOK
            };
            let (text, tensors) = capture(|| (p.compute_with)(&setup));
            let tensors_in_text = text.map_or(0, |t| t.matches("tensor(").count());
            assert_eq!(tensors.len(), tensors_in_text, "{p:?} {d_out:?}");
            assert!(tensors.len() <= 1, "{p:?} prints {} tensors", tensors.len());
        }
    }
}

/// The Linux/Colab matrices (issue #57; PyTorch ≤ 2.6 with MKL): named `bernoulli-mkl`.
#[test]
fn the_published_linux_matrices_are_bernoulli_mkl() {
    for (text, cell) in [
        (book::s3_5::DROPOUT_ONES_LINUX_MKL, "[115]"),
        (book::s3_5::DROPOUT_WEIGHTS_LINUX_MKL, "[116]"),
    ] {
        let d = diagnose::diagnose(text).unwrap();
        assert_eq!(tags(&d), ["bernoulli-mkl"], "{d}");
        assert_eq!(d.matched.as_ref().unwrap().printed.cell, cell);
        let shown = d.to_string();
        assert!(shown.contains("PyTorch 2.6 and older"), "{shown}");
        // The book's matrix is shown for comparison.
        let book_text = d.matched.as_ref().unwrap().printed.expected();
        assert!(shown.contains(book_text.lines().nth(1).unwrap()), "{shown}");
    }
}

/// A label before the tensor (English or Korean) and a `grad_fn` suffix change nothing; the
/// label decides between two cells printing the same value.
#[test]
fn labels_and_suffixes() {
    let korean = "어텐션 가중치: tensor([0.1385, 0.2379, 0.2333, 0.1240, 0.1082, 0.1581])";
    let d = diagnose::diagnose(korean).unwrap();
    assert_eq!(d.input.label, "어텐션 가중치");
    assert_eq!(d.matched.unwrap().printed.cell, "[35]"); // the first of two equal cells
    let previous = "Previous 2nd context vector: tensor([0.4419, 0.6515, 0.5683])";
    let d = diagnose::diagnose(previous).unwrap();
    assert_eq!(
        d.matched.unwrap().printed.name,
        "s3_3_2_previous_context_vec_2"
    );
    let plain = diagnose::diagnose("tensor([0.4419, 0.6515, 0.5683])").unwrap();
    assert_eq!(plain.matched.unwrap().printed.name, "s3_3_1_context_vec_2");
}

/// Nothing matches: "not recognised", the closest result, and which numbers differ.
#[test]
fn an_unknown_tensor_gets_the_closest_and_its_differences() {
    let text = book::s3_6::MHA_CONTEXT_VECS
        .book
        .replacen("0.3190", "0.3191", 1);
    let d = diagnose::diagnose(&text).unwrap();
    assert!(d.matched.is_none());
    let c = d.closest.as_ref().unwrap();
    assert_eq!(c.found.printed.name, "s3_6_2_mha_context_vecs");
    assert_eq!(
        c.differing,
        [(0, "0.3191".to_string(), "0.3190".to_string())]
    );
    assert_eq!(c.of, 24);
    assert!((c.max_abs_diff - 1e-4).abs() < 1e-9);
    let shown = d.to_string();
    assert!(shown.starts_with("not recognised"), "{shown}");
    assert!(shown.contains("1 of 24 numbers differ"), "{shown}");
    let json = d.to_json();
    let parsed: JsonValue = json.parse().expect("valid JSON");
    assert_eq!(parsed["matched"].get::<bool>(), Some(&false), "{json}");
    assert_eq!(parsed["status"].get::<String>().unwrap(), "not recognised");
    assert_eq!(
        parsed["closest"]["name"].get::<String>().unwrap(),
        "s3_6_2_mha_context_vecs"
    );
    // A shape no result has: no closest either.
    let d = diagnose::diagnose("tensor([1., 2., 3., 4., 5., 6., 7.])").unwrap();
    assert!(d.matched.is_none() && d.closest.is_none());
    assert!(
        d.to_string()
            .contains("no printed result of the chapter has shape [7]")
    );
}

/// Bad input: a message naming what is wrong, never a panic.
#[rstest]
#[case::empty("", "empty")]
#[case::blank(" \n\t ", "empty")]
#[case::cut_off("tensor([[0.4306, 1.4551],\n        [0.1", "never closed")]
#[case::unopened("tensor([0.1, 0.2]])", "closes nothing")]
#[case::letters("tensor([0.1, abc])", "\"abc\"")]
#[case::ragged("tensor([[1., 2.], [3.]])", "ragged")]
#[case::prose("my output is different", "no tensor")]
#[case::inside(
    "tensor([1.] and more)",
    "\"and more\" at line 1, column 13 is not a number"
)]
#[case::bool("tensor([True, False])", "\"True\" at line 1, column 9")]
fn bad_input_is_explained(#[case] text: &str, #[case] says: &str) {
    let e = diagnose::diagnose(text).expect_err("not a tensor");
    let message = e.to_string();
    assert!(message.contains(says), "{message}");
}

/// A 100 MB line is refused after reading 64 KiB + 1 byte, with a message.
#[test]
fn a_100_megabyte_line_is_refused() {
    let line = std::io::repeat(b'1').take(100 << 20);
    let e = diagnose::read_input(line).expect_err("too long");
    assert_eq!(
        e,
        BadInput::TooLong {
            bytes: MAX_INPUT_BYTES + 1
        }
    );
    assert!(e.to_string().contains("longer than 65536 bytes"));
    let bytes = diagnose::read_input(&[0x66, 0xff, 0x66][..]).expect_err("not UTF-8");
    assert_eq!(bytes, BadInput::NotUtf8 { at: 1 });
}

/// The binary: status 0 recognised, 1 not recognised, 2 not a tensor (even 100 MB of it, on
/// standard input).
#[test]
fn the_command_line_exit_statuses() {
    let run = |input: Vec<u8>, args: &[&str]| common::run_diagnose(&input, args);
    let (code, out, _) = run(book::s3_5::DROPOUT_ONES_LINUX_MKL.into(), &["--json"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("\"causes\": [\"bernoulli-mkl\"]"), "{out}");
    let (code, out, _) = run(b"tensor([0.1, 0.2])".to_vec(), &[]);
    assert_eq!(code, Some(1));
    assert!(out.starts_with("not recognised"), "{out}");
    let (code, _, err) = run(vec![b'x'; 100 << 20], &[]);
    assert_eq!(code, Some(2));
    assert!(err.contains("longer than 65536 bytes"), "{err}");
    let (code, out, err) = run(b"tensor([[1.".to_vec(), &["--json"]);
    assert_eq!(code, Some(2));
    assert!(out.starts_with("{\"error\": "), "{out}");
    assert!(err.contains("brackets"), "{err}");
    let (code, _, err) = run(Vec::new(), &["/no/such/file"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("/no/such/file"), "{err}");
    let (code, out, _) = run(Vec::new(), &["--section"]);
    assert_eq!((code, out.as_str()), (Some(2), ""));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Arbitrary text: an answer or a message, never a panic.
    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        match diagnose::diagnose(&text) {
            Ok(d) => prop_assert!(!d.to_string().is_empty()),
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }

    /// Text made of a tensor's own characters (brackets, digits, commas), in any order: the
    /// parser's hard cases.
    #[test]
    fn tensor_shaped_noise_never_panics(text in "(tensor\\(|torch.Size\\(|[\\[\\](),.0-9e+-]|nan|inf| ){0,60}") {
        let _ = diagnose::diagnose(&text);
    }

    /// Every prefix of a real printout is either read or refused with a message.
    #[test]
    fn every_cut_of_a_printout_is_handled(cut in 0usize..400) {
        let text = book::s3_5::CAUSAL_CONTEXT_VECS.book;
        let cut = text.char_indices().map(|(i, _)| i).nth(cut).unwrap_or(text.len());
        let _ = diagnose::diagnose(&text[..cut]);
    }
}

/// The search's bound, as the `diagnose` page states it: a 6×6 tensor that matches nothing
/// costs 11,481 candidates, the most of any shape the chapter prints.
#[test]
#[ignore = "slow: a learner's `cargo test` skips it; CI runs it (`cargo test --lib --test '*' -- --include-ignored`)"]
fn the_largest_search_is_a_6x6_tensor() {
    let tensor = |shape: &[usize]| {
        let row = |n: usize| format!("[{}]", vec!["9.9999"; n].join(", "));
        match shape {
            [r, c] => format!("tensor([{}])", vec![row(*c); *r].join(", ")),
            [b, r, c] => {
                let item = format!("[{}]", vec![row(*c); *r].join(", "));
                format!("tensor([{}])", vec![item; *b].join(", "))
            }
            _ => unreachable!(),
        }
    };
    let six_by_six = diagnose::diagnose(&tensor(&[6, 6])).unwrap();
    assert!(six_by_six.matched.is_none());
    assert_eq!(six_by_six.candidates, 11_481);
    let mut counts = Vec::new();
    for shape in [[2, 6, 2], [2, 6, 4], [2, 6, 3]] {
        counts.push(diagnose::diagnose(&tensor(&shape)).unwrap().candidates);
    }
    // Each size is tried once: `d_out = 2` written out is the book's setup, not a variant.
    assert_eq!(counts, [5_757, 2_739, 616]);
}

/// Without `torch.manual_seed`, each new PyTorch process starts from another seed (recorded by
/// the fixture script): there is no seed to recompute, which is why `diagnose` cannot name it.
#[test]
fn fresh_processes_start_from_different_seeds() {
    let json: JsonValue = common::data_file("diagnose_fixtures.json").parse().unwrap();
    let seeds: &Vec<JsonValue> = json["fresh_process_initial_seeds"].get().unwrap();
    assert_eq!(seeds.len(), 2);
    assert_ne!(seeds[0].get::<String>(), seeds[1].get::<String>());
}

/// A variant's cause names the book's value beside the reader's.
#[test]
fn a_size_cause_names_the_books_size() {
    let d = round_trip(
        "s3_4_1_attn_weights_2",
        Setup {
            d_out: Some(3),
            ..Setup::BOOK
        },
        None,
    );
    let cause = d.matched.unwrap().causes[0];
    assert!(
        cause.why().contains("d_out is 3; the book uses 2"),
        "{}",
        cause.why()
    );
    let d = round_trip(
        "s3_6_2_mha_context_vecs",
        Setup {
            num_heads: Some(1),
            ..Setup::BOOK
        },
        None,
    );
    let cause = d.matched.unwrap().causes[0];
    assert!(
        cause.why().contains("num_heads is 1; the book uses 2"),
        "{}",
        cause.why()
    );
}

/// The closest result: the smallest largest difference, then the fewest differing numbers; on
/// a tie the earlier cell.
#[test]
fn the_closest_is_the_fewest_then_the_least_different() {
    // 3.3.1's softmax weights ([35] and [37] print the same) with one number changed.
    let one_off = "tensor([0.1385, 0.2379, 0.2333, 0.1240, 0.1082, 0.1582])";
    let c = diagnose::diagnose(one_off).unwrap().closest.unwrap();
    assert_eq!((c.found.printed.cell, c.differing.len()), ("[35]", 1));
    // Every number 0.0003 above those weights: some variant shares a printed number or two with
    // it by chance, but the weights are nearest.
    let all_off = "tensor([0.1388, 0.2382, 0.2336, 0.1243, 0.1085, 0.1584])";
    let c = diagnose::diagnose(all_off).unwrap().closest.unwrap();
    assert_eq!((c.found.printed.cell, c.differing.len()), ("[35]", 6));
    assert!((c.max_abs_diff - 3e-4).abs() < 1e-9, "{}", c.max_abs_diff);
}

/// The search stops after the first level that matches: the Linux matrix (one cause, no draws
/// skipped) is found after the 42 candidates up to that level, not after all of them; a label
/// that is not the book's leaves the chapter's order alone.
#[test]
fn the_search_stops_at_the_simplest_match() {
    let d = diagnose::diagnose(book::s3_5::DROPOUT_ONES_LINUX_MKL).unwrap();
    assert_eq!(d.candidates, 42);
    assert!(d.also.is_empty());
    let foreign = "My result: tensor([0.4419, 0.6515, 0.5683])";
    let d = diagnose::diagnose(foreign).unwrap();
    assert_eq!(d.matched.unwrap().printed.name, "s3_3_1_context_vec_2");
    assert_eq!(d.also[0].printed.name, "s3_3_2_previous_context_vec_2");
}

/// What `diagnose` prints for the closing note's three cases, pinned as snapshots (the time on
/// the last line varies and is cut): the book's matrix, the Linux one, a cell run twice.
#[test]
fn three_diagnoses_as_printed() {
    let without_time = |d: &Diagnosis| {
        let text = d.to_string();
        let cut = text.rfind(" in ").expect("the last line gives the time");
        text[..cut].to_string()
    };
    let twice = common::fixture_text("mha_cell_run_twice");
    for (name, text) in [
        ("diagnose_book_dropout", book::s3_5::DROPOUT_ONES.book),
        ("diagnose_linux_dropout", book::s3_5::DROPOUT_ONES_LINUX_MKL),
        ("diagnose_mha_cell_run_twice", twice.as_str()),
    ] {
        let d = diagnose::diagnose(text).unwrap();
        common::snapshot(
            name,
            "cargo run -- diagnose, without the time",
            &without_time(&d),
        );
    }
}

/// At most 12 differing places are listed; the rest are counted.
#[test]
#[ignore = "slow: a learner's `cargo test` skips it; CI runs it (`cargo test --lib --test '*' -- --include-ignored`)"]
fn long_differences_are_counted_not_listed() {
    // The book's MHA output with its second batch item (12 numbers) changed.
    let book_text = book::s3_6::MHA_CONTEXT_VECS.book;
    let half = book_text.find("\n\n").unwrap();
    let changed = format!("{}{}", &book_text[..half], nudged(&book_text[half..]));
    let d = diagnose::diagnose(&changed).unwrap();
    assert_eq!(d.closest.as_ref().unwrap().differing.len(), 12);
    let shown = d.to_string();
    assert!(!shown.contains("… and"), "{shown}");
    let thirteen = changed.replacen("0.3190", "0.3191", 1);
    let shown = diagnose::diagnose(&thirteen).unwrap().to_string();
    assert!(shown.contains("    … and 1 more\n"), "{shown}");
}

/// Every number of a printed text, 0.0001 larger (4 decimals, as printed).
fn nudged(text: &str) -> String {
    let mut out = String::new();
    let mut number = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() || c == '.' || c == '-' {
            number.push(c);
            continue;
        }
        if !number.is_empty() {
            let x: f64 = number.parse().unwrap();
            out.push_str(&format!("{:.4}", x + 1e-4));
            number.clear();
        }
        out.push(c);
    }
    out.pop(); // the space added at the end
    out
}

/// Exactly 64 KiB is read; one byte more is refused.
#[test]
fn the_input_limit_is_exact() {
    let text = diagnose::read_input(&vec![b' '; MAX_INPUT_BYTES][..]).expect("at the limit");
    assert_eq!(text.len(), MAX_INPUT_BYTES);
    let e = diagnose::read_input(&vec![b' '; MAX_INPUT_BYTES + 1][..]).expect_err("over");
    assert_eq!(
        e,
        BadInput::TooLong {
            bytes: MAX_INPUT_BYTES + 1
        }
    );
}

/// `cargo run -- 3.5.2`: each dropout cell, then the same cell on Linux/Colab (PyTorch's
/// published text), then diagnose naming it, all holding.
#[test]
fn the_walkthrough_shows_the_linux_matrices_after_the_books() {
    use ch03_attention::walkthrough::{self, Source};
    let sections = walkthrough::select(Some("3.5.2")).unwrap();
    let items = &sections[0].items;
    let order: Vec<(&str, &str)> = items
        .iter()
        .map(|i| {
            let kind = match i.source {
                Source::Book => "book",
                Source::PyTorch => "linux",
                Source::Claim { .. } => "diagnose",
            };
            (i.cell.as_str(), kind)
        })
        .collect();
    assert_eq!(
        order,
        [
            ("[115]", "book"),
            ("[115]", "linux"),
            ("[115]", "diagnose"),
            ("[116]", "book"),
            ("[116]", "linux"),
            ("[116]", "diagnose"),
        ]
    );
    assert!(items.iter().all(|i| i.matches()));
    assert_eq!(items[1].expected, book::s3_5::DROPOUT_ONES_LINUX_MKL);
    assert_eq!(items[2].computed, "diagnose: bernoulli-mkl");
}
