//! `cargo run -p ch03-practice`: where you stand in chapter 3, and what to write next.
//!
//! ```text
//! cargo run -p ch03-practice                 # every exercise: ✓ done, ✗ failing, … waiting, · not started
//! cargo run -p ch03-practice -- --lang ko    # the same in Korean
//! cargo run -p ch03-practice -- --watch      # judge again every time a file of practice/src is saved
//! cargo run -p ch03-practice -- --json       # one JSON object per exercise per line
//! cargo run -p ch03-practice -- --reset ID   # put exercise ID's function(s) back to the stub
//! ```
//!
//! This program never contains your code, so it runs while your code does not compile: it builds
//! the judge (`ch03-practice-judge`, your seven files) with cargo, shows the compiler's message when
//! that fails, and otherwise runs the judge once per exercise, each in a process of its own
//! ([`ch03_attention::spec::isolate`]). Listing always exits 0 (an exercise in progress is not an
//! error); bad arguments exit 2.

mod compile;
mod view;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use ch03_attention::spec::isolate::Runner;
use ch03_attention::spec::{EXERCISES, Lang, source};

use compile::Build;

const USAGE: &str = "\
usage: cargo run -p ch03-practice [-- [--lang en|ko] [--json | --watch | --reset ID | --help]]

  (no argument)  list every exercise (✓ done, ✗ failing, … waiting, · not started) and show the next one
  --lang ko      everything in Korean (한국어)
  --json         one JSON object per exercise per line: {\"id\", \"status\", \"message\"}
  --watch        list again every time a file of practice/src is saved (Ctrl-C to stop)
  --reset ID     put exercise ID's function(s) back to the stub (works while your code does not compile)
  --help         this text";

/// What the command line asks for.
#[derive(Debug, PartialEq)]
enum Mode {
    List { json: bool },
    Watch,
    Reset(String),
    Help,
}

/// Reads the arguments: a mode, and the language.
fn parse(args: &[String]) -> Result<(Mode, Lang), String> {
    let mut lang = Lang::En;
    let mut mode = None;
    let mut rest = args.iter();
    let set = |m: Mode, mode: &mut Option<Mode>| match mode {
        None => {
            *mode = Some(m);
            Ok(())
        }
        Some(_) => Err("only one of --json, --watch, --reset, --help".to_string()),
    };
    while let Some(a) = rest.next() {
        match a.as_str() {
            "--lang" => {
                let code = rest.next().ok_or("--lang needs en or ko")?;
                lang = Lang::parse(code).ok_or(format!("unknown language `{code}` (en or ko)"))?;
            }
            "--json" => set(Mode::List { json: true }, &mut mode)?,
            "--watch" => set(Mode::Watch, &mut mode)?,
            "--reset" => {
                let id = rest.next().ok_or("--reset needs an exercise id")?;
                set(Mode::Reset(id.clone()), &mut mode)?;
            }
            "--help" | "-h" => set(Mode::Help, &mut mode)?,
            other => return Err(format!("unexpected argument `{other}`")),
        }
    }
    Ok((mode.unwrap_or(Mode::List { json: false }), lang))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mode, lang) = match parse(&args) {
        Ok(parsed) => parsed,
        Err(e) => {
            eprintln!("ch03-practice: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match mode {
        Mode::Help => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Mode::Reset(id) => reset(&id, lang),
        Mode::List { json } => {
            list(json, lang);
            ExitCode::SUCCESS
        }
        Mode::Watch => watch(lang),
    }
}

/// The folder of the learner's files: this package's `src/` (or `$CH03_PRACTICE_SRC`, to try
/// `--reset` on a copy).
fn src_dir() -> PathBuf {
    std::env::var_os("CH03_PRACTICE_SRC").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src"),
        PathBuf::from,
    )
}

/// `--reset ID`: each function of the exercise back to its stub, the rest of the file as it is.
fn reset(id: &str, lang: Lang) -> ExitCode {
    let Some(e) = EXERCISES.iter().find(|e| e.id == id) else {
        eprintln!(
            "{}",
            view::say(lang, view::UNKNOWN_EXERCISE).replace("{id}", id)
        );
        return ExitCode::from(2);
    };
    let path = src_dir().join(e.file);
    let mut text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(err) => {
            eprintln!("ch03-practice: cannot read {}: {err}", path.display());
            return ExitCode::FAILURE;
        }
    };
    for f in e.functions {
        let Some(after) = source::reset(&text, f) else {
            eprintln!(
                "ch03-practice: {} has no `pub fn {f}(` whose signature ends a line with `{{` and \
                 whose body ends with a line `}}`",
                path.display()
            );
            return ExitCode::FAILURE;
        };
        text = after;
    }
    if let Err(err) = std::fs::write(&path, &text) {
        eprintln!("ch03-practice: cannot write {}: {err}", path.display());
        return ExitCode::FAILURE;
    }
    for f in e.functions {
        let line = source::function(&text, f).map_or(0, |f| f.line);
        let place = format!("practice/src/{}:{line}", e.file);
        println!(
            "{}",
            view::say(lang, view::RESET_DONE)
                .replace("{f}", f)
                .replace("{place}", &place)
        );
    }
    ExitCode::SUCCESS
}

