//! Checks the study guide as a reader gets it: the HTML that `cargo doc --no-deps` wrote under
//! `target/doc/ch03_attention/`.
//!
//! ```sh
//! cargo doc --no-deps && cargo run --quiet --example check_docs   # or: -- path/to/target/doc
//! ```
//!
//! It lists every problem with its file, line and the text around it, and exits non-zero if there
//! is one:
//!
//! * **unconverted math**: a `$` followed by LaTeX (`\cdot`, `\mathrm`, `_{`, `^{`) in the text
//!   of a page, outside `<code>`, `<pre>` and `<math>`: a formula build.rs did not turn into
//!   MathML, or one in a `///` comment, which build.rs never sees;
//! * **emphasis inside a formula**: an `<em>` or `<strong>` inside a `<math>` element. Markdown
//!   reads the MathML's text, so an underscore after a closing brace (`\mathrm{values}_u`) can open
//!   emphasis that swallows the rest of the formula, and the page shows its LaTeX source;
//! * **an HTML entity shown as text in a formula**: `&amp;nbsp;` in a `<math>` element (outside
//!   its LaTeX annotation), which the browser prints as `&nbsp;` (pulldown-latex writes `\ ` so);
//! * **reversed quotation marks**: an opening “ where a quotation is already open in the same
//!   block, or a closing ” with none open. Markdown's smart quotes turn the closing `"` of
//!   `"journey"의` into “ because a letter (the Hangul particle) follows it;
//! * **Hangul in code on a page whose code font has none**: rustdoc's code fonts have no Hangul,
//!   and build.rs's `<style>` (the fallback to the Korean font rustdoc ships) is only on the
//!   pages of `docs/*.md`; on the other pages a Korean label in a code span shows as boxes on a
//!   machine with no Korean font. (The source pages under `src/` show the files' string
//!   literals in the code font, and no style reaches them without a rustdoc flag: not checked.)
//! * **nalgebra links at another version than `Cargo.lock`'s**: a link to `docs.rs/nalgebra/…` in
//!   the text of the documentation. The links rustdoc writes itself, in signatures and
//!   re-exports, follow nalgebra's own `html_root_url` (0.25.0) unless nalgebra's documentation
//!   was built too (`cargo doc` without `--no-deps`); the flag that overrides it is unstable, so
//!   they are counted in a note, not reported;
//! * **images** whose `src` is neither a `data:` URI nor a file that exists;
//! * **broken links**: a relative `href` to a file that does not exist under `target/doc`, or a
//!   fragment `#id` with no `id="id"` in the page it points to;
//! * **a broken reading order**: the front page and each page listed in `docs/reading_order.txt`
//!   must have the navigation line build.rs injects at the top and at the bottom of the page, its
//!   Previous and Next links pointing to the page's neighbours in that file; every navigation line
//!   links back to the front page's Reading order.
//!
//! No dependency: a small HTML tokenizer is enough for rustdoc's output. Its own tests
//! (`cargo test --example check_docs`, also run by `cargo test`) show each check failing on a
//! small bad page.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The crate's folder under the doc root.
const CRATE: &str = "ch03_attention";
/// The class of the navigation elements build.rs injects.
const NAV_CLASS: &str = "reading-order-nav";

