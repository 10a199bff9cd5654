//! Prepares the study guide: every `docs/*.md` page is copied to `$OUT_DIR/docs/` with
//!
//! * LaTeX math (`$…$` inline, `$$…$$` on lines of their own) turned into MathML, which every
//!   current browser renders natively: `cargo doc` shows real math with no flag, no network and no
//!   JavaScript. The LaTeX stays in the page as the MathML annotation and in `docs/*.md` as the
//!   readable plain-text source.
//! * Markdown images `![alt](figures/name.svg)` turned into inline data URIs, so the figures travel
//!   with the generated HTML.
//!
//! Code blocks and inline code are left untouched, so doctests and shell snippets keep their `$`.

use std::fs;
use std::path::Path;

use pulldown_latex::config::DisplayMode;
use pulldown_latex::{Parser, RenderConfig, Storage, push_mathml};

fn main() {
    println!("cargo:rerun-if-changed=docs");
    println!("cargo:rerun-if-changed=build.rs");
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let out = Path::new(&out_dir).join("docs");
    fs::create_dir_all(&out).expect("create OUT_DIR/docs");
    let mut pages: Vec<_> = fs::read_dir("docs")
        .expect("docs/ folder")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    pages.sort();
    for page in pages {
        let text = fs::read_to_string(&page).expect("read docs page");
        let mut rendered = render_page(&text, &page);
        // rustdoc makes every block of a doc page a horizontal scroll container, which gives a
        // paragraph with a tall formula (a fraction, a sum) a stray scroll bar. Let blocks that
        // hold math overflow visibly instead. At the end of the page, so it never becomes the
        // page's one-line summary.
        rendered.push_str(
            "\n<style>.docblock > *:has(math) { overflow: visible !important; }</style>\n",
        );
        fs::write(out.join(page.file_name().unwrap()), rendered).expect("write rendered page");
    }
}

fn render_page(text: &str, page: &Path) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    let mut in_fence = false;
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
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
            for inner in lines.by_ref() {
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
        out.push_str(&render_inline(line, page));
        out.push('\n');
    }
    out
}

/// Converts `$…$` and `![alt](figures/x.svg)` outside inline code spans.
fn render_inline(line: &str, page: &Path) -> String {
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
            '$' if chars.get(i + 1).is_some_and(|c| !c.is_whitespace()) => {
                let close = chars[i + 1..].iter().position(|&c| c == '$');
                match close {
                    Some(p) => {
                        let tex: String = chars[i + 1..i + 1 + p].iter().collect();
                        out.push_str(&mathml(&tex, DisplayMode::Inline, page));
                        i += p + 2;
                    }
                    None => {
                        out.push('$');
                        i += 1;
                    }
                }
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
        // First build of a new figure: the example that draws it needs this crate built first.
        println!(
            "cargo:warning={}: figure {rel} is missing; run `cargo run --example figures`",
            page.display()
        );
        return format!("*(figure `{rel}` not generated yet: run `cargo run --example figures`)*");
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
