//! Tables in a verdict: the book's tensor (or the expected one) beside the learner's, the
//! differing entries marked with `^`, printed whole: side by side when both fit the width,
//! otherwise one below the other. A table is never wrapped.

use super::text::{Lang, Text, display_width};

/// Two printed tensors to compare: the expectation on the left (or on top), the learner's on the
/// right (or below).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Compare {
    /// "book (3.3.1, cell [28])" or "expected".
    pub left_title: Text,
    /// The expectation, printed as PyTorch prints it.
    pub left: String,
    /// "yours".
    pub right_title: Text,
    /// The learner's result, printed the same way.
    pub right: String,
}

/// `s` padded with spaces to `width` columns.
fn pad(s: &str, width: usize) -> String {
    let w = display_width(s);
    format!("{s}{}", " ".repeat(width.saturating_sub(w)))
}

/// The numbers of a printed line, with the columns (in characters) each one spans:
/// `tensor([ 0.5000, -inf])` → `[(9, 15, "0.5000"), (17, 21, "-inf")]`.
pub(crate) fn numbers(line: &str) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    let mut token = String::new();
    let mut start = 0;
    let chars: Vec<char> = line.chars().collect();
    for (i, &c) in chars.iter().chain(std::iter::once(&' ')).enumerate() {
        let part_of_number = c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+');
        if part_of_number {
            if token.is_empty() {
                start = i;
            }
            token.push(c);
        } else if !token.is_empty() {
            let t = std::mem::take(&mut token);
            let numeric = t.parse::<f64>().is_ok() || matches!(t.as_str(), "inf" | "-inf" | "nan");
            if numeric
                || t.strip_suffix('.')
                    .is_some_and(|x| x.parse::<i64>().is_ok())
            {
                out.push((start, i, t));
            }
        }
    }
    out
}

/// Under `right`, a line of `^` beneath every number that differs from the number in the same
/// place of `left` (every number when `left` has no such line); `None` when nothing differs.
fn carets(left: Option<&str>, right: &str) -> Option<String> {
    let theirs = left.map(numbers).unwrap_or_default();
    let mine = numbers(right);
    let mut line = String::new();
    let mut column = 0;
    for (k, (start, end, text)) in mine.iter().enumerate() {
        if theirs.get(k).is_some_and(|t| same_printed(&t.2, text)) {
            continue;
        }
        line.push_str(&" ".repeat(start - column));
        line.push_str(&"^".repeat(end - start));
        column = *end;
    }
    let extra_left = theirs.len() > mine.len() && !mine.is_empty();
    if extra_left {
        // The learner's line is shorter: mark its end.
        let end = right.chars().count();
        line.push_str(&" ".repeat(end.saturating_sub(column)));
        line.push('^');
    }
    (!line.is_empty()).then_some(line)
}

/// Whether two printed numbers are the same at the printed precision: `0.` and `0.0000` are
/// (a tensor with a NaN prints its zeros in integer form), `0.1385` and `0.1386` are not.
fn same_printed(a: &str, b: &str) -> bool {
    let value = |t: &str| t.trim_end_matches('.').parse::<f64>().ok();
    match (value(a), value(b)) {
        (Some(x), Some(y)) => x == y || (x.is_nan() && y.is_nan()) || (x - y).abs() < 5e-5,
        _ => a == b,
    }
}

impl Compare {
    /// The table's lines (each indented by two spaces), side by side when that fits in `width`
    /// columns, else one below the other.
    pub fn render(&self, lang: Lang, width: usize) -> Vec<String> {
        let left: Vec<&str> = self.left.lines().collect();
        let right: Vec<&str> = self.right.lines().collect();
        let (lt, rt) = (self.left_title.get(lang), self.right_title.get(lang));
        let lw = left
            .iter()
            .map(|l| display_width(l))
            .chain([display_width(lt)])
            .max()
            .unwrap_or(0);
        let rw = right
            .iter()
            .map(|l| display_width(l))
            .chain([display_width(rt)])
            .max()
            .unwrap_or(0);
        let mut out = Vec::new();
        if self.left == self.right {
            out.push(format!("  {lt} = {rt} ✓"));
            out.extend(left.iter().map(|l| format!("    {l}")));
        } else if 2 + lw + 3 + rw <= width {
            out.push(format!("  {}   {rt}", pad(lt, lw)).trim_end().to_string());
            for k in 0..left.len().max(right.len()) {
                let l = left.get(k).copied().unwrap_or("");
                let r = right.get(k).copied().unwrap_or("");
                out.push(format!("  {} │ {r}", pad(l, lw)).trim_end().to_string());
                if let Some(c) = carets(left.get(k).copied(), r) {
                    out.push(format!("  {}   {c}", " ".repeat(lw)));
                }
            }
        } else {
            out.push(format!("  {lt}"));
            out.extend(left.iter().map(|l| format!("    {l}")));
            out.push(format!("  {rt}"));
            for (k, r) in right.iter().enumerate() {
                out.push(format!("    {r}"));
                if let Some(c) = carets(left.get(k).copied(), r) {
                    out.push(format!("    {c}"));
                }
            }
        }
        out
    }
}

