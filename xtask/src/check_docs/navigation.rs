//! The reading order: `docs/reading_order.txt`, and the Previous/Next navigation build.rs puts at
//! the top and the bottom of each page it lists.

use super::html::{Token, line_of, tokenize};
use super::site::{Site, resolve};
use super::{CRATE, NAV_CLASS, Problem};

/// The modules of `docs/reading_order.txt`, in order.
pub(crate) fn reading_order(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split(' ').next().unwrap_or(l).to_string())
        .collect()
}

/// The page of each stop: the front page, then each module's.
fn stop_page(module: Option<&str>) -> String {
    match module {
        None => format!("{CRATE}/index.html"),
        Some(m) => format!("{CRATE}/{m}/index.html"),
    }
}

/// The front page and every page of `order` have the injected navigation at the top and bottom of
/// their documentation, with Previous and Next pointing to their neighbours in `order`.
pub(crate) fn check_reading_order(order: &[String], site: &Site) -> Vec<Problem> {
    let stops: Vec<Option<&str>> = std::iter::once(None)
        .chain(order.iter().map(|m| Some(m.as_str())))
        .collect();
    let mut problems = Vec::new();
    for (i, stop) in stops.iter().enumerate() {
        let file = stop_page(*stop);
        let Some(html) = site.html(&file) else {
            problems.push(Problem {
                file: file.clone(),
                line: 0,
                what: "page of the reading order (docs/reading_order.txt) is missing".into(),
            });
            continue;
        };
        let previous = i.checked_sub(1).map(|p| stop_page(stops[p]));
        let next = stops.get(i + 1).map(|n| stop_page(*n));
        problems.extend(check_navigation(
            &file,
            &html,
            previous.as_deref(),
            next.as_deref(),
        ));
    }
    problems
}

/// One page's navigation: two `<nav class="reading-order-nav">` in its top documentation block,
/// the first before any of its content but the title, the second after all of it, each linking
/// Previous to `previous`, Next to `next` (none where `None`) and back to the Reading order.
fn check_navigation(
    file: &str,
    html: &str,
    previous: Option<&str>,
    next: Option<&str>,
) -> Vec<Problem> {
    let tokens = tokenize(html);
    let mut problems = Vec::new();
    let mut report = |at: usize, what: String| {
        problems.push(Problem {
            file: file.to_string(),
            line: if at == usize::MAX {
                0
            } else {
                line_of(html, at)
            },
            what,
        });
    };
    // The page's documentation: the first `<div class="docblock">` and what it holds.
    let Some(start) = tokens
        .iter()
        .position(|t| t.is_start("div") && t.has_class("docblock"))
    else {
        report(usize::MAX, "no documentation block (div.docblock)".into());
        return problems;
    };
    let end = matching_end(&tokens, start, "div");
    let block = &tokens[start + 1..end];
    let navs: Vec<(usize, usize)> = block
        .iter()
        .enumerate()
        .filter(|(_, t)| t.is_start("nav") && t.has_class(NAV_CLASS))
        .map(|(k, _)| (k, matching_end(block, k, "nav")))
        .collect();
    if navs.len() != 2 {
        report(
            tokens[start].at(),
            format!(
                "{} navigation line(s) (nav.{NAV_CLASS}) in the documentation; expected 2, \
                 at the top and at the bottom",
                navs.len()
            ),
        );
        return problems;
    }
    const CONTENT: [&str; 13] = [
        "p",
        "pre",
        "table",
        "ul",
        "ol",
        "div",
        "img",
        "math",
        "blockquote",
        "h3",
        "h4",
        "h5",
        "details",
    ];
    let is_content =
        |t: &Token| matches!(t, Token::Start { name, .. } if CONTENT.contains(&name.as_str()));
    let (top, top_end) = navs[0];
    if let Some(t) = block[..top].iter().find(|t| is_content(t)) {
        report(
            t.at(),
            "the first navigation line comes after the page's content; it belongs under the title"
                .into(),
        );
    }
    let (bottom, bottom_end) = navs[1];
    // After the last one, only build.rs's `<style>`.
    let trailing = |t: &Token| match t {
        Token::Start { name, .. } => name != "style",
        Token::Text { text, .. } => !text.trim().is_empty(),
        Token::End { .. } => false,
    };
    if let Some(t) = block[bottom_end..].iter().find(|t| trailing(t)) {
        report(
            t.at(),
            "content after the last navigation line; it belongs at the end of the page".into(),
        );
    }
    for (from, to) in [(top, top_end), (bottom, bottom_end)] {
        let nav = &block[from..to];
        let at = block[from].at();
        let found_previous = link_after(nav, "Previous:").map(|h| resolve(file, strip(&h)));
        let found_next = link_after(nav, "Next:").map(|h| resolve(file, strip(&h)));
        for (what, found, expected) in [
            ("Previous", found_previous, previous),
            ("Next", found_next, next),
        ] {
            match (found, expected) {
                (None, None) => {}
                (Some(Some(f)), Some(e)) if f == e => {}
                (None, Some(e)) => {
                    report(at, format!("navigation has no {what} link; expected {e}"))
                }
                (Some(f), None) => report(
                    at,
                    format!(
                        "navigation has a {what} link ({}) but the page has no {what} in \
                         docs/reading_order.txt",
                        f.unwrap_or_default()
                    ),
                ),
                (Some(f), Some(e)) => report(
                    at,
                    format!(
                        "navigation's {what} link goes to {}; docs/reading_order.txt says {e}",
                        f.unwrap_or_default()
                    ),
                ),
            }
        }
        let home = format!("{CRATE}/index.html");
        let links_home = nav.iter().any(|t| {
            t.is_start("a")
                && t.attr("href").is_some_and(|h| {
                    h.ends_with("#reading-order")
                        && resolve(file, strip(h)).as_deref() == Some(&home)
                })
        });
        if !links_home {
            report(
                at,
                "navigation does not link the front page's Reading order".into(),
            );
        }
    }
    problems
}

