#![doc = include_str!(concat!(env!("OUT_DIR"), "/docs/diagnose.md"))]

use std::fmt;
use std::time::{Duration, Instant};

use crate::BernoulliPath;
use crate::chapter::{self, DropoutMode, Knob, Printed, Setup};
use crate::json::string as json_string;

mod parse;

pub use parse::{BadInput, MAX_INPUT_BYTES, PrintedValue, parse, read_input};

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

    /// What happened, in one line.
    pub fn why(&self) -> String {
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

    /// What to do about it, in one line.
    pub fn fix(&self) -> String {
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
}

/// A printed result of the chapter, computed under a setup: what a diagnosis points at.
#[derive(Debug, Clone)]
pub struct Found {
    /// The registry entry.
    pub printed: &'static Printed,
    /// The setup it was computed under.
    pub setup: Setup,
    /// How the setup differs from the book's (`[Cause::Book]` when it does not).
    pub causes: Vec<Cause>,
    /// The entry's text under that setup, as this crate prints it.
    pub text: String,
}

/// The nearest candidate when nothing matches exactly.
#[derive(Debug, Clone)]
pub struct Closest {
    /// The candidate.
    pub found: Found,
    /// The positions (row-major) whose printed numbers differ, with the reader's number and
    /// the candidate's.
    pub differing: Vec<(usize, String, String)>,
    /// How many numbers the value has.
    pub of: usize,
    /// The largest absolute difference between differing numbers.
    pub max_abs_diff: f64,
}

/// The answer to "why does my output differ from the book?".
#[derive(Debug, Clone)]
pub struct Diagnosis {
    /// The reader's value as read.
    pub input: PrintedValue,
    /// The result and setup that print exactly the reader's text, if one does.
    pub matched: Option<Found>,
    /// Other results that print the same text under an equally simple setup.
    pub also: Vec<Found>,
    /// When nothing matches: the candidate with the fewest differing numbers.
    pub closest: Option<Closest>,
    /// How many candidate computations were compared.
    pub candidates: usize,
    /// How long the search took.
    pub elapsed: Duration,
}

/// Reads `text` as a printed tensor and finds which of the chapter's printed results it is,
/// and under which setup: the book's, or the simplest variant that prints exactly this text.
///
/// Candidates are tried simplest first (fewest causes, then fewest draws skipped); the search
/// stops after the first level that matches. Only when nothing matches are all candidates
/// computed, to find the closest.
///
/// ```
/// use ch03_attention::{book, diagnose};
///
/// let d = diagnose::diagnose(book::DROPOUT_ONES_LINUX_MKL).unwrap();
/// let found = d.matched.unwrap();
/// assert_eq!((found.printed.section, found.printed.cell), ("3.5.2", "[115]"));
/// assert_eq!(found.causes[0].tag(), "bernoulli-mkl");
/// ```
///
/// # Errors
///
/// A [`BadInput`] when `text` is not a printed tensor.
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
/// use ch03_attention::chapter::{self, Setup};
///
/// let sa_v2 = chapter::find("s3_4_2_sa_v2_output").unwrap();
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
/// A [`BadInput`] when `text` is not a printed tensor.
pub fn diagnose_in(text: &str, section: Option<&str>) -> Result<Diagnosis, BadInput> {
    let started = Instant::now();
    let input = parse(text)?;
    let in_section = |p: &&Printed| {
        section.is_none_or(|s| {
            p.section == s
                || p.section.starts_with(&format!("{s}."))
                || p.section.starts_with(&format!("{s} "))
        })
    };
    let mut candidates: Vec<Candidate> = chapter::printed()
        .iter()
        .filter(in_section)
        .flat_map(|printed| candidates_for(printed, &input))
        .collect();
    // The simplest explanation first: fewest causes, then fewest draws skipped, then chapter
    // order (the sort is stable).
    candidates.sort_by_key(Candidate::level);
    let mut matches: Vec<Found> = Vec::new();
    let mut closest: Option<Closest> = None;
    let mut tried = 0;
    for candidate in candidates {
        if matches
            .first()
            .is_some_and(|m| level(m) < candidate.level())
        {
            break; // every equally simple candidate has been tried
        }
        tried += 1;
        let Ok(text) = (candidate.printed.compute_with)(&candidate.setup) else {
            continue;
        };
        let (_, value) = parse::value_text(&text);
        let found = Found {
            printed: candidate.printed,
            setup: candidate.setup,
            causes: candidate.causes,
            text,
        };
        if value == input.value {
            matches.push(found);
        } else if matches.is_empty() {
            closest = nearer(closest, &input, &value, found);
        }
    }
    // Among equally simple matches, the one whose label is the reader's first.
    matches.sort_by_key(|f| !same_label(&input, f));
    let mut matches = matches.into_iter();
    let matched = matches.next();
    Ok(Diagnosis {
        closest: if matched.is_some() { None } else { closest },
        matched,
        also: matches.collect(),
        input,
        candidates: tried,
        elapsed: started.elapsed(),
    })
}

/// One computation to try: an entry under a setup, and the causes that setup stands for.
struct Candidate {
    printed: &'static Printed,
    setup: Setup,
    causes: Vec<Cause>,
}

impl Candidate {
    /// How simple an explanation it is: fewer causes first, then fewer draws skipped.
    fn level(&self) -> (usize, u32) {
        (count(&self.causes), self.setup.offset)
    }
}

/// [`Candidate::level`] of a match.
fn level(found: &Found) -> (usize, u32) {
    (count(&found.causes), found.setup.offset)
}

/// How many ways a setup differs from the book's (`book` itself is none).
fn count(causes: &[Cause]) -> usize {
    causes.iter().filter(|c| **c != Cause::Book).count()
}

/// Whether the reader's label is the entry's (the text before the value in the book).
fn same_label(input: &PrintedValue, found: &Found) -> bool {
    let (label, _) = parse::value_text(found.printed.book);
    !label.is_empty() && label == input.label
}

/// `closest`, or the candidate `found` (whose value is `value`) if it is nearer the reader's:
/// a smaller largest difference, then fewer differing numbers, then fewer causes.
fn nearer(
    closest: Option<Closest>,
    input: &PrintedValue,
    value: &str,
    found: Found,
) -> Option<Closest> {
    // The candidates have the reader's shape (see `structures`), so the same count of numbers.
    let numbers = parse::numbers_of(value);
    if numbers.len() != input.numbers.len() {
        return closest;
    }
    let differing: Vec<(usize, String, String)> = (0..numbers.len())
        .filter(|&i| numbers[i] != input.numbers[i])
        .map(|i| (i, input.numbers[i].clone(), numbers[i].to_string()))
        .collect();
    let theirs = input.floats();
    let max_abs_diff = differing
        .iter()
        .map(|(i, _, ours)| (parse::number(ours).unwrap_or(f64::NAN) - theirs[*i]).abs())
        .fold(
            0.0,
            |m: f64, d| if d.is_nan() { f64::INFINITY } else { m.max(d) },
        );
    // The smallest largest difference, then the fewest differing numbers, then the fewest
    // causes; on a tie the earlier candidate (the simpler setup, the earlier cell) stays. (Among
    // thousands of candidates some share a printed number with the reader's by chance, so the
    // count alone would pick a stranger.)
    let key = |n: usize, diff: f64, causes: &[Cause]| (diff, n, count(causes));
    let better = closest.as_ref().is_none_or(|c| {
        key(differing.len(), max_abs_diff, &found.causes).partial_cmp(&key(
            c.differing.len(),
            c.max_abs_diff,
            &c.found.causes,
        )) == Some(std::cmp::Ordering::Less)
    });
    if !better {
        return closest;
    }
    Some(Closest {
        of: numbers.len(),
        differing,
        max_abs_diff,
        found,
    })
}

/// Every setup an entry's knobs allow whose result has the reader's shape, with its causes.
fn candidates_for(printed: &'static Printed, input: &PrintedValue) -> Vec<Candidate> {
    let Ok(book_text) = printed.compute() else {
        return Vec::new();
    };
    let korean = printed.name == "exercise_3_2_korean_edition_context_vecs";
    let base_causes = if korean {
        vec![Cause::KoreanEx32]
    } else {
        vec![]
    };
    let varies = |k| printed.varies.contains(&k);
    let sizes = structures(printed, &book_text, input);
    let generators = generators(printed, &book_text, varies(Knob::Generator));
    let mut out = Vec::new();
    for structure in sizes.setups {
        let mut causes = base_causes.clone();
        if let Some(found) = structure.d_out {
            let book = sizes.book_d_out.unwrap_or(0);
            causes.push(Cause::DOut { found, book });
        }
        if let Some(found) = structure.num_heads {
            let book = sizes.book_num_heads.unwrap_or(0);
            causes.push(Cause::NumHeads { found, book });
        }
        for generator in &generators {
            for qkv_bias in [false, true] {
                if qkv_bias && !varies(Knob::QkvBias) {
                    continue;
                }
                for (dropout, bernoulli) in dropouts(printed) {
                    let mut causes = causes.clone();
                    causes.extend(generator.causes.iter().copied());
                    if qkv_bias {
                        causes.push(Cause::QkvBias);
                    }
                    causes.extend(dropout_causes(dropout, bernoulli));
                    if causes.is_empty() {
                        causes.push(Cause::Book);
                    }
                    if count(&causes) > MAX_CAUSES {
                        continue;
                    }
                    let setup = Setup {
                        seed: generator.seed,
                        offset: generator.offset,
                        bernoulli,
                        qkv_bias,
                        dropout,
                        ..structure
                    };
                    out.push(Candidate {
                        printed,
                        setup,
                        causes,
                    });
                }
            }
        }
    }
    out
}

/// The sizes to try for an entry, and the book's own.
struct Sizes {
    /// The book's setup (if its result has the reader's shape), then every other width and head
    /// count whose result has the reader's shape.
    setups: Vec<Setup>,
    /// The book's `d_out`: the one width that, set alone, prints the book's text.
    book_d_out: Option<usize>,
    /// The book's `num_heads`, found the same way.
    book_num_heads: Option<usize>,
}

/// The widths and head counts to try: the book's, and each other one whose result has the
/// reader's shape. A size that prints the book's text is the book's own and is not listed
/// again.
fn structures(printed: &Printed, book_text: &str, input: &PrintedValue) -> Sizes {
    // The book's size (`None`), then 1 to MAX_SIZE, for a size the entry depends on.
    let tried = |knob: Knob| -> Vec<Option<usize>> {
        let others = (1..=MAX_SIZE).filter(|_| printed.varies.contains(&knob));
        std::iter::once(None).chain(others.map(Some)).collect()
    };
    let (d_outs, heads) = (tried(Knob::DOut), tried(Knob::NumHeads));
    let mut computed = Vec::new();
    let mut sizes = Sizes {
        setups: Vec::new(),
        book_d_out: None,
        book_num_heads: None,
    };
    for &d_out in &d_outs {
        for &num_heads in &heads {
            let setup = Setup {
                d_out,
                num_heads,
                ..Setup::BOOK
            };
            let Ok(text) = (printed.compute_with)(&setup) else {
                continue;
            };
            match (d_out, num_heads) {
                (Some(d), None) if text == book_text => sizes.book_d_out = Some(d),
                (None, Some(h)) if text == book_text => sizes.book_num_heads = Some(h),
                _ => computed.push((setup, text)),
            }
        }
    }
    // A size equal to the book's is the book's setup written out: not tried twice.
    for (setup, text) in computed {
        let restates = |size: Option<usize>, book: Option<usize>| size.is_some() && size == book;
        if restates(setup.d_out, sizes.book_d_out)
            || restates(setup.num_heads, sizes.book_num_heads)
        {
            continue;
        }
        if parse(&text).is_ok_and(|v| v.shape == input.shape) {
            sizes.setups.push(setup);
        }
    }
    sizes
}

/// A generator state to try, and what it says about the reader's run.
struct Generator {
    seed: Option<u64>,
    offset: u32,
    causes: Vec<Cause>,
}

/// The generator states to try: the book's seed, then each other seed of the chapter, each
/// followed by 0 to [`MAX_OFFSET`] draws.
fn generators(printed: &Printed, book_text: &str, varies: bool) -> Vec<Generator> {
    let book = Generator {
        seed: None,
        offset: 0,
        causes: Vec::new(),
    };
    if !varies {
        return vec![book];
    }
    // The book's seed is the chapter seed that reproduces the book's text.
    let reproduces = |seed: u64| {
        let setup = Setup {
            seed: Some(seed),
            ..Setup::BOOK
        };
        (printed.compute_with)(&setup).is_ok_and(|t| t == book_text)
    };
    let book_seed = CHAPTER_SEEDS.into_iter().find(|&s| reproduces(s));
    let mut out = Vec::new();
    for seed in std::iter::once(None).chain(CHAPTER_SEEDS.map(Some)) {
        if seed.is_some() && seed == book_seed {
            continue;
        }
        for offset in 0..=MAX_OFFSET {
            let mut causes = Vec::new();
            if let (Some(found), Some(book)) = (seed, book_seed) {
                causes.push(Cause::SeedMissing { found, book });
            }
            if offset > 0 {
                let seed = seed.or(book_seed).unwrap_or(0);
                causes.push(Cause::GeneratorOffset {
                    draws: offset,
                    seed,
                });
            }
            out.push(Generator {
                seed,
                offset,
                causes,
            });
        }
    }
    out
}

/// The dropout settings to try for an entry, each with the mask algorithm; MKL's is tried only
/// where a mask is drawn.
fn dropouts(printed: &Printed) -> Vec<(DropoutMode, BernoulliPath)> {
    let varies = |k| printed.varies.contains(&k);
    let mut out = vec![(DropoutMode::Book, BernoulliPath::Serial)];
    if varies(Knob::DropoutOff) {
        // Section 3.5.2: the book's own setup draws a mask.
        out.push((DropoutMode::Book, BernoulliPath::MklLegacy));
        out.push((DropoutMode::Eval, BernoulliPath::Serial));
    }
    if varies(Knob::ModuleDropout) {
        for p in DROPOUT_RATES {
            for path in [BernoulliPath::Serial, BernoulliPath::MklLegacy] {
                out.push((DropoutMode::Train(p), path));
            }
        }
    }
    out
}

/// The causes a dropout setting stands for.
fn dropout_causes(dropout: DropoutMode, bernoulli: BernoulliPath) -> Vec<Cause> {
    let mut causes = Vec::new();
    match dropout {
        DropoutMode::Book => {}
        DropoutMode::Train(p) => causes.push(Cause::DropoutInEval(p)),
        DropoutMode::Eval => causes.push(Cause::DropoutOff),
    }
    if bernoulli == BernoulliPath::MklLegacy {
        causes.push(Cause::BernoulliMkl);
    }
    causes
}

impl Found {
    /// `3.5.2 cell [115]: Dropout(0.5) on ones(6, 6) …`.
    fn place(&self) -> String {
        let p = self.printed;
        format!("{} cell {}: {}", p.section, p.cell, p.label)
    }
}

impl fmt::Display for Diagnosis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.matched, &self.closest) {
            (Some(m), _) => {
                wrapped(f, "recognised: ", &m.place())?;
                if m.causes == [Cause::Book] {
                    wrapped(f, "  ✓ ", &Cause::Book.why())?;
                } else {
                    writeln!(f, "  computed under: {}", tags(&m.causes).join(", "))?;
                    for c in &m.causes {
                        wrapped(f, "  ✗ ", &format!("{}: {}", c.tag(), c.why()))?;
                        wrapped(f, "    ", &format!("fix: {}", c.fix()))?;
                    }
                    writeln!(f, "  the book prints:")?;
                    for line in m.printed.expected().lines() {
                        if line.is_empty() {
                            writeln!(f)?; // between batch items: no trailing spaces
                        } else {
                            writeln!(f, "    {line}")?;
                        }
                    }
                }
                for a in &self.also {
                    wrapped(f, "  ", &format!("the same text is also {}", a.place()))?;
                }
            }
            (None, Some(c)) => {
                writeln!(
                    f,
                    "not recognised: no printed result of the chapter, under any"
                )?;
                writeln!(f, "setup tried, prints exactly this text.")?;
                wrapped(f, "closest: ", &c.found.place())?;
                writeln!(
                    f,
                    "  under {}: {} of {} numbers differ (largest difference {:.4}):",
                    tags(&c.found.causes).join(", "),
                    c.differing.len(),
                    c.of,
                    c.max_abs_diff
                )?;
                writeln!(f, "    position  yours       it prints")?;
                for (i, yours, ours) in c.differing.iter().take(12) {
                    writeln!(f, "    {i:<8}  {yours:<10}  {ours}")?;
                }
                if c.differing.len() > 12 {
                    writeln!(f, "    … and {} more", c.differing.len() - 12)?;
                }
            }
            (None, None) => {
                writeln!(
                    f,
                    "not recognised: no printed result of the chapter has shape {:?}.",
                    self.input.shape
                )?;
            }
        }
        write!(
            f,
            "({} candidates compared in {:.0} ms)",
            self.candidates,
            self.elapsed.as_secs_f64() * 1000.0
        )
    }
}

