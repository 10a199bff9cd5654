//! Each exercise is judged in a process of its own (`spec::isolate`): code that overflows its
//! stack, aborts, exits, fails to allocate, panics during a panic or never returns costs only its
//! own exercise's verdict, which names what happened; the others are judged as usual.
//!
//! This test binary is its own child: run with `CH03_CRASH_CASE=<case>`, it judges one exercise of
//! that case's implementation and prints the verdict, as the practice package's judge does.
//! (`harness = false`: libtest would refuse the child's arguments.) `cargo test` runs it in the
//! debug build and CI again with `--release`.

use std::time::{Duration, Instant};

use ch03_attention::TorchRng;
use ch03_attention::nalgebra::{DMatrix, DVector};
use ch03_attention::spec::isolate::{Runner, child_main};
use ch03_attention::spec::{EXERCISES, Implementation, Lang, REFERENCE, Status, Verdict};

/// The variable that makes this binary a child, and names its case.
const CASE: &str = "CH03_CRASH_CASE";

/// `softmax_naive` that calls itself without end (with work after the call, so it stays a
/// recursion).
fn overflows(s: &DVector<f32>) -> DVector<f32> {
    let mut v = if std::hint::black_box(true) {
        overflows(s)
    } else {
        s.clone()
    };
    v[0] += 1.0;
    v
}

fn aborts(_: &DMatrix<f32>) -> DMatrix<f32> {
    std::process::abort()
}

fn exits(_: &DVector<f32>, _: &DMatrix<f32>) -> DVector<f32> {
    std::process::exit(0)
}

/// `split_heads` that allocates 4 TiB: a size computed wrongly.
fn allocates(m: &DMatrix<f32>, _: usize) -> Vec<DMatrix<f32>> {
    let n = std::hint::black_box(1_usize << 40);
    let huge = vec![0.5_f32; n];
    vec![m.clone() * huge[n - 1]]
}

/// `dropout` whose guard panics while a first panic unwinds (a `todo!()` in a `Drop`).
fn panics_twice(x: &DMatrix<f32>, _: f64, _: bool, _: &mut TorchRng) -> DMatrix<f32> {
    struct Guard;
    impl Drop for Guard {
        fn drop(&mut self) {
            if std::thread::panicking() {
                todo!("clean up")
            }
        }
    }
    let _guard = Guard;
    if x.nrows() < usize::MAX {
        panic!("first panic");
    }
    x.clone()
}

fn loops(_: &[DMatrix<f32>], _: &[[ch03_attention::Linear; 3]]) -> Vec<DMatrix<f32>> {
    loop {
        std::hint::black_box(0);
    }
}

/// A case: its name, the implementation, the exercise that crashes, and the words its verdict
/// must start with.
struct Case {
    name: &'static str,
    implementation: Implementation,
    exercise: &'static str,
    starts: &'static str,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "stack_overflow",
            implementation: Implementation {
                softmax_naive: overflows,
                ..REFERENCE
            },
            exercise: "softmax_naive",
            starts: "stack overflow: the process ran out of stack, which usually means a function that calls itself without end",
        },
        Case {
            name: "abort",
            implementation: Implementation {
                attn_scores: aborts,
                ..REFERENCE
            },
            exercise: "attn_scores",
            starts: "the process aborted (std::process::abort",
        },
        Case {
            name: "exit",
            implementation: Implementation {
                context_vec: exits,
                ..REFERENCE
            },
            exercise: "context_vec",
            starts: "your code ended the process with exit code 0 before the check finished",
        },
        Case {
            name: "allocation",
            implementation: Implementation {
                split_heads: allocates,
                ..REFERENCE
            },
            exercise: "split_heads",
            starts: "out of memory while allocating 4398046511104 bytes",
        },
        Case {
            name: "panic_during_panic",
            implementation: Implementation {
                dropout: panics_twice,
                ..REFERENCE
            },
            exercise: "dropout",
            starts: "a panic during a panic: code that panicked while the stack was unwinding",
        },
        Case {
            name: "endless_loop",
            implementation: Implementation {
                multi_head_wrapper: loops,
                ..REFERENCE
            },
            exercise: "multi_head_wrapper",
            starts: "your code did not return within 2 s",
        },
    ]
}

/// Every verdict of `case`, each from a child process of this binary.
fn judged(case: &Case, lang: Lang) -> Vec<Verdict> {
    let ids: Vec<&'static str> = EXERCISES.iter().map(|e| e.id).collect();
    Runner::new(std::env::current_exe().expect("this test binary"))
        .env(CASE, case.name)
        .lang(lang)
        .limit(Duration::from_secs(2))
        .verdicts(&ids)
}

