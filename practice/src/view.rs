//! What the progress command prints, in English or Korean: the list, the next exercise with its
//! verdict, the compiler's message when the code does not compile, and the JSON lines.

use std::io::IsTerminal;

use ch03_attention::json::string as json_string;
use ch03_attention::spec::text::{display_width, wrap};
use ch03_attention::spec::{EXERCISES, Exercise, Lang, Status, Verdict, source};

use crate::compile::{Build, strip_colors};

/// A sentence in both languages.
type Say = (&'static str, &'static str);

/// `pair` in `lang`.
pub fn say(lang: Lang, pair: Say) -> &'static str {
    match lang {
        Lang::En => pair.0,
        Lang::Ko => pair.1,
    }
}

pub const UNKNOWN_EXERCISE: Say = (
    "ch03-practice: no exercise `{id}`; `cargo run -p ch03-practice` lists them",
    "ch03-practice: `{id}`라는 문제가 없습니다. `cargo run -p ch03-practice`가 문제 목록을 보여 줍니다",
);
pub const RESET_DONE: Say = (
    "reset `{f}` to its stub ({place})",
    "`{f}`를 처음 상태로 되돌렸습니다({place})",
);
pub const WATCHING: Say = (
    "Watching practice/src: save a file to judge again (Ctrl-C to stop).",
    "practice/src를 지켜보는 중입니다. 파일을 저장하면 다시 채점합니다(끝내려면 Ctrl-C).",
);
const HEADER: Say = (
    "Chapter 3 practice: {done} of {all} exercises done",
    "3장 연습: {all}문제 중 {done}문제 완료",
);
const STUDY_GUIDE: Say = (
    "study guide: ch03_attention::{guide}",
    "학습 가이드: ch03_attention::{guide}",
);
const NEXT: Say = (
    "Next: {id} ({section}): {title}",
    "다음 문제: {id} ({section}): {title}",
);
const WRITE: Say = ("write `{f}` in {place}", "`{f}`를 {place}에 작성하세요");
const AGAIN: Say = (
    "Then run `cargo run -p ch03-practice` again (or `cargo test -p ch03-practice {id}`),\nor keep `cargo run -p ch03-practice -- --watch` running: it judges again on every save.",
    "그다음 `cargo run -p ch03-practice`를 다시 실행하세요(또는 `cargo test -p ch03-practice {id}`).\n`cargo run -p ch03-practice -- --watch`를 켜 두면 저장할 때마다 다시 채점합니다.",
);
const DOC: Say = (
    "Done exercises show where their reference is explained: `cargo doc --open`.",
    "완료한 문제는 참고 구현을 설명하는 곳을 보여 줍니다: `cargo doc --open`.",
);
const ALL_DONE: Say = (
    "Every exercise passes: the chapter is yours.\nCompare with the reference solutions in the study guide: `cargo doc --open`, the module named after each exercise above.",
    "모든 문제를 통과했습니다. 이제 3장은 여러분의 것입니다.\n학습 가이드(`cargo doc --open`)에서 각 문제 옆에 적힌 모듈의 참고 구현과 비교해 보세요.",
);
const WARNINGS: Say = (
    "The compiler warns about your code:",
    "컴파일러가 여러분의 코드에 경고를 냈습니다:",
);
const NOT_COMPILED: Say = (
    "Your code does not compile: {files}",
    "여러분의 코드가 컴파일되지 않습니다: {files}",
);
const NOT_COMPILED_HELP: Say = (
    "Fix the compiler's errors below and run again (`--reset ID` puts an exercise back to its stub).\nUntil it compiles, no exercise can be judged: ! marks the exercises of the file(s) with errors.",
    "아래 컴파일러 오류를 고친 다음 다시 실행하세요(`--reset 문제아이디`로 문제를 처음 상태로 되돌릴 수 있습니다).\n컴파일될 때까지는 어떤 문제도 채점할 수 없습니다. !는 오류가 있는 파일의 문제입니다.",
);
const DOES_NOT_COMPILE: Say = (
    "{file} does not compile: {error}",
    "{file}이 컴파일되지 않습니다: {error}",
);
const NOT_JUDGED: Say = (
    "not judged: your code does not compile ({files})",
    "채점하지 못했습니다: 여러분의 코드가 컴파일되지 않습니다({files})",
);

