//! Load errors: every problem found in one or more scenario files, each with its position.

use std::fmt;

/// What kind of mistake a [`Problem`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProblemKind {
    /// The file could not be read.
    Io,
    /// The file is not valid TOML.
    Syntax,
    /// A key the format does not define.
    UnknownField,
    /// A required key is absent.
    MissingField,
    /// A value of the wrong TOML type.
    WrongType,
    /// A value of the right type that breaks a rule of its own (range, format, unknown id).
    InvalidValue,
    /// Values that contradict each other.
    Conflict,
    /// A value given twice where each must be unique (list items, scenario names).
    Duplicate,
}

/// One mistake at one place.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Problem {
    /// The file (or origin label) the problem is in.
    pub file: String,
    /// 1-based line; 0 when the problem has no position (the file could not be read).
    pub line: usize,
    /// 1-based column in characters; 0 when there is no position.
    pub column: usize,
    /// Dotted path of the field, e.g. `expect.org_id` or `call.extra_headers[1].name`;
    /// empty for problems of the whole file.
    pub field: String,
    /// What kind of mistake.
    pub kind: ProblemKind,
    /// What is wrong and, where it helps, what is expected (lowercase, no final period).
    pub message: String,
}

impl Problem {
    /// A problem at byte offset `at` of `text`.
    pub(crate) fn at(
        file: &str,
        text: &str,
        at: usize,
        field: impl Into<String>,
        kind: ProblemKind,
        message: impl Into<String>,
    ) -> Problem {
        let (line, column) = line_column(text, at);
        Problem {
            file: file.to_owned(),
            line,
            column,
            field: clip(field.into(), MAX_FIELD_CHARS),
            kind,
            message: clip(message.into(), MAX_MESSAGE_CHARS),
        }
    }

    /// A problem without a position.
    pub(crate) fn unpositioned(
        file: &str,
        kind: ProblemKind,
        message: impl Into<String>,
    ) -> Problem {
        Problem {
            file: file.to_owned(),
            line: 0,
            column: 0,
            field: String::new(),
            kind,
            message: clip(message.into(), MAX_MESSAGE_CHARS),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.file)?;
        if self.line > 0 {
            write!(f, "{}:{}:", self.line, self.column)?;
        }
        if !self.field.is_empty() {
            write!(f, " {}:", self.field)?;
        }
        write!(f, " {}", self.message)
    }
}

/// Longest field path a problem quotes (a hostile file can make a key any length).
const MAX_FIELD_CHARS: usize = 120;
/// Longest message a problem carries (it may quote a value from the file).
const MAX_MESSAGE_CHARS: usize = 600;

/// `s` cut to `max` characters with what was left out said, so an error never echoes a
/// multi-megabyte value.
fn clip(s: String, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s,
        Some((cut, _)) => format!("{}... ({} bytes in all)", &s[..cut], s.len()),
    }
}

/// A value taken from input, for an error message: control characters escaped, at most
/// `max_chars` characters of it, and its full length when it was cut.
pub fn quote_prefix(s: &str, max_chars: usize) -> String {
    let mut out = String::new();
    for (n, c) in s.chars().enumerate() {
        if n == max_chars {
            out.push_str(&format!("... ({} bytes in all)", s.len()));
            break;
        }
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out
}

/// Every problem found while loading; never empty. Displays one problem per line,
/// `file:line:column: field: message`, in file order and then position order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", Lines(&self.problems))]
#[non_exhaustive]
pub struct LoadError {
    /// The problems, sorted by file (in load order) and position.
    pub problems: Vec<Problem>,
}

impl LoadError {
    pub(crate) fn new(problems: Vec<Problem>) -> LoadError {
        debug_assert!(!problems.is_empty());
        LoadError { problems }
    }

    /// The problems.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }
}

struct Lines<'a>(&'a [Problem]);

impl fmt::Display for Lines<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

/// 1-based line and character column of byte offset `at` in `text` (clamped to the text).
pub(crate) fn line_column(text: &str, at: usize) -> (usize, usize) {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let before = &text[..at];
    let line = before.bytes().filter(|b| *b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_counts_from_one_in_characters() {
        let text = "ab\ncé d\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 3), (2, 1));
        // 'd' is after "cé " (é is two bytes): byte 3 + 1 + 2 + 1 = 7, character column 4.
        assert_eq!(line_column(text, 7), (2, 4));
        assert_eq!(line_column(text, 999), (3, 1));
        // An offset inside a multi-byte character is moved back to its start.
        assert_eq!(line_column(text, 5), (2, 2));
    }

    #[test]
    fn long_values_are_quoted_as_a_prefix() {
        let huge = "x".repeat(5_000_000);
        let p = Problem::at(
            "f",
            "",
            0,
            huge.clone(),
            ProblemKind::UnknownField,
            huge.clone(),
        );
        assert!(p.to_string().len() < 1_000, "{}", p.to_string().len());
        assert!(p.message.ends_with("... (5000000 bytes in all)"));
        assert_eq!(quote_prefix("a\0b\u{7}", 10), "a\\0b\\u{7}");
        assert_eq!(quote_prefix("abcdef", 3), "abc... (6 bytes in all)");
    }

    #[test]
    fn display_is_one_compiler_style_line_per_problem() {
        let text = "a = 1\nb = 2\n";
        let err = LoadError::new(vec![
            Problem::at(
                "x.toml",
                text,
                6,
                "b",
                ProblemKind::UnknownField,
                "unknown field `b`",
            ),
            Problem::unpositioned("y.toml", ProblemKind::Io, "cannot read: not found"),
        ]);
        assert_eq!(
            err.to_string(),
            "x.toml:2:1: b: unknown field `b`\ny.toml: cannot read: not found"
        );
    }
}
