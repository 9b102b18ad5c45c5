//! Asking a person before doing something that cannot be undone.

use std::io::{BufRead, IsTerminal, Write};

/// What a person answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answer {
    /// Go ahead.
    Yes,
    /// Do not.
    No,
    /// Nobody can be asked (stdin is not a terminal): the caller must not
    /// wait for an answer that will never come.
    NobodyToAsk,
}

/// Asks yes-or-no questions.
pub(crate) trait Confirm {
    /// Asks `question`; anything but `y` or `yes` is a no.
    fn confirm(&mut self, question: &str) -> Answer;
}

/// Asks on the terminal: the question on stderr (stdout may be piped), the
/// answer from stdin. Nobody is asked when stdin is not a terminal.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Terminal;

impl Confirm for Terminal {
    fn confirm(&mut self, question: &str) -> Answer {
        let stdin = std::io::stdin();
        if !stdin.is_terminal() {
            return Answer::NobodyToAsk;
        }
        let mut stderr = std::io::stderr();
        // A prompt that cannot be shown, or an answer that cannot be read,
        // is a no: destroying is never the default.
        if write!(stderr, "{question} [y/N] ")
            .and_then(|()| stderr.flush())
            .is_err()
        {
            return Answer::No;
        }
        let mut line = String::new();
        // Reading blocks until the person answers; let the runtime move
        // its other work off this thread meanwhile.
        let read = tokio::task::block_in_place(|| stdin.lock().read_line(&mut line));
        match read {
            Ok(_) if is_yes(&line) => Answer::Yes,
            _ => Answer::No,
        }
    }
}

/// Whether `answer` means yes.
fn is_yes(answer: &str) -> bool {
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_y_or_yes_means_yes() {
        for yes in ["y\n", "Y", " yes ", "YES\r\n"] {
            assert!(is_yes(yes), "{yes:?}");
        }
        for no in ["", "\n", "n", "no", "yep", "sure"] {
            assert!(!is_yes(no), "{no:?}");
        }
    }
}
