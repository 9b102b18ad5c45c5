//! Where the cursor stands in a request being typed as JSON: completion
//! offers field names only where a key can come, from the message that the
//! enclosing object stands for.

/// The cursor stands where a key of an object can be typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyPosition {
    /// The keys leading from the outermost object to this one (an object
    /// in an array is reached by the array's key).
    pub(crate) path: Vec<String>,
    /// What is typed of the key so far, after its opening quote.
    pub(crate) typed: String,
    /// Whether the key's opening quote is typed.
    pub(crate) quote_open: bool,
    /// The keys that this object already has.
    pub(crate) present: Vec<String>,
}

/// An object or an array that is open at the cursor.
#[derive(Debug)]
struct Frame {
    /// An object (true) or an array.
    object: bool,
    /// The key, in the enclosing object, whose value this is.
    via: Option<String>,
    /// Whether a key comes next (after `{` or `,`).
    expecting_key: bool,
    /// The key whose value is being typed.
    last_key: Option<String>,
    /// The keys typed so far.
    keys: Vec<String>,
}

/// A string that is open at the cursor.
#[derive(Debug)]
struct OpenString {
    /// Its text so far.
    text: String,
    /// Whether it is a key.
    key: bool,
    /// Whether the previous character was a backslash.
    escaped: bool,
}

/// Where the cursor stands at the end of `json`, when a key can be typed
/// there; `None` inside a value, or before the first `{`.
pub(crate) fn key_position(json: &str) -> Option<KeyPosition> {
    let mut stack: Vec<Frame> = Vec::new();
    let mut string: Option<OpenString> = None;
    for ch in json.chars() {
        if let Some(open) = &mut string {
            match ch {
                _ if open.escaped => {
                    open.text.push(ch);
                    open.escaped = false;
                }
                '\\' => open.escaped = true,
                '"' => {
                    let closed = string.take()?;
                    if let (true, Some(frame)) = (closed.key, stack.last_mut()) {
                        frame.keys.push(closed.text.clone());
                        frame.last_key = Some(closed.text);
                        frame.expecting_key = false;
                    }
                }
                _ => open.text.push(ch),
            }
            continue;
        }
        match ch {
            '"' => {
                let key = stack.last().is_some_and(|f| f.object && f.expecting_key);
                string = Some(OpenString {
                    text: String::new(),
                    key,
                    escaped: false,
                });
            }
            '{' | '[' => {
                let via = stack.last().and_then(|parent| {
                    if parent.object {
                        parent.last_key.clone()
                    } else {
                        parent.via.clone()
                    }
                });
                stack.push(Frame {
                    object: ch == '{',
                    via,
                    expecting_key: ch == '{',
                    last_key: None,
                    keys: Vec::new(),
                });
            }
            '}' | ']' => {
                stack.pop();
            }
            ',' => {
                if let Some(frame) = stack.last_mut().filter(|f| f.object) {
                    frame.expecting_key = true;
                }
            }
            _ => {}
        }
    }
    let frame = stack.last().filter(|f| f.object)?;
    let (typed, quote_open) = match string {
        Some(open) if open.key => (open.text, true),
        Some(_) => return None,
        None if frame.expecting_key => (String::new(), false),
        None => return None,
    };
    let path = stack[1..]
        .iter()
        .filter(|f| f.object)
        .map(|f| f.via.clone().unwrap_or_default())
        .collect();
    Some(KeyPosition {
        path,
        typed,
        quote_open,
        present: frame.keys.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(path: &[&str], typed: &str, quote_open: bool, present: &[&str]) -> Option<KeyPosition> {
        Some(KeyPosition {
            path: path.iter().map(|s| (*s).to_owned()).collect(),
            typed: typed.to_owned(),
            quote_open,
            present: present.iter().map(|s| (*s).to_owned()).collect(),
        })
    }

    #[test]
    fn keys_come_after_braces_and_commas() {
        assert_eq!(key_position("{"), at(&[], "", false, &[]));
        assert_eq!(key_position("{\"a"), at(&[], "a", true, &[]));
        assert_eq!(key_position("{\"a\": 1, "), at(&[], "", false, &["a"]));
        assert_eq!(key_position("{\"a\": 1, \"b"), at(&[], "b", true, &["a"]));
    }

    #[test]
    fn values_are_not_key_positions() {
        assert_eq!(key_position(""), None);
        assert_eq!(key_position("{\"a\""), None);
        assert_eq!(key_position("{\"a\": "), None);
        assert_eq!(key_position("{\"a\": \"x, {"), None);
        assert_eq!(key_position("{\"a\": [1, "), None);
        assert_eq!(key_position("{\"a\": 1}"), None);
    }

    #[test]
    fn nested_objects_know_their_path() {
        assert_eq!(
            key_position("{\"user\": {\"id\": 1, \"n"),
            at(&["user"], "n", true, &["id"])
        );
        assert_eq!(
            key_position("{\"lines\": [{\"sku\": \"a\"}, {"),
            at(&["lines"], "", false, &[])
        );
        assert_eq!(
            key_position("{\"user\": {\"id\": 1}, \""),
            at(&[], "", true, &["user"])
        );
    }

    #[test]
    fn escaped_quotes_stay_inside_strings() {
        assert_eq!(
            key_position(r#"{"a": "say \"hi\"", "#),
            at(&[], "", false, &["a"])
        );
    }
}