fn main() -> ExitCode {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc_root = match std::env::args_os().nth(1) {
        Some(dir) => PathBuf::from(dir),
        None => std::env::var_os("CARGO_TARGET_DIR")
            .map_or_else(|| manifest.join("target"), PathBuf::from)
            .join("doc"),
    };
    if !doc_root.join(CRATE).join("index.html").is_file() {
        eprintln!(
            "check_docs: no {}/{CRATE}/index.html: run `cargo doc --no-deps` first",
            doc_root.display()
        );
        return ExitCode::FAILURE;
    }
    let order_file = manifest.join("docs/reading_order.txt");
    let order = match fs::read_to_string(&order_file) {
        Ok(text) => reading_order(&text),
        Err(e) => {
            eprintln!("check_docs: {}: {e}", order_file.display());
            return ExitCode::FAILURE;
        }
    };
    let mut site = Site::on_disk(&doc_root);
    site.nalgebra = fs::read_to_string(manifest.join("Cargo.lock"))
        .ok()
        .and_then(|lock| locked_version(&lock, "nalgebra"));
    let mut pages: Vec<&String> = site
        .files
        .iter()
        .filter(|f| f.starts_with(&format!("{CRATE}/")) && f.ends_with(".html"))
        .collect();
    pages.sort();
    let mut problems = Vec::new();
    for page in &pages {
        let html = site.html(page).expect("listed page is readable");
        problems.extend(check_page(page, &html, &site));
    }
    problems.extend(check_reading_order(&order, &site));
    for p in &problems {
        println!("{p}");
    }
    if let Some(locked) = &site.nalgebra {
        let generated: usize = pages
            .iter()
            .map(|page| {
                let html = site.html(page).unwrap_or_default();
                nalgebra_links(&tokenize(&html))
                    .iter()
                    .filter(|l| !l.in_docblock && l.version != *locked)
                    .count()
            })
            .sum();
        if generated > 0 {
            println!(
                "check_docs: note: {generated} links rustdoc wrote in signatures and re-exports \
                 go to docs.rs/nalgebra at nalgebra's own html_root_url, not at {locked} \
                 (Cargo.lock); `cargo doc` without --no-deps links them to the local copy"
            );
        }
    }
    if problems.is_empty() {
        println!(
            "check_docs: {} pages under {}/{CRATE}: math, quotation marks, Hangul in code, \
             images, links and the reading order ({} pages) are fine",
            pages.len(),
            doc_root.display(),
            order.len() + 1
        );
        ExitCode::SUCCESS
    } else {
        println!("check_docs: {} problem(s)", problems.len());
        ExitCode::FAILURE
    }
}

/// One finding: where, and what is wrong.
#[derive(Debug, Clone, PartialEq)]
struct Problem {
    /// The page, relative to the doc root.
    file: String,
    /// 1-based line in the HTML (0 when the whole page is meant).
    line: usize,
    what: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.what)
    }
}

/// The modules of `docs/reading_order.txt`, in order.
fn reading_order(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split(' ').next().unwrap_or(l).to_string())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The site: which files exist, and the ids of its pages.

/// The files under the doc root, by path relative to it with `/` separators.
struct Site {
    root: PathBuf,
    files: HashSet<String>,
    /// Pages given as text (tests); the others are read from `root`.
    memory: HashMap<String, String>,
    ids: RefCell<HashMap<String, HashSet<String>>>,
    /// nalgebra's version in `Cargo.lock`, if known.
    nalgebra: Option<String>,
}