/// `href` without its fragment.
fn strip(href: &str) -> &str {
    href.split('#').next().unwrap_or(href)
}

/// The index of the end tag that closes the `tag` element started at `tokens[start]` (or the end).
fn matching_end(tokens: &[Token], start: usize, tag: &str) -> usize {
    let mut depth = 0usize;
    for (k, t) in tokens.iter().enumerate().skip(start) {
        if t.is_start(tag) {
            depth += 1;
        } else if t.is_end(tag) {
            depth -= 1;
            if depth == 0 {
                return k;
            }
        }
    }
    tokens.len()
}

/// The `href` of the first link after the text `label`.
fn link_after(tokens: &[Token], label: &str) -> Option<String> {
    let k = tokens
        .iter()
        .position(|t| matches!(t, Token::Text { text, .. } if text.contains(label)))?;
    tokens[k..]
        .iter()
        .find(|t| t.is_start("a"))
        .and_then(|t| t.attr("href"))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check_docs::tests::page;

    fn nav(previous: &str, next: &str) -> String {
        format!(
            "<nav class=\"reading-order-nav\">\n<p>← Previous: <a href=\"{previous}\">p</a> · \
             <a href=\"../index.html#reading-order\">Reading order</a> · Next: \
             <a href=\"{next}\">n</a> →</p>\n</nav>"
        )
    }

    #[test]
    fn a_correct_navigation_passes() {
        let n = nav("../a/index.html", "../c/index.html");
        let html = page(&format!("<h2>Title</h2>\n{n}<p>text</p><pre>code</pre>{n}"));
        let problems = check_navigation(
            "ch03_attention/b/index.html",
            &html,
            Some("ch03_attention/a/index.html"),
            Some("ch03_attention/c/index.html"),
        );
        assert_eq!(problems, vec![]);
    }
    #[test]
    fn a_wrong_neighbour_a_missing_next_or_a_misplaced_line_is_found() {
        let good = nav("../a/index.html", "../c/index.html");
        let wrong = nav("../a/index.html", "../d/index.html");
        let check = |doc: &str| {
            check_navigation(
                "ch03_attention/b/index.html",
                &page(doc),
                Some("ch03_attention/a/index.html"),
                Some("ch03_attention/c/index.html"),
            )
        };
        let problems = check(&format!("<h2>T</h2>{good}<p>text</p>{wrong}"));
        assert_eq!(problems.len(), 1, "{problems:#?}");
        assert!(
            problems[0]
                .what
                .contains("Next link goes to ch03_attention/d/index.html")
        );

        let problems = check(&format!("<h2>T</h2><p>text</p>{good}{good}"));
        assert_eq!(problems.len(), 1, "{problems:#?}");
        assert!(problems[0].what.contains("belongs under the title"));

        let problems = check(&format!("<h2>T</h2>{good}<p>text</p>"));
        assert!(problems[0].what.contains("1 navigation line(s)"));

        let last = "<nav class=\"reading-order-nav\"><p>← Previous: <a href=\"../a/index.html\">a\
                    </a> · <a href=\"../index.html#reading-order\">Reading order</a></p></nav>";
        let problems = check(&format!("<h2>T</h2>{last}<p>text</p>{good}<p>more</p>"));
        let what: Vec<_> = problems.iter().map(|p| p.what.as_str()).collect();
        assert_eq!(what.len(), 2, "{what:#?}");
        assert!(what[0].contains("content after the last navigation line"));
        assert!(what[1].contains("no Next link"));
    }
    #[test]
    fn the_reading_order_file_lists_modules_with_labels_and_comments() {
        let order = reading_order("# comment\nsimilarity 3.3.1\n\nqkv 3.4\nleakage why\n");
        assert_eq!(order, ["similarity", "qkv", "leakage"]);
    }
}
