//! The judge: runs an exercise's probes on an implementation, compares each result with the
//! reference's (or the book's printed text), and turns what it saw into a verdict.
//!
//! A *probe* is one input to try: a description, the inputs to show, and a function that
//! computes the result with any [`Implementation`]. The judge runs it on the learner's
//! implementation (guarded: a panic, a `todo!()` or an endless loop becomes a verdict) and on
//! [`REFERENCE`], and remembers every result the learner's code gave. When a probe fails, a
//! misconception of the [`CATALOG`](super::CATALOG) is named only if the reference with that
//! misconception put in reproduces *every* result the learner's code gave, within [`TOL`];
//! otherwise the verdict states the symptom. Either way it shows the tensors side by side.

use std::time::Duration;

use super::catalog::{CATALOG, Misconception};
use super::exercises::{EXERCISES, Exercise, exercise};
use super::harness::{Interrupted, Place, Status, Verdict, unguarded};
use super::probe::{Ctx, Got, Probe, Seen, same, table};
use super::show::{Block, render};
use super::source;
use super::text::{Lang, Text, text};
use super::{Implementation, TIME_LIMIT};
use crate::book;

/// Judges implementations: which one, in which language, at what width, with which sources
/// (the learner's files, to tell "not started" from "waiting for …").
#[derive(Clone, Copy)]
pub struct Judge {
    imp: Implementation,
    lang: Lang,
    width: usize,
    limit: Option<Duration>,
    sources: &'static [(&'static str, &'static str)],
}

impl Judge {
    /// A judge of `imp` in `lang`: 80 columns, [`TIME_LIMIT`] per call (on a thread), no sources.
    pub fn new(imp: Implementation, lang: Lang) -> Judge {
        Judge {
            imp,
            lang,
            width: 80,
            limit: Some(TIME_LIMIT),
            sources: &[],
        }
    }

    /// Tables side by side only when they fit in `width` columns.
    pub fn with_width(mut self, width: usize) -> Judge {
        self.width = width;
        self
    }

    /// Each call of the code under test runs on a thread and is given up after `limit`.
    pub fn with_limit(mut self, limit: Duration) -> Judge {
        self.limit = Some(limit);
        self
    }

    /// Calls run on the current thread, with no time limit: for a child process whose parent
    /// ends it ([`isolate`](super::isolate)).
    pub fn on_this_thread(mut self) -> Judge {
        self.limit = None;
        self
    }

    /// The learner's files, `(file name, text)` (e.g. `("s3_3_1.rs", include_str!(…))`).
    pub fn with_sources(mut self, sources: &'static [(&'static str, &'static str)]) -> Judge {
        self.sources = sources;
        self
    }

    /// The verdict of exercise `id`, or `None` for an unknown id.
    pub fn verdict(&self, id: &str) -> Option<Verdict> {
        let exercise = exercise(id)?;
        if let Some(v) = self.not_started(exercise) {
            return Some(v);
        }
        let ctx = Ctx::new(self.imp, self.limit);
        let _ = (exercise.check)(&ctx);
        let seen = ctx.into_seen();
        Some(self.conclude(exercise, &seen))
    }

    /// Every verdict, in [`EXERCISES`] order.
    pub fn verdicts(&self) -> Vec<Verdict> {
        EXERCISES
            .iter()
            .filter_map(|e| self.verdict(e.id))
            .collect()
    }

