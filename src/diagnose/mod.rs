//! # Why does my output differ from the book? (`diagnose`)
#![doc = include_str!(concat!(env!("OUT_DIR"), "/docs/diagnose.md"))]

use std::time::{Duration, Instant};

use crate::book::{self, Printed, Setup};

mod causes;
mod evidence;
pub mod grad_fn;
mod input;
mod nested;
pub mod number;
mod parse;
mod report;
mod search;

pub use causes::Cause;
pub use evidence::{
    CHANCE_LIMIT, Evidence, MIN_RANDOM_NUMBERS, SAMPLE_SEEDS, chance_per_run, odds,
};
pub use input::{BadInput, MAX_INPUT_BYTES, read_input};
pub use parse::{Kind, PrintedValue, parse, parse_all};

/// The most draws [`diagnose`] assumes were taken between a seed and a result: 300, enough for
/// four re-runs of the dropout cell (72 draws each) or eight of the multi-head wrapper's
/// construction (36 each).
pub const MAX_OFFSET: u32 = 300;

/// The widths and head counts tried besides the book's: 1 to 4.
pub const MAX_SIZE: usize = 4;

/// The dropout rates tried in a module the book builds with 0.0: the chapter's demonstration
/// rate and the lower end of the rates it says later chapters use.
pub const DROPOUT_RATES: [f64; 2] = [0.5, 0.1];

/// The seeds the chapter calls `torch.manual_seed` with.
pub const CHAPTER_SEEDS: [u64; 2] = [123, 789];

/// The most causes an explanation combines: 2 (say, a re-run cell and `qkv_bias=True`). A run
/// that differs from the book in three ways at once is reported as not recognised, with the
/// closest result.
pub const MAX_CAUSES: usize = 2;

/// A printed result of the chapter, computed under a setup: what a diagnosis points at.
#[derive(Debug, Clone)]
pub struct Found {
    /// The registry entry.
    pub printed: &'static Printed,
    /// The setup it was computed under.
    pub setup: Setup,
    /// How the setup differs from the book's (`[Cause::Book]` when it does not).
    pub causes: Vec<Cause>,
    /// The entry's text under that setup, as this crate prints it (PyTorch's default print
    /// options).
    pub text: String,
}

/// The nearest candidate when nothing matches exactly.
#[derive(Debug, Clone)]
pub struct Closest {
    /// The candidate.
    pub found: Found,
    /// The positions (row-major) whose printed numbers differ, with the reader's number and
    /// the candidate's, written with the reader's precision.
    pub differing: Vec<(usize, String, String)>,
    /// How many numbers the value has.
    pub of: usize,
    /// The largest absolute difference between differing numbers.
    pub max_abs_diff: f64,
}

/// The answer for one value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// One result and setup print the reader's text: the book's own setup, or another that the
    /// text is evidence enough for against the setups compared (see [`Evidence`]).
    Recognised,
    /// Setups print the reader's text, but so few digits could match one of them by chance:
    /// the matching setups and the odds are given, none is named.
    Ambiguous,
    /// No result, under any setup tried, prints the reader's text.
    NotRecognised,
}

impl Status {
    /// `recognised`, `ambiguous`, `not recognised`: the JSON's `status`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Recognised => "recognised",
            Status::Ambiguous => "ambiguous",
            Status::NotRecognised => "not recognised",
        }
    }
}

/// Something the reader's printout says that the diagnosis could not use as evidence.
#[derive(Debug, Clone, PartialEq)]
pub enum Note {
    /// The reader's `grad_fn` is not one the named result prints (no result with the reader's
    /// numbers prints it).
    GradFn {
        /// The reader's.
        yours: String,
        /// The names the named result prints (empty: none).
        prints: &'static [&'static str],
    },
    /// The tensor is on another device than the CPU, e.g. `cuda:0`.
    Device(String),
    /// The tensor's dtype is a 16-bit float, e.g. `torch.float16`.
    Dtype(String),
}

