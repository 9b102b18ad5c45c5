//! Proto comments made safe for rustdoc and clippy, before prost-build
//! turns them into doc comments (of messages, fields, services and rpcs
//! alike).
//!
//! Proto comments are written for people, in loose markdown, and reach a
//! crate's docs verbatim. Three things in them break a crate built with
//! `-D warnings` or tested with `cargo test`:
//!
//! - code blocks (fenced or indented) become doctests that fail: every one
//!   is fenced as `text`;
//! - HTML-like text (`<thing>`, `Map<K, V>`) is read as HTML tags: it is
//!   put in a code span;
//! - list items whose continuation lines are indented too little or too
//!   much trip clippy's `doc_lazy_continuation` and
//!   `doc_overindented_list_items`: they are indented to the item's text.
//!
//! prost-build then escapes brackets and URLs as it always does.

use prost_types::FileDescriptorProto;

/// Rewrites every leading and trailing comment of `file` in place.
pub(crate) fn sanitize_file(file: &mut FileDescriptorProto) {
    let Some(info) = file.source_code_info.as_mut() else {
        return;
    };
    for location in &mut info.location {
        for comment in [
            location.leading_comments.as_mut(),
            location.trailing_comments.as_mut(),
        ]
        .into_iter()
        .flatten()
        {
            *comment = sanitize(comment);
        }
    }
}

/// Where the rewriting stands while it goes through a comment's lines.
#[derive(Default)]
struct State {
    /// The lines written so far.
    out: Vec<String>,
    /// Inside a fenced block of the source: its fence character, length
    /// and the indentation its lines keep.
    fence: Option<(char, usize, usize)>,
    /// Inside an indented code block, fenced by us, at this indentation.
    indented_code: Option<usize>,
    /// Blank lines seen inside an indented code block, not written yet (a
    /// block does not end with them).
    pending_blanks: usize,
    /// The text indentation of the list item being continued.
    list: Option<usize>,
    /// Whether the previous line was blank (or there was none).
    after_blank: bool,
}

/// One comment, rewritten as the module documentation says.
pub(crate) fn sanitize(comment: &str) -> String {
    let lines: Vec<String> = comment
        .lines()
        .map(|line| line.replace('\t', "    ").trim_end().to_owned())
        .collect();
    // Like rustdoc, ignore the indentation that every line shares (the
    // space after `//`).
    let common = lines
        .iter()
        .filter(|line| !line.is_empty())
        .map(|line| indentation(line))
        .min()
        .unwrap_or(0);
    let mut state = State {
        after_blank: true,
        ..State::default()
    };
    for line in &lines {
        state.line(line.get(common..).unwrap_or(""));
    }
    state.finish();
    let mut text = state.out.join("\n");
    if comment.ends_with('\n') {
        text.push('\n');
    }
    text
}

impl State {
    fn line(&mut self, line: &str) {
        let indent = indentation(line);
        let body = line.trim_start();
        if let Some((marker, length, keep)) = self.fence {
            if body.starts_with(&marker.to_string().repeat(length))
                && body.trim_start_matches(marker).trim().is_empty()
            {
                self.out.push(format!("{}```", spaces(keep)));
                self.fence = None;
            } else {
                self.out
                    .push(format!("{}{}", spaces(keep), strip(line, keep)));
            }
            return;
        }
        if let Some(base) = self.indented_code {
            if body.is_empty() {
                self.pending_blanks += 1;
                return;
            }
            if indent >= base + 4 {
                self.flush_blanks();
                self.out
                    .push(format!("{}{}", spaces(base), strip(line, base + 4)));
                return;
            }
            self.out.push(format!("{}```", spaces(base)));
            self.indented_code = None;
            self.flush_blanks();
            self.after_blank = true;
        }
        if body.is_empty() {
            self.out.push(String::new());
            self.after_blank = true;
            return;
        }
        // The indentation a block at this point is relative to.
        let base = match self.list {
            Some(text) if indent >= text => text,
            _ => 0,
        };
        if let Some(marker) = ["```", "~~~"].iter().find(|m| body.starts_with(**m)) {
            let marker = marker.chars().next().unwrap_or('`');
            let length = body.chars().take_while(|c| *c == marker).count();
            self.fence = Some((marker, length, base));
            // Code in a proto comment is never Rust that compiles here.
            self.out.push(format!("{}```text", spaces(base)));
            self.after_blank = false;
            return;
        }
        if self.after_blank && indent >= base + 4 {
            self.out.push(format!("{}```text", spaces(base)));
            self.out
                .push(format!("{}{}", spaces(base), strip(line, base + 4)));
            self.indented_code = Some(base);
            return;
        }
        let was_after_blank = std::mem::replace(&mut self.after_blank, false);
        if let Some(text) = list_item_text(body) {
            // Nested items keep their place under their parent's text.
            let own = if base > 0 { base } else { 0 };
            self.list = Some(own + text);
            self.out.push(format!("{}{}", spaces(own), escape(body)));
            return;
        }
        if let Some(text) = self.list {
            if !was_after_blank || indent >= text {
                self.out.push(format!("{}{}", spaces(text), escape(body)));
                return;
            }
            self.list = None;
        }
        self.out.push(escape(body));
    }

