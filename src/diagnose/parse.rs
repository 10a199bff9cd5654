//! Reading what a reader pastes: every printed value in it, with its label, shape, numbers and
//! PyTorch's suffixes; whatever else the paste holds (code, prompts, prose) is passed over.

use super::input::BadInput;
use super::nested::{closing, nest, position, read_nested, top_level_comma};
use super::number;

/// What a printed value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `tensor(…)`.
    Tensor,
    /// `torch.Size([…])`: a shape, compared only with shapes.
    Size,
    /// NumPy's `array([…], dtype=float32)`.
    Array,
    /// A list of numbers on lines of their own: `.tolist()`, or `print` of a NumPy array.
    List,
    /// A number on a line of its own (after a label): `.item()`, a Python float, an integer.
    Number,
}

/// A printed value, split into what the comparison needs.
#[derive(Debug, Clone, PartialEq)]
pub struct PrintedValue {
    /// The text before the value on its line (or the line before, when that line ends with a
    /// colon), without prompts and the trailing colon, e.g. `Attention weights` or
    /// "어텐션 가중치" (empty when there is none).
    pub label: String,
    /// The value written compactly, without whitespace and suffixes, e.g.
    /// `tensor([0.4306,1.4551])`: two printouts of the same value are equal on this text
    /// whatever their line breaks.
    pub value: String,
    /// The value's shape: `[]` for a scalar or a number, `[6, 6]` for a 6×6 tensor; for
    /// `torch.Size([2, 6, 2])` the shape of the list of dimensions, `[3]`.
    pub shape: Vec<usize>,
    /// The value's numbers as printed, in order (e.g. `0.4306`, `-inf`, `2.`).
    pub numbers: Vec<String>,
    /// What kind of value it is.
    pub kind: Kind,
    /// The `grad_fn=<…>` name, e.g. `CatBackward0`.
    pub grad_fn: Option<String>,
    /// The `device='…'` suffix, e.g. `cuda:0` (PyTorch prints none for the CPU).
    pub device: Option<String>,
    /// The `dtype=…` suffix, e.g. `torch.float64` or NumPy's `float32`.
    pub dtype: Option<String>,
    /// The line of the paste where the value starts (from 1).
    pub line: usize,
}

impl PrintedValue {
    /// A value as read, before any `grad_fn=`, `device=` or `dtype=` after it.
    fn without_suffixes(
        label: String,
        value: String,
        shape: Vec<usize>,
        numbers: Vec<String>,
        kind: Kind,
        line: usize,
    ) -> PrintedValue {
        PrintedValue {
            label,
            value,
            shape,
            numbers,
            kind,
            grad_fn: None,
            device: None,
            dtype: None,
            line,
        }
    }

    /// The numbers as `f64` (NaN for `nan`).
    pub fn floats(&self) -> Vec<f64> {
        self.numbers
            .iter()
            .map(|n| number::value(n).unwrap_or(f64::NAN))
            .collect()
    }
}

/// Reads the first printed value of `text` (see [`parse_all`]).
///
/// ```
/// use ch03_attention::diagnose::parse;
///
/// let v = parse("Attention weights: tensor([0.2, 0.8],\n       grad_fn=<DivBackward0>)").unwrap();
/// assert_eq!(v.label, "Attention weights");
/// assert_eq!(v.value, "tensor([0.2,0.8])");
/// assert_eq!((v.shape, v.grad_fn.as_deref()), (vec![2], Some("DivBackward0")));
/// ```
///
/// # Errors
///
/// A [`BadInput`] saying what is wrong with the text.
pub fn parse(text: &str) -> Result<PrintedValue, BadInput> {
    Ok(parse_all(text)?.swap_remove(0))
}

