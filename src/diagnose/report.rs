//! What `cargo run -- diagnose` prints: the text (English or Korean) and the JSON.

use std::fmt::{self, Write as _};

use super::evidence::{group, odds};
use super::{Cause, Diagnosis, Evidence, Found, Kind, Note, Report, Status};
use crate::json::string as json_string;
use crate::walkthrough::Lang;

/// The width the explanations are wrapped at (in terminal columns; a Hangul syllable takes
/// two): the width of a code line on the docs pages.
pub(super) const WIDTH: usize = 88;

/// The most setups an "ambiguous" answer lists; the rest are counted.
pub const LISTED: usize = 10;

/// The most differing places a "not recognised" answer lists; the rest are counted.
const DIFFERING_LISTED: usize = 12;

impl Found {
    /// `3.5.2 cell [115]: Dropout(0.5) on ones(6, 6) …`, in `lang`.
    pub fn place(&self, lang: Lang) -> String {
        let p = self.printed;
        match lang {
            Lang::English => format!("{} cell {}: {}", p.section, p.cell, p.label),
            Lang::Korean => {
                format!("{}: {}", p.place().ko, p.label_ko)
            }
        }
    }
}

/// The tags of `causes`, joined.
fn tags(causes: &[Cause]) -> String {
    causes.iter().map(Cause::tag).collect::<Vec<_>>().join(", ")
}

/// How many terminal columns `text` takes: two for Hangul and other wide characters.
fn columns(text: &str) -> usize {
    text.chars()
        .map(|c| match c {
            '\u{1100}'..='\u{115F}' | '\u{2E80}'..='\u{A4CF}' | '\u{AC00}'..='\u{D7A3}' => 2,
            _ => 1,
        })
        .sum()
}

/// Writes `text` after `first`, wrapped at [`WIDTH`] columns, continuation lines indented to
/// line up with the text.
fn wrapped(out: &mut String, first: &str, text: &str) {
    let indent = " ".repeat(columns(first));
    let mut line = first.to_string();
    let mut empty = true;
    for word in text.split_whitespace() {
        if !empty && columns(&line) + 1 + columns(word) > WIDTH {
            out.push_str(&line);
            out.push('\n');
            line.clone_from(&indent);
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    out.push_str(&line);
    out.push('\n');
}

/// The words of the report in one language.
struct Words {
    recognised: &'static str,
    ambiguous: &'static str,
    computed_under: &'static str,
    fix: &'static str,
    book_prints: &'static str,
    also: &'static str,
    not_recognised: &'static str,
    no_shape: &'static str,
    closest: &'static str,
    header: &'static str,
}

const EN: Words = Words {
    recognised: "recognised: ",
    ambiguous: "ambiguous: ",
    computed_under: "computed under: ",
    fix: "fix: ",
    book_prints: "the book prints:",
    also: "the same text is also ",
    not_recognised: "not recognised: no printed result of the chapter, under any setup tried, \
        prints exactly this text.",
    no_shape: "not recognised: no printed result of the chapter has shape",
    closest: "closest: ",
    header: "    position  yours       it prints",
};

const KO: Words = Words {
    recognised: "인식함: ",
    ambiguous: "판단 보류: ",
    computed_under: "계산 조건: ",
    fix: "해결 방법: ",
    book_prints: "책의 출력:",
    also: "같은 텍스트가 나오는 다른 결과: ",
    not_recognised: "인식하지 못함: 시도한 어떤 설정에서도 이 장의 출력 결과 중 이 텍스트와 \
        정확히 같은 것이 없습니다.",
    no_shape: "인식하지 못함: 이 장의 출력 결과 중 다음 크기를 가진 것이 없습니다:",
    closest: "가장 가까운 결과: ",
    header: "    위치      입력값      계산값",
};

fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::English => &EN,
        Lang::Korean => &KO,
    }
}

/// The evidence line of a named match.
fn evidence_line(e: &Evidence, lang: Lang) -> String {
    let compared = group(e.compared as u64);
    match (lang, e.depends_on_chance()) {
        (Lang::English, false) => {
            "evidence: no random number changes this text, so chance plays no part".into()
        }
        (Lang::Korean, false) => {
            "근거: 어떤 난수도 이 텍스트를 바꾸지 않으므로 우연이 끼어들 여지가 없습니다".into()
        }
        (Lang::English, true) => format!(
            "evidence: {} printed {}, {} of them random; a run with an unknown seed matches one \
             of the {compared} setups compared with odds of {}",
            numbers_en(e.numbers),
            e.precision.en(),
            e.random,
            odds(e.chance)
        ),
        (Lang::Korean, true) => format!(
            "근거: 출력된 숫자 {}개({}), 그중 난수에 따라 달라지는 숫자 {}개. 시드를 모르는 실행이 \
             비교한 설정 {compared}개 중 하나와 우연히 일치할 확률은 {}입니다",
            e.numbers,
            e.precision.ko(),
            e.random,
            odds_ko(e.chance)
        ),
    }
}