    /// The text of the learner's file `file`, when the judge has it.
    fn source(&self, file: &str) -> Option<&'static str> {
        self.sources
            .iter()
            .find(|(name, _)| *name == file)
            .map(|(_, text)| *text)
    }

    /// "Not started" when every function of the exercise is still its stub.
    fn not_started(&self, exercise: &'static Exercise) -> Option<Verdict> {
        let text = self.source(exercise.file)?;
        let stubs: Option<Vec<source::Function>> = exercise
            .functions
            .iter()
            .map(|f| source::function(text, f).filter(|f| f.is_stub(text)))
            .collect();
        let first = stubs?.into_iter().next()?;
        let place = format!("practice/src/{}:{}", exercise.file, first.line);
        Some(Verdict {
            exercise: exercise.id,
            status: Status::NotStarted,
            message: text!(
                "not started: write `{f}` ({place})",
                "시작 전: `{f}`를 작성하세요({place})",
                f = first.name,
                place = place,
            )
            .get(self.lang)
            .to_string(),
        })
    }

    /// The verdict from what the check saw.
    fn conclude(&self, exercise: &'static Exercise, seen: &[Seen]) -> Verdict {
        let first_problem = seen.iter().find(|s| match s {
            Seen::Returned { failure, .. } => failure.is_some(),
            Seen::Interrupted(..) => true,
        });
        let mut blocks = match first_problem {
            None => return Verdict::done(exercise.id),
            Some(Seen::Interrupted(i, what)) => {
                let mut v = self.interrupted_on(exercise, i, what);
                if v.status == Status::Failing {
                    let book: Vec<Block> = exercise
                        .book
                        .iter()
                        .flat_map(|name| book_beside(name, seen))
                        .collect();
                    if !book.is_empty() {
                        v.message =
                            format!("{}\n{}", v.message, render(&book, self.lang, self.width));
                    }
                }
                return v;
            }
            Some(Seen::Returned { failure, .. }) => failure.clone().unwrap_or_default(),
        };
        if let Some(Seen::Interrupted(i, what)) = seen.last() {
            let then = self.interrupted(exercise, i).message;
            blocks.push(Block::Say(text!(
                "Then, on {what}: {then}",
                "그다음 {what}에서: {then}",
                what = what.clone(),
                then = then,
            )));
        }
        let mut message = Vec::new();
        let causes = proven(exercise, seen);
        if !causes.is_empty() {
            message.push(Block::Say(text!(
                "Your results are exactly what this mistake computes on every input tried:",
                "시도한 모든 입력에서 여러분의 결과는 다음 실수가 계산하는 값과 정확히 같습니다:",
            )));
            for m in &causes {
                message.push(Block::Say(m.text()));
            }
        }
        message.extend(blocks);
        // The book's tensors beside the learner's, where the failure shown was not the book's.
        let shown = match first_problem {
            Some(Seen::Returned { probe, .. }) => probe.book.map(|b| b.name),
            _ => None,
        };
        for name in exercise.book.iter().filter(|n| Some(**n) != shown) {
            message.extend(book_beside(name, seen));
        }
        Verdict::failing(exercise.id, render(&message, self.lang, self.width))
    }

    /// The verdict for code that did not return on the probe `what`: a panic says on what.
    fn interrupted_on(&self, exercise: &'static Exercise, i: &Interrupted, what: &Text) -> Verdict {
        let mut v = self.interrupted(exercise, i);
        if let Interrupted::Panicked(..) = i {
            let on = text!(
                "It happened on: {what}.",
                "일어난 곳: {what}.",
                what = what.clone()
            );
            v.message = format!("{}\n{}", v.message, on.get(self.lang));
        }
        v
    }

    /// The verdict for code that did not return.
    fn interrupted(&self, exercise: &'static Exercise, i: &Interrupted) -> Verdict {
        let (status, message) = match i {
            Interrupted::Todo(place) => self.todo(exercise, place.as_ref()),
            Interrupted::Panicked(message, place) => {
                let at = place
                    .as_ref()
                    .map(|p| format!(" ({})", short_place(p)))
                    .unwrap_or_default();
                (
                    Status::Failing,
                    text!(
                        "your code panicked{at}: {message}",
                        "여러분의 코드에서 패닉이 일어났습니다{at}: {message}",
                        at = at,
                        message = message.clone(),
                    ),
                )
            }
            Interrupted::TimedOut(limit) => (
                Status::Failing,
                text!(
                    "your code did not return within {s} s (a loop that never ends, or a very slow computation)",
                    "여러분의 코드가 {s}초 안에 끝나지 않았습니다(끝나지 않는 반복문이거나 아주 느린 계산)",
                    s = limit.as_secs_f64(),
                ),
            ),
        };
        Verdict {
            exercise: exercise.id,
            status,
            message: message.get(self.lang).to_string(),
        }
    }

    /// A `todo!()` reached at `place`: in this exercise (its other function is not written
    /// yet), in another exercise (waiting for it), or in a helper.
    fn todo(&self, exercise: &'static Exercise, place: Option<&Place>) -> (Status, Text) {
        let unknown = (
            Status::NotStarted,
            text!(
                "not started: the function still calls todo!()",
                "시작 전: 함수가 아직 todo!()를 호출합니다",
            ),
        );
        let Some(place) = place else { return unknown };
        let Some((file, text)) = self
            .sources
            .iter()
            .find(|(name, _)| place.file.ends_with(&format!("/{name}")) || place.file == *name)
        else {
            return unknown;
        };
        let at = format!("practice/src/{file}:{}", place.line);
        let Some(f) = source::enclosing(text, place.line as usize) else {
            return (
                Status::Failing,
                text!(
                    "your code reaches a todo!() ({at})",
                    "여러분의 코드가 todo!()에 도달합니다({at})",
                    at = at,
                ),
            );
        };
        let owner = EXERCISES
            .iter()
            .find(|e| e.file == *file && e.functions.contains(&f.name.as_str()));
        match owner {
            Some(e) if e.id == exercise.id && f.is_stub(text) => (
                Status::Failing,
                text!(
                    "`{f}` is still its stub ({at}): this exercise needs {all} written",
                    "`{f}`가 아직 처음 상태입니다({at}): 이 문제는 {all}를 모두 작성해야 합니다",
                    f = f.name,
                    at = at,
                    all = quoted(exercise.functions),
                ),
            ),
            Some(e) if e.id == exercise.id => (
                Status::Failing,
                text!(
                    "your `{f}` still reaches a todo!() ({at}): finish it",
                    "여러분의 `{f}`가 아직 todo!()에 도달합니다({at}): 마저 작성하세요",
                    f = f.name,
                    at = at,
                ),
            ),
            Some(e) => (
                Status::Waiting,
                text!(
                    "waiting for `{f}` (exercise {id}, {at})\nYour code calls `{f}`, which still reaches its todo!(): write it first.",
                    "`{f}`를 기다리는 중(문제 {id}, {at})\n여러분의 코드가 `{f}`를 호출하는데, 이 함수가 아직 todo!()에 도달합니다. 먼저 작성하세요.",
                    f = f.name,
                    id = e.id,
                    at = at,
                ),
            ),
            None => (
                Status::Failing,
                text!(
                    "your function `{f}` reaches a todo!() ({at})",
                    "여러분의 함수 `{f}`가 todo!()에 도달합니다({at})",
                    f = f.name,
                    at = at,
                ),
            ),
        }
    }
}

