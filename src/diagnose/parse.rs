//! Reading a tensor as PyTorch prints it: the label before it, the value, its shape and numbers.

use std::fmt;
use std::io::Read;

/// The most input [`read_input`] accepts: 64 KiB. The chapter's largest printed tensor is under
/// 1 KiB, so anything longer is not one of its results.
pub const MAX_INPUT_BYTES: usize = 64 * 1024;

/// Why a text cannot be read as a printed tensor. Its [`Display`](fmt::Display) is the message
/// `cargo run -- diagnose` prints (and then exits with status 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BadInput {
    /// Nothing but whitespace.
    Empty,
    /// More than [`MAX_INPUT_BYTES`].
    TooLong {
        /// How many bytes were read before giving up (at least `MAX_INPUT_BYTES + 1`).
        bytes: usize,
    },
    /// The bytes are not UTF-8 text.
    NotUtf8 {
        /// Where the first invalid byte is.
        at: usize,
    },
    /// The input could not be read (a file that does not exist, a closed pipe).
    Unreadable(String),
    /// No `tensor(…)`, `torch.Size(…)` or number in the text.
    NoTensor {
        /// The start of the text, shortened.
        start: String,
    },
    /// A `(` or `[` without its closing partner, or a closing one without an opening one.
    Brackets {
        /// What is wrong, e.g. "2 `[` still open at the end".
        problem: String,
    },
    /// Something that is not a number where a number must be.
    NotANumber {
        /// The offending text, shortened.
        token: String,
        /// Its position (in characters) in the value.
        at: usize,
    },
    /// Rows of different lengths, such as `[[1., 2.], [3.]]`.
    Ragged {
        /// The nesting depth where lengths differ (0 is the outermost list).
        depth: usize,
        /// The two lengths seen there.
        lengths: (usize, usize),
    },
}

impl fmt::Display for BadInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const EXAMPLE: &str = "paste what `print(...)` shows, e.g. `tensor([0.4306, 1.4551])`";
        match self {
            BadInput::Empty => write!(f, "the input is empty: {EXAMPLE}"),
            BadInput::TooLong { bytes } => write!(
                f,
                "the input is longer than {MAX_INPUT_BYTES} bytes (read {bytes} before \
                 stopping); the chapter's printed tensors are under 1 KiB: {EXAMPLE}"
            ),
            BadInput::NotUtf8 { at } => {
                write!(
                    f,
                    "the input is not UTF-8 text (invalid byte at offset {at})"
                )
            }
            BadInput::Unreadable(why) => write!(f, "cannot read the input: {why}"),
            BadInput::NoTensor { start } => write!(
                f,
                "no tensor found in {start:?}: expected `tensor(...)`, `torch.Size([...])` \
                 or a number; {EXAMPLE}"
            ),
            BadInput::Brackets { problem } => write!(
                f,
                "the brackets do not match: {problem} (was the tensor cut off when copying?)"
            ),
            BadInput::NotANumber { token, at } => write!(
                f,
                "{token:?} at character {at} of the tensor is not a number; a printed tensor \
                 holds numbers such as 0.4306, -1.2e-03, 2., inf or nan"
            ),
            BadInput::Ragged { depth, lengths } => write!(
                f,
                "the rows are ragged: lists at depth {depth} have {} and {} elements, but \
                 a tensor's rows all have the same length",
                lengths.0, lengths.1
            ),
        }
    }
}

impl std::error::Error for BadInput {}

impl BadInput {
    /// The message as a JSON object, `{"error": "…"}`: what `diagnose --json` prints for it.
    pub fn to_json(&self) -> String {
        format!("{{\"error\": {}}}", crate::json::string(&self.to_string()))
    }
}

