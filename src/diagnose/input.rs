//! The input: reading what was pasted (at most 64 KiB of UTF-8), and the errors that say why a
//! text cannot be read.

use std::fmt;
use std::io::Read;

/// The most input [`read_input`] accepts: 64 KiB. A whole cell of the chapter prints under
/// 2 KiB, so anything longer is not the chapter's output.
pub const MAX_INPUT_BYTES: usize = 64 * 1024;

/// Why a text cannot be read. Its [`Display`](fmt::Display) is the message
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
    /// No `tensor(…)`, `torch.Size(…)`, `array(…)`, list of numbers or number in the text.
    NoTensor {
        /// The start of the text, shortened.
        start: String,
    },
    /// A `(` or `[` without its closing partner, or a closing one without an opening one.
    Brackets {
        /// What is wrong and where, e.g. "the `(` of `tensor(` on line 1 is never closed".
        problem: String,
    },
    /// Something that is not a number where a number must be.
    NotANumber {
        /// The offending text, shortened.
        token: String,
        /// Its line in the paste (from 1).
        line: usize,
        /// Its column in that line (from 1, in characters).
        column: usize,
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
                 stopping); a cell of the chapter prints under 2 KiB: {EXAMPLE}"
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
                "no tensor found in {start:?}: expected `tensor(...)`, `torch.Size([...])`, \
                 `array([...])`, a list of numbers or a number; {EXAMPLE}"
            ),
            BadInput::Brackets { problem } => write!(
                f,
                "the brackets do not match: {problem} (was the tensor cut off when copying?)"
            ),
            BadInput::NotANumber {
                token,
                line,
                column,
            } => write!(
                f,
                "{token:?} at line {line}, column {column} is not a number; a printed tensor \
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