/// The checks of one case; `Err` says what did not hold.
fn check(case: &Case) -> Result<(), String> {
    let verdicts = judged(case, Lang::En);
    if verdicts.len() != EXERCISES.len() {
        return Err(format!("{} verdicts", verdicts.len()));
    }
    for v in &verdicts {
        if v.exercise == case.exercise {
            if v.status != Status::Failing || !v.message.starts_with(case.starts) {
                return Err(format!("{}: {:?} {}", v.exercise, v.status, v.message));
            }
            let functions = format!(
                "practice/src/{}",
                EXERCISES.iter().find(|e| e.id == v.exercise).unwrap().file
            );
            if !v.message.contains(&functions)
                || !v
                    .message
                    .contains("every other exercise was judged on its own")
            {
                return Err(format!("the message names no place: {}", v.message));
            }
        } else if v.status != Status::Done {
            return Err(format!(
                "{} should be done: {:?} {}",
                v.exercise, v.status, v.message
            ));
        }
    }
    Ok(())
}

/// The Korean message of the stack-overflow case.
fn check_korean() -> Result<(), String> {
    let korean = judged(&cases()[0], Lang::Ko);
    let overflow = korean
        .iter()
        .find(|v| v.exercise == "softmax_naive")
        .ok_or("no verdict for softmax_naive")?;
    let ko = overflow.message.starts_with("스택 오버플로: ")
        && overflow.message.contains("다른 문제는 따로 채점했습니다");
    if ko {
        Ok(())
    } else {
        Err(overflow.message.clone())
    }
}

/// A test: its name (as libtest would name it), whether it is ignored unless asked for (as
/// `#[ignore]` makes it), and its check.
type Test = (String, bool, Box<dyn Fn() -> Result<(), String>>);

/// Every test of this binary. The endless loop waits out the judge's 2 s limit: like the other
/// slow tests, a plain `cargo test` skips it and `cargo test -- --include-ignored` (CI) runs it.
fn tests() -> Vec<Test> {
    let mut all: Vec<Test> = cases()
        .into_iter()
        .map(|case| {
            let name = format!("isolation::{}", case.name);
            let slow = case.name == "endless_loop";
            let check: Box<dyn Fn() -> Result<(), String>> = Box::new(move || check(&case));
            (name, slow, check)
        })
        .collect();
    all.push((
        "isolation::stack_overflow_in_korean".to_string(),
        false,
        Box::new(check_korean),
    ));
    all
}

/// Runs as libtest would, for `cargo test` and cargo-nextest alike: `--list` lists the tests
/// (`name: test`), `--exact NAME` runs one, a free argument filters by substring, `--ignored`
/// runs only the ignored tests and `--include-ignored` all of them; other flags are accepted and
/// ignored.
fn main() {
    if let Ok(name) = std::env::var(CASE) {
        let case = cases()
            .into_iter()
            .find(|c| c.name == name)
            .expect("a known case");
        std::process::exit(child_main(
            case.implementation,
            &[],
            std::env::args().skip(1),
        ));
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let exact = args.iter().any(|a| a == "--exact");
    // The first free argument, past the values of libtest's flags that take one.
    let mut filter = None;
    let mut rest = args.iter();
    while let Some(a) = rest.next() {
        if [
            "--format",
            "--test-threads",
            "--color",
            "--logfile",
            "--skip",
            "-Z",
        ]
        .contains(&a.as_str())
        {
            rest.next();
        } else if !a.starts_with('-') && filter.is_none() {
            filter = Some(a);
        }
    }
    let only_ignored = args.iter().any(|a| a == "--ignored");
    let include_ignored = args.iter().any(|a| a == "--include-ignored");
    let selected: Vec<_> = tests()
        .into_iter()
        .filter(|(name, _, _)| match filter {
            Some(f) if exact => name == f,
            Some(f) => name.contains(f.as_str()),
            None => true,
        })
        .filter(|(_, ignored, _)| *ignored || !only_ignored)
        .collect();
    if args.iter().any(|a| a == "--list") {
        for (name, _, _) in &selected {
            println!("{name}: test");
        }
        return;
    }
    let start = Instant::now();
    let mut failed = 0;
    let mut skipped = 0;
    for (name, ignored, check) in &selected {
        let runs = if only_ignored {
            *ignored
        } else {
            include_ignored || !*ignored
        };
        if !runs {
            if *ignored {
                println!(
                    "test {name} ... ignored, slow: CI runs it (`cargo test --lib --test '*' -- --include-ignored`)"
                );
            }
            skipped += 1;
            continue;
        }
        let outcome = check();
        println!(
            "test {name} ... {}",
            if outcome.is_ok() { "ok" } else { "FAILED" }
        );
        if let Err(e) = outcome {
            println!("  {e}");
            failed += 1;
        }
    }
    let passed = selected.len() - failed - skipped;
    println!(
        "\ntest result: {}. {passed} passed; {failed} failed; {skipped} ignored; finished in {:.2}s",
        if failed == 0 { "ok" } else { "FAILED" },
        start.elapsed().as_secs_f64()
    );
    std::process::exit(i32::from(failed > 0));
}
