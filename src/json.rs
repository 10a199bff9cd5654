//! JSON text for the command-line tools' `--json` output (`cargo run -- diagnose --json`, the
//! practice package's `--json`): the one piece of JSON writing they share, so the crate needs no
//! serialization dependency.

/// `s` as a JSON string literal, quotes included: `"` and `\` escaped, control characters
/// (and DEL) as `\n`, `\r`, `\t` or `\u00XX`.
///
/// ```
/// use ch03_attention::json::string;
/// assert_eq!(string("a\"b\\c\nd\u{1}ω"), r#""a\"b\\c\nd\u0001ω""#);
/// assert_eq!(string("a b\u{7f}"), r#""a b\u007f""#); // a space is not a control character
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

#[cfg(test)]
mod tests {
    /// Every escape, and the characters at the edges of the control range that are left alone.
    #[test]
    fn escapes_exactly_the_control_characters() {
        assert_eq!(super::string("\"\\\n\r\t"), r#""\"\\\n\r\t""#);
        assert_eq!(
            super::string("\u{0}\u{1f}\u{7f}"),
            r#""\u0000\u001f\u007f""#
        );
        assert_eq!(super::string(" ~\u{80}ω"), "\" ~\u{80}ω\"");
    }
}
