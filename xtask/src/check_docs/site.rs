//! The site: which files exist under the doc root, the ids of its pages, and the check that a
//! page's images and links resolve in it.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use super::Problem;
use super::html::{Token, line_of, tokenize};

/// The files under the doc root, by path relative to it with `/` separators.
pub(crate) struct Site {
    root: PathBuf,
    pub(crate) files: HashSet<String>,
    /// Pages given as text (tests); the others are read from `root`.
    memory: HashMap<String, String>,
    ids: RefCell<HashMap<String, HashSet<String>>>,
    /// nalgebra's version in `Cargo.lock`, if known.
    pub(crate) nalgebra: Option<String>,
}

impl Site {
    pub(crate) fn on_disk(root: &Path) -> Site {
        let mut files = HashSet::new();
        let mut dirs = vec![root.to_path_buf()];
        while let Some(dir) = dirs.pop() {
            let Ok(entries) = fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if let Ok(rel) = path.strip_prefix(root) {
                    let parts: Vec<_> = rel.iter().map(|c| c.to_string_lossy()).collect();
                    files.insert(parts.join("/"));
                }
            }
        }
        Site {
            root: root.to_path_buf(),
            files,
            memory: HashMap::new(),
            ids: RefCell::default(),
            nalgebra: None,
        }
    }

    #[cfg(test)]
    pub(crate) fn in_memory(pages: &[(&str, &str)]) -> Site {
        let memory: HashMap<String, String> = pages
            .iter()
            .map(|(p, h)| (p.to_string(), h.to_string()))
            .collect();
        Site {
            root: PathBuf::new(),
            files: memory.keys().cloned().collect(),
            memory,
            ids: RefCell::default(),
            nalgebra: None,
        }
    }

    pub(crate) fn html(&self, rel: &str) -> Option<String> {
        match self.memory.get(rel) {
            Some(text) => Some(text.clone()),
            None => fs::read_to_string(self.root.join(rel)).ok(),
        }
    }

    /// Whether page `rel` has an element with this id.
    pub(crate) fn has_id(&self, rel: &str, id: &str) -> bool {
        let mut cache = self.ids.borrow_mut();
        let ids = cache.entry(rel.to_string()).or_insert_with(|| {
            let html = self.html(rel).unwrap_or_default();
            tokenize(&html)
                .iter()
                .filter_map(|t| match t {
                    Token::Start { attrs, .. } => Some(attrs),
                    _ => None,
                })
                .flat_map(|attrs| {
                    attrs
                        .iter()
                        .filter(|(k, _)| k == "id" || k == "name")
                        .map(|(_, v)| v.clone())
                })
                .collect()
        });
        ids.contains(id)
    }
}

/// `href` (a path relative to page `from`, without its fragment) as a path relative to the doc
/// root, or `None` if it leaves the doc root.
pub(crate) fn resolve(from: &str, href: &str) -> Option<String> {
    let mut parts: Vec<&str> = from.split('/').collect();
    parts.pop(); // the page's own file name
    for part in href.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    let mut path = parts.join("/");
    if href.ends_with('/') || href.is_empty() {
        path.push_str("/index.html");
    }
    Some(path)
}

