//! `Failure`: why a command failed, told to the user on one line.

use redis_bus::Status;

use crate::target::Target;

/// A command that failed: what to tell the user, on one line (the shell
/// prints it and goes on; the command line prints it and exits non-zero).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    /// What went wrong, naming what was involved; never empty, one line.
    message: String,
}

impl Failure {
    /// A failure saying `message` (line breaks become spaces, so that the
    /// error stays on one line).
    pub(crate) fn new(message: impl Into<String>) -> Failure {
        let message: String = message.into();
        Failure {
            message: message.trim().replace(['\r', '\n'], " "),
        }
    }

    /// A failure that the bus found before carrying a call (a request that
    /// does not fit, an unknown method): its message says it all, the code
    /// would only repeat it.
    pub(crate) fn refused(status: &Status) -> Failure {
        Failure::new(status.message())
    }

    /// A call of `target` that failed: its status code and message.
    pub(crate) fn call(target: &Target, status: &Status) -> Failure {
        Failure::new(format!("{target} failed: {status}"))
    }

    /// What went wrong.
    pub(crate) fn message(&self) -> &str {
        &self.message
    }

    /// Prints the failure on stderr, as `error: ...`.
    pub(crate) fn report(&self) {
        eprintln!("error: {}", self.message);
    }
}

impl From<redis_bus::Error> for Failure {
    fn from(error: redis_bus::Error) -> Failure {
        Failure::new(error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_stay_on_one_line() {
        let failure = Failure::new("first\nsecond\r\nthird\n");
        assert_eq!(failure.message(), "first second  third");
    }

    #[test]
    fn failed_calls_show_code_and_message() {
        let target: Target = "random.Random/Error".parse().expect("parses");
        let failure = Failure::call(&target, &Status::unknown("boom"));
        assert_eq!(
            failure.message(),
            "random.Random/Error failed: UNKNOWN: boom"
        );
    }
}
