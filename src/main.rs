//! `cargo run`: the chapter's printed results, computed, beside the book's.

use std::process::ExitCode;

use ch03_attention::walkthrough::{self, Lang};

const HELP: &str = "\
ch03-attention walkthrough: chapter 3 of Build a Large Language Model (From Scratch), computed.

Every result the chapter prints is computed by this crate, printed the way PyTorch prints it,
and shown beside the book's text with a ✓ (identical) or ✗ (different).

USAGE:
    cargo run                    every section
    cargo run -- SECTION         one section or a group of them (see SECTIONS)
    cargo run -- --lang ko       labels and section titles in Korean (한국어), with the labels
                                 the Korean notebook prints (어텐션 가중치:, 합:, ...)
    cargo run -- --list          the sections with their titles and number of results
    cargo run -- --help          this text
    cargo run -- diagnose [FILE] [--json] [--section S] [--lang ko]
                                 reads what a notebook cell printed (from FILE, or pasted on
                                 standard input: tensors, shapes, labels, prompts, .tolist()
                                 and NumPy output) and says, for each value, which of the
                                 chapter's results it is and why it differs from the book: a
                                 re-run cell, a missing seed, an older PyTorch's dropout mask,
                                 qkv_bias, ... (see the `diagnose` page of `cargo doc --open`);
                                 --section 3.4.2 looks only among that section's results;
                                 --lang ko answers in Korean

SECTIONS:
    3.3  3.3.1  3.3.2           attention without trainable weights
    3.4  3.4.1  3.4.2           self-attention with trainable weights
    3.5  3.5.1  3.5.2  3.5.3    causal attention and dropout
    3.6  3.6.1  3.6.2           multi-head attention
    exercises                   exercises 3.1, 3.2 and 3.3
    kv-cache                    what the mask buys at inference: decoding with a KV cache
    why-mask                    why the causal mask matters (trains two small models, ~1 s)
    gradients                   the backward passes against PyTorch's autograd, and the
                                causal mask's exact zeros
    A number selects everything below it: 3.5 selects 3.5.1, 3.5.2 and 3.5.3.

READING THE OUTPUT:
    [NN]      the cell of the chapter's notebook (ch03.ipynb) that prints the result, as numbered
              in the notebook's stored outputs; `3.2 [13]` is exercise 3.2, cell 13 of
              exercise-solutions.ipynb
    book says what the book prints; `PyTorch says` marks values PyTorch computes but the book
              does not print (seeded weights, as bit patterns); `claim` a measured statement

Exit status: 0 when every shown result matches, 1 when any differs, 2 on bad arguments.
`diagnose`: 0 when every value is recognised, 1 when one is ambiguous or not recognised, 2 when
the input holds no value or one that cannot be read.
";

/// Takes `--lang ko|en` out of `args` (English when it is absent); on a bad value, says so and
/// gives the exit code for bad arguments.
fn take_lang(args: &mut Vec<String>) -> Result<Lang, ExitCode> {
    let Some(i) = args.iter().position(|a| a == "--lang") else {
        return Ok(Lang::English);
    };
    let lang = match args.get(i + 1).map(String::as_str) {
        Some("ko") => Lang::Korean,
        Some("en") => Lang::English,
        other => {
            eprintln!("--lang takes `ko` or `en`, got {other:?}; see `cargo run -- --help`");
            return Err(ExitCode::from(2));
        }
    };
    args.drain(i..i + 2);
    Ok(lang)
}

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("diagnose") {
        return diagnose(&args[1..]);
    }
    let lang = match take_lang(&mut args) {
        Ok(lang) => lang,
        Err(code) => return code,
    };
    let filter = match args.as_slice() {
        [] => None,
        [a] if a == "--help" || a == "-h" => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        [a] if a == "--list" => return list(lang),
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
    print!("{}", walkthrough::render_in(&sections, lang));
    if sections.iter().flat_map(|s| &s.items).all(|i| i.matches()) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn list(lang: Lang) -> ExitCode {
    match walkthrough::sections() {
        Ok(sections) => {
            for s in sections {
                let title = match lang {
                    Lang::Korean => walkthrough::ko::title(s.id).unwrap_or(s.title),
                    Lang::English => s.title,
                };
                println!("{:<9} {} ({} results)", s.id, title, s.items.len());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `cargo run -- diagnose [FILE] [--json] [--section S] [--lang ko]`.
fn diagnose(args: &[String]) -> ExitCode {
    use ch03_attention::diagnose::{self, BadInput};

    let mut args = args.to_vec();
    let json = args.iter().any(|a| a == "--json");
    args.retain(|a| a != "--json");
    let mut section = None;
    if let Some(i) = args.iter().position(|a| a == "--section") {
        let Some(s) = args.get(i + 1).cloned() else {
            eprintln!("--section takes a section, e.g. `--section 3.4.2`");
            return ExitCode::from(2);
        };
        section = Some(s);
        args.drain(i..i + 2);
    }
    let lang = match take_lang(&mut args) {
        Ok(lang) => lang,
        Err(code) => return code,
    };
    let paths: Vec<&String> = args.iter().collect();
    let text = match paths.as_slice() {
        [] => diagnose::read_input(std::io::stdin().lock()),
        [p] if p.as_str() == "-" => diagnose::read_input(std::io::stdin().lock()),
        [p] if !p.starts_with('-') => match std::fs::File::open(p) {
            Ok(file) => diagnose::read_input(file),
            Err(e) => Err(BadInput::Unreadable(format!("{p}: {e}"))),
        },
        _ => {
            eprintln!(
                "diagnose takes one FILE (or none, for standard input), --json, --section S \
                 and --lang ko; got {args:?}"
            );
            return ExitCode::from(2);
        }
    };
    match text.and_then(|t| diagnose::report_in(&t, section.as_deref())) {
        Ok(report) => {
            if json {
                println!("{}", report.to_json());
            } else {
                println!("{}", report.render(lang));
            }
            if report.all_recognised() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            if json {
                println!("{}", e.to_json());
            }
            eprintln!("diagnose: {e}");
            ExitCode::from(2)
        }
    }
}
