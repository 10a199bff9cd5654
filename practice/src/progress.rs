//! The machinery of the progress command: which exercise lives in which file, the verdicts,
//! the JSON lines, and `--reset`. Nothing here is written by the learner.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use ch03_attention::nalgebra::{DMatrix, DVector};
use ch03_attention::spec::harness::Interrupted;
use ch03_attention::spec::{self, Chapter3, Status, TIME_LIMIT, Verdict};
use ch03_attention::{Linear, TorchRng};

use crate::Learner;

/// One exercise as the practice package knows it: the spec's id, section, title and study-guide
/// module, plus where the learner writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// The spec's id, e.g. `"softmax"`.
    pub id: &'static str,
    /// The book's section or listing, e.g. `"3.3.1"`.
    pub section: &'static str,
    /// One line: what is computed.
    pub title: &'static str,
    /// The study guide's module that explains the reference, e.g. `"normalize"`.
    pub guide: &'static str,
    /// The learner's file under `practice/src/`, e.g. `"s3_3_1.rs"` (`None`: an exercise this
    /// package does not know yet).
    pub file: Option<&'static str>,
    /// The `pub fn`s of that file the exercise judges, in order.
    pub functions: &'static [&'static str],
}

const fn entry(
    id: &'static str,
    section: &'static str,
    title: &'static str,
    guide: &'static str,
    file: &'static str,
    functions: &'static [&'static str],
) -> Entry {
    Entry {
        id,
        section,
        title,
        guide,
        file: Some(file),
        functions,
    }
}

/// Every exercise, in the book's order, with the learner's file and functions. Sections, titles
/// and guide modules come from the spec ([`spec::EXERCISES`]) when it lists the exercise; these
/// are the fallback.
#[rustfmt::skip]
pub const PRACTICE: &[Entry] = &[
    entry("dot_scores", "3.3.1", "one query's scores: dot products",
        "similarity", "s3_3_1.rs", &["attn_scores_for"]),
    entry("sum_normalize", "3.3.1", "scores divided by their sum",
        "normalize", "s3_3_1.rs", &["sum_normalize"]),
    entry("softmax_naive", "3.3.1", "softmax as written: exp / sum of exp",
        "normalize", "s3_3_1.rs", &["softmax_naive"]),
    entry("softmax", "3.3.1", "the stable softmax (subtract the maximum)",
        "normalize", "s3_3_1.rs", &["softmax"]),
    entry("context_vec", "3.3.1", "one context vector: weighted inputs",
        "context", "s3_3_1.rs", &["context_vec"]),
    entry("attn_scores", "3.3.2", "all attention scores at once: X Xᵀ",
        "context", "s3_3_2.rs", &["attn_scores"]),
    entry("attn_weights", "3.3.2", "softmax of every row",
        "context", "s3_3_2.rs", &["attn_weights"]),
    entry("context_vecs", "3.3.2", "all context vectors at once: A X",
        "context", "s3_3_2.rs", &["context_vecs"]),
    entry("self_attention_v1", "3.4.1, listing 3.1", "SelfAttention_v1: rand weights, forward",
        "qkv", "s3_4.rs", &["self_attention_v1_weights", "self_attention_v1"]),
    entry("self_attention_v2", "3.4.2, listing 3.2", "SelfAttention_v2: Linear layers, forward",
        "qkv", "s3_4.rs", &["self_attention_v2_layers", "self_attention_v2"]),
    entry("exercise_3_1", "exercise 3.1", "v1 weights that compute what v2 does",
        "qkv", "exercises.rs", &["v1_weights_from_v2"]),
    entry("mask_then_renormalize", "3.5.1", "causal mask: zero, then renormalize",
        "causal", "s3_5.rs", &["mask_then_renormalize"]),
    entry("causal_attn_weights", "3.5.1", "causal mask: −∞, then softmax",
        "causal", "s3_5.rs", &["causal_attn_weights"]),
    entry("dropout", "3.5.2", "nn.Dropout: mask, scale by 1 / (1 − p)",
        "dropout", "s3_5.rs", &["dropout"]),
    entry("causal_attention", "3.5.3, listing 3.3", "CausalAttention's forward pass",
        "causal", "s3_5.rs", &["causal_attention"]),
    entry("multi_head_wrapper", "3.6.1, listing 3.4", "the wrapper: heads side by side",
        "multihead", "s3_6.rs", &["multi_head_wrapper"]),
    entry("split_heads", "3.6.2", "split d_out into heads (.view)",
        "multihead", "s3_6.rs", &["split_heads"]),
    entry("multi_head_attention", "3.6.2, listing 3.5", "MultiHeadAttention: layers, forward",
        "multihead", "s3_6.rs", &["multi_head_attention_layers", "multi_head_attention"]),
    entry("exercise_3_2", "exercise 3.2", "the wrapper with a 2-wide output",
        "multihead", "exercises.rs", &["exercise_3_2"]),
    entry("exercise_3_3", "exercise 3.3", "parameters of a GPT-2-sized MHA",
        "multihead", "exercises.rs", &["num_parameters"]),
];

