//! Probes: one input to try, run on the implementation under test and on the reference, and
//! what the comparison of the two results says.
//!
//! A *probe* is a description, the inputs to show, and a function that computes the result with
//! any [`Implementation`]. [`Ctx::probe`] runs it on the learner's implementation (guarded: a
//! panic, a `todo!()` or an endless loop becomes an [`Interrupted`]) and on [`REFERENCE`], and
//! keeps what it saw for the verdict ([`super::judge`]).

use std::cell::RefCell;
use std::sync::Arc;
use std::time::Duration;

use nalgebra::{DMatrix, DVector};

use super::harness::{Interrupted, guarded, unguarded};
use super::show::{Block, Compare};
use super::text::{Text, text};
use super::{Implementation, REFERENCE};
use crate::Linear;
use crate::book;
use crate::torch::print::TorchPrint;

/// The relative tolerance of "equal": `|got − want| ≤ TOL · max(1, |want|)`. A learner's f32
/// code may sum in another order than the reference (or in f64): that moves results by a few
/// units in the 7th digit, 100× below this; every misconception in the catalog moves some result
/// by more than 1000× this.
pub const TOL: f32 = 1e-5;

/// What a probe computed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Out {
    /// A vector, printed `tensor([…])`.
    Vector(DVector<f32>),
    /// A matrix.
    Matrix(DMatrix<f32>),
    /// Several matrices: a batch, the three weights of v1, the heads.
    Batch(Vec<DMatrix<f32>>),
    /// Layers, compared weight by weight and bias by bias.
    Layers(Vec<Linear>),
    /// A count.
    Count(usize),
}

impl Out {
    /// The shape, as the verdict names it: `(6)`, `(6 × 6)`, `2 × (6 × 2)`.
    fn shape(&self) -> String {
        let dims = |(r, c): (usize, usize)| format!("({r} × {c})");
        match self {
            Out::Vector(v) => format!("({})", v.len()),
            Out::Matrix(m) => dims(m.shape()),
            Out::Batch(b) => {
                let first = b.first().map_or((0, 0), DMatrix::shape);
                if b.iter().all(|m| m.shape() == first) {
                    format!("{} × {}", b.len(), dims(first))
                } else {
                    let each: Vec<String> = b.iter().map(|m| dims(m.shape())).collect();
                    format!("[{}]", each.join(", "))
                }
            }
            Out::Layers(l) => {
                let each: Vec<String> = l
                    .iter()
                    .map(|l| {
                        let bias = if l.bias().is_some() { "True" } else { "False" };
                        format!(
                            "Linear({}, {}, bias={bias})",
                            l.in_features(),
                            l.out_features()
                        )
                    })
                    .collect();
                each.join(", ")
            }
            Out::Count(_) => "()".to_string(),
        }
    }

    /// The numbers, row-major (layers: each weight then its bias).
    fn entries(&self) -> Vec<f32> {
        match self {
            Out::Vector(v) => v.iter().copied().collect(),
            Out::Matrix(m) => m.torch_data(),
            Out::Batch(b) => b.iter().flat_map(TorchPrint::torch_data).collect(),
            Out::Layers(l) => l
                .iter()
                .flat_map(|l| {
                    let mut e = l.weight().torch_data();
                    e.extend(l.bias().into_iter().flat_map(|b| b.iter().copied()));
                    e
                })
                .collect(),
            Out::Count(n) => vec![*n as f32],
        }
    }

    /// Printed as PyTorch prints it (layers: their weights, one after the other).
    pub(crate) fn torch(&self) -> String {
        match self {
            Out::Vector(v) => v.torch_str(),
            Out::Matrix(m) => m.torch_str(),
            Out::Batch(b) if b.torch_check().is_ok() => b.torch_str(),
            Out::Batch(b) => b
                .iter()
                .map(TorchPrint::torch_str)
                .collect::<Vec<_>>()
                .join("\n"),
            Out::Layers(l) => l
                .iter()
                .map(|l| l.weight().torch_str())
                .collect::<Vec<_>>()
                .join("\n"),
            Out::Count(n) => n.to_string(),
        }
    }
}

/// A result and how many numbers the code drew from its generator (`None`: it was given none).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Got {
    /// The result.
    pub out: Out,
    /// Draws from the generator.
    pub draws: Option<u64>,
}

impl From<Out> for Got {
    fn from(out: Out) -> Got {
        Got { out, draws: None }
    }
}

/// How a probe computes its result with an implementation.
pub(crate) type Run = Arc<dyn Fn(&Implementation) -> Got + Send + Sync>;

/// A book result a probe's output is printed as: the registry entry and how to print.
#[derive(Clone, Copy)]
pub(crate) struct BookPrint {
    /// The name of the [`book`](crate::book) entry.
    pub name: &'static str,
    /// The learner's result printed as the notebook prints it.
    pub print: fn(&Out) -> String,
}

