//! Checks the study guide as a reader gets it: the HTML that `cargo doc --no-deps` wrote under
//! `target/doc/ch03_attention/`.
//!
//! ```sh
//! cargo doc --no-deps && cargo xtask check-docs   # or: cargo xtask check-docs path/to/target/doc
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
//! No dependency: a small HTML tokenizer ([`html`]) is enough for rustdoc's output. The site
//! ([`site`]: its files, their ids, and the images and links that must resolve in it) and the
//! checks of one page ([`math`], [`text`] for quotation marks and Hangul in code, [`nalgebra`])
//! and of the reading order ([`navigation`]) each have a module. Their own tests
//! (`cargo test -p xtask`, which CI runs) show each check failing on a small bad page.

mod html;
mod math;
mod nalgebra;
mod navigation;
mod site;
mod text;

use std::ffi::OsString;
use std::fmt;
use std::fs;
use std::path::PathBuf;
use std::process::ExitCode;

use html::tokenize;
use math::{check_math, check_math_emphasis, check_math_entities};
use nalgebra::{check_nalgebra_links, locked_version, nalgebra_links};
use navigation::{check_reading_order, reading_order};
use site::{Site, check_references};
use text::{check_hangul_in_code, check_quotation_marks};

/// The crate's folder under the doc root.
pub(crate) const CRATE: &str = "ch03_attention";
/// The class of the navigation elements build.rs injects.
pub(crate) const NAV_CLASS: &str = "reading-order-nav";

/// `cargo xtask check-docs [doc root]`: checks the pages under `doc_root` (by default the
/// `doc/` folder of `$CARGO_TARGET_DIR`, or of the workspace's `target/`), prints every problem
/// and a summary, and fails if there is a problem or no documentation.
pub fn run(doc_root: Option<OsString>) -> ExitCode {
    let root = crate::workspace_root();
    let doc_root = match doc_root {
        Some(dir) => PathBuf::from(dir),
        None => std::env::var_os("CARGO_TARGET_DIR")
            .map_or_else(|| root.join("target"), PathBuf::from)
            .join("doc"),
    };
    if !doc_root.join(CRATE).join("index.html").is_file() {
        eprintln!(
            "check_docs: no {}/{CRATE}/index.html: run `cargo doc --no-deps` first",
            doc_root.display()
        );
        return ExitCode::FAILURE;
    }
    let order_file = root.join("docs/reading_order.txt");
    let order = match fs::read_to_string(&order_file) {
        Ok(text) => reading_order(&text),
        Err(e) => {
            eprintln!("check_docs: {}: {e}", order_file.display());
            return ExitCode::FAILURE;
        }
    };
    let mut site = Site::on_disk(&doc_root);
    site.nalgebra = fs::read_to_string(root.join("Cargo.lock"))
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
pub(crate) struct Problem {
    /// The page, relative to the doc root.
    pub(crate) file: String,
    /// 1-based line in the HTML (0 when the whole page is meant).
    pub(crate) line: usize,
    pub(crate) what: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.what)
    }
}

/// The checks of one page.
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

#[cfg(test)]
pub(crate) mod tests {
    pub(crate) fn page(doc: &str) -> String {
        format!(
            "<!DOCTYPE html><html><head><style>p {{ }}</style></head><body>\
             <h1>Module</h1><details class=\"toggle top-doc\" open><summary></summary>\
             <div class=\"docblock\">{doc}</div></details>\
             <h2 id=\"modules\">Modules</h2></body></html>"
        )
    }
}
