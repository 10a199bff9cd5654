//! The study guide's reading order: declared once in `docs/reading_order.txt` (build.rs turns it
//! into the Previous/Next lines of the pages), and told in words on the front page's "Reading
//! order" section. The two must agree. `cargo xtask check-docs` checks the generated HTML.

use std::fs;

fn read(path: &str) -> String {
    let root = env!("CARGO_MANIFEST_DIR");
    fs::read_to_string(format!("{root}/{path}")).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The modules of `docs/reading_order.txt`, in order (the first word of each line that is not a
/// comment).
fn reading_order() -> Vec<String> {
    read("docs/reading_order.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split(' ').next().unwrap().to_string())
        .collect()
}

/// The text of the front page's `## Reading order` section, up to the next `## ` heading.
fn front_page_reading_order() -> String {
    let page = read("docs/crate.md");
    let start = page
        .find("\n## Reading order\n")
        .expect("docs/crate.md has a `## Reading order` section");
    let section = &page[start + 1..];
    let end = section[3..].find("\n## ").map_or(section.len(), |e| e + 3);
    section[..end].to_string()
}

#[test]
fn the_front_page_lists_the_reading_order_in_order() {
    let order = reading_order();
    // Practice first, so a learner writes each section as they read it; then the chapter.
    assert_eq!(order.first().map(String::as_str), Some("practice"));
    assert_eq!(order.get(1).map(String::as_str), Some("similarity"));
    let section = front_page_reading_order();
    let mut previous: Option<(&str, usize)> = None;
    for module in &order {
        let link = format!("[`{module}`]");
        let at = section.find(&link).unwrap_or_else(|| {
            panic!("the front page's Reading order does not link {link} (docs/reading_order.txt)")
        });
        if let Some((before, was)) = previous {
            assert!(
                was < at,
                "the front page's Reading order has {link} before [`{before}`], \
                 but docs/reading_order.txt puts `{before}` first"
            );
        }
        previous = Some((module, at));
    }
}

#[test]
fn every_module_of_the_reading_order_has_a_page() {
    let root = env!("CARGO_MANIFEST_DIR");
    for module in reading_order() {
        assert!(
            fs::metadata(format!("{root}/docs/{module}.md")).is_ok(),
            "docs/reading_order.txt names `{module}`, which has no docs/{module}.md"
        );
    }
}

#[test]
fn page_headers_leave_previous_and_next_to_the_generated_navigation() {
    let root = env!("CARGO_MANIFEST_DIR");
    for entry in fs::read_dir(format!("{root}/docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "md") {
            continue;
        }
        let text = fs::read_to_string(&path).unwrap();
        for (n, line) in text.lines().take(6).enumerate() {
            assert!(
                !line.contains("Previous:") && !line.contains("Next:"),
                "{}:{}: a hand-written Previous/Next; the order lives in docs/reading_order.txt",
                path.display(),
                n + 1
            );
        }
    }
}

/// Code lines fit the page: a rustdoc code block at 1280 px shows about 90 characters before
/// cutting a line off, so no line of a fenced block in `docs/*.md` is longer than 88.
#[test]
fn code_lines_fit_the_page() {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut long = Vec::new();
    for entry in std::fs::read_dir(format!("{root}/docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "md") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let mut in_code = false;
        for (n, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("```") {
                in_code = !in_code;
            } else if in_code && line.chars().count() > 88 {
                long.push(format!(
                    "{}:{}: {} characters",
                    path.display(),
                    n + 1,
                    line.chars().count()
                ));
            }
        }
    }
    assert!(
        long.is_empty(),
        "code lines cut off at 1280 px:\n{}",
        long.join("\n")
    );
}

/// The front page's claim about the study guide: "one page per concept, with the idea, the math,
/// the book section, a runnable example and a figure". The concept pages are those of the
/// reading order labelled with a book section (`similarity 3.3.1`, …); each has a `*Book:`
/// line, math, a Rust example (a fence with no language: a doctest) and a figure.
#[test]
fn every_concept_page_has_the_book_section_math_an_example_and_a_figure() {
    let claim = "one page per concept, with the idea, the math, the book section, a runnable \
                 example and a figure";
    assert!(
        read("docs/crate.md").contains(claim),
        "docs/crate.md no longer says: {claim}"
    );
    let concepts: Vec<(String, String)> = read("docs/reading_order.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once(' '))
        .filter(|(_, label)| label.starts_with(|c: char| c.is_ascii_digit()))
        .map(|(m, label)| (m.to_string(), label.to_string()))
        .collect();
    assert!(concepts.len() >= 7, "{concepts:?}");
    for (module, _) in &concepts {
        let page = read(&format!("docs/{module}.md"));
        let has = |what: &str| page.contains(what);
        assert!(has("\n*Book:"), "docs/{module}.md: no `*Book:` line");
        assert!(has("\n$$\n") || has(" $"), "docs/{module}.md: no math");
        assert!(has("\n```\n"), "docs/{module}.md: no runnable example");
        assert!(has("](figures/"), "docs/{module}.md: no figure");
    }
}

/// The Korean summaries (`## 한국어 요약` to the next `## `, and the front page's `## 한국어로 읽는
/// 분께`), with code spans removed.
fn korean_sections() -> Vec<(String, String)> {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut sections = Vec::new();
    for entry in fs::read_dir(format!("{root}/docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "md") {
            continue;
        }
        let text = fs::read_to_string(&path).unwrap();
        for start in ["\n## 한국어 요약", "\n## 한국어로 읽는 분께"] {
            let Some(at) = text.find(start) else { continue };
            let section = &text[at + 1..];
            let end = section[3..].find("\n## ").map_or(section.len(), |e| e + 3);
            let prose: String = section[..end]
                .split('`')
                .step_by(2)
                .collect::<Vec<_>>()
                .join(" ");
            sections.push((path.display().to_string(), prose));
        }
    }
    sections
}

/// "Each page of the reading order ends with a Korean summary" (the front page, 한국어로 읽는 분께).
#[test]
fn every_page_of_the_reading_order_has_a_korean_summary() {
    assert!(
        read("docs/crate.md")
            .contains("순서의 각 페이지는 영어로 쓰여 있지만 끝에 **한국어 요약**이")
    );
    for module in reading_order() {
        assert!(
            read(&format!("docs/{module}.md")).contains("\n## 한국어 요약"),
            "docs/{module}.md has no `## 한국어 요약` section"
        );
    }
}

/// One term for one thing in Korean prose, the Korean edition's (its notebooks'): a variant found
/// in a summary or in the walkthrough's Korean labels names the term to use.
#[test]
fn korean_prose_uses_the_korean_editions_terms() {
    const VARIANTS: [(&str, &str); 9] = [
        ("PyTorch", "파이토치"),
        ("절편", "편향"),
        ("인과적", "코잘 (코잘 어텐션, 코잘 마스크)"),
        ("내적", "점곱"),
        ("컨텍스트 벡터", "문맥 벡터"),
        ("과적합", "과대적합"),
        ("그래디언트", "그레이디언트"),
        ("바이어스", "편향"),
        ("넘칩니다", "오버플로가 납니다"),
    ];
    let mut texts = korean_sections();
    // The walkthrough's Korean labels: the strings with Hangul, after the `=>` of a one-line
    // `"English" => "한국어"` arm.
    let ko = read("src/walkthrough/ko.rs");
    let labels: String = ko
        .lines()
        .map(|l| l.rsplit("=>").next().unwrap_or(l).trim())
        .filter(|l| l.starts_with('"'))
        .filter(|l| l.chars().any(|c| ('\u{AC00}'..='\u{D7AF}').contains(&c)))
        .collect::<Vec<_>>()
        .join("\n");
    texts.push(("src/walkthrough/ko.rs".to_string(), labels));
    let mut found = Vec::new();
    for (file, text) in &texts {
        for (variant, term) in VARIANTS {
            if text.contains(variant) {
                found.push(format!(
                    "{file}: `{variant}`: the Korean edition says {term}"
                ));
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// The concept pages: the modules of `docs/reading_order.txt` labelled with a book section
/// (`similarity 3.3.1`, …).
fn concept_pages() -> Vec<String> {
    read("docs/reading_order.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once(' '))
        .filter(|(_, label)| label.starts_with(|c: char| c.is_ascii_digit()))
        .map(|(m, _)| m.to_string())
        .collect()
}

/// The `## Run, test, write` section of `docs/<module>.md`, which must be the page's last.
fn run_test_write(module: &str) -> String {
    let page = read(&format!("docs/{module}.md"));
    let at = page
        .find("\n## Run, test, write\n")
        .unwrap_or_else(|| panic!("docs/{module}.md has no `## Run, test, write` section"));
    let section = page[at + 1..].to_string();
    assert!(
        !section[3..].contains("\n## "),
        "docs/{module}.md: `## Run, test, write` is not the page's last section"
    );
    section
}

/// Every concept page ends with "Run, test, write": a walkthrough command that selects a section
/// of `cargo run -- --list`, the test file named after the page with the `cargo test` filter that
/// runs it (a module of `tests/suite.rs` that has tests), the practice command in English and
/// Korean, and a line in Korean.
#[test]
fn every_concept_page_ends_with_run_test_write() {
    let suite = read("tests/suite.rs");
    let ids = ch03_attention::walkthrough::section_ids();
    let pages = concept_pages();
    assert_eq!(pages.len(), 7, "{pages:?}");
    for module in &pages {
        let section = run_test_write(module);
        let has = |what: &str| section.contains(what);
        // The walkthrough: `cargo run -- <filter>` where the filter selects a section, as
        // `walkthrough::select` does (equal, or a prefix at a dot boundary).
        let runs: Vec<&str> = section
            .split("`cargo run -- ")
            .skip(1)
            .filter_map(|rest| rest.split(['`', ' ']).next())
            .collect();
        assert!(
            !runs.is_empty(),
            "docs/{module}.md: no `cargo run -- <section>`"
        );
        for filter in &runs {
            assert!(
                ids.iter()
                    .any(|id| id == filter || id.starts_with(&format!("{filter}."))),
                "docs/{module}.md: `cargo run -- {filter}` selects no section of --list"
            );
        }
        // The tests: tests/<module>.rs, a module of the suite, with its filter.
        let filter = format!("`cargo test --test suite {module}::`");
        assert!(has(&filter), "docs/{module}.md: no {filter}");
        assert!(has(&format!("`tests/{module}.rs`")), "docs/{module}.md");
        assert!(
            suite.contains(&format!("\nmod {module};\n")),
            "tests/suite.rs has no `mod {module};`"
        );
        let tests = read(&format!("tests/{module}.rs"));
        assert!(
            tests.contains("#[test]") || tests.contains("#[rstest]"),
            "tests/{module}.rs has no test"
        );
        // The practice command, in English and in Korean, and the Korean line.
        assert!(has("`cargo run -p ch03-practice`"), "docs/{module}.md");
        assert!(
            has("`cargo run -p ch03-practice -- --lang ko`"),
            "docs/{module}.md"
        );
        assert!(has("\n**한국어**: "), "docs/{module}.md: no Korean line");
    }
}

/// Every exercise of the practice package (`spec::EXERCISES`) is listed on the page its `guide`
/// names, in that page's "Run, test, write": its id, its file under `practice/src/` and each of
/// its functions. And a page lists no exercise of another page.
#[test]
fn every_exercise_is_listed_on_its_study_guide_page() {
    use ch03_attention::spec::EXERCISES;
    for e in EXERCISES {
        let section = run_test_write(e.guide);
        let row = section
            .lines()
            .find(|l| l.starts_with(&format!("| `{}` |", e.id)))
            .unwrap_or_else(|| panic!("docs/{}.md lists no exercise `{}`", e.guide, e.id));
        assert!(
            row.contains(&format!("`practice/src/{}`", e.file)),
            "docs/{}.md: `{}` is in practice/src/{}: {row}",
            e.guide,
            e.id,
            e.file
        );
        for f in e.functions {
            assert!(
                row.contains(&format!("`{f}`")),
                "docs/{}.md: `{}` judges `{f}`: {row}",
                e.guide,
                e.id
            );
        }
    }
    for module in concept_pages() {
        for line in run_test_write(&module).lines() {
            if let Some(id) = line.strip_prefix("| `").and_then(|l| l.split('`').next()) {
                let e = ch03_attention::spec::exercise(id)
                    .unwrap_or_else(|| panic!("docs/{module}.md lists `{id}`, no exercise"));
                assert_eq!(e.guide, module, "docs/{module}.md lists `{id}`");
            }
        }
    }
}

/// The source files that include a study-guide page, with the page's name: every `.rs` file under
/// `src/` whose text holds `include_str!(concat!(env!("OUT_DIR"), "/docs/<page>.md"))`.
fn page_sources() -> Vec<(String, String, String)> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let root = env!("CARGO_MANIFEST_DIR");
    let mut files = Vec::new();
    walk(&std::path::Path::new(root).join("src"), &mut files);
    let marker = "include_str!(concat!(env!(\"OUT_DIR\"), \"/docs/";
    let mut found = Vec::new();
    for file in files {
        let text = fs::read_to_string(&file).unwrap();
        if let Some(at) = text.find(marker) {
            let page = text[at + marker.len()..]
                .split(".md")
                .next()
                .unwrap()
                .to_string();
            let name = file.strip_prefix(root).unwrap().display().to_string();
            found.push((name, page, text));
        }
    }
    found.sort();
    found
}

/// Each module whose rustdoc is a study-guide page opens with the page's title as a `//! # …`
/// line, so an editor shows what the module is (build.rs takes the title off the page it
/// generates, so rustdoc shows it once): the line is the page's first line, exactly, and stands
/// right above the `include_str!`.
#[test]
fn every_page_module_opens_with_the_page_title() {
    let sources = page_sources();
    assert_eq!(sources.len(), 16, "{sources:?}");
    for (file, page, text) in sources {
        let title = read(&format!("docs/{page}.md"))
            .lines()
            .next()
            .unwrap()
            .to_string();
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some(format!("//! {title}").as_str()),
            "{file}"
        );
        assert!(
            lines.next().unwrap().starts_with("#![doc = include_str!("),
            "{file}: the title line must stand right above the include"
        );
    }
}
