//! Each exercise in a process of its own, so that code which overflows its stack, aborts, calls
//! `std::process::exit` or fails to allocate costs only its own exercise's verdict.
//!
//! The *child* is a program built with the code under test (the practice package's
//! `ch03-practice-judge`, or a test binary run again): [`child_main`] judges one exercise on
//! its own thread, with no time limit, and prints the verdict between two marker lines. The
//! *parent* ([`Runner`]) starts one child per exercise (as many at a time as the machine has
//! cores), ends a child that runs past the time limit, and reads the verdict back; when the child
//! died before printing one, the way it died becomes the verdict: a stack overflow, an abort, an
//! exit, an allocation that failed, a panic during a panic.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::exercises::exercise;
use super::harness::{Status, Verdict, quiet_all_panics};
use super::judge::{Judge, book_alone};
use super::text::{Lang, Text, text};
use super::{Implementation, TIME_LIMIT};

/// The line before a verdict in a child's output.
const BEGIN: &str = "\u{1e}ch03-verdict ";
/// The line after it.
const END: &str = "\u{1e}ch03-end";
/// At most this much of a child's output is kept (the rest is read and dropped).
const KEEP: usize = 64 * 1024;

/// The child's side: judges the exercise named by `--exercise ID` (with `--lang en|ko` and
/// `--width N`) and prints its verdict for the parent. Returns the exit code: 0 when a verdict
/// was printed, 2 for bad arguments.
pub fn child_main(
    imp: Implementation,
    sources: &'static [(&'static str, &'static str)],
    args: impl IntoIterator<Item = String>,
) -> i32 {
    let args: Vec<String> = args.into_iter().collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
    };
    let lang = value("--lang")
        .and_then(|l| Lang::parse(l))
        .unwrap_or_default();
    let width = value("--width").and_then(|w| w.parse().ok()).unwrap_or(80);
    let Some(id) = value("--exercise") else {
        eprintln!("usage: --exercise ID [--lang en|ko] [--width N]");
        return 2;
    };
    quiet_all_panics();
    let judge = Judge::new(imp, lang)
        .with_width(width)
        .with_sources(sources)
        .on_this_thread();
    let Some(verdict) = judge.verdict(id) else {
        eprintln!("no exercise `{id}`");
        return 2;
    };
    let mut out = std::io::stdout().lock();
    let printed = writeln!(
        out,
        "\n{BEGIN}{}\n{}\n{END}",
        verdict.status.word(),
        verdict.message
    )
    .and_then(|()| out.flush());
    i32::from(printed.is_err())
}

/// The parent's side: how to start a child, and the verdicts it reads back.
#[derive(Debug, Clone)]
pub struct Runner {
    program: PathBuf,
    envs: Vec<(String, String)>,
    lang: Lang,
    width: usize,
    limit: Duration,
    jobs: usize,
}

impl Runner {
    /// Children run `program --exercise ID --lang … --width …`: in English, 80 columns wide,
    /// [`TIME_LIMIT`] each, as many at a time as the machine has cores.
    pub fn new(program: impl Into<PathBuf>) -> Runner {
        Runner {
            program: program.into(),
            envs: Vec::new(),
            lang: Lang::En,
            width: 80,
            limit: TIME_LIMIT,
            jobs: std::thread::available_parallelism().map_or(1, usize::from),
        }
    }

    /// An environment variable every child gets.
    pub fn env(mut self, key: &str, value: &str) -> Runner {
        self.envs.push((key.to_string(), value.to_string()));
        self
    }

    /// The verdicts' language.
    pub fn lang(mut self, lang: Lang) -> Runner {
        self.lang = lang;
        self
    }

    /// The width tables must fit.
    pub fn width(mut self, width: usize) -> Runner {
        self.width = width;
        self
    }

    /// How long a child may run before it is ended.
    pub fn limit(mut self, limit: Duration) -> Runner {
        self.limit = limit;
        self
    }