/// The answer to "why does my output differ from the book?" for one printed value.
#[derive(Debug, Clone)]
pub struct Diagnosis {
    /// The reader's value as read.
    pub input: PrintedValue,
    /// Recognised, ambiguous or not recognised.
    pub status: Status,
    /// When recognised: the result and setup that print exactly the reader's text.
    pub matched: Option<Found>,
    /// When recognised: other results that print the same text under an equally simple setup.
    pub also: Vec<Found>,
    /// When ambiguous: every setup that prints the reader's text.
    pub ambiguous: Vec<Found>,
    /// When a setup prints the text: how much that says against chance.
    pub evidence: Option<Evidence>,
    /// When nothing matches: the nearest candidate.
    pub closest: Option<Closest>,
    /// What the printout says that could not be used.
    pub notes: Vec<Note>,
    /// How many candidate computations were compared.
    pub candidates: usize,
    /// How long the search took.
    pub elapsed: Duration,
}

/// The diagnoses of every value in a paste.
#[derive(Debug, Clone)]
pub struct Report {
    /// One diagnosis per value, in the paste's order.
    pub values: Vec<Diagnosis>,
    /// The value the paste is about: the first that is not a `torch.Size` (the first value if
    /// all are). `--json` reports it at the top level.
    pub primary: usize,
    /// How long the whole paste took.
    pub elapsed: Duration,
}

impl Report {
    /// The primary value's diagnosis.
    pub fn primary(&self) -> &Diagnosis {
        &self.values[self.primary]
    }

    /// Whether every value is recognised (exit status 0).
    pub fn all_recognised(&self) -> bool {
        self.values.iter().all(|d| d.status == Status::Recognised)
    }
}

/// Reads `text` as printed values and diagnoses the first that is not a `torch.Size` (see
/// [`report`]): which of the chapter's printed results it is, and under which setup: the
/// book's, or the simplest variant that prints exactly this text.
///
/// ```
/// use ch03_attention::{book, diagnose};
///
/// let d = diagnose::diagnose(book::s3_5::DROPOUT_ONES_LINUX_MKL).unwrap();
/// let found = d.matched.unwrap();
/// assert_eq!((found.printed.section, found.printed.cell), ("3.5.2", "[115]"));
/// assert_eq!(found.causes[0].tag(), "bernoulli-mkl");
/// ```
///
/// # Errors
///
/// A [`BadInput`] when `text` holds no printed value, or a value that cannot be read.
pub fn diagnose(text: &str) -> Result<Diagnosis, BadInput> {
    diagnose_in(text, None)
}

/// [`diagnose`], among the results of one section only when `section` is given: `"3.4.2"`,
/// `"3.4"` (3.4.1 and 3.4.2), `"exercise 3.2"` (with the Korean edition's). Use it when a
/// tensor could come from two places: `SelfAttention_v2` built from seed 123 after 18 draws is
/// both exercise 3.1 after a re-run and section 3.4.2 without its `torch.manual_seed(789)`.
///
/// ```
/// use ch03_attention::diagnose;
/// use ch03_attention::book::{self, Setup};
///
/// let sa_v2 = book::find("s3_4_2_sa_v2_output").unwrap();
/// let without_seed = Setup { seed: Some(123), offset: 18, ..Setup::BOOK };
/// let text = (sa_v2.compute_with)(&without_seed).unwrap();
///
/// let anywhere = diagnose::diagnose(&text).unwrap().matched.unwrap();
/// assert_eq!(anywhere.printed.section, "exercise 3.1"); // one cause: 18 draws skipped
/// let in_3_4 = diagnose::diagnose_in(&text, Some("3.4")).unwrap().matched.unwrap();
/// let tags: Vec<String> = in_3_4.causes.iter().map(|c| c.tag()).collect();
/// assert_eq!((in_3_4.printed.cell, tags), ("[89]", vec![
///     "seed-missing".to_string(),
///     "generator-offset:18".to_string(),
/// ]));
/// ```
///
/// # Errors
///
/// A [`BadInput`] when `text` holds no printed value, or a value that cannot be read.
pub fn diagnose_in(text: &str, section: Option<&str>) -> Result<Diagnosis, BadInput> {
    let mut report = report_in(text, section)?;
    Ok(report.values.swap_remove(report.primary))
}

