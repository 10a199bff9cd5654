//! A tokenizer for rustdoc's HTML: start tags with their attributes, end tags, text; and where a
//! token is (its line, the text around it) for a report.

#[derive(Debug)]
pub(crate) enum Token<'a> {
    Start {
        name: String,
        attrs: Vec<(String, String)>,
        at: usize,
    },
    End {
        name: String,
        at: usize,
    },
    Text {
        text: &'a str,
        at: usize,
    },
}

impl Token<'_> {
    pub(crate) fn at(&self) -> usize {
        match self {
            Token::Start { at, .. } | Token::End { at, .. } | Token::Text { at, .. } => *at,
        }
    }

    pub(crate) fn is_start(&self, tag: &str) -> bool {
        matches!(self, Token::Start { name, .. } if name == tag)
    }

    pub(crate) fn is_end(&self, tag: &str) -> bool {
        matches!(self, Token::End { name, .. } if name == tag)
    }

    pub(crate) fn attr(&self, key: &str) -> Option<&str> {
        match self {
            Token::Start { attrs, .. } => attrs
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str()),
            _ => None,
        }
    }

    pub(crate) fn has_class(&self, class: &str) -> bool {
        self.attr("class")
            .is_some_and(|c| c.split_whitespace().any(|c| c == class))
    }
}

pub(crate) fn tokenize(html: &str) -> Vec<Token<'_>> {
    let bytes = html.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'<' {
            let end = html[i..].find('<').map_or(html.len(), |p| i + p);
            tokens.push(Token::Text {
                text: &html[i..end],
                at: i,
            });
            i = end;
            continue;
        }
        if html[i..].starts_with("<!--") {
            i = html[i..].find("-->").map_or(html.len(), |p| i + p + 3);
            continue;
        }
        if html[i..].starts_with("<!") || html[i..].starts_with("<?") {
            i = html[i..].find('>').map_or(html.len(), |p| i + p + 1);
            continue;
        }
        let at = i;
        let closing = bytes.get(i + 1) == Some(&b'/');
        let mut j = i + 1 + usize::from(closing);
        let name_start = j;
        while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'-') {
            j += 1;
        }
        if j == name_start {
            // A lone `<` in text.
            tokens.push(Token::Text {
                text: &html[i..i + 1],
                at: i,
            });
            i += 1;
            continue;
        }
        let name = html[name_start..j].to_ascii_lowercase();
        let mut attrs = Vec::new();
        loop {
            while j < bytes.len() && (bytes[j].is_ascii_whitespace() || bytes[j] == b'/') {
                j += 1;
            }
            if j >= bytes.len() || bytes[j] == b'>' {
                j += 1;
                break;
            }
            let key_start = j;
            while j < bytes.len() && !b" \t\r\n=>/".contains(&bytes[j]) {
                j += 1;
            }
            let key = html[key_start..j].to_ascii_lowercase();
            let mut value = String::new();
            if bytes.get(j) == Some(&b'=') {
                j += 1;
                match bytes.get(j) {
                    Some(&q @ (b'"' | b'\'')) => {
                        let end = html[j + 1..]
                            .find(q as char)
                            .map_or(html.len(), |p| j + 1 + p);
                        value = decode(&html[j + 1..end]);
                        j = end + 1;
                    }
                    _ => {
                        let start = j;
                        while j < bytes.len() && !bytes[j].is_ascii_whitespace() && bytes[j] != b'>'
                        {
                            j += 1;
                        }
                        value = decode(&html[start..j]);
                    }
                }
            }
            attrs.push((key, value));
        }
        i = j.min(html.len());
        if closing {
            tokens.push(Token::End { name, at });
            continue;
        }
        let raw = name == "script" || name == "style";
        tokens.push(Token::Start {
            name: name.clone(),
            attrs,
            at,
        });
        if raw {
            // Script and style contents are not text; skip to the end tag.
            let end_tag = format!("</{name}");
            let end = html[i..].find(&end_tag).map_or(html.len(), |p| i + p);
            i = end;
        }
    }
    tokens
}

/// The character references rustdoc writes in attribute values.
fn decode(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

pub(crate) fn line_of(html: &str, at: usize) -> usize {
    html[..at.min(html.len())].matches('\n').count() + 1
}

/// Up to `n` characters from byte `at`, on one line.
pub(crate) fn snippet(s: &str, n: usize) -> String {
    s.chars()
        .take(n)
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Elements whose text is not prose: `$` is expected there.
pub(crate) const NOT_PROSE: [&str; 6] = ["code", "pre", "math", "script", "style", "kbd"];