/// `1 number`, `24 numbers`.
fn numbers_en(n: usize) -> String {
    if n == 1 {
        "1 number".to_string()
    } else {
        format!("{n} numbers")
    }
}

/// [`odds`] in Korean: `1,400분의 1`, `10^31분의 1`.
fn odds_ko(chance: f64) -> String {
    let en = odds(chance);
    match en.strip_prefix("1 in ") {
        Some(n) => format!("{n}분의 1"),
        None => "1 이상".to_string(),
    }
}

/// A note in `lang`.
fn note_text(note: &Note, lang: Lang) -> String {
    match (note, lang) {
        (Note::GradFn { yours, prints }, Lang::English) => format!(
            "note: your grad_fn=<{yours}> is not what this result prints ({}): the numbers are \
             the same, the last operation is another",
            if prints.is_empty() {
                "no grad_fn".to_string()
            } else {
                prints.join(" or ")
            }
        ),
        (Note::GradFn { yours, prints }, Lang::Korean) => format!(
            "참고: 입력의 grad_fn=<{yours}>은 이 결과가 출력하는 것({})과 다릅니다: 숫자는 \
             같지만 마지막 연산이 다릅니다",
            if prints.is_empty() {
                "grad_fn 없음".to_string()
            } else {
                prints.join(" 또는 ")
            }
        ),
        (Note::Device(device), Lang::English) => format!(
            "note: your tensor is on {device}; the setups searched use PyTorch's CPU generator, \
             so a dropout mask drawn on the GPU is not among them"
        ),
        (Note::Device(device), Lang::Korean) => format!(
            "참고: 입력 텐서는 {device}에 있습니다. 탐색한 설정은 파이토치의 CPU 난수 생성기를 \
             쓰므로 GPU에서 뽑은 드롭아웃 마스크는 포함되지 않습니다"
        ),
        (Note::Dtype(dtype), Lang::English) => {
            format!("note: your tensor is {dtype}; this crate computes in float32")
        }
        (Note::Dtype(dtype), Lang::Korean) => {
            format!("참고: 입력 텐서는 {dtype}입니다. 이 크레이트는 float32로 계산합니다")
        }
    }
}

impl Diagnosis {
    /// The diagnosis as text in `lang` (the [`Display`](fmt::Display) is English).
    pub fn render(&self, lang: Lang) -> String {
        let w = words(lang);
        let mut out = String::new();
        match self.status {
            Status::Recognised => {
                let m = self
                    .matched
                    .as_ref()
                    .expect("a recognised diagnosis has a match");
                wrapped(&mut out, w.recognised, &m.place(lang));
                if m.causes == [Cause::Book] {
                    wrapped(&mut out, "  ✓ ", &Cause::Book.why_in(lang));
                } else {
                    let _ = writeln!(out, "  {}{}", w.computed_under, tags(&m.causes));
                    for c in &m.causes {
                        wrapped(
                            &mut out,
                            "  ✗ ",
                            &format!("{}: {}", c.tag(), c.why_in(lang)),
                        );
                        wrapped(&mut out, "    ", &format!("{}{}", w.fix, c.fix_in(lang)));
                    }
                    let _ = writeln!(out, "  {}", w.book_prints);
                    for line in m.printed.expected().lines() {
                        if line.is_empty() {
                            out.push('\n'); // between batch items: no trailing spaces
                        } else {
                            let _ = writeln!(out, "    {line}");
                        }
                    }
                }
                for a in &self.also {
                    wrapped(&mut out, "  ", &format!("{}{}", w.also, a.place(lang)));
                }
            }
            Status::Ambiguous => self.render_ambiguous(lang, &mut out),
            Status::NotRecognised => self.render_not_recognised(lang, &mut out),
        }
        for note in &self.notes {
            wrapped(&mut out, "  ", &note_text(note, lang));
        }
        if let (Status::Recognised, Some(e)) = (self.status, &self.evidence) {
            wrapped(&mut out, "  ", &evidence_line(e, lang));
        }
        let ms = self.elapsed.as_secs_f64() * 1000.0;
        let _ = match lang {
            Lang::English => write!(
                out,
                "({} candidates compared in {ms:.0} ms)",
                self.candidates
            ),
            Lang::Korean => write!(out, "(후보 {}개를 {ms:.0} ms 동안 비교)", self.candidates),
        };
        out
    }