/// Reads at most [`MAX_INPUT_BYTES`] + 1 bytes of `reader` as UTF-8 text: more is
/// [`BadInput::TooLong`] (the rest is never read, so a 100 MB line costs no more than 64 KiB).
///
/// # Errors
///
/// [`BadInput::TooLong`], [`BadInput::NotUtf8`], [`BadInput::Unreadable`].
pub fn read_input(reader: impl Read) -> Result<String, BadInput> {
    let mut bytes = Vec::new();
    let limit = MAX_INPUT_BYTES as u64 + 1;
    reader
        .take(limit)
        .read_to_end(&mut bytes)
        .map_err(|e| BadInput::Unreadable(e.to_string()))?;
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(BadInput::TooLong { bytes: bytes.len() });
    }
    String::from_utf8(bytes).map_err(|e| BadInput::NotUtf8 {
        at: e.utf8_error().valid_up_to(),
    })
}

/// A printed value, split into what the comparison needs.
#[derive(Debug, Clone, PartialEq)]
pub struct PrintedValue {
    /// The text before the value without its trailing colon, e.g. `Attention weights` or
    /// "어텐션 가중치" (empty when there is none).
    pub label: String,
    /// The value without whitespace and without PyTorch's autograd suffix, e.g.
    /// `tensor([0.4306,1.4551])`: two printouts of the same value compare equal on this text
    /// whatever their line breaks and indentation.
    pub value: String,
    /// The value's shape: `[]` for a scalar or a plain number, `[6, 6]` for a 6×6 tensor; for
    /// `torch.Size([2, 6, 2])` the shape of the list of dimensions, `[3]`.
    pub shape: Vec<usize>,
    /// The value's numbers as printed, in order (e.g. `0.4306`, `-inf`, `2.`).
    pub numbers: Vec<String>,
}

impl PrintedValue {
    /// The numbers as `f64` (a printed number that Rust reads differently, such as `nan`, is
    /// NaN).
    pub fn floats(&self) -> Vec<f64> {
        self.numbers
            .iter()
            .map(|n| number(n).unwrap_or(f64::NAN))
            .collect()
    }
}

/// Reads `text` as PyTorch prints a tensor (or a shape, or a number), with or without a label
/// before it and a `grad_fn=<…>` (or `requires_grad=True`) suffix.
///
/// ```
/// use ch03_attention::diagnose::parse;
///
/// let v = parse("Attention weights: tensor([0.2, 0.8],\n       grad_fn=<DivBackward0>)").unwrap();
/// assert_eq!(v.label, "Attention weights");
/// assert_eq!(v.value, "tensor([0.2,0.8])");
/// assert_eq!(v.shape, [2]);
/// ```
///
/// # Errors
///
/// A [`BadInput`] saying what is wrong with the text.
pub fn parse(text: &str) -> Result<PrintedValue, BadInput> {
    let text = text.trim();
    if text.is_empty() {
        return Err(BadInput::Empty);
    }
    let (label, compact) = value_text(text);
    if !compact.starts_with("tensor(") && !compact.starts_with("torch.Size(") {
        if number(&compact).is_none() {
            return Err(BadInput::NoTensor {
                start: text.chars().take(40).collect(),
            });
        }
        return Ok(PrintedValue {
            label,
            shape: Vec::new(),
            numbers: vec![compact.clone()],
            value: compact,
        });
    }
    let (shape, numbers) = read_nested(&compact)?;
    Ok(PrintedValue {
        label,
        value: compact,
        shape,
        numbers,
    })
}

/// Splits printed text into its label (without the colon) and its value, without whitespace
/// and without autograd suffixes: what [`PrintedValue::label`] and [`PrintedValue::value`] hold.
pub(super) fn value_text(text: &str) -> (String, String) {
    let start = ["tensor(", "torch.Size("]
        .iter()
        .filter_map(|p| text.find(p))
        .min();
    let (label, value) = match start {
        Some(at) => (&text[..at], &text[at..]),
        // A plain number, perhaps after a label: `Row 2 sum: 1.0`, `2360064`.
        None => match text.rfind(':') {
            Some(at) => (&text[..at], &text[at + 1..]),
            None => ("", text),
        },
    };
    let label = label.trim().trim_end_matches(':').trim().to_string();
    let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect();
    (label, strip_suffixes(&compact))
}

