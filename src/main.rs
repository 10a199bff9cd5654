//! `cargo run`: the chapter's printed results, computed, beside the book's.

use std::process::ExitCode;

use ch03_attention::walkthrough;

const HELP: &str = "\
ch03-attention walkthrough: chapter 3 of Build a Large Language Model (From Scratch), computed.

Every result the chapter prints is computed by this crate, printed the way PyTorch prints it,
and shown beside the book's text with a ✓ (identical) or ✗ (different).

USAGE:
    cargo run                 every implemented section
    cargo run -- 3.3          one section (3.3, 3.4, 3.5, 3.6, ...)
    cargo run -- 3.3.2        one subsection
    cargo run -- --list       the section numbers and titles
    cargo run -- --help       this text

Exit status: 0 when every shown result matches, 1 when any differs, 2 on bad arguments.
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let filter = match args.as_slice() {
        [] => None,
        [a] if a == "--help" || a == "-h" => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        [a] if a == "--list" => return list(),
        [a] if !a.starts_with('-') => Some(a.as_str()),
        _ => {
            eprintln!("unexpected arguments {args:?}; see `cargo run -- --help`");
            return ExitCode::from(2);
        }
    };
    let sections = match walkthrough::select(filter) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    if sections.is_empty() {
        eprintln!(
            "no section matches {:?}; `cargo run -- --list` shows them",
            filter.unwrap_or("")
        );
        return ExitCode::from(2);
    }
    print!("{}", walkthrough::render(&sections));
    if sections.iter().flat_map(|s| &s.items).all(|i| i.matches()) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn list() -> ExitCode {
    match walkthrough::sections() {
        Ok(sections) => {
            for s in sections {
                println!("{:<7} {} ({} results)", s.id, s.title, s.items.len());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
