//! Weighing a match against chance: is the printed text evidence enough for the number of
//! setups it was compared with?
//!
//! Comparing one printed number with 2,400 setups finds a match by chance now and then: a run
//! with no `torch.manual_seed` at all prints numbers no setup explains, and some setup prints
//! the same four decimals anyway. So a match is weighed before it is named.
//!
//! **The chance of one run.** The match's setup is computed again under [`SAMPLE_SEEDS`], 64
//! seeds that are none of the chapter's: 64 *unrelated runs* of the same cell, which is what a
//! run with an unknown seed is. For each of the reader's numbers, the chance that an unrelated
//! run prints it is estimated from those runs:
//!
//! * for a value that recurs (at least two runs print it), the share of the runs that print it:
//!   1 where every run prints the same, such as a masked `0.0000` or `-inf`, and about ½ for a
//!   dropout `2.`;
//! * otherwise, the width of the interval that prints as that number (10⁻⁴ for four decimals,
//!   widened by the comparison's tolerance) times the density of the runs' values there,
//!   estimated with normal kernels (never below one run's worth: a value far from every run is
//!   rare, not impossible). One run printing the number by chance says little about its
//!   chance, so a share of 1/64 is not used.
//!
//! A number that equals an earlier one in every run (the second copy of the batch) is counted
//! once. The chance that one unrelated run prints the whole text is the product over the
//! numbers.
//!
//! **The chance of the search.** Before the match, the search compared `N` setups (every setup
//! at least as simple): the chance that an unrelated run matches one of them is at most `N` times
//! the chance of one run. A match that names a cause is named ("recognised") only when that is
//! below [`CHANCE_LIMIT`], 1 in 1,000, and at least [`MIN_RANDOM_NUMBERS`] = 2 of its numbers
//! depend on the random numbers; otherwise the answer is "ambiguous", with every setup that
//! prints the text and the odds. Two matches need no weighing: the book's own setup (it names no
//! cause: the text is the book's), and a text no random number changes (the unrelated runs all
//! print it: chance plays no part).
//!
//! So a run with no seed is named through a cause with probability at most 1 in 1,000: the
//! setups it could be named through are those compared before the chance passes the limit, and
//! their chances add up to less than the limit. Through a single printed number it is never
//! named: one number's odds rest on one estimate, and of 300 runs of 3.4.1's single score with
//! unknown seeds, 1 prints a score that a setup compared early prints too, with odds below the
//! limit (`tests/diagnose_pastes.rs`).

use std::ops::RangeInclusive;

use super::Found;
use super::number;
use super::parse::PrintedValue;
use super::search::{Cache, Computed};
use crate::book::{Knob, Setup};

/// The most chance of a coincidence a named cause may have: 1 in 1,000.
pub const CHANCE_LIMIT: f64 = 1e-3;

/// The fewest numbers that depend on the random numbers a named cause needs: 2. One printed
/// number is never enough, whatever its odds.
pub const MIN_RANDOM_NUMBERS: usize = 2;

/// The seeds of the unrelated runs (none of them is 123 or 789).
pub const SAMPLE_SEEDS: RangeInclusive<u64> = 1..=64;

/// How much a match says, against chance.
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    /// How many numbers the reader's value has.
    pub numbers: usize,
    /// How many of them change with the random numbers (counting a number repeated in every run
    /// once).
    pub random: usize,
    /// The reader's precision, e.g. 4 decimals.
    pub precision: number::Precision,
    /// The chance that one unrelated run prints the reader's text (1 when no random number
    /// changes it).
    pub per_run: f64,
    /// How many setups the search compared up to the match.
    pub compared: usize,
    /// `compared × per_run`: the chance that an unrelated run matches one of them.
    pub chance: f64,
}

impl Evidence {
    /// Whether the text depends on random numbers at all.
    pub fn depends_on_chance(&self) -> bool {
        self.per_run < 1.0
    }

    /// Whether a match that names a cause may be named: no random number changes the text, or
    /// at least [`MIN_RANDOM_NUMBERS`] numbers do and the chance of a coincidence is below
    /// [`CHANCE_LIMIT`]. (The book's own setup names no cause and needs no evidence.)
    pub fn decisive(&self) -> bool {
        !self.depends_on_chance()
            || (self.random >= MIN_RANDOM_NUMBERS && self.chance < CHANCE_LIMIT)
    }
}

/// Weighs the match `found` of the reader's value `input`, found after comparing `compared`
/// setups.
pub(super) fn weigh(
    input: &PrintedValue,
    found: &Found,
    compared: usize,
    cache: &mut Cache,
) -> Evidence {
    let per_number = per_number_chances(&input.numbers, &unrelated_runs(input, found, cache));
    let per_run: f64 = per_number.iter().flatten().product();
    Evidence {
        numbers: input.numbers.len(),
        random: per_number.iter().flatten().filter(|p| **p < 1.0).count(),
        precision: number::Precision::of(&input.numbers),
        per_run,
        compared,
        chance: compared as f64 * per_run,
    }
}