/// The numbers of a value as [`value_text`] returns it, as printed (no check that they are
/// numbers: [`parse`] does that).
pub(super) fn numbers_of(value: &str) -> Vec<&str> {
    let inner = value
        .find('(')
        .map_or(value, |at| value[at + 1..].trim_end_matches(')'));
    inner
        .split([',', '[', ']'])
        .filter(|t| !t.is_empty())
        .collect()
}

/// Removes `,grad_fn=<…>`, `,requires_grad=True` and `,dtype=…` from whitespace-free text.
fn strip_suffixes(compact: &str) -> String {
    let mut out = compact.to_string();
    for key in [",grad_fn=<", ",requires_grad=", ",dtype="] {
        while let Some(at) = out.find(key) {
            let rest = &out[at + key.len()..];
            let end = if key.ends_with('<') {
                rest.find('>').map_or(rest.len(), |e| e + 1)
            } else {
                rest.find([',', ')']).unwrap_or(rest.len())
            };
            out.replace_range(at..at + key.len() + end, "");
        }
    }
    out
}

/// A printed number: digits with an optional sign, point and exponent (`2.`, `-0.4519`,
/// `1.2e-03`), or `inf`, `-inf`, `nan`.
pub(super) fn number(token: &str) -> Option<f64> {
    match token {
        "inf" => return Some(f64::INFINITY),
        "-inf" => return Some(f64::NEG_INFINITY),
        "nan" | "-nan" => return Some(f64::NAN),
        _ => {}
    }
    // Only the characters PyTorch prints in a number: Rust's parser alone would also take
    // `infinity`, `NaN` or `Inf`.
    let printable = |c: char| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E');
    if token.chars().all(printable) {
        token.parse().ok()
    } else {
        None
    }
}