/// Reads every printed value of a paste, in order: `tensor(…)` with any suffix PyTorch prints
/// (`device=`, `dtype=`, `grad_fn=`, `requires_grad=`), `torch.Size([…])`, NumPy's
/// `array([…], dtype=float32)`, and lists of numbers or numbers on lines of their own
/// (`.tolist()`, `.item()`), each with the label before it. Everything else (code, prompts
/// such as `Out[12]:`, `.shape` lines' text, blank lines) is passed over.
///
/// ```
/// use ch03_attention::diagnose::parse_all;
///
/// let cell = "In [5]: print(context_vecs)\n\
///             tensor([[0.3190, 0.4858]], device='cuda:0', grad_fn=<ViewBackward0>)\n\
///             context_vecs.shape: torch.Size([1, 2])\n";
/// let values = parse_all(cell).unwrap();
/// assert_eq!(values.len(), 2);
/// assert_eq!((values[0].device.as_deref(), values[0].line), (Some("cuda:0"), 2));
/// assert_eq!((values[1].label.as_str(), values[1].numbers.len()), ("context_vecs.shape", 2));
/// ```
///
/// # Errors
///
/// [`BadInput::Empty`] for blank text, [`BadInput::NoTensor`] when no value is found, and the
/// error of a `tensor(…)`, `torch.Size(…)` or `array(…)` that cannot be read (cut off, letters
/// where numbers belong, ragged rows).
pub fn parse_all(text: &str) -> Result<Vec<PrintedValue>, BadInput> {
    if text.trim().is_empty() {
        return Err(BadInput::Empty);
    }
    let mut values = Vec::new();
    let mut pos = 0;
    let mut label_from = 0; // where the text that may hold the next value's label starts
    while pos < text.len() {
        let line_end = text[pos..].find('\n').map_or(text.len(), |e| pos + e);
        let found = match find_opener(text, pos, line_end) {
            Some((start, kind, prefix)) => Some(read_opened(text, start, kind, prefix)?),
            None => read_bare(text, pos, line_end),
        };
        match found {
            Some((mut value, start, end)) => {
                if value.label.is_empty() {
                    value.label = label_before(&text[label_from..start]);
                }
                values.push(value);
                pos = end;
                label_from = end;
            }
            None => pos = line_end + 1,
        }
    }
    if values.is_empty() {
        return Err(BadInput::NoTensor {
            start: text.trim().chars().take(40).collect(),
        });
    }
    Ok(values)
}

/// The openers of a value PyTorch or NumPy prints, and their kinds.
const OPENERS: [(&str, Kind); 3] = [
    ("tensor(", Kind::Tensor),
    ("torch.Size(", Kind::Size),
    ("array(", Kind::Array),
];