/// Diagnoses every value of a paste: a whole cell's output (labels, `.shape` lines, prompts
/// and several tensors included) gives one diagnosis per value.
///
/// ```
/// use ch03_attention::{book, diagnose};
///
/// let cell = format!("{}\ncontext_vecs.shape: torch.Size([2, 6, 2])\n", book::s3_6::MHA_CONTEXT_VECS.book);
/// let report = diagnose::report(&cell).unwrap();
/// assert_eq!(report.values.len(), 2);
/// assert_eq!(report.primary().matched.as_ref().unwrap().printed.cell, "[131]");
/// assert!(report.all_recognised());
/// ```
///
/// # Errors
///
/// A [`BadInput`] when `text` holds no printed value, or a value that cannot be read.
pub fn report(text: &str) -> Result<Report, BadInput> {
    report_in(text, None)
}

/// [`report`] among the results of one section (see [`diagnose_in`]).
///
/// # Errors
///
/// A [`BadInput`] when `text` holds no printed value, or a value that cannot be read.
pub fn report_in(text: &str, section: Option<&str>) -> Result<Report, BadInput> {
    let started = Instant::now();
    let inputs = parse_all(text)?;
    let primary = inputs
        .iter()
        .position(|v| v.kind != Kind::Size)
        .unwrap_or(0);
    let mut cache = search::Cache::default();
    let mut values: Vec<Diagnosis> = inputs
        .into_iter()
        .map(|input| diagnose_value(input, section, &mut cache))
        .collect();
    explain_by_the_primary_cell(&mut values, primary, &mut cache);
    Ok(Report {
        values,
        primary,
        elapsed: started.elapsed(),
    })
}

/// A value that the primary value's cell also prints, under the primary's setup, is named as that
/// cell's: the cell printed both. The shape line `context_vecs.shape: torch.Size([2, 6, 2])`,
/// which three cells print alike, after a tensor of 3.6.1's cell run with one head is 3.6.1's
/// shape line under `num-heads:1`, not 3.5.3's under the book's setup. The setup's causes are
/// kept where the value depends on them (a shape does not depend on the generator). A value whose
/// `grad_fn` the cell's entry does not print is not that entry's.
fn explain_by_the_primary_cell(
    values: &mut [Diagnosis],
    primary: usize,
    cache: &mut search::Cache,
) {
    let Some(main) = values[primary].matched.clone() else {
        return;
    };
    let same_cell = |p: &Printed| (p.section, p.cell) == (main.printed.section, main.printed.cell);
    for (i, d) in values.iter_mut().enumerate() {
        if i == primary || d.matched.as_ref().is_some_and(|m| same_cell(m.printed)) {
            continue;
        }
        let entry = book::printed().iter().filter(|p| same_cell(p)).find(|p| {
            grad_fn::agrees(d.input.grad_fn.as_deref(), p, &main.setup)
                && cache
                    .get(p, &main.setup)
                    .is_some_and(|computed| search::prints_as(&d.input, &computed))
        });
        let Some(entry) = entry else {
            continue;
        };
        let mut causes: Vec<Cause> = main
            .causes
            .iter()
            .copied()
            .filter(|c| c.knob().is_some_and(|k| entry.varies.contains(&k)))
            .collect();
        if causes.is_empty() {
            causes.push(Cause::Book);
        }
        let found = Found {
            printed: entry,
            setup: main.setup,
            causes,
            text: (entry.compute_with)(&main.setup).unwrap_or_default(),
        };
        d.evidence = Some(evidence::weigh(&d.input, &found, 1, cache));
        d.also.retain(|a| a.printed.name != entry.name);
        if let Some(previous) = d.matched.take() {
            d.also.insert(0, previous);
        }
        d.matched = Some(found);
        d.status = Status::Recognised;
        d.ambiguous.clear();
        d.closest = None;
    }
}

