//! The checks of a page's text that Korean prose needs: reversed quotation marks (Markdown's
//! smart quotes next to a Hangul particle), and Hangul in code where the code font has none.

use super::Problem;
use super::html::{NOT_PROSE, Token, line_of, snippet};

/// Block elements: a quotation opened in one is not closed in another.
const BLOCKS: [&str; 14] = [
    "p",
    "li",
    "td",
    "th",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "dt",
    "dd",
    "blockquote",
    "div",
];

/// Reversed double quotation marks in prose: an opening mark “ where the quotation is already
/// open (the closing ” belongs there), or a closing ” with none open. Markdown's smart quotes
/// make a `"` an opening mark when a letter follows it, so the closing `"` of `"journey"의`
/// becomes “ when a Hangul particle follows: write ” in the source.
pub(crate) fn check_quotation_marks(file: &str, html: &str, tokens: &[Token]) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut depth = 0usize; // inside code, pre, math, …
    let mut open = false;
    // The prose of the current block so far, for the report.
    let mut block = String::new();
    let mut report = |at: usize, what: &str, block: &str, rest: &str| {
        let before: String = {
            let chars: Vec<char> = block.chars().collect();
            chars[chars.len().saturating_sub(30)..].iter().collect()
        };
        problems.push(Problem {
            file: file.to_string(),
            line: line_of(html, at),
            what: format!(
                "{what} (Markdown's smart quotes flip a closing `\"` that a Hangul particle \
                 follows; write ” in the source): `{}`",
                snippet(&format!("{before}{rest}"), 60)
            ),
        });
    };
    for t in tokens {
        match t {
            Token::Start { name, .. } | Token::End { name, .. }
                if BLOCKS.contains(&name.as_str()) =>
            {
                open = false;
                block.clear();
            }
            Token::Start { name, .. } if NOT_PROSE.contains(&name.as_str()) => depth += 1,
            Token::End { name, .. } if NOT_PROSE.contains(&name.as_str()) => {
                depth = depth.saturating_sub(1);
            }
            Token::Text { text, at } if depth == 0 => {
                for (i, c) in text.char_indices() {
                    match c {
                        '“' if open => {
                            report(
                                at + i,
                                "reversed quotation mark: “ closes a quotation",
                                &block,
                                &text[i..],
                            );
                            open = false;
                        }
                        '“' => open = true,
                        '”' if open => open = false,
                        '”' => report(
                            at + i,
                            "reversed quotation mark: ” opens a quotation",
                            &block,
                            &text[i..],
                        ),
                        _ => {}
                    }
                    block.push(c);
                }
            }
            _ => {}
        }
    }
    problems
}

fn is_hangul(c: char) -> bool {
    matches!(c, '\u{AC00}'..='\u{D7AF}' | '\u{1100}'..='\u{11FF}' | '\u{3130}'..='\u{318F}')
}

/// Hangul in `<code>` or `<pre>` on a page whose code font has no Korean fallback. rustdoc's
/// code fonts have no Hangul; build.rs's `<style>` makes them fall back to the Korean font
/// rustdoc ships, but it reaches only the study guide's pages (`docs/*.md`). On any other page
/// (an item's `///` comment, a module's `//!`), keep Hangul out of code spans.
pub(crate) fn check_hangul_in_code(file: &str, html: &str, tokens: &[Token]) -> Vec<Problem> {
    if has_korean_code_font(html, tokens) {
        return Vec::new();
    }
    let mut problems = Vec::new();
    let mut depth = 0usize;
    for t in tokens {
        match t {
            Token::Start { name, .. } if name == "code" || name == "pre" => depth += 1,
            Token::End { name, .. } if name == "code" || name == "pre" => {
                depth = depth.saturating_sub(1);
            }
            Token::Text { text, at } if depth > 0 => {
                if let Some(p) = text.find(is_hangul) {
                    problems.push(Problem {
                        file: file.to_string(),
                        line: line_of(html, at + p),
                        what: format!(
                            "Hangul in code on a page whose code font has none (it shows as \
                             boxes with no Korean system font): quote it instead of a code \
                             span, or move it to a docs/*.md page: `{}`",
                            snippet(text, 60)
                        ),
                    });
                }
            }
            _ => {}
        }
    }
    problems
}

/// Whether one of the page's `<style>` elements gives the code font the Korean fallback.
fn has_korean_code_font(html: &str, tokens: &[Token]) -> bool {
    tokens.iter().filter(|t| t.is_start("style")).any(|t| {
        let body = &html[t.at()..];
        let body = body.find('>').map_or("", |p| &body[p + 1..]);
        let body = &body[..body.find("</style").unwrap_or(body.len())];
        body.split('}')
            .any(|rule| rule.contains("--font-family-code") && rule.contains("NanumBarunGothic"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check_docs::html::tokenize;
    use crate::check_docs::tests::page;

    #[test]
    fn a_reversed_quotation_mark_is_found() {
        // What rustdoc makes of `"구현하기"를` and `"journey"의`, and correct quotations.
        let html = page(
            "<p>3장 “어텐션 메커니즘 구현하기“를 따라갑니다. “journey“의 문맥 벡터</p>\n\
             <p>“journey”의 쿼리, “a <em>b</em> c”, “<code>x“</code>” and (“가”, “나”)</p>\n\
             <p>not closed “here</p><p>so this ” opens nothing</p>",
        );
        let problems = check_quotation_marks("p.html", &html, &tokenize(&html));
        let what: Vec<_> = problems.iter().map(|p| p.what.as_str()).collect();
        assert_eq!(what.len(), 3, "{what:#?}");
        assert!(what[0].contains("“ closes") && what[0].contains("구현하기“를"));
        assert!(what[1].contains("“ closes") && what[1].contains("“journey“의"));
        assert!(what[2].contains("” opens") && what[2].contains("so this ”"));
        assert_eq!(problems[2].line, 3);
    }
    #[test]
    fn hangul_in_code_is_found_on_a_page_without_the_korean_code_font() {
        let doc = "<p>label <code>어텐션 가중치:</code>, prose 합 and <code>Sum:</code></p>\
                   <pre><code>tensor(1.)\n합: tensor(1.)</code></pre>";
        let html = page(doc);
        let problems = check_hangul_in_code("p.html", &html, &tokenize(&html));
        let what: Vec<_> = problems.iter().map(|p| p.what.as_str()).collect();
        assert_eq!(what.len(), 2, "{what:#?}");
        assert!(what[0].contains("`어텐션 가중치:`"));
        assert!(what[1].contains("합: tensor(1.)"));
        // The same page with build.rs's style (or any rule giving the code font the fallback).
        let styled = page(&format!(
            "{doc}<style>:root {{ --font-family-code: \"Source Code Pro\", NanumBarunGothic, \
             monospace; }}</style>"
        ));
        assert_eq!(
            check_hangul_in_code("p.html", &styled, &tokenize(&styled)),
            vec![]
        );
        // A fallback for another font does not count.
        let other = page(&format!(
            "{doc}<style>:root {{ --font-family: serif; }} p {{ font-family: NanumBarunGothic }}\
             </style>"
        ));
        assert_eq!(
            check_hangul_in_code("p.html", &other, &tokenize(&other)).len(),
            2
        );
    }
}