/// The first opener in `text[from..to]` that starts a word (so `torch.tensor(` and
/// `np.array(` in code are not values).
fn find_opener(text: &str, from: usize, to: usize) -> Option<(usize, Kind, &'static str)> {
    let starts_word = |at: usize| {
        !text[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.')
    };
    OPENERS
        .iter()
        .filter_map(|&(prefix, kind)| {
            let mut search = from;
            while let Some(rel) = text[search..to].find(prefix) {
                let at = search + rel;
                if starts_word(at) {
                    return Some((at, kind, prefix));
                }
                search = at + prefix.len();
            }
            None
        })
        .min_by_key(|(at, _, _)| *at)
}

/// Removes a prompt from the start of a line: `Out[12]:`, `In [3]:`, `>>>`, `...`.
fn without_prompt(line: &str) -> &str {
    let t = line.trim_start();
    for prompt in [">>>", "..."] {
        if let Some(rest) = t.strip_prefix(prompt) {
            return rest;
        }
    }
    for word in ["Out", "In"] {
        if let Some(rest) = t.strip_prefix(word) {
            let rest = rest.trim_start();
            if let Some(inner) = rest.strip_prefix('[') {
                if let Some(close) = inner.find("]:") {
                    let number = inner[..close].trim();
                    if number.bytes().all(|b| b.is_ascii_digit()) {
                        return &inner[close + 2..];
                    }
                }
            }
        }
    }
    t
}

/// The label of a value from the text between the previous value and it: the text on its
/// line, or else the nearest line above ending with a colon (`First head:`).
fn label_before(between: &str) -> String {
    let clean = |l: &str| {
        without_prompt(l)
            .trim()
            .trim_end_matches(':')
            .trim_end()
            .to_string()
    };
    let mut lines = between.rsplit('\n');
    let same_line = clean(lines.next().unwrap_or(""));
    if !same_line.is_empty() {
        return same_line;
    }
    match lines.map(str::trim).find(|l| !l.is_empty()) {
        Some(l) if l.ends_with(':') => clean(l),
        _ => String::new(),
    }
}

/// Reads the value whose opener (`prefix`, e.g. `tensor(`) starts at `start`: the value, where
/// it starts and where it ends.
fn read_opened(
    text: &str,
    start: usize,
    kind: Kind,
    prefix: &str,
) -> Result<(PrintedValue, usize, usize), BadInput> {
    let open = start + prefix.len(); // just after the `(`
    let Some(close) = closing(text, open, b'(', b')') else {
        let (line, _) = position(text, start);
        return Err(BadInput::Brackets {
            problem: format!("the `(` of `{prefix}` on line {line} is never closed"),
        });
    };
    let body = &text[open..close];
    let lead = body.len() - body.trim_start().len();
    let data_end = if body.trim_start().starts_with('[') {
        closing(text, open + lead + 1, b'[', b']').map_or(close, |c| c + 1)
    } else {
        top_level_comma(text, open, close).unwrap_or(close)
    };
    let (shape, numbers) = read_nested(text, open, data_end)?;
    let value = format!("{}{})", prefix, nest(&shape, &numbers));
    let line = position(text, start).0;
    let mut value =
        PrintedValue::without_suffixes(String::new(), value, shape, numbers, kind, line);
    read_suffixes(text, data_end, close, &mut value)?;
    Ok((value, start, close + 1))
}

/// The `key=value` suffixes after a value's data, up to its closing `)`.
fn read_suffixes(
    text: &str,
    from: usize,
    close: usize,
    value: &mut PrintedValue,
) -> Result<(), BadInput> {
    let mut at = from;
    while at < close {
        let rest = &text[at..close];
        let skipped = rest.len() - rest.trim_start().len();
        let item_start = at + skipped;
        if item_start >= close {
            break;
        }
        let not_a_suffix = |from: usize| {
            let (line, column) = position(text, from);
            let token: String = text[from..close].trim().chars().take(20).collect();
            BadInput::NotANumber {
                token,
                line,
                column,
            }
        };
        match text.as_bytes()[item_start] {
            b',' => {}
            b']' => {
                let (line, column) = position(text, item_start);
                return Err(BadInput::Brackets {
                    problem: format!("a `]` at line {line}, column {column} closes nothing"),
                });
            }
            _ => return Err(not_a_suffix(item_start)),
        }
        let item_from = item_start + 1;
        let item_end = top_level_comma(text, item_from, close).unwrap_or(close);
        let item = text[item_from..item_end].trim();
        at = item_end;
        if item.is_empty() {
            continue;
        }
        let Some((key, raw)) = item.split_once('=') else {
            return Err(not_a_suffix(item_from));
        };
        let key = key.trim();
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(not_a_suffix(item_from));
        }
        let raw: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
        let unquoted = raw.trim_matches(['\'', '"']).to_string();
        match key {
            "grad_fn" => value.grad_fn = Some(raw.trim_matches(['<', '>']).to_string()),
            "device" => value.device = Some(unquoted),
            "dtype" => value.dtype = Some(unquoted),
            _ => {} // requires_grad=True, size=(…), layout=…: nothing to compare
        }
    }
    Ok(())
}