/// Builds the judge and judges every exercise (or shows why it does not build).
fn list(json: bool, lang: Lang) {
    let build = Build::run(!json && view::is_terminal());
    let width = view::width();
    if !build.ok {
        if json {
            view::json_not_compiled(&build, lang);
        } else {
            view::not_compiled(&build, lang, width);
        }
        return;
    }
    let ids: Vec<&'static str> = EXERCISES.iter().map(|e| e.id).collect();
    let runner = Runner::new(build.judge()).lang(lang).width(if json {
        80
    } else {
        width.saturating_sub(2)
    });
    let verdicts = runner.verdicts(&ids);
    if json {
        view::json(&verdicts);
    } else {
        view::progress(&verdicts, &build, lang, width);
    }
}

/// `--watch`: lists now, then again after every change to `practice/src`, until Ctrl-C.
fn watch(lang: Lang) -> ExitCode {
    use notify::{RecursiveMode, Watcher};
    let (send, receive) = std::sync::mpsc::channel();
    let mut watcher = match notify::recommended_watcher(send) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("ch03-practice: cannot watch files: {e}");
            return ExitCode::FAILURE;
        }
    };
    let dir = src_dir();
    if let Err(e) = watcher.watch(&dir, RecursiveMode::NonRecursive) {
        eprintln!("ch03-practice: cannot watch {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    loop {
        view::clear_screen();
        list(false, lang);
        println!("\n{}", view::say(lang, view::WATCHING));
        // Wait for a change to a `.rs` file, then for the editor to finish writing.
        loop {
            match receive.recv() {
                Ok(Ok(event)) if touches_rust_file(&event) => break,
                Ok(_) => {}
                Err(_) => return ExitCode::SUCCESS,
            }
        }
        std::thread::sleep(Duration::from_millis(150));
        while receive.try_recv().is_ok() {}
    }
}

/// Whether a file-system event changed a `.rs` file.
fn touches_rust_file(event: &notify::Event) -> bool {
    !event.kind.is_access()
        && event
            .paths
            .iter()
            .any(|p| p.extension().is_some_and(|x| x == "rs"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| (*s).to_string()).collect()
    }

    #[test]
    fn arguments_are_read() {
        assert_eq!(
            parse(&args(&[])),
            Ok((Mode::List { json: false }, Lang::En))
        );
        assert_eq!(
            parse(&args(&["--lang", "ko", "--json"])),
            Ok((Mode::List { json: true }, Lang::Ko))
        );
        assert_eq!(
            parse(&args(&["--watch", "--lang", "ko"])),
            Ok((Mode::Watch, Lang::Ko))
        );
        assert_eq!(
            parse(&args(&["--reset", "softmax"])),
            Ok((Mode::Reset("softmax".into()), Lang::En))
        );
        assert!(parse(&args(&["--json", "--watch"])).is_err());
        assert!(
            parse(&args(&["--lang", "fr"]))
                .unwrap_err()
                .contains("`fr`")
        );
        assert!(parse(&args(&["--reset"])).is_err());
        assert!(
            parse(&args(&["softmax"]))
                .unwrap_err()
                .contains("`softmax`")
        );
    }
}
