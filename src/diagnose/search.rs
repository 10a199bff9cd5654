//! The search: every setup an entry's knobs allow, simplest first, each computed and compared
//! with the reader's numbers at the reader's precision.

use std::collections::HashMap;

use super::causes::Cause;
use super::number;
use super::parse::{self, Kind, PrintedValue};
use super::{CHAPTER_SEEDS, Closest, DROPOUT_RATES, Found, MAX_CAUSES, MAX_OFFSET, MAX_SIZE};
use crate::BernoulliPath;
use crate::book::{self, DropoutMode, Knob, Printed, Setup};
use crate::torch::print::capture_without_text;

/// A result computed under a setup, as numbers.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Computed {
    /// A `torch.Size`, compared only with a `torch.Size`.
    pub size: bool,
    /// A `tensor(…)` (not a Python number): what a reader's `tensor(…)` must be.
    pub tensor: bool,
    /// Its shape.
    pub shape: Vec<usize>,
    /// Its numbers, exactly (a float32 result as the float32 it is).
    pub values: Vec<f64>,
}

/// Computes `printed` under `setup`, exactly (`None` when the setup cannot be built): the
/// numbers of the one tensor it prints, or else (a shape, a Python float, an integer, whose
/// text is exact) the numbers of its text. (No entry prints two tensors: a test checks.)
fn compute(printed: &Printed, setup: &Setup) -> Option<Computed> {
    let (text, tensors) = capture_without_text(|| (printed.compute_with)(setup));
    let text = text.ok()?;
    if let [(shape, data)] = tensors.as_slice() {
        return Some(Computed {
            size: false,
            tensor: true,
            shape: shape.clone(),
            values: data.iter().map(|&v| f64::from(v)).collect(),
        });
    }
    let value = parse::parse(&text).ok()?;
    Some(Computed {
        size: value.kind == Kind::Size,
        tensor: value.kind == Kind::Tensor,
        values: value.floats(),
        shape: value.shape,
    })
}

/// Every computation of one paste, remembered: a paste with several values of one shape computes
/// each candidate once.
#[derive(Default)]
pub(super) struct Cache {
    computed: HashMap<(&'static str, String), Option<Computed>>,
}

impl Cache {
    /// [`compute`], remembered.
    pub(super) fn get(&mut self, printed: &'static Printed, setup: &Setup) -> Option<Computed> {
        self.computed
            .entry((printed.name, format!("{setup:?}")))
            .or_insert_with(|| compute(printed, setup))
            .clone()
    }
}

/// Whether `computed` prints as the reader's value: the same kind (a shape or numbers), the same
/// shape, every number the same at the reader's precision, and, for a `tensor(…)`, PyTorch's
/// format for the whole tensor: PyTorch prints a tensor in its integer form (`1.`) exactly when
/// all its values are whole, so a tensor printed with decimals (`1.0000`) has a value that is
/// not, and one printed `1.` has none. A reader's tensor is never a result that prints a Python
/// number (`Row 2 sum: 1.0`); a reader's `.item()` may be a tensor's.
pub(super) fn prints_as(input: &PrintedValue, computed: &Computed) -> bool {
    computed.size == (input.kind == Kind::Size)
        && computed.shape == input.shape
        && computed
            .values
            .iter()
            .zip(&input.numbers)
            .all(|(v, t)| number::prints_as(*v, t))
        && (input.kind != Kind::Tensor || (computed.tensor && same_form(input, &computed.values)))
}

/// Whether PyTorch's choice between its integer form and decimals, made for `values`, is the one
/// the reader's tensor shows. (Scientific notation writes whole values with decimals too,
/// `1.0000e+00`, and says nothing.)
fn same_form(input: &PrintedValue, values: &[f64]) -> bool {
    let notations: Vec<number::Notation> = input
        .numbers
        .iter()
        .filter_map(|t| number::notation(t))
        .filter(|n| *n != number::Notation::NonFinite)
        .collect();
    let whole = values
        .iter()
        .filter(|v| v.is_finite() && **v != 0.0)
        .all(|v| v.fract() == 0.0);
    let integer_form =
        !notations.is_empty() && notations.iter().all(|n| *n == number::Notation::Integral);
    let decimals = notations
        .iter()
        .any(|n| matches!(n, number::Notation::Fixed(k) if *k > 0));
    // Whole values print without decimals; others never in the integer form.
    if whole { !decimals } else { !integer_form }
}

/// One computation to try: an entry under a setup, and the causes that setup stands for.
pub(super) struct Candidate {
    pub printed: &'static Printed,
    pub setup: Setup,
    pub causes: Vec<Cause>,
}

impl Candidate {
    /// How simple an explanation it is: fewer causes first, then fewer draws skipped.
    pub fn level(&self) -> (usize, u32) {
        (count(&self.causes), self.setup.offset)
    }