/// A value on a line of its own (after a prompt and a label ending with a colon): a number, or
/// a list of numbers that may run over several lines. Never an error: text that is not such a
/// value is not one.
fn read_bare(text: &str, pos: usize, line_end: usize) -> Option<(PrintedValue, usize, usize)> {
    let line = &text[pos..line_end];
    let rest = without_prompt(line);
    let rest_at = pos + (line.len() - rest.len());
    // The whole line, then the text after each colon, right to left.
    let splits = std::iter::once(0).chain(rest.rmatch_indices(':').map(|(i, _)| i + 1));
    for split in splits {
        let candidate = &rest[split..];
        let skipped = candidate.len() - candidate.trim_start().len();
        let start = rest_at + split + skipped;
        let label = rest[..split]
            .trim()
            .trim_end_matches(':')
            .trim()
            .to_string();
        let trimmed = candidate.trim();
        let value = if trimmed.starts_with('[') {
            bare_list(text, start)
        } else if number::notation(trimmed).is_some() {
            Some((vec![], vec![trimmed.to_string()], Kind::Number, line_end))
        } else {
            None
        };
        if let Some((shape, numbers, kind, end)) = value {
            let value = nest(&shape, &numbers);
            let line = position(text, start).0;
            let printed = PrintedValue::without_suffixes(label, value, shape, numbers, kind, line);
            return Some((printed, start, end));
        }
    }
    None
}

