//! Reading nested lists of numbers, `[[0.1, 0.2], [0.3, 0.4]]`, and finding brackets' partners.

use super::input::BadInput;
use super::number;

/// (line, column) of byte `at`, both from 1.
pub(super) fn position(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The position of the byte closing the bracket opened just before `from` (`open` … `close`,
/// nesting counted, quoted text skipped), or `None` if it never closes.
pub(super) fn closing(text: &str, from: usize, open: u8, close: u8) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote: Option<u8> = None;
    for (i, &b) in text.as_bytes()[from..].iter().enumerate() {
        match (quote, b) {
            (Some(q), _) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'\'' | b'"') => quote = Some(b),
            (None, _) if b == open => depth += 1,
            (None, _) if b == close && depth == 0 => return Some(from + i),
            (None, _) if b == close => depth -= 1,
            _ => {}
        }
    }
    None
}

/// The first comma of `text[from..to]` outside brackets, parentheses, `<…>` and quotes.
pub(super) fn top_level_comma(text: &str, from: usize, to: usize) -> Option<usize> {
    let mut depth = 0i32;
    let mut quote: Option<u8> = None;
    for (i, &b) in text.as_bytes()[from..to].iter().enumerate() {
        match (quote, b) {
            (Some(q), _) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'\'' | b'"') => quote = Some(b),
            (None, b'(' | b'[' | b'<' | b'{') => depth += 1,
            (None, b')' | b']' | b'>' | b'}') => depth -= 1,
            (None, b',') if depth == 0 => return Some(from + i),
            _ => {}
        }
    }
    None
}

/// `[[a,b],[c,d]]` from a shape and its numbers (the number itself for a scalar).
pub(super) fn nest(shape: &[usize], numbers: &[String]) -> String {
    match shape.split_first() {
        None => numbers.first().cloned().unwrap_or_default(),
        Some((&n, inner)) => {
            let stride: usize = inner.iter().product();
            let parts: Vec<String> = (0..n)
                .map(|i| nest(inner, &numbers[i * stride..(i + 1) * stride]))
                .collect();
            format!("[{}]", parts.join(","))
        }
    }
}

/// Reads the nested lists (or the single number) of `text[from..to]`: the shape and the
/// numbers in order. Numbers are separated by commas, brackets or whitespace (NumPy's `print`
/// separates with spaces only).
pub(super) fn read_nested(
    text: &str,
    from: usize,
    to: usize,
) -> Result<(Vec<usize>, Vec<String>), BadInput> {
    let body = &text[from..to];
    let mut numbers = Vec::new();
    // Per depth: the element count of the list being read, and the count every list there had.
    let mut counts: Vec<usize> = Vec::new();
    let mut lengths: Vec<Option<usize>> = Vec::new();
    let mut token_start: Option<usize> = None;
    let mut shape_depth = 0;
    let bad = |at: usize, token: &str| {
        let (line, column) = position(text, from + at);
        BadInput::NotANumber {
            token: token.chars().take(20).collect(),
            line,
            column,
        }
    };
    let finish_token = |start: &mut Option<usize>,
                        end: usize,
                        numbers: &mut Vec<String>,
                        counts: &mut Vec<usize>|
     -> Result<(), BadInput> {
        if let Some(s) = start.take() {
            let token = &body[s..end];
            if number::notation(token).is_none() {
                return Err(bad(s, token));
            }
            numbers.push(token.to_string());
            if let Some(c) = counts.last_mut() {
                *c += 1;
            }
        }
        Ok(())
    };
    for (i, ch) in body.char_indices() {
        match ch {
            '[' => {
                if let Some(s) = token_start {
                    return Err(bad(s, &body[s..=i]));
                }
                counts.push(0);
                while lengths.len() < counts.len() {
                    lengths.push(None); // the first list at this depth: no length seen yet
                }
                shape_depth = shape_depth.max(counts.len());
            }
            ']' => {
                finish_token(&mut token_start, i, &mut numbers, &mut counts)?;
                let Some(depth) = counts.len().checked_sub(1) else {
                    let (line, column) = position(text, from + i);
                    return Err(BadInput::Brackets {
                        problem: format!("a `]` at line {line}, column {column} closes nothing"),
                    });
                };
                let n = counts.pop().unwrap_or(0);
                match lengths[depth] {
                    Some(len) if len != n => {
                        return Err(BadInput::Ragged {
                            depth,
                            lengths: (len, n),
                        });
                    }
                    _ => lengths[depth] = Some(n),
                }
                if let Some(c) = counts.last_mut() {
                    *c += 1;
                }
            }
            ',' => finish_token(&mut token_start, i, &mut numbers, &mut counts)?,
            c if c.is_whitespace() => {
                finish_token(&mut token_start, i, &mut numbers, &mut counts)?;
            }
            _ => {
                if token_start.is_none() {
                    token_start = Some(i);
                }
            }
        }
    }
    if !counts.is_empty() {
        return Err(BadInput::Brackets {
            problem: format!("{} `[` still open at the end", counts.len()),
        });
    }
    let scalar = lengths.is_empty();
    finish_token(&mut token_start, body.len(), &mut numbers, &mut counts)?;
    if scalar && numbers.len() != 1 {
        return Err(bad(0, body.trim()));
    }
    let shape = lengths[..shape_depth]
        .iter()
        .map(|l| l.unwrap_or(0))
        .collect();
    Ok((shape, numbers))
}
