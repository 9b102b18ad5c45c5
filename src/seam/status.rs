//! `Status`: the outcome of a failed call, with gRPC-compatible codes.
//!
//! A handler returns a `Status` to fail a call, and the caller receives it
//! unchanged. The bus itself answers with a `Status` too when a call cannot
//! be carried out (no live worker, deadline passed, undecodable request...),
//! so callers handle one type.

use std::fmt;

use bytes::Bytes;

/// A gRPC status code; the numbering is that of `google.rpc.Code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Code {
    /// Not an error; never carried by a `Status` that fails a call.
    Ok = 0,
    /// The caller cancelled the call.
    Cancelled = 1,
    /// An error that fits no other code.
    Unknown = 2,
    /// The request is invalid, whatever the state of the system.
    InvalidArgument = 3,
    /// The deadline passed before the call completed.
    DeadlineExceeded = 4,
    /// A requested entity was not found.
    NotFound = 5,
    /// The entity a call tried to create already exists.
    AlreadyExists = 6,
    /// The caller may not do this.
    PermissionDenied = 7,
    /// A quota or a size limit was exceeded.
    ResourceExhausted = 8,
    /// The system is not in the state the call needs.
    FailedPrecondition = 9,
    /// The call was aborted, typically by a concurrency conflict.
    Aborted = 10,
    /// An argument is outside the valid range.
    OutOfRange = 11,
    /// The method is not implemented by the service.
    Unimplemented = 12,
    /// An invariant is broken inside the service.
    Internal = 13,
    /// The service cannot be reached now; retrying may help.
    Unavailable = 14,
    /// Data was lost or corrupted.
    DataLoss = 15,
    /// The caller is not authenticated.
    Unauthenticated = 16,
}

impl Code {
    /// The code with gRPC number `value`; unknown numbers map to `Unknown`.
    pub fn from_i32(value: i32) -> Code {
        match value {
            0 => Code::Ok,
            1 => Code::Cancelled,
            3 => Code::InvalidArgument,
            4 => Code::DeadlineExceeded,
            5 => Code::NotFound,
            6 => Code::AlreadyExists,
            7 => Code::PermissionDenied,
            8 => Code::ResourceExhausted,
            9 => Code::FailedPrecondition,
            10 => Code::Aborted,
            11 => Code::OutOfRange,
            12 => Code::Unimplemented,
            13 => Code::Internal,
            14 => Code::Unavailable,
            15 => Code::DataLoss,
            16 => Code::Unauthenticated,
            _ => Code::Unknown,
        }
    }

    /// The gRPC number of the code.
    pub fn as_i32(self) -> i32 {
        self as i32
    }

    /// The gRPC name of the code, e.g. `DEADLINE_EXCEEDED`.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Ok => "OK",
            Code::Cancelled => "CANCELLED",
            Code::Unknown => "UNKNOWN",
            Code::InvalidArgument => "INVALID_ARGUMENT",
            Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
            Code::NotFound => "NOT_FOUND",
            Code::AlreadyExists => "ALREADY_EXISTS",
            Code::PermissionDenied => "PERMISSION_DENIED",
            Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
            Code::FailedPrecondition => "FAILED_PRECONDITION",
            Code::Aborted => "ABORTED",
            Code::OutOfRange => "OUT_OF_RANGE",
            Code::Unimplemented => "UNIMPLEMENTED",
            Code::Internal => "INTERNAL",
            Code::Unavailable => "UNAVAILABLE",
            Code::DataLoss => "DATA_LOSS",
            Code::Unauthenticated => "UNAUTHENTICATED",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed call: a code, a message for people, and optional details for
/// programs (opaque bytes, e.g. an encoded `google.rpc.Status`).
#[derive(Clone, PartialEq, Eq)]
pub struct Status {
    /// What kind of failure this is.
    code: Code,
    /// What went wrong, for people.
    message: String,
    /// Machine-readable details; empty when there are none.
    details: Bytes,
}

macro_rules! constructors {
    ($($(#[$doc:meta])* $name:ident => $code:ident,)*) => {
        $(
            $(#[$doc])*
            pub fn $name(message: impl Into<String>) -> Status {
                Status::new(Code::$code, message)
            }
        )*
    };
}

impl Status {
    /// A status with `code` and `message`.
    pub fn new(code: Code, message: impl Into<String>) -> Status {
        Status {
            code,
            message: message.into(),
            details: Bytes::new(),
        }
    }

    constructors! {
        /// `CANCELLED`: the caller cancelled the call.
        cancelled => Cancelled,
        /// `UNKNOWN`: an error that fits no other code.
        unknown => Unknown,
        /// `INVALID_ARGUMENT`: the request is invalid.
        invalid_argument => InvalidArgument,
        /// `DEADLINE_EXCEEDED`: the deadline passed.
        deadline_exceeded => DeadlineExceeded,
        /// `NOT_FOUND`: a requested entity was not found.
        not_found => NotFound,
        /// `ALREADY_EXISTS`: the entity already exists.
        already_exists => AlreadyExists,
        /// `PERMISSION_DENIED`: the caller may not do this.
        permission_denied => PermissionDenied,
        /// `RESOURCE_EXHAUSTED`: a quota or size limit was exceeded.
        resource_exhausted => ResourceExhausted,
        /// `FAILED_PRECONDITION`: the system is not in the needed state.
        failed_precondition => FailedPrecondition,
        /// `ABORTED`: the call was aborted.
        aborted => Aborted,
        /// `OUT_OF_RANGE`: an argument is out of range.
        out_of_range => OutOfRange,
        /// `UNIMPLEMENTED`: the method is not implemented.
        unimplemented => Unimplemented,
        /// `INTERNAL`: an invariant is broken.
        internal => Internal,
        /// `UNAVAILABLE`: the service cannot be reached now.
        unavailable => Unavailable,
        /// `DATA_LOSS`: data was lost or corrupted.
        data_loss => DataLoss,
        /// `UNAUTHENTICATED`: the caller is not authenticated.
        unauthenticated => Unauthenticated,
    }

    /// The same status, carrying `details` for programs.
    pub fn with_details(mut self, details: impl Into<Bytes>) -> Status {
        self.details = details.into();
        self
    }

    /// The status code.
    pub fn code(&self) -> Code {
        self.code
    }

    /// The message, for people.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The message, taken out of the status.
    pub(crate) fn into_message(self) -> String {
        self.message
    }

    /// The details, for programs; empty when there are none.
    pub fn details(&self) -> &Bytes {
        &self.details
    }
}

impl fmt::Debug for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Status");
        debug
            .field("code", &self.code)
            .field("message", &self.message);
        if !self.details.is_empty() {
            debug.field("details", &self.details);
        }
        debug.finish()
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Status {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_through_their_grpc_numbers() {
        for number in 0..=16 {
            assert_eq!(Code::from_i32(number).as_i32(), number);
        }
        assert_eq!(Code::from_i32(99), Code::Unknown);
    }

    #[test]
    fn status_reads_as_code_and_message() {
        let status = Status::deadline_exceeded("math.Math/Sum took longer than 50 ms");
        assert_eq!(
            status.to_string(),
            "DEADLINE_EXCEEDED: math.Math/Sum took longer than 50 ms"
        );
    }
}
