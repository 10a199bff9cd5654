//! The chapter, computed: what `cargo run` prints.
//!
//! Each section of the chapter is a list of [`Item`]s: one printed result, computed by this
//! crate and printed the way PyTorch prints it, beside what the book prints. The binary
//! (`src/main.rs`) renders them; the tests check that every item matches.
//!
//! ```
//! let sections = ch03_attention::walkthrough::sections().unwrap();
//! let s = &sections[0];
//! assert_eq!(s.id, "3.3.1");
//! assert!(s.items.iter().all(|item| item.matches()));
//! ```

use crate::Error;
use crate::torch::print::strip_autograd_suffix;

mod s3_3;

/// Where an item's expected text comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The book's printed output (`crate::book`), compared as text after removing `grad_fn`.
    Book,
    /// A full-precision value from PyTorch that the book does not print (e.g. seeded weights as
    /// float32 bit patterns), compared as text.
    PyTorch,
}

/// One printed result of the chapter.
#[derive(Debug, Clone)]
pub struct Item {
    /// The notebook cell that prints it, e.g. `"[28]"`.
    pub cell: &'static str,
    /// What it is, in a few words.
    pub what: &'static str,
    /// This crate's result, printed like PyTorch.
    pub computed: String,
    /// What the book (or PyTorch) prints, verbatim.
    pub expected: String,
    /// Where `expected` comes from.
    pub source: Source,
}

impl Item {
    /// A result compared with the book's printed text.
    pub fn book(cell: &'static str, what: &'static str, computed: String, book: &str) -> Item {
        Item {
            cell,
            what,
            computed,
            expected: book.to_string(),
            source: Source::Book,
        }
    }

    /// The expected text with PyTorch's `grad_fn=<…>` suffix removed: what this crate prints.
    pub fn expected_text(&self) -> String {
        strip_autograd_suffix(&self.expected)
    }

    /// `true` when the computed text equals the expected text exactly.
    pub fn matches(&self) -> bool {
        self.computed == self.expected_text()
    }
}

/// One subsection of the chapter, e.g. 3.3.1.
#[derive(Debug, Clone)]
pub struct Section {
    /// Section number, e.g. `"3.3.1"`.
    pub id: &'static str,
    /// Section title.
    pub title: &'static str,
    /// Its printed results, in the book's order.
    pub items: Vec<Item>,
}

/// Every implemented section, in the chapter's order.
///
/// # Errors
///
/// Propagates any [`Error`] from the modules (none is expected on the book's inputs).
pub fn sections() -> Result<Vec<Section>, Error> {
    let mut all = Vec::new();
    all.extend(s3_3::sections()?);
    Ok(all)
}

/// The sections whose id starts with `filter` at a dot boundary (`"3.3"` selects 3.3.1 and
/// 3.3.2, not 3.31); `None` selects everything.
///
/// # Errors
///
/// As [`sections`].
pub fn select(filter: Option<&str>) -> Result<Vec<Section>, Error> {
    Ok(sections()?
        .into_iter()
        .filter(|s| filter.is_none_or(|f| s.id == f || s.id.starts_with(&format!("{f}."))))
        .collect())
}

/// Renders sections as `cargo run` prints them: each item's computed text beside the expected
/// text, a ✓ or ✗, and a count per top-level section (e.g. `3.3: 17 of 17 printed results match
/// the book`).
pub fn render(sections: &[Section]) -> String {
    let mut out = String::new();
    for s in sections {
        out.push_str(&format!("\n== {} {} ==\n", s.id, s.title));
        for item in &s.items {
            let mark = if item.matches() { '✓' } else { '✗' };
            let label = match item.source {
                Source::Book => "book says",
                Source::PyTorch => "PyTorch says",
            };
            out.push_str(&format!("\n{mark} {} {}\n", item.cell, item.what));
            out.push_str(&side_by_side(&item.computed, &item.expected, label));
        }
    }
    out.push('\n');
    for t in tally(sections) {
        let (chapter, (ok, total), (ok_t, total_t)) = (t.chapter, t.book, t.pytorch);
        if total > 0 {
            out.push_str(&format!(
                "{chapter}: {ok} of {total} printed results match the book\n"
            ));
        }
        if total_t > 0 {
            out.push_str(&format!(
                "{chapter}: {ok_t} of {total_t} values match PyTorch bit for bit\n"
            ));
        }
    }
    out
}

/// How many items of one top-level section (e.g. `"3.3"`) match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    /// Top-level section, e.g. `"3.3"`.
    pub chapter: String,
    /// (matching, total) items compared with the book's printed text.
    pub book: (usize, usize),
    /// (matching, total) items compared with PyTorch values the book does not print.
    pub pytorch: (usize, usize),
}

/// Counts matching items per top-level section, in order.
pub fn tally(sections: &[Section]) -> Vec<Tally> {
    let mut rows: Vec<Tally> = Vec::new();
    for s in sections {
        let chapter = s.id.splitn(3, '.').take(2).collect::<Vec<_>>().join(".");
        if rows.last().is_none_or(|r| r.chapter != chapter) {
            rows.push(Tally {
                chapter,
                book: (0, 0),
                pytorch: (0, 0),
            });
        }
        let row = rows.last_mut().expect("pushed above");
        for item in &s.items {
            let counts = match item.source {
                Source::Book => &mut row.book,
                Source::PyTorch => &mut row.pytorch,
            };
            counts.1 += 1;
            counts.0 += usize::from(item.matches());
        }
    }
    rows
}

/// Two blocks of text in two columns: "computed" on the left, `label` on the right.
fn side_by_side(left: &str, right: &str, label: &str) -> String {
    let right = strip_autograd_suffix(right);
    let l: Vec<&str> = left.lines().collect();
    let r: Vec<&str> = right.lines().collect();
    let width = l
        .iter()
        .map(|s| s.chars().count())
        .max()
        .unwrap_or(0)
        .max(8);
    let mut out = format!("    {:<width$}   {label}\n", "computed");
    for k in 0..l.len().max(r.len()) {
        let a = l.get(k).copied().unwrap_or("");
        let b = r.get(k).copied().unwrap_or("");
        let line = format!("    {a:<width$} │ {b}");
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