impl Site {
    fn on_disk(root: &Path) -> Site {
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
    fn in_memory(pages: &[(&str, &str)]) -> Site {
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

    fn html(&self, rel: &str) -> Option<String> {
        match self.memory.get(rel) {
            Some(text) => Some(text.clone()),
            None => fs::read_to_string(self.root.join(rel)).ok(),
        }
    }

    /// Whether page `rel` has an element with this id.
    fn has_id(&self, rel: &str, id: &str) -> bool {
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
fn resolve(from: &str, href: &str) -> Option<String> {
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

// ---------------------------------------------------------------------------------------------
// A tokenizer for rustdoc's HTML: start tags with their attributes, end tags, text.

#[derive(Debug)]
enum Token<'a> {
    Start {
        name: String,
        attrs: Vec<(String, String)>,
        at: usize,
    },
    End {
        name: String,
        at: usize,
    },
    Text {
        text: &'a str,
        at: usize,
    },
}

impl Token<'_> {
    fn at(&self) -> usize {
        match self {
            Token::Start { at, .. } | Token::End { at, .. } | Token::Text { at, .. } => *at,
        }
    }

    fn is_start(&self, tag: &str) -> bool {
        matches!(self, Token::Start { name, .. } if name == tag)
    }

    fn is_end(&self, tag: &str) -> bool {
        matches!(self, Token::End { name, .. } if name == tag)
    }

    fn attr(&self, key: &str) -> Option<&str> {
        match self {
            Token::Start { attrs, .. } => attrs
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str()),
            _ => None,
        }
    }

    fn has_class(&self, class: &str) -> bool {
        self.attr("class")
            .is_some_and(|c| c.split_whitespace().any(|c| c == class))
    }
}

fn tokenize(html: &str) -> Vec<Token<'_>> {
    let bytes = html.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'<' {
            let end = html[i..].find('<').map_or(html.len(), |p| i + p);
            tokens.push(Token::Text {
                text: &html[i..end],
                at: i,
            });
            i = end;
            continue;
        }
        if html[i..].starts_with("<!--") {
            i = html[i..].find("-->").map_or(html.len(), |p| i + p + 3);
            continue;
        }
        if html[i..].starts_with("<!") || html[i..].starts_with("<?") {
            i = html[i..].find('>').map_or(html.len(), |p| i + p + 1);
            continue;
        }
        let at = i;
        let closing = bytes.get(i + 1) == Some(&b'/');
        let mut j = i + 1 + usize::from(closing);
        let name_start = j;
        while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'-') {
            j += 1;
        }
        if j == name_start {
            // A lone `<` in text.
            tokens.push(Token::Text {
                text: &html[i..i + 1],
                at: i,
            });
            i += 1;
            continue;
        }
        let name = html[name_start..j].to_ascii_lowercase();
        let mut attrs = Vec::new();
        loop {
            while j < bytes.len() && (bytes[j].is_ascii_whitespace() || bytes[j] == b'/') {
                j += 1;
            }
            if j >= bytes.len() || bytes[j] == b'>' {
                j += 1;
                break;
            }
            let key_start = j;
            while j < bytes.len() && !b" \t\r\n=>/".contains(&bytes[j]) {
                j += 1;
            }
            let key = html[key_start..j].to_ascii_lowercase();
            let mut value = String::new();
            if bytes.get(j) == Some(&b'=') {
                j += 1;
                match bytes.get(j) {
                    Some(&q @ (b'"' | b'\'')) => {
                        let end = html[j + 1..]
                            .find(q as char)
                            .map_or(html.len(), |p| j + 1 + p);
                        value = decode(&html[j + 1..end]);
                        j = end + 1;
                    }
                    _ => {
                        let start = j;
                        while j < bytes.len() && !bytes[j].is_ascii_whitespace() && bytes[j] != b'>'
                        {
                            j += 1;
                        }
                        value = decode(&html[start..j]);
                    }
                }
            }
            attrs.push((key, value));
        }
        i = j.min(html.len());
        if closing {
            tokens.push(Token::End { name, at });
            continue;
        }
        let raw = name == "script" || name == "style";
        tokens.push(Token::Start {
            name: name.clone(),
            attrs,
            at,
        });
        if raw {
            // Script and style contents are not text; skip to the end tag.
            let end_tag = format!("</{name}");
            let end = html[i..].find(&end_tag).map_or(html.len(), |p| i + p);
            i = end;
        }
    }
    tokens
}

