//! The book's printed results: every result the chapter prints, declared once, grouped by the
//! book's sections.
//!
//! Chapter 3 prints 44 results (tensors, scalars, shapes, labelled lines such as
//! `Sum: tensor(1.0000)`), and its exercise solutions print six more (five in the English
//! notebook, and exercise 3.2 as the Korean edition computes it). Each is one [`Printed`] record,
//! a constant in the file of its section ([`s3_3`], [`s3_4`], [`s3_5`], [`s3_6`], [`solutions`]),
//! and the record holds everything about it:
//!
//! - **where**: the book section (`"3.4.1"`, or `"exercise 3.1"`), the notebook cell (`"[70]"`)
//!   and the Korean edition's notebook cell (`"[17]"`);
//! - **what**: a few words on the idea it shows, in English and in Korean, and a stable
//!   snake_case `name` (the name of its snapshot, `snapshots/<name>.snap`);
//! - **the book's text**, copied character for character from the notebook's stored output;
//! - **how to compute it**: a function that starts from the six input embeddings, runs the
//!   crate's modules, and prints the result the way PyTorch would, under a [`Setup`]: the
//!   book's ([`Setup::BOOK`]), or a variant a reader's notebook may have run (another generator
//!   state, `qkv_bias`, sizes, dropout), listed by the record's [`Knob`]s. [`crate::diagnose`]
//!   searches those variants for the one that prints a reader's tensor.
//!
//! Everything else reads these records: `cargo run` shows each beside the book's text, in English
//! or Korean ([`crate::walkthrough`]), the test `tests/book.rs` checks every record and keeps its
//! insta snapshot, [`crate::diagnose`] recognises pasted output by them, and the practice judge
//! shows the book's tensor from them. To add a printed result, add one record to its section.
//!
//! **The book's text is an expectation, never an input.** It comes from the outputs stored in the
//! chapter-3 notebook of `rasbt/LLMs-from-scratch` (`ch03/01_main-chapter-code/ch03.ipynb`, whose
//! version cell reports torch 2.4.0; the upstream README says the notebook holds the code as it
//! appears in the chapter, so its outputs stand in for the printed book) and its
//! `exercise-solutions.ipynb`. Nothing in the crate reads a number out of it to compute with: the
//! numbers only ever come from the `compute` functions, and the text is compared with, never
//! computed from. It is kept exactly as PyTorch printed it, autograd suffixes such as
//! `grad_fn=<MmBackward0>` included; the crate has no autograd, so comparisons first remove them
//! ([`Printed::expected`]). Re-running the notebook with PyTorch 2.4.0 on CPU gives the same text
//! for every cell except the two dropout cells of 3.5.2, which depend on how PyTorch was built
//! ([`s3_5::DROPOUT_ONES_LINUX_MKL`]).
//!
//! ```
//! use ch03_attention::book;
//!
//! // 44 results in the chapter itself, 6 in the exercise solutions (one from the Korean edition).
//! assert_eq!(book::chapter_items().count(), 44);
//! assert_eq!(book::solution_outputs().count(), 6);
//!
//! // Section 3.4.1, cell [70] (the Korean notebook's [17]): the query of the second token.
//! let query_2 = book::s3_4::QUERY_2;
//! assert_eq!((query_2.section, query_2.cell, query_2.cell_ko), ("3.4.1", "[70]", "[17]"));
//! assert_eq!(query_2.compute().unwrap(), "tensor([0.4306, 1.4551])");
//! assert_eq!(book::find("s3_4_1_query_2").map(|p| p.book), Some(query_2.book));
//!
//! // Nothing in the chapter differs from the book.
//! assert!(book::check(book::printed()).is_empty());
//! ```

use std::fmt;
use std::sync::LazyLock;