/// Whether standard output is a terminal.
pub fn is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

/// The terminal's width: `$COLUMNS`, else what `stty size` says for a terminal, else 80 (and
/// never below 40).
pub fn width() -> usize {
    let from_env = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse().ok());
    let from_tty = || {
        if !is_terminal() {
            return None;
        }
        let tty = std::fs::File::open("/dev/tty").ok()?;
        let out = std::process::Command::new("stty")
            .arg("size")
            .stdin(tty)
            .output()
            .ok()?;
        let text = String::from_utf8(out.stdout).ok()?;
        text.split_whitespace().nth(1)?.parse().ok()
    };
    from_env.or_else(from_tty).unwrap_or(80).max(40)
}

/// Clears a terminal (in `--watch`, before each new list).
pub fn clear_screen() {
    if is_terminal() {
        print!("\u{1b}[2J\u{1b}[H");
    }
}

/// The section in `lang`: "exercise 3.1" → "연습문제 3.1", "listing 3.2" → "코드 3.2".
fn section(e: &Exercise, lang: Lang) -> String {
    match lang {
        Lang::En => e.section.to_string(),
        Lang::Ko => e
            .section
            .replace("exercise", "연습문제")
            .replace("listing", "코드"),
    }
}

/// The title in `lang`.
fn title(e: &Exercise, lang: Lang) -> &'static str {
    match lang {
        Lang::En => e.title,
        Lang::Ko => e.title_ko,
    }
}

/// `s` padded to `width` columns.
fn pad(s: &str, width: usize) -> String {
    format!("{s}{}", " ".repeat(width.saturating_sub(display_width(s))))
}

/// The mark of a status.
fn mark(status: Status) -> &'static str {
    match status {
        Status::Done => "✓",
        Status::Failing => "✗",
        Status::Waiting => "…",
        Status::NotStarted => "·",
    }
}

/// Where the learner writes `function` of `e`: `practice/src/<file>:<line>`, read from the file
/// as it is now.
fn location(e: &Exercise, function: &str) -> String {
    let path = crate::src_dir().join(e.file);
    let line = std::fs::read_to_string(path)
        .ok()
        .and_then(|text| source::function(&text, function).map(|f| f.line));
    match line {
        Some(n) => format!("practice/src/{}:{n}", e.file),
        None => format!("practice/src/{}", e.file),
    }
}

/// The list: one row per exercise, marked, with a second line where there is more to say.
fn rows(marks: &[(&Exercise, &str, Option<String>)], lang: Lang) {
    let id_width = EXERCISES.iter().map(|e| e.id.len()).max().unwrap_or(0);
    let section_width = EXERCISES
        .iter()
        .map(|e| display_width(&section(e, lang)))
        .max()
        .unwrap_or(0);
    for (e, mark, below) in marks {
        println!(
            "  {mark} {}  {}  {}",
            pad(&section(e, lang), section_width),
            pad(e.id, id_width),
            title(e, lang)
        );
        if let Some(below) = below {
            println!("{}{below}", " ".repeat(section_width + id_width + 8));
        }
    }
}

/// The progress view: the list, the compiler's warnings, and the next exercise.
pub fn progress(verdicts: &[Verdict], build: &Build, lang: Lang, width: usize) {
    let done = verdicts.iter().filter(|v| v.status == Status::Done).count();
    println!(
        "{}\n",
        say(lang, HEADER)
            .replace("{done}", &done.to_string())
            .replace("{all}", &verdicts.len().to_string())
    );
    let marks: Vec<(&Exercise, &str, Option<String>)> = EXERCISES
        .iter()
        .zip(verdicts)
        .map(|(e, v)| {
            let below = match v.status {
                Status::Done => Some(say(lang, STUDY_GUIDE).replace("{guide}", e.guide)),
                Status::Waiting => v.message.lines().next().map(str::to_string),
                _ => None,
            };
            (e, mark(v.status), below)
        })
        .collect();
    rows(&marks, lang);
    let warnings = build.messages.trim_end();
    if !warnings.is_empty() {
        println!("\n{}\n{warnings}", say(lang, WARNINGS));
    }
    println!();
    let next = EXERCISES
        .iter()
        .zip(verdicts)
        .find(|(_, v)| v.status != Status::Done);
    let Some((e, v)) = next else {
        println!("{}", say(lang, ALL_DONE));
        return;
    };
    println!(
        "{}",
        say(lang, NEXT)
            .replace("{id}", e.id)
            .replace("{section}", &section(e, lang))
            .replace("{title}", title(e, lang))
    );
    for f in e.functions {
        println!(
            "  {}",
            say(lang, WRITE)
                .replace("{f}", f)
                .replace("{place}", &location(e, f))
        );
    }
    println!();
    for line in v.message.lines() {
        for piece in wrap(line, width.saturating_sub(2)) {
            println!("  {piece}");
        }
    }
    println!("\n{}", say(lang, AGAIN).replace("{id}", e.id));
    println!("{}", say(lang, DOC));
}