/// The whole diagnosis of one value.
fn diagnose_value(
    input: PrintedValue,
    section: Option<&str>,
    cache: &mut search::Cache,
) -> Diagnosis {
    let started = Instant::now();
    let candidates = search::candidates(&input, section, cache);
    let outcome = search::run(&input, &candidates, cache);
    let mut d = Diagnosis {
        status: Status::NotRecognised,
        matched: None,
        also: Vec::new(),
        ambiguous: Vec::new(),
        evidence: None,
        closest: outcome.closest,
        notes: Vec::new(),
        candidates: outcome.compared,
        elapsed: Duration::ZERO,
        input,
    };
    let mut matches = outcome.matches.into_iter();
    if let Some(first) = matches.next() {
        if let (true, Some(yours)) = (outcome.grad_fn_disagrees, &d.input.grad_fn) {
            d.notes.push(Note::GradFn {
                yours: yours.clone(),
                prints: grad_fn::names(first.printed, &first.setup),
            });
        }
        let evidence = evidence::weigh(&d.input, &first, outcome.compared, cache);
        if first.causes == [Cause::Book] || evidence.decisive() {
            d.status = Status::Recognised;
            d.matched = Some(first);
            d.also = matches.collect();
        } else {
            d.status = Status::Ambiguous;
            d.ambiguous = search::all_matches(&d.input, &candidates, cache);
            d.candidates = candidates.len();
        }
        d.evidence = Some(evidence);
    }
    if d.status != Status::Recognised {
        if let Some(device) = d.input.device.as_ref().filter(|dev| *dev != "cpu") {
            d.notes.push(Note::Device(device.clone()));
        }
        if let Some(dtype) = d.input.dtype.as_ref().filter(|t| t.contains("16")) {
            d.notes.push(Note::Dtype(dtype.clone()));
        }
    }
    let with_text = |f: &mut Found| f.text = (f.printed.compute_with)(&f.setup).unwrap_or_default();
    d.matched.iter_mut().for_each(with_text);
    d.also.iter_mut().for_each(with_text);
    d.ambiguous.iter_mut().for_each(with_text);
    d.closest.iter_mut().for_each(|c| with_text(&mut c.found));
    d.elapsed = started.elapsed();
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::book;

    /// A value is re-explained by the primary's cell whatever its own answer was: its
    /// alternatives, closest result and status give way to the cell's entry.
    #[test]
    fn the_primary_cell_explains_a_value_whatever_it_was() {
        let cell = format!(
            "{}\ncontext_vecs.shape: torch.Size([2, 6, 2])",
            book::s3_6::MHA_CONTEXT_VECS.book
        );
        let mut report = report(&cell).unwrap();
        let unknown = diagnose("tensor([0.1111, 0.2222])").unwrap();
        let main = report.values[0].matched.clone().unwrap();
        let shape = &mut report.values[1];
        shape.status = Status::NotRecognised;
        shape.matched = None;
        shape.closest = unknown.closest.clone();
        shape.ambiguous = vec![main];
        let mut cache = search::Cache::default();
        explain_by_the_primary_cell(&mut report.values, 0, &mut cache);
        let shape = &report.values[1];
        assert_eq!(shape.status, Status::Recognised);
        assert_eq!(
            shape.matched.as_ref().unwrap().printed.name,
            "s3_6_2_mha_context_vecs_shape"
        );
        assert!(shape.closest.is_none() && shape.ambiguous.is_empty());
        assert!(
            shape
                .matched
                .as_ref()
                .unwrap()
                .text
                .contains("torch.Size([2, 6, 2])")
        );
        // Nothing to do when the primary is not recognised.
        let mut values = vec![unknown.clone(), unknown];
        explain_by_the_primary_cell(&mut values, 0, &mut cache);
        assert!(values[1].matched.is_none());
    }
}
