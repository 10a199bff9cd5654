//! Prepares the study guide: every `docs/*.md` page is copied to `$OUT_DIR/docs/` with
//!
//! * LaTeX math (`$…$` inline, `$$…$$` on lines of their own) turned into MathML, which every
//!   current browser renders natively: `cargo doc` shows real math with no flag, no network and no
//!   JavaScript. The LaTeX stays in the page as the MathML annotation and in `docs/*.md` as the
//!   readable plain-text source. An inline formula may wrap across lines of a paragraph; one that
//!   is never closed fails the build, naming the page and line.
//! * Markdown images `![alt](figures/name.svg)` turned into inline data URIs, so the figures travel
//!   with the generated HTML.
//! * A navigation line at the top and bottom of each page, from `docs/reading_order.txt` (the one
//!   place the reading order is declared): "← Previous · Reading order · Next →" on the pages of
//!   the chain, a link back to the reading order on the other pages.
//!
//! * The link `` [`nalgebra`] `` pointed at the nalgebra version in `Cargo.lock`. As an intra-doc
//!   link it would follow nalgebra's own `#![doc(html_root_url = …)]`, which still names 0.25.0;
//!   rustdoc's override of that (`--extern-html-root-url`) is unstable. rustdoc links the types in
//!   signatures (`DMatrix`, …) that way all the same; `cargo doc` with the dependencies links
//!   them to the local copy instead.
//!
//! Code blocks and inline code are left untouched, so doctests and shell snippets keep their `$`.

use std::fs;
use std::path::Path;

use pulldown_latex::config::DisplayMode;
use pulldown_latex::{Parser, RenderConfig, Storage, push_mathml};

/// The file that declares the reading order.
const READING_ORDER: &str = "docs/reading_order.txt";

/// The injected CSS, at the end of every page (so it never becomes the page's one-line summary).
///
/// rustdoc makes every block of a doc page a horizontal scroll container, which gives a paragraph
/// with a tall formula (a fraction, a sum) a stray scroll bar: blocks that hold math overflow
/// visibly instead. The math font stack gives ∑ and stretchy parentheses a font that has them
/// (Chromium on Linux otherwise picks a text font). The navigation lines get a paragraph's margin.
///
/// Hangul: rustdoc ships a Korean font, `NanumBarunGothic` (`static.files/`), and lists it in the
/// body text's font stack only. Its code fonts (Source Code Pro; Fira Mono with the "sans serif
/// fonts" setting, whose text stack also lacks it) have no Hangul, so a Korean label in a code span
/// (`어텐션 가중치:`) showed as boxes on a machine with no Korean system font. Every stack here
/// falls back to the shipped font, which the browser fetches from `static.files/` only for
/// Hangul (its `unicode-range`): no system font, no network. `cargo xtask check-docs` reports
/// Hangul in code on a page without this style.
const STYLE: &str = "<style>.docblock > *:has(math) { overflow: visible !important; } \
.docblock > nav.reading-order-nav { margin: 0.75em 0; } \
:root { --font-family-code: \"Source Code Pro\", NanumBarunGothic, monospace; } \
:root.sans-serif-fonts { --font-family: \"Fira Sans\", NanumBarunGothic, sans-serif; \
--font-family-code: \"Fira Mono\", NanumBarunGothic, monospace; } \
math { font-family: \"STIX Two Math\", \"Latin Modern Math\", \"DejaVu Math TeX Gyre\", \
\"Cambria Math\", math, NanumBarunGothic; }</style>";

fn main() {
    println!("cargo:rerun-if-changed=docs");
    println!("cargo:rerun-if-changed={READING_ORDER}");
    println!("cargo:rerun-if-changed=build.rs");
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let out = Path::new(&out_dir).join("docs");
    fs::create_dir_all(&out).expect("create OUT_DIR/docs");
    let order = reading_order();
    let nalgebra = nalgebra_docs();
    let mut pages: Vec<_> = fs::read_dir("docs")
        .expect("docs/ folder")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    pages.sort();
    for page in pages {
        let text = fs::read_to_string(&page).expect("read docs page");
        let stem = page.file_stem().unwrap().to_str().expect("UTF-8 page name");
        let nav = navigation(&order, stem);
        let mut rendered = render_page(&text, &page);
        rendered = with_navigation(&rendered, &nav, &page);
        rendered.push_str(&format!("\n[`nalgebra`]: {nalgebra}\n\n"));
        rendered.push_str(STYLE);
        rendered.push('\n');
        fs::write(out.join(page.file_name().unwrap()), rendered).expect("write rendered page");
    }
}