    fn render_ambiguous(&self, lang: Lang, out: &mut String) {
        let w = words(lang);
        let e = self
            .evidence
            .as_ref()
            .expect("an ambiguous diagnosis has evidence");
        let n = self.ambiguous.len();
        let compared = group(e.compared as u64);
        let summary = match lang {
            Lang::English => format!(
                "{} exactly this text, but {} printed {} {} too little evidence to name a cause: \
                 a run with an unknown seed matches one of the first {compared} setups compared \
                 with odds of {} (a cause is named only when at least 2 printed numbers depend \
                 on the random numbers and the odds are below 1 in 1,000)",
                if n == 1 {
                    "1 setup prints".to_string()
                } else {
                    format!("{n} setups print")
                },
                numbers_en(e.numbers),
                e.precision.en(),
                if e.numbers == 1 { "is" } else { "are" },
                odds(e.chance)
            ),
            Lang::Korean => format!(
                "설정 {n}개가 이 텍스트를 정확히 출력하지만 출력된 숫자 {}개({})로는 원인을 말할 \
                 근거가 부족합니다: 시드를 모르는 실행이 처음 비교한 설정 {compared}개 중 하나와 \
                 우연히 일치할 확률이 {}입니다(난수에 따라 달라지는 숫자가 2개 이상이고 확률이 \
                 1,000분의 1보다 작을 때만 원인을 말합니다)",
                e.numbers,
                e.precision.ko(),
                odds_ko(e.chance)
            ),
        };
        wrapped(out, w.ambiguous, &summary);
        for (i, f) in self.ambiguous.iter().take(LISTED).enumerate() {
            let first = format!("  {}. ", i + 1);
            wrapped(out, &first, &f.place(lang));
            let indent = " ".repeat(first.len());
            let _ = writeln!(out, "{indent}{}{}", w.computed_under, tags(&f.causes));
        }
        if n > LISTED {
            let _ = match lang {
                Lang::English => writeln!(out, "  … and {} more", n - LISTED),
                Lang::Korean => writeln!(out, "  … 외 {}개", n - LISTED),
            };
        }
        let one = e.random < super::evidence::MIN_RANDOM_NUMBERS;
        let advice = match (lang, one) {
            (Lang::English, true) => {
                "one printed number is never enough to name a cause: \
                paste a larger result of the same run (the tensor this number comes from, or \
                the cell's other prints)"
            }
            (Lang::English, false) => {
                "for a sure answer, print more digits \
                (torch.set_printoptions(precision=8)) or paste a larger result of the same run"
            }
            (Lang::Korean, true) => {
                "출력된 숫자 하나로는 원인을 말하지 않습니다: 같은 실행의 더 \
                큰 결과(이 숫자가 나온 텐서나 셀의 다른 출력)를 붙여 넣으세요"
            }
            (Lang::Korean, false) => {
                "확실한 답을 얻으려면 숫자를 더 많이 출력하거나\
                (torch.set_printoptions(precision=8)) 같은 실행의 더 큰 결과를 붙여 넣으세요"
            }
        };
        wrapped(out, "  ", advice);
    }

    fn render_not_recognised(&self, lang: Lang, out: &mut String) {
        let w = words(lang);
        let Some(c) = &self.closest else {
            let _ = writeln!(out, "{} {:?}.", w.no_shape, self.input.shape);
            return;
        };
        wrapped(out, "", w.not_recognised);
        wrapped(out, w.closest, &c.found.place(lang));
        let diff = format!("{:.4}", c.max_abs_diff);
        let _ = match lang {
            Lang::English => writeln!(
                out,
                "  under {}: {} of {} numbers differ (largest difference {diff}):",
                tags(&c.found.causes),
                c.differing.len(),
                c.of
            ),
            Lang::Korean => writeln!(
                out,
                "  {} 조건에서 숫자 {}개 중 {}개가 다릅니다(최대 차이 {diff}):",
                tags(&c.found.causes),
                c.of,
                c.differing.len()
            ),
        };
        let _ = writeln!(out, "{}", w.header);
        for (i, yours, ours) in c.differing.iter().take(DIFFERING_LISTED) {
            let _ = writeln!(out, "    {i:<8}  {yours:<10}  {ours}");
        }
        if c.differing.len() > DIFFERING_LISTED {
            let more = c.differing.len() - DIFFERING_LISTED;
            let _ = match lang {
                Lang::English => writeln!(out, "    … and {more} more"),
                Lang::Korean => writeln!(out, "    … 외 {more}개"),
            };
        }
    }

