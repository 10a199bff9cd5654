//! The chapter, computed: what `cargo run` prints.
//!
//! Each section of the chapter is a list of [`Item`]s: one printed result, computed by this
//! crate and printed the way PyTorch prints it, beside what the book prints. The book's printed
//! results come from the registry in [`crate::book`]; each section adds its own extras (seeded
//! parameters compared with PyTorch's bits, measured claims) in cell order. The binary
//! (`src/main.rs`) renders them; the tests check that every item matches.
//!
//! ```
//! let sections = ch03_attention::walkthrough::sections().unwrap();
//! let s = &sections[0];
//! assert_eq!(s.id, "3.3.1");
//! assert!(s.items.iter().all(|item| item.matches()));
//! ```

use crate::Error;
use crate::book::{self, Printed};
use crate::torch::print::strip_autograd_suffix;

mod gradients;
pub mod ko;
mod kv_cache;
mod leakage;
mod s3_3;
mod s3_4;
mod s3_5;
mod s3_6;
mod torch_values;

/// Where an item's expected text comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The book's printed output (`crate::book`), compared as text after removing `grad_fn`.
    Book,
    /// A full-precision value from PyTorch that the book does not print (e.g. seeded weights as
    /// float32 bit patterns), compared as text.
    PyTorch,
    /// A measured claim rather than a printed value (e.g. "the unmasked model's training loss is
    /// below a quarter of the entropy floor"): `expected` states it, `holds` says whether the
    /// measurement bears it out.
    Claim {
        /// Whether the computed measurement satisfies the statement.
        holds: bool,
    },
}

/// One printed result of the chapter.
#[derive(Debug, Clone)]
pub struct Item {
    /// The notebook cell that prints it, e.g. `"[28]"` (for an exercise, e.g. `"3.1 [8]"`).
    pub cell: String,
    /// What it is, in a few words.
    pub what: &'static str,
    /// The same in Korean where the item carries it (a printed result's record does); otherwise
    /// [`ko::label`] translates `what`.
    pub what_ko: Option<&'static str>,
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
        Item::new(cell, what, computed, book.to_string(), Source::Book)
    }

    /// A result compared with a value recorded from PyTorch (not printed by the book).
    pub fn pytorch(
        cell: &'static str,
        what: &'static str,
        computed: String,
        expected: String,
    ) -> Item {
        Item::new(cell, what, computed, expected, Source::PyTorch)
    }

    /// A measurement (`computed`) and the statement it is meant to bear out.
    pub fn claim(
        cell: &'static str,
        what: &'static str,
        computed: String,
        statement: String,
        holds: bool,
    ) -> Item {
        Item::new(cell, what, computed, statement, Source::Claim { holds })
    }

    /// An item the walkthrough adds itself: its Korean label comes from [`ko::label`].
    fn new(
        cell: &'static str,
        what: &'static str,
        computed: String,
        expected: String,
        source: Source,
    ) -> Item {
        Item {
            cell: cell.to_string(),
            what,
            what_ko: None,
            computed,
            expected,
            source,
        }
    }

    /// A registry entry ([`crate::book`]), computed and compared with the book's text.
    ///
    /// # Errors
    ///
    /// Propagates the [`Error`] of the entry's computation.
    pub fn printed(p: &Printed) -> Result<Item, Error> {
        Ok(Item {
            cell: p.cell_label(),
            what: p.label,
            what_ko: Some(p.label_ko),
            computed: p.compute()?,
            expected: p.book.to_string(),
            source: Source::Book,
        })
    }

    /// What the item is, in Korean: [`what_ko`](Self::what_ko), or [`ko::label`] of `what`
    /// (`None` when neither has it).
    pub fn korean_what(&self) -> Option<&'static str> {
        self.what_ko.or_else(|| ko::label(self.what))
    }

    /// The expected text with PyTorch's `grad_fn=<…>` suffix removed: what this crate prints.
    pub fn expected_text(&self) -> String {
        strip_autograd_suffix(&self.expected)
    }

    /// `true` when the computed text equals the expected text exactly (for a claim: when the
    /// measurement bears it out).
    pub fn matches(&self) -> bool {
        match self.source {
            Source::Claim { holds } => holds,
            Source::Book | Source::PyTorch => self.computed == self.expected_text(),
        }
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

/// The number inside a cell label's brackets (`"[121]"` → 121); labels without one sort last.
fn cell_number(cell: &str) -> u32 {
    cell.rsplit('[')
        .next()
        .and_then(|c| c.trim_end_matches(']').parse().ok())
        .unwrap_or(u32::MAX)
}

/// Section `id`'s printed results from the registry, computed, merged by cell with the section's
/// `extras`. At the same cell the extras (the parameters a cell creates) come before the cell's
/// printed results.
fn with_printed(id: &str, extras: Vec<Item>) -> Result<Vec<Item>, Error> {
    let mut items = extras;
    for p in book::in_section(id) {
        items.push(Item::printed(p)?);
    }
    items.sort_by_key(|item| cell_number(&item.cell)); // stable: extras first at equal cells
    Ok(items)
}

/// Computes the sections of one part of the walkthrough.
type BuildSections = fn() -> Result<Vec<Section>, Error>;

/// The walkthrough's parts, in the chapter's order: the section ids each part produces, and the
/// function that computes them. [`select`] runs only the parts it needs, so `cargo run -- 3.3`
/// does not train the leakage experiment's models.
const PARTS: &[(&[&str], BuildSections)] = &[
    (&["3.3.1", "3.3.2"], s3_3::sections),
    (&["3.4.1", "3.4.2"], s3_4::sections),
    (&["3.5.1", "3.5.2", "3.5.3"], s3_5::sections),
    (&["3.6.1", "3.6.2", "exercises"], s3_6::sections),
    (&["kv-cache"], kv_cache::sections),
    (&["why-mask"], leakage::sections),
    (&["gradients"], gradients::sections),
];

/// `true` if section `id` is selected by `filter`: equal, or below it at a dot boundary
/// (`"3.3"` selects 3.3.1 and 3.3.2, not 3.31).
fn selected(id: &str, filter: &str) -> bool {
    id == filter || id.starts_with(&format!("{filter}."))
}

/// Every implemented section, in the chapter's order.
///
/// # Errors
///
/// Propagates any [`Error`] from the modules (none is expected on the book's inputs).
pub fn sections() -> Result<Vec<Section>, Error> {
    select(None)
}

/// The sections selected by `filter` (see the ids with `cargo run -- --list`); `None` selects
/// everything.
///
/// # Errors
///
/// As [`sections`].
pub fn select(filter: Option<&str>) -> Result<Vec<Section>, Error> {
    let wanted = |id: &str| filter.is_none_or(|f| selected(id, f));
    let mut all = Vec::new();
    for (ids, build) in PARTS {
        if ids.iter().any(|id| wanted(id)) {
            all.extend(build()?.into_iter().filter(|s| wanted(s.id)));
        }
    }
    Ok(all)
}

/// Every section id, in order, without computing anything.
pub fn section_ids() -> Vec<&'static str> {
    PARTS
        .iter()
        .flat_map(|(ids, _)| ids.iter().copied())
        .collect()
}

