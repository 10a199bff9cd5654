//! The project's tools: `cargo xtask <task>` (an alias in `.cargo/config.toml` for
//! `cargo run --package xtask --quiet --`).
//!
//! | task | what it does |
//! | --- | --- |
//! | `check-docs [doc root]` | checks the study guide as `cargo doc --no-deps` generated it ([`check_docs`]) |
//! | `figures` | redraws `docs/figures/` from the crate's computed results ([`figures`]) |
//!
//! With no task, or one it does not know, it prints this list and exits with status 2.

mod check_docs;
mod figures;

use std::ffi::OsString;
use std::path::Path;
use std::process::ExitCode;

/// The tasks, with their arguments and what they do, as the list prints them.
const TASKS: [(&str, &str); 2] = [
    (
        "check-docs [doc root]",
        "check the study guide under target/doc (run `cargo doc --no-deps` first)",
    ),
    (
        "figures",
        "redraw docs/figures/ from the crate's computed results",
    ),
];

/// The workspace's root folder (this package's parent).
fn workspace_root() -> &'static Path {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest)
}

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let task = args.next();
    let rest: Vec<OsString> = args.collect();
    match (task.as_ref().and_then(|t| t.to_str()), rest.len()) {
        (Some("check-docs"), 0 | 1) => check_docs::run(rest.into_iter().next()),
        (Some("figures"), 0) => figures::run(),
        (Some("help" | "--help" | "-h"), 0) => {
            print!("{}", usage());
            ExitCode::SUCCESS
        }
        (Some(known @ ("check-docs" | "figures")), _) => {
            eprint!("xtask: too many arguments for `{known}`\n{}", usage());
            ExitCode::from(2)
        }
        (None, _) => {
            eprint!("{}", usage());
            ExitCode::from(2)
        }
        (Some(_), _) => {
            let task = task.unwrap_or_default();
            eprint!("xtask: no task `{}`\n{}", task.to_string_lossy(), usage());
            ExitCode::from(2)
        }
    }
}

/// The list of tasks.
fn usage() -> String {
    let mut text = String::from("usage: cargo xtask <task>\n\ntasks:\n");
    let width = TASKS.iter().map(|(t, _)| t.len()).max().unwrap_or(0);
    for (task, what) in TASKS {
        text.push_str(&format!("  {task:width$}  {what}\n"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_usage_lists_every_task_and_the_root_holds_the_workspace_manifest() {
        let text = usage();
        for (task, what) in TASKS {
            assert!(
                text.contains(&format!("  {task}")) && text.contains(what),
                "{text}"
            );
        }
        let manifest = std::fs::read_to_string(workspace_root().join("Cargo.toml")).unwrap();
        assert!(manifest.contains("[workspace]") && manifest.contains("\"xtask\""));
    }
}