    /// The diagnosis as one JSON object: `status` (`recognised`, `ambiguous`, `not
    /// recognised`), `matched` (true only when recognised), `section`, `cell`, `name`, `causes`
    /// (tags), `also` (other results printing the same text under an equally simple setup,
    /// each with `section`, `cell`, `name`, `causes`), `ambiguous` (when ambiguous: every
    /// setup printing the text, the same fields), `chance` (the odds of a coincidence as a
    /// number, `null` when no setup prints the text or chance plays no part), `closest`
    /// (`null`, or an object with `section`, `cell`, `name`, `causes`, `differing` and `of`),
    /// `candidates`, `line` and `label` (where the value is in the paste), `grad_fn` and
    /// `notes`.
    pub fn to_json(&self) -> String {
        format!("{{{}}}", self.json_fields().join(", "))
    }

    fn json_fields(&self) -> Vec<String> {
        let list = |found: &[Found]| {
            let items: Vec<String> = found
                .iter()
                .map(|f| format!("{{{}}}", found_json(f)))
                .collect();
            format!("[{}]", items.join(", "))
        };
        let head = match &self.matched {
            Some(m) => found_json(m),
            None => "\"section\": null, \"cell\": null, \"name\": null, \"causes\": []".into(),
        };
        let closest = match &self.closest {
            Some(c) => format!(
                "{{{}, \"differing\": {}, \"of\": {}}}",
                found_json(&c.found),
                c.differing.len(),
                c.of
            ),
            None => "null".to_string(),
        };
        let chance = match &self.evidence {
            Some(e) if e.depends_on_chance() => format!("{:?}", e.chance),
            _ => "null".to_string(),
        };
        let notes: Vec<String> = self
            .notes
            .iter()
            .map(|n| json_string(&note_text(n, Lang::English)))
            .collect();
        vec![
            format!("\"status\": {}", json_string(self.status.as_str())),
            format!("\"matched\": {}", self.status == Status::Recognised),
            head,
            format!("\"also\": {}", list(&self.also)),
            format!("\"ambiguous\": {}", list(&self.ambiguous)),
            format!("\"chance\": {chance}"),
            format!("\"closest\": {closest}"),
            format!("\"candidates\": {}", self.candidates),
            format!("\"line\": {}", self.input.line),
            format!("\"label\": {}", json_string(&self.input.label)),
            format!(
                "\"grad_fn\": {}",
                self.input
                    .grad_fn
                    .as_deref()
                    .map_or("null".to_string(), json_string)
            ),
            format!("\"notes\": [{}]", notes.join(", ")),
        ]
    }
}

/// `"section": …, "cell": …, "name": …, "causes": […]`.
fn found_json(f: &Found) -> String {
    let causes: Vec<String> = f.causes.iter().map(|c| json_string(&c.tag())).collect();
    format!(
        "\"section\": {}, \"cell\": {}, \"name\": {}, \"causes\": [{}]",
        json_string(f.printed.section),
        json_string(f.printed.cell),
        json_string(f.printed.name),
        causes.join(", ")
    )
}

impl fmt::Display for Diagnosis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(Lang::English))
    }
}

impl Report {
    /// The report as text in `lang`: the diagnosis alone for a paste of one value, otherwise
    /// one section per value, each headed by where it is in the paste.
    pub fn render(&self, lang: Lang) -> String {
        if let [only] = self.values.as_slice() {
            return only.render(lang);
        }
        let n = self.values.len();
        let mut out = match lang {
            Lang::English => format!("{n} values in the paste, each diagnosed below:\n"),
            Lang::Korean => format!("붙여 넣은 텍스트에 값이 {n}개 있습니다. 각각 진단합니다:\n"),
        };
        for (i, d) in self.values.iter().enumerate() {
            let what = describe(d, lang);
            let _ = match lang {
                Lang::English => writeln!(
                    out,
                    "\n── value {} of {n}, line {}: {what}",
                    i + 1,
                    d.input.line
                ),
                Lang::Korean => writeln!(
                    out,
                    "\n── 값 {}/{n}, {}번째 줄: {what}",
                    i + 1,
                    d.input.line
                ),
            };
            out.push_str(&d.render(lang));
            out.push('\n');
        }
        let ms = self.elapsed.as_secs_f64() * 1000.0;
        let _ = match lang {
            Lang::English => write!(out, "(all {n} values in {ms:.0} ms)"),
            Lang::Korean => write!(out, "(값 {n}개 모두 {ms:.0} ms)"),
        };
        out
    }