use crate::causal::{
    causal_attn_weights, mask_future_with_neg_inf, mask_then_renormalize, simple_mask,
};
use crate::context::{context_vec, context_vecs};
use crate::inputs::{QUERY_INDEX, inputs};
use crate::multihead::{batched_head_scores, head_scores_demo_input};
use crate::nalgebra::{DMatrix, DVector};
use crate::normalize::{row_sums, softmax, softmax_naive, softmax_rows, sum_normalize};
use crate::qkv::{attn_scores_of, project, project_all, scaled_softmax, weighted_values};
use crate::similarity::{attn_scores, attn_scores_for, attn_scores_loop, dot};
use crate::spec::Text;
use crate::torch::print::{TorchPrint, python_float_repr, strip_autograd_suffix, torch_size};
use crate::torch::reduce::sum;
use crate::torch::row;
use crate::{
    CausalAttention, Dropout, Error, Linear, MultiHeadAttention, MultiHeadAttentionWrapper,
    SelfAttentionV1, SelfAttentionV2, TorchRng,
};

mod setup;
pub use setup::{DropoutMode, Knob, Setup, knobs};

pub mod s3_3;
pub mod s3_4;
pub mod s3_5;
pub mod s3_6;
pub mod solutions;

/// One result the chapter (or an exercise solution) prints.
#[derive(Clone, Copy)]
pub struct Printed {
    /// The book section, e.g. `"3.4.1"`; for an exercise, `"exercise 3.1"`.
    pub section: &'static str,
    /// The notebook cell that prints it, e.g. `"[70]"` (in `ch03.ipynb`; for an exercise, in
    /// `exercise-solutions.ipynb`). A cell that prints two things has two entries.
    pub cell: &'static str,
    /// The cell that prints it in the Korean edition's notebook (rickiepark/llm-from-scratch, the
    /// same file names), e.g. `"[17]"`: the cell whose output is the same text (under the Korean
    /// notebook's labels, see [`crate::walkthrough::ko::printed`]).
    pub cell_ko: &'static str,
    /// What it is, in a few words: the idea this printout shows.
    pub label: &'static str,
    /// The same in Korean, in the Korean edition's terms (`cargo run -- --lang ko`).
    pub label_ko: &'static str,
    /// A stable snake_case id, e.g. `"s3_4_1_query_2"`: the name of its snapshot file.
    pub name: &'static str,
    /// The book's text, verbatim (a constant from [`crate::book`], `grad_fn=<…>` included).
    pub book: &'static str,
    /// Computes the result from scratch with the crate's modules under a [`Setup`] (the book's
    /// is [`Setup::BOOK`]) and prints it as PyTorch would.
    pub compute_with: fn(&Setup) -> Result<String, Error>,
    /// What the result depends on besides the six inputs: the [`Knob`]s a different setup can
    /// turn (empty for a result that involves no random numbers and no choice of sizes).
    pub varies: &'static [Knob],
}

impl Printed {
    /// `true` for a result of the exercise solutions, `false` for one of the chapter's 44.
    pub fn is_exercise(&self) -> bool {
        self.section.starts_with("exercise")
    }

    /// The cell as the walkthrough labels it: `"[70]"`, or `"3.1 [8]"` for an exercise
    /// solution's cell (its own notebook numbers from 1).
    pub fn cell_label(&self) -> String {
        match self.section.strip_prefix("exercise ") {
            Some(exercise) => format!("{exercise} {}", self.cell),
            None => self.cell.to_string(),
        }
    }

    /// [`cell_label`](Self::cell_label) for the Korean notebooks: `"[17]"`, `"3.1 [6]"`,
    /// and for the Korean edition's own solution of exercise 3.2, “3.2 (한국어판) \[9\]”.
    pub fn cell_label_ko(&self) -> String {
        let section = self.section_ko();
        match section.strip_prefix("연습문제 ") {
            Some(exercise) => format!("{exercise} {}", self.cell_ko),
            None => self.cell_ko.to_string(),
        }
    }