/// The chance that one run of `printed` under `setup` but with an unknown seed prints
/// `input`'s text, estimated as a diagnosis estimates it (the rule is on the
/// [`diagnose`](crate::diagnose) page).
///
/// ```
/// use ch03_attention::{book, book::Setup, diagnose};
///
/// let ones = book::find("s3_5_2_dropout_ones").unwrap();
/// let text = diagnose::parse(book::s3_5::DROPOUT_ONES.book).unwrap();
/// // 36 numbers, each 0. or 2. about half the time.
/// let p = diagnose::chance_per_run(ones, &Setup::BOOK, &text);
/// assert!(p < 1e-9 && p > 1e-13, "{p}");
/// ```
pub fn chance_per_run(
    printed: &'static crate::book::Printed,
    setup: &Setup,
    input: &PrintedValue,
) -> f64 {
    let found = Found {
        printed,
        setup: *setup,
        causes: Vec::new(),
        text: String::new(),
    };
    weigh(input, &found, 1, &mut Cache::default()).per_run
}

/// The match's setup under each of [`SAMPLE_SEEDS`], computed; for a result that draws no random
/// numbers (its registry entry does not vary with the generator), the one run it has.
fn unrelated_runs(input: &PrintedValue, found: &Found, cache: &mut Cache) -> Vec<Computed> {
    if !found.printed.varies.contains(&Knob::Generator) {
        return cache.get(found.printed, &found.setup).into_iter().collect();
    }
    SAMPLE_SEEDS
        .filter_map(|seed| {
            let setup = Setup {
                seed: Some(seed),
                offset: 0,
                ..found.setup
            };
            cache.get(found.printed, &setup)
        })
        .filter(|run| run.values.len() == input.numbers.len())
        .collect()
}

/// For each of the reader's numbers (`tokens`), the chance that an unrelated run prints it, from
/// the `runs`; `None` for a number that equals an earlier one in every run.
pub(super) fn per_number_chances(tokens: &[String], runs: &[Computed]) -> Vec<Option<f64>> {
    if runs.is_empty() {
        return vec![Some(1.0); tokens.len()]; // nothing to estimate from: no evidence
    }
    let column = |i: usize| runs.iter().map(move |r| r.values[i]);
    (0..tokens.len())
        .map(|i| {
            let repeats = (0..i).any(|j| column(i).zip(column(j)).all(|(a, b)| a == b));
            if repeats {
                return None;
            }
            let token = &tokens[i];
            let same = column(i).filter(|v| number::prints_as(*v, token)).count();
            if same >= 2 || same == runs.len() {
                // A value that recurs (a dropped `0.`, a masked `-inf`, a kept `2.`), or that
                // every run prints (the one run of a result with no random numbers): its share.
                return Some(same as f64 / runs.len() as f64);
            }
            // The values that print as the token, within the tolerance both ways.
            let width = number::resolution(token) + 2.0 * tolerance(column(i));
            let at = number::value(token).unwrap_or(f64::NAN);
            Some(density_chance(column(i), at, width))
        })
        .collect()
}

/// The comparison's tolerance ([`number::TOLERANCE`]) at the largest finite magnitude of
/// `values`.
fn tolerance(values: impl Iterator<Item = f64>) -> f64 {
    let largest = values
        .filter(|v| v.is_finite())
        .fold(1.0_f64, |a, v| a.max(v.abs()));
    number::TOLERANCE * largest
}

/// The chance that an unrelated run prints a number `w` wide around `t`, from the runs' values
/// at that place: `w` times a kernel density estimate at `t` (normal kernels of bandwidth
/// h = 1.06 σ n^(−1/5), Silverman's rule), at least `w` over `n` times the runs' range widened by
/// h on each side (one run's worth of density, so a value far from every run is not taken for
/// impossible), and at most 1; 0 when the values do not spread.
fn density_chance(values: impl Iterator<Item = f64>, t: f64, w: f64) -> f64 {
    let finite: Vec<f64> = values.filter(|v| v.is_finite()).collect();
    let n = finite.len() as f64;
    let mean = finite.iter().sum::<f64>() / n;
    let sigma = (finite.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
    if sigma.is_nan() || sigma == 0.0 {
        return 0.0;
    }
    let h = 1.06 * sigma * n.powf(-0.2);
    let kernel = |x: f64| (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
    let density = finite.iter().map(|v| kernel((t - v) / h)).sum::<f64>() / (n * h);
    let (lo, hi) = finite
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(*v), hi.max(*v))
        });
    let floor = 1.0 / (n * (hi - lo + 2.0 * h));
    (w * density.max(floor)).min(1.0)
}

