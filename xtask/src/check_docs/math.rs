//! The checks of a page's formulas: LaTeX left unconverted in the prose, emphasis that broke a
//! formula apart, an HTML entity a formula shows as text.

use super::Problem;
use super::html::{NOT_PROSE, Token, line_of, snippet};

/// A `$` followed by LaTeX in the page's prose.
pub(crate) fn check_math(file: &str, html: &str, tokens: &[Token]) -> Vec<Problem> {
    // The prose of the page as one string (a formula can span `<em>` and the like), with where
    // each piece came from in the HTML.
    let mut prose = String::new();
    let mut origin: Vec<(usize, usize)> = Vec::new(); // (offset in prose, offset in html)
    let mut depth = 0usize;
    for t in tokens {
        match t {
            Token::Start { name, .. } if NOT_PROSE.contains(&name.as_str()) => depth += 1,
            Token::End { name, .. } if NOT_PROSE.contains(&name.as_str()) => {
                depth = depth.saturating_sub(1);
            }
            Token::Text { text, at } if depth == 0 => {
                origin.push((prose.len(), *at));
                prose.push_str(text);
            }
            _ => {}
        }
    }
    let mut problems = Vec::new();
    let mut search = 0;
    while let Some(p) = prose[search..].find('$') {
        let start = search + p;
        let after = &prose[start + 1..];
        let formula = after.find('$').map_or(after, |e| &after[..e]);
        let formula = &formula[..floor_char_boundary(formula, 160)];
        if looks_like_latex(formula) {
            let k = origin.partition_point(|&(o, _)| o <= start) - 1;
            let at = origin[k].1 + (start - origin[k].0);
            problems.push(Problem {
                file: file.to_string(),
                line: line_of(html, at),
                what: format!(
                    "unconverted math (raw LaTeX in the text): `{}`",
                    snippet(&prose[start..], 70)
                ),
            });
            search = start + 1 + formula.len();
        } else {
            search = start + 1;
        }
    }
    problems
}

/// Markdown emphasis (`<em>`, `<strong>`) inside a `<math>` element: a formula broken apart.
pub(crate) fn check_math_emphasis(file: &str, html: &str, tokens: &[Token]) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut in_math = 0usize;
    for t in tokens {
        match t {
            Token::Start { name, .. } if name == "math" => in_math += 1,
            Token::End { name, .. } if name == "math" => in_math = in_math.saturating_sub(1),
            Token::Start { name, at, .. } if in_math > 0 && (name == "em" || name == "strong") => {
                problems.push(Problem {
                    file: file.to_string(),
                    line: line_of(html, *at),
                    what: format!(
                        "emphasis inside a formula: Markdown read an underscore or asterisk of the \
                         MathML as `<{name}>` (rewrite the subscript, e.g. `x_u` for \
                         `\\mathrm{{x}}_u`): `{}`",
                        snippet(&html[*at..], 70)
                    ),
                });
            }
            _ => {}
        }
    }
    problems
}

/// An HTML entity a formula shows as text: `&amp;nbsp;` inside a `<math>` element (outside its
/// `<annotation>`, which holds the LaTeX source and is not shown). pulldown-latex writes some
/// LaTeX spaces (`\ `) as an escaped `&nbsp;`, which the browser then prints as the six
/// characters `&nbsp;`.
pub(crate) fn check_math_entities(file: &str, html: &str, tokens: &[Token]) -> Vec<Problem> {
    let mut problems = Vec::new();
    let (mut in_math, mut in_annotation) = (0usize, 0usize);
    for t in tokens {
        match t {
            Token::Start { name, .. } if name == "math" => in_math += 1,
            Token::End { name, .. } if name == "math" => in_math = in_math.saturating_sub(1),
            Token::Start { name, .. } if name.starts_with("annotation") => in_annotation += 1,
            Token::End { name, .. } if name.starts_with("annotation") => {
                in_annotation = in_annotation.saturating_sub(1);
            }
            Token::Text { text, at } if in_math > 0 && in_annotation == 0 => {
                let mut from = 0;
                while let Some(p) = text[from..].find("&amp;") {
                    let start = from + p;
                    let rest = &text[start + "&amp;".len()..];
                    let name_len = rest
                        .bytes()
                        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'#')
                        .count();
                    if name_len > 0 && rest.as_bytes().get(name_len) == Some(&b';') {
                        problems.push(Problem {
                            file: file.to_string(),
                            line: line_of(html, at + start),
                            what: format!(
                                "an HTML entity shown as text in a formula: `&{}` (write the \
                                 space as `\\;` or `\\quad`, not `\\ `): `{}`",
                                &rest[..=name_len],
                                snippet(text, 60)
                            ),
                        });
                    }
                    from = start + 1;
                }
            }
            _ => {}
        }
    }
    problems
}