/// The learner's files as compiled into this binary (for line numbers).
const SOURCES: &[(&str, &str)] = &[
    ("s3_3_1.rs", include_str!("s3_3_1.rs")),
    ("s3_3_2.rs", include_str!("s3_3_2.rs")),
    ("s3_4.rs", include_str!("s3_4.rs")),
    ("s3_5.rs", include_str!("s3_5.rs")),
    ("s3_6.rs", include_str!("s3_6.rs")),
    ("exercises.rs", include_str!("exercises.rs")),
];

/// The exercises to list: the spec's ([`spec::EXERCISES`], with the learner's file added), or,
/// while the spec lists none (its checks not written yet), [`PRACTICE`]. The flag says which.
pub fn exercises() -> (Vec<Entry>, bool) {
    if spec::EXERCISES.is_empty() {
        return (PRACTICE.to_vec(), false);
    }
    let list = spec::EXERCISES
        .iter()
        .map(|e| {
            let known = PRACTICE.iter().find(|p| p.id == e.id);
            Entry {
                id: e.id,
                section: e.section,
                title: e.title,
                guide: e.guide,
                file: known.and_then(|p| p.file),
                functions: known.map_or(&[], |p| p.functions),
            }
        })
        .collect();
    (list, true)
}

/// The entry of exercise `id`, if this package knows it.
pub fn find(id: &str) -> Option<Entry> {
    exercises().0.into_iter().find(|e| e.id == id)
}

/// The verdict of exercise `id` on the learner's code ([`Learner`]), from the spec's checks.
///
/// While the spec's checks are themselves unwritten (a `todo!()` on a development branch), the
/// learner's functions are only called on small inputs: one that still calls `todo!()` is "not
/// started"; otherwise the verdict is "failing", saying that the checks could not run.
pub fn verdict(id: &'static str) -> Verdict {
    match catch_unwind(AssertUnwindSafe(|| spec::check::<Learner>(id))) {
        Ok(Some(v)) => v,
        Ok(None) => Verdict::failing(id, format!("the spec has no exercise `{id}`")),
        Err(payload) => {
            let why = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_string()))
                .unwrap_or_default();
            match probe(id) {
                Err(Interrupted::NotStarted) => Interrupted::NotStarted.verdict(id),
                Err(other) => other.verdict(id),
                Ok(()) => Verdict::failing(
                    id,
                    format!("cannot judge: the spec's checks did not run ({why})"),
                ),
            }
        }
    }
}

/// Every verdict, in the order of [`exercises`].
pub fn verdicts() -> Vec<(Entry, Verdict)> {
    exercises()
        .0
        .into_iter()
        .map(|e| (e, verdict(e.id)))
        .collect()
}

