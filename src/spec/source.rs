//! Reading the learner's files as text: where a function starts and ends, whether it is still
//! its stub, which function a line belongs to, and the stub to put back (`--reset`).
//!
//! The practice files are plain Rust written by a learner, so this reads only what the stubs
//! fix: a function begins with a line `pub fn name(` at the start of a line, its signature
//! ends with the first line that ends with `{`, and its body ends with the first line that is
//! exactly `}`.

/// A function of a learner's file, found by [`function`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    /// Its name.
    pub name: String,
    /// The 1-based line of `pub fn name(`.
    pub line: usize,
    /// The 1-based line of its closing `}`.
    pub end_line: usize,
    /// Byte range of the whole function, from the start of its `pub fn` line to the end of its
    /// closing line (newline included).
    pub span: (usize, usize),
    /// Byte range of its body: after the signature's line, up to the closing line.
    pub body: (usize, usize),
}

impl Function {
    /// The body's text (between the signature's line and the closing `}`).
    pub fn body<'a>(&self, text: &'a str) -> &'a str {
        &text[self.body.0..self.body.1]
    }

    /// Whether the body is still a stub: one `todo!(…)`, `unimplemented!(…)` or `your_code!(…)`
    /// (with or without a path, with or without arguments), and nothing else but comments.
    pub fn is_stub(&self, text: &str) -> bool {
        let body: String = self
            .body(text)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("//"))
            .collect();
        let body = body.strip_suffix(';').unwrap_or(&body);
        let body = body
            .strip_prefix("ch03_attention::")
            .or_else(|| body.strip_prefix("std::"))
            .or_else(|| body.strip_prefix("core::"))
            .unwrap_or(body);
        let one_call = body.ends_with(')') && body.matches(";").count() == 0;
        one_call
            && ["todo!(", "unimplemented!(", "your_code!("]
                .iter()
                .any(|m| body.starts_with(m))
    }
}

/// Every `pub fn` of `text`, in order.
pub fn functions(text: &str) -> Vec<Function> {
    let mut found = Vec::new();
    let mut offset = 0;
    let mut open: Option<(String, usize, usize, Option<usize>)> = None; // name, line, start, body
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let number = index + 1;
        let end = offset + line.len();
        if open.is_none()
            && let Some(rest) = line.strip_prefix("pub fn ")
        {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if rest[name.len()..].starts_with('(') || rest[name.len()..].starts_with('<') {
                open = Some((name, number, offset, None));
            }
        }
        if let Some((name, first, start, body)) = &mut open {
            if body.is_none() {
                if line.trim_end().ends_with('{') {
                    *body = Some(end);
                }
            } else if line.trim_end() == "}" {
                found.push(Function {
                    name: std::mem::take(name),
                    line: *first,
                    end_line: number,
                    span: (*start, end),
                    body: (body.unwrap_or(end), offset),
                });
                open = None;
            }
        }
        offset = end;
    }
    found
}

/// The function called `name` in `text`.
pub fn function(text: &str, name: &str) -> Option<Function> {
    functions(text).into_iter().find(|f| f.name == name)
}

/// The function of `text` whose lines hold 1-based line `line`.
pub fn enclosing(text: &str, line: usize) -> Option<Function> {
    functions(text)
        .into_iter()
        .find(|f| f.line <= line && line <= f.end_line)
}

/// The function's text with its body replaced by its stub: the signature as written, then
/// `    ch03_attention::your_code!(a, b, …)` naming every parameter (or `    todo!()` when it
/// has none), then `}`.
pub fn stub_of(text: &str, function: &Function) -> String {
    let signature = &text[function.span.0..function.body.0];
    let arguments = parameters(signature);
    let body = if arguments.is_empty() {
        "    todo!()\n".to_string()
    } else {
        format!("    your_code!({})\n", arguments.join(", "))
    };
    format!("{signature}{body}}}\n")
}

