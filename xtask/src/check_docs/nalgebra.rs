//! Links to nalgebra's documentation at another version than `Cargo.lock`'s.

use super::Problem;
use super::html::{Token, line_of};

/// The version of package `name` in a `Cargo.lock`, if it holds exactly one.
pub(crate) fn locked_version(lock: &str, name: &str) -> Option<String> {
    let versions: Vec<&str> = lock
        .split("[[package]]")
        .filter(|p| p.contains(&format!("\nname = \"{name}\"\n")))
        .filter_map(|p| p.split("\nversion = \"").nth(1)?.split('"').next())
        .collect();
    (versions.len() == 1).then(|| versions[0].to_string())
}

/// A link to nalgebra's documentation on docs.rs.
pub(crate) struct NalgebraLink {
    at: usize,
    href: String,
    pub(crate) version: String,
    /// In a `div.docblock` (the text of the documentation), not in a signature rustdoc wrote.
    pub(crate) in_docblock: bool,
}

/// Every `https://docs.rs/nalgebra/<version>/…` link of a page.
pub(crate) fn nalgebra_links(tokens: &[Token]) -> Vec<NalgebraLink> {
    const ROOT: &str = "https://docs.rs/nalgebra/";
    let mut links = Vec::new();
    // Open `div`s, each marked whether it is a docblock.
    let mut divs: Vec<bool> = Vec::new();
    for t in tokens {
        match t {
            Token::Start { name, .. } if name == "div" => divs.push(t.has_class("docblock")),
            Token::End { name, .. } if name == "div" => {
                divs.pop();
            }
            Token::Start { name, at, .. } if name == "a" => {
                let Some(href) = t.attr("href") else { continue };
                let Some(rest) = href.strip_prefix(ROOT) else {
                    continue;
                };
                links.push(NalgebraLink {
                    at: *at,
                    href: href.to_string(),
                    version: rest.split('/').next().unwrap_or("").to_string(),
                    in_docblock: divs.iter().any(|d| *d),
                });
            }
            _ => {}
        }
    }
    links
}

/// A link to nalgebra's documentation, in the text of the documentation, at another version
/// than `locked` (Cargo.lock's).
pub(crate) fn check_nalgebra_links(
    file: &str,
    html: &str,
    tokens: &[Token],
    locked: &str,
) -> Vec<Problem> {
    nalgebra_links(tokens)
        .into_iter()
        .filter(|l| l.in_docblock && l.version != locked)
        .map(|l| Problem {
            file: file.to_string(),
            line: line_of(html, l.at),
            what: format!(
                "a link to nalgebra {} where Cargo.lock has {locked}: `{}` (an intra-doc link \
                 to nalgebra follows nalgebra's stale html_root_url: link to \
                 https://docs.rs/nalgebra/{locked}/…, as build.rs does for [`nalgebra`])",
                l.version, l.href
            ),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check_docs::html::tokenize;

    #[test]
    fn a_nalgebra_link_in_the_text_at_another_version_than_the_lock_is_found() {
        let lock = "[[package]]\nname = \"matrixmultiply\"\nversion = \"0.3.11\"\n\n\
                    [[package]]\nname = \"nalgebra\"\nversion = \"0.34.2\"\nsource = \"x\"\n";
        let locked = locked_version(lock, "nalgebra").unwrap();
        assert_eq!(locked, "0.34.2");
        let html = "<pre class=\"rust item-decl\"><a href=\"https://docs.rs/nalgebra/0.25.0/\
                    nalgebra/base/alias/type.DMatrix.html\">DMatrix</a></pre>\n\
                    <div class=\"docblock\"><p>built on \
                    <a href=\"https://docs.rs/nalgebra/0.34.2/nalgebra/\">nalgebra</a>, \
                    <div class=\"x\"><a href=\"https://docs.rs/nalgebra/0.25.0/nalgebra/index.html\">\
                    old</a></div></p></div>\n\
                    <a href=\"https://docs.rs/nalgebra-sparse/0.1.0/x\">other crate</a>";
        let tokens = tokenize(html);
        let problems = check_nalgebra_links("p.html", html, &tokens, &locked);
        assert_eq!(problems.len(), 1, "{problems:#?}");
        assert!(
            problems[0]
                .what
                .contains("nalgebra 0.25.0 where Cargo.lock has 0.34.2")
        );
        assert_eq!(problems[0].line, 2);
        // The signature's link is counted apart, not reported.
        let links = nalgebra_links(&tokens);
        assert_eq!(links.len(), 3);
        assert!(!links[0].in_docblock && links[1].in_docblock && links[2].in_docblock);
        // Two versions in one lock: none is "the" version.
        let two = format!("{lock}\n[[package]]\nname = \"nalgebra\"\nversion = \"0.33.0\"\n");
        assert_eq!(locked_version(&two, "nalgebra"), None);
    }
}