/// Calls exercise `id`'s functions on small inputs, guarded: whether they return at all.
fn probe(id: &str) -> Result<(), Interrupted> {
    fn run(f: impl FnOnce() + Send + 'static) -> Result<(), Interrupted> {
        spec::guarded(f, TIME_LIMIT)
    }
    fn m(rows: usize, cols: usize) -> DMatrix<f32> {
        DMatrix::from_fn(rows, cols, |i, j| 0.1 * (i + 2 * j) as f32)
    }
    fn ok<T>(_: T) {}
    fn v(n: usize) -> DVector<f32> {
        DVector::from_fn(n, |i, _| 0.1 * i as f32)
    }
    fn layers<const N: usize>(d_in: usize, d_out: usize) -> [Linear; N] {
        let mut g = TorchRng::manual_seed(1);
        std::array::from_fn(|_| Linear::new(d_in, d_out, false, &mut g))
    }
    let rng = || TorchRng::manual_seed(123);
    match id {
        "dot_scores" => run(move || ok(Learner::attn_scores_for(&v(3), &m(2, 3)))),
        "sum_normalize" => run(move || ok(Learner::sum_normalize(&v(3)))),
        "softmax_naive" => run(move || ok(Learner::softmax_naive(&v(3)))),
        "softmax" => run(move || ok(Learner::softmax(&v(3)))),
        "context_vec" => run(move || ok(Learner::context_vec(&v(2), &m(2, 3)))),
        "attn_scores" => run(move || ok(Learner::attn_scores(&m(2, 3)))),
        "attn_weights" => run(move || ok(Learner::attn_weights(&m(2, 2)))),
        "context_vecs" => run(move || ok(Learner::context_vecs(&m(2, 2), &m(2, 3)))),
        "self_attention_v1" => {
            run(move || ok(Learner::self_attention_v1_weights(3, 2, &mut rng())))?;
            run(move || {
                ok(Learner::self_attention_v1(
                    &m(2, 3),
                    &[m(3, 2), m(3, 2), m(3, 2)],
                ))
            })
        }
        "self_attention_v2" => {
            run(move || ok(Learner::self_attention_v2_layers(3, 2, false, &mut rng())))?;
            run(move || ok(Learner::self_attention_v2(&m(2, 3), &layers(3, 2))))
        }
        "exercise_3_1" => run(move || ok(Learner::v1_weights_from_v2(&layers(3, 2)))),
        "mask_then_renormalize" => run(move || ok(Learner::mask_then_renormalize(&m(2, 2)))),
        "causal_attn_weights" => run(move || ok(Learner::causal_attn_weights(&m(2, 2), 2))),
        "dropout" => run(move || ok(Learner::dropout(&m(2, 2), 0.5, true, &mut rng()))),
        "causal_attention" => run(move || {
            ok(Learner::causal_attention(
                &[m(2, 3)],
                &layers(3, 2),
                0.0,
                false,
                &mut rng(),
            ))
        }),
        "multi_head_wrapper" => {
            run(move || ok(Learner::multi_head_wrapper(&[m(2, 3)], &[layers(3, 2)])))
        }
        "split_heads" => run(move || ok(Learner::split_heads(&m(2, 4), 2))),
        "multi_head_attention" => {
            run(move || {
                ok(Learner::multi_head_attention_layers(
                    3,
                    4,
                    false,
                    &mut rng(),
                ))
            })?;
            let mut g = TorchRng::manual_seed(1);
            let layers: [Linear; 4] =
                std::array::from_fn(|k| Linear::new(if k < 3 { 3 } else { 4 }, 4, k == 3, &mut g));
            run(move || ok(Learner::multi_head_attention(&[m(2, 3)], &layers, 2)))
        }
        "exercise_3_2" => run(move || ok(Learner::exercise_3_2())),
        "exercise_3_3" => run(move || ok(Learner::num_parameters(4, 4, 2, false))),
        _ => Ok(()),
    }
}

/// `"done"`, `"failing"` or `"not started"`.
pub fn status_word(status: Status) -> &'static str {
    match status {
        Status::Done => "done",
        Status::Failing => "failing",
        Status::NotStarted => "not started",
    }
}

/// `s` as a JSON string literal (quotes included): the crate's [`ch03_attention::json::string`].
pub use ch03_attention::json::string as json_string;

/// One verdict as one line of JSON: `{"id": …, "status": …, "message": …}`.
pub fn json_line(v: &Verdict) -> String {
    format!(
        "{{\"id\": {}, \"status\": {}, \"message\": {}}}",
        json_string(v.exercise),
        json_string(status_word(v.status)),
        json_string(&v.message)
    )
}

/// The 1-based line of `pub fn name(` in `text`.
pub fn line_of(text: &str, name: &str) -> Option<usize> {
    let head = format!("pub fn {name}(");
    text.lines()
        .position(|l| l.trim_start().starts_with(&head))
        .map(|i| i + 1)
}

/// Where the learner writes `function` of `file`: `practice/src/<file>:<line>`.
pub fn location(file: &str, function: &str) -> String {
    let line = SOURCES
        .iter()
        .find(|(f, _)| *f == file)
        .and_then(|(_, text)| line_of(text, function));
    match line {
        Some(n) => format!("practice/src/{file}:{n}"),
        None => format!("practice/src/{file}"),
    }
}

/// Where the learner writes `function` of exercise `id` (see [`location`]).
pub fn location_of(id: &str, function: &str) -> String {
    match PRACTICE.iter().find(|e| e.id == id).and_then(|e| e.file) {
        Some(file) => location(file, function),
        None => "practice/src/".to_string(),
    }
}

/// The byte range of function `name` in `text`: from its `pub fn name(` line to its closing
/// `}` line (the first line that is exactly `}`), both included.
fn function_span(text: &str, name: &str) -> Option<(usize, usize)> {
    let head = format!("pub fn {name}(");
    let mut offset = 0;
    let mut start = None;
    for line in text.split_inclusive('\n') {
        if start.is_none() && line.starts_with(&head) {
            start = Some(offset);
        }
        offset += line.len();
        if start.is_some() && line.trim_end() == "}" {
            return start.map(|s| (s, offset));
        }
    }
    None
}

