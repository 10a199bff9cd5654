//! Running a check on code that may panic, loop forever, or not be written yet.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Once, mpsc};
use std::time::Duration;

/// Where an exercise stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Every check passed.
    Done,
    /// A check failed, the code panicked, returned a wrong shape or NaN, or ran too long.
    Failing,
    /// The code still calls `todo!()`: not written yet.
    NotStarted,
}

/// The outcome of one exercise's checks, with the message a learner reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// The exercise's id, e.g. `"softmax"`.
    pub exercise: &'static str,
    /// Done, failing or not started.
    pub status: Status,
    /// Empty when done; otherwise the first failing check, in words: the book's tensor beside
    /// the learner's with the differing entries marked, or the misconception it looks like.
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

/// Why [`guarded`] has no value.
#[derive(Debug, Clone, PartialEq)]
pub enum Interrupted {
    /// The code reached a `todo!()` (or `unimplemented!()`).
    NotStarted,
    /// The code panicked; the panic's message.
    Panicked(String),
    /// The code ran longer than the time limit.
    TimedOut(Duration),
}

/// Runs `f` on a thread of its own, catching a panic and giving up after `limit`, so the code
/// under test can never crash or hang the harness. A `todo!()` is reported as
/// [`Interrupted::NotStarted`], any other panic with its message. (A timed-out thread is left to
/// finish on its own; the harness does not wait for it.) A panic of `f` prints nothing to stderr:
/// its message is in the result; panics anywhere else are reported as before.
///
/// ```
/// use std::time::Duration;
/// use ch03_attention::spec::guarded;
/// use ch03_attention::spec::harness::Interrupted;
///
/// assert_eq!(guarded(|| 1 + 1, Duration::from_secs(1)), Ok(2));
/// assert_eq!(guarded(|| -> i32 { todo!() }, Duration::from_secs(1)), Err(Interrupted::NotStarted));
/// ```
///
/// # Errors
///
/// [`Interrupted`] when `f` did not return a value in time.
pub fn guarded<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
    limit: Duration,
) -> Result<T, Interrupted> {
    quiet_panics_on_checked_threads();
    let (send, receive) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name(CHECKED_THREAD.to_string())
        .spawn(move || {
            let outcome = catch_unwind(AssertUnwindSafe(f));
            let _ = send.send(outcome); // the receiver may have given up
        });
    if let Err(e) = spawned {
        return Err(Interrupted::Panicked(format!(
            "the check could not start a thread: {e}"
        )));
    }
    match receive.recv_timeout(limit) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(payload)) => Err(panic_outcome(payload.as_ref())),
        Err(mpsc::RecvTimeoutError::Timeout) => Err(Interrupted::TimedOut(limit)),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(Interrupted::Panicked(
            "the check's thread ended without an answer".into(),
        )),
    }
}

/// The name of the threads [`guarded`] runs code on.
const CHECKED_THREAD: &str = "ch03-spec-checked";

/// Keeps a panic of checked code from printing a message and backtrace to stderr: the verdict
/// carries the message instead. Panics on every other thread are reported as before (the hook
/// installed earlier is kept and called for them). Installed once, on the first [`guarded`] call.
fn quiet_panics_on_checked_threads() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if std::thread::current().name() != Some(CHECKED_THREAD) {
                previous(info);
            }
        }));
    });
}

/// A panic payload as an outcome: `todo!()`'s message ("not yet implemented") means the
/// exercise was not started.
fn panic_outcome(payload: &(dyn Any + Send)) -> Interrupted {
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_string()))
        .unwrap_or_else(|| "a panic without a message".to_string());
    if message.starts_with("not yet implemented") || message.starts_with("not implemented") {
        Interrupted::NotStarted
    } else {
        Interrupted::Panicked(message)
    }
}

impl Interrupted {
    /// The verdict for an exercise whose code was interrupted.
    pub fn verdict(&self, exercise: &'static str) -> Verdict {
        match self {
            Interrupted::NotStarted => Verdict {
                exercise,
                status: Status::NotStarted,
                message: "not started: the function still calls todo!()".to_string(),
            },
            Interrupted::Panicked(m) => {
                Verdict::failing(exercise, format!("your code panicked: {m}"))
            }
            Interrupted::TimedOut(limit) => Verdict::failing(
                exercise,
                format!(
                    "your code ran for more than {} s without returning (an endless loop?)",
                    limit.as_secs_f64()
                ),
            ),
        }
    }
}