/// Renders sections as `cargo run` prints them: each item's computed text beside the expected
/// text, a ✓ or ✗, and a count per top-level section (e.g. `3.3: 17 of 17 printed results match
/// the book`).
pub fn render(sections: &[Section]) -> String {
    render_in(sections, Lang::English)
}

/// The language of the walkthrough's labels (`cargo run -- --lang ko`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// The English labels and the English notebook's printed labels.
    English,
    /// Korean labels and section titles (the Korean edition's), the English title beside each
    /// section's, the printed labels of the Korean notebook (“어텐션 가중치:”, “합:” …) and its
    /// cell numbers, the English one in parentheses where it differs ([`ko::cell_label`]).
    Korean,
}

/// [`render`] in the given language. The numbers are the same in both: the Korean notebook
/// prints the same tensors, only some labels differ.
pub fn render_in(sections: &[Section], lang: Lang) -> String {
    let ko = lang == Lang::Korean;
    let mut out = String::new();
    for s in sections {
        match ko::title(s.id).filter(|_| ko) {
            Some(title) => out.push_str(&format!("\n== {} {title} ({}) ==\n", s.id, s.title)),
            None => out.push_str(&format!("\n== {} {} ==\n", s.id, s.title)),
        }
        for item in &s.items {
            let mark = if item.matches() { '✓' } else { '✗' };
            let label = match (item.source, ko) {
                (Source::Book, false) => "book says",
                (Source::Book, true) => "책의 출력",
                (Source::PyTorch, false) => "PyTorch says",
                (Source::PyTorch, true) => "파이토치의 값",
                (Source::Claim { .. }, false) => "claim",
                (Source::Claim { .. }, true) => "주장",
            };
            let what = match ko {
                true => item.korean_what().unwrap_or(item.what),
                false => item.what,
            };
            let cell = match ko {
                true => ko::cell_label(&item.cell),
                false => item.cell.clone(),
            };
            out.push_str(&format!("\n{mark} {cell} {what}\n"));
            let (computed, expected) = match ko {
                true => (ko::printed(&item.computed), ko::printed(&item.expected)),
                false => (item.computed.clone(), item.expected.clone()),
            };
            let header = if ko { "계산 결과" } else { "computed" };
            out.push_str(&side_by_side(&computed, &expected, header, label));
        }
    }
    out.push('\n');
    let matching = |ok: usize, total: usize, en: &str, ko_text: &str| match ko {
        false => format!("{ok} of {total} {en}"),
        true => format!("{total}개 중 {ok}개 {ko_text}"),
    };
    for t in tally(sections) {
        let counts = [
            (t.book, "printed results match the book", "책의 출력과 일치"),
            (t.pytorch, "values match PyTorch", "파이토치의 값과 일치"),
            (t.claims, "claims hold", "주장이 성립"),
        ];
        for ((ok, total), en, ko_text) in counts {
            if total > 0 {
                let text = matching(ok, total, en, ko_text);
                out.push_str(&format!("{}: {text}\n", t.chapter));
            }
        }
    }
    let chapter: Vec<&Item> = sections
        .iter()
        .filter(|s| s.id.starts_with("3."))
        .flat_map(|s| &s.items)
        .filter(|i| i.source == Source::Book)
        .collect();
    let shown_chapters = sections
        .iter()
        .filter(|s| s.id.starts_with("3."))
        .map(|s| &s.id[..3])
        .collect::<std::collections::BTreeSet<_>>();
    if shown_chapters.len() > 1 {
        let ok = chapter.iter().filter(|i| i.matches()).count();
        let name = if ko { "3장" } else { "chapter 3" };
        let text = matching(
            ok,
            chapter.len(),
            "printed results match the book",
            "책의 출력과 일치",
        );
        out.push_str(&format!("{name}: {text}\n"));
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
    /// (holding, total) measured claims.
    pub claims: (usize, usize),
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
                claims: (0, 0),
            });
        }
        let row = rows.last_mut().expect("pushed above");
        for item in &s.items {
            let counts = match item.source {
                Source::Book => &mut row.book,
                Source::PyTorch => &mut row.pytorch,
                Source::Claim { .. } => &mut row.claims,
            };
            counts.1 += 1;
            counts.0 += usize::from(item.matches());
        }
    }
    rows
}