/// The book's printed result `name` beside what the learner's code printed for it (or alone,
/// when the learner's code gave nothing for it).
fn book_beside(name: &str, seen: &[Seen]) -> Vec<Block> {
    let printed = book::find(name).expect("a registry entry");
    let place = printed.place();
    let yours = seen.iter().find_map(|s| match s {
        Seen::Returned { probe, got, .. } => probe
            .book
            .filter(|b| b.name == name)
            .map(|b| (b.print)(&got.out)),
        Seen::Interrupted(..) => None,
    });
    let expected = printed.expected();
    match yours {
        Some(yours) => {
            let sentence = if yours == expected {
                text!(
                    "On the book's inputs your result prints as the book's ({place}):",
                    "책의 입력에서는 여러분의 결과가 책의 출력({place})과 같습니다:",
                    place = place.clone(),
                )
            } else {
                text!(
                    "On the book's inputs your result differs from the book's ({place}):",
                    "책의 입력에서도 여러분의 결과가 책의 출력({place})과 다릅니다:",
                    place = place.clone(),
                )
            };
            vec![
                Block::Say(sentence),
                table(text!("book", "책"), expected, yours),
            ]
        }
        None => vec![
            Block::Say(text!(
                "The book prints ({place}):",
                "책의 출력({place}):",
                place = place,
            )),
            Block::Tensor(text!("book", "책"), expected),
        ],
    }
}

/// A place as a learner reads it: `practice/src/s3_5.rs:40`, or a library's file from its
/// crate's folder on (`nalgebra-0.34.2/src/base/blas_uninit.rs:147`).
fn short_place(p: &Place) -> String {
    let file = match p.file.rfind("/registry/src/") {
        Some(k) => p.file[k..].splitn(4, '/').nth(3).unwrap_or(&p.file),
        None => &p.file,
    };
    let file = file
        .split_once('/')
        .filter(|(head, _)| head.starts_with("index."))
        .map_or(file, |(_, rest)| rest);
    format!("{file}:{}", p.line)
}

/// The book's printed results of `exercise` alone, rendered: what a verdict shows when the
/// learner's code gave nothing to compare (the child process judging it died).
pub(crate) fn book_alone(exercise: &Exercise, lang: Lang, width: usize) -> String {
    let blocks: Vec<Block> = exercise
        .book
        .iter()
        .flat_map(|name| book_beside(name, &[]))
        .collect();
    render(&blocks, lang, width)
}

/// `a`, `b` and `c` as `` `a`, `b` ``.
fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The misconceptions of `exercise` that reproduce every result the learner's code gave.
fn proven(exercise: &Exercise, seen: &[Seen]) -> Vec<&'static Misconception> {
    let evidence: Vec<(&Probe, &Got)> = seen
        .iter()
        .filter_map(|s| match s {
            Seen::Returned { probe, got, .. } => Some((probe, got)),
            Seen::Interrupted(..) => None,
        })
        .collect();
    if evidence.is_empty() {
        return Vec::new();
    }
    CATALOG
        .iter()
        .filter(|m| m.exercise == exercise.id)
        .filter(|m| {
            evidence.iter().all(|(probe, got)| {
                let run = probe.run.clone();
                let imp = m.implementation;
                unguarded(move || run(&imp)).is_ok_and(|theirs| same(&theirs, got))
            })
        })
        .collect()
}

/// The verdict of exercise `id` for `imp`, in `lang` (each call on a thread, with
/// [`TIME_LIMIT`]), or `None` for an unknown id.
pub fn judge(imp: &Implementation, id: &str, lang: Lang) -> Option<Verdict> {
    Judge::new(*imp, lang).verdict(id)
}

/// Every verdict of `imp`, in [`EXERCISES`] order.
pub fn judge_all(imp: &Implementation, lang: Lang) -> Vec<Verdict> {
    Judge::new(*imp, lang).verdicts()
}