    /// One JSON object: the primary value's fields (see [`Diagnosis::to_json`]), then
    /// `primary` (its index) and `values` (every value's object, in the paste's order).
    pub fn to_json(&self) -> String {
        let mut fields = self.primary().json_fields();
        fields.push(format!("\"primary\": {}", self.primary));
        let values: Vec<String> = self.values.iter().map(Diagnosis::to_json).collect();
        fields.push(format!("\"values\": [{}]", values.join(", ")));
        format!("{{{}}}", fields.join(", "))
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(Lang::English))
    }
}

/// `tensor of shape [2, 6, 2], grad_fn=<CatBackward0>`, `torch.Size([2, 6, 2]), labelled
/// "context_vecs.shape"`.
fn describe(d: &Diagnosis, lang: Lang) -> String {
    let v = &d.input;
    let (en, ko) = match v.kind {
        Kind::Tensor => ("tensor", "텐서"),
        Kind::Size => ("torch.Size", "torch.Size"),
        Kind::Array => ("NumPy array", "넘파이 배열"),
        Kind::List => ("list", "리스트"),
        Kind::Number => ("number", "숫자"),
    };
    let mut parts = vec![match (lang, v.kind) {
        (_, Kind::Size) => format!("torch.Size([{}])", v.numbers.join(", ")),
        (Lang::English, Kind::Number) => format!("{en} {}", v.numbers.join("")),
        (Lang::Korean, Kind::Number) => format!("{ko} {}", v.numbers.join("")),
        (Lang::English, _) => format!("{en} of shape {:?}", v.shape),
        (Lang::Korean, _) => format!("크기가 {:?}인 {ko}", v.shape),
    }];
    if !v.label.is_empty() {
        parts.push(match lang {
            Lang::English => format!("labelled {:?}", v.label),
            Lang::Korean => format!("레이블 {:?}", v.label),
        });
    }
    if let Some(g) = &v.grad_fn {
        parts.push(format!("grad_fn=<{g}>"));
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A line holds at most 88 columns: 88 fit, 89 wrap, continuations are indented.
    #[test]
    fn wraps_at_88_columns() {
        let wrap = |first: &str, text: &str| {
            let mut out = String::new();
            wrapped(&mut out, first, text);
            out
        };
        let (a, b) = ("a".repeat(43), "b".repeat(44));
        assert_eq!(wrap("", &format!("{a} {b}")), format!("{a} {b}\n"));
        let a = "a".repeat(44);
        assert_eq!(wrap("", &format!("{a} {b}")), format!("{a}\n{b}\n"));
        assert_eq!(
            wrap("  ✗ ", &format!("{a} {b} c")),
            format!("  ✗ {a}\n    {b} c\n")
        );
        // Hangul takes two columns: 44 syllables fill a line.
        let (ga, na) = ("가".repeat(22), "나".repeat(21));
        assert_eq!(wrap("", &format!("{ga} {na}")), format!("{ga} {na}\n"));
        let na = "나".repeat(22);
        assert_eq!(wrap("", &format!("{ga} {na}")), format!("{ga}\n{na}\n"));
    }

    #[test]
    fn columns_of_wide_characters() {
        assert_eq!(columns("ab"), 2);
        assert_eq!(columns("가나"), 4);
        assert_eq!(columns("\u{1100}"), 2); // a Hangul jamo
        assert_eq!(columns("一"), 2); // CJK
        assert_eq!(columns("✗"), 1);
    }

    #[test]
    fn korean_words() {
        assert_eq!(numbers_en(1), "1 number");
        assert_eq!(numbers_en(2), "2 numbers");
        assert_eq!(odds_ko(1.0 / 1437.0), "1,400분의 1");
        assert_eq!(odds_ko(2.0), "1 이상");
    }
}