/// Puts exercise `id`'s functions in `src_dir/<file>` back to a stub: each function keeps its
/// signature (everything up to the line that ends with `{`) and gets the body `todo!()`; the doc
/// comments and everything else in the file are left as they are. Returns the functions reset.
///
/// # Errors
///
/// In words, when the exercise is unknown or the file cannot be read, written or does not have
/// the function.
pub fn reset(src_dir: &Path, id: &str) -> Result<Vec<&'static str>, String> {
    let entry = PRACTICE
        .iter()
        .find(|e| e.id == id)
        .ok_or_else(|| format!("no exercise `{id}` (`cargo run -p ch03-practice` lists them)"))?;
    let file = entry.file.expect("every entry of PRACTICE has a file");
    let path = src_dir.join(file);
    let mut text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    for name in entry.functions {
        let missing = || {
            format!(
                "{} has no `pub fn {name}(` whose signature ends a line with `{{` and whose body \
                 ends with a line `}}`",
                path.display()
            )
        };
        let (start, end) = function_span(&text, name).ok_or_else(missing)?;
        let stub = stub_of(&text[start..end]).ok_or_else(missing)?;
        text.replace_range(start..end, &stub);
    }
    std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(entry.functions.to_vec())
}

/// A function's text with its body replaced by `todo!()`: the signature up to the first line
/// that ends with `{`, then `    todo!()` and `}`.
fn stub_of(function: &str) -> Option<String> {
    let mut signature = String::new();
    for line in function.split_inclusive('\n') {
        signature.push_str(line);
        if line.trim_end().ends_with('{') {
            return Some(format!("{signature}    todo!()\n}}\n"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_function_of_the_trait_is_in_one_exercise_and_in_its_file() {
        let mut names: Vec<&str> = PRACTICE.iter().flat_map(|e| e.functions.to_vec()).collect();
        assert_eq!(names.len(), 23);
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 23, "a function in two exercises");
        for e in PRACTICE {
            let file = e.file.unwrap();
            let (_, text) = SOURCES.iter().find(|(f, _)| *f == file).unwrap();
            for name in e.functions {
                assert!(
                    line_of(text, name).is_some(),
                    "{file} has no `pub fn {name}(`"
                );
            }
        }
    }

    #[test]
    fn the_spec_lists_the_same_exercises_in_the_same_order() {
        let (list, from_spec) = exercises();
        if !from_spec {
            eprintln!("spec::EXERCISES is empty on this branch: nothing to compare");
            return;
        }
        let ids: Vec<_> = list.iter().map(|e| e.id).collect();
        let ours: Vec<_> = PRACTICE.iter().map(|e| e.id).collect();
        assert_eq!(ids, ours);
    }

    #[test]
    fn json_escapes_quotes_backslashes_and_control_characters() {
        assert_eq!(
            json_string("a\"b\\c\nd\te\u{1}ω"),
            r#""a\"b\\c\nd\te\u0001ω""#
        );
        let v = Verdict::failing("softmax", "row 1:\n  \"x\"");
        assert_eq!(
            json_line(&v),
            r#"{"id": "softmax", "status": "failing", "message": "row 1:\n  \"x\""}"#
        );
    }

    #[test]
    fn line_numbers_point_at_the_signature() {
        let text = "//! doc\n\n/// f\npub fn f(x: u8) -> u8 {\n    x\n}\n";
        assert_eq!(line_of(text, "f"), Some(4));
        assert_eq!(line_of(text, "g"), None);
        assert!(location("s3_3_1.rs", "softmax").starts_with("practice/src/s3_3_1.rs:"));
    }

    #[test]
    fn reset_restores_one_exercise_and_nothing_else() {
        let dir = std::env::temp_dir().join(format!("ch03-practice-reset-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let stub = "/// Draw the weights.\npub fn self_attention_v1_weights(\n    d_in: usize,\n    \
                    rng: &mut TorchRng,\n) -> [DMatrix<f32>; 3] {\n    todo!()\n}\n\n\
                    /// The forward pass.\npub fn self_attention_v1(x: &DMatrix<f32>) -> DMatrix<f32> {\n    \
                    todo!()\n}\n";
        let solved = stub
            .replacen(
                "    todo!()\n}",
                "    [rng.rand(d_in, 2), rng.rand(d_in, 2)]\n}",
                1,
            )
            .replacen(
                "    todo!()\n}",
                "    let q = x * x;\n    {\n        q\n    }\n}",
                1,
            );
        let solved = format!("{solved}\nfn helper() {{}}\n");
        assert!(!solved.contains("todo!()"));
        std::fs::write(dir.join("s3_4.rs"), &solved).unwrap();

        assert_eq!(
            reset(&dir, "self_attention_v1").unwrap(),
            ["self_attention_v1_weights", "self_attention_v1"]
        );
        let after = std::fs::read_to_string(dir.join("s3_4.rs")).unwrap();
        assert_eq!(after, format!("{stub}\nfn helper() {{}}\n"));

        assert!(
            reset(&dir, "no_such_exercise")
                .unwrap_err()
                .contains("no exercise")
        );
        assert!(reset(&dir, "softmax").unwrap_err().contains("cannot read"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