/// One input to try.
#[derive(Clone)]
pub(crate) struct Probe {
    /// What is computed on what, in words.
    pub what: Text,
    /// The inputs to show beside a failure.
    pub inputs: Vec<(Text, String)>,
    /// The book's printed result this probe's output must print as.
    pub book: Option<BookPrint>,
    /// The computation.
    pub run: Run,
    /// Measured facts about a failing result worth saying (row sums, weights on the future).
    pub facts: fn(&Got) -> Vec<Text>,
}

/// No facts.
fn no_facts(_: &Got) -> Vec<Text> {
    Vec::new()
}

impl Probe {
    /// A probe of `run`, described by `what`.
    pub fn new(what: Text, run: impl Fn(&Implementation) -> Got + Send + Sync + 'static) -> Probe {
        Probe {
            what,
            inputs: Vec::new(),
            book: None,
            run: Arc::new(run),
            facts: no_facts,
        }
    }

    /// An input shown beside a failure.
    pub fn input(mut self, name: Text, value: &impl TorchPrint) -> Probe {
        self.inputs.push((name, value.torch_str()));
        self
    }

    /// The output must print as the book's entry `name`, printed with `print`.
    pub fn book(mut self, name: &'static str, print: fn(&Out) -> String) -> Probe {
        assert!(book::find(name).is_some(), "no printed result {name}");
        self.book = Some(BookPrint { name, print });
        self
    }

    /// Facts to measure on a failing result.
    pub fn facts(mut self, facts: fn(&Got) -> Vec<Text>) -> Probe {
        self.facts = facts;
        self
    }
}

/// What the judge saw on one probe.
pub(crate) enum Seen {
    /// The learner's code returned this; `failure` says what was wrong, if anything.
    Returned {
        probe: Probe,
        got: Got,
        failure: Option<Vec<Block>>,
    },
    /// It did not return on the probe described by the text.
    Interrupted(Interrupted, Text),
}

/// A check's outcome: `Err` when the code under test did not return (the check stops there).
pub(crate) type Outcome = Result<(), Interrupted>;

/// What a check works with: the implementation under test and what it has seen.
pub(crate) struct Ctx {
    imp: Implementation,
    limit: Option<Duration>,
    seen: RefCell<Vec<Seen>>,
}

impl Ctx {
    /// A context for judging `imp`: each call on a thread with `limit`, or on this thread.
    pub fn new(imp: Implementation, limit: Option<Duration>) -> Ctx {
        Ctx {
            imp,
            limit,
            seen: RefCell::new(Vec::new()),
        }
    }

    /// What the probes saw, in order.
    pub fn into_seen(self) -> Vec<Seen> {
        self.seen.into_inner()
    }

    /// Runs `probe` on the implementation under test and on the reference, and compares.
    pub fn probe(&self, probe: Probe) -> Outcome {
        let run = probe.run.clone();
        let imp = self.imp;
        let call = move || run(&imp);
        let got = match self.limit {
            Some(limit) => guarded(call, limit),
            None => unguarded(call),
        };
        let got = match got {
            Ok(got) => got,
            Err(i) => {
                let what = probe.what.clone();
                self.seen
                    .borrow_mut()
                    .push(Seen::Interrupted(i.clone(), what));
                return Err(i);
            }
        };
        let want = (probe.run)(&REFERENCE);
        let failure = compare(&probe, &got, &want);
        self.seen.borrow_mut().push(Seen::Returned {
            probe,
            got,
            failure,
        });
        Ok(())
    }

    /// Whether every result so far was right.
    pub fn all_right(&self) -> bool {
        self.seen.borrow().iter().all(|s| match s {
            Seen::Returned { failure, .. } => failure.is_none(),
            Seen::Interrupted(..) => false,
        })
    }

    /// Runs every probe in order.
    pub fn probes(&self, probes: impl IntoIterator<Item = Probe>) -> Outcome {
        probes.into_iter().try_for_each(|p| self.probe(p))
    }
}

/// `got` equals `want` within [`TOL`] (NaN equals NaN, an infinity itself).
pub(crate) fn close(got: &[f32], want: &[f32]) -> bool {
    got.len() == want.len() && got.iter().zip(want).all(|(g, w)| close1(*g, *w))
}

/// One number within [`TOL`] of another: relative to the expected `w` above 1, absolute below;
/// an infinite or NaN `w` only by itself (a tolerance relative to an infinity would take every
/// number).
fn close1(g: f32, w: f32) -> bool {
    match w.is_finite() {
        true => (g - w).abs() <= TOL * w.abs().max(1.0),
        false => g == w || (g.is_nan() && w.is_nan()),
    }
}

/// Two results are the same: shapes, numbers within [`TOL`], draws.
pub(crate) fn same(a: &Got, b: &Got) -> bool {
    a.draws == b.draws
        && a.out.shape() == b.out.shape()
        && close(&a.out.entries(), &b.out.entries())
}

