//! Building the judge, your code inside, with cargo: whether it compiled, and what the compiler
//! said about your files.

use std::path::PathBuf;
use std::process::Command;

/// The judge program's name.
const JUDGE: &str = "ch03-practice-judge";

/// The outcome of `cargo build` for the judge.
#[derive(Debug, Clone)]
pub struct Build {
    /// It compiled.
    pub ok: bool,
    /// What the compiler printed: errors, or warnings about your code.
    pub messages: String,
    /// Your files with an error, e.g. `practice/src/s3_5.rs` (in the order the errors come).
    pub failing: Vec<String>,
}

impl Build {
    /// Runs `cargo build` for the judge, in this program's profile (debug or `--release`), with
    /// the compiler's colours when `color`.
    pub fn run(color: bool) -> Build {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
        let mut command = Command::new(cargo);
        command
            .args([
                "build",
                "--quiet",
                "--bin",
                JUDGE,
                "--manifest-path",
                manifest,
            ])
            .args(["--color", if color { "always" } else { "never" }]);
        if !cfg!(debug_assertions) {
            command.arg("--release");
        }
        match command.output() {
            Ok(out) => {
                let messages = String::from_utf8_lossy(&out.stderr).into_owned();
                let failing = failing_files(&strip_colors(&messages));
                Build {
                    ok: out.status.success(),
                    messages,
                    failing,
                }
            }
            Err(e) => Build {
                ok: false,
                messages: format!("cannot run cargo: {e}\n"),
                failing: Vec::new(),
            },
        }
    }

    /// The judge program built next to this one.
    pub fn judge(&self) -> PathBuf {
        let me = std::env::current_exe().unwrap_or_default();
        me.with_file_name(format!("{JUDGE}{}", std::env::consts::EXE_SUFFIX))
    }
}

/// `text` without ANSI colour codes.
pub fn strip_colors(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The files named by the `--> file:line:col` line of each error.
fn failing_files(messages: &str) -> Vec<String> {
    let mut files = Vec::new();
    let mut in_error = false;
    for line in messages.lines() {
        if line.starts_with("error") {
            in_error = true;
        } else if line.starts_with("warning") {
            in_error = false;
        } else if in_error && let Some(place) = line.trim_start().strip_prefix("--> ") {
            let file = place.split(':').next().unwrap_or(place).to_string();
            if !files.contains(&file) {
                files.push(file);
            }
            in_error = false;
        }
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_files_with_errors_are_found() {
        let messages = "warning: unused variable: `d_k`\n  --> practice/src/s3_5.rs:30:53\n\n\
                        error[E0308]: mismatched types\n  --> practice/src/s3_3_1.rs:20:5\n   |\n\
                        error: aborting due to 1 previous error\n";
        assert_eq!(failing_files(messages), ["practice/src/s3_3_1.rs"]);
        assert_eq!(
            strip_colors("\u{1b}[1m\u{1b}[91merror\u{1b}[0m: x"),
            "error: x"
        );
    }
}