    fn found(&self) -> Found {
        Found {
            printed: self.printed,
            setup: self.setup,
            causes: self.causes.clone(),
            text: String::new(),
        }
    }
}

/// How many ways a setup differs from the book's (`book` itself is none).
pub(super) fn count(causes: &[Cause]) -> usize {
    causes.iter().filter(|c| **c != Cause::Book).count()
}

/// Every candidate for the reader's value among the results of `section` (all when `None`),
/// simplest first: fewest causes, then fewest draws skipped, then chapter order.
pub(super) fn candidates(
    input: &PrintedValue,
    section: Option<&str>,
    cache: &mut Cache,
) -> Vec<Candidate> {
    let in_section = |p: &&Printed| {
        section.is_none_or(|s| {
            p.section == s
                || p.section.starts_with(&format!("{s}."))
                || p.section.starts_with(&format!("{s} "))
        })
    };
    let mut out: Vec<Candidate> = book::printed()
        .iter()
        .filter(in_section)
        .flat_map(|printed| candidates_for(printed, input, cache))
        .collect();
    out.sort_by_key(Candidate::level); // stable: chapter order within a level
    out
}

/// What a search found.
pub(super) struct Outcome {
    /// The simplest matches whose `grad_fn` agrees with the reader's, or else (when none does)
    /// the simplest matches whatever their `grad_fn`.
    pub matches: Vec<Found>,
    /// Whether `matches` disagree with the reader's `grad_fn` (no agreeing match exists).
    pub grad_fn_disagrees: bool,
    /// How many candidates were compared up to and including the matches' level.
    pub compared: usize,
    /// When nothing matches: the nearest candidate.
    pub closest: Option<Closest>,
}

/// Compares the candidates in order and stops after the first level with a match whose
/// `grad_fn` agrees with the reader's; when nothing matches, every candidate is computed for the
/// closest.
pub(super) fn run(input: &PrintedValue, candidates: &[Candidate], cache: &mut Cache) -> Outcome {
    let mut matches: Vec<Found> = Vec::new();
    let mut disagreeing: Vec<Found> = Vec::new();
    let mut closest: Option<Closest> = None;
    let mut compared = 0;
    for candidate in candidates {
        if matches
            .first()
            .is_some_and(|m| level(m) < candidate.level())
        {
            break; // every equally simple candidate has been compared
        }
        compared += 1;
        let Some(computed) = cache.get(candidate.printed, &candidate.setup) else {
            continue;
        };
        if prints_as(input, &computed) {
            let grad_fn = input.grad_fn.as_deref();
            if super::grad_fn::agrees(grad_fn, candidate.printed, &candidate.setup) {
                matches.push(candidate.found());
            } else if disagreeing
                .first()
                .is_none_or(|d| level(d) == candidate.level())
            {
                disagreeing.push(candidate.found());
            }
        } else if matches.is_empty() && disagreeing.is_empty() {
            closest = nearer(closest, input, &computed, candidate.found());
        }
    }
    let grad_fn_disagrees = matches.is_empty() && !disagreeing.is_empty();
    if grad_fn_disagrees {
        matches = disagreeing;
    }
    // Among equally simple matches, the one whose label is the reader's first.
    matches.sort_by_key(|f| !same_label(input, f));
    Outcome {
        closest: if matches.is_empty() { closest } else { None },
        matches,
        grad_fn_disagrees,
        compared,
    }
}

/// Every candidate that prints the reader's value and agrees with its `grad_fn` (or, when none
/// agrees, every one that prints it), in search order.
pub(super) fn all_matches(
    input: &PrintedValue,
    candidates: &[Candidate],
    cache: &mut Cache,
) -> Vec<Found> {
    let printing: Vec<&Candidate> = candidates
        .iter()
        .filter(|c| {
            cache
                .get(c.printed, &c.setup)
                .is_some_and(|computed| prints_as(input, &computed))
        })
        .collect();
    let agreeing: Vec<&Candidate> = printing
        .iter()
        .copied()
        .filter(|c| super::grad_fn::agrees(input.grad_fn.as_deref(), c.printed, &c.setup))
        .collect();
    let chosen = if agreeing.is_empty() {
        printing
    } else {
        agreeing
    };
    chosen.into_iter().map(Candidate::found).collect()
}

/// [`Candidate::level`] of a match.
pub(super) fn level(found: &Found) -> (usize, u32) {
    (count(&found.causes), found.setup.offset)
}

/// Whether the reader's label is the entry's (the text before the value in the book), in
/// English or as the Korean notebook prints it.
fn same_label(input: &PrintedValue, found: &Found) -> bool {
    let Ok(book) = parse::parse(found.printed.book) else {
        return false;
    };
    if book.label.is_empty() {
        return false;
    }
    let korean = crate::walkthrough::ko::PRINTED_LABELS
        .iter()
        .find(|(en, _)| en.trim_end_matches(':') == book.label)
        .map(|(_, ko)| ko.trim_end_matches(':'));
    input.label == book.label || korean == Some(input.label.as_str())
}

/// `closest`, or the candidate `found` (whose numbers are `computed`) if it is nearer the
/// reader's: a smaller largest difference, then fewer differing numbers, then fewer causes; on
/// a tie the earlier candidate (the simpler setup, the earlier cell) stays. (Among thousands of
/// candidates some share a printed number with the reader's by chance, so the count alone would
/// pick a stranger.)
fn nearer(
    closest: Option<Closest>,
    input: &PrintedValue,
    computed: &Computed,
    found: Found,
) -> Option<Closest> {
    // The candidates have the reader's shape (see `structures`), so the same count of numbers.
    if computed.values.len() != input.numbers.len() {
        return closest;
    }
    let theirs = input.floats();
    let differ: Vec<usize> = (0..computed.values.len())
        .filter(|&i| !number::prints_as(computed.values[i], &input.numbers[i]))
        .collect();
    // The difference between the printed numbers: ours rounded to the reader's resolution.
    let printed_difference = |i: usize| {
        let resolution = number::resolution(&input.numbers[i]);
        let ours = computed.values[i];
        let ours = if resolution > 0.0 {
            (ours / resolution).round() * resolution
        } else {
            ours
        };
        let d = (ours - theirs[i]).abs();
        if d.is_nan() { f64::INFINITY } else { d }
    };
    let max_abs_diff = differ
        .iter()
        .map(|&i| printed_difference(i))
        .fold(0.0_f64, f64::max);
    let key = |n: usize, diff: f64, causes: &[Cause]| (diff, n, count(causes));
    let better = closest.as_ref().is_none_or(|c| {
        key(differ.len(), max_abs_diff, &found.causes).partial_cmp(&key(
            c.differing.len(),
            c.max_abs_diff,
            &c.found.causes,
        )) == Some(std::cmp::Ordering::Less)
    });
    if !better {
        return closest;
    }
    // Written out only for the nearest so far: the reader's number and ours in its notation.
    let differing = differ
        .into_iter()
        .map(|i| {
            let token = &input.numbers[i];
            let notation = number::notation(token).unwrap_or(number::Notation::Fixed(4));
            let ours = computed.values[i];
            let shown = number::write(ours, notation)
                .or_else(|| number::write(ours, number::Notation::Fixed(4)))
                .unwrap_or_default();
            (i, token.clone(), shown)
        })
        .collect();
    Some(Closest {
        of: computed.values.len(),
        differing,
        max_abs_diff,
        found,
    })
}

/// Every setup an entry's knobs allow whose result has the reader's shape, with its causes.
fn candidates_for(
    printed: &'static Printed,
    input: &PrintedValue,
    cache: &mut Cache,
) -> Vec<Candidate> {
    let Some(book) = cache.get(printed, &Setup::BOOK) else {
        return Vec::new();
    };
    let korean = printed.name == "exercise_3_2_korean_edition_context_vecs";
    let base_causes = if korean {
        vec![Cause::KoreanEx32]
    } else {
        vec![]
    };
    let varies = |k| printed.varies.contains(&k);
    let sizes = structures(printed, &book, input, cache);
    let generators = generators(printed, &book, varies(Knob::Generator), cache);
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
    /// The book's `d_out`: the one width that, set alone, gives the book's result.
    book_d_out: Option<usize>,
    /// The book's `num_heads`, found the same way.
    book_num_heads: Option<usize>,
}

/// The widths and head counts to try: the book's, and each other one whose result has the
/// reader's shape. A size that gives the book's result is the book's own and is not listed
/// again.
fn structures(
    printed: &'static Printed,
    book: &Computed,
    input: &PrintedValue,
    cache: &mut Cache,
) -> Sizes {
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
            let Some(result) = cache.get(printed, &setup) else {
                continue;
            };
            match (d_out, num_heads) {
                (Some(d), None) if result == *book => sizes.book_d_out = Some(d),
                (None, Some(h)) if result == *book => sizes.book_num_heads = Some(h),
                _ => computed.push((setup, result)),
            }
        }
    }
    // A size equal to the book's is the book's setup written out: not tried twice.
    for (setup, result) in computed {
        let restates = |size: Option<usize>, book: Option<usize>| size.is_some() && size == book;
        if restates(setup.d_out, sizes.book_d_out)
            || restates(setup.num_heads, sizes.book_num_heads)
        {
            continue;
        }
        if result.shape == input.shape && result.size == (input.kind == Kind::Size) {
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
fn generators(
    printed: &'static Printed,
    book: &Computed,
    varies: bool,
    cache: &mut Cache,
) -> Vec<Generator> {
    let book_state = Generator {
        seed: None,
        offset: 0,
        causes: Vec::new(),
    };
    if !varies {
        return vec![book_state];
    }
    // The book's seed is the chapter seed that reproduces the book's result.
    let book_seed = CHAPTER_SEEDS.into_iter().find(|&seed| {
        let setup = Setup {
            seed: Some(seed),
            ..Setup::BOOK
        };
        cache.get(printed, &setup).as_ref() == Some(book)
    });
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
