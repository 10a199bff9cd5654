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

#[test]
fn check_docs_reports_each_problem_as_file_line_what_and_counts_them() {
    // A doc root with one front page (raw LaTeX on line 2, and a signature's link to nalgebra at
    // another version than Cargo.lock's), a stylesheet outside the crate's folder, and none of
    // the reading order's other pages.
    let root = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("check_docs_bad_root");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("ch03_attention")).unwrap();
    let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.lock"));
    let lock = lock.unwrap();
    let nalgebra = lock
        .split("name = \"nalgebra\"\nversion = \"")
        .nth(1)
        .unwrap();
    let locked = nalgebra.split('"').next().unwrap();
    std::fs::write(
        root.join("ch03_attention/index.html"),
        format!(
            "<pre><a href=\"https://docs.rs/nalgebra/0.25.0/nalgebra/\">DMatrix</a></pre>\n\
             <div class=\"docblock\"><p>raw $x_{{i}}$ on \
             <a href=\"https://docs.rs/nalgebra/{locked}/nalgebra/\">nalgebra</a>, \
             <a href=\"https://docs.rs/nalgebra/0.25.0/nalgebra/\">old</a></p></div>"
        ),
    )
    .unwrap();
    std::fs::write(root.join("style.html"), "$x_{i}$").unwrap();
    let out = xtask(&["check-docs", root.to_str().unwrap()]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[0],
        "ch03_attention/index.html:2: unconverted math (raw LaTeX in the text): `$x_{i}$ on nalgebra, old`"
    );
    // The front page's missing navigation and each missing page of the reading order.
    let order = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/reading_order.txt"
    ))
    .unwrap();
    let stops = order
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim().starts_with('#'))
        .count();
    let problems = 3 + stops; // the math, the old link in the text, the navigation
    assert_eq!(lines.len(), problems + 2, "{stdout}");
    assert!(lines[1].starts_with("ch03_attention/index.html:2: a link to nalgebra 0.25.0 where"));
    assert!(lines[2].starts_with("ch03_attention/index.html:2: 0 navigation line(s)"));
    assert!(lines[problems].starts_with(
        "check_docs: note: 1 links rustdoc wrote in signatures and re-exports go to \
         docs.rs/nalgebra at nalgebra's own html_root_url, not at 0."
    ));
    assert_eq!(
        lines[problems + 1],
        format!("check_docs: {problems} problem(s)")
    );
}
