//! `cargo run -p ch03-practice`: where you stand in chapter 3, and what to write next.
//!
//! ```text
//! cargo run -p ch03-practice                 # every exercise, ✓ done / ✗ failing / · not started
//! cargo run -p ch03-practice -- --json       # one JSON object per exercise per line
//! cargo run -p ch03-practice -- --reset ID   # put exercise ID's function(s) back to todo!()
//! ```
//!
//! Listing always exits 0 (an exercise in progress is not an error); bad arguments exit 2.

use std::path::PathBuf;
use std::process::ExitCode;

use ch03_attention::spec::Status;
use ch03_practice::progress::{self, Entry};

const USAGE: &str = "\
usage: cargo run -p ch03-practice [-- --json | --reset ID | --help]

  (no argument)  list every exercise (✓ done, ✗ failing, · not started) and show the next one
  --json         one JSON object per exercise per line: {\"id\", \"status\", \"message\"}
  --reset ID     put exercise ID's function(s) back to a todo!() stub
  --help         this text";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        [] => list(false),
        ["--json"] => list(true),
        ["--reset", id] => reset(id),
        ["--help" | "-h"] => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("ch03-practice: unexpected arguments {args:?}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

/// The source folder `--reset` rewrites: this package's `src/` (or `$CH03_PRACTICE_SRC`, to try
/// it on a copy).
fn src_dir() -> PathBuf {
    std::env::var_os("CH03_PRACTICE_SRC").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src"),
        PathBuf::from,
    )
}

fn reset(id: &str) -> ExitCode {
    if !progress::PRACTICE.iter().any(|e| e.id == id) {
        eprintln!("ch03-practice: no exercise `{id}`; `cargo run -p ch03-practice` lists them");
        return ExitCode::from(2);
    }
    match progress::reset(&src_dir(), id) {
        Ok(functions) => {
            for f in functions {
                println!(
                    "reset `{f}` to its todo!() stub ({})",
                    progress::location_of(id, f)
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("ch03-practice: {e}");
            ExitCode::FAILURE
        }
    }
}

fn list(json: bool) -> ExitCode {
    let (entries, from_spec) = progress::exercises();
    if !from_spec {
        eprintln!(
            "note: ch03-attention's spec lists no exercises yet (its checks are not written on \
             this branch); listing the practice package's own list"
        );
    }
    // The checks run the learner's code on threads that may panic (every `todo!()` does): the
    // verdicts report those panics, so the default "thread panicked" lines would only be noise.
    std::panic::set_hook(Box::new(|_| {}));
    let verdicts: Vec<_> = entries.iter().map(|e| progress::verdict(e.id)).collect();
    let _ = std::panic::take_hook();

    if json {
        for v in &verdicts {
            println!("{}", progress::json_line(v));
        }
        return ExitCode::SUCCESS;
    }

    let done = verdicts.iter().filter(|v| v.status == Status::Done).count();
    println!(
        "Chapter 3 practice: {done} of {} exercises done\n",
        verdicts.len()
    );
    let id_width = entries.iter().map(|e| e.id.len()).max().unwrap_or(0);
    let section_width = entries
        .iter()
        .map(|e| e.section.chars().count())
        .max()
        .unwrap_or(0);
    for (e, v) in entries.iter().zip(&verdicts) {
        let mark = match v.status {
            Status::Done => "✓",
            Status::Failing => "✗",
            Status::NotStarted => "·",
        };
        let section = format!("{:<section_width$}", e.section);
        println!("  {mark} {section}  {:<id_width$}  {}", e.id, e.title);
        if v.status == Status::Done {
            let indent = section_width + id_width + 8;
            println!("{:indent$}study guide: ch03_attention::{}", "", e.guide);
        }
    }
    println!();
    match entries
        .iter()
        .zip(&verdicts)
        .find(|(_, v)| v.status != Status::Done)
    {
        None => {
            println!("Every exercise passes: the chapter is yours.");
            println!(
                "Compare with the reference solutions in the study guide: `cargo doc --open`, \
                 the module named after each exercise above."
            );
        }
        Some((e, v)) => next(e, v),
    }
    ExitCode::SUCCESS
}

/// The next exercise: where to write it, and its first failing check.
fn next(e: &Entry, v: &ch03_attention::spec::Verdict) {
    println!("Next: {} ({}): {}", e.id, e.section, e.title);
    if e.functions.is_empty() {
        println!("  write it in practice/src/ (this package does not know its file yet)");
    }
    for f in e.functions {
        println!("  write `{f}` in {}", progress::location_of(e.id, f));
    }
    println!();
    for line in v.message.lines() {
        for piece in wrap(line, 84) {
            println!("  {piece}");
        }
    }
    println!();
    println!("Then run `cargo run -p ch03-practice` again");
    println!("(or `cargo test -p ch03-practice {}`).", e.id);
    println!("Done exercises show where their reference is explained: `cargo doc --open`.");
}

/// `line` cut at spaces into pieces of at most `width` characters (a word longer than that
/// stays whole), so a long message fits an 88-column terminal with its indent. A line that fits
/// is kept as it is (the side-by-side tables keep their alignment); a cut line keeps its indent.
fn wrap(line: &str, width: usize) -> Vec<String> {
    let body = line.trim_start();
    let indent = &line[..line.len() - body.len()];
    let room = width.saturating_sub(indent.chars().count()).max(1);
    let mut pieces = Vec::new();
    let mut rest = body;
    while rest.chars().count() > room {
        // The last space that leaves at most `room` characters on this piece, else the first.
        let cut = rest
            .char_indices()
            .take(room + 1)
            .filter(|(_, c)| *c == ' ')
            .last()
            .or_else(|| rest.char_indices().find(|(_, c)| *c == ' '))
            .map(|(i, _)| i);
        let Some(cut) = cut else { break };
        pieces.push(format!("{indent}{}", rest[..cut].trim_end()));
        rest = rest[cut..].trim_start();
    }
    pieces.push(format!("{indent}{rest}"));
    pieces
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wrap_cuts_at_spaces_within_the_width() {
        assert_eq!(wrap("a bb ccc dddd", 6), ["a bb", "ccc", "dddd"]);
        assert_eq!(wrap("  two  spaces", 84), ["  two  spaces"]); // fits: kept as it is
        assert_eq!(wrap("  a bb ccc", 6), ["  a bb", "  ccc"]); // cut: the indent stays
        assert_eq!(wrap("abcdefghij x", 4), ["abcdefghij", "x"]);
        assert_eq!(wrap("a,   b, c d", 9), ["a,   b, c", "d"]); // spaces inside a piece stay
    }
}