    fn flush_blanks(&mut self) {
        for _ in 0..std::mem::take(&mut self.pending_blanks) {
            self.out.push(String::new());
        }
    }

    /// Closes a block left open by the comment's end.
    fn finish(&mut self) {
        if let Some((_, _, keep)) = self.fence.take() {
            self.out.push(format!("{}```", spaces(keep)));
        }
        if let Some(base) = self.indented_code.take() {
            self.out.push(format!("{}```", spaces(base)));
        }
    }
}

fn indentation(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

fn spaces(count: usize) -> String {
    " ".repeat(count)
}

/// `line` without up to `count` leading spaces.
fn strip(line: &str, count: usize) -> &str {
    let count = indentation(line).min(count);
    &line[count..]
}

/// Where the text of a list item starts, relative to its marker (`- a` →
/// 2, `10. a` → 4), or `None` when `body` is no list item.
fn list_item_text(body: &str) -> Option<usize> {
    let marker = if body.starts_with(['-', '*', '+']) {
        1
    } else {
        let digits = body.chars().take_while(char::is_ascii_digit).count();
        let after = body[digits..].chars().next();
        if (1..=9).contains(&digits) && matches!(after, Some('.' | ')')) {
            digits + 1
        } else {
            return None;
        }
    };
    let rest = &body[marker..];
    let gap = indentation(rest);
    if gap == 0 || rest.trim().is_empty() {
        return None;
    }
    // Five spaces or more after the marker start code, not text.
    Some(marker + if gap > 4 { 1 } else { gap })
}

/// One line of text with its HTML-like parts in code spans; code spans
/// already there are left alone.
fn escape(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 8);
    let mut rest = line;
    while let Some(at) = rest.find(['`', '<']) {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        if rest.starts_with('`') {
            let ticks = rest.len() - rest.trim_start_matches('`').len();
            let fence = &rest[..ticks];
            match rest[ticks..].find(fence) {
                Some(end) => {
                    let span = ticks + end + ticks;
                    out.push_str(&rest[..span]);
                    rest = &rest[span..];
                }
                None => {
                    out.push_str(fence);
                    rest = &rest[ticks..];
                }
            }
            continue;
        }
        let tag_like =
            rest[1..].starts_with(|c: char| c.is_ascii_alphabetic() || "/!?".contains(c));
        let close = rest
            .find('>')
            .filter(|end| !rest[1..*end].contains(['<', '`']));
        match (tag_like, close) {
            (true, Some(end)) => {
                let inner = &rest[1..end];
                if is_autolink(inner) {
                    // prost-build puts URLs in angle brackets itself.
                    out.push_str(inner);
                } else {
                    out.push('`');
                    out.push_str(&rest[..=end]);
                    out.push('`');
                }
                rest = &rest[end + 1..];
            }
            (true, None) => {
                out.push_str("\\<");
                rest = &rest[1..];
            }
            (false, _) => {
                out.push('<');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Whether `<inner>` is a markdown autolink (a URL or an email address).
fn is_autolink(inner: &str) -> bool {
    !inner.contains(' ')
        && (inner.starts_with("http://")
            || inner.starts_with("https://")
            || inner.starts_with("mailto:")
            || inner.contains('@'))
}

#[cfg(test)]
mod tests {
    use super::sanitize;

    #[test]
    fn code_blocks_are_fenced_as_text() {
        assert_eq!(
            sanitize(" Example:\n ```\n let x = 1;\n ```\n"),
            "Example:\n```text\nlet x = 1;\n```\n"
        );
        assert_eq!(
            sanitize(" Example:\n\n     curl -X POST\n       --data x\n\n Done.\n"),
            "Example:\n\n```text\ncurl -X POST\n  --data x\n```\n\nDone.\n"
        );
        assert_eq!(
            sanitize(" ```rust\n fn main() {}\n"),
            "```text\nfn main() {}\n```\n"
        );
    }

    #[test]
    fn html_like_text_goes_in_code_spans() {
        assert_eq!(
            sanitize(" Returns a <thing> or Map<K, V>."),
            "Returns a `<thing>` or Map`<K, V>`."
        );
        assert_eq!(
            sanitize(" Keep `Vec<u8>` and a < b."),
            "Keep `Vec<u8>` and a < b."
        );
        assert_eq!(
            sanitize(" See <https://example.com>."),
            "See https://example.com."
        );
        assert_eq!(sanitize(" Unclosed <tag here"), "Unclosed \\<tag here");
    }

    #[test]
    fn list_continuations_are_indented_to_the_item_text() {
        assert_eq!(
            sanitize(" - one that\n continues\n -   two that\n          continues\n\n After."),
            "- one that\n  continues\n-   two that\n    continues\n\nAfter."
        );
        assert_eq!(
            sanitize(" 1. first\n    - nested\n    more\n"),
            "1. first\n   - nested\n     more\n"
        );
    }
}