/// The odds of `chance` in words: `1 in 1,400`, `1 in 10^31`, `at least 1 in 1`.
pub fn odds(chance: f64) -> String {
    if chance >= 1.0 {
        return "at least 1 in 1".to_string();
    }
    let n = 1.0 / chance;
    if n >= 1e6 {
        return format!("1 in 10^{}", (-chance.log10()).floor());
    }
    // Two significant digits, grouped by thousands.
    let magnitude = 10f64.powi(n.log10().floor() as i32 - 1).max(1.0);
    let rounded = ((n / magnitude).round() * magnitude) as u64;
    format!("1 in {}", group(rounded))
}

/// `1234567` as `1,234,567`.
pub fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(values: &[f64]) -> Computed {
        Computed {
            size: false,
            tensor: true,
            shape: vec![values.len()],
            values: values.to_vec(),
        }
    }

    #[test]
    fn chances_per_number() {
        let tokens: Vec<String> = ["2.", "0.0000", "0.5000", "2."]
            .iter()
            .map(|s| s.to_string())
            .collect();
        // Column 0: a dropout 2. half the time; 1: always zero; 2: spread; 3: repeats column 0.
        let runs = [
            run(&[2.0, 0.0, 0.4, 2.0]),
            run(&[0.0, 0.0, 0.6, 0.0]),
            run(&[2.0, 0.0, 0.5, 2.0]),
            run(&[0.0, 0.0, 0.5, 0.0]),
        ];
        let p = per_number_chances(&tokens, &runs);
        assert_eq!(p[0], Some(0.5));
        assert_eq!(p[1], Some(1.0));
        assert_eq!(p[3], None);
        // Column 2: two of four runs print 0.5000: a recurring value, its share.
        assert_eq!(p[2], Some(0.5));
        // One run of four prints 0.4000: not a recurring value, the density decides.
        let once = per_number_chances(
            &["0.4000".to_string()],
            &runs.clone().map(|r| Computed {
                values: vec![r.values[2]],
                ..r
            }),
        );
        assert!(once[0].unwrap() < 0.01, "{once:?}");
        // Two runs at 0.1 and 0.3 (σ = 0.1, h = 1.06 · 0.1 · 2^(−1/5)); the reader's 0.2000 is
        // between them.
        let spread = per_number_chances(&["0.2000".to_string()], &[run(&[0.1]), run(&[0.3])]);
        let h = 1.06 * 0.1 * 2f64.powf(-0.2);
        let phi = |x: f64| (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
        let density = 2.0 * phi(0.1 / h) / (2.0 * h);
        let width = 1e-4 + 2e-6; // four decimals, and the tolerance both ways
        assert!(
            (spread[0].unwrap() - width * density).abs() < 1e-15,
            "{spread:?}"
        );
        assert_eq!(per_number_chances(&tokens[..1], &[]), [Some(1.0)]);
        // One run, printing the number: a result with no random numbers.
        assert_eq!(per_number_chances(&tokens[..1], &runs[..1]), [Some(1.0)]);
    }

    #[test]
    fn density_chances() {
        assert_eq!(density_chance([1.0, 1.0].into_iter(), 1.0, 1e-4), 0.0);
        assert_eq!(density_chance([0.0, 1e-9].into_iter(), 0.0, 1.0), 1.0);
        assert_eq!(
            density_chance([f64::NEG_INFINITY, f64::NEG_INFINITY].into_iter(), 0.0, 0.0),
            0.0
        );
        // Far from both runs: one run's worth over the range widened by h.
        let h = 1.06 * 0.5 * 2f64.powf(-0.2);
        let far = density_chance([0.0, 1.0].into_iter(), 100.0, 1e-4);
        assert!(
            (far - 1e-4 / (2.0 * (1.0 + 2.0 * h))).abs() < 1e-15,
            "{far}"
        );
    }

    #[test]
    fn odds_in_words() {
        assert_eq!(odds(1.0), "at least 1 in 1");
        assert_eq!(odds(2.0), "at least 1 in 1");
        assert_eq!(odds(0.5), "1 in 2");
        assert_eq!(odds(1.0 / 14.3), "1 in 14");
        assert_eq!(odds(1.0 / 1437.0), "1 in 1,400");
        assert_eq!(odds(1.0 / 999_999.0), "1 in 1,000,000");
        assert_eq!(odds(1e-31), "1 in 10^31");
        assert_eq!(odds(3e-32), "1 in 10^31");
        assert_eq!(group(1_234_567), "1,234,567");
        assert_eq!(group(12), "12");
    }

    #[test]
    fn decisive_when_no_chance_or_little() {
        let e = |per_run: f64, compared: usize| Evidence {
            numbers: 2,
            random: 2,
            precision: number::Precision {
                scientific: false,
                decimals: Some((4, 4)),
            },
            per_run,
            compared,
            chance: per_run * compared as f64,
        };
        assert!(e(1.0, 5000).decisive());
        assert!(e(1e-4, 9).decisive());
        assert!(!e(1e-4, 10).decisive());
        assert!(!e(1e-4, 11).decisive());
        let one = Evidence {
            random: 1,
            ..e(1e-9, 1)
        };
        assert!(!one.decisive()); // one number is never enough
    }
}
