//! `Failure`: why a command failed, told to the user on one line, and the
//! exit status that tells a script the same.

use redis_bus::{Code, ErrorKind, Status};

use crate::target::Target;

/// The exit status of a failure that fits no other: a local problem (a
/// file that cannot be read, a refusal to clean up).
pub(crate) const EXIT_FAILURE: u8 = 1;
/// The exit status of a command line or shell line that does not parse
/// (clap's own is 2 as well).
pub(crate) const EXIT_USAGE: u8 = 2;
/// The exit status when Redis cannot be reached or does not answer.
pub(crate) const EXIT_CONNECTION: u8 = 3;
/// A failure with a status code exits with this plus the code (as grpcurl
/// does): 66 for `UNKNOWN`, 67 for `INVALID_ARGUMENT`, 69 for `NOT_FOUND`...
pub(crate) const EXIT_STATUS_BASE: u8 = 64;

/// A command that failed: what to tell the user, on one line (the shell
/// prints it and goes on; the command line prints it and exits with
/// [`Failure::exit`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    /// What went wrong, naming what was involved; never empty, one line.
    message: String,
    /// The gRPC status code, when the failure has one.
    code: Option<Code>,
    /// The process's exit status.
    exit: u8,
}

impl Failure {
    /// A failure saying `message` (line breaks become spaces, so that the
    /// error stays on one line), exiting with 1.
    pub(crate) fn new(message: impl Into<String>) -> Failure {
        let message: String = message.into();
        Failure {
            message: message.trim().replace(['\r', '\n'], " "),
            code: None,
            exit: EXIT_FAILURE,
        }
    }

    /// A line or argument that does not make sense.
    pub(crate) fn usage(message: impl Into<String>) -> Failure {
        Failure {
            exit: EXIT_USAGE,
            ..Failure::new(message)
        }
    }

    /// Redis not reached, or not answering.
    pub(crate) fn connection(message: impl Into<String>) -> Failure {
        Failure {
            exit: EXIT_CONNECTION,
            ..Failure::new(message)
        }
    }

    /// A failure saying `message` with the status `code`.
    pub(crate) fn with_code(code: Code, message: impl Into<String>) -> Failure {
        Failure {
            code: Some(code),
            exit: EXIT_STATUS_BASE.saturating_add(code.as_i32().clamp(0, 63) as u8),
            ..Failure::new(message)
        }
    }

    /// A failure that the bus found before carrying a call (a request that
    /// does not fit, an unknown method): its message says it all, the code
    /// would only repeat it (it is still in the exit status).
    pub(crate) fn refused(status: &Status) -> Failure {
        Failure::with_code(status.code(), status.message())
    }

    /// A call of `target` that failed: its status code and message.
    pub(crate) fn call(target: &Target, status: &Status) -> Failure {
        Failure::with_code(status.code(), format!("{target} failed: {status}"))
    }

    /// The same kind of failure (code, exit status) saying `message`.
    pub(crate) fn with_message(self, message: impl Into<String>) -> Failure {
        Failure {
            message: Failure::new(message).message,
            ..self
        }
    }

    /// What went wrong.
    pub(crate) fn message(&self) -> &str {
        &self.message
    }

    /// The exit status that tells what kind of failure it was.
    pub(crate) fn exit(&self) -> u8 {
        self.exit
    }

    /// The failure as a JSON object: `{"error": {"message", "code", "exit"}}`
    /// (`code` is the status name, or null).
    pub(crate) fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "error": {
                "message": self.message,
                "code": self.code.map(Code::as_str),
                "exit": self.exit,
            }
        })
    }

    /// Prints the failure on stderr, as `error: ...`, or as one line of
    /// JSON when `json`.
    pub(crate) fn report(&self, json: bool) {
        if json {
            eprintln!("{}", self.to_json());
        } else {
            eprintln!("error: {}", self.message);
        }
    }
}

impl From<redis_bus::Error> for Failure {
    fn from(error: redis_bus::Error) -> Failure {
        let message = error.to_string();
        match error.kind() {
            ErrorKind::Connection => Failure::connection(message),
            ErrorKind::Timeout => Failure::with_code(Code::DeadlineExceeded, message),
            ErrorKind::NotFound => Failure::with_code(Code::NotFound, message),
            ErrorKind::PermissionDenied => Failure::with_code(Code::PermissionDenied, message),
            ErrorKind::Incompatible => Failure::with_code(Code::FailedPrecondition, message),
            ErrorKind::Config => Failure::usage(message),
            _ => Failure::new(message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_stay_on_one_line() {
        let failure = Failure::new("first\nsecond\r\nthird\n");
        assert_eq!(failure.message(), "first second  third");
        assert_eq!(failure.exit(), EXIT_FAILURE);
    }

    #[test]
    fn failed_calls_show_code_and_message_and_exit_with_64_plus_the_code() {
        let target: Target = "random.Random/Error".parse().expect("parses");
        let failure = Failure::call(&target, &Status::unknown("boom"));
        assert_eq!(
            failure.message(),
            "random.Random/Error failed: UNKNOWN: boom"
        );
        assert_eq!(failure.exit(), 66);
        assert_eq!(
            failure.to_json().to_string(),
            r#"{"error":{"code":"UNKNOWN","exit":66,"message":"random.Random/Error failed: UNKNOWN: boom"}}"#
        );
        let unavailable = Failure::refused(&Status::unavailable("gone"));
        assert_eq!(unavailable.exit(), 64 + 14);
    }
}
