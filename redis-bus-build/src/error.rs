//! Why a build failed, worded for the person reading cargo's output.

use std::fmt;

/// A failed code generation: the protos did not compile, broke one of
/// redis-bus's rules, or the output could not be written.
///
/// `Debug` prints the same text as `Display`, because a `build.rs` that
/// returns this error shows it through `Debug`.
pub struct Error {
    /// What went wrong; several independent problems are reported together.
    kind: ErrorKind,
}

enum ErrorKind {
    /// protox rejected a file (syntax, unknown type, bad option value...).
    Compile(protox::Error),
    /// The files compiled but break redis-bus's rules, one line per problem.
    Invalid(Vec<String>),
    /// prost-build or the file system failed.
    Io(std::io::Error),
}

impl Error {
    pub(crate) fn invalid(problems: Vec<String>) -> Self {
        Error {
            kind: ErrorKind::Invalid(problems),
        }
    }

    /// The rule violations found in the protos, one message each (empty when
    /// the build failed for another reason).
    pub fn problems(&self) -> &[String] {
        match &self.kind {
            ErrorKind::Invalid(problems) => problems,
            _ => &[],
        }
    }
}

impl From<protox::Error> for Error {
    fn from(error: protox::Error) -> Self {
        Error {
            kind: ErrorKind::Compile(error),
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(error: std::io::Error) -> Self {
        Error {
            kind: ErrorKind::Io(error),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::Compile(error) => f.write_str(&located(error)),
            ErrorKind::Invalid(problems) => {
                let noun = if problems.len() == 1 {
                    "problem"
                } else {
                    "problems"
                };
                write!(f, "redis-bus-build found {} {noun}:", problems.len())?;
                for problem in problems {
                    write!(f, "\n  {problem}")?;
                }
                Ok(())
            }
            ErrorKind::Io(error) => write!(f, "redis-bus-build could not generate code: {error}"),
        }
    }
}

/// protox's message, prefixed with `file:line:column` when protox knows
/// where the problem is (its `Display` leaves the location to miette's
/// fancy reports, which cargo does not show).
fn located(error: &protox::Error) -> String {
    use miette::Diagnostic;
    let message = error.to_string();
    let label = error.labels().and_then(|mut labels| labels.next());
    let (Some(file), Some(source), Some(label)) = (error.file(), error.source_code(), label) else {
        return message;
    };
    match source.read_span(label.inner(), 0, 0) {
        Ok(span) => format!(
            "{file}:{}:{}: {message}",
            span.line() + 1,
            span.column() + 1
        ),
        Err(_) => message,
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ErrorKind::Compile(error) => Some(error),
            ErrorKind::Io(error) => Some(error),
            ErrorKind::Invalid(_) => None,
        }
    }
}