/// The character references rustdoc writes in attribute values.
fn decode(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn line_of(html: &str, at: usize) -> usize {
    html[..at.min(html.len())].matches('\n').count() + 1
}

/// Up to `n` characters from byte `at`, on one line.
fn snippet(s: &str, n: usize) -> String {
    s.chars()
        .take(n)
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

// ---------------------------------------------------------------------------------------------
// The checks of one page.

fn check_page(file: &str, html: &str, site: &Site) -> Vec<Problem> {
    let tokens = tokenize(html);
    let mut problems = check_math(file, html, &tokens);
    problems.extend(check_math_emphasis(file, html, &tokens));
    problems.extend(check_math_entities(file, html, &tokens));
    problems.extend(check_quotation_marks(file, html, &tokens));
    problems.extend(check_hangul_in_code(file, html, &tokens));
    problems.extend(check_references(file, html, &tokens, site));
    if let Some(locked) = &site.nalgebra {
        problems.extend(check_nalgebra_links(file, html, &tokens, locked));
    }
    problems
}

/// Elements whose text is not prose: `$` is expected there.
const NOT_PROSE: [&str; 6] = ["code", "pre", "math", "script", "style", "kbd"];

/// A `$` followed by LaTeX in the page's prose.
fn check_math(file: &str, html: &str, tokens: &[Token]) -> Vec<Problem> {
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
fn check_math_emphasis(file: &str, html: &str, tokens: &[Token]) -> Vec<Problem> {
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
fn check_math_entities(file: &str, html: &str, tokens: &[Token]) -> Vec<Problem> {
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
fn check_quotation_marks(file: &str, html: &str, tokens: &[Token]) -> Vec<Problem> {
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

/// The version of package `name` in a `Cargo.lock`, if it holds exactly one.
fn locked_version(lock: &str, name: &str) -> Option<String> {
    let versions: Vec<&str> = lock
        .split("[[package]]")
        .filter(|p| p.contains(&format!("\nname = \"{name}\"\n")))
        .filter_map(|p| p.split("\nversion = \"").nth(1)?.split('"').next())
        .collect();
    (versions.len() == 1).then(|| versions[0].to_string())
}

/// A link to nalgebra's documentation on docs.rs.
struct NalgebraLink {
    at: usize,
    href: String,
    version: String,
    /// In a `div.docblock` (the text of the documentation), not in a signature rustdoc wrote.
    in_docblock: bool,
}

/// Every `https://docs.rs/nalgebra/<version>/…` link of a page.
fn nalgebra_links(tokens: &[Token]) -> Vec<NalgebraLink> {
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
fn check_nalgebra_links(file: &str, html: &str, tokens: &[Token], locked: &str) -> Vec<Problem> {
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

fn is_hangul(c: char) -> bool {
    matches!(c, '\u{AC00}'..='\u{D7AF}' | '\u{1100}'..='\u{11FF}' | '\u{3130}'..='\u{318F}')
}

/// Hangul in `<code>` or `<pre>` on a page whose code font has no Korean fallback. rustdoc's
/// code fonts have no Hangul; build.rs's `<style>` makes them fall back to the Korean font
/// rustdoc ships, but it reaches only the study guide's pages (`docs/*.md`). On any other page
/// (an item's `///` comment, a module's `//!`), keep Hangul out of code spans.
fn check_hangul_in_code(file: &str, html: &str, tokens: &[Token]) -> Vec<Problem> {
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

/// Images, links and their fragments.
fn check_references(file: &str, html: &str, tokens: &[Token], site: &Site) -> Vec<Problem> {
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

// ---------------------------------------------------------------------------------------------
// The reading order.

/// The page of each stop: the front page, then each module's.
fn stop_page(module: Option<&str>) -> String {
    match module {
        None => format!("{CRATE}/index.html"),
        Some(m) => format!("{CRATE}/{m}/index.html"),
    }
}

/// The front page and every page of `order` have the injected navigation at the top and bottom of
/// their documentation, with Previous and Next pointing to their neighbours in `order`.
fn check_reading_order(order: &[String], site: &Site) -> Vec<Problem> {
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

    fn page(doc: &str) -> String {
        format!(
            "<!DOCTYPE html><html><head><style>p {{ }}</style></head><body>\
             <h1>Module</h1><details class=\"toggle top-doc\" open><summary></summary>\
             <div class=\"docblock\">{doc}</div></details>\
             <h2 id=\"modules\">Modules</h2></body></html>"
        )
    }

    fn nav(previous: &str, next: &str) -> String {
        format!(
            "<nav class=\"reading-order-nav\">\n<p>← Previous: <a href=\"{previous}\">p</a> · \
             <a href=\"../index.html#reading-order\">Reading order</a> · Next: \
             <a href=\"{next}\">n</a> →</p>\n</nav>"
        )
    }

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
