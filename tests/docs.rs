//! The study guide's reading order: declared once in `docs/reading_order.txt` (build.rs turns it
//! into the Previous/Next lines of the pages), and told in words on the front page's "Reading
//! order" section. The two must agree. `examples/check_docs.rs` checks the generated HTML.

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
    assert_eq!(order.first().map(String::as_str), Some("similarity"));
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