fn floor_char_boundary(s: &str, n: usize) -> usize {
    let mut n = n.min(s.len());
    while !s.is_char_boundary(n) {
        n -= 1;
    }
    n
}

/// `\command`, `_{` or `^{`: what a formula has and prose does not.
fn looks_like_latex(s: &str) -> bool {
    let b = s.as_bytes();
    s.contains("_{")
        || s.contains("^{")
        || b.windows(2)
            .any(|w| w[0] == b'\\' && w[1].is_ascii_alphabetic())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check_docs::html::tokenize;
    use crate::check_docs::tests::page;

    #[test]
    fn raw_latex_in_prose_is_found_and_code_or_mathml_is_not() {
        let html = page(
            "<p>fine <math><annotation>x_{i} \\cdot y</annotation></math> and <code>$x_{i}$</code>\
             and $5 or US$ 3</p><pre>$ echo $HOME_{x}</pre>\n\
             <p>left raw: $0 \\cdot \\mathrm{NaN}\n= \\mathrm{NaN}$ and $a^{<em>2</em>}$</p>",
        );
        let problems = check_math("p.html", &html, &tokenize(&html));
        assert_eq!(problems.len(), 2, "{problems:#?}");
        assert_eq!(problems[0].line, 2);
        assert!(problems[0].what.contains("$0 \\cdot \\mathrm{NaN} ="));
        assert!(problems[1].what.contains("$a^{2}$"));
    }
    #[test]
    fn emphasis_inside_a_formula_is_found() {
        let html = page(
            "<p><math><mi>a</mi><em>b</em></math> and <em>prose</em></p>\n\
             <p><math><strong>c</strong></math></p>",
        );
        let problems = check_math_emphasis("p.html", &html, &tokenize(&html));
        assert_eq!(problems.len(), 2, "{problems:#?}");
        assert!(problems[0].what.contains("as `<em>`"));
        assert!(problems[1].what.contains("as `<strong>`"));
        assert_eq!(problems[1].line, problems[0].line + 1);
    }
    #[test]
    fn an_entity_shown_as_text_in_a_formula_is_found_but_not_in_its_source_or_prose() {
        let html = page(
            "<p><math><mi>m</mi><mo>,</mo><mtext>&amp;nbsp;</mtext><mi>x</mi>\
             <annotation encoding=\"application/x-tex\">m,\\ x &amp;amp; y</annotation></math> \
             and <math><mtext>&nbsp;nats</mtext></math>, Tom &amp;amp; Jerry</p>\n\
             <p><math><mrow><mtext>a&amp;#160;b</mtext></mrow></math> and <math><mo>&amp;</mo></math></p>",
        );
        let problems = check_math_entities("p.html", &html, &tokenize(&html));
        let what: Vec<_> = problems.iter().map(|p| p.what.as_str()).collect();
        assert_eq!(what.len(), 2, "{what:#?}");
        assert!(what[0].contains("`&nbsp;`"));
        assert!(what[1].contains("`&#160;`"));
        assert_eq!(problems[1].line, problems[0].line + 1);
    }
}