/// The first error of the compiler's message, on one line, with its place.
fn first_error(build: &Build, file: &str) -> String {
    let plain = strip_colors(&build.messages);
    let mut error = None;
    for line in plain.lines() {
        if line.starts_with("error") {
            error = Some(line.trim().to_string());
        } else if let (Some(e), Some(place)) = (&error, line.trim_start().strip_prefix("--> "))
            && place.starts_with(file)
        {
            return format!("{e} ({place})");
        }
    }
    error.unwrap_or_default()
}

/// Why nothing could be judged: the compiler's message, and the list marked `!` / `?`.
pub fn not_compiled(build: &Build, lang: Lang, width: usize) {
    let files = if build.failing.is_empty() {
        "practice/src".to_string()
    } else {
        build.failing.join(", ")
    };
    println!("{}", say(lang, NOT_COMPILED).replace("{files}", &files));
    for line in say(lang, NOT_COMPILED_HELP).lines() {
        for piece in wrap(line, width) {
            println!("{piece}");
        }
    }
    println!("\n{}\n", build.messages.trim_end());
    let marks: Vec<(&Exercise, &str, Option<String>)> = EXERCISES
        .iter()
        .map(|e| {
            let broken = build.failing.iter().any(|f| f.ends_with(e.file));
            (e, if broken { "!" } else { "?" }, None)
        })
        .collect();
    rows(&marks, lang);
}

/// The JSON lines while the code does not compile: `"does not compile"` for the exercises of a
/// file with an error, `"not judged"` for the others.
pub fn json_not_compiled(build: &Build, lang: Lang) {
    let files = build.failing.join(", ");
    for e in EXERCISES {
        let failing = build.failing.iter().find(|f| f.ends_with(e.file));
        let (status, message) = match failing {
            Some(file) => (
                "does not compile",
                say(lang, DOES_NOT_COMPILE)
                    .replace("{file}", file)
                    .replace("{error}", &first_error(build, file)),
            ),
            None => (
                "not judged",
                say(lang, NOT_JUDGED).replace("{files}", &files),
            ),
        };
        println!("{}", json_line(e.id, status, &message));
    }
}

/// One JSON object: `{"id": …, "status": …, "message": …}`.
pub fn json_line(id: &str, status: &str, message: &str) -> String {
    format!(
        "{{\"id\": {}, \"status\": {}, \"message\": {}}}",
        json_string(id),
        json_string(status),
        json_string(message)
    )
}

/// Every verdict as a JSON line.
pub fn json(verdicts: &[Verdict]) {
    for v in verdicts {
        println!("{}", json_line(v.exercise, v.status.word(), &v.message));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_escape_their_strings() {
        assert_eq!(
            json_line("softmax", "failing", "row 1:\n  \"x\""),
            r#"{"id": "softmax", "status": "failing", "message": "row 1:\n  \"x\""}"#
        );
    }

    #[test]
    fn sections_read_in_korean() {
        let e = EXERCISES
            .iter()
            .find(|e| e.id == "self_attention_v2")
            .unwrap();
        assert_eq!(section(e, Lang::Ko), "3.4.2, 코드 3.2");
        let e = EXERCISES.iter().find(|e| e.id == "exercise_3_1").unwrap();
        assert_eq!(section(e, Lang::Ko), "연습문제 3.1");
    }
}