/// nalgebra's documentation on docs.rs, at the version `Cargo.lock` holds (the lock file of this
/// package's workspace); without a lock file (this crate built as a dependency), at the version
/// requirement of `Cargo.toml`, which docs.rs resolves to its newest match.
fn nalgebra_docs() -> String {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let lock = Path::new(&manifest)
        .ancestors()
        .map(|dir| dir.join("Cargo.lock"))
        .find(|lock| lock.is_file());
    let locked = lock.and_then(|lock| {
        println!("cargo:rerun-if-changed={}", lock.display());
        let text = fs::read_to_string(&lock).ok()?;
        let versions: Vec<&str> = text
            .split("[[package]]")
            .filter(|p| p.contains("\nname = \"nalgebra\"\n"))
            .filter_map(|p| p.split("\nversion = \"").nth(1)?.split('"').next())
            .collect();
        // Two versions of nalgebra in one lock file: say nothing rather than pick one.
        (versions.len() == 1).then(|| versions[0].to_string())
    });
    let version = locked.unwrap_or_else(|| {
        let toml = fs::read_to_string("Cargo.toml").expect("read Cargo.toml");
        toml.lines()
            .find(|l| l.starts_with("nalgebra = "))
            .and_then(|l| l.split("version = \"").nth(1)?.split('"').next())
            .expect("Cargo.toml: a `nalgebra = { version = \"…\" … }` dependency")
            .to_string()
    });
    format!("https://docs.rs/nalgebra/{version}/nalgebra/")
}

/// One page of the reading order: its module and how the navigation describes it.
struct Stop {
    module: String,
    label: String,
}

/// Reads `docs/reading_order.txt`: one module per line, then its label; `#` starts a comment.
/// Panics when a module has no page or appears twice.
fn reading_order() -> Vec<Stop> {
    let text = fs::read_to_string(READING_ORDER)
        .unwrap_or_else(|e| panic!("{READING_ORDER}: cannot read the reading order: {e}"));
    let mut order: Vec<Stop> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (module, label) = line.split_once(' ').unwrap_or((line, ""));
        let page = Path::new("docs").join(format!("{module}.md"));
        assert!(
            page.is_file(),
            "{READING_ORDER}:{}: module `{module}` is in the reading order but has no page {}",
            n + 1,
            page.display()
        );
        assert!(
            order.iter().all(|s| s.module != module),
            "{READING_ORDER}:{}: module `{module}` appears twice in the reading order",
            n + 1
        );
        order.push(Stop {
            module: module.to_string(),
            label: label.trim().to_string(),
        });
    }
    assert!(!order.is_empty(), "{READING_ORDER}: no module listed");
    order
}

/// The navigation line of page `stem` (`crate` is the front page, where the order starts).
fn navigation(order: &[Stop], stem: &str) -> String {
    let link = |s: &Stop| {
        let label = if s.label.is_empty() {
            String::new()
        } else {
            format!(" ({})", s.label)
        };
        format!("[`{0}`](crate::{0}){label}", s.module)
    };
    let home = "[Reading order](crate#reading-order)";
    if stem == "crate" {
        return format!("{home} · Next: {} →", link(&order[0]));
    }
    let Some(i) = order.iter().position(|s| s.module == stem) else {
        return "← Back to the [reading order](crate#reading-order)".to_string();
    };
    let previous = match i {
        0 => "[the front page](crate)".to_string(),
        _ => link(&order[i - 1]),
    };
    match order.get(i + 1) {
        Some(next) => format!("← Previous: {previous} · {home} · Next: {} →", link(next)),
        None => format!("← Previous: {previous} · {home} · the end of the reading order"),
    }
}

/// Takes the page's `# ` title off (the module's source file writes it as its first `//! # …` line,
/// so that an editor shows it; `tests/docs.rs` checks the two agree) and puts `nav` at the start
/// and at the end of the rest, each in a `<nav class="reading-order-nav">` that
/// `cargo xtask check-docs` looks for. Rustdoc joins the two: the title, then the navigation.
fn with_navigation(rendered: &str, nav: &str, page: &Path) -> String {
    let block = format!("<nav class=\"reading-order-nav\">\n\n{nav}\n\n</nav>\n");
    let (title, rest) = rendered.split_once('\n').unwrap_or((rendered, ""));
    assert!(
        title.starts_with("# "),
        "{}: the first line must be the page's `# ` title, for the navigation to go under it",
        page.display()
    );
    format!("{block}{}\n\n{block}", rest.trim_end())
}

fn render_page(text: &str, page: &Path) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    let mut in_fence = false;
    let mut lines = text.lines().enumerate().peekable();
    while let Some((n, line)) = lines.next() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") {
            in_fence = !in_fence;
            out.push_str(line);
            out.push('\n');
            continue;
        }
        if in_fence {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        if trimmed == "$$" {
            // Display math: every line up to the closing `$$`.
            let mut tex = String::new();
            for (_, inner) in lines.by_ref() {
                if inner.trim() == "$$" {
                    break;
                }
                tex.push_str(inner);
                tex.push('\n');
            }
            // Wrapped in a block of its own: rustdoc lets direct children of a doc block scroll,
            // which would give tall formulas a scroll bar.
            out.push_str("<div style=\"padding: 0.25em 0\">");
            out.push_str(&mathml(tex.trim(), DisplayMode::Block, page));
            out.push_str("</div>\n");
            continue;
        }
        // An inline formula (or code span) that wraps onto the next line of its paragraph: join
        // the lines, as Markdown would (a line break in a paragraph is a space).
        let mut joined = line.to_string();
        while open_at_end(&joined) {
            let Some((_, next)) = lines.next_if(|(_, l)| continues_paragraph(l)) else {
                break;
            };
            joined.push(' ');
            joined.push_str(next.trim_start());
        }
        out.push_str(&render_inline(&joined, page, n + 1));
        out.push('\n');
    }
    out
}

