//! `cargo xtask` as a user runs it: the list of tasks and the exit codes.

use std::process::{Command, Output};

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .output()
        .expect("the xtask binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn no_task_or_an_unknown_one_lists_the_tasks_and_exits_2() {
    for args in [
        &[][..],
        &["nope"],
        &["figures", "extra"],
        &["check-docs", "a", "b"],
    ] {
        let out = xtask(args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("usage: cargo xtask <task>"), "{args:?}: {err}");
        assert!(
            err.contains("check-docs [doc root]") && err.contains("figures"),
            "{err}"
        );
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    assert!(text(&xtask(&["nope"]).stderr).starts_with("xtask: no task `nope`\n"));
}

#[test]
fn help_lists_the_tasks_on_stdout_and_succeeds() {
    let out = xtask(&["help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("check-docs [doc root]"));
}

#[test]
fn check_docs_without_generated_docs_fails_and_says_what_to_run() {
    let out = xtask(&["check-docs", "/nonexistent/doc/root"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "check_docs: no /nonexistent/doc/root/ch03_attention/index.html: run `cargo doc --no-deps` first\n"
    );
}
