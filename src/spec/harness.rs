//! Running code under test that may panic, loop forever, or not be written yet.
//!
//! [`guarded`] runs a function on a thread of its own with a time limit, and [`unguarded`] on the
//! current thread (the child process of [`isolate`](super::isolate) runs one exercise this way:
//! its parent enforces the limit by ending it). Either way a panic becomes an [`Interrupted`]
//! that knows where it happened, so the judge can tell a `todo!()` in the exercise itself ("not
//! started") from one in a function it calls ("waiting for …").

use std::any::Any;
use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Once, mpsc};
use std::time::Duration;

/// Where an exercise stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Every check passed.
    Done,
    /// A check failed, the code panicked, returned a wrong shape or NaN, ran too long, or ended
    /// the process.
    Failing,
    /// Every function of the exercise is still its `todo!()` stub.
    NotStarted,
    /// The exercise's own code is written, but it calls a function that is still a stub.
    Waiting,
}

impl Status {
    /// The word `--json` prints: `"done"`, `"failing"`, `"not started"` or `"waiting"`.
    pub fn word(self) -> &'static str {
        match self {
            Status::Done => "done",
            Status::Failing => "failing",
            Status::NotStarted => "not started",
            Status::Waiting => "waiting",
        }
    }

    /// The status a [`word`](Self::word) names.
    pub fn from_word(word: &str) -> Option<Status> {
        [
            Status::Done,
            Status::Failing,
            Status::NotStarted,
            Status::Waiting,
        ]
        .into_iter()
        .find(|s| s.word() == word)
    }
}

/// The outcome of one exercise's checks, with the message a learner reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// The exercise's id, e.g. `"softmax"`.
    pub exercise: &'static str,
    /// Done, failing, not started or waiting.
    pub status: Status,
    /// Empty when done; otherwise what failed, in the language asked for: sentences at the start
    /// of a line, tables indented by two spaces (never to be re-wrapped).
    pub message: String,
}

impl Verdict {
    /// A passing verdict.
    pub fn done(exercise: &'static str) -> Verdict {
        Verdict {
            exercise,
            status: Status::Done,
            message: String::new(),
        }
    }

    /// A failing verdict with its message.
    pub fn failing(exercise: &'static str, message: impl Into<String>) -> Verdict {
        Verdict {
            exercise,
            status: Status::Failing,
            message: message.into(),
        }
    }
}

/// A place in the source: the file as the compiler names it and the 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// The file, e.g. `practice/src/s3_3_1.rs`.
    pub file: String,
    /// The line, from 1.
    pub line: u32,
}

/// Why code under test gave no value.
#[derive(Debug, Clone, PartialEq)]
pub enum Interrupted {
    /// It reached a `todo!()` (or `unimplemented!()`), at this place when known.
    Todo(Option<Place>),
    /// It panicked: the message, and where when known.
    Panicked(String, Option<Place>),
    /// It ran longer than the time limit.
    TimedOut(Duration),
}

/// Runs `f` on a thread of its own, catching a panic and giving up after `limit`, so the code
/// under test can never crash or hang the caller. A `todo!()` is reported as
/// [`Interrupted::Todo`], any other panic with its message. (A timed-out thread is left to
/// finish on its own; the caller does not wait for it.) A panic of `f` prints nothing to stderr:
/// its message is in the result; panics anywhere else are reported as before.
///
/// ```
/// use std::time::Duration;
/// use ch03_attention::spec::guarded;
/// use ch03_attention::spec::harness::Interrupted;
///
/// assert_eq!(guarded(|| 1 + 1, Duration::from_secs(1)), Ok(2));
/// let todo = guarded(|| -> i32 { todo!() }, Duration::from_secs(1));
/// assert!(matches!(todo, Err(Interrupted::Todo(Some(_)))));
/// ```
///
/// # Errors
///
/// [`Interrupted`] when `f` did not return a value in time.
pub fn guarded<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
    limit: Duration,
) -> Result<T, Interrupted> {
    let (send, receive) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name(CHECKED_THREAD.to_string())
        .spawn(move || {
            let _ = send.send(unguarded(f)); // the receiver may have given up
        });
    if let Err(e) = spawned {
        return Err(Interrupted::Panicked(
            format!("the check could not start a thread: {e}"),
            None,
        ));
    }
    match receive.recv_timeout(limit) {
        Ok(outcome) => outcome,
        Err(mpsc::RecvTimeoutError::Timeout) => Err(Interrupted::TimedOut(limit)),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(Interrupted::Panicked(
            "the check's thread ended without an answer".into(),
            None,
        )),
    }
}

/// Runs `f` on the current thread, catching a panic (with its place), without a time limit.
///
/// # Errors
///
/// [`Interrupted::Todo`] or [`Interrupted::Panicked`] when `f` panicked.
pub fn unguarded<T>(f: impl FnOnce() -> T) -> Result<T, Interrupted> {
    install_panic_recorder();
    LAST_PANIC.with(|p| p.borrow_mut().take());
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(value) => Ok(value),
        Err(payload) => {
            let place = LAST_PANIC.with(|p| p.borrow_mut().take());
            Err(panic_outcome(payload.as_ref(), place))
        }
    }
}

/// The name of the threads [`guarded`] runs code on.
const CHECKED_THREAD: &str = "ch03-spec-checked";

/// Set by a child process that judges one exercise: its panics are all the learner's, and the
/// verdict reports them, so none is printed.
static QUIET_EVERYWHERE: AtomicBool = AtomicBool::new(false);

/// Makes every panic of this process silent (its verdict carries the message instead).
pub fn quiet_all_panics() {
    QUIET_EVERYWHERE.store(true, Ordering::Relaxed);
    install_panic_recorder();
}

thread_local! {
    /// Where the last panic on this thread happened.
    static LAST_PANIC: RefCell<Option<Place>> = const { RefCell::new(None) };
}

/// Installs, once, a panic hook that records each panic's place for [`unguarded`] and keeps
/// panics of checked code off stderr. Panics on other threads are reported by the hook that
/// was installed before.
fn install_panic_recorder() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let place = info.location().map(|l| Place {
                file: l.file().to_string(),
                line: l.line(),
            });
            LAST_PANIC.with(|p| *p.borrow_mut() = place);
            let checked = std::thread::current().name() == Some(CHECKED_THREAD);
            if !checked && !QUIET_EVERYWHERE.load(Ordering::Relaxed) {
                previous(info);
            }
        }));
    });
}

/// A panic payload as an outcome: `todo!()`'s message ("not yet implemented") and
/// `unimplemented!()`'s ("not implemented") mean unwritten code.
fn panic_outcome(payload: &(dyn Any + Send), place: Option<Place>) -> Interrupted {
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_string()))
        .unwrap_or_else(|| "a panic without a message".to_string());
    if message.starts_with("not yet implemented") || message.starts_with("not implemented") {
        Interrupted::Todo(place)
    } else {
        Interrupted::Panicked(message, place)
    }
}