/// The parameter names of a signature `pub fn f(a: A, b: &mut B) -> C {`.
fn parameters(signature: &str) -> Vec<String> {
    let Some(open) = signature.find('(') else {
        return Vec::new();
    };
    let mut depth = 0;
    let mut list = String::new();
    for c in signature[open + 1..].chars() {
        match c {
            '(' | '<' | '[' => depth += 1,
            ')' if depth == 0 => break,
            ')' | '>' | ']' => depth -= 1,
            _ => {}
        }
        list.push(c);
    }
    let mut names = Vec::new();
    let mut depth = 0;
    let mut piece = String::new();
    for c in list.chars().chain(std::iter::once(',')) {
        match c {
            '(' | '<' | '[' => depth += 1,
            ')' | '>' | ']' => depth -= 1,
            ',' if depth == 0 => {
                if let Some((name, _)) = piece.split_once(':') {
                    let name = name.trim().trim_start_matches("mut ").trim();
                    if !name.is_empty() {
                        names.push(name.to_string());
                    }
                }
                piece.clear();
                continue;
            }
            _ => {}
        }
        piece.push(c);
    }
    names
}

/// `text` with function `name` put back to its stub ([`stub_of`]); `None` when `text` has no
/// such function.
pub fn reset(text: &str, name: &str) -> Option<String> {
    let f = function(text, name)?;
    let mut out = text.to_string();
    out.replace_range(f.span.0..f.span.1, &stub_of(text, &f));
    Some(out)
}

/// A stub's body: `todo!()` that also counts its arguments as used, so an untouched stub
/// compiles without an "unused variable" warning while a written function still gets every
/// warning the compiler has for it. Replace the whole line with your code.
///
/// ```should_panic
/// fn softmax(scores: &[f32]) -> Vec<f32> {
///     ch03_attention::your_code!(scores)
/// }
/// softmax(&[1.0]); // panics: "not yet implemented: your code goes here"
/// ```
#[macro_export]
macro_rules! your_code {
    ($($argument:expr),* $(,)?) => {{
        $(let _ = &$argument;)*
        ::core::todo!("your code goes here")
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "//! doc\n\nuse x;\n\n/// f\npub fn f(a: &DMatrix<f32>, mut b: usize) -> u8 {\n    \
                        your_code!(a, b)\n}\n\n/// g\npub fn g(\n    rng: &mut TorchRng,\n    m: [u8; 3],\n) -> u8 {\n    \
                        let y = 1;\n    {\n        y\n    }\n}\n\nfn helper() {}\n\npub fn h() -> u8 {\n    todo!()\n}\n\npub fn i() -> u8 {\n    // later\n    std::unimplemented!(\"soon\");\n}\n\npub fn j() -> u8 {\n    let x = 1;\n    todo!()\n}\n";

    #[test]
    fn functions_are_found_with_their_lines_and_bodies() {
        let fs = functions(FILE);
        let names: Vec<&str> = fs.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["f", "g", "h", "i", "j"]);
        assert_eq!((fs[0].line, fs[0].end_line), (6, 8));
        assert_eq!((fs[1].line, fs[1].end_line), (11, 19));
        assert_eq!(fs[0].body(FILE), "    your_code!(a, b)\n");
        assert!(fs[0].is_stub(FILE));
        assert!(!fs[1].is_stub(FILE));
        assert!(fs[2].is_stub(FILE));
        assert!(fs[3].is_stub(FILE)); // a message, a path, a comment
        assert!(!fs[4].is_stub(FILE)); // code before the todo!()
        let after_todo = "pub fn k(x: u8) -> u8 {\n    todo!(); helper(x)\n}\n";
        assert!(!functions(after_todo)[0].is_stub(after_todo)); // code after the todo!()
        assert_eq!(enclosing(FILE, 15).map(|f| f.name), Some("g".to_string()));
        assert_eq!(enclosing(FILE, 21), None);
    }

    #[test]
    fn reset_writes_a_stub_naming_every_parameter() {
        let after = reset(FILE, "g").unwrap();
        assert!(after.contains(
            "pub fn g(\n    rng: &mut TorchRng,\n    m: [u8; 3],\n) -> u8 {\n    your_code!(rng, m)\n}\n\nfn helper"
        ));
        assert!(function(&after, "g").unwrap().is_stub(&after));
        assert_eq!(reset(FILE, "f").unwrap(), FILE); // a stub stays as it is
        assert!(
            reset(&after, "h")
                .unwrap()
                .contains("pub fn h() -> u8 {\n    todo!()\n}")
        );
        assert_eq!(reset(FILE, "nope"), None);
        assert_eq!(
            parameters("pub fn f(mut b: usize, c: (u8, u8)) {"),
            ["b", "c"]
        );
        assert_eq!(
            parameters("pub fn f(c: (u8, std::string::String), d: u8) {"),
            ["c", "d"]
        );
    }
}