/// A tensor's float32 bit patterns in row-major order, as hex words separated by spaces
/// (`3e979bfc 3f043d6d …`): how the walkthrough compares seeded parameters bit for bit.
pub fn hex_bits(data: &[f32]) -> String {
    data.iter()
        .map(|v| format!("{:08x}", v.to_bits()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A seeded parameter beside PyTorch's bits: the computed matrix printed like PyTorch plus its
/// bit patterns, against the same for the recorded bits.
fn seeded_parameter(
    cell: &'static str,
    what: &'static str,
    shape: &[usize],
    computed: &[f32],
    expected_hex: &str,
) -> Item {
    use crate::torch::print::format_tensor;
    let expected: Vec<f32> = expected_hex
        .split(' ')
        .map(|h| f32::from_bits(u32::from_str_radix(h, 16).expect("hex bit pattern")))
        .collect();
    Item::pytorch(
        cell,
        what,
        format!(
            "{}\nbits {}",
            format_tensor(shape, computed),
            hex_bits(computed)
        ),
        format!("{}\nbits {}", format_tensor(shape, &expected), expected_hex),
    )
}

/// Two blocks of text in two columns: `header` over the left one (what was computed), `label`
/// over the right.
fn side_by_side(left: &str, right: &str, header: &str, label: &str) -> String {
    let right = strip_autograd_suffix(right);
    let l: Vec<&str> = left.lines().collect();
    let r: Vec<&str> = right.lines().collect();
    let width = l
        .iter()
        .chain([&header])
        .map(|s| display_width(s))
        .max()
        .unwrap_or(0)
        .max(8);
    let pad = |s: &str| format!("{s}{}", " ".repeat(width - display_width(s)));
    let mut out = format!("    {}   {label}\n", pad(header));
    for k in 0..l.len().max(r.len()) {
        let a = l.get(k).copied().unwrap_or("");
        let b = r.get(k).copied().unwrap_or("");
        let line = format!("    {} │ {b}", pad(a));
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Columns a terminal gives `s`: 2 for each Hangul character, 1 for everything else here.
fn display_width(s: &str) -> usize {
    s.chars()
        .map(|c| match c {
            '\u{1100}'..='\u{11ff}' | '\u{3130}'..='\u{318f}' | '\u{ac00}'..='\u{d7af}' => 2,
            _ => 1,
        })
        .sum()
}