    /// The section in the Korean edition's words: `"3.5.1"`, “연습문제 3.1”, “연습문제 3.2
    /// (한국어판)”.
    pub fn section_ko(&self) -> String {
        self.section
            .replace("exercise", "연습문제")
            .replace("(Korean edition)", "(한국어판)")
    }

    /// Where the book prints it, in both languages: `"3.5.1, cell [110]"`, and in Korean the
    /// Korean edition's notebook cell with the English one after it where they differ
    /// (“3.5.1, 셀 \[30\], 영어판 \[110\]”).
    pub fn place(&self) -> Text {
        let ko_cell = if self.cell_ko == self.cell {
            self.cell_ko.to_string()
        } else {
            format!("{}, 영어판 {}", self.cell_ko, self.cell)
        };
        Text::new(
            format!("{}, cell {}", self.section, self.cell),
            format!("{}, 셀 {ko_cell}", self.section_ko()),
        )
    }

    /// Computes the result as the book does ([`Setup::BOOK`]).
    ///
    /// # Errors
    ///
    /// The [`Error`] of the computation (none for the book's setup).
    pub fn compute(&self) -> Result<String, Error> {
        (self.compute_with)(&Setup::BOOK)
    }

    /// The book's text as this crate prints it: without PyTorch's `grad_fn=<…>` suffix (the crate
    /// has no autograd).
    pub fn expected(&self) -> String {
        strip_autograd_suffix(self.book)
    }

    /// Computes the result and compares it with the book's text: `None` when they are identical,
    /// otherwise the [`Mismatch`] (a computation that fails is a mismatch too).
    pub fn check(&self) -> Option<Mismatch> {
        let computed = match self.compute() {
            Ok(text) => text,
            Err(e) => format!("error: {e}"),
        };
        let expected = self.expected();
        if computed == expected {
            return None;
        }
        Some(Mismatch {
            printed: *self,
            computed,
            expected,
        })
    }
}

impl fmt::Debug for Printed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} ({})",
            self.section, self.cell, self.label, self.name
        )
    }
}

/// A printed result whose computed text differs from the book's.
///
/// Its [`Display`](fmt::Display) says which idea went wrong (section, cell, label) and shows the
/// two texts side by side, the differing lines marked with `✗`:
///
/// ```text
/// ✗ 3.5.1 cell [100]: the simple mask tril(ones(6, 6))  (snapshot s3_5_1_simple_mask)
///     computed                           │ book
///     tensor([[1., 0., 0., 0., 0., 0.],  │ tensor([[1., 0., 0., 0., 0., 0.],
///             [1., 1., 0., 0., 0., 0.],  │         [1., 1., 0., 0., 0., 0.],
///   ✗         [1., 1., 1., 1., 0., 0.]]) │         [1., 1., 1., 0., 0., 0.],
///   ✗                                    │         [1., 1., 1., 1., 0., 0.],
///   ✗                                    │         [1., 1., 1., 1., 1., 0.],
///   ✗                                    │         [1., 1., 1., 1., 1., 1.]])
/// ```
#[derive(Debug, Clone)]
pub struct Mismatch {
    /// The entry that did not match.
    pub printed: Printed,
    /// What the crate computed (or `error: …` when the computation failed).
    pub computed: String,
    /// The book's text, without `grad_fn=<…>`.
    pub expected: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = &self.printed;
        writeln!(
            f,
            "✗ {} cell {}: {}  (snapshot {})",
            p.section, p.cell, p.label, p.name
        )?;
        let left: Vec<&str> = self.computed.lines().collect();
        let right: Vec<&str> = self.expected.lines().collect();
        let width = left
            .iter()
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(0)
            .max("computed".len());
        writeln!(f, "    {:<width$} │ book", "computed")?;
        for k in 0..left.len().max(right.len()) {
            let (a, b) = (left.get(k), right.get(k));
            let mark = if a == b { ' ' } else { '✗' };
            let a = a.copied().unwrap_or("");
            let b = b.copied().unwrap_or("");
            writeln!(f, "  {mark} {a:<width$} │ {b}")?;
        }
        Ok(())
    }
}