/// Writes `text` after `first`, wrapped at [`WIDTH`] columns, continuation lines indented to
/// line up with the text.
fn wrapped(f: &mut fmt::Formatter<'_>, first: &str, text: &str) -> fmt::Result {
    let indent = " ".repeat(first.chars().count());
    let mut line = first.to_string();
    let mut empty = true;
    for word in text.split_whitespace() {
        if !empty && line.chars().count() + 1 + word.chars().count() > WIDTH {
            writeln!(f, "{line}")?;
            line.clone_from(&indent);
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    writeln!(f, "{line}")
}

/// The width the explanations are wrapped at: the width of a code line on the docs pages.
const WIDTH: usize = 88;

/// The tags of `causes`.
fn tags(causes: &[Cause]) -> Vec<String> {
    causes.iter().map(Cause::tag).collect()
}

impl Diagnosis {
    /// The diagnosis as one JSON object: `matched` (bool), `section`, `cell`, `name`, `causes`
    /// (tags), `also` (other results printing the same text under an equally simple setup,
    /// each with `section`, `cell`, `name`, `causes`), `closest` (`null`, or an object with
    /// `section`, `cell`, `name`, `causes`, `differing` and `of`) and `candidates`.
    pub fn to_json(&self) -> String {
        let found = |f: &Found| {
            format!(
                "\"section\": {}, \"cell\": {}, \"name\": {}, \"causes\": [{}]",
                json_string(f.printed.section),
                json_string(f.printed.cell),
                json_string(f.printed.name),
                tags(&f.causes)
                    .iter()
                    .map(|t| json_string(t))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let closest = match &self.closest {
            Some(c) => format!(
                "{{{}, \"differing\": {}, \"of\": {}}}",
                found(&c.found),
                c.differing.len(),
                c.of
            ),
            None => "null".to_string(),
        };
        match &self.matched {
            Some(m) => format!(
                "{{\"matched\": true, {}, \"also\": [{}], \"closest\": null, \"candidates\": {}}}",
                found(m),
                self.also
                    .iter()
                    .map(|a| format!("{{{}}}", found(a)))
                    .collect::<Vec<_>>()
                    .join(", "),
                self.candidates
            ),
            None => format!(
                "{{\"matched\": false, \"section\": null, \"cell\": null, \"name\": null, \
                 \"causes\": [], \"also\": [], \"closest\": {closest}, \"candidates\": {}}}",
                self.candidates
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `first` then `text`, through [`wrapped`].
    struct Wrapped<'a>(&'a str, &'a str);

    impl fmt::Display for Wrapped<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            wrapped(f, self.0, self.1)
        }
    }

    /// A line holds at most 88 characters: 88 fit, 89 wrap, continuations are indented.
    #[test]
    fn wraps_at_88_columns() {
        let (a, b) = ("a".repeat(43), "b".repeat(44));
        assert_eq!(
            Wrapped("", &format!("{a} {b}")).to_string(),
            format!("{a} {b}\n")
        );
        let a = "a".repeat(44);
        assert_eq!(
            Wrapped("", &format!("{a} {b}")).to_string(),
            format!("{a}\n{b}\n")
        );
        assert_eq!(
            Wrapped("  ✗ ", &format!("{a} {b} c")).to_string(),
            format!("  ✗ {a}\n    {b} c\n")
        );
    }
}
