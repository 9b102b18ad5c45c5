//! Cutting a shell line into words. A request is JSON, which holds spaces
//! and quotes of its own, so everything from the first word that opens
//! JSON (`{`, or `'` as when pasted from a command line) to the end of the
//! line stays one argument.

/// A shell line (or the part before the cursor) cut into words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Words<'a> {
    /// The words before the JSON, each with its byte offset in the line.
    pub(crate) words: Vec<(usize, &'a str)>,
    /// The JSON argument and its byte offset, from its first character to
    /// the end of the line (trailing spaces kept).
    pub(crate) json: Option<(usize, &'a str)>,
}

impl<'a> Words<'a> {
    /// The words alone, without their offsets.
    pub(crate) fn texts(&self) -> Vec<&'a str> {
        self.words.iter().map(|(_, word)| *word).collect()
    }
}

/// Cuts `line` into whitespace-separated words, and the JSON argument.
pub(crate) fn split(line: &str) -> Words<'_> {
    let mut words = Vec::new();
    let mut rest = line;
    let mut offset = 0;
    loop {
        let trimmed = rest.trim_start();
        offset += rest.len() - trimmed.len();
        if trimmed.is_empty() {
            return Words { words, json: None };
        }
        if trimmed.starts_with(['{', '\'']) {
            return Words {
                words,
                json: Some((offset, trimmed)),
            };
        }
        let end = trimmed.find(char::is_whitespace).unwrap_or(trimmed.len());
        words.push((offset, &trimmed[..end]));
        offset += end;
        rest = &trimmed[end..];
    }
}

/// The JSON argument without the single quotes that a shell command line
/// would need around it, and without surrounding spaces.
pub(crate) fn unquote(json: &str) -> &str {
    let json = json.trim();
    json.strip_prefix('\'')
        .and_then(|inner| inner.strip_suffix('\''))
        .unwrap_or(json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_stays_one_argument() {
        let words = split(r#"  cache clear math.Math/Now {"seed": 1, "x": "a b"} "#);
        assert_eq!(
            words.words,
            vec![(2, "cache"), (8, "clear"), (14, "math.Math/Now")]
        );
        assert_eq!(words.json, Some((28, r#"{"seed": 1, "x": "a b"} "#)));
    }

    #[test]
    fn lines_without_json_are_plain_words() {
        let words = split("describe math.Math");
        assert_eq!(words.texts(), vec!["describe", "math.Math"]);
        assert_eq!(words.json, None);
        assert_eq!(split("   ").words, vec![]);
    }

    #[test]
    fn quoted_json_loses_its_quotes() {
        let words = split(r#"math.Math/Sum '{"a": 1}'"#);
        let (_, json) = words.json.expect("json");
        assert_eq!(unquote(json), r#"{"a": 1}"#);
        assert_eq!(unquote(r#" {"a": 1} "#), r#"{"a": 1}"#);
    }
}