/// Reads `tensor(…)` or `torch.Size(…)` (whitespace already removed): the shape of the nested
/// lists and the numbers in order.
fn read_nested(value: &str) -> Result<(Vec<usize>, Vec<String>), BadInput> {
    let open = value
        .find('(')
        .expect("the value starts with tensor( or torch.Size(");
    let inner = &value[open + 1..];
    let Some(close) = matching_paren(inner)? else {
        return Err(BadInput::Brackets {
            problem: "`(` of the value is never closed".to_string(),
        });
    };
    let trailing = &inner[close + 1..];
    if !trailing.is_empty() {
        return Err(BadInput::NotANumber {
            token: trailing.chars().take(20).collect(),
            at: open + close + 2,
        });
    }
    let body = &inner[..close];
    let mut numbers = Vec::new();
    // Per depth: the element count of the list being read, and the count every list there had.
    let mut counts: Vec<usize> = Vec::new();
    let mut lengths: Vec<Option<usize>> = Vec::new();
    let mut token_start: Option<usize> = None;
    let mut shape_depth = 0;
    let finish_token = |start: &mut Option<usize>,
                        end: usize,
                        numbers: &mut Vec<String>,
                        counts: &mut Vec<usize>|
     -> Result<(), BadInput> {
        if let Some(s) = start.take() {
            let token = &body[s..end];
            if number(token).is_none() {
                return Err(BadInput::NotANumber {
                    token: token.chars().take(20).collect(),
                    at: s,
                });
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
                if token_start.is_some() {
                    return Err(BadInput::NotANumber {
                        token: body[token_start.unwrap_or(i)..=i]
                            .chars()
                            .take(20)
                            .collect(),
                        at: i,
                    });
                }
                counts.push(0);
                while lengths.len() < counts.len() {
                    lengths.push(None); // the first list at this depth: no length seen yet
                }
                shape_depth = shape_depth.max(counts.len());
            }
            ']' => {
                finish_token(&mut token_start, i, &mut numbers, &mut counts)?;
                let depth = counts
                    .len()
                    .checked_sub(1)
                    .ok_or_else(|| BadInput::Brackets {
                        problem: format!("a `]` at character {i} closes nothing"),
                    })?;
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
        return Err(BadInput::NoTensor {
            start: value.chars().take(40).collect(),
        });
    }
    let shape = lengths[..shape_depth]
        .iter()
        .map(|l| l.unwrap_or(0))
        .collect();
    Ok((shape, numbers))
}

/// The position of the `)` that closes the value's `(` (which `text` starts just after), or
/// `None` if it is never closed.
fn matching_paren(text: &str) -> Result<Option<usize>, BadInput> {
    let mut depth = 0usize;
    for (i, ch) in text.char_indices() {
        match ch {
            '(' => depth += 1,
            ')' if depth == 0 => return Ok(Some(i)),
            ')' => depth -= 1,
            _ => {}
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_and_numbers() {
        let v = parse("tensor([[2., 0.],\n        [-inf, nan]])").unwrap();
        assert_eq!(v.shape, [2, 2]);
        assert_eq!(v.numbers, ["2.", "0.", "-inf", "nan"]);
        assert_eq!(parse("tensor(1.8524)").unwrap().shape, Vec::<usize>::new());
        let size = parse("context_vecs.shape: torch.Size([2, 6, 2])").unwrap();
        assert_eq!(
            (size.label.as_str(), size.shape),
            ("context_vecs.shape", vec![3])
        );
        let n = parse("Row 2 sum: 1.0").unwrap();
        assert_eq!((n.label.as_str(), n.value.as_str()), ("Row 2 sum", "1.0"));
    }

    /// The numbers PyTorch prints, and nothing else.
    #[test]
    fn numbers_as_pytorch_prints_them() {
        for (token, value) in [
            ("inf", f64::INFINITY),
            ("-inf", f64::NEG_INFINITY),
            ("2.", 2.0),
        ] {
            assert_eq!(number(token), Some(value), "{token}");
        }
        assert_eq!(number("-1.2e-03"), Some(-1.2e-3));
        assert!(number("nan").is_some_and(f64::is_nan));
        for token in [
            "infinity", "NaN", "Inf", "", ".", "e", "-", "1x", "0x10", "1_0",
        ] {
            assert_eq!(number(token), None, "{token:?}");
        }
        let v = parse("tensor([inf, -inf, 1.])").unwrap();
        assert_eq!(v.numbers, ["inf", "-inf", "1."]);
    }

    /// Where the text goes wrong, exactly: after the value, inside it, or never closed.
    #[test]
    fn errors_point_at_the_place() {
        let trailing = parse("tensor([1.])x").unwrap_err();
        assert_eq!(
            trailing,
            BadInput::NotANumber {
                token: "x".into(),
                at: 12
            }
        );
        let nested = parse("tensor((1.))").unwrap_err();
        assert_eq!(
            nested,
            BadInput::NotANumber {
                token: "(1.)".into(),
                at: 0
            }
        );
        assert!(matches!(
            parse("tensor((1.)"),
            Err(BadInput::Brackets { .. })
        ));
    }

    #[test]
    fn bad_texts_say_what_is_wrong() {
        assert_eq!(parse("  \n"), Err(BadInput::Empty));
        assert!(matches!(
            parse("tensor([[1., 2.]"),
            Err(BadInput::Brackets { .. })
        ));
        assert!(matches!(
            parse("tensor([1., 2.]]])"),
            Err(BadInput::Brackets { .. })
        ));
        assert!(matches!(
            parse("tensor([1., abc])"),
            Err(BadInput::NotANumber { .. })
        ));
        assert_eq!(
            parse("tensor([[1., 2.], [3.]])"),
            Err(BadInput::Ragged {
                depth: 1,
                lengths: (2, 1)
            })
        );
        assert!(matches!(parse("hello"), Err(BadInput::NoTensor { .. })));
    }
}
