//! Every sentence the judge says, in English and in Korean.
//!
//! A verdict is built from [`Text`]s: each holds the same sentence in both languages, written
//! side by side where it is made, so no sentence can exist in one language only. The Korean uses
//! the Korean edition's terms (어텐션 점수, 어텐션 가중치, 문맥 벡터, 코잘 어텐션, 편향, 드롭아웃).

/// The language of what the judge prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// Korean (한국어), in the Korean edition's terms.
    Ko,
}

impl Lang {
    /// `"en"` → English, `"ko"` → Korean; anything else is `None`.
    pub fn parse(code: &str) -> Option<Lang> {
        match code {
            "en" => Some(Lang::En),
            "ko" => Some(Lang::Ko),
            _ => None,
        }
    }

    /// The code [`parse`](Self::parse) reads back: `"en"` or `"ko"`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ko => "ko",
        }
    }
}

/// One sentence (or phrase) in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Text {
    /// English.
    pub en: String,
    /// Korean.
    pub ko: String,
}

impl Text {
    /// A text from its two versions.
    pub fn new(en: impl Into<String>, ko: impl Into<String>) -> Text {
        Text {
            en: en.into(),
            ko: ko.into(),
        }
    }

    /// The same words in both languages (a formula, a file name, a tensor).
    pub fn same(both: impl Into<String>) -> Text {
        let both = both.into();
        Text {
            en: both.clone(),
            ko: both,
        }
    }

    /// The text in `lang`.
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.en,
            Lang::Ko => &self.ko,
        }
    }

    /// `self` then `other`, joined by `sep` (the same in both languages).
    pub fn join(&self, sep: &str, other: &Text) -> Text {
        Text {
            en: format!("{}{sep}{}", self.en, other.en),
            ko: format!("{}{sep}{}", self.ko, other.ko),
        }
    }
}

/// A value put into a [`text!`] sentence: a [`Text`] gives its own language's version,
/// anything else prints the same in both.
pub(crate) trait Part {
    /// The value as written in `lang`.
    fn part(&self, lang: Lang) -> String;
}

impl Part for Text {
    fn part(&self, lang: Lang) -> String {
        self.get(lang).to_string()
    }
}

macro_rules! same_in_both {
    ($($t:ty),*) => {
        $(impl Part for $t {
            fn part(&self, _: Lang) -> String {
                self.to_string()
            }
        })*
    };
}
same_in_both!(String, &str, &String, usize, u32, u64, i32, i64, f32, f64);

/// A [`Text`] from an English and a Korean format string with the same named arguments:
/// `text!("row {i} sums to {s}", "{i}번 행의 합이 {s}입니다", i = 2, s = 0.8)`. An argument that
/// is itself a [`Text`] goes in each sentence in that sentence's language.
macro_rules! text {
    ($en:literal, $ko:literal $(,)?) => {
        $crate::spec::text::Text::new($en, $ko)
    };
    ($en:literal, $ko:literal, $($name:ident = $value:expr),+ $(,)?) => {{
        // `name = name` is the common case: the value is then evaluated once, not once per language.
        $(#[allow(clippy::redundant_locals)] let $name = $value;)+
        $crate::spec::text::Text {
            en: format!($en, $($name = $crate::spec::text::Part::part(&$name, $crate::spec::text::Lang::En)),+),
            ko: format!($ko, $($name = $crate::spec::text::Part::part(&$name, $crate::spec::text::Lang::Ko)),+),
        }
    }};
}
pub(crate) use text;

/// The columns a string takes in a terminal: Hangul and other wide (East Asian) characters
/// take two, every other character one.
pub fn display_width(s: &str) -> usize {
    s.chars().map(|c| if is_wide(c) { 2 } else { 1 }).sum()
}

/// Hangul syllables and jamo, CJK ideographs and full-width forms: two columns each.
fn is_wide(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x115F | 0x2E80..=0x303E | 0x3041..=0x33FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF
        | 0xA960..=0xA97F | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6)
}

/// `line` cut at spaces into pieces of at most `width` columns (a word longer than that stays
/// whole). A line that starts with a space is a table or a tensor of a verdict: it is never cut.
pub fn wrap(line: &str, width: usize) -> Vec<String> {
    if line.starts_with(' ') || display_width(line) <= width {
        return vec![line.to_string()];
    }
    let mut pieces = Vec::new();
    let mut current = String::new();
    for word in line.split(' ') {
        let needed =
            display_width(&current) + usize::from(!current.is_empty()) + display_width(word);
        if !current.is_empty() && needed > width {
            pieces.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    pieces.push(current);
    pieces
}

/// A verdict's message with every sentence [`wrap`]ped at `width` (its tables as they are).
pub fn wrap_message(message: &str, width: usize) -> String {
    message
        .lines()
        .flat_map(|l| wrap(l, width))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_are_cut_at_spaces_tables_never() {
        assert_eq!(wrap("a bb ccc dddd", 6), ["a bb", "ccc", "dddd"]);
        assert_eq!(wrap("abc de", 5), ["abc", "de"]); // the space counts: 3 + 1 + 2 > 5
        assert_eq!(wrap("abc d e", 5), ["abc d", "e"]);
        assert_eq!(wrap("abcdefghij x", 4), ["abcdefghij", "x"]);
        let table = "  book                          yours  with many columns beyond the width";
        assert_eq!(wrap(table, 20), [table]);
        assert_eq!(wrap("가나다 라마", 7), ["가나다", "라마"]); // Hangul is two columns wide
        assert_eq!(wrap_message("a bb ccc\n  x y z", 4), "a bb\nccc\n  x y z");
    }
}
