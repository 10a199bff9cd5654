//! JSON text for the command-line tools' `--json` output (`cargo run -- diagnose --json`, the
//! practice package's `--json`): the one piece of JSON writing they share, so the crate needs no
//! serialization dependency.

/// `s` as a JSON string literal, quotes included: `"` and `\` escaped, control characters
/// (and DEL) as `\n`, `\r`, `\t` or `\u00XX`.
///
/// ```
/// use ch03_attention::json::string;
/// assert_eq!(string("a\"b\\c\nd\u{1}ω"), r#""a\"b\\c\nd\u0001ω""#);
/// ```
pub fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