    /// The verdict of every exercise of `ids`, in that order, each from a child of its own.
    pub fn verdicts(&self, ids: &[&'static str]) -> Vec<Verdict> {
        let next = Mutex::new(0_usize);
        let results: Mutex<Vec<Option<Verdict>>> = Mutex::new(vec![None; ids.len()]);
        std::thread::scope(|s| {
            for _ in 0..self.jobs.min(ids.len()) {
                s.spawn(|| {
                    loop {
                        let k = {
                            let mut n = next.lock().unwrap_or_else(|e| e.into_inner());
                            let k = *n;
                            *n += 1;
                            k
                        };
                        let Some(id) = ids.get(k) else { break };
                        let v = self.verdict(id);
                        results.lock().unwrap_or_else(|e| e.into_inner())[k] = Some(v);
                    }
                });
            }
        });
        results
            .into_inner()
            .unwrap_or_else(|e| e.into_inner())
            .into_iter()
            .zip(ids)
            .map(|(v, id)| v.unwrap_or_else(|| Verdict::failing(id, "no verdict")))
            .collect()
    }

    /// The verdict of exercise `id` from a child of its own.
    pub fn verdict(&self, id: &'static str) -> Verdict {
        let mut command = Command::new(&self.program);
        command
            .args(["--exercise", id, "--lang", self.lang.code()])
            .args(["--width", &self.width.to_string()])
            .envs(self.envs.iter().map(|(k, v)| (k, v)))
            .env("RUST_BACKTRACE", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let ended = match run(command, self.limit) {
            Ok(ended) => ended,
            Err(e) => {
                let message = text!(
                    "the judge could not start {program}: {e}",
                    "채점 프로그램 {program}을 시작할 수 없습니다: {e}",
                    program = self.program.display().to_string(),
                    e = e.to_string(),
                );
                return Verdict::failing(id, message.get(self.lang));
            }
        };
        read_verdict(id, &ended, self.lang, self.width, self.limit)
    }
}

/// How a child ended.
#[derive(Debug)]
struct Ended {
    status: Option<ExitStatus>,
    timed_out: bool,
    stdout: String,
    stderr: String,
}

/// Reads all of `from`, keeping the first [`KEEP`] bytes.
fn drain(mut from: impl Read) -> String {
    let mut kept = Vec::new();
    let mut buffer = [0_u8; 8192];
    while let Ok(n) = from.read(&mut buffer) {
        if n == 0 {
            break;
        }
        let room = KEEP.saturating_sub(kept.len());
        kept.extend_from_slice(&buffer[..n.min(room)]);
    }
    String::from_utf8_lossy(&kept).into_owned()
}

/// Runs `command` to its end, or ends it after `limit`.
fn run(mut command: Command, limit: Duration) -> std::io::Result<Ended> {
    let mut child = command.spawn()?;
    let stdout = child
        .stdout
        .take()
        .map(|o| std::thread::spawn(move || drain(o)));
    let stderr = child
        .stderr
        .take()
        .map(|e| std::thread::spawn(move || drain(e)));
    let start = Instant::now();
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if start.elapsed() > limit {
            timed_out = true;
            let _ = child.kill();
            break child.wait().ok();
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let join = |h: Option<std::thread::JoinHandle<String>>| {
        h.and_then(|h| h.join().ok()).unwrap_or_default()
    };
    Ok(Ended {
        status,
        timed_out,
        stdout: join(stdout),
        stderr: join(stderr),
    })
}

/// The verdict in a child's output, or, when there is none, the way it died.
fn read_verdict(
    id: &'static str,
    ended: &Ended,
    lang: Lang,
    width: usize,
    limit: Duration,
) -> Verdict {
    let (printed, verdict) = match ended.stdout.split_once(BEGIN) {
        Some((before, rest)) => (before.strip_suffix('\n').unwrap_or(before), Some(rest)),
        None => (ended.stdout.as_str(), None),
    };
    let parsed = verdict.and_then(|rest| {
        let (word, rest) = rest.split_once('\n')?;
        let message = rest
            .split_once(&format!("\n{END}"))
            .map_or(rest, |(m, _)| m);
        Some((Status::from_word(word)?, message.to_string()))
    });
    let (status, mut message) = match parsed {
        Some(v) => v,
        None => {
            let mut message = died(id, ended, limit).get(lang).to_string();
            let book = exercise(id)
                .map(|e| book_alone(e, lang, width))
                .unwrap_or_default();
            if !book.is_empty() {
                message = format!("{message}\n{book}");
            }
            (Status::Failing, message)
        }
    };
    let printed = printed.trim_end();
    if status != Status::Done && !printed.is_empty() {
        let lines: Vec<&str> = printed.lines().collect();
        let shown = lines.len().min(20);
        message.push('\n');
        message.push_str(
            text!(
                "Your code printed ({shown} of {all} lines):",
                "여러분의 코드가 출력한 내용({all}줄 중 {shown}줄):",
                shown = shown,
                all = lines.len(),
            )
            .get(lang),
        );
        for l in &lines[..shown] {
            message.push_str(&format!("\n  | {l}"));
        }
    }
    Verdict {
        exercise: id,
        status,
        message,
    }
}

/// What a child that printed no verdict died of, in words.
fn died(id: &str, ended: &Ended, limit: Duration) -> Text {
    let functions = exercise(id)
        .map(|e| {
            e.functions
                .iter()
                .map(|f| format!("`{f}` (practice/src/{})", e.file))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    let err = &ended.stderr;
    let cause = if ended.timed_out {
        text!(
            "your code did not return within {s} s (a loop that never ends, or a very slow computation); the judge ended it",
            "여러분의 코드가 {s}초 안에 끝나지 않아(끝나지 않는 반복문이거나 아주 느린 계산) 채점기가 멈췄습니다",
            s = limit.as_secs_f64(),
        )
    } else if err.contains("has overflowed its stack") {
        text!(
            "stack overflow: the process ran out of stack, which usually means a function that calls itself without end (recursion with no base case)",
            "스택 오버플로: 프로세스의 스택이 바닥났습니다. 보통 자기 자신을 끝없이 호출하는 함수(종료 조건이 없는 재귀) 때문입니다",
        )
    } else if let Some(bytes) = allocation_failure(err) {
        text!(
            "out of memory while allocating {bytes} bytes: a size computed wrongly (for example n × n with a huge n)?",
            "{bytes}바이트를 할당하다 메모리가 부족했습니다. 크기를 잘못 계산하지 않았나요(예: 아주 큰 n으로 n × n)?",
            bytes = bytes,
        )
    } else if err.contains("panic in a destructor during cleanup")
        || err.contains("thread caused non-unwinding panic")
        || err.contains("panicked while processing panic")
    {
        text!(
            "a panic during a panic: code that panicked while the stack was unwinding from another panic (for example a todo!() in a Drop), which aborts the process",
            "패닉 도중의 패닉: 다른 패닉으로 스택을 되감는 동안 또 패닉이 일어나(예: Drop 안의 todo!()) 프로세스가 중단되었습니다",
        )
    } else {
        match describe_status(ended.status) {
            Death::Exited(code) => text!(
                "your code ended the process with exit code {code} before the check finished (std::process::exit?)",
                "검사가 끝나기 전에 여러분의 코드가 종료 코드 {code}로 프로세스를 끝냈습니다(std::process::exit?)",
                code = code,
            ),
            Death::Aborted => text!(
                "the process aborted (std::process::abort, or a failure Rust cannot unwind from)",
                "프로세스가 중단되었습니다(std::process::abort, 또는 러스트가 되감을 수 없는 실패)",
            ),
            Death::Signal(n) => text!(
                "the process was killed by signal {n}",
                "프로세스가 시그널 {n}로 종료되었습니다",
                n = n,
            ),
            Death::Unknown => text!(
                "the process ended without a verdict",
                "프로세스가 판정 없이 끝났습니다",
            ),
        }
    };
    text!(
        "{cause}. It happened while judging {functions}; every other exercise was judged on its own.",
        "{cause}. {functions}를 채점하는 중에 일어났습니다. 다른 문제는 따로 채점했습니다.",
        cause = cause,
        functions = functions,
    )
}

/// `N` of "memory allocation of N bytes failed".
fn allocation_failure(stderr: &str) -> Option<u64> {
    let rest = stderr.split("memory allocation of ").nth(1)?;
    let (n, tail) = rest.split_once(' ')?;
    tail.starts_with("bytes failed").then(|| n.parse().ok())?
}

/// How a process ended.
enum Death {
    Exited(i32),
    Aborted,
    Signal(i32),
    Unknown,
}

/// The way `status` ended, across platforms.
fn describe_status(status: Option<ExitStatus>) -> Death {
    let Some(status) = status else {
        return Death::Unknown;
    };
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return if signal == 6 {
                Death::Aborted
            } else {
                Death::Signal(signal)
            };
        }
    }
    match status.code() {
        // Windows: abort() exits with 3; a fast-fail (__fastfail, as Rust's abort) with 0xC0000409.
        #[cfg(windows)]
        Some(3) | Some(-1073740791) => Death::Aborted,
        Some(code) => Death::Exited(code),
        None => Death::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ended(stdout: &str, stderr: &str, code: i32) -> Ended {
        #[cfg(unix)]
        let status = {
            use std::os::unix::process::ExitStatusExt;
            ExitStatus::from_raw(code << 8)
        };
        #[cfg(not(unix))]
        let status = {
            let _ = code;
            std::process::Command::new("cmd").status().unwrap()
        };
        Ended {
            status: Some(status),
            timed_out: false,
            stdout: stdout.to_string(),
            stderr: stderr.to_string(),
        }
    }

    #[test]
    fn a_printed_verdict_is_read_back_with_the_learners_output() {
        let out = format!("debug 1\ndebug 2\n\n{BEGIN}failing\nline one\n  table\n{END}\n");
        let v = read_verdict("softmax", &ended(&out, "", 0), Lang::En, 80, TIME_LIMIT);
        assert_eq!(v.status, Status::Failing);
        assert_eq!(
            v.message,
            "line one\n  table\nYour code printed (2 of 2 lines):\n  | debug 1\n  | debug 2"
        );
        let out = format!("\n{BEGIN}done\n\n{END}\n");
        let v = read_verdict("softmax", &ended(&out, "", 0), Lang::En, 80, TIME_LIMIT);
        assert_eq!((v.status, v.message.as_str()), (Status::Done, ""));
    }

    #[test]
    fn a_done_verdict_stays_empty_and_long_output_is_kept_to_64_kib() {
        let out = format!("debug\n{BEGIN}done\n\n{END}\n");
        let v = read_verdict("softmax", &ended(&out, "", 0), Lang::En, 80, TIME_LIMIT);
        assert_eq!((v.status, v.message.as_str()), (Status::Done, ""));
        let long = vec![b'x'; 70_000];
        assert_eq!(drain(&long[..]).len(), 64 * 1024);
        assert_eq!(drain(&long[..100]).len(), 100);
    }

    #[test]
    fn a_child_that_died_is_described() {
        let overflow = "\nthread 'main' has overflowed its stack\nfatal runtime error: stack overflow, aborting\n";
        let v = read_verdict(
            "softmax_naive",
            &ended("", overflow, 0),
            Lang::En,
            80,
            TIME_LIMIT,
        );
        // The book's tensor, alone: the child died before giving a result.
        assert!(
            v.message.contains(
                "The book prints (3.3.1, cell [35]):\n  book\n    Attention weights: tensor([0.1385,"
            ),
            "{}",
            v.message
        );
        assert!(v.message.starts_with("stack overflow: "), "{}", v.message);
        assert!(
            v.message
                .contains("`softmax_naive` (practice/src/s3_3_1.rs)"),
            "{}",
            v.message
        );
        let oom = "memory allocation of 4398046511104 bytes failed\n";
        let v = read_verdict("softmax", &ended("", oom, 0), Lang::Ko, 80, TIME_LIMIT);
        assert!(
            v.message.starts_with("4398046511104바이트를 할당하다"),
            "{}",
            v.message
        );
        assert_eq!(
            allocation_failure("memory allocation of 12 bytes failed"),
            Some(12)
        );
        assert_eq!(
            allocation_failure("memory allocation of x bytes failed"),
            None
        );
        let v = read_verdict("softmax", &ended("", "", 7), Lang::En, 80, TIME_LIMIT);
        assert!(
            v.message
                .starts_with("your code ended the process with exit code 7"),
            "{}",
            v.message
        );
        let mut slow = ended("", "", 0);
        slow.timed_out = true;
        let v = read_verdict("softmax", &slow, Lang::En, 80, Duration::from_secs(2));
        assert!(
            v.message.starts_with("your code did not return within 2 s"),
            "{}",
            v.message
        );
    }
}