/// Every printed result: the chapter's 44 in order, then the exercise solutions'.
pub fn printed() -> &'static [Printed] {
    static PRINTED: LazyLock<Vec<Printed>> = LazyLock::new(|| {
        [
            s3_3::PRINTED,
            s3_4::PRINTED,
            s3_5::PRINTED,
            s3_6::PRINTED,
            solutions::PRINTED,
        ]
        .concat()
    });
    &PRINTED
}

/// The 44 results printed by the chapter itself (`ch03.ipynb`), in order.
pub fn chapter_items() -> impl Iterator<Item = &'static Printed> {
    printed().iter().filter(|p| !p.is_exercise())
}

/// The results printed by the exercise solutions (`exercise-solutions.ipynb`), in order. (The
/// practice package's 20 *tasks* are [`crate::spec::EXERCISES`]; these are the book's solutions'
/// printouts.)
pub fn solution_outputs() -> impl Iterator<Item = &'static Printed> {
    printed().iter().filter(|p| p.is_exercise())
}

/// The entries of one section, e.g. `"3.5.1"` or `"exercise 3.2"`, in order.
pub fn in_section(section: &str) -> impl Iterator<Item = &'static Printed> {
    printed().iter().filter(move |p| p.section == section)
}

/// The entry called `name` (its snapshot name), if there is one.
pub fn find(name: &str) -> Option<&'static Printed> {
    printed().iter().find(|p| p.name == name)
}