/// The list of numbers starting at `start` (a `[`), if it closes, holds only numbers, and
/// nothing follows it on its last line.
fn bare_list(text: &str, start: usize) -> Option<(Vec<usize>, Vec<String>, Kind, usize)> {
    let close = closing(text, start + 1, b'[', b']')?;
    let after = &text[close + 1..];
    let line_rest = &after[..after.find('\n').unwrap_or(after.len())];
    if !line_rest.trim().is_empty() {
        return None;
    }
    let (shape, numbers) = read_nested(text, start, close + 1).ok()?;
    Some((shape, numbers, Kind::List, close + 1))
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
            (size.label.as_str(), size.shape, size.kind),
            ("context_vecs.shape", vec![3], Kind::Size)
        );
        let n = parse("Row 2 sum: 1.0").unwrap();
        assert_eq!((n.label.as_str(), n.value.as_str()), ("Row 2 sum", "1.0"));
        assert_eq!(n.kind, Kind::Number);
        assert_eq!(parse("tensor([])").unwrap().shape, [0]);
    }

    /// Where the text goes wrong, exactly: inside the value, or never closed.
    #[test]
    fn errors_point_at_the_place() {
        assert_eq!(
            parse("tensor([1.] x)").unwrap_err(),
            BadInput::NotANumber {
                token: "x".into(),
                line: 1,
                column: 13
            }
        );
        assert_eq!(
            parse("tensor((1.))").unwrap_err(),
            BadInput::NotANumber {
                token: "(1.)".into(),
                line: 1,
                column: 8
            }
        );
        assert_eq!(
            parse("a\n  tensor([1., 2x])").unwrap_err(),
            BadInput::NotANumber {
                token: "2x".into(),
                line: 2,
                column: 15
            }
        );
        let brackets = |e: &BadInput| matches!(e, BadInput::Brackets { .. });
        let not_a_number = |e: &BadInput| matches!(e, BadInput::NotANumber { .. });
        type Expected = fn(&BadInput) -> bool;
        let cases: [(&str, Expected); 7] = [
            ("tensor((1.)", brackets),
            ("tensor(1., size)", not_a_number),
            ("tensor(1., =2)", not_a_number),
            ("tensor(1., a b=2)", not_a_number),
            ("tensor()", not_a_number),
            ("tensor([1.]2)", not_a_number),
            ("tensor(1 2)", not_a_number),
        ];
        for (text, expected) in cases {
            let error = parse(text).unwrap_err();
            assert!(expected(&error), "{text:?}: {error:?}");
        }
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

    /// Every suffix PyTorch prints, in its order, on one line or wrapped.
    #[test]
    fn suffixes() {
        let v = parse(
            "tensor([1.5, 2.], device='cuda:0', dtype=torch.float64,\n       \
             grad_fn=<AddBackward0>)",
        )
        .unwrap();
        assert_eq!(v.device.as_deref(), Some("cuda:0"));
        assert_eq!(v.dtype.as_deref(), Some("torch.float64"));
        assert_eq!(v.grad_fn.as_deref(), Some("AddBackward0"));
        assert_eq!(v.value, "tensor([1.5,2.])");
        let v = parse("tensor(0.5, requires_grad=True)").unwrap();
        assert_eq!((v.shape.len(), v.grad_fn), (0, None));
        let v = parse("tensor([], size=(0, 3))").unwrap();
        assert_eq!(v.numbers.len(), 0);
        let v = parse("array([1.4409555, 1.0669309], dtype=float32)").unwrap();
        assert_eq!((v.kind, v.dtype.as_deref()), (Kind::Array, Some("float32")));
        assert_eq!(v.value, "array([1.4409555,1.0669309])");
        // A trailing comma and a double-quoted device are read too.
        let v = parse("tensor(1., device=\"cuda:1\",)").unwrap();
        assert_eq!(v.device.as_deref(), Some("cuda:1"));
    }

    /// A whole cell: prompts, code, labels above and beside values, several values.
    #[test]
    fn whole_cells() {
        let cell = "In [38]: print(\"First head:\\n\", first_res)\n\
                    First head:\n tensor([[1.3208]])\n\n\
                    두 번째 헤드:\n tensor([[0.4391]])\n\
                    Out[7]: [0.25, 0.5]\n\
                    >>> x = torch.tensor([0.1])\n\
                    np: [[0.1 0.2]\n [0.3 0.4]]\n\
                    합: 1.0\n";
        let values = parse_all(cell).unwrap();
        let summary: Vec<(&str, Kind, usize)> = values
            .iter()
            .map(|v| (v.label.as_str(), v.kind, v.line))
            .collect();
        assert_eq!(
            summary,
            [
                ("First head", Kind::Tensor, 3),
                ("두 번째 헤드", Kind::Tensor, 6),
                ("", Kind::List, 7),
                ("np", Kind::List, 9),
                ("합", Kind::Number, 11),
            ]
        );
        assert_eq!(values[3].shape, [2, 2]);
        assert_eq!(values[3].numbers, ["0.1", "0.2", "0.3", "0.4"]);
        // Two values on one line; a list of tensors.
        let two = parse_all("tensor(1.) tensor(2.)").unwrap();
        assert_eq!(two.len(), 2);
        assert_eq!(two[1].label, "");
        let list = parse_all("[tensor(1.), tensor([2.])]").unwrap();
        assert_eq!(list.len(), 2);
    }

    /// Text that looks like a value but is not one is passed over.
    #[test]
    fn code_and_prose_are_not_values() {
        for text in [
            "inputs = torch.tensor(\n  [[0.43, 0.15, 0.89], # Your\n   [0.55, 0.87, 0.66]])",
            "x = np.array([1, 2])",
            "my_tensor(3)",
            "torch.manual_seed(123)",
            "[0.55, 0.87, 0.66], # journey",
            "[a, b]",
            "[1, 2",
            "I got 0.5 instead",
            "Out[x]: 1.0 more",
        ] {
            assert!(
                matches!(parse_all(text), Err(BadInput::NoTensor { .. })),
                "{text:?}: {:?}",
                parse_all(text)
            );
        }
        assert_eq!(parse("In [3]: 0.5").unwrap().label, "");
        assert_eq!(parse("... 0.5").unwrap().numbers, ["0.5"]);
        assert_eq!(parse("Out [12]: 2").unwrap().numbers, ["2"]);
    }

    #[test]
    fn labels() {
        assert_eq!(label_before("Attention weights: "), "Attention weights");
        assert_eq!(label_before("First head:\n "), "First head");
        assert_eq!(label_before("code()\n "), "");
        assert_eq!(label_before("Out[3]: "), "");
        assert_eq!(label_before(""), "");
    }

    #[test]
    fn positions() {
        assert_eq!(position("ab\ncd", 4), (2, 2));
        assert_eq!(position("ab", 0), (1, 1));
        assert_eq!(position("가나\n", 6), (1, 3));
    }
}