/// One block of a verdict's message.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Block {
    /// A sentence (the runner may wrap it).
    Say(Text),
    /// A named tensor, printed whole: `x =` then the tensor.
    Tensor(Text, String),
    /// Two tensors compared.
    Table(Compare),
}

/// Blocks as a message: sentences at the start of a line, tables indented (never re-wrapped).
pub(crate) fn render(blocks: &[Block], lang: Lang, width: usize) -> String {
    let mut lines = Vec::new();
    for b in blocks {
        match b {
            Block::Say(t) => lines.push(t.get(lang).to_string()),
            Block::Tensor(name, tensor) => {
                lines.push(format!("  {}", name.get(lang)));
                lines.extend(tensor.lines().map(|l| format!("    {l}")));
            }
            Block::Table(c) => lines.extend(c.render(lang, width)),
        }
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compare(left: &str, right: &str) -> Compare {
        Compare {
            left_title: Text::new("book", "책"),
            left: left.to_string(),
            right_title: Text::new("yours", "여러분의 결과"),
            right: right.to_string(),
        }
    }

    #[test]
    fn numbers_are_found_with_their_columns() {
        assert_eq!(
            numbers("tensor([ 0.5000,   -inf, 2.])"),
            [
                (9, 15, "0.5000".to_string()),
                (19, 23, "-inf".to_string()),
                (25, 27, "2.".to_string())
            ]
        );
        assert_eq!(
            numbers("Attention weights: tensor([1.0e-02])")[0].2,
            "1.0e-02"
        );
        assert!(numbers("yours").is_empty());
        assert!(
            same_printed("0.", "0.0000")
                && same_printed("nan", "nan")
                && same_printed("-inf", "-inf")
        );
        assert!(
            !same_printed("0.1385", "0.1386")
                && !same_printed("nan", "0.")
                && !same_printed("inf", "-inf")
        );
        // The same number printed in two formats (a scientific table beside a fixed one) is the
        // same at 4 decimals; text that is not a number is compared as text.
        assert!(same_printed("9.1476e-02", "0.0915") && same_printed("0.0915", "9.1476e-02"));
        assert!(!same_printed("9.1476e-02", "0.0916") && !same_printed("-0.0915", "0.0915"));
        assert!(same_printed("...", "...") && !same_printed("...", "0."));
        let same = compare("tensor([1., 2.])", "tensor([1., 2.])");
        assert_eq!(
            same.render(Lang::Ko, 80),
            ["  책 = 여러분의 결과 ✓", "    tensor([1., 2.])"]
        );
    }

    #[test]
    fn differing_entries_are_marked_side_by_side_and_stacked() {
        let c = compare(
            "tensor([[0.1000, 0.2000],\n        [0.3000, 0.4000]])",
            "tensor([[0.1000, 0.2500],\n        [0.3000, 0.4000]])",
        );
        assert_eq!(
            c.render(Lang::En, 100),
            [
                "  book                         yours",
                "  tensor([[0.1000, 0.2000],  │ tensor([[0.1000, 0.2500],",
                "                                                ^^^^^^",
                "          [0.3000, 0.4000]]) │         [0.3000, 0.4000]])",
            ]
        );
        assert_eq!(
            c.render(Lang::Ko, 40),
            [
                "  책",
                "    tensor([[0.1000, 0.2000],",
                "            [0.3000, 0.4000]])",
                "  여러분의 결과",
                "    tensor([[0.1000, 0.2500],",
                "                     ^^^^^^",
                "            [0.3000, 0.4000]])",
            ]
        );
    }

    #[test]
    fn a_missing_row_or_entry_is_marked() {
        let c = compare("tensor([1., 2., 3.])", "tensor([1., 2.])");
        assert_eq!(
            c.render(Lang::En, 80)[2],
            format!("  {}   {}^", " ".repeat(20), " ".repeat(16))
        );
        let c = compare("tensor([[1.],\n        [2.]])", "tensor([[1.]])");
        let lines = c.render(Lang::En, 80);
        assert_eq!(lines.len(), 3, "{lines:#?}"); // titles, row 0, row 1 (no caret: nothing of yours)
        assert_eq!(carets(None, "  [5., 6.]").unwrap(), "   ^^  ^^");
    }

    #[test]
    fn hangul_takes_two_columns() {
        assert_eq!(display_width("책"), 2);
        assert_eq!(display_width("a책b"), 4);
        assert_eq!(display_width("✓ x⁽ʲ⁾"), 6);
        assert_eq!(pad("책", 4), "책  ");
    }
}