/// Computes every entry of `entries` and returns all those that differ from the book, in order
/// (empty when everything matches).
pub fn check(entries: &[Printed]) -> Vec<Mismatch> {
    entries.iter().filter_map(Printed::check).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chapter_has_44_printed_items() {
        assert_eq!(chapter_items().count(), 44);
        assert_eq!(solution_outputs().count(), 6);
        assert_eq!(printed().len(), 50);
    }

    #[test]
    fn items_per_section() {
        let expected = [
            ("3.3.1", 10),
            ("3.3.2", 7),
            ("3.4.1", 7),
            ("3.4.2", 2),
            ("3.5.1", 6),
            ("3.5.2", 2),
            ("3.5.3", 3),
            ("3.6.1", 2),
            ("3.6.2", 5),
            ("exercise 3.1", 2),
            ("exercise 3.2", 2),
            ("exercise 3.2 (Korean edition)", 1),
            ("exercise 3.3", 1),
        ];
        for (section, count) in expected {
            assert_eq!(in_section(section).count(), count, "section {section}");
        }
        let total: usize = expected.iter().map(|(_, n)| n).sum();
        assert_eq!(
            total,
            printed().len(),
            "an entry outside the listed sections"
        );
        let shapes = chapter_items()
            .filter(|p| p.book.contains("torch.Size("))
            .count();
        assert_eq!(shapes, 6);
    }

    /// Chapter first, then exercises; within each, sections and cells never go backwards.
    #[test]
    fn items_are_in_chapter_order() {
        let cell = |c: &str| -> u32 { c.trim_matches(['[', ']']).parse().unwrap() };
        for pair in printed().windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            assert!(a.is_exercise() <= b.is_exercise(), "{a:?} before {b:?}");
            if a.is_exercise() == b.is_exercise() {
                assert!(a.section <= b.section, "{a:?} before {b:?}");
                if a.section == b.section {
                    assert!(cell(a.cell) <= cell(b.cell), "{a:?} before {b:?}");
                }
            }
        }
    }

    #[test]
    fn names_are_unique_snake_case() {
        let mut names: Vec<&str> = printed().iter().map(|p| p.name).collect();
        for name in &names {
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{name}"
            );
            assert_eq!(find(name).map(|p| p.name), Some(*name));
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), printed().len(), "duplicate names");
    }

    /// A mismatch names the entry and marks exactly the lines that differ.
    #[test]
    fn mismatch_marks_the_differing_lines() {
        let wrong = Printed {
            compute_with: |_| Ok("tensor([[1., 0.],\n        [0., 1.]])".to_string()),
            book: "tensor([[1., 0.],\n        [1., 1.]])",
            ..*find("s3_5_1_simple_mask").unwrap()
        };
        let m = wrong.check().expect("the texts differ");
        let text = m.to_string();
        assert!(text.starts_with(
            "✗ 3.5.1 cell [100]: the simple mask tril(ones(6, 6))  (snapshot s3_5_1_simple_mask)\n"
        ));
        let lines: Vec<&str> = text.lines().collect();
        let width = "        [0., 1.]])".len(); // the longest computed line
        assert_eq!(lines[1], format!("    {:<width$} │ book", "computed"));
        let same = "tensor([[1., 0.],";
        assert_eq!(lines[2], format!("    {same:<width$} │ {same}"));
        let (ours, books) = ("        [0., 1.]])", "        [1., 1.]])");
        assert_eq!(lines[3], format!("  ✗ {ours:<width$} │ {books}"));
        assert_eq!(lines.len(), 4);
    }

    /// The constants no registry entry holds: the stale exercise text and the MKL variants.
    const EXTRAS: &[&str] = &[
        solutions::EX_3_2_STALE_MARKDOWN,
        s3_5::DROPOUT_ONES_LINUX_MKL,
        s3_5::DROPOUT_WEIGHTS_LINUX_MKL,
    ];

    /// Every tensor-like text of this module: the registry's (chapter and exercises) and the
    /// extras.
    fn all_texts() -> impl Iterator<Item = &'static str> {
        printed()
            .iter()
            .map(|p| p.book)
            .chain(EXTRAS.iter().copied())
    }

    #[test]
    fn no_trailing_whitespace_and_no_edge_newlines() {
        for text in all_texts() {
            assert!(!text.contains('\r'), "carriage return in {text:?}");
            assert!(
                !text.starts_with('\n') && !text.ends_with('\n'),
                "edge newline in {text:?}"
            );
            for line in text.lines() {
                assert_eq!(line, line.trim_end(), "trailing whitespace in {text:?}");
            }
        }
    }

    #[test]
    fn multi_line_tensors_keep_pytorch_indentation() {
        // PyTorch indents a continuation row so that its brackets line up under those that follow
        // `tensor(` (7 characters) on the first line, and puts a wrapped `grad_fn=` 7 spaces in.
        for text in all_texts() {
            let Some(start) = text
                .lines()
                .position(|l| l.trim_start().starts_with("tensor("))
            else {
                continue;
            };
            let mut lines = text.lines().skip(start);
            let first = lines.next().unwrap().trim_start();
            let depth = first["tensor(".len()..]
                .chars()
                .take_while(|&c| c == '[')
                .count();
            for line in lines {
                let indent = line.len() - line.trim_start().len();
                if line.is_empty() {
                    continue;
                }
                if line.trim_start().starts_with("grad_fn=") {
                    assert_eq!(indent, 7, "{text}");
                    continue;
                }
                let brackets = line.trim_start().chars().take_while(|&c| c == '[').count();
                assert_eq!(indent + brackets, 7 + depth, "{line:?} in\n{text}");
            }
        }
    }

    #[test]
    fn stale_exercise_differs_from_corrected() {
        use solutions::*;
        assert_ne!(EX_3_2_STALE_MARKDOWN, EX_3_2_CONTEXT_VECS.book);
        assert_eq!(
            EX_3_3_NUM_PARAMETERS.book,
            (3 * 768 * 768 + 768 * 768 + 768).to_string()
        );
    }
}