/// Images, links and their fragments.
pub(crate) fn check_references(
    file: &str,
    html: &str,
    tokens: &[Token],
    site: &Site,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut report = |at: usize, what: String| {
        problems.push(Problem {
            file: file.to_string(),
            line: line_of(html, at),
            what,
        });
    };
    for t in tokens {
        let Token::Start { name, at, .. } = t else {
            continue;
        };
        if name == "img" {
            let src = t.attr("src").unwrap_or("");
            if src.starts_with("data:") {
                continue;
            }
            let exists = !src.contains(':')
                && resolve(file, src.split(['#', '?']).next().unwrap_or(""))
                    .is_some_and(|p| site.files.contains(&p));
            if !exists {
                report(
                    *at,
                    format!("image src is neither a data: URI nor an existing file: `{src}`"),
                );
            }
            continue;
        }
        if name != "a" && name != "link" {
            continue;
        }
        let Some(href) = t.attr("href") else {
            continue;
        };
        if href.is_empty() || href.contains(':') || href.starts_with("//") {
            continue; // an absolute URL (https:, mailto:, javascript:, ...): not ours to check
        }
        let (path, fragment) = href.split_once('#').unwrap_or((href, ""));
        let path = path.split('?').next().unwrap_or("");
        let target = if path.is_empty() {
            Some(file.to_string())
        } else {
            resolve(file, path)
        };
        let Some(target) = target else {
            report(*at, format!("link leaves the doc folder: `{href}`"));
            continue;
        };
        if !site.files.contains(&target) {
            report(
                *at,
                format!("broken link: `{href}` ({target} does not exist)"),
            );
            continue;
        }
        if fragment.is_empty() || !target.ends_with(".html") {
            continue;
        }
        // rustdoc's source pages take line ranges (`#12-40`) and have an id per line.
        let is_lines = target.starts_with("src/")
            && fragment
                .split('-')
                .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        let id = if is_lines {
            fragment.split('-').next().unwrap_or(fragment)
        } else {
            fragment
        };
        if !site.has_id(&target, id) {
            report(
                *at,
                format!("broken fragment: `{href}` ({target} has no id=\"{id}\")"),
            );
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_must_be_data_uris_or_existing_files() {
        let html = "<img src=\"data:image/svg+xml;base64,AAAA\"><img src=\"fig.svg\">\
                    <img src=\"../gone.svg\"><img src=\"https://example.com/x.svg\">";
        let site = Site::in_memory(&[("c/m/p.html", html), ("c/m/fig.svg", "<svg/>")]);
        let problems = check_references("c/m/p.html", html, &tokenize(html), &site);
        let what: Vec<_> = problems.iter().map(|p| p.what.as_str()).collect();
        assert_eq!(what.len(), 2, "{what:#?}");
        assert!(what[0].contains("../gone.svg"));
        assert!(what[1].contains("https://example.com/x.svg"));
    }
    #[test]
    fn broken_links_and_fragments_are_found() {
        let html = "<a href=\"../other/index.html#there\">ok</a>\
                    <a href=\"#here\" id=\"here\">ok</a>\
                    <a href=../other/index.html#nowhere>unquoted, bad fragment</a>\
                    <a href=\"../missing/index.html\">missing</a>\
                    <a href=\"#absent\">absent</a>\
                    <a href=\"../../../outside.html\">outside</a>\
                    <a href=\"https://docs.rs/x\">remote</a>\
                    <a href=\"../../src/c/lib.rs.html#1-2\">lines</a>\
                    <a href=\"../../src/c/lib.rs.html#9\">no such line</a>";
        let site = Site::in_memory(&[
            ("c/m/index.html", html),
            ("c/other/index.html", "<h2 id='there'>x</h2>"),
            (
                "src/c/lib.rs.html",
                "<a href=#1 id=1>1</a><a href=#2 id=2>2</a>",
            ),
        ]);
        let problems = check_references("c/m/index.html", html, &tokenize(html), &site);
        let what: Vec<_> = problems.iter().map(|p| p.what.as_str()).collect();
        assert_eq!(what.len(), 5, "{what:#?}");
        assert!(what[0].contains("broken fragment") && what[0].contains("#nowhere"));
        assert!(what[1].contains("broken link") && what[1].contains("missing"));
        assert!(what[2].contains("#absent"));
        assert!(what[3].contains("leaves the doc folder"));
        assert!(what[4].contains("#9"));
    }
    #[test]
    fn paths_resolve_against_the_page() {
        assert_eq!(
            resolve("c/m/index.html", "../x.html").as_deref(),
            Some("c/x.html")
        );
        assert_eq!(
            resolve("c/index.html", "m/").as_deref(),
            Some("c/m/index.html")
        );
        assert_eq!(resolve("c/index.html", "../../x.html"), None);
    }
}