/// Whether `line` continues the paragraph above it (not blank, not a fence, not display math).
fn continues_paragraph(line: &str) -> bool {
    let t = line.trim();
    !t.is_empty() && !t.starts_with("```") && t != "$$"
}

/// Whether a code span or an inline formula is still open at the end of `line`, read as
/// `render_inline` reads it.
fn open_at_end(line: &str) -> bool {
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '`' => match chars[i + 1..].iter().position(|&c| c == '`') {
                Some(p) => i += p + 2,
                None => return true,
            },
            '$' if opens_math(&chars, i) => match chars[i + 1..].iter().position(|&c| c == '$') {
                Some(p) => i += p + 2,
                None => return true,
            },
            _ => i += 1,
        }
    }
    false
}

/// A `$` opens inline math when a non-space character follows it.
fn opens_math(chars: &[char], i: usize) -> bool {
    chars[i] == '$' && chars.get(i + 1).is_some_and(|c| !c.is_whitespace())
}

/// Converts `$…$` and `![alt](figures/x.svg)` outside inline code spans. `line` (a source line,
/// or several joined) starts at line `n` of `page`; a `$…$` left open panics, naming both.
fn render_inline(line: &str, page: &Path, n: usize) -> String {
    let mut out = String::new();
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '`' => {
                // Copy an inline code span verbatim.
                let end = chars[i + 1..]
                    .iter()
                    .position(|&c| c == '`')
                    .map_or(chars.len(), |p| i + 1 + p + 1);
                out.extend(&chars[i..end]);
                i = end;
            }
            '$' if opens_math(&chars, i) => {
                let Some(p) = chars[i + 1..].iter().position(|&c| c == '$') else {
                    let rest: String = chars[i..].iter().take(60).collect();
                    panic!(
                        "{}:{n}: inline math is never closed in its paragraph, so it would show \
                         as raw LaTeX: `{rest}`",
                        page.display()
                    );
                };
                let tex: String = chars[i + 1..i + 1 + p].iter().collect();
                out.push_str(&mathml(&tex, DisplayMode::Inline, page));
                i += p + 2;
            }
            '!' if chars.get(i + 1) == Some(&'[') => {
                let rest: String = chars[i..].iter().collect();
                match parse_image(&rest) {
                    Some((alt, path, consumed)) => {
                        out.push_str(&image(&alt, &path, page));
                        i += consumed;
                    }
                    None => {
                        out.push('!');
                        i += 1;
                    }
                }
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// `![alt](path)` → (alt, path, chars consumed).
fn parse_image(s: &str) -> Option<(String, String, usize)> {
    let close_alt = s.find("](")?;
    let alt = &s[2..close_alt];
    let rest = &s[close_alt + 2..];
    let close = rest.find(')')?;
    let path = &rest[..close];
    if !path.ends_with(".svg") {
        return None;
    }
    let consumed = s[..close_alt + 2 + close + 1].chars().count();
    Some((alt.to_string(), path.to_string(), consumed))
}

fn image(alt: &str, rel: &str, page: &Path) -> String {
    let path = page.parent().unwrap().join(rel);
    println!("cargo:rerun-if-changed={}", path.display());
    let Ok(svg) = fs::read(&path) else {
        // First build of a new figure: `cargo xtask figures` draws it, once this crate builds.
        println!(
            "cargo:warning={}: figure {rel} is missing; run `cargo xtask figures`",
            page.display()
        );
        return format!("*(figure `{rel}` not generated yet: run `cargo xtask figures`)*");
    };
    format!(
        "<img alt=\"{}\" src=\"data:image/svg+xml;base64,{}\" style=\"max-width:100%\">",
        alt.replace('"', "&quot;"),
        base64(&svg)
    )
}

fn mathml(tex: &str, mode: DisplayMode, page: &Path) -> String {
    let storage = Storage::new();
    let parser = Parser::new(tex, &storage);
    let config = RenderConfig {
        display_mode: mode,
        annotation: Some(tex),
        ..RenderConfig::default()
    };
    let mut html = String::new();
    let mut errors = Vec::new();
    let events = parser.inspect(|ev| {
        if let Err(e) = ev {
            errors.push(e.to_string());
        }
    });
    push_mathml(&mut html, events, config).expect("writing to a String cannot fail");
    assert!(
        errors.is_empty(),
        "{}: bad LaTeX `{tex}`: {errors:?}",
        page.display()
    );
    // One line, so Markdown keeps the whole element as inline HTML.
    html.replace('\n', " ")
}

fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(T[((n >> (18 - 6 * k)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