/// "expected" / "yours" (or "book" / "yours") tables of two results.
pub(crate) fn table(left_title: Text, left: String, right: String) -> Block {
    Block::Table(Compare {
        left_title,
        left,
        right_title: text!("yours", "여러분의 결과"),
        right,
    })
}

/// What is wrong with `got`, if anything, as blocks of a message.
fn compare(probe: &Probe, got: &Got, want: &Got) -> Option<Vec<Block>> {
    let what = &probe.what;
    let mut blocks = Vec::new();
    if let Some(book) = probe.book {
        let printed = book::find(book.name).expect("checked when the probe was made");
        let expected = printed.expected();
        let yours = (book.print)(&got.out);
        if yours == expected && got.draws == want.draws {
            return None;
        }
        blocks.push(Block::Say(text!(
            "{what}: your result differs from the book's ({place}).",
            "{what}: 여러분의 결과가 책의 출력({place})과 다릅니다.",
            what = what.clone(),
            place = printed.place(),
        )));
        blocks.push(table(text!("book", "책"), expected, yours));
    } else {
        let (gs, ws) = (got.out.shape(), want.out.shape());
        let (g, w) = (got.out.entries(), want.out.entries());
        let sentence = if gs != ws {
            text!(
                "{what}: the expected result has shape {ws}, yours has shape {gs}.",
                "{what}: 기대한 결과의 크기는 {ws}인데 여러분의 결과는 {gs}입니다.",
                what = what.clone(),
                ws = ws.clone(),
                gs = gs.clone(),
            )
        } else if let Some(k) = g.iter().position(|x| !x.is_finite()) {
            let kind = if g[k].is_nan() { "NaN" } else { "inf" };
            text!(
                "{what}: your result holds {kind} (entry {k}, counted row by row from 0).",
                "{what}: 여러분의 결과에 {kind} 값이 있습니다(행 순서로 0부터 센 {k}번째 원소).",
                what = what.clone(),
                kind = kind,
                k = k,
            )
        } else if !close(&g, &w) {
            let n = g.iter().zip(&w).filter(|(g, w)| !close1(**g, **w)).count();
            text!(
                "{what}: {n} of {m} numbers differ from the expected result.",
                "{what}: 숫자 {m}개 중 {n}개가 기대한 결과와 다릅니다.",
                what = what.clone(),
                n = n,
                m = g.len(),
            )
        } else if got.draws != want.draws {
            text!(
                "{what}: your code drew {g} random numbers from the generator; the expected computation draws {w}.",
                "{what}: 여러분의 코드는 생성기에서 난수를 {g}개 뽑았는데, 기대한 계산은 {w}개를 뽑습니다.",
                what = what.clone(),
                g = got.draws.unwrap_or(0),
                w = want.draws.unwrap_or(0),
            )
        } else {
            return None;
        };
        blocks.push(Block::Say(sentence));
        for (name, value) in &probe.inputs {
            blocks.push(Block::Tensor(
                name.join("", &Text::same(" =")),
                value.clone(),
            ));
        }
        blocks.push(table(
            text!("expected", "기대한 결과"),
            want.out.torch(),
            got.out.torch(),
        ));
    }
    blocks.extend((probe.facts)(got).into_iter().map(Block::Say));
    Some(blocks)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tolerance is relative above 1 and absolute below it.
    #[test]
    fn numbers_are_close_within_the_tolerance_relative_above_1() {
        let big = 1000.0_f32;
        assert!(close1(big + 0.5 * TOL * big, big));
        assert!(!close1(big + 2.0 * TOL * big, big));
        assert!(close1(0.5 * TOL, 0.0) && !close1(2.0 * TOL, 0.0));
        assert!(close1(f32::NAN, f32::NAN) && close1(f32::INFINITY, f32::INFINITY));
        assert!(!close1(f32::NAN, 0.0) && !close1(f32::INFINITY, f32::NEG_INFINITY));
        assert!(!close1(5.0, f32::INFINITY) && !close1(f32::INFINITY, 5.0));
        assert!(!close1(0.0, f32::NAN) && !close1(f32::NEG_INFINITY, f32::INFINITY));
    }

    /// A batch whose items differ in shape is not a tensor: it is shown item by item.
    #[test]
    fn a_ragged_batch_is_shown_item_by_item() {
        let ragged = Out::Batch(vec![DMatrix::zeros(2, 2), DMatrix::from_element(1, 3, 1.0)]);
        let text = ragged.torch();
        assert!(!text.contains("not a tensor"), "{text}");
        assert!(text.contains("tensor([[0., 0.],") && text.contains("tensor([[1., 1., 1.]])"));
        let whole = Out::Batch(vec![DMatrix::zeros(1, 2), DMatrix::zeros(1, 2)]).torch();
        assert_eq!(whole, "tensor([[[0., 0.]],\n\n        [[0., 0.]]])");
    }
}
